//! [`Stream`]: a source and its fused operator chain.

use crate::config::Config;
use crate::error::BuildError;
use crate::exec::source_stage::SourceStage;
use crate::exec::stage::Downstream;
use crate::operator::factory::instance;
use crate::operator::{Named, Operator, Then};
use crate::plan::explain::chain_line;
use crate::plan::{ChainEdge, Names, Produce};
use crate::plan::{Stages, resolve};
use crate::source::{Source, WatermarkStrategy};
use lute_core::WorkerId;
use std::fmt::Write as _;
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

impl<S: Source, C: Operator<S::Item>> Produce for Stream<S, C>
where
    C::Out: Send + 'static,
{
    type Out = C::Out;

    fn names(&self) -> &Names {
        &self.names
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str) {
        let p = self.parallelism(config.workers).unwrap_or(config.workers);
        let _ = writeln!(
            s,
            "{indent}source `{}` on workers 0..{p} (partition w of {p}); watermark = max event \
             time - {} every {} records  [stage: L3, one dynamic call per step of up to {} \
             records]",
            self.source_name, self.watermarks.delay, self.watermarks.every, config.step_budget
        );
        chain_line(s, indent, config, &self.chain_names, &self.edges);
    }

    fn fusable(&self) -> bool {
        true
    }

    fn parallelism(&self, workers: usize) -> Result<usize, BuildError> {
        resolve(self.parallelism, workers, &self.source_name)
    }

    fn attach<D: Downstream<C::Out> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: &mut dyn FnMut(usize) -> Result<D, BuildError>,
    ) -> Result<(), BuildError> {
        let p = self.parallelism(config.workers)?;
        if self.watermarks.every == 0 {
            return Err(BuildError::Zero {
                what: "the watermark strategy's `every`",
            });
        }
        for (w, st) in stages.per_worker.iter_mut().enumerate().take(p) {
            let worker = WorkerId::from(w);
            st.push(Box::new(SourceStage::new(
                (self.source_id, self.source_name.clone()),
                instance(&self.source, worker),
                instance(&self.chain, worker),
                down(w)?,
                self.watermarks,
                (w, p),
            )));
        }
        Ok(())
    }
}

impl<S, C> crate::plan::sealed::Sealed for Stream<S, C> {}
