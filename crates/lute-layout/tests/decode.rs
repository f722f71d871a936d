//! Decoding untrusted bytes: each failure has its own typed error, round trips hold for
//! arbitrary schemas and values (proptest), and arbitrary or corrupted input gives an error,
//! never a panic or a wrong value.

use lute_layout::batch::{BatchBuilder, BatchView};
use lute_layout::bid::{self, BidBatch, BidRef, BidView};
use lute_layout::{
    DecodeError, Field, FieldType, Frame, FrameBuilder, Kind, Limits, Reader, Schema, Snapshot,
    Value,
};
use proptest::prelude::*;

fn bid_frame() -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = FrameBuilder::new(&mut buf, Kind::Data, bid::schema().id());
    for i in 0..4u64 {
        let bid = BidRef {
            auction: i,
            bidder: i * 2,
            price: i * 3,
            channel: "Apple",
            url: "https://www.nexmark.com/a/b/item.htm",
            date_time: 1_000 + i as i64,
            extra: "",
        };
        b.push_record_with(|out| bid.encode(out)).unwrap();
    }
    b.finish().unwrap();
    buf
}

/// The five failures the issue names, through the same reader, each a distinct variant.
#[test]
fn distinct_errors_for_the_named_failures() {
    let good = bid_frame();
    let reader = Reader::new(bid::schema().clone());
    assert!(reader.read_frame(&good).is_ok());
    let err = |b: &[u8]| reader.read_frame(b).map(|_| ()).unwrap_err();

    // Truncated input: header and payload.
    assert!(matches!(
        err(&good[..10]),
        DecodeError::Truncated {
            what: "header",
            needed: 32,
            available: 10
        }
    ));
    assert!(matches!(
        err(&good[..good.len() - 3]),
        DecodeError::Truncated {
            what: "payload",
            ..
        }
    ));
    // Oversized length: refused before anything is read or allocated.
    let mut b = good.clone();
    b[20..24].copy_from_slice(&(0x7fff_ffffu32).to_le_bytes());
    assert!(matches!(
        err(&b),
        DecodeError::LengthTooLarge {
            what: "payload",
            len: 0x7fff_ffff,
            ..
        }
    ));
    // Wrong magic.
    let mut b = good.clone();
    b[..4].copy_from_slice(b"HTTP");
    assert_eq!(err(&b), DecodeError::BadMagic { found: *b"HTTP" });
    // Unknown fingerprint: a valid frame of a schema the reader never registered.
    let other = Schema::new("other", 1, vec![Field::new("x", FieldType::U32)]).unwrap();
    let mut b = Vec::new();
    let mut fb = FrameBuilder::new(&mut b, Kind::Data, other.id());
    fb.push_values(&other, &[Value::U32(1)]).unwrap();
    fb.finish().unwrap();
    assert_eq!(
        err(&b),
        DecodeError::UnknownFingerprint {
            fingerprint: other.fingerprint()
        }
    );
    // Checksum mismatch.
    let mut b = good.clone();
    let last = b.len() - 1;
    b[last] ^= 0x01;
    assert!(matches!(err(&b), DecodeError::ChecksumMismatch { .. }));
    // And the typed view refuses a frame of another schema.
    let other_frame = fb_frame(&other);
    let (f, _) = Frame::decode(&other_frame, &Limits::default()).unwrap();
    assert!(matches!(
        bid::views(&f).map(|_| ()),
        Err(DecodeError::FingerprintMismatch { .. })
    ));
}

fn fb_frame(s: &Schema) -> Vec<u8> {
    let mut b = Vec::new();
    FrameBuilder::new(&mut b, Kind::Data, s.id())
        .finish()
        .unwrap();
    b
}

#[test]
fn snapshot_with_foreign_descriptor_is_refused() {
    let a = Schema::new("a", 1, vec![Field::new("x", FieldType::U32)]).unwrap();
    let b = Schema::new("b", 1, vec![Field::new("x", FieldType::U32)]).unwrap();
    // A snapshot whose header names `a` but embeds `b`'s descriptor.
    let mut buf = Vec::new();
    let mut fb = FrameBuilder::new(&mut buf, Kind::Snapshot, a.id());
    fb.push_record(&b.to_descriptor()).unwrap();
    fb.finish().unwrap();
    assert!(matches!(
        Snapshot::decode(&buf, &Limits::default()),
        Err(DecodeError::FingerprintMismatch { .. })
    ));
    // A data frame is not a snapshot, and a snapshot is not a data frame.
    let data = fb_frame(&a);
    assert!(matches!(
        Snapshot::decode(&data, &Limits::default()),
        Err(DecodeError::UnknownKind { found: 1 })
    ));
    let mut snap = Vec::new();
    Snapshot::write(&mut snap, &a, &[vec![Value::U32(1)]]).unwrap();
    assert!(matches!(
        Reader::new(a).read_frame(&snap),
        Err(DecodeError::UnknownKind { found: 2 })
    ));
}

#[test]
fn every_prefix_of_a_frame_is_an_error() {
    let good = bid_frame();
    for n in 0..good.len() {
        assert!(
            Frame::decode(&good[..n], &Limits::default()).is_err(),
            "{n}"
        );
    }
}

fn field_type() -> impl Strategy<Value = FieldType> {
    prop::sample::select(FieldType::ALL.to_vec())
}

fn value_of(t: FieldType) -> BoxedStrategy<Value> {
    match t {
        FieldType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        FieldType::U32 => any::<u32>().prop_map(Value::U32).boxed(),
        FieldType::U64 => any::<u64>().prop_map(Value::U64).boxed(),
        FieldType::I32 => any::<i32>().prop_map(Value::I32).boxed(),
        FieldType::I64 => any::<i64>().prop_map(Value::I64).boxed(),
        // Finite floats so that equality is meaningful (NaN bits are checked separately).
        FieldType::F32 => (-1e30f32..1e30).prop_map(Value::F32).boxed(),
        FieldType::F64 => (-1e300f64..1e300).prop_map(Value::F64).boxed(),
        FieldType::String => ".{0,12}".prop_map(Value::String).boxed(),
        FieldType::Bytes => prop::collection::vec(any::<u8>(), 0..12)
            .prop_map(Value::Bytes)
            .boxed(),
    }
}

/// A schema of 1..8 fields (names f0.., random types and defaults) and 0..5 records of it.
fn schema_and_records() -> impl Strategy<Value = (Schema, Vec<Vec<Value>>)> {
    prop::collection::vec((field_type(), any::<bool>()), 1..8)
        .prop_flat_map(|spec| {
            let defaults: Vec<_> = spec.iter().map(|(t, _)| value_of(*t)).collect();
            let records = prop::collection::vec(
                spec.iter().map(|(t, _)| value_of(*t)).collect::<Vec<_>>(),
                0..5,
            );
            (Just(spec), defaults, records, any::<u32>())
        })
        .prop_map(|(spec, defaults, records, version)| {
            let fields = spec
                .iter()
                .zip(defaults)
                .enumerate()
                .map(|(i, ((t, has_default), d))| {
                    let f = Field::new(format!("f{i}"), *t);
                    if *has_default { f.with_default(d) } else { f }
                })
                .collect();
            (Schema::new("prop", version, fields).unwrap(), records)
        })
}

fn bid_strategy() -> impl Strategy<Value = bid::Bid> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        ".{0,10}",
        ".{0,40}",
        any::<i64>(),
        ".{0,20}",
    )
        .prop_map(
            |(auction, bidder, price, channel, url, date_time, extra)| bid::Bid {
                auction,
                bidder,
                price,
                channel,
                url,
                date_time,
                extra,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn schema_records_round_trip((schema, records) in schema_and_records()) {
        // Record by record.
        for r in &records {
            let mut buf = Vec::new();
            schema.encode_record(r, &mut buf).unwrap();
            prop_assert_eq!(&schema.decode_record(&buf).unwrap(), r);
        }
        // In a data frame through a reader, and in a snapshot.
        let mut buf = Vec::new();
        let mut b = FrameBuilder::new(&mut buf, Kind::Data, schema.id());
        for r in &records {
            b.push_values(&schema, r).unwrap();
        }
        b.finish().unwrap();
        let reader = Reader::new(schema.clone());
        let (recs, rest) = reader.read_frame(&buf).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(&recs.collect::<Result<Vec<_>, _>>().unwrap(), &records);
        let mut snap = Vec::new();
        Snapshot::write(&mut snap, &schema, &records).unwrap();
        let (s, _) = Snapshot::decode(&snap, &Limits::default()).unwrap();
        prop_assert_eq!(s.writer_schema(), &schema);
        let back: Vec<_> = s.read_as(&schema).unwrap().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(back, records);
        // The descriptor round-trips exactly.
        prop_assert_eq!(&Schema::from_descriptor(&schema.to_descriptor()).unwrap(), &schema);
    }

    #[test]
    fn bid_round_trip_typed_and_generic(bids in prop::collection::vec(bid_strategy(), 0..6)) {
        let mut buf = Vec::new();
        let mut b = FrameBuilder::new(&mut buf, Kind::Data, bid::schema().id());
        for bid in &bids {
            b.push_record_with(|out| bid.as_bid_ref().encode(out)).unwrap();
        }
        b.finish().unwrap();
        let (f, _) = Frame::decode(&buf, &Limits::default()).unwrap();
        let back: Vec<bid::Bid> = bid::views(&f)
            .unwrap()
            .map(|v| v.map(|v| v.as_bid_ref().to_bid()))
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(&back, &bids);
        // The typed bytes are the generic layout of the Bid schema.
        for (rec, bid) in f.records().zip(&bids) {
            let vals = bid::schema().decode_record(rec.unwrap()).unwrap();
            prop_assert_eq!(&vals[4], &Value::String(bid.url.clone()));
            prop_assert_eq!(&vals[5], &Value::I64(bid.date_time));
        }
    }

    #[test]
    fn bid_batch_round_trip(bids in prop::collection::vec(bid_strategy(), 0..6)) {
        let mut b = BatchBuilder::for_schema(bid::schema());
        for bid in &bids {
            bid.as_bid_ref().push_to(&mut b).unwrap();
        }
        let mut buf = Vec::new();
        b.finish_into(&mut buf, bid::schema().id()).unwrap();
        let (f, _) = Frame::decode(&buf, &Limits::default()).unwrap();
        let batch = BidBatch::new(&f).unwrap();
        let back: Vec<bid::Bid> = batch
            .iter()
            .map(|v| v.map(|v| v.as_bid_ref().to_bid()))
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(&back, &bids);
    }

    #[test]
    fn schema_batch_round_trip((schema, records) in schema_and_records()) {
        let mut b = BatchBuilder::for_schema(&schema);
        for r in &records {
            b.push_values(&schema, r).unwrap();
        }
        let mut buf = Vec::new();
        b.finish_into(&mut buf, schema.id()).unwrap();
        let reader = Reader::new(schema.clone());
        let (recs, rest) = reader.read_frame(&buf).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(recs.collect::<Result<Vec<_>, _>>().unwrap(), records);
    }

    /// Arbitrary batch payloads behind a valid header and checksum: errors, not panics.
    #[test]
    fn arbitrary_batch_payload(payload in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut buf = Vec::new();
        let mut b = FrameBuilder::new(&mut buf, Kind::Batch, bid::schema().id());
        b.push_raw(&payload);
        b.finish().unwrap();
        let (f, _) = Frame::decode(&buf, &Limits::default()).unwrap();
        if let Ok(batch) = BidBatch::new(&f) {
            for v in batch.iter() {
                let _ = v;
            }
        }
        let _ = BatchView::new(f.payload());
        if let Ok((recs, _)) = Reader::new(bid::schema().clone()).read_frame(&buf) {
            for r in recs {
                let _ = r;
            }
        }
    }

    /// CRC-32C detects every single-bit error; a flipped bit anywhere is an error.
    #[test]
    fn any_single_bit_flip_is_detected(bit in 0usize..(8 * 32 + 8 * 200)) {
        let mut good = bid_frame();
        let byte = bit / 8 % good.len();
        good[byte] ^= 1 << (bit % 8);
        prop_assert!(Frame::decode(&good, &Limits::default()).is_err());
    }

    /// Arbitrary bytes: every decoder returns (an error, usually) without panicking.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Frame::decode(&bytes, &Limits::default());
        let _ = Snapshot::decode(&bytes, &Limits::default());
        let _ = Schema::from_descriptor(&bytes);
        if let Ok(v) = BidView::new(&bytes) {
            // Whatever validated must read back consistently.
            let mut again = Vec::new();
            v.as_bid_ref().encode(&mut again).unwrap();
            prop_assert_eq!(BidView::new(&again).unwrap().as_bid_ref(), v.as_bid_ref());
        }
        let _ = bid::schema().decode_record(&bytes);
    }

    /// Arbitrary record bytes behind a valid header and checksum: errors, not panics.
    #[test]
    fn arbitrary_payload_with_valid_checksum(payload in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut buf = Vec::new();
        let mut b = FrameBuilder::new(&mut buf, Kind::Data, bid::schema().id());
        b.push_raw(&payload);
        b.finish().unwrap();
        let reader = Reader::new(bid::schema().clone());
        let (recs, _) = reader.read_frame(&buf).unwrap();
        for r in recs {
            let _ = r;
        }
        let (f, _) = Frame::decode(&buf, &Limits::default()).unwrap();
        for v in bid::views(&f).unwrap() {
            let _ = v;
        }
    }
}

#[test]
fn float_bits_survive_including_nan() {
    let s = Schema::new(
        "f",
        1,
        vec![
            Field::new("a", FieldType::F32),
            Field::new("b", FieldType::F64),
        ],
    )
    .unwrap();
    let nan32 = f32::from_bits(0x7fc0_1234);
    let nan64 = f64::from_bits(0xfff8_0000_dead_beef);
    let mut buf = Vec::new();
    s.encode_record(&[Value::F32(nan32), Value::F64(nan64)], &mut buf)
        .unwrap();
    assert_eq!(&buf[..4], &0x7fc0_1234u32.to_le_bytes());
    match &s.decode_record(&buf).unwrap()[..] {
        [Value::F32(a), Value::F64(b)] => {
            assert_eq!(a.to_bits(), 0x7fc0_1234);
            assert_eq!(b.to_bits(), 0xfff8_0000_dead_beef);
        }
        other => panic!("{other:?}"),
    }
}
