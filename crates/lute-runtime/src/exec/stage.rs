//! Stages: what a worker steps. A stage is type-erased (`Box<dyn Stage>`, tier L3) and runs a
//! monomorphized operator chain (tier L4) for up to `step_budget` records per step.
//!
//! - `SourceStage`: source partition → chain → downstream (an exchange
//!   sender, or the end of a chain that ends in a sink).
//! - `ExchangeStage`: exchange receiver (data-defined merge) → chain
//!   → downstream.
//!
//! # Protocol between a stage and its downstream
//!
//! A stage calls its [`Downstream`]: `emit` per record; `watermark(w)` after the chain let `w`
//! through; `on_barrier(n)` after the chain's `on_barrier(n)` (a chain fused into the
//! downstream sees it), then the capture of the state, then `barrier(n)`;
//! `idle()` after a flush when its input has nothing; `end()` once, after `close`. Before any
//! marker the downstream flushes what it holds (an exchange sender its open batches), so
//! markers stay ordered with the data. `maintain(now)` (pending messages, flush deadlines) runs
//! at the start of every step, and the stage produces nothing while `ready()` is false
//! (backpressure). A stage that passed barrier `n` reports it ([`Step::acks`]) and hands the
//! captured state to the worker ([`Stage::take_acks`]), which acknowledges it to the control
//! plane.

use super::bell::Bells;
use crate::error::OperatorError;
use crate::exchange::sender::ExchangeSender;
use crate::exchange::{Message, Partition};
use crate::metrics::StageFigures;
use crate::operator::sink::Terminal;
use crate::operator::{CheckpointId, Context, Emit, EventTime, Metrics, Operator};
use crate::state::Snapshot;
use std::sync::Arc;
use std::time::Instant;

/// One step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Something happened (records, markers or flushes).
    pub progress: bool,
    /// The stage is finished and will do nothing more.
    pub done: bool,
    /// A barrier passed: [`Stage::take_acks`] has its captured state.
    pub acks: bool,
}

/// A schedulable unit of a worker (tier L3 boundary: one dynamic call per step).
pub trait Stage: Send {
    /// Opens the source (if any), the chain and the downstream.
    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError>;
    /// Runs up to `budget` records.
    fn step(&mut self, now: Instant, budget: usize) -> Result<Step, OperatorError>;
    /// A source stage queues barrier `n`, to be injected when its partition's position reaches
    /// `at` records (or at once when `None` or already past); other stages ignore it (barriers
    /// reach them in band).
    fn inject_barrier(&mut self, _n: CheckpointId, _at: Option<u64>) {}
    /// A source stage injects barrier `k` (from `first` on) after its partition's
    /// `k · every`-th record; other stages ignore it.
    fn schedule_barriers(&mut self, _first: CheckpointId, _every: u64) {}
    /// Moves the barriers passed since the last call, with the state captured at each, into
    /// `out`.
    fn take_acks(&mut self, _out: &mut Vec<(CheckpointId, Snapshot)>) {}
    /// Checkpoint `n` is complete (every stage of every worker acknowledged it).
    fn checkpoint_complete(&mut self, n: CheckpointId) -> Result<(), OperatorError>;
    /// Restores the chain's (and the source's) registered state before `open`.
    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), OperatorError>;
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
    /// The stage's live figures (records in and out, batches, late records, barriers,
    /// watermark).
    fn figures(&self) -> StageFigures;
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
    /// Whether the stage may produce more (nothing waits for link space).
    fn ready(&self) -> bool;
    /// Sends pending messages and flushes batches past their deadline; whether anything moved.
    fn maintain(&mut self, now: Instant) -> Result<bool, OperatorError>;
    /// The watermark `w` (after the chain let it through).
    fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError>;
    /// A chain fused into the downstream sees barrier `n` (its `on_barrier`), right after the
    /// stage's own chain and before the state is captured.
    fn on_barrier(&mut self, _n: CheckpointId) -> Result<(), OperatorError> {
        Ok(())
    }
    /// Sends checkpoint barrier `n` on (after the chain's `on_barrier` and the capture of its
    /// state).
    fn barrier(&mut self, n: CheckpointId) -> Result<(), OperatorError>;
    /// The input has nothing now.
    fn idle(&mut self) -> Result<(), OperatorError>;
    /// End of stream.
    fn end(&mut self) -> Result<(), OperatorError>;
    /// Records and batches sent on so far (an exchange sender; `(0, 0)` otherwise).
    fn sent(&self) -> (u64, u64) {
        (0, 0)
    }
    /// Every chain member fused into the downstream (a chain after an exchange fused away)
    /// learns that checkpoint `n` is complete.
    fn checkpoint_complete(&mut self, _n: CheckpointId) -> Result<(), OperatorError> {
        Ok(())
    }
    /// Shows the state of a chain fused into the downstream.
    fn state(&mut self, _state: &mut dyn crate::state::StateVisitor) {}
    /// Adds the live figures of a chain fused into the downstream.
    fn live(&self, _live: &mut crate::metrics::Live) {}
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
    fn barrier(&mut self, _: CheckpointId) -> Result<(), OperatorError> {
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
    fn barrier(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        ExchangeSender::barrier(self, n)
    }
    fn sent(&self) -> (u64, u64) {
        ExchangeSender::sent(self)
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
pub(crate) fn flush<T, C: Operator<T>, D: Downstream<C::Out>>(
    chain: &mut C,
    down: &mut D,
) -> Result<(), OperatorError> {
    chain.flush(down)?;
    down.flush()
}
