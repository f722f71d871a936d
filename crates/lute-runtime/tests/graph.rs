//! Job graphs beyond one source: file sinks, `explain` of unions and joins, run metrics,
//! and bad sink paths.

use lute_runtime::{Config, JobError, VecSource, WatermarkStrategy, job};
use lute_window::window::SlidingSpec;

fn numbers(n: i64) -> VecSource<i64> {
    VecSource::new((0..n).map(|i| (i, i)).collect())
}

#[test]
fn file_sink_writes_one_json_line_per_record_per_worker() {
    let dir = std::env::temp_dir().join(format!("lute-file-sink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    job::source("n", numbers(1000), WatermarkStrategy::default())
        .key_by("by parity", |x: &i64| x % 2)
        .map("pair", |x: i64| (x % 2, x))
        .write_json_lines("files", &dir)
        .run(&Config::default().workers(2))
        .unwrap();
    let mut all = Vec::new();
    for w in 0..2 {
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
    let err = job::source("n", numbers(10), WatermarkStrategy::default())
        .write_json_lines("files", &file)
        .run(&Config::default())
        .unwrap_err();
    match &err {
        JobError::Operator { op, cause, .. } => {
            assert_eq!(op, "files");
            assert!(cause.contains("lute-not-a-dir"), "{cause}");
        }
        other => panic!("unexpected error: {other}"),
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn explain_shows_every_input_of_unions_and_joins() {
    let b = job::source("b", numbers(10), WatermarkStrategy::default());
    let plan = job::source("a", numbers(10), WatermarkStrategy::default())
        .union("a + b", b)
        .window_join(
            "self join",
            job::source("c", numbers(10), WatermarkStrategy::default()),
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
    let plan = job::source("a", numbers(10), WatermarkStrategy::default())
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
    let out = job::source("n", numbers(5000), WatermarkStrategy { delay: 0, every: 7 })
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
