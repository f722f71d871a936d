//! In-order aggregators (DABA Lite, Two-Stacks Lite, their chunked variants, FIFO
//! subtract-on-evict, Recalc) side by side against the naive oracle after every operation.

mod common;

use std::collections::VecDeque;
use std::fmt::Debug;

use common::{Rng, fold_fifo};
use lute_window::ops::{ArgMax, Bloom, Count, Mat2, Max, Sum};
use lute_window::store::{ChunkedStore, Store};
use lute_window::{
    ChunkedDabaLite, ChunkedTwoStacksLite, CountingOp, DabaLite, FifoAggregator, Lift, Monoid,
    Recalc, SoeFifo, TwoStacksLite,
};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
enum Op {
    Insert(u64),
    Evict,
}

/// All monoid structures for one operator.
fn all_monoid<M: Monoid + Clone + 'static>(op: &M) -> Vec<Box<dyn FifoAggregator<M>>> {
    vec![
        Box::new(DabaLite::new(op.clone())),
        Box::new(ChunkedDabaLite::new(op.clone())),
        Box::new(TwoStacksLite::new(op.clone())),
        Box::new(ChunkedTwoStacksLite::new(op.clone())),
        Box::new(Recalc::new(op.clone())),
        // Tiny capacity: exercises growth and chunk recycling.
        Box::new(DabaLite::with_capacity(op.clone(), 1)),
        Box::new(TwoStacksLite::with_capacity(op.clone(), 1)),
    ]
}

/// Runs `ops` on every structure and on the oracle, comparing after every operation. The
/// first structure is a bare DABA Lite whose invariants are checked too.
fn check<M, F>(op: &M, lift: F, ops: &[Op], mut structs: Vec<Box<dyn FifoAggregator<M>>>)
where
    M: Monoid + Clone,
    M::Agg: PartialEq + Debug,
    F: Fn(u64) -> M::Agg,
{
    let mut daba = DabaLite::with_capacity(op.clone(), 2);
    let mut oracle: VecDeque<M::Agg> = VecDeque::new();
    for (i, o) in ops.iter().enumerate() {
        match *o {
            Op::Insert(x) => {
                oracle.push_back(lift(x));
                daba.insert(lift(x));
                for s in &mut structs {
                    s.insert(lift(x));
                }
            }
            Op::Evict => {
                let had = oracle.pop_front().is_some();
                assert_eq!(daba.evict(), had);
                for s in &mut structs {
                    assert_eq!(s.evict(), had, "op {i}");
                }
            }
        }
        daba.check_invariants()
            .unwrap_or_else(|e| panic!("op {i}: {e}"));
        let want = fold_fifo(op, &oracle);
        assert_eq!(daba.query(), want, "daba, op {i} of {ops:?}");
        assert_eq!(daba.len(), oracle.len());
        for (k, s) in structs.iter().enumerate() {
            assert_eq!(s.query(), want, "structure {k}, op {i} of {ops:?}");
            assert_eq!(s.len(), oracle.len(), "structure {k}, op {i}");
        }
    }
}

fn check_monoids(ops: &[Op]) {
    check(&Mat2, |x| Mat2.lift(x), ops, all_monoid(&Mat2));
    let am = ArgMax::<u64, u64>::new();
    check(&am, |x| am.lift((x, x % 3)), ops, all_monoid(&am));
}

fn check_groups(ops: &[Op]) {
    let mut s: Vec<Box<dyn FifoAggregator<Sum>>> = all_monoid(&Sum);
    s.push(Box::new(SoeFifo::new(Sum)));
    s.push(Box::new(SoeFifo::with_capacity(Sum, 1)));
    check(&Sum, |x| x as i64 * 0x1234_5678_9abc, ops, s);
}

/// Every push/pop sequence up to `len` operations.
fn all_sequences(len: usize) -> impl Iterator<Item = Vec<Op>> {
    (0..=len).flat_map(|n| {
        (0u32..(1 << n)).map(move |bits| {
            (0..n)
                .map(|i| {
                    if bits >> i & 1 == 1 {
                        Op::Insert(u64::from(bits) * 31 + i as u64)
                    } else {
                        Op::Evict
                    }
                })
                .collect()
        })
    })
}

#[test]
fn exhaustive_push_pop_sequences_up_to_12() {
    for ops in all_sequences(12) {
        check(&Mat2, |x| Mat2.lift(x), &ops, all_monoid(&Mat2));
    }
}

#[test]
fn exhaustive_push_pop_sequences_groups_up_to_10() {
    for ops in all_sequences(10) {
        check_groups(&ops);
        let am = ArgMax::<u64, u64>::new();
        check(&am, |x| am.lift((x, x % 2)), &ops, all_monoid(&am));
    }
}

/// Fill to `n`, drain to `low`, repeatedly.
fn fill_drain(n: usize, low: usize, cycles: usize, seed: u64) -> Vec<Op> {
    let mut rng = Rng(seed);
    let mut ops = Vec::new();
    let mut len = 0;
    for _ in 0..cycles {
        while len < n {
            ops.push(Op::Insert(rng.next() % 1000));
            len += 1;
        }
        while len > low {
            ops.push(Op::Evict);
            len -= 1;
        }
    }
    ops
}

#[test]
fn sawtooth_and_thirds() {
    for n in [1, 2, 3, 5, 17, 64, 100] {
        check_monoids(&fill_drain(n, 0, 4, n as u64));
        check_monoids(&fill_drain(n, n / 3, 5, n as u64 + 7));
        check_groups(&fill_drain(n, n / 3, 5, n as u64 + 9));
    }
}

#[test]
fn steady_rounds_with_wraparound() {
    // Evict + insert rounds at fixed sizes, long enough to wrap the rings many times.
    for n in [1usize, 2, 7, 64, 1000] {
        let mut ops: Vec<Op> = (0..n as u64).map(Op::Insert).collect();
        for i in 0..(20 * n as u64 + 200) {
            ops.push(Op::Evict);
            ops.push(Op::Insert(i * 7 + 1));
        }
        check_monoids(&ops);
        check_groups(&ops);
    }
}

#[test]
fn evict_and_query_on_empty() {
    check_monoids(&[Op::Evict, Op::Evict, Op::Insert(3), Op::Evict, Op::Evict]);
    let mut d = DabaLite::new(Max::<i64>::new());
    assert!(!d.evict());
    assert_eq!(d.query(), i64::MIN);
    assert_eq!(d.bulk_evict(5), 0);
}

#[test]
fn bloom_and_count_windows() {
    let b = Bloom::<64>;
    let ops = fill_drain(40, 13, 4, 5);
    check(&b, |x| b.lift(x), &ops, all_monoid(&b));
    check(&Count, |x| Count.lift(x), &ops, all_monoid(&Count));
}

#[test]
fn bulk_evict_equals_single_evicts() {
    for k in [0usize, 1, 5, 33, 100, 1000] {
        let mut a = DabaLite::new(Mat2);
        let mut b = DabaLite::new(Mat2);
        let mut c = ChunkedTwoStacksLite::new(Mat2);
        for x in 0..100 {
            a.insert(Mat2.lift(x));
            b.insert(Mat2.lift(x));
            c.insert(Mat2.lift(x));
        }
        let n = a.bulk_evict(k);
        assert_eq!(n, k.min(100));
        assert_eq!(c.bulk_evict(k), n);
        for _ in 0..k {
            b.evict();
        }
        assert_eq!(a.query(), b.query());
        assert_eq!(c.query(), b.query());
        assert_eq!(a.len(), b.len());
    }
}

/// Worst-case O(1), proved by counting: DABA Lite makes at most 3 combines per insert, 2 per
/// evict and 1 per query, in every pointer state (exhaustive sequences) and at every size
/// of a long sawtooth.
#[test]
fn daba_lite_combine_bound() {
    fn run(ops: &[Op]) -> (u64, u64, u64) {
        let mut d = DabaLite::new(CountingOp::new(Mat2));
        let (mut mi, mut me, mut mq) = (0, 0, 0);
        for o in ops {
            match *o {
                Op::Insert(x) => {
                    let a = Mat2.lift(x);
                    d.insert(a);
                    mi = mi.max(d.op().take_combines());
                }
                Op::Evict => {
                    d.evict();
                    me = me.max(d.op().take_combines());
                }
            }
            let _ = d.query();
            mq = mq.max(d.op().take_combines());
        }
        (mi, me, mq)
    }
    let mut worst = (0, 0, 0);
    for ops in all_sequences(12) {
        let w = run(&ops);
        worst = (worst.0.max(w.0), worst.1.max(w.1), worst.2.max(w.2));
    }
    let w = run(&fill_drain(5000, 0, 2, 1));
    let w2 = run(&fill_drain(3000, 1000, 3, 2));
    worst = (
        worst.0.max(w.0).max(w2.0),
        worst.1.max(w.1).max(w2.1),
        worst.2.max(w.2).max(w2.2),
    );
    assert!(worst.0 <= 3, "insert {worst:?}");
    assert!(worst.1 <= 2, "evict {worst:?}");
    assert!(worst.2 <= 1, "query {worst:?}");
    // And the bound is tight for inserts (both fix-up moves happen).
    assert_eq!(worst.0, 3);
}

/// Two-Stacks Lite, by contrast, shows its O(n) flip.
#[test]
fn two_stacks_lite_flip_is_linear() {
    let mut t = TwoStacksLite::new(CountingOp::new(Sum));
    for x in 0..1000 {
        t.insert(x);
    }
    t.op().take_combines();
    t.evict();
    assert_eq!(t.op().take_combines(), 999);
}

#[test]
fn soe_fifo_combine_bound() {
    let mut s = SoeFifo::new(CountingOp::new(Sum));
    for x in 0..100 {
        s.insert(x);
    }
    for x in 0..10_000 {
        s.op().take_combines();
        s.op().take_inverses();
        s.evict();
        assert_eq!((s.op().take_combines(), s.op().take_inverses()), (0, 1));
        s.insert(x);
        assert_eq!((s.op().take_combines(), s.op().take_inverses()), (1, 0));
        let _ = s.query();
        assert_eq!(s.op().take_combines(), 0);
    }
}

#[test]
fn chunked_store_recycles_chunks() {
    let mut s: ChunkedStore<u64> = ChunkedStore::with_capacity(10, 0);
    for i in 0..100_000 {
        s.push_back(i);
        if s.len() > 3000 {
            s.pop_front();
        }
    }
    // Memory follows the live size, not the history.
    assert!(s.bytes() < 3 * 3000 * 8 + 64 * 1024, "{}", s.bytes());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_operation_streams(ops in proptest::collection::vec(
        prop_oneof![3 => any::<u16>().prop_map(|x| Op::Insert(u64::from(x))), 2 => Just(Op::Evict)],
        0..300,
    )) {
        check_monoids(&ops);
        check_groups(&ops);
    }
}
