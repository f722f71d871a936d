//! Operators: the [`Operator`] trait (lifecycle hooks), [`Emit`] (where output goes), chains
//! ([`Then`], tiers) and one file per built-in operator.
//!
//! # Protocol
//!
//! A worker's instance of an operator is made by the [`factory`] from the prototype given to
//! the builder, then sees, in this order: [`Operator::open`]; any interleaving of
//! [`Operator::process`] (a record), [`Operator::on_watermark`] (the input watermark advanced),
//! [`Operator::on_barrier`] (checkpoint `n` passes: everything before it in the input has been
//! processed, nothing after it), [`Operator::on_checkpoint_complete`] (every worker captured
//! checkpoint `n`) and [`Operator::flush`] (end of a scheduling step); finally a watermark of
//! `EventTime::MAX` and [`Operator::close`]. The runtime captures an operator's registered
//! state ([`Operator::state`]) right after its `on_barrier`; the operator never serializes
//! anything itself.
//!
//! # Tiers
//!
//! A chain of operators on one worker is the nested generic type `Then<Then<A, B, _>, C, _>`.
//! Each [`Then`] is one edge, in the tier the cost model picks at `open` ([`tier`]): L4, where
//! the compiler monomorphizes and inlines the chain into one function per stage (no virtual
//! call per event, like iterator adaptors), or L3, a materialized batch and one dynamic call
//! per batch. A stage itself is type-erased (`Box<dyn Stage>`, L3) and called once per
//! scheduling step, which handles up to `Config::step_budget` records.

pub mod chain;
pub mod factory;
pub mod filter;
pub mod flat_map;
pub mod identity;
pub mod join;
pub mod map;
pub mod named;
pub mod sink;
pub mod tier;
pub mod try_map;
pub mod window;

pub use chain::Then;
pub use factory::{Factory, Prototype};
pub use filter::Filter;
pub use flat_map::FlatMap;
pub use identity::Identity;
pub use map::Map;
pub use named::Named;
pub use try_map::TryMap;

use crate::error::OperatorError;
pub use crate::metrics::{Live, Metrics};
use crate::state::StateVisitor;
pub use lute_core::{CheckpointId, EventTime};

/// Where an operator sends its output.
pub trait Emit<T> {
    /// Sends one record with its event time downstream.
    ///
    /// # Errors
    /// A downstream operator's error.
    fn emit(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError>;
}

/// What an operator knows about where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// This worker's index.
    pub worker: usize,
    /// Number of workers.
    pub workers: usize,
    /// How edges inside chains get their tier (see [`tier`]).
    pub tiers: tier::Tiers,
    /// Records per batch (L3 edges materialize batches of this size).
    pub batch_size: usize,
}

/// A dataflow operator (see the module docs for the order of calls). Each worker runs its own
/// instance, made by the [`factory`] from the prototype given to the builder (`Clone` is used
/// for that only, on a prototype that never runs), so state is per worker; after a key
/// exchange, per key.
pub trait Operator<In>: Clone + Send + 'static {
    /// Output record type.
    type Out;

    /// Called once per worker before any record.
    ///
    /// # Errors
    /// Fails the job.
    fn open(&mut self, _ctx: &Context) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Handles one record.
    ///
    /// # Errors
    /// Fails the job.
    fn process<E: Emit<Self::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError>;

    /// Whether every chain edge inside this operator runs fused (L4); known after `open`.
    /// Only chain edges and wrappers override it.
    fn all_fused(&self) -> bool {
        true
    }

    /// [`Operator::process`] with every chain edge inside taken as fused; called only while
    /// [`Operator::all_fused`] holds. Only chain edges and wrappers override it.
    ///
    /// # Errors
    /// Fails the job.
    #[inline(always)]
    fn process_fused<E: Emit<Self::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        self.process(ts, x, out)
    }

    /// The input watermark advanced to `wm`; returns the watermark to forward (default: `wm`)
    /// or `None` to hold it.
    ///
    /// # Errors
    /// Fails the job.
    fn on_watermark<E: Emit<Self::Out>>(
        &mut self,
        wm: EventTime,
        _out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        Ok(Some(wm))
    }

    /// Checkpoint barrier `checkpoint` reached this operator: every record before it has been
    /// processed. Output emitted here goes before the barrier downstream. The runtime captures
    /// the registered state ([`Operator::state`]) right after.
    ///
    /// # Errors
    /// Fails the job.
    fn on_barrier<E: Emit<Self::Out>>(
        &mut self,
        _checkpoint: CheckpointId,
        _out: &mut E,
    ) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Every worker has captured checkpoint `checkpoint` (a sink may now make what it wrote
    /// before that barrier visible).
    ///
    /// # Errors
    /// Fails the job.
    fn on_checkpoint_complete(&mut self, _checkpoint: CheckpointId) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Shows the runtime this operator's state: call [`StateVisitor::visit`] once per piece
    /// (a keyed table, a value) with a stable name. The runtime captures it at a barrier and
    /// puts it back on restore, under this operator's id. Default: no state.
    fn state(&mut self, _state: &mut dyn StateVisitor) {}

    /// The end of a scheduling step: emit anything held only for batching (an L3 edge's
    /// buffer), so records do not wait for the next step. Default: nothing.
    ///
    /// # Errors
    /// Fails the job.
    fn flush<E: Emit<Self::Out>>(&mut self, _out: &mut E) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Adds this operator's end-of-run counters (e.g. late events dropped) to `m`; called once
    /// per worker when the job ends, and summed over workers.
    fn metrics(&self, _m: &mut Metrics) {}

    /// Adds this operator's live figures (late records) to `live`; called by the worker once
    /// per progress interval while the job runs, never per record.
    fn live(&self, _live: &mut Live) {}

    /// End of stream: emit whatever is still held.
    ///
    /// # Errors
    /// Fails the job.
    fn close<E: Emit<Self::Out>>(&mut self, _out: &mut E) -> Result<(), OperatorError> {
        Ok(())
    }
}
