//! File sources: CSV and JSON lines feed the same job as an in-memory source; bad input fails
//! the job with the file, the line and the reason.

use lute_runtime::{Config, FileSource, JobError, VecSource, WatermarkStrategy, api};
use std::path::PathBuf;

fn temp(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("lute-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

fn parse_csv(f: &[&str]) -> Result<(i64, (String, i64)), String> {
    match f {
        [t, k, v] => Ok((
            t.parse().map_err(|e| format!("time {t:?}: {e}"))?,
            (
                k.to_string(),
                v.parse().map_err(|e| format!("value {v:?}: {e}"))?,
            ),
        )),
        _ => Err(format!("expected 3 fields, found {}", f.len())),
    }
}

fn records() -> Vec<(i64, (String, i64))> {
    (0..2_000)
        .map(|i: i64| {
            // Some keys need CSV quoting: commas, quotes, surrounding spaces.
            let k = match i % 7 {
                3 => format!("k{}, \"quoted\"", i % 7),
                5 => format!("  k{} ", i % 7),
                _ => format!("k{}", i % 7),
            };
            (i, (k, i % 13 - 6))
        })
        .collect()
}

#[test]
fn csv_and_json_lines_match_the_in_memory_source() {
    let recs = records();
    let csv: String = recs
        .iter()
        .map(|(t, (k, v))| format!("{t}, \"{}\" ,{v}\n", k.replace('"', "\"\"")))
        .collect();
    let json: String = recs
        .iter()
        .map(|(t, (k, v))| {
            let k = serde_json::to_string(k).unwrap();
            format!("{{\"t\":{t},\"k\":{k},\"v\":{v}}}\n\n")
        })
        .collect();
    let csv_path = temp("in.csv", &csv);
    let json_path = temp("in.jsonl", &json);
    let wm = WatermarkStrategy {
        delay: 0,
        every: 64,
    };
    for workers in [1, 2, 4] {
        let c = Config::default().workers(workers);
        let expect = api::source("mem", VecSource::new(recs.clone()), wm)
            .key_by("k", |r: &(String, i64)| r.0.clone())
            .collect()
            .run_sorted(&c)
            .unwrap();
        let from_csv = api::source("csv", FileSource::csv(&csv_path, parse_csv), wm)
            .key_by("k", |r: &(String, i64)| r.0.clone())
            .collect()
            .run_sorted(&c)
            .unwrap();
        assert_eq!(from_csv, expect, "{workers} workers, CSV");
        #[derive(serde::Deserialize)]
        struct Rec {
            t: i64,
            k: String,
            v: i64,
        }
        let from_json = api::source(
            "json",
            FileSource::json_lines(&json_path, |r: &Rec| r.t),
            wm,
        )
        .map("to tuple", |r: Rec| (r.k, r.v))
        .key_by("k", |r: &(String, i64)| r.0.clone())
        .collect()
        .run_sorted(&c)
        .unwrap();
        assert_eq!(from_json, expect, "{workers} workers, JSON lines");
    }
    std::fs::remove_file(csv_path).unwrap();
    std::fs::remove_file(json_path).unwrap();
}

#[test]
fn bad_line_names_file_and_line() {
    let path = temp("bad.csv", "1,a,1\n2,b,2\n3,c,not-a-number\n4,d,4\n");
    for workers in [1, 3] {
        let err = api::source(
            "csv in",
            FileSource::csv(&path, parse_csv),
            WatermarkStrategy::default(),
        )
        .collect()
        .run(&Config::default().workers(workers))
        .unwrap_err();
        match &err {
            JobError::Operator { op, source, .. } => {
                let cause = source.to_string();
                assert_eq!(op, "csv in");
                assert!(cause.contains("line 3"), "{cause}");
                assert!(cause.contains("value \"not-a-number\""), "{cause}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    std::fs::remove_file(path).unwrap();
}

/// The error message of a one-worker CSV job over `path`.
fn csv_job_error(path: &std::path::Path) -> String {
    api::source(
        "csv in",
        FileSource::csv(path, parse_csv),
        WatermarkStrategy::default(),
    )
    .collect()
    .run(&Config::default())
    .unwrap_err()
    .to_string()
}

#[test]
fn malformed_quoting_names_file_line_and_field() {
    let path = temp("quotes.csv", "1,\"a\",1\n2,\"b\"x,2\n");
    let msg = csv_job_error(&path);
    assert!(
        msg.contains("line 2") && msg.contains("field 2: text after the closing quote"),
        "{msg}"
    );
    std::fs::write(&path, "1,\"never closed,1\n").unwrap();
    let msg = csv_job_error(&path);
    assert!(
        msg.contains("line 1") && msg.contains("unterminated quoted field"),
        "{msg}"
    );
    std::fs::write(&path, "1,k\"x,1\n").unwrap();
    let msg = csv_job_error(&path);
    assert!(
        msg.contains("line 1") && msg.contains("field 2: a quote inside an unquoted field"),
        "{msg}"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn missing_file_fails_cleanly() {
    let err = api::source(
        "csv in",
        FileSource::csv("/nonexistent/lute/input.csv", parse_csv),
        WatermarkStrategy::default(),
    )
    .collect()
    .run(&Config::default().workers(2))
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cannot open /nonexistent/lute/input.csv"),
        "{msg}"
    );
}

/// Every source can be started from a position it reported: the records after it are the
/// ones the uninterrupted partition read after that position (restore goes through `seek`).
#[test]
fn sources_resume_from_their_positions() {
    use lute_runtime::{GenSource, Source};
    fn read_all<S: Source>(s: &mut S) -> Vec<S::Item> {
        let mut got = Vec::new();
        loop {
            let st = s.fill(7, &mut |_, x| {
                got.push(x);
                Ok(())
            });
            if st.unwrap() == lute_runtime::SourceStatus::Done {
                return got;
            }
        }
    }
    fn check<S: Source>(proto: S, parts: usize)
    where
        S::Item: PartialEq + std::fmt::Debug,
    {
        for p in 0..parts {
            let mut whole = proto.clone();
            whole.open(p, parts).unwrap();
            let all = read_all(&mut whole);
            assert_eq!(whole.position(), all.len() as u64);
            for at in [0, 1, all.len() / 2, all.len()] {
                let mut s = proto.clone();
                s.open(p, parts).unwrap();
                s.seek(at as u64).unwrap();
                assert_eq!(s.position(), at as u64);
                assert_eq!(read_all(&mut s), all[at..], "partition {p}, position {at}");
            }
        }
    }
    let v: Vec<(i64, u64)> = (0..50).map(|i| (i, i as u64)).collect();
    check(VecSource::new(v.clone()), 3);
    check(VecSource::new(v).blocks(4.try_into().unwrap()), 3);
    check(GenSource::new(50, |i| (i as i64, i)), 3);
    let path = std::env::temp_dir().join(format!("lute-seek-{}.csv", std::process::id()));
    let text: String = (0..40).map(|i| format!("{i},{}\n", i * 10)).collect();
    std::fs::write(&path, text).unwrap();
    check(
        FileSource::csv(&path, |f| {
            let t: i64 = f[0].parse().map_err(|e| format!("{e}"))?;
            Ok((t, f[1].to_string()))
        }),
        2,
    );
    // A position past a file partition's end is refused with a typed error.
    let mut s = FileSource::csv(&path, |f| Ok((0, f[0].to_string())));
    s.open(0, 2).unwrap();
    assert!(matches!(
        s.seek(1_000),
        Err(lute_core::StateError::Seek {
            position: 1_000,
            ..
        })
    ));
    std::fs::remove_file(&path).unwrap();
}
