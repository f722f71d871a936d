//! `has_pending`: whether a later watermark can still emit (the runtime advances only keys
//! with pending windows).

use lute_window::ops::Sum;
use lute_window::window::{SessionWindows, SlidingSpec, SlidingWindows};

#[test]
fn sliding_windows_are_pending_until_their_last_window_ends() {
    let mut w = SlidingWindows::new(Sum, &[SlidingSpec::sliding(10, 5)]).unwrap();
    assert!(!w.has_pending(), "no event yet");
    w.advance_watermark(3, |_| {});
    w.insert(7, &1).unwrap(); // windows [0, 10) and [5, 15)
    assert!(w.has_pending());
    let mut out = Vec::new();
    w.advance_watermark(10, |r| out.push(r.end));
    assert_eq!(out, [10]);
    assert!(w.has_pending(), "[5, 15) still open");
    w.advance_watermark(15, |r| out.push(r.end));
    assert_eq!(out, [10, 15]);
    assert!(!w.has_pending(), "every window with the event has ended");
    w.advance_watermark(1_000_000, |r| out.push(r.end));
    assert_eq!(out, [10, 15], "at rest: advancing emits nothing");
    // An event far ahead of the watermark is pending too.
    w.insert(1_000_000_000, &1).unwrap();
    assert!(w.has_pending());
}

#[test]
fn sessions_are_pending_while_one_is_open() {
    let mut s = SessionWindows::new(Sum, 10);
    assert!(!s.has_pending());
    s.insert(5, &1).unwrap();
    assert!(s.has_pending());
    let mut n = 0;
    s.advance_watermark(100, |_| n += 1);
    assert_eq!(n, 1);
    assert!(!s.has_pending());
}
