//! [`Plan`]: a complete job (`explain`, `run`); [`Collect`]: a job that collects its output.

use crate::config::Config;
use crate::control::Checkpoint;
use crate::error::{JobError, OperatorId};
use crate::metrics::Metrics;
use crate::operator::EventTime;
use crate::operator::sink::{CollectSink, Slots};
use crate::plan::Build;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

type BuildFn = dyn Build;

/// A complete job, ready to run.
pub struct Plan {
    pub(crate) names: Arc<Vec<(OperatorId, Arc<str>)>>,
    pub(crate) job: Box<BuildFn>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("operators", &self.operators())
            .finish()
    }
}

impl Plan {
    /// Operator names, in the order they were added (inputs of a union or join first).
    pub fn operators(&self) -> Vec<String> {
        self.names.iter().map(|(_, n)| n.to_string()).collect()
    }

    /// The physical plan for `config`: stages, each edge's tier, and why.
    ///
    /// # Examples
    ///
    /// ```
    /// use lute_runtime::{Config, VecSource, WatermarkStrategy, api};
    /// let plan = api::source("in", VecSource::new(vec![(0, 1u64)]), WatermarkStrategy::default())
    ///     .map("inc", |x: u64| x + 1)
    ///     .key_by("by value", |x: &u64| *x)
    ///     .for_each("out", |_, _| Ok(()));
    /// let text = plan.explain(&Config::default().workers(2));
    /// assert!(text.contains("exchange `by value`"));
    /// assert!(text.contains("L4"));
    /// ```
    pub fn explain(&self, config: &Config) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plan: {} worker(s), {:?} pinning, batches of {} records, rings of {} slots, \
             flush deadline {:?}, step budget {} records, idle {:?}",
            config.workers,
            config.pinning,
            config.batch_size,
            config.channel_capacity,
            config.flush_deadline,
            config.step_budget,
            config.idle,
        );
        self.job.describe(config, &mut s);
        s
    }

    /// Runs the job on `config.workers` workers and waits for it to finish; returns the
    /// operators' counters (e.g. late events dropped), summed over workers.
    ///
    /// # Errors
    /// [`JobError::Build`] for a bad configuration (before any thread starts); otherwise the
    /// first operator error or panic, after every thread was joined.
    pub fn run(&self, config: &Config) -> Result<Metrics, JobError> {
        self.start(config, None)
    }

    /// Runs the job with every stage of every worker restored from `checkpoint` (taken by a
    /// run of the same job with the same configuration): sources resume at their positions,
    /// operators with the state they registered.
    ///
    /// # Errors
    /// As [`Plan::run`]; a checkpoint that does not fit the job fails it with a
    /// [`StateError`](crate::error::StateError) (through [`JobError::Operator`]).
    pub fn run_restored(
        &self,
        config: &Config,
        checkpoint: Checkpoint,
    ) -> Result<Metrics, JobError> {
        self.start(config, Some(checkpoint))
    }

    fn start(&self, config: &Config, restore: Option<Checkpoint>) -> Result<Metrics, JobError> {
        config.validate()?;
        crate::exec::affinity::check(config)?;
        if config.tiers == crate::operator::tier::Tiers::Model {
            // Calibrates the cost model for every edge now, on this thread, before any worker
            // runs (so workers neither measure concurrently nor wait for each other).
            self.job.describe(config, &mut String::new());
        }
        let stages = self.job.build(config)?;
        crate::control::plane::run(config, self.names.clone(), stages.per_worker, restore)
    }
}

/// A job that collects its output; [`Collect::run`] returns it.
pub struct Collect<T> {
    plan: Plan,
    slots: Slots<T>,
    metrics: Mutex<Metrics>,
}

pub(crate) fn collect_with<T: Send + 'static>(
    make: impl FnOnce(CollectSink<T>) -> Plan,
) -> Collect<T> {
    let slots = Arc::new(Mutex::new(Vec::new()));
    let plan = make(CollectSink::new(slots.clone()));
    Collect {
        plan,
        slots,
        metrics: Mutex::new(Metrics::default()),
    }
}

impl<T> Collect<T> {
    fn take(&self, config: &Config) -> Result<Vec<Vec<(EventTime, T)>>, JobError> {
        {
            let mut s = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            s.clear();
            s.resize_with(config.workers, Vec::new);
        }
        let m = self.plan.run(config)?;
        *self.metrics.lock().unwrap_or_else(PoisonError::into_inner) = m;
        let mut s = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::take(&mut *s))
    }

    /// Runs the job; returns every output record with its event time, ordered by event time
    /// (records with equal times in worker order, then output order).
    ///
    /// # Errors
    /// As [`Plan::run`].
    pub fn run(&self, config: &Config) -> Result<Vec<(EventTime, T)>, JobError> {
        let mut all: Vec<(EventTime, T)> = self.take(config)?.into_iter().flatten().collect();
        all.sort_by_key(|(t, _)| *t);
        Ok(all)
    }

    /// Runs the job; returns the output in a canonical order (event time, then record): the
    /// same in every run with the same configuration. Across worker counts it is the same for
    /// records that are on time; which records are *late* can depend on the number of source
    /// partitions, since each partition makes its own watermarks (every `every` of its records).
    ///
    /// # Errors
    /// As [`Plan::run`].
    pub fn run_sorted(&self, config: &Config) -> Result<Vec<(EventTime, T)>, JobError>
    where
        T: Ord,
    {
        let mut all: Vec<(EventTime, T)> = self.take(config)?.into_iter().flatten().collect();
        all.sort();
        Ok(all)
    }

    /// Operator names, in the order they were added.
    pub fn operators(&self) -> Vec<String> {
        self.plan.operators()
    }

    /// The counters of the last successful run (see [`Plan::run`]).
    pub fn metrics(&self) -> Metrics {
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The physical plan (see [`Plan::explain`]).
    pub fn explain(&self, config: &Config) -> String {
        self.plan.explain(config)
    }
}

/// A complete job from its last pipeline (ending in a sink).
pub(crate) fn plan<P: crate::plan::Produce<Out = ()>>(p: P) -> Plan {
    Plan {
        names: Arc::new(p.names().0.clone()),
        job: Box::new(p),
    }
}
