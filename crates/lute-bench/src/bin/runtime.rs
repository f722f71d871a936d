//! Runtime benchmark: a keyed sliding-window job on the framework (1 and 2 workers) against a
//! hand-written single-thread loop doing the same computation (the COST floor: the best a
//! programmer would write by hand with the same window library).
//!
//! Job: `n` events, 64 keys, event time = index, value = `1 + i % 101`; per key, sliding
//! windows of size 10 000 and slide 1 000 summing the values; watermark every 256 events.
//! Both sides fold every window result into a checksum, which must match (correctness first).
//!
//! Tiers: the same job at 1 worker with every intra-chain edge fused (all-L4), every edge a
//! batch boundary (all-L3), and the cost model's choice.
//!
//! Scaling: the same job with real work per event (a `map` running [`HEAVY_ROUNDS`] rounds of
//! xorshift on the value, ~50 ns, as parsing or enrichment would) before the key exchange, so
//! that 2 workers split the work.
//!
//! Placement: the hand loop runs on core 0, the framework's workers are pinned to cores
//! 0, 1, … (so the 1-worker job and the loop share a core, and 2 workers get two).
//!
//! `--quick` runs in a few seconds. Ends with `BENCH name=value` lines.

use anyhow::{Context, Result, ensure};
use lute_bench::{Args, Report, load_average, median};
use lute_runtime::api::{Plan, Stream};
use lute_runtime::operator::{Identity, Named, Operator};
use lute_runtime::source::Source;
use lute_runtime::{Config, GenSource, Pinning, Tiers, WatermarkStrategy, api};
use lute_window::ops::Sum;
use lute_window::window::{SlidingSpec, SlidingWindows, WindowResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const KEYS: u64 = 64;
const EVERY: usize = 256;
const SIZE: i64 = 10_000;
const SLIDE: i64 = 1_000;

#[inline]
fn event(i: u64) -> Event {
    // Keys from a multiplicative hash of the index: spread, deterministic.
    let key = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) % KEYS;
    (i as i64, (key, 1 + (i % 101) as i64))
}

#[inline]
fn fold(sum: u64, key: u64, r: &WindowResult<i64>) -> u64 {
    sum.wrapping_add((r.value as u64) ^ key.wrapping_mul(31) ^ (r.end as u64))
}

/// Rounds of per-event work in the scaling job.
const HEAVY_ROUNDS: u32 = 48;

/// The scaling job's per-event work: a serial chain of xorshift rounds (no closed form, so it
/// cannot be optimized away), mapped back to a value in `1..=101`.
#[inline]
fn work(v: i64) -> i64 {
    let mut x = (v as u64) | 1;
    for _ in 0..HEAVY_ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    1 + (x % 101) as i64
}

/// The hand-written loop: a vector of per-key windows indexed by key.
fn hand_loop(n: u64) -> (Duration, u64) {
    hand_loop_with(n, |v| v)
}

/// The hand loop with `f` applied to each value (the scaling job passes [`work`]).
fn hand_loop_with(n: u64, f: impl Fn(i64) -> i64) -> (Duration, u64) {
    let proto = SlidingWindows::new(Sum, &[SlidingSpec::sliding(SIZE, SLIDE)]).expect("spec");
    let mut windows: Vec<SlidingWindows<Sum>> = (0..KEYS).map(|_| proto.clone()).collect();
    let mut check = 0u64;
    let mut max_ts = i64::MIN;
    let t = Instant::now();
    for i in 0..n {
        let (ts, (k, v)) = event(i);
        let v = f(v);
        max_ts = max_ts.max(ts);
        windows[k as usize]
            .insert(ts, &v)
            .expect("in-order events are never late");
        if (i + 1) % EVERY as u64 == 0 {
            for (k, w) in windows.iter_mut().enumerate() {
                w.advance_watermark(max_ts, |r| check = fold(check, k as u64, &r));
            }
        }
    }
    for (k, w) in windows.iter_mut().enumerate() {
        w.advance_watermark(i64::MAX, |r| check = fold(check, k as u64, &r));
    }
    (t.elapsed(), check)
}

fn framework(n: u64, workers: usize) -> Result<(Duration, u64)> {
    framework_tiers(n, workers, Tiers::Model)
}

fn framework_tiers(n: u64, workers: usize, tiers: Tiers) -> Result<(Duration, u64)> {
    let check = Arc::new(AtomicU64::new(0));
    let plan = build(n, check.clone())?;
    let config = Config::default()
        .workers(workers)
        .tiers(tiers)
        .pinning(pinning(workers));
    let t = Instant::now();
    plan.run(&config).context("running the job")?;
    Ok((t.elapsed(), check.load(Ordering::Relaxed)))
}

/// Workers pinned to the first cores (worker 0 shares core 0 with the hand loop's thread)
/// when the process has enough cores; unpinned otherwise (e.g. under `taskset -c 0`).
fn pinning(workers: usize) -> Pinning {
    if lute_bench::cores().len() >= workers {
        Pinning::Cores
    } else {
        Pinning::None
    }
}

/// The scaling job on `workers` workers.
fn framework_heavy(n: u64, workers: usize) -> Result<(Duration, u64)> {
    let check = Arc::new(AtomicU64::new(0));
    let plan = window_and_sum(
        events(n).map("work", |(k, v): (u64, i64)| (k, work(v))),
        check.clone(),
    )?;
    let config = Config::default().workers(workers).pinning(pinning(workers));
    let t = Instant::now();
    plan.run(&config).context("running the scaling job")?;
    Ok((t.elapsed(), check.load(Ordering::Relaxed)))
}

/// One generated event: event time, then (key, value).
type Event = (i64, (u64, i64));

/// The generated events with a watermark every [`EVERY`].
fn events(n: u64) -> Stream<GenSource<impl Fn(u64) -> Event + Clone + Send>, Named<Identity>> {
    api::source(
        "events",
        GenSource::new(n, event),
        WatermarkStrategy {
            delay: 0,
            every: EVERY,
        },
    )
}

/// The keyed sliding-window sum of `stream`, folded into the checksum `c`.
fn window_and_sum<S, C>(stream: Stream<S, C>, c: Arc<AtomicU64>) -> Result<Plan>
where
    S: Source,
    C: Operator<S::Item, Out = (u64, i64)>,
{
    let plan = stream
        .key_by("by key", |e: &(u64, i64)| e.0)
        .window(
            "sliding sum",
            |e: (u64, i64)| e.1,
            &[SlidingSpec::sliding(SIZE, SLIDE)],
            Sum,
        )
        .context("window spec")?
        .for_each("checksum", move |_, (k, r): (u64, WindowResult<i64>)| {
            // Relaxed: a commutative sum read after the job (thread joins order it).
            c.fetch_add(fold(0, k, &r), Ordering::Relaxed);
            Ok(())
        });
    Ok(plan)
}

fn build(n: u64, c: Arc<AtomicU64>) -> Result<Plan> {
    window_and_sum(events(n), c)
}

fn main() -> Result<()> {
    let args = Args::parse().context("parsing arguments")?;
    println!(
        "runtime benchmark: quick={} reps={} cores={} load average at start: {}",
        args.quick,
        args.reps,
        lute_bench::cores().len(),
        load_average()
    );
    let n: u64 = if args.quick { 2_000_000 } else { 20_000_000 };
    // The hand loop runs on this thread, on core 0, where the 1-worker job's worker runs too.
    lute_bench::pin_current(0);
    // `--profile-1w` / `--profile-2w` / `--profile-loop`: only that job or only the hand loop,
    // repeatedly (for perf record / perf stat / callgrind).
    if args.rest.iter().any(|a| a == "--profile-1w") {
        for _ in 0..args.reps {
            let (d, _) = framework(n, 1)?;
            println!(
                "1 worker: {:.2} M events/s",
                n as f64 / d.as_secs_f64() / 1e6
            );
        }
        return Ok(());
    }
    if args.rest.iter().any(|a| a == "--profile-2w") {
        for _ in 0..args.reps {
            let (d, _) = framework(n, 2)?;
            println!(
                "2 workers: {:.2} M events/s",
                n as f64 / d.as_secs_f64() / 1e6
            );
        }
        return Ok(());
    }
    if args.rest.iter().any(|a| a == "--profile-loop") {
        for _ in 0..args.reps {
            let (d, _) = hand_loop(n);
            println!("loop: {:.2} M events/s", n as f64 / d.as_secs_f64() / 1e6);
        }
        return Ok(());
    }
    let plan = build(n, Arc::new(AtomicU64::new(0)))?;
    let explained = plan.explain(&Config::default());
    print!("{explained}");
    // The model's plan at 1 worker: which forced plan it equals (by its edges' tiers).
    let (model_l3, model_l4) = (
        explained.matches(": L3 batch boundary").count(),
        explained.matches(": L4 fused").count(),
    );
    let mut t_loop = Vec::new();
    let mut t_w1 = Vec::new();
    let mut t_w2 = Vec::new();
    let (mut t_l4, mut t_l3) = (Vec::new(), Vec::new());
    // The reference checksum, then per repetition the loop and the three 1-worker plans in a
    // rotating order (drift on the host hits each alike), then 2 workers.
    let (_, want) = hand_loop(n);
    // Warm-up: the cost model calibrates once per process, outside the measured runs.
    framework(n / 10, 1)?;
    for rep in 0..args.reps {
        for k in 0..4 {
            match (k + rep) % 4 {
                0 => {
                    let (d, c) = hand_loop(n);
                    ensure!(c == want, "hand loop: checksum {c} != {want}");
                    t_loop.push(d.as_secs_f64());
                }
                1 => {
                    let (d, c) = framework(n, 1)?;
                    ensure!(c == want, "1 worker: checksum {c} != hand loop {want}");
                    t_w1.push(d.as_secs_f64());
                }
                2 => {
                    let (d, c) = framework_tiers(n, 1, Tiers::AllL4)?;
                    ensure!(c == want, "all-L4: checksum {c} != hand loop {want}");
                    t_l4.push(d.as_secs_f64());
                }
                _ => {
                    let (d, c) = framework_tiers(n, 1, Tiers::AllL3)?;
                    ensure!(c == want, "all-L3: checksum {c} != hand loop {want}");
                    t_l3.push(d.as_secs_f64());
                }
            }
        }
        let (d, c2) = framework(n, 2)?;
        ensure!(c2 == want, "2 workers: checksum {c2} != hand loop {want}");
        t_w2.push(d.as_secs_f64());
    }
    // Ratios per repetition (its runs are seconds apart, so the host's drift hits them
    // alike), then their medians: steadier than ratios of separate medians.
    let mut vs_loop: Vec<f64> = t_loop.iter().zip(&t_w1).map(|(l, w)| l / w).collect();
    let mut per_event: Vec<f64> = t_loop
        .iter()
        .zip(&t_w1)
        .map(|(l, w)| (w - l) / n as f64 * 1e9)
        .collect();
    let mut model_vs_best: Vec<f64> = t_l4
        .iter()
        .zip(&t_l3)
        .zip(&t_w1)
        .map(|((a, b), m)| a.min(*b) / m)
        .collect();
    let (pair_ratio, pair_overhead, pair_model) = (
        median(&mut vs_loop),
        median(&mut per_event),
        median(&mut model_vs_best),
    );
    // Scaling: loop, 1 worker, 2 workers (pinned), rotating.
    let nh = n / 4;
    let (_, want_h) = hand_loop_with(nh, work);
    let (mut h_loop, mut h_w1, mut h_w2) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..args.reps {
        for k in 0..3 {
            let (d, c, v) = match (k + rep) % 3 {
                0 => {
                    let (d, c) = hand_loop_with(nh, work);
                    (d, c, &mut h_loop)
                }
                1 => {
                    let (d, c) = framework_heavy(nh, 1)?;
                    (d, c, &mut h_w1)
                }
                _ => {
                    let (d, c) = framework_heavy(nh, 2)?;
                    (d, c, &mut h_w2)
                }
            };
            ensure!(
                c == want_h,
                "scaling job: checksum {c} != hand loop {want_h}"
            );
            v.push(d.as_secs_f64());
        }
    }
    let mut speedup: Vec<f64> = h_w1.iter().zip(&h_w2).map(|(a, b)| a / b).collect();
    let speedup = median(&mut speedup);
    let (hl, hw1, hw2) = (median(&mut h_loop), median(&mut h_w1), median(&mut h_w2));
    let (l4, l3) = (median(&mut t_l4), median(&mut t_l3));
    let (l, w1, w2) = (median(&mut t_loop), median(&mut t_w1), median(&mut t_w2));
    let rate = |t: f64| n as f64 / t / 1e6;
    println!(
        "\nkeyed sliding-window sum, {n} events, {KEYS} keys, window {SIZE}/{SLIDE} (medians of {})",
        args.reps
    );
    println!("  hand-written loop     {:>8.2} M events/s", rate(l));
    println!(
        "  framework, 1 worker   {:>8.2} M events/s  ({:.2}x the loop)",
        rate(w1),
        l / w1
    );
    println!(
        "  framework, 2 workers  {:>8.2} M events/s  ({:.2}x the loop)",
        rate(w2),
        l / w2
    );
    let overhead = (w1 - l) / n as f64 * 1e9;
    println!("  framework overhead per event at 1 worker: {overhead:.2} ns");
    println!(
        "  per repetition, median: 1 worker / loop {pair_ratio:.2}x, overhead {pair_overhead:.2} ns \
         per event, cost model / better forced plan {pair_model:.3}"
    );
    let best = l4.min(l3);
    println!("\ntiers at 1 worker (the cost model's plan is the 1-worker figure above):");
    println!("  all-L4 (fused)        {:>8.2} M events/s", rate(l4));
    println!("  all-L3 (batch edges)  {:>8.2} M events/s", rate(l3));
    println!(
        "  cost model            {:>8.2} M events/s  ({:.3}x the better of all-L4 and all-L3)",
        rate(w1),
        best / w1
    );
    let model_plan = match (model_l3, model_l4) {
        (0, _) => "all-L4",
        (_, 0) => "all-L3",
        _ => "mixed",
    };
    let best_plan = if l4 <= l3 { "all-L4" } else { "all-L3" };
    println!(
        "  the model's plan is {model_plan} ({model_l4} edge(s) L4, {model_l3} L3); the faster \
         forced plan was {best_plan} by {:.1} %",
        (l4.max(l3) / best - 1.0) * 100.0
    );
    let hrate = |t: f64| nh as f64 / t / 1e6;
    println!(
        "\nscaling: the same job with {HEAVY_ROUNDS} xorshift rounds per event before the exchange, \
         {nh} events (medians of {})",
        args.reps
    );
    println!("  hand-written loop     {:>8.2} M events/s", hrate(hl));
    println!(
        "  framework, 1 worker   {:>8.2} M events/s  ({:.2}x the loop)",
        hrate(hw1),
        hl / hw1
    );
    println!(
        "  framework, 2 workers  {:>8.2} M events/s  ({:.2}x the loop, {speedup:.2}x 1 worker, \
         per repetition)",
        hrate(hw2),
        hl / hw2
    );
    println!();
    let mut r = Report::new();
    r.add("loop_mevents", rate(l));
    r.add("runtime_1w_mevents", rate(w1));
    r.add("runtime_2w_mevents", rate(w2));
    r.add("runtime_1w_vs_loop", l / w1);
    r.add("runtime_2w_vs_loop", l / w2);
    r.add("runtime_overhead_ns_per_event", overhead);
    r.add("tiers_all_l4_mevents", rate(l4));
    r.add("tiers_all_l3_mevents", rate(l3));
    r.add("tiers_model_vs_best", best / w1);
    r.add("scaling_loop_mevents", hrate(hl));
    r.add("scaling_1w_mevents", hrate(hw1));
    r.add("scaling_2w_mevents", hrate(hw2));
    r.add("scaling_2w_vs_1w", speedup);
    r.add("scaling_2w_vs_loop", hl / hw2);
    r.add("paired_1w_vs_loop", pair_ratio);
    r.add("paired_overhead_ns_per_event", pair_overhead);
    r.add("paired_tiers_model_vs_best", pair_model);
    r.add(
        "tiers_model_picked_faster_plan",
        f64::from(u8::from(model_plan == best_plan)),
    );
    r.finish();
    Ok(())
}
