//! A bounded multi-producer single-consumer ring, for producers not known in advance.
//!
//! For fan-in from a fixed set of producers prefer [`crate::fan_in`] (one SPSC ring each, no
//! read-modify-write, deterministic merge order). This ring is Vyukov's bounded queue
//! specialised to one consumer:
//!
//! - each slot carries a sequence number `seq`; slot `i & mask` is *writable for lap index
//!   `i`* when `seq == i` and *readable* when `seq == i + 1`;
//! - producers claim an index with a compare-and-swap on the shared `tail`;
//! - the consumer's `head` is private (there is one consumer), so there is no shared head line
//!   and no CAS on the consumer side; it frees a slot by storing `seq = i + capacity`.
//!
//! # Memory orders (audit)
//!
//! | operation | order | happens-before edge |
//! |---|---|---|
//! | producer: load slot `seq` | Acquire | the consumer's read of the slot's previous value → this overwrite |
//! | producer: CAS `tail` | Relaxed | claims a unique index (RMW atomicity); publishes no data |
//! | producer: store `seq = i + 1` after writing | Release | slot write → consumer's Acquire load of `seq` → read |
//! | consumer: load slot `seq` | Acquire | pairs with the store above |
//! | consumer: store `seq = i + capacity` after reading | Release | slot read → the next lap's producer |
//! | `senders` increment on clone | Relaxed | the cloning thread already holds a sender |
//! | `senders` decrement on drop | AcqRel | Release: the last sender's writes → consumer; Acquire: the decrement that reaches 0 sees all earlier ones |
//! | consumer: load `senders` | Acquire | pairs with the decrement |
//!
//! Full is detected per slot (`seq < i`), so producers never read the consumer's index.
//!
//! # Examples
//!
//! ```
//! use lute_sync::mpsc;
//! let (tx, mut rx) = mpsc::channel::<u32>(4).unwrap();
//! let tx2 = tx.clone();
//! tx.try_push(1).unwrap();
//! tx2.try_push(2).unwrap();
//! assert_eq!(rx.try_pop(), Ok(1));
//! assert_eq!(rx.try_pop(), Ok(2));
//! ```

use crate::CapacityError;
use crate::error::{PopError, PushError, check_capacity};
use crate::primitive::{Arc, AtomicBool, AtomicUsize, Ordering, PUBLISH, UnsafeCell};
use crate::wait::{Notifier, WaitStrategy};
use crossbeam_utils::CachePadded;
use std::mem::MaybeUninit;

struct Slot<T> {
    /// Lap-tagged state of the slot (module docs).
    seq: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

struct Shared<T> {
    /// Next index to claim. Producers CAS it.
    tail: CachePadded<AtomicUsize>,
    mask: usize,
    slots: Box<[Slot<T>]>,
    cold: CachePadded<Cold>,
}

struct Cold {
    senders: AtomicUsize,
    receiver_alive: AtomicBool,
    not_empty: Notifier,
    not_full: Notifier,
}

impl<T> Shared<T> {
    #[inline(always)]
    fn slot(&self, index: usize) -> &Slot<T> {
        // SAFETY: `index & mask < capacity == slots.len()`.
        unsafe { self.slots.get_unchecked(index & self.mask) }
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Last owner: every slot whose seq says "readable for its lap" holds a value.
        for (i, slot) in self.slots.iter().enumerate() {
            let seq = slot.seq.load(Ordering::Acquire);
            // Readable: seq = index + 1 for some index ≡ i (mod capacity); writable slots have
            // seq ≡ i, which differs because capacity >= 2.
            if seq & self.mask == (i + 1) & self.mask {
                // SAFETY: initialised (readable) and no longer shared.
                slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            }
        }
    }
}

// SAFETY: values move from producer threads to the consumer thread (`T: Send`); slots are
// handed over by the seq protocol (module docs).
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Shared<T> {}

/// Creates an MPSC ring of `capacity` slots (a power of two, at least 2).
///
/// # Errors
/// [`CapacityError`] as for [`crate::spsc::channel`]. A capacity of 1 is rounded up to 2.
pub fn channel<T>(capacity: usize) -> Result<(Sender<T>, Receiver<T>), CapacityError> {
    // Capacity 1 would make "writable for lap i+1" and "readable for lap i" the same seq, so
    // the smallest ring uses 2 slots.
    let capacity = check_capacity(capacity)?.max(2);
    let slots = (0..capacity)
        .map(|i| Slot {
            seq: AtomicUsize::new(i),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        })
        .collect();
    let shared = Arc::new(Shared {
        tail: CachePadded::new(AtomicUsize::new(0)),
        mask: capacity - 1,
        slots,
        cold: CachePadded::new(Cold {
            senders: AtomicUsize::new(1),
            receiver_alive: AtomicBool::new(true),
            not_empty: Notifier::new(),
            not_full: Notifier::new(),
        }),
    });
    Ok((
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, head: 0 },
    ))
}

/// A writing end of an MPSC ring; `Clone` to add producers.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("mpsc::Sender").finish_non_exhaustive()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        // Relaxed: we already hold a sender, so the count cannot concurrently reach 0.
        self.shared.cold.senders.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Sender<T> {
    /// Whether the receiver was dropped.
    pub fn is_abandoned(&self) -> bool {
        // Acquire: pairs with the receiver's Release store in its Drop.
        !self.shared.cold.receiver_alive.load(Ordering::Acquire)
    }

    /// Pushes one value without waiting.
    ///
    /// # Errors
    /// [`PushError::Full`] or, when the receiver is gone, [`PushError::Disconnected`]; the
    /// value is handed back.
    #[inline]
    pub fn try_push(&self, value: T) -> Result<(), PushError<T>> {
        let shared = &*self.shared;
        // Relaxed: only a hint of which index to try; the CAS below validates it.
        let mut pos = shared.tail.load(Ordering::Relaxed);
        loop {
            let slot = shared.slot(pos);
            // Acquire: pairs with the consumer's Release store freeing this slot, so its read
            // of the previous value happens before our write.
            let seq = slot.seq.load(Ordering::Acquire);
            let diff = seq.wrapping_sub(pos) as isize;
            if diff == 0 {
                // Relaxed: the CAS only claims `pos`; data is published by `seq` below.
                match shared.tail.compare_exchange_weak(
                    pos,
                    pos.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: we own index `pos` (unique CAS winner) and its slot is free
                        // for this lap (seq == pos, made visible by the Acquire load).
                        slot.value.with_mut(|p| unsafe { (*p).write(value) });
                        // Release (PUBLISH): the write above → the consumer's Acquire load.
                        slot.seq.store(pos.wrapping_add(1), PUBLISH);
                        return Ok(());
                    }
                    Err(actual) => pos = actual,
                }
            } else if diff < 0 {
                // The slot still holds the previous lap's value: the ring is full.
                return Err(if self.is_abandoned() {
                    PushError::Disconnected(value)
                } else {
                    PushError::Full(value)
                });
            } else {
                // Another producer claimed `pos`; reload.
                // Relaxed: as above.
                pos = shared.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Pushes one value, waiting (per `wait`) while full, then wakes a blocked receiver.
    ///
    /// # Errors
    /// [`PushError::Disconnected`] (with the value) if the receiver is dropped.
    pub fn push(&self, value: T, wait: WaitStrategy) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Ok(()) => {}
            Err(PushError::Full(v)) => {
                let mut pending = Some(v);
                self.shared.cold.not_full.wait_until(wait, || {
                    match self.try_push(pending.take().expect("value present until pushed")) {
                        Ok(()) => Some(Ok(())),
                        Err(PushError::Full(v)) => {
                            pending = Some(v);
                            None
                        }
                        Err(e) => Some(Err(e)),
                    }
                })?;
            }
            Err(e) => return Err(e),
        }
        self.shared.cold.not_empty.notify();
        Ok(())
    }
}

impl<T> Sender<T> {
    /// Wakes the receiver if it is parked in [`Receiver::pop`]. [`Sender::push`] does this
    /// itself; call it after `try_push` if the receiver may block.
    #[inline]
    pub fn wake_receiver(&self) {
        self.shared.cold.not_empty.notify();
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // AcqRel: Release so this sender's pushes happen before the receiver sees the count
        // reach 0; Acquire so the final decrement is ordered after all earlier ones.
        if self.shared.cold.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.cold.not_empty.notify();
        }
    }
}

/// The reading end of an MPSC ring.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Next index to read; private (single consumer).
    head: usize,
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("head", &self.head)
            .finish()
    }
}

impl<T> Receiver<T> {
    /// Number of slots in the ring.
    pub fn capacity(&self) -> usize {
        self.shared.mask + 1
    }

    /// Pops one value without waiting.
    ///
    /// # Errors
    /// [`PopError::Empty`], or [`PopError::Disconnected`] when empty and every sender is gone.
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        let slot = self.shared.slot(self.head);
        // Acquire: pairs with the producer's Release store of `seq`.
        let seq = slot.seq.load(Ordering::Acquire);
        if seq != self.head.wrapping_add(1) {
            return Err(self.empty_error());
        }
        // SAFETY: seq == head + 1: the slot holds this lap's value, published by its producer,
        // and only the single receiver reads it.
        let v = slot.value.with(|p| unsafe { (*p).assume_init_read() });
        // Release (PUBLISH): our read → the next lap's producer (Acquire load of `seq`).
        slot.seq
            .store(self.head.wrapping_add(self.shared.mask + 1), PUBLISH);
        self.head = self.head.wrapping_add(1);
        Ok(v)
    }

    #[cold]
    fn empty_error(&self) -> PopError {
        // Acquire: pairs with the last sender's AcqRel decrement; then re-check the slot so a
        // value published just before the last sender left is not lost.
        if self.shared.cold.senders.load(Ordering::Acquire) == 0 {
            let seq = self.shared.slot(self.head).seq.load(Ordering::Acquire);
            if seq != self.head.wrapping_add(1) {
                return PopError::Disconnected;
            }
        }
        PopError::Empty
    }

    /// Pops up to `max` values, handing each to `f`; returns how many.
    pub fn pop_batch(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        let mut n = 0;
        while n < max {
            match self.try_pop() {
                Ok(v) => f(v),
                Err(_) => break,
            }
            n += 1;
        }
        if n > 0 {
            self.shared.cold.not_full.notify();
        }
        n
    }

    /// Pops one value, waiting (per `wait`) while empty, then wakes blocked senders.
    ///
    /// # Errors
    /// [`PopError::Disconnected`] once empty with every sender gone; never `Empty`.
    pub fn pop(&mut self, wait: WaitStrategy) -> Result<T, PopError> {
        let v = match self.try_pop() {
            Ok(v) => v,
            Err(PopError::Empty) => {
                let shared = self.shared.clone();
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
        self.shared.cold.not_full.notify();
        Ok(v)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Release: pairs with `Sender::is_abandoned`.
        self.shared
            .cold
            .receiver_alive
            .store(false, Ordering::Release);
        self.shared.cold.not_full.notify();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_full_and_wrap() {
        let (tx, mut rx) = channel::<u32>(4).unwrap();
        for lap in 0..10 {
            for i in 0..4 {
                tx.try_push(lap * 4 + i).unwrap();
            }
            assert_eq!(tx.try_push(99), Err(PushError::Full(99)));
            for i in 0..4 {
                assert_eq!(rx.try_pop(), Ok(lap * 4 + i));
            }
            assert_eq!(rx.try_pop(), Err(PopError::Empty));
        }
    }

    #[test]
    fn capacity_one_rounds_up_to_two() {
        let (tx, rx) = channel::<u8>(1).unwrap();
        assert_eq!(rx.capacity(), 2);
        drop(tx);
        assert_eq!(channel::<u8>(0).err(), Some(CapacityError::Zero));
    }

    #[test]
    fn disconnection_both_ways() {
        let (tx, mut rx) = channel::<u8>(2).unwrap();
        let tx2 = tx.clone();
        tx.try_push(1).unwrap();
        drop(tx);
        assert_eq!(rx.try_pop(), Ok(1));
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        tx2.try_push(2).unwrap();
        drop(tx2);
        assert_eq!(rx.try_pop(), Ok(2));
        assert_eq!(rx.try_pop(), Err(PopError::Disconnected));
        assert_eq!(rx.pop(WaitStrategy::default()), Err(PopError::Disconnected));

        let (tx, rx) = channel::<u8>(2).unwrap();
        drop(rx);
        tx.try_push(1).unwrap();
        tx.try_push(2).unwrap();
        assert_eq!(tx.try_push(3), Err(PushError::Disconnected(3)));
        assert_eq!(
            tx.push(4, WaitStrategy::default()),
            Err(PushError::Disconnected(4))
        );
    }

    #[test]
    fn unread_values_dropped_once() {
        let v = std::sync::Arc::new(());
        {
            let (tx, mut rx) = channel::<std::sync::Arc<()>>(4).unwrap();
            for _ in 0..4 {
                tx.try_push(v.clone()).unwrap();
            }
            drop(rx.try_pop());
            tx.try_push(v.clone()).unwrap();
            assert_eq!(std::sync::Arc::strong_count(&v), 5);
        }
        assert_eq!(std::sync::Arc::strong_count(&v), 1);
    }

    #[test]
    fn two_producers_each_in_order() {
        let n: u64 = if cfg!(miri) { 100 } else { 100_000 };
        let (tx, mut rx) = channel::<(u8, u64)>(8).unwrap();
        let handles: Vec<_> = (0..2u8)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..n {
                        tx.push((p, i), WaitStrategy::default()).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut next = [0u64; 2];
        loop {
            match rx.pop(WaitStrategy::default()) {
                Ok((p, i)) => {
                    assert_eq!(i, next[p as usize], "per-producer FIFO");
                    next[p as usize] += 1;
                }
                Err(e) => {
                    assert_eq!(e, PopError::Disconnected);
                    break;
                }
            }
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(next, [n, n]);
    }
}
