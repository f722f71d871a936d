//! A worker: one thread running a static round-robin schedule over its stages (no work
//! stealing). Each round it reads its command ring, steps every unfinished stage once, hands
//! barrier acknowledgements to the control plane, and publishes its live counters once per
//! progress interval. When no stage made progress it backs off per [`Idle`]: spin, then yield
//! to the OS, then (with [`Idle::SpinYieldPark`]) park until a peer rings its doorbell (see
//! [`super::bell`]).

use super::bell::Bells;
use super::stage::Stage;
use crate::config::{Config, Idle};
use crate::control::{Command, Report};
use crate::error::{JobError, OperatorError, OperatorId};
use crate::metrics::{Metrics, WorkerCounters};
use crate::operator::Context;
use crate::operator::named::{current_op, set_current_op};
use crate::state::Snapshot;
use lute_core::{CheckpointId, WorkerId};
use lute_sync::{PopError, WaitStrategy, mpsc, spsc};
use std::sync::Arc;
use std::time::Instant;

/// Why a worker stopped early.
enum Stop {
    Cancelled,
    Failed(OperatorError),
}

/// Everything one worker thread owns.
pub(crate) struct Worker {
    pub(crate) index: usize,
    pub(crate) workers: usize,
    pub(crate) stages: Vec<Box<dyn Stage>>,
    pub(crate) commands: spsc::Consumer<Command>,
    pub(crate) config: Config,
    pub(crate) bells: Option<Arc<Bells>>,
    pub(crate) reports: mpsc::Sender<Report>,
    pub(crate) counters: Arc<WorkerCounters>,
    /// The first scheduled checkpoint (barriers every `Config::checkpoint_every` records).
    pub(crate) first_checkpoint: CheckpointId,
    /// State to restore the stages from before they run: `(stage index, state)`.
    pub(crate) restore: Option<Vec<(usize, Snapshot)>>,
}

impl Worker {
    fn id(&self) -> WorkerId {
        WorkerId::from(self.index)
    }

    /// Publishes every stage's figures into the live counters.
    fn publish(&self) {
        for (s, c) in self.stages.iter().zip(self.counters.stages.iter()) {
            c.publish(&s.figures());
        }
    }

    /// Reads the command ring: `Err` to stop.
    fn commands(&mut self) -> Result<(), Stop> {
        loop {
            match self.commands.try_pop() {
                Ok(Command::InjectBarrier { checkpoint, at }) => {
                    for s in &mut self.stages {
                        s.inject_barrier(checkpoint, at);
                    }
                }
                Ok(Command::CheckpointComplete(n)) => {
                    for s in &mut self.stages {
                        s.checkpoint_complete(n).map_err(Stop::Failed)?;
                    }
                }
                // A command ring whose control plane is gone cancels too: nothing would ever
                // collect this worker's results.
                Ok(Command::Cancel) | Err(PopError::Disconnected) => return Err(Stop::Cancelled),
                Err(PopError::Empty) => return Ok(()),
            }
        }
    }

    /// Sends the barrier acknowledgements of stage `i`.
    fn acknowledge(&mut self, i: usize, acks: &mut Vec<(CheckpointId, Snapshot)>) {
        self.stages[i].take_acks(acks);
        for (checkpoint, state) in acks.drain(..) {
            // The ring holds a round of acknowledgements from every stage; waiting here is
            // rare and short (the control plane drains it continuously).
            let _ = self.reports.push(
                Report::Ack {
                    worker: self.id(),
                    stage: i,
                    checkpoint,
                    state,
                },
                WaitStrategy::default(),
            );
        }
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
        if let Some(parts) = self.restore.take() {
            for (i, s) in self.stages.iter_mut().enumerate() {
                let snap = parts.iter().find(|(j, _)| *j == i).ok_or_else(|| {
                    Stop::Failed(OperatorError::new(format!(
                        "the checkpoint has no state for stage `{}` of worker {}",
                        s.name(),
                        self.index
                    )))
                })?;
                s.restore(&snap.1).map_err(Stop::Failed)?;
            }
        }
        if let Some(every) = self.config.checkpoint_every {
            // Known before the first step, so every barrier falls where the data puts it.
            for s in &mut self.stages {
                s.schedule_barriers(self.first_checkpoint, every);
            }
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
        let mut acks = Vec::new();
        let mut idle_rounds = 0u32;
        let mut reported = Instant::now();
        #[cfg(feature = "perturb")]
        let mut rng = self
            .config
            .perturb
            .map(|s| s ^ (self.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        loop {
            self.commands()?;
            let now = Instant::now();
            let mut progress = false;
            for (i, finished) in done.iter_mut().enumerate() {
                if *finished {
                    continue;
                }
                let step = self.stages[i]
                    .step(now, self.config.step_budget)
                    .map_err(Stop::Failed)?;
                progress |= step.progress;
                *finished = step.done;
                if step.acks {
                    self.acknowledge(i, &mut acks);
                }
                #[cfg(feature = "perturb")]
                perturb(&mut rng);
            }
            if done.iter().all(|&d| d) {
                self.publish();
                return Ok(());
            }
            if now.duration_since(reported) >= self.config.progress_interval {
                reported = now;
                self.publish();
                // Without waiting: a tick that does not fit is dropped (the counters are
                // there; the next tick wakes the control plane). The control plane may be
                // parked in `pop`: `try_push` does not wake it.
                let _ = self.reports.try_push(Report::Tick(self.id()));
                self.reports.wake_receiver();
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
                                WorkerCounters::bump(&self.counters.parks);
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

    /// The thread body: pins, runs, reports the outcome, then drops the stages.
    pub(crate) fn main(mut self, names: &[(OperatorId, Arc<str>)]) {
        super::affinity::pin(self.config.pinning, self.index);
        set_current_op(u32::MAX);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run()));
        let op = |id: u32| {
            names
                .iter()
                .position(|(i, _)| i.0 == id)
                .map_or((None, "<runtime>".to_owned()), |p| {
                    (Some(OperatorId(p as u32)), names[p].1.to_string())
                })
        };
        let report = match r {
            Ok(Err(Stop::Failed(mut e))) => {
                // The job's own operator id (stable across builds), as in checkpoints.
                if let Some((id, _)) = &mut e.op
                    && let Some(p) = names.iter().position(|(i, _)| i == id)
                {
                    *id = OperatorId(p as u32);
                }
                failure(self.index, e, op(current_op()))
            }
            Ok(Ok(())) => {
                let mut m = Metrics::default();
                for s in &self.stages {
                    s.metrics(&mut m);
                }
                Report::Done(self.id(), Box::new(m))
            }
            Ok(Err(Stop::Cancelled)) => Report::Cancelled(self.id()),
            Err(p) => {
                let (id, name) = op(current_op());
                Report::Failed(JobError::Panic {
                    op: name,
                    id,
                    worker: self.index,
                    message: panic_message(&*p),
                })
            }
        };
        // Report first, then drop the stages (closing this worker's links), so the original
        // failure reaches the control plane before its consequences.
        let _ = self.reports.push(report, WaitStrategy::default());
        drop(self);
    }
}

/// The report of a failure: a link's error outside any operator is [`JobError::Link`].
fn failure(worker: usize, e: OperatorError, running: (Option<OperatorId>, String)) -> Report {
    if let (None, crate::error::Cause::Link(l)) = (&e.op, &e.cause) {
        return Report::Failed(JobError::Link {
            worker,
            source: l.clone(),
        });
    }
    let (id, op) = match &e.op {
        Some((id, name)) => (Some(*id), name.to_string()),
        None => running,
    };
    Report::Failed(JobError::Operator {
        op,
        id,
        worker,
        source: e,
    })
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

/// A panic's message.
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
