//! FIFO storage for the in-order aggregators: a power-of-two ring ([`RingStore`]) and a
//! chunked array queue ([`ChunkedStore`]).
//!
//! Both address items by *absolute position*: the `i`-th item ever pushed has position `i`,
//! `head()..tail()` are the live positions, and a position stays valid while its item is
//! live. Aggregators keep their pointers (DABA Lite's `l, r, a, b`) as positions, so no pointer
//! needs fixing when the storage wraps or recycles a chunk.
//!
//! Neither store allocates in steady state: the ring only grows (doubling) when it is full, and
//! the chunked store recycles drained chunks through a spare list.

use std::collections::VecDeque;

/// A FIFO of items addressed by absolute position.
pub trait Store<T: Clone> {
    /// An empty store with room for `capacity` items before it first allocates again; `fill`
    /// initialises unused slots.
    fn with_capacity(capacity: usize, fill: T) -> Self;
    /// Position of the oldest live item.
    fn head(&self) -> usize;
    /// Position one past the newest live item.
    fn tail(&self) -> usize;
    /// The item at live position `pos`.
    fn get(&self, pos: usize) -> &T;
    /// The item at live position `pos`, mutably.
    fn get_mut(&mut self, pos: usize) -> &mut T;
    /// Calls `f(&mut item[i], &item[j])` for two distinct live positions.
    fn with_pair(&mut self, i: usize, j: usize, f: impl FnOnce(&mut T, &T));
    /// Appends `v` at position `tail()`.
    fn push_back(&mut self, v: T);
    /// Drops the item at `head()`; the caller guarantees the store is not empty.
    fn pop_front(&mut self);
    /// Bytes of item storage currently held (for bytes-per-item reports).
    fn bytes(&self) -> usize;
    /// Number of live items.
    #[inline]
    fn len(&self) -> usize {
        self.tail() - self.head()
    }
    /// Whether there are no live items.
    #[inline]
    fn is_empty(&self) -> bool {
        self.tail() == self.head()
    }
}

/// A ring buffer whose capacity is a power of two, indexed by `pos & (capacity - 1)`.
#[derive(Debug, Clone)]
pub struct RingStore<T> {
    /// Invariant: `buf.len()` is a power of two, `tail - head <= buf.len()`.
    buf: Box<[T]>,
    head: usize,
    tail: usize,
    fill: T,
}

impl<T: Clone> RingStore<T> {
    #[inline]
    fn idx(&self, pos: usize) -> usize {
        // NB: `len - 1` from the slice itself lets the optimiser see the index is in bounds.
        pos & (self.buf.len() - 1)
    }

    #[cold]
    fn grow(&mut self) {
        let new_cap = self.buf.len() * 2;
        let mut nb = vec![self.fill.clone(); new_cap].into_boxed_slice();
        for p in self.head..self.tail {
            let i = self.idx(p);
            nb[p & (new_cap - 1)] = std::mem::replace(&mut self.buf[i], self.fill.clone());
        }
        self.buf = nb;
    }

    /// Current capacity (a power of two).
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
}

impl<T: Clone> Store<T> for RingStore<T> {
    fn with_capacity(capacity: usize, fill: T) -> Self {
        let cap = capacity.max(2).next_power_of_two();
        Self {
            buf: vec![fill.clone(); cap].into_boxed_slice(),
            head: 0,
            tail: 0,
            fill,
        }
    }
    #[inline]
    fn head(&self) -> usize {
        self.head
    }
    #[inline]
    fn tail(&self) -> usize {
        self.tail
    }
    #[inline]
    fn get(&self, pos: usize) -> &T {
        &self.buf[self.idx(pos)]
    }
    #[inline]
    fn get_mut(&mut self, pos: usize) -> &mut T {
        let i = self.idx(pos);
        &mut self.buf[i]
    }
    #[inline]
    fn with_pair(&mut self, i: usize, j: usize, f: impl FnOnce(&mut T, &T)) {
        let (i, j) = (self.idx(i), self.idx(j));
        debug_assert_ne!(i, j);
        if i < j {
            let (a, b) = self.buf.split_at_mut(j);
            f(&mut a[i], &b[0]);
        } else {
            let (a, b) = self.buf.split_at_mut(i);
            f(&mut b[0], &a[j]);
        }
    }
    #[inline]
    fn push_back(&mut self, v: T) {
        if self.tail - self.head == self.buf.len() {
            self.grow();
        }
        let i = self.idx(self.tail);
        self.buf[i] = v;
        self.tail += 1;
    }
    #[inline]
    fn pop_front(&mut self) {
        debug_assert!(self.head < self.tail);
        self.head += 1;
    }
    fn bytes(&self) -> usize {
        self.buf.len() * size_of::<T>()
    }
}

/// A chunked array queue: fixed-size chunks in a deque, drained chunks recycled through a spare
/// list. Growth never copies items, and memory follows the live size in chunk steps.
#[derive(Debug, Clone)]
pub struct ChunkedStore<T> {
    chunks: VecDeque<Box<[T]>>,
    spare: Vec<Box<[T]>>,
    /// Absolute position of `chunks[0][0]`.
    base: usize,
    head: usize,
    tail: usize,
    /// log2 of the chunk length.
    shift: u32,
    fill: T,
}

impl<T: Clone> ChunkedStore<T> {
    #[inline]
    fn chunk_len(&self) -> usize {
        1 << self.shift
    }

    #[inline]
    fn loc(&self, pos: usize) -> (usize, usize) {
        let off = pos - self.base;
        (off >> self.shift, off & (self.chunk_len() - 1))
    }

    #[cold]
    fn add_chunk(&mut self) {
        let c = match self.spare.pop() {
            Some(c) => c,
            None => vec![self.fill.clone(); self.chunk_len()].into_boxed_slice(),
        };
        self.chunks.push_back(c);
    }
}

impl<T: Clone> Store<T> for ChunkedStore<T> {
    fn with_capacity(capacity: usize, fill: T) -> Self {
        // About 16 KiB per chunk, at least 8 items.
        let per = (16 * 1024 / size_of::<T>().max(1)).max(8);
        let shift = per.next_power_of_two().trailing_zeros();
        let n = capacity.div_ceil(1 << shift) + 1;
        let mut s = Self {
            chunks: VecDeque::with_capacity(n + 1),
            spare: Vec::with_capacity(n + 1),
            base: 0,
            head: 0,
            tail: 0,
            shift,
            fill,
        };
        for _ in 0..n {
            let c = vec![s.fill.clone(); s.chunk_len()].into_boxed_slice();
            s.spare.push(c);
        }
        s
    }
    #[inline]
    fn head(&self) -> usize {
        self.head
    }
    #[inline]
    fn tail(&self) -> usize {
        self.tail
    }
    #[inline]
    fn get(&self, pos: usize) -> &T {
        let (c, i) = self.loc(pos);
        &self.chunks[c][i]
    }
    #[inline]
    fn get_mut(&mut self, pos: usize) -> &mut T {
        let (c, i) = self.loc(pos);
        &mut self.chunks[c][i]
    }
    #[inline]
    fn with_pair(&mut self, i: usize, j: usize, f: impl FnOnce(&mut T, &T)) {
        let ((ci, ii), (cj, ij)) = (self.loc(i), self.loc(j));
        if ci == cj {
            let chunk = &mut self.chunks[ci];
            if ii < ij {
                let (a, b) = chunk.split_at_mut(ij);
                f(&mut a[ii], &b[0]);
            } else {
                let (a, b) = chunk.split_at_mut(ii);
                f(&mut b[0], &a[ij]);
            }
        } else {
            // Across a chunk boundary (once per chunk): copy the read side.
            let t = self.chunks[cj][ij].clone();
            f(&mut self.chunks[ci][ii], &t);
        }
    }
    #[inline]
    fn push_back(&mut self, v: T) {
        if self.tail - self.base == self.chunks.len() << self.shift {
            self.add_chunk();
        }
        let (c, i) = self.loc(self.tail);
        self.chunks[c][i] = v;
        self.tail += 1;
    }
    #[inline]
    fn pop_front(&mut self) {
        debug_assert!(self.head < self.tail);
        self.head += 1;
        if self.head - self.base == self.chunk_len() {
            if let Some(c) = self.chunks.pop_front() {
                self.spare.push(c);
            }
            self.base += self.chunk_len();
        }
    }
    fn bytes(&self) -> usize {
        (self.chunks.len() + self.spare.len()) * self.chunk_len() * size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise<S: Store<u64>>() {
        let mut s = S::with_capacity(3, 0);
        let mut next = 0u64;
        let mut oldest = 0u64;
        for round in 0..5000u64 {
            for _ in 0..(round % 7) {
                s.push_back(next);
                next += 1;
            }
            for _ in 0..(round % 5) {
                if s.is_empty() {
                    break;
                }
                assert_eq!(*s.get(s.head()), oldest);
                s.pop_front();
                oldest += 1;
            }
            for p in s.head()..s.tail() {
                assert_eq!(*s.get(p), p as u64);
            }
            if s.len() >= 2 {
                let (h, t) = (s.head(), s.tail() - 1);
                let mut seen = (0, 0);
                s.with_pair(h, t, |a, b| seen = (*a, *b));
                assert_eq!(seen, ((h as u64), (t as u64)));
            }
        }
    }

    #[test]
    fn ring_store_is_a_fifo() {
        exercise::<RingStore<u64>>();
    }

    #[test]
    fn chunked_store_is_a_fifo() {
        exercise::<ChunkedStore<u64>>();
    }
}
