//! The in-order (FIFO) aggregator interface and the naive recompute baseline.

use crate::monoid::Monoid;
use crate::store::{RingStore, Store};

/// A sliding-window aggregator over a FIFO of partial aggregates: items are inserted at the
/// newest end and evicted from the oldest end, and `query` returns their aggregate combined
/// oldest first.
///
/// One IBM-harness *round* is `evict(); insert(x); query()`.
///
/// # Examples
///
/// ```
/// use lute_window::{DabaLite, FifoAggregator, ops::Sum};
/// let mut w = DabaLite::new(Sum);
/// for x in 1..=4 {
///     w.insert(x);
/// }
/// w.evict();
/// assert_eq!(w.query(), 2 + 3 + 4);
/// assert_eq!(w.len(), 3);
/// ```
pub trait FifoAggregator<M: Monoid> {
    /// The operator.
    fn op(&self) -> &M;
    /// Appends the (already lifted) partial `x` as the newest item.
    fn insert(&mut self, x: M::Agg);
    /// Removes the oldest item; returns `false` (and does nothing) when empty.
    fn evict(&mut self) -> bool;
    /// The aggregate of all items, oldest first (the identity when empty).
    fn query(&self) -> M::Agg;
    /// Number of items.
    fn len(&self) -> usize;
    /// Whether there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Evicts up to `k` oldest items; returns how many were evicted. Equal to `k` single
    /// evictions (tested).
    fn bulk_evict(&mut self, k: usize) -> usize {
        let mut n = 0;
        while n < k && self.evict() {
            n += 1;
        }
        n
    }
    /// Bytes of item storage held (for bytes-per-item reports).
    fn storage_bytes(&self) -> usize;
}

/// Naive recompute: keeps the items and folds them all on every query (O(n) per query). The
/// oracle of the tests and the baseline of the benchmark.
#[derive(Debug, Clone)]
pub struct Recalc<M: Monoid> {
    op: M,
    items: RingStore<M::Agg>,
}

impl<M: Monoid> Recalc<M> {
    /// An empty window.
    pub fn new(op: M) -> Self {
        Self::with_capacity(op, 16)
    }
    /// An empty window with room for `capacity` items.
    pub fn with_capacity(op: M, capacity: usize) -> Self {
        let items = RingStore::with_capacity(capacity, op.identity());
        Self { op, items }
    }
}

impl<M: Monoid> FifoAggregator<M> for Recalc<M> {
    fn op(&self) -> &M {
        &self.op
    }
    fn insert(&mut self, x: M::Agg) {
        self.items.push_back(x);
    }
    fn evict(&mut self) -> bool {
        if self.items.is_empty() {
            return false;
        }
        self.items.pop_front();
        true
    }
    fn query(&self) -> M::Agg {
        let mut acc = self.op.identity();
        for p in self.items.head()..self.items.tail() {
            self.op.combine_assign(&mut acc, self.items.get(p));
        }
        acc
    }
    fn len(&self) -> usize {
        self.items.len()
    }
    fn storage_bytes(&self) -> usize {
        self.items.bytes()
    }
}
