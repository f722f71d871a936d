//! Operators: the user-facing [`Operator`] trait with lifecycle hooks, the [`Emit`] output
//! trait, and the built-in operators.
//!
//! # Tiers
//!
//! A chain of operators on one worker is the nested generic type `Then<Then<A, B>, C>`; the
//! compiler monomorphizes and inlines it into one function per stage (tier L4: no virtual
//! call per event, like iterator adaptors). A stage itself is type-erased behind
//! `Box<dyn Stage>` (tier L3) and called once per scheduling step, which handles up to
//! `Config::step_budget` records, so the dynamic call is paid per batch, not per event.

use crate::error::OperatorError;
use std::cell::Cell;
use std::sync::Arc;

/// Event time: milliseconds (or any unit the job chooses), as in the window crate.
pub type EventTime = i64;

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
}

/// A dataflow operator. Each worker runs its own clone (built from the prototype given to the
/// job builder), so state is per worker; after a key exchange, per key.
///
/// Hooks: [`open`](Operator::open) before the first record; [`process`](Operator::process)
/// per record; [`on_watermark`](Operator::on_watermark) when the input watermark advances
/// (return the watermark to forward, or `None` to hold it); [`on_barrier`](Operator::on_barrier),
/// [`snapshot`](Operator::snapshot) and [`restore`](Operator::restore) for checkpoints (called
/// once checkpointing lands; present now so operators are written against them);
/// [`close`](Operator::close) at end of stream, after a final watermark of `EventTime::MAX`.
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

    /// The input watermark advanced to `wm`; returns the watermark to forward (default: `wm`).
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

    /// A checkpoint barrier passed this operator.
    ///
    /// # Errors
    /// Fails the job.
    fn on_barrier(&mut self, _checkpoint: u64) -> Result<(), OperatorError> {
        Ok(())
    }

    /// The operator's state, for a checkpoint.
    ///
    /// # Errors
    /// Fails the checkpoint.
    fn snapshot(&self) -> Result<Vec<u8>, OperatorError> {
        Ok(Vec::new())
    }

    /// Restores state written by [`Operator::snapshot`].
    ///
    /// # Errors
    /// Fails the recovery.
    fn restore(&mut self, _state: &[u8]) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Reports this operator's counters (e.g. late events dropped) into `m`; called once per
    /// worker when the job ends. The control plane sums them over workers.
    fn metrics(&self, _m: &mut Metrics) {}

    /// End of stream: emit whatever is still held.
    ///
    /// # Errors
    /// Fails the job.
    fn close<E: Emit<Self::Out>>(&mut self, _out: &mut E) -> Result<(), OperatorError> {
        Ok(())
    }
}

/// Counters reported by operators at the end of a run, summed over workers: one value per
/// (operator name, counter name).
///
/// # Examples
///
/// ```
/// use lute_runtime::operator::Metrics;
/// let mut m = Metrics::default();
/// m.add("late_dropped", 3); // outside an operator: recorded under "<job>"
/// assert_eq!(m.get("<job>", "late_dropped"), Some(3));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    current: Option<Arc<str>>,
    values: std::collections::BTreeMap<(String, &'static str), u64>,
}

impl Metrics {
    /// Adds `v` to the counter `name` of the operator being asked.
    pub fn add(&mut self, name: &'static str, v: u64) {
        let op = self.current.as_deref().unwrap_or("<job>").to_owned();
        *self.values.entry((op, name)).or_insert(0) += v;
    }

    /// The counter `name` of operator `op`, if it reported one.
    pub fn get(&self, op: &str, name: &str) -> Option<u64> {
        self.values
            .iter()
            .find(|((o, n), _)| o == op && *n == name)
            .map(|(_, v)| *v)
    }

    /// Every counter: `((operator, counter), value)`, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'static str, u64)> {
        self.values.iter().map(|((o, n), v)| (o.as_str(), *n, *v))
    }

    /// Adds every counter of `other` to this one.
    pub fn merge(&mut self, other: &Metrics) {
        for ((o, n), v) in &other.values {
            *self.values.entry((o.clone(), n)).or_insert(0) += v;
        }
    }

    pub(crate) fn within(&mut self, op: &Arc<str>, f: impl FnOnce(&mut Self)) {
        let prev = self.current.replace(op.clone());
        f(self);
        self.current = prev;
    }
}

impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for ((o, n), v) in &self.values {
            writeln!(f, "{o}.{n} = {v}")?;
        }
        Ok(())
    }
}

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

/// Two operators fused: `A`'s output feeds `B` directly (a monomorphized call, no queue).
#[derive(Debug, Clone)]
pub struct Then<A, B> {
    pub(crate) a: A,
    pub(crate) b: B,
}

struct Forward<'a, B, E> {
    b: &'a mut B,
    out: &'a mut E,
}

impl<T, B: Operator<T>, E: Emit<B::Out>> Emit<T> for Forward<'_, B, E> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        self.b.process(ts, x, self.out)
    }
}

impl<In, A: Operator<In>, B: Operator<A::Out>> Operator<In> for Then<A, B> {
    type Out = B::Out;

    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        self.a.open(ctx)?;
        self.b.open(ctx)
    }

    #[inline(always)]
    fn process<E: Emit<B::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        let Self { a, b } = self;
        a.process(ts, x, &mut Forward { b, out })
    }

    fn on_watermark<E: Emit<B::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        let Self { a, b } = self;
        match a.on_watermark(wm, &mut Forward { b, out })? {
            Some(w) => b.on_watermark(w, out),
            None => Ok(None),
        }
    }

    fn on_barrier(&mut self, checkpoint: u64) -> Result<(), OperatorError> {
        self.a.on_barrier(checkpoint)?;
        self.b.on_barrier(checkpoint)
    }

    fn metrics(&self, m: &mut Metrics) {
        self.a.metrics(m);
        self.b.metrics(m);
    }

    fn close<E: Emit<B::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        let Self { a, b } = self;
        a.close(&mut Forward { b, out })?;
        b.close(out)
    }
}

/// Passes records through unchanged (the start of every chain).
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl<T> Operator<T> for Identity
where
    T: 'static,
{
    type Out = T;

    #[inline(always)]
    fn process<E: Emit<T>>(
        &mut self,
        ts: EventTime,
        x: T,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        out.emit(ts, x)
    }
}

/// An operator with a name: errors are tagged with it, and panics are attributed to it.
#[derive(Debug, Clone)]
pub struct Named<O> {
    pub(crate) id: u32,
    pub(crate) name: Arc<str>,
    pub(crate) op: O,
}

impl<In, O: Operator<In>> Operator<In> for Named<O> {
    type Out = O::Out;

    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        set_current_op(self.id);
        self.op.open(ctx).map_err(|e| e.in_operator(&self.name))
    }

    #[inline(always)]
    fn process<E: Emit<O::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        set_current_op(self.id);
        match self.op.process(ts, x, out) {
            Ok(()) => Ok(()),
            Err(e) => Err(e.in_operator(&self.name)),
        }
    }

    fn on_watermark<E: Emit<O::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        set_current_op(self.id);
        self.op
            .on_watermark(wm, out)
            .map_err(|e| e.in_operator(&self.name))
    }

    fn on_barrier(&mut self, checkpoint: u64) -> Result<(), OperatorError> {
        self.op
            .on_barrier(checkpoint)
            .map_err(|e| e.in_operator(&self.name))
    }

    fn snapshot(&self) -> Result<Vec<u8>, OperatorError> {
        self.op.snapshot().map_err(|e| e.in_operator(&self.name))
    }

    fn metrics(&self, m: &mut Metrics) {
        m.within(&self.name, |m| self.op.metrics(m));
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), OperatorError> {
        self.op
            .restore(state)
            .map_err(|e| e.in_operator(&self.name))
    }

    fn close<E: Emit<O::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        set_current_op(self.id);
        self.op.close(out).map_err(|e| e.in_operator(&self.name))
    }
}

/// `map`: one output per input.
#[derive(Debug, Clone)]
pub struct Map<F>(pub F);

impl<In, U, F> Operator<In> for Map<F>
where
    F: FnMut(In) -> U + Clone + Send + 'static,
{
    type Out = U;

    #[inline(always)]
    fn process<E: Emit<U>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        out.emit(ts, (self.0)(x))
    }
}

/// `filter`: keeps the inputs for which the predicate holds.
#[derive(Debug, Clone)]
pub struct Filter<F>(pub F);

impl<In, F> Operator<In> for Filter<F>
where
    F: FnMut(&In) -> bool + Clone + Send + 'static,
{
    type Out = In;

    #[inline(always)]
    fn process<E: Emit<In>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        if (self.0)(&x) {
            out.emit(ts, x)
        } else {
            Ok(())
        }
    }
}

/// `flat_map`: zero or more outputs per input, with the input's event time.
#[derive(Debug, Clone)]
pub struct FlatMap<F>(pub F);

impl<In, I, F> Operator<In> for FlatMap<F>
where
    F: FnMut(In) -> I + Clone + Send + 'static,
    I: IntoIterator,
{
    type Out = I::Item;

    #[inline(always)]
    fn process<E: Emit<I::Item>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        for y in (self.0)(x) {
            out.emit(ts, y)?;
        }
        Ok(())
    }
}

/// `try_map`: a fallible map; an error fails the job with this operator's name.
#[derive(Debug, Clone)]
pub struct TryMap<F>(pub F);

impl<In, U, F> Operator<In> for TryMap<F>
where
    F: FnMut(In) -> Result<U, OperatorError> + Clone + Send + 'static,
{
    type Out = U;

    #[inline(always)]
    fn process<E: Emit<U>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        let y = (self.0)(x)?;
        out.emit(ts, y)
    }
}
