//! Waiting: a [`WaitStrategy`] (spin, then yield, then park) and the crate-internal
//! `Notifier` that parks and wakes threads without lost wake-ups.
//!
//! # Protocol (no lost wake-ups)
//!
//! A waiter and a notifier form a Dekker (store-buffer) handshake:
//!
//! ```text
//! waiter                               notifier
//! lock; waiters += 1                   publish data (Release store of an index)
//! fence(SeqCst)                        fence(SeqCst)
//! check condition (loads the index)    if waiters != 0 { lock; notify_all }
//! if not ready: condvar.wait (unlocks)
//! ```
//!
//! Acquire/Release cannot forbid the outcome where both sides read the other's *old* value
//! (a store followed by a load of a different location may be reordered, even on x86 through
//! the store buffer). The two `SeqCst` fences are totally ordered, so at least one side sees
//! the other's store: either the waiter sees the data and does not sleep, or the notifier sees
//! `waiters != 0` and takes the lock. Because the waiter holds the lock from its increment
//! until `condvar.wait` releases it, the notifier's `lock` cannot complete in between, so its
//! `notify_all` reaches the waiter. This is the only `SeqCst` in the crate, and it is paid only
//! by the notifying (blocking) operations, never by `try_*`.

use crate::primitive::{AtomicUsize, Condvar, Mutex, Ordering, dekker_fence, spin_loop, yield_now};
use std::sync::PoisonError;

/// How a blocking operation waits: spin `spins` times, then yield `yields` times, then (if
/// `park`) sleep until notified.
///
/// On a 2-core machine, pure spinning starves the thread being waited for; the default spins
/// briefly, yields briefly, then parks.
///
/// # Examples
///
/// ```
/// use lute_sync::WaitStrategy;
/// let w = WaitStrategy::default();
/// assert!(w.park);
/// let spin = WaitStrategy::spin();
/// assert!(!spin.park);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStrategy {
    /// Busy-wait iterations (with `spin_loop` hints) before yielding.
    pub spins: u32,
    /// `yield_now` calls before parking.
    pub yields: u32,
    /// Whether to park after spinning and yielding; if false, keeps yielding forever.
    pub park: bool,
}

impl Default for WaitStrategy {
    fn default() -> Self {
        Self {
            spins: 100,
            yields: 10,
            park: true,
        }
    }
}

impl WaitStrategy {
    /// Spin forever (lowest latency; only for threads pinned to dedicated cores).
    pub fn spin() -> Self {
        Self {
            spins: u32::MAX,
            yields: 0,
            park: false,
        }
    }

    /// Park immediately (no spinning); lowest CPU use.
    pub fn park() -> Self {
        Self {
            spins: 0,
            yields: 0,
            park: true,
        }
    }
}

/// Progress through the phases of a [`WaitStrategy`].
#[derive(Debug)]
pub(crate) struct Backoff {
    strategy: WaitStrategy,
    step: u64,
}

impl Backoff {
    pub(crate) fn new(strategy: WaitStrategy) -> Self {
        Self { strategy, step: 0 }
    }

    /// Waits one step; returns false once it is time to park.
    pub(crate) fn snooze(&mut self) -> bool {
        let s = self.strategy;
        let spins = u64::from(s.spins);
        if self.step < spins {
            spin_loop();
            // Under loom a spin must be a yield, or the model never lets the other thread run.
            #[cfg(loom)]
            yield_now();
        } else if self.step < spins + u64::from(s.yields) || !s.park {
            yield_now();
        } else {
            return false;
        }
        self.step += 1;
        true
    }
}

/// Parks waiters and wakes them without lost wake-ups (see the module docs).
#[derive(Debug)]
pub(crate) struct Notifier {
    /// Number of threads inside the parking phase of [`Notifier::wait_until`]; changed only
    /// with `lock` held.
    waiters: AtomicUsize,
    lock: Mutex<()>,
    cvar: Condvar,
}

impl Notifier {
    pub(crate) fn new() -> Self {
        Self {
            waiters: AtomicUsize::new(0),
            lock: Mutex::new(()),
            cvar: Condvar::new(),
        }
    }

    /// Wakes every parked waiter. Call after publishing whatever the waiters wait for.
    #[inline]
    pub(crate) fn notify(&self) {
        dekker_fence();
        // Relaxed: ordered by the fence above against the waiter's fence (see module docs).
        if self.waiters.load(Ordering::Relaxed) != 0 {
            drop(self.lock.lock().unwrap_or_else(PoisonError::into_inner));
            self.cvar.notify_all();
        }
    }

    /// Waits, following `strategy`, until `ready` returns `Some`.
    pub(crate) fn wait_until<R>(
        &self,
        strategy: WaitStrategy,
        mut ready: impl FnMut() -> Option<R>,
    ) -> R {
        let mut backoff = Backoff::new(strategy);
        loop {
            if let Some(r) = ready() {
                return r;
            }
            if !backoff.snooze() {
                break;
            }
        }
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        // Relaxed: the counter is only written under `lock`; the cross-thread edge with the
        // notifier comes from the fence below.
        self.waiters.fetch_add(1, Ordering::Relaxed);
        loop {
            dekker_fence();
            if let Some(r) = ready() {
                // Relaxed: as for the increment.
                self.waiters.fetch_sub(1, Ordering::Relaxed);
                return r;
            }
            guard = self
                .cvar
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::primitive::{Arc, AtomicBool};

    #[test]
    fn backoff_phases() {
        let mut b = Backoff::new(WaitStrategy {
            spins: 2,
            yields: 1,
            park: true,
        });
        assert!(b.snooze());
        assert!(b.snooze());
        assert!(b.snooze());
        assert!(!b.snooze());
        let mut b = Backoff::new(WaitStrategy {
            spins: 0,
            yields: 0,
            park: false,
        });
        for _ in 0..10 {
            assert!(b.snooze());
        }
    }

    #[test]
    fn parked_waiter_is_woken() {
        let n = Arc::new(Notifier::new());
        let flag = Arc::new(AtomicBool::new(false));
        let (n2, f2) = (n.clone(), flag.clone());
        let t = std::thread::spawn(move || {
            n2.wait_until(WaitStrategy::park(), || {
                f2.load(Ordering::Acquire).then_some(7)
            })
        });
        flag.store(true, Ordering::Release);
        n.notify();
        assert_eq!(t.join().unwrap(), 7);
    }
}
