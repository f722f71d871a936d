//! The per-worker factory: the one place where each worker's instances of a job's operators
//! and sources are made.
//!
//! A builder method takes a *prototype* (an operator or a source value). The prototype never
//! runs: planning hands it to a [`Prototype`] and asks for one instance per worker that runs the
//! stage. An instance of the built-in [`Prototype`] is a `clone()` of the prototype, so `Clone`
//! on an operator means exactly one thing: copy a value that has not run yet (its state is
//! whatever its constructor made). State a running operator builds is never copied between
//! workers; it moves only through registered state ([`crate::state`]).

use lute_core::WorkerId;

/// Makes each worker's instance.
pub trait Factory {
    /// What it makes.
    type Product;
    /// The instance for `worker`.
    fn make(&self, worker: WorkerId) -> Self::Product;
}

/// Instances are clones of a prototype that never runs.
///
/// # Examples
///
/// ```
/// use lute_runtime::operator::{Factory, Map, Prototype};
/// let f = Prototype::new(Map(|x: u32| x + 1));
/// let mut a = f.make(0usize.into());
/// assert_eq!((a.0)(1), 2);
/// ```
#[derive(Debug)]
pub struct Prototype<T>(T);

impl<T> Prototype<T> {
    /// A factory cloning `prototype`.
    pub fn new(prototype: T) -> Self {
        Self(prototype)
    }

    /// The prototype (to inspect, never to run).
    pub fn get(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> Factory for Prototype<T> {
    type Product = T;
    fn make(&self, worker: WorkerId) -> T {
        Self::make_from(&self.0, worker)
    }
}

/// Worker `worker`'s instance of `prototype`: the one place instances are made (planning calls
/// it for every source and chain of every stage).
pub fn instance<T: Clone>(prototype: &T, worker: WorkerId) -> T {
    Prototype::make_from(prototype, worker)
}

impl<T: Clone> Prototype<T> {
    fn make_from(prototype: &T, _worker: WorkerId) -> T {
        prototype.clone()
    }
}
