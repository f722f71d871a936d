// The two sides of a join must have the same key type.
use lute_runtime::{VecSource, WatermarkStrategy, api};
use lute_window::window::SlidingSpec;

fn main() {
    let right = api::source("r", VecSource::new(vec![(0, "a")]), WatermarkStrategy::default());
    let _ = api::source("l", VecSource::new(vec![(0, 1u64)]), WatermarkStrategy::default())
        .window_join(
            "j",
            right,
            |x: &u64| *x,
            |s: &&str| s.to_string(),
            SlidingSpec::tumbling(10),
            |_k: &u64, a: &u64, _b: &&str| *a,
        );
}
