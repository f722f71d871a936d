//! Doorbells: how a parked worker is woken when it has work again (idle strategy
//! [`Idle::SpinYieldPark`](crate::Idle::SpinYieldPark)).
//!
//! Each worker has a [`Bell`]. Before parking, a worker raises its `sleeping` flag, issues a
//! `SeqCst` fence, and runs one more scheduling round (the re-check); it parks only if that
//! round made no progress. Whoever gives it work rings its bell: an exchange sender after it
//! pushes a message into the worker's ring (data to merge), an exchange receiver after it pops
//! a message that came from the worker (ring space: backpressure relieved), and the control
//! plane after it sends a command. Ringing is a `SeqCst` fence, then a load of `sleeping`, and
//! an `unpark` if it is set.
//!
//! # Why `SeqCst` (no lost wake-ups)
//!
//! This is a Dekker (store-buffer) handshake:
//!
//! ```text
//! worker                                  peer
//! sleeping = true                         push to ring (Release store of the ring index)
//! fence(SeqCst)                           fence(SeqCst)
//! re-check: poll rings (Acquire loads)    if sleeping { unpark(worker) }
//! if nothing: park
//! ```
//!
//! Acquire/Release allow both sides to read the other's old value (a store and a later load
//! of another location can be reordered), which would let the worker park on a ring that
//! holds data while the peer skips the unpark. The two `SeqCst` fences are totally ordered, so
//! at least one side sees the other's store: the worker sees the data, or the peer sees
//! `sleeping` and unparks it. `unpark` before `park` is not lost (the thread's park token).
//! The fence is paid per message (a batch of records or a marker), and only by jobs that
//! choose parking. Sources with external input (a [`crate::SourceStatus::Idle`] source) and
//! flush deadlines are not rung: the park has a timeout (at most the flush deadline) so both
//! are polled.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::thread::Thread;

/// One worker's doorbell.
#[derive(Debug, Default)]
pub struct Bell {
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

/// Every worker's doorbell, indexed by worker.
#[derive(Debug, Default)]
pub struct Bells(Vec<Bell>);

impl Bells {
    pub(crate) fn new(workers: usize) -> Self {
        Self((0..workers).map(|_| Bell::default()).collect())
    }

    /// Registers the calling thread as worker `w`'s.
    pub(crate) fn register(&self, w: usize) {
        let _ = self.0[w].thread.set(std::thread::current());
    }

    /// Wakes worker `w` if it parked or is about to (see the module docs).
    #[inline]
    pub(crate) fn ring(&self, w: usize) {
        // SeqCst: the peer half of the Dekker handshake (module docs): orders this thread's
        // earlier ring-index store before the load of `sleeping` below.
        fence(Ordering::SeqCst);
        let b = &self.0[w];
        // Relaxed: the fence above orders this load; a stale `false` is impossible once the
        // worker's fence precedes ours, and if ours precedes theirs the worker's re-check sees
        // our data.
        if b.sleeping.load(Ordering::Relaxed)
            && let Some(t) = b.thread.get()
        {
            t.unpark();
        }
    }

    /// Worker `w` is about to park: raise its flag. The caller re-checks its inputs, then
    /// parks or calls [`Bells::awake`].
    pub(crate) fn arm(&self, w: usize) {
        // Relaxed store + SeqCst fence: the worker half of the handshake; the fence orders
        // this store before the re-check's loads of the rings.
        self.0[w].sleeping.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    /// Worker `w` is running again.
    pub(crate) fn awake(&self, w: usize) {
        // Relaxed: a late-seen `true` only costs a spurious unpark (the token is consumed by
        // the next park, which then returns at once and re-checks).
        self.0[w].sleeping.store(false, Ordering::Relaxed);
    }
}
