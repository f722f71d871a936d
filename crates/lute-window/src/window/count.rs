//! Count-based windows: the last `size` events, one result every `slide` events.

use crate::daba::DabaLite;
use crate::fifo::FifoAggregator;
use crate::monoid::Monoid;

/// The result of one count window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountResult<A> {
    /// Sequence number (0-based arrival index) of the window's first event.
    pub first: u64,
    /// One past the sequence number of its last event.
    pub end: u64,
    /// The aggregate of its events, in arrival order.
    pub value: A,
}

/// Count windows of `size` events sliding by `slide` events (tumbling when equal), on
/// [`DabaLite`]: worst-case O(1) per event.
///
/// The first result comes when `size` events have arrived, then one every `slide` events.
///
/// # Examples
///
/// ```
/// use lute_window::ops::Sum;
/// use lute_window::window::CountWindows;
/// let mut w = CountWindows::new(Sum, 3, 2);
/// let mut out = Vec::new();
/// for x in 1..=7 {
///     if let Some(r) = w.insert(x) {
///         out.push(r.value);
///     }
/// }
/// assert_eq!(out, vec![1 + 2 + 3, 3 + 4 + 5, 5 + 6 + 7]);
/// ```
#[derive(Debug, Clone)]
pub struct CountWindows<M: Monoid> {
    daba: DabaLite<M>,
    size: u64,
    slide: u64,
    seen: u64,
}

impl<M: Monoid> CountWindows<M> {
    /// Windows of `size` events, one every `slide` events.
    ///
    /// # Panics
    /// If `size` or `slide` is zero.
    pub fn new(op: M, size: u64, slide: u64) -> Self {
        assert!(size > 0 && slide > 0, "size and slide must be positive");
        Self {
            daba: DabaLite::with_capacity(op, size as usize + 1),
            size,
            slide,
            seen: 0,
        }
    }

    /// Adds the next event's partial; returns the window that it completes, if any.
    #[inline]
    pub fn insert(&mut self, x: M::Agg) -> Option<CountResult<M::Agg>> {
        self.daba.insert(x);
        if self.daba.len() as u64 > self.size {
            self.daba.evict();
        }
        self.seen += 1;
        (self.seen >= self.size && (self.seen - self.size).is_multiple_of(self.slide)).then(|| {
            CountResult {
                first: self.seen - self.size,
                end: self.seen,
                value: self.daba.query(),
            }
        })
    }

    /// Events seen so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}
