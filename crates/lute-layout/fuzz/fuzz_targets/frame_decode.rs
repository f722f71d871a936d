//! Frame and snapshot decoding of arbitrary bytes: never a panic, never an out-of-bounds read
//! (the crate has no `unsafe`; libFuzzer's sanitizer would catch one in a dependency), and
//! whatever validates reads back consistently.
//!
//! The input is tried four ways: as a whole frame (header checks), as a snapshot, and as the
//! payload of a data frame and of a batch frame with a valid header and checksum, so that the
//! fuzzer reaches record and batch decoding without having to forge CRC-32C values.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lute_layout::batch::{BatchBuilder, BatchView};
use lute_layout::bid::{self, BidBatch, BidView, RawBidView};
use lute_layout::{
    Field, FieldType, Frame, FrameBuilder, Kind, Limits, Reader, Schema, Snapshot, Value,
};

fn bid_v2() -> Schema {
    Schema::new(
        bid::NAME,
        2,
        vec![
            Field::new("auction", FieldType::U64),
            Field::new("price", FieldType::U64),
            Field::new("currency", FieldType::String).with_default(Value::String("USD".into())),
            Field::new("event_time", FieldType::I64).with_alias("date_time"),
            Field::new("url", FieldType::Bytes),
        ],
    )
    .expect("valid schema")
}

fn check_record(rec: &[u8]) {
    if let Ok(raw) = RawBidView::new(rec) {
        let _ = (raw.channel_bytes(), raw.url_bytes(), raw.extra_bytes());
        if let Ok(v) = raw.validate() {
            // What validates must survive a round trip.
            let mut again = Vec::new();
            v.as_bid_ref().encode(&mut again).expect("re-encode");
            let back = BidView::new(&again).expect("re-decode");
            assert_eq!(back.as_bid_ref(), v.as_bid_ref());
            // The typed view and the schema-driven decoder agree.
            let vals = bid::schema().decode_record(rec).expect("generic decode");
            assert_eq!(vals[0], Value::U64(v.auction()));
            assert_eq!(vals[4], Value::String(v.url().to_owned()));
        }
    } else {
        assert!(BidView::new(rec).is_err());
    }
    let _ = bid::schema().decode_record(rec);
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();

    if let Ok((frame, _rest)) = Frame::decode(data, &limits) {
        for rec in frame.records() {
            match rec {
                Ok(r) => check_record(r),
                Err(_) => break,
            }
        }
    }
    if let Ok((snap, _)) = Snapshot::decode(data, &limits) {
        if let Ok(it) = snap.read_as(snap.writer_schema()) {
            for r in it {
                let _ = r;
            }
        }
    }

    // The input as the payload of a well-formed Bid v1 frame.
    let mut buf = Vec::with_capacity(data.len() + 32);
    let mut b = FrameBuilder::new(&mut buf, Kind::Data, bid::schema().id());
    b.push_raw(data);
    if b.finish().is_err() {
        return;
    }
    let (frame, rest) = Frame::decode(&buf, &limits).expect("a frame we just built");
    assert!(rest.is_empty());
    if let Ok(views) = bid::views(&frame) {
        for v in views {
            let _ = v;
        }
    }
    for rec in frame.records() {
        match rec {
            Ok(r) => check_record(r),
            Err(_) => break,
        }
    }
    // The input as the payload of a well-formed Bid v1 batch frame.
    let mut batch_buf = Vec::with_capacity(data.len() + 32);
    let mut b = FrameBuilder::new(&mut batch_buf, Kind::Batch, bid::schema().id());
    b.push_raw(data);
    if b.finish().is_err() {
        return;
    }
    let (batch_frame, _) = Frame::decode(&batch_buf, &limits).expect("a frame we just built");
    if let Ok(batch) = BidBatch::new(&batch_frame) {
        let mut again = BatchBuilder::for_schema(bid::schema());
        let mut ok = Vec::new();
        for v in batch.iter().flatten() {
            v.as_bid_ref().push_to(&mut again).expect("re-encode");
            ok.push(v.as_bid_ref());
        }
        let mut out = Vec::new();
        again
            .finish_into(&mut out, bid::schema().id())
            .expect("finish");
        let (f2, _) = Frame::decode(&out, &limits).expect("re-decode frame");
        let back: Vec<_> = BidBatch::new(&f2)
            .expect("re-decode batch")
            .iter()
            .map(|v| v.expect("re-decode view").as_bid_ref())
            .collect();
        assert_eq!(back, ok);
    }
    let _ = BatchView::new(data);

    let v2 = bid_v2();
    let mut reader = Reader::new(v2.clone());
    reader.register(bid::schema()).expect("v1 resolves to v2");
    let (recs, _) = reader.read_frame(&buf).expect("registered fingerprint");
    let batch_recs = reader.read_frame(&batch_buf).ok().map(|(r, _)| r);
    for r in recs.chain(batch_recs.into_iter().flatten()) {
        if let Ok(vals) = r {
            // Never a garbled value: every value has the reader's type.
            assert_eq!(vals.len(), v2.fields().len());
            for (v, f) in vals.iter().zip(v2.fields()) {
                assert_eq!(v.field_type(), f.ty);
            }
        }
    }
});
