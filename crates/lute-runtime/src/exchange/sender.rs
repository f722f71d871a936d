//! The sending side of an exchange on one worker: per destination an open batch from the
//! sender's pool, a pending queue when the link is full (backpressure), markers broadcast after
//! flushing (see the module docs of [`crate::exchange`]).

use super::chunk::{Chunk, Message};
use super::link::{LinkId, LinkSender};
use super::partition::Partition;
use crate::error::{LinkError, OperatorError};
use crate::exec::bell::Bells;
use crate::operator::{Emit, EventTime};
use lute_sync::{BatchPool, PushError};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The sending side of an exchange on one worker.
pub(crate) struct ExchangeSender<T, KF> {
    key: KF,
    links: Vec<LinkSender<T>>,
    /// Each link's id (its edge and the worker it goes to).
    ids: Vec<LinkId>,
    /// Doorbells, when workers park (rung after every push).
    bells: Option<Arc<Bells>>,
    pool: BatchPool<(EventTime, T)>,
    open: Vec<Option<Chunk<T>>>,
    /// Records per batch (the capacity of spilled batches too).
    batch_size: usize,
    /// Batches spilled to the heap because the pool was empty.
    spilled: u64,
    /// Records sent (counted per batch).
    records: u64,
    /// Batches sent.
    batches: u64,
    opened_at: Vec<Instant>,
    pending: Vec<VecDeque<Message<T>>>,
    deadline: Duration,
}

impl<T, KF> ExchangeSender<T, KF> {
    pub(crate) fn new(
        key: KF,
        links: Vec<(LinkId, LinkSender<T>)>,
        batch_size: usize,
        capacity: usize,
        deadline: Duration,
    ) -> Result<Self, lute_sync::CapacityError> {
        let n = links.len();
        let (ids, links): (Vec<_>, Vec<_>) = links.into_iter().unzip();
        let pool = BatchPool::new(n * (capacity + 4), batch_size)?;
        Ok(Self {
            key,
            links,
            ids,
            records: 0,
            batches: 0,
            bells: None,
            pool,
            open: (0..n).map(|_| None).collect(),
            batch_size,
            spilled: 0,
            opened_at: vec![Instant::now(); n],
            pending: (0..n).map(|_| VecDeque::with_capacity(4)).collect(),
            deadline,
        })
    }

    /// Rings the doorbells of the receiving workers when workers park.
    pub(crate) fn set_bells(&mut self, bells: &Arc<Bells>) {
        self.bells = Some(bells.clone());
    }

    #[inline]
    fn ring(&self, d: usize) {
        if let Some(b) = &self.bells {
            b.ring(self.ids[d].to.index());
        }
    }

    /// Sends `msg` to `d`, or queues it behind earlier pending messages.
    fn enqueue(&mut self, d: usize, msg: Message<T>) -> Result<(), OperatorError> {
        if self.pending[d].is_empty() {
            match self.links[d].try_send(msg) {
                Ok(()) => {
                    self.ring(d);
                    return Ok(());
                }
                Err(PushError::Full(m)) => self.pending[d].push_back(m),
                Err(PushError::Disconnected(_)) => return Err(self.peer_lost(d)),
            }
        } else {
            self.pending[d].push_back(msg);
        }
        Ok(())
    }

    fn peer_lost(&self, d: usize) -> OperatorError {
        LinkError::PeerLost {
            edge: self.ids[d].edge,
            peer: self.ids[d].to,
        }
        .into()
    }

    /// Records and batches sent so far.
    pub(crate) fn sent(&self) -> (u64, u64) {
        (self.records, self.batches)
    }

    fn flush_open(&mut self, d: usize) -> Result<(), OperatorError> {
        if let Some(b) = self.open[d].take() {
            self.records += b.len() as u64;
            self.batches += 1;
            self.enqueue(d, Message::Data(b))?;
        }
        Ok(())
    }

    /// Pushes pending messages and flushes batches past the deadline; returns whether anything
    /// moved.
    pub(crate) fn maintain(&mut self, now: Instant) -> Result<bool, OperatorError> {
        let mut moved = false;
        for d in 0..self.links.len() {
            while let Some(m) = self.pending[d].pop_front() {
                match self.links[d].try_send(m) {
                    Ok(()) => {
                        moved = true;
                        self.ring(d);
                    }
                    Err(PushError::Full(m)) => {
                        self.pending[d].push_front(m);
                        break;
                    }
                    Err(PushError::Disconnected(_)) => return Err(self.peer_lost(d)),
                }
            }
            if self.open[d].is_some() && now.duration_since(self.opened_at[d]) >= self.deadline {
                self.flush_open(d)?;
                moved = true;
            }
        }
        Ok(moved)
    }

    /// Whether a batch is open (it will be flushed by the deadline) or a message is pending.
    pub(crate) fn timed(&self) -> bool {
        self.open.iter().any(Option::is_some) || !self.ready()
    }

    /// Whether the upstream may produce more (no message is waiting for ring space).
    pub(crate) fn ready(&self) -> bool {
        self.pending.iter().all(VecDeque::is_empty)
    }

    /// Broadcasts a marker after flushing every open batch (markers stay ordered with data).
    pub(crate) fn broadcast(
        &mut self,
        marker: impl Fn() -> Message<T>,
    ) -> Result<(), OperatorError> {
        for d in 0..self.links.len() {
            self.flush_open(d)?;
            self.enqueue(d, marker())?;
        }
        Ok(())
    }

    /// Batches spilled to the heap so far (see the module docs).
    pub(crate) fn spilled(&self) -> u64 {
        self.spilled
    }

    /// Broadcasts a watermark.
    pub(crate) fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError> {
        self.broadcast(|| Message::Watermark(w))
    }

    /// Broadcasts checkpoint barrier `n` (after every record emitted before it).
    pub(crate) fn barrier(&mut self, n: lute_core::CheckpointId) -> Result<(), OperatorError> {
        self.broadcast(|| Message::Barrier(n))
    }
}

impl<T, P: Partition<T>> ExchangeSender<T, P> {
    /// Opens a batch for destination `d` and puts the record in it (once per batch: out of
    /// line, so the per-record path of `emit` stays small enough to inline).
    #[cold]
    #[inline(never)]
    fn emit_opening(&mut self, d: usize, r: (EventTime, T)) -> Result<(), OperatorError> {
        // Sized so that it is not empty in steady state; in a burst, spill rather than wait
        // for batches only this worker may return (module docs).
        let mut b = match self.pool.try_take() {
            Some(b) => Chunk::Pooled(b),
            None => {
                self.spilled += 1;
                Chunk::Spilled(Vec::with_capacity(self.batch_size), self.batch_size)
            }
        };
        self.opened_at[d] = Instant::now();
        b.push(r);
        let full = b.is_full();
        self.open[d] = Some(b);
        if full {
            self.flush_open(d)?;
        }
        Ok(())
    }

    /// Sends the full open batch of destination `d` (once per batch: out of line).
    #[inline(never)]
    fn flush_full(&mut self, d: usize) -> Result<(), OperatorError> {
        self.flush_open(d)
    }
}

impl<T, P: Partition<T>> Emit<T> for ExchangeSender<T, P> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        let d = self.key.route(&x, self.links.len());
        match &mut self.open[d] {
            Some(b) => {
                b.push((ts, x));
                if b.is_full() {
                    return self.flush_full(d);
                }
                Ok(())
            }
            None => self.emit_opening(d, (ts, x)),
        }
    }
}
