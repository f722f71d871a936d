//! The link-factory seam: every example job run over the loopback links (each message encoded
//! into a `lute-layout` frame and decoded on the other side) gives exactly the output it gives
//! over the default in-process SPSC rings, at 1, 2 and 4 workers; a type the factory cannot
//! carry is refused before the job starts; `explain` names the backend.

#[path = "../examples/jobs/mod.rs"]
mod jobs;
mod support;

use jobs::Event;
use lute_runtime::api::Collect;
use lute_runtime::{BuildError, Config, JobError};
use lute_window::window::WindowResult;
use std::sync::atomic::Ordering;
use support::loopback::Loopback;

fn loopback() -> Loopback {
    Loopback::new()
        .carry::<Event>()
        .carry::<String>()
        .carry::<(u32, WindowResult<i64>)>()
        .carry::<lute_runtime::operator::join::Side<Event, Event>>()
}

fn config(workers: usize) -> Config {
    Config::default()
        .workers(workers)
        .batch_size(32)
        .channel_capacity(8)
}

/// Runs `job` over both link factories at 1, 2 and 4 workers; the outputs must be equal, and
/// the loopback links must have carried frames whenever the job has a link.
fn same_over_both<T: Ord + std::fmt::Debug>(job: impl Fn() -> Collect<T>) {
    for w in [1, 2, 4] {
        let spsc = job().run_sorted(&config(w)).unwrap();
        let lb = loopback();
        let frames = lb.frames.clone();
        let encoded = job().run_sorted(&config(w).links(lb)).unwrap();
        assert_eq!(encoded, spsc, "{w} workers");
        assert!(!spsc.is_empty());
        if w > 1 {
            assert!(
                frames.load(Ordering::Relaxed) > 0,
                "{w} workers: no frame sent"
            );
        }
    }
}

#[test]
fn wordcount_over_encoded_links() {
    let input = jobs::lines(2_000, 5);
    same_over_both(|| jobs::wordcount(input.clone(), 50));
}

#[test]
fn window_and_session_sums_over_encoded_links() {
    let input = jobs::events(4_000, 8, 6);
    same_over_both(|| jobs::window_sum(input.clone(), 100));
    same_over_both(|| jobs::session_sum(input.clone(), 30));
}

#[test]
fn sliding_topk_union_and_join_over_encoded_links() {
    let input = jobs::events(4_000, 8, 7);
    same_over_both(|| jobs::sliding_topk(input.clone(), 200, 50, 3));
    let b = jobs::events(3_000, 8, 8);
    same_over_both(|| jobs::union_sum(input.clone(), b.clone(), 100));
    same_over_both(|| jobs::orders_payments(input.clone(), b.clone(), 100));
}

#[test]
fn a_type_the_factory_cannot_carry_is_refused_before_start() {
    let input = jobs::events(100, 4, 9);
    let err = jobs::window_sum(input, 100)
        .run_sorted(&config(2).links(Loopback::new()))
        .unwrap_err();
    match &err {
        JobError::Build(BuildError::Link(lute_core::LinkError::Unsupported {
            type_name, ..
        })) => {
            assert!(type_name.contains("Event"), "{type_name}");
        }
        other => panic!("expected an unsupported link, got {other:?}"),
    }
}

#[test]
fn explain_names_the_link_backend() {
    let input = jobs::events(100, 4, 10);
    let job = jobs::window_sum(input, 100);
    assert!(job.explain(&config(2)).contains("in-process SPSC ring"));
    let text = job.explain(&config(2).links(loopback()));
    assert!(text.contains("loopback, lute-layout frames"), "{text}");
}
