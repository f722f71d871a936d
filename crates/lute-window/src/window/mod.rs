//! The window layer: event-time tumbling and sliding windows over shared slices, session
//! windows, and count-based windows.
//!
//! # Semantics
//!
//! - A window covers `[start, end)`. It closes when the watermark reaches `end` (a watermark
//!   `w` asserts that every later event has a time `>= w`), and its [`WindowResult`] carries
//!   the timestamp `end − 1` ([`WindowResult::timestamp`]), which is never late downstream of
//!   the watermark that closed it.
//! - An event with a time before the current watermark is *late*: it is rejected with
//!   [`Late`] and counted, never folded into an already-emitted window. The allowed lateness
//!   is therefore the watermark's delay (a bounded-out-of-orderness watermark of `L` admits
//!   events up to `L` late); accepted + late = offered.
//! - Only windows that received at least one event are emitted.
//!
//! # Slicing ([`SlidingWindows`])
//!
//! Time is cut into slices of length `g = gcd(all sizes and slides)`. An event is combined once
//! into its slice (a ring of open slices, out of order within the open slices); when the
//! watermark passes a slice's end, the slice is sealed and pushed once into each window
//! spec's [`DabaLite`](crate::DabaLite), which holds the last `size / g` sealed slices, so a
//! window result costs one query (worst-case O(1)) however many windows overlap. One event is
//! combined once, not once per overlapping window, and all specs share the slices.
//!
//! Out-of-order events inside one open slice combine in arrival order: use a commutative
//! operator for out-of-order streams (an in-order stream keeps any operator exact).

mod count;
mod session;
mod sliding;

pub use count::{CountResult, CountWindows};
pub use session::SessionWindows;
pub use sliding::{SlidingSpec, SlidingWindows, SpecError};

/// The result of one event-time window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WindowResult<A> {
    /// Index of the window spec (in the order given at construction; 0 for sessions).
    pub spec: usize,
    /// First time covered.
    pub start: i64,
    /// End of the window (exclusive); the watermark that reached it closed the window.
    pub end: i64,
    /// The aggregate of the window's events, oldest first.
    pub value: A,
}

impl<A> WindowResult<A> {
    /// The result's event time, `end − 1`: the last time the window covers.
    pub fn timestamp(&self) -> i64 {
        self.end - 1
    }
}

/// An event refused because it is late (its time is before the watermark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("event at {t} is late: the watermark is {watermark}")]
#[must_use]
pub struct Late {
    /// The event's time.
    pub t: i64,
    /// The watermark when it arrived.
    pub watermark: i64,
}

/// Counters of a window operator: `accepted + late` equals the events offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowStats {
    /// Events accepted.
    pub accepted: u64,
    /// Events rejected as late.
    pub late: u64,
    /// Window results emitted.
    pub emitted: u64,
}
