//! [`Stream`]: a source and its fused operator chain.

use super::join::Joined;
use super::{Collect, Plan};
use super::{Exchanged, KeyedStream, Pipeline, StreamThen, Union};
use crate::error::{BuildError, OperatorError};
use crate::operator::EventTime;
use crate::operator::sink::{CallbackSink, FileSink};
use crate::operator::{Filter, FlatMap, Identity, Map, Named, Operator, Then, TryMap};
use crate::plan::{ChainEdge, Names, Produce};
use crate::source::{Source, WatermarkStrategy};
use lute_window::window::SlidingSpec;
use std::hash::Hash;
use std::sync::Arc;

/// A stream on the source side of a job: a source and a fused operator chain.
pub struct Stream<S, C> {
    pub(crate) names: Names,
    pub(crate) source_name: Arc<str>,
    /// The source's operator id (its state is kept under it).
    pub(crate) source_id: crate::error::OperatorId,
    pub(crate) chain_names: Vec<Arc<str>>,
    /// `(from, to, record size)` of every edge of the chain.
    pub(crate) edges: Vec<ChainEdge>,
    /// Workers that run this stage (`None`: all).
    pub(crate) parallelism: Option<usize>,
    pub(crate) source: S,
    pub(crate) watermarks: WatermarkStrategy,
    pub(crate) chain: C,
}

impl<S: Source, C: Operator<S::Item>> Stream<S, C>
where
    C::Out: Send + 'static,
{
    /// Appends a user-defined operator.
    pub fn apply<O: Operator<C::Out>>(
        mut self,
        name: &str,
        op: O,
    ) -> Stream<S, Then<C, Named<O>, C::Out>> {
        let op = self.names.named(name, op);
        let from = self.chain_names.last().unwrap_or(&self.source_name).clone();
        self.edges
            .push((from, Arc::from(name), std::mem::size_of::<C::Out>()));
        self.chain_names.push(Arc::from(name));
        Stream {
            edges: self.edges,
            parallelism: self.parallelism,
            names: self.names,
            source_name: self.source_name,
            source_id: self.source_id,
            chain_names: self.chain_names,
            source: self.source,
            watermarks: self.watermarks,
            chain: Then::new(self.chain, op),
        }
    }
}

impl<S: Source, C: Operator<S::Item>> Stream<S, C>
where
    C::Out: Send + 'static,
{
    pipeline_methods!(StreamThen[S, C]);
}
