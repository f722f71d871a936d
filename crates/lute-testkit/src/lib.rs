//! Test support for NacreousLute.
//!
//! - [`CountingAlloc`]: a global allocator that counts allocations per thread and in total, so
//!   tests can prove that a hot path allocates nothing after construction.
//!
//! # Examples
//!
//! ```
//! // In a test binary: `#[global_allocator] static A: CountingAlloc = CountingAlloc;`
//! use lute_testkit::thread_allocations;
//! let before = thread_allocations();
//! let x = 1u64 + 2;
//! assert_eq!(thread_allocations() - before, 0);
//! # let _ = x;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    // `const` initialiser and a `Cell<u64>` (no destructor): safe to touch from inside the
    // allocator, even while the thread is being torn down.
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
}

static TOTAL_ALLOCS: AtomicU64 = AtomicU64::new(0);

/// A [`GlobalAlloc`] that forwards to [`System`] and counts every allocation and reallocation.
///
/// Install it in a test binary with `#[global_allocator]`. Counting is per thread
/// ([`thread_allocations`]), so tests running in parallel do not disturb each other, and
/// process-wide ([`total_allocations`]) for code that spans threads.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

fn record() {
    // `try_with` never panics, even during thread-local destruction.
    let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
    // Relaxed: a statistics counter; readers only need eventual totals after joining threads
    // (thread join provides the happens-before edge).
    TOTAL_ALLOCS.fetch_add(1, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is upheld by `System`; counting has no effect on the returned memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: forwarded contract (see impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: forwarded contract (see impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract (see impl).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        // SAFETY: forwarded contract (see impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (including reallocations) made so far by the calling thread.
///
/// Only meaningful when [`CountingAlloc`] is the global allocator; otherwise it stays 0.
pub fn thread_allocations() -> u64 {
    THREAD_ALLOCS.try_with(Cell::get).unwrap_or(0)
}

/// Allocations made so far by all threads of the process.
pub fn total_allocations() -> u64 {
    // Relaxed: see `record`.
    TOTAL_ALLOCS.load(Ordering::Relaxed)
}

/// Runs `f` and returns its result with the number of allocations the calling thread made in it.
pub fn count_thread_allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = thread_allocations();
    let r = f();
    (r, thread_allocations() - before)
}
