//! Zero allocations after construction: push/pop (single and batch), MPSC, fan-in and the
//! batch pool, measured with the counting allocator of `lute-testkit`.
#![cfg(not(loom))]

use lute_sync::{BatchPool, WaitStrategy, fan_in, mpsc, spsc};
use lute_testkit::{CountingAlloc, count_thread_allocations};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn spsc_single_and_batch_allocate_nothing() {
    let (mut tx, mut rx) = spsc::channel::<u64>(64).unwrap();
    let items: Vec<u64> = (0..48).collect();
    let mut out = vec![0u64; 48];
    let ((), n) = count_thread_allocations(|| {
        for round in 0..10_000u64 {
            tx.try_push(round).unwrap();
            assert_eq!(rx.try_pop(), Ok(round));
            assert_eq!(tx.push_slice(&items), 48);
            assert_eq!(rx.pop_slice(&mut out), 48);
            tx.push(round, WaitStrategy::default()).unwrap();
            assert_eq!(rx.pop(WaitStrategy::default()), Ok(round));
            let mut it = 0..5u64;
            assert_eq!(tx.push_iter(&mut it), 5);
            assert_eq!(rx.pop_batch(5, |v| assert!(v < 5)), 5);
        }
    });
    assert_eq!(n, 0, "SPSC operations allocated");
}

#[test]
fn mpsc_and_fan_in_allocate_nothing() {
    let (tx, mut rx) = mpsc::channel::<u64>(16).unwrap();
    let (mut txs, mut merged) = fan_in::channels::<u64>(2, 16).unwrap();
    // Input 0 carries the even numbers, input 1 the odd ones; every pop refills the input it
    // came from, so the merge always has a head on both inputs.
    txs[0].try_push(0).unwrap();
    txs[1].try_push(1).unwrap();
    let ((), n) = count_thread_allocations(|| {
        for i in 0..10_000u64 {
            tx.try_push(i).unwrap();
            assert_eq!(rx.try_pop(), Ok(i));
            let (input, v) = merged.try_pop_by_key(|v| *v).unwrap();
            assert_eq!(v, i);
            txs[input].try_push(v + 2).unwrap();
        }
    });
    assert_eq!(n, 0, "MPSC / fan-in operations allocated");
}

#[test]
fn pool_cycles_allocate_nothing() {
    let mut pool = BatchPool::<u64>::new(4, 256).unwrap();
    let (mut tx, mut rx) = spsc::channel::<lute_sync::Batch<u64>>(4).unwrap();
    let ((), n) = count_thread_allocations(|| {
        for r in 0..2_000u64 {
            let mut b = pool.try_take().expect("a free batch");
            while b.push(r).is_ok() {}
            tx.try_push(b).unwrap();
            let mut b = rx.try_pop().unwrap();
            assert_eq!(b.drain().count(), 256);
            drop(b);
        }
    });
    assert_eq!(n, 0, "pool take/fill/send/return allocated");
}
