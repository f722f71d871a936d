//! Nexmark Q1, Q2 and Q5 over the loopback links of `lute-runtime`'s tests (every message
//! encoded into a `lute-layout` frame and decoded on the other side) give the digests they
//! give over the default SPSC rings, at 1, 2 and 4 workers.

#[path = "../../lute-runtime/tests/support/loopback.rs"]
mod loopback;

use loopback::Loopback;
use lute_nexmark::event::{Bid, generate};
use lute_nexmark::query::{Query, run};
use lute_runtime::{Config, VecSource};
use std::sync::atomic::Ordering;

#[test]
fn queries_over_encoded_links_give_the_same_digests() {
    let events = VecSource::new(generate(60_000, 2));
    for q in [Query::Q1, Query::Q2, Query::Q5] {
        for w in [1, 2, 4] {
            let config = Config::default().workers(w);
            let (want, _) = run(q, &events, &config).unwrap();
            let lb = Loopback::new().carry::<Bid>().carry::<[u64; 3]>();
            let frames = lb.frames.clone();
            let (got, _) = run(q, &events, &config.links(lb)).unwrap();
            assert_eq!(got, want, "{q:?} at {w} workers");
            assert!(want.rows > 0);
            if q == Query::Q5 && w > 1 {
                assert!(frames.load(Ordering::Relaxed) > 0, "{q:?} at {w}: no frame");
            }
        }
    }
}
