//! loom model of the fan-in: two producers, smallest-key-first merge must be sorted and
//! complete in every interleaving. With `--cfg lute_weaken` it must fail.
#![cfg(loom)]

mod common;

use loom::thread;
use lute_sync::{PopError, fan_in};

#[test]
fn merge_by_key_is_deterministic() {
    common::check("merge_by_key_is_deterministic", || {
        let (txs, mut m) = fan_in::channels::<u64>(2, 2).unwrap();
        let handles: Vec<_> = txs
            .into_iter()
            .zip([[1u64, 4], [2, 3]])
            .map(|(mut tx, vals)| {
                thread::spawn(move || {
                    for v in vals {
                        while tx.try_push(v).is_err() {
                            thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        loop {
            match m.try_pop_by_key(|v| *v) {
                Ok((_, v)) => got.push(v),
                Err(PopError::Empty) => thread::yield_now(),
                Err(PopError::Disconnected) => break,
            }
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(got, [1, 2, 3, 4]);
    });
}
