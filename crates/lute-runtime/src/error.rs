//! Errors: build-time ([`BuildError`]), operator ([`OperatorError`]) and job ([`JobError`]).
//! Conditions a caller may handle are variants ([`Cause::Link`], [`Cause::State`],
//! [`BuildError::Capacity`]), never strings; the shared domains ([`LinkError`],
//! [`StateError`]) come from `lute-core`.

pub use lute_core::{LinkError, OperatorId, StateError};
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
    /// A link of the job could not be made by the link factory.
    #[error("link: {0}")]
    Link(#[from] LinkError),
    /// A window specification was refused by the window layer.
    #[error("window specification: {0}")]
    Window(#[from] lute_window::window::SpecError),
}

/// What made an operator fail.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Cause {
    /// A failure described by the operator (user code).
    #[error("{0}")]
    Message(String),
    /// A failure with a source error (user code or I/O).
    #[error("{0}")]
    Error(Arc<dyn std::error::Error + Send + Sync>),
    /// A link to another worker failed (a lost peer, a link that cannot be made).
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Registered state could not be captured or restored, or a source cannot seek.
    #[error(transparent)]
    State(#[from] StateError),
}

/// A failure raised by an operator (or a source, a sink or a link of its stage). The runtime
/// attaches the operator's id and name.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{cause}")]
pub struct OperatorError {
    /// The failing operator's id and name, once known.
    pub op: Option<(OperatorId, Arc<str>)>,
    /// What went wrong.
    pub cause: Cause,
}

impl OperatorError {
    /// A failure described by `message`; the runtime attaches the operator.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            op: None,
            cause: Cause::Message(message.into()),
        }
    }

    /// A failure caused by `error`, kept as this error's source.
    pub fn from_error(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            op: None,
            cause: Cause::Error(Arc::new(error)),
        }
    }

    /// Attaches the operator unless one is already set.
    #[must_use]
    pub fn in_operator(mut self, id: OperatorId, name: &Arc<str>) -> Self {
        if self.op.is_none() {
            self.op = Some((id, name.clone()));
        }
        self
    }
}

impl From<LinkError> for OperatorError {
    fn from(e: LinkError) -> Self {
        Self {
            op: None,
            cause: Cause::Link(e),
        }
    }
}

impl From<StateError> for OperatorError {
    fn from(e: StateError) -> Self {
        Self {
            op: None,
            cause: Cause::State(e),
        }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The job was refused before it started.
    #[error("invalid job: {0}")]
    Build(#[from] BuildError),
    /// An operator failed; the job was cancelled and every thread joined.
    #[error("operator `{op}` on worker {worker} failed: {source}")]
    Operator {
        /// The operator's name (`<runtime>` when no operator was running).
        op: String,
        /// The operator's id, when known.
        id: Option<OperatorId>,
        /// The worker it ran on.
        worker: usize,
        /// Its error.
        #[source]
        source: OperatorError,
    },
    /// A link between workers failed outside any operator (a peer lost); the job was
    /// cancelled and every thread joined.
    #[error("worker {worker}: {source}")]
    Link {
        /// The worker that noticed.
        worker: usize,
        /// The link's error.
        #[source]
        source: LinkError,
    },
    /// An operator panicked; the job was cancelled and every thread joined.
    #[error("operator `{op}` on worker {worker} panicked: {message}")]
    Panic {
        /// The operator's name (the innermost operator that was running).
        op: String,
        /// The operator's id, when known.
        id: Option<OperatorId>,
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
