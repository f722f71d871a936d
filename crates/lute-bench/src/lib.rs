//! Shared harness for NacreousLute's benchmark binaries.
//!
//! Every binary in `src/bin/` compares NacreousLute against a peer in the same process,
//! interleaves repetitions, reports medians, prints the load average at start and end, has a
//! `--quick` mode, and ends with `BENCH name=value` lines (see [`Report`]).
//!
//! - [`Args`]: the common command line (`--quick`, `--reps N`).
//! - [`load_average`]: `/proc/loadavg`, printed so a noisy run can be recognised.
//! - [`pin_current`]: pin the calling thread to one core.
//! - [`median`]: median of repeated measurements.
//! - [`Report`]: collects headline figures and prints the `BENCH` lines.

use std::fmt::Write as _;

/// The common command line of the benchmark binaries.
#[derive(Debug, Clone)]
pub struct Args {
    /// `--quick`: a short run (seconds) for CI smoke tests and the README.
    pub quick: bool,
    /// `--reps N`: repetitions per measurement (median is reported); at least 3.
    pub reps: usize,
    /// Arguments the harness did not recognise, left for the binary.
    pub rest: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()`.
    ///
    /// # Errors
    /// A `--reps` without a number >= 1.
    pub fn parse() -> anyhow::Result<Self> {
        // Read the affinity mask before anything is pinned (see `cores`).
        let _ = cores();
        Self::parse_from(std::env::args().skip(1))
    }

    /// Parses the given arguments (without the program name).
    ///
    /// # Errors
    /// A `--reps` without a number >= 1.
    pub fn parse_from(args: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        let mut quick = false;
        let mut reps = None;
        let mut rest = Vec::new();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--quick" => quick = true,
                "--reps" => {
                    let v = it
                        .next()
                        .ok_or_else(|| anyhow::anyhow!("--reps needs a number"))?;
                    let n: usize = v
                        .parse()
                        .map_err(|e| anyhow::anyhow!("--reps {v:?}: {e}"))?;
                    anyhow::ensure!(n >= 1, "--reps must be at least 1");
                    reps = Some(n);
                }
                // `cargo bench` passes --bench; ignore it.
                "--bench" => {}
                _ => rest.push(a),
            }
        }
        Ok(Self {
            quick,
            reps: reps.unwrap_or(3),
            rest,
        })
    }
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg`, or `"unknown"`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s.split_whitespace().take(3).collect();
            (f.len() == 3).then(|| f.join(" "))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

pub use lute_runtime::cores;

/// Pins the calling thread to the `index`-th core of the process's affinity mask as read at
/// start-up (modulo the number of cores). Returns the core id pinned to, or `None` if pinning
/// is unavailable.
pub fn pin_current(index: usize) -> Option<usize> {
    let ids = cores();
    if ids.is_empty() {
        return None;
    }
    let id = ids[index % ids.len()];
    core_affinity::set_for_current(id).then_some(id.id)
}

/// Median of `v` (sorted in place). Returns NaN for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Collects headline figures and prints them as `BENCH name=value` lines at the end.
#[derive(Debug, Default)]
pub struct Report {
    lines: Vec<(String, f64)>,
}

impl Report {
    /// A new, empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a headline figure.
    pub fn add(&mut self, name: impl Into<String>, value: f64) {
        self.lines.push((name.into(), value));
    }

    /// Renders the `BENCH` lines (also used by tests of the harness).
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (n, v) in &self.lines {
            let _ = writeln!(s, "BENCH {n}={v:.3}");
        }
        s
    }

    /// Prints the load average and the `BENCH` lines.
    pub fn finish(&self) {
        println!("load average at end: {}", load_average());
        print!("{}", self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn args_parse() {
        let a = Args::parse_from(["--quick", "--reps", "5", "x"].map(String::from)).unwrap();
        assert!(a.quick);
        assert_eq!(a.reps, 5);
        assert_eq!(a.rest, vec!["x".to_owned()]);
        assert!(Args::parse_from(["--reps".to_owned()]).is_err());
        assert!(Args::parse_from(["--reps", "0"].map(String::from)).is_err());
    }

    #[test]
    fn report_renders_bench_lines() {
        let mut r = Report::new();
        r.add("a_vs_b", 1.5);
        assert_eq!(r.render(), "BENCH a_vs_b=1.500\n");
    }
}
