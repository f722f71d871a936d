//! The local control plane: the workers are threads of this process.
//!
//! It runs on its own thread. It starts one thread per worker, then only exchanges messages
//! with them ([`super::protocol`]) and reads their live counters. On the first failure it
//! cancels every other worker, joins every thread, and returns that failure; later failures
//! caused by the first (a peer that stopped) are not reported. Nothing waits forever: a worker
//! reads its command ring every scheduling round, and every operation on the data path is
//! non-blocking and reports a dropped peer.

use super::progress::{ProgressObserver, Table};
use super::{Checkpoint, Command, Report};
use crate::config::{Config, Idle};
use crate::error::{JobError, OperatorId};
use crate::exec::bell::Bells;
use crate::exec::stage::Stage;
use crate::exec::worker::{Worker, panic_message};
use crate::metrics::{Metrics, WorkerCounters};
use lute_core::{CheckpointId, WorkerId};
use lute_sync::{PopError, WaitStrategy, mpsc, spsc};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// Checkpoints in flight the report ring has room for (acknowledgements of every stage).
const AHEAD: u64 = 4;

/// Runs per-worker stages to completion under a control-plane thread.
pub(crate) fn run(
    config: &Config,
    names: Arc<Vec<(OperatorId, Arc<str>)>>,
    per_worker: Vec<Vec<Box<dyn Stage>>>,
    restore: Option<Checkpoint>,
) -> Result<Metrics, JobError> {
    let config = config.clone();
    let control = std::thread::Builder::new()
        .name("lute-control".into())
        .spawn(move || Plane::start(config, names, per_worker, restore)?.run())
        .map_err(|e| JobError::Spawn(e.to_string()))?;
    control.join().unwrap_or_else(|p| {
        Err(JobError::Spawn(format!(
            "control plane panicked: {}",
            panic_message(&*p)
        )))
    })
}

/// The job's own id of operator `id` (its index in the job's operator list, stable across
/// builds of the same job); `None` for an id of no operator of this job.
pub(crate) fn job_id(names: &[(OperatorId, Arc<str>)], id: OperatorId) -> Option<OperatorId> {
    names
        .iter()
        .position(|(i, _)| *i == id)
        .map(|p| OperatorId(p as u32))
}

/// Calls an observer; a panic in it becomes the job's error (the caller cancels the workers),
/// never an unwinding control plane that would leave them running.
fn observe<A: ?Sized>(f: &(dyn Fn(&A) + Send + Sync), a: &A) -> Result<(), JobError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(a)))
        .map_err(|e| JobError::Observer(panic_message(&*e)))
}

/// A checkpoint being acknowledged.
struct Pending {
    acks: usize,
    states: Vec<(WorkerId, usize, crate::state::Snapshot)>,
}

struct Plane {
    config: Config,
    reports: mpsc::Receiver<Report>,
    commands: Vec<spsc::Producer<Command>>,
    /// Commands that did not fit in a worker's ring yet, in order.
    queued: Vec<VecDeque<Command>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    counters: Vec<Arc<WorkerCounters>>,
    names: Arc<Vec<(OperatorId, Arc<str>)>>,
    table: Table,
    /// Stages over every worker (acknowledgements a checkpoint needs).
    stage_count: usize,
    outstanding: usize,
    first_error: Option<JobError>,
    metrics: Metrics,
    started: Instant,
    pending: BTreeMap<CheckpointId, Pending>,
    /// The last checkpoint completed (or restored from), and the number completed.
    scheduled: u64,
    completed: u64,
}

impl Plane {
    fn start(
        config: Config,
        names: Arc<Vec<(OperatorId, Arc<str>)>>,
        per_worker: Vec<Vec<Box<dyn Stage>>>,
        restore: Option<Checkpoint>,
    ) -> Result<Self, JobError> {
        let restored_from = restore.as_ref().map_or(0, |cp| cp.id.0);
        // Checkpoints name operators by their index in the job (stable across builds); this
        // build's operators carry process-wide ids.
        let to_build = |id: OperatorId| names.get(id.0 as usize).map(|(i, _)| *i);
        let restore = restore.map(|cp| Checkpoint {
            id: cp.id,
            states: cp
                .states
                .into_iter()
                .map(|(w, s, st)| (w, s, st.remap(to_build)))
                .collect(),
        });
        // Each worker gets its own stages' state (moved, not shared).
        let mut restore: Option<Vec<Vec<(usize, crate::state::Snapshot)>>> = restore.map(|cp| {
            let mut parts: Vec<Vec<_>> = (0..per_worker.len()).map(|_| Vec::new()).collect();
            for (w, stage, state) in cp.states {
                if let Some(p) = parts.get_mut(w.index()) {
                    p.push((stage, state));
                }
            }
            parts
        });
        let workers = per_worker.len();
        let stage_count: usize = per_worker.iter().map(Vec::len).sum();
        // Room for a tick from every worker, every final report, and a round of barrier
        // acknowledgements from every stage for every checkpoint in flight.
        let cap = 2 * workers + (AHEAD as usize + 2) * stage_count + 2;
        let (report_tx, reports) = mpsc::channel::<Report>(cap.next_power_of_two())
            .map_err(|e| JobError::Spawn(e.to_string()))?;
        let table = Table::new(
            &per_worker
                .iter()
                .map(|ws| ws.iter().map(|s| s.name().clone()).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
        );
        let bells = matches!(config.idle, Idle::SpinYieldPark { .. })
            .then(|| Arc::new(Bells::new(workers)));
        let mut plane = Self {
            reports,
            commands: Vec::with_capacity(workers),
            queued: (0..workers).map(|_| VecDeque::new()).collect(),
            threads: Vec::with_capacity(workers),
            counters: per_worker
                .iter()
                .map(|s| Arc::new(WorkerCounters::new(s.len())))
                .collect(),
            table,
            names: names.clone(),
            stage_count,
            outstanding: 0,
            first_error: None,
            metrics: Metrics::default(),
            started: Instant::now(),
            pending: BTreeMap::new(),
            // A restored job goes on numbering (and placing) checkpoints after its own.
            scheduled: restored_from,
            completed: 0,
            config,
        };
        for (index, stages) in per_worker.into_iter().enumerate() {
            let (cmd_tx, cmd_rx) = spsc::channel(64).map_err(|e| JobError::Spawn(e.to_string()))?;
            plane.commands.push(cmd_tx);
            let worker = Worker {
                index,
                workers,
                stages,
                commands: cmd_rx,
                config: plane.config.clone(),
                bells: bells.clone(),
                reports: report_tx.clone(),
                counters: plane.counters[index].clone(),
                first_checkpoint: CheckpointId(restored_from + 1),
                restore: restore.as_mut().map(|r| std::mem::take(&mut r[index])),
            };
            let names = names.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("lute-worker-{index}"))
                .spawn(move || worker.main(&names));
            match spawned {
                Ok(t) => plane.threads.push(t),
                Err(e) => {
                    plane.first_error = Some(JobError::Spawn(e.to_string()));
                    break;
                }
            }
        }
        plane.outstanding = plane.threads.len();
        if plane.first_error.is_some() {
            plane.cancel_all();
        }
        Ok(plane)
    }

    /// Sends `c` to worker `w` (after any queued command), then unparks it (a parked worker
    /// sees the command on waking; an unpark before its park is kept as the thread's token).
    fn send(&mut self, w: usize, c: Command) {
        self.queued[w].push_back(c);
        self.flush_commands(w);
    }

    fn flush_commands(&mut self, w: usize) {
        while let Some(c) = self.queued[w].pop_front() {
            if let Err(e) = self.commands[w].try_push(c) {
                self.queued[w].push_front(e.into_inner());
                break;
            }
        }
        if let Some(t) = self.threads.get(w) {
            t.thread().unpark();
        }
    }

    fn cancel_all(&mut self) {
        for w in 0..self.commands.len() {
            self.queued[w].clear();
            self.send(w, Command::Cancel);
        }
    }

    /// One report.
    fn take(&mut self, r: Report) {
        match r {
            Report::Tick(_) => {}
            Report::Ack {
                worker,
                stage,
                checkpoint,
                state,
            } => {
                let p = self.pending.entry(checkpoint).or_insert_with(|| Pending {
                    acks: 0,
                    states: Vec::new(),
                });
                p.acks += 1;
                let state = state.remap(|id| job_id(&self.names, id));
                p.states.push((worker, stage, state));
                if p.acks == self.stage_count {
                    let mut p = self.pending.remove(&checkpoint).expect("present");
                    p.states.sort_by_key(|(w, s, _)| (*w, *s));
                    self.complete(Checkpoint {
                        id: checkpoint,
                        states: p.states,
                    });
                }
            }
            Report::Done(_, m) => {
                self.outstanding -= 1;
                self.metrics.merge(&m);
            }
            Report::Cancelled(_) => self.outstanding -= 1,
            Report::Failed(e) => {
                self.outstanding -= 1;
                if self.first_error.is_none() {
                    self.first_error = Some(e);
                    self.cancel_all();
                }
            }
        }
    }

    fn complete(&mut self, cp: Checkpoint) {
        self.completed += 1;
        for w in 0..self.commands.len() {
            self.send(w, Command::CheckpointComplete(cp.id));
        }
        if self.first_error.is_none()
            && let Some(f) = self.config.on_checkpoint.clone()
            && let Err(e) = observe(&*f.0, &cp)
        {
            self.first_error = Some(e);
            self.cancel_all();
        }
        self.scheduled = self.scheduled.max(cp.id.0);
    }

    fn progress(&self, done: bool) -> super::progress::Progress {
        self.table.progress(
            &self.counters,
            self.threads.len() - self.outstanding,
            self.completed,
            done,
            self.started.elapsed(),
        )
    }

    fn run(mut self) -> Result<Metrics, JobError> {
        let observer: Option<ProgressObserver> = self.config.on_progress.clone();
        let mut observed = Instant::now();
        while self.outstanding > 0 {
            match self.reports.pop(WaitStrategy::default()) {
                Ok(r) => self.take(r),
                Err(PopError::Disconnected | PopError::Empty) => break,
            }
            // Everything already waiting first (a failure is acted on before the observer
            // runs), then commands that did not fit, then the observer.
            while let Ok(r) = self.reports.try_pop() {
                self.take(r);
            }
            for w in 0..self.queued.len() {
                if !self.queued[w].is_empty() {
                    self.flush_commands(w);
                }
            }
            if let Some(f) = &observer
                && self.outstanding > 0
                && self.first_error.is_none()
                && observed.elapsed() >= self.config.progress_interval
            {
                observed = Instant::now();
                let p = self.progress(false);
                if let Err(e) = observe(&*f.0, &p) {
                    self.first_error = Some(e);
                    self.cancel_all();
                }
            }
        }
        for t in std::mem::take(&mut self.threads) {
            let _ = t.join();
        }
        // Acknowledgements that came with or after the last report.
        while let Ok(r) = self.reports.try_pop() {
            self.take(r);
        }
        if self.first_error.is_none()
            && let Some(f) = &observer
        {
            let done = self.table.progress(
                &self.counters,
                self.counters.len(),
                self.completed,
                true,
                self.started.elapsed(),
            );
            self.first_error = observe(&*f.0, &done).err();
        }
        match self.first_error {
            Some(e) => Err(e),
            None => Ok(self.metrics),
        }
    }
}
