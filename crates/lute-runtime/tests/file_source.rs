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
