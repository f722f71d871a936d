//! Tumbling and sliding event-time windows over shared slices (see the [module docs](super)).

use super::{Late, WindowResult, WindowStats};
use crate::daba::DabaLite;
use crate::fifo::FifoAggregator;
use crate::monoid::Monoid;

/// A tumbling or sliding window: windows `[k·slide − size, k·slide)` for every integer `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlidingSpec {
    /// Window length in time units.
    pub size: i64,
    /// Distance between consecutive window ends.
    pub slide: i64,
}

impl SlidingSpec {
    /// Tumbling windows of `size`: sliding with `slide == size`.
    pub fn tumbling(size: i64) -> Self {
        Self { size, slide: size }
    }

    /// Sliding (hopping) windows of `size`, one ending every `slide`.
    pub fn sliding(size: i64, slide: i64) -> Self {
        Self { size, slide }
    }
}

/// An invalid window configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// No window spec was given.
    #[error("no window spec")]
    Empty,
    /// A size or slide is zero or negative.
    #[error("window spec {0}: size and slide must be positive")]
    NotPositive(usize),
}

#[derive(Debug, Clone)]
struct SpecState<M: Monoid> {
    spec: SlidingSpec,
    /// Slices per window.
    slices: usize,
    /// The last `slices` sealed slices.
    daba: DabaLite<M>,
    /// Index of the newest sealed slice that held an event (`i64::MIN` if none).
    last_nonempty: i64,
}

/// Tumbling and sliding windows over one stream, sharing slices (see the
/// [module docs](super)).
///
/// # Examples
///
/// ```
/// use lute_window::ops::Sum;
/// use lute_window::window::{SlidingSpec, SlidingWindows};
/// let mut w = SlidingWindows::new(Sum, &[SlidingSpec::sliding(10, 5)]).unwrap();
/// for t in 0..20 {
///     w.insert(t, &1).unwrap();
/// }
/// let mut out = Vec::new();
/// w.advance_watermark(15, |r| out.push((r.start, r.end, r.value)));
/// assert_eq!(out, vec![(-5, 5, 5), (0, 10, 10), (5, 15, 10)]);
/// assert!(w.insert(14, &1).is_err()); // late
/// ```
#[derive(Debug, Clone)]
pub struct SlidingWindows<M: Monoid> {
    op: M,
    specs: Vec<SpecState<M>>,
    /// Slice length `g`.
    g: i64,
    /// Open slices: slice `k` (times `k·g..(k+1)·g`) lives at `k & (len − 1)` for
    /// `sealed <= k < sealed + len`; all other entries are the identity.
    open: Vec<M::Agg>,
    /// Whether each open slice received an event.
    open_used: Vec<bool>,
    /// Number of `true` entries in `open_used`.
    used_count: usize,
    /// Open slices too far ahead for the ring (more than [`MAX_RING`] slices past `sealed`),
    /// sorted by slice index; they move into the ring as the watermark approaches.
    far: Vec<(i64, M::Agg)>,
    /// First unsealed slice.
    sealed: i64,
    watermark: i64,
    stats: WindowStats,
}

/// The ring of open slices grows up to this many slices; events further ahead of the
/// watermark wait in a sorted side list.
const MAX_RING: usize = 1 << 16;

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl<M: Monoid + Clone> SlidingWindows<M> {
    /// Windows for each of `specs` over one stream; the watermark starts at `i64::MIN`.
    ///
    /// # Errors
    /// [`SpecError`] if `specs` is empty or a size or slide is not positive.
    pub fn new(op: M, specs: &[SlidingSpec]) -> Result<Self, SpecError> {
        if specs.is_empty() {
            return Err(SpecError::Empty);
        }
        let mut g = 0;
        for (i, s) in specs.iter().enumerate() {
            if s.size <= 0 || s.slide <= 0 {
                return Err(SpecError::NotPositive(i));
            }
            g = gcd(gcd(g, s.size), s.slide);
        }
        let states = specs
            .iter()
            .map(|&spec| {
                let slices = (spec.size / g) as usize;
                SpecState {
                    spec,
                    slices,
                    daba: DabaLite::with_capacity(op.clone(), slices + 1),
                    last_nonempty: i64::MIN,
                }
            })
            .collect();
        let n = 16;
        Ok(Self {
            open: vec![op.identity(); n],
            open_used: vec![false; n],
            used_count: 0,
            far: Vec::new(),
            op,
            specs: states,
            g,
            sealed: i64::MIN,
            watermark: i64::MIN,
            stats: WindowStats::default(),
        })
    }

    /// The operator that combines events into slices (each spec's DABA Lite has a clone).
    pub fn op(&self) -> &M {
        &self.op
    }

    /// The slice length (gcd of all sizes and slides).
    pub fn slice_len(&self) -> i64 {
        self.g
    }

    /// The current watermark.
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Counters.
    pub fn stats(&self) -> WindowStats {
        self.stats
    }

    /// The lowest watermark at which [`SlidingWindows::advance_watermark`] does more than
    /// record the watermark: the end of the first unsealed slice (or `i64::MIN` before the
    /// first event or watermark). Below it, advancing seals, emits and evicts nothing, so a
    /// caller holding many states may skip them until then.
    ///
    /// A lower bound that no later [`SlidingWindows::insert`] can undercut: an event not
    /// late has `t >= watermark`, and the first unsealed slice can move down (when an event
    /// lands before it, possible while no slice has been sealed) only as far as the
    /// watermark's slice, so the value is taken from the lower of the two.
    pub fn next_due(&self) -> i64 {
        if self.sealed == i64::MIN || self.watermark == i64::MIN {
            return i64::MIN;
        }
        let k = self.sealed.min(self.watermark.div_euclid(self.g));
        k.saturating_add(1).saturating_mul(self.g)
    }

    /// Whether a later watermark can still emit a window: some slice holds an event, or a
    /// window containing one has not ended yet. `false` means the state is at rest (advancing
    /// it emits nothing until the next insert).
    pub fn has_pending(&self) -> bool {
        self.used_count != 0
            || !self.far.is_empty()
            || self.specs.iter().any(|s| {
                s.last_nonempty != i64::MIN
                    && self.sealed.saturating_sub(s.last_nonempty) < s.slices as i64
            })
    }

    /// Adds the partial `x` at time `t`: one combine into its slice.
    ///
    /// # Errors
    /// [`Late`] if `t` is before the watermark; the event is counted and dropped.
    #[inline]
    pub fn insert(&mut self, t: i64, x: &M::Agg) -> Result<(), Late> {
        if t < self.watermark {
            self.stats.late += 1;
            return Err(Late {
                t,
                watermark: self.watermark,
            });
        }
        let k = t.div_euclid(self.g);
        if self.sealed == i64::MIN {
            self.sealed = k;
        } else if k < self.sealed {
            // Only before the first slice is sealed (sealed slices end at or before the
            // watermark, so their events are late): move the ring's base down.
            self.relayout(k, self.open.len());
        }
        let off = k - self.sealed;
        if off >= self.open.len() as i64 {
            if off < MAX_RING as i64 {
                let n = (off as usize + 1).next_power_of_two();
                self.relayout(self.sealed, n);
            } else {
                self.insert_far(k, x);
                self.stats.accepted += 1;
                return Ok(());
            }
        }
        let i = (k as usize) & (self.open.len() - 1);
        self.op.combine_assign(&mut self.open[i], x);
        if !self.open_used[i] {
            self.open_used[i] = true;
            self.used_count += 1;
        }
        self.stats.accepted += 1;
        Ok(())
    }

    #[cold]
    fn insert_far(&mut self, k: i64, x: &M::Agg) {
        match self.far.binary_search_by_key(&k, |e| e.0) {
            Ok(j) => self.op.combine_assign(&mut self.far[j].1, x),
            Err(j) => self.far.insert(j, (k, x.clone())),
        }
    }

    /// Rebuilds the ring with base `base` and `len` slots (a power of two); used slices that
    /// do not fit go to the far list.
    #[cold]
    fn relayout(&mut self, base: i64, len: usize) {
        let len = len.max(self.open.len()).min(MAX_RING.max(self.open.len()));
        let mut open = vec![self.op.identity(); len];
        let mut used = vec![false; len];
        let old = self.open.len();
        let mut count = 0;
        for j in self.sealed..self.sealed + old as i64 {
            let a = (j as usize) & (old - 1);
            if self.open_used[a] {
                let v = std::mem::replace(&mut self.open[a], self.op.identity());
                if j - base < len as i64 {
                    let b = (j as usize) & (len - 1);
                    open[b] = v;
                    used[b] = true;
                    count += 1;
                } else {
                    self.insert_far(j, &v);
                }
            }
        }
        self.open = open;
        self.open_used = used;
        self.used_count = count;
        self.sealed = base;
        self.pull_far();
    }

    /// Moves far slices that now fit into the ring.
    fn pull_far(&mut self) {
        let len = self.open.len() as i64;
        let mut n = 0;
        while n < self.far.len() && self.far[n].0 - self.sealed < len {
            n += 1;
        }
        for (k, v) in self.far.drain(..n) {
            let i = (k as usize) & (self.open.len() - 1);
            self.op.combine_assign(&mut self.open[i], &v);
            if !self.open_used[i] {
                self.open_used[i] = true;
                self.used_count += 1;
            }
        }
    }

    /// Advances the watermark to `w` (ignored unless it moves forward): seals every slice
    /// ending at or before `w` and calls `emit` for every non-empty window whose end is now
    /// reached, in order of end time, then spec index.
    pub fn advance_watermark(&mut self, w: i64, mut emit: impl FnMut(WindowResult<M::Agg>)) {
        if w <= self.watermark {
            return;
        }
        self.watermark = w;
        if self.sealed == i64::MIN {
            // No event yet: nothing to seal; the first event starts the slice ring.
            self.sealed = w.div_euclid(self.g);
            return;
        }
        let target = w.div_euclid(self.g); // slices k < target end at or before w
        while self.sealed < target {
            let k = self.sealed;
            if self.used_count == 0
                && self
                    .specs
                    .iter()
                    .all(|s| k.saturating_sub(s.last_nonempty) >= s.slices as i64)
            {
                // Nothing open in the ring and every window empty: the slices up to the next
                // far slice are identities and no window would be emitted; jump in O(1).
                let next = self.far.first().map_or(target, |e| e.0.min(target));
                if next > k {
                    self.sealed = next;
                    self.pull_far();
                    continue;
                }
            }
            let i = (k as usize) & (self.open.len() - 1);
            let slice = std::mem::replace(&mut self.open[i], self.op.identity());
            let used = std::mem::replace(&mut self.open_used[i], false);
            self.used_count -= usize::from(used);
            let end = (k + 1) * self.g;
            for (si, s) in self.specs.iter_mut().enumerate() {
                s.daba.insert(slice.clone());
                if s.daba.len() > s.slices {
                    s.daba.evict();
                }
                if used {
                    s.last_nonempty = k;
                }
                if end.rem_euclid(s.spec.slide) == 0
                    && k.saturating_sub(s.last_nonempty) < s.slices as i64
                {
                    self.stats.emitted += 1;
                    emit(WindowResult {
                        spec: si,
                        start: end - s.spec.size,
                        end,
                        value: s.daba.query(),
                    });
                }
            }
            self.sealed += 1;
            if self
                .far
                .first()
                .is_some_and(|e| e.0 - self.sealed < self.open.len() as i64)
            {
                self.pull_far();
            }
        }
    }
}
