//! DABA Lite (Tangwongsan, Hirzel, Schneider, VLDBJ 2021): in-order sliding-window
//! aggregation in worst-case O(1) with n + 2 partials and only associativity.
//!
//! # Invariants
//!
//! Positions `head <= l <= r <= a <= b <= tail` split the queue:
//!
//! | range | item `i` holds |
//! |---|---|
//! | `head..l` | `v[i..b]` (finished front suffix aggregates) |
//! | `l..r` | `v[i..r]` (old front, still missing `mid = v[r..b]`) |
//! | `r..a` | raw partials of the old back |
//! | `a..b` | `v[i..b]` (old back, being turned into suffix aggregates right to left) |
//! | `b..tail` | raw partials of the new back, `back = v[b..tail]` |
//!
//! plus the balance conditions `|l..r| == |r..a|` and, when not empty,
//! `|l..b| + 1 == |head..b| − |b..tail|` (checked by [`DabaLite::check_invariants`]).
//!
//! Every insert or evict runs one *step*: when `l == b` it flips (pointer moves only: the back
//! becomes the front), then moves `a` one to the left (one combine) and `l` one to the right
//! (one combine). The balance condition makes the old front fully fixed up before the new front
//! runs out, so there is never a loop. Combine calls: insert ≤ 3, evict ≤ 2, query 1 (tested
//! with [`CountingOp`](crate::CountingOp)).

use crate::fifo::FifoAggregator;
use crate::monoid::Monoid;
use crate::store::{ChunkedStore, RingStore, Store};

/// DABA Lite on any [`Store`]; see [`DabaLite`].
#[derive(Debug, Clone)]
pub struct DabaLiteOn<M: Monoid, S> {
    op: M,
    q: S,
    l: usize,
    r: usize,
    a: usize,
    b: usize,
    /// `v[r..b]` for the front fix-up.
    mid: M::Agg,
    /// `v[b..tail]`.
    back: M::Agg,
}

/// DABA Lite on a power-of-two ring (the default).
pub type DabaLite<M> = DabaLiteOn<M, RingStore<<M as Monoid>::Agg>>;

/// DABA Lite on a chunked array queue.
pub type ChunkedDabaLite<M> = DabaLiteOn<M, ChunkedStore<<M as Monoid>::Agg>>;

impl<M: Monoid, S: Store<M::Agg>> DabaLiteOn<M, S> {
    /// An empty window.
    pub fn new(op: M) -> Self {
        Self::with_capacity(op, 16)
    }

    /// An empty window with room for `capacity` items before it allocates.
    pub fn with_capacity(op: M, capacity: usize) -> Self {
        let q = S::with_capacity(capacity, op.identity());
        let (mid, back) = (op.identity(), op.identity());
        Self {
            op,
            q,
            l: 0,
            r: 0,
            a: 0,
            b: 0,
            mid,
            back,
        }
    }

    /// Checks the pointer order and balance invariants (see the module docs).
    ///
    /// # Errors
    /// A description of the first violated invariant.
    pub fn check_invariants(&self) -> Result<(), String> {
        let (h, t) = (self.q.head(), self.q.tail());
        let (l, r, a, b) = (self.l, self.r, self.a, self.b);
        if !(h <= l && l <= r && r <= a && a <= b && b <= t) {
            return Err(format!("order: head={h} l={l} r={r} a={a} b={b} tail={t}"));
        }
        if r - l != a - r {
            return Err(format!("|l..r|={} != |r..a|={}", r - l, a - r));
        }
        if t != h && (b - l) + 1 != (b - h) - (t - b) {
            return Err(format!(
                "balance: |l..b|+1={} != |head..b|-|b..tail|={}",
                b - l + 1,
                (b - h) as isize - (t - b) as isize
            ));
        }
        Ok(())
    }

    // NB: always inlined into insert and evict: the call and the reloads of the pointers
    // cost more than the step itself (`windows` benchmark, W1 daba_lite).
    #[inline(always)]
    fn step(&mut self) {
        if self.l == self.b {
            // Flip: the back becomes the front; no combines.
            let head = self.q.head();
            self.l = head;
            self.r = self.b;
            self.a = self.q.tail();
            self.b = self.a;
            self.mid = std::mem::replace(&mut self.back, self.op.identity());
            if head == self.b {
                // Empty: reset the sums exactly.
                self.mid = self.op.identity();
                return;
            }
            // NB: only right after a flip can `head == b` hold (otherwise `head <= l < b`)
            // and only here does `a` start at `b`, past the last item: both special cases live
            // in this branch, so the common step tests neither (`windows` W1 daba_lite).
            if self.a != self.r {
                self.a -= 1;
            }
        } else if self.a != self.r {
            // `a` moves left, extending the old back's suffix aggregates.
            self.a -= 1;
            // NB: combine into a temporary rather than `with_pair`: no split borrow, fewer
            // branches (`windows` W1 daba_lite).
            let v = self.op.combine(self.q.get(self.a), self.q.get(self.a + 1));
            *self.q.get_mut(self.a) = v;
        }
        if self.l != self.r {
            // `l` moves right, finishing one old-front aggregate.
            self.op.combine_assign(self.q.get_mut(self.l), &self.mid);
            self.l += 1;
        } else {
            // The old front is done: `l`, `r` and `a` move together.
            self.l += 1;
            self.r += 1;
            self.a += 1;
            self.mid = if self.a != self.b {
                self.q.get(self.a).clone()
            } else {
                self.op.identity()
            };
        }
    }
}

impl<M: Monoid, S: Store<M::Agg>> FifoAggregator<M> for DabaLiteOn<M, S> {
    #[inline]
    fn op(&self) -> &M {
        &self.op
    }
    #[inline(always)]
    fn insert(&mut self, x: M::Agg) {
        self.op.combine_assign(&mut self.back, &x);
        self.q.push_back(x);
        self.step();
    }
    #[inline(always)]
    fn evict(&mut self) -> bool {
        if self.q.is_empty() {
            return false;
        }
        self.q.pop_front();
        self.step();
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
        self.q.bytes() + 2 * size_of::<M::Agg>()
    }
}
