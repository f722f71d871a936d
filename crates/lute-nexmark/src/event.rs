//! Slim Nexmark events and their generation.
//!
//! Events come from the Beam-model generator as ported to Rust by the `nexmark` crate
//! (RisingWave's), with a fixed base time so that a run is reproducible. Their strings (names,
//! URLs, the `extra` padding) are dropped: what remains is a small `Copy` value, as in the
//! reference harness of `../shared/reference/nexmark.md` §6, so the queries measure the
//! engine rather than string handling. Event numbers decide the type (1 person : 3 auctions :
//! 46 bids) and seed each event, so the same `count` always gives the same events.

use nexmark::config::NexmarkConfig;

/// Event time in milliseconds (the generator's `date_time`).
pub type Millis = i64;

/// Base time of every generated run: 2020-01-01T00:00:00Z in ms (a multiple of every window
/// size the queries use, so window boundaries fall on round times).
pub const BASE_TIME: u64 = 1_577_836_800_000;

/// A new user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Person {
    /// Person id (dense, from 1000).
    pub id: u64,
    /// Index of the US state in the generator's list (`az, ca, id, or, wa, wy`).
    pub state: u8,
    /// Event time.
    pub date_time: Millis,
}

/// A new auction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Auction {
    /// Auction id (dense, from 1000).
    pub id: u64,
    /// Initial bid, in cents.
    pub initial_bid: u64,
    /// Reserve price, in cents.
    pub reserve: u64,
    /// Event time.
    pub date_time: Millis,
    /// When the auction closes.
    pub expires: Millis,
    /// Seller's person id.
    pub seller: u64,
    /// Category id (10..15).
    pub category: u64,
}

/// A bid on an auction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Bid {
    /// The auction's id.
    pub auction: u64,
    /// The bidder's person id.
    pub bidder: u64,
    /// Price, in cents.
    pub price: u64,
    /// Event time.
    pub date_time: Millis,
}

/// One Nexmark event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// A new user.
    Person(Person),
    /// A new auction.
    Auction(Auction),
    /// A bid.
    Bid(Bid),
}

impl Event {
    /// The event's time.
    pub fn date_time(&self) -> Millis {
        match self {
            Event::Person(p) => p.date_time,
            Event::Auction(a) => a.date_time,
            Event::Bid(b) => b.date_time,
        }
    }

    /// The bid, if this is one.
    pub fn bid(self) -> Option<Bid> {
        match self {
            Event::Bid(b) => Some(b),
            _ => None,
        }
    }

    fn slim(e: nexmark::event::Event) -> Self {
        // Ids, prices and times fit comfortably in 64 bits; the generator uses usize/u64.
        match e {
            nexmark::event::Event::Person(p) => Event::Person(Person {
                id: p.id as u64,
                state: STATES.iter().position(|s| *s == p.state).unwrap_or(0) as u8,
                date_time: p.date_time as Millis,
            }),
            nexmark::event::Event::Auction(a) => Event::Auction(Auction {
                id: a.id as u64,
                initial_bid: a.initial_bid as u64,
                reserve: a.reserve as u64,
                date_time: a.date_time as Millis,
                expires: a.expires as Millis,
                seller: a.seller as u64,
                category: a.category as u64,
            }),
            nexmark::event::Event::Bid(b) => Event::Bid(Bid {
                auction: b.auction as u64,
                bidder: b.bidder as u64,
                price: b.price as u64,
                date_time: b.date_time as Millis,
            }),
        }
    }
}

/// The generator's US states, in its order (the index is [`Person::state`]).
pub const STATES: [&str; 6] = ["az", "ca", "id", "or", "wa", "wy"];

/// Generates the first `count` events of the Beam model (default rates: 10 000 events per
/// second of event time, in order) on `threads` threads (at least 1), as `(event time, event)`.
/// The result does not depend on `threads`.
pub fn generate(count: usize, threads: usize) -> Vec<(Millis, Event)> {
    let threads = threads.clamp(1, count.max(1));
    let config = || NexmarkConfig {
        base_time: BASE_TIME,
        ..NexmarkConfig::default()
    };
    // Thread `t` generates events t, t + threads, …; they are interleaved back in order.
    let parts: Vec<Vec<Event>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let n = count / threads + usize::from(t < count % threads);
                    nexmark::EventGenerator::new(config())
                        .with_offset(t as u64)
                        .with_step(threads as u64)
                        .take(n)
                        .map(Event::slim)
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator thread panicked"))
            .collect()
    });
    let mut out = Vec::with_capacity(count);
    let mut iters: Vec<_> = parts.into_iter().map(Vec::into_iter).collect();
    for i in 0..count {
        let e = iters[i % threads]
            .next()
            .expect("each part holds its share of the events");
        out.push((e.date_time(), e));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_independent_of_threads() {
        let one = generate(5_000, 1);
        assert_eq!(one, generate(5_000, 1));
        assert_eq!(one, generate(5_000, 3));
        assert_eq!(one.len(), 5_000);
    }

    #[test]
    fn proportions_ids_and_times_follow_the_beam_model() {
        let ev = generate(50_000, 2);
        let (mut p, mut a, mut b) = (0, 0, 0);
        for (t, e) in &ev {
            assert_eq!(*t, e.date_time());
            assert!(*t >= BASE_TIME as Millis);
            match e {
                Event::Person(x) => {
                    assert!(x.id >= 1000);
                    p += 1;
                }
                Event::Auction(x) => {
                    assert!(x.id >= 1000 && (10..15).contains(&x.category));
                    assert!(x.expires > x.date_time);
                    a += 1;
                }
                Event::Bid(x) => {
                    assert!(x.auction >= 1000 && x.price > 0);
                    b += 1;
                }
            }
        }
        // 1 : 3 : 46 of every 50 events.
        assert_eq!((p, a, b), (1_000, 3_000, 46_000));
        // In order, at 10 000 events per second: 50 000 events span ~5 s of event time.
        assert!(ev.windows(2).all(|w| w[0].0 <= w[1].0));
        let span = ev.last().unwrap().0 - ev[0].0;
        assert!((4_900..=5_100).contains(&span), "span {span} ms");
    }
}
