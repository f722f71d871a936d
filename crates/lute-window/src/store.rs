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
    /// Calls `f(&mut item[i], &item[i + 1])` for every `i` from `to − 2` down to `from`
    /// (right to left), e.g. to turn raw items into suffix aggregates. Stores override it to
    /// walk contiguous memory.
    fn suffix_pass(&mut self, from: usize, to: usize, mut f: impl FnMut(&mut T, &T)) {
        let mut i = to.saturating_sub(1);
        while i > from {
            i -= 1;
            self.with_pair(i, i + 1, &mut f);
        }
    }
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
    fn suffix_pass(&mut self, from: usize, to: usize, mut f: impl FnMut(&mut T, &T)) {
        // NB: per contiguous segment of the ring, no masking per item (`windows` W1 TSL).
        let mut hi = to; // exclusive end of the part still to process, as positions
        while hi > from + 1 {
            let last = self.idx(hi - 1);
            // The segment ends at `last` (inclusive) and starts at the ring's start or `from`.
            let seg = (hi - 1 - from).min(last);
            // Pairs (j, j + 1) inside buf[last - seg ..= last].
            let base = last - seg;
            let s = &mut self.buf[base..=last];
            for j in (0..seg).rev() {
                let (a, b) = s.split_at_mut(j + 1);
                f(&mut a[j], &b[0]);
            }
            hi -= seg;
            if hi > from + 1 {
                // The pair across the wrap: (hi - 2, hi - 1) with hi - 1 at index 0.
                self.with_pair(hi - 2, hi - 1, &mut f);
                hi -= 1;
            }
        }
    }
}

/// log2 of the chunk length of [`ChunkedStore`].
const CHUNK_SHIFT: u32 = 9;
/// Items per chunk of [`ChunkedStore`].
const CHUNK: usize = 1 << CHUNK_SHIFT;

/// A chunked array queue: fixed-size chunks (512 items) in a power-of-two ring of chunk
/// slots, drained chunks recycled through a spare list. Growth never copies items (only the
/// chunk slots are re-placed when more chunks are live than slots exist), and memory follows
/// the live size in chunk steps.
///
/// Position `pos` lives in chunk slot `(pos >> 9) & (slots − 1)` at index `pos & 511`: two
/// masks and one extra load compared with [`RingStore`].
///
/// NB: chunks are fixed-size arrays, so `pos & 511` needs no bounds check and a slot is one
/// pointer, not a pointer and a length (`windows` W1 chunked_two_stacks_lite).
#[derive(Debug, Clone)]
pub struct ChunkedStore<T> {
    /// Chunk slots; `chunks.len()` is a power of two. The slot of every chunk overlapping
    /// `head..tail` holds a chunk; other slots hold `None`.
    chunks: Vec<Option<Chunk<T>>>,
    spare: Vec<Chunk<T>>,
    head: usize,
    tail: usize,
    fill: T,
}

/// One chunk of [`ChunkedStore`].
type Chunk<T> = Box<[T; CHUNK]>;

impl<T: Clone> ChunkedStore<T> {
    #[inline]
    fn slot(&self, pos: usize) -> usize {
        (pos >> CHUNK_SHIFT) & (self.chunks.len() - 1)
    }

    /// The chunk in slot `s`, which holds live positions.
    #[inline]
    fn chunk(&self, s: usize) -> &[T; CHUNK] {
        self.chunks[s].as_deref().expect("live chunk")
    }

    #[inline]
    fn chunk_mut(&mut self, s: usize) -> &mut [T; CHUNK] {
        self.chunks[s].as_deref_mut().expect("live chunk")
    }

    fn new_chunk(&self) -> Chunk<T> {
        let b: Box<[T]> = vec![self.fill.clone(); CHUNK].into_boxed_slice();
        b.try_into().ok().expect("CHUNK items")
    }

    /// Makes sure the chunk holding position `tail` exists (called when `tail` is at a chunk
    /// boundary).
    #[cold]
    fn add_chunk(&mut self) {
        let live = (self.tail >> CHUNK_SHIFT) - (self.head >> CHUNK_SHIFT) + 1;
        if live > self.chunks.len() {
            let n = (2 * self.chunks.len()).max(live.next_power_of_two());
            let mut chunks: Vec<Option<Chunk<T>>> = (0..n).map(|_| None).collect();
            let old = self.chunks.len();
            for c in (self.head >> CHUNK_SHIFT)..(self.tail >> CHUNK_SHIFT) {
                chunks[c & (n - 1)] = std::mem::take(&mut self.chunks[c & (old - 1)]);
            }
            self.chunks = chunks;
        }
        let c = match self.spare.pop() {
            Some(c) => c,
            None => self.new_chunk(),
        };
        let s = self.slot(self.tail);
        debug_assert!(self.chunks[s].is_none());
        self.chunks[s] = Some(c);
    }
}

impl<T: Clone> Store<T> for ChunkedStore<T> {
    fn with_capacity(capacity: usize, fill: T) -> Self {
        let n = capacity.div_ceil(CHUNK) + 1;
        let mut s = Self {
            chunks: (0..(n + 1).next_power_of_two()).map(|_| None).collect(),
            spare: Vec::with_capacity(n + 1),
            head: 0,
            tail: 0,
            fill,
        };
        for _ in 0..n {
            let c = s.new_chunk();
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
        &self.chunk(self.slot(pos))[pos & (CHUNK - 1)]
    }
    #[inline]
    fn get_mut(&mut self, pos: usize) -> &mut T {
        let s = self.slot(pos);
        &mut self.chunk_mut(s)[pos & (CHUNK - 1)]
    }
    #[inline]
    fn with_pair(&mut self, i: usize, j: usize, f: impl FnOnce(&mut T, &T)) {
        let (ci, cj) = (self.slot(i), self.slot(j));
        let (ii, ij) = (i & (CHUNK - 1), j & (CHUNK - 1));
        if ci == cj {
            let chunk = self.chunk_mut(ci);
            if ii < ij {
                let (a, b) = chunk.split_at_mut(ij);
                f(&mut a[ii], &b[0]);
            } else {
                let (a, b) = chunk.split_at_mut(ii);
                f(&mut b[0], &a[ij]);
            }
        } else {
            // Across a chunk boundary (once per chunk): copy the read side.
            let t = self.chunk(cj)[ij].clone();
            f(&mut self.chunk_mut(ci)[ii], &t);
        }
    }
    #[inline]
    fn push_back(&mut self, v: T) {
        if self.tail & (CHUNK - 1) == 0 {
            // The chunk for `tail` never exists yet at a boundary (only pushes create chunks).
            self.add_chunk();
        }
        let s = self.slot(self.tail);
        let i = self.tail & (CHUNK - 1);
        self.chunk_mut(s)[i] = v;
        self.tail += 1;
    }
    #[inline]
    fn pop_front(&mut self) {
        debug_assert!(self.head < self.tail);
        self.head += 1;
        if self.head & (CHUNK - 1) == 0 {
            // The chunk of `head - 1` is drained: recycle it.
            let s = self.slot(self.head - 1);
            if let Some(c) = self.chunks[s].take() {
                self.spare.push(c);
            }
        }
    }
    fn bytes(&self) -> usize {
        let live = self.chunks.iter().filter(|c| c.is_some()).count();
        (live + self.spare.len()) * CHUNK * size_of::<T>()
    }
    fn suffix_pass(&mut self, from: usize, to: usize, mut f: impl FnMut(&mut T, &T)) {
        // NB: per chunk, on a plain slice (`windows` W1 chunked TSL).
        let mut hi = to;
        while hi > from + 1 {
            let last = (hi - 1) & (CHUNK - 1);
            let seg = (hi - 1 - from).min(last);
            let slot = self.slot(hi - 1);
            let s = &mut self.chunk_mut(slot)[last - seg..=last];
            for j in (0..seg).rev() {
                let (a, b) = s.split_at_mut(j + 1);
                f(&mut a[j], &b[0]);
            }
            hi -= seg;
            if hi > from + 1 {
                self.with_pair(hi - 2, hi - 1, &mut f);
                hi -= 1;
            }
        }
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

    /// `suffix_pass` (contiguous segments) equals the pairwise default across wraps and chunk
    /// boundaries: prefix sums from the right.
    fn suffix_pass_matches<S: Store<u64>>() {
        for (cap, pushes, pops) in [
            (8, 20u64, 3u64),
            (1024, 3000, 500),
            (4, 4, 0),
            (16, 40, 5),
            (8, 9, 1),
        ] {
            let mut s = S::with_capacity(cap, 0);
            for i in 0..pushes {
                s.push_back(i);
                // Interleaved pops move the head, so the live range wraps the ring.
                if i % 3 == 2 && s.len() > 2 {
                    s.pop_front();
                }
            }
            for _ in 0..pops.min(s.len().saturating_sub(1) as u64) {
                s.pop_front();
            }
            let (h, t) = (s.head(), s.tail());
            let want: Vec<u64> = (h..t).map(|p| (p as u64..t as u64).sum()).collect();
            s.suffix_pass(h, t, |a, b| *a += *b);
            let got: Vec<u64> = (h..t).map(|p| *s.get(p)).collect();
            assert_eq!(got, want, "cap {cap} pushes {pushes} pops {pops}");
        }
    }

    #[test]
    fn suffix_pass_ring_and_chunked() {
        suffix_pass_matches::<RingStore<u64>>();
        suffix_pass_matches::<ChunkedStore<u64>>();
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
