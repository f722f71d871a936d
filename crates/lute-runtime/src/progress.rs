//! Progress: what the control plane knows of a running job.
//!
//! Every worker reports, at most once per [`Config::progress_interval`](crate::Config), each
//! of its stages' figures (records taken in, the stage's watermark) to the control plane on the
//! report ring, without blocking: a report that does not fit is dropped (the figures are
//! cumulative, so the next one carries it). The control plane combines them per *stage* (a
//! source or an exchange, over the workers that run it): records summed, the watermark the
//! minimum, i.e. the job's event-time frontier at that stage. Workers start each round of
//! reports at a rotating stage, and the control plane drains every waiting report (acting on
//! a failure first) before it calls the observer, so a full ring starves no stage. An
//! observer set with [`Config::on_progress`](crate::Config::on_progress) is called on the
//! control-plane thread at most once per interval while the job runs, and once at the end of
//! a successful job; a panic in it fails the job ([`crate::JobError::Observer`]).
//!
//! A stage is identified by its instances sharing one name allocation (they are built from
//! one pipeline); two stages whose names are equal strings are reported separately, and
//! [`Progress::stage`] returns the first.

use crate::operator::EventTime;
use std::sync::Arc;
use std::time::Duration;

/// One stage's figures on one worker (cumulative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageProgress {
    /// Records taken in: read from the source, or received through the exchange.
    pub records: u64,
    /// The stage's watermark: the last one a source emitted, or a receiver's input minimum.
    pub watermark: EventTime,
}

impl Default for StageProgress {
    fn default() -> Self {
        Self {
            records: 0,
            watermark: EventTime::MIN,
        }
    }
}

/// One stage over every worker that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStatus {
    /// The source's or the exchange's name.
    pub name: Arc<str>,
    /// Workers running this stage.
    pub workers: usize,
    /// Records taken in, summed over its workers.
    pub records: u64,
    /// The minimum of its workers' watermarks: every record still to come to this stage on
    /// time has an event time at least this.
    pub watermark: EventTime,
}

/// A job's progress as reported to the observer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Stages in the order the job builds them (sources before the exchanges they feed).
    pub stages: Vec<StageStatus>,
    /// Workers in the job.
    pub workers: usize,
    /// Workers that have stopped (finished, or failed: then the job is being cancelled).
    pub finished_workers: usize,
    /// `true` once, in the last call: every worker finished and the job succeeded.
    pub done: bool,
    /// Time since the control plane started the workers.
    pub elapsed: Duration,
}

impl Progress {
    /// The stage named `name`, if any.
    pub fn stage(&self, name: &str) -> Option<&StageStatus> {
        self.stages.iter().find(|s| &*s.name == name)
    }
}

/// The progress observer (see the module docs).
#[derive(Clone)]
pub struct ProgressObserver(pub(crate) Arc<dyn Fn(&Progress) + Send + Sync>);

impl std::fmt::Debug for ProgressObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressObserver(..)")
    }
}

/// The control plane's table: per worker, its stages' latest figures and which job-wide
/// stage each one is.
pub(crate) struct Table {
    /// `[worker][local stage]`: index into `stages`.
    which: Vec<Vec<usize>>,
    /// `[worker][local stage]`: the latest figures.
    latest: Vec<Vec<StageProgress>>,
    /// Job-wide stages: name and workers.
    stages: Vec<(Arc<str>, usize)>,
}

impl Table {
    /// From each worker's stage names. The instances of one stage share one name allocation
    /// (built from the same pipeline), which identifies the stage.
    pub(crate) fn new(names: &[Vec<Arc<str>>]) -> Self {
        let mut stages: Vec<(Arc<str>, usize)> = Vec::new();
        let which = names
            .iter()
            .map(|ws| {
                ws.iter()
                    .map(|n| {
                        if let Some(i) = stages.iter().position(|(s, _)| Arc::ptr_eq(s, n)) {
                            stages[i].1 += 1;
                            i
                        } else {
                            stages.push((n.clone(), 1));
                            stages.len() - 1
                        }
                    })
                    .collect()
            })
            .collect();
        let latest = names
            .iter()
            .map(|ws| vec![StageProgress::default(); ws.len()])
            .collect();
        Self {
            which,
            latest,
            stages,
        }
    }

    /// Records a report; out-of-range indices (never sent) are ignored.
    pub(crate) fn update(&mut self, worker: usize, stage: usize, p: StageProgress) {
        if let Some(slot) = self.latest.get_mut(worker).and_then(|w| w.get_mut(stage)) {
            *slot = p;
        }
    }

    /// The job's progress now.
    pub(crate) fn progress(
        &self,
        finished_workers: usize,
        done: bool,
        elapsed: Duration,
    ) -> Progress {
        let mut stages: Vec<StageStatus> = self
            .stages
            .iter()
            .map(|(name, workers)| StageStatus {
                name: name.clone(),
                workers: *workers,
                records: 0,
                watermark: EventTime::MAX,
            })
            .collect();
        for (which, latest) in self.which.iter().zip(&self.latest) {
            for (&i, p) in which.iter().zip(latest) {
                stages[i].records += p.records;
                stages[i].watermark = stages[i].watermark.min(p.watermark);
            }
        }
        Progress {
            stages,
            workers: self.which.len(),
            finished_workers,
            done,
            elapsed,
        }
    }
}
