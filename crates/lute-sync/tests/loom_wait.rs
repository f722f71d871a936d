//! loom models of park/unpark: a consumer parked on an empty ring is woken by the producer's
//! push, and by the producer's drop; a producer parked on a full ring is woken by a pop. A lost
//! wake-up shows as a loom deadlock. With `--cfg lute_weaken` (the handshake's SeqCst fence
//! weakened to AcqRel) loom must find the lost wake-up.
#![cfg(loom)]

mod common;

use loom::thread;
use lute_sync::{PopError, WaitStrategy, spsc};

#[test]
fn parked_consumer_is_woken_by_push() {
    common::check("parked_consumer_is_woken_by_push", || {
        let (mut tx, mut rx) = spsc::channel::<u64>(2).unwrap();
        let p = thread::spawn(move || {
            tx.push(5, WaitStrategy::park()).unwrap();
            // Keep the producer alive until the value is read, so only the push can wake.
            tx
        });
        assert_eq!(rx.pop(WaitStrategy::park()), Ok(5));
        drop(p.join().unwrap());
    });
}

#[test]
fn parked_consumer_is_woken_by_drop() {
    common::check("parked_consumer_is_woken_by_drop", || {
        let (tx, mut rx) = spsc::channel::<u64>(2).unwrap();
        let p = thread::spawn(move || drop(tx));
        assert_eq!(rx.pop(WaitStrategy::park()), Err(PopError::Disconnected));
        p.join().unwrap();
    });
}

#[test]
fn parked_producer_is_woken_by_pop() {
    common::check("parked_producer_is_woken_by_pop", || {
        let (mut tx, mut rx) = spsc::channel::<u64>(1).unwrap();
        tx.try_push(1).unwrap();
        let p = thread::spawn(move || {
            tx.push(2, WaitStrategy::park()).unwrap();
            tx
        });
        assert_eq!(rx.pop(WaitStrategy::park()), Ok(1));
        assert_eq!(rx.pop(WaitStrategy::park()), Ok(2));
        drop(p.join().unwrap());
    });
}

/// A producer parked on a full ring is woken by a consumer that pops with `try_pop` (which
/// releases lazily) and then calls `wake_producer` (which releases what it held back).
#[test]
fn parked_producer_is_woken_after_lazy_pops() {
    common::check("parked_producer_is_woken_after_lazy_pops", || {
        let (mut tx, mut rx) = spsc::channel_releasing::<u64>(2, 2).unwrap();
        tx.try_push(1).unwrap();
        tx.try_push(2).unwrap();
        let p = thread::spawn(move || {
            tx.push(3, WaitStrategy::park()).unwrap();
            tx
        });
        assert_eq!(rx.try_pop(), Ok(1));
        rx.wake_producer();
        // The producer finishes without another pop: the wake-up came with the freed slot.
        let tx = p.join().unwrap();
        assert_eq!(rx.try_pop(), Ok(2));
        assert_eq!(rx.try_pop(), Ok(3));
        drop(tx);
    });
}
