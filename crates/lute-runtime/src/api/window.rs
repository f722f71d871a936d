//! Windows on a [`KeyedStream`]: per key (the key given to `key_by`, once), tumbling, sliding
//! or session event-time windows (see [`crate::operator::window`]).

use super::{Exchanged, KeyedStream};
use crate::error::BuildError;
use crate::exchange::ByKey;
use crate::operator::window::{DropLate, EmitLate, Sessions, WindowOp};
use crate::operator::{EventTime, Identity, Named, Operator, Then};
use crate::plan::Produce;
use crate::plan::adapt::Same;
use crate::plan::physical::ExchangeInput;
use lute_window::window::{SessionWindows, SlidingSpec, SlidingWindows};
use lute_window::{Lift, Monoid};
use std::hash::Hash;

/// A [`KeyedStream`] followed by a window operator `W` with late policy `L`.
pub type Windowed<P, KF, VF, W, L = DropLate> = Exchanged<
    <P as Produce>::Out,
    Then<Named<Identity>, Named<WindowOp<Key<P, KF>, KF, VF, W, L>>, <P as Produce>::Out>,
    ExchangeInput<P, ByKey<KF>, Same>,
>;

/// The key type of a [`KeyedStream`] keyed by `KF`.
pub type Key<P, KF> = <KF as KeyFn<<P as Produce>::Out>>::Key;

/// A key function (`FnMut(&T) -> K`), naming its key type.
pub trait KeyFn<T>: FnMut(&T) -> Self::Key + Clone + Send + 'static {
    /// The key.
    type Key: Ord + Hash + Clone + Send + 'static;
}

impl<T, K, F> KeyFn<T> for F
where
    F: FnMut(&T) -> K + Clone + Send + 'static,
    K: Ord + Hash + Clone + Send + 'static,
{
    type Key = K;
}

impl<P, KF> KeyedStream<P, KF>
where
    P: Produce,
    KF: KeyFn<P::Out>,
{
    fn windowed<VF, W, L>(self, name: &str, value: VF, state: W) -> Windowed<P, KF, VF, W, L>
    where
        WindowOp<Key<P, KF>, KF, VF, W, L>: Operator<P::Out>,
        L: Clone + Send + 'static,
    {
        let key = self.inputs.part.0.clone();
        self.apply(name, WindowOp::<_, _, _, _, L>::new(key, value, state))
    }

    /// Per key, tumbling or sliding event-time windows over `specs`, aggregating
    /// `value(record)` with `op`; emits `(key, WindowResult)` when the watermark passes each
    /// window's end. Late events are dropped and counted (metric `late_dropped`).
    ///
    /// # Errors
    /// [`BuildError::Window`] for an empty or non-positive window specification.
    pub fn window<V, VF, M>(
        self,
        name: &str,
        value: VF,
        specs: &[SlidingSpec],
        op: M,
    ) -> Result<Windowed<P, KF, VF, SlidingWindows<M>>, BuildError>
    where
        VF: FnMut(P::Out) -> V + Clone + Send + 'static,
        M: Lift<V> + Monoid + Clone + Send + 'static,
        M::Agg: Send,
    {
        let windows = SlidingWindows::new(op, specs)?;
        Ok(self.windowed::<_, _, DropLate>(name, value, windows))
    }

    /// As [`KeyedStream::window`], but late events are not dropped: they leave the operator
    /// as [`Windowed::Late`](crate::operator::window::Windowed::Late) next to the window
    /// results ([`Windowed::Window`](crate::operator::window::Windowed::Window)), a side
    /// output that the next operators can split off (metric `late_emitted`).
    ///
    /// # Errors
    /// [`BuildError::Window`] for an empty or non-positive window specification.
    pub fn window_with_late<V, VF, M>(
        self,
        name: &str,
        value: VF,
        specs: &[SlidingSpec],
        op: M,
    ) -> Result<Windowed<P, KF, VF, SlidingWindows<M>, EmitLate>, BuildError>
    where
        VF: FnMut(P::Out) -> V + Clone + Send + 'static,
        M: Lift<V> + Monoid + Clone + Send + 'static,
        M::Agg: Send,
    {
        let windows = SlidingWindows::new(op, specs)?;
        Ok(self.windowed::<_, _, EmitLate>(name, value, windows))
    }

    /// Per key, session windows closed after `gap` time units without events, aggregating
    /// `value(record)` with `op`; emits `(key, WindowResult)` when the watermark passes a
    /// session's end. Late events are dropped and counted (metric `late_dropped`).
    ///
    /// # Errors
    /// [`BuildError::Zero`] if `gap` is not positive.
    pub fn session_window<V, VF, M>(
        self,
        name: &str,
        value: VF,
        gap: EventTime,
        op: M,
    ) -> Result<Windowed<P, KF, VF, Sessions<M>>, BuildError>
    where
        VF: FnMut(P::Out) -> V + Clone + Send + 'static,
        M: Lift<V> + Monoid + Clone + Send + 'static,
        M::Agg: Send,
    {
        if gap <= 0 {
            return Err(BuildError::Zero {
                what: "session gap",
            });
        }
        let state = Sessions {
            state: SessionWindows::new(op.clone(), gap),
            op,
        };
        Ok(self.windowed::<_, _, DropLate>(name, value, state))
    }
}

impl<T, C, I, K, KF, VF, W, L>
    Exchanged<T, Then<C, Named<WindowOp<K, KF, VF, W, L>>, super::Out<C, T>>, I>
where
    C: Operator<T>,
{
    /// Keeps the windows of the window operator just added open `lateness` time units past
    /// the watermark, so events up to `lateness` behind it still count (see
    /// [`crate::operator::window`]); results come `lateness` later.
    ///
    /// # Errors
    /// [`BuildError::Negative`] for a negative lateness.
    pub fn allowed_lateness(mut self, lateness: EventTime) -> Result<Self, BuildError> {
        self.chain.b.inner_mut().set_allowed_lateness(lateness)?;
        Ok(self)
    }
}
