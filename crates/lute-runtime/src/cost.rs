//! Operator tiers and the cost model that picks them.
//!
//! Every edge between two operators of a chain (`a -> b` inside one stage) runs in one of two
//! tiers, chosen when the job starts:
//!
//! - [`Tier::L4`]: fused: `a` calls `b` directly for each record, one monomorphized function,
//!   no virtual call and no buffer.
//! - [`Tier::L3`]: a type-erased boundary: `a`'s output is materialized in a batch buffer and
//!   handed to `b` through one dynamic call (`&mut dyn`) per batch, as between stages.
//!
//! Edges between stages (exchanges) are always L3: types and partitioning require it.
//!
//! # The cost model
//!
//! The constants are measured, not guessed: the first time a record size class (8, 16, 32, 64,
//! 128 or 256 bytes and more) is needed, the runtime times the same two-operator edge type as
//! the jobs use (`Then`), in both tiers, over 16 384 records of that size, keeping the fastest
//! of 5 runs; it takes a few milliseconds per size class once per process. The model picks L3
//! for an edge only if the measured L3 cost per record is at least 5 % below the L4 cost; ties
//! go to L4. [`crate::job::Plan::explain`] prints, for every edge, the tier and the two figures
//! behind it. `Config::tiers` can force every edge to one tier (the benchmark compares all
//! three).

use crate::error::OperatorError;
use crate::operator::{Emit, EventTime, Operator, Then};
use std::sync::OnceLock;
use std::time::Instant;

/// How a job's intra-stage edges get their tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tiers {
    /// The cost model chooses per edge (module docs).
    #[default]
    Model,
    /// Every edge fused (L4).
    AllL4,
    /// Every edge a type-erased batch boundary (L3).
    AllL3,
}

/// The tier of one edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tier {
    /// Fused: a direct, inlined call per record.
    #[default]
    L4,
    /// A materialized batch and one dynamic call per batch.
    L3,
}

/// Measured per-record cost of one edge in each tier, for records of `bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeCost {
    /// The size class measured (bytes per record).
    pub bytes: usize,
    /// Nanoseconds per record, fused.
    pub l4_ns: f64,
    /// Nanoseconds per record, materialized with a dynamic call per batch.
    pub l3_ns: f64,
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
