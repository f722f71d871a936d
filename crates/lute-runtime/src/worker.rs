//! Workers and the control plane.
//!
//! The control plane runs on its own thread. It starts one thread per worker, then only
//! exchanges messages with them: it receives reports (`Progress` per stage at most once per
//! `Config::progress_interval`, `Done`, `Failed`) on an MPSC ring and
//! sends commands (`Cancel`) on one SPSC ring per worker. On the first failure it cancels
//! every other worker, joins every thread, and returns that failure (the operator's name and
//! cause); later failures caused by the first (a peer that stopped) are not reported. Nothing
//! waits forever: a worker checks its command ring every scheduling round, and every channel
//! operation on the data path is non-blocking and reports a dropped peer.
//!
//! A worker runs a static round-robin schedule over its stages (no work stealing). When no
//! stage made progress it backs off per [`Idle`]: spin, then yield to the OS, then (with
//! [`Idle::SpinYieldPark`]) park until a peer rings its doorbell (see `bell`).

use crate::bell::Bells;
use crate::config::{Config, Idle, Pinning};
use crate::error::{JobError, OperatorError};
use crate::operator::{Context, Metrics, current_op, set_current_op};
use crate::progress::{self, StageProgress};
use crate::stage::Stage;
use lute_sync::{PopError, WaitStrategy, mpsc, spsc};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// The cores of the process's affinity mask, read once. `core_affinity::get_core_ids` reads
/// the *calling thread's* mask and threads inherit their creator's pinning, so reading it after
/// the first pin would shrink the set (and silently put two pinned threads on one core). Call
/// it before pinning anything.
pub fn cores() -> &'static [core_affinity::CoreId] {
    static CORES: OnceLock<Vec<core_affinity::CoreId>> = OnceLock::new();
    CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default())
}

enum Command {
    Cancel,
}

enum Report {
    /// A stage's cumulative figures (`worker`, local stage index).
    Progress(usize, usize, StageProgress),
    /// The worker finished: its counters and its stages' final figures.
    Done(usize, Box<(Metrics, Vec<StageProgress>)>),
    Failed(JobError),
}

/// Why a worker stopped early.
enum Stop {
    Cancelled,
    Failed(OperatorError),
}

struct Worker {
    index: usize,
    workers: usize,
    stages: Vec<Box<dyn Stage>>,
    commands: spsc::Consumer<Command>,
    config: Config,
    bells: Option<Arc<Bells>>,
    reports: mpsc::Sender<Report>,
}

impl Worker {
    /// Sends each stage's figures to the control plane without waiting: a report that does not
    /// fit is dropped (figures are cumulative; the next report carries them).
    fn report_progress(&self, round: usize) {
        // Starting at a rotating stage, so a ring that is often full starves no stage.
        let n = self.stages.len();
        for k in 0..n {
            let i = (round + k) % n;
            let p = self.stages[i].progress();
            if self
                .reports
                .try_push(Report::Progress(self.index, i, p))
                .is_err()
            {
                break;
            }
        }
        // The control plane may be parked in `pop`: `try_push` does not wake it (without this,
        // reports could fill the ring while it sleeps and a final `Done` wait for room).
        self.reports.wake_receiver();
    }

    fn run(&mut self) -> Result<(), Stop> {
        let ctx = Context {
            worker: self.index,
            workers: self.workers,
            tiers: self.config.tiers,
            batch_size: self.config.batch_size,
        };
        for s in &mut self.stages {
            s.open(&ctx).map_err(Stop::Failed)?;
        }
        let bells = self.bells.clone();
        if let Some(b) = &bells {
            b.register(self.index);
            for s in &mut self.stages {
                s.set_bells(b);
            }
        }
        // Parking: the flag is raised and the next round is the re-check (see `bell`).
        let mut armed = false;
        let mut done = vec![false; self.stages.len()];
        let mut idle_rounds = 0u32;
        let mut reported = Instant::now();
        let mut reports = 0usize;
        #[cfg(feature = "perturb")]
        let mut rng = self
            .config
            .perturb
            .map(|s| s ^ (self.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        loop {
            // A command ring whose control plane is gone cancels too: nothing would ever
            // collect this worker's results.
            match self.commands.try_pop() {
                Ok(Command::Cancel) | Err(PopError::Disconnected) => return Err(Stop::Cancelled),
                Err(PopError::Empty) => {}
            }
            let now = Instant::now();
            let mut progress = false;
            for (s, d) in self.stages.iter_mut().zip(done.iter_mut()) {
                if *d {
                    continue;
                }
                let step = s.step(now, self.config.step_budget).map_err(Stop::Failed)?;
                progress |= step.progress;
                *d = step.done;
                #[cfg(feature = "perturb")]
                perturb(&mut rng);
            }
            if done.iter().all(|&d| d) {
                return Ok(());
            }
            if now.duration_since(reported) >= self.config.progress_interval {
                reported = now;
                reports = reports.wrapping_add(1);
                self.report_progress(reports);
            }
            if progress {
                idle_rounds = 0;
                if armed && let Some(b) = &bells {
                    b.awake(self.index);
                    armed = false;
                }
            } else {
                idle_rounds = idle_rounds.saturating_add(1);
                match self.config.idle {
                    Idle::Spin => std::hint::spin_loop(),
                    Idle::SpinThenYield { spins } if idle_rounds <= spins => {
                        std::hint::spin_loop();
                    }
                    Idle::SpinThenYield { .. } => std::thread::yield_now(),
                    Idle::SpinYieldPark {
                        spins,
                        yields,
                        timeout,
                    } => {
                        if idle_rounds <= spins {
                            std::hint::spin_loop();
                        } else if idle_rounds <= spins.saturating_add(yields) {
                            std::thread::yield_now();
                        } else if let Some(b) = &bells {
                            if armed {
                                // The re-check round found nothing: sleep until rung, or
                                // until an open batch's deadline, or (nothing open) until
                                // the idle timeout polls sources with external input.
                                let timed = self.stages.iter().any(|s| s.timed());
                                let t = if timed {
                                    timeout.min(self.config.flush_deadline)
                                } else {
                                    timeout
                                };
                                b.park(self.index, t);
                                b.awake(self.index);
                                armed = false;
                            } else {
                                b.arm(self.index);
                                armed = true;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Test-only scheduling noise: random yields and short sleeps (feature `perturb`).
#[cfg(feature = "perturb")]
fn perturb(rng: &mut Option<u64>) {
    let Some(s) = rng else { return };
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    match *s % 64 {
        0 => std::thread::sleep(std::time::Duration::from_micros(*s % 200)),
        1..=8 => std::thread::yield_now(),
        _ => {}
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Calls the progress observer; a panic in it becomes the job's error (the caller cancels the
/// workers), never an unwinding control plane that would leave them running.
fn observe(f: &progress::ProgressObserver, p: &progress::Progress) -> Result<(), JobError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (f.0)(p)))
        .map_err(|e| JobError::Observer(panic_message(&*e)))
}

/// Runs per-worker stages to completion under a control-plane thread.
pub(crate) fn run(
    config: &Config,
    names: Arc<Vec<(u32, Arc<str>)>>,
    per_worker: Vec<Vec<Box<dyn Stage>>>,
) -> Result<Metrics, JobError> {
    let config = config.clone();
    let control = std::thread::Builder::new()
        .name("lute-control".into())
        .spawn(move || control(config, names, per_worker))
        .map_err(|e| JobError::Spawn(e.to_string()))?;
    control.join().unwrap_or_else(|p| {
        Err(JobError::Spawn(format!(
            "control plane panicked: {}",
            panic_message(&*p)
        )))
    })
}

fn control(
    config: Config,
    names: Arc<Vec<(u32, Arc<str>)>>,
    per_worker: Vec<Vec<Box<dyn Stage>>>,
) -> Result<Metrics, JobError> {
    let workers = per_worker.len();
    // Room for a round of progress reports from every worker next to the final ones.
    let stage_count: usize = per_worker.iter().map(Vec::len).sum();
    let (report_tx, mut reports) =
        mpsc::channel::<Report>((2 * workers + 2 * stage_count).next_power_of_two())
            .map_err(|e| JobError::Spawn(e.to_string()))?;
    let mut table = progress::Table::new(
        &per_worker
            .iter()
            .map(|ws| ws.iter().map(|s| s.name().clone()).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
    );
    let started = Instant::now();
    let mut commands = Vec::with_capacity(workers);
    let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::with_capacity(workers);
    let bells =
        matches!(config.idle, Idle::SpinYieldPark { .. }).then(|| Arc::new(Bells::new(workers)));
    let mut first_error = None;
    for (index, stages) in per_worker.into_iter().enumerate() {
        let (cmd_tx, cmd_rx) = spsc::channel(2).map_err(|e| JobError::Spawn(e.to_string()))?;
        commands.push(cmd_tx);
        let mut worker = Worker {
            index,
            workers,
            stages,
            commands: cmd_rx,
            config: config.clone(),
            bells: bells.clone(),
            reports: report_tx.clone(),
        };
        let tx = report_tx.clone();
        let names = names.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("lute-worker-{index}"))
            .spawn(move || {
                if worker.config.pinning == Pinning::Cores
                    && let Some(core) = cores().get(index)
                {
                    core_affinity::set_for_current(*core);
                }
                set_current_op(u32::MAX);
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run()));
                let op_name = |id: u32| {
                    names
                        .iter()
                        .find(|(i, _)| *i == id)
                        .map_or_else(|| "<runtime>".to_owned(), |(_, n)| n.to_string())
                };
                let report = match r {
                    Ok(Ok(())) => {
                        let mut m = Metrics::default();
                        for s in &worker.stages {
                            s.metrics(&mut m);
                        }
                        let p = worker.stages.iter().map(|s| s.progress()).collect();
                        Report::Done(index, Box::new((m, p)))
                    }
                    Ok(Err(Stop::Cancelled)) => Report::Done(index, Box::default()),
                    Ok(Err(Stop::Failed(e))) => Report::Failed(JobError::Operator {
                        op: e
                            .op
                            .map_or_else(|| op_name(current_op()), |n| n.to_string()),
                        worker: index,
                        cause: e.cause,
                    }),
                    Err(p) => Report::Failed(JobError::Panic {
                        op: op_name(current_op()),
                        worker: index,
                        message: panic_message(&*p),
                    }),
                };
                // Report first, then drop the stages (closing this worker's rings), so the
                // original failure reaches the control plane before its consequences.
                let _ = tx.push(report, WaitStrategy::default());
                drop(worker);
            });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                first_error = Some(JobError::Spawn(e.to_string()));
                break;
            }
        }
    }
    drop(report_tx);
    // Pushes `Cancel` to every worker, then unparks it (a parked worker sees the command on
    // waking; an unpark before its park is kept as the thread's token).
    let cancel_all = |commands: &mut Vec<spsc::Producer<Command>>,
                      threads: &[std::thread::JoinHandle<()>]| {
        for c in commands.iter_mut() {
            let _ = c.try_push(Command::Cancel);
        }
        for t in threads {
            t.thread().unpark();
        }
    };
    if first_error.is_some() {
        cancel_all(&mut commands, &threads);
    }
    let mut outstanding = threads.len();
    let mut metrics = Metrics::default();
    let observer = config.on_progress.clone();
    let mut observed = Instant::now();
    // One report: progress into the table, results into `metrics`, a failure cancels all.
    let mut take = |r: Report,
                    outstanding: &mut usize,
                    first_error: &mut Option<JobError>,
                    table: &mut progress::Table,
                    commands: &mut Vec<spsc::Producer<Command>>| match r {
        Report::Progress(w, i, p) => table.update(w, i, p),
        Report::Done(w, done) => {
            *outstanding -= 1;
            let (m, p) = *done;
            metrics.merge(&m);
            for (i, p) in p.into_iter().enumerate() {
                table.update(w, i, p);
            }
        }
        Report::Failed(e) => {
            *outstanding -= 1;
            if first_error.is_none() {
                *first_error = Some(e);
                cancel_all(commands, &threads);
            }
        }
    };
    while outstanding > 0 {
        match reports.pop(WaitStrategy::default()) {
            Ok(r) => take(
                r,
                &mut outstanding,
                &mut first_error,
                &mut table,
                &mut commands,
            ),
            Err(PopError::Disconnected | PopError::Empty) => break,
        }
        // Everything already waiting first (a failure is acted on before the observer runs,
        // and every stage's latest figures are in the table), then the observer.
        while let Ok(r) = reports.try_pop() {
            take(
                r,
                &mut outstanding,
                &mut first_error,
                &mut table,
                &mut commands,
            );
        }
        if let Some(f) = &observer
            && outstanding > 0
            && first_error.is_none()
            && observed.elapsed() >= config.progress_interval
        {
            observed = Instant::now();
            let p = table.progress(workers - outstanding, false, started.elapsed());
            if let Err(e) = observe(f, &p) {
                first_error = Some(e);
                cancel_all(&mut commands, &threads);
            }
        }
    }
    for t in threads {
        let _ = t.join();
    }
    if first_error.is_none()
        && let Some(f) = &observer
    {
        first_error = observe(f, &table.progress(workers, true, started.elapsed())).err();
    }
    first_error.map_or(Ok(metrics), Err)
}
