//! Windowed join of two generated streams (orders and payments, out of order, with late
//! stragglers): every (order, payment) pair of one customer within a tumbling window.
//! `cargo run --release -p lute-runtime --example windowed_join [workers]`.

mod jobs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workers = std::env::args().nth(1).map_or(Ok(2), |s| s.parse())?;
    let config = lute_runtime::Config::default().workers(workers);
    let job = jobs::orders_payments(
        jobs::events(100_000, 256, 17),
        jobs::events(100_000, 256, 19),
        1_000,
    );
    print!("{}", job.explain(&config));
    let out = job.run_sorted(&config)?;
    for (ts, (key, order, payment)) in out.iter().take(10) {
        println!("{ts:>8} customer {key:>3} order {order:>4} payment {payment:>4}");
    }
    println!("… {} pairs in all", out.len());
    print!("{}", job.metrics());
    Ok(())
}
