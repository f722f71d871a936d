//! `windows`: sliding-window aggregation, all structures side by side in one process.
//!
//! Round = `evict(); insert(1 + i % 101); query()` (the IBM sliding-window-aggregators
//! harness's definition, so figures compare with `../shared/reference/swag.md` §3); the window
//! is pre-filled to exactly `n` before timing and the query result goes through `black_box`.
//! One pinned thread, monomorphised per (structure, operator), a fresh instance per
//! measurement, repetitions interleaved, medians reported.
//!
//! Sections: FIFO throughput over window sizes and operators; per-round latency at n = 16K
//! and 4M; maximum operator calls per operation (a counting wrapper); bytes per item; FiBA at a
//! fixed out-of-order distance; sliding windows (slices vs naive recompute vs copying each event
//! into every overlapping window). `--quick` runs a subset in well under 30 s. Output ends with
//! `BENCH name=value` lines.

use std::hint::black_box;
use std::time::Instant;

use lute_bench::{Args, Report, load_average, median, pin_current};
use lute_window::ops::{Bloom, FastGeoMean, GeoMean, Max, Sum};
use lute_window::window::{SlidingSpec, SlidingWindows};
use lute_window::{
    AbelianGroup, ChunkedTwoStacksLite, CountingOp, DabaLite, Fiba, FifoAggregator, Lift, Monoid,
    Recalc, SoeFifo, SoeRing, TwoStacksLite,
};

/// The IBM harness's value sequence `1 + i % 101`, without a division per round.
#[derive(Clone, Copy)]
struct Vals(u64);

impl Vals {
    #[inline(always)]
    fn next(&mut self) -> u64 {
        let v = self.0;
        self.0 = if v == 101 { 1 } else { v + 1 };
        v
    }
}

/// Throughput (M rounds/s) of a FIFO aggregator pre-filled to `n`.
#[inline(never)]
fn fifo_tput<M: Monoid, W: FifoAggregator<M>>(
    mut w: W,
    lift: impl Fn(u64) -> M::Agg,
    n: usize,
    rounds: u64,
) -> f64 {
    let mut v = Vals(1);
    for _ in 0..n {
        w.insert(lift(v.next()));
    }
    fifo_rounds(&mut w, &lift, v, rounds)
}

/// The timed loop of [`fifo_tput`].
///
/// NB: the structure is reached through `&mut` (never through an escaped local), so the
/// optimiser may keep its fields in registers across the `black_box` of each query; an owned
/// local whose address escapes forces every field through memory on every round (DABA Lite
/// ran about 1.5x slower that way).
#[inline(never)]
fn fifo_rounds<M: Monoid, W: FifoAggregator<M>>(
    w: &mut W,
    lift: &impl Fn(u64) -> M::Agg,
    mut v: Vals,
    rounds: u64,
) -> f64 {
    let t0 = Instant::now();
    for _ in 0..rounds {
        w.evict();
        w.insert(lift(v.next()));
        black_box(w.query());
    }
    rounds as f64 / t0.elapsed().as_secs_f64() / 1e6
}

/// Throughput of the time-slot subtract-on-evict ring used as a count window of `n` (one slot
/// per time unit, one event per time unit).
#[inline(never)]
fn soe_ring_tput<G: AbelianGroup>(
    op: G,
    lift: impl Fn(u64) -> G::Agg,
    n: usize,
    rounds: u64,
) -> f64 {
    let mut w = SoeRing::new(op, n + 1, 1);
    let mut v = Vals(1);
    let n = n as i64;
    for t in 0..n {
        let _ = w.insert(t, &lift(v.next()));
    }
    let t0 = Instant::now();
    for t in n..n + rounds as i64 {
        w.evict_upto(t - n + 1);
        let _ = w.insert(t, &lift(v.next()));
        // NB: `query` returns a reference; black-boxing the reference would force the total
        // through memory every round, so black-box a copy (what the FIFO structures return).
        black_box(w.query().clone());
    }
    let s = t0.elapsed().as_secs_f64();
    rounds as f64 / s / 1e6
}

/// Far-future times of the pre-filled block of the out-of-order adversary.
const FUTURE: i64 = 1 << 40;

/// Throughput of FiBA with every insert exactly `d` behind the newest item (the IBM
/// out-of-order adversary: the window holds `n - d` in-order items plus `d` pre-filled items
/// with the highest times, which are never evicted), evicting the oldest by time.
#[inline(never)]
fn fiba_tput<M: Monoid>(
    op: M,
    lift: impl Fn(u64) -> M::Agg,
    n: usize,
    d: usize,
    rounds: u64,
) -> f64 {
    let mut w = Fiba::new(op);
    let mut v = Vals(1);
    let (n, d) = (n as i64, d as i64);
    for t in (0..n - d).chain(FUTURE..FUTURE + d) {
        w.insert(t, lift(v.next()));
    }
    let t0 = Instant::now();
    for i in 0..rounds as i64 {
        w.evict_upto(i + 1);
        w.insert(n - d + i, lift(v.next()));
        black_box(w.query());
    }
    let s = t0.elapsed().as_secs_f64();
    rounds as f64 / s / 1e6
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Per-round latency (ns) of a FIFO aggregator pre-filled to `n`: (p50, p99.9, p99.999, max).
#[inline(never)]
fn fifo_latency<M: Monoid, W: FifoAggregator<M>>(
    mut w: W,
    lift: impl Fn(u64) -> M::Agg,
    n: usize,
    rounds: usize,
    buf: &mut Vec<u64>,
) -> [u64; 4] {
    let mut v = Vals(1);
    for _ in 0..n {
        w.insert(lift(v.next()));
    }
    buf.clear();
    for _ in 0..rounds {
        let t0 = Instant::now();
        w.evict();
        w.insert(lift(v.next()));
        black_box(w.query());
        buf.push(t0.elapsed().as_nanos() as u64);
    }
    buf.sort_unstable();
    [
        percentile(buf, 0.5),
        percentile(buf, 0.999),
        percentile(buf, 0.99999),
        *buf.last().unwrap_or(&0),
    ]
}

#[inline(never)]
fn soe_ring_latency(n: usize, rounds: usize, buf: &mut Vec<u64>) -> [u64; 4] {
    let mut w = SoeRing::new(Sum, n + 1, 1);
    let mut v = Vals(1);
    let n = n as i64;
    for t in 0..n {
        let _ = w.insert(t, &(v.next() as i64));
    }
    buf.clear();
    for t in n..n + rounds as i64 {
        let t0 = Instant::now();
        w.evict_upto(t - n + 1);
        let _ = w.insert(t, &(v.next() as i64));
        black_box(*w.query());
        buf.push(t0.elapsed().as_nanos() as u64);
    }
    buf.sort_unstable();
    [
        percentile(buf, 0.5),
        percentile(buf, 0.999),
        percentile(buf, 0.99999),
        *buf.last().unwrap_or(&0),
    ]
}

/// Empty-round latency: the noise floor of the timer and the machine.
fn empty_latency(rounds: usize, buf: &mut Vec<u64>) -> [u64; 4] {
    buf.clear();
    let mut v = Vals(1);
    for _ in 0..rounds {
        let t0 = Instant::now();
        black_box(v.next());
        buf.push(t0.elapsed().as_nanos() as u64);
    }
    buf.sort_unstable();
    [
        percentile(buf, 0.5),
        percentile(buf, 0.999),
        percentile(buf, 0.99999),
        *buf.last().unwrap_or(&0),
    ]
}

/// Maximum operator calls (combine + inverse) per insert, evict and query over `rounds`
/// rounds at size `n`.
fn fifo_calls<W: FifoAggregator<CountingOp<Sum>>>(mut w: W, n: usize, rounds: usize) -> [u64; 3] {
    let mut v = Vals(1);
    for _ in 0..n {
        w.insert(v.next() as i64);
    }
    let take = |w: &W| w.op().take_combines() + w.op().take_inverses();
    take(&w);
    let mut m = [0u64; 3];
    for _ in 0..rounds {
        w.evict();
        m[1] = m[1].max(take(&w));
        w.insert(v.next() as i64);
        m[0] = m[0].max(take(&w));
        black_box(w.query());
        m[2] = m[2].max(take(&w));
    }
    m
}

fn soe_ring_calls(n: usize, rounds: usize) -> [u64; 3] {
    let mut w = SoeRing::new(CountingOp::new(Sum), n + 1, 1);
    let n = n as i64;
    for t in 0..n {
        let _ = w.insert(t, &1);
    }
    let take = |w: &SoeRing<CountingOp<Sum>>| w.op().take_combines() + w.op().take_inverses();
    take(&w);
    let mut m = [0u64; 3];
    for t in n..n + rounds as i64 {
        w.evict_upto(t - n + 1);
        m[1] = m[1].max(take(&w));
        let _ = w.insert(t, &1);
        m[0] = m[0].max(take(&w));
        black_box(*w.query());
        m[2] = m[2].max(take(&w));
    }
    m
}

fn fiba_calls(n: usize, d: usize, rounds: usize) -> [u64; 3] {
    let mut w = Fiba::new(CountingOp::new(Sum));
    let (n, d) = (n as i64, d as i64);
    for t in (0..n - d).chain(FUTURE..FUTURE + d) {
        w.insert(t, 1);
    }
    let take = |w: &Fiba<CountingOp<Sum>>| w.op().take_combines();
    take(&w);
    let mut m = [0u64; 3];
    for i in 0..rounds as i64 {
        w.evict_upto(i + 1);
        m[1] = m[1].max(take(&w));
        w.insert(n - d + i, 1);
        m[0] = m[0].max(take(&w));
        black_box(w.query());
        m[2] = m[2].max(take(&w));
    }
    m
}

/// Sliding windows of `size` with `slide` over one in-order stream of `events` (one per time
/// unit), each window's sum emitted when it closes. Returns M events/s for: slices shared by
/// the window layer, copying each event into every overlapping window (Flink DataStream), and
/// naive recompute over a buffer at every window end.
#[inline(never)]
fn sliding_tput(size: i64, slide: i64, events: i64) -> [f64; 3] {
    // (a) the window layer: one combine per event into its slice.
    let spec = SlidingSpec::sliding(size, slide);
    let mut w = SlidingWindows::new(Sum, &[spec]).expect("valid spec");
    let mut out = 0i64;
    let mut v = Vals(1);
    let t0 = Instant::now();
    for t in 0..events {
        let _ = w.insert(t, &(v.next() as i64));
        if t % slide == slide - 1 {
            w.advance_watermark(t + 1, |r| out = out.wrapping_add(r.value));
        }
    }
    let a = events as f64 / t0.elapsed().as_secs_f64() / 1e6;
    black_box(out);

    // (b) copy into every overlapping window: a ring of size/slide open window partials.
    let k = (size / slide) as usize;
    let mut open = vec![0i64; k];
    let mut v = Vals(1);
    let mut out = 0i64;
    let t0 = Instant::now();
    for t in 0..events {
        let x = v.next() as i64;
        for p in open.iter_mut() {
            *p = p.wrapping_add(x);
        }
        if t % slide == slide - 1 {
            // The oldest open window closes; its slot restarts as the newest window.
            let idx = ((t / slide) as usize) % k;
            out = out.wrapping_add(open[idx]);
            open[idx] = 0;
        }
    }
    let b = events as f64 / t0.elapsed().as_secs_f64() / 1e6;
    black_box(out);

    // (c) naive recompute: keep the events, sum the last `size` at every window end.
    let mut buf = vec![0i64; events.min(size * 4) as usize + size as usize];
    let cap = buf.len();
    let mut v = Vals(1);
    let mut out = 0i64;
    let t0 = Instant::now();
    for t in 0..events {
        buf[t as usize % cap] = v.next() as i64;
        if t % slide == slide - 1 && t + 1 >= size {
            let mut s = 0i64;
            for u in t + 1 - size..=t {
                s = s.wrapping_add(buf[u as usize % cap]);
            }
            out = out.wrapping_add(s);
        }
    }
    let c = events as f64 / t0.elapsed().as_secs_f64() / 1e6;
    black_box(out);
    [a, b, c]
}

fn fmt_k(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{}M", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{}K", n >> 10)
    } else {
        n.to_string()
    }
}

type Algo<'a> = (&'a str, Box<dyn Fn(usize, u64) -> f64 + 'a>);

fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    let quick = args.quick;
    let reps = args.reps.max(3);
    // `--core N`: which core of the affinity mask to pin to (default 0).
    let core_index = args
        .rest
        .iter()
        .position(|a| a == "--core")
        .and_then(|i| args.rest.get(i + 1))
        .map(|v| v.parse::<usize>())
        .transpose()?
        .unwrap_or(0);
    // `--only a,b`: run only these sections (w1, w2, calls, bytes, w4, sliding, ...).
    let only: Option<Vec<String>> = args
        .rest
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.rest.get(i + 1))
        .map(|v| v.split(',').map(str::to_owned).collect());
    let run = |s: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == s));
    let core = pin_current(core_index);
    println!(
        "windows: quick={quick} reps={reps} pinned={core:?} load average at start: {}",
        load_average()
    );
    let mut report = Report::new();
    let start = Instant::now();

    // ---------------------------------------------------------------- W1: FIFO throughput.
    if run("w1") {
        let sizes: Vec<usize> = if quick {
            vec![16, 16 << 10]
        } else {
            (0..=22).step_by(2).map(|e| 1usize << e).collect()
        };
        let base_rounds: u64 = if quick { 2_000_000 } else { 20_000_000 };
        let geo = |x: u64| GeoMean.lift(x as f64);
        let bloom = |x: u64| Bloom::<64>.lift(x);
        let mx = Max::<i64>::new();

        let sum_algos: Vec<Algo> = vec![
            (
                "soe_ring",
                Box::new(|n, r| soe_ring_tput(Sum, |x| x as i64, n, r)),
            ),
            (
                "soe_fifo",
                Box::new(|n, r| fifo_tput(SoeFifo::with_capacity(Sum, n), |x| x as i64, n, r)),
            ),
            (
                "daba_lite",
                Box::new(|n, r| fifo_tput(DabaLite::with_capacity(Sum, n), |x| x as i64, n, r)),
            ),
            (
                "chunked_two_stacks_lite",
                Box::new(|n, r| {
                    fifo_tput(
                        ChunkedTwoStacksLite::with_capacity(Sum, n),
                        |x| x as i64,
                        n,
                        r,
                    )
                }),
            ),
            (
                "two_stacks_lite",
                Box::new(|n, r| {
                    fifo_tput(TwoStacksLite::with_capacity(Sum, n), |x| x as i64, n, r)
                }),
            ),
            (
                "fiba",
                Box::new(|n, r| fiba_tput(Sum, |x| x as i64, n, 0, r / 4)),
            ),
            (
                "recalc",
                Box::new(|n, r| {
                    fifo_tput(
                        Recalc::with_capacity(Sum, n),
                        |x| x as i64,
                        n,
                        (r / n as u64).max(1000),
                    )
                }),
            ),
        ];
        let geo_algos: Vec<Algo> = vec![
            (
                "soe_ring",
                Box::new(|n, r| soe_ring_tput(GeoMean, geo, n, r / 2)),
            ),
            (
                "daba_lite",
                Box::new(|n, r| fifo_tput(DabaLite::with_capacity(GeoMean, n), geo, n, r / 2)),
            ),
            (
                "daba_lite (FastGeoMean)",
                Box::new(|n, r| {
                    fifo_tput(
                        DabaLite::with_capacity(FastGeoMean, n),
                        |x| FastGeoMean.lift(x as f64),
                        n,
                        r / 2,
                    )
                }),
            ),
            (
                "chunked_two_stacks_lite",
                Box::new(|n, r| {
                    fifo_tput(
                        ChunkedTwoStacksLite::with_capacity(GeoMean, n),
                        geo,
                        n,
                        r / 2,
                    )
                }),
            ),
            (
                "two_stacks_lite",
                Box::new(|n, r| fifo_tput(TwoStacksLite::with_capacity(GeoMean, n), geo, n, r / 2)),
            ),
            (
                "fiba",
                Box::new(|n, r| fiba_tput(GeoMean, geo, n, 0, r / 8)),
            ),
        ];
        let max_algos: Vec<Algo> = vec![
            (
                "daba_lite",
                Box::new(|n, r| fifo_tput(DabaLite::with_capacity(mx, n), |x| x as i64, n, r)),
            ),
            (
                "chunked_two_stacks_lite",
                Box::new(|n, r| {
                    fifo_tput(
                        ChunkedTwoStacksLite::with_capacity(mx, n),
                        |x| x as i64,
                        n,
                        r,
                    )
                }),
            ),
            (
                "two_stacks_lite",
                Box::new(|n, r| fifo_tput(TwoStacksLite::with_capacity(mx, n), |x| x as i64, n, r)),
            ),
            (
                "fiba",
                Box::new(|n, r| fiba_tput(mx, |x| x as i64, n, 0, r / 4)),
            ),
        ];
        let bloom_algos: Vec<Algo> = vec![
            (
                "daba_lite",
                Box::new(|n, r| {
                    fifo_tput(DabaLite::with_capacity(Bloom::<64>, n), bloom, n, r / 40)
                }),
            ),
            (
                "chunked_two_stacks_lite",
                Box::new(|n, r| {
                    fifo_tput(
                        ChunkedTwoStacksLite::with_capacity(Bloom::<64>, n),
                        bloom,
                        n,
                        r / 40,
                    )
                }),
            ),
            (
                "two_stacks_lite",
                Box::new(|n, r| {
                    fifo_tput(
                        TwoStacksLite::with_capacity(Bloom::<64>, n),
                        bloom,
                        n,
                        r / 40,
                    )
                }),
            ),
            (
                "fiba",
                Box::new(|n, r| fiba_tput(Bloom::<64>, bloom, n, 0, r / 200)),
            ),
        ];
        let groups: [(&str, &Vec<Algo>, usize); 4] = [
            ("sum", &sum_algos, 1 << 22),
            ("geomean", &geo_algos, 1 << 22),
            ("max", &max_algos, 1 << 22),
            // 512-byte partials: keep the window within memory.
            ("bloom", &bloom_algos, 1 << 16),
        ];
        let mut headline: Vec<(String, f64)> = Vec::new();
        for (agg, algos, max_n) in groups {
            println!(
                "\n== W1 FIFO throughput, {agg}, M rounds/s (median of {reps}; of {} at 16K) ==",
                reps.max(5)
            );
            print!("{:<26}", "n");
            // Sum at every power of two 2^0..2^22 (the IBM FIFO sweep); the other operators
            // at every other one, to keep the run short.
            let ns: Vec<usize> = if agg == "sum" && !quick {
                (0..=22).map(|e| 1usize << e).collect()
            } else {
                sizes.iter().copied().filter(|&n| n <= max_n).collect()
            };
            for &n in &ns {
                print!("{:>9}", fmt_k(n));
            }
            println!();
            let mut table = vec![vec![Vec::new(); ns.len()]; algos.len()];
            for (j, &n) in ns.iter().enumerate() {
                // The headline size (n = 16K, compared with the targets) gets at least 5
                // repetitions: a median of 5 resists the load spikes of a shared machine.
                let r = if n == 1 << 14 { reps.max(5) } else { reps };
                for _ in 0..r {
                    for (i, (name, f)) in algos.iter().enumerate() {
                        if *name == "recalc" && n > 1 << 14 {
                            continue;
                        }
                        if *name == "fiba" && quick && n > 1 << 14 {
                            continue;
                        }
                        table[i][j].push(f(n, base_rounds));
                    }
                }
            }
            for (i, (name, _)) in algos.iter().enumerate() {
                print!("{name:<26}");
                for (j, &n) in ns.iter().enumerate() {
                    let m = median(&mut table[i][j]);
                    if m.is_nan() {
                        print!("{:>9}", "-");
                    } else {
                        print!("{m:>9.1}");
                    }
                    if n == 1 << 14 {
                        headline.push((format!("{agg}_{name}"), m));
                    }
                }
                println!();
            }
        }
        let get = |k: &str| {
            headline
                .iter()
                .find(|(n, _)| n == k)
                .map_or(f64::NAN, |(_, v)| *v)
        };
        // Headlines at n = 16K against swag.md §6 / the targets.
        for (name, key, target) in [
            ("soe_sum_mrounds", "sum_soe_ring", 330.0),
            ("soe_fifo_sum_mrounds", "sum_soe_fifo", 330.0),
            ("daba_lite_sum_mrounds", "sum_daba_lite", 110.0),
            (
                "chunked_tsl_sum_mrounds",
                "sum_chunked_two_stacks_lite",
                195.0,
            ),
            ("tsl_sum_mrounds", "sum_two_stacks_lite", 100.0),
            ("daba_lite_geomean_mrounds", "geomean_daba_lite", 37.0),
            (
                "daba_lite_fast_geomean_mrounds",
                "geomean_daba_lite (FastGeoMean)",
                37.0,
            ),
            ("daba_lite_bloom_mrounds", "bloom_daba_lite", 2.2),
        ] {
            let v = get(key);
            report.add(name, v);
            report.add(format!("{name}_vs_target"), v / target);
        }
        report.add(
            "daba_vs_recalc_sum_16k",
            get("sum_daba_lite") / get("sum_recalc"),
        );
    }
    // ---------------------------------------------------------------- W2: latency.
    if run("w2") {
        let lat_rounds = if quick { 1_000_000 } else { 10_000_000 };
        let mut buf = Vec::with_capacity(lat_rounds);
        println!(
            "\n== W2 per-round latency, sum, ns (Instant around each round; {lat_rounds} rounds) =="
        );
        println!(
            "{:<32}{:>8}{:>10}{:>11}{:>12}",
            "algo, n", "p50", "p99.9", "p99.999", "max"
        );
        let floor = empty_latency(lat_rounds, &mut buf);
        println!(
            "{:<32}{:>8}{:>10}{:>11}{:>12}",
            "empty round (noise floor)", floor[0], floor[1], floor[2], floor[3]
        );
        report.add("noise_floor_max_us", floor[3] as f64 / 1e3);
        for n in [1usize << 14, 1 << 22] {
            let rows: [(&str, [u64; 4]); 4] = [
                ("soe_ring", soe_ring_latency(n, lat_rounds, &mut buf)),
                (
                    "daba_lite",
                    fifo_latency(
                        DabaLite::with_capacity(Sum, n),
                        |x| x as i64,
                        n,
                        lat_rounds,
                        &mut buf,
                    ),
                ),
                (
                    "two_stacks_lite",
                    fifo_latency(
                        TwoStacksLite::with_capacity(Sum, n),
                        |x| x as i64,
                        n,
                        lat_rounds,
                        &mut buf,
                    ),
                ),
                (
                    "chunked_two_stacks_lite",
                    fifo_latency(
                        ChunkedTwoStacksLite::with_capacity(Sum, n),
                        |x| x as i64,
                        n,
                        lat_rounds,
                        &mut buf,
                    ),
                ),
            ];
            for (name, l) in rows {
                println!(
                    "{:<32}{:>8}{:>10}{:>11}{:>12}",
                    format!("{name}, {}", fmt_k(n)),
                    l[0],
                    l[1],
                    l[2],
                    l[3]
                );
                if n == 1 << 22 {
                    report.add(format!("{name}_4m_max_latency_us"), l[3] as f64 / 1e3);
                }
            }
        }
        let n = 1 << 14;
        let b = |x: u64| Bloom::<64>.lift(x);
        let lat_b = lat_rounds / 10;
        for (name, l) in [
            (
                "daba_lite bloom",
                fifo_latency(
                    DabaLite::with_capacity(Bloom::<64>, n),
                    b,
                    n,
                    lat_b,
                    &mut buf,
                ),
            ),
            (
                "two_stacks_lite bloom",
                fifo_latency(
                    TwoStacksLite::with_capacity(Bloom::<64>, n),
                    b,
                    n,
                    lat_b,
                    &mut buf,
                ),
            ),
        ] {
            println!(
                "{:<32}{:>8}{:>10}{:>11}{:>12}",
                format!("{name}, {}", fmt_k(n)),
                l[0],
                l[1],
                l[2],
                l[3]
            );
        }
    }
    // ---------------------------------------------------------------- Operator calls, bytes.
    if run("w2") {
        // FiBA per-round latency at n = 2^20, in order and at d = n/4 (the IBM out-of-order
        // latency experiment takes d = 0 and d = n/4).
        let n = 1usize << 20;
        let rounds = if quick { 200_000 } else { 2_000_000 };
        let mut buf = Vec::with_capacity(rounds);
        for d in [0usize, n / 4] {
            let l = fiba_latency(n, d, rounds, &mut buf);
            println!(
                "{:<32}{:>8}{:>10}{:>11}{:>12}",
                format!("fiba d={}, {}", fmt_k(d), fmt_k(n)),
                l[0],
                l[1],
                l[2],
                l[3]
            );
            if d == 0 {
                report.add("fiba_1m_max_latency_us", l[3] as f64 / 1e3);
            }
        }
    }

    // ---------------------------------------------------------------- W6: bulk evict.
    if run("bulk") {
        let n: usize = if quick { 1 << 16 } else { 1 << 22 };
        let bs: &[usize] = if quick {
            &[1, 1024]
        } else {
            &[1, 256, 1024, 1 << 14, 1 << 16, 1 << 20]
        };
        let items: u64 = if quick { 2_000_000 } else { 8_000_000 };
        println!(
            "\n== W6 bulk evict, sum, n={}: per step b in-order inserts, one eviction of the b \
             oldest, one query; M items/s ==",
            fmt_k(n)
        );
        print!("{:<26}", "b");
        for &b in bs {
            print!("{:>9}", fmt_k(b));
        }
        println!();
        let algos: Vec<Algo> = vec![
            ("soe_ring", Box::new(|b, it| bulk_soe(n, b, it))),
            (
                "daba_lite",
                Box::new(|b, it| bulk_fifo(DabaLite::with_capacity(Sum, n + b), n, b, it)),
            ),
            (
                "chunked_two_stacks_lite",
                Box::new(|b, it| {
                    bulk_fifo(ChunkedTwoStacksLite::with_capacity(Sum, n + b), n, b, it)
                }),
            ),
            ("fiba", Box::new(|b, it| bulk_fiba(n, b, it / 2))),
        ];
        let mut table = vec![vec![Vec::new(); bs.len()]; algos.len()];
        for (j, &b) in bs.iter().enumerate() {
            for _ in 0..reps {
                for (i, (_, f)) in algos.iter().enumerate() {
                    table[i][j].push(f(b, items));
                }
            }
        }
        for (i, (name, _)) in algos.iter().enumerate() {
            print!("{name:<26}");
            for (j, &b) in bs.iter().enumerate() {
                let m = median(&mut table[i][j]);
                print!("{m:>9.1}");
                if b == 1024 {
                    report.add(format!("bulk_1k_{name}_mitems"), m);
                }
            }
            println!();
        }
    }

    if run("calls") {
        let cn = if quick { 1 << 10 } else { 1 << 14 };
        let cr = 4 * cn;
        println!(
            "\n== max operator calls per operation (combine + inverse), n={}, {cr} rounds ==",
            fmt_k(cn)
        );
        println!("{:<26}{:>8}{:>8}{:>8}", "algo", "insert", "evict", "query");
        let calls: [(&str, [u64; 3]); 6] = [
            ("soe_ring", soe_ring_calls(cn, cr)),
            (
                "soe_fifo",
                fifo_calls(SoeFifo::new(CountingOp::new(Sum)), cn, cr),
            ),
            (
                "daba_lite",
                fifo_calls(DabaLite::new(CountingOp::new(Sum)), cn, cr),
            ),
            (
                "two_stacks_lite",
                fifo_calls(TwoStacksLite::new(CountingOp::new(Sum)), cn, cr),
            ),
            (
                "chunked_two_stacks_lite",
                fifo_calls(ChunkedTwoStacksLite::new(CountingOp::new(Sum)), cn, cr),
            ),
            ("fiba (d=0)", fiba_calls(cn, 0, cr)),
        ];
        for (name, c) in calls {
            println!("{name:<26}{:>8}{:>8}{:>8}", c[0], c[1], c[2]);
            if name == "daba_lite" {
                report.add(
                    "daba_lite_max_calls_per_op",
                    c.iter().copied().max().unwrap_or(0) as f64,
                );
            }
            if name == "soe_ring" {
                report.add(
                    "soe_ring_max_calls_per_op",
                    c.iter().copied().max().unwrap_or(0) as f64,
                );
            }
        }
        if !quick {
            // The deterministic worst case at n = 4M: Two-Stacks Lite's first evict after the
            // pre-fill flips all 4M items; DABA Lite stays at its constant.
            let big = 1 << 22;
            let d = fifo_calls(
                DabaLite::with_capacity(CountingOp::new(Sum), big),
                big,
                1000,
            );
            let t = fifo_calls(
                TwoStacksLite::with_capacity(CountingOp::new(Sum), big),
                big,
                1000,
            );
            println!(
                "daba_lite, n=4M           {:>8}{:>8}{:>8}",
                d[0], d[1], d[2]
            );
            println!(
                "two_stacks_lite, n=4M     {:>8}{:>8}{:>8}",
                t[0], t[1], t[2]
            );
            report.add(
                "daba_lite_4m_max_calls_per_op",
                d.iter().copied().max().unwrap_or(0) as f64,
            );
            report.add(
                "tsl_4m_max_calls_per_op",
                t.iter().copied().max().unwrap_or(0) as f64,
            );
        }
        println!("\n== bytes per item (sum, n={}) ==", fmt_k(cn));
        let bpi = |bytes: usize| bytes as f64 / cn as f64;
        {
            let mut d = DabaLite::with_capacity(Sum, cn);
            let mut t = TwoStacksLite::with_capacity(Sum, cn);
            let mut c = ChunkedTwoStacksLite::with_capacity(Sum, cn);
            let mut s = SoeFifo::with_capacity(Sum, cn);
            let r = SoeRing::new(Sum, cn, 1);
            let mut f = Fiba::new(Sum);
            for i in 0..cn as i64 {
                d.insert(i);
                t.insert(i);
                c.insert(i);
                s.insert(i);
                f.insert(i, i);
            }
            for (name, b) in [
                ("soe_ring (per slot)", r.storage_bytes()),
                ("soe_fifo", s.storage_bytes()),
                ("daba_lite", d.storage_bytes()),
                ("two_stacks_lite", t.storage_bytes()),
                ("chunked_two_stacks_lite", c.storage_bytes()),
                ("fiba", f.storage_bytes()),
            ] {
                println!("{name:<26}{:>8.1}", bpi(b));
            }
        }
    }
    // ---------------------------------------------------------------- W4: FiBA out of order.
    if run("w4") {
        let fn_ = 1usize << 20;
        let ds: &[usize] = if quick {
            &[0, 1024]
        } else {
            &[0, 16, 1024, 1 << 16, 1 << 18]
        };
        let fr: u64 = if quick { 1_000_000 } else { 4_000_000 };
        println!("\n== W4 FiBA sum, n=1M, every insert exactly d behind the newest, M rounds/s ==");
        let mut fib = vec![Vec::new(); ds.len()];
        let mut soe = vec![Vec::new(); ds.len()];
        for _ in 0..reps {
            for (i, &d) in ds.iter().enumerate() {
                fib[i].push(fiba_tput(Sum, |x| x as i64, fn_, d, fr));
                soe[i].push(soe_ooo_tput(fn_, d, fr * 4));
            }
        }
        println!("{:<10}{:>10}{:>12}", "d", "fiba", "soe_ring");
        for (i, &d) in ds.iter().enumerate() {
            let (f, s) = (median(&mut fib[i]), median(&mut soe[i]));
            println!("{:<10}{f:>10.2}{s:>12.1}", fmt_k(d));
            match d {
                0 => {
                    report.add("fiba_inorder_mrounds", f);
                    report.add("fiba_inorder_vs_target", f / 17.0);
                }
                1024 => {
                    report.add("fiba_d1k_mrounds", f);
                    report.add("fiba_d1k_vs_target", f / 7.0);
                    report.add("soe_vs_fiba_d1k", s / f);
                }
                _ => {}
            }
        }
    }
    // ---------------------------------------------------------------- W5: heavy-tail lateness.
    if run("w5") {
        // The Citi Bike lateness profile (FiBA paper: 99% at most 9 late, mean near 56, rare
        // stragglers near 1M), the same draw as the tests' `heavy_tail` generator.
        let n = 1usize << 20;
        let count = if quick { 1_000_000 } else { 4_000_000 };
        let late = heavy_tail_lateness(count, 1 << 20);
        let mean = late.iter().map(|&l| f64::from(l)).sum::<f64>() / count as f64;
        println!(
            "\n== W5 heavy-tail lateness (99% <= 9, mean {mean:.1}, max 1M), sum, n=1M time \
             units, M rounds/s =="
        );
        let mut f = Vec::new();
        let mut r = Vec::new();
        for _ in 0..reps {
            f.push(fiba_heavy_tail(n, &late));
            r.push(soe_heavy_tail(n, &late));
        }
        let (f, r) = (median(&mut f), median(&mut r));
        println!("{:<26}{f:>9.2}", "fiba");
        println!("{:<26}{r:>9.1}", "soe_ring (drops > window)");
        report.add("fiba_heavy_tail_mrounds", f);
    }
    // ---------------------------------------------------------------- Sliding windows.
    if run("sliding") {
        let events: i64 = if quick { 2_000_000 } else { 20_000_000 };
        println!(
            "\n== sliding windows (sum), M events/s: slices shared vs copy-per-window vs recompute =="
        );
        println!(
            "{:<18}{:>10}{:>14}{:>12}",
            "size/slide", "slices", "copy (Flink)", "recompute"
        );
        for (size, slide) in [(1000i64, 100i64), (10_000, 100), (3600, 60)] {
            let mut r = [Vec::new(), Vec::new(), Vec::new()];
            for _ in 0..reps {
                let x = sliding_tput(size, slide, events);
                for k in 0..3 {
                    r[k].push(x[k]);
                }
            }
            let [a, b, c] = r.map(|mut v| median(&mut v));
            println!(
                "{:<18}{a:>10.1}{b:>14.1}{c:>12.1}",
                format!("{size}/{slide}")
            );
            if (size, slide) == (10_000, 100) {
                report.add("sliding_slices_vs_copy", a / b);
                report.add("sliding_slices_vs_recompute", a / c);
            }
        }
    }
    println!("\ntotal time {:.1} s", start.elapsed().as_secs_f64());
    report.finish();
    Ok(())
}

/// The SoE ring with every insert `d` time units behind the end of a window of `n` slots (the
/// ring holds `n + d` slots so that lateness is admitted).
#[inline(never)]
fn soe_ooo_tput(n: usize, d: usize, rounds: u64) -> f64 {
    let mut w = SoeRing::new(Sum, n + d + 1, 1);
    let mut v = Vals(1);
    let n = n as i64;
    let d = d as i64;
    for t in 0..n {
        let _ = w.insert(t, &(v.next() as i64));
    }
    let t0 = Instant::now();
    for t in n..n + rounds as i64 {
        w.evict_upto(t - n - d + 1);
        let _ = w.insert(t - d, &(v.next() as i64));
        black_box(*w.query());
    }
    let s = t0.elapsed().as_secs_f64();
    rounds as f64 / s / 1e6
}

/// Per-round latency (ns) of FiBA at size `n` with every insert `d` behind the newest item
/// (as in [`fiba_tput`]): (p50, p99.9, p99.999, max).
#[inline(never)]
fn fiba_latency(n: usize, d: usize, rounds: usize, buf: &mut Vec<u64>) -> [u64; 4] {
    let mut w = Fiba::new(Sum);
    let mut v = Vals(1);
    let (n, d) = (n as i64, d as i64);
    for t in (0..n - d).chain(FUTURE..FUTURE + d) {
        w.insert(t, v.next() as i64);
    }
    buf.clear();
    for i in 0..rounds as i64 {
        let t0 = Instant::now();
        w.evict_upto(i + 1);
        w.insert(n - d + i, v.next() as i64);
        black_box(w.query());
        buf.push(t0.elapsed().as_nanos() as u64);
    }
    buf.sort_unstable();
    [
        percentile(buf, 0.5),
        percentile(buf, 0.999),
        percentile(buf, 0.99999),
        *buf.last().unwrap_or(&0),
    ]
}

/// W6 for a FIFO aggregator: pre-filled to `n`, then steps of `b` inserts, `b` evicts and one
/// query over about `items` items; M items/s.
#[inline(never)]
fn bulk_fifo<W: FifoAggregator<Sum>>(mut w: W, n: usize, b: usize, items: u64) -> f64 {
    let mut v = Vals(1);
    for _ in 0..n {
        w.insert(v.next() as i64);
    }
    let steps = (items / b as u64).max(1);
    let t0 = Instant::now();
    for _ in 0..steps {
        for _ in 0..b {
            w.insert(v.next() as i64);
        }
        for _ in 0..b {
            w.evict();
        }
        black_box(w.query());
    }
    (steps * b as u64) as f64 / t0.elapsed().as_secs_f64() / 1e6
}

/// W6 for FiBA: `b` in-order inserts, then one `evict_upto` that drops the `b` oldest.
#[inline(never)]
fn bulk_fiba(n: usize, b: usize, items: u64) -> f64 {
    let mut w = Fiba::new(Sum);
    let mut v = Vals(1);
    let n = n as i64;
    for t in 0..n {
        w.insert(t, v.next() as i64);
    }
    let steps = (items / b as u64).max(1);
    let (mut next, mut oldest) = (n, 0i64);
    let b = b as i64;
    let t0 = Instant::now();
    for _ in 0..steps {
        for t in next..next + b {
            w.insert(t, v.next() as i64);
        }
        next += b;
        oldest += b;
        w.evict_upto(oldest);
        black_box(w.query());
    }
    (steps * b as u64) as f64 / t0.elapsed().as_secs_f64() / 1e6
}

/// W6 for the SoE ring (one slot per time unit, `n + b` slots): `b` inserts, then one
/// `evict_upto` over the `b` oldest slots.
#[inline(never)]
fn bulk_soe(n: usize, b: usize, items: u64) -> f64 {
    let mut w = SoeRing::new(Sum, n + b + 1, 1);
    let mut v = Vals(1);
    let n = n as i64;
    for t in 0..n {
        let _ = w.insert(t, &(v.next() as i64));
    }
    let steps = (items / b as u64).max(1);
    let mut next = n;
    let bi = b as i64;
    let t0 = Instant::now();
    for _ in 0..steps {
        for t in next..next + bi {
            let _ = w.insert(t, &(v.next() as i64));
        }
        next += bi;
        w.evict_upto(next - n);
        black_box(*w.query());
    }
    (steps * b as u64) as f64 / t0.elapsed().as_secs_f64() / 1e6
}

/// `count` lateness draws of the Citi Bike profile (as `tests/common`'s `heavy_tail`): 99%
/// uniform in 0..10, else a Pareto tail (shape 0.52, scale 10) capped at `max_late`.
fn heavy_tail_lateness(count: usize, max_late: u64) -> Vec<u32> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut unit = move || (next() >> 11) as f64 / (1u64 << 53) as f64;
    (0..count)
        .map(|_| {
            if unit() < 0.99 {
                (unit() * 10.0) as u32
            } else {
                let u = (1.0 - unit()).max(1e-300);
                let l = 10.0 / u.powf(1.0 / 0.52);
                (l.min(max_late as f64) as u32).max(10)
            }
        })
        .collect()
}

/// W5 for FiBA: a window of `n` time units; event `i` arrives at time `now = n + i` with time
/// `now - late[i]`; each round evicts times before `now + 1 - n`, inserts, queries.
#[inline(never)]
fn fiba_heavy_tail(n: usize, late: &[u32]) -> f64 {
    let mut w = Fiba::new(Sum);
    let mut v = Vals(1);
    let n = n as i64;
    for t in 0..n {
        w.insert(t, v.next() as i64);
    }
    let t0 = Instant::now();
    for (i, &l) in late.iter().enumerate() {
        let now = n + i as i64;
        w.evict_upto(now + 1 - n);
        w.insert(now - i64::from(l), v.next() as i64);
        black_box(w.query());
    }
    late.len() as f64 / t0.elapsed().as_secs_f64() / 1e6
}

/// W5 for the SoE ring (`n + 1` slots of one time unit): events later than the window are
/// rejected (counted by the ring), the rest land in their slot.
#[inline(never)]
fn soe_heavy_tail(n: usize, late: &[u32]) -> f64 {
    let mut w = SoeRing::new(Sum, n + 1, 1);
    let mut v = Vals(1);
    let n = n as i64;
    for t in 0..n {
        let _ = w.insert(t, &(v.next() as i64));
    }
    let t0 = Instant::now();
    for (i, &l) in late.iter().enumerate() {
        let now = n + i as i64;
        w.evict_upto(now + 1 - n);
        let _ = w.insert(now - i64::from(l), &(v.next() as i64));
        black_box(*w.query());
    }
    late.len() as f64 / t0.elapsed().as_secs_f64() / 1e6
}
