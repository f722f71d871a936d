//! Planning: how a job built with [`crate::api`] becomes stages on workers.
//!
//! - [`Produce`] and [`Inputs`] (sealed): what a pipeline and an exchange's inputs can do:
//!   describe themselves (`explain`), tell their parallelism and whether they fuse, and build
//!   their stages.
//! - [`physical`]: the physical plan: stages per worker, links from the job's link factory,
//!   exchanges fused away at parallelism 1.
//! - [`adapt`]: the type adapters between a chain and what follows it (tags, fused chains).
//! - [`explain`]: the plan as text.
//!
//! The cost model that picks each chain edge's tier lives with the edge
//! ([`crate::operator::tier`], [`crate::operator::chain`]).

pub mod adapt;
pub mod explain;
pub mod physical;

use crate::config::Config;
use crate::error::{BuildError, OperatorId};
use crate::exchange::{LinkId, LinkReceiver};
use crate::exec::stage::{Downstream, Stage};
use crate::operator::Named;
use crate::operator::sink::Terminal;
use lute_core::EdgeId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// Operator ids are unique in the process, so pipelines built separately can be combined
/// (union, join) without renumbering the ids baked into their operators.
static NEXT_OP: AtomicU32 = AtomicU32::new(0);

/// `(id, name)` of every operator of a pipeline.
#[derive(Debug, Clone, Default)]
#[doc(hidden)]
pub struct Names(pub(crate) Vec<(OperatorId, Arc<str>)>);

impl Names {
    pub(crate) fn named<O>(&mut self, name: &str, op: O) -> Named<O> {
        // Relaxed: the counter only has to hand out distinct values; nothing is published
        // through it.
        let id = OperatorId(NEXT_OP.fetch_add(1, Ordering::Relaxed));
        let name: Arc<str> = Arc::from(name);
        self.0.push((id, name.clone()));
        Named { id, name, op }
    }

    pub(crate) fn join(mut self, other: &Names) -> Self {
        self.0.extend(other.0.iter().cloned());
        self
    }
}

/// The stages being built: per worker, its stages; and the next edge id (edges are numbered in
/// build order, the same in every process that builds the same job).
pub struct Stages {
    pub(crate) per_worker: Vec<Vec<Box<dyn Stage>>>,
    next_edge: u32,
}

impl Stages {
    fn new(workers: usize) -> Self {
        Self {
            per_worker: (0..workers).map(|_| Vec::new()).collect(),
            next_edge: 0,
        }
    }

    /// A new edge id.
    pub(crate) fn edge(&mut self) -> EdgeId {
        let e = EdgeId(self.next_edge);
        self.next_edge += 1;
        e
    }
}

/// Per worker: the links its receiver merges, in input order.
#[doc(hidden)]
pub struct Inboxes<T>(pub(crate) Vec<Vec<(LinkId, LinkReceiver<T>)>>);

/// `(from, to, record size in bytes)` of an edge inside a chain.
pub(crate) type ChainEdge = (Arc<str>, Arc<str>, usize);

/// A pipeline that produces records of `Out` on every worker (a [`Stream`](crate::api::Stream) or an
/// [`Exchanged`](crate::api::Exchanged) stream). Sealed: implemented by this crate's builders only.
pub trait Produce: sealed::Sealed + Send + 'static {
    /// Record type.
    type Out: Send + 'static;
    /// Every operator of the pipeline.
    fn names(&self) -> &Names;
    /// Appends the pipeline's plan to `s`.
    fn describe(&self, config: &Config, s: &mut String, indent: &str);
    /// Whether, at parallelism 1, the whole pipeline runs as one stage.
    fn fusable(&self) -> bool;
    /// The parallelism of the pipeline's last stage (its stages run on workers
    /// `0..parallelism`).
    ///
    /// # Errors
    /// [`BuildError::Parallelism`] if it exceeds the workers.
    fn parallelism(&self, workers: usize) -> Result<usize, BuildError>;
    /// Builds the stages on workers `0..parallelism`; worker `w`'s output goes to
    /// `down(w)`.
    fn attach<D: Downstream<Self::Out> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: &mut dyn FnMut(usize) -> Result<D, BuildError>,
    ) -> Result<(), BuildError>;
}

/// The inputs of an exchange: one or two tagged pipelines. Sealed.
pub trait Inputs<T>: sealed::Sealed + Send + 'static {
    /// Every operator of the inputs.
    fn names(&self) -> Names;
    /// Appends the inputs' plans; `to` is the receiving stage's parallelism, `None` when
    /// the exchange is fused away.
    fn describe(&self, config: &Config, s: &mut String, indent: &str, to: Option<usize>);
    /// Number of pipelines.
    fn count(&self) -> usize;
    /// Whether one input of parallelism 1 feeds the exchange (then, at parallelism 1, the
    /// exchange is the identity and is fused away).
    fn fusable(&self, workers: usize) -> bool;
    /// Builds the upstream stages and the rings into the inboxes of workers `0..to`
    /// (the receiving stage's parallelism).
    fn build(
        &self,
        config: &Config,
        stages: &mut Stages,
        inboxes: &mut Inboxes<T>,
        to: usize,
    ) -> Result<(), BuildError>;
    /// At parallelism 1 and [`Inputs::fusable`]: the upstream stages with the exchange
    /// fused away, into `down`.
    fn fuse<X: Downstream<T> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: X,
    ) -> Result<(), BuildError>;
}

/// Converts the records of an input before they enter an exchange.
pub trait Tagger<A>: sealed::Sealed + Clone + Send + 'static {
    /// The tagged record.
    type Out: Send + 'static;
    /// Tags one record.
    fn tag(&mut self, a: A) -> Self::Out;
}

/// A stage's parallelism: `p` if set (checked against the workers), else every worker.
pub(crate) fn resolve(p: Option<usize>, workers: usize, stage: &str) -> Result<usize, BuildError> {
    match p {
        None => Ok(workers),
        Some(0) => Err(BuildError::Zero {
            what: "parallelism",
        }),
        Some(p) if p > workers => Err(BuildError::Parallelism {
            stage: stage.to_owned(),
            parallelism: p,
            workers,
        }),
        Some(p) => Ok(p),
    }
}

/// A finished pipeline (ending in a sink), type-erased.
pub(crate) trait Build: Send {
    fn build(&self, config: &Config) -> Result<Stages, BuildError>;
    fn describe(&self, config: &Config, s: &mut String);
}

impl<P: Produce<Out = ()>> Build for P {
    fn build(&self, config: &Config) -> Result<Stages, BuildError> {
        let mut stages = Stages::new(config.workers);
        self.attach(config, &mut stages, &mut |_| Ok(Terminal))?;
        Ok(stages)
    }

    fn describe(&self, config: &Config, s: &mut String) {
        Produce::describe(self, config, s, "");
    }
}

/// Seals [`Produce`], [`Inputs`] and [`Tagger`]: only this crate's builders implement them.
pub(crate) mod sealed {
    /// The seal.
    pub trait Sealed {}
    impl<P, R, G> Sealed for super::physical::ExchangeInput<P, R, G> {}
    impl<A: Sealed, B: Sealed> Sealed for (A, B) {}
    impl Sealed for super::adapt::Same {}
    impl<B> Sealed for super::adapt::ToLeft<B> {}
    impl<A> Sealed for super::adapt::ToRight<A> {}
}
