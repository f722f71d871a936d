//! Doorbells: how a parked worker is woken when it has work again (idle strategy
//! [`Idle::SpinYieldPark`](crate::Idle::SpinYieldPark)), one [`Doorbell`] per worker.
//!
//! Before parking, a worker arms its bell (flag + `SeqCst` fence) and runs one more scheduling
//! round (the re-check); it parks only if that round made no progress. Whoever gives it work
//! rings its bell: an exchange sender after it pushes a message into the worker's ring (data to
//! merge), an exchange receiver after it pops a message that came from the worker (ring space:
//! backpressure relieved), and the control plane after it sends a command. The protocol (a
//! Dekker handshake: why `SeqCst`, why no wake-up is lost) and its loom model live with
//! [`Doorbell`] in `lute-sync`. The fence is paid per message (a batch of records or a
//! marker), and only by jobs that choose parking. Sources with external input (a
//! [`crate::SourceStatus::Idle`] source) and flush deadlines are not rung: the park ends by the
//! flush deadline while a batch is open, and after the idle timeout otherwise.

use lute_sync::doorbell::Doorbell;

/// Every worker's doorbell, indexed by worker.
#[derive(Debug, Default)]
pub struct Bells(Vec<Doorbell>);

impl Bells {
    pub(crate) fn new(workers: usize) -> Self {
        Self((0..workers).map(|_| Doorbell::new()).collect())
    }

    /// Registers the calling thread as worker `w`'s.
    pub(crate) fn register(&self, w: usize) {
        self.0[w].register();
    }

    /// Wakes worker `w` if it parked or is about to.
    #[inline]
    pub(crate) fn ring(&self, w: usize) {
        self.0[w].ring();
    }

    /// Worker `w` is about to park (the caller re-checks, then parks or calls `awake`).
    pub(crate) fn arm(&self, w: usize) {
        self.0[w].arm();
    }

    /// Worker `w` is running again.
    pub(crate) fn awake(&self, w: usize) {
        self.0[w].disarm();
    }

    /// Parks worker `w` (the calling thread) until rung or `timeout`.
    pub(crate) fn park(&self, w: usize, timeout: std::time::Duration) {
        self.0[w].park(timeout);
    }
}
