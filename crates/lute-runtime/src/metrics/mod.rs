//! Metrics: live per-worker counters ([`WorkerCounters`]), read by the control plane while the
//! job runs, and the end-of-run [`Metrics`] summary operators report into.
//!
//! # Live counters
//!
//! Each worker owns one [`WorkerCounters`] block, aligned to 128 bytes (two cache lines, the
//! unit the adjacent-line prefetcher moves) so that no two workers' counters share a line.
//! Only the worker writes its block, with `Relaxed` loads and stores (no read-modify-write:
//! one writer, so a plain load + store is exact and costs two `mov`s); the control plane
//! reads any block at any time with `Relaxed` loads. `Relaxed` suffices because a counter is
//! an independent monotone figure: a reader may see a slightly old value, never a torn one,
//! and nothing else is published through it. Workers update their block once per scheduling
//! round (not per record): the figures are at most one round old.

mod summary;

pub use summary::Metrics;

use crate::operator::EventTime;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// One stage's live figures on one worker.
#[derive(Debug)]
pub struct StageCounters {
    /// Records taken in: read from the source, or received through the exchange.
    pub records_in: AtomicU64,
    /// Records sent on from the stage's end (into an exchange; a sink sends nothing).
    pub records_out: AtomicU64,
    /// Batches received (an exchange stage) or sent (into an exchange).
    pub batches: AtomicU64,
    /// Late records seen by the stage's operators (dropped or emitted, per their policy).
    pub late: AtomicU64,
    /// Checkpoint barriers that passed the stage.
    pub barriers: AtomicU64,
    /// The stage's current watermark (`EventTime::MIN` before the first).
    pub watermark: AtomicI64,
}

impl Default for StageCounters {
    fn default() -> Self {
        Self {
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            late: AtomicU64::new(0),
            barriers: AtomicU64::new(0),
            watermark: AtomicI64::new(EventTime::MIN),
        }
    }
}

/// A snapshot of one stage's counters (plain values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageFigures {
    /// See [`StageCounters::records_in`].
    pub records_in: u64,
    /// See [`StageCounters::records_out`].
    pub records_out: u64,
    /// See [`StageCounters::batches`].
    pub batches: u64,
    /// See [`StageCounters::late`].
    pub late: u64,
    /// See [`StageCounters::barriers`].
    pub barriers: u64,
    /// See [`StageCounters::watermark`].
    pub watermark: EventTime,
}

impl Default for StageFigures {
    fn default() -> Self {
        Self {
            records_in: 0,
            records_out: 0,
            batches: 0,
            late: 0,
            barriers: 0,
            watermark: EventTime::MIN,
        }
    }
}

/// Writes `v` into a counter only its owner writes (module docs: a load and a store).
#[inline]
fn set(c: &AtomicU64, v: u64) {
    // Relaxed: single writer; readers need the value only (module docs).
    c.store(v, Ordering::Relaxed);
}

impl StageCounters {
    /// Publishes `f` (the owning worker only).
    pub fn publish(&self, f: &StageFigures) {
        set(&self.records_in, f.records_in);
        set(&self.records_out, f.records_out);
        set(&self.batches, f.batches);
        set(&self.late, f.late);
        set(&self.barriers, f.barriers);
        // Relaxed: as above.
        self.watermark.store(f.watermark, Ordering::Relaxed);
    }

    /// Reads the counters (any thread).
    pub fn read(&self) -> StageFigures {
        // Relaxed: independent figures (module docs).
        StageFigures {
            records_in: self.records_in.load(Ordering::Relaxed),
            records_out: self.records_out.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            late: self.late.load(Ordering::Relaxed),
            barriers: self.barriers.load(Ordering::Relaxed),
            watermark: self.watermark.load(Ordering::Relaxed),
        }
    }
}

/// One worker's live counters (see the module docs).
#[derive(Debug)]
#[repr(align(128))]
pub struct WorkerCounters {
    /// Scheduling rounds run.
    pub rounds: AtomicU64,
    /// Times the worker parked (idle strategy `SpinYieldPark`).
    pub parks: AtomicU64,
    /// Per stage of this worker, in schedule order.
    pub stages: Box<[StageCounters]>,
}

impl WorkerCounters {
    /// A block for a worker with `stages` stages.
    pub fn new(stages: usize) -> Self {
        Self {
            rounds: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            stages: (0..stages).map(|_| StageCounters::default()).collect(),
        }
    }

    /// Adds one to a worker-level counter (the owning worker only).
    #[inline]
    pub fn bump(c: &AtomicU64) {
        // Relaxed load + store, not `fetch_add`: single writer (module docs).
        set(c, c.load(Ordering::Relaxed) + 1);
    }

    /// Reads a worker-level counter (any thread).
    pub fn get(c: &AtomicU64) -> u64 {
        // Relaxed: module docs.
        c.load(Ordering::Relaxed)
    }
}

/// Figures an operator adds to its stage's live counters ([`Operator::live`](crate::Operator::live)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Live {
    /// Late records seen so far.
    pub late: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_padded_and_counters_read_back() {
        assert_eq!(std::mem::align_of::<WorkerCounters>(), 128);
        let w = WorkerCounters::new(2);
        WorkerCounters::bump(&w.parks);
        WorkerCounters::bump(&w.parks);
        assert_eq!(WorkerCounters::get(&w.parks), 2);
        let f = StageFigures {
            records_in: 5,
            records_out: 4,
            batches: 1,
            late: 1,
            barriers: 2,
            watermark: 77,
        };
        w.stages[1].publish(&f);
        assert_eq!(w.stages[1].read(), f);
        assert_eq!(w.stages[0].read(), StageFigures::default());
    }
}
