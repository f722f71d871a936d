//! What travels on a link between two stages.
//!
//! A link carries one input's sequence in order: data, and the markers that say something
//! about the data around them. Markers travel in band (in the same link as the data) so they
//! keep their place in it:
//!
//! - `Watermark(t)`: every later record of this input has an event time `>= t`.
//! - `Barrier(n)`: checkpoint `n` cuts this input here: what came before belongs to it, what
//!   comes after does not. Where a barrier lands relative to data and watermarks is decided by
//!   the sender's input (the data), never by timing; the receiver aligns barriers of its
//!   inputs (see the runtime's `exchange` module).
//! - `Idle`: the input has nothing now; it leaves its receiver's watermark minimum until it
//!   sends again.
//! - `End`: the input is finished; nothing follows.

use crate::id::CheckpointId;
use crate::time::EventTime;

/// One message on a link; `D` is the data payload (a batch of records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<D> {
    /// Records.
    Data(D),
    /// No later record of this input is earlier than this.
    Watermark(EventTime),
    /// Checkpoint barrier.
    Barrier(CheckpointId),
    /// The input has nothing now.
    Idle,
    /// The input is finished.
    End,
}

impl<D> Message<D> {
    /// Whether this is a marker (anything but data).
    #[must_use]
    pub fn is_marker(&self) -> bool {
        !matches!(self, Self::Data(_))
    }

    /// The same marker with another payload type, or the data handed back.
    ///
    /// # Errors
    /// `Err(data)` for [`Message::Data`].
    pub fn marker<E>(self) -> Result<Message<E>, D> {
        match self {
            Self::Data(d) => Err(d),
            Self::Watermark(w) => Ok(Message::Watermark(w)),
            Self::Barrier(n) => Ok(Message::Barrier(n)),
            Self::Idle => Ok(Message::Idle),
            Self::End => Ok(Message::End),
        }
    }
}

impl<D> std::fmt::Display for Message<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Data(_) => f.write_str("data"),
            Self::Watermark(w) => write!(f, "watermark {w}"),
            Self::Barrier(n) => write!(f, "barrier {n}"),
            Self::Idle => f.write_str("idle"),
            Self::End => f.write_str("end"),
        }
    }
}
