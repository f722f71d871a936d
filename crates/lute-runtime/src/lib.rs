//! NacreousLute's dataflow runtime: a typed job builder, pinned worker threads running a
//! static schedule, a control plane on its own thread, in-band watermarks and checkpoint
//! barriers, bounded links with backpressure, and merges whose order is defined by the data,
//! so output is deterministic.
//!
//! The crate is organized by concern; dependencies point down this list:
//!
//! - [`api`]: the typed builder a user writes: sources, chains of operators, exchanges
//!   (`key_by`, `union`, `window_join`), windows on a keyed stream, sinks; [`api::Plan`].
//! - [`plan`]: how a job becomes stages on workers: physical plan, fusion, `explain`.
//! - [`control`]: the control plane: the protocol ([`control::Command`],
//!   [`control::Report`]), checkpoint barriers and their acknowledgement, progress.
//! - [`exec`]: what runs on a worker thread: stages, the worker loop, idle strategy, affinity.
//! - [`exchange`]: links and the [`exchange::LinkFactory`], partitioning, the sender, the
//!   data-defined merge and barrier alignment.
//! - [`operator`]: the [`Operator`] trait, chains and tiers (with the cost model), the
//!   per-worker factory, one file per built-in operator (map, filter, window, join, sinks).
//! - [`source`]: partitioned sources with positions, and the [`WatermarkStrategy`].
//! - [`state`]: registered state: the keyed state table, snapshots.
//! - [`metrics`]: live per-worker counters and the end-of-run summary.
//! - [`config`], [`error`]: job configuration and typed errors.
//!
//! Ids, event time, the in-band [`lute_core::Message`] and the shared error domains come
//! from `lute-core`.
//!
//! # Data path
//!
//! ```text
//! worker i:  source(i) ─ chain ─ ExchangeSender ══ link (i→j) of Message ══╗
//!            ExchangeReceiver(inputs from every worker) ─ chain ─ sink  ◄══╝
//!            (or ─ chain ─ ExchangeSender ══ … a further exchange)
//! ```
//!
//! A `union` forwards each input to a receiver on the same worker (no repartitioning); a
//! `window_join` hashes both inputs by their key into one receiver. With one worker, a
//! pipeline whose exchanges have one input each runs as a single fused stage.
//!
//! A [`Message`](lute_core::Message) is `Data(batch)`, `Watermark(t)`, `Barrier(n)`, `Idle`
//! or `End`: markers travel in the same link as data and stay ordered with it. Batches come
//! from a per-worker pool and go back to it when consumed. Every link is bounded; a full link
//! stops the upstream stage (backpressure), never grows a queue.
//!
//! # Event time
//!
//! Sources emit a watermark every `every` records (bounded out-of-orderness) and
//! `EventTime::MAX` at end of stream; each receiver's watermark is the minimum over its live,
//! non-idle inputs; window operators close windows when it passes their end and flush every
//! open window at end of stream.
//!
//! # Examples
//!
//! A keyed tumbling-window count:
//!
//! ```
//! use lute_runtime::{Config, VecSource, WatermarkStrategy, api};
//! use lute_window::{ops::Count, window::SlidingSpec};
//! let words = vec![(1, "a"), (2, "b"), (3, "a"), (11, "a")];
//! let out = api::source("words", VecSource::new(words), WatermarkStrategy { delay: 0, every: 1 })
//!     .key_by("by word", |w: &&str| *w)
//!     .window("count", |w: &str| w, &[SlidingSpec::tumbling(10)], Count)
//!     .unwrap()
//!     .map("flatten", |(w, r)| (w, r.start, r.value))
//!     .collect()
//!     .run_sorted(&Config::default().workers(2))
//!     .unwrap();
//! assert_eq!(out, vec![(9, ("a", 0, 2)), (9, ("b", 0, 1)), (19, ("a", 10, 1))]);
//! ```

#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod control;
pub mod error;
pub mod exchange;
pub mod exec;
pub mod metrics;
pub mod operator;
pub mod plan;
pub mod source;
pub mod state;

pub use config::{Config, Idle, Pinning};
pub use control::progress::{Progress, StageStatus};
pub use error::{BuildError, JobError, OperatorError};
pub use exec::affinity::cores;
pub use lute_core::{CheckpointId, EventTime, OperatorId, WorkerId};
pub use operator::tier::{Tier, Tiers};
pub use operator::{Context, Emit, Operator};
pub use source::{FileSource, GenSource, Source, SourceStatus, VecSource, WatermarkStrategy};
