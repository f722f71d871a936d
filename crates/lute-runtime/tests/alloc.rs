//! No allocation per event in steady state: a keyed windowed job over a fixed key set (new
//! keys allocate their state once) allocates the same amount for N and for 2N events, so the
//! data path (sources, chains, exchange, merge, windows, watermarks) allocates nothing per
//! event, batch or watermark.

use lute_runtime::{Config, GenSource, WatermarkStrategy, api};
use lute_testkit::{CountingAlloc, total_allocations};
use lute_window::ops::Sum;
use lute_window::window::SlidingSpec;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The allocator counts every thread: tests in this file take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run(n: u64, workers: usize) -> u64 {
    run_keys(n, workers, |i| i % 16)
}

/// The job with keys `key(i)` for event `i`.
fn run_keys(n: u64, workers: usize, key: fn(u64) -> u64) -> u64 {
    let plan = api::source(
        "gen",
        GenSource::new(n, move |i| (i as i64, (key(i), i as i64))),
        WatermarkStrategy {
            delay: 10,
            every: 64,
        },
    )
    .key_by("by key", |e: &(u64, i64)| e.0)
    .window(
        "sliding sum",
        |e: (u64, i64)| e.1,
        &[SlidingSpec::sliding(1_000, 100)],
        Sum,
    )
    .unwrap()
    .for_each("sink", |_, r| {
        std::hint::black_box(r);
        Ok(())
    });
    let config = Config::default().workers(workers);
    let before = total_allocations();
    plan.run(&config).unwrap();
    total_allocations() - before
}

#[test]
fn zero_allocations_per_event_after_warm_up() {
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for workers in [1, 2] {
        let n = 200_000;
        let small = run(n, workers);
        let large = run(2 * n, workers);
        let extra = large.saturating_sub(small);
        // Per event, batch (~780 more) or watermark (~3100 more) allocation would show here.
        assert!(
            extra < 64,
            "{workers} workers: {small} allocations for {n} events, {large} for {}: {extra} more",
            2 * n
        );
        println!(
            "{workers} workers: {small} allocations for {n} events, {large} for {}",
            2 * n
        );
    }
}

/// Keys that churn: a new set of 16 keys every 5 000 events, the old ones never seen again.
/// Their windows fire and the keys are evicted; the new keys reuse the evicted states, so N
/// and 2N events allocate the same (without eviction every new key would allocate: 16 per era,
/// 640 more here).
#[test]
fn churning_keys_reuse_evicted_state() {
    fn era_keys(i: u64) -> u64 {
        (i / 5_000) * 16 + i % 16
    }
    let _turn = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for workers in [1, 2] {
        let n = 200_000;
        let small = run_keys(n, workers, era_keys);
        let large = run_keys(2 * n, workers, era_keys);
        let extra = large.saturating_sub(small);
        assert!(
            extra < 64,
            "{workers} workers: {small} allocations for {n} events, {large} for {}: {extra} more",
            2 * n
        );
    }
}
