//! A doorbell: lets a thread that polls many sources (a runtime worker polling its stages)
//! sleep when all of them are empty, and be woken by whoever gives it work, with no lost
//! wake-ups and no cost to the poller while it is busy.
//!
//! # Protocol
//!
//! ```text
//! sleeper                                  ringer
//! arm():  sleeping = true; fence(SeqCst)   publish work (e.g. a Release store of a ring index)
//! re-check every source                    ring(): fence(SeqCst); if sleeping { unpark }
//! nothing? park(); disarm()
//! ```
//!
//! The same store-buffer (Dekker) handshake as [`crate::wait`]: with Acquire/Release only,
//! both sides could read the other's old value (the sleeper misses the work, the ringer misses
//! the flag) and the sleeper would park with work pending. The two `SeqCst` fences are totally
//! ordered, so at least one side sees the other's store. `unpark` before `park` is kept as the
//! thread's token, so a ring between the re-check and the park is not lost either. Under
//! `--cfg lute_weaken` the fences become `AcqRel` and the loom model (tests/loom_doorbell.rs)
//! must find the lost wake-up.
//!
//! # Examples
//!
//! ```
//! use lute_sync::doorbell::Doorbell;
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicBool, Ordering};
//! let bell = Arc::new(Doorbell::new());
//! let work = Arc::new(AtomicBool::new(false));
//! let (b, w) = (bell.clone(), work.clone());
//! let sleeper = std::thread::spawn(move || {
//!     b.register();
//!     while !w.load(Ordering::Acquire) {
//!         b.arm();
//!         if !w.load(Ordering::Acquire) {
//!             b.park(std::time::Duration::from_secs(60));
//!         }
//!         b.disarm();
//!     }
//! });
//! work.store(true, Ordering::Release);
//! bell.ring();
//! sleeper.join().unwrap();
//! ```

use crate::primitive::{AtomicBool, Mutex, Ordering, Thread, current, dekker_fence};
use std::sync::PoisonError;

/// One sleeper's doorbell (see the module docs).
#[derive(Debug, Default)]
pub struct Doorbell {
    sleeping: AtomicBool,
    thread: Mutex<Option<Thread>>,
}

impl Doorbell {
    /// A doorbell with no sleeper registered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the calling thread as the sleeper (before its first [`Doorbell::arm`]).
    pub fn register(&self) {
        *self.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(current());
    }

    /// The sleeper is about to park: raises the flag. The caller then re-checks its sources
    /// and calls [`Doorbell::park`] only if they are all empty, then [`Doorbell::disarm`].
    #[inline]
    pub fn arm(&self) {
        // Relaxed: ordered before the re-check's loads by the fence that follows.
        self.sleeping.store(true, Ordering::Relaxed);
        // SeqCst (inside `dekker_fence`), not Acquire/Release: this store must be ordered
        // before the re-check's *loads of other locations*; only the total order of SeqCst
        // fences forbids the sleeper and the ringer both reading the other's old value.
        dekker_fence();
    }

    /// The sleeper is running again.
    #[inline]
    pub fn disarm(&self) {
        // Relaxed: a ringer that still sees `true` only unparks spuriously (the sleeper's
        // next park then returns at once and it re-checks).
        self.sleeping.store(false, Ordering::Relaxed);
    }

    /// Wakes the sleeper if it is armed. Call after publishing the work.
    #[inline]
    pub fn ring(&self) {
        // SeqCst (inside `dekker_fence`), not Acquire/Release: the caller's publishing store
        // must be ordered before the load of `sleeping` below (store then load of another
        // location: the store-buffer pattern Release/Acquire cannot forbid).
        dekker_fence();
        // Relaxed: ordered after the caller's publication by the fence above (module docs).
        if self.sleeping.load(Ordering::Relaxed) {
            self.wake();
        }
    }

    #[cold]
    fn wake(&self) {
        if let Some(t) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            t.unpark();
        }
    }

    /// Parks the calling (registered) thread until rung, or at most `timeout` (under loom:
    /// until rung, so a lost wake-up is a deadlock the model finds).
    pub fn park(&self, timeout: std::time::Duration) {
        #[cfg(not(loom))]
        std::thread::park_timeout(timeout);
        #[cfg(loom)]
        {
            let _ = timeout;
            loom::thread::park();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;
    use std::time::Duration;

    /// A sleeper woken by rings, 1000 times (20 under Miri): every piece of work is seen (a lost wake-up
    /// would stall on the 60-second park and the count would not finish).
    #[test]
    fn every_ring_is_seen() {
        let n: u64 = if cfg!(miri) { 20 } else { 1000 };
        let bell = Arc::new(Doorbell::new());
        let work = Arc::new(AtomicU64::new(0));
        let (b, w) = (bell.clone(), work.clone());
        let sleeper = std::thread::spawn(move || {
            b.register();
            let mut seen = 0;
            while seen < n {
                let now = w.load(Ordering::Acquire);
                if now > seen {
                    seen = now;
                    continue;
                }
                b.arm();
                if w.load(Ordering::Acquire) == seen {
                    b.park(Duration::from_secs(60));
                }
                b.disarm();
            }
            seen
        });
        for _ in 0..n {
            work.fetch_add(1, Ordering::Release);
            bell.ring();
        }
        assert_eq!(sleeper.join().unwrap(), n);
    }
}
