//! The typed job builder: what a user writes.
//!
//! A job is a tree of pipelines ending in a sink. A [`Stream`] is a source and a fused chain of
//! operators; an exchange ([`Stream::key_by`], [`Stream::union`], [`Stream::window_join`], and
//! the same on [`Exchanged`]) starts an [`Exchanged`] stream (after `key_by`: a
//! [`KeyedStream`], which can be windowed by its key): a merge of its inputs followed by another
//! fused chain, which can itself feed a further exchange:
//!
//! ```text
//! source ─ map/filter/... ─┬──────────────────────────────────────────── sink
//!                          └─ key_by ═(exchange)═ window/map/... ─┬───── sink
//! source ─ map/... ─ union/join ═(exchange)═╝                     └─ key_by ═ ... ─ sink
//! ```
//!
//! Every worker runs every stage on its share of the data (its source partitions; after a
//! hash exchange, the keys that hash to it; after a `union`, what its own upstream stages
//! produced). Types are checked by the compiler: an operator whose input type does not match
//! its upstream's output, or a cycle, cannot be expressed.
//!
//! # Tiers
//!
//! Within a chain, operators are fused into one monomorphized function (tier L4). Each stage
//! (a source with its chain, or a merge with its chain) is type-erased behind a `Box<dyn
//! Stage>` (tier L3: one dynamic call per step of up to `step_budget` records). With one
//! worker, a pipeline whose exchanges have a single input is fused into a single stage (every
//! key is local, so the exchange is the identity).
//!
//! - [`stream`]: [`Stream`], a source and its chain.
//! - [`exchanged`]: [`Exchanged`], a merge of an exchange's inputs and its chain; `key_by`,
//!   `union`.
//! - [`window`]: windows on a [`KeyedStream`] (the key is the one given to `key_by`).
//! - [`join`] holds `window_join`.
//! - [`job`]: [`Plan`] (a complete job: `explain`, `run`) and [`Collect`].
//! - Sources are in [`crate::source`], sinks in [`crate::operator::sink`].
//!
//! Builder errors (a bad window specification, a bad parallelism) come back at one point: the
//! call that adds the operator returns `Result`, and everything checked at run time (workers,
//! parallelism, capacities) comes back from [`Plan::run`] as [`JobError::Build`](crate::JobError::Build) before
//! any thread starts.

#[macro_use]
mod methods;
pub mod exchanged;
pub mod job;
pub mod join;
pub mod stream;
pub mod window;

pub use exchanged::{Exchanged, KeyedStream, Union};
pub use job::{Collect, Plan};
pub use join::{JoinInputs, JoinKey, JoinOp, Joined};
pub use stream::Stream;

use crate::operator::{Identity, Named, Operator, Then};
use crate::plan::{Names, Produce};
use crate::source::{Source, WatermarkStrategy};
use std::sync::Arc;

/// A pipeline: a [`Stream`] or an [`Exchanged`] stream (the argument type of `union` and
/// `window_join`).
pub trait Pipeline: Produce {}
impl<P: Produce> Pipeline for P {}

/// Starts a job from a source.
///
/// # Examples
///
/// ```
/// use lute_runtime::{Config, VecSource, WatermarkStrategy, api};
/// let out = api::source("numbers", VecSource::new((0..10).map(|i| (i, i)).collect()), WatermarkStrategy::default())
///     .map("double", |x: i64| x * 2)
///     .filter("big", |x: &i64| *x >= 10)
///     .collect()
///     .run(&Config::default().workers(2))
///     .unwrap();
/// let values: Vec<i64> = out.iter().map(|(_, v)| *v).collect();
/// assert_eq!(values, vec![10, 12, 14, 16, 18]);
/// ```
pub fn source<S: Source>(
    name: &str,
    source: S,
    watermarks: WatermarkStrategy,
) -> Stream<S, Named<Identity>> {
    let mut names = Names::default();
    let chain = names.named(name, Identity);
    Stream {
        source_id: chain.id(),
        names,
        source_name: Arc::from(name),
        chain_names: Vec::new(),
        edges: Vec::new(),
        parallelism: None,
        source,
        watermarks,
        chain,
    }
}

/// A [`Stream`] with one more operator.
pub type StreamThen<S, C, O> = Stream<S, Then<C, Named<O>, Out<C, <S as Source>::Item>>>;
/// A [`Exchanged`] stream with one more operator.
pub type ExchangedThen<T, C, I, O> = Exchanged<T, Then<C, Named<O>, Out<C, T>>, I>;
/// The output type of chain `C` on input `In`.
pub type Out<C, In> = <C as Operator<In>>::Out;
