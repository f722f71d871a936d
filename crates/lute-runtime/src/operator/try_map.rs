//! `try_map`.

use super::{Emit, EventTime, Operator};
use crate::error::OperatorError;

/// `try_map`: a fallible map; an error fails the job with this operator's name.
#[derive(Debug, Clone)]
pub struct TryMap<F>(pub F);

impl<In, U, F> Operator<In> for TryMap<F>
where
    F: FnMut(In) -> Result<U, OperatorError> + Clone + Send + 'static,
{
    type Out = U;

    #[inline(always)]
    fn process<E: Emit<U>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        let y = (self.0)(x)?;
        out.emit(ts, y)
    }
}
