//! The control plane: a thread apart from the data path that starts the workers, reads their
//! live counters, injects and completes checkpoints, and stops the job on the first failure.
//!
//! - [`protocol`]: [`Command`] (inject barrier, checkpoint complete, cancel) and [`Report`]
//!   (tick, barrier acknowledged, done, cancelled, failed).
//! - [`plane`]: the local control plane (one process; the workers are its threads).
//! - [`progress`]: [`Progress`](progress::Progress), what the observer sees, built from the
//!   live counters.
//!
//! # Checkpoints
//!
//! With [`Config::checkpoint_every`](crate::Config::checkpoint_every)` = n`, every source
//! partition injects barrier `k` after its `k · n`-th record (the schedule is handed to the
//! workers before their first step), so where a barrier falls in the data depends only on the
//! data; a restored job goes on from the checkpoint after the one it was restored from.
//! [`Command::InjectBarrier`] asks for a barrier on request (at a given position, or where
//! each source is when it arrives: then the place depends on timing, and the captured source
//! positions record it). Barriers travel in band and are aligned by every merge (see
//! [`crate::exchange`]). Each stage acknowledges a barrier with the registered state it
//! captured; when every stage of every worker has, the checkpoint is complete: the control
//! plane tells the workers ([`Command::CheckpointComplete`]: operators'
//! `on_checkpoint_complete`) and calls the checkpoint observer with the [`Checkpoint`].
//! A partition that ends before a barrier's position does not inject it (the merges treat its
//! ended input as aligned); such a checkpoint does not complete.

pub mod plane;
pub mod progress;
pub mod protocol;

pub use protocol::{Command, Report};

use crate::state::Snapshot;
use lute_core::{CheckpointId, WorkerId};
use std::sync::Arc;

/// A complete checkpoint: the registered state of every stage of every worker at barrier
/// `id`.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The checkpoint.
    pub id: CheckpointId,
    /// `(worker, stage index, state)`, ordered by worker then stage.
    pub states: Vec<(WorkerId, usize, Snapshot)>,
}

impl Checkpoint {
    /// The state of `worker`'s stage `stage`.
    pub fn state(&self, worker: WorkerId, stage: usize) -> Option<&Snapshot> {
        self.states
            .iter()
            .find(|(w, s, _)| *w == worker && *s == stage)
            .map(|(_, _, st)| st)
    }
}

/// The checkpoint observer (see [`crate::Config::on_checkpoint`]).
#[derive(Clone)]
pub struct CheckpointObserver(pub(crate) Arc<dyn Fn(&Checkpoint) + Send + Sync>);

impl std::fmt::Debug for CheckpointObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckpointObserver(..)")
    }
}
