//! Sources: where records and their event times enter a job, and how watermarks are made.

use crate::error::OperatorError;
use crate::operator::EventTime;
use std::sync::Arc;

/// What a source did in one call to [`Source::fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    /// It may have more records.
    More,
    /// It has nothing now but is not finished (its partition is marked idle downstream and
    /// left out of watermark minimums until it has data again).
    Idle,
    /// It is exhausted.
    Done,
}

/// A partitioned source. Each worker runs a clone, opened with its partition index.
pub trait Source: Clone + Send + 'static {
    /// Record type.
    type Item: Send + 'static;

    /// Called once per worker: this clone reads partition `partition` of `partitions`.
    ///
    /// # Errors
    /// Fails the job.
    fn open(&mut self, partition: usize, partitions: usize) -> Result<(), OperatorError>;

    /// Emits at most `max` records through `out`.
    ///
    /// # Errors
    /// A source failure or the error `out` returned; fails the job.
    fn fill<F>(&mut self, max: usize, out: &mut F) -> Result<SourceStatus, OperatorError>
    where
        F: FnMut(EventTime, Self::Item) -> Result<(), OperatorError>;
}

/// How a source's watermarks are made: bounded out-of-orderness, emitted every `every`
/// records (a data-defined point, so runs are deterministic) and at end of stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatermarkStrategy {
    /// The watermark is the largest event time seen minus `delay`: events up to `delay` late
    /// are still on time.
    pub delay: EventTime,
    /// Records between watermarks.
    pub every: usize,
}

impl Default for WatermarkStrategy {
    fn default() -> Self {
        Self {
            delay: 0,
            every: 256,
        }
    }
}

/// An in-memory source over a shared vector of `(event time, record)`; partition `p` of `n`
/// reads elements `p, p + n, p + 2n, …`.
#[derive(Debug)]
pub struct VecSource<T> {
    data: Arc<Vec<(EventTime, T)>>,
    next: usize,
    step: usize,
}

impl<T> Clone for VecSource<T> {
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            next: self.next,
            step: self.step,
        }
    }
}

impl<T> VecSource<T> {
    /// A source over `data`.
    pub fn new(data: Vec<(EventTime, T)>) -> Self {
        Self {
            data: Arc::new(data),
            next: 0,
            step: 1,
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Source for VecSource<T> {
    type Item = T;

    fn open(&mut self, partition: usize, partitions: usize) -> Result<(), OperatorError> {
        self.next = partition;
        self.step = partitions;
        Ok(())
    }

    fn fill<O>(&mut self, max: usize, out: &mut O) -> Result<SourceStatus, OperatorError>
    where
        O: FnMut(EventTime, T) -> Result<(), OperatorError>,
    {
        for _ in 0..max {
            let Some((ts, x)) = self.data.get(self.next) else {
                return Ok(SourceStatus::Done);
            };
            out(*ts, x.clone())?;
            self.next += self.step;
        }
        Ok(if self.next < self.data.len() {
            SourceStatus::More
        } else {
            SourceStatus::Done
        })
    }
}

/// A generator: record `i` (for `i` in `0..count`) is `f(i)`; partition `p` of `n` generates
/// the indices `i ≡ p (mod n)`. Allocation-free if `f` is.
#[derive(Debug, Clone)]
pub struct GenSource<F> {
    f: F,
    count: u64,
    next: u64,
    step: u64,
}

impl<F> GenSource<F> {
    /// `count` records made by `f(index) -> (event time, record)`.
    pub fn new(count: u64, f: F) -> Self {
        Self {
            f,
            count,
            next: 0,
            step: 1,
        }
    }
}

impl<T, F> Source for GenSource<F>
where
    T: Send + 'static,
    F: FnMut(u64) -> (EventTime, T) + Clone + Send + 'static,
{
    type Item = T;

    fn open(&mut self, partition: usize, partitions: usize) -> Result<(), OperatorError> {
        self.next = partition as u64;
        self.step = partitions as u64;
        Ok(())
    }

    fn fill<O>(&mut self, max: usize, out: &mut O) -> Result<SourceStatus, OperatorError>
    where
        O: FnMut(EventTime, T) -> Result<(), OperatorError>,
    {
        for _ in 0..max {
            if self.next >= self.count {
                return Ok(SourceStatus::Done);
            }
            let (ts, x) = (self.f)(self.next);
            out(ts, x)?;
            self.next += self.step;
        }
        Ok(if self.next < self.count {
            SourceStatus::More
        } else {
            SourceStatus::Done
        })
    }
}
