// A union of streams of different record types does not compile.
use lute_runtime::{VecSource, WatermarkStrategy, job};

fn main() {
    let words = job::source("words", VecSource::new(vec![(0, "a")]), WatermarkStrategy::default());
    let _ = job::source("numbers", VecSource::new(vec![(0, 1u64)]), WatermarkStrategy::default())
        .union("mixed", words);
}
