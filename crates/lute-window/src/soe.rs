//! Subtract-on-evict: the abelian-group framework.
//!
//! - [`SoeRing`] is the general out-of-order structure: a ring of `S` time-slot partials
//!   (slot `k` covers times `k·g .. (k+1)·g`, stored at `k mod S`) plus the running total `T`.
//!   Any event whose slot is live is inserted in worst-case O(1) whatever its lateness (one
//!   combine into the slot, one into `T`); eviction by time subtracts each expiring slot from
//!   `T` and resets it (one inverse per slot, O(slots) for a bulk evict however many events
//!   they hold, and a jump past the whole ring resets `T` to exactly the identity); query
//!   returns `T` in O(1).
//! - [`SoeFifo`] is the classic FIFO variant of the IBM reference (`sub_evict`): a queue of
//!   partials and `T`; evicting the oldest item subtracts it.
//!
//! Both require [`AbelianGroup`]: the inverse for eviction, commutativity for out-of-order
//! insertion. A compile-fail test proves that [`Max`](crate::ops::Max) is rejected.
//!
//! # Lateness semantics of [`SoeRing`]
//!
//! Live slots are `low .. low + S`, where `low` only grows (through [`SoeRing::evict_upto`]).
//! An event with time `t` in slot `k = ⌊t / g⌋`:
//! - `k < low` (its slot was evicted): rejected with [`Rejected::Late`] and counted — never
//!   folded into a slot that now means a different time;
//! - `k >= low + S` (it would alias a live slot): rejected with [`Rejected::Ahead`] and
//!   counted; the caller must evict first (a window of size `W` and lateness `L` needs
//!   `S·g >= W + L + g`);
//! - otherwise accepted. `accepted + late + ahead == offered` ([`SoeStats`]).
//!
//! Eviction is per slot: `evict_upto(t)` evicts every slot that lies entirely before `t`.

use crate::fifo::FifoAggregator;
use crate::monoid::AbelianGroup;
use crate::store::{RingStore, Store};

/// Why [`SoeRing::insert`] refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[must_use]
pub enum Rejected {
    /// The event's slot was already evicted (its time is before `horizon`).
    #[error("event at {t} is late: slots before time {horizon} are evicted")]
    Late {
        /// The event's time.
        t: i64,
        /// The earliest time still accepted.
        horizon: i64,
    },
    /// The event's slot is beyond the ring (its time is at or after `limit`).
    #[error("event at {t} is too far ahead: the ring ends at time {limit}")]
    Ahead {
        /// The event's time.
        t: i64,
        /// The first time past the ring.
        limit: i64,
    },
}

/// Counters of a [`SoeRing`]: `accepted + late + ahead` equals the events offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoeStats {
    /// Events inserted.
    pub accepted: u64,
    /// Events rejected as [`Rejected::Late`].
    pub late: u64,
    /// Events rejected as [`Rejected::Ahead`].
    pub ahead: u64,
}

/// Out-of-order subtract-on-evict over a ring of time-slot partials (see the
/// [module docs](self)).
///
/// # Examples
///
/// ```
/// use lute_window::{Lift, Rejected, SoeRing, ops::Sum};
/// // 8 slots of 1 time unit each.
/// let mut w = SoeRing::new(Sum, 8, 1);
/// w.insert(5, &Sum.lift(10)).unwrap();
/// w.insert(2, &Sum.lift(1)).unwrap(); // out of order: fine
/// w.evict_upto(3); // evicts times < 3
/// assert_eq!(*w.query(), 10);
/// assert!(matches!(w.insert(1, &1), Err(Rejected::Late { .. })));
/// assert_eq!(w.stats().late, 1);
/// ```
///
/// Only abelian groups are accepted: a non-invertible operator such as `Max` does not compile
/// (also checked by the trybuild test `tests/compile_fail.rs`).
///
/// ```compile_fail,E0277
/// use lute_window::{SoeRing, ops::Max};
/// let _ = SoeRing::new(Max::<i64>::new(), 16, 1);
/// ```
#[derive(Debug, Clone)]
pub struct SoeRing<G: AbelianGroup> {
    op: G,
    /// Slot partials; `slots.len()` is a power of two. Slot `k` lives at `k & (len - 1)` while
    /// `low <= k < low + len`; every other entry is the identity.
    slots: Box<[G::Agg]>,
    /// log2 of the slot width `g`.
    shift: u32,
    /// First live slot index.
    low: i64,
    /// Aggregate of all live slots.
    total: G::Agg,
    stats: SoeStats,
}

impl<G: AbelianGroup> SoeRing<G> {
    /// A ring of at least `slots` slots (rounded up to a power of two) of width `granularity`
    /// time units (rounded up to a power of two), starting at time 0.
    ///
    /// # Panics
    /// If `slots` or `granularity` is zero or too large to round up to a power of two.
    pub fn new(op: G, slots: usize, granularity: u64) -> Self {
        Self::starting_at(op, slots, granularity, 0)
    }

    /// Like [`SoeRing::new`], with the first live slot containing time `start`.
    ///
    /// # Panics
    /// As for [`SoeRing::new`].
    pub fn starting_at(op: G, slots: usize, granularity: u64, start: i64) -> Self {
        assert!(slots > 0 && granularity > 0, "empty ring");
        let n = slots.checked_next_power_of_two().expect("too many slots");
        let g = granularity
            .checked_next_power_of_two()
            .expect("granularity too large");
        let shift = g.trailing_zeros();
        let slots = vec![op.identity(); n].into_boxed_slice();
        let total = op.identity();
        Self {
            op,
            slots,
            shift,
            low: start >> shift,
            total,
            stats: SoeStats::default(),
        }
    }

    /// The operator.
    pub fn op(&self) -> &G {
        &self.op
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Slot width in time units.
    pub fn granularity(&self) -> u64 {
        1 << self.shift
    }

    /// The earliest time still accepted (start of the oldest live slot).
    pub fn horizon(&self) -> i64 {
        self.low << self.shift
    }

    /// Counters of accepted and rejected events.
    pub fn stats(&self) -> SoeStats {
        self.stats
    }

    /// Inserts the partial `x` at time `t`: worst-case O(1), two combines.
    ///
    /// # Errors
    /// [`Rejected::Late`] if `t`'s slot was evicted, [`Rejected::Ahead`] if it lies beyond the
    /// ring. Rejected events change nothing but the counters.
    #[inline]
    pub fn insert(&mut self, t: i64, x: &G::Agg) -> Result<(), Rejected> {
        let k = t >> self.shift;
        let off = k.wrapping_sub(self.low) as u64;
        if off >= self.slots.len() as u64 {
            return Err(self.reject(t, k));
        }
        let i = (k as usize) & (self.slots.len() - 1);
        self.op.combine_assign(&mut self.slots[i], x);
        self.op.combine_assign(&mut self.total, x);
        self.stats.accepted += 1;
        Ok(())
    }

    #[cold]
    fn reject(&mut self, t: i64, k: i64) -> Rejected {
        if k < self.low {
            self.stats.late += 1;
            Rejected::Late {
                t,
                horizon: self.horizon(),
            }
        } else {
            self.stats.ahead += 1;
            Rejected::Ahead {
                t,
                limit: (self.low + self.slots.len() as i64) << self.shift,
            }
        }
    }

    /// Evicts every slot lying entirely before time `t`; returns how many slots were live and
    /// evicted. O(slots evicted), at most O(S): a jump past the whole ring resets everything,
    /// and `T` becomes exactly the identity.
    #[inline]
    pub fn evict_upto(&mut self, t: i64) -> usize {
        let target = t >> self.shift;
        if target <= self.low {
            return 0;
        }
        if target == self.low + 1 {
            // NB: the sliding case (one slot per step) without the loop (`windows` W1 soe_ring).
            let i = (self.low as usize) & (self.slots.len() - 1);
            let s = std::mem::replace(&mut self.slots[i], self.op.identity());
            self.op.uncombine_assign(&mut self.total, &s);
            self.low = target;
            return 1;
        }
        self.evict_slots(target)
    }

    fn evict_slots(&mut self, target: i64) -> usize {
        let n = self.slots.len();
        let k = (target - self.low) as u64;
        if k >= n as u64 {
            for s in self.slots.iter_mut() {
                *s = self.op.identity();
            }
            self.total = self.op.identity();
            self.low = target;
            return n;
        }
        let mask = n - 1;
        while self.low < target {
            let i = (self.low as usize) & mask;
            let s = std::mem::replace(&mut self.slots[i], self.op.identity());
            self.op.uncombine_assign(&mut self.total, &s);
            self.low += 1;
        }
        k as usize
    }

    /// The aggregate of all live slots: O(1).
    #[inline]
    pub fn query(&self) -> &G::Agg {
        &self.total
    }

    /// The partial of the slot containing time `t`, if that slot is live.
    pub fn slot(&self, t: i64) -> Option<&G::Agg> {
        let k = t >> self.shift;
        let off = k.wrapping_sub(self.low) as u64;
        (off < self.slots.len() as u64).then(|| &self.slots[(k as usize) & (self.slots.len() - 1)])
    }

    /// Bytes of slot storage.
    pub fn storage_bytes(&self) -> usize {
        self.slots.len() * size_of::<G::Agg>()
    }
}

/// FIFO subtract-on-evict (the IBM reference's `sub_evict`): a queue of partials and their
/// total; evict subtracts the oldest. Worst-case O(1): one combine per insert, one inverse per
/// evict, none per query.
///
/// ```compile_fail,E0277
/// use lute_window::{SoeFifo, ops::Max};
/// let _ = SoeFifo::new(Max::<i64>::new()); // Max has no inverse
/// ```
#[derive(Debug, Clone)]
pub struct SoeFifo<G: AbelianGroup> {
    op: G,
    q: RingStore<G::Agg>,
    total: G::Agg,
}

impl<G: AbelianGroup> SoeFifo<G> {
    /// An empty window.
    pub fn new(op: G) -> Self {
        Self::with_capacity(op, 16)
    }

    /// An empty window with room for `capacity` items before it allocates.
    pub fn with_capacity(op: G, capacity: usize) -> Self {
        let q = RingStore::with_capacity(capacity, op.identity());
        let total = op.identity();
        Self { op, q, total }
    }

    /// The total without copying it.
    #[inline]
    pub fn total(&self) -> &G::Agg {
        &self.total
    }
}

impl<G: AbelianGroup> FifoAggregator<G> for SoeFifo<G> {
    #[inline]
    fn op(&self) -> &G {
        &self.op
    }
    #[inline]
    fn insert(&mut self, x: G::Agg) {
        self.op.combine_assign(&mut self.total, &x);
        self.q.push_back(x);
    }
    #[inline]
    fn evict(&mut self) -> bool {
        if self.q.is_empty() {
            return false;
        }
        let h = self.q.head();
        self.op.uncombine_assign(&mut self.total, self.q.get(h));
        self.q.pop_front();
        if self.q.is_empty() {
            // Exactly the identity again, whatever rounding happened.
            self.total = self.op.identity();
        }
        true
    }
    #[inline]
    fn query(&self) -> G::Agg {
        self.total.clone()
    }
    #[inline]
    fn len(&self) -> usize {
        self.q.len()
    }
    fn storage_bytes(&self) -> usize {
        self.q.bytes() + size_of::<G::Agg>()
    }
}
