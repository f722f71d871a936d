//! The operator traits: [`Monoid`], [`AbelianGroup`], [`Lift`], [`Lower`], and the
//! [`CountingOp`] wrapper that counts operator calls.
//!
//! # Argument order is part of the contract
//!
//! `combine(older, newer)` always receives the partial aggregate of the *older* (earlier in
//! time or in arrival order) items first. Non-commutative aggregations (first/last,
//! [`Mat2`](crate::ops::Mat2), arg-max's first/last ties) depend on it, and every structure in
//! this crate is tested against such a canary. Items with equal timestamps combine in arrival
//! order.
//!
//! # Laws (tested, not type-checked)
//!
//! - identity: `combine(identity, a) == a == combine(a, identity)`;
//! - associativity: `combine(combine(a, b), c) == combine(a, combine(b, c))`;
//! - [`AbelianGroup`] additionally: commutativity and `combine(a, inverse(a)) == identity`
//!   (exactly for integer groups; within the documented drift bound for floats).

use std::cell::Cell;

/// An associative operator with an identity, acting on partial aggregates of type
/// [`Monoid::Agg`].
///
/// Receivers are `&self` so an operator can carry runtime parameters (sketch sizes, seeds);
/// built-in operators are zero-sized.
///
/// # Examples
///
/// ```
/// use lute_window::{Monoid, ops::Sum};
/// assert_eq!(Sum.combine(&2, &3), 5);
/// let mut acc = Sum.identity();
/// Sum.combine_assign(&mut acc, &7);
/// assert_eq!(acc, 7);
/// ```
pub trait Monoid {
    /// A partial aggregate (`Debug` so that windows and errors can be printed).
    type Agg: Clone + core::fmt::Debug;

    /// The identity element.
    fn identity(&self) -> Self::Agg;

    /// `older ⊕ newer`. The argument order is part of the contract.
    fn combine(&self, older: &Self::Agg, newer: &Self::Agg) -> Self::Agg;

    /// `acc = acc ⊕ newer`, in place (avoids copying large partials such as Bloom filters).
    #[inline]
    fn combine_assign(&self, acc: &mut Self::Agg, newer: &Self::Agg) {
        *acc = self.combine(acc, newer);
    }

    /// `acc = older ⊕ acc`, in place: `acc` holds the *newer* items.
    #[inline]
    fn prepend_assign(&self, older: &Self::Agg, acc: &mut Self::Agg) {
        *acc = self.combine(older, acc);
    }
}

/// A commutative [`Monoid`] with inverses. Structures that evict by subtraction
/// ([`SoeRing`](crate::SoeRing), [`SoeFifo`](crate::SoeFifo)) accept only abelian groups.
///
/// Commutativity is a law checked by the tests, not by the type system.
///
/// # Examples
///
/// ```
/// use lute_window::{AbelianGroup, Monoid, ops::Sum};
/// let mut acc = Sum.combine(&10, &5);
/// Sum.uncombine_assign(&mut acc, &10);
/// assert_eq!(acc, 5);
/// ```
pub trait AbelianGroup: Monoid {
    /// The inverse: `combine(a, inverse(a)) == identity`.
    fn inverse(&self, a: &Self::Agg) -> Self::Agg;

    /// `acc = acc ⊖ x` (that is, `acc ⊕ inverse(x)`), in place.
    #[inline]
    fn uncombine_assign(&self, acc: &mut Self::Agg, x: &Self::Agg) {
        let i = self.inverse(x);
        self.combine_assign(acc, &i);
    }
}

/// Lifts an input value into a partial aggregate.
///
/// # Examples
///
/// ```
/// use lute_window::{Lift, ops::Count};
/// assert_eq!(Count.lift("anything"), 1);
/// ```
pub trait Lift<In>: Monoid {
    /// The partial aggregate of the single value `x`.
    fn lift(&self, x: In) -> Self::Agg;
}

/// Lowers a partial aggregate to the user-visible result (a mean from a sum and a count, for
/// instance).
///
/// # Examples
///
/// ```
/// use lute_window::{Lift, Lower, Monoid, ops::Mean};
/// let a = Mean.combine(&Mean.lift(1.0), &Mean.lift(2.0));
/// assert_eq!(Mean.lower(&a), Some(1.5));
/// ```
pub trait Lower: Monoid {
    /// The result type.
    type Out;
    /// The result for the partial aggregate `a`.
    fn lower(&self, a: &Self::Agg) -> Self::Out;
}

/// Wraps an operator and counts its calls (combines, including in-place ones, and inverses),
/// so tests and benchmarks can bound the operator calls per operation: that count, not timing,
/// proves worst-case O(1).
///
/// The counters are [`Cell`]s: the wrapper is for one thread, which is all this crate needs.
///
/// # Examples
///
/// ```
/// use lute_window::{CountingOp, Monoid, ops::Sum};
/// let op = CountingOp::new(Sum);
/// let _ = op.combine(&1, &2);
/// assert_eq!(op.take_combines(), 1);
/// assert_eq!(op.combines(), 0);
/// ```
///
/// Cloning copies the operator and the current counts; the clone counts on its own.
#[derive(Debug, Default, Clone)]
pub struct CountingOp<M> {
    inner: M,
    combines: Cell<u64>,
    inverses: Cell<u64>,
}

impl<M> CountingOp<M> {
    /// Wraps `inner` with both counters at zero.
    pub fn new(inner: M) -> Self {
        Self {
            inner,
            combines: Cell::new(0),
            inverses: Cell::new(0),
        }
    }

    /// The wrapped operator.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// Combine calls so far.
    pub fn combines(&self) -> u64 {
        self.combines.get()
    }

    /// Inverse calls (including `uncombine_assign`) so far.
    pub fn inverses(&self) -> u64 {
        self.inverses.get()
    }

    /// Returns the combine count and resets it to zero.
    pub fn take_combines(&self) -> u64 {
        self.combines.replace(0)
    }

    /// Returns the inverse count and resets it to zero.
    pub fn take_inverses(&self) -> u64 {
        self.inverses.replace(0)
    }

    fn bump(&self) {
        self.combines.set(self.combines.get() + 1);
    }
}

impl<M: Monoid> Monoid for CountingOp<M> {
    type Agg = M::Agg;

    fn identity(&self) -> M::Agg {
        self.inner.identity()
    }

    fn combine(&self, older: &M::Agg, newer: &M::Agg) -> M::Agg {
        self.bump();
        self.inner.combine(older, newer)
    }

    fn combine_assign(&self, acc: &mut M::Agg, newer: &M::Agg) {
        self.bump();
        self.inner.combine_assign(acc, newer);
    }

    fn prepend_assign(&self, older: &M::Agg, acc: &mut M::Agg) {
        self.bump();
        self.inner.prepend_assign(older, acc);
    }
}

impl<M: AbelianGroup> AbelianGroup for CountingOp<M> {
    fn inverse(&self, a: &M::Agg) -> M::Agg {
        self.inverses.set(self.inverses.get() + 1);
        self.inner.inverse(a)
    }

    fn uncombine_assign(&self, acc: &mut M::Agg, x: &M::Agg) {
        self.inverses.set(self.inverses.get() + 1);
        self.inner.uncombine_assign(acc, x);
    }
}

impl<In, M: Lift<In>> Lift<In> for CountingOp<M> {
    fn lift(&self, x: In) -> M::Agg {
        self.inner.lift(x)
    }
}

impl<M: Lower> Lower for CountingOp<M> {
    type Out = M::Out;
    fn lower(&self, a: &M::Agg) -> M::Out {
        self.inner.lower(a)
    }
}
