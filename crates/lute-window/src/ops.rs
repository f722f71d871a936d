//! Built-in aggregations.
//!
//! | operator | class | partial | notes |
//! |---|---|---|---|
//! | [`Count`] | abelian group | `u64` (wrapping) | |
//! | [`Sum`] | abelian group | `i64` (wrapping) | exact: wrapping is a group |
//! | [`Xor`] | abelian group | `u64` | self-inverse |
//! | [`FloatSum`] | abelian group (up to rounding) | [`Compensated`] | bounded drift, see below |
//! | [`Mean`] | abelian group (up to rounding) | [`MeanAgg`] | compensated sum and count |
//! | [`GeoMean`] | abelian group (up to rounding) | [`MeanAgg`] of logarithms | |
//! | [`FastGeoMean`] | commutative monoid | `(f64, u64)` | plain sum of logarithms, as the IBM reference; for combine-only structures |
//! | [`Min`], [`Max`] | commutative monoid | `T` | not invertible: rejected by subtract-on-evict |
//! | [`ArgMax`] | monoid, **not** commutative | [`ArgMaxAgg`] | keeps ties: their count, the oldest and the newest key |
//! | [`Bloom`] | commutative monoid | [`BloomBits`] | mergeable Bloom filter, 4096 bits and 4 hashes by default |
//! | [`First`], [`Last`] | monoid, **not** commutative | `Option<T>` | |
//! | [`Mat2`] | monoid, **not** commutative | [`Mat2Agg`] | 2×2 matrix product mod 1e9+7: the ordering canary |
//!
//! # Float drift
//!
//! Subtract-on-evict adds and subtracts the same values for ever, so a naive `f64` total
//! drifts: `(T + x) − x ≠ T`. [`Compensated`] keeps an unevaluated pair `hi + lo` and combines
//! with Knuth's error-free TwoSum, so the only rounding happens in the small `lo` term (and
//! `lo` is renormalised to at most half an ulp of `hi` after every operation). With unit
//! roundoff `u = 2^-53`, after `k` operations on partials whose magnitudes stay below `M`,
//!
//! ```text
//! |value() − exact| ≤ u·|exact| + 8·k·u²·M
//! ```
//!
//! (the first term is the final rounding of `hi + lo`). For `M = 1e20` and `k = 1e7` the drift
//! term is below `1e-4`, against `1e4` for a naive sum. `tests/float_drift.rs` checks the bound
//! after 10^6 slides with 1e16-sized values mixed with 1.0.

use crate::monoid::{AbelianGroup, Lift, Lower, Monoid};

// ---------------------------------------------------------------------------------------------
// Exact groups.

/// Counts items. Partial: `u64`, wrapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count;

impl Monoid for Count {
    type Agg = u64;
    #[inline]
    fn identity(&self) -> u64 {
        0
    }
    #[inline]
    fn combine(&self, older: &u64, newer: &u64) -> u64 {
        older.wrapping_add(*newer)
    }
    #[inline]
    fn combine_assign(&self, acc: &mut u64, newer: &u64) {
        *acc = acc.wrapping_add(*newer);
    }
}

impl AbelianGroup for Count {
    #[inline]
    fn inverse(&self, a: &u64) -> u64 {
        a.wrapping_neg()
    }
    #[inline]
    fn uncombine_assign(&self, acc: &mut u64, x: &u64) {
        *acc = acc.wrapping_sub(*x);
    }
}

impl<T> Lift<T> for Count {
    #[inline]
    fn lift(&self, _: T) -> u64 {
        1
    }
}

/// Integer sum with wrapping arithmetic (a group, so eviction by subtraction is exact even
/// across overflow).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum;

impl Monoid for Sum {
    type Agg = i64;
    #[inline]
    fn identity(&self) -> i64 {
        0
    }
    #[inline]
    fn combine(&self, older: &i64, newer: &i64) -> i64 {
        older.wrapping_add(*newer)
    }
    #[inline]
    fn combine_assign(&self, acc: &mut i64, newer: &i64) {
        *acc = acc.wrapping_add(*newer);
    }
    #[inline]
    fn prepend_assign(&self, older: &i64, acc: &mut i64) {
        *acc = older.wrapping_add(*acc);
    }
}

impl AbelianGroup for Sum {
    #[inline]
    fn inverse(&self, a: &i64) -> i64 {
        a.wrapping_neg()
    }
    #[inline]
    fn uncombine_assign(&self, acc: &mut i64, x: &i64) {
        *acc = acc.wrapping_sub(*x);
    }
}

impl Lift<i64> for Sum {
    #[inline]
    fn lift(&self, x: i64) -> i64 {
        x
    }
}

impl Lower for Sum {
    type Out = i64;
    #[inline]
    fn lower(&self, a: &i64) -> i64 {
        *a
    }
}

/// Bitwise exclusive or: every element is its own inverse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Xor;

impl Monoid for Xor {
    type Agg = u64;
    #[inline]
    fn identity(&self) -> u64 {
        0
    }
    #[inline]
    fn combine(&self, older: &u64, newer: &u64) -> u64 {
        older ^ newer
    }
}

impl AbelianGroup for Xor {
    #[inline]
    fn inverse(&self, a: &u64) -> u64 {
        *a
    }
}

impl Lift<u64> for Xor {
    #[inline]
    fn lift(&self, x: u64) -> u64 {
        x
    }
}

// ---------------------------------------------------------------------------------------------
// Floats.

/// A compensated `f64`: the unevaluated sum `hi + lo`, with `|lo| <= ulp(hi) / 2`.
///
/// See the [module docs](self#float-drift) for the drift bound.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Compensated {
    /// The leading part.
    pub hi: f64,
    /// The rounding error of `hi` (exactly representable correction).
    pub lo: f64,
}

impl Compensated {
    /// The pair for one value.
    #[inline]
    pub fn new(x: f64) -> Self {
        Self { hi: x, lo: 0.0 }
    }

    /// The best `f64` approximation, `hi + lo`.
    #[inline]
    pub fn value(&self) -> f64 {
        self.hi + self.lo
    }

    #[inline]
    fn add(&self, other: &Self) -> Self {
        let (s, e) = two_sum(self.hi, other.hi);
        let lo = self.lo + other.lo + e;
        let (hi, lo) = two_sum(s, lo);
        Self { hi, lo }
    }

    #[inline]
    fn neg(&self) -> Self {
        Self {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

/// Knuth's TwoSum: `s + e == a + b` exactly (barring overflow).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// `f64` sum with bounded drift (compensated; see the [module docs](self#float-drift)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FloatSum;

impl Monoid for FloatSum {
    type Agg = Compensated;
    #[inline]
    fn identity(&self) -> Compensated {
        Compensated::default()
    }
    #[inline]
    fn combine(&self, older: &Compensated, newer: &Compensated) -> Compensated {
        older.add(newer)
    }
}

impl AbelianGroup for FloatSum {
    #[inline]
    fn inverse(&self, a: &Compensated) -> Compensated {
        a.neg()
    }
}

impl Lift<f64> for FloatSum {
    #[inline]
    fn lift(&self, x: f64) -> Compensated {
        Compensated::new(x)
    }
}

impl Lower for FloatSum {
    type Out = f64;
    #[inline]
    fn lower(&self, a: &Compensated) -> f64 {
        a.value()
    }
}

/// Partial of [`Mean`] and [`GeoMean`]: a compensated sum and a count.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanAgg {
    /// Sum of the values (of their logarithms for [`GeoMean`]).
    pub sum: Compensated,
    /// Number of values.
    pub count: i64,
}

impl MeanAgg {
    #[inline]
    fn add(&self, o: &Self) -> Self {
        Self {
            sum: self.sum.add(&o.sum),
            count: self.count.wrapping_add(o.count),
        }
    }
    #[inline]
    fn neg(&self) -> Self {
        Self {
            sum: self.sum.neg(),
            count: self.count.wrapping_neg(),
        }
    }
}

/// Arithmetic mean of `f64` values; `lower` gives `None` for an empty window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mean;

impl Monoid for Mean {
    type Agg = MeanAgg;
    #[inline]
    fn identity(&self) -> MeanAgg {
        MeanAgg::default()
    }
    #[inline]
    fn combine(&self, older: &MeanAgg, newer: &MeanAgg) -> MeanAgg {
        older.add(newer)
    }
}

impl AbelianGroup for Mean {
    #[inline]
    fn inverse(&self, a: &MeanAgg) -> MeanAgg {
        a.neg()
    }
}

impl Lift<f64> for Mean {
    #[inline]
    fn lift(&self, x: f64) -> MeanAgg {
        MeanAgg {
            sum: Compensated::new(x),
            count: 1,
        }
    }
}

impl Lower for Mean {
    type Out = Option<f64>;
    #[inline]
    fn lower(&self, a: &MeanAgg) -> Option<f64> {
        (a.count != 0).then(|| a.sum.value() / a.count as f64)
    }
}

/// Geometric mean of positive `f64` values, kept as (sum of logarithms, count) like the IBM
/// reference; `lower` gives `None` for an empty window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeoMean;

impl Monoid for GeoMean {
    type Agg = MeanAgg;
    #[inline]
    fn identity(&self) -> MeanAgg {
        MeanAgg::default()
    }
    #[inline]
    fn combine(&self, older: &MeanAgg, newer: &MeanAgg) -> MeanAgg {
        older.add(newer)
    }
}

impl AbelianGroup for GeoMean {
    #[inline]
    fn inverse(&self, a: &MeanAgg) -> MeanAgg {
        a.neg()
    }
}

impl Lift<f64> for GeoMean {
    #[inline]
    fn lift(&self, x: f64) -> MeanAgg {
        MeanAgg {
            sum: Compensated::new(x.ln()),
            count: 1,
        }
    }
}

impl Lower for GeoMean {
    type Out = Option<f64>;
    #[inline]
    fn lower(&self, a: &MeanAgg) -> Option<f64> {
        (a.count != 0).then(|| (a.sum.value() / a.count as f64).exp())
    }
}

/// Geometric mean of positive `f64` values as a plain `f64` sum of logarithms and a count (the
/// IBM reference's operator); `lower` gives `None` for an empty window.
///
/// A monoid only, on purpose: it has no inverse, so subtract-on-evict (where a naive float sum
/// drifts) rejects it at compile time. In the combine-only structures (DABA Lite, Two-Stacks
/// Lite, FiBA) nothing is ever subtracted, so the error is that of summing the window's
/// logarithms once (at most about `n·u·Σ|ln x|` for a window of `n`, `u = 2^-53`), not a drift
/// that grows with the stream. Cheaper than [`GeoMean`]'s compensated sum (one `f64` add per
/// combine instead of a TwoSum chain).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FastGeoMean;

impl Monoid for FastGeoMean {
    type Agg = (f64, u64);
    #[inline]
    fn identity(&self) -> (f64, u64) {
        (0.0, 0)
    }
    #[inline]
    fn combine(&self, older: &(f64, u64), newer: &(f64, u64)) -> (f64, u64) {
        (older.0 + newer.0, older.1.wrapping_add(newer.1))
    }
}

impl Lift<f64> for FastGeoMean {
    #[inline]
    fn lift(&self, x: f64) -> (f64, u64) {
        (x.ln(), 1)
    }
}

impl Lower for FastGeoMean {
    type Out = Option<f64>;
    #[inline]
    fn lower(&self, a: &(f64, u64)) -> Option<f64> {
        (a.1 != 0).then(|| (a.0 / a.1 as f64).exp())
    }
}

// ---------------------------------------------------------------------------------------------
// Selective (max-like) monoids.

/// Types with a lowest and a highest value, the identities of [`Max`] and [`Min`].
pub trait Extremum: Copy + PartialOrd + core::fmt::Debug {
    /// The lowest value (identity of [`Max`]).
    const LOWEST: Self;
    /// The highest value (identity of [`Min`]).
    const HIGHEST: Self;
}

macro_rules! extremum_int {
    ($($t:ty),*) => {$(
        impl Extremum for $t {
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
        }
    )*};
}
extremum_int!(
    i8, i16, i32, i64, i128, u8, u16, u32, u64, u128, usize, isize
);

impl Extremum for f64 {
    const LOWEST: Self = f64::NEG_INFINITY;
    const HIGHEST: Self = f64::INFINITY;
}

impl Extremum for f32 {
    const LOWEST: Self = f32::NEG_INFINITY;
    const HIGHEST: Self = f32::INFINITY;
}

/// Maximum. Not invertible, so it cannot be used with subtract-on-evict (a compile-fail test
/// proves it). NaN inputs are ignored when a non-NaN partial is present on the older side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Max<T>(core::marker::PhantomData<T>);

impl<T> Max<T> {
    /// The operator.
    pub const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<T: Extremum> Monoid for Max<T> {
    type Agg = T;
    #[inline]
    fn identity(&self) -> T {
        T::LOWEST
    }
    #[inline]
    fn combine(&self, older: &T, newer: &T) -> T {
        if *newer > *older { *newer } else { *older }
    }
}

impl<T: Extremum> Lift<T> for Max<T> {
    #[inline]
    fn lift(&self, x: T) -> T {
        x
    }
}

/// Minimum (see [`Max`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Min<T>(core::marker::PhantomData<T>);

impl<T> Min<T> {
    /// The operator.
    pub const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<T: Extremum> Monoid for Min<T> {
    type Agg = T;
    #[inline]
    fn identity(&self) -> T {
        T::HIGHEST
    }
    #[inline]
    fn combine(&self, older: &T, newer: &T) -> T {
        if *newer < *older { *newer } else { *older }
    }
}

impl<T: Extremum> Lift<T> for Min<T> {
    #[inline]
    fn lift(&self, x: T) -> T {
        x
    }
}

/// Partial of [`ArgMax`]: the maximum value and its ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ArgMaxAgg<K, V> {
    /// The maximum value (meaningless when `ties == 0`).
    pub value: V,
    /// Key of the oldest item holding the maximum.
    pub first: K,
    /// Key of the newest item holding the maximum.
    pub last: K,
    /// Number of items holding the maximum; 0 for the identity.
    pub ties: u64,
}

/// Arg-max keeping ties: the maximum value, how many items hold it, and the keys of the oldest
/// and newest of them. Associative but **not** commutative (`first`/`last` follow the argument
/// order), so it doubles as an ordering canary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArgMax<K, V>(core::marker::PhantomData<(K, V)>);

impl<K, V> ArgMax<K, V> {
    /// The operator.
    pub const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<K: Copy + Default + core::fmt::Debug, V: Extremum> Monoid for ArgMax<K, V> {
    type Agg = ArgMaxAgg<K, V>;
    #[inline]
    fn identity(&self) -> Self::Agg {
        ArgMaxAgg {
            value: V::LOWEST,
            first: K::default(),
            last: K::default(),
            ties: 0,
        }
    }
    #[inline]
    fn combine(&self, older: &Self::Agg, newer: &Self::Agg) -> Self::Agg {
        if newer.ties == 0 {
            return *older;
        }
        if older.ties == 0 || newer.value > older.value {
            return *newer;
        }
        if newer.value < older.value {
            return *older;
        }
        ArgMaxAgg {
            value: older.value,
            first: older.first,
            last: newer.last,
            ties: older.ties + newer.ties,
        }
    }
}

impl<K: Copy + Default + core::fmt::Debug, V: Extremum> Lift<(K, V)> for ArgMax<K, V> {
    #[inline]
    fn lift(&self, (k, v): (K, V)) -> Self::Agg {
        ArgMaxAgg {
            value: v,
            first: k,
            last: k,
            ties: 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bloom filter.

/// The bits of a [`Bloom`] filter: `WORDS` 64-bit words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BloomBits<const WORDS: usize>(pub [u64; WORDS]);

impl<const WORDS: usize> Default for BloomBits<WORDS> {
    fn default() -> Self {
        Self([0; WORDS])
    }
}

/// A mergeable Bloom filter of `64 * WORDS` bits with 4 hash functions (double hashing over
/// a 64-bit mix of the key). Combine is bitwise or: commutative, idempotent, not invertible.
/// The default, `WORDS = 64`, is the 4096-bit filter of the IBM reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bloom<const WORDS: usize = 64>;

impl<const WORDS: usize> Bloom<WORDS> {
    /// Number of hash functions.
    pub const HASHES: u32 = 4;
    const BITS: u64 = 64 * WORDS as u64;

    #[inline]
    fn positions(x: u64) -> impl Iterator<Item = u64> {
        // SplitMix64 finaliser: a full-avalanche 64-bit mix.
        let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let h1 = z & 0xffff_ffff;
        let h2 = (z >> 32) | 1;
        (0..u64::from(Self::HASHES)).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % Self::BITS)
    }

    /// Whether `x` may be in the set `a` (no false negatives).
    pub fn contains(&self, a: &BloomBits<WORDS>, x: u64) -> bool {
        Self::positions(x).all(|p| a.0[(p / 64) as usize] & (1 << (p % 64)) != 0)
    }
}

impl<const WORDS: usize> Monoid for Bloom<WORDS> {
    type Agg = BloomBits<WORDS>;
    #[inline]
    fn identity(&self) -> Self::Agg {
        BloomBits::default()
    }
    #[inline]
    fn combine(&self, older: &Self::Agg, newer: &Self::Agg) -> Self::Agg {
        let mut out = older.clone();
        self.combine_assign(&mut out, newer);
        out
    }
    #[inline]
    fn combine_assign(&self, acc: &mut Self::Agg, newer: &Self::Agg) {
        for (a, b) in acc.0.iter_mut().zip(newer.0.iter()) {
            *a |= *b;
        }
    }
    #[inline]
    fn prepend_assign(&self, older: &Self::Agg, acc: &mut Self::Agg) {
        self.combine_assign(acc, older);
    }
}

impl<const WORDS: usize> Lift<u64> for Bloom<WORDS> {
    #[inline]
    fn lift(&self, x: u64) -> Self::Agg {
        let mut b = BloomBits::default();
        for p in Self::positions(x) {
            b.0[(p / 64) as usize] |= 1 << (p % 64);
        }
        b
    }
}

// ---------------------------------------------------------------------------------------------
// Non-commutative canaries.

/// The oldest value (arrival order for equal timestamps). Not commutative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct First<T>(core::marker::PhantomData<T>);

impl<T> First<T> {
    /// The operator.
    pub const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<T: Clone + core::fmt::Debug> Monoid for First<T> {
    type Agg = Option<T>;
    #[inline]
    fn identity(&self) -> Option<T> {
        None
    }
    #[inline]
    fn combine(&self, older: &Option<T>, newer: &Option<T>) -> Option<T> {
        if older.is_some() {
            older.clone()
        } else {
            newer.clone()
        }
    }
}

impl<T: Clone + core::fmt::Debug> Lift<T> for First<T> {
    #[inline]
    fn lift(&self, x: T) -> Option<T> {
        Some(x)
    }
}

/// The newest value. Not commutative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Last<T>(core::marker::PhantomData<T>);

impl<T> Last<T> {
    /// The operator.
    pub const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<T: Clone + core::fmt::Debug> Monoid for Last<T> {
    type Agg = Option<T>;
    #[inline]
    fn identity(&self) -> Option<T> {
        None
    }
    #[inline]
    fn combine(&self, older: &Option<T>, newer: &Option<T>) -> Option<T> {
        if newer.is_some() {
            newer.clone()
        } else {
            older.clone()
        }
    }
}

impl<T: Clone + core::fmt::Debug> Lift<T> for Last<T> {
    #[inline]
    fn lift(&self, x: T) -> Option<T> {
        Some(x)
    }
}

/// A 2×2 matrix over integers mod [`Mat2::P`], row major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mat2Agg(pub [u64; 4]);

/// 2×2 matrix product mod 1e9+7, the non-commutative canary: any reordering of operands
/// changes the result with overwhelming probability. Lift maps `x` to `[[x mod P, 1], [1, 0]]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mat2;

impl Mat2 {
    /// The modulus, 1e9+7.
    pub const P: u64 = 1_000_000_007;
}

impl Monoid for Mat2 {
    type Agg = Mat2Agg;
    #[inline]
    fn identity(&self) -> Mat2Agg {
        Mat2Agg([1, 0, 0, 1])
    }
    #[inline]
    fn combine(&self, older: &Mat2Agg, newer: &Mat2Agg) -> Mat2Agg {
        let [a, b, c, d] = older.0;
        let [e, f, g, h] = newer.0;
        let p = Self::P;
        Mat2Agg([
            (a * e + b * g) % p,
            (a * f + b * h) % p,
            (c * e + d * g) % p,
            (c * f + d * h) % p,
        ])
    }
}

impl Lift<u64> for Mat2 {
    #[inline]
    fn lift(&self, x: u64) -> Mat2Agg {
        Mat2Agg([x % Self::P, 1, 1, 0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_cancellation() {
        let big = FloatSum.lift(1e16);
        let one = FloatSum.lift(1.0);
        let mut t = FloatSum.combine(&big, &one);
        FloatSum.combine_assign(&mut t, &one);
        FloatSum.uncombine_assign(&mut t, &big);
        assert_eq!(t.value(), 2.0);
    }

    #[test]
    fn argmax_keeps_ties_in_order() {
        let m = ArgMax::<u32, i64>::new();
        let a = m.combine(&m.lift((1, 5)), &m.lift((2, 5)));
        let a = m.combine(&a, &m.lift((3, 4)));
        assert_eq!(
            a,
            ArgMaxAgg {
                value: 5,
                first: 1,
                last: 2,
                ties: 2
            }
        );
        assert_eq!(m.combine(&m.identity(), &a), a);
    }

    #[test]
    fn bloom_has_no_false_negatives() {
        let b = Bloom::<64>;
        let mut acc = b.identity();
        for x in 0..200 {
            b.combine_assign(&mut acc, &b.lift(x));
        }
        assert!((0..200).all(|x| b.contains(&acc, x)));
        let fp = (1000..3000).filter(|&x| b.contains(&acc, x)).count();
        assert!(fp < 100, "false positives {fp}");
    }

    #[test]
    fn mat2_is_not_commutative() {
        let (a, b) = (Mat2.lift(2), Mat2.lift(3));
        assert_ne!(Mat2.combine(&a, &b), Mat2.combine(&b, &a));
    }
}
