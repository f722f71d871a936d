//! A bounded single-producer single-consumer ring: the primary fast path.
//!
//! # Layout
//!
//! `head` (next index to read, written only by the [`Consumer`]) and `tail` (next index to
//! write, written only by the [`Producer`]) live on separate cache lines (`CachePadded`, 128
//! bytes on x86-64, which also defeats the adjacent-line prefetcher). Indices grow without
//! bound (wrapping `usize`) and are mapped to slots with `index & mask`, so `tail - head` is
//! the fill level and full/empty need no extra flag. Each end keeps a private copy of its own
//! index and a *cached* copy of the other end's index, and reads the shared copy only when the
//! cached one says full (producer) or empty (consumer), or, for a batch, shows less room or
//! fewer items than the batch needs. In steady state an end touches the other end's cache line
//! once per lap, not once per item.
//!
//! # Lazy release
//!
//! [`Consumer::try_pop`] does not publish `head` after every pop: it publishes when `head`
//! reaches a multiple of the *release interval* (a power of two, `capacity / 16` by default,
//! see [`channel_releasing`]), and whenever it finds the ring empty. Every other consumer
//! operation that frees slots (the batch pops, [`Consumer::pop`], [`Consumer::wake_producer`],
//! [`Consumer::peek`] on an empty ring, drop) publishes at once. So the producer may see up to
//! `release - 1` fewer free slots than there are, and only while the consumer is busy with a
//! non-empty ring. That is what keeps single-item throughput up when the producer is faster:
//! with the ring full, a consumer that published every pop would hand the producer one slot at
//! a time, and the `head` cache line would cross between the cores once per item; with lazy
//! release it crosses once per `release` items. When the producer sees the ring full, at least
//! `capacity - release + 1 >= 1` items are unread, so a consumer that keeps popping reaches the
//! next release point, and an idle consumer (one that found the ring empty) has released
//! everything. A consumer that stops popping a *non-empty* ring while it waits for something
//! else must release first ([`Consumer::wake_producer`]) or use interval 1: otherwise the
//! producer may face a full ring until the consumer pops again, a deadlock if the consumer
//! waits on that producer. [`crate::fan_in`] (whose merge waits on one input while another
//! holds items) and the runtime's exchange links use interval 1.
//!
//! # Memory orders (audit)
//!
//! | operation | order | happens-before edge |
//! |---|---|---|
//! | producer: store `tail` after writing slots | Release | slot writes → consumer's Acquire load of `tail` → slot reads |
//! | consumer: load `tail` | Acquire | pairs with the store above |
//! | consumer: store `head` after reading slots (lazily for `try_pop`, see below) | Release | slot reads → producer's Acquire load of `head` → slot overwrites (no write-after-read race); a later store covers the reads of every earlier pop |
//! | producer: load `head` | Acquire | pairs with the store above |
//! | own index loads | none (private copy) | an end never loads its own shared index |
//! | store `*_alive = false` on drop | Release | the dropped end's last publish → the peer's Acquire load of the flag |
//! | load peer's `*_alive` | Acquire | pairs with the store above; the consumer re-reads `tail` after seeing the producer gone so no item is lost |
//!
//! No `SeqCst` and no read-modify-write on this path. The blocking operations
//! ([`Producer::push`], [`Consumer::pop`]) additionally use the notifier's `SeqCst` fence
//! (see [`crate::wait`]); `try_*` operations never do.
//!
//! Batch operations ([`Producer::push_slice`], [`Producer::push_slice_all`],
//! [`Producer::push_iter`], [`Producer::push_with`], [`Consumer::pop_slice`],
//! [`Consumer::pop_batch`], [`Consumer::pop_slices`]) write or read a contiguous run of slots
//! (two runs when they wrap) and publish the index once. `push_with` and `pop_slices` work in
//! place, without an intermediate buffer.
//!
//! # Performance notes
//!
//! Measured with the `channels` benchmark (BENCHMARKS.md, "Channels"):
//! - An end never hands its own address to an out-of-line function: the cold error paths take
//!   the shared state, and `Drop` is a small inline function whose `Arc` release happens out
//!   of line (`hang_up`). Otherwise a caller that owns the end across a push or pop loop must
//!   keep `tail`/`cached_head` (`head`/`cached_tail`) in memory, a store and a reload per item;
//!   with this rule they stay in registers and the single-item loop is the same handful of
//!   instructions as rtrb's.
//! - Throughput depends on where the ring runs, more than on instruction counts. When the
//!   consumer keeps up (the ring nearly empty), it reads each slot right after the producer
//!   wrote it, so the slot line and the `tail` line cross between the cores once per item (or
//!   per batch). When the producer is faster (the ring full), a consumer that released every
//!   slot at once would make the `head` line cross once per item; lazy release makes that once
//!   per release interval. On the 2-core benchmark machine, single-item throughput went from
//!   239–275 to 327–351 M msgs/s (interval 64 of 1024; rtrb, which releases every pop, 259–280
//!   in the same rounds). The machine's host also moves the two vCPUs between a near and a far
//!   placement (core-to-core round trip ~120 vs ~440 ns), which changes every figure 3–4×; the
//!   `channels` benchmark tags each measurement with the placement it ran in.
//! - Batch producers should push whole batches ([`Producer::push_slice_all`],
//!   [`Producer::push_with`]) rather than whatever fits: when the ring runs full, pushing
//!   partial runs trails the consumer slot by slot.
//!
//! # Examples
//!
//! ```
//! use lute_sync::spsc;
//! let (mut tx, mut rx) = spsc::channel::<u64>(4).unwrap();
//! tx.try_push(1).unwrap();
//! assert_eq!(tx.push_slice(&[2, 3, 4, 5]), 3); // one slot was taken
//! assert_eq!(rx.try_pop(), Ok(1));
//! let mut out = [0; 8];
//! assert_eq!(rx.pop_slice(&mut out), 3);
//! assert_eq!(&out[..3], &[2, 3, 4]);
//! ```

use crate::CapacityError;
use crate::error::{PopError, PushError, check_capacity};
use crate::primitive::{Arc, AtomicBool, AtomicUsize, Ordering, PUBLISH, UnsafeCell};
use crate::wait::{Notifier, WaitStrategy};
use crossbeam_utils::CachePadded;
use std::mem::{ManuallyDrop, MaybeUninit};

/// State shared by the two ends.
struct Shared<T> {
    /// Next index the consumer reads. Written only by the consumer (Release); read by the
    /// producer (Acquire) when its cached copy says full.
    head: CachePadded<AtomicUsize>,
    /// Next index the producer writes. Written only by the producer (Release); read by the
    /// consumer (Acquire) when its cached copy says empty. Invariant: `tail - head <= capacity`.
    tail: CachePadded<AtomicUsize>,
    /// Read-only after construction: `capacity - 1` (capacity is a power of two).
    mask: usize,
    /// Slot `i & mask` holds an initialised value iff `head <= i < tail`.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
    /// Cold: lifecycle flags and the notifiers of the blocking operations.
    cold: CachePadded<Cold>,
}

struct Cold {
    producer_alive: AtomicBool,
    consumer_alive: AtomicBool,
    /// Woken when items are published (consumers blocked on empty wait here). Shared with a
    /// [`crate::fan_in::FanIn`] that waits on several rings.
    not_empty: Arc<Notifier>,
    /// Woken when slots are freed (a producer blocked on full waits here).
    not_full: Notifier,
}

impl<T> Shared<T> {
    /// The cell of slot `index & mask`; its contents may be touched only under the ownership
    /// rules of the module docs.
    #[inline(always)]
    fn slot(&self, index: usize) -> &UnsafeCell<MaybeUninit<T>> {
        // SAFETY: `index & mask < capacity == slots.len()`.
        unsafe { self.slots.get_unchecked(index & self.mask) }
    }

    /// Raw pointer to slot `start` (not masked: `start < capacity`), derived from the whole
    /// slot slice so that it may address a contiguous run of slots (Miri's aliasing model
    /// rejects a run addressed through one slot's cell).
    #[cfg(not(loom))]
    #[inline(always)]
    fn run_ptr(&self, start: usize) -> *mut T {
        debug_assert!(start <= self.mask);
        // SAFETY: `start < capacity`, in bounds of the allocation. All bytes of the slice are
        // inside `UnsafeCell`s (repr(transparent)) and `MaybeUninit<T>` has `T`'s layout, so
        // the pointer may be used to write or read `T`s under the protocol's ownership rules.
        unsafe { self.slots.as_ptr().add(start).cast::<T>().cast_mut() }
    }
}

/// Cache line size assumed by the prefetch hints.
#[cfg(all(not(loom), target_arch = "x86_64"))]
const LINE: usize = 64;
/// Most cache lines one prefetch hint covers (bounds its cost for large batches).
#[cfg(all(not(loom), target_arch = "x86_64"))]
const PREFETCH_LINES: usize = 16;

impl<T> Shared<T> {
    /// Hints the CPU to start fetching the cache lines of slots `from .. from + len` (indices,
    /// masked) for reading, one hint per line, at most 16 lines. Only a hint: it
    /// never faults and changes no value, so no ownership rule applies; a no-op off x86-64 and
    /// under loom.
    ///
    /// The batch pops call it for the published slots *after* the run they read (never a slot
    /// the producer may still be writing): their lines then cross from the producer's core
    /// while the current run is processed, instead of when it is touched. Measured on the
    /// in-place batch row: ~1.3x (BENCHMARKS.md, channels, session 4). The same hint on the
    /// producer side (`prefetchw` of free slots) made no difference and is not used.
    #[inline(always)]
    #[cfg_attr(any(loom, not(target_arch = "x86_64")), allow(unused_variables))]
    fn prefetch(&self, from: usize, len: usize) {
        #[cfg(all(not(loom), target_arch = "x86_64"))]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let step = (LINE / std::mem::size_of::<T>().max(1)).max(1);
            let mut k = 0;
            let mut lines = 0;
            while k < len && lines < PREFETCH_LINES {
                let p = self.run_ptr(from.wrapping_add(k) & self.mask).cast::<i8>();
                // SAFETY: SSE is part of the x86-64 baseline, so the target feature the
                // intrinsic asks for is always present; a prefetch never faults, and `p` is in
                // bounds of the slot slice anyway (masked index).
                unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
                k += step;
                lines += 1;
            }
        }
    }
}

/// An end's private view of the slot array: base pointer and mask copied out of `Shared`, so
/// the hot path addresses a slot with one `and` and one `add`, with no pointer chase through
/// the `Arc` (the compiler keeps both in registers across a loop, since `&mut self` is unique).
struct View<T> {
    #[cfg(not(loom))]
    base: *mut T,
    #[cfg(not(loom))]
    mask: usize,
    _owns: std::marker::PhantomData<T>,
}

impl<T> View<T> {
    #[cfg_attr(loom, allow(unused_variables))]
    fn new(shared: &Shared<T>) -> Self {
        Self {
            #[cfg(not(loom))]
            base: shared.run_ptr(0),
            #[cfg(not(loom))]
            mask: shared.mask,
            _owns: std::marker::PhantomData,
        }
    }

    /// Writes slot `index & mask`.
    ///
    /// # Safety
    /// The slot is free and owned by the calling producer (module docs).
    #[inline(always)]
    unsafe fn write(&self, _shared: &Shared<T>, index: usize, v: T) {
        #[cfg(not(loom))]
        // SAFETY: `index & mask < capacity`; `base` addresses the slot slice; the caller owns
        // the slot.
        unsafe {
            self.base.add(index & self.mask).write(v)
        };
        #[cfg(loom)]
        // SAFETY: as above, through loom's tracked cell.
        _shared.slot(index).with_mut(|p| unsafe { (*p).write(v) });
    }

    /// Moves the value out of slot `index & mask`.
    ///
    /// # Safety
    /// The slot is initialised and owned by the calling consumer, which treats it as free
    /// afterwards.
    #[inline(always)]
    unsafe fn read(&self, _shared: &Shared<T>, index: usize) -> T {
        #[cfg(not(loom))]
        // SAFETY: in bounds (masked); initialised and owned per the caller's contract.
        return unsafe { self.base.add(index & self.mask).read() };
        #[cfg(loom)]
        // SAFETY: as above, through loom's tracked cell.
        _shared
            .slot(index)
            .with(|p| unsafe { (*p).assume_init_read() })
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Both ends are gone (this is the last Arc) and each published its final index in its
        // own Drop, so [head, tail) is exactly the set of initialised slots.
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        let mut i = head;
        while i != tail {
            // SAFETY: slots in [head, tail) are initialised and no longer shared.
            self.slot(i)
                .with_mut(|p| unsafe { (*p).assume_init_drop() });
            i = i.wrapping_add(1);
        }
    }
}

// SAFETY: values of `T` move from the producer's thread to the consumer's, so `T: Send` is
// required and sufficient; each slot is accessed by one end at a time (module docs).
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above: the shared state is only touched through the two ends' protocol.
unsafe impl<T: Send> Sync for Shared<T> {}

// SAFETY: an end owns its side of the protocol; the raw pointer in its `View` addresses the
// `Arc`-owned slot slice that lives as long as the end. Values of `T` cross threads: `T: Send`.
unsafe impl<T: Send> Send for Producer<T> {}
// SAFETY: as for `Producer`.
unsafe impl<T: Send> Send for Consumer<T> {}

/// Largest supported ring capacity.
pub const MAX_CAPACITY: usize = 1 << 30;

/// Creates a ring of `capacity` slots (a power of two), pre-allocated.
///
/// # Errors
/// [`CapacityError`] if `capacity` is 0, not a power of two, or above [`MAX_CAPACITY`].
///
/// # Examples
/// ```
/// use lute_sync::{spsc, CapacityError};
/// assert!(spsc::channel::<u8>(8).is_ok());
/// assert_eq!(spsc::channel::<u8>(6).err(), Some(CapacityError::NotPowerOfTwo(6)));
/// ```
pub fn channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    channel_with_notifier(
        capacity,
        default_release(capacity),
        Arc::new(Notifier::new()),
    )
}

/// [`channel`]'s release interval for `capacity`: `capacity / RELEASE_FRACTION`, at least 1.
pub(crate) fn default_release(capacity: usize) -> usize {
    (capacity / RELEASE_FRACTION).max(1)
}

/// The default release interval of [`channel`] is the capacity divided by this (at least 1).
pub const RELEASE_FRACTION: usize = 16;

/// Creates a ring of `capacity` slots whose consumer hands slots freed by [`Consumer::try_pop`]
/// back to the producer every `release` pops (see "Lazy release" in the module docs); `1`
/// releases after every pop, `capacity` after a whole lap. [`channel`] uses
/// `capacity / RELEASE_FRACTION`.
///
/// # Errors
/// [`CapacityError`] if `capacity` is invalid (as for [`channel`]), or
/// [`CapacityError::Release`] unless `release` is a power of two in `1..=capacity`.
///
/// # Examples
/// ```
/// use lute_sync::{spsc, CapacityError};
/// let (mut tx, mut rx) = spsc::channel_releasing::<u8>(4, 4).unwrap();
/// for i in 0..4 {
///     tx.try_push(i).unwrap();
/// }
/// assert_eq!(rx.try_pop(), Ok(0));
/// assert_eq!(tx.free_slots(), 0); // the freed slot is not released yet
/// rx.wake_producer(); // releases it (and wakes a producer parked in `push`)
/// assert_eq!(tx.free_slots(), 1);
/// assert_eq!(
///     spsc::channel_releasing::<u8>(4, 3).err(),
///     Some(CapacityError::Release { release: 3, capacity: 4 })
/// );
/// ```
pub fn channel_releasing<T>(
    capacity: usize,
    release: usize,
) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    channel_with_notifier(capacity, release, Arc::new(Notifier::new()))
}

pub(crate) fn channel_with_notifier<T>(
    capacity: usize,
    release: usize,
    not_empty: Arc<Notifier>,
) -> Result<(Producer<T>, Consumer<T>), CapacityError> {
    let capacity = check_capacity(capacity)?;
    if !release.is_power_of_two() || release > capacity {
        return Err(CapacityError::Release { release, capacity });
    }
    let slots = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(0)),
        tail: CachePadded::new(AtomicUsize::new(0)),
        mask: capacity - 1,
        slots,
        cold: CachePadded::new(Cold {
            producer_alive: AtomicBool::new(true),
            consumer_alive: AtomicBool::new(true),
            not_empty,
            not_full: Notifier::new(),
        }),
    });
    Ok((
        Producer {
            view: View::new(&shared),
            cap: capacity,
            shared: ManuallyDrop::new(shared.clone()),
            tail: 0,
            cached_head: 0,
        },
        Consumer {
            view: View::new(&shared),
            cap: capacity,
            shared: ManuallyDrop::new(shared),
            head: 0,
            cached_tail: 0,
            release_mask: release - 1,
        },
    ))
}

/// The writing end of an SPSC ring. Not `Clone`: exactly one producer exists.
pub struct Producer<T> {
    /// Released in `Drop` (by `hang_up`), not by drop glue: see the `NB` there.
    shared: ManuallyDrop<Arc<Shared<T>>>,
    view: View<T>,
    /// Copy of the capacity (read-only), kept next to the indices.
    cap: usize,
    /// Private copy of `shared.tail` (always equal to it after each operation returns).
    tail: usize,
    /// Last value of `shared.head` seen; `<=` the real head.
    cached_head: usize,
}

impl<T> std::fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("tail", &self.tail)
            .finish()
    }
}

impl<T> Producer<T> {
    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Free slots, refreshing the cached consumer index only if the cache says full. A lower
    /// bound: slots the consumer has read but not yet released (module docs, "Lazy release")
    /// are not counted.
    #[inline(always)]
    pub fn free_slots(&mut self) -> usize {
        let cap = self.cap;
        let mut free = cap - self.tail.wrapping_sub(self.cached_head);
        if free == 0 {
            // Acquire: pairs with the consumer's Release store of `head`: its reads of the
            // freed slots happen before we overwrite them.
            self.cached_head = self.shared.head.load(Ordering::Acquire);
            free = cap - self.tail.wrapping_sub(self.cached_head);
        }
        free
    }

    /// Free slots, always reading the consumer's current index (for batch sizing).
    #[inline]
    fn refresh_free(&mut self) -> usize {
        // Acquire: as in `free_slots`.
        self.cached_head = self.shared.head.load(Ordering::Acquire);
        self.cap - self.tail.wrapping_sub(self.cached_head)
    }

    /// Whether the consumer was dropped.
    pub fn is_abandoned(&self) -> bool {
        // Acquire: pairs with the consumer's Release store in its Drop.
        !self.shared.cold.consumer_alive.load(Ordering::Acquire)
    }

    #[inline(always)]
    fn publish(&mut self) {
        // Release (PUBLISH): the slot writes before this store happen before the consumer's
        // Acquire load of `tail` and so before its reads of those slots.
        self.shared.tail.store(self.tail, PUBLISH);
    }

    /// Pushes one value without waiting.
    ///
    /// # Errors
    /// [`PushError::Full`] when the ring is full, [`PushError::Disconnected`] when it is full
    /// and the consumer is gone (pushes into a ring whose consumer is gone succeed until it is
    /// full; check [`Producer::is_abandoned`] to stop earlier). The value is handed back.
    #[inline(always)]
    pub fn try_push(&mut self, value: T) -> Result<(), PushError<T>> {
        if self.free_slots() == 0 {
            return Err(Self::full_error(&self.shared, value));
        }
        // SAFETY: the slot at `tail` is free (tail - head < capacity) and only this producer
        // writes free slots.
        unsafe { self.view.write(&self.shared, self.tail, value) };
        self.tail = self.tail.wrapping_add(1);
        self.publish();
        Ok(())
    }

    /// The error for a full ring.
    ///
    /// NB: kept out of line so the hot loop stays small, and given the shared state rather
    /// than `&self`, so that `self` never escapes the caller's loop and its indices stay in
    /// registers (an out-of-line `&self` pins them to the stack: a store and a reload per
    /// item). See the `channels` benchmark (`ours_single`).
    #[cold]
    #[inline(never)]
    fn full_error(shared: &Shared<T>, value: T) -> PushError<T> {
        // Acquire: pairs with the consumer's Release store in its Drop.
        if !shared.cold.consumer_alive.load(Ordering::Acquire) {
            PushError::Disconnected(value)
        } else {
            PushError::Full(value)
        }
    }

    /// Pushes as many values of `items` as fit, publishing once; returns how many.
    #[inline]
    pub fn push_slice(&mut self, items: &[T]) -> usize
    where
        T: Copy,
    {
        let n = self.free_for(items.len()).min(items.len());
        if n == 0 {
            return 0;
        }
        self.write_at_tail(&items[..n]);
        n
    }

    /// Pushes all of `items`, publishing once, if they all fit; otherwise pushes nothing and
    /// returns `false`.
    ///
    /// A producer that waits for room for its whole batch, rather than pushing whatever fits
    /// ([`Producer::push_slice`]), keeps its batches whole when the ring runs full: it then
    /// writes only slots the consumer left a batch ago, instead of trailing the consumer slot
    /// by slot in small runs that share cache lines with it.
    ///
    /// # Examples
    /// ```
    /// use lute_sync::spsc;
    /// let (mut tx, mut rx) = spsc::channel::<u8>(4).unwrap();
    /// assert!(tx.push_slice_all(&[1, 2, 3]));
    /// assert!(!tx.push_slice_all(&[4, 5])); // one slot free: nothing pushed
    /// assert_eq!(rx.try_pop(), Ok(1));
    /// assert!(tx.push_slice_all(&[4, 5]));
    /// ```
    #[inline]
    pub fn push_slice_all(&mut self, items: &[T]) -> bool
    where
        T: Copy,
    {
        if self.free_for(items.len()) < items.len() {
            return false;
        }
        if !items.is_empty() {
            self.write_at_tail(items);
        }
        true
    }

    /// Free slots, reading the consumer's index only if the cached one shows fewer than `want`.
    #[inline(always)]
    fn free_for(&mut self, want: usize) -> usize {
        let free = self.cap - self.tail.wrapping_sub(self.cached_head);
        if free >= want {
            free
        } else {
            self.refresh_free()
        }
    }

    /// Writes `items` (non-empty, at most the free slots) at `tail`, in one run or two when
    /// they wrap, and publishes once.
    #[inline(always)]
    fn write_at_tail(&mut self, items: &[T])
    where
        T: Copy,
    {
        let n = items.len();
        debug_assert!(n > 0 && n <= self.cap - self.tail.wrapping_sub(self.cached_head));
        let start = self.tail & (self.cap - 1);
        let first = n.min(self.cap - start);
        self.write_run(start, &items[..first]);
        if first < n {
            self.write_run(0, &items[first..]);
        }
        self.tail = self.tail.wrapping_add(n);
        self.publish();
    }

    #[inline(always)]
    fn write_run(&self, start: usize, items: &[T])
    where
        T: Copy,
    {
        #[cfg(not(loom))]
        {
            // NB: one memcpy per contiguous run; see the `channels` benchmark (batched).
            let base = self.shared.run_ptr(start);
            // SAFETY: slots [start, start + len) are free, contiguous (the caller splits at
            // the end of the buffer), owned by this producer; `UnsafeCell<MaybeUninit<T>>` has
            // the layout of `T`; `items` does not overlap the ring.
            unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), base, items.len()) };
        }
        #[cfg(loom)]
        for (i, v) in items.iter().enumerate() {
            // SAFETY: as above, slot by slot so loom tracks each access.
            self.shared
                .slot(start + i)
                .with_mut(|p| unsafe { (*p).write(*v) });
        }
    }

    /// Pushes values from `iter` into the free slots, publishing once; returns how many.
    /// Takes no more items from `iter` than there are free slots, so nothing is lost.
    pub fn push_iter<I: Iterator<Item = T>>(&mut self, iter: &mut I) -> usize {
        // Read the consumer's index only if the cache shows less room than `iter` needs.
        let free = self.free_for(iter.size_hint().0.max(1));
        let mut n = 0;
        while n < free {
            let Some(v) = iter.next() else { break };
            // SAFETY: slot `tail` is free (n < free) and owned by this producer. `self.tail`
            // advances per item so a panic in `iter` leaves no written slot unaccounted: Drop
            // publishes `self.tail`.
            unsafe { self.view.write(&self.shared, self.tail, v) };
            self.tail = self.tail.wrapping_add(1);
            n += 1;
        }
        if n > 0 {
            self.publish();
        }
        n
    }

    /// Pushes `n` values made by `f(0), f(1), ..., f(n - 1)` straight into the ring's slots,
    /// publishing once, if `n` slots are free; otherwise does not call `f` and returns `false`.
    ///
    /// No intermediate buffer: a simple `f` (e.g. `|j| first + j as u64`) compiles to a
    /// vectorised fill of the slots. If `f` panics, the values it already made are published
    /// (by `Drop` or the next push), none is lost or leaked.
    ///
    /// # Examples
    /// ```
    /// use lute_sync::spsc;
    /// let (mut tx, mut rx) = spsc::channel::<u64>(4).unwrap();
    /// assert!(tx.push_with(3, |j| 10 + j as u64));
    /// assert!(!tx.push_with(2, |_| unreachable!())); // only one slot free
    /// let sum = rx.pop_slices(8, |a, b| a.iter().chain(b).sum::<u64>());
    /// assert_eq!(sum, 33);
    /// ```
    #[inline]
    pub fn push_with(&mut self, n: usize, mut f: impl FnMut(usize) -> T) -> bool {
        if self.free_for(n) < n {
            return false;
        }
        if n == 0 {
            return true;
        }
        let start = self.tail & (self.cap - 1);
        let first = n.min(self.cap - start);
        self.fill_run(start, 0, first, &mut f);
        if first < n {
            self.fill_run(0, first, n - first, &mut f);
        }
        self.publish();
        true
    }

    /// Writes `f(offset + j)` into slot `start + j` for `j < len` (slots free and contiguous:
    /// the caller splits at the end of the buffer), advancing `tail` per item.
    #[inline(always)]
    fn fill_run(
        &mut self,
        start: usize,
        offset: usize,
        len: usize,
        f: &mut impl FnMut(usize) -> T,
    ) {
        #[cfg(not(loom))]
        let base = self.shared.run_ptr(start);
        for j in 0..len {
            let v = f(offset + j);
            #[cfg(not(loom))]
            // SAFETY: slot `start + j` is free (within the `n` free slots checked by the caller),
            // in the contiguous run addressed from the slot slice, and owned by this producer.
            unsafe {
                base.add(j).write(v)
            };
            #[cfg(loom)]
            // SAFETY: as above, through loom's tracked cell.
            self.shared
                .slot(start + j)
                .with_mut(|p| unsafe { (*p).write(v) });
            // Per item, so that if a later `f` panics, this value is published by `Drop`.
            self.tail = self.tail.wrapping_add(1);
        }
    }

    /// Pushes one value, waiting (per `wait`) while the ring is full, then wakes the consumer
    /// if it is blocked in [`Consumer::pop`].
    ///
    /// # Errors
    /// [`PushError::Disconnected`] (with the value) if the consumer is dropped; never `Full`.
    pub fn push(&mut self, value: T, wait: WaitStrategy) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Ok(()) => {}
            Err(PushError::Full(v)) => {
                let shared = Arc::clone(&self.shared);
                let mut pending = Some(v);
                shared.cold.not_full.wait_until(wait, || {
                    let v = pending.take().expect("value present until pushed");
                    match self.try_push(v) {
                        Ok(()) => Some(Ok(())),
                        Err(PushError::Full(v)) if !self.is_abandoned() => {
                            pending = Some(v);
                            None
                        }
                        Err(e) => Some(Err(PushError::Disconnected(e.into_inner()))),
                    }
                })?;
            }
            Err(e) => return Err(e),
        }
        self.wake_consumer();
        Ok(())
    }

    /// Wakes the consumer if it is parked in a blocking pop. The blocking operations do this
    /// themselves; call it after a run of `try_*`/batch pushes if the consumer may block.
    #[inline]
    pub fn wake_consumer(&self) {
        self.shared.cold.not_empty.notify();
    }
}

impl<T> Drop for Producer<T> {
    /// NB: the whole drop glue is this small inline function (`shared` is `ManuallyDrop`, its
    /// `Arc` is released out of line in `hang_up`), so no out-of-line call ever receives the
    /// address of a `Producer`. Otherwise a caller that owns the `Producer` around a push loop
    /// must keep `tail` and `cached_head` in memory, a store and reload per item, instead of
    /// registers. See the `channels` benchmark (`ours_single`).
    #[inline]
    fn drop(&mut self) {
        self.publish();
        // SAFETY: `shared` is taken exactly once, here, and not used after.
        let shared = unsafe { ManuallyDrop::take(&mut self.shared) };
        Self::hang_up(shared);
    }
}

impl<T> Producer<T> {
    #[cold]
    #[inline(never)]
    fn hang_up(shared: Arc<Shared<T>>) {
        // Release: everything published (the store of `tail` just before, in `drop`) happens
        // before the consumer sees the producer gone.
        shared.cold.producer_alive.store(false, Ordering::Release);
        shared.cold.not_empty.notify();
    }
}

/// The reading end of an SPSC ring. Not `Clone`: exactly one consumer exists.
pub struct Consumer<T> {
    /// Released in `Drop` (by `hang_up`), not by drop glue: see the `NB` there.
    shared: ManuallyDrop<Arc<Shared<T>>>,
    view: View<T>,
    /// Copy of the capacity (read-only), kept next to the indices.
    cap: usize,
    /// Private copy of `shared.head`.
    head: usize,
    /// Last value of `shared.tail` seen; `<=` the real tail.
    cached_tail: usize,
    /// `release - 1`: `try_pop` publishes `head` only when it reaches a multiple of `release`
    /// (a power of two), so `shared.head` lags `head` by less than `release`.
    release_mask: usize,
}

impl<T> std::fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("head", &self.head)
            .finish()
    }
}

impl<T> Consumer<T> {
    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Items ready to read, refreshing the cached producer index only if the cache says empty.
    #[inline(always)]
    pub fn available(&mut self) -> usize {
        let mut n = self.cached_tail.wrapping_sub(self.head);
        if n == 0 {
            // Acquire: pairs with the producer's Release store of `tail`: its slot writes
            // happen before our reads.
            self.cached_tail = self.shared.tail.load(Ordering::Acquire);
            n = self.cached_tail.wrapping_sub(self.head);
        }
        n
    }

    /// Items ready to read, always reading the producer's current index.
    #[inline]
    fn refresh_available(&mut self) -> usize {
        // Acquire: as in `available`.
        self.cached_tail = self.shared.tail.load(Ordering::Acquire);
        self.cached_tail.wrapping_sub(self.head)
    }

    /// Whether the producer was dropped (items it pushed may still be readable).
    pub fn is_abandoned(&self) -> bool {
        // Acquire: pairs with the producer's Release store in its Drop.
        !self.shared.cold.producer_alive.load(Ordering::Acquire)
    }

    /// The error for an empty ring: `Disconnected` only if the producer is gone *and* a fresh
    /// read of `tail` (after seeing it gone) still shows nothing, so no item is lost. First
    /// releases every slot read so far (lazy release: an idle consumer holds back nothing).
    ///
    /// NB: out of line and without `&self`, as [`Producer`]'s `full_error`, so the caller's
    /// indices stay in registers.
    #[cold]
    #[inline(never)]
    fn empty_error(shared: &Shared<T>, head: usize) -> PopError {
        // Release (PUBLISH): as in `publish`.
        shared.head.store(head, PUBLISH);
        // Acquire (flag): pairs with the producer's Release store in its Drop, so its final
        // publication of `tail` happens before the load below. Acquire (`tail`): as in
        // `available`; a non-empty answer is left to the caller's next call, which reloads it.
        if !shared.cold.producer_alive.load(Ordering::Acquire)
            && shared.tail.load(Ordering::Acquire) == head
        {
            PopError::Disconnected
        } else {
            PopError::Empty
        }
    }

    #[inline(always)]
    fn publish(&self) {
        // Release (PUBLISH): our reads of the slots happen before the producer's Acquire load
        // of `head` and so before it overwrites them.
        self.shared.head.store(self.head, PUBLISH);
    }

    /// Pops one value without waiting.
    ///
    /// The freed slot is handed back to the producer lazily: when `head` reaches a multiple of
    /// the release interval, when a pop finds the ring empty, by [`Consumer::wake_producer`],
    /// by the batch operations, and on drop (module docs, "Lazy release").
    ///
    /// # Errors
    /// [`PopError::Empty`], or [`PopError::Disconnected`] when empty and the producer is gone.
    #[inline(always)]
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        if self.available() == 0 {
            return Err(Self::empty_error(&self.shared, self.head));
        }
        // SAFETY: head < tail, so the slot is initialised, and only this consumer reads it;
        // it becomes free (logically uninitialised) when `head` advances below.
        let v = unsafe { self.view.read(&self.shared, self.head) };
        self.head = self.head.wrapping_add(1);
        if self.head & self.release_mask == 0 {
            self.publish();
        }
        Ok(v)
    }

    /// The next value, without removing it.
    #[inline]
    pub fn peek(&mut self) -> Option<&T> {
        if self.available() == 0 {
            // Found empty: release what `try_pop` held back (as its empty path does).
            self.publish();
            return None;
        }
        // SAFETY: head < tail: initialised; the producer does not touch it until `head`
        // advances, which needs `&mut self`, so the borrow cannot outlive the value.
        Some(
            self.shared
                .slot(self.head)
                .with(|p| unsafe { (*p).assume_init_ref() }),
        )
    }

    /// Pops up to `out.len()` values into `out`, publishing once; returns how many.
    #[inline]
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize
    where
        T: Copy,
    {
        let n = self.available_for(out.len()).min(out.len());
        if n == 0 {
            return 0;
        }
        self.prefetch_next(n, out.len());
        let start = self.head & (self.cap - 1);
        let first = n.min(self.cap - start);
        let (a, rest) = out.split_at_mut(first);
        self.read_run(start, a);
        if first < n {
            self.read_run(0, &mut rest[..n - first]);
        }
        self.head = self.head.wrapping_add(n);
        self.publish();
        n
    }

    #[inline(always)]
    fn read_run(&self, start: usize, out: &mut [T])
    where
        T: Copy,
    {
        #[cfg(not(loom))]
        {
            let base = self.shared.run_ptr(start);
            // SAFETY: slots [start, start + len) are initialised (within [head, tail)),
            // contiguous, and read only by this consumer; `T: Copy`, so copying out leaves
            // nothing to drop; `out` does not overlap the ring.
            unsafe { std::ptr::copy_nonoverlapping(base, out.as_mut_ptr(), out.len()) };
        }
        #[cfg(loom)]
        for (i, o) in out.iter_mut().enumerate() {
            // SAFETY: as above, slot by slot.
            *o = self
                .shared
                .slot(start + i)
                .with(|p| unsafe { (*p).assume_init_read() });
        }
    }

    /// Pops up to `max` values, handing each to `f`, and publishes once; returns how many.
    pub fn pop_batch(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        let n = self.available_for(max).min(max);
        self.prefetch_next(n, max);
        for _ in 0..n {
            // SAFETY: head < tail (n items available). `self.head` advances before `f` runs,
            // so if `f` panics the moved-out value is not dropped again (Drop publishes it).
            let v = unsafe { self.view.read(&self.shared, self.head) };
            self.head = self.head.wrapping_add(1);
            f(v);
        }
        if n > 0 {
            self.publish();
        }
        n
    }

    /// Reads up to `max` values in place: `f` sees them as two slices in order (the second is
    /// non-empty only when the run wraps around the end of the ring); then they are removed and
    /// the index is published once. Returns what `f` returns; `f` is called (with two empty
    /// slices) even when the ring is empty. If `f` panics, nothing is removed.
    ///
    /// # Examples
    /// See [`Producer::push_with`].
    #[inline]
    pub fn pop_slices<R>(&mut self, max: usize, f: impl FnOnce(&[T], &[T]) -> R) -> R
    where
        T: Copy,
    {
        let n = self.available_for(max).min(max);
        self.prefetch_next(n, max);
        let start = self.head & (self.cap - 1);
        let first = n.min(self.cap - start);
        #[cfg(not(loom))]
        // SAFETY: slots [head, head + n) are initialised (n <= tail - head) and the producer does
        // not write them until `head` advances past them, after `f` returns. The two runs
        // [start, start + first) and [0, n - first) are in bounds and addressed from the slot
        // slice; `UnsafeCell<MaybeUninit<T>>` has the layout of `T`.
        let r = unsafe {
            f(
                std::slice::from_raw_parts(self.shared.run_ptr(start), first),
                std::slice::from_raw_parts(self.shared.run_ptr(0), n - first),
            )
        };
        #[cfg(loom)]
        let r = {
            // loom tracks slot accesses one by one: copy the values out (`T: Copy`).
            let v: Vec<T> = (0..n)
                .map(|i| {
                    // SAFETY: as above, through loom's tracked cell.
                    self.shared
                        .slot(self.head.wrapping_add(i))
                        .with(|p| unsafe { (*p).assume_init_read() })
                })
                .collect();
            f(&v[..first], &v[first..])
        };
        if n > 0 {
            self.head = self.head.wrapping_add(n);
            self.publish();
        }
        r
    }

    /// Prefetches the published slots after the `n` being read now, up to `max` of them.
    #[inline(always)]
    fn prefetch_next(&self, n: usize, max: usize) {
        let ahead = self.cached_tail.wrapping_sub(self.head).wrapping_sub(n);
        self.shared
            .prefetch(self.head.wrapping_add(n), ahead.min(max));
    }

    /// Items ready to read, reading the producer's index only if the cached one shows fewer
    /// than `want`.
    #[inline(always)]
    fn available_for(&mut self, want: usize) -> usize {
        let n = self.cached_tail.wrapping_sub(self.head);
        if n >= want {
            n
        } else {
            self.refresh_available()
        }
    }

    /// Pops one value, waiting (per `wait`) while the ring is empty, then wakes the producer if
    /// it is blocked in [`Producer::push`].
    ///
    /// # Errors
    /// [`PopError::Disconnected`] once the ring is empty and the producer is gone; never
    /// `Empty`.
    pub fn pop(&mut self, wait: WaitStrategy) -> Result<T, PopError> {
        let v = match self.try_pop() {
            Ok(v) => v,
            Err(PopError::Empty) => {
                let shared = Arc::clone(&self.shared);
                shared
                    .cold
                    .not_empty
                    .wait_until(wait, || match self.try_pop() {
                        Err(PopError::Empty) => None,
                        r => Some(r),
                    })?
            }
            Err(e) => return Err(e),
        };
        self.wake_producer();
        Ok(v)
    }

    /// Releases every slot read so far to the producer and wakes it if it is parked in a
    /// blocking push (see [`Producer::wake_consumer`]). A consumer that pops with
    /// [`Consumer::try_pop`] while its producer may block in [`Producer::push`] calls this
    /// after popping.
    #[inline]
    pub fn wake_producer(&self) {
        self.publish();
        self.shared.cold.not_full.notify();
    }
}

impl<T> Drop for Consumer<T> {
    /// NB: inline, the rest out of line, as for [`Producer`]'s `Drop`.
    #[inline]
    fn drop(&mut self) {
        self.publish();
        // SAFETY: `shared` is taken exactly once, here, and not used after.
        let shared = unsafe { ManuallyDrop::take(&mut self.shared) };
        Self::hang_up(shared);
    }
}

impl<T> Consumer<T> {
    #[cold]
    #[inline(never)]
    fn hang_up(shared: Arc<Shared<T>>) {
        // Release: pairs with the producer's Acquire load in `is_abandoned` / `full_error`.
        shared.cold.consumer_alive.store(false, Ordering::Release);
        shared.cold.not_full.notify();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn capacity_errors() {
        assert_eq!(channel::<u8>(0).err(), Some(CapacityError::Zero));
        assert_eq!(
            channel::<u8>(3).err(),
            Some(CapacityError::NotPowerOfTwo(3))
        );
        assert!(matches!(
            channel::<u8>(MAX_CAPACITY * 2).err(),
            Some(CapacityError::TooLarge { .. })
        ));
        assert_eq!(channel::<u8>(1).unwrap().0.capacity(), 1);
        for bad in [0, 3, 16] {
            assert_eq!(
                channel_releasing::<u8>(8, bad).err(),
                Some(CapacityError::Release {
                    release: bad,
                    capacity: 8
                })
            );
        }
        // An invalid capacity is reported as such, whatever the interval.
        assert_eq!(
            channel_releasing::<u8>(6, 3).err(),
            Some(CapacityError::NotPowerOfTwo(6))
        );
        assert_eq!(default_release(1), 1);
        assert_eq!(default_release(1024), 64);
    }

    #[test]
    fn try_pop_releases_at_interval_multiples_and_when_empty() {
        // `refresh_free` reads the consumer's published index every time (`free_slots` only
        // when its cached copy says full).
        let (mut tx, mut rx) = channel_releasing::<u32>(8, 4).unwrap();
        for i in 0..8 {
            tx.try_push(i).unwrap();
        }
        for i in 0..3 {
            assert_eq!(rx.try_pop(), Ok(i));
            assert_eq!(tx.refresh_free(), 0, "released before the interval");
        }
        assert_eq!(rx.try_pop(), Ok(3));
        assert_eq!(tx.refresh_free(), 4, "not released at head = 4");
        for i in 0..2 {
            tx.try_push(100 + i).unwrap();
        }
        for i in 4..7 {
            assert_eq!(rx.try_pop(), Ok(i));
        }
        assert_eq!(tx.refresh_free(), 2, "head = 7 is no release point");
        // Freed slots are not lost: a lagging release only delays them.
        for expect in [7, 100, 101] {
            assert_eq!(rx.try_pop(), Ok(expect));
        }
        assert_eq!(tx.refresh_free(), 6, "released at head = 8, not at 10");
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        assert_eq!(tx.refresh_free(), 8, "an empty pop releases everything");
        tx.try_push(9).unwrap();
        assert_eq!(rx.try_pop(), Ok(9));
        assert_eq!(rx.peek(), None);
        assert_eq!(tx.refresh_free(), 8, "an empty peek releases everything");
        tx.try_push(10).unwrap();
        assert_eq!(rx.try_pop(), Ok(10));
        rx.wake_producer();
        assert_eq!(tx.refresh_free(), 8, "wake_producer releases everything");
        tx.try_push(11).unwrap();
        assert_eq!(rx.try_pop(), Ok(11));
        drop(rx);
        assert!(tx.is_abandoned());
    }

    /// The laziest release (once per lap) with both ends spinning on `try_*`, and with a
    /// producer parked in `push` woken by a consumer that pops with `try_pop`: neither stalls.
    #[test]
    fn lap_long_release_never_stalls() {
        let n: u64 = if cfg!(miri) { 300 } else { 300_000 };
        for blocking in [false, true] {
            let (mut tx, mut rx) = channel_releasing::<u64>(8, 8).unwrap();
            let t = std::thread::spawn(move || {
                for i in 0..n {
                    if blocking {
                        tx.push(i, WaitStrategy::park()).unwrap();
                    } else {
                        let mut v = i;
                        while let Err(PushError::Full(back)) = tx.try_push(v) {
                            v = back;
                            std::hint::spin_loop();
                        }
                    }
                }
            });
            let mut expect = 0;
            while expect < n {
                match rx.try_pop() {
                    Ok(v) => {
                        assert_eq!(v, expect);
                        expect += 1;
                        if blocking {
                            rx.wake_producer();
                        }
                    }
                    Err(PopError::Empty) => std::thread::yield_now(),
                    Err(PopError::Disconnected) => panic!("lost {} items", n - expect),
                }
            }
            t.join().unwrap();
        }
    }

    #[test]
    fn fifo_and_full() {
        let (mut tx, mut rx) = channel::<u32>(2).unwrap();
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        tx.try_push(1).unwrap();
        tx.try_push(2).unwrap();
        assert_eq!(tx.try_push(3), Err(PushError::Full(3)));
        assert_eq!(rx.peek(), Some(&1));
        assert_eq!(rx.try_pop(), Ok(1));
        tx.try_push(3).unwrap();
        assert_eq!(rx.try_pop(), Ok(2));
        assert_eq!(rx.try_pop(), Ok(3));
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
    }

    #[test]
    fn slices_wrap_around() {
        let (mut tx, mut rx) = channel::<u64>(8).unwrap();
        let mut next = 0u64;
        let mut expect = 0u64;
        let mut out = [0u64; 5];
        for round in 0..100 {
            let items: Vec<u64> = (next..next + 1 + round % 7).collect();
            let n = tx.push_slice(&items);
            next += n as u64;
            let got = rx.pop_slice(&mut out[..1 + (round as usize % 5)]);
            for &v in &out[..got] {
                assert_eq!(v, expect);
                expect += 1;
            }
        }
        while let Ok(v) = rx.try_pop() {
            assert_eq!(v, expect);
            expect += 1;
        }
        assert_eq!(expect, next);
    }

    #[test]
    fn in_place_batches_wrap_around() {
        let (mut tx, mut rx) = channel::<u64>(8).unwrap();
        let (mut next, mut expect) = (0u64, 0u64);
        for round in 0..100u64 {
            let k = 1 + (round % 7) as usize;
            if tx.push_with(k, |j| next + j as u64) {
                next += k as u64;
            }
            rx.pop_slices(1 + (round % 5) as usize, |a, b| {
                for &v in a.iter().chain(b) {
                    assert_eq!(v, expect);
                    expect += 1;
                }
            });
        }
        while rx.pop_slices(8, |a, b| {
            for &v in a.iter().chain(b) {
                assert_eq!(v, expect);
                expect += 1;
            }
            a.len() + b.len()
        }) > 0
        {}
        assert_eq!(expect, next);
        assert!(tx.push_slice_all(&[]));
        assert!(tx.push_with(0, |_| unreachable!()));
    }

    #[test]
    fn threaded_in_place_batches() {
        let n: u64 = if cfg!(miri) { 300 } else { 300_000 };
        let (mut tx, mut rx) = channel::<u64>(16).unwrap();
        let t = std::thread::spawn(move || {
            let mut i = 0;
            while i < n {
                let k = (n - i).min(1 + i % 9);
                if tx.push_with(k as usize, |j| i + j as u64) {
                    i += k;
                } else {
                    std::thread::yield_now();
                }
            }
        });
        let mut expect = 0;
        while expect < n {
            let got = rx.pop_slices(5, |a, b| {
                for &v in a.iter().chain(b) {
                    assert_eq!(v, expect);
                    expect += 1;
                }
                a.len() + b.len()
            });
            if got == 0 {
                std::thread::yield_now();
            }
        }
        t.join().unwrap();
    }

    #[test]
    fn push_iter_takes_only_what_fits() {
        let (mut tx, mut rx) = channel::<String>(4).unwrap();
        let mut it = (0..10).map(|i| i.to_string());
        assert_eq!(tx.push_iter(&mut it), 4);
        assert_eq!(it.next().as_deref(), Some("4"));
        let mut got = Vec::new();
        assert_eq!(rx.pop_batch(3, |s| got.push(s)), 3);
        assert_eq!(got, ["0", "1", "2"]);
        assert_eq!(tx.push_iter(&mut it), 3);
        assert_eq!(rx.pop_batch(usize::MAX, |s| got.push(s)), 4);
        assert_eq!(got, ["0", "1", "2", "3", "5", "6", "7"]);
    }

    #[test]
    fn drops_unread_values_exactly_once() {
        use std::rc::Rc;
        let marker = Rc::new(());
        {
            // Rc is !Send, but Shared is only Send/Sync-gated at the thread boundary.
            let (mut tx, mut rx) = channel::<Rc<()>>(4).unwrap();
            for _ in 0..3 {
                tx.try_push(marker.clone()).unwrap();
            }
            drop(rx.try_pop().unwrap());
            assert_eq!(Rc::strong_count(&marker), 3);
        }
        assert_eq!(Rc::strong_count(&marker), 1);
    }

    #[test]
    fn panic_in_pop_batch_does_not_double_drop() {
        use std::rc::Rc;
        let marker = Rc::new(());
        let (mut tx, mut rx) = channel::<Rc<()>>(4).unwrap();
        for _ in 0..4 {
            tx.try_push(marker.clone()).unwrap();
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rx.pop_batch(4, |v| {
                drop(v);
                panic!("operator failed");
            })
        }));
        assert!(r.is_err());
        assert_eq!(Rc::strong_count(&marker), 4);
        drop(tx);
        drop(rx);
        assert_eq!(Rc::strong_count(&marker), 1);
    }

    #[test]
    fn disconnect_is_reported_after_draining() {
        let (mut tx, mut rx) = channel::<u8>(2).unwrap();
        tx.try_push(9).unwrap();
        drop(tx);
        assert!(rx.is_abandoned());
        assert_eq!(rx.try_pop(), Ok(9));
        assert_eq!(rx.try_pop(), Err(PopError::Disconnected));
        assert_eq!(rx.pop(WaitStrategy::default()), Err(PopError::Disconnected));

        let (mut tx, rx) = channel::<u8>(1).unwrap();
        drop(rx);
        assert!(tx.is_abandoned());
        tx.try_push(1).unwrap();
        assert_eq!(tx.try_push(2), Err(PushError::Disconnected(2)));
        assert_eq!(
            tx.push(3, WaitStrategy::default()),
            Err(PushError::Disconnected(3))
        );
    }

    #[test]
    fn threaded_transfer_in_order() {
        let n: u64 = if cfg!(miri) { 200 } else { 200_000 };
        let (mut tx, mut rx) = channel::<u64>(16).unwrap();
        let t = std::thread::spawn(move || {
            let mut i = 0;
            while i < n {
                if i % 3 == 0 {
                    let batch: Vec<u64> = (i..(i + 5).min(n)).collect();
                    let mut sent = 0;
                    while sent < batch.len() {
                        sent += tx.push_slice(&batch[sent..]);
                        // The consumer may be parked: batch pushes do not wake it themselves.
                        tx.wake_consumer();
                        std::thread::yield_now();
                    }
                    i += batch.len() as u64;
                } else {
                    tx.push(i, WaitStrategy::default()).unwrap();
                    i += 1;
                }
            }
        });
        let mut expect = 0;
        let mut buf = [0u64; 7];
        loop {
            match rx.pop(WaitStrategy::default()) {
                Ok(v) => {
                    assert_eq!(v, expect);
                    expect += 1;
                }
                Err(PopError::Disconnected) => break,
                Err(PopError::Empty) => unreachable!("blocking pop never returns Empty"),
            }
            let k = rx.pop_slice(&mut buf);
            for &v in &buf[..k] {
                assert_eq!(v, expect);
                expect += 1;
            }
        }
        t.join().unwrap();
        assert_eq!(expect, n);
    }
}
