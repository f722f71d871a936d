//! Session windows: events closer than `gap` in event time belong to one session.

use super::{Late, WindowResult, WindowStats};
use crate::monoid::Monoid;

#[derive(Debug, Clone)]
struct Session<A> {
    /// Time of the session's first event.
    start: i64,
    /// Time of its last event.
    last: i64,
    value: A,
}

/// Session windows with inactivity `gap`: a session spans `[first event, last event + gap)`
/// and closes when the watermark reaches its end. Out-of-order events may bridge and merge
/// open sessions.
///
/// Sessions combine in time order: an event before a session's first event is prepended,
/// one after its last event appended, and merged sessions combine older first. An
/// out-of-order event *inside* a session's span is appended, so use a commutative operator
/// for out-of-order streams (in-order streams keep any operator exact).
///
/// Open sessions live in a sorted vector reused across calls: no allocation in steady state
/// unless the number of simultaneously open sessions exceeds its high-water mark.
///
/// # Examples
///
/// ```
/// use lute_window::ops::Sum;
/// use lute_window::window::SessionWindows;
/// let mut s = SessionWindows::new(Sum, 10);
/// for t in [0, 5, 30, 12] {
///     s.insert(t, &1).unwrap();
/// }
/// let mut out = Vec::new();
/// s.advance_watermark(100, |r| out.push((r.start, r.end, r.value)));
/// assert_eq!(out, vec![(0, 22, 3), (30, 40, 1)]);
/// ```
#[derive(Debug, Clone)]
pub struct SessionWindows<M: Monoid> {
    op: M,
    gap: i64,
    /// Open sessions sorted by start; spans are disjoint.
    open: Vec<Session<M::Agg>>,
    watermark: i64,
    stats: WindowStats,
}

impl<M: Monoid> SessionWindows<M> {
    /// Sessions with inactivity gap `gap`.
    ///
    /// # Panics
    /// If `gap` is not positive.
    pub fn new(op: M, gap: i64) -> Self {
        assert!(gap > 0, "gap must be positive");
        Self {
            op,
            gap,
            open: Vec::with_capacity(16),
            watermark: i64::MIN,
            stats: WindowStats::default(),
        }
    }

    /// Whether a later watermark can still emit a session (one is open).
    pub fn has_pending(&self) -> bool {
        !self.open.is_empty()
    }

    /// Counters.
    pub fn stats(&self) -> WindowStats {
        self.stats
    }

    /// Number of open sessions.
    pub fn open_sessions(&self) -> usize {
        self.open.len()
    }

    /// Adds the partial `x` at time `t`, creating, extending or merging sessions.
    ///
    /// # Errors
    /// [`Late`] if `t` is before the watermark; the event is counted and dropped.
    pub fn insert(&mut self, t: i64, x: &M::Agg) -> Result<(), Late> {
        if t < self.watermark {
            self.stats.late += 1;
            return Err(Late {
                t,
                watermark: self.watermark,
            });
        }
        self.stats.accepted += 1;
        let gap = self.gap;
        // Sessions overlapping the event's own span [t, t + gap): s.start < t + gap and
        // t < s.last + gap. They are contiguous in the sorted vector.
        let lo = self.open.partition_point(|s| s.last + gap <= t);
        let mut hi = lo;
        while hi < self.open.len() && self.open[hi].start < t + gap {
            hi += 1;
        }
        if lo == hi {
            self.open.insert(
                lo,
                Session {
                    start: t,
                    last: t,
                    value: x.clone(),
                },
            );
            return Ok(());
        }
        // Merge sessions lo..hi into lo, older first, placing the event by time.
        let (first, rest) = self.open.split_at_mut(lo + 1);
        let s = &mut first[lo];
        let mut placed = false;
        if t < s.start {
            self.op.prepend_assign(x, &mut s.value);
            s.start = t;
            placed = true;
        }
        for other in &rest[..hi - lo - 1] {
            if !placed && t < other.start {
                self.op.combine_assign(&mut s.value, x);
                placed = true;
            }
            self.op.combine_assign(&mut s.value, &other.value);
            s.last = other.last;
        }
        if !placed {
            self.op.combine_assign(&mut s.value, x);
        }
        s.last = s.last.max(t);
        self.open.drain(lo + 1..hi);
        Ok(())
    }

    /// Advances the watermark to `w` (ignored unless it moves forward) and emits, oldest
    /// first, every session whose end (`last + gap`) is at or before `w`.
    pub fn advance_watermark(&mut self, w: i64, mut emit: impl FnMut(WindowResult<M::Agg>)) {
        if w <= self.watermark {
            return;
        }
        self.watermark = w;
        let n = self.open.partition_point(|s| s.last + self.gap <= w);
        for s in self.open.drain(..n) {
            self.stats.emitted += 1;
            emit(WindowResult {
                spec: 0,
                start: s.start,
                end: s.last + self.gap,
                value: s.value,
            });
        }
    }
}
