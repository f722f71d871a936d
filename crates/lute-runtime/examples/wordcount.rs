//! Word count per 100-unit tumbling window over generated lines (out of order, with late
//! stragglers). `cargo run --release -p lute-runtime --example wordcount [workers]`.

mod jobs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workers = std::env::args().nth(1).map_or(Ok(2), |s| s.parse())?;
    let out = jobs::wordcount(jobs::lines(100_000, 7), 100)
        .run_sorted(&lute_runtime::Config::default().workers(workers))?;
    for (ts, (word, start, count)) in out.iter().take(12) {
        println!("{ts:>6} [{start}, {}) {word:<10} {count}", start + 100);
    }
    println!("… {} window counts in all", out.len());
    Ok(())
}
