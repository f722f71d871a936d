//! The physical plan: how pipelines build their stages on workers `0..parallelism`, ask the
//! job's link factory for every link of an exchange, and fuse an exchange away when it has one
//! input at parallelism 1 (every key is local).

use super::adapt::{Fused, TagDown};
use super::explain::chain_line;
use super::{Inboxes, Inputs, Names, Produce, Stages, Tagger, resolve};
use crate::api::{Exchanged, Stream};
use crate::config::Config;
use crate::error::BuildError;
use crate::exchange::merge::ExchangeReceiver;
use crate::exchange::sender::ExchangeSender;
use crate::exchange::{LinkId, Partition};
use crate::exec::exchange_stage::ExchangeStage;
use crate::exec::source_stage::SourceStage;
use crate::exec::stage::Downstream;
use crate::operator::Operator;
use crate::operator::factory::instance;
use crate::source::Source;
use lute_core::WorkerId;
use std::fmt::Write as _;

/// One input of an exchange: a pipeline, how its records are routed, and their tag.
pub struct ExchangeInput<P, R, G> {
    pub(crate) up: P,
    pub(crate) part: R,
    pub(crate) tag: G,
    pub(crate) what: String,
}

impl<P, R, G> Inputs<G::Out> for ExchangeInput<P, R, G>
where
    P: Produce,
    R: Partition<G::Out>,
    G: Tagger<P::Out>,
{
    fn names(&self) -> Names {
        self.up.names().clone()
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str, to: Option<usize>) {
        self.up.describe(config, s, indent);
        let Some(to) = to else { return };
        let from = self
            .up
            .parallelism(config.workers)
            .unwrap_or(config.workers);
        let fan = self.part.fan_out(to);
        let _ = writeln!(
            s,
            "{indent}  => {}: {from} sender(s) x {fan} link(s) ({}) of pooled batches ({} \
             batches per sender), flushed when full, on a watermark or at the deadline",
            self.what,
            config.links.0.name(),
            fan * (config.channel_capacity + 4)
        );
    }

    fn count(&self) -> usize {
        1
    }

    fn fusable(&self, workers: usize) -> bool {
        self.up.fusable() && self.up.parallelism(workers) == Ok(1)
    }

    fn build(
        &self,
        config: &Config,
        stages: &mut Stages,
        inboxes: &mut Inboxes<G::Out>,
        to: usize,
    ) -> Result<(), BuildError> {
        let from = self.up.parallelism(config.workers)?;
        // Hash: every sender reaches every receiver; forward: sender w reaches receiver w
        // (a union checks that both sides have the receiver's parallelism).
        let fan = self.part.fan_out(to);
        let forward = self.part.forward();
        if forward && from != to {
            return Err(BuildError::UnionParallelism {
                union: self.what.clone(),
                left: from,
                right: to,
            });
        }
        let edge = stages.edge();
        let mut senders = Vec::with_capacity(from);
        for w in 0..from {
            let mut links = Vec::with_capacity(fan);
            for j in 0..fan {
                let dest = if forward { w } else { j };
                let id = LinkId {
                    edge,
                    from: WorkerId::from(w),
                    to: WorkerId::from(dest),
                };
                let (tx, rx) = crate::exchange::link::make::<G::Out>(
                    &*config.links.0,
                    id,
                    config.channel_capacity,
                )?;
                links.push((id, tx));
                inboxes.0[dest].push((id, rx));
            }
            senders.push(Some(ExchangeSender::new(
                self.part.clone(),
                links,
                config.batch_size,
                config.channel_capacity,
                config.flush_deadline,
            )?));
        }
        let tag = self.tag.clone();
        self.up.attach(config, stages, &mut |w| {
            let down = senders[w].take().expect("one sender per worker");
            Ok(TagDown {
                down,
                tag: tag.clone(),
            })
        })
    }

    fn fuse<X: Downstream<G::Out> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: X,
    ) -> Result<(), BuildError> {
        let mut down = Some(TagDown {
            down,
            tag: self.tag.clone(),
        });
        self.up.attach(config, stages, &mut |_| {
            down.take().ok_or(BuildError::Zero {
                what: "fused stage",
            })
        })
    }
}

impl<T, E1: Inputs<T>, E2: Inputs<T>> Inputs<T> for (E1, E2) {
    fn names(&self) -> Names {
        self.0.names().join(&self.1.names())
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str, to: Option<usize>) {
        self.0.describe(config, s, indent, to);
        self.1.describe(config, s, indent, to);
    }

    fn count(&self) -> usize {
        self.0.count() + self.1.count()
    }

    fn fusable(&self, _workers: usize) -> bool {
        false
    }

    fn build(
        &self,
        config: &Config,
        stages: &mut Stages,
        inboxes: &mut Inboxes<T>,
        to: usize,
    ) -> Result<(), BuildError> {
        self.0.build(config, stages, inboxes, to)?;
        self.1.build(config, stages, inboxes, to)
    }

    fn fuse<X: Downstream<T> + 'static>(
        &self,
        _: &Config,
        _: &mut Stages,
        _: X,
    ) -> Result<(), BuildError> {
        unreachable!("two inputs never fuse into one stage (not `fusable`)")
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
