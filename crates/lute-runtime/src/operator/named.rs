//! [`Named`]: an operator with its id and name, and the thread-local record of which operator
//! is running (so a panic is attributed to it).

use super::{CheckpointId, Context, Emit, EventTime, Live, Metrics, Operator};
use crate::error::{OperatorError, OperatorId};
use crate::state::StateVisitor;
use std::cell::Cell;
use std::sync::Arc;

thread_local! {
    /// Index (into the job's operator names) of the innermost operator running on this
    /// thread, so a panic can be attributed to an operator. `const`-initialised: a plain TLS
    /// store per record per operator.
    static CURRENT_OP: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// The operator running on this thread when a panic happened (`u32::MAX` if none).
pub(crate) fn current_op() -> u32 {
    CURRENT_OP.with(Cell::get)
}

pub(crate) fn set_current_op(id: u32) {
    CURRENT_OP.with(|c| c.set(id));
}

/// An operator with its id and name: errors are tagged with them, panics are attributed to
/// it, and its registered state is kept under its id.
#[derive(Debug, Clone)]
pub struct Named<O> {
    pub(crate) id: OperatorId,
    pub(crate) name: Arc<str>,
    pub(crate) op: O,
}

impl<O> Named<O> {
    /// A record's result, its error tagged with this operator's name.
    #[inline(always)]
    fn tagged(&self, r: Result<(), OperatorError>) -> Result<(), OperatorError> {
        match r {
            Ok(()) => Ok(()),
            Err(e) => Err(e.in_operator(self.id, &self.name)),
        }
    }
}

impl<In, O: Operator<In>> Operator<In> for Named<O> {
    type Out = O::Out;

    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        set_current_op(self.id.0);
        self.op
            .open(ctx)
            .map_err(|e| e.in_operator(self.id, &self.name))
    }

    #[inline(always)]
    fn process<E: Emit<O::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        set_current_op(self.id.0);
        let r = self.op.process(ts, x, out);
        self.tagged(r)
    }

    fn all_fused(&self) -> bool {
        self.op.all_fused()
    }

    #[inline(always)]
    fn process_fused<E: Emit<O::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        set_current_op(self.id.0);
        let r = self.op.process_fused(ts, x, out);
        self.tagged(r)
    }

    fn on_watermark<E: Emit<O::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        set_current_op(self.id.0);
        self.op
            .on_watermark(wm, out)
            .map_err(|e| e.in_operator(self.id, &self.name))
    }

    fn on_barrier<E: Emit<O::Out>>(
        &mut self,
        checkpoint: CheckpointId,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        set_current_op(self.id.0);
        self.op
            .on_barrier(checkpoint, out)
            .map_err(|e| e.in_operator(self.id, &self.name))
    }

    fn on_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), OperatorError> {
        set_current_op(self.id.0);
        self.op
            .on_checkpoint_complete(checkpoint)
            .map_err(|e| e.in_operator(self.id, &self.name))
    }

    fn state(&mut self, state: &mut dyn StateVisitor) {
        state.enter(self.id, &self.name);
        self.op.state(state);
        state.leave();
    }

    fn metrics(&self, m: &mut Metrics) {
        m.within(&self.name, |m| self.op.metrics(m));
    }

    fn live(&self, live: &mut Live) {
        self.op.live(live);
    }

    fn flush<E: Emit<O::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        set_current_op(self.id.0);
        self.op
            .flush(out)
            .map_err(|e| e.in_operator(self.id, &self.name))
    }

    fn close<E: Emit<O::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        set_current_op(self.id.0);
        self.op
            .close(out)
            .map_err(|e| e.in_operator(self.id, &self.name))
    }
}
impl<O> Named<O> {
    /// The operator's id.
    pub fn id(&self) -> OperatorId {
        self.id
    }

    /// The operator's name.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The wrapped operator.
    pub fn inner(&self) -> &O {
        &self.op
    }

    /// The wrapped operator, mutably.
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.op
    }
}
