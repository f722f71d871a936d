//! No allocation per event in steady state: a keyed windowed job over a fixed key set (new
//! keys allocate their state once) allocates the same amount for N and for 2N events, so the
//! data path (sources, chains, exchange, merge, windows, watermarks) allocates nothing per
//! event, batch or watermark.

use lute_runtime::{Config, GenSource, WatermarkStrategy, job};
use lute_testkit::{CountingAlloc, total_allocations};
use lute_window::ops::Sum;
use lute_window::window::SlidingSpec;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn run(n: u64, workers: usize) -> u64 {
    let plan = job::source(
        "gen",
        GenSource::new(n, |i| (i as i64, (i % 16, i as i64))),
        WatermarkStrategy {
            delay: 10,
            every: 64,
        },
    )
    .key_by("by key", |e: &(u64, i64)| e.0)
    .window(
        "sliding sum",
        |e: &(u64, i64)| e.0,
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
