//! loom models of the MPSC ring: two racing producers, and one producer across a lap.
//! With `--cfg lute_weaken` (slot publication weakened to Relaxed) each must fail.
#![cfg(loom)]

mod common;

use loom::thread;
use lute_sync::{PopError, PushError, mpsc};

fn push_spin(tx: &mpsc::Sender<u64>, mut v: u64) {
    loop {
        match tx.try_push(v) {
            Ok(()) => return,
            Err(PushError::Full(back)) => {
                v = back;
                thread::yield_now();
            }
            Err(PushError::Disconnected(_)) => panic!("receiver alive"),
        }
    }
}

fn drain(rx: &mut mpsc::Receiver<u64>) -> Vec<u64> {
    let mut got = Vec::new();
    loop {
        match rx.try_pop() {
            Ok(v) => got.push(v),
            Err(PopError::Empty) => thread::yield_now(),
            Err(PopError::Disconnected) => return got,
        }
    }
}

#[test]
fn two_producers() {
    common::check("two_producers", || {
        let (tx, mut rx) = mpsc::channel::<u64>(2).unwrap();
        let tx2 = tx.clone();
        let a = thread::spawn(move || push_spin(&tx, 1));
        let b = thread::spawn(move || push_spin(&tx2, 2));
        let mut got = drain(&mut rx);
        a.join().unwrap();
        b.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

#[test]
fn one_producer_across_a_lap() {
    common::check("one_producer_across_a_lap", || {
        let (tx, mut rx) = mpsc::channel::<u64>(2).unwrap();
        let a = thread::spawn(move || {
            for i in 0..3 {
                push_spin(&tx, i);
            }
        });
        let got = drain(&mut rx);
        a.join().unwrap();
        assert_eq!(got, [0, 1, 2]);
    });
}
