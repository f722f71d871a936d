//! Operator laws for every shipped operator: identity, associativity, commutativity where
//! claimed, inverse for groups; and non-commutativity of the canaries.

use std::fmt::Debug;

use lute_window::ops::{
    ArgMax, Bloom, Count, FastGeoMean, First, FloatSum, GeoMean, Last, Mat2, Max, Mean, Min, Sum,
    Xor,
};
use lute_window::{AbelianGroup, Lift, Lower, Monoid};
use proptest::prelude::*;

fn monoid_laws<M: Monoid>(op: &M, a: &M::Agg, b: &M::Agg, c: &M::Agg)
where
    M::Agg: PartialEq + Debug,
{
    let e = op.identity();
    assert_eq!(op.combine(&e, a), *a);
    assert_eq!(op.combine(a, &e), *a);
    assert_eq!(
        op.combine(&op.combine(a, b), c),
        op.combine(a, &op.combine(b, c))
    );
    // In-place variants agree with combine.
    let mut x = a.clone();
    op.combine_assign(&mut x, b);
    assert_eq!(x, op.combine(a, b));
    let mut y = b.clone();
    op.prepend_assign(a, &mut y);
    assert_eq!(y, op.combine(a, b));
}

fn commutative<M: Monoid>(op: &M, a: &M::Agg, b: &M::Agg)
where
    M::Agg: PartialEq + Debug,
{
    assert_eq!(op.combine(a, b), op.combine(b, a));
}

fn group_laws<G: AbelianGroup>(op: &G, a: &G::Agg, b: &G::Agg)
where
    G::Agg: PartialEq + Debug,
{
    commutative(op, a, b);
    assert_eq!(op.combine(a, &op.inverse(a)), op.identity());
    let mut x = op.combine(a, b);
    op.uncombine_assign(&mut x, b);
    assert_eq!(x, *a);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn exact_groups(a: i64, b: i64, c: i64) {
        monoid_laws(&Sum, &a, &b, &c);
        group_laws(&Sum, &a, &b);
        let (x, y, z) = (a as u64, b as u64, c as u64);
        monoid_laws(&Xor, &x, &y, &z);
        group_laws(&Xor, &x, &y);
        monoid_laws(&Count, &x, &y, &z);
        group_laws(&Count, &x, &y);
    }

    #[test]
    fn selective_monoids(a: i64, b: i64, c: i64) {
        let (mx, mn) = (Max::<i64>::new(), Min::<i64>::new());
        monoid_laws(&mx, &a, &b, &c);
        commutative(&mx, &a, &b);
        monoid_laws(&mn, &a, &b, &c);
        commutative(&mn, &a, &b);
        let am = ArgMax::<u32, i64>::new();
        let (la, lb, lc) = (am.lift((1, a % 3)), am.lift((2, b % 3)), am.lift((3, c % 3)));
        monoid_laws(&am, &la, &lb, &lc);
    }

    #[test]
    fn bloom(xs in proptest::collection::vec(any::<u64>(), 0..20), ys in proptest::collection::vec(any::<u64>(), 0..20), z: u64) {
        let b = Bloom::<64>;
        let fold = |v: &[u64]| v.iter().fold(b.identity(), |acc, &x| b.combine(&acc, &b.lift(x)));
        let (x, y, zz) = (fold(&xs), fold(&ys), b.lift(z));
        monoid_laws(&b, &x, &y, &zz);
        commutative(&b, &x, &y);
        let u = b.combine(&x, &y);
        prop_assert!(xs.iter().chain(&ys).all(|&v| b.contains(&u, v)));
        let big = Bloom::<256>;
        monoid_laws(&big, &big.lift(z), &big.lift(z ^ 1), &big.lift(z ^ 2));
    }

    #[test]
    fn canaries(a: u64, b: u64, c: u64) {
        monoid_laws(&Mat2, &Mat2.lift(a), &Mat2.lift(b), &Mat2.lift(c));
        let (f, l) = (First::<u64>::new(), Last::<u64>::new());
        monoid_laws(&f, &f.lift(a), &f.lift(b), &f.lift(c));
        monoid_laws(&l, &l.lift(a), &l.lift(b), &l.lift(c));
        if a != b {
            prop_assert_ne!(f.combine(&f.lift(a), &f.lift(b)), f.combine(&f.lift(b), &f.lift(a)));
        }
    }

    #[test]
    fn float_groups_within_rounding(a in -1e12f64..1e12, b in -1e12f64..1e12, c in -1e12f64..1e12) {
        // Compensated partials are exact for sums of up to a few values (error-free TwoSum).
        let s = FloatSum;
        let (x, y, z) = (s.lift(a), s.lift(b), s.lift(c));
        let l = s.combine(&s.combine(&x, &y), &z).value();
        let r = s.combine(&x, &s.combine(&y, &z)).value();
        prop_assert!((l - r).abs() <= 1e-300f64.max(f64::EPSILON * (a.abs() + b.abs() + c.abs())));
        prop_assert_eq!(s.combine(&x, &y).value(), s.combine(&y, &x).value());
        let mut t = s.combine(&x, &y);
        s.uncombine_assign(&mut t, &y);
        prop_assert_eq!(t.value(), a);
        let m = Mean;
        let mm = m.combine(&m.lift(a), &m.lift(b));
        let want = (a + b) / 2.0;
        prop_assert!((m.lower(&mm).unwrap() - want).abs() <= 1e-3 * want.abs().max(1.0));
        prop_assert_eq!(m.lower(&m.identity()), None);
    }
}

#[test]
fn geomean_of_powers() {
    let g = GeoMean;
    let acc = [1.0, 2.0, 4.0, 8.0]
        .iter()
        .fold(g.identity(), |a, &x| g.combine(&a, &g.lift(x)));
    assert!((g.lower(&acc).unwrap() - 8f64.sqrt()).abs() < 1e-12);
    let mut back = acc;
    g.uncombine_assign(&mut back, &g.lift(8.0));
    assert!((g.lower(&back).unwrap() - 2.0).abs() < 1e-12);
}

#[test]
fn fast_geomean_agrees_with_geomean() {
    let (f, g) = (FastGeoMean, GeoMean);
    let xs = [1.0, 2.0, 4.0, 8.0, 3.5, 0.25];
    let fast = xs
        .iter()
        .fold(f.identity(), |a, &x| f.combine(&a, &f.lift(x)));
    let exact = xs
        .iter()
        .fold(g.identity(), |a, &x| g.combine(&a, &g.lift(x)));
    let (a, b) = (f.lower(&fast).unwrap(), g.lower(&exact).unwrap());
    assert!((a - b).abs() <= 1e-12 * b, "{a} vs {b}");
    // Associative up to rounding, and the identity is neutral.
    let (x, y, z) = (f.lift(3.0), f.lift(5.0), f.lift(7.0));
    let l = f.combine(&f.combine(&x, &y), &z);
    let r = f.combine(&x, &f.combine(&y, &z));
    assert!((l.0 - r.0).abs() <= 4.0 * f64::EPSILON * l.0.abs() && l.1 == r.1);
    assert_eq!(f.combine(&f.identity(), &x), x);
    assert_eq!(f.lower(&f.identity()), None);
}

#[test]
fn mat2_detects_any_swap() {
    let xs: Vec<_> = (1..=6u64).map(|x| Mat2.lift(x * 7919)).collect();
    let fold = |v: &[_]| v.iter().fold(Mat2.identity(), |a, x| Mat2.combine(&a, x));
    let want = fold(&xs);
    for i in 0..xs.len() - 1 {
        let mut ys = xs.clone();
        ys.swap(i, i + 1);
        assert_ne!(fold(&ys), want, "swap {i}");
    }
}
