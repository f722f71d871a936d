//! Out-of-order structures (FiBA, the subtract-on-evict ring) against the time-ordered map
//! oracle after every operation, under every generator of the test plan.

mod common;

use common::{Rng, TOp, TimeOracle, times, with_window};
use lute_window::ops::{ArgMax, Mat2, Sum, Xor};
use lute_window::{AbelianGroup, CountingOp, Fiba, Lift, Monoid, Rejected, SoeRing};
use proptest::prelude::*;

/// FiBA vs the oracle with a non-commutative operator; invariants checked every
/// `check_every` operations (and at the end).
fn fiba_vs_oracle<M>(op: M, lift: impl Fn(u64) -> M::Agg, ops: &[TOp], check_every: usize)
where
    M: Monoid + Clone,
    M::Agg: PartialEq,
{
    let mut f = Fiba::new(op.clone());
    let mut o = TimeOracle::new();
    for (i, &x) in ops.iter().enumerate() {
        match x {
            TOp::Insert { t, v } => {
                f.insert(t, lift(v));
                o.insert(t, lift(v));
            }
            TOp::Evict { t } => {
                assert_eq!(f.evict_upto(t), o.evict_upto(t), "op {i}");
            }
        }
        assert_eq!(f.len(), o.len(), "op {i}");
        assert_eq!(f.query(), o.query(&op), "op {i}: {x:?}");
        assert_eq!(f.oldest(), o.map.keys().next().map(|k| k.0));
        assert_eq!(f.newest(), o.map.keys().next_back().map(|k| k.0));
        if check_every != 0 && i % check_every == 0 {
            f.check_invariants()
                .unwrap_or_else(|e| panic!("op {i}: {e}"));
        }
    }
    f.check_invariants().unwrap();
}

/// The SoE ring (slot width `g`, `slots` slots) vs the oracle with an abelian group. The
/// oracle skips what the ring rejects; rejections must be exactly the late or too-far-ahead
/// events.
fn soe_vs_oracle<G>(op: G, lift: impl Fn(u64) -> G::Agg, ops: &[TOp], slots: usize, g: u64)
where
    G: AbelianGroup + Clone,
    G::Agg: PartialEq,
{
    let mut w = SoeRing::starting_at(op.clone(), slots, g, i64::MIN / 4);
    let mut o = TimeOracle::new();
    let g = w.granularity() as i64;
    let mut offered = 0;
    for (i, &x) in ops.iter().enumerate() {
        match x {
            TOp::Insert { t, v } => {
                offered += 1;
                match w.insert(t, &lift(v)) {
                    Ok(()) => o.insert(t, lift(v)),
                    Err(Rejected::Late { horizon, .. }) => {
                        assert!(t < horizon, "op {i}: {t} rejected late, horizon {horizon}");
                        assert_eq!(horizon, w.horizon());
                    }
                    Err(Rejected::Ahead { limit, .. }) => {
                        assert!(t >= limit, "op {i}");
                        assert_eq!(limit, w.horizon() + (w.slots() as i64) * g);
                    }
                }
            }
            TOp::Evict { t } => {
                w.evict_upto(t);
                o.evict_upto(t.div_euclid(g) * g);
            }
        }
        assert_eq!(*w.query(), o.query(&op), "op {i}: {x:?}");
    }
    let s = w.stats();
    assert_eq!(s.accepted + s.late + s.ahead, offered);
}

fn all_generators(n: usize, seed: u64) -> Vec<(String, Vec<TOp>)> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    let size = (n as i64 / 4).max(4);
    let mut add = |name: &str, ts: Vec<i64>, jump: usize, rng: &mut Rng| {
        out.push((name.to_owned(), with_window(&ts, size, jump, rng)));
    };
    add("in_order", times::in_order(n), 0, &mut rng);
    add("reversed", times::reversed(n), 0, &mut rng);
    let ts = times::bounded_shuffle(n, 7, &mut rng);
    add("shuffle_7", ts, 0, &mut rng);
    let ts = times::bounded_shuffle(n, n, &mut rng);
    add("shuffle_all", ts, 0, &mut rng);
    add("zigzag", times::zigzag(n), 0, &mut rng);
    let ts = times::heavy_tail(n, n as u64, &mut rng);
    add("heavy_tail", ts, 0, &mut rng);
    let ts = times::duplicates(n, &mut rng);
    add("duplicates", ts, 0, &mut rng);
    add("all_equal", vec![42; n], 0, &mut rng);
    add("boundaries", times::boundaries(n, 64), 0, &mut rng);
    let ts = times::bounded_shuffle(n, 20, &mut rng);
    add("watermark_jumps", ts, 37, &mut rng);
    for d in [0, 1, 16, n / 2, n] {
        out.push((
            format!("fixed_distance_{d}"),
            times::fixed_distance_ops(n, d, size, &mut rng),
        ));
    }
    out
}

#[test]
fn fiba_all_generators() {
    for n in [1, 2, 3, 10, 100, 2000] {
        for (name, ops) in all_generators(n, n as u64) {
            let every = if n <= 100 { 1 } else { 97 };
            eprintln!("{name} n={n}");
            fiba_vs_oracle(Mat2, |v| Mat2.lift(v), &ops, every);
        }
    }
}

#[test]
fn fiba_argmax_keeps_tie_order() {
    let am = ArgMax::<u64, u64>::new();
    for (name, ops) in all_generators(300, 99) {
        eprintln!("{name}");
        fiba_vs_oracle(am, |v| am.lift((v, v % 3)), &ops, 0);
    }
}

#[test]
fn heavy_tail_generator_matches_the_citi_bike_profile() {
    // Mean near 56, 99% at most 9 late, maximum near 1M (swag.md §2).
    let mut rng = Rng(12);
    let draws: Vec<u64> = (0..1_000_000)
        .map(|_| times::lateness(1 << 20, &mut rng))
        .collect();
    let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
    let within9 = draws.iter().filter(|&&d| d <= 9).count() as f64 / draws.len() as f64;
    let max = *draws.iter().max().unwrap();
    assert!((35.0..80.0).contains(&mean), "mean {mean}");
    assert!(within9 >= 0.985, "within 9: {within9}");
    assert!(max > 500_000, "max {max}");
}

#[test]
fn fiba_large_heavy_tail() {
    // Lateness profile of the Citi Bike data: most within 9, rare ones up to the window.
    let mut rng = Rng(5);
    let ts = times::heavy_tail(30_000, 20_000, &mut rng);
    let ops = with_window(&ts, 10_000, 0, &mut rng);
    fiba_vs_oracle(Mat2, |v| Mat2.lift(v), &ops, 5000);
}

#[test]
fn fiba_exhaustive_orderings_of_8() {
    // Every ordering of 8 timestamps (two of them equal), with and without interleaved
    // evictions.
    let base = [0i64, 1, 2, 3, 3, 5, 6, 7];
    let mut perm: Vec<usize> = (0..8).collect();
    let mut count = 0;
    loop {
        for evict in [false, true] {
            let mut ops = Vec::new();
            for (i, &p) in perm.iter().enumerate() {
                ops.push(TOp::Insert {
                    t: base[p],
                    v: p as u64 + 1,
                });
                if evict && i % 3 == 2 {
                    ops.push(TOp::Evict { t: i as i64 / 2 });
                }
            }
            fiba_vs_oracle(Mat2, |v| Mat2.lift(v), &ops, 1);
        }
        count += 1;
        if !next_permutation(&mut perm) {
            break;
        }
    }
    assert_eq!(count, 40_320);
}

fn next_permutation(p: &mut [usize]) -> bool {
    let Some(i) = (1..p.len()).rev().find(|&i| p[i - 1] < p[i]) else {
        return false;
    };
    let j = (i..p.len())
        .rev()
        .find(|&j| p[j] > p[i - 1])
        .expect("exists");
    p.swap(i - 1, j);
    p[i..].reverse();
    true
}

#[test]
fn fiba_bulk_evict_equals_single_evicts() {
    let mut rng = Rng(3);
    let ts = times::bounded_shuffle(5000, 100, &mut rng);
    for k in [0i64, 1, 100, 2500, 5000, 10_000] {
        let mut a = Fiba::new(Mat2);
        let mut b = Fiba::new(Mat2);
        for &t in &ts {
            a.insert(t, Mat2.lift(t as u64));
            b.insert(t, Mat2.lift(t as u64));
        }
        let n = a.evict_upto(k);
        for _ in 0..n {
            b.evict();
        }
        assert_eq!(a.query(), b.query());
        assert_eq!(a.len(), b.len());
        assert_eq!(n as i64, k.min(5000));
        a.check_invariants().unwrap();
    }
}

#[test]
fn fiba_fill_and_drain() {
    let mut f = Fiba::new(Mat2);
    let mut o = TimeOracle::new();
    let mut rng = Rng(11);
    for cycle in 0..6 {
        for _ in 0..(500 * (cycle + 1)) {
            let t = rng.below(10_000) as i64;
            f.insert(t, Mat2.lift(t as u64));
            o.insert(t, Mat2.lift(t as u64));
        }
        f.check_invariants().unwrap();
        assert_eq!(f.query(), o.query(&Mat2));
        while f.len() > 100 * cycle {
            f.evict();
            let k = *o.map.keys().next().unwrap();
            o.map.remove(&k);
        }
        f.check_invariants().unwrap();
        assert_eq!(f.query(), o.query(&Mat2));
    }
    while f.evict() {}
    assert!(f.is_empty());
    assert_eq!(f.query(), Mat2.identity());
}

#[test]
fn fiba_in_order_is_amortized_constant() {
    // Amortized O(1) combines per round in order: counted, not timed.
    let mut f = Fiba::new(CountingOp::new(Sum));
    for t in 0..10_000 {
        f.insert(t, 1);
    }
    f.op().take_combines();
    let rounds = 100_000;
    for t in 10_000..10_000 + rounds {
        f.evict();
        f.insert(t, 1);
        let _ = f.query();
    }
    let per_round = f.op().take_combines() as f64 / rounds as f64;
    assert!(per_round < 20.0, "{per_round} combines per round");
}

#[test]
fn soe_ring_all_generators() {
    for n in [1, 2, 10, 100, 3000] {
        for (name, ops) in all_generators(n, 7 + n as u64) {
            eprintln!("{name} n={n}");
            for (slots, g) in [(4096, 1), (64, 1), (16, 4), (1 << 16, 1)] {
                soe_vs_oracle(Sum, |v| v as i64 * 0x0123_4567_89ab, &ops, slots, g);
                soe_vs_oracle(
                    Xor,
                    |v| v.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    &ops,
                    slots,
                    g,
                );
            }
        }
    }
}

#[test]
fn soe_ring_slot_aliasing_boundaries() {
    // Ring of S = 16 slots of width g = 4: times at S·g − 1, S·g, S·g + 1 past the horizon.
    let mut w = SoeRing::new(Sum, 16, 4);
    let span = 16 * 4;
    assert_eq!(w.insert(0, &1), Ok(()));
    assert_eq!(w.insert(span - 1, &2), Ok(()));
    assert!(matches!(w.insert(span, &4), Err(Rejected::Ahead { .. })));
    assert!(matches!(
        w.insert(span + 1, &8),
        Err(Rejected::Ahead { .. })
    ));
    assert_eq!(*w.query(), 3);
    // Evicting time < 4 frees slot 0; time 64 (slot 16, aliasing slot 0) now fits.
    assert_eq!(w.evict_upto(4), 1);
    assert_eq!(w.insert(span, &4), Ok(()));
    assert!(matches!(
        w.insert(3, &16),
        Err(Rejected::Late { horizon: 4, .. })
    ));
    assert_eq!(*w.query(), 6);
    assert_eq!(w.slot(span), Some(&4));
    assert_eq!(w.slot(0), None);
    let s = w.stats();
    assert_eq!((s.accepted, s.late, s.ahead), (3, 1, 2));
    // A watermark jump past the whole ring resets the total exactly.
    assert_eq!(w.evict_upto(1 << 20), 16);
    assert_eq!(*w.query(), 0);
    assert_eq!(w.horizon(), 1 << 20);
}

#[test]
fn soe_ring_combine_bound_and_bulk_evict() {
    // Worst-case O(1): 2 combines per accepted insert, 0 per rejected one, 1 inverse per
    // evicted slot, none per query, whatever the lateness.
    let mut w = SoeRing::new(CountingOp::new(Sum), 1024, 1);
    let mut rng = Rng(1);
    for t in 0..200_000i64 {
        let late = if rng.below(100) == 0 {
            rng.below(2000)
        } else {
            rng.below(10)
        } as i64;
        let accepted = w.insert(t - late, &1).is_ok();
        assert_eq!(w.op().take_combines(), if accepted { 2 } else { 0 });
        let evicted = w.evict_upto(t - 900);
        assert_eq!(w.op().take_inverses(), evicted as u64);
        assert!(evicted <= 1);
        let _ = w.query();
        assert_eq!(w.op().take_combines(), 0);
    }
    // Bulk evict of many slots equals single-slot evicts.
    let mut a = SoeRing::new(Sum, 256, 1);
    let mut b = SoeRing::new(Sum, 256, 1);
    for t in 0..256 {
        a.insert(t, &(t * 3)).unwrap();
        b.insert(t, &(t * 3)).unwrap();
    }
    a.evict_upto(200);
    for t in 1..=200 {
        b.evict_upto(t);
    }
    assert_eq!(a.query(), b.query());
    assert_eq!(*a.query(), (200..256).map(|t| t * 3).sum::<i64>());
}

#[test]
fn soe_ring_permutations_give_identical_totals() {
    // Metamorphic: any order of the same (t, x) multiset within the lateness bound gives the
    // identical query, and insert-then-evict returns exactly to the identity.
    let mut rng = Rng(17);
    let base: Vec<(i64, i64)> = (0..500).map(|i| (i, rng.next() as i64)).collect();
    let mut want = None;
    for seed in 0..20 {
        let mut r = Rng(seed);
        let mut items = base.clone();
        for i in (1..items.len()).rev() {
            items.swap(i, r.below(i as u64 + 1) as usize);
        }
        let mut w = SoeRing::new(Sum, 512, 1);
        for &(t, x) in &items {
            w.insert(t, &x).unwrap();
        }
        let q = *w.query();
        assert_eq!(*want.get_or_insert(q), q);
        w.evict_upto(500);
        assert_eq!(*w.query(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fiba_random_streams(
        ops in proptest::collection::vec(
            prop_oneof![
                4 => (0i64..300, any::<u16>()).prop_map(|(t, v)| TOp::Insert { t, v: u64::from(v) }),
                1 => (0i64..300).prop_map(|t| TOp::Evict { t }),
            ],
            0..400,
        )
    ) {
        fiba_vs_oracle(Mat2, |v| Mat2.lift(v), &ops, 1);
    }

    #[test]
    fn soe_random_streams(
        ops in proptest::collection::vec(
            prop_oneof![
                4 => (0i64..300, any::<u16>()).prop_map(|(t, v)| TOp::Insert { t, v: u64::from(v) }),
                1 => (0i64..300).prop_map(|t| TOp::Evict { t }),
            ],
            0..400,
        ),
        slots in 1usize..80,
        g in 1u64..9,
    ) {
        soe_vs_oracle(Sum, |v| v as i64, &ops, slots, g);
    }
}
