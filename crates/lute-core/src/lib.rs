//! NacreousLute's shared vocabulary, below every other crate of the runtime: no `unsafe`, no
//! threads, no I/O.
//!
//! - [`id`] holds [`OperatorId`], [`WorkerId`], [`EdgeId`], [`CheckpointId`].
//! - [`time`] holds [`EventTime`].
//! - [`message`] holds [`Message`], what travels on every link: data, and the in-band markers
//!   (watermark, checkpoint barrier, idle, end) that stay ordered with it.
//! - [`error`] holds the error domains shared by the runtime, state and transport:
//!   [`LinkError`] (a link to a peer), [`StateError`] (registered state).
//!
//! # Examples
//!
//! ```
//! use lute_core::{CheckpointId, Message};
//! let m: Message<Vec<u32>> = Message::Barrier(CheckpointId(3));
//! assert!(m.is_marker());
//! assert_eq!(m.to_string(), "barrier 3");
//! ```

#![forbid(unsafe_code)]

pub mod error;
pub mod id;
pub mod message;
pub mod time;

pub use error::{LinkError, StateError};
pub use id::{CheckpointId, EdgeId, OperatorId, WorkerId};
pub use message::Message;
pub use time::EventTime;
