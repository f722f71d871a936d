//! The zero-copy read path allocates nothing: validating a frame and reading every field of
//! every Bid through [`BidView`]; and encoding into a buffer with enough capacity allocates
//! nothing either. Counted with lute-testkit's counting allocator (per thread, so parallel
//! tests do not interfere).

use lute_layout::batch::BatchBuilder;
use lute_layout::bid::{self, BidBatch, BidRef, BidView};
use lute_layout::{Frame, FrameBuilder, Kind, Limits};
use lute_testkit::{CountingAlloc, count_thread_allocations};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn bids() -> Vec<(u64, String, String)> {
    (0..1000u64)
        .map(|i| {
            (
                i,
                format!("channel-{}", i % 7),
                format!("https://www.nexmark.com/{i}/item.htm?query=1"),
            )
        })
        .collect()
}

#[test]
fn zero_copy_read_path_allocates_nothing() {
    let data = bids();
    let mut buf = Vec::with_capacity(1 << 20);
    let mut b = FrameBuilder::new(&mut buf, Kind::Data, bid::schema().id());
    for (i, c, u) in &data {
        let bid = BidRef {
            auction: *i,
            bidder: i + 1,
            price: i * 10,
            channel: c,
            url: u,
            date_time: *i as i64,
            extra: "",
        };
        b.push_record_with(|out| bid.encode(out)).unwrap();
    }
    b.finish().unwrap();

    let limits = Limits::default();
    let (sum, allocs) = count_thread_allocations(|| {
        let (frame, _) = Frame::decode(&buf, &limits).unwrap();
        let mut sum = 0u64;
        for v in bid::views(&frame).unwrap() {
            let v: BidView<'_> = v.unwrap();
            sum = sum
                .wrapping_add(v.auction())
                .wrapping_add(v.bidder())
                .wrapping_add(v.price())
                .wrapping_add(v.date_time() as u64)
                .wrapping_add(v.channel().len() as u64)
                .wrapping_add(v.url().len() as u64)
                .wrapping_add(v.extra().len() as u64);
        }
        sum
    });
    assert_eq!(allocs, 0, "the zero-copy read path allocated");
    let expect: u64 = data
        .iter()
        .map(|(i, c, u)| i + (i + 1) + i * 10 + i + c.len() as u64 + u.len() as u64)
        .sum();
    assert_eq!(sum, expect);
}

#[test]
fn encode_into_reserved_buffer_allocates_nothing() {
    let data = bids();
    let mut buf = Vec::with_capacity(1 << 20);
    // Outside the count: the first call builds the schema (once per process).
    let id = bid::schema().id();
    let ((), allocs) = count_thread_allocations(|| {
        let mut b = FrameBuilder::new(&mut buf, Kind::Data, id);
        for (i, c, u) in &data {
            let bid = BidRef {
                auction: *i,
                bidder: 0,
                price: 0,
                channel: c,
                url: u,
                date_time: 0,
                extra: "",
            };
            b.push_record_with(|out| bid.encode(out)).unwrap();
        }
        b.finish().unwrap();
    });
    assert_eq!(allocs, 0, "encoding allocated");
    // And the counter does count: decoding to owned values allocates.
    let (frame, _) = Frame::decode(&buf, &Limits::default()).unwrap();
    let rec = frame.records().next().unwrap().unwrap();
    let (_, owned) = count_thread_allocations(|| bid::schema().decode_record(rec).unwrap());
    assert!(owned > 0);
}

#[test]
fn batch_read_and_reused_builder_allocate_nothing() {
    let data = bids();
    let id = bid::schema().id();
    let mut builder = BatchBuilder::for_schema(bid::schema());
    let mut buf = Vec::with_capacity(1 << 20);
    let push_all = |builder: &mut BatchBuilder| {
        for (i, c, u) in &data {
            let bid = BidRef {
                auction: *i,
                bidder: 7,
                price: 1,
                channel: c,
                url: u,
                date_time: 0,
                extra: "",
            };
            bid.push_to(builder).unwrap();
        }
    };
    // First batch grows the builder's buffers; the second reuses them.
    push_all(&mut builder);
    builder.finish_into(&mut buf, id).unwrap();
    buf.clear();
    let ((), allocs) = count_thread_allocations(|| {
        push_all(&mut builder);
        builder.finish_into(&mut buf, id).unwrap();
    });
    assert_eq!(allocs, 0, "the reused batch builder allocated");

    let limits = Limits::default();
    let (sum, allocs) = count_thread_allocations(|| {
        let (frame, _) = Frame::decode(&buf, &limits).unwrap();
        let batch = BidBatch::new(&frame).unwrap();
        let mut sum = 0u64;
        for v in batch.iter() {
            let v = v.unwrap();
            sum = sum
                .wrapping_add(v.auction() + v.bidder() + v.price())
                .wrapping_add((v.channel().len() + v.url().len() + v.extra().len()) as u64);
        }
        sum
    });
    assert_eq!(allocs, 0, "the batch read path allocated");
    let expect: u64 = data
        .iter()
        .map(|(i, c, u)| i + 8 + (c.len() + u.len()) as u64)
        .sum();
    assert_eq!(sum, expect);
}
