//! The queries, each twice: as a NacreousLute job ([`run`]) and as a single-threaded plain loop
//! ([`reference()`]), the peer every run is checked and timed against.
//!
//! | query | definition (query text of the Flink/RisingWave `nexmark` repository) |
//! |---|---|
//! | Q1 | every bid with its price converted: `price * 89 / 100` (Beam's integer form of `0.908 * price`) |
//! | Q2 | bids with `auction % 123 == 0`, as `(auction, price)` |
//! | Q5 | `HOP(2 s, 10 s)`: bids per auction per window; per window, every auction whose count is the window's maximum (ties kept) |
//!
//! Both forms reduce their output to an [`Outcome`]: the number of rows and an
//! order-independent digest (the sum of a 32-bit hash of each row), so that a job's output,
//! produced in parallel, can be compared with the loop's exactly.

use crate::event::{Bid, Event, Millis};
use lute_runtime::operator::{Emit, Metrics, Operator};
use lute_runtime::{Config, EventTime, JobError, OperatorError, VecSource, WatermarkStrategy, api};
use lute_window::ops::Count;
use lute_window::window::{SlidingSpec, WindowResult};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Q5's window length, ms.
pub const Q5_SIZE: Millis = 10_000;
/// Q5's slide, ms.
pub const Q5_SLIDE: Millis = 2_000;

/// A Nexmark query this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Query {
    /// Currency conversion (stateless map).
    Q1,
    /// Selection (stateless filter).
    Q2,
    /// Hot items (sliding windows, then a global arg-max per window).
    Q5,
}

impl Query {
    /// Every implemented query, in order.
    pub const ALL: [Query; 3] = [Query::Q1, Query::Q2, Query::Q5];
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Query::Q1 => "q1",
            Query::Q2 => "q2",
            Query::Q5 => "q5",
        })
    }
}

/// A query name that is not one of [`Query::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown query {0:?}: expected one of q1, q2, q5")]
pub struct UnknownQuery(pub String);

impl FromStr for Query {
    type Err = UnknownQuery;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "q1" | "1" => Ok(Query::Q1),
            "q2" | "2" => Ok(Query::Q2),
            "q5" | "5" => Ok(Query::Q5),
            _ => Err(UnknownQuery(s.to_owned())),
        }
    }
}

/// What a query produced: the number of rows and an order-independent digest of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Output rows.
    pub rows: u64,
    /// Sum of the rows' 32-bit hashes (no overflow below 2^32 rows).
    pub digest: u64,
}

impl Outcome {
    #[inline(always)]
    fn add(&mut self, row: &[u64]) {
        self.rows += 1;
        self.digest += row_hash(row);
    }
}

/// A 32-bit hash of a row of integers (splitmix64's finaliser over a running combination).
#[inline(always)]
fn row_hash(row: &[u64]) -> u64 {
    let mut h = 0x9E37_79B9_7F4A_7C15_u64;
    for &v in row {
        h = (h ^ v).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h ^= h >> 31;
    }
    h = (h ^ (h >> 30)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (h ^ (h >> 31)) >> 32
}

/// Q1's row for a bid: `(auction, bidder, price * 89 / 100, date_time)`.
#[inline(always)]
fn q1_row(b: &Bid) -> [u64; 4] {
    [b.auction, b.bidder, b.price * 89 / 100, b.date_time as u64]
}

/// Q2's filter.
#[inline(always)]
fn q2_selects(b: &Bid) -> bool {
    b.auction.is_multiple_of(123)
}

/// Runs `query` as a plain single-threaded loop over `events`.
pub fn reference(query: Query, events: &[(Millis, Event)]) -> Outcome {
    let mut out = Outcome::default();
    match query {
        Query::Q1 => {
            for (_, e) in events {
                if let Event::Bid(b) = e {
                    out.add(&q1_row(b));
                }
            }
        }
        Query::Q2 => {
            for (_, e) in events {
                if let Event::Bid(b) = e
                    && q2_selects(b)
                {
                    out.add(&[b.auction, b.price]);
                }
            }
        }
        Query::Q5 => q5_loop(events, &mut out),
    }
    out
}

/// A multiplicative hasher for `u64` auction ids: the loop is the peer, so it should not pay
/// for SipHash.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline(always)]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Q5 as a loop over in-order events: bid counts per auction in 2 s panes; when a bid falls
/// in a later pane, every window ending at or before that pane's start is complete and is
/// finished by merging its five panes.
fn q5_loop(events: &[(Millis, Event)], out: &mut Outcome) {
    type Panes = std::collections::VecDeque<(Millis, IdMap<u64>)>;
    // Panes by start time, oldest first: only those an unfinished window still covers.
    let mut panes: Panes = Default::default();
    let mut merged: IdMap<u64> = IdMap::default();
    // Maps of dropped panes, reused.
    let mut spare: Vec<IdMap<u64>> = Vec::new();
    let mut finish = |panes: &Panes, end: Millis, out: &mut Outcome| {
        merged.clear();
        for (start, counts) in panes {
            if (end - Q5_SIZE..end).contains(start) {
                for (a, c) in counts {
                    *merged.entry(*a).or_insert(0) += c;
                }
            }
        }
        let max = merged.values().copied().max().unwrap_or(0);
        for (a, c) in &merged {
            if *c == max {
                out.add(&[(end - Q5_SIZE) as u64, *a, *c]);
            }
        }
    };
    // The end of the next window to finish (windows end every slide).
    let mut next_end: Option<Millis> = None;
    for (t, e) in events {
        let Event::Bid(b) = e else { continue };
        let pane = t.div_euclid(Q5_SLIDE) * Q5_SLIDE;
        let next = next_end.get_or_insert(pane + Q5_SLIDE);
        while *next <= pane {
            finish(&panes, *next, out);
            *next += Q5_SLIDE;
        }
        let oldest_needed = *next - Q5_SIZE;
        while panes.front().is_some_and(|(s, _)| *s < oldest_needed) {
            let (_, mut old) = panes.pop_front().expect("checked");
            old.clear();
            spare.push(old);
        }
        if panes.back().is_none_or(|(s, _)| *s != pane) {
            panes.push_back((pane, spare.pop().unwrap_or_default()));
        }
        let counts = &mut panes.back_mut().expect("just pushed").1;
        *counts.entry(b.auction).or_insert(0) += 1;
    }
    // End of stream: every window that covers the last pane is finished too.
    if let (Some(mut next), Some((last, _))) = (next_end, panes.back()) {
        let last_end = last + Q5_SIZE;
        while next <= last_end {
            finish(&panes, next, out);
            next += Q5_SLIDE;
        }
    }
}

/// A sink that folds every row into an [`Outcome`] per worker and adds it, when the worker's
/// stream ends, into the job's shared total (results travel through the sink, not through
/// the runtime's metrics).
#[derive(Debug, Clone, Default)]
pub struct DigestSink {
    outcome: Outcome,
    total: std::sync::Arc<std::sync::Mutex<Outcome>>,
}

impl DigestSink {
    /// A sink adding into `total`.
    pub fn new(total: std::sync::Arc<std::sync::Mutex<Outcome>>) -> Self {
        Self {
            outcome: Outcome::default(),
            total,
        }
    }
}

impl<const N: usize> Operator<[u64; N]> for DigestSink {
    type Out = ();

    #[inline(always)]
    fn process<E: Emit<()>>(
        &mut self,
        _ts: EventTime,
        row: [u64; N],
        _out: &mut E,
    ) -> Result<(), OperatorError> {
        self.outcome.add(&row);
        Ok(())
    }

    fn close<E: Emit<()>>(&mut self, _out: &mut E) -> Result<(), OperatorError> {
        let mut t = self
            .total
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.rows += self.outcome.rows;
        t.digest += self.outcome.digest;
        Ok(())
    }
}

/// Q5's arg-max with ties, per window (all its counts carry the window's timestamp): the
/// maximum count and the auctions that reach it, emitted as `[window start, auction, count]`
/// rows when the watermark passes the window. Used twice: on each worker over its own
/// counts, then after an exchange by window over the local maxima.
#[derive(Debug, Clone, Default)]
pub struct MaxTies {
    /// Open windows: (timestamp, start, max count, auctions at the max), in timestamp order.
    open: std::collections::VecDeque<(EventTime, Millis, u64, Vec<u64>)>,
    /// Emptied auction lists, reused for later windows (no allocation in steady state).
    spare: Vec<Vec<u64>>,
}

impl MaxTies {
    fn emit_through<E: Emit<[u64; 3]>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<(), OperatorError> {
        while self.open.front().is_some_and(|w| w.0 <= wm) {
            let (ts, start, max, mut auctions) = self.open.pop_front().expect("checked");
            for a in auctions.drain(..) {
                out.emit(ts, [start as u64, a, max])?;
            }
            self.spare.push(auctions);
        }
        Ok(())
    }
}

impl MaxTies {
    /// Offers `auction`'s `count` in the window `[start, …)` stamped `ts`.
    fn offer(&mut self, ts: EventTime, start: Millis, auction: u64, count: u64) {
        // Windows arrive in timestamp order, so the search from the back is short.
        let i = match self.open.iter().rposition(|w| w.0 <= ts) {
            Some(i) if self.open[i].0 == ts => i,
            found => {
                let at = found.map_or(0, |i| i + 1);
                let list = self.spare.pop().unwrap_or_default();
                self.open.insert(at, (ts, start, 0, list));
                at
            }
        };
        let w = &mut self.open[i];
        if count > w.2 {
            w.2 = count;
            w.3.clear();
        }
        if count == w.2 {
            w.3.push(auction);
        }
    }
}

/// What [`MaxTies`] reads: an auction's count in a window, as `(window start, auction,
/// count)`.
pub trait AuctionCount {
    /// The window's start, the auction and its count.
    fn parts(self) -> (Millis, u64, u64);
}

/// The first step reads the window operator's counts, on the worker that counted them.
impl AuctionCount for (u64, WindowResult<u64>) {
    #[inline]
    fn parts(self) -> (Millis, u64, u64) {
        (self.1.start, self.0, self.1.value)
    }
}

/// The second step, after the exchange by window, reads the local maxima. Each auction is
/// counted on one worker only (the counts are keyed by auction), so the auctions at the global
/// maximum are exactly the local-maximum auctions whose count equals it.
impl AuctionCount for [u64; 3] {
    #[inline]
    fn parts(self) -> (Millis, u64, u64) {
        (self[0] as Millis, self[1], self[2])
    }
}

impl<I: AuctionCount> Operator<I> for MaxTies {
    type Out = [u64; 3];

    #[inline]
    fn process<E: Emit<[u64; 3]>>(
        &mut self,
        ts: EventTime,
        x: I,
        _out: &mut E,
    ) -> Result<(), OperatorError> {
        let (start, auction, count) = x.parts();
        self.offer(ts, start, auction, count);
        Ok(())
    }

    fn on_watermark<E: Emit<[u64; 3]>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        self.emit_through(wm, out)?;
        Ok(Some(wm))
    }

    fn close<E: Emit<[u64; 3]>>(&mut self, out: &mut E) -> Result<(), OperatorError> {
        self.emit_through(EventTime::MAX, out)
    }
}

/// Events per block dealt to the workers' sources (see [`VecSource::blocks`]): ~100 ms of
/// event time at the Beam rate, so the workers' watermarks stay that close.
pub const SOURCE_BLOCK: usize = 1024;

/// Runs `query` over `events` as a NacreousLute job with `config`; the events are dealt to the
/// workers' sources in blocks of [`SOURCE_BLOCK`]; watermarks are exact (the events are in
/// order).
///
/// # Errors
/// The job's error, if it fails.
pub fn run(
    query: Query,
    events: &VecSource<Event>,
    config: &Config,
) -> Result<(Outcome, Metrics), JobError> {
    let marks = WatermarkStrategy {
        delay: 0,
        every: 1024,
    };
    // Blocks of consecutive events per worker: each worker reads its own cache lines.
    let blocks = std::num::NonZeroUsize::new(SOURCE_BLOCK).expect("non-zero");
    let bids =
        api::source("events", events.clone().blocks(blocks), marks).flat_map("bids", Event::bid);
    let total = std::sync::Arc::new(std::sync::Mutex::new(Outcome::default()));
    let sink = || DigestSink::new(total.clone());
    let plan = match query {
        Query::Q1 => bids
            .map("convert", |b: Bid| q1_row(&b))
            .sink("digest", sink()),
        Query::Q2 => bids
            .filter("select", q2_selects)
            .map("project", |b: Bid| [b.auction, b.price])
            .sink("digest", sink()),
        Query::Q5 => bids
            .key_by("by auction", |b: &Bid| b.auction)
            .window(
                "hop count",
                |_: Bid| (),
                &[SlidingSpec::sliding(Q5_SIZE, Q5_SLIDE)],
                Count,
            )?
            // Local maxima first (a few rows per window and worker instead of every count),
            // then the global step on the worker that owns the window.
            .apply("local max ties", MaxTies::default())
            .key_by("by window", |row: &[u64; 3]| row[0])
            .apply("max ties", MaxTies::default())
            .sink("digest", sink()),
    };
    let metrics = plan.run(config)?;
    let outcome = *total
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok((outcome, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::generate;

    /// Q5 from its definition: every (window, auction) count, then each window's maxima.
    fn q5_by_definition(events: &[(Millis, Event)]) -> Outcome {
        let mut counts: HashMap<(Millis, u64), u64> = HashMap::new();
        for (t, e) in events {
            if let Event::Bid(b) = e {
                let mut start = t.div_euclid(Q5_SLIDE) * Q5_SLIDE;
                while start > t - Q5_SIZE {
                    *counts.entry((start, b.auction)).or_insert(0) += 1;
                    start -= Q5_SLIDE;
                }
            }
        }
        let mut max: HashMap<Millis, u64> = HashMap::new();
        for (&(w, _), &c) in &counts {
            let m = max.entry(w).or_insert(0);
            *m = (*m).max(c);
        }
        let mut out = Outcome::default();
        for (&(w, a), &c) in &counts {
            if c == max[&w] {
                out.add(&[w as u64, a, c]);
            }
        }
        out
    }

    #[test]
    fn q5_loop_matches_the_definition() {
        for n in [1, 2, 50, 7_000, 60_000] {
            let ev = generate(n, 2);
            assert_eq!(
                reference(Query::Q5, &ev),
                q5_by_definition(&ev),
                "{n} events"
            );
        }
        // Bids far apart (windows with no bids in between) and ties.
        let bid = |t: Millis, auction| {
            (
                t,
                Event::Bid(Bid {
                    auction,
                    bidder: 1,
                    price: 1,
                    date_time: t,
                }),
            )
        };
        let ev = vec![
            bid(0, 7),
            bid(1, 8),
            bid(1_999, 8),
            bid(2_000, 7),
            bid(50_001, 9),
        ];
        let got = reference(Query::Q5, &ev);
        assert_eq!(got, q5_by_definition(&ev));
        // [-8000, 2000): 8 (2 to 1); [-6000, 4000) … [0, 10000): 7 and 8 tie at 2 (4 windows,
        // 2 rows each); [2000, 12000): 7 alone; 9 alone in its 5 windows.
        assert_eq!(got.rows, 1 + 4 * 2 + 1 + 5);
    }

    #[test]
    fn jobs_match_the_loops_at_one_to_three_workers() {
        let ev = generate(120_000, 2);
        let source = VecSource::new(ev.clone());
        for q in Query::ALL {
            let expected = reference(q, &ev);
            assert!(expected.rows > 0, "{q} produced nothing");
            for workers in 1..=3 {
                let (got, metrics) = run(q, &source, &Config::default().workers(workers)).unwrap();
                assert_eq!(got, expected, "{q} at {workers} workers");
                assert_eq!(metrics.get("events", "records_in"), Some(120_000));
            }
        }
    }

    #[test]
    fn max_ties_keeps_every_auction_at_the_maximum() {
        struct Rows(Vec<(EventTime, [u64; 3])>);
        impl Emit<[u64; 3]> for Rows {
            fn emit(&mut self, ts: EventTime, x: [u64; 3]) -> Result<(), OperatorError> {
                self.0.push((ts, x));
                Ok(())
            }
        }
        let mut op = MaxTies::default();
        let mut emit = Rows(Vec::new());
        let r = |start: Millis, value| WindowResult {
            spec: 0,
            start,
            end: start + Q5_SIZE,
            value,
        };
        for (a, v) in [(1, 3), (2, 5), (3, 5), (4, 1)] {
            op.process(9_999, (a, r(0, v)), &mut emit).unwrap();
        }
        op.process(11_999, (6, r(2_000, 2)), &mut emit).unwrap();
        type First = (u64, WindowResult<u64>);
        assert_eq!(
            <MaxTies as Operator<First>>::on_watermark(&mut op, 9_998, &mut emit).unwrap(),
            Some(9_998)
        );
        assert!(
            emit.0.is_empty(),
            "emitted before the watermark passed the window"
        );
        <MaxTies as Operator<First>>::on_watermark(&mut op, 9_999, &mut emit).unwrap();
        assert_eq!(emit.0, vec![(9_999, [0, 2, 5]), (9_999, [0, 3, 5])]);
        <MaxTies as Operator<First>>::close(&mut op, &mut emit).unwrap();
        assert_eq!(emit.0.len(), 3);
        assert_eq!(emit.0[2], (11_999, [2_000, 6, 2]));

        // The second step over two workers' local maxima: only the global maximum survives,
        // ties across workers included.
        let mut global = MaxTies::default();
        let mut rows = Rows(Vec::new());
        for row in [[0, 2, 5], [0, 3, 5], [0, 7, 4], [0, 9, 5]] {
            global.process(9_999, row, &mut rows).unwrap();
        }
        <MaxTies as Operator<[u64; 3]>>::close(&mut global, &mut rows).unwrap();
        assert_eq!(
            rows.0,
            vec![(9_999, [0, 2, 5]), (9_999, [0, 3, 5]), (9_999, [0, 9, 5])]
        );
    }

    #[test]
    fn query_names_parse_and_bad_ones_are_named() {
        assert_eq!("Q5".parse::<Query>(), Ok(Query::Q5));
        assert_eq!("1".parse::<Query>(), Ok(Query::Q1));
        let e = "q9".parse::<Query>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown query \"q9\": expected one of q1, q2, q5"
        );
        assert_eq!(Query::ALL.map(|q| q.to_string()), ["q1", "q2", "q5"]);
    }
}
