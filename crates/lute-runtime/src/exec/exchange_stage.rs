//! [`ExchangeStage`]: an exchange receiver (data-defined merge, barrier alignment) → chain →
//! downstream.

use super::stage::{Downstream, FastDown, Stage, Step, flush};
use crate::error::OperatorError;
use crate::exchange::merge::{ExchangeReceiver, Merged};
use crate::metrics::{Live, StageFigures};
use crate::operator::{CheckpointId, Context, EventTime, Metrics, Operator};
use crate::state::Snapshot;
use std::sync::Arc;
use std::time::Instant;

/// Exchange receiver → chain → downstream (a sink's `Terminal` or another exchange).
pub(crate) struct ExchangeStage<T, C, D> {
    /// The exchange's name (its first operator).
    pub(crate) name: Arc<str>,
    pub(crate) rx: ExchangeReceiver<T>,
    pub(crate) chain: C,
    pub(crate) down: D,
    /// End of input processed; markers may still be pending downstream.
    pub(crate) exhausted: bool,
    /// The last input watermark given to the chain (so end of stream does not repeat MAX).
    pub(crate) watermark: EventTime,
    /// Every chain edge runs fused (set at `open`; see the source stage).
    pub(crate) fast: bool,
    /// Barriers passed and the state captured at each, until the worker takes them.
    acks: Vec<(CheckpointId, Snapshot)>,
    passed: u64,
}

impl<T, C: Operator<T>, D: Downstream<C::Out>> ExchangeStage<T, C, D> {
    /// One record through the chain (the all-fused path when every edge is L4).
    #[inline(always)]
    fn process(&mut self, t: EventTime, x: T) -> Result<(), OperatorError> {
        if self.fast {
            self.chain
                .process_fused(t, x, &mut FastDown(&mut self.down))
        } else {
            self.chain.process(t, x, &mut self.down)
        }
    }
}

impl<T, C, D> ExchangeStage<T, C, D> {
    pub(crate) fn new(name: Arc<str>, rx: ExchangeReceiver<T>, chain: C, down: D) -> Self {
        Self {
            name,
            rx,
            chain,
            down,
            exhausted: false,
            watermark: EventTime::MIN,
            fast: false,
            acks: Vec::new(),
            passed: 0,
        }
    }
}

impl<T, C, D> Stage for ExchangeStage<T, C, D>
where
    T: Send,
    C: Operator<T>,
    D: Downstream<C::Out>,
{
    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        self.chain.open(ctx)?;
        self.down.open(ctx)?;
        self.fast = self.chain.all_fused() && self.down.all_fused();
        Ok(())
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), OperatorError> {
        let chain = &mut self.chain;
        let down = &mut self.down;
        snapshot.restore(|v| {
            chain.state(v);
            down.state(v);
        })?;
        Ok(())
    }

    fn take_acks(&mut self, out: &mut Vec<(CheckpointId, Snapshot)>) {
        out.append(&mut self.acks);
    }

    fn checkpoint_complete(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.chain.on_checkpoint_complete(n)?;
        self.down.checkpoint_complete(n)
    }

    fn metrics(&self, m: &mut Metrics) {
        m.within(&self.name, |m| m.add("records_in", self.rx.received()));
        self.chain.metrics(m);
        self.down.metrics(m);
    }

    fn timed(&self) -> bool {
        self.down.timed()
    }

    fn set_bells(&mut self, bells: &Arc<super::bell::Bells>) {
        self.rx.set_bells(bells);
        self.down.set_bells(bells);
    }

    fn name(&self) -> &Arc<str> {
        &self.name
    }

    fn figures(&self) -> StageFigures {
        let mut live = Live::default();
        self.chain.live(&mut live);
        self.down.live(&mut live);
        let (records_out, batches) = self.down.sent();
        StageFigures {
            records_in: self.rx.received(),
            records_out,
            batches: batches + self.rx.received_batches(),
            late: live.late,
            barriers: self.passed,
            watermark: self.watermark,
        }
    }

    fn step(&mut self, now: Instant, budget: usize) -> Result<Step, OperatorError> {
        let mut progress = self.down.maintain(now)?;
        let mut acks = false;
        if self.exhausted {
            return Ok(Step {
                progress,
                done: self.down.ready(),
                acks,
            });
        }
        let mut left = budget;
        while left > 0 && self.down.ready() {
            left -= 1;
            // Fast path: the run in progress, record after record (see `next_in_run`).
            if let Some((t, x)) = self.rx.next_in_run() {
                self.process(t, x)?;
                progress = true;
                continue;
            }
            match self.rx.next()? {
                Merged::Record(t, x) => self.process(t, x)?,
                Merged::Watermark(w) => {
                    self.watermark = w;
                    if let Some(w) = self.chain.on_watermark(w, &mut self.down)? {
                        self.down.watermark(w)?;
                    }
                }
                Merged::Nothing => {}
                Merged::Idle => {
                    flush(&mut self.chain, &mut self.down)?;
                    self.down.idle()?;
                }
                Merged::Barrier(n) => {
                    self.chain.on_barrier(n, &mut self.down)?;
                    self.down.on_barrier(n)?;
                    let chain = &mut self.chain;
                    let down = &mut self.down;
                    let snap = Snapshot::capture(|v| {
                        chain.state(v);
                        down.state(v);
                    });
                    self.down.barrier(n)?;
                    self.acks.push((n, snap));
                    self.passed += 1;
                    acks = true;
                }
                Merged::Wait => break,
                Merged::End => {
                    // The last input's final watermark (MAX) usually came just before.
                    if self.watermark < EventTime::MAX
                        && let Some(w) = self.chain.on_watermark(EventTime::MAX, &mut self.down)?
                    {
                        self.down.watermark(w)?;
                    }
                    self.watermark = EventTime::MAX;
                    self.chain.close(&mut self.down)?;
                    self.down.end()?;
                    self.exhausted = true;
                    return Ok(Step {
                        progress: true,
                        done: self.down.ready(),
                        acks,
                    });
                }
            }
            progress = true;
        }
        if progress {
            flush(&mut self.chain, &mut self.down)?;
        }
        Ok(Step {
            progress,
            done: false,
            acks,
        })
    }
}
