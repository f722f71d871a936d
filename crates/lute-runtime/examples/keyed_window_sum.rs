//! Keyed tumbling-window sum over generated events (out of order, with late stragglers).
//! `cargo run --release -p lute-runtime --example keyed_window_sum [workers]`.

mod jobs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workers = std::env::args().nth(1).map_or(Ok(2), |s| s.parse())?;
    let config = lute_runtime::Config::default().workers(workers);
    let job = jobs::window_sum(jobs::events(200_000, 64, 11), 1_000);
    print!("{}", job.explain(&config));
    let out = job.run_sorted(&config)?;
    for (ts, (key, start, sum)) in out.iter().take(10) {
        println!(
            "{ts:>8} key {key:>3} window [{start}, {}) sum {sum}",
            start + 1_000
        );
    }
    println!("… {} window sums in all", out.len());
    Ok(())
}
