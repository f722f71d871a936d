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
