//! `lute`: runs NacreousLute's built-in jobs.
//!
//! `lute nexmark` generates Nexmark events (Beam model, strings dropped, fixed base time),
//! then runs each query as a NacreousLute job at each worker count and as a single-threaded
//! plain loop, checks that both produced the same rows (count and order-independent digest)
//! and prints throughput and the ratio to the loop. A mismatch is an error (exit status 1).

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, Subcommand};
use lute_nexmark::event;
use lute_nexmark::query::{self, Outcome, Query};
use lute_runtime::{Config, Pinning, VecSource};
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "lute",
    version,
    about = "NacreousLute: run the built-in stream jobs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run Nexmark queries as NacreousLute jobs, checked against and timed beside a plain loop.
    Nexmark(NexmarkArgs),
}

#[derive(clap::Args, Debug)]
struct NexmarkArgs {
    /// Queries to run, comma-separated (q1, q2, q5).
    #[arg(long, short, value_delimiter = ',', default_values_t = Query::ALL.to_vec())]
    query: Vec<Query>,
    /// Events to generate (2 % persons, 6 % auctions, 92 % bids; 10 000 per second of event
    /// time).
    #[arg(long, short, default_value_t = 2_000_000)]
    events: usize,
    /// Worker counts to run each query at, comma-separated.
    #[arg(long, short, value_delimiter = ',', default_values_t = vec![1, 2])]
    workers: Vec<usize>,
    /// Timed repetitions of each run (the median is printed).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Pin worker i to core i (refused if there are more workers than cores).
    #[arg(long)]
    pin: bool,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Nexmark(args) => nexmark(&args),
    }
}

/// Most workers `lute nexmark` accepts: an exchange has a ring per pair of workers.
const MAX_WORKERS: usize = 256;

/// Refuses a run whose events would not fit in the memory available now (Linux:
/// `MemAvailable` in /proc/meminfo; elsewhere no check), instead of aborting on a failed
/// allocation midway.
fn check_memory(events: usize) -> Result<()> {
    let need = events.saturating_mul(std::mem::size_of::<(i64, event::Event)>());
    let Ok(info) = std::fs::read_to_string("/proc/meminfo") else {
        return Ok(());
    };
    let available = info
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map(|kb| kb.saturating_mul(1024));
    if let Some(available) = available {
        ensure!(
            need <= available,
            "--events {events} needs {:.1} GiB for the generated events, but only {:.1} GiB of \
             memory is available",
            need as f64 / f64::from(1u32 << 30),
            available as f64 / f64::from(1u32 << 30)
        );
    }
    Ok(())
}

/// Median of `v` (sorted in place); `v` is not empty.
fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn nexmark(args: &NexmarkArgs) -> Result<()> {
    ensure!(args.events > 0, "--events must be at least 1");
    ensure!(args.reps > 0, "--reps must be at least 1");
    ensure!(
        !args.workers.contains(&0),
        "--workers: every worker count must be at least 1"
    );
    let cores = lute_runtime::cores().len();
    if let Some(&w) = args.workers.iter().find(|&&w| w > MAX_WORKERS) {
        bail!(
            "--workers {w}: at most {MAX_WORKERS} (each exchange has a ring per pair of workers)"
        );
    }
    if args.pin
        && let Some(&w) = args.workers.iter().find(|&&w| w > cores)
    {
        bail!("--pin with {w} workers: this process may run on {cores} core(s) only");
    }
    check_memory(args.events)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let source = VecSource::new(event::generate(args.events, threads));
    let events = source.records();
    let generated = t.elapsed();
    println!(
        "nexmark: {} events generated in {:.2} s on {threads} thread(s) ({:.1} M events/s); \
         event time {:.1} s",
        args.events,
        generated.as_secs_f64(),
        args.events as f64 / generated.as_secs_f64() / 1e6,
        (events.last().map_or(0, |e| e.0) - events[0].0) as f64 / 1e3,
    );
    println!(
        "{:<6} {:>8} {:>14} {:>10} {:>14} {:>12}",
        "query", "workers", "M events/s", "vs loop", "rows", "digest"
    );
    let mut mismatches = Vec::new();
    for &q in &args.query {
        let mut times = Vec::with_capacity(args.reps);
        let mut expected = Outcome::default();
        for _ in 0..args.reps {
            let t = Instant::now();
            expected = query::reference(q, events);
            times.push(t.elapsed());
        }
        let loop_time = median(&mut times);
        let rate = |d: Duration| args.events as f64 / d.as_secs_f64() / 1e6;
        println!(
            "{:<6} {:>8} {:>14.1} {:>10} {:>14} {:>12x}",
            q.to_string(),
            "loop",
            rate(loop_time),
            "1.000",
            expected.rows,
            expected.digest
        );
        for &w in &args.workers {
            let mut config = Config::default().workers(w);
            if args.pin {
                config = config.pinning(Pinning::Cores);
            }
            let mut times = Vec::with_capacity(args.reps);
            let mut got = Outcome::default();
            for _ in 0..args.reps {
                let t = Instant::now();
                let (outcome, _) = query::run(q, &source, &config)
                    .with_context(|| format!("running {q} at {w} worker(s)"))?;
                times.push(t.elapsed());
                got = outcome;
            }
            let d = median(&mut times);
            let ok = got == expected;
            println!(
                "{:<6} {:>8} {:>14.1} {:>10.3} {:>14} {:>12x}{}",
                q.to_string(),
                w,
                rate(d),
                loop_time.as_secs_f64() / d.as_secs_f64(),
                got.rows,
                got.digest,
                if ok { "" } else { "  MISMATCH" }
            );
            if !ok {
                mismatches.push(format!(
                    "{q} at {w} worker(s): {} rows, digest {:x}; the loop: {} rows, digest {:x}",
                    got.rows, got.digest, expected.rows, expected.digest
                ));
            }
        }
    }
    if !mismatches.is_empty() {
        bail!(
            "the job's output differs from the plain loop's:\n  {}",
            mismatches.join("\n  ")
        );
    }
    println!("all outputs equal the plain loop's");
    Ok(())
}
