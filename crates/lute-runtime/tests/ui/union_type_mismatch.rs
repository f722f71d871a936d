// A union of streams of different record types does not compile.
use lute_runtime::{VecSource, WatermarkStrategy, api};

fn main() {
    let words = api::source("words", VecSource::new(vec![(0, "a")]), WatermarkStrategy::default());
    let _ = api::source("numbers", VecSource::new(vec![(0, 1u64)]), WatermarkStrategy::default())
        .union("mixed", words);
}
