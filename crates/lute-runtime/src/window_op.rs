//! The keyed event-time window operator: per key, a window state from `lute-window`:
//! [`SlidingWindows`] (tumbling and sliding windows over shared slices, worst-case O(1) per
//! event) or [`SessionWindows`] (gap-based sessions); see [`WindowState`].
//!
//! - Late events (event time before the operator's watermark) are handled by the late
//!   policy, a type parameter that also decides the output type: [`DropLate`] drops and counts
//!   them (metric `late_dropped`); [`EmitLate`] emits them as [`Windowed::Late`] in the same
//!   output stream as the results (a side output the next operator can split off; metric
//!   `late_emitted`). The allowed lateness is the watermark's delay (see the source's
//!   [`crate::WatermarkStrategy`]).
//! - Results are emitted when the watermark passes a window's end, keys in ascending order
//!   and, per key, windows in order of end time: the output order is defined by the data.
//! - End of stream (watermark `EventTime::MAX`) flushes every open window.
//! - Keyed state: a hash map (deterministic [`MixHasher`]) from key to an index into a vector
//!   of window states, plus the keys in sorted order for emission. A *new* key allocates (its
//!   map entry, window state and place in the sorted list: O(keys) once); this is the one
//!   allocation on the data path, accounted per new key, not per event. NB: a hash lookup, not
//!   a `BTreeMap` walk, per event; see the `runtime` benchmark.

use crate::error::OperatorError;
use crate::exchange::MixHasher;
use crate::operator::{Emit, EventTime, Metrics, Operator};
use lute_window::window::{Late, SessionWindows, SlidingWindows, WindowResult};
use lute_window::{Lift, Monoid};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash};

/// The per-key state of a window operator: one of the window layer's assigners.
pub trait WindowState: Clone + Send + 'static {
    /// The aggregation.
    type Op: Monoid;
    /// The aggregation operator.
    fn op(&self) -> &Self::Op;
    /// Adds an event's partial aggregate at time `t`.
    ///
    /// # Errors
    /// [`Late`] if `t` is before the state's watermark.
    fn insert(&mut self, t: EventTime, x: &<Self::Op as Monoid>::Agg) -> Result<(), Late>;
    /// Advances the watermark, emitting every window it closes.
    fn advance(&mut self, w: EventTime, emit: impl FnMut(WindowResult<<Self::Op as Monoid>::Agg>));
}

impl<M: Monoid + Clone + Send + 'static> WindowState for SlidingWindows<M>
where
    M::Agg: Send,
{
    type Op = M;
    fn op(&self) -> &M {
        SlidingWindows::op(self)
    }
    fn insert(&mut self, t: EventTime, x: &M::Agg) -> Result<(), Late> {
        SlidingWindows::insert(self, t, x)
    }
    fn advance(&mut self, w: EventTime, emit: impl FnMut(WindowResult<M::Agg>)) {
        self.advance_watermark(w, emit);
    }
}

/// Session windows plus their operator (the session state does not expose it).
#[derive(Debug, Clone)]
pub struct Sessions<M: Monoid> {
    pub(crate) op: M,
    pub(crate) state: SessionWindows<M>,
}

impl<M: Monoid + Clone + Send + 'static> WindowState for Sessions<M>
where
    M::Agg: Send,
{
    type Op = M;
    fn op(&self) -> &M {
        &self.op
    }
    fn insert(&mut self, t: EventTime, x: &M::Agg) -> Result<(), Late> {
        self.state.insert(t, x)
    }
    fn advance(&mut self, w: EventTime, emit: impl FnMut(WindowResult<M::Agg>)) {
        self.state.advance_watermark(w, emit);
    }
}

/// What a window operator does with late events; it also decides the operator's output type.
pub trait LatePolicy<In, K, A>: Clone + Send + 'static {
    /// Output record type.
    type Out;
    /// Name of the late-event counter in the job's [`Metrics`].
    const METRIC: &'static str;
    /// A window result for key `k`.
    fn result(k: K, r: WindowResult<A>) -> Self::Out;
    /// A late record: `Some` to emit it (with its own event time), `None` to drop it.
    fn late(x: In) -> Option<Self::Out>;
}

/// Drops late events and counts them (metric `late_dropped`). Output: `(key, result)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DropLate;

impl<In, K, A> LatePolicy<In, K, A> for DropLate {
    type Out = (K, WindowResult<A>);
    const METRIC: &'static str = "late_dropped";
    #[inline(always)]
    fn result(k: K, r: WindowResult<A>) -> Self::Out {
        (k, r)
    }
    #[inline(always)]
    fn late(_x: In) -> Option<Self::Out> {
        None
    }
}

/// Emits late events as [`Windowed::Late`] next to the results (a side output in the same
/// stream; metric `late_emitted`).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmitLate;

/// Output of a window operator with [`EmitLate`].
#[derive(Debug, Clone, PartialEq)]
pub enum Windowed<K, A, T> {
    /// A window result.
    Window(K, WindowResult<A>),
    /// A record that arrived after the watermark passed its event time.
    Late(T),
}

impl<In: Send + 'static, K, A> LatePolicy<In, K, A> for EmitLate {
    type Out = Windowed<K, A, In>;
    const METRIC: &'static str = "late_emitted";
    #[inline(always)]
    fn result(k: K, r: WindowResult<A>) -> Self::Out {
        Windowed::Window(k, r)
    }
    #[inline(always)]
    fn late(x: In) -> Option<Self::Out> {
        Some(Windowed::Late(x))
    }
}

/// A keyed tumbling/sliding window aggregation (see the module docs).
pub struct WindowOp<K, KF, VF, W, L = DropLate> {
    key: KF,
    value: VF,
    proto: W,
    index: HashMap<K, usize, BuildHasherDefault<MixHasher>>,
    windows: Vec<W>,
    /// `(key, index)` in ascending key order: the emission order.
    sorted: Vec<(K, usize)>,
    watermark: EventTime,
    late: u64,
    policy: std::marker::PhantomData<fn() -> L>,
}

impl<K: Clone, KF: Clone, VF: Clone, W: Clone, L> Clone for WindowOp<K, KF, VF, W, L> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            value: self.value.clone(),
            proto: self.proto.clone(),
            index: self.index.clone(),
            windows: self.windows.clone(),
            sorted: self.sorted.clone(),
            watermark: self.watermark,
            late: self.late,
            policy: self.policy,
        }
    }
}

impl<K, KF, VF, W, L> WindowOp<K, KF, VF, W, L> {
    /// A window operator over `windows` (the prototype cloned for every new key), with the
    /// late policy `L`.
    pub fn new(key: KF, value: VF, windows: W) -> Self {
        Self {
            key,
            value,
            proto: windows,
            index: HashMap::default(),
            windows: Vec::new(),
            sorted: Vec::new(),
            watermark: EventTime::MIN,
            late: 0,
            policy: std::marker::PhantomData,
        }
    }

    /// Late events seen so far (dropped or emitted, per the policy).
    pub fn late(&self) -> u64 {
        self.late
    }
}

impl<In, K, V, KF, VF, W, L> Operator<In> for WindowOp<K, KF, VF, W, L>
where
    K: Ord + Hash + Clone + Send + 'static,
    KF: FnMut(&In) -> K + Clone + Send + 'static,
    VF: FnMut(In) -> V + Clone + Send + 'static,
    W: WindowState,
    W::Op: Lift<V>,
    L: LatePolicy<In, K, <W::Op as Monoid>::Agg>,
{
    type Out = L::Out;

    fn process<E: Emit<Self::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        if ts < self.watermark {
            self.late += 1;
            return match L::late(x) {
                Some(y) => out.emit(ts, y),
                None => Ok(()),
            };
        }
        let k = (self.key)(&x);
        let agg = self.proto.op().lift((self.value)(x));
        let i = match self.index.get(&k) {
            Some(&i) => i,
            None => {
                let mut w = self.proto.clone();
                w.advance(self.watermark, |_| {});
                let i = self.windows.len();
                self.windows.push(w);
                let at = self.sorted.partition_point(|(s, _)| *s < k);
                self.sorted.insert(at, (k.clone(), i));
                self.index.insert(k, i);
                i
            }
        };
        let w = &mut self.windows[i];
        // Not late for the operator, hence not for the key's windows (same watermark).
        w.insert(ts, &agg)
            .map_err(|l| OperatorError::new(format!("window state out of step: {l}")))
    }

    fn on_watermark<E: Emit<Self::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        if wm <= self.watermark {
            return Ok(Some(wm));
        }
        self.watermark = wm;
        let mut failed = None;
        for (k, i) in &self.sorted {
            self.windows[*i].advance(wm, |r| {
                if failed.is_none()
                    && let Err(e) = out.emit(r.timestamp(), L::result(k.clone(), r))
                {
                    failed = Some(e);
                }
            });
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(Some(wm)),
        }
    }

    fn metrics(&self, m: &mut Metrics) {
        m.add(L::METRIC, self.late);
    }
}
