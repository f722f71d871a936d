//! loom model of the batch pool: a batch filled on one thread, consumed and dropped on
//! another, returns cleared and is taken again (blocking). With `--cfg lute_weaken` (the
//! return ring's publication weakened) it must fail.
#![cfg(loom)]

mod common;

use loom::thread;
use lute_sync::{BatchPool, WaitStrategy};

#[test]
fn batch_round_trip() {
    common::check("batch_round_trip", || {
        let mut pool = BatchPool::<u64>::new(1, 2).unwrap();
        let mut b = pool.try_take().unwrap();
        b.push(7).unwrap();
        b.push(8).unwrap();
        let c = thread::spawn(move || {
            let s: u64 = b.iter().sum();
            drop(b);
            s
        });
        let again = pool.take(WaitStrategy::park());
        assert!(again.is_empty());
        assert_eq!(again.capacity(), 2);
        assert_eq!(c.join().unwrap(), 15);
    });
}
