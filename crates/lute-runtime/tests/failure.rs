//! Failures: an operator that errors or panics mid-stream ends the job with a clear error
//! naming the operator, every thread joined; bad configuration is refused before any thread
//! starts.

use lute_runtime::{
    BuildError, Config, GenSource, Idle, JobError, OperatorError, Pinning, WatermarkStrategy, api,
};
use lute_window::ops::Sum;
use lute_window::window::SlidingSpec;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

/// Runs `f` on a thread and fails the test if it does not return: a hang detector (the job
/// must end; how fast is the benchmarks' business, so the limit is generous).
fn must_end<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(v) => v,
        Err(RecvTimeoutError::Timeout) => panic!("the job hung"),
        Err(RecvTimeoutError::Disconnected) => panic!("the job's thread panicked"),
    }
}

fn numbers(n: u64) -> GenSource<impl FnMut(u64) -> (i64, u64) + Clone + Send + 'static> {
    GenSource::new(n, |i| (i as i64, i))
}

#[test]
fn operator_error_names_the_operator() {
    for workers in [1, 2, 4] {
        let err = must_end(move || {
            api::source("numbers", numbers(1_000_000), WatermarkStrategy::default())
                .try_map("parse", |x: u64| {
                    if x == 50_000 {
                        Err(OperatorError::new("bad record 50000"))
                    } else {
                        Ok(x)
                    }
                })
                .key_by("by value", |x: &u64| *x % 7)
                .for_each("sink", |_, _| Ok(()))
                .run(&Config::default().workers(workers))
                .unwrap_err()
        });
        match err {
            JobError::Operator { op, source, .. } => {
                let cause = source.to_string();
                assert_eq!(op, "parse");
                assert_eq!(cause, "bad record 50000");
            }
            other => panic!("unexpected error {other:?}"),
        }
    }
}

#[test]
fn panic_after_the_exchange_names_the_operator() {
    for (workers, idle) in [1, 2, 4]
        .into_iter()
        .flat_map(|w| [(w, Idle::default()), (w, Idle::park())])
    {
        let err = must_end(move || {
            api::source("numbers", numbers(1_000_000), WatermarkStrategy::default())
                .key_by("by value", |x: &u64| *x)
                .map("explode", |x: u64| {
                    assert!(x != 123_456, "cannot handle {x}");
                    x
                })
                .for_each("sink", |_, _| Ok(()))
                .run(&Config::default().workers(workers).idle(idle))
                .unwrap_err()
        });
        match &err {
            JobError::Panic { op, message, .. } => {
                assert_eq!(op, "explode");
                assert!(message.contains("cannot handle 123456"), "{message}");
            }
            other => panic!("unexpected error {other:?}"),
        }
        let shown = err.to_string();
        assert!(
            shown.contains("explode") && shown.contains("panicked"),
            "{shown}"
        );
    }
}

#[test]
fn sink_error_fails_the_job() {
    let err = must_end(|| {
        api::source("numbers", numbers(100_000), WatermarkStrategy::default())
            .for_each("sink", |_, x: u64| {
                if x == 99_999 {
                    Err(OperatorError::new("disk full"))
                } else {
                    Ok(())
                }
            })
            .run(&Config::default().workers(2))
            .unwrap_err()
    });
    assert!(
        matches!(&err, JobError::Operator { op, source, .. } if op == "sink" && source.to_string() == "disk full"),
        "{err:?}"
    );
}

#[test]
fn bad_configuration_is_refused_before_start() {
    let plan = api::source("numbers", numbers(10), WatermarkStrategy::default())
        .for_each("sink", |_, _| Ok(()));
    let check = |c: Config, expect: BuildError| match plan.run(&c) {
        Err(JobError::Build(e)) => assert_eq!(e, expect),
        other => panic!("expected {expect:?}, got {other:?}"),
    };
    check(Config::default().workers(0), BuildError::NoWorkers);
    check(
        Config::default().batch_size(0),
        BuildError::Zero { what: "batch_size" },
    );
    check(
        Config::default().channel_capacity(12),
        BuildError::Capacity(lute_sync::CapacityError::NotPowerOfTwo(12)),
    );
    let cores = core_affinity::get_core_ids().map_or(1, |c| c.len());
    check(
        Config::default().workers(cores + 1).pinning(Pinning::Cores),
        BuildError::TooManyPinnedWorkers {
            workers: cores + 1,
            cores,
        },
    );
    let msg = JobError::Build(BuildError::NoWorkers).to_string();
    assert_eq!(msg, "invalid job: a job needs at least 1 worker");
}

#[test]
fn bad_window_spec_is_refused_at_build_time() {
    let r = api::source("numbers", numbers(10), WatermarkStrategy::default())
        .key_by("k", |x: &u64| *x)
        .window("w", |x: u64| x as i64, &[SlidingSpec::sliding(10, 0)], Sum);
    assert!(matches!(r, Err(BuildError::Window(_))));
}

#[test]
fn pinned_workers_run() {
    let out = api::source("numbers", numbers(10_000), WatermarkStrategy::default())
        .key_by("k", |x: &u64| *x % 3)
        .collect()
        .run_sorted(&Config::default().workers(1).pinning(Pinning::Cores))
        .unwrap();
    assert_eq!(out.len(), 10_000);
}

/// A burst larger than an exchange's batch pool (a window firing for many keys, after a
/// union at 1 worker, so the receiver is on the same thread) spills to the heap instead of
/// waiting for batches only that thread could return; every result arrives.
#[test]
fn a_burst_beyond_the_batch_pool_does_not_hang() {
    use lute_runtime::api;
    let out = must_end(|| {
        let keys = 2_000u64;
        let b = api::source("b", numbers(keys), WatermarkStrategy::default());
        let job = api::source("a", numbers(keys), WatermarkStrategy::default())
            .union("a + b", b)
            .key_by("by value", |x: &u64| *x)
            .window(
                "count",
                |_x: u64| 1i64,
                &[SlidingSpec::tumbling(1_000_000)],
                Sum,
            )
            .unwrap()
            .key_by(
                "by key again",
                |r: &(u64, lute_window::window::WindowResult<i64>)| r.0,
            )
            .map(
                "count",
                |(_, r): (u64, lute_window::window::WindowResult<i64>)| r.value,
            )
            .collect();
        let config = Config::default()
            .workers(1)
            .batch_size(8)
            .channel_capacity(2);
        let out = job.run(&config).unwrap();
        (out, job.metrics())
    });
    let (out, metrics) = out;
    assert_eq!(out.len(), 2_000, "one window result per key");
    assert!(
        out.iter().all(|(_, c)| *c == 2),
        "each key once from each input"
    );
    let spilled = metrics
        .get("<job>", "exchange_spilled_batches")
        .unwrap_or(0);
    assert!(spilled > 0, "the burst spilled: {metrics}");
}
