//! Two-Stacks Lite (Tangwongsan, Hirzel, Schneider, VLDBJ 2021): amortized O(1), n + 1
//! partials.
//!
//! # Invariants
//!
//! The queue `head..tail` is split at `b`:
//! - front `head..b`: item `i` holds the aggregate of items `i..b` (suffix aggregates);
//! - back `b..tail`: raw partials, with `back` = their aggregate.
//!
//! `query = item[head] ⊕ back` (one combine). `insert` is one combine. `evict` pops the front;
//! when the front is empty it first *flips*: one backwards pass turns the back into suffix
//! aggregates (`tail − head − 1` combines), the O(n) worst case that DABA Lite removes. The
//! chunked variant ([`ChunkedTwoStacksLite`]) runs the same algorithm on a chunked array queue.

use crate::fifo::FifoAggregator;
use crate::monoid::Monoid;
use crate::store::{ChunkedStore, RingStore, Store};

/// Two-Stacks Lite on any [`Store`]; see [`TwoStacksLite`] and [`ChunkedTwoStacksLite`].
#[derive(Debug, Clone)]
pub struct TwoStacksLiteOn<M: Monoid, S> {
    op: M,
    q: S,
    /// Start of the back part; `head <= b <= tail`.
    b: usize,
    /// Aggregate of the back part `b..tail`.
    back: M::Agg,
}

/// Two-Stacks Lite on a power-of-two ring.
pub type TwoStacksLite<M> = TwoStacksLiteOn<M, RingStore<<M as Monoid>::Agg>>;

/// Two-Stacks Lite on a chunked array queue (the IBM reference's fastest in-order variant).
pub type ChunkedTwoStacksLite<M> = TwoStacksLiteOn<M, ChunkedStore<<M as Monoid>::Agg>>;

impl<M: Monoid, S: Store<M::Agg>> TwoStacksLiteOn<M, S> {
    /// An empty window.
    pub fn new(op: M) -> Self {
        Self::with_capacity(op, 16)
    }

    /// An empty window with room for `capacity` items before it allocates.
    pub fn with_capacity(op: M, capacity: usize) -> Self {
        let q = S::with_capacity(capacity, op.identity());
        let back = op.identity();
        Self { op, q, b: 0, back }
    }

    #[inline(never)]
    fn flip(&mut self) {
        let (head, tail) = (self.q.head(), self.q.tail());
        let op = &self.op;
        self.q
            .suffix_pass(head, tail, |older, suffix| op.combine_assign(older, suffix));
        self.b = tail;
        self.back = self.op.identity();
    }
}

impl<M: Monoid, S: Store<M::Agg>> FifoAggregator<M> for TwoStacksLiteOn<M, S> {
    #[inline]
    fn op(&self) -> &M {
        &self.op
    }
    #[inline]
    fn insert(&mut self, x: M::Agg) {
        self.op.combine_assign(&mut self.back, &x);
        self.q.push_back(x);
    }
    #[inline]
    fn evict(&mut self) -> bool {
        if self.q.is_empty() {
            return false;
        }
        if self.q.head() == self.b {
            self.flip();
        }
        self.q.pop_front();
        true
    }
    #[inline]
    fn query(&self) -> M::Agg {
        if self.q.head() == self.b {
            self.back.clone()
        } else {
            self.op.combine(self.q.get(self.q.head()), &self.back)
        }
    }
    #[inline]
    fn len(&self) -> usize {
        self.q.len()
    }
    fn storage_bytes(&self) -> usize {
        self.q.bytes() + size_of::<M::Agg>()
    }
}
