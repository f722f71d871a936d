//! `map`.

use super::{Emit, EventTime, Operator};
use crate::error::OperatorError;

/// `map`: one output per input.
#[derive(Debug, Clone)]
pub struct Map<F>(pub F);

impl<In, U, F> Operator<In> for Map<F>
where
    F: FnMut(In) -> U + Clone + Send + 'static,
{
    type Out = U;

    #[inline(always)]
    fn process<E: Emit<U>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        out.emit(ts, (self.0)(x))
    }
}
