//! The counting allocator counts: a test that would fail if counting were broken.

use lute_testkit::{CountingAlloc, count_thread_allocations, total_allocations};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn counts_allocations_of_this_thread() {
    let (v, n) = count_thread_allocations(|| vec![1u8; 100]);
    assert_eq!(n, 1);
    let (_, n) = count_thread_allocations(|| v.iter().map(|&x| u64::from(x)).sum::<u64>());
    assert_eq!(n, 0);
}

#[test]
fn total_includes_other_threads() {
    let before = total_allocations();
    std::thread::spawn(|| drop(std::hint::black_box(Box::new(5u32))))
        .join()
        .unwrap();
    assert!(total_allocations() > before);
}
