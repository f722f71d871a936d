//! The `lute` binary end to end: a small Nexmark run succeeds and checks itself; bad input
//! fails with a clear message and a non-zero status, never a panic.

use std::process::{Command, Output};

fn lute(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lute"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run lute")
}

#[test]
fn nexmark_runs_every_query_and_matches_the_loop() {
    let out = lute(&[
        "nexmark",
        "--events",
        "30000",
        "--workers",
        "1,2",
        "--reps",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for q in ["q1", "q2", "q5"] {
        // One loop row and one row per worker count.
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(q)).count(),
            3,
            "{stdout}"
        );
    }
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    assert!(
        stdout.contains("all outputs equal the plain loop's"),
        "{stdout}"
    );
}

#[test]
fn bad_input_is_refused_with_a_message() {
    for (args, why) in [
        (vec!["nexmark", "--query", "q9"], "unknown query \"q9\""),
        (
            vec!["nexmark", "--events", "0"],
            "--events must be at least 1",
        ),
        (
            vec!["nexmark", "--workers", "0"],
            "every worker count must be at least 1",
        ),
        (vec!["nexmark", "--reps", "0"], "--reps must be at least 1"),
        (vec!["nexmark", "--events", "many"], "invalid value 'many'"),
        (
            vec!["nexmark", "--events", "100000000000000"],
            "of memory is available",
        ),
        (vec!["launch"], "unrecognized subcommand"),
        (
            vec!["nexmark", "--workers", "100000"],
            "--workers 100000: at most 256",
        ),
        (vec!["nexmark", "--workers", "300", "--pin"], "at most 256"),
        (
            vec!["nexmark", "--workers", "64", "--pin"],
            "--pin with 64 workers",
        ),
    ] {
        let out = lute(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
