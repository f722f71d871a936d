//! The window layer against naive oracles: sliding/tumbling windows over shared slices,
//! session windows and count windows, in order and out of order, with late events and
//! watermark jumps.

mod common;

use common::{Rng, times};
use lute_window::ops::{Mat2, Sum};
use lute_window::window::{
    CountWindows, Late, SessionWindows, SlidingSpec, SlidingWindows, SpecError, WindowResult,
};
use lute_window::{CountingOp, Lift, Monoid};

/// Naive sliding-window oracle: keeps every accepted event, recomputes each window.
struct SlidingOracle {
    specs: Vec<SlidingSpec>,
    events: Vec<(i64, u64)>,
    watermark: i64,
}

impl SlidingOracle {
    fn advance<M: Monoid>(
        &mut self,
        op: &M,
        lift: &impl Fn(u64) -> M::Agg,
        w: i64,
    ) -> Vec<WindowResult<M::Agg>> {
        if w <= self.watermark {
            return Vec::new();
        }
        let mut ends: Vec<(i64, usize)> = Vec::new();
        for (si, s) in self.specs.iter().enumerate() {
            for &(t, _) in &self.events {
                // Ends e with e - size <= t < e, e a multiple of slide.
                let first = (t + 1).div_euclid(s.slide) * s.slide;
                let first = if first < t + 1 {
                    first + s.slide
                } else {
                    first
                };
                let mut e = first;
                while e - s.size <= t {
                    if e > self.watermark && e <= w {
                        ends.push((e, si));
                    }
                    e += s.slide;
                }
            }
        }
        ends.sort_unstable();
        ends.dedup();
        let mut sorted = self.events.clone();
        sorted.sort_by_key(|&(t, _)| t); // stable: arrival order among equal times
        let out = ends
            .into_iter()
            .map(|(e, si)| {
                let s = self.specs[si];
                let mut acc = op.identity();
                for &(t, v) in &sorted {
                    if t >= e - s.size && t < e {
                        acc = op.combine(&acc, &lift(v));
                    }
                }
                WindowResult {
                    spec: si,
                    start: e - s.size,
                    end: e,
                    value: acc,
                }
            })
            .collect();
        self.watermark = w;
        out
    }
}

/// Drives the window layer and the oracle with events `ts` and a watermark lagging the
/// newest event by `delay` (advanced every `every` events), plus a final flush.
fn sliding_vs_oracle<M>(
    op: M,
    lift: impl Fn(u64) -> M::Agg,
    specs: &[SlidingSpec],
    ts: &[i64],
    delay: i64,
    every: usize,
) where
    M: Monoid + Clone,
    M::Agg: PartialEq,
{
    let mut w = SlidingWindows::new(op.clone(), specs).unwrap();
    let mut o = SlidingOracle {
        specs: specs.to_vec(),
        events: Vec::new(),
        watermark: i64::MIN,
    };
    let mut rng = Rng(ts.len() as u64);
    let mut newest = i64::MIN;
    let (mut offered, mut late) = (0u64, 0u64);
    for (i, &t) in ts.iter().enumerate() {
        let v = rng.next() % 1000;
        offered += 1;
        match w.insert(t, &lift(v)) {
            Ok(()) => o.events.push((t, v)),
            Err(Late { t: lt, watermark }) => {
                assert_eq!(lt, t);
                assert!(t < watermark);
                assert_eq!(watermark, o.watermark);
                late += 1;
            }
        }
        newest = newest.max(t);
        if i % every == every - 1 {
            let wm = newest - delay;
            let mut got = Vec::new();
            w.advance_watermark(wm, |r| got.push(r));
            let want = o.advance(&op, &lift, wm);
            assert_eq!(got, want, "at event {i}, watermark {wm}");
            o.events
                .retain(|&(t, _)| t >= wm - specs.iter().map(|s| s.size).max().unwrap());
        }
    }
    let mut got = Vec::new();
    w.advance_watermark(i64::MAX / 2, |r| got.push(r));
    assert_eq!(got, o.advance(&op, &lift, i64::MAX / 2));
    let s = w.stats();
    assert_eq!(s.accepted + s.late, offered);
    assert_eq!(s.late, late);
}

fn spec_sets() -> Vec<Vec<SlidingSpec>> {
    vec![
        vec![SlidingSpec::tumbling(10)],
        vec![SlidingSpec::sliding(30, 10)],
        vec![SlidingSpec::sliding(7, 3)],
        vec![SlidingSpec::sliding(5, 8)], // hopping with gaps
        vec![
            SlidingSpec::tumbling(10),
            SlidingSpec::sliding(30, 10),
            SlidingSpec::sliding(25, 5),
            SlidingSpec::sliding(12, 4),
        ],
    ]
}

#[test]
fn sliding_in_order_non_commutative() {
    for specs in spec_sets() {
        let ts: Vec<i64> = (0..600).map(|i| i * 3 / 2 - 100).collect();
        sliding_vs_oracle(Mat2, |v| Mat2.lift(v), &specs, &ts, 0, 1);
        sliding_vs_oracle(Mat2, |v| Mat2.lift(v), &specs, &ts, 0, 17);
    }
}

#[test]
fn sliding_out_of_order_with_late_events() {
    let mut rng = Rng(2);
    for specs in spec_sets() {
        for (ts, delay) in [
            (times::bounded_shuffle(800, 10, &mut rng), 5),
            (times::bounded_shuffle(800, 10, &mut rng), 20),
            (times::heavy_tail(2000, 500, &mut rng), 9),
            (times::duplicates(800, &mut rng), 2),
            (times::zigzag(300), 50),
            (times::reversed(200), 0),
            (times::boundaries(600, 10), 3),
        ] {
            sliding_vs_oracle(Sum, |v| v as i64, &specs, &ts, delay, 1);
            sliding_vs_oracle(Sum, |v| v as i64, &specs, &ts, delay, 13);
        }
    }
}

#[test]
fn sliding_watermark_jumps_and_gaps() {
    // Bursts separated by huge gaps: the jump is O(1), and empty windows are not emitted.
    let mut ts = Vec::new();
    for burst in 0..20i64 {
        for i in 0..30 {
            ts.push(burst * 1_000_000_007 + i * 3);
        }
    }
    for specs in spec_sets() {
        sliding_vs_oracle(Mat2, |v| Mat2.lift(v), &specs, &ts, 0, 7);
    }
    let mut w = SlidingWindows::new(Sum, &[SlidingSpec::sliding(10, 1)]).unwrap();
    w.insert(5, &1).unwrap();
    let mut n = 0;
    w.advance_watermark(i64::MAX / 2, |_| n += 1);
    assert_eq!(n, 10); // the 10 windows containing time 5, nothing for the jump
}

#[test]
fn sliding_result_timestamps_and_errors() {
    assert_eq!(SlidingWindows::new(Sum, &[]).unwrap_err(), SpecError::Empty);
    assert_eq!(
        SlidingWindows::new(Sum, &[SlidingSpec::tumbling(5), SlidingSpec::sliding(0, 1)])
            .unwrap_err(),
        SpecError::NotPositive(1)
    );
    let mut w = SlidingWindows::new(Sum, &[SlidingSpec::tumbling(10)]).unwrap();
    w.insert(3, &1).unwrap();
    let mut got = Vec::new();
    w.advance_watermark(9, |r| got.push(r.clone()));
    assert!(
        got.is_empty(),
        "window [0, 10) is open until the watermark reaches 10"
    );
    w.insert(9, &1).unwrap();
    w.advance_watermark(10, |r| got.push(r.clone()));
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].start, got[0].end, got[0].value, got[0].timestamp()),
        (0, 10, 2, 9)
    );
    assert_eq!(
        w.insert(9, &1),
        Err(Late {
            t: 9,
            watermark: 10
        })
    );
    assert_eq!(w.stats().late, 1);
    assert_eq!(w.slice_len(), 10);
}

#[test]
fn sliding_one_combine_per_event() {
    // Each event is combined once into its slice, however many windows overlap it (copying
    // into every overlapping window would cost 100 + 50 combines per event here).
    let specs = [
        SlidingSpec::sliding(1000, 10),
        SlidingSpec::sliding(500, 10),
    ];
    let mut w = SlidingWindows::new(CountingOp::new(Sum), &specs).unwrap();
    let mut emitted = 0;
    for t in 0..20_000i64 {
        w.insert(t, &1).unwrap();
        assert_eq!(w.op().take_combines(), 1);
        if t % 10 == 9 {
            w.advance_watermark(t + 1, |r| {
                emitted += 1;
                let want = r.end.min(20_000) - r.start.max(0);
                assert_eq!(r.value, want);
            });
            assert_eq!(
                w.op().take_combines(),
                0,
                "sealing uses the specs' own operators"
            );
        }
    }
    assert_eq!(emitted, 2 * 2000);
}

#[test]
fn session_windows_vs_oracle() {
    fn oracle(events: &mut Vec<(i64, u64)>, gap: i64, w: i64) -> Vec<(i64, i64, i64)> {
        events.sort_by_key(|e| e.0);
        let mut out = Vec::new();
        let mut groups: Vec<Vec<(i64, u64)>> = Vec::new();
        for &e in events.iter() {
            match groups.last_mut() {
                Some(g) if e.0 - g.last().unwrap().0 < gap => g.push(e),
                _ => groups.push(vec![e]),
            }
        }
        let mut keep = Vec::new();
        for g in groups {
            let last = g.last().unwrap().0;
            if last + gap <= w {
                out.push((g[0].0, last + gap, g.iter().map(|e| e.1 as i64).sum()));
            } else {
                keep.extend(g);
            }
        }
        *events = keep;
        out
    }
    let mut rng = Rng(8);
    for gap in [1i64, 3, 10, 50] {
        for (ts, delay) in [
            (
                times::in_order(500)
                    .iter()
                    .map(|t| t * 7 % 1000 + t)
                    .collect::<Vec<_>>(),
                0,
            ),
            (
                times::bounded_shuffle(1500, 30, &mut rng)
                    .iter()
                    .map(|t| t * 2)
                    .collect(),
                40,
            ),
            (
                times::heavy_tail(1500, 400, &mut rng)
                    .iter()
                    .map(|t| t * 3)
                    .collect(),
                25,
            ),
            (times::duplicates(600, &mut rng), 3),
        ] {
            let mut s = SessionWindows::new(Sum, gap);
            let mut pending = Vec::new();
            let mut newest = i64::MIN;
            let mut late = 0;
            for (i, &t) in ts.iter().enumerate() {
                let v = rng.next() % 100;
                match s.insert(t, &(v as i64)) {
                    Ok(()) => pending.push((t, v)),
                    Err(_) => late += 1,
                }
                newest = newest.max(t);
                if i % 5 == 4 {
                    let w = newest - delay;
                    let mut got = Vec::new();
                    s.advance_watermark(w, |r| got.push((r.start, r.end, r.value)));
                    assert_eq!(got, oracle(&mut pending, gap, w), "gap {gap} event {i}");
                }
            }
            let mut got = Vec::new();
            s.advance_watermark(i64::MAX / 2, |r| got.push((r.start, r.end, r.value)));
            assert_eq!(got, oracle(&mut pending, gap, i64::MAX / 2));
            assert_eq!(s.stats().late, late);
            assert_eq!(s.open_sessions(), 0);
        }
    }
}

#[test]
fn session_windows_keep_order_in_order() {
    // In-order events keep a non-commutative operator exact, including merges by bridging.
    let mut s = SessionWindows::new(Mat2, 5);
    let mut want = Mat2.identity();
    for t in [0i64, 3, 6, 9, 12] {
        s.insert(t, &Mat2.lift(t as u64 + 1)).unwrap();
        want = Mat2.combine(&want, &Mat2.lift(t as u64 + 1));
    }
    let mut got = Vec::new();
    s.advance_watermark(100, |r| got.push(r));
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].start, got[0].end), (0, 17));
    assert_eq!(got[0].value, want);
    // Bridging: sessions merged by events between them, older first.
    let mut s = SessionWindows::new(Mat2, 6);
    for t in [0i64, 20, 10, 5, 15] {
        s.insert(t, &Mat2.lift(t as u64 + 1)).unwrap();
    }
    let mut got = Vec::new();
    s.advance_watermark(100, |r| got.push(r));
    let want = [0u64, 5, 10, 15, 20]
        .iter()
        .fold(Mat2.identity(), |a, &t| Mat2.combine(&a, &Mat2.lift(t + 1)));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].value, want);
}

#[test]
fn count_windows_vs_oracle() {
    for (size, slide) in [(1u64, 1u64), (3, 1), (3, 3), (5, 2), (2, 5), (100, 7)] {
        let mut w = CountWindows::new(Mat2, size, slide);
        let mut all = Vec::new();
        for x in 0..1000u64 {
            all.push(Mat2.lift(x));
            let got = w.insert(Mat2.lift(x));
            let n = all.len() as u64;
            let due = n >= size && (n - size).is_multiple_of(slide);
            assert_eq!(got.is_some(), due, "size {size} slide {slide} n {n}");
            if let Some(r) = got {
                let want = all[(n - size) as usize..]
                    .iter()
                    .fold(Mat2.identity(), |a, x| Mat2.combine(&a, x));
                assert_eq!((r.first, r.end), (n - size, n));
                assert_eq!(r.value, want);
            }
        }
        assert_eq!(w.seen(), 1000);
    }
}
