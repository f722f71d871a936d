//! The exchange: records are routed to workers by a hash of their key ([`partition`]), through
//! one link per (sending worker, receiving worker) pair ([`link`]: an SPSC ring in-process)
//! carrying pooled batches and in-band markers ([`chunk`]); the [`sender`] batches, the
//! receiver ([`merge`]) merges its inputs in an order defined by the data and aligns barriers.
//!
//! # Endpoints
//!
//! Sender and receiver see a link only through the [`link::Outlet`] / [`link::Inlet`] traits
//! (bounded, ordered, non-blocking, a lost peer reported), one dynamic call per message (a
//! batch or a marker), never per record. Planning gets them from the job's
//! [`link::LinkFactory`]; the in-process SPSC ring is one implementation, a transport another.
//!
//! # Sender
//!
//! Per destination, an open batch from the sender's `BatchPool` fills with records; it is
//! sent when full, before a watermark (so markers stay ordered with data), and when older than
//! the flush deadline. A message that does not fit in its ring waits in a per-destination
//! pending queue; the upstream stage produces nothing more until every pending queue is empty
//! (backpressure). The pool holds `destinations × (capacity + 4)` batches, enough for every
//! ring to be full with one batch open and one pending per destination, so steady state never
//! allocates. The upstream can only be stopped between calls: one call that emits more than the
//! pool holds (a window firing for many keys, a large `flat_map`) would otherwise wait for
//! batches that only its own worker's receiver can return, so the sender never waits: when the
//! pool is empty it spills into a heap-allocated batch (a `Chunk::Spilled`, counted in the
//! job's metrics as `<job>.exchange_spilled_batches`), and the pending queue grows. Both shrink
//! back to the pool once the burst has drained.
//!
//! # Receiver: a merge defined by the data
//!
//! The receiver merges its inputs *record by record*: among the heads of all live inputs it
//! takes the smallest `(event time, kind, input index)`, where a record's time is its event
//! time, a watermark's is its value, and end-of-stream is `+∞`. It takes nothing until every
//! live input has a head. The sequence it produces therefore depends only on the sequences the
//! inputs carry, not on batch boundaries (flush deadlines) or thread timing, so a job's output
//! is the same in every run. An input marked idle by its source is left out of the wait and of
//! the watermark minimum until it has data again (idleness is a timing signal: jobs that need
//! determinism keep their sources from going idle). A watermark repeated while a sender is
//! backpressured changes nothing, so it is never needed for progress.
//!
//! # Barriers: alignment in the merge
//!
//! A checkpoint barrier `n` at an input's head *blocks* that input: the merge reads nothing
//! more from it and leaves it out of the choice (it is no candidate and no limit on other
//! inputs' runs), while the other inputs go on merging by `(time, kind, input)` as above.
//! When every live input (not ended) has barrier `n` at its head, the merge passes one
//! barrier `n` and unblocks them all. Hence, in the merged sequence, barrier `n` comes after
//! every record and watermark any input sent before its barrier `n` and before everything
//! sent after it, and where it falls depends only on the inputs' sequences, not on timing.
//! An ended input counts as aligned. An idle input is not: its source still sends barriers,
//! so the merge waits for it. While an input is blocked its watermark cannot rise (nothing of
//! it is read), so the merge's watermark never passes a record that is still behind a
//! barrier.
//!
//! # Known limit: bounded rings and waiting merges
//!
//! A merge that waits for a head from an empty input while another input's ring is full can
//! close a cycle of waits across two exchanges (worker A's merge waits for A's upstream stage,
//! which waits for an input from worker B, whose stage waits for ring space in A's merge).
//! With rings much smaller than the skew between inputs (one-record batches in four-slot
//! rings at two workers, for example) a job can stall this way, with or without barriers;
//! alignment makes it likelier, since a blocked input stops its stage's output. The default
//! sizes (64 slots of 256 records) are far from it in the tests; merges that advance on
//! watermarks and non-blocking (Chandy-Lamport) alignment are the planned fixes (see
//! `docs/design-notes.md`).

pub mod chunk;
pub mod link;
pub mod merge;
pub mod partition;
pub mod sender;

pub use chunk::{Chunk, Message};
pub use link::{
    Endpoints, InProcess, Inlet, LinkFactory, LinkId, LinkReceiver, LinkSender, LinkSpec, Outlet,
};
pub use partition::{ByKey, MixHasher, Partition, SameWorker, route};
