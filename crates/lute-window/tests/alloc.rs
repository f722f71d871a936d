//! No allocation per operation in steady state: after warm-up, rounds allocate nothing.

use lute_testkit::{CountingAlloc, count_thread_allocations};
use lute_window::ops::{Bloom, Mat2, Sum};
use lute_window::{
    ChunkedTwoStacksLite, DabaLite, FifoAggregator, Lift, Monoid, SoeFifo, SoeRing, TwoStacksLite,
};

#[global_allocator]
static A: CountingAlloc = CountingAlloc;

fn rounds<M: Monoid, F: FifoAggregator<M>>(w: &mut F, lift: impl Fn(u64) -> M::Agg, n: usize) {
    for i in 0..n as u64 {
        w.evict();
        w.insert(lift(i));
        std::hint::black_box(w.query());
    }
}

fn steady<M: Monoid, F: FifoAggregator<M>>(mut w: F, lift: impl Fn(u64) -> M::Agg + Copy) {
    for size in [1usize, 10, 1000, 5000] {
        while w.len() < size {
            w.insert(lift(7));
        }
        // Warm-up: every structure reaches its steady storage (flips, chunk recycling).
        rounds(&mut w, lift, 3 * size + 10);
        let ((), n) = count_thread_allocations(|| rounds(&mut w, lift, 4 * size + 100));
        assert_eq!(n, 0, "allocations in steady state at n={size}");
    }
}

#[test]
fn fifo_structures_do_not_allocate_in_steady_state() {
    steady(DabaLite::new(Mat2), |x| Mat2.lift(x));
    steady(TwoStacksLite::new(Mat2), |x| Mat2.lift(x));
    steady(ChunkedTwoStacksLite::new(Mat2), |x| Mat2.lift(x));
    steady(SoeFifo::new(Sum), |x| x as i64);
    steady(DabaLite::new(Bloom::<64>), |x| Bloom::<64>.lift(x));
}

#[test]
fn soe_ring_does_not_allocate() {
    let mut w = SoeRing::new(Sum, 1024, 1);
    let ((), n) = count_thread_allocations(|| {
        for t in 0..100_000i64 {
            w.evict_upto(t - 1000);
            let _ = w.insert(t - (t % 17), &Sum.lift(t));
            std::hint::black_box(w.query());
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn fiba_does_not_allocate_in_steady_state() {
    // In order and out of order at distance 100: nodes are recycled through the free list.
    for d in [0i64, 100] {
        let mut f = lute_window::Fiba::new(Mat2);
        for t in 0..5000 {
            f.insert(t, Mat2.lift(t as u64));
        }
        for k in 0..d {
            f.insert((1 << 40) + k, Mat2.lift(1));
        }
        let mut t = 5000i64;
        let mut run = |f: &mut lute_window::Fiba<Mat2>, n: usize| {
            for _ in 0..n {
                f.evict();
                f.insert(t, Mat2.lift(t as u64));
                t += 1;
                std::hint::black_box(f.query());
            }
        };
        run(&mut f, 20_000);
        let ((), n) = count_thread_allocations(|| run(&mut f, 20_000));
        assert_eq!(n, 0, "FiBA allocations at d={d}");
    }
}

#[test]
fn windows_do_not_allocate_in_steady_state() {
    use lute_window::window::{CountWindows, SessionWindows, SlidingSpec, SlidingWindows};
    let specs = [SlidingSpec::sliding(1000, 10), SlidingSpec::tumbling(100)];
    let mut w = SlidingWindows::new(Sum, &specs).unwrap();
    let mut s = SessionWindows::new(Sum, 5);
    let mut c = CountWindows::new(Mat2, 100, 7);
    let mut sink = 0i64;
    let mut run = |from: i64, to: i64, sink: &mut i64| {
        for t in from..to {
            // Out of order within 8, watermark 16 behind.
            let et = t - (t * 7919) % 8;
            let _ = w.insert(et, &1);
            let _ = s.insert(et / 10 * 10 + (t % 3) * 20, &1);
            if let Some(r) = c.insert(Mat2.lift(t as u64)) {
                *sink += r.value.0[0] as i64;
            }
            if t % 10 == 0 {
                w.advance_watermark(t - 16, |r| *sink += r.value);
                s.advance_watermark(t - 16, |r| *sink += r.value);
            }
        }
    };
    run(0, 50_000, &mut sink);
    let ((), n) = count_thread_allocations(|| run(50_000, 100_000, &mut sink));
    assert_eq!(n, 0);
    assert!(sink > 0);
}
