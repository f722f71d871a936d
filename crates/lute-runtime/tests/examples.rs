//! Each example job against a straightforward single-threaded implementation, on generated
//! data with out-of-order and late events, at 1, 2 and 4 workers; and determinism: every
//! example run 20 times with scheduling perturbation at 1, 2 and 4 workers gives one digest.

#[path = "../examples/jobs/mod.rs"]
mod jobs;

use jobs::{Event, global_top_k};
use lute_runtime::{Config, EventTime, Idle, Tiers};
use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

const WORKERS: [usize; 3] = [1, 2, 4];

fn config(workers: usize) -> Config {
    // Small batches and rings so that batching, backpressure and wrap-around all happen.
    Config::default()
        .workers(workers)
        .batch_size(32)
        .channel_capacity(8)
}

fn ref_window_sum(input: &[(EventTime, Event)], size: i64) -> Vec<(EventTime, (u32, i64, i64))> {
    let mut m: BTreeMap<(u32, i64), i64> = BTreeMap::new();
    for (ts, e) in input.iter().filter(|(_, e)| !e.late) {
        *m.entry((e.key, ts.div_euclid(size) * size)).or_default() += e.value;
    }
    let mut v: Vec<_> = m
        .into_iter()
        .map(|((k, start), sum)| (start + size - 1, (k, start, sum)))
        .collect();
    v.sort();
    v
}

#[test]
fn keyed_window_sum_matches_reference() {
    let input = jobs::events(30_000, 16, 3);
    assert!(
        input.iter().any(|(_, e)| e.late),
        "the data has late events"
    );
    let expect = ref_window_sum(&input, 100);
    for w in WORKERS {
        let got = jobs::window_sum(input.clone(), 100)
            .run_sorted(&config(w))
            .unwrap();
        assert_eq!(got, expect, "{w} workers");
    }
}

/// With an allowed lateness beyond the stragglers' (5000 units behind), nothing is late and
/// every event counts; the results are still exact and deterministic.
#[test]
fn allowed_lateness_keeps_windows_open_for_stragglers() {
    let input = jobs::events(30_000, 16, 7);
    let all: Vec<_> = input
        .iter()
        .map(|(t, e)| (*t, Event { late: false, ..*e }))
        .collect();
    let expect = ref_window_sum(&all, 100);
    assert_ne!(
        expect,
        ref_window_sum(&input, 100),
        "stragglers change sums"
    );
    for w in WORKERS {
        let job = jobs::window_sum_allowing(input.clone(), 100, 6_000);
        assert_eq!(job.run_sorted(&config(w)).unwrap(), expect, "{w} workers");
        assert_eq!(job.metrics().get("sum", "late_dropped"), Some(0));
        // Lateness 0 is the default behaviour.
        let job = jobs::window_sum_allowing(input.clone(), 100, 0);
        assert_eq!(
            job.run_sorted(&config(w)).unwrap(),
            ref_window_sum(&input, 100)
        );
    }
    let bad = job_with_negative_lateness();
    assert!(bad.contains("must not be negative"), "{bad}");
}

fn job_with_negative_lateness() -> String {
    use lute_runtime::{VecSource, WatermarkStrategy, api};
    use lute_window::ops::Sum;
    use lute_window::window::SlidingSpec;
    api::source(
        "e",
        VecSource::new(vec![(0, 1i64)]),
        WatermarkStrategy::default(),
    )
    .key_by("k", |x: &i64| *x)
    .window("w", |x: i64| x, &[SlidingSpec::tumbling(10)], Sum)
    .unwrap()
    .allowed_lateness(-1)
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default()
}

#[test]
fn wordcount_matches_reference() {
    let input = jobs::lines(20_000, 9);
    let late: Vec<bool> = jobs::events(20_000, 12, 9)
        .iter()
        .map(|(_, e)| e.late)
        .collect();
    let mut m: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for ((ts, line), late) in input.iter().zip(late) {
        if late {
            continue;
        }
        for w in line.split(' ') {
            *m.entry((w.to_owned(), ts.div_euclid(50) * 50)).or_default() += 1;
        }
    }
    let mut expect: Vec<_> = m
        .into_iter()
        .map(|((w, start), c)| (start + 49, (w, start, c)))
        .collect();
    expect.sort();
    for w in WORKERS {
        let got = jobs::wordcount(input.clone(), 50)
            .run_sorted(&config(w))
            .unwrap();
        assert_eq!(got, expect, "{w} workers");
    }
}

#[test]
fn sliding_topk_matches_reference() {
    let (size, slide, k) = (200, 50, 3);
    let input = jobs::events(20_000, 24, 5);
    let mut sums: BTreeMap<(i64, u32), i64> = BTreeMap::new();
    for (ts, e) in input.iter().filter(|(_, e)| !e.late) {
        // Windows [s, s + size) with s a multiple of slide that contain ts.
        let mut s = ts.div_euclid(slide) * slide;
        while s > ts - size {
            *sums.entry((s + size, e.key)).or_default() += e.value;
            s -= slide;
        }
    }
    let mut by_end: BTreeMap<i64, Vec<(i64, u32)>> = BTreeMap::new();
    for ((end, key), sum) in sums {
        by_end.entry(end).or_default().push((sum, key));
    }
    let expect: Vec<_> = by_end
        .into_iter()
        .map(|(end, mut v)| {
            v.sort_by(|a, b| b.cmp(a));
            v.truncate(k);
            (end, v)
        })
        .collect();
    let entries: usize = expect.iter().map(|(_, v)| v.len()).sum();
    for w in WORKERS {
        let cands = jobs::sliding_topk(input.clone(), size, slide, k)
            .run_sorted(&config(w))
            .unwrap();
        // After the second exchange (by window end) each window's top k is exact.
        assert_eq!(cands.len(), entries, "{w} workers: exact top k per window");
        assert_eq!(global_top_k(&cands, k), expect, "{w} workers");
    }
}

#[test]
fn session_sum_matches_reference() {
    let gap = 10;
    let input = jobs::events(20_000, 8, 13);
    let mut per_key: BTreeMap<u32, Vec<(i64, i64)>> = BTreeMap::new();
    for (ts, e) in input.iter().filter(|(_, e)| !e.late) {
        per_key.entry(e.key).or_default().push((*ts, e.value));
    }
    let mut expect = Vec::new();
    for (k, mut evs) in per_key {
        evs.sort_unstable();
        let mut cur: Option<(i64, i64, i64)> = None; // (start, end, sum)
        for (t, v) in evs {
            cur = match cur {
                Some((s, e, sum)) if t < e => Some((s, e.max(t + gap), sum + v)),
                Some((s, e, sum)) => {
                    expect.push((e - 1, (k, s, e, sum)));
                    Some((t, t + gap, v))
                }
                None => Some((t, t + gap, v)),
            };
        }
        if let Some((s, e, sum)) = cur {
            expect.push((e - 1, (k, s, e, sum)));
        }
    }
    expect.sort();
    assert!(
        expect.iter().any(|(_, (_, s, e, _))| e - s > gap),
        "some sessions merge events"
    );
    for w in WORKERS {
        let got = jobs::session_sum(input.clone(), gap)
            .run_sorted(&config(w))
            .unwrap();
        assert_eq!(got, expect, "{w} workers");
    }
}

fn ref_join(
    orders: &[(EventTime, Event)],
    payments: &[(EventTime, Event)],
    size: i64,
) -> Vec<(EventTime, (u32, i64, i64))> {
    let mut left: BTreeMap<(i64, u32), Vec<i64>> = BTreeMap::new();
    for (ts, o) in orders.iter().filter(|(_, e)| !e.late && e.value > 0) {
        left.entry((ts.div_euclid(size), o.key))
            .or_default()
            .push(o.value);
    }
    let mut out = Vec::new();
    for (ts, p) in payments.iter().filter(|(_, e)| !e.late) {
        let w = ts.div_euclid(size);
        for o in left.get(&(w, p.key)).into_iter().flatten() {
            out.push(((w + 1) * size - 1, (p.key, *o, p.value)));
        }
    }
    out.sort();
    out
}

#[test]
fn windowed_join_matches_reference() {
    let orders = jobs::events(8_000, 64, 41);
    let payments = jobs::events(8_000, 64, 43);
    let expect = ref_join(&orders, &payments, 100);
    assert!(expect.len() > 1_000, "the join has pairs: {}", expect.len());
    for w in WORKERS {
        let job = jobs::orders_payments(orders.clone(), payments.clone(), 100);
        let got = job.run_sorted(&config(w)).unwrap();
        assert_eq!(got, expect, "{w} workers");
        let late = orders.iter().filter(|(_, e)| e.late && e.value > 0).count()
            + payments.iter().filter(|(_, e)| e.late).count();
        assert_eq!(
            job.metrics().get("orders x payments", "late_dropped"),
            Some(late as u64),
            "{w} workers"
        );
    }
}

#[test]
fn union_matches_reference() {
    let a = jobs::events(10_000, 16, 51);
    let b = jobs::events(7_000, 16, 53);
    let both: Vec<_> = a.iter().chain(&b).copied().collect();
    let expect = ref_window_sum(&both, 100);
    for w in WORKERS {
        let got = jobs::union_sum(a.clone(), b.clone(), 100)
            .run_sorted(&config(w))
            .unwrap();
        assert_eq!(got, expect, "{w} workers");
    }
}

#[test]
fn late_events_go_to_the_side_output() {
    let input = jobs::events(10_000, 16, 61);
    let mut late: Vec<(u32, i64)> = input
        .iter()
        .filter(|(_, e)| e.late)
        .map(|(_, e)| (e.key, e.value))
        .collect();
    late.sort_unstable();
    assert!(!late.is_empty());
    let expect = ref_window_sum(&input, 100);
    for w in WORKERS {
        let job = jobs::window_sum_with_late(input.clone(), 100);
        let got = job.run_sorted(&config(w)).unwrap();
        let mut side: Vec<(u32, i64)> = got.iter().filter_map(|(_, r)| r.err()).collect();
        side.sort_unstable();
        assert_eq!(side, late, "{w} workers: exactly the late events");
        let windows: Vec<_> = got
            .iter()
            .filter_map(|(t, r)| r.ok().map(|x| (*t, x)))
            .collect();
        assert_eq!(windows, expect, "{w} workers");
        assert_eq!(
            job.metrics().get("sum", "late_emitted"),
            Some(late.len() as u64)
        );
    }
    // The default policy drops and counts.
    let job = jobs::window_sum(input.clone(), 100);
    job.run_sorted(&config(2)).unwrap();
    assert_eq!(
        job.metrics().get("sum", "late_dropped"),
        Some(late.len() as u64),
        "{}",
        job.metrics()
    );
    assert_eq!(
        job.metrics().get("sum", "late_dropped"),
        Some(late.len() as u64)
    );
}

fn digest<T: Hash>(v: &T) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// 20 runs per worker count with injected yields and sleeps: one digest for everything.
fn one_digest<T: Hash>(run: impl Fn(Config) -> T) {
    let mut digests = std::collections::BTreeSet::new();
    for w in WORKERS {
        for seed in 0..20 {
            digests.insert(digest(&run(config(w).perturb(seed * 7919 + 1))));
        }
    }
    assert_eq!(digests.len(), 1, "outputs differ across runs: {digests:?}");
}

#[test]
fn window_sum_is_deterministic() {
    let input = jobs::events(5_000, 8, 21);
    one_digest(|c| jobs::window_sum(input.clone(), 100).run_sorted(&c).unwrap());
}

#[test]
fn wordcount_is_deterministic() {
    let input = jobs::lines(3_000, 22);
    one_digest(|c| jobs::wordcount(input.clone(), 50).run_sorted(&c).unwrap());
}

#[test]
fn sliding_topk_is_deterministic() {
    let input = jobs::events(4_000, 12, 23);
    one_digest(|c| {
        let cands = jobs::sliding_topk(input.clone(), 200, 50, 3)
            .run_sorted(&c)
            .unwrap();
        global_top_k(&cands, 3)
    });
}

#[test]
fn windowed_join_is_deterministic() {
    let orders = jobs::events(3_000, 16, 71);
    let payments = jobs::events(3_000, 16, 73);
    one_digest(|c| {
        jobs::orders_payments(orders.clone(), payments.clone(), 100)
            .run_sorted(&c)
            .unwrap()
    });
}

#[test]
fn union_is_deterministic() {
    let a = jobs::events(3_000, 8, 75);
    let b = jobs::events(2_000, 8, 77);
    one_digest(|c| {
        jobs::union_sum(a.clone(), b.clone(), 100)
            .run_sorted(&c)
            .unwrap()
    });
}

/// Every edge forced to an L3 batch boundary (and forced L4) gives the reference output.
#[test]
fn forced_tiers_match_reference() {
    let input = jobs::events(20_000, 16, 91);
    let expect = ref_window_sum(&input, 100);
    let lines = jobs::lines(5_000, 93);
    let orders = jobs::events(4_000, 16, 95);
    let payments = jobs::events(4_000, 16, 97);
    let join = ref_join(&orders, &payments, 100);
    for tiers in [Tiers::AllL3, Tiers::AllL4] {
        for w in WORKERS {
            let c = config(w).tiers(tiers);
            let got = jobs::window_sum(input.clone(), 100).run_sorted(&c).unwrap();
            assert_eq!(got, expect, "{tiers:?}, {w} workers");
            let got = jobs::orders_payments(orders.clone(), payments.clone(), 100)
                .run_sorted(&c)
                .unwrap();
            assert_eq!(got, join, "{tiers:?}, {w} workers");
            let l3 = jobs::wordcount(lines.clone(), 50).run_sorted(&c).unwrap();
            let l4 = jobs::wordcount(lines.clone(), 50)
                .run_sorted(&config(w))
                .unwrap();
            assert_eq!(l3, l4, "{tiers:?}, {w} workers");
        }
    }
    let text = jobs::window_sum(input, 100).explain(&config(2).tiers(Tiers::AllL3));
    assert!(text.contains("L3 batch boundary"), "{text}");
}

/// Workers that park when idle (and are woken by their peers' doorbells) give the reference
/// output and one digest under perturbation: no lost wake-up hangs a job.
#[test]
fn parking_workers_match_reference() {
    let input = jobs::events(20_000, 16, 81);
    let expect = ref_window_sum(&input, 100);
    let orders = jobs::events(4_000, 16, 83);
    let payments = jobs::events(4_000, 16, 85);
    let join = ref_join(&orders, &payments, 100);
    for w in WORKERS {
        for seed in 0..5 {
            let c = config(w).idle(Idle::park()).perturb(seed + 1);
            let got = jobs::window_sum(input.clone(), 100).run_sorted(&c).unwrap();
            assert_eq!(got, expect, "{w} workers, seed {seed}");
            let got = jobs::orders_payments(orders.clone(), payments.clone(), 100)
                .run_sorted(&c)
                .unwrap();
            assert_eq!(got, join, "{w} workers, seed {seed}");
        }
    }
}

/// Without a canonical sort: the per-worker output order itself is the same in every run
/// (workers emit in data-defined order).
#[test]
fn unsorted_output_is_identical_across_runs() {
    let input = jobs::events(5_000, 8, 31);
    for w in [2, 4] {
        let first = jobs::window_sum(input.clone(), 100)
            .run(&config(w))
            .unwrap();
        for seed in 0..10 {
            let again = jobs::window_sum(input.clone(), 100)
                .run(&config(w).perturb(seed + 100))
                .unwrap();
            assert_eq!(again, first, "{w} workers, seed {seed}");
        }
    }
}
