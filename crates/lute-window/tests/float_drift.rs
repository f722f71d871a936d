//! The float drift bound of the compensated sum under subtract-on-evict: after 10^6 slides of
//! values mixing 1e16 with 1.0, the total stays within the documented bound of the exact
//! value, where a naive `f64` total drifts far beyond it.

use lute_window::ops::FloatSum;
use lute_window::{FifoAggregator, Lift, SoeFifo, SoeRing};

/// Exact sums: every value is an integer (or an integer times 2^-10), so i128 is exact.
fn value(i: u64) -> f64 {
    match i % 7 {
        0 => 1e16,
        1 => -3e15,
        2 => 1.0,
        3 => 0.5,
        4 => 123_456_789.0,
        5 => -1e16,
        _ => 0.125,
    }
}

fn exact(i: u64) -> i128 {
    (value(i) * 1024.0) as i128
}

#[test]
fn compensated_soe_drift_is_bounded() {
    const N: u64 = 1000;
    const SLIDES: u64 = 1_000_000;
    let u = f64::EPSILON / 2.0;
    let big_m = 1e16 * N as f64; // bound on partial magnitudes
    let mut soe = SoeFifo::new(FloatSum);
    let mut ring = SoeRing::new(FloatSum, 2048, 1);
    let mut naive = 0.0f64;
    let mut exact_total: i128 = 0;
    for i in 0..N {
        soe.insert(FloatSum.lift(value(i)));
        ring.insert(i as i64, &FloatSum.lift(value(i))).unwrap();
        naive += value(i);
        exact_total += exact(i);
    }
    let mut worst_naive = 0.0f64;
    for k in 0..SLIDES {
        let (old, new) = (k, k + N);
        soe.evict();
        soe.insert(FloatSum.lift(value(new)));
        ring.evict_upto(old as i64 + 1);
        ring.insert(new as i64, &FloatSum.lift(value(new))).unwrap();
        naive = naive - value(old) + value(new);
        exact_total += exact(new) - exact(old);
        let want = exact_total as f64 / 1024.0;
        let ops = 2.0 * (k + N) as f64;
        let bound = u * want.abs() + 8.0 * ops * u * u * big_m;
        let got = soe.total().value();
        assert!(
            (got - want).abs() <= bound,
            "slide {k}: {got} vs {want} (bound {bound})"
        );
        let got = ring.query().value();
        assert!(
            (got - want).abs() <= bound,
            "ring slide {k}: {got} vs {want}"
        );
        worst_naive = worst_naive.max((naive - want).abs());
    }
    // The naive total drifts by whole units here, far past the compensated bound.
    assert!(worst_naive > 1.0, "naive drift {worst_naive}");
}

#[test]
fn cancellation_returns_exact_small_values() {
    let mut soe = SoeFifo::new(FloatSum);
    soe.insert(FloatSum.lift(1e16));
    for _ in 0..10 {
        soe.insert(FloatSum.lift(1.0));
    }
    soe.evict();
    assert_eq!(soe.total().value(), 10.0);
}
