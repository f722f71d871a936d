//! The identity operator: the head of every chain.

use super::{Emit, EventTime, Operator};
use crate::error::OperatorError;

/// Passes records through unchanged (the start of every chain).
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl<T> Operator<T> for Identity
where
    T: 'static,
{
    type Out = T;

    #[inline(always)]
    fn process<E: Emit<T>>(
        &mut self,
        ts: EventTime,
        x: T,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        out.emit(ts, x)
    }
}
