//! `filter`.

use super::{Emit, EventTime, Operator};
use crate::error::OperatorError;

/// `filter`: keeps the inputs for which the predicate holds.
#[derive(Debug, Clone)]
pub struct Filter<F>(pub F);

impl<In, F> Operator<In> for Filter<F>
where
    F: FnMut(&In) -> bool + Clone + Send + 'static,
{
    type Out = In;

    #[inline(always)]
    fn process<E: Emit<In>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        if (self.0)(&x) {
            out.emit(ts, x)
        } else {
            Ok(())
        }
    }
}
