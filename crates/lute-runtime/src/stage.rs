//! Stages: what a worker steps. A stage is type-erased (`Box<dyn Stage>`, tier L3) and runs a
//! monomorphized operator chain (tier L4) for up to `step_budget` records per step.
//!
//! - [`SourceStage`]: source partition → chain → downstream (an exchange sender, or the end of
//!   a chain that ends in a sink).
//! - [`ExchangeStage`]: exchange receiver (data-defined merge) → chain → downstream.

use crate::bell::Bells;
use crate::error::OperatorError;
use crate::exchange::{ExchangeReceiver, ExchangeSender, Merged, Message, Partition};
use crate::operator::{Context, Emit, EventTime, Metrics, Operator};
use crate::progress::StageProgress;
use crate::sink::Terminal;
use crate::source::{Source, SourceStatus, WatermarkStrategy};
use std::sync::Arc;
use std::time::Instant;

/// One step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Something happened (records, markers or flushes).
    pub progress: bool,
    /// The stage is finished and will do nothing more.
    pub done: bool,
}

/// A schedulable unit of a worker (tier L3 boundary: one dynamic call per step).
pub trait Stage: Send {
    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError>;
    fn step(&mut self, now: Instant, budget: usize) -> Result<Step, OperatorError>;
    /// Adds the chain's counters to `m`.
    fn metrics(&self, m: &mut Metrics);
    /// Whether something is waiting for a flush deadline (an open batch, a pending message):
    /// a parking worker then wakes by the deadline.
    fn timed(&self) -> bool;
    /// Workers park: ring `bells` when giving a peer work (see `bell`).
    fn set_bells(&mut self, bells: &Arc<Bells>);
    /// The stage's name (shared by its instances on every worker: it identifies the stage in
    /// progress reports).
    fn name(&self) -> &Arc<str>;
    /// Records taken in so far and the stage's watermark.
    fn progress(&self) -> StageProgress;
}

/// Where a stage's chain output goes.
pub trait Downstream<T>: Emit<T> + Send {
    /// Opens the operators inside the downstream (a chain fused across an exchange).
    fn open(&mut self, _ctx: &Context) -> Result<(), OperatorError> {
        Ok(())
    }
    /// Adds the counters of operators inside the downstream (a fused chain) to `m`.
    fn metrics(&self, _m: &mut Metrics) {}
    /// Workers park: ring `bells` when giving a peer work.
    fn set_bells(&mut self, _bells: &Arc<Bells>) {}
    /// Whether an open batch or a pending message waits for a deadline or ring space.
    fn timed(&self) -> bool {
        false
    }
    /// End of a step: a fused chain inside the downstream emits what it holds for batching.
    fn flush(&mut self) -> Result<(), OperatorError> {
        Ok(())
    }
    /// Whether every chain edge inside (a chain fused across an exchange) runs fused (L4);
    /// known after `open`. Then [`Downstream::emit_fused`] may replace `emit`. (No default:
    /// a wrapper that did not forward it would silently lose the fast path.)
    fn all_fused(&self) -> bool;
    /// `emit` with every chain edge inside taken as fused (see [`Operator::process_fused`]);
    /// called only while [`Downstream::all_fused`] holds.
    fn emit_fused(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError>;
    fn ready(&self) -> bool;
    fn maintain(&mut self, now: Instant) -> Result<bool, OperatorError>;
    fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError>;
    fn idle(&mut self) -> Result<(), OperatorError>;
    fn end(&mut self) -> Result<(), OperatorError>;
}

impl Downstream<()> for Terminal {
    fn all_fused(&self) -> bool {
        true
    }
    #[inline(always)]
    fn emit_fused(&mut self, ts: EventTime, x: ()) -> Result<(), OperatorError> {
        self.emit(ts, x)
    }
    fn ready(&self) -> bool {
        true
    }
    fn maintain(&mut self, _: Instant) -> Result<bool, OperatorError> {
        Ok(false)
    }
    fn watermark(&mut self, _: EventTime) -> Result<(), OperatorError> {
        Ok(())
    }
    fn idle(&mut self) -> Result<(), OperatorError> {
        Ok(())
    }
    fn end(&mut self) -> Result<(), OperatorError> {
        Ok(())
    }
}

impl<T: Send, P: Partition<T>> Downstream<T> for ExchangeSender<T, P> {
    fn all_fused(&self) -> bool {
        true
    }
    #[inline(always)]
    fn emit_fused(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        self.emit(ts, x)
    }
    fn timed(&self) -> bool {
        ExchangeSender::timed(self)
    }
    fn metrics(&self, m: &mut Metrics) {
        m.add("exchange_spilled_batches", self.spilled());
    }
    fn set_bells(&mut self, bells: &Arc<Bells>) {
        ExchangeSender::set_bells(self, bells);
    }
    fn ready(&self) -> bool {
        ExchangeSender::ready(self)
    }
    fn maintain(&mut self, now: Instant) -> Result<bool, OperatorError> {
        ExchangeSender::maintain(self, now)
    }
    fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError> {
        ExchangeSender::watermark(self, w)
    }
    fn idle(&mut self) -> Result<(), OperatorError> {
        self.broadcast(|| Message::Idle)
    }
    fn end(&mut self) -> Result<(), OperatorError> {
        self.broadcast(|| Message::End)
    }
}

/// A downstream on the all-fused path: its `emit` is [`Downstream::emit_fused`].
pub(crate) struct FastDown<'a, D>(pub(crate) &'a mut D);

impl<T, D: Downstream<T>> Emit<T> for FastDown<'_, D> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        self.0.emit_fused(ts, x)
    }
}

/// End of a step (or before an idle marker): the chain, then a chain fused into the
/// downstream, emit what they hold for batching (L3 edges).
fn flush<T, C: Operator<T>, D: Downstream<C::Out>>(
    chain: &mut C,
    down: &mut D,
) -> Result<(), OperatorError> {
    chain.flush(down)?;
    down.flush()
}

/// Source partition → chain → downstream.
pub(crate) struct SourceStage<S, C, D> {
    /// The source's name, for its own errors (the chain's operators name theirs).
    pub(crate) name: std::sync::Arc<str>,
    pub(crate) source: S,
    pub(crate) chain: C,
    pub(crate) down: D,
    pub(crate) strategy: WatermarkStrategy,
    /// `(partition, partitions)`: this stage's share of the source (the stage runs on the
    /// first `partitions` workers).
    pub(crate) partition: (usize, usize),
    pub(crate) max_ts: EventTime,
    pub(crate) last_wm: EventTime,
    pub(crate) since_wm: usize,
    pub(crate) idle: bool,
    /// Source exhausted; markers may still be pending downstream.
    pub(crate) exhausted: bool,
    /// Every chain edge runs fused (set at `open`): records take
    /// [`Operator::process_fused`], no tier check per record per edge.
    pub(crate) fast: bool,
    /// Records read from the source (progress reports).
    pub(crate) records: u64,
}

impl<S, C, D> SourceStage<S, C, D> {
    pub(crate) fn new(
        name: std::sync::Arc<str>,
        source: S,
        chain: C,
        down: D,
        strategy: WatermarkStrategy,
        partition: (usize, usize),
    ) -> Self {
        Self {
            name,
            source,
            chain,
            down,
            strategy,
            partition,
            max_ts: EventTime::MIN,
            last_wm: EventTime::MIN,
            since_wm: 0,
            idle: false,
            exhausted: false,
            fast: false,
            records: 0,
        }
    }
}

impl<S, C, D> SourceStage<S, C, D>
where
    S: Source,
    C: Operator<S::Item>,
    D: Downstream<C::Out>,
{
    fn emit_watermark(&mut self, w: EventTime) -> Result<(), OperatorError> {
        if w > self.last_wm {
            self.last_wm = w;
            if let Some(w) = self.chain.on_watermark(w, &mut self.down)? {
                self.down.watermark(w)?;
            }
        }
        Ok(())
    }
}

impl<S, C, D> Stage for SourceStage<S, C, D>
where
    S: Source,
    C: Operator<S::Item>,
    D: Downstream<C::Out>,
{
    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        self.source
            .open(self.partition.0, self.partition.1)
            .map_err(|e| e.in_operator(&self.name))?;
        self.chain.open(ctx)?;
        self.down.open(ctx)?;
        self.fast = self.chain.all_fused() && self.down.all_fused();
        Ok(())
    }

    fn metrics(&self, m: &mut Metrics) {
        m.within(&self.name, |m| m.add("records_in", self.records));
        self.chain.metrics(m);
        self.down.metrics(m);
    }

    fn timed(&self) -> bool {
        self.down.timed()
    }

    fn set_bells(&mut self, bells: &Arc<Bells>) {
        self.down.set_bells(bells);
    }

    fn name(&self) -> &Arc<str> {
        &self.name
    }

    fn progress(&self) -> StageProgress {
        StageProgress {
            records: self.records,
            watermark: self.last_wm,
        }
    }

    fn step(&mut self, now: Instant, budget: usize) -> Result<Step, OperatorError> {
        let mut progress = self.down.maintain(now)?;
        if self.exhausted {
            return Ok(Step {
                progress,
                done: self.down.ready(),
            });
        }
        let mut left = budget;
        while left > 0 && self.down.ready() {
            // Watermarks fall every `strategy.every` records: a data-defined point.
            let max = left.min(self.strategy.every - self.since_wm);
            let mut n = 0;
            let Self {
                source,
                chain,
                down,
                ..
            } = self;
            // A local copy: kept in a register across the loop, not stored per record.
            let mut max_ts = self.max_ts;
            // One branch per fill, not one per record per chain edge.
            let status = if self.fast {
                source.fill(max, &mut |ts, x| {
                    n += 1;
                    max_ts = max_ts.max(ts);
                    chain.process_fused(ts, x, &mut FastDown(down))
                })
            } else {
                source.fill(max, &mut |ts, x| {
                    n += 1;
                    max_ts = max_ts.max(ts);
                    chain.process(ts, x, down)
                })
            };
            self.max_ts = max_ts;
            let status = status.map_err(|e| e.in_operator(&self.name))?;
            left -= n.min(left);
            self.since_wm += n;
            self.records += n as u64;
            progress |= n > 0;
            if n > 0 && self.idle {
                self.idle = false;
            }
            if self.since_wm >= self.strategy.every {
                self.since_wm = 0;
                let w = self.max_ts.saturating_sub(self.strategy.delay);
                self.emit_watermark(w)?;
            }
            match status {
                SourceStatus::More => {}
                SourceStatus::Idle => {
                    if !self.idle && n == 0 {
                        self.idle = true;
                        flush(&mut self.chain, &mut self.down)?;
                        self.down.idle()?;
                        progress = true;
                    }
                    break;
                }
                SourceStatus::Done => {
                    self.emit_watermark(EventTime::MAX)?;
                    self.chain.close(&mut self.down)?;
                    self.down.end()?;
                    self.exhausted = true;
                    progress = true;
                    return Ok(Step {
                        progress,
                        done: self.down.ready(),
                    });
                }
            }
        }
        if progress {
            flush(&mut self.chain, &mut self.down)?;
        }
        Ok(Step {
            progress,
            done: false,
        })
    }
}

/// Exchange receiver → chain → downstream (a sink's [`Terminal`] or another exchange).
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
    /// Every chain edge runs fused (set at `open`; see [`SourceStage`]).
    pub(crate) fast: bool,
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

    fn metrics(&self, m: &mut Metrics) {
        m.within(&self.name, |m| m.add("records_in", self.rx.received()));
        self.chain.metrics(m);
        self.down.metrics(m);
    }

    fn timed(&self) -> bool {
        self.down.timed()
    }

    fn set_bells(&mut self, bells: &Arc<Bells>) {
        self.rx.set_bells(bells);
        self.down.set_bells(bells);
    }

    fn name(&self) -> &Arc<str> {
        &self.name
    }

    fn progress(&self) -> StageProgress {
        StageProgress {
            records: self.rx.received(),
            watermark: self.watermark,
        }
    }

    fn step(&mut self, now: Instant, budget: usize) -> Result<Step, OperatorError> {
        let mut progress = self.down.maintain(now)?;
        if self.exhausted {
            return Ok(Step {
                progress,
                done: self.down.ready(),
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
        })
    }
}
