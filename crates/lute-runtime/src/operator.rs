//! Operators: the user-facing [`Operator`] trait with lifecycle hooks, the [`Emit`] output
//! trait, and the built-in operators.
//!
//! # Tiers
//!
//! A chain of operators on one worker is the nested generic type `Then<Then<A, B, _>, C, _>`.
//! Each [`Then`] is one edge, in the tier the cost model picks at `open` ([`crate::cost`]):
//! L4, where the compiler monomorphizes and inlines the chain into one function per stage (no
//! virtual call per event, like iterator adaptors), or L3, a materialized batch and one
//! dynamic call per batch. A stage itself is type-erased behind `Box<dyn Stage>` (L3) and
//! called once per scheduling step, which handles up to `Config::step_budget` records.

use crate::cost::Tier;
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
    /// How edges inside chains get their tier (see [`crate::cost`]).
    pub tiers: crate::cost::Tiers,
    /// Records per batch (L3 edges materialize batches of this size).
    pub batch_size: usize,
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

    /// Whether every chain edge inside this operator runs fused (L4); known after
    /// [`open`](Operator::open). The runtime then calls
    /// [`process_fused`](Operator::process_fused), which skips the per-record tier check of
    /// each edge. Only chain edges and wrappers override it; the default suits a plain
    /// operator.
    fn all_fused(&self) -> bool {
        true
    }

    /// [`process`](Operator::process) with every chain edge inside taken as fused; called only
    /// while [`all_fused`](Operator::all_fused) holds. Only chain edges and wrappers override
    /// it; the default is `process`.
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

    /// The end of a scheduling step: emit anything held only for batching (an L3 edge's
    /// buffer), so records do not wait for the next step. Default: nothing.
    ///
    /// # Errors
    /// Fails the job.
    fn flush<E: Emit<Self::Out>>(&mut self, _out: &mut E) -> Result<(), OperatorError> {
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
/// (operator name, counter name). The runtime's own: `records_in` per stage (under the
/// source's name, and under an exchange's name where it runs as its own stage: not when it is
/// fused away at one worker); `late_dropped` / `late_emitted` per window or join operator;
/// `keys_evicted` per window operator; `exchange_spilled_batches` (under `<job>`).
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

/// An edge between two operators of a chain: `A`'s output feeds `B`, in the tier chosen at
/// `open` (see [`crate::cost`]): L4, a direct monomorphized call per record; or L3, records
/// materialized in a batch buffer and handed to `B` by one dynamic call per batch.
pub struct Then<A, B, M> {
    pub(crate) a: A,
    pub(crate) b: B,
    tier: Tier,
    /// L3: `A`'s output waiting for `B`.
    buf: Vec<(EventTime, M)>,
    cap: usize,
}

impl<A: Clone, B: Clone, M> Clone for Then<A, B, M> {
    fn clone(&self) -> Self {
        Self {
            a: self.a.clone(),
            b: self.b.clone(),
            tier: self.tier,
            buf: Vec::new(),
            cap: self.cap,
        }
    }
}

impl<A: std::fmt::Debug, B: std::fmt::Debug, M> std::fmt::Debug for Then<A, B, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Then")
            .field("a", &self.a)
            .field("b", &self.b)
            .field("tier", &self.tier)
            .finish()
    }
}

impl<A, B, M> Then<A, B, M> {
    /// `a` then `b`, fused (L4) until [`Operator::open`] applies the job's tier policy.
    pub fn new(a: A, b: B) -> Self {
        Self {
            a,
            b,
            tier: Tier::L4,
            buf: Vec::new(),
            cap: 0,
        }
    }

    /// Sets the tier (L3 batches of `batch` records); allocates the L3 buffer now, not on the
    /// data path.
    pub fn set_tier(&mut self, tier: Tier, batch: usize) {
        self.tier = tier;
        self.cap = batch.max(1);
        if tier == Tier::L3 {
            self.buf.reserve_exact(self.cap);
        }
    }

    /// This edge's tier.
    pub fn tier(&self) -> Tier {
        self.tier
    }
}

/// `B` as `A`'s output on an L4 edge; with `FUSED`, on the all-fused path
/// ([`Operator::process_fused`]): the constant picks the call at compile time.
struct Forward<'a, B, E, const FUSED: bool> {
    b: &'a mut B,
    out: &'a mut E,
}

impl<T, B: Operator<T>, E: Emit<B::Out>, const FUSED: bool> Emit<T> for Forward<'_, B, E, FUSED> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        if FUSED {
            self.b.process_fused(ts, x, self.out)
        } else {
            self.b.process(ts, x, self.out)
        }
    }
}

/// An L3 edge's buffer as `A`'s output.
struct Buffer<'a, M>(&'a mut Vec<(EventTime, M)>);

impl<M> Emit<M> for Buffer<'_, M> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: M) -> Result<(), OperatorError> {
        self.0.push((ts, x));
        Ok(())
    }
}

/// `B` seen through the type-erased batch interface of an L3 edge.
trait Batched<M, E> {
    fn run(&mut self, batch: &mut Vec<(EventTime, M)>, out: &mut E) -> Result<(), OperatorError>;
}

impl<M, B: Operator<M>, E: Emit<B::Out>> Batched<M, E> for B {
    fn run(&mut self, batch: &mut Vec<(EventTime, M)>, out: &mut E) -> Result<(), OperatorError> {
        for (t, x) in batch.drain(..) {
            self.process(t, x, out)?;
        }
        Ok(())
    }
}

impl<A, B, M> Then<A, B, M> {
    /// Hands the buffered batch to `b` through one dynamic call.
    #[inline(never)]
    fn drain<E>(&mut self, out: &mut E) -> Result<(), OperatorError>
    where
        B: Operator<M>,
        E: Emit<B::Out>,
    {
        if self.buf.is_empty() {
            return Ok(());
        }
        // `black_box` hides the concrete type, so the call is a real virtual call (the L3
        // contract), not devirtualized by the optimizer.
        let b: &mut dyn Batched<M, E> = std::hint::black_box(&mut self.b);
        b.run(&mut self.buf, out)
    }
}

impl<In, A, B, M> Operator<In> for Then<A, B, M>
where
    A: Operator<In, Out = M>,
    B: Operator<M>,
    M: Send + 'static,
{
    type Out = B::Out;

    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        let (tier, _) = crate::cost::choose(ctx.tiers, std::mem::size_of::<M>());
        self.set_tier(tier, ctx.batch_size);
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
        match self.tier {
            Tier::L4 => {
                let Self { a, b, .. } = self;
                a.process(ts, x, &mut Forward::<_, _, false> { b, out })
            }
            Tier::L3 => {
                self.a.process(ts, x, &mut Buffer(&mut self.buf))?;
                if self.buf.len() >= self.cap {
                    self.drain(out)?;
                }
                Ok(())
            }
        }
    }

    fn all_fused(&self) -> bool {
        self.tier == Tier::L4 && self.a.all_fused() && self.b.all_fused()
    }

    #[inline(always)]
    fn process_fused<E: Emit<B::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        let Self { a, b, .. } = self;
        a.process_fused(ts, x, &mut Forward::<_, _, true> { b, out })
    }

    fn on_watermark<E: Emit<B::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        let fwd = match self.tier {
            Tier::L4 => {
                let Self { a, b, .. } = self;
                a.on_watermark(wm, &mut Forward::<_, _, false> { b, out })?
            }
            Tier::L3 => {
                let w = self.a.on_watermark(wm, &mut Buffer(&mut self.buf))?;
                self.drain(out)?;
                w
            }
        };
        match fwd {
            Some(w) => self.b.on_watermark(w, out),
            None => Ok(None),
        }
    }

    fn on_barrier(&mut self, checkpoint: u64) -> Result<(), OperatorError> {
        // NB: an L3 buffer is flushed at the end of every step; checkpointing will flush it
        // before the barrier passes.
        self.a.on_barrier(checkpoint)?;
        self.b.on_barrier(checkpoint)
    }

    fn metrics(&self, m: &mut Metrics) {
        self.a.metrics(m);
        self.b.metrics(m);
    }

    fn flush<E: Emit<B::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        match self.tier {
            Tier::L4 => {
                let Self { a, b, .. } = self;
                a.flush(&mut Forward::<_, _, false> { b, out })?;
            }
            Tier::L3 => {
                self.a.flush(&mut Buffer(&mut self.buf))?;
                self.drain(out)?;
            }
        }
        self.b.flush(out)
    }

    fn close<E: Emit<B::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        match self.tier {
            Tier::L4 => {
                let Self { a, b, .. } = self;
                a.close(&mut Forward::<_, _, false> { b, out })?;
            }
            Tier::L3 => {
                self.a.close(&mut Buffer(&mut self.buf))?;
                self.drain(out)?;
            }
        }
        self.b.close(out)
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

impl<O> Named<O> {
    /// A record's result, its error tagged with this operator's name.
    #[inline(always)]
    fn tagged(&self, r: Result<(), OperatorError>) -> Result<(), OperatorError> {
        match r {
            Ok(()) => Ok(()),
            Err(e) => Err(e.in_operator(&self.name)),
        }
    }
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
        set_current_op(self.id);
        let r = self.op.process_fused(ts, x, out);
        self.tagged(r)
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

    fn flush<E: Emit<O::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        set_current_op(self.id);
        self.op.flush(out).map_err(|e| e.in_operator(&self.name))
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
