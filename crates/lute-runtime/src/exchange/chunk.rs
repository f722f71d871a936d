//! What a link carries: [`Message`]s whose data is a [`Chunk`] of records.

use crate::operator::EventTime;
use lute_sync::Batch;

/// The message on every exchange link: `lute-core`'s in-band [`lute_core::Message`] with a
/// [`Chunk`] of records as its data.
pub type Message<T> = lute_core::Message<Chunk<T>>;

/// A batch of records in flight: from the sender's pool, or spilled to the heap when the pool
/// is empty (see the module docs).
pub enum Chunk<T> {
    /// A pooled batch (steady state).
    Pooled(Batch<(EventTime, T)>),
    /// A heap batch and its capacity (bursts beyond the pool).
    Spilled(Vec<(EventTime, T)>, usize),
}

impl<T> Chunk<T> {
    #[inline(always)]
    pub(crate) fn push(&mut self, r: (EventTime, T)) {
        match self {
            Self::Pooled(b) => {
                if b.push(r).is_err() {
                    unreachable!("a full batch is sent at once");
                }
            }
            Self::Spilled(v, _) => v.push(r),
        }
    }

    #[inline(always)]
    pub(crate) fn is_full(&self) -> bool {
        match self {
            Self::Pooled(b) => b.is_full(),
            Self::Spilled(v, cap) => v.len() >= *cap,
        }
    }

    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<(EventTime, T)> {
        match self {
            Self::Pooled(b) => b.pop(),
            Self::Spilled(v, _) => v.pop(),
        }
    }

    #[inline(always)]
    pub(crate) fn last(&self) -> Option<&(EventTime, T)> {
        match self {
            Self::Pooled(b) => b.last(),
            Self::Spilled(v, _) => v.last(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Pooled(b) => b.len(),
            Self::Spilled(v, _) => v.len(),
        }
    }

    pub(crate) fn reverse(&mut self) {
        match self {
            Self::Pooled(b) => b.reverse(),
            Self::Spilled(v, _) => v.reverse(),
        }
    }
}
impl<T> Chunk<T> {
    /// A heap chunk holding `records` (for links that decode messages on arrival).
    pub fn from_vec(records: Vec<(EventTime, T)>) -> Self {
        let cap = records.len().max(1);
        Self::Spilled(records, cap)
    }

    /// The records, first to last.
    pub fn iter(&self) -> std::slice::Iter<'_, (EventTime, T)> {
        match self {
            Self::Pooled(b) => b.iter(),
            Self::Spilled(v, _) => v.iter(),
        }
    }
}
