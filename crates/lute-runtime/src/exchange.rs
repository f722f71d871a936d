//! The exchange: records are routed to workers by a hash of their key, through one SPSC ring
//! per (sending worker, receiving worker) pair carrying pooled batches and in-band markers.
//!
//! # Endpoints
//!
//! Sender and receiver see a link only through the `Outlet` / `Inlet` traits (bounded,
//! ordered, non-blocking, a lost peer reported), one dynamic call per message (a batch or a
//! marker), never per record. In-process links are SPSC rings; a network transport implements
//! the same two traits.
//!
//! # Sender
//!
//! Per destination, an open batch from the sender's [`BatchPool`] fills with records; it is
//! sent when full, before a watermark (so markers stay ordered with data), and when older than
//! the flush deadline. A message that does not fit in its ring waits in a per-destination
//! pending queue; the upstream stage produces nothing more until every pending queue is empty
//! (backpressure). The pool holds `destinations × (capacity + 4)` batches, enough for every
//! ring to be full with one batch open and one pending per destination, so steady state never
//! allocates. The upstream can only be stopped between calls: one call that emits more than the
//! pool holds (a window firing for many keys, a large `flat_map`) would otherwise wait for
//! batches that only its own worker's receiver can return, so the sender never waits: when the
//! pool is empty it spills into a heap-allocated batch (a `Chunk::Spilled`, counted in the
//! job's metrics as `<job>.exchange_spilled_batches`), and the pending queue grows. Both shrink
//! back to the pool once the burst has drained.
//!
//! # Receiver: a merge defined by the data
//!
//! The receiver merges its inputs *record by record*: among the heads of all live inputs it
//! takes the smallest `(event time, kind, input index)`, where a record's time is its event
//! time, a watermark's is its value, and end-of-stream is `+∞`. It takes nothing until every
//! live input has a head. The sequence it produces therefore depends only on the sequences the
//! inputs carry, not on batch boundaries (flush deadlines) or thread timing, so a job's output
//! is the same in every run. An input marked idle by its source is left out of the wait and of
//! the watermark minimum until it has data again (idleness is a timing signal: jobs that need
//! determinism keep their sources from going idle). A watermark repeated while a sender is
//! backpressured changes nothing, so it is never needed for progress.

use crate::bell::Bells;
use crate::error::OperatorError;
use crate::operator::{Emit, EventTime};
use lute_sync::{Batch, BatchPool, PopError, PushError, spsc};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The sending end of an exchange link (one per sending worker and destination). The
/// in-process implementation is an SPSC ring ([`spsc::Producer`]); a network transport plugs
/// in here with the same contract: bounded (a full link hands the message back: the caller
/// keeps it pending, which is backpressure), ordered, and a lost peer is reported.
pub(crate) trait Outlet<M>: Send {
    /// Sends `m` now, or hands it back.
    ///
    /// # Errors
    /// `Full(m)` when the link has no room; `Disconnected(m)` when the receiver is gone.
    fn try_send(&mut self, m: M) -> Result<(), PushError<M>>;
}

/// The receiving end of an exchange link: ordered, non-blocking.
pub(crate) trait Inlet<M>: Send {
    /// The next message, if one has arrived.
    ///
    /// # Errors
    /// `Empty` when nothing has arrived; `Disconnected` when the sender is gone and nothing
    /// is left.
    fn try_recv(&mut self) -> Result<M, PopError>;
}

impl<M: Send> Outlet<M> for spsc::Producer<M> {
    #[inline]
    fn try_send(&mut self, m: M) -> Result<(), PushError<M>> {
        self.try_push(m)
    }
}

impl<M: Send> Inlet<M> for spsc::Consumer<M> {
    #[inline]
    fn try_recv(&mut self) -> Result<M, PopError> {
        self.try_pop()
    }
}

/// A boxed sending end (one dynamic call per message: a batch or a marker).
pub(crate) type Out<T> = Box<dyn Outlet<Message<T>>>;
/// A boxed receiving end.
pub(crate) type In<T> = Box<dyn Inlet<Message<T>>>;

/// A batch of records in flight: from the sender's pool, or spilled to the heap when the pool
/// is empty (see the module docs).
pub(crate) enum Chunk<T> {
    /// A pooled batch (steady state).
    Pooled(Batch<(EventTime, T)>),
    /// A heap batch and its capacity (bursts beyond the pool).
    Spilled(Vec<(EventTime, T)>, usize),
}

impl<T> Chunk<T> {
    #[inline(always)]
    fn push(&mut self, r: (EventTime, T)) {
        match self {
            Self::Pooled(b) => {
                if b.push(r).is_err() {
                    unreachable!("a full batch is sent at once");
                }
            }
            Self::Spilled(v, _) => v.push(r),
        }
    }

    #[inline(always)]
    fn is_full(&self) -> bool {
        match self {
            Self::Pooled(b) => b.is_full(),
            Self::Spilled(v, cap) => v.len() >= *cap,
        }
    }

    #[inline(always)]
    pub(crate) fn pop(&mut self) -> Option<(EventTime, T)> {
        match self {
            Self::Pooled(b) => b.pop(),
            Self::Spilled(v, _) => v.pop(),
        }
    }

    #[inline(always)]
    pub(crate) fn last(&self) -> Option<&(EventTime, T)> {
        match self {
            Self::Pooled(b) => b.last(),
            Self::Spilled(v, _) => v.last(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Pooled(b) => b.len(),
            Self::Spilled(v, _) => v.len(),
        }
    }

    fn reverse(&mut self) {
        match self {
            Self::Pooled(b) => b.reverse(),
            Self::Spilled(v, _) => v.reverse(),
        }
    }
}

/// What travels through an exchange ring.
pub(crate) enum Message<T> {
    /// Records with their event times.
    Data(Chunk<T>),
    /// Every later record from this input has an event time `>=` this.
    Watermark(EventTime),
    /// The input has nothing now (see the module docs).
    Idle,
    /// The input is finished.
    End,
}

/// A fast, well-mixed, deterministic 64-bit hasher (a multiply-rotate fold finished by the
/// MurmurHash3 `fmix64` avalanche), the same in every run and on every machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct MixHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Feeds `bytes` to `f` as little-endian 64-bit words; a short tail is zero-padded and tagged
/// with its length in the top bits (so `[1]` and `[1, 0]` differ). Shared by the hashers.
#[inline]
pub(crate) fn words(bytes: &[u8], mut f: impl FnMut(u64)) {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        f(u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        f(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
    }
}

impl Hasher for MixHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        words(bytes, |w| self.write_u64(w));
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(K).rotate_left(29);
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The worker (of `n`) that owns `key`.
#[inline]
pub fn route<K: Hash + ?Sized>(key: &K, n: usize) -> usize {
    let mut h = MixHasher::default();
    key.hash(&mut h);
    // Lemire's multiply-shift range reduction: unbiased enough, no division.
    ((u128::from(h.finish()) * n as u128) >> 64) as usize
}

/// How an exchange routes records: to the worker that owns their key ([`ByKey`]), or to the
/// sending worker itself ([`Forward`], used by `union`: no repartitioning).
pub trait Partition<T>: Clone + Send + 'static {
    /// Rings per sending worker when the job has `workers` workers.
    fn fan_out(&self, workers: usize) -> usize;
    /// The ring (of `fan_out`) that `x` goes to.
    fn route(&mut self, x: &T, fan_out: usize) -> usize;
    /// Whether records stay on their worker (one ring, to the same worker).
    fn forward(&self) -> bool {
        false
    }
}

/// Hash partitioning by a key function (see [`route`]).
#[derive(Debug, Clone)]
pub struct ByKey<KF>(pub KF);

impl<T, K: Hash, KF: FnMut(&T) -> K + Clone + Send + 'static> Partition<T> for ByKey<KF> {
    fn fan_out(&self, workers: usize) -> usize {
        workers
    }
    #[inline(always)]
    fn route(&mut self, x: &T, fan_out: usize) -> usize {
        route(&(self.0)(x), fan_out)
    }
}

/// Forward partitioning: every record stays on its worker.
#[derive(Debug, Clone, Copy, Default)]
pub struct Forward;

impl<T> Partition<T> for Forward {
    fn fan_out(&self, _workers: usize) -> usize {
        1
    }
    fn forward(&self) -> bool {
        true
    }
    #[inline(always)]
    fn route(&mut self, _x: &T, _fan_out: usize) -> usize {
        0
    }
}

/// The sending side of an exchange on one worker.
pub(crate) struct ExchangeSender<T, KF> {
    key: KF,
    rings: Vec<Out<T>>,
    /// The worker each ring goes to.
    peers: Vec<usize>,
    /// Doorbells, when workers park (rung after every push).
    bells: Option<Arc<Bells>>,
    pool: BatchPool<(EventTime, T)>,
    open: Vec<Option<Chunk<T>>>,
    /// Records per batch (the capacity of spilled batches too).
    batch_size: usize,
    /// Batches spilled to the heap because the pool was empty.
    spilled: u64,
    opened_at: Vec<Instant>,
    pending: Vec<VecDeque<Message<T>>>,
    deadline: Duration,
}

impl<T, KF> ExchangeSender<T, KF> {
    pub(crate) fn new(
        key: KF,
        rings: Vec<Out<T>>,
        peers: Vec<usize>,
        batch_size: usize,
        capacity: usize,
        deadline: Duration,
    ) -> Result<Self, lute_sync::CapacityError> {
        let n = rings.len();
        let pool = BatchPool::new(n * (capacity + 4), batch_size)?;
        Ok(Self {
            key,
            rings,
            peers,
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
            b.ring(self.peers[d]);
        }
    }

    /// Sends `msg` to `d`, or queues it behind earlier pending messages.
    fn enqueue(&mut self, d: usize, msg: Message<T>) -> Result<(), OperatorError> {
        if self.pending[d].is_empty() {
            match self.rings[d].try_send(msg) {
                Ok(()) => {
                    self.ring(d);
                    return Ok(());
                }
                Err(PushError::Full(m)) => self.pending[d].push_back(m),
                Err(PushError::Disconnected(_)) => return Err(peer_lost(d)),
            }
        } else {
            self.pending[d].push_back(msg);
        }
        Ok(())
    }

    fn flush_open(&mut self, d: usize) -> Result<(), OperatorError> {
        if let Some(b) = self.open[d].take() {
            self.enqueue(d, Message::Data(b))?;
        }
        Ok(())
    }

    /// Pushes pending messages and flushes batches past the deadline; returns whether anything
    /// moved.
    pub(crate) fn maintain(&mut self, now: Instant) -> Result<bool, OperatorError> {
        let mut moved = false;
        for d in 0..self.rings.len() {
            while let Some(m) = self.pending[d].pop_front() {
                match self.rings[d].try_send(m) {
                    Ok(()) => {
                        moved = true;
                        self.ring(d);
                    }
                    Err(PushError::Full(m)) => {
                        self.pending[d].push_front(m);
                        break;
                    }
                    Err(PushError::Disconnected(_)) => return Err(peer_lost(d)),
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
        for d in 0..self.rings.len() {
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
}

fn peer_lost(d: usize) -> OperatorError {
    OperatorError::new(format!("exchange: worker {d} stopped receiving"))
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
        let d = self.key.route(&x, self.rings.len());
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

/// Merge key of an input's head: records, then watermarks, then end, at equal times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Head {
    Record(EventTime),
    Watermark(EventTime),
    End,
}

impl Head {
    fn key(self) -> (EventTime, u8) {
        match self {
            Self::Record(t) => (t, 0),
            Self::Watermark(w) => (w, 1),
            Self::End => (EventTime::MAX, 2),
        }
    }
}

/// One input of a receiver.
struct Input<T> {
    rx: In<T>,
    /// The worker that sends on this ring.
    peer: usize,
    /// Current batch, reversed so that the next record is `last()`.
    cur: Option<Chunk<T>>,
    /// A marker read from the ring and not yet merged.
    marker: Option<Head>,
    watermark: EventTime,
    idle: bool,
    /// Went idle since the receiver last recomputed its watermark.
    went_idle: bool,
    ended: bool,
    /// Records received (counted per batch, for progress reports).
    received: u64,
}

impl<T> Input<T> {
    /// The head of this input, reading the ring if needed; `None` if it has nothing now.
    /// A message taken from the ring frees a slot: the sender's bell is rung (if parking).
    fn head(&mut self, from: usize, bells: Option<&Bells>) -> Result<Option<Head>, OperatorError> {
        loop {
            if let Some(b) = &self.cur {
                if let Some((t, _)) = b.last() {
                    return Ok(Some(Head::Record(*t)));
                }
                self.cur = None; // drained: the batch goes back to its pool
            }
            if let Some(m) = self.marker {
                return Ok(Some(m));
            }
            let m = self.rx.try_recv();
            if m.is_ok()
                && let Some(b) = bells
            {
                b.ring(self.peer);
            }
            match m {
                Ok(Message::Data(mut b)) => {
                    self.idle = false;
                    self.received += b.len() as u64;
                    b.reverse();
                    self.cur = Some(b);
                }
                Ok(Message::Watermark(w)) => {
                    self.idle = false;
                    self.marker = Some(Head::Watermark(w));
                }
                Ok(Message::Idle) => {
                    self.idle = true;
                    self.went_idle = true;
                }
                Ok(Message::End) => self.marker = Some(Head::End),
                Err(PopError::Empty) => return Ok(None),
                Err(PopError::Disconnected) => {
                    return Err(OperatorError::new(format!(
                        "exchange: worker {from} stopped before ending its stream"
                    )));
                }
            }
        }
    }
}

/// What one merge step produced.
pub(crate) enum Merged<T> {
    /// A record.
    Record(EventTime, T),
    /// The combined watermark advanced.
    Watermark(EventTime),
    /// Every input ended.
    End,
    /// Nothing can be merged until some input has a head.
    Wait,
    /// Every live input is idle (reported once per idle period).
    Idle,
    /// Progress without output (a marker consumed that changed nothing).
    Nothing,
}

/// The receiving side of an exchange on one worker.
pub(crate) struct ExchangeReceiver<T> {
    inputs: Vec<Input<T>>,
    bells: Option<Arc<Bells>>,
    watermark: EventTime,
    ended: bool,
    /// `Merged::Idle` was returned and no item since.
    idle_out: bool,
    /// A run in progress: records of input `.0` are taken without rescanning the other inputs
    /// while their merge key stays below `.1`, the smallest key among the other inputs' heads
    /// (heads that cannot change while this input is read): a pop and a compare per record.
    /// With two inputs a run that ends switches to the other input without a scan
    /// ([`ExchangeReceiver::switch_run`]), so interleaved event times cost the same.
    run: Option<(usize, (EventTime, u8, usize))>,
}

impl<T> ExchangeReceiver<T> {
    /// A receiver merging `rings`, each with the worker that sends on it.
    pub(crate) fn new(rings: Vec<(In<T>, usize)>) -> Self {
        Self {
            bells: None,
            inputs: rings
                .into_iter()
                .map(|(rx, peer)| Input {
                    rx,
                    peer,
                    cur: None,
                    marker: None,
                    watermark: EventTime::MIN,
                    idle: false,
                    went_idle: false,
                    ended: false,
                    received: 0,
                })
                .collect(),
            watermark: EventTime::MIN,
            ended: false,
            idle_out: false,
            run: None,
        }
    }

    /// Records received so far over every input (progress reports).
    pub(crate) fn received(&self) -> u64 {
        self.inputs.iter().map(|i| i.received).sum()
    }

    /// Rings the senders' doorbells when a message is taken (workers park).
    pub(crate) fn set_bells(&mut self, bells: &Arc<Bells>) {
        self.bells = Some(bells.clone());
    }

    /// The next record of the run in progress, if it goes on: the fast path of
    /// [`ExchangeReceiver::next`] (the same record `next` would return), without building a
    /// [`Merged`] value. `None` says: call `next`.
    #[inline(always)]
    pub(crate) fn next_in_run(&mut self) -> Option<(EventTime, T)> {
        let (i, limit) = self.run?;
        let b = self.inputs[i].cur.as_mut()?;
        let &(t, _) = b.last()?;
        if (t, 0, i) < limit {
            return b.pop();
        }
        self.switch_run(i, t, limit)
    }

    /// The run on input `i` (whose head is a record at `t`) ends at `limit`. With two inputs,
    /// `limit` is the other input's head, untouched during the run: if it is a record, that
    /// record is the merge's next pick and `(t, 0, i)` the new run's limit, so the run switches
    /// without a scan (interleaved event times then cost a compare per record, not a scan of
    /// every input). Anything else (more inputs, a marker, an idle input): `None`, the scan.
    #[inline(always)]
    fn switch_run(
        &mut self,
        i: usize,
        t: EventTime,
        limit: (EventTime, u8, usize),
    ) -> Option<(EventTime, T)> {
        let j = limit.2;
        if self.inputs.len() != 2 || limit.1 != 0 || j == i {
            return None;
        }
        let b = self.inputs.get_mut(j)?.cur.as_mut()?;
        let &(tj, _) = b.last()?;
        if tj != limit.0 {
            return None;
        }
        self.run = Some((j, (t, 0, i)));
        b.pop()
    }

    /// Takes the next item of the data-defined merge (see the module docs).
    pub(crate) fn next(&mut self) -> Result<Merged<T>, OperatorError> {
        let r = self.merge()?;
        // An input that went idle leaves the watermark minimum: the watermark may advance now
        // (its windows fire) rather than when data comes again.
        if matches!(r, Merged::Wait | Merged::Idle) && self.inputs.iter().any(|i| i.went_idle) {
            for i in &mut self.inputs {
                i.went_idle = false;
            }
            if let Merged::Watermark(w) = self.advance() {
                // Report the idleness again on the next call.
                self.idle_out = false;
                return Ok(Merged::Watermark(w));
            }
        }
        Ok(r)
    }

    fn merge(&mut self) -> Result<Merged<T>, OperatorError> {
        if self.ended {
            return Ok(Merged::End);
        }
        if let Some((i, limit)) = self.run {
            if let Some(b) = self.inputs[i].cur.as_mut()
                && let Some(&(t, _)) = b.last()
                && (t, 0, i) < limit
            {
                let (t, x) = b.pop().expect("checked above");
                return Ok(Merged::Record(t, x));
            }
            self.run = None;
        }
        let mut best: Option<(Head, usize)> = None;
        let mut second: (EventTime, u8, usize) = (EventTime::MAX, u8::MAX, usize::MAX);
        let mut live = 0;
        for i in 0..self.inputs.len() {
            if self.inputs[i].ended {
                continue;
            }
            live += 1;
            match self.inputs[i].head(i, self.bells.as_deref())? {
                Some(h) => {
                    let (t, kind) = h.key();
                    match best {
                        Some((b, _)) if (t, kind) >= b.key() => {
                            second = second.min((t, kind, i));
                        }
                        Some((b, bi)) => {
                            let (bt, bk) = b.key();
                            second = second.min((bt, bk, bi));
                            best = Some((h, i));
                        }
                        None => best = Some((h, i)),
                    }
                }
                // An idle input's next message may come at any time: no run past it.
                None if self.inputs[i].idle => second = (EventTime::MIN, 0, 0),
                None => return Ok(Merged::Wait),
            }
        }
        let Some((head, i)) = best else {
            return Ok(if live == 0 {
                self.ended = true;
                Merged::End
            } else if !self.idle_out {
                // Every live input is idle: say so downstream, once.
                self.idle_out = true;
                Merged::Idle
            } else {
                Merged::Wait
            });
        };
        self.idle_out = false;
        let input = &mut self.inputs[i];
        match head {
            Head::Record(_) => {
                let b = input.cur.as_mut().expect("a record head has a batch");
                let (t, x) = b.pop().expect("a record head has a record");
                self.run = Some((i, second));
                Ok(Merged::Record(t, x))
            }
            Head::Watermark(w) => {
                input.marker = None;
                input.watermark = input.watermark.max(w);
                Ok(self.advance())
            }
            Head::End => {
                input.marker = None;
                input.ended = true;
                input.watermark = EventTime::MAX;
                if self.inputs.iter().all(|i| i.ended) {
                    self.ended = true;
                    return Ok(Merged::End);
                }
                Ok(self.advance())
            }
        }
    }

    /// Recomputes the combined watermark: the minimum over live, non-idle inputs.
    fn advance(&mut self) -> Merged<T> {
        let min = self
            .inputs
            .iter()
            .filter(|i| !i.ended && !i.idle)
            .map(|i| i.watermark)
            .min();
        match min {
            Some(w) if w > self.watermark => {
                self.watermark = w;
                Merged::Watermark(w)
            }
            _ => Merged::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_is_deterministic_and_spreads() {
        let mut counts = [0usize; 4];
        for k in 0u64..4000 {
            let d = route(&k, 4);
            assert_eq!(d, route(&k, 4));
            counts[d] += 1;
        }
        for c in counts {
            assert!((800..1200).contains(&c), "skewed routing: {counts:?}");
        }
        assert_eq!(route("word", 1), 0);
    }

    #[test]
    fn an_input_going_idle_releases_the_watermark() {
        let (mut t0, r0) = spsc::channel::<Message<u32>>(8).unwrap();
        let (mut t1, r1) = spsc::channel::<Message<u32>>(8).unwrap();
        let mut pool = BatchPool::new(4, 4).unwrap();
        let mut record = |t: EventTime| {
            let mut b = pool.try_take().unwrap();
            b.push((t, 0)).unwrap();
            Message::Data(Chunk::Pooled(b))
        };
        assert!(t0.try_push(Message::Watermark(1000)).is_ok());
        assert!(t1.try_push(Message::Watermark(10)).is_ok());
        assert!(t1.try_push(record(2000)).is_ok());
        assert!(t0.try_push(record(3000)).is_ok());
        let mut rx = ExchangeReceiver::new(vec![(Box::new(r0), 0), (Box::new(r1), 1)]);
        let drain = |rx: &mut ExchangeReceiver<u32>| {
            let mut out = Vec::new();
            loop {
                match rx.next().unwrap() {
                    Merged::Watermark(w) => out.push(format!("wm{w}")),
                    Merged::Record(t, _) => out.push(format!("r{t}")),
                    Merged::Wait => return out,
                    Merged::Nothing | Merged::Idle => {}
                    Merged::End => panic!("no end was sent"),
                }
            }
        };
        // Input 1 (watermark 10) holds the minimum; record 3000 waits for input 1's next head.
        assert_eq!(drain(&mut rx), ["wm10", "r2000"]);
        // Input 1 goes idle: it leaves the minimum, so the watermark rises to input 0's.
        assert!(t1.try_push(Message::Idle).is_ok());
        assert_eq!(drain(&mut rx), ["r3000", "wm1000"]);
    }

    #[test]
    fn merge_order_is_defined_by_the_data() {
        // Two inputs; whatever the batch boundaries, the merged sequence is the same.
        let run = |split: usize| {
            let (mut t0, r0) = spsc::channel::<Message<u32>>(8).unwrap();
            let (mut t1, r1) = spsc::channel::<Message<u32>>(8).unwrap();
            let mut pool = BatchPool::new(8, 8).unwrap();
            let mut send = |tx: &mut spsc::Producer<Message<u32>>, recs: &[(i64, u32)]| {
                for chunk in recs.chunks(split) {
                    let mut b = pool.try_take().unwrap();
                    for r in chunk {
                        b.push(*r).unwrap();
                    }
                    assert!(tx.try_push(Message::Data(Chunk::Pooled(b))).is_ok());
                }
            };
            send(&mut t0, &[(1, 10), (5, 11), (3, 12)]);
            send(&mut t1, &[(2, 20), (4, 21)]);
            assert!(t0.try_push(Message::Watermark(4)).is_ok());
            assert!(t1.try_push(Message::End).is_ok());
            assert!(t0.try_push(Message::End).is_ok());
            let mut rx = ExchangeReceiver::new(vec![(Box::new(r0), 0), (Box::new(r1), 1)]);
            let mut out = Vec::new();
            loop {
                match rx.next().unwrap() {
                    Merged::Record(t, x) => out.push(format!("{t}:{x}")),
                    Merged::Watermark(w) => out.push(format!("wm{w}")),
                    Merged::End => break,
                    Merged::Nothing | Merged::Idle => {}
                    Merged::Wait => panic!("all input is already there"),
                }
            }
            out
        };
        let a = run(1);
        // The watermark 4 of input 0 does not advance the minimum: input 1 has none before it ends.
        assert_eq!(a, ["1:10", "2:20", "4:21", "5:11", "3:12"]);
        assert_eq!(run(2), a);
        assert_eq!(run(3), a);
    }

    /// The receiver as the exchange stage drives it (`next_in_run`, then `next`) against a
    /// reference merge written from the definition (smallest `(time, kind, input)` head
    /// first), on random inputs: 2 and 3 inputs, interleaved and clustered event times, equal
    /// times, random batch boundaries and markers. Covers the two-input run switch.
    #[test]
    fn fast_paths_merge_like_the_definition() {
        #[derive(Clone, Copy)]
        enum Item {
            R(EventTime, u32),
            W(EventTime),
        }
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..300 {
            let n_in = 2 + (case % 2);
            let mut inputs: Vec<Vec<Item>> = Vec::new();
            for i in 0..n_in {
                let mut t = 0i64;
                let mut items = Vec::new();
                for k in 0..(1 + rnd(40)) {
                    t += match case % 3 {
                        0 => 1 + rnd(2) as i64 * n_in as i64, // interleaved
                        1 => rnd(3) as i64,                   // equal times
                        _ => rnd(20) as i64,                  // clustered
                    };
                    items.push(Item::R(t, (i * 1000) as u32 + k as u32));
                    if rnd(6) == 0 {
                        items.push(Item::W(t - rnd(3) as i64));
                    }
                }
                inputs.push(items);
            }
            // Reference.
            let mut want = Vec::new();
            let mut pos = vec![0usize; n_in];
            let mut wms = vec![EventTime::MIN; n_in];
            let mut ended = vec![false; n_in];
            let mut wm = EventTime::MIN;
            while ended.iter().any(|e| !e) {
                let (_, i) = (0..n_in)
                    .filter(|&i| !ended[i])
                    .map(|i| match inputs[i].get(pos[i]) {
                        Some(Item::R(t, _)) => ((*t, 0u8), i),
                        Some(Item::W(w)) => ((*w, 1), i),
                        None => ((EventTime::MAX, 2), i),
                    })
                    .min()
                    .unwrap();
                match inputs[i].get(pos[i]) {
                    Some(Item::R(t, x)) => want.push(format!("{t}:{x}")),
                    Some(Item::W(w)) => wms[i] = wms[i].max(*w),
                    None => {
                        ended[i] = true;
                        wms[i] = EventTime::MAX;
                    }
                }
                pos[i] += 1;
                let min = (0..n_in).filter(|&i| !ended[i]).map(|i| wms[i]).min();
                if let Some(m) = min
                    && m > wm
                    && !matches!(inputs[i].get(pos[i] - 1), Some(Item::R(..)))
                {
                    wm = m;
                    want.push(format!("wm{m}"));
                }
            }
            // The receiver, fed in random batches.
            let mut pool = BatchPool::new(512, 8).unwrap();
            let mut rings = Vec::new();
            for items in &inputs {
                let (mut tx, rx) = spsc::channel::<Message<u32>>(1024).unwrap();
                let mut b: Option<Batch<(EventTime, u32)>> = None;
                let mut cap = 0;
                for it in items {
                    match *it {
                        Item::R(t, x) => {
                            let open = b.get_or_insert_with(|| {
                                cap = 1 + rnd(8) as usize;
                                pool.try_take().unwrap()
                            });
                            open.push((t, x)).unwrap();
                            if open.len() >= cap {
                                let full = b.take().unwrap();
                                assert!(tx.try_push(Message::Data(Chunk::Pooled(full))).is_ok());
                            }
                        }
                        Item::W(w) => {
                            if let Some(open) = b.take() {
                                assert!(tx.try_push(Message::Data(Chunk::Pooled(open))).is_ok());
                            }
                            assert!(tx.try_push(Message::Watermark(w)).is_ok());
                        }
                    }
                }
                if let Some(open) = b.take() {
                    assert!(tx.try_push(Message::Data(Chunk::Pooled(open))).is_ok());
                }
                assert!(tx.try_push(Message::End).is_ok());
                rings.push((Box::new(rx) as In<u32>, rings.len()));
            }
            let mut rx = ExchangeReceiver::new(rings);
            let mut got = Vec::new();
            loop {
                if let Some((t, x)) = rx.next_in_run() {
                    got.push(format!("{t}:{x}"));
                    continue;
                }
                match rx.next().unwrap() {
                    Merged::Record(t, x) => got.push(format!("{t}:{x}")),
                    Merged::Watermark(w) => got.push(format!("wm{w}")),
                    Merged::End => break,
                    Merged::Nothing | Merged::Idle => {}
                    Merged::Wait => panic!("case {case}: all input is already there"),
                }
            }
            assert_eq!(got, want, "case {case}");
        }
    }
}
