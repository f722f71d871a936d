//! Example jobs shared by the runnable examples (`cargo run --example …`) and the tests
//! (`tests/examples.rs` includes this file), with the generated input they run on.
#![allow(dead_code)]

use lute_runtime::api::{self, Collect};
use lute_runtime::operator::window::Windowed;
use lute_runtime::{Emit, EventTime, Operator, OperatorError, VecSource, WatermarkStrategy};
use lute_window::ops::{Count, Sum};
use lute_window::window::{SlidingSpec, WindowResult};
use std::collections::BTreeMap;

/// Bounded out-of-orderness of the generated streams, and the watermark cadence.
pub const DELAY: EventTime = 50;
/// Records between watermarks.
pub const EVERY: usize = 16;

/// A keyed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// The key.
    pub key: u32,
    /// The value.
    pub value: i64,
    /// Generated as a straggler far behind the watermark (the reference drops it).
    pub late: bool,
}

/// `n` events over `keys` keys, about 1 time unit apart, out of order by up to `DELAY`, with
/// stragglers 5000 units late every 97th event after a warm-up (so they are late whatever the
/// number of workers: see the crate docs of `lute-runtime::exchange`).
pub fn events(n: u64, keys: u32, seed: u64) -> Vec<(EventTime, Event)> {
    let mut s = seed | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|i| {
            let r = rnd();
            let base = i as i64;
            let late = i > 2_000 && i % 97 == 0;
            let ts = if late {
                base - 5_000
            } else {
                base - (r % DELAY as u64) as i64
            };
            let key = (rnd() % u64::from(keys)) as u32;
            (
                ts,
                Event {
                    key,
                    value: (r % 1000) as i64 - 300,
                    late,
                },
            )
        })
        .collect()
}

/// Lines of words with event times, out of order and with stragglers like [`events`].
pub fn lines(n: u64, seed: u64) -> Vec<(EventTime, String)> {
    const WORDS: [&str; 12] = [
        "lute",
        "nacre",
        "stream",
        "window",
        "watermark",
        "ring",
        "batch",
        "key",
        "time",
        "event",
        "sum",
        "count",
    ];
    events(n, 12, seed)
        .into_iter()
        .map(|(ts, e)| {
            let k = e.key as usize;
            let line = format!("{} {} {}", WORDS[k], WORDS[(k * 7 + 3) % 12], WORDS[k]);
            (ts, line)
        })
        .collect()
}

fn wm() -> WatermarkStrategy {
    WatermarkStrategy {
        delay: DELAY,
        every: EVERY,
    }
}

/// Word count per tumbling window: `(word, window start, count)`.
pub fn wordcount(input: Vec<(EventTime, String)>, size: i64) -> Collect<(String, i64, u64)> {
    api::source("lines", VecSource::new(input), wm())
        .flat_map("split", |line: String| {
            line.split(' ').map(str::to_owned).collect::<Vec<_>>()
        })
        .key_by("by word", |w: &String| w.clone())
        .window(
            "count",
            |_w: String| (),
            &[SlidingSpec::tumbling(size)],
            Count,
        )
        .expect("valid window")
        .map("format", |(w, r): (String, WindowResult<u64>)| {
            (w, r.start, r.value)
        })
        .collect()
}

/// Keyed tumbling-window sum: `(key, window start, sum)`.
pub fn window_sum(input: Vec<(EventTime, Event)>, size: i64) -> Collect<(u32, i64, i64)> {
    window_sum_allowing(input, size, 0)
}

/// Keyed tumbling-window sum with an allowed lateness: `(key, window start, sum)`.
pub fn window_sum_allowing(
    input: Vec<(EventTime, Event)>,
    size: i64,
    lateness: EventTime,
) -> Collect<(u32, i64, i64)> {
    api::source("events", VecSource::new(input), wm())
        .key_by("by key", |e: &Event| e.key)
        .window(
            "sum",
            |e: Event| e.value,
            &[SlidingSpec::tumbling(size)],
            Sum,
        )
        .expect("valid window")
        .allowed_lateness(lateness)
        .expect("valid lateness")
        .map("format", |(k, r): (u32, WindowResult<i64>)| {
            (k, r.start, r.value)
        })
        .collect()
}

/// Keyed session sums (inactivity gap `gap`): `(key, session start, session end, sum)`.
pub fn session_sum(input: Vec<(EventTime, Event)>, gap: i64) -> Collect<(u32, i64, i64, i64)> {
    api::source("events", VecSource::new(input), wm())
        .key_by("by key", |e: &Event| e.key)
        .session_window("sessions", |e: Event| e.value, gap, Sum)
        .expect("valid gap")
        .map("format", |(k, r): (u32, WindowResult<i64>)| {
            (k, r.start, r.end, r.value)
        })
        .collect()
}

/// Per window end, the `k` largest `(sum, key)` among this worker's keys; emitted when the
/// watermark passes the window's end. The global top k is the top k of the workers' lists.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    open: BTreeMap<i64, Vec<(i64, u32)>>,
}

impl TopK {
    /// Keeps the `k` largest per window.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            open: BTreeMap::new(),
        }
    }
}

impl Operator<(u32, WindowResult<i64>)> for TopK {
    type Out = (i64, i64, u32);

    fn process<E: Emit<Self::Out>>(
        &mut self,
        _ts: EventTime,
        (key, r): (u32, WindowResult<i64>),
        _out: &mut E,
    ) -> Result<(), OperatorError> {
        let top = self.open.entry(r.end).or_default();
        top.push((r.value, key));
        top.sort_by(|a, b| b.cmp(a));
        top.truncate(self.k);
        Ok(())
    }

    fn on_watermark<E: Emit<Self::Out>>(
        &mut self,
        wm: EventTime,
        out: &mut E,
    ) -> Result<Option<EventTime>, OperatorError> {
        while let Some(entry) = self.open.first_entry() {
            let end = *entry.key();
            if end > wm {
                break;
            }
            for (sum, key) in entry.remove() {
                out.emit(end - 1, (end, sum, key))?;
            }
        }
        Ok(Some(wm))
    }
}

/// Sliding-window (size, slide) sums per key, then the top `k` keys per window:
/// `(window end, sum, key)` candidates per worker (see [`TopK`], [`global_top_k`]).
pub fn sliding_topk(
    input: Vec<(EventTime, Event)>,
    size: i64,
    slide: i64,
    k: usize,
) -> Collect<(i64, i64, u32)> {
    api::source("events", VecSource::new(input), wm())
        .key_by("by key", |e: &Event| e.key)
        .window(
            "sliding sum",
            |e: Event| e.value,
            &[SlidingSpec::sliding(size, slide)],
            Sum,
        )
        .expect("valid window")
        // A second exchange: every key's result for one window meets on one worker, so each
        // worker emits the exact top k of the windows it owns.
        .key_by("by window", |(_, r): &(u32, WindowResult<i64>)| r.end)
        .apply("top k", TopK::new(k))
        .collect()
}

/// The global top `k` per window end from the workers' candidates: `(end, [(sum, key)])`.
pub fn global_top_k(
    cands: &[(EventTime, (i64, i64, u32))],
    k: usize,
) -> Vec<(i64, Vec<(i64, u32)>)> {
    let mut by_end: BTreeMap<i64, Vec<(i64, u32)>> = BTreeMap::new();
    for (_, (end, sum, key)) in cands {
        by_end.entry(*end).or_default().push((*sum, *key));
    }
    by_end
        .into_iter()
        .map(|(end, mut v)| {
            v.sort_by(|a, b| b.cmp(a));
            v.truncate(k);
            (end, v)
        })
        .collect()
}

/// An order (left side of [`orders_payments`]).
pub type Order = Event;
/// A payment (right side of [`orders_payments`]).
pub type Payment = Event;

/// Windowed join: per customer key and tumbling window of `size`, every (order, payment) pair:
/// `(key, order value, payment value)`, emitted at the window's end.
pub fn orders_payments(
    orders: Vec<(EventTime, Order)>,
    payments: Vec<(EventTime, Payment)>,
    size: i64,
) -> Collect<(u32, i64, i64)> {
    let payments = api::source("payments", VecSource::new(payments), wm());
    api::source("orders", VecSource::new(orders), wm())
        .filter("big orders", |o: &Order| o.value > 0)
        .window_join(
            "orders x payments",
            payments,
            |o: &Order| o.key,
            |p: &Payment| p.key,
            SlidingSpec::tumbling(size),
            |k: &u32, o: &Order, p: &Payment| (*k, o.value, p.value),
        )
        .expect("valid window")
        .collect()
}

/// Union of two event streams, then a keyed tumbling-window sum: `(key, window start, sum)`.
pub fn union_sum(
    a: Vec<(EventTime, Event)>,
    b: Vec<(EventTime, Event)>,
    size: i64,
) -> Collect<(u32, i64, i64)> {
    let b = api::source("b", VecSource::new(b), wm());
    api::source("a", VecSource::new(a), wm())
        .union("a + b", b)
        .key_by("by key", |e: &Event| e.key)
        .window(
            "sum",
            |e: Event| e.value,
            &[SlidingSpec::tumbling(size)],
            Sum,
        )
        .expect("valid window")
        .map("format", |(k, r): (u32, WindowResult<i64>)| {
            (k, r.start, r.value)
        })
        .collect()
}

/// A window sum `(key, window start, sum)` or a late event `(key, value)`.
pub type WindowOrLate = Result<(u32, i64, i64), (u32, i64)>;

/// Keyed tumbling-window sum whose late events come out as a side output:
/// `Ok((key, window start, sum))` or `Err(late event)`.
pub fn window_sum_with_late(input: Vec<(EventTime, Event)>, size: i64) -> Collect<WindowOrLate> {
    api::source("events", VecSource::new(input), wm())
        .key_by("by key", |e: &Event| e.key)
        .window_with_late(
            "sum",
            |e: Event| e.value,
            &[SlidingSpec::tumbling(size)],
            Sum,
        )
        .expect("valid window")
        .map("split", |w: Windowed<u32, i64, Event>| match w {
            Windowed::Window(k, r) => Ok((k, r.start, r.value)),
            Windowed::Late(e) => Err((e.key, e.value)),
        })
        .collect()
}
