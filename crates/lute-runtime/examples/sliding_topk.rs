//! Top 3 keys per sliding window (size 500, slide 100) by sum.
//! `cargo run --release -p lute-runtime --example sliding_topk [workers]`.

mod jobs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workers = std::env::args().nth(1).map_or(Ok(2), |s| s.parse())?;
    let cands = jobs::sliding_topk(jobs::events(100_000, 32, 5), 500, 100, 3)
        .run_sorted(&lute_runtime::Config::default().workers(workers))?;
    let top = jobs::global_top_k(&cands, 3);
    for (end, v) in top.iter().take(8) {
        println!("window ending {end}: {v:?}");
    }
    println!("… {} windows", top.len());
    Ok(())
}
