//! Chain edges: [`Then`] (`a` feeds `b` on one worker, in tier L4 or L3) and the measured cost
//! of each tier ([`edge_cost`], [`choose`]; see [`super::tier`] for the model).

use super::tier::{EdgeCost, Tier, Tiers};
use super::{CheckpointId, Context, Emit, EventTime, Live, Metrics, Operator};
use crate::error::OperatorError;
use crate::state::StateVisitor;
use std::sync::OnceLock;
use std::time::Instant;

/// An edge between two operators of a chain: `A`'s output feeds `B`, in the tier chosen at
/// `open` (see [`super::tier`]): L4, a direct monomorphized call per record; or L3, records
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
struct Direct<'a, B, E, const FUSED: bool> {
    b: &'a mut B,
    out: &'a mut E,
}

impl<T, B: Operator<T>, E: Emit<B::Out>, const FUSED: bool> Emit<T> for Direct<'_, B, E, FUSED> {
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
        let (tier, _) = choose(ctx.tiers, std::mem::size_of::<M>());
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
                a.process(ts, x, &mut Direct::<_, _, false> { b, out })
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
        a.process_fused(ts, x, &mut Direct::<_, _, true> { b, out })
    }

    fn on_watermark<E: Emit<B::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        let fwd = match self.tier {
            Tier::L4 => {
                let Self { a, b, .. } = self;
                a.on_watermark(wm, &mut Direct::<_, _, false> { b, out })?
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

    fn on_barrier<E: Emit<B::Out>>(
        &mut self,
        checkpoint: CheckpointId,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        // Whatever `a` emits at the barrier, and anything buffered on an L3 edge, reaches `b`
        // before `b` sees the barrier.
        match self.tier {
            Tier::L4 => {
                let Self { a, b, .. } = self;
                a.on_barrier(checkpoint, &mut Direct::<_, _, false> { b, out })?;
            }
            Tier::L3 => {
                self.a.on_barrier(checkpoint, &mut Buffer(&mut self.buf))?;
                self.drain(out)?;
            }
        }
        self.b.on_barrier(checkpoint, out)
    }

    fn on_checkpoint_complete(&mut self, checkpoint: CheckpointId) -> Result<(), OperatorError> {
        self.a.on_checkpoint_complete(checkpoint)?;
        self.b.on_checkpoint_complete(checkpoint)
    }

    fn state(&mut self, state: &mut dyn StateVisitor) {
        // Both members, always: a chain cannot lose a member's state.
        self.a.state(state);
        self.b.state(state);
    }

    fn metrics(&self, m: &mut Metrics) {
        self.a.metrics(m);
        self.b.metrics(m);
    }

    fn live(&self, live: &mut Live) {
        self.a.live(live);
        self.b.live(live);
    }

    fn flush<E: Emit<B::Out>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        match self.tier {
            Tier::L4 => {
                let Self { a, b, .. } = self;
                a.flush(&mut Direct::<_, _, false> { b, out })?;
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
                a.close(&mut Direct::<_, _, false> { b, out })?;
            }
            Tier::L3 => {
                self.a.close(&mut Buffer(&mut self.buf))?;
                self.drain(out)?;
            }
        }
        self.b.close(out)
    }
}

/// Records per calibration run and per L3 batch in it.
const RECORDS: usize = 16_384;
/// Batch size of L3 edges in the calibration (the jobs use `Config::batch_size`).
const BATCH: usize = 256;
const CLASSES: [usize; 6] = [8, 16, 32, 64, 128, 256];

static COSTS: [OnceLock<EdgeCost>; 6] = [const { OnceLock::new() }; 6];

/// The measured cost of an edge carrying records of `size` bytes (calibrated once per size
/// class per process).
pub fn edge_cost(size: usize) -> EdgeCost {
    let i = CLASSES
        .iter()
        .position(|&c| size <= c)
        .unwrap_or(CLASSES.len() - 1);
    *COSTS[i].get_or_init(|| match i {
        0 => measure::<1>(),
        1 => measure::<2>(),
        2 => measure::<4>(),
        3 => measure::<8>(),
        4 => measure::<16>(),
        _ => measure::<32>(),
    })
}

/// The tier of an edge carrying records of `size` bytes under `policy`, and the figures
/// behind the choice (`None` when forced).
pub fn choose(policy: Tiers, size: usize) -> (Tier, Option<EdgeCost>) {
    match policy {
        Tiers::AllL4 => (Tier::L4, None),
        Tiers::AllL3 => (Tier::L3, None),
        Tiers::Model => {
            let c = edge_cost(size);
            let tier = if c.l3_ns < 0.95 * c.l4_ns {
                Tier::L3
            } else {
                Tier::L4
            };
            (tier, Some(c))
        }
    }
}

struct Sink(u64);

impl<const N: usize> Emit<[u64; N]> for Sink {
    #[inline(always)]
    fn emit(&mut self, _ts: EventTime, x: [u64; N]) -> Result<(), OperatorError> {
        self.0 = self.0.wrapping_add(x[N - 1]);
        Ok(())
    }
}

/// A cheap operator (one add) on both sides of the calibrated edge, so the edge's own cost
/// dominates.
#[derive(Debug, Clone, Copy)]
struct Bump;

impl<const N: usize> Operator<[u64; N]> for Bump {
    type Out = [u64; N];
    #[inline(always)]
    fn process<E: Emit<[u64; N]>>(
        &mut self,
        ts: EventTime,
        mut x: [u64; N],
        out: &mut E,
    ) -> Result<(), OperatorError> {
        x[0] = x[0].wrapping_add(1);
        out.emit(ts, x)
    }
}

fn run<const N: usize>(tier: Tier) -> f64 {
    let mut edge: Then<Bump, Bump, [u64; N]> = Then::new(Bump, Bump);
    edge.set_tier(tier, BATCH);
    let mut sink = Sink(0);
    let t = Instant::now();
    for i in 0..RECORDS {
        let x = std::hint::black_box([i as u64; N]);
        if edge.process(i as EventTime, x, &mut sink).is_err() {
            unreachable!("the calibration operators do not fail");
        }
    }
    if edge.flush(&mut sink).is_err() {
        unreachable!("the calibration operators do not fail");
    }
    let ns = t.elapsed().as_nanos() as f64 / RECORDS as f64;
    std::hint::black_box(sink.0);
    ns
}

fn measure<const N: usize>() -> EdgeCost {
    let (mut l4, mut l3) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        l4 = l4.min(run::<N>(Tier::L4));
        l3 = l3.min(run::<N>(Tier::L3));
    }
    EdgeCost {
        bytes: N * 8,
        l4_ns: l4,
        l3_ns: l3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::Named;
    use crate::state::Snapshot;
    use std::sync::Arc;

    /// A stateful operator: adds its running sum to each record and registers the sum.
    #[derive(Debug, Clone, Default)]
    struct Acc(i64);

    impl Operator<i64> for Acc {
        type Out = i64;
        fn process<E: Emit<i64>>(
            &mut self,
            ts: EventTime,
            x: i64,
            out: &mut E,
        ) -> Result<(), OperatorError> {
            self.0 += x;
            out.emit(ts, x + self.0)
        }
        fn state(&mut self, state: &mut dyn StateVisitor) {
            state.visit("sum", &mut self.0);
        }
    }

    struct Out(Vec<i64>);
    impl Emit<i64> for Out {
        fn emit(&mut self, _: EventTime, x: i64) -> Result<(), OperatorError> {
            self.0.push(x);
            Ok(())
        }
    }

    fn named(id: u32, name: &str) -> Named<Acc> {
        Named {
            id: crate::error::OperatorId(id),
            name: Arc::from(name),
            op: Acc::default(),
        }
    }

    type Three = Then<Then<Named<Acc>, Named<Acc>, i64>, Named<Acc>, i64>;

    fn three() -> Three {
        Then::new(Then::new(named(1, "a"), named(2, "b")), named(3, "c"))
    }

    #[test]
    fn a_chain_of_three_stateful_operators_snapshots_and_restores_all_three() {
        for tier in [Tier::L4, Tier::L3] {
            let mut whole = three();
            whole.set_tier(tier, 4);
            whole.a.set_tier(tier, 4);
            let mut out = Out(Vec::new());
            for x in 1..=10 {
                whole.process(x, x, &mut out).unwrap();
            }
            whole.flush(&mut out).unwrap();
            let snap = Snapshot::capture(|v| whole.state(v));
            // One piece per member, under its own id.
            assert_eq!(snap.len(), 3);
            let ops: Vec<_> = snap
                .operators()
                .map(|(id, n)| (id.0, n.to_owned()))
                .collect();
            assert_eq!(ops, [(1, "a".into()), (2, "b".into()), (3, "c".into())]);
            for x in 11..=20 {
                whole.process(x, x, &mut out).unwrap();
            }
            whole.flush(&mut out).unwrap();
            // A fresh chain restored from the snapshot goes on exactly as the original did.
            let mut resumed = three();
            resumed.set_tier(tier, 4);
            resumed.a.set_tier(tier, 4);
            snap.restore(|v| resumed.state(v)).unwrap();
            let mut again = Out(Vec::new());
            for x in 11..=20 {
                resumed.process(x, x, &mut again).unwrap();
            }
            resumed.flush(&mut again).unwrap();
            assert_eq!(again.0, out.0[10..], "{tier:?}");
            // A snapshot missing a member, or with a member the chain lacks, is refused.
            let two = Snapshot::capture(|v| whole.a.state(v));
            assert_eq!(
                two.restore(|v| three().state(v)),
                Err(lute_core::StateError::Missing(crate::error::OperatorId(3)))
            );
            assert_eq!(
                snap.restore(|v| three().a.state(v)),
                Err(lute_core::StateError::UnknownOperator(
                    crate::error::OperatorId(3)
                ))
            );
        }
    }

    #[test]
    fn forced_tiers_are_obeyed_and_the_model_reports_its_figures() {
        assert_eq!(choose(Tiers::AllL4, 8), (Tier::L4, None));
        assert_eq!(choose(Tiers::AllL3, 8), (Tier::L3, None));
        let (tier, cost) = choose(Tiers::Model, 24);
        let c = cost.expect("the model measures");
        assert_eq!(c.bytes, 32, "24-byte records use the 32-byte class");
        assert!(c.l4_ns > 0.0 && c.l3_ns > 0.0);
        assert_eq!(tier == Tier::L3, c.l3_ns < 0.95 * c.l4_ns);
        assert_eq!(edge_cost(24), c, "calibrated once per class");
    }
}
