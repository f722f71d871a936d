//! Job configuration.

use crate::error::BuildError;
use std::time::Duration;

/// Where worker threads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pinning {
    /// Let the OS schedule workers (the default: right for small and shared machines).
    #[default]
    None,
    /// Pin worker `i` to the `i`-th core of the process's affinity mask; refused at build time
    /// if there are more workers than cores.
    Cores,
}

/// What an idle worker (no stage made progress) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Spin `spins` times, then yield to the OS on every further idle round. The default
    /// (64 spins): busy-spinning threads starve each other on a 2-core machine, yielding does
    /// not.
    SpinThenYield {
        /// Idle rounds spent spinning before yielding.
        spins: u32,
    },
    /// Spin forever (dedicated, pinned cores only).
    Spin,
    /// Spin `spins` rounds, yield `yields` rounds, then park the thread until a peer gives it
    /// work (its doorbell: see `bell` in the crate source) or `timeout` passes (sources with
    /// external input are polled then); while one of its batches is open or a message waits
    /// for ring space, the park ends by the flush deadline instead. An idle worker with nothing
    /// open wakes once per `timeout`. The price is a `SeqCst` fence per message sent or
    /// received.
    SpinYieldPark {
        /// Idle rounds spent spinning.
        spins: u32,
        /// Idle rounds spent yielding after spinning.
        yields: u32,
        /// Longest park.
        timeout: std::time::Duration,
    },
}

impl Default for Idle {
    fn default() -> Self {
        Self::SpinThenYield { spins: 64 }
    }
}

impl Idle {
    /// Spin 64 rounds, yield 16, then park for at most 1 ms.
    pub fn park() -> Self {
        Self::SpinYieldPark {
            spins: 64,
            yields: 16,
            timeout: std::time::Duration::from_millis(1),
        }
    }
}

/// Configuration of a job run.
///
/// # Examples
///
/// ```
/// use lute_runtime::Config;
/// let c = Config::default().workers(2).batch_size(128);
/// assert_eq!(c.workers, 2);
/// assert!(c.validate().is_ok());
/// assert!(Config::default().workers(0).validate().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Number of worker threads (each runs every stage on its partition of the data).
    pub workers: usize,
    /// Pinning of worker threads.
    pub pinning: Pinning,
    /// Records per batch (a batch is flushed when full, on a watermark, or at the deadline).
    pub batch_size: usize,
    /// Slots (batches and markers) per exchange ring; a power of two.
    pub channel_capacity: usize,
    /// A partly filled batch is flushed after this long.
    pub flush_deadline: Duration,
    /// Records a stage handles per scheduling step before yielding to the worker's other
    /// stages (a static, round-robin schedule).
    pub step_budget: usize,
    /// Idle strategy of workers.
    pub idle: Idle,
    /// How edges inside chains get their tier: the cost model (default) or forced.
    pub tiers: crate::operator::tier::Tiers,
    /// Test-only scheduling perturbation seed (feature `perturb`): workers inject yields and
    /// short sleeps at random points.
    pub perturb: Option<u64>,
    /// How often each worker reports its stages' progress to the control plane, and at most
    /// how often the observer is called (see [`crate::control::progress`]).
    pub progress_interval: Duration,
    /// Called on the control-plane thread with the job's [`Progress`](crate::Progress).
    pub on_progress: Option<crate::control::progress::ProgressObserver>,
    /// Checkpoint barriers: checkpoint `k` is injected at every source partition after its
    /// `k · n`-th record (a data-defined position; see [`crate::control`]). `None`: no
    /// barriers.
    pub checkpoint_every: Option<u64>,
    /// Called on the control-plane thread with every completed checkpoint.
    pub on_checkpoint: Option<crate::control::CheckpointObserver>,

    /// Makes the links of every edge (see [`crate::exchange::link`]); default: in-process
    /// SPSC rings.
    pub links: crate::exchange::link::Links,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            workers: 1,
            pinning: Pinning::None,
            batch_size: 256,
            channel_capacity: 64,
            flush_deadline: Duration::from_micros(100),
            step_budget: 4096,
            idle: Idle::default(),
            tiers: crate::operator::tier::Tiers::default(),
            perturb: None,
            progress_interval: Duration::from_millis(100),
            on_progress: None,
            checkpoint_every: None,
            on_checkpoint: None,

            links: crate::exchange::link::Links::default(),
        }
    }
}

impl Config {
    /// Sets how often workers report progress (and the observer is called at most).
    pub fn progress_interval(mut self, d: Duration) -> Self {
        self.progress_interval = d;
        self
    }

    /// Calls `f` with the job's progress on the control-plane thread: at most once per
    /// [`Config::progress_interval`] while the job runs, and once more with `done` set when
    /// the job has succeeded (not after a failure). The control plane handles failures between
    /// calls, so `f` should return quickly (hand the figures to another thread for slow work);
    /// a panic in `f` cancels the job, which fails with [`crate::JobError::Observer`].
    ///
    /// # Examples
    ///
    /// ```
    /// use lute_runtime::{Config, VecSource, WatermarkStrategy, api};
    /// use std::sync::{Arc, Mutex};
    /// let last = Arc::new(Mutex::new(None));
    /// let seen = last.clone();
    /// let config = Config::default().on_progress(move |p| *seen.lock().unwrap() = Some(p.clone()));
    /// api::source("n", VecSource::new((0..100).map(|i| (i, i)).collect()), WatermarkStrategy::default())
    ///     .for_each("drop", |_, _| Ok(()))
    ///     .run(&config)
    ///     .unwrap();
    /// let p = last.lock().unwrap().clone().unwrap();
    /// assert!(p.done);
    /// assert_eq!(p.stage("n").unwrap().records, 100);
    /// ```
    pub fn on_progress(mut self, f: impl Fn(&crate::Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(crate::control::progress::ProgressObserver(
            std::sync::Arc::new(f),
        ));
        self
    }

    /// Injects checkpoint barrier `k` at every source partition after its `k · records`-th
    /// record (see [`Config::checkpoint_every`]).
    pub fn checkpoint_every(mut self, records: u64) -> Self {
        self.checkpoint_every = Some(records);
        self
    }

    /// Calls `f` on the control-plane thread with every completed checkpoint: every stage of
    /// every worker passed its barrier and its registered state was captured.
    pub fn on_checkpoint(
        mut self,
        f: impl Fn(&crate::control::Checkpoint) + Send + Sync + 'static,
    ) -> Self {
        self.on_checkpoint = Some(crate::control::CheckpointObserver(std::sync::Arc::new(f)));
        self
    }

    /// Makes every link with `factory` (see [`crate::exchange::link`]).
    pub fn links(mut self, factory: impl crate::exchange::LinkFactory + 'static) -> Self {
        self.links = crate::exchange::link::Links(std::sync::Arc::new(factory));
        self
    }

    /// Sets the number of workers.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// Sets the pinning.
    pub fn pinning(mut self, p: Pinning) -> Self {
        self.pinning = p;
        self
    }

    /// Sets the batch size.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Sets the exchange ring capacity.
    pub fn channel_capacity(mut self, n: usize) -> Self {
        self.channel_capacity = n;
        self
    }

    /// Sets the flush deadline.
    pub fn flush_deadline(mut self, d: Duration) -> Self {
        self.flush_deadline = d;
        self
    }

    /// Sets the idle strategy.
    pub fn idle(mut self, idle: Idle) -> Self {
        self.idle = idle;
        self
    }

    /// Sets the tier policy of intra-chain edges.
    pub fn tiers(mut self, tiers: crate::operator::tier::Tiers) -> Self {
        self.tiers = tiers;
        self
    }

    /// Enables scheduling perturbation with `seed` (effective only with feature `perturb`).
    pub fn perturb(mut self, seed: u64) -> Self {
        self.perturb = Some(seed);
        self
    }

    /// Checks the configuration (pinning is checked against the cores when the job starts).
    ///
    /// # Errors
    /// [`BuildError`] naming the offending setting.
    pub fn validate(&self) -> Result<(), BuildError> {
        if self.workers == 0 {
            return Err(BuildError::NoWorkers);
        }
        if self.batch_size == 0 {
            return Err(BuildError::Zero { what: "batch_size" });
        }
        if self.step_budget == 0 {
            return Err(BuildError::Zero {
                what: "step_budget",
            });
        }
        lute_sync::error::check_capacity(self.channel_capacity)?;
        if self.checkpoint_every == Some(0) {
            return Err(BuildError::Zero {
                what: "checkpoint_every",
            });
        }
        Ok(())
    }
}
