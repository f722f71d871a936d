//! Execution: what runs on a worker thread.
//!
//! - [`stage`]: the [`Stage`](stage::Stage) trait (one dynamic call per scheduling step) and
//!   the protocol between a stage and its [`Downstream`](stage::Downstream).
//! - `source_stage`, `exchange_stage`: the two kinds of stage.
//! - `worker`: the worker loop (static round-robin schedule, idle strategy, commands,
//!   counters).
//! - [`bell`]: doorbells that wake parked workers.
//! - [`affinity`]: the process's cores and pinning.

pub mod affinity;
pub mod bell;
pub(crate) mod exchange_stage;
pub(crate) mod source_stage;
pub mod stage;
pub(crate) mod worker;
