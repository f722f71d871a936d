//! Type adapters between a chain and what follows it: taggers (the two sides of a join),
//! [`TagDown`] (a downstream behind a tag) and [`Fused`] (a chain and its downstream as one
//! downstream: an exchange fused away).

use super::Tagger;
use crate::error::OperatorError;
use crate::exec::stage::{Downstream, FastDown};
use crate::metrics::{Live, Metrics};
use crate::operator::join::Side;
use crate::operator::{CheckpointId, EventTime, Operator};
use crate::state::StateVisitor;
use std::sync::Arc;

/// Leaves records as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Same;
impl<A: Send + 'static> Tagger<A> for Same {
    type Out = A;
    #[inline(always)]
    fn tag(&mut self, a: A) -> A {
        a
    }
}

/// Tags records as the left side of a join.
#[derive(Debug)]
pub struct ToLeft<B>(pub(crate) std::marker::PhantomData<fn() -> B>);
impl<B> Clone for ToLeft<B> {
    fn clone(&self) -> Self {
        Self(std::marker::PhantomData)
    }
}
impl<A: Send + 'static, B: Send + 'static> Tagger<A> for ToLeft<B> {
    type Out = Side<A, B>;
    #[inline(always)]
    fn tag(&mut self, a: A) -> Side<A, B> {
        Side::Left(a)
    }
}

/// Tags records as the right side of a join.
#[derive(Debug)]
pub struct ToRight<A>(pub(crate) std::marker::PhantomData<fn() -> A>);
impl<A> Clone for ToRight<A> {
    fn clone(&self) -> Self {
        Self(std::marker::PhantomData)
    }
}
impl<A: Send + 'static, B: Send + 'static> Tagger<B> for ToRight<A> {
    type Out = Side<A, B>;
    #[inline(always)]
    fn tag(&mut self, b: B) -> Side<A, B> {
        Side::Right(b)
    }
}

/// A downstream behind a tag (the records of one side of a join become `Side` values).
pub struct TagDown<D, G> {
    pub(crate) down: D,
    pub(crate) tag: G,
}

impl<A, G: Tagger<A>, D: Downstream<G::Out>> crate::Emit<A> for TagDown<D, G> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: A) -> Result<(), OperatorError> {
        self.down.emit(ts, self.tag.tag(x))
    }
}

impl<A, G: Tagger<A>, D: Downstream<G::Out>> Downstream<A> for TagDown<D, G> {
    fn all_fused(&self) -> bool {
        self.down.all_fused()
    }
    #[inline(always)]
    fn emit_fused(&mut self, ts: EventTime, x: A) -> Result<(), OperatorError> {
        self.down.emit_fused(ts, self.tag.tag(x))
    }
    fn timed(&self) -> bool {
        self.down.timed()
    }
    fn open(&mut self, ctx: &crate::Context) -> Result<(), OperatorError> {
        self.down.open(ctx)
    }
    fn flush(&mut self) -> Result<(), OperatorError> {
        self.down.flush()
    }
    fn set_bells(&mut self, bells: &Arc<crate::exec::bell::Bells>) {
        self.down.set_bells(bells);
    }
    fn metrics(&self, m: &mut Metrics) {
        self.down.metrics(m);
    }
    fn ready(&self) -> bool {
        self.down.ready()
    }
    fn maintain(&mut self, now: std::time::Instant) -> Result<bool, OperatorError> {
        self.down.maintain(now)
    }
    fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError> {
        self.down.watermark(w)
    }
    fn on_barrier(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.down.on_barrier(n)
    }
    fn barrier(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.down.barrier(n)
    }
    fn sent(&self) -> (u64, u64) {
        self.down.sent()
    }
    fn checkpoint_complete(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.down.checkpoint_complete(n)
    }
    fn state(&mut self, state: &mut dyn StateVisitor) {
        self.down.state(state);
    }
    fn live(&self, live: &mut Live) {
        self.down.live(live);
    }
    fn idle(&mut self) -> Result<(), OperatorError> {
        self.down.idle()
    }
    fn end(&mut self) -> Result<(), OperatorError> {
        self.down.end()
    }
}

/// A chain and its downstream, as one downstream: how a chain after an exchange runs in the
/// upstream's stage when the exchange is fused away (the same calls in the same order as
/// [`Then`](crate::operator::Then): records, watermarks, then `close` at the end).
pub struct Fused<C, D> {
    pub(crate) chain: C,
    pub(crate) down: D,
}

impl<T, C: Operator<T>, D: Downstream<C::Out>> crate::Emit<T> for Fused<C, D> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        self.chain.process(ts, x, &mut self.down)
    }
}

impl<T, C: Operator<T>, D: Downstream<C::Out>> Downstream<T> for Fused<C, D> {
    fn timed(&self) -> bool {
        self.down.timed()
    }
    fn open(&mut self, ctx: &crate::Context) -> Result<(), OperatorError> {
        self.chain.open(ctx)?;
        self.down.open(ctx)
    }
    fn flush(&mut self) -> Result<(), OperatorError> {
        self.chain.flush(&mut self.down)?;
        self.down.flush()
    }
    fn set_bells(&mut self, bells: &Arc<crate::exec::bell::Bells>) {
        self.down.set_bells(bells);
    }
    fn metrics(&self, m: &mut Metrics) {
        self.chain.metrics(m);
        self.down.metrics(m);
    }
    fn all_fused(&self) -> bool {
        self.chain.all_fused() && self.down.all_fused()
    }
    #[inline(always)]
    fn emit_fused(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        self.chain
            .process_fused(ts, x, &mut FastDown(&mut self.down))
    }
    fn ready(&self) -> bool {
        self.down.ready()
    }
    fn maintain(&mut self, now: std::time::Instant) -> Result<bool, OperatorError> {
        self.down.maintain(now)
    }
    fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError> {
        if let Some(w) = self.chain.on_watermark(w, &mut self.down)? {
            self.down.watermark(w)?;
        }
        Ok(())
    }
    fn on_barrier(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.chain.on_barrier(n, &mut self.down)?;
        self.down.on_barrier(n)
    }
    fn barrier(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.down.barrier(n)
    }
    fn sent(&self) -> (u64, u64) {
        self.down.sent()
    }
    fn checkpoint_complete(&mut self, n: CheckpointId) -> Result<(), OperatorError> {
        self.chain.on_checkpoint_complete(n)?;
        self.down.checkpoint_complete(n)
    }
    fn state(&mut self, state: &mut dyn StateVisitor) {
        self.chain.state(state);
        self.down.state(state);
    }
    fn live(&self, live: &mut Live) {
        self.chain.live(live);
        self.down.live(live);
    }
    fn idle(&mut self) -> Result<(), OperatorError> {
        self.down.idle()
    }
    fn end(&mut self) -> Result<(), OperatorError> {
        self.chain.close(&mut self.down)?;
        self.down.end()
    }
}
