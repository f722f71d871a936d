//! `layout`: encode and decode of a Nexmark Bid, lute-layout's fixed layout and zero-copy
//! view against serde + postcard, in the same run; the view's read bandwidth against memcpy.
//!
//! Every repetition runs every measurement once, interleaved, over the same bids; medians of
//! the repetitions are reported. Before timing, both formats are decoded once and checked
//! against the source bids (correctness first).
//!
//! Measurements (all over `n` bids, each pass repeated `passes` times per repetition):
//! - `encode fixed`: `BidRef::encode` with a `U32` length prefix, into a reused buffer.
//! - `encode postcard`: `postcard::to_extend` of a borrowed serde struct, into a reused buffer.
//! - `decode view`: `BidView::new` per record (bounds + UTF-8 validation) and every field read.
//! - `decode postcard`: `postcard::take_from_bytes` into a borrowing serde struct (`&str`
//!   fields, UTF-8 validated), every field read. The like-for-like peer of `decode view`.
//! - `decode fixed owned` / `decode postcard owned`: into an owned `Bid` (three `String`s).
//! - `encode batch (+CRC)`: `BidRef::push_to` into a reused `BatchBuilder`, then the batch
//!   frame with header and CRC-32C.
//! - `decode batch view`: `BidBatch::new` (batch layout, one UTF-8 pass over the string heap)
//!   and every field of every `BidView` read; the frame's CRC is checked once outside the loop.
//! - `frame check (CRC-32C)`: `Frame::decode` of the whole fixed buffer as one frame (CRC-32C).
//! - `memcpy`: `copy_from_slice` of the fixed buffer: the bandwidth peer of `decode view`.
//!
//! Two sizes: a cache-resident batch of 2,000 bids (headline figures) and 200,000 bids
//! (`_dram` figures, beyond the caches). Usage: `layout [--quick] [--reps N]`; `--quick`
//! decodes 200,000 records per measurement instead of 4,000,000 and uses 20,000 bids for the
//! large size.

use std::hint::black_box;
use std::time::Instant;

use anyhow::{Context, ensure};
use lute_bench::{Args, Report, load_average, median, pin_current};
use lute_layout::batch::BatchBuilder;
use lute_layout::bid::{self, BidBatch, BidRef, BidView, RawBidView};
use lute_layout::{Frame, FrameBuilder, Kind, Limits, Records};
use serde::{Deserialize, Serialize};

/// The postcard peer, borrowing its strings (like-for-like with the view).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct PBidRef<'a> {
    auction: u64,
    bidder: u64,
    price: u64,
    #[serde(borrow)]
    channel: &'a str,
    #[serde(borrow)]
    url: &'a str,
    date_time: i64,
    #[serde(borrow)]
    extra: &'a str,
}

/// The postcard peer that skips UTF-8 validation (strings as borrowed bytes: the same bytes on
/// the wire as `&str`), like-for-like with the raw view.
#[derive(Debug, Deserialize)]
struct PBidRaw<'a> {
    auction: u64,
    bidder: u64,
    price: u64,
    #[serde(borrow)]
    channel: &'a [u8],
    #[serde(borrow)]
    url: &'a [u8],
    date_time: i64,
    #[serde(borrow)]
    extra: &'a [u8],
}

/// The postcard peer, owning its strings.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct PBid {
    auction: u64,
    bidder: u64,
    price: u64,
    channel: String,
    url: String,
    date_time: i64,
    extra: String,
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn letters(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'a' + self.below(26) as u8))
            .collect()
    }
}

/// Bids shaped like Nexmark's generator: hot auctions and bidders, log-uniform prices, one of
/// four hot channels half of the time, a product URL, millisecond event times and padding.
fn generate(n: usize) -> Vec<bid::Bid> {
    const HOT: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let base_ms = 1_700_000_000_000i64;
    (0..n)
        .map(|i| {
            let auction = if r.below(2) == 0 {
                1000 + (i as u64 / 100) * 100
            } else {
                1000 + r.below(110) + i as u64 / 50
            };
            let bidder = if r.below(4) < 3 {
                1000 + (i as u64 / 1000) * 1000
            } else {
                1000 + r.below(1000) + i as u64 / 50
            };
            let price = 100 * 10f64.powf(r.below(6_000_000) as f64 / 1_000_000.0) as u64;
            let (channel, url) = if r.below(2) == 0 {
                let c = HOT[r.below(4) as usize];
                (
                    c.to_owned(),
                    format!(
                        "https://www.nexmark.com/{}/item.htm?query=1",
                        c.to_lowercase()
                    ),
                )
            } else {
                let id = r.below(10_000);
                (
                    format!("channel-{id}"),
                    format!(
                        "https://www.nexmark.com/{}/{}/{}/item.htm?query=1&channel_id={id}",
                        r.letters(5),
                        r.letters(5),
                        r.letters(5)
                    ),
                )
            };
            let extra_len = r.below(24) as usize;
            bid::Bid {
                auction,
                bidder,
                price,
                channel,
                url,
                date_time: base_ms + i as i64,
                extra: r.letters(extra_len),
            }
        })
        .collect()
}

fn pref(b: &bid::Bid) -> PBidRef<'_> {
    PBidRef {
        auction: b.auction,
        bidder: b.bidder,
        price: b.price,
        channel: &b.channel,
        url: &b.url,
        date_time: b.date_time,
        extra: &b.extra,
    }
}

/// Folds every field of a bid into a checksum (so no read can be optimised away, and both
/// formats can be checked to read the same values).
#[inline(always)]
fn fold(acc: u64, b: BidRef<'_>) -> u64 {
    acc.wrapping_mul(31)
        .wrapping_add(b.auction)
        .wrapping_add(b.bidder.rotate_left(7))
        .wrapping_add(b.price.rotate_left(13))
        .wrapping_add(b.date_time as u64)
        .wrapping_add(b.channel.len() as u64)
        .wrapping_add((b.url.len() as u64) << 8)
        .wrapping_add((b.extra.len() as u64) << 16)
        .wrapping_add(u64::from(b.url.as_bytes().last().copied().unwrap_or(0)))
}

fn encode_fixed(bids: &[bid::Bid], out: &mut Vec<u8>) -> anyhow::Result<()> {
    out.clear();
    for b in bids {
        let r = b.as_bid_ref();
        out.extend_from_slice(&(r.encoded_len() as u32).to_le_bytes());
        r.encode(out)?;
    }
    Ok(())
}

fn encode_postcard(bids: &[bid::Bid], out: &mut Vec<u8>) -> anyhow::Result<()> {
    out.clear();
    let mut v = std::mem::take(out);
    for b in bids {
        v = postcard::to_extend(&pref(b), v)?;
    }
    *out = v;
    Ok(())
}

fn decode_view(buf: &[u8]) -> anyhow::Result<(u64, usize)> {
    let mut acc = 0;
    let mut n = 0;
    for rec in Records::new(buf) {
        let v = BidView::new(rec?)?;
        acc = fold(acc, v.as_bid_ref());
        n += 1;
    }
    Ok((acc, n))
}

/// Folds every field, strings as bytes (for the paths that skip UTF-8 validation).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fold_raw(
    acc: u64,
    auction: u64,
    bidder: u64,
    price: u64,
    channel: &[u8],
    url: &[u8],
    date_time: i64,
    extra: &[u8],
) -> u64 {
    acc.wrapping_mul(31)
        .wrapping_add(auction)
        .wrapping_add(bidder.rotate_left(7))
        .wrapping_add(price.rotate_left(13))
        .wrapping_add(date_time as u64)
        .wrapping_add(channel.len() as u64)
        .wrapping_add((url.len() as u64) << 8)
        .wrapping_add((extra.len() as u64) << 16)
        .wrapping_add(u64::from(url.last().copied().unwrap_or(0)))
}

fn decode_raw_view(buf: &[u8]) -> anyhow::Result<(u64, usize)> {
    let mut acc = 0;
    let mut n = 0;
    for rec in Records::new(buf) {
        let v = RawBidView::new(rec?)?;
        acc = fold_raw(
            acc,
            v.auction(),
            v.bidder(),
            v.price(),
            v.channel_bytes(),
            v.url_bytes(),
            v.date_time(),
            v.extra_bytes(),
        );
        n += 1;
    }
    Ok((acc, n))
}

fn decode_postcard_raw(buf: &[u8]) -> anyhow::Result<(u64, usize)> {
    let mut acc = 0;
    let mut n = 0;
    let mut rest = buf;
    while !rest.is_empty() {
        let (b, r): (PBidRaw<'_>, _) = postcard::take_from_bytes(rest)?;
        rest = r;
        acc = fold_raw(
            acc,
            b.auction,
            b.bidder,
            b.price,
            b.channel,
            b.url,
            b.date_time,
            b.extra,
        );
        n += 1;
    }
    Ok((acc, n))
}

fn encode_batch(
    bids: &[bid::Bid],
    builder: &mut BatchBuilder,
    out: &mut Vec<u8>,
    limits: &Limits,
) -> anyhow::Result<()> {
    out.clear();
    for b in bids {
        b.as_bid_ref().push_to(builder)?;
    }
    builder.finish_with_limits(out, bid::schema().id(), limits)?;
    Ok(())
}

fn decode_batch(frame: &Frame<'_>) -> anyhow::Result<(u64, usize)> {
    let batch = BidBatch::new(frame)?;
    let mut acc = 0;
    let mut n = 0;
    for v in batch.iter() {
        acc = fold(acc, v?.as_bid_ref());
        n += 1;
    }
    Ok((acc, n))
}

fn decode_fixed_owned(buf: &[u8]) -> anyhow::Result<(u64, usize)> {
    let mut acc = 0;
    let mut n = 0;
    for rec in Records::new(buf) {
        let b = BidView::new(rec?)?.as_bid_ref().to_bid();
        acc = fold(acc, b.as_bid_ref());
        n += 1;
        drop(black_box(b));
    }
    Ok((acc, n))
}

fn decode_postcard(buf: &[u8]) -> anyhow::Result<(u64, usize)> {
    let mut acc = 0;
    let mut n = 0;
    let mut rest = buf;
    while !rest.is_empty() {
        let (b, r): (PBidRef<'_>, _) = postcard::take_from_bytes(rest)?;
        rest = r;
        acc = fold(
            acc,
            BidRef {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                channel: b.channel,
                url: b.url,
                date_time: b.date_time,
                extra: b.extra,
            },
        );
        n += 1;
    }
    Ok((acc, n))
}

fn decode_postcard_owned(buf: &[u8]) -> anyhow::Result<(u64, usize)> {
    let mut acc = 0;
    let mut n = 0;
    let mut rest = buf;
    while !rest.is_empty() {
        let (b, r): (PBid, _) = postcard::take_from_bytes(rest)?;
        rest = r;
        acc = fold(
            acc,
            BidRef {
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                channel: &b.channel,
                url: &b.url,
                date_time: b.date_time,
                extra: &b.extra,
            },
        );
        n += 1;
        drop(black_box(b));
    }
    Ok((acc, n))
}

/// Runs `f` `passes` times and returns seconds per pass.
fn time_passes(passes: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let t = Instant::now();
    for _ in 0..passes {
        f()?;
    }
    Ok(t.elapsed().as_secs_f64() / passes as f64)
}

const NAMES: [&str; 12] = [
    "encode fixed",
    "encode postcard",
    "decode view",
    "decode postcard",
    "decode fixed owned",
    "decode postcard owned",
    "frame check (CRC-32C)",
    "memcpy",
    "decode raw view",
    "decode postcard raw",
    "encode batch (+CRC)",
    "decode batch view",
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    ensure!(args.rest.is_empty(), "unknown arguments {:?}", args.rest);
    let pinned = pin_current(0);
    println!("layout: {} reps, pinned to core {pinned:?}", args.reps);
    println!("load average at start: {}", load_average());
    // Records decoded per measurement (spread over passes over the same buffer).
    let per_measurement = if args.quick { 200_000 } else { 4_000_000 };
    let mut report = Report::new();
    // Cache-resident: a 2,000-bid batch (~280 KB, within the 512 KB L2), the case of a frame
    // decoded right after it arrived; headline names. Out of cache: 200,000 bids (~28 MB per
    // buffer; with memcpy's destination, beyond the 32 MB L3), suffix `_dram`.
    let big = if args.quick { 20_000 } else { 200_000 };
    for (n, suffix) in [(2_000, ""), (big, "_dram")] {
        run_config(n, per_measurement / n, args.reps, suffix, &mut report)?;
    }
    report.finish();
    Ok(())
}

/// Measures every case over `n` bids, `passes` passes per measurement, and adds the headline
/// ratios to `report` with `suffix`.
fn run_config(
    n: usize,
    passes: usize,
    reps: usize,
    suffix: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    println!("\n--- {n} Nexmark-shaped bids, {passes} passes per measurement ---");
    let bids = generate(n);
    let mut fixed = Vec::new();
    encode_fixed(&bids, &mut fixed)?;
    let mut pc = Vec::new();
    encode_postcard(&bids, &mut pc)?;
    println!(
        "encoded size: fixed {} B ({:.1} B/bid incl. 4 B length prefix), postcard {} B ({:.1} B/bid)",
        fixed.len(),
        fixed.len() as f64 / n as f64,
        pc.len(),
        pc.len() as f64 / n as f64
    );

    // Correctness first: both formats read back exactly the generated bids.
    let expect = bids.iter().fold(0, |a, b| fold(a, b.as_bid_ref()));
    let expect_raw = bids.iter().fold(0, |a, b| {
        fold_raw(
            a,
            b.auction,
            b.bidder,
            b.price,
            b.channel.as_bytes(),
            b.url.as_bytes(),
            b.date_time,
            b.extra.as_bytes(),
        )
    });
    ensure!(
        decode_raw_view(&fixed)? == (expect_raw, n),
        "raw view differs"
    );
    ensure!(
        decode_postcard_raw(&pc)? == (expect_raw, n),
        "postcard raw differs"
    );
    for (name, got) in [
        ("view", decode_view(&fixed)?),
        ("fixed owned", decode_fixed_owned(&fixed)?),
        ("postcard", decode_postcard(&pc)?),
        ("postcard owned", decode_postcard_owned(&pc)?),
    ] {
        ensure!(got == (expect, n), "{name} decoded different values");
    }
    let back: Vec<bid::Bid> = Records::new(&fixed)
        .map(|r| Ok(BidView::new(r?)?.as_bid_ref().to_bid()))
        .collect::<anyhow::Result<_>>()?;
    ensure!(back == bids, "fixed layout round trip differs");
    let mut framed = Vec::with_capacity(fixed.len() + 64);
    let mut fb = FrameBuilder::new(&mut framed, Kind::Data, bid::schema().id());
    fb.push_raw(&fixed);
    fb.finish()?;
    let limits = Limits {
        max_payload: u32::MAX,
    };
    ensure!(bid::views(&Frame::decode(&framed, &limits)?.0)?.count() == n);

    // The same bids as one batch frame (strings in a shared heap); decoded once here to check
    // it, and its header and CRC are checked once outside the timed loop (like the other
    // formats, which carry no checksum), so the timed work is the batch validation (one UTF-8
    // pass over the heap) and the per-record views.
    let mut builder = BatchBuilder::for_schema(bid::schema());
    let mut batch_buf = Vec::new();
    encode_batch(&bids, &mut builder, &mut batch_buf, &limits)?;
    let (batch_frame, _) = Frame::decode(&batch_buf, &limits)?;
    ensure!(
        decode_batch(&batch_frame)? == (expect, n),
        "batch decoded different values"
    );

    let mut enc_buf = Vec::with_capacity(fixed.len().max(pc.len()));
    let mut dst = vec![0u8; fixed.len()];
    let mut secs: Vec<Vec<f64>> = vec![Vec::new(); NAMES.len()];
    // Repetition 0 warms up (page faults of the buffers, caches, branch predictors) and is
    // not counted.
    for rep in 0..=reps {
        let mut run = |i: usize, s: f64| {
            if rep > 0 {
                secs[i].push(s);
            }
        };
        run(
            0,
            time_passes(passes, || encode_fixed(black_box(&bids), &mut enc_buf))?,
        );
        black_box(&enc_buf);
        run(
            1,
            time_passes(passes, || encode_postcard(black_box(&bids), &mut enc_buf))?,
        );
        black_box(&enc_buf);
        run(
            2,
            time_passes(passes, || {
                black_box(decode_view(black_box(&fixed))?);
                Ok(())
            })?,
        );
        run(
            3,
            time_passes(passes, || {
                black_box(decode_postcard(black_box(&pc))?);
                Ok(())
            })?,
        );
        run(
            4,
            time_passes(passes, || {
                black_box(decode_fixed_owned(black_box(&fixed))?);
                Ok(())
            })?,
        );
        run(
            5,
            time_passes(passes, || {
                black_box(decode_postcard_owned(black_box(&pc))?);
                Ok(())
            })?,
        );
        run(
            6,
            time_passes(passes, || {
                black_box(Frame::decode(black_box(&framed), &limits).context("frame")?);
                Ok(())
            })?,
        );
        run(
            7,
            time_passes(passes, || {
                dst.copy_from_slice(black_box(&fixed));
                black_box(&dst);
                Ok(())
            })?,
        );
        run(
            8,
            time_passes(passes, || {
                black_box(decode_raw_view(black_box(&fixed))?);
                Ok(())
            })?,
        );
        run(
            9,
            time_passes(passes, || {
                black_box(decode_postcard_raw(black_box(&pc))?);
                Ok(())
            })?,
        );
        run(
            10,
            time_passes(passes, || {
                encode_batch(black_box(&bids), &mut builder, &mut enc_buf, &limits)
            })?,
        );
        black_box(&enc_buf);
        run(
            11,
            time_passes(passes, || {
                black_box(decode_batch(black_box(&batch_frame))?);
                Ok(())
            })?,
        );
    }

    let batch_bytes = batch_frame.payload().len();
    let bytes = [
        fixed.len(),
        pc.len(),
        fixed.len(),
        pc.len(),
        fixed.len(),
        pc.len(),
        framed.len(),
        fixed.len(),
        fixed.len(),
        pc.len(),
        batch_buf.len(),
        batch_bytes,
    ];
    let med: Vec<f64> = secs.iter_mut().map(|v| median(v)).collect();
    println!(
        "{:<24} {:>12} {:>14} {:>10}",
        "measurement", "median ms", "M records/s", "GB/s"
    );
    for i in 0..NAMES.len() {
        println!(
            "{:<24} {:>12.3} {:>14.2} {:>10.2}",
            NAMES[i],
            med[i] * 1e3,
            n as f64 / med[i] / 1e6,
            bytes[i] as f64 / med[i] / 1e9
        );
    }
    let gbps = |i: usize| bytes[i] as f64 / med[i] / 1e9;

    let mut add = |name: &str, v: f64| report.add(format!("{name}{suffix}"), v);
    // Like for like: every string UTF-8-validated on both sides.
    add("decode_batch_vs_postcard", med[3] / med[11]);
    add("batch_view_vs_memcpy", gbps(11) / gbps(7));
    add("encode_batch_vs_postcard", med[1] / med[10]);
    add("decode_fixed_vs_postcard", med[3] / med[2]);
    add("decode_raw_fixed_vs_postcard", med[9] / med[8]);
    // The raw view against postcard as a serde user would write the Bid (`&str` fields).
    add("decode_raw_fixed_vs_postcard_str", med[3] / med[8]);
    add("decode_owned_fixed_vs_postcard", med[5] / med[4]);
    add("encode_fixed_vs_postcard", med[1] / med[0]);
    add("view_vs_memcpy", gbps(2) / gbps(7));
    add("raw_view_vs_memcpy", gbps(8) / gbps(7));
    add("view_mrecords_per_s", n as f64 / med[2] / 1e6);
    add("postcard_decode_mrecords_per_s", n as f64 / med[3] / 1e6);
    add("view_gb_per_s", gbps(2));
    add("memcpy_gb_per_s", gbps(7));
    add("crc32c_gb_per_s", gbps(6));
    Ok(())
}
