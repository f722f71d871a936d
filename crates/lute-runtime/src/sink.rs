//! Sinks: the last operator of a job (`Out = ()`).

use crate::error::OperatorError;
use crate::operator::{Context, Emit, EventTime, Operator};
use std::sync::{Arc, Mutex, PoisonError};

/// Per-worker output lists of a [`CollectSink`], filled when each worker's sink closes.
pub(crate) type Slots<T> = Arc<Mutex<Vec<Vec<(EventTime, T)>>>>;

/// Collects every record (with its event time) per worker; the job's output merges the
/// workers' lists. Convenience for tests and small jobs: its `Vec` grows (allocates) as it
/// collects.
pub struct CollectSink<T> {
    worker: usize,
    items: Vec<(EventTime, T)>,
    slots: Slots<T>,
}

impl<T> Clone for CollectSink<T> {
    fn clone(&self) -> Self {
        Self {
            worker: self.worker,
            items: Vec::new(),
            slots: self.slots.clone(),
        }
    }
}

impl<T> CollectSink<T> {
    pub(crate) fn new(slots: Slots<T>) -> Self {
        Self {
            worker: 0,
            items: Vec::new(),
            slots,
        }
    }
}

impl<T: Send + 'static> Operator<T> for CollectSink<T> {
    type Out = ();

    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        self.worker = ctx.worker;
        Ok(())
    }

    #[inline]
    fn process<E: Emit<()>>(
        &mut self,
        ts: EventTime,
        x: T,
        _: &mut E,
    ) -> Result<(), OperatorError> {
        self.items.push((ts, x));
        Ok(())
    }

    fn close<E: Emit<()>>(&mut self, _: &mut E) -> Result<(), OperatorError> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots[self.worker] = std::mem::take(&mut self.items);
        Ok(())
    }
}

/// Calls a function for every record, on the worker that holds it. A slow callback slows the
/// whole job through backpressure.
#[derive(Debug, Clone)]
pub struct CallbackSink<F>(pub F);

impl<T, F> Operator<T> for CallbackSink<F>
where
    F: FnMut(EventTime, T) -> Result<(), OperatorError> + Clone + Send + 'static,
{
    type Out = ();

    #[inline]
    fn process<E: Emit<()>>(
        &mut self,
        ts: EventTime,
        x: T,
        _: &mut E,
    ) -> Result<(), OperatorError> {
        (self.0)(ts, x)
    }
}

/// The end of a chain whose last operator is a sink: nothing leaves it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal;

impl Emit<()> for Terminal {
    #[inline(always)]
    fn emit(&mut self, _: EventTime, _: ()) -> Result<(), OperatorError> {
        Ok(())
    }
}
