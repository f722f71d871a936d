//! A pool of pre-allocated, fixed-capacity batch buffers.
//!
//! A [`Batch`] is taken from its [`BatchPool`], filled, and moved by ownership (for example
//! through an SPSC ring) to a consumer; when the consumer drops it, its buffer is cleared and
//! goes back to the pool through a return ring (an [`crate::mpsc`] ring, so a batch may be
//! dropped on any thread). The buffers are allocated once, in [`BatchPool::new`]; a batch never
//! grows past its capacity ([`Batch::push`] refuses), and an empty pool is backpressure
//! ([`BatchPool::try_take`] returns `None`), never an allocation.
//!
//! The return ring has at least as many slots as there are batches, so a return never finds
//! it full. The pool adds no atomics of its own beyond an `Arc` count per batch: the
//! hand-over orders are those of [`crate::mpsc`] (a buffer's contents and clearing happen
//! before its Release publication on return, and the taker's Acquire load).
//!
//! # Examples
//!
//! ```
//! use lute_sync::BatchPool;
//! let mut pool = BatchPool::<u32>::new(2, 3).unwrap();
//! let mut a = pool.try_take().unwrap();
//! a.push(1).unwrap();
//! a.push(2).unwrap();
//! a.push(3).unwrap();
//! assert_eq!(a.push(4), Err(4)); // full: never grows
//! let b = pool.try_take().unwrap();
//! assert!(pool.try_take().is_none()); // empty pool: backpressure
//! drop(a);
//! let a = pool.try_take().unwrap(); // the same buffer, cleared
//! assert!(a.is_empty() && a.capacity() == 3);
//! # drop(b);
//! ```

use crate::CapacityError;
use crate::mpsc;
use crate::primitive::Arc;
use crate::wait::WaitStrategy;
use std::ops::{Deref, DerefMut};

/// Where batches go back to.
struct Home<T> {
    returns: mpsc::Sender<Vec<T>>,
}

/// A fixed set of pre-allocated batch buffers (see the module docs). Owned by the thread that
/// fills batches; batches themselves may travel anywhere.
pub struct BatchPool<T> {
    free: mpsc::Receiver<Vec<T>>,
    home: Arc<Home<T>>,
    batches: usize,
    batch_capacity: usize,
}

impl<T> std::fmt::Debug for BatchPool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchPool")
            .field("batches", &self.batches)
            .field("batch_capacity", &self.batch_capacity)
            .finish()
    }
}

impl<T> BatchPool<T> {
    /// Allocates `batches` buffers of `batch_capacity` items each.
    ///
    /// # Errors
    /// [`CapacityError::Zero`] if either count is 0; [`CapacityError::TooLarge`] if
    /// `batches` exceeds [`crate::MAX_CAPACITY`].
    pub fn new(batches: usize, batch_capacity: usize) -> Result<Self, CapacityError> {
        if batches == 0 || batch_capacity == 0 {
            return Err(CapacityError::Zero);
        }
        if batches > crate::MAX_CAPACITY {
            return Err(CapacityError::TooLarge {
                requested: batches,
                max: crate::MAX_CAPACITY,
            });
        }
        let (tx, free) = mpsc::channel(batches.next_power_of_two())?;
        for _ in 0..batches {
            if tx.try_push(Vec::with_capacity(batch_capacity)).is_err() {
                unreachable!("the return ring has a slot for every batch");
            }
        }
        Ok(Self {
            free,
            home: Arc::new(Home { returns: tx }),
            batches,
            batch_capacity,
        })
    }

    /// Number of batches the pool owns (in it or in flight).
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// Capacity of each batch.
    pub fn batch_capacity(&self) -> usize {
        self.batch_capacity
    }

    /// Takes a free batch, or `None` if all are in flight (backpressure).
    #[inline]
    pub fn try_take(&mut self) -> Option<Batch<T>> {
        let items = self.free.try_pop().ok()?;
        Some(Batch {
            items,
            home: self.home.clone(),
        })
    }

    /// Takes a free batch, waiting (per `wait`) until one is returned.
    ///
    /// Waits forever if every batch is held by the calling thread: return batches first.
    pub fn take(&mut self, wait: WaitStrategy) -> Batch<T> {
        let items = self
            .free
            .pop(wait)
            .expect("the pool's own sender keeps the return ring connected");
        Batch {
            items,
            home: self.home.clone(),
        }
    }
}

/// A fixed-capacity buffer from a [`BatchPool`]; returns to its pool when dropped.
///
/// Dereferences to a slice of its items.
pub struct Batch<T> {
    /// Invariant: `items.capacity() == batch_capacity`, and it never reallocates.
    items: Vec<T>,
    home: Arc<Home<T>>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Batch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.items.iter()).finish()
    }
}

impl<T> Batch<T> {
    /// Appends a value, or hands it back if the batch is full (it never grows).
    ///
    /// # Errors
    /// The value, when `len() == capacity()`.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), T> {
        if self.items.len() == self.items.capacity() {
            return Err(value);
        }
        self.items.push(value);
        Ok(())
    }

    /// Removes and returns the last value.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }

    /// Whether no more values fit.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.items.len() == self.items.capacity()
    }

    /// The fixed capacity.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.items.capacity()
    }

    /// Removes all values (keeps the buffer).
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Removes and yields all values in order (keeps the buffer).
    pub fn drain(&mut self) -> std::vec::Drain<'_, T> {
        self.items.drain(..)
    }

    /// Keeps only the values for which `f` returns true, in order.
    pub fn retain(&mut self, f: impl FnMut(&T) -> bool) {
        self.items.retain(f);
    }
}

impl<T> Deref for Batch<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> DerefMut for Batch<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.items
    }
}

impl<T> Drop for Batch<T> {
    fn drop(&mut self) {
        // `Vec::new` does not allocate.
        let mut items = std::mem::take(&mut self.items);
        items.clear();
        // Full cannot happen (a slot per batch); Disconnected means the pool is gone, and the
        // buffer is simply freed.
        if self.home.returns.try_push(items).is_ok() {
            // The pool's owner may be parked in `take` (found by the loom model `loom_pool`).
            self.home.returns.wake_receiver();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn construction_errors() {
        assert_eq!(BatchPool::<u8>::new(0, 4).err(), Some(CapacityError::Zero));
        assert_eq!(BatchPool::<u8>::new(4, 0).err(), Some(CapacityError::Zero));
        let p = BatchPool::<u8>::new(3, 5).unwrap();
        assert_eq!((p.batches(), p.batch_capacity()), (3, 5));
    }

    #[test]
    fn batches_cycle_and_drop_items() {
        let marker = std::sync::Arc::new(());
        let mut pool = BatchPool::new(2, 4).unwrap();
        for _ in 0..10 {
            let mut b = pool.try_take().unwrap();
            for _ in 0..4 {
                b.push(marker.clone()).unwrap();
            }
            assert!(b.is_full());
            assert_eq!(std::sync::Arc::strong_count(&marker), 5);
            drop(b.pop());
            assert_eq!(b.len(), 3);
            assert_eq!(std::sync::Arc::strong_count(&marker), 4);
            drop(b);
            assert_eq!(std::sync::Arc::strong_count(&marker), 1);
        }
    }

    #[test]
    fn batches_return_from_other_threads_and_outlive_pool() {
        let mut pool = BatchPool::<u64>::new(2, 8).unwrap();
        let (mut tx, mut rx) = crate::spsc::channel::<Batch<u64>>(2).unwrap();
        let consumer = std::thread::spawn(move || {
            let mut sum = 0;
            while let Ok(mut b) = rx.pop(WaitStrategy::default()) {
                sum += b.drain().sum::<u64>();
            }
            sum
        });
        let rounds = if cfg!(miri) { 20 } else { 2_000 };
        for r in 0..rounds {
            let mut b = pool.take(WaitStrategy::default());
            assert!(b.is_empty());
            while b.push(r).is_ok() {}
            tx.push(b, WaitStrategy::default()).unwrap();
        }
        let held = pool.take(WaitStrategy::default());
        drop(pool);
        drop(held); // its pool is gone: the buffer is just freed
        drop(tx);
        assert_eq!(consumer.join().unwrap(), 8 * (0..rounds).sum::<u64>());
    }
}
