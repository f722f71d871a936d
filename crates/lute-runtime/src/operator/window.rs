//! The keyed event-time window operator: per key, a window state from `lute-window`:
//! [`SlidingWindows`] (tumbling and sliding windows over shared slices, worst-case O(1) per
//! event) or [`SessionWindows`] (gap-based sessions); see [`WindowState`].
//!
//! - Late events (event time before the operator's watermark) are handled by the late
//!   policy, a type parameter that also decides the output type: [`DropLate`] drops and counts
//!   them (metric `late_dropped`); [`EmitLate`] emits them as [`Windowed::Late`] in the same
//!   output stream as the results (a side output the next operator can split off; metric
//!   `late_emitted`). Out-of-orderness within the watermark's delay (see the source's
//!   [`crate::WatermarkStrategy`]) is never late. An *allowed lateness* `l`
//!   ([`WindowOp::set_allowed_lateness`], `Keyed::allowed_lateness`) keeps windows open `l`
//!   time units past the watermark: a window fires once, when the watermark reaches its end
//!   plus `l`, including every event up to `l` behind the watermark; only events more than `l`
//!   behind are late. The operator forwards its input watermark minus `l`, so its results are
//!   never late downstream. (Flink fires on time and again per late event; here the one firing
//!   is complete and deterministic, at the price of `l` more latency.)
//! - Results are emitted when the watermark passes a window's end, keys in ascending order
//!   and, per key, windows in order of end time: the output order is defined by the data.
//! - End of stream (watermark `EventTime::MAX`) flushes every open window.
//! - Keyed state: a [`KeyedTable`] (hash index over dense `(key, window state)` entries, see
//!   [`crate::state::table`]), plus the *active* keys
//!   (those whose state can still emit: [`WindowState::has_pending`]) in key order. A watermark
//!   advances only the active keys, so its cost follows the keys with open windows, not every
//!   key ever seen; and a watermark below every active state's [`WindowState::next_due`]
//!   (for sliding windows: the end of the first unsealed slice) advances none. Keys that
//!   become active are collected unsorted and merged into the key order once per advancing
//!   watermark, not inserted one by one.
//! - Eviction: a key whose windows have all fired (at rest) holds nothing a later event needs:
//!   a fresh state advanced to the watermark would behave the same. So after each watermark
//!   the keys that came to rest are evicted: their table entry is deleted (backward-shift
//!   deletion, no tombstones), the last state moves into the hole, and the window state is
//!   kept in a spare list. A key that (re)appears takes a spare state, recycled
//!   ([`WindowState::recycle`]: nothing to do for the built-in states; a clone of the
//!   prototype by default for others) and advanced to the watermark; only when no spare is
//!   left does it allocate (a clone of the prototype, and the
//!   table's growth). Memory therefore follows the peak number of keys with open windows, not
//!   every key ever seen, and a workload whose keys churn reaches an allocation-free steady
//!   state. Metric `keys_evicted` counts evictions.

use crate::error::OperatorError;
use crate::operator::{Emit, EventTime, Live, Metrics, Operator};
use crate::state::StateVisitor;
use crate::state::table::{KeyedTable, hash_of};
use lute_window::window::{Late, SessionWindows, SlidingWindows, WindowResult};
use lute_window::{Lift, Monoid};
use std::hash::Hash;

#[cold]
#[inline(never)]
fn out_of_step(l: Late) -> OperatorError {
    OperatorError::new(format!("window state out of step: {l}"))
}

/// The per-key state of a window operator: one of the window layer's assigners.
pub trait WindowState: Clone + Send + 'static {
    /// The aggregation.
    type Op: Monoid;
    /// The aggregation operator.
    fn op(&self) -> &Self::Op;
    /// Adds an event's partial aggregate at time `t`.
    ///
    /// # Errors
    /// [`Late`] if `t` is before the state's watermark.
    fn insert(&mut self, t: EventTime, x: &<Self::Op as Monoid>::Agg) -> Result<(), Late>;
    /// Advances the watermark, emitting every window it closes.
    fn advance(&mut self, w: EventTime, emit: impl FnMut(WindowResult<<Self::Op as Monoid>::Agg>));
    /// Whether a later watermark can still emit (`false`: at rest until the next insert). A
    /// key at rest is evicted (see the module docs) and its state later serves another key,
    /// after [`WindowState::recycle`].
    fn has_pending(&self) -> bool;
    /// Makes this state, at rest and evicted, ready to serve a new key: afterwards it must
    /// behave exactly as a clone of `proto` would. Default: `*self = proto.clone()` (correct
    /// for any state; allocates like a clone). The built-in states override it with nothing:
    /// at rest they hold no data, so reuse allocates nothing.
    fn recycle(&mut self, proto: &Self) {
        self.clone_from(proto);
    }
    /// The lowest watermark at which [`WindowState::advance`] can do more than record it
    /// (emit, seal, or change [`WindowState::has_pending`]). The operator advances no state
    /// while the watermark stays below every active state's `next_due`, and checks lateness
    /// itself, so a state's own watermark may lag until then. It reads the value after each
    /// `advance`, so [`WindowState::insert`] must never lower it. Default: `EventTime::MIN`
    /// (advance at every watermark: always correct).
    fn next_due(&self) -> EventTime {
        EventTime::MIN
    }
}

impl<M: Monoid + Clone + Send + 'static> WindowState for SlidingWindows<M>
where
    M::Agg: Send,
{
    type Op = M;
    fn op(&self) -> &M {
        SlidingWindows::op(self)
    }
    fn insert(&mut self, t: EventTime, x: &M::Agg) -> Result<(), Late> {
        SlidingWindows::insert(self, t, x)
    }
    fn advance(&mut self, w: EventTime, emit: impl FnMut(WindowResult<M::Agg>)) {
        self.advance_watermark(w, emit);
    }
    fn has_pending(&self) -> bool {
        SlidingWindows::has_pending(self)
    }
    fn next_due(&self) -> EventTime {
        SlidingWindows::next_due(self)
    }
    fn recycle(&mut self, _proto: &Self) {
        // At rest every slice has been emitted and dropped: nothing of the old key remains
        // (advancing it to the watermark makes it a fresh state's equal).
    }
}

/// Session windows plus their operator (the session state does not expose it).
#[derive(Debug, Clone)]
pub struct Sessions<M: Monoid> {
    pub(crate) op: M,
    pub(crate) state: SessionWindows<M>,
}

impl<M: Monoid + Clone + Send + 'static> WindowState for Sessions<M>
where
    M::Agg: Send,
{
    type Op = M;
    fn op(&self) -> &M {
        &self.op
    }
    fn insert(&mut self, t: EventTime, x: &M::Agg) -> Result<(), Late> {
        self.state.insert(t, x)
    }
    fn advance(&mut self, w: EventTime, emit: impl FnMut(WindowResult<M::Agg>)) {
        self.state.advance_watermark(w, emit);
    }
    fn recycle(&mut self, _proto: &Self) {
        // At rest no session is open: nothing of the old key remains.
    }
    fn has_pending(&self) -> bool {
        self.state.has_pending()
    }
}

/// What a window operator does with late events; it also decides the operator's output type.
pub trait LatePolicy<In, K, A>: Clone + Send + 'static {
    /// Output record type.
    type Out;
    /// Name of the late-event counter in the job's [`Metrics`].
    const METRIC: &'static str;
    /// A window result for key `k`.
    fn result(k: K, r: WindowResult<A>) -> Self::Out;
    /// A late record: `Some` to emit it (with its own event time), `None` to drop it.
    fn late(x: In) -> Option<Self::Out>;
}

/// Drops late events and counts them (metric `late_dropped`). Output: `(key, result)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DropLate;

impl<In, K, A> LatePolicy<In, K, A> for DropLate {
    type Out = (K, WindowResult<A>);
    const METRIC: &'static str = "late_dropped";
    #[inline(always)]
    fn result(k: K, r: WindowResult<A>) -> Self::Out {
        (k, r)
    }
    #[inline(always)]
    fn late(_x: In) -> Option<Self::Out> {
        None
    }
}

/// Emits late events as [`Windowed::Late`] next to the results (a side output in the same
/// stream; metric `late_emitted`).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmitLate;

/// Output of a window operator with [`EmitLate`].
#[derive(Debug, Clone, PartialEq)]
pub enum Windowed<K, A, T> {
    /// A window result.
    Window(K, WindowResult<A>),
    /// A record that arrived after the watermark passed its event time.
    Late(T),
}

impl<In: Send + 'static, K, A> LatePolicy<In, K, A> for EmitLate {
    type Out = Windowed<K, A, In>;
    const METRIC: &'static str = "late_emitted";
    #[inline(always)]
    fn result(k: K, r: WindowResult<A>) -> Self::Out {
        Windowed::Window(k, r)
    }
    #[inline(always)]
    fn late(x: In) -> Option<Self::Out> {
        Some(Windowed::Late(x))
    }
}

/// A keyed tumbling/sliding window aggregation (see the module docs).
pub struct WindowOp<K, KF, VF, W, L = DropLate> {
    key: KF,
    value: VF,
    proto: W,
    /// Per key: its window state and whether it is in `active`.
    states: KeyedTable<K, Slot<W>>,
    /// Indices into `states` of the keys that can still emit, in ascending key order: the
    /// emission order.
    active: Vec<u32>,
    /// Keys activated since the last advancing watermark, in arrival order: sorted and merged
    /// into `active` by the next one (one merge per watermark, not a sorted insert, an
    /// O(active) shift, per new key).
    fresh: Vec<u32>,
    /// Scratch for that merge.
    merged: Vec<u32>,
    /// The input watermark minus the allowed lateness: what the window states see.
    watermark: EventTime,
    /// The lowest `next_due` of the active states (a lower bound): watermarks below it
    /// advance no state (see [`WindowState::next_due`]).
    due: EventTime,
    lateness: EventTime,
    late: u64,
    /// Window states of evicted keys (at rest), reused for new keys.
    spare: Vec<W>,
    /// Scratch for one watermark: indices of the keys that came to rest.
    resting: Vec<u32>,
    evicted: u64,
    policy: std::marker::PhantomData<fn() -> L>,
}

/// A key's window state and whether the key is in the active list.
#[derive(Debug, Clone)]
pub struct Slot<W> {
    state: W,
    active: bool,
}

impl<K: Clone, KF: Clone, VF: Clone, W: Clone, L> Clone for WindowOp<K, KF, VF, W, L> {
    fn clone(&self) -> Self {
        // A plain copy (of a prototype that has not run: see `operator::factory`); the scratch
        // lists start empty.
        Self {
            key: self.key.clone(),
            value: self.value.clone(),
            proto: self.proto.clone(),
            states: self.states.clone(),
            active: self.active.clone(),
            fresh: self.fresh.clone(),
            merged: Vec::new(),
            watermark: self.watermark,
            due: self.due,
            lateness: self.lateness,
            late: self.late,
            spare: Vec::new(),
            resting: Vec::new(),
            evicted: self.evicted,
            policy: self.policy,
        }
    }
}

impl<K, KF, VF, W, L> WindowOp<K, KF, VF, W, L> {
    /// A window operator over `windows` (the prototype cloned for every new key), with the
    /// late policy `L`.
    pub fn new(key: KF, value: VF, windows: W) -> Self {
        Self {
            key,
            value,
            proto: windows,
            states: KeyedTable::new(),
            active: Vec::new(),
            fresh: Vec::new(),
            merged: Vec::new(),
            watermark: EventTime::MIN,
            due: EventTime::MIN,
            lateness: 0,
            late: 0,
            spare: Vec::new(),
            resting: Vec::new(),
            evicted: 0,
            policy: std::marker::PhantomData,
        }
    }

    /// Keeps windows open `lateness` time units past the watermark (see the module docs).
    ///
    /// # Errors
    /// [`crate::BuildError::Zero`]-like refusal for a negative lateness.
    pub fn set_allowed_lateness(&mut self, lateness: EventTime) -> Result<(), crate::BuildError> {
        if lateness < 0 {
            return Err(crate::BuildError::Negative {
                what: "allowed lateness",
            });
        }
        self.lateness = lateness;
        Ok(())
    }

    /// Late events seen so far (dropped or emitted, per the policy).
    pub fn late(&self) -> u64 {
        self.late
    }
}

impl<K: Ord + Hash + Clone, KF, VF, W: Clone, L> WindowOp<K, KF, VF, W, L> {
    /// Brings state `i` (at rest or new) up to the operator's watermark (it emits nothing: at
    /// rest) and marks it active; it joins the sorted active list at the next advancing
    /// watermark ([`Self::merge_fresh`]).
    #[cold]
    #[inline(never)]
    fn activate(&mut self, i: usize)
    where
        W: WindowState,
    {
        let (_, slot) = self.states.entry_mut(i);
        slot.state.advance(self.watermark, |_| {});
        // Only `advance` can lower a state's due time (`insert` never does), so the operator's
        // lower bound needs updating here and in the scans, not per record.
        self.due = self.due.min(slot.state.next_due());
        slot.active = true;
        self.fresh.push(i as u32);
    }

    /// Sorts the keys activated since the last advancing watermark and merges them into
    /// `active` (keys are distinct, so the key order is total).
    fn merge_fresh(&mut self)
    where
        K: Ord,
    {
        if self.fresh.is_empty() {
            return;
        }
        let Self {
            states,
            active,
            fresh,
            merged,
            ..
        } = self;
        let key = |i: &u32| &states.entry(*i as usize).0;
        fresh.sort_unstable_by(|a, b| key(a).cmp(key(b)));
        merged.clear();
        merged.reserve(active.len() + fresh.len());
        let (mut a, mut f) = (0, 0);
        while a < active.len() && f < fresh.len() {
            if key(&active[a]) < key(&fresh[f]) {
                merged.push(active[a]);
                a += 1;
            } else {
                merged.push(fresh[f]);
                f += 1;
            }
        }
        merged.extend_from_slice(&active[a..]);
        merged.extend_from_slice(&fresh[f..]);
        fresh.clear();
        std::mem::swap(active, merged);
    }

    /// Adds a new key, at rest until [`Self::activate`]: its state is a spare one (an evicted
    /// key's, at rest) or, if none is left, a clone of the prototype (allocates, as does the
    /// table's growth).
    #[cold]
    #[inline(never)]
    fn add(&mut self, k: K, h: u64) -> usize
    where
        W: WindowState,
    {
        let state = match self.spare.pop() {
            Some(mut w) => {
                w.recycle(&self.proto);
                w
            }
            None => self.proto.clone(),
        };
        self.states.insert_new(
            k,
            h,
            Slot {
                state,
                active: false,
            },
        )
    }

    /// Evicts state `i` (at rest, not in `active`): the table moves its last entry into the
    /// hole (re-pointed here in `active` if it is active), and the window state is kept as a
    /// spare.
    fn evict(&mut self, i: usize) {
        let last = self.states.len() - 1;
        if i != last && self.states.entry(last).1.active {
            // Evictions follow `merge_fresh` in the same watermark: every active key is in
            // `active`.
            debug_assert!(self.fresh.is_empty());
            let k = &self.states.entry(last).0;
            let p = self
                .active
                .partition_point(|&s| self.states.entry(s as usize).0 < *k);
            debug_assert_eq!(self.active.get(p), Some(&(last as u32)));
            self.active[p] = i as u32;
        }
        let (_, slot) = self.states.swap_remove(i);
        self.spare.push(slot.state);
        self.evicted += 1;
    }
}

impl<In, K, V, KF, VF, W, L> Operator<In> for WindowOp<K, KF, VF, W, L>
where
    K: Ord + Hash + Clone + Send + 'static,
    KF: FnMut(&In) -> K + Clone + Send + 'static,
    VF: FnMut(In) -> V + Clone + Send + 'static,
    W: WindowState,
    W::Op: Lift<V>,
    L: LatePolicy<In, K, <W::Op as Monoid>::Agg>,
{
    type Out = L::Out;

    #[inline(always)]
    fn process<E: Emit<Self::Out>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        if ts < self.watermark {
            self.late += 1;
            return match L::late(x) {
                Some(y) => out.emit(ts, y),
                None => Ok(()),
            };
        }
        let k = (self.key)(&x);
        let agg = self.proto.op().lift((self.value)(x));
        let h = hash_of(&k);
        let i = match self.states.find(&k, h) {
            Some(i) => i,
            None => self.add(k, h),
        };
        let mut slot = self.states.entry_mut(i).1;
        if !slot.active {
            // At rest since some watermark (or new): bring it up to date (it emits nothing).
            self.activate(i);
            slot = self.states.entry_mut(i).1;
        }
        // Not late for the operator, hence not for the key's windows (whose watermark is the
        // operator's, or lags it while no state is due).
        match slot.state.insert(ts, &agg) {
            Ok(()) => Ok(()),
            Err(l) => Err(out_of_step(l)),
        }
    }

    fn on_watermark<E: Emit<Self::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        // End of stream (MAX) closes everything; otherwise hold windows `lateness` longer.
        let wm = if wm == EventTime::MAX {
            wm
        } else {
            wm.saturating_sub(self.lateness)
        };
        if wm <= self.watermark {
            return Ok(Some(self.watermark.max(wm)));
        }
        self.watermark = wm;
        if wm < self.due {
            // No active state would seal or emit anything: skip them all (O(1) per watermark
            // instead of O(active keys)).
            return Ok(Some(wm));
        }
        self.merge_fresh();
        let mut failed = None;
        let mut rested = false;
        let mut due = EventTime::MAX;
        for &i in &self.active {
            let (k, slot) = self.states.entry_mut(i as usize);
            let w = &mut slot.state;
            w.advance(wm, |r| {
                if failed.is_none()
                    && let Err(e) = out.emit(r.timestamp(), L::result(k.clone(), r))
                {
                    failed = Some(e);
                }
            });
            rested |= !w.has_pending();
            due = due.min(w.next_due());
        }
        self.due = due;
        if rested {
            let Self {
                active,
                states,
                resting,
                ..
            } = self;
            resting.clear();
            active.retain(|&i| {
                let (_, s) = states.entry_mut(i as usize);
                s.active = s.state.has_pending();
                if !s.active {
                    resting.push(i);
                }
                s.active
            });
            // Highest index first: every state that moves into a hole is one that stays.
            resting.sort_unstable_by(|a, b| b.cmp(a));
            for j in 0..self.resting.len() {
                let i = self.resting[j] as usize;
                self.evict(i);
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(Some(wm)),
        }
    }

    fn state(&mut self, state: &mut dyn StateVisitor) {
        state.visit("keys", &mut self.states);
        state.visit("active", &mut self.active);
        state.visit("fresh", &mut self.fresh);
        state.visit("watermark", &mut self.watermark);
        state.visit("due", &mut self.due);
        state.visit("late", &mut self.late);
    }

    fn live(&self, live: &mut Live) {
        live.late += self.late;
    }

    fn metrics(&self, m: &mut Metrics) {
        m.add(L::METRIC, self.late);
        m.add("keys_evicted", self.evicted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lute_window::ops::Sum;
    use lute_window::window::SlidingSpec;
    use std::collections::BTreeMap;

    struct Out(Vec<(EventTime, (String, WindowResult<i64>))>);
    impl Emit<(String, WindowResult<i64>)> for Out {
        fn emit(
            &mut self,
            ts: EventTime,
            x: (String, WindowResult<i64>),
        ) -> Result<(), OperatorError> {
            self.0.push((ts, x));
            Ok(())
        }
    }

    /// A window operator keyed by the record's name, summing its value (the tests' usual one).
    #[allow(clippy::type_complexity)]
    fn by_name<W>(
        windows: W,
    ) -> WindowOp<String, fn(&(String, i64)) -> String, fn((String, i64)) -> i64, W, DropLate> {
        WindowOp::new(|x| x.0.clone(), |x| x.1, windows)
    }

    /// Thousands of keys (the index table grows many times), against a `BTreeMap`: every key
    /// finds its own state, and results come out in key order.
    #[test]
    fn keyed_state_index_finds_every_key() {
        let windows = SlidingWindows::new(Sum, &[SlidingSpec::tumbling(100)]).unwrap();
        let mut op = by_name(windows);
        let mut expect: BTreeMap<String, i64> = BTreeMap::new();
        let mut out = Out(Vec::new());
        for i in 0..20_000i64 {
            let key = format!("k{}", (i * 7919) % 3001);
            *expect.entry(key.clone()).or_default() += i;
            op.process(i % 100, (key, i), &mut out).unwrap();
        }
        assert!(
            op.states.slots().len() >= 2 * op.states.len(),
            "load at most 1/2"
        );
        op.on_watermark(100, &mut out).unwrap();
        let got: Vec<(String, i64)> = out.0.drain(..).map(|(_, (k, r))| (k, r.value)).collect();
        let want: Vec<(String, i64)> = expect.into_iter().collect();
        assert_eq!(got, want);
        // Every window has ended: every key is evicted, its state kept as a spare.
        assert!(op.active.is_empty() && op.states.is_empty());
        assert!(op.states.slots().iter().all(|&e| e == 0));
        assert_eq!((op.spare.len(), op.evicted), (3001, 3001));
        // A key at rest comes back: it is brought up to the watermark and counted again.
        op.process(150, ("k7".to_owned(), 5), &mut out).unwrap();
        assert_eq!(
            (
                op.active.len() + op.fresh.len(),
                op.states.len(),
                op.spare.len()
            ),
            (1, 1, 3000)
        );
        op.on_watermark(200, &mut out).unwrap();
        let again: Vec<(String, i64, i64)> = out
            .0
            .into_iter()
            .map(|(_, (k, r))| (k, r.start, r.value))
            .collect();
        assert_eq!(again, [("k7".to_owned(), 100, 5)]);
    }

    /// Keys that churn (each key lives for a few windows, then never comes back) and keys
    /// that come and go, against a `BTreeMap` of (window, key) sums: every result matches,
    /// live states stay bounded by the keys with open windows, and once the spare list has
    /// filled no further prototype clone is needed.
    #[test]
    fn evicted_keys_free_their_state_and_results_stay_exact() {
        let windows = SlidingWindows::new(Sum, &[SlidingSpec::tumbling(100)]).unwrap();
        let mut op = by_name(windows);
        let mut expect: BTreeMap<(i64, String), i64> = BTreeMap::new();
        let mut out = Out(Vec::new());
        let mut max_live = 0;
        let mut spares_after_warmup = None;
        for i in 0..60_000i64 {
            // 40 keys per era of 1000 events, a new set each era; plus 5 keys that appear
            // in every other window only.
            let key = if i % 3 == 0 {
                format!("steady{}", (i / 3) % 5)
            } else {
                format!("era{}-{}", i / 1000, (i * 7919) % 40)
            };
            if i % 3 == 0 && (i / 100) % 2 == 1 {
                // The steady keys skip odd windows (so they rest and come back).
            } else {
                *expect.entry((i / 100, key.clone())).or_default() += i;
                op.process(i, (key, i), &mut out).unwrap();
            }
            if (i + 1) % 100 == 0 {
                op.on_watermark(i + 1, &mut out).unwrap();
                max_live = max_live.max(op.states.len());
                if i + 1 == 10_000 {
                    spares_after_warmup = Some(op.spare.len() + op.states.len());
                }
            }
        }
        op.on_watermark(EventTime::MAX, &mut out).unwrap();
        let mut got: Vec<((i64, String), i64)> = out
            .0
            .into_iter()
            .map(|(_, (k, r))| ((r.start / 100, k), r.value))
            .collect();
        got.sort();
        let want: Vec<((i64, String), i64)> = expect.into_iter().collect();
        assert_eq!(got, want);
        assert!(max_live <= 45, "live states {max_live}");
        assert!(op.states.is_empty() && op.active.is_empty());
        // Every state ever made is accounted for as a spare; none was made after warm-up.
        assert_eq!(Some(op.spare.len()), spares_after_warmup);
        assert!(op.evicted > 2_000, "{}", op.evicted);
    }

    /// The index table under random inserts and evictions (backward-shift deletion): every
    /// live key stays reachable and maps to its own state, and the table holds exactly one
    /// entry per state.
    #[test]
    fn table_deletion_keeps_every_key_reachable() {
        let windows = SlidingWindows::new(Sum, &[SlidingSpec::tumbling(100)]).unwrap();
        let mut op = WindowOp::<_, _, _, _, DropLate>::new(
            |x: &(u64, i64)| x.0,
            |x: (u64, i64)| x.1,
            windows,
        );
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut live: Vec<u64> = Vec::new();
        for round in 0..40_000 {
            // Grow to ~3000 keys, then hover (inserts and evictions alike).
            let grow = live.len() < 3000 || rnd() % 2 == 0;
            if grow || live.is_empty() {
                let k = rnd() % 1_000_000;
                if op.states.find(&k, hash_of(&k)).is_none() {
                    op.add(k, hash_of(&k));
                    live.push(k);
                }
            } else {
                let k = live.swap_remove((rnd() % live.len() as u64) as usize);
                let i = op
                    .states
                    .find(&k, hash_of(&k))
                    .expect("a live key is found");
                op.evict(i);
            }
            if round % 499 == 0 {
                for k in &live {
                    let i = op.states.find(k, hash_of(k)).expect("a live key is found");
                    assert_eq!(op.states.entry(i).0, *k);
                }
                let entries = op.states.slots().iter().filter(|&&e| e != 0).count();
                assert_eq!(entries, op.states.len());
                assert_eq!(op.states.len(), live.len());
            }
        }
    }

    /// Watermarks below every active state's `next_due` advance no state (a test state counts
    /// the calls); the first at or past it advances them all, and results are unchanged.
    #[test]
    fn watermarks_below_the_next_due_skip_the_states() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static ADVANCES: AtomicU64 = AtomicU64::new(0);
        #[derive(Clone)]
        struct Counted(SlidingWindows<Sum>);
        impl WindowState for Counted {
            type Op = Sum;
            fn op(&self) -> &Sum {
                self.0.op()
            }
            fn insert(&mut self, t: EventTime, x: &i64) -> Result<(), Late> {
                self.0.insert(t, x)
            }
            fn advance(&mut self, wm: EventTime, emit: impl FnMut(WindowResult<i64>)) {
                ADVANCES.fetch_add(1, Ordering::Relaxed);
                self.0.advance_watermark(wm, emit);
            }
            fn has_pending(&self) -> bool {
                self.0.has_pending()
            }
            fn next_due(&self) -> EventTime {
                self.0.next_due()
            }
        }
        let proto = Counted(SlidingWindows::new(Sum, &[SlidingSpec::sliding(100, 50)]).unwrap());
        let mut op = by_name(proto);
        let mut out = Out(Vec::new());
        for k in ["a", "b", "c"] {
            op.process(10, (k.to_owned(), 1), &mut out).unwrap(); // slices of 50: the first ends at 50
        }
        // The first watermark advances every state and learns their next due time (50).
        op.on_watermark(11, &mut out).unwrap();
        let activations = ADVANCES.load(Ordering::Relaxed);
        for wm in 12..50 {
            op.on_watermark(wm, &mut out).unwrap();
        }
        assert_eq!(
            ADVANCES.load(Ordering::Relaxed),
            activations,
            "advanced below next_due"
        );
        op.process(49, ("a".to_owned(), 1), &mut out).unwrap(); // not late: the operator's watermark is 49
        op.on_watermark(50, &mut out).unwrap();
        assert_eq!(ADVANCES.load(Ordering::Relaxed), activations + 3);
        op.on_watermark(100, &mut out).unwrap();
        // Windows [-50, 50) at 50 and [0, 100) at 100, per key in key order.
        let got: Vec<(&str, i64, i64)> = out
            .0
            .iter()
            .map(|(_, (k, r))| (k.as_str(), r.start, r.value))
            .collect();
        assert_eq!(
            got,
            [
                ("a", -50, 2),
                ("b", -50, 1),
                ("c", -50, 1),
                ("a", 0, 2),
                ("b", 0, 1),
                ("c", 0, 1)
            ]
        );
        op.on_watermark(20, &mut out).unwrap(); // an older watermark changes nothing
        assert_eq!(out.0.len(), 6);
    }

    /// A key whose first event is ahead of the watermark and whose next event lands before it
    /// (out of order, not late) still has its earlier window emitted on time: the skip must
    /// not trust a due time the second insert lowers.
    #[test]
    fn an_out_of_order_event_before_the_first_still_fires_on_time() {
        let windows = SlidingWindows::new(Sum, &[SlidingSpec::tumbling(100)]).unwrap();
        let mut op = by_name(windows);
        let mut out = Out(Vec::new());
        op.process(1_000, ("a".to_owned(), 1), &mut out).unwrap();
        op.on_watermark(300, &mut out).unwrap();
        op.process(500, ("a".to_owned(), 2), &mut out).unwrap();
        op.on_watermark(600, &mut out).unwrap();
        let got: Vec<(i64, i64)> = out.0.iter().map(|(_, (_, r))| (r.start, r.value)).collect();
        assert_eq!(
            got,
            [(500, 2)],
            "window [500, 600) not emitted at watermark 600"
        );
        op.on_watermark(EventTime::MAX, &mut out).unwrap();
        assert_eq!(out.0.len(), 2);
    }

    /// A user-defined state that keeps data across rest (here: a count of every event it
    /// ever saw) is recycled to a clone of the prototype before it serves another key, so an
    /// evicted key's data never leaks into a new one.
    #[test]
    fn a_recycled_state_starts_fresh_for_the_next_key() {
        #[derive(Clone)]
        struct Lifetime {
            w: SlidingWindows<Sum>,
            events: i64,
        }
        impl WindowState for Lifetime {
            type Op = Sum;
            fn op(&self) -> &Sum {
                self.w.op()
            }
            fn insert(&mut self, t: EventTime, x: &i64) -> Result<(), Late> {
                self.events += 1;
                self.w.insert(t, x)
            }
            fn advance(&mut self, wm: EventTime, mut emit: impl FnMut(WindowResult<i64>)) {
                let n = self.events;
                self.w.advance_watermark(wm, |r| {
                    emit(WindowResult {
                        value: r.value * 1000 + n,
                        ..r
                    })
                });
            }
            fn has_pending(&self) -> bool {
                self.w.has_pending()
            }
        }
        let proto = Lifetime {
            w: SlidingWindows::new(Sum, &[SlidingSpec::tumbling(100)]).unwrap(),
            events: 0,
        };
        let mut op = by_name(proto);
        let mut out = Out(Vec::new());
        for t in 0..5 {
            op.process(t, ("a".to_owned(), 1), &mut out).unwrap();
        }
        op.on_watermark(100, &mut out).unwrap(); // `a` fires and is evicted
        assert_eq!(op.spare.len(), 1);
        op.process(150, ("b".to_owned(), 1), &mut out).unwrap(); // `b` takes the spare
        op.on_watermark(200, &mut out).unwrap();
        let got: Vec<(String, i64)> = out.0.into_iter().map(|(_, (k, r))| (k, r.value)).collect();
        assert_eq!(got, [("a".to_owned(), 5005), ("b".to_owned(), 1001)]);
    }
}
