//! loom models of the SPSC ring: single and batch operations across a wrap-around.
//!
//! Built with `--cfg loom`; with `--cfg lute_weaken` as well, the ring's Release publication
//! is weakened to Relaxed and each model must fail (see `common::check`): that proves the model
//! can catch a missing happens-before edge.
#![cfg(loom)]

mod common;

use loom::thread;
use lute_sync::{PopError, PushError, spsc};

#[test]
fn single_push_pop_across_wrap() {
    common::check("single_push_pop_across_wrap", || {
        let (mut tx, mut rx) = spsc::channel::<u64>(2).unwrap();
        let p = thread::spawn(move || {
            for i in 0..3 {
                let mut v = i;
                loop {
                    match tx.try_push(v) {
                        Ok(()) => break,
                        Err(PushError::Full(back)) => {
                            v = back;
                            thread::yield_now();
                        }
                        Err(PushError::Disconnected(_)) => panic!("consumer alive"),
                    }
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            match rx.try_pop() {
                Ok(v) => got.push(v),
                Err(PopError::Empty) => thread::yield_now(),
                Err(PopError::Disconnected) => break,
            }
        }
        p.join().unwrap();
        assert_eq!(got, [0, 1, 2]);
    });
}

/// Lazy release at its laziest (once per lap): the producer may overwrite a slot only after the
/// consumer's release that covers it, which carries the reads of every earlier pop.
#[test]
fn single_items_with_lap_long_release() {
    common::check("single_items_with_lap_long_release", || {
        let (mut tx, mut rx) = spsc::channel_releasing::<u64>(2, 2).unwrap();
        let p = thread::spawn(move || {
            for i in 0..4 {
                let mut v = i;
                while let Err(e) = tx.try_push(v) {
                    match e {
                        PushError::Full(back) => v = back,
                        PushError::Disconnected(_) => panic!("consumer alive"),
                    }
                    thread::yield_now();
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < 4 {
            match rx.try_pop() {
                Ok(v) => got.push(v),
                Err(PopError::Empty) => thread::yield_now(),
                Err(PopError::Disconnected) => break,
            }
        }
        p.join().unwrap();
        assert_eq!(got, [0, 1, 2, 3]);
    });
}

#[test]
fn batch_push_pop_across_wrap() {
    common::check("batch_push_pop_across_wrap", || {
        let (mut tx, mut rx) = spsc::channel::<u64>(2).unwrap();
        let p = thread::spawn(move || {
            let items = [10, 11, 12];
            let mut sent = 0;
            while sent < items.len() {
                let n = tx.push_slice(&items[sent..]);
                if n == 0 {
                    thread::yield_now();
                }
                sent += n;
            }
        });
        let mut got = Vec::new();
        let mut buf = [0u64; 2];
        loop {
            let n = rx.pop_slice(&mut buf);
            got.extend_from_slice(&buf[..n]);
            if got.len() == 3 {
                break;
            }
            if n == 0 {
                if rx.is_abandoned() && rx.available() == 0 {
                    break;
                }
                thread::yield_now();
            }
        }
        p.join().unwrap();
        assert_eq!(got, [10, 11, 12]);
    });
}

#[test]
fn whole_batch_push_across_wrap() {
    common::check("whole_batch_push_across_wrap", || {
        let (mut tx, mut rx) = spsc::channel::<u64>(2).unwrap();
        let p = thread::spawn(move || {
            // The second batch waits for both slots and is written as two runs (wrap).
            for batch in [&[10][..], &[11, 12][..]] {
                while !tx.push_slice_all(batch) {
                    thread::yield_now();
                }
            }
        });
        let mut got = Vec::new();
        let mut buf = [0u64; 2];
        while got.len() < 3 {
            let n = rx.pop_slice(&mut buf);
            got.extend_from_slice(&buf[..n]);
            if n == 0 {
                thread::yield_now();
            }
        }
        p.join().unwrap();
        assert_eq!(got, [10, 11, 12]);
    });
}

#[test]
fn in_place_batches_across_wrap() {
    common::check("in_place_batches_across_wrap", || {
        let (mut tx, mut rx) = spsc::channel::<u64>(2).unwrap();
        let p = thread::spawn(move || {
            // Batches of 1 then 2: the second is filled in place as two runs (wrap).
            for (first, n) in [(20, 1), (21, 2)] {
                while !tx.push_with(n, |j| first + j as u64) {
                    thread::yield_now();
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            let n = rx.pop_slices(2, |a, b| {
                got.extend_from_slice(a);
                got.extend_from_slice(b);
                a.len() + b.len()
            });
            if n == 0 {
                thread::yield_now();
            }
        }
        p.join().unwrap();
        assert_eq!(got, [20, 21, 22]);
    });
}

#[test]
fn drop_is_seen_after_last_value() {
    common::check("drop_is_seen_after_last_value", || {
        let (mut tx, mut rx) = spsc::channel::<String>(2).unwrap();
        let p = thread::spawn(move || {
            tx.try_push("last".to_owned()).unwrap();
        });
        let mut got = Vec::new();
        loop {
            match rx.try_pop() {
                Ok(v) => got.push(v),
                Err(PopError::Empty) => thread::yield_now(),
                Err(PopError::Disconnected) => break,
            }
        }
        p.join().unwrap();
        assert_eq!(got, ["last"]);
    });
}
