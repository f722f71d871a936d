//! `window_join`: both inputs hashed by their key into one merge, then the windowed join
//! ([`crate::operator::join`]).

use super::Exchanged;
use super::exchanged::keyed;
use crate::error::BuildError;
use crate::exchange::Partition;
use crate::operator::join::{Side, WindowJoin};
use crate::operator::{Identity, Named, Then};
use crate::plan::Produce;
use crate::plan::adapt::{ToLeft, ToRight};
use crate::plan::physical::ExchangeInput;
use lute_window::window::{SlidingSpec, SlidingWindows};
use std::hash::Hash;

/// The inputs of a join: both sides hashed by their key, tagged left and right.
pub type JoinInputs<P, Q, KA, KB> = (
    ExchangeInput<P, JoinKey<KA, KB>, ToLeft<<Q as Produce>::Out>>,
    ExchangeInput<Q, JoinKey<KA, KB>, ToRight<<P as Produce>::Out>>,
);

/// Routes both sides of a join by their key (the same key type and hash on both sides, so
/// matching records meet on one worker).
#[derive(Debug, Clone)]
pub struct JoinKey<KA, KB>(KA, KB);

impl<A, B, K, KA, KB> Partition<Side<A, B>> for JoinKey<KA, KB>
where
    K: Hash,
    KA: FnMut(&A) -> K + Clone + Send + 'static,
    KB: FnMut(&B) -> K + Clone + Send + 'static,
{
    fn fan_out(&self, workers: usize) -> usize {
        workers
    }
    #[inline(always)]
    fn route(&mut self, x: &Side<A, B>, fan_out: usize) -> usize {
        match x {
            Side::Left(a) => crate::exchange::partition::route(&(self.0)(a), fan_out),
            Side::Right(b) => crate::exchange::partition::route(&(self.1)(b), fan_out),
        }
    }
}

/// A windowed join: the operator after its exchange.
pub type JoinOp<P, Q, K, KA, KB, F> =
    WindowJoin<K, KA, KB, F, <P as Produce>::Out, <Q as Produce>::Out>;

/// The stream a `window_join` returns.
pub type Joined<P, Q, K, KA, KB, F> = Exchanged<
    Side<<P as Produce>::Out, <Q as Produce>::Out>,
    Then<
        Named<Identity>,
        Named<JoinOp<P, Q, K, KA, KB, F>>,
        Side<<P as Produce>::Out, <Q as Produce>::Out>,
    >,
    JoinInputs<P, Q, KA, KB>,
>;

#[allow(clippy::too_many_arguments)]
pub(crate) fn window_join<P, Q, K, KA, KB, F, U>(
    p: P,
    name: &str,
    q: Q,
    key_left: KA,
    key_right: KB,
    spec: SlidingSpec,
    f: F,
) -> Result<Joined<P, Q, K, KA, KB, F>, BuildError>
where
    P: Produce,
    Q: Produce,
    P::Out: Clone,
    Q::Out: Clone,
    K: Ord + Hash + Clone + Send + 'static,
    KA: FnMut(&P::Out) -> K + Clone + Send + 'static,
    KB: FnMut(&Q::Out) -> K + Clone + Send + 'static,
    F: FnMut(&K, &P::Out, &Q::Out) -> U + Clone + Send + 'static,
{
    // Validates the spec (size and slide positive) with the window crate's rules.
    SlidingWindows::new(lute_window::ops::Count, &[spec])?;
    let what = format!("hash of the key -> every worker (join `{name}`)");
    let part = JoinKey(key_left.clone(), key_right.clone());
    let k = keyed(
        &format!("{name} (exchange)"),
        format!("join `{name}`"),
        (
            ExchangeInput {
                up: p,
                part: part.clone(),
                tag: ToLeft(std::marker::PhantomData),
                what: what.clone(),
            },
            ExchangeInput {
                up: q,
                part,
                tag: ToRight(std::marker::PhantomData),
                what,
            },
        ),
    );
    Ok(k.apply(name, WindowJoin::new(key_left, key_right, spec, f)))
}
