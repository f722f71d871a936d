//! The control protocol: what the control plane tells a worker ([`Command`], one SPSC ring per
//! worker) and what a worker tells the control plane ([`Report`], one MPSC ring). Workers read
//! their command ring once per scheduling round; no data-path operation ever waits on the
//! control plane. Figures (records, watermarks) do not travel here: they are live counters
//! ([`crate::metrics`]) the control plane reads.

use crate::error::JobError;
use crate::metrics::Metrics;
use crate::state::Snapshot;
use lute_core::{CheckpointId, WorkerId};

/// From the control plane to one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Inject checkpoint barrier `checkpoint` at every source partition of the worker when the
    /// partition has read `at` records (at once when `None` or already past).
    InjectBarrier {
        /// The checkpoint.
        checkpoint: CheckpointId,
        /// The partition's position (records read) where the barrier goes.
        at: Option<u64>,
    },
    /// Every stage of every worker acknowledged `checkpoint`: it is complete.
    CheckpointComplete(CheckpointId),
    /// Stop now (another worker failed, or the job was cancelled).
    Cancel,
}

/// From one worker to the control plane.
#[derive(Debug)]
pub enum Report {
    /// Once per progress interval: the worker's counters were published (wakes the control
    /// plane to read them).
    Tick(WorkerId),
    /// Barrier `checkpoint` passed stage `stage` of `worker`, whose registered state was
    /// captured as `state`.
    Ack {
        /// The worker.
        worker: WorkerId,
        /// The stage (index in the worker's schedule).
        stage: usize,
        /// The checkpoint.
        checkpoint: CheckpointId,
        /// The stage's registered state at the barrier.
        state: Snapshot,
    },
    /// The worker finished: its end-of-run counters.
    Done(WorkerId, Box<Metrics>),
    /// The worker was cancelled.
    Cancelled(WorkerId),
    /// The worker failed.
    Failed(JobError),
}
