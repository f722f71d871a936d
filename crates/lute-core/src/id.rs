//! Identifiers. Each is a newtype so that a worker index cannot be passed where an operator is
//! meant; all are `Copy`, ordered, and print as their number.

macro_rules! id {
    ($(#[$doc:meta])* $name:ident($int:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $int);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id! {
    /// An operator of a job. In checkpoints and errors: its index in the job's operator list
    /// (`Plan::operators`), the same in every build of the same job. Inside a running job the
    /// runtime tags operators with ids unique in the process (so pipelines built separately
    /// combine without renumbering) and translates at those boundaries.
    OperatorId(u32)
}

id! {
    /// A worker: `0..workers`.
    WorkerId(u32)
}

id! {
    /// An edge of a job's graph (an exchange or a union input), numbered in build order.
    EdgeId(u32)
}

id! {
    /// A checkpoint: numbered from 1, increasing within a job.
    CheckpointId(u64)
}

impl WorkerId {
    /// The worker as an index.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl From<usize> for WorkerId {
    /// # Panics
    /// Never for a worker count the runtime accepts (at most `u32::MAX` workers).
    fn from(i: usize) -> Self {
        Self(u32::try_from(i).expect("worker index fits in u32"))
    }
}
