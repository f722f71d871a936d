//! loom model of the doorbell: a sleeper that re-checks after arming and a ringer that rings
//! after publishing never leave the sleeper parked with work pending (a lost wake-up shows as a
//! loom deadlock). With `--cfg lute_weaken` (the SeqCst fences weakened to AcqRel) loom must
//! find the lost wake-up.
#![cfg(loom)]

mod common;

use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use lute_sync::doorbell::Doorbell;
use std::time::Duration;

#[test]
fn armed_sleeper_is_woken_by_ring() {
    common::check("armed_sleeper_is_woken_by_ring", || {
        let bell = Arc::new(Doorbell::new());
        let work = Arc::new(AtomicBool::new(false));
        bell.register();
        let (b, w) = (bell.clone(), work.clone());
        let ringer = thread::spawn(move || {
            // Relaxed: the doorbell's fences order this store before the flag load.
            w.store(true, Ordering::Relaxed);
            b.ring();
        });
        while !work.load(Ordering::Relaxed) {
            bell.arm();
            if !work.load(Ordering::Relaxed) {
                bell.park(Duration::MAX);
            }
            bell.disarm();
        }
        ringer.join().unwrap();
    });
}
