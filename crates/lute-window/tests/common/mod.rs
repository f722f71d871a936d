//! Shared test support: a deterministic RNG, the naive oracles and the operation generators.
#![allow(dead_code)]

use std::collections::BTreeMap;

use lute_window::Monoid;

/// SplitMix64: small, deterministic, good enough for test streams.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The FIFO oracle: keeps the items and folds them oldest first.
pub fn fold_fifo<M: Monoid>(op: &M, items: &std::collections::VecDeque<M::Agg>) -> M::Agg {
    let mut acc = op.identity();
    for x in items {
        acc = op.combine(&acc, x);
    }
    acc
}

/// The timestamped oracle: a time-ordered map keyed by (time, arrival sequence), so equal
/// times combine in arrival order.
#[derive(Debug, Clone)]
pub struct TimeOracle<A> {
    pub map: BTreeMap<(i64, u64), A>,
    seq: u64,
}

impl<A: Clone> TimeOracle<A> {
    pub fn new() -> Self {
        Self {
            map: BTreeMap::new(),
            seq: 0,
        }
    }
    pub fn insert(&mut self, t: i64, a: A) {
        self.map.insert((t, self.seq), a);
        self.seq += 1;
    }
    /// Removes every item with time `< t`; returns how many.
    pub fn evict_upto(&mut self, t: i64) -> usize {
        let keep = self.map.split_off(&(t, 0));
        let n = self.map.len();
        self.map = keep;
        n
    }
    pub fn query<M: Monoid<Agg = A>>(&self, op: &M) -> A {
        let mut acc = op.identity();
        for a in self.map.values() {
            acc = op.combine(&acc, a);
        }
        acc
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

/// One timestamped operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TOp {
    /// Insert value `v` at time `t`.
    Insert { t: i64, v: u64 },
    /// Evict every item with time `< t` (a watermark / window start).
    Evict { t: i64 },
}

/// Timestamp generators for out-of-order structures. Each returns `n` event times; the
/// eviction policy is added by [`with_window`].
pub mod times {
    use super::Rng;

    pub fn in_order(n: usize) -> Vec<i64> {
        (0..n as i64).collect()
    }

    /// The IBM adversary as operations: `d` items with far-future times first, then `n`
    /// in-order items, each landing exactly `d` items behind the newest; a window of `size`
    /// over the in-order part.
    pub fn fixed_distance_ops(n: usize, d: usize, size: i64, rng: &mut Rng) -> Vec<super::TOp> {
        use super::TOp;
        let mut ops = Vec::new();
        for k in 0..d as i64 {
            ops.push(TOp::Insert {
                t: (1 << 40) + k,
                v: rng.next() % 1000,
            });
        }
        for t in 0..n as i64 {
            if t >= size {
                ops.push(TOp::Evict { t: t - size });
            }
            ops.push(TOp::Insert {
                t,
                v: rng.next() % 1000,
            });
        }
        ops
    }

    pub fn reversed(n: usize) -> Vec<i64> {
        (0..n as i64).rev().collect()
    }

    /// A random permutation of `0..n` where no item moves more than `bound` back.
    pub fn bounded_shuffle(n: usize, bound: usize, rng: &mut Rng) -> Vec<i64> {
        let mut v: Vec<i64> = (0..n as i64).collect();
        let mut i = 0;
        while i < n {
            let end = (i + bound + 1).min(n);
            for j in (i + 1..end).rev() {
                let k = i + rng.below((j - i + 1) as u64) as usize;
                v.swap(j, k);
            }
            i = end;
        }
        v
    }

    /// Alternately the newest and the oldest remaining time.
    pub fn zigzag(n: usize) -> Vec<i64> {
        let (mut lo, mut hi) = (0i64, n as i64 - 1);
        let mut v = Vec::with_capacity(n);
        while lo <= hi {
            v.push(hi);
            hi -= 1;
            if lo <= hi {
                v.push(lo);
                lo += 1;
            }
        }
        v
    }

    /// The Citi Bike lateness profile: 99% of events at most 9 positions late, a mean near 56
    /// (for `max_late` = 1M), rare stragglers up to `max_late`: a Pareto tail with
    /// `x_m = 10` and `alpha = 0.52`, capped.
    pub fn heavy_tail(n: usize, max_late: u64, rng: &mut Rng) -> Vec<i64> {
        (0..n as i64)
            .map(|i| i - lateness(max_late, rng) as i64)
            .collect()
    }

    /// One lateness draw of the [`heavy_tail`] profile.
    pub fn lateness(max_late: u64, rng: &mut Rng) -> u64 {
        if rng.unit() < 0.99 {
            rng.below(10)
        } else {
            let u = (1.0 - rng.unit()).max(1e-300);
            let x = 10.0 / u.powf(1.0 / 0.52);
            (x.min(max_late as f64) as u64).max(10)
        }
    }

    /// Many duplicates: times drawn from a few distinct values, in rough order.
    pub fn duplicates(n: usize, rng: &mut Rng) -> Vec<i64> {
        (0..n as i64)
            .map(|i| i / 16 + rng.below(3) as i64)
            .collect()
    }

    /// Times at, just before and just after multiples of `period` (slot-aliasing boundaries).
    pub fn boundaries(n: usize, period: i64) -> Vec<i64> {
        (0..n as i64)
            .map(|i| {
                let base = (i / 3) * period / 4;
                let b = base - base.rem_euclid(period);
                b + [-1, 0, 1][(i % 3) as usize] + period
            })
            .collect()
    }
}

/// Turns event times into operations with a sliding window of `size` time units: before each
/// insert, evict everything older than `newest - size` (only when the watermark moves), plus
/// a watermark jump every `jump_every` events if non-zero.
pub fn with_window(ts: &[i64], size: i64, jump_every: usize, rng: &mut Rng) -> Vec<TOp> {
    let mut ops = Vec::with_capacity(ts.len() * 2);
    let mut newest = i64::MIN;
    let mut wm = i64::MIN;
    for (i, &t) in ts.iter().enumerate() {
        if t > newest {
            newest = t;
            let w = newest - size;
            if w > wm {
                wm = w;
                ops.push(TOp::Evict { t: wm });
            }
        }
        if jump_every != 0 && i % jump_every == jump_every - 1 {
            wm = wm.saturating_add(size / 2 + 1);
            ops.push(TOp::Evict { t: wm });
        }
        ops.push(TOp::Insert {
            t,
            v: rng.next() % 1000,
        });
    }
    ops
}
