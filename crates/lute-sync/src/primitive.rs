//! The loom facade: every atomic, cell, lock and thread operation of this crate goes through
//! here, so the same code runs under `--cfg loom` (model checking) and normally.
//!
//! [`UnsafeCell`] exposes loom's `with`/`with_mut` API in both configurations, so accesses to
//! slot memory are tracked by loom's causality checker.

#[cfg(loom)]
pub(crate) use loom::{
    hint::spin_loop,
    sync::atomic::{AtomicBool, AtomicUsize, fence},
    sync::{Arc, Condvar, Mutex},
    thread::{Thread, current, yield_now},
};

#[cfg(not(loom))]
pub(crate) use std::{
    hint::spin_loop,
    sync::atomic::{AtomicBool, AtomicUsize, fence},
    sync::{Arc, Condvar, Mutex},
    thread::{Thread, current, yield_now},
};

pub(crate) use std::sync::atomic::Ordering;

/// An `UnsafeCell` with loom's closure-based access API.
#[cfg(loom)]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(loom::cell::UnsafeCell<T>);

#[cfg(loom)]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(v: T) -> Self {
        Self(loom::cell::UnsafeCell::new(v))
    }
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.0.with(f)
    }
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.0.with_mut(f)
    }
}

/// An `UnsafeCell` with loom's closure-based access API.
#[cfg(not(loom))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(v: T) -> Self {
        Self(std::cell::UnsafeCell::new(v))
    }
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// The ordering used to *publish* data to the other side of a structure. `Release` normally;
/// under `--cfg lute_weaken` it is deliberately weakened to `Relaxed` so the loom models can
/// prove that they catch a missing happens-before edge.
#[cfg(not(lute_weaken))]
pub(crate) const PUBLISH: Ordering = Ordering::Release;
/// Deliberately broken publication order (see the non-weakened definition).
#[cfg(lute_weaken)]
pub(crate) const PUBLISH: Ordering = Ordering::Relaxed;

/// Issues the sequentially consistent fence of the Dekker handshake in [`crate::wait`];
/// weakened to `AcqRel` under `--cfg lute_weaken` so loom must find the lost wake-up.
#[inline]
pub(crate) fn dekker_fence() {
    // SeqCst, not AcqRel: the handshake is a store followed by a load of another location on
    // each side (store-buffer pattern); only the total order of SeqCst fences forbids both
    // sides reading the other's old value (see `crate::wait`). loom proves AcqRel loses
    // wake-ups (tests/loom_wait.rs under --cfg lute_weaken).
    #[cfg(not(lute_weaken))]
    fence(Ordering::SeqCst);
    #[cfg(lute_weaken)]
    fence(Ordering::AcqRel);
}
