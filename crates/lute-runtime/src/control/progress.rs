//! Progress: what the control plane knows of a running job.
//!
//! Every worker publishes its stages' figures into its live counters ([`crate::metrics`]) once
//! per [`Config::progress_interval`](crate::Config) and when it finishes, then sends a tick to
//! wake the control plane. The control plane reads the counters and combines them per *stage*
//! (a source or an exchange, over the workers that run it): records and batches summed, the
//! watermark the minimum, i.e. the job's event-time frontier at that stage. It drains every
//! waiting report (acting on a failure first) before it calls the observer. An observer set
//! with [`Config::on_progress`](crate::Config::on_progress) is called on the control-plane
//! thread at most once per interval while the job runs, and once at the end of a successful
//! job; a panic in it fails the job ([`crate::JobError::Observer`]).
//!
//! A stage is identified by its instances sharing one name allocation (they are built from
//! one pipeline); two stages whose names are equal strings are reported separately, and
//! [`Progress::stage`] returns the first.

use crate::metrics::WorkerCounters;
use crate::operator::EventTime;
use std::sync::Arc;
use std::time::Duration;

/// One stage over every worker that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStatus {
    /// The source's or the exchange's name.
    pub name: Arc<str>,
    /// Workers running this stage.
    pub workers: usize,
    /// Records taken in, summed over its workers.
    pub records: u64,
    /// Records sent on into an exchange, summed over its workers.
    pub records_out: u64,
    /// Batches received and sent, summed over its workers.
    pub batches: u64,
    /// Late records its operators saw, summed over its workers.
    pub late: u64,
    /// Barriers that passed it, summed over its workers.
    pub barriers: u64,
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
    /// Times workers parked (idle strategy `SpinYieldPark`), summed.
    pub parks: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
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

/// The control plane's table: per worker, which job-wide stage each of its stages is.
pub(crate) struct Table {
    /// `[worker][local stage]`: index into `stages`.
    which: Vec<Vec<usize>>,
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
        Self { which, stages }
    }

    /// The job's progress now, read from the workers' live counters.
    pub(crate) fn progress(
        &self,
        counters: &[Arc<WorkerCounters>],
        finished_workers: usize,
        checkpoints: u64,
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
                records_out: 0,
                batches: 0,
                late: 0,
                barriers: 0,
                watermark: EventTime::MAX,
            })
            .collect();
        let mut parks = 0;
        for (which, c) in self.which.iter().zip(counters) {
            parks += WorkerCounters::get(&c.parks);
            for (&i, sc) in which.iter().zip(c.stages.iter()) {
                let f = sc.read();
                let s = &mut stages[i];
                s.records += f.records_in;
                s.records_out += f.records_out;
                s.batches += f.batches;
                s.late += f.late;
                s.barriers += f.barriers;
                s.watermark = s.watermark.min(f.watermark);
            }
        }
        Progress {
            stages,
            workers: self.which.len(),
            finished_workers,
            parks,
            checkpoints,
            done,
            elapsed,
        }
    }
}
