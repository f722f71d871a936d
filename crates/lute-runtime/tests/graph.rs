//! Job graphs beyond one source: file sinks, `explain` of unions and joins, run metrics,
//! and bad sink paths.

use lute_runtime::{Config, JobError, VecSource, WatermarkStrategy, api};
use lute_window::window::SlidingSpec;

fn numbers(n: i64) -> VecSource<i64> {
    VecSource::new((0..n).map(|i| (i, i)).collect())
}

#[test]
fn file_sink_writes_one_json_line_per_record_per_worker() {
    // 1 worker: the exchange is fused away and the sink still opens its file.
    for workers in [1, 2] {
        file_sink_round_trip(workers);
    }
}

fn file_sink_round_trip(workers: usize) {
    let dir = std::env::temp_dir().join(format!("lute-file-sink-{}-{workers}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    api::source("n", numbers(1000), WatermarkStrategy::default())
        .key_by("by parity", |x: &i64| x % 2)
        .map("pair", |x: i64| (x % 2, x))
        .write_json_lines("files", &dir)
        .run(&Config::default().workers(workers))
        .unwrap();
    let mut all = Vec::new();
    for w in 0..workers {
        let text = std::fs::read_to_string(dir.join(format!("part-{w}.jsonl"))).unwrap();
        for line in text.lines() {
            let (ts, (parity, x)): (i64, (i64, i64)) = serde_json::from_str(line).unwrap();
            assert_eq!((ts, parity), (x, x % 2));
            all.push(x);
        }
    }
    all.sort_unstable();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_sink_reports_an_unusable_path() {
    // A regular file where the directory should be.
    let file = std::env::temp_dir().join(format!("lute-not-a-dir-{}", std::process::id()));
    std::fs::write(&file, b"x").unwrap();
    let err = api::source("n", numbers(10), WatermarkStrategy::default())
        .write_json_lines("files", &file)
        .run(&Config::default())
        .unwrap_err();
    match &err {
        JobError::Operator { op, source, .. } => {
            let cause = source.to_string();
            assert_eq!(op, "files");
            assert!(cause.contains("lute-not-a-dir"), "{cause}");
        }
        other => panic!("unexpected error: {other}"),
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn explain_shows_every_input_of_unions_and_joins() {
    let b = api::source("b", numbers(10), WatermarkStrategy::default());
    let plan = api::source("a", numbers(10), WatermarkStrategy::default())
        .union("a + b", b)
        .window_join(
            "self join",
            api::source("c", numbers(10), WatermarkStrategy::default()),
            |x: &i64| x % 3,
            |y: &i64| y % 3,
            SlidingSpec::tumbling(5),
            |_k: &i64, x: &i64, y: &i64| x + y,
        )
        .unwrap()
        .for_each("out", |_, _| Ok(()));
    for w in [1, 2] {
        let text = plan.explain(&Config::default().workers(w));
        for needle in [
            "source `a`",
            "source `b`",
            "source `c`",
            "union `a + b`",
            "join `self join`",
            "forward to the same worker",
            "hash of the key",
        ] {
            assert!(
                text.contains(needle),
                "{w} workers: no {needle:?} in\n{text}"
            );
        }
    }
    assert_eq!(
        plan.operators(),
        [
            "a",
            "b",
            "a + b",
            "c",
            "self join (exchange)",
            "self join",
            "out"
        ]
    );
    plan.run(&Config::default().workers(2)).unwrap();
}

#[test]
fn one_worker_fuses_single_input_exchanges() {
    let plan = api::source("a", numbers(10), WatermarkStrategy::default())
        .key_by("k1", |x: &i64| *x)
        .key_by("k2", |x: &i64| *x)
        .for_each("out", |_, _| Ok(()));
    let one = plan.explain(&Config::default());
    assert!(one.contains("exchange `k1` fused away"), "{one}");
    assert!(one.contains("exchange `k2` fused away"), "{one}");
    let two = plan.explain(&Config::default().workers(2));
    assert!(!two.contains("fused away"), "{two}");
}

#[test]
fn two_hops_of_exchange_keep_every_record() {
    let out = api::source("n", numbers(5000), WatermarkStrategy { delay: 0, every: 7 })
        .key_by("by x mod 7", |x: &i64| x % 7)
        .map("halve", |x: i64| x / 2)
        .key_by("by half", |x: &i64| *x)
        .collect()
        .run_sorted(
            &Config::default()
                .workers(3)
                .batch_size(16)
                .channel_capacity(4),
        )
        .unwrap();
    let mut expect: Vec<(i64, i64)> = (0..5000).map(|i| (i, i / 2)).collect();
    expect.sort_unstable();
    assert_eq!(out, expect);
}

fn keyed_sums(out: &[(i64, (i64, i64))]) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = out.iter().map(|(_, x)| *x).collect();
    v.sort_unstable();
    v
}

#[test]
fn stages_run_at_their_own_parallelism() {
    use lute_runtime::BuildError;
    use lute_window::ops::Sum;
    let job = |src: Option<usize>, win: Option<usize>| {
        let mut s = api::source(
            "n",
            numbers(20_000),
            WatermarkStrategy {
                delay: 0,
                every: 64,
            },
        );
        if let Some(p) = src {
            s = s.parallelism(p);
        }
        let mut k = s.key_by("by x mod 13", |x: &i64| x % 13);
        if let Some(p) = win {
            k = k.parallelism(p);
        }
        k.window("sum", |x: i64| x, &[SlidingSpec::tumbling(1000)], Sum)
            .unwrap()
            .map(
                "flat",
                |(k, r): (i64, lute_window::window::WindowResult<i64>)| (k, r.value),
            )
            .collect()
    };
    let expect = keyed_sums(&job(None, None).run(&Config::default()).unwrap());
    assert_eq!(expect.len(), 13 * 20);
    for (src, win, workers) in [
        (Some(1), None, 3),
        (None, Some(1), 3),
        (Some(2), Some(3), 4),
        (Some(1), Some(1), 2),
    ] {
        let j = job(src, win);
        let out = j.run(&Config::default().workers(workers)).unwrap();
        assert_eq!(
            keyed_sums(&out),
            expect,
            "{src:?} {win:?} on {workers} workers"
        );
        let text = j.explain(&Config::default().workers(workers));
        let p = src.unwrap_or(workers);
        assert!(text.contains(&format!("on workers 0..{p}")), "{text}");
    }
    let err = job(Some(5), None)
        .run(&Config::default().workers(2))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            JobError::Build(BuildError::Parallelism {
                parallelism: 5,
                workers: 2,
                ..
            })
        ),
        "{err}"
    );
    let err = job(None, Some(0)).run(&Config::default()).unwrap_err();
    assert!(
        err.to_string().contains("parallelism must be at least 1"),
        "{err}"
    );
}

#[test]
fn a_union_needs_equal_parallelism() {
    let b = api::source("b", numbers(10), WatermarkStrategy::default()).parallelism(1);
    let plan = api::source("a", numbers(10), WatermarkStrategy::default())
        .union("a + b", b)
        .for_each("out", |_, _| Ok(()));
    let err = plan.run(&Config::default().workers(2)).unwrap_err();
    assert!(err.to_string().contains("union `a + b`"), "{err}");
    assert!(err.to_string().contains("parallelism 1"), "{err}");
    // At one worker everything has parallelism 1.
    plan.run(&Config::default()).unwrap();
}

/// Counts its lifecycle calls and emits them at close: `(opens, final watermarks, records)`.
#[derive(Debug, Clone, Default)]
struct Lifecycle {
    opens: u64,
    max_watermarks: u64,
    records: u64,
}

impl lute_runtime::Operator<i64> for Lifecycle {
    type Out = (u64, u64, u64);

    fn open(&mut self, _ctx: &lute_runtime::Context) -> Result<(), lute_runtime::OperatorError> {
        self.opens += 1;
        Ok(())
    }

    fn process<E: lute_runtime::Emit<Self::Out>>(
        &mut self,
        _ts: i64,
        _x: i64,
        _out: &mut E,
    ) -> Result<(), lute_runtime::OperatorError> {
        self.records += 1;
        Ok(())
    }

    fn on_watermark<E: lute_runtime::Emit<Self::Out>>(
        &mut self,
        wm: i64,
        _out: &mut E,
    ) -> Result<Option<i64>, lute_runtime::OperatorError> {
        if wm == i64::MAX {
            self.max_watermarks += 1;
        }
        Ok(Some(wm))
    }

    fn close<E: lute_runtime::Emit<Self::Out>>(
        &mut self,
        out: &mut E,
    ) -> Result<(), lute_runtime::OperatorError> {
        out.emit(i64::MAX, (self.opens, self.max_watermarks, self.records))
    }
}

/// Every operator instance is opened once and sees the final watermark once, whether its
/// exchange is fused away (1 worker) or not, and after one or two exchanges.
#[test]
fn lifecycle_hooks_run_once_per_instance() {
    use lute_runtime::Tiers;
    for tiers in [Tiers::AllL4, Tiers::AllL3] {
        for workers in [1, 2, 4] {
            let out = api::source("n", numbers(1000), WatermarkStrategy::default())
                .key_by("k1", |x: &i64| *x)
                .key_by("k2", |x: &i64| x % 7)
                .apply("lifecycle", Lifecycle::default())
                .collect()
                .run(&Config::default().workers(workers).tiers(tiers))
                .unwrap();
            assert_eq!(
                out.len(),
                workers,
                "{workers} workers: one summary per instance"
            );
            let total: u64 = out.iter().map(|(_, (_, _, r))| r).sum();
            assert_eq!(total, 1000);
            for (_, (opens, maxes, _)) in &out {
                assert_eq!((*opens, *maxes), (1, 1), "{tiers:?}, {workers} workers");
            }
        }
    }
}

#[test]
fn a_watermark_strategy_without_cadence_is_refused() {
    let err = api::source("n", numbers(10), WatermarkStrategy { delay: 0, every: 0 })
        .for_each("out", |_, _| Ok(()))
        .run(&Config::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("`every` must be at least 1"),
        "{err}"
    );
}

/// Real-world event times (epoch milliseconds) and a key first seen long after the first
/// watermark: no empty windows appear for the slices before that key's first event.
#[test]
fn late_appearing_keys_get_no_empty_windows() {
    use lute_window::ops::Count;
    const T0: i64 = 1_700_000_000_000;
    let data: Vec<(i64, u32)> = (0..2_000i64)
        .map(|i| (T0 + i, u32::from(i >= 1_000)))
        .collect();
    let out = api::source(
        "events",
        VecSource::new(data),
        WatermarkStrategy {
            delay: 0,
            every: 16,
        },
    )
    .key_by("by key", |k: &u32| *k)
    .window("count", |_k: u32| (), &[SlidingSpec::tumbling(100)], Count)
    .unwrap()
    .map(
        "flat",
        |(k, r): (u32, lute_window::window::WindowResult<u64>)| (k, r.start - T0, r.value),
    )
    .collect()
    .run_sorted(&Config::default().workers(2))
    .unwrap();
    let got: Vec<(u32, i64, u64)> = out.into_iter().map(|(_, x)| x).collect();
    let mut want: Vec<(u32, i64, u64)> = (0..20)
        .map(|w| (u32::from(w >= 10), w * 100, 100))
        .collect();
    want.sort_by_key(|x| (x.1, x.0));
    let mut got_sorted = got.clone();
    got_sorted.sort_by_key(|x| (x.1, x.0));
    assert_eq!(got_sorted, want);
}

/// The tier of each chain edge is observable in the order of side effects: fused (L4), `b`
/// sees each record right after `a`; batched (L3), `a` sees a run of records before `b` sees
/// the first of them. Checked before an exchange and in a chain fused across one (1 worker:
/// the downstream chain runs inside the source's stage, on the all-fused path when L4).
#[test]
fn edge_tiers_show_in_the_order_of_side_effects() {
    use lute_runtime::Tiers;
    use std::sync::{Arc, Mutex};
    for tiers in [Tiers::AllL4, Tiers::AllL3] {
        for across_exchange in [false, true] {
            let log = Arc::new(Mutex::new(Vec::new()));
            let (la, lb) = (log.clone(), log.clone());
            let src = api::source("n", numbers(200), WatermarkStrategy::default());
            let a = move |x: i64| {
                la.lock().unwrap().push(('a', x));
                x
            };
            let b = move |x: i64| {
                lb.lock().unwrap().push(('b', x));
                x
            };
            let out = if across_exchange {
                src.key_by("k", |x: &i64| x % 3)
                    .map("a", a)
                    .map("b", b)
                    .collect()
                    .run(&Config::default().workers(1).tiers(tiers))
            } else {
                src.map("a", a)
                    .map("b", b)
                    .collect()
                    .run(&Config::default().workers(1).tiers(tiers))
            }
            .unwrap();
            assert_eq!(out.len(), 200);
            let log = log.lock().unwrap();
            assert_eq!(log.len(), 400);
            // Fused: a0 b0 a1 b1 …; batched: a0 a1 … before b0.
            let interleaved = log
                .chunks(2)
                .all(|p| p[0].0 == 'a' && p[1] == ('b', p[0].1));
            match tiers {
                Tiers::AllL4 => assert!(interleaved, "{tiers:?}/{across_exchange}: {log:?}"),
                _ => assert!(
                    !interleaved && log[1].0 == 'a',
                    "{tiers:?}/{across_exchange}: {log:?}"
                ),
            }
        }
    }
}

/// The progress test's job: 20 000 numbers, a watermark every 100, one exchange.
fn residue_job() -> lute_runtime::api::Collect<i64> {
    api::source(
        "numbers",
        numbers(20_000),
        WatermarkStrategy {
            delay: 0,
            every: 100,
        },
    )
    .key_by("by residue", |x: &i64| x % 7)
    .map("pass", |x: i64| x)
    .collect()
}

/// The control plane's progress reports: per stage (a source, an exchange) over its workers,
/// records only grow, watermarks only rise, and the last report (`done`) has every record
/// and the end-of-stream watermark at every stage.
#[test]
fn progress_reports_are_monotone_and_complete() {
    use lute_runtime::{Progress, Tiers};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    for workers in [1, 2, 3] {
        let seen: Arc<Mutex<Vec<Progress>>> = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let config = Config::default()
            .workers(workers)
            .tiers(Tiers::AllL4)
            .progress_interval(Duration::ZERO)
            .on_progress(move |p| s.lock().unwrap().push(p.clone()));
        let job = residue_job();
        let out = job.run(&config).unwrap();
        assert_eq!(out.len(), 20_000);
        // The run's metrics count the same records per stage.
        let metrics = job.metrics();
        assert_eq!(metrics.get("numbers", "records_in"), Some(20_000));
        let by = metrics.get("by residue", "records_in");
        assert_eq!(by, (workers > 1).then_some(20_000), "{metrics}");
        let seen = seen.lock().unwrap();
        let last = seen.last().expect("a final report");
        assert!(last.done && last.finished_workers == workers, "{last:?}");
        assert_eq!(
            seen.iter().filter(|p| p.done).count(),
            1,
            "one final report"
        );
        // 1 worker: the exchange is fused into the source's stage (one stage).
        let names: Vec<&str> = last.stages.iter().map(|s| &*s.name).collect();
        let want: &[&str] = if workers == 1 {
            &["numbers"]
        } else {
            &["numbers", "by residue"]
        };
        assert_eq!(names, want, "{workers} workers");
        for s in &last.stages {
            assert_eq!(s.workers, workers);
            assert_eq!(s.records, 20_000, "{s:?}");
            assert_eq!(s.watermark, i64::MAX, "{s:?}");
        }
        for pair in seen.windows(2) {
            for (a, b) in pair[0].stages.iter().zip(&pair[1].stages) {
                assert!(
                    b.records >= a.records && b.watermark >= a.watermark,
                    "{a:?} -> {b:?}"
                );
            }
        }
    }
}

/// A failed job ends without a final (`done`) progress report.
#[test]
fn a_failed_job_gets_no_final_progress_report() {
    use std::sync::{Arc, Mutex};
    let done = Arc::new(Mutex::new(false));
    let d = done.clone();
    let err = api::source("numbers", numbers(1000), WatermarkStrategy::default())
        .try_map("fails", |x: i64| {
            if x == 500 {
                Err(lute_runtime::OperatorError::new("boom"))
            } else {
                Ok(x)
            }
        })
        .for_each("drop", |_, _| Ok(()))
        .run(&Config::default().on_progress(move |p| *d.lock().unwrap() |= p.done));
    assert!(err.is_err());
    assert!(!*done.lock().unwrap());
}

/// A panicking progress observer fails the job with `JobError::Observer`, and `run` returns
/// only after every worker was cancelled and joined: on an endless source, no worker is left
/// holding its clone of the sink (before the fix the control plane unwound and left them
/// running).
#[test]
fn a_panicking_observer_cancels_the_job() {
    use lute_runtime::GenSource;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    let plan = api::source(
        "endless",
        GenSource::new(u64::MAX, |i| (i as i64, i)),
        WatermarkStrategy::default(),
    )
    .for_each("count", move |_, _| {
        c.fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    let err = plan
        .run(
            &Config::default()
                .workers(2)
                .progress_interval(Duration::ZERO)
                .on_progress(|_| panic!("observer bug")),
        )
        .unwrap_err();
    assert!(
        matches!(&err, JobError::Observer(m) if m.contains("observer bug")),
        "{err:?}"
    );
    drop(plan);
    assert_eq!(
        Arc::strong_count(&count),
        1,
        "a worker still holds the sink"
    );
}
