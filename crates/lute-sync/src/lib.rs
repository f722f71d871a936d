//! Lock-free channels for NacreousLute's data plane: the one crate where `unsafe` lives.
//!
//! - [`spsc`]: bounded single-producer single-consumer ring (cache-padded indices, cached
//!   opposite index, Acquire/Release only, single and batch operations).
//! - [`fan_in`]: one SPSC ring per producer, merged round robin or smallest key first, so a
//!   multi-input merge is deterministic.
//! - [`mpsc`]: bounded multi-producer ring (Vyukov slots, private consumer index) for producers
//!   not known in advance.
//! - [`pool`]: pre-allocated fixed-capacity [`Batch`] buffers that move by ownership and return
//!   through a ring; an empty pool is backpressure.
//! - [`wait`]: [`WaitStrategy`] (spin, yield, park) and the no-lost-wake-up handshake.
//! - [`error`]: typed errors that hand values back.
//!
//! # Memory-order audit
//!
//! Every atomic operation carries a comment naming the happens-before edge it creates; the
//! per-structure tables are in the module docs of [`spsc`], [`mpsc`] and [`wait`]. Summary:
//!
//! - data is published with one Release store (an index or a slot sequence number) and
//!   received with one Acquire load; the reverse edge (slot freed) uses the same pair;
//! - read-modify-writes appear only where several threads write one location: the MPSC
//!   producers' claim (`Relaxed` CAS: it orders no data) and the sender count (`AcqRel`);
//! - the only `SeqCst` is the fence pair of the park/unpark handshake in [`wait`], a
//!   store-buffer (Dekker) pattern that Acquire/Release cannot order; the `try_*` and batch
//!   operations never execute it;
//! - all atomics go through `primitive` (a loom facade); the loom models in `tests/loom_*.rs`
//!   check every structure, and the same models compiled with `--cfg lute_weaken` (Release
//!   publication weakened to Relaxed, the `SeqCst` fence weakened to `AcqRel`) must fail.
//!
//! # Examples
//!
//! ```
//! use lute_sync::{spsc, WaitStrategy};
//! let (mut tx, mut rx) = spsc::channel::<u64>(1024).unwrap();
//! let t = std::thread::spawn(move || {
//!     for i in 0..1000 {
//!         tx.push(i, WaitStrategy::default()).unwrap();
//!     }
//! });
//! let mut sum = 0;
//! while let Ok(v) = rx.pop(WaitStrategy::default()) {
//!     sum += v;
//! }
//! t.join().unwrap();
//! assert_eq!(sum, 999 * 1000 / 2);
//! ```

pub mod doorbell;
pub mod error;
pub mod fan_in;
pub mod mpsc;
pub mod pool;
mod primitive;
pub mod spsc;
pub mod wait;

pub use error::{CapacityError, Disconnected, PopError, PushError};
pub use pool::{Batch, BatchPool};
pub use spsc::MAX_CAPACITY;
pub use wait::WaitStrategy;
