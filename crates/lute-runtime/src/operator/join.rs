//! The windowed join of two streams (`Stream::window_join`, `Keyed::window_join`).
//!
//! Both inputs are exchanged by their key into one receiver, tagged [`Side::Left`] and
//! [`Side::Right`]; the receiver's data-defined merge interleaves them by event time, so the
//! join sees the same sequence in every run. Per key and per window (tumbling or sliding, the
//! windows `[k·slide − size, k·slide)` of [`SlidingSpec`]) the operator buffers both sides;
//! when the watermark reaches a window's end it emits `f(key, left, right)` for every pair of
//! that window (an inner join), with the event time `end − 1`, in the order: window end, key,
//! left arrival order, right arrival order. Records behind the watermark are dropped and
//! counted (metric `late_dropped`).
//!
//! State: a `BTreeMap` from `(window end, key)` to the two sides' buffers. Buffers of closed
//! windows are kept on free lists and reused, so a steady stream of windows does not allocate
//! buffers; a new map entry may allocate a tree node (keyed state, accounted per window and
//! key, not per event). A record in `size / slide` overlapping windows is stored once per
//! window (as Flink does for joins).

use crate::error::OperatorError;
use crate::operator::{Emit, EventTime, Live, Metrics, Operator};
use crate::state::StateVisitor;
use lute_window::window::SlidingSpec;
use std::collections::BTreeMap;

/// A record of one of the two inputs of a join.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Side<A, B> {
    /// From the left input.
    Left(A),
    /// From the right input.
    Right(B),
}

type Buffers<A, B> = (Vec<A>, Vec<B>);

/// The per-key windowed inner join (see the module docs).
pub struct WindowJoin<K, KA, KB, F, A, B> {
    key_a: KA,
    key_b: KB,
    f: F,
    spec: SlidingSpec,
    open: BTreeMap<(EventTime, K), Buffers<A, B>>,
    free_a: Vec<Vec<A>>,
    free_b: Vec<Vec<B>>,
    watermark: EventTime,
    late: u64,
}

impl<K, KA: Clone, KB: Clone, F: Clone, A, B> Clone for WindowJoin<K, KA, KB, F, A, B> {
    fn clone(&self) -> Self {
        // A copy of a prototype that has not run (see `operator::factory`): its buffers are
        // empty, so only the configuration is copied (the records need not be `Clone` here).
        Self::new(
            self.key_a.clone(),
            self.key_b.clone(),
            self.spec,
            self.f.clone(),
        )
    }
}

impl<K, KA, KB, F, A, B> WindowJoin<K, KA, KB, F, A, B> {
    /// A join of windows `spec` keyed by `key_a` (left) and `key_b` (right), emitting
    /// `f(key, left, right)` per pair. The spec must be valid (checked by the builder).
    pub fn new(key_a: KA, key_b: KB, spec: SlidingSpec, f: F) -> Self {
        Self {
            key_a,
            key_b,
            f,
            spec,
            open: BTreeMap::new(),
            free_a: Vec::new(),
            free_b: Vec::new(),
            watermark: EventTime::MIN,
            late: 0,
        }
    }

    /// The window ends `e` with `e - size <= t < e`, as `first..=last` multiples of slide.
    fn ends(&self, t: EventTime) -> std::ops::RangeInclusive<i64> {
        let first = t.div_euclid(self.spec.slide) + 1;
        let last = t.saturating_add(self.spec.size).div_euclid(self.spec.slide);
        first..=last
    }
}

impl<K, KA, KB, F, A, B, U> Operator<Side<A, B>> for WindowJoin<K, KA, KB, F, A, B>
where
    K: Ord + Clone + Send + 'static,
    KA: FnMut(&A) -> K + Clone + Send + 'static,
    KB: FnMut(&B) -> K + Clone + Send + 'static,
    F: FnMut(&K, &A, &B) -> U + Clone + Send + 'static,
    A: Clone + Send + 'static,
    B: Clone + Send + 'static,
{
    type Out = U;

    fn process<E: Emit<U>>(
        &mut self,
        ts: EventTime,
        x: Side<A, B>,
        _out: &mut E,
    ) -> Result<(), OperatorError> {
        if ts < self.watermark {
            self.late += 1;
            return Ok(());
        }
        let key = match &x {
            Side::Left(a) => (self.key_a)(a),
            Side::Right(b) => (self.key_b)(b),
        };
        let mut key = Some(key);
        let ends = self.ends(ts);
        let last = *ends.end();
        for k in ends {
            let end = k.saturating_mul(self.spec.slide);
            // Probe with an owned key (no clone per record); clone only for a new entry that
            // is not the last window of this record.
            let probe = (
                end,
                key.take().expect("the key is put back after each probe"),
            );
            let (va, vb) = match self.open.get_mut(&probe) {
                Some(v) => {
                    key = Some(probe.1);
                    v
                }
                None => {
                    let (end, k2) = probe;
                    let stored = if k < last {
                        let c = k2.clone();
                        key = Some(k2);
                        c
                    } else {
                        k2
                    };
                    let bufs = (
                        self.free_a.pop().unwrap_or_default(),
                        self.free_b.pop().unwrap_or_default(),
                    );
                    self.open.entry((end, stored)).or_insert(bufs)
                }
            };
            match &x {
                Side::Left(a) => va.push(a.clone()),
                Side::Right(b) => vb.push(b.clone()),
            }
            if key.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn on_watermark<E: Emit<U>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        if wm <= self.watermark {
            return Ok(Some(wm));
        }
        self.watermark = wm;
        // A watermark equal to a window's end closes it (later records are at or after it).
        while let Some(entry) = self.open.first_entry() {
            if entry.key().0 > wm {
                break;
            }
            let ((end, key), (mut va, mut vb)) = entry.remove_entry();
            for a in &va {
                for b in &vb {
                    out.emit(end - 1, (self.f)(&key, a, b))?;
                }
            }
            va.clear();
            vb.clear();
            self.free_a.push(va);
            self.free_b.push(vb);
        }
        Ok(Some(wm))
    }

    fn state(&mut self, state: &mut dyn StateVisitor) {
        state.visit("windows", &mut self.open);
        state.visit("watermark", &mut self.watermark);
        state.visit("late", &mut self.late);
    }

    fn live(&self, live: &mut Live) {
        live.late += self.late;
    }

    fn metrics(&self, m: &mut Metrics) {
        m.add("late_dropped", self.late);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Out(Vec<(EventTime, (u32, i32, i32))>);
    impl Emit<(u32, i32, i32)> for Out {
        fn emit(&mut self, ts: EventTime, x: (u32, i32, i32)) -> Result<(), OperatorError> {
            self.0.push((ts, x));
            Ok(())
        }
    }

    #[test]
    fn pairs_per_key_and_window() {
        let mut j = WindowJoin::new(
            |a: &(u32, i32)| a.0,
            |b: &(u32, i32)| b.0,
            SlidingSpec::tumbling(10),
            |k: &u32, a: &(u32, i32), b: &(u32, i32)| (*k, a.1, b.1),
        );
        let mut out = Out(Vec::new());
        j.process(1, Side::Left((1, 10)), &mut out).unwrap();
        j.process(2, Side::Right((1, 20)), &mut out).unwrap();
        j.process(3, Side::Right((2, 21)), &mut out).unwrap(); // no left for key 2
        j.process(4, Side::Left((1, 11)), &mut out).unwrap();
        j.process(12, Side::Right((1, 22)), &mut out).unwrap(); // next window
        assert_eq!(j.on_watermark(9, &mut out).unwrap(), Some(9));
        assert!(
            out.0.is_empty(),
            "window [0, 10) is open until watermark 10"
        );
        j.on_watermark(10, &mut out).unwrap();
        assert_eq!(out.0, vec![(9, (1, 10, 20)), (9, (1, 11, 20))]);
        j.process(5, Side::Left((1, 12)), &mut out).unwrap(); // late: dropped
        j.on_watermark(EventTime::MAX, &mut out).unwrap();
        assert_eq!(out.0.len(), 2, "window [10, 20) has no left record");
        assert_eq!(j.late, 1);
    }

    #[test]
    fn sliding_windows_pair_in_every_overlap() {
        let mut j = WindowJoin::new(
            |a: &(u32, i32)| a.0,
            |b: &(u32, i32)| b.0,
            SlidingSpec::sliding(10, 5),
            |k: &u32, a: &(u32, i32), b: &(u32, i32)| (*k, a.1, b.1),
        );
        let mut out = Out(Vec::new());
        j.process(7, Side::Left((1, 1)), &mut out).unwrap(); // windows [0,10) and [5,15)
        j.process(9, Side::Right((1, 2)), &mut out).unwrap(); // the same two
        j.process(12, Side::Right((1, 3)), &mut out).unwrap(); // [5,15) and [10,20)
        j.on_watermark(EventTime::MAX, &mut out).unwrap();
        assert_eq!(
            out.0,
            vec![(9, (1, 1, 2)), (14, (1, 1, 2)), (14, (1, 1, 3))]
        );
    }
}
