//! Error types. Hot-path errors are small enums that hand the value back.

use std::fmt;

/// Why a ring could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapacityError {
    /// A capacity of 0 was requested.
    #[error("capacity must be at least 1")]
    Zero,
    /// The capacity is not a power of two (indices wrap with a mask).
    #[error("capacity {0} is not a power of two")]
    NotPowerOfTwo(usize),
    /// The capacity exceeds [`crate::MAX_CAPACITY`].
    #[error("capacity {requested} exceeds the maximum of {max}")]
    TooLarge {
        /// What was asked for.
        requested: usize,
        /// The largest supported capacity.
        max: usize,
    },
    /// An SPSC release interval that is not a power of two in `1..=capacity`.
    #[error("release interval {release} must be a power of two from 1 to the capacity {capacity}")]
    Release {
        /// The interval asked for.
        release: usize,
        /// The ring's capacity.
        capacity: usize,
    },
}

/// Checks a ring capacity: non-zero, a power of two, at most [`crate::MAX_CAPACITY`].
///
/// # Errors
/// The matching [`CapacityError`].
pub fn check_capacity(capacity: usize) -> Result<usize, CapacityError> {
    if capacity == 0 {
        Err(CapacityError::Zero)
    } else if capacity > crate::MAX_CAPACITY {
        Err(CapacityError::TooLarge {
            requested: capacity,
            max: crate::MAX_CAPACITY,
        })
    } else if !capacity.is_power_of_two() {
        Err(CapacityError::NotPowerOfTwo(capacity))
    } else {
        Ok(capacity)
    }
}

/// A push that did not happen; the value is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The ring is full (backpressure); try again later.
    Full(T),
    /// The consumer was dropped; nothing will ever read this value.
    Disconnected(T),
}

impl<T> PushError<T> {
    /// The value that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(v) | Self::Disconnected(v) => v,
        }
    }
}

impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("ring is full"),
            Self::Disconnected(_) => f.write_str("consumer was dropped"),
        }
    }
}

impl<T> std::error::Error for PushError<T> {}

/// A pop that returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PopError {
    /// Nothing to read now; try again later.
    #[error("ring is empty")]
    Empty,
    /// Empty, and every producer was dropped: nothing will ever arrive.
    #[error("ring is empty and its producers were dropped")]
    Disconnected,
}

/// The other end was dropped: returned by blocking operations instead of waiting forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the other end of the channel was dropped")]
pub struct Disconnected;
