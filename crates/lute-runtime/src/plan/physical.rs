//! The physical plan: how pipelines build their stages on workers `0..parallelism`, ask the
//! job's link factory for every link of an exchange, and fuse an exchange away when it has one
//! input at parallelism 1 (every key is local).

use super::adapt::TagDown;
use super::{Inboxes, Inputs, Names, Produce, Stages, Tagger};
use crate::config::Config;
use crate::error::BuildError;
use crate::exchange::sender::ExchangeSender;
use crate::exchange::{LinkId, Partition};
use crate::exec::stage::Downstream;
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
