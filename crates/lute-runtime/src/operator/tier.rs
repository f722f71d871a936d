//! Operator tiers and the cost model that picks them (the measurement lives with the edge it
//! measures, in [`super::chain`]).
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
//! go to L4. [`crate::api::Plan::explain`] prints, for every edge, the tier and the two figures
//! behind it. `Config::tiers` can force every edge to one tier (the benchmark compares all
//! three).

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
