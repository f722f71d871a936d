//! [`Exchanged`]: a stream after an exchange: a data-defined merge of the exchange's inputs,
//! then a fused chain; [`KeyedStream`] is the one `key_by` returns.

use crate::config::Config;
use crate::error::BuildError;
use crate::exchange::merge::ExchangeReceiver;
use crate::exchange::{ByKey, SameWorker};
use crate::exec::exchange_stage::ExchangeStage;
use crate::exec::stage::Downstream;
use crate::operator::factory::instance;
use crate::operator::{Identity, Named, Operator, Then};
use crate::plan::adapt::Fused;
use crate::plan::adapt::Same;
use crate::plan::explain::chain_line;
use crate::plan::physical::ExchangeInput;
use crate::plan::{ChainEdge, Inputs, Names, Produce};
use crate::plan::{Inboxes, Stages, resolve};
use lute_core::WorkerId;
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::Arc;

/// A stream after an exchange (`key_by`, `union`, `window_join`): a data-defined merge of the
/// exchange's inputs, then a fused operator chain.
pub struct Exchanged<T, C, I> {
    pub(crate) names: Names,
    /// The exchange, for `explain`.
    pub(crate) label: String,
    /// The exchange's own (identity) operator: where the chain starts.
    pub(crate) head: Arc<str>,
    pub(crate) chain_names: Vec<Arc<str>>,
    pub(crate) edges: Vec<ChainEdge>,
    pub(crate) parallelism: Option<usize>,
    pub(crate) inputs: I,
    pub(crate) chain: C,
    pub(crate) _t: std::marker::PhantomData<fn() -> T>,
}

pub(crate) fn keyed<T, I: Inputs<T>>(
    name: &str,
    label: String,
    inputs: I,
) -> Exchanged<T, Named<Identity>, I> {
    let mut names = inputs.names();
    let chain = names.named(name, Identity);
    Exchanged {
        names,
        label,
        head: Arc::from(name),
        chain_names: Vec::new(),
        edges: Vec::new(),
        parallelism: None,
        inputs,
        chain,
        _t: std::marker::PhantomData,
    }
}

pub(crate) fn key_by<P: Produce, K: Hash, KF>(p: P, name: &str, key: KF) -> KeyedStream<P, KF>
where
    KF: FnMut(&P::Out) -> K + Clone + Send + 'static,
{
    let label = format!("exchange `{name}`");
    keyed(
        name,
        label.clone(),
        ExchangeInput {
            up: p,
            part: ByKey(key),
            tag: Same,
            what: format!("hash of the key -> every worker ({label})"),
        },
    )
}

/// The inputs of a `union`: both forwarded, untagged.
pub type Union<P, Q> = (
    ExchangeInput<P, SameWorker, Same>,
    ExchangeInput<Q, SameWorker, Same>,
);

/// The stream `key_by` returns.
pub type KeyedStream<P, KF> =
    Exchanged<<P as Produce>::Out, Named<Identity>, ExchangeInput<P, ByKey<KF>, Same>>;

pub(crate) fn union<P: Produce, Q: Produce<Out = P::Out>>(
    p: P,
    name: &str,
    q: Q,
) -> Exchanged<P::Out, Named<Identity>, Union<P, Q>> {
    let what = format!("forward to the same worker (union `{name}`)");
    keyed(
        name,
        format!("union `{name}`"),
        (
            ExchangeInput {
                up: p,
                part: SameWorker,
                tag: Same,
                what: what.clone(),
            },
            ExchangeInput {
                up: q,
                part: SameWorker,
                tag: Same,
                what,
            },
        ),
    )
}

impl<T: Send + 'static, C: Operator<T>, I: Inputs<T>> Exchanged<T, C, I>
where
    C::Out: Send + 'static,
{
    /// Appends a user-defined operator after the exchange.
    pub fn apply<O: Operator<C::Out>>(
        mut self,
        name: &str,
        op: O,
    ) -> Exchanged<T, Then<C, Named<O>, C::Out>, I> {
        let op = self.names.named(name, op);
        let from = self.chain_names.last().unwrap_or(&self.head).clone();
        self.edges
            .push((from, Arc::from(name), std::mem::size_of::<C::Out>()));
        self.chain_names.push(Arc::from(name));
        Exchanged {
            edges: self.edges,
            parallelism: self.parallelism,
            names: self.names,
            label: self.label,
            head: self.head,
            chain_names: self.chain_names,
            inputs: self.inputs,
            chain: Then::new(self.chain, op),
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: Send + 'static, C: Operator<T>, I: Inputs<T>> Produce for Exchanged<T, C, I>
where
    C::Out: Send + 'static,
{
    type Out = C::Out;

    fn names(&self) -> &Names {
        &self.names
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str) {
        let inner = format!("{indent}    ");
        let p = self.parallelism(config.workers).unwrap_or(config.workers);
        let fused = p == 1 && self.inputs.fusable(config.workers);
        self.inputs
            .describe(config, s, &inner, (!fused).then_some(p));
        if fused {
            let _ = writeln!(
                s,
                "{indent}{} fused away: one input at parallelism 1, every key is local (no \
                 ring, no batches)",
                self.label
            );
        } else {
            let _ = writeln!(
                s,
                "{indent}{} on workers 0..{p}: merge of the input rings by (event time, kind, \
                 input): the order is defined by the data  [stage: L3, one dynamic call per step]",
                self.label,
            );
        }
        chain_line(s, indent, config, &self.chain_names, &self.edges);
    }

    fn fusable(&self) -> bool {
        // Only a single-input exchange can fuse; the parallelism is checked by the caller.
        self.inputs.count() == 1
    }

    fn parallelism(&self, workers: usize) -> Result<usize, BuildError> {
        resolve(self.parallelism, workers, &self.head)
    }

    fn attach<D: Downstream<C::Out> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: &mut dyn FnMut(usize) -> Result<D, BuildError>,
    ) -> Result<(), BuildError> {
        let n = self.parallelism(config.workers)?;
        if n == 1 && self.inputs.fusable(config.workers) {
            let fused = Fused {
                chain: instance(&self.chain, WorkerId(0)),
                down: down(0)?,
            };
            return self.inputs.fuse(config, stages, fused);
        }
        let mut inboxes = Inboxes((0..n).map(|_| Vec::new()).collect());
        self.inputs.build(config, stages, &mut inboxes, n)?;
        for (w, rings) in inboxes.0.into_iter().enumerate() {
            stages.per_worker[w].push(Box::new(ExchangeStage::new(
                self.head.clone(),
                ExchangeReceiver::new(rings),
                instance(&self.chain, WorkerId::from(w)),
                down(w)?,
            )));
        }
        Ok(())
    }
}

impl<T, C, I> crate::plan::sealed::Sealed for Exchanged<T, C, I> {}
