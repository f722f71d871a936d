//! Errors: build-time ([`BuildError`]), operator ([`OperatorError`]) and job ([`JobError`]).

use std::sync::Arc;

/// A job or configuration that cannot run; reported before any thread starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// `workers` was 0.
    #[error("a job needs at least 1 worker")]
    NoWorkers,
    /// More pinned workers than cores available to the process.
    #[error(
        "{workers} pinned workers but only {cores} cores are available to this process; \
         use fewer workers or Pinning::None"
    )]
    TooManyPinnedWorkers {
        /// Workers asked for.
        workers: usize,
        /// Cores in the process's affinity mask.
        cores: usize,
    },
    /// A size that must be positive was 0.
    #[error("{what} must be at least 1")]
    Zero {
        /// Which setting.
        what: &'static str,
    },
    /// A duration that must not be negative was.
    #[error("{what} must not be negative")]
    Negative {
        /// Which setting.
        what: &'static str,
    },
    /// A channel capacity was refused by the channel layer.
    #[error("channel capacity: {0}")]
    Capacity(#[from] lute_sync::CapacityError),
    /// A stage's parallelism exceeds the number of workers.
    #[error("`{stage}` has parallelism {parallelism} but the job has only {workers} workers")]
    Parallelism {
        /// The stage (its first operator).
        stage: String,
        /// Parallelism asked for.
        parallelism: usize,
        /// Workers of the job.
        workers: usize,
    },
    /// A union of inputs with different parallelism (a union does not repartition).
    #[error(
        "{union}: an input has parallelism {left} but the union has {right}; a union forwards \
         each input to the same worker, so its inputs need its parallelism (or key_by to \
         repartition)"
    )]
    UnionParallelism {
        /// The union's edge.
        union: String,
        /// The input's parallelism.
        left: usize,
        /// The union's.
        right: usize,
    },
    /// A window specification was refused by the window layer.
    #[error("window specification: {0}")]
    Window(#[from] lute_window::window::SpecError),
}

/// A failure raised by an operator (or a source or sink). The runtime fills in the operator's
/// name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{cause}")]
pub struct OperatorError {
    /// The failing operator's name, once known.
    pub op: Option<Arc<str>>,
    /// What went wrong.
    pub cause: String,
}

impl OperatorError {
    /// A new error with the given cause; the runtime attaches the operator's name.
    pub fn new(cause: impl Into<String>) -> Self {
        Self {
            op: None,
            cause: cause.into(),
        }
    }

    /// Attaches an operator name unless one is already set.
    pub fn in_operator(mut self, op: &Arc<str>) -> Self {
        if self.op.is_none() {
            self.op = Some(op.clone());
        }
        self
    }
}

/// Why a job failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// The job was refused before it started.
    #[error("invalid job: {0}")]
    Build(#[from] BuildError),
    /// An operator returned an error; the job was cancelled and every thread joined.
    #[error("operator `{op}` on worker {worker} failed: {cause}")]
    Operator {
        /// The operator's name.
        op: String,
        /// The worker it ran on.
        worker: usize,
        /// Its error message.
        cause: String,
    },
    /// An operator panicked; the job was cancelled and every thread joined.
    #[error("operator `{op}` on worker {worker} panicked: {message}")]
    Panic {
        /// The operator's name (the innermost operator that was running).
        op: String,
        /// The worker it ran on.
        worker: usize,
        /// The panic message.
        message: String,
    },
    /// A thread could not be started.
    #[error("could not start a thread: {0}")]
    Spawn(String),
    /// The progress observer ([`crate::Config::on_progress`]) panicked; the job was cancelled
    /// and every thread joined.
    #[error("the progress observer panicked: {0}")]
    Observer(String),
}
