//! Backpressure: with a deliberately slow sink, the source slows down: records in flight
//! (produced but not yet consumed) stay under a bound set by the configuration (rings, pools,
//! batches), instead of growing with the input.

use lute_runtime::{Config, GenSource, WatermarkStrategy, api};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[test]
fn slow_sink_slows_the_source() {
    let workers = 2u64;
    let (batch, capacity, every) = (16u64, 4u64, 16usize);
    let config = Config::default()
        .workers(workers as usize)
        .batch_size(batch as usize)
        .channel_capacity(capacity as usize);
    let n = 20_000u64;
    let produced = Arc::new(AtomicU64::new(0));
    let consumed = Arc::new(AtomicU64::new(0));
    let max_gap = Arc::new(AtomicU64::new(0));
    let p = produced.clone();
    let (p2, c, g) = (produced.clone(), consumed.clone(), max_gap.clone());
    api::source(
        "numbers",
        GenSource::new(n, |i| (i as i64, i)),
        WatermarkStrategy { delay: 0, every },
    )
    .map("count produced", move |x: u64| {
        // Relaxed: statistics only; the gap below is a sample, not a synchronisation.
        p.fetch_add(1, Ordering::Relaxed);
        x
    })
    .key_by("spread", |x: &u64| *x)
    .for_each("slow sink", move |_, _| {
        let done = c.fetch_add(1, Ordering::Relaxed) + 1;
        let gap = p2.load(Ordering::Relaxed).saturating_sub(done);
        g.fetch_max(gap, Ordering::Relaxed);
        // The deliberately slow sink.
        std::thread::sleep(Duration::from_micros(20));
        Ok(())
    })
    .run(&config)
    .unwrap();
    assert_eq!(consumed.load(Ordering::Relaxed), n);
    assert_eq!(produced.load(Ordering::Relaxed), n);
    // What can be in flight: per sender and destination, a full ring of batches, one open
    // batch, two pending messages and the batch the receiver is reading; plus one source step
    // (at most `every` records) per worker.
    let bound = workers * workers * (capacity + 4) * batch + workers * every as u64;
    let gap = max_gap.load(Ordering::Relaxed);
    assert!(
        gap <= bound,
        "{gap} records in flight, more than the bound {bound}: no backpressure"
    );
    // And the bound is far below the input: the source really was held back.
    assert!(bound * 4 < n);
}
