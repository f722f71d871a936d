//! Core affinity: the cores the process may run on, read once, and pinning a worker thread.

use crate::config::{Config, Pinning};
use crate::error::BuildError;
use std::sync::OnceLock;

/// The cores of the process's affinity mask, read once. `core_affinity::get_core_ids` reads
/// the *calling thread's* mask and threads inherit their creator's pinning, so reading it after
/// the first pin would shrink the set (and silently put two pinned threads on one core). Call
/// it before pinning anything.
pub fn cores() -> &'static [core_affinity::CoreId] {
    static CORES: OnceLock<Vec<core_affinity::CoreId>> = OnceLock::new();
    CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default())
}

/// Refuses a pinned configuration with more workers than cores.
///
/// # Errors
/// [`BuildError::TooManyPinnedWorkers`].
pub fn check(config: &Config) -> Result<(), BuildError> {
    if config.pinning == Pinning::Cores {
        let cores = cores().len();
        if config.workers > cores {
            return Err(BuildError::TooManyPinnedWorkers {
                workers: config.workers,
                cores,
            });
        }
    }
    Ok(())
}

/// Pins the calling thread (worker `index`) as `pinning` says.
pub(crate) fn pin(pinning: Pinning, index: usize) {
    if pinning == Pinning::Cores
        && let Some(core) = cores().get(index)
    {
        core_affinity::set_for_current(*core);
    }
}
