//! [`SourceStage`]: a source partition → chain → downstream.
//!
//! Watermarks fall every `strategy.every` records of the partition (a data-defined point).
//! Barriers are injected at the positions the control plane asks for (records read by this
//! partition): the step reads up to the position exactly, passes the barrier through the
//! chain, captures the registered state (the source's position and watermark generator, then
//! every chain member's) and sends the barrier on; the worker acknowledges it.

use super::stage::{Downstream, FastDown, Stage, Step, flush};
use crate::error::{OperatorError, OperatorId};
use crate::metrics::{Live, StageFigures};
use crate::operator::{CheckpointId, Context, EventTime, Metrics, Operator};
use crate::source::{Source, SourceStatus, WatermarkStrategy};
use crate::state::{Snapshot, StateVisitor};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// Source partition → chain → downstream.
pub(crate) struct SourceStage<S, C, D> {
    /// The source's operator id and name, for its own errors and state (the chain's operators
    /// name theirs).
    id: OperatorId,
    name: Arc<str>,
    source: S,
    chain: C,
    down: D,
    strategy: WatermarkStrategy,
    /// `(partition, partitions)`: this stage's share of the source (the stage runs on the
    /// first `partitions` workers).
    partition: (usize, usize),
    /// The watermark generator: registered state, so a restored partition makes the same
    /// watermarks.
    marks: WatermarkGen,
    idle: bool,
    /// Source exhausted; markers may still be pending downstream.
    exhausted: bool,
    /// Every chain edge runs fused (set at `open`): records take
    /// [`Operator::process_fused`], no tier check per record per edge.
    fast: bool,
    /// Barriers to inject, in order: `(checkpoint, at position)`.
    barriers: VecDeque<(CheckpointId, Option<u64>)>,
    /// Barriers passed and the state captured at each, until the worker takes them.
    acks: Vec<(CheckpointId, Snapshot)>,
    passed: u64,
    /// Scheduled barriers: `(next checkpoint k, every n)`: barrier `k` at position `k · n`.
    schedule: Option<(u64, u64)>,
}

/// Bounded out-of-orderness watermarks of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WatermarkGen {
    max_ts: EventTime,
    last_wm: EventTime,
    since_wm: usize,
}

impl<S, C, D> SourceStage<S, C, D> {
    pub(crate) fn new(
        (id, name): (OperatorId, Arc<str>),
        source: S,
        chain: C,
        down: D,
        strategy: WatermarkStrategy,
        partition: (usize, usize),
    ) -> Self {
        Self {
            id,
            name,
            source,
            chain,
            down,
            strategy,
            partition,
            marks: WatermarkGen {
                max_ts: EventTime::MIN,
                last_wm: EventTime::MIN,
                since_wm: 0,
            },
            idle: false,
            exhausted: false,
            fast: false,
            barriers: VecDeque::new(),
            acks: Vec::new(),
            passed: 0,
            schedule: None,
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
        if w > self.marks.last_wm {
            self.marks.last_wm = w;
            if let Some(w) = self.chain.on_watermark(w, &mut self.down)? {
                self.down.watermark(w)?;
            }
        }
        Ok(())
    }

    /// Shows the source's state and the chain's.
    fn visit(&mut self, v: &mut dyn StateVisitor) {
        let mut position = self.source.position();
        v.enter(self.id, &self.name);
        v.visit("position", &mut position);
        v.visit("max_ts", &mut self.marks.max_ts);
        v.visit("last_wm", &mut self.marks.last_wm);
        v.visit("since_wm", &mut self.marks.since_wm);
        v.leave();
        self.chain.state(v);
        self.down.state(v);
    }

    /// Queues the next scheduled barrier when none is queued.
    fn refill(&mut self) {
        if let Some((k, every)) = self.schedule
            && self.barriers.is_empty()
        {
            self.barriers
                .push_back((CheckpointId(k), Some(k.saturating_mul(every))));
            self.schedule = Some((k + 1, every));
        }
    }

    /// Passes barrier `n` at the current position.
    fn pass_barrier(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.chain.on_barrier(n, &mut self.down)?;
        self.down.on_barrier(n)?;
        let snap = Snapshot::capture(|v| self.visit(v));
        self.down.barrier(n)?;
        self.acks.push((n, snap));
        self.passed += 1;
        Ok(())
    }

    /// Injects the barriers due at the current position; returns how many records may be
    /// read before the next one is due.
    fn due_barriers(&mut self) -> Result<(bool, u64), OperatorError> {
        let mut passed = false;
        loop {
            self.refill();
            let pos = self.source.position();
            match self.barriers.front() {
                Some(&(n, at)) if at.is_none_or(|at| at <= pos) => {
                    self.barriers.pop_front();
                    self.pass_barrier(n)?;
                    passed = true;
                }
                Some(&(_, Some(at))) => return Ok((passed, at - pos)),
                _ => return Ok((passed, u64::MAX)),
            }
        }
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
            .map_err(|e| e.in_operator(self.id, &self.name))?;
        self.chain.open(ctx)?;
        self.down.open(ctx)?;
        self.fast = self.chain.all_fused() && self.down.all_fused();
        Ok(())
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), OperatorError> {
        let mut position = 0u64;
        let (id, name) = (self.id, self.name.clone());
        let marks = &mut self.marks;
        let chain = &mut self.chain;
        let down = &mut self.down;
        snapshot.restore(|v| {
            v.enter(id, &name);
            v.visit("position", &mut position);
            v.visit("max_ts", &mut marks.max_ts);
            v.visit("last_wm", &mut marks.last_wm);
            v.visit("since_wm", &mut marks.since_wm);
            v.leave();
            chain.state(v);
            down.state(v);
        })?;
        self.source
            .seek(position)
            .map_err(|e| OperatorError::from(e).in_operator(self.id, &self.name))
    }

    fn inject_barrier(&mut self, n: CheckpointId, at: Option<u64>) {
        self.barriers.push_back((n, at));
    }

    fn schedule_barriers(&mut self, first: CheckpointId, every: u64) {
        self.schedule = Some((first.0, every));
    }

    fn take_acks(&mut self, out: &mut Vec<(CheckpointId, Snapshot)>) {
        out.append(&mut self.acks);
    }

    fn checkpoint_complete(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.chain.on_checkpoint_complete(n)?;
        self.down.checkpoint_complete(n)
    }

    fn metrics(&self, m: &mut Metrics) {
        m.within(&self.name, |m| m.add("records_in", self.source.position()));
        self.chain.metrics(m);
        self.down.metrics(m);
    }

    fn timed(&self) -> bool {
        self.down.timed()
    }

    fn set_bells(&mut self, bells: &Arc<super::bell::Bells>) {
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
            records_in: self.source.position(),
            records_out,
            batches,
            late: live.late,
            barriers: self.passed,
            watermark: self.marks.last_wm,
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
            let (passed, until_barrier) = if self.barriers.is_empty() && self.schedule.is_none() {
                (false, u64::MAX)
            } else {
                self.due_barriers()?
            };
            acks |= passed;
            progress |= passed;
            // Watermarks fall every `strategy.every` records: a data-defined point; so do
            // barriers (at their positions).
            let max = left
                .min(self.strategy.every - self.marks.since_wm)
                .min(usize::try_from(until_barrier).unwrap_or(usize::MAX));
            let mut n = 0;
            let Self {
                source,
                chain,
                down,
                ..
            } = self;
            // A local copy: kept in a register across the loop, not stored per record.
            let mut max_ts = self.marks.max_ts;
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
            self.marks.max_ts = max_ts;
            let status = status.map_err(|e| e.in_operator(self.id, &self.name))?;
            left -= n.min(left);
            self.marks.since_wm += n;
            progress |= n > 0;
            if n > 0 && self.idle {
                self.idle = false;
            }
            if self.marks.since_wm >= self.strategy.every {
                self.marks.since_wm = 0;
                let w = self.marks.max_ts.saturating_sub(self.strategy.delay);
                self.emit_watermark(w)?;
            }
            match status {
                SourceStatus::More => {}
                SourceStatus::Idle => {
                    if !self.barriers.is_empty() || self.schedule.is_some() {
                        // Due barriers pass even while the source has nothing.
                        let (passed, _) = self.due_barriers()?;
                        acks |= passed;
                        progress |= passed;
                    }
                    if !self.idle && n == 0 {
                        self.idle = true;
                        flush(&mut self.chain, &mut self.down)?;
                        self.down.idle()?;
                        progress = true;
                    }
                    break;
                }
                SourceStatus::Done => {
                    // Barriers due at the partition's last position pass before its end; those
                    // placed past it are not injected here (the merges downstream treat the
                    // ended input as aligned).
                    let pos = self.source.position();
                    loop {
                        self.refill();
                        match self.barriers.pop_front() {
                            Some((n, at)) if at.is_none_or(|at| at <= pos) => {
                                self.pass_barrier(n)?;
                                acks = true;
                            }
                            _ => break,
                        }
                    }
                    self.barriers.clear();
                    self.schedule = None;
                    self.emit_watermark(EventTime::MAX)?;
                    self.chain.close(&mut self.down)?;
                    self.down.end()?;
                    self.exhausted = true;
                    progress = true;
                    return Ok(Step {
                        progress,
                        done: self.down.ready(),
                        acks,
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
            acks,
        })
    }
}
