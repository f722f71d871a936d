//! Nexmark benchmark: queries Q1, Q2 and Q5 as NacreousLute jobs at 1 and 2 workers against
//! the same queries as single-threaded plain loops, over the same pre-generated events (Beam
//! model, strings dropped: `lute_nexmark::event`). Every job's output is checked against the
//! loop's (row count and digest) before its time counts.
//!
//! Repetitions interleave the loop and the jobs; medians; workers pinned to cores 0 and 1 when
//! the machine has them, the loop on core 0. The timely dataflow and plain-loop figures of the
//! reference harness (`../shared/reference/nexmark.md` §6, same kind of machine) are printed
//! beside them for orientation: they were not measured in this process.
//!
//! `--quick`: 1 M events (10 M otherwise). Ends with `BENCH name=value` lines.

use anyhow::{Context, Result, ensure};
use lute_bench::{Args, Report, load_average, median, pin_current};
use lute_nexmark::event;
use lute_nexmark::query::{self, Query};
use lute_runtime::{Config, Pinning, VecSource};
use std::time::Instant;

/// The reference harness's events/s (median of 3, 2-vCPU Zen 3): loop, timely 1 and 2
/// workers.
fn reference_figures(q: Query) -> (f64, f64, f64) {
    match q {
        Query::Q1 => (161.1e6, 63.8e6, 125.2e6),
        Query::Q2 => (288.5e6, 125.7e6, 225.7e6),
        Query::Q5 => (73.8e6, 40.6e6, 59.2e6),
    }
}

fn main() -> Result<()> {
    let args = Args::parse().context("parsing arguments")?;
    let cores = lute_bench::cores().len();
    println!(
        "nexmark benchmark: quick={} reps={} cores={cores} load average at start: {}",
        args.quick,
        args.reps,
        load_average()
    );
    let n = if args.quick { 1_000_000 } else { 10_000_000 };
    let t = Instant::now();
    let source = VecSource::new(event::generate(n, cores.max(1)));
    let events = source.records();
    println!(
        "{n} events generated in {:.2} s (not timed below)",
        t.elapsed().as_secs_f64()
    );
    pin_current(0);
    let mut report = Report::new();
    println!(
        "\n{:<5} {:>10} {:>10} {:>10} {:>9} {:>9}   {:>10} {:>10} {:>10}",
        "query",
        "loop",
        "1 worker",
        "2 workers",
        "1w/loop",
        "2w/loop",
        "ref loop",
        "timely 1w",
        "timely 2w"
    );
    for q in Query::ALL {
        let mut rates: [Vec<f64>; 3] = Default::default();
        let expected = query::reference(q, events);
        for _ in 0..args.reps {
            let t = Instant::now();
            let got = query::reference(q, events);
            rates[0].push(n as f64 / t.elapsed().as_secs_f64());
            ensure!(got == expected, "{q}: the loop is not deterministic");
            for (slot, w) in [(1, 1), (2, 2)] {
                let mut config = Config::default().workers(w);
                if cores >= w {
                    config = config.pinning(Pinning::Cores);
                }
                let t = Instant::now();
                let (got, _) = query::run(q, &source, &config)
                    .with_context(|| format!("{q} at {w} worker(s)"))?;
                rates[slot].push(n as f64 / t.elapsed().as_secs_f64());
                ensure!(
                    got == expected,
                    "{q} at {w} worker(s): {got:?}, the loop: {expected:?}"
                );
            }
        }
        let m: Vec<f64> = rates.iter_mut().map(|r| median(r)).collect();
        let (rl, r1, r2) = reference_figures(q);
        println!(
            "{:<5} {:>10.1} {:>10.1} {:>10.1} {:>9.3} {:>9.3}   {:>10.1} {:>10.1} {:>10.1}",
            q.to_string(),
            m[0] / 1e6,
            m[1] / 1e6,
            m[2] / 1e6,
            m[1] / m[0],
            m[2] / m[0],
            rl / 1e6,
            r1 / 1e6,
            r2 / 1e6
        );
        report.add(format!("{q}_loop_mevents"), m[0] / 1e6);
        report.add(format!("{q}_1w_mevents"), m[1] / 1e6);
        report.add(format!("{q}_2w_mevents"), m[2] / 1e6);
        report.add(format!("{q}_1w_vs_loop"), m[1] / m[0]);
        report.add(format!("{q}_2w_vs_loop"), m[2] / m[0]);
        report.add(format!("{q}_1w_vs_ref_timely_1w"), m[1] / r1);
        report.add(format!("{q}_2w_vs_ref_timely_2w"), m[2] / r2);
    }
    println!(
        "(events/s over all events, persons and auctions included; jobs timed from run() to its return: thread start, cost-model calibration and shutdown included)\n"
    );
    report.finish();
    Ok(())
}
