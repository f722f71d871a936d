//! Sliding-window aggregation for NacreousLute: abelian-group and monoid frameworks, and the
//! window layer (tumbling, sliding, session and count windows) on top of them.
//!
//! A pure crate: no threads, no `unsafe`, no allocation per operation in steady state (storage
//! is preallocated and reused; `tests/alloc.rs` proves it with a counting allocator).
//!
//! # Operators
//!
//! [`Monoid`] (identity, `combine(older, newer)` with a fixed argument order, in-place
//! variants), [`AbelianGroup`] (adds the inverse; commutative), [`Lift`] (input value to
//! partial) and [`Lower`] (partial to result). Built-in aggregations are in [`ops`], including
//! non-commutative canaries and the compensated float sum with a documented drift bound.
//!
//! # Frameworks
//!
//! | structure | order | operator | cost per operation | module |
//! |---|---|---|---|---|
//! | [`SoeRing`] | out of order within the ring | [`AbelianGroup`] | worst O(1); evict O(slots) | [`soe`] |
//! | [`SoeFifo`] | FIFO | [`AbelianGroup`] | worst O(1) | [`soe`] |
//! | [`DabaLite`] | FIFO | [`Monoid`] | worst O(1): ≤ 3 combines per insert, ≤ 2 per evict, 1 per query | [`daba`] |
//! | [`TwoStacksLite`], [`ChunkedTwoStacksLite`] | FIFO | [`Monoid`] | amortized O(1), worst O(n) | [`two_stacks`] |
//! | [`Fiba`] | out of order, any lateness | [`Monoid`] | amortized O(log d) insert at distance d, amortized O(1) evict, bulk evict O(k), query 2 combines | [`fiba`] |
//! | [`Recalc`] | FIFO | [`Monoid`] | O(n) query (baseline and oracle) | [`fifo`] |
//!
//! The FIFO structures implement [`FifoAggregator`]; a round of the IBM harness is
//! `evict(); insert(x); query()`.
//!
//! # Time, watermarks and lateness
//!
//! Times are `i64`. A watermark `w` asserts that every later event has a time `>= w`; an event
//! with a time `< w` is *late*. A window covering `[start, end)` closes when the watermark
//! reaches `end`, and its result carries the timestamp `end − 1` (the last time it covers), so
//! the result is never late downstream of the watermark that closed it. Late events are never
//! silently folded into the wrong slot or window: every structure that can reject an event
//! returns a typed reason and counts it (see [`soe`] and [`window`]).
//!
//! # Where the details live
//!
//! - Invariants of each structure: the module docs of [`daba`] (pointer order and balance,
//!   checked by `DabaLite::check_invariants`), [`two_stacks`], [`soe`] (ring layout and
//!   lateness semantics) and [`fiba`] (spine aggregates, checked by `Fiba::check_invariants`).
//! - Float drift: [`ops`] (compensated sums, the bound, and the test that checks it).
//! - Storage without per-operation allocation: [`store`].
//! - Window semantics (slices, sessions, counts, late events): [`window`].

#![forbid(unsafe_code)]

pub mod daba;
pub mod fiba;
pub mod fifo;
pub mod monoid;
pub mod ops;
pub mod soe;
pub mod store;
pub mod two_stacks;
pub mod window;

pub use daba::{ChunkedDabaLite, DabaLite};
pub use fiba::Fiba;
pub use fifo::{FifoAggregator, Recalc};
pub use monoid::{AbelianGroup, CountingOp, Lift, Lower, Monoid};
pub use soe::{Rejected, SoeFifo, SoeRing, SoeStats};
pub use two_stacks::{ChunkedTwoStacksLite, TwoStacksLite};
