//! The receiving side of an exchange on one worker: the data-defined merge of its inputs and
//! barrier alignment (see the module docs of [`crate::exchange`]).

use super::chunk::{Chunk, Message};
use super::link::{LinkId, LinkReceiver};
use crate::error::{LinkError, OperatorError};
use crate::exec::bell::Bells;
use crate::operator::{CheckpointId, EventTime};
use lute_sync::PopError;
use std::sync::Arc;

/// An input's head. Merge key: records, then watermarks, then end, at equal times; a barrier
/// has no key: it blocks its input until every live input has one at its head (alignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Head {
    Record(EventTime),
    Watermark(EventTime),
    End,
    Barrier(CheckpointId),
}

impl Head {
    fn key(self) -> (EventTime, u8) {
        match self {
            Self::Record(t) => (t, 0),
            Self::Watermark(w) => (w, 1),
            Self::End => (EventTime::MAX, 2),
            Self::Barrier(_) => unreachable!("a barrier head is never compared"),
        }
    }
}

/// One input of a receiver.
struct Input<T> {
    rx: LinkReceiver<T>,
    /// The link (its edge and the worker that sends on it).
    id: LinkId,
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
    /// Batches received.
    batches: u64,
}

impl<T> Input<T> {
    /// The head of this input, reading the ring if needed; `None` if it has nothing now.
    /// A message taken from the ring frees a slot: the sender's bell is rung (if parking).
    fn head(&mut self, bells: Option<&Bells>) -> Result<Option<Head>, OperatorError> {
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
                b.ring(self.id.from.index());
            }
            match m {
                Ok(Message::Data(mut b)) => {
                    self.idle = false;
                    self.received += b.len() as u64;
                    self.batches += 1;
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
                Ok(Message::Barrier(n)) => self.marker = Some(Head::Barrier(n)),
                Ok(Message::End) => self.marker = Some(Head::End),
                Err(PopError::Empty) => return Ok(None),
                Err(PopError::Disconnected) => {
                    return Err(LinkError::Truncated {
                        edge: self.id.edge,
                        peer: self.id.from,
                    }
                    .into());
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
    /// Every live input delivered checkpoint barrier `n` (aligned): it passes here, after
    /// every record any input sent before its barrier and before any record sent after.
    Barrier(CheckpointId),
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
    pub(crate) fn new(links: Vec<(LinkId, LinkReceiver<T>)>) -> Self {
        Self {
            bells: None,
            inputs: links
                .into_iter()
                .map(|(id, rx)| Input {
                    rx,
                    id,
                    cur: None,
                    marker: None,
                    watermark: EventTime::MIN,
                    idle: false,
                    went_idle: false,
                    ended: false,
                    received: 0,
                    batches: 0,
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

    /// Batches received so far over every input.
    pub(crate) fn received_batches(&self) -> u64 {
        self.inputs.iter().map(|i| i.batches).sum()
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
        // Inputs blocked at a barrier (alignment), and the barrier.
        let mut aligned = 0;
        let mut barrier = None;
        let mut missing = false;
        for i in 0..self.inputs.len() {
            if self.inputs[i].ended {
                continue;
            }
            live += 1;
            match self.inputs[i].head(self.bells.as_deref())? {
                // Blocked until every live input has its barrier: not a candidate, and no limit
                // on another input's run (nothing of this input can come before that barrier).
                Some(Head::Barrier(n)) => {
                    aligned += 1;
                    barrier = Some(n);
                }
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
                None if self.inputs[i].idle => {
                    second = (EventTime::MIN, 0, 0);
                    missing = true;
                }
                None => return Ok(Merged::Wait),
            }
        }
        if aligned > 0 && best.is_none() {
            if aligned < live || missing {
                // Some input (an idle one) has not delivered the barrier yet.
                return Ok(Merged::Wait);
            }
            let n = barrier.expect("an aligned input has a barrier");
            for input in &mut self.inputs {
                if !input.ended {
                    debug_assert_eq!(input.marker, Some(Head::Barrier(n)), "barriers out of step");
                    input.marker = None;
                }
            }
            self.idle_out = false;
            return Ok(Merged::Barrier(n));
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
            Head::Barrier(_) => unreachable!("a barrier head is never the best"),
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
    use lute_core::{EdgeId, WorkerId};
    use lute_sync::{Batch, BatchPool, spsc};

    fn lid(from: u32) -> LinkId {
        LinkId {
            edge: EdgeId(0),
            from: WorkerId(from),
            to: WorkerId(0),
        }
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
        let mut rx = ExchangeReceiver::new(vec![(lid(0), Box::new(r0)), (lid(1), Box::new(r1))]);
        let drain = |rx: &mut ExchangeReceiver<u32>| {
            let mut out = Vec::new();
            loop {
                match rx.next().unwrap() {
                    Merged::Watermark(w) => out.push(format!("wm{w}")),
                    Merged::Record(t, _) => out.push(format!("r{t}")),
                    Merged::Wait => return out,
                    Merged::Nothing | Merged::Idle => {}
                    Merged::Barrier(_) => panic!("no barrier was sent"),
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
            let mut rx =
                ExchangeReceiver::new(vec![(lid(0), Box::new(r0)), (lid(1), Box::new(r1))]);
            let mut out = Vec::new();
            loop {
                match rx.next().unwrap() {
                    Merged::Record(t, x) => out.push(format!("{t}:{x}")),
                    Merged::Watermark(w) => out.push(format!("wm{w}")),
                    Merged::End => break,
                    Merged::Nothing | Merged::Idle => {}
                    Merged::Barrier(_) => panic!("no barrier was sent"),
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
                rings.push((lid(rings.len() as u32), Box::new(rx) as LinkReceiver<u32>));
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
                    Merged::Barrier(_) => panic!("case {case}: no barrier was sent"),
                    Merged::Wait => panic!("case {case}: all input is already there"),
                }
            }
            assert_eq!(got, want, "case {case}");
        }
    }
}
