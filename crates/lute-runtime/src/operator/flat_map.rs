//! `flat_map`.

use super::{Emit, EventTime, Operator};
use crate::error::OperatorError;

/// `flat_map`: zero or more outputs per input, with the input's event time.
#[derive(Debug, Clone)]
pub struct FlatMap<F>(pub F);

impl<In, I, F> Operator<In> for FlatMap<F>
where
    F: FnMut(In) -> I + Clone + Send + 'static,
    I: IntoIterator,
{
    type Out = I::Item;

    #[inline(always)]
    fn process<E: Emit<I::Item>>(
        &mut self,
        ts: EventTime,
        x: In,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        for y in (self.0)(x) {
            out.emit(ts, y)?;
        }
        Ok(())
    }
}
