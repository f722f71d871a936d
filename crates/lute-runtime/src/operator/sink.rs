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
    /// A copy of a prototype that has not run (see `operator::factory`): it holds no records,
    /// so the records need not be `Clone`.
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

/// Writes every record as one JSON line `[event_time, record]` to `dir/part-<worker>.jsonl`
/// (one file per worker, as Flink's part files: no lock between workers). The directory is
/// created if needed; files are created at open (truncating an old file), written through a
/// buffer, and flushed at close. An I/O or serialization error fails the job with the sink's
/// name and the path.
#[derive(Debug)]
pub struct FileSink {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
}

impl Clone for FileSink {
    fn clone(&self) -> Self {
        Self::new(self.dir.clone())
    }
}

impl FileSink {
    /// A sink writing into `dir`.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            path: std::path::PathBuf::new(),
            out: None,
        }
    }

    fn io_error(&self, e: impl std::fmt::Display) -> OperatorError {
        OperatorError::new(format!("{}: {e}", self.path.display()))
    }
}

impl<T: serde::Serialize> Operator<T> for FileSink {
    type Out = ();

    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        self.path = self.dir.join(format!("part-{}.jsonl", ctx.worker));
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            OperatorError::new(format!("cannot create {}: {e}", self.dir.display()))
        })?;
        let f = std::fs::File::create(&self.path).map_err(|e| self.io_error(e))?;
        self.out = Some(std::io::BufWriter::new(f));
        Ok(())
    }

    fn process<E: Emit<()>>(
        &mut self,
        ts: EventTime,
        x: T,
        _: &mut E,
    ) -> Result<(), OperatorError> {
        use std::io::Write as _;
        let Some(out) = self.out.as_mut() else {
            return Err(OperatorError::new("file sink used before open"));
        };
        let r = serde_json::to_writer(&mut *out, &(ts, x))
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"));
        r.map_err(|e| self.io_error(e))
    }

    fn close<E: Emit<()>>(&mut self, _: &mut E) -> Result<(), OperatorError> {
        use std::io::Write as _;
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(|e| self.io_error(e))?;
        }
        Ok(())
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
