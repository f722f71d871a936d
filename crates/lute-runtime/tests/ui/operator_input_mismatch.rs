// An operator whose input type differs from its upstream's output does not compile.
use lute_runtime::{VecSource, WatermarkStrategy, api};

fn main() {
    let _ = api::source("numbers", VecSource::new(vec![(0, 1u64)]), WatermarkStrategy::default())
        .key_by("by value", |x: &u64| *x)
        .map("len", |s: String| s.len());
}
