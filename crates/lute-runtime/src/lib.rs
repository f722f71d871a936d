//! NacreousLute's dataflow runtime: a typed job builder, pinned worker threads running a
//! static schedule, a control plane on its own thread, in-band watermarks, bounded queues with
//! backpressure, and merges whose order is defined by the data, so output is deterministic.
//!
//! - [`job`]: the typed builder: sources, chains of operators, exchanges (`key_by`, `union`,
//!   `window_join`) that can follow one another, sinks (collect, callback, JSON-lines files).
//! - [`operator`]: the [`Operator`] trait (lifecycle hooks) and built-in operators; each edge
//!   of a chain is fused (tier L4) or a batch boundary (L3), as [`cost`]'s measured cost model
//!   decides; stages are type-erased (L3).
//! - [`join`]: the windowed inner join of two streams.
//! - [`source`]: partitioned sources and the [`WatermarkStrategy`].
//! - [`window_op`]: keyed tumbling/sliding windows on `lute-window`.
//! - [`sink`]: collect and callback sinks.
//! - [`exchange`]: hash exchange over SPSC rings of pooled batches; data-defined merge.
//! - [`config`]: workers, pinning, batching, idle strategy (spin, yield, park with doorbells),
//!   tier policy, progress reporting ([`progress`]); [`error`]: typed errors. [`Metrics`](operator::Metrics): counters (e.g. late
//!   events) returned by a run.
//!
//! # Data path
//!
//! ```text
//! worker i:  source(i) ─ chain ─ ExchangeSender ══ SPSC ring (i→j) of Message ══╗
//!            ExchangeReceiver(inputs from every worker) ─ chain ─ sink   ◄══════╝
//!            (or ─ chain ─ ExchangeSender ══ … a further exchange)
//! ```
//!
//! A `union` forwards each input to a receiver on the same worker (no repartitioning); a
//! `window_join` hashes both inputs by their key into one receiver. With one worker, a
//! pipeline whose exchanges have one input each runs as a single fused stage.
//!
//! `Message` is `Data(Batch)`, `Watermark(t)`, `Idle` or `End`: markers travel in the same
//! ring as data and stay ordered with it. Batches come from a per-worker pool and go back to it
//! when consumed. Every ring is bounded; a full ring stops the upstream stage (backpressure),
//! never grows a queue.
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
//! use lute_runtime::{Config, VecSource, WatermarkStrategy, job};
//! use lute_window::{ops::Count, window::SlidingSpec};
//! let words = vec![(1, "a"), (2, "b"), (3, "a"), (11, "a")];
//! let out = job::source("words", VecSource::new(words), WatermarkStrategy { delay: 0, every: 1 })
//!     .key_by("by word", |w: &&str| *w)
//!     .window("count", |w: &&str| *w, |w: &str| w, &[SlidingSpec::tumbling(10)], Count)
//!     .unwrap()
//!     .map("flatten", |(w, r)| (w, r.start, r.value))
//!     .collect()
//!     .run_sorted(&Config::default().workers(2))
//!     .unwrap();
//! assert_eq!(out, vec![(9, ("a", 0, 2)), (9, ("b", 0, 1)), (19, ("a", 10, 1))]);
//! ```

#![forbid(unsafe_code)]

mod bell;
pub mod config;
pub mod cost;
pub mod error;
pub mod exchange;
pub mod job;
pub mod join;
pub mod operator;
pub mod progress;
pub mod sink;
pub mod source;
mod stage;
pub mod window_op;
mod worker;

pub use config::{Config, Idle, Pinning};
pub use cost::{Tier, Tiers};
pub use error::{BuildError, JobError, OperatorError};
pub use operator::{Context, Emit, EventTime, Operator};
pub use progress::{Progress, StageStatus};
pub use source::{FileSource, GenSource, Source, SourceStatus, VecSource, WatermarkStrategy};
pub use worker::cores;
