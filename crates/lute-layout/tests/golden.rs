//! Golden byte vectors: every wire type, the header, the Bid record, and whole frames and
//! snapshots written by version 1 (committed under `tests/golden/`).
//!
//! These tests pin the wire format. They run on x86-64 and on a big-endian target (s390x under
//! qemu, `.ci/extra/layout-bigendian.sh`): a native-endian shortcut anywhere in the crate
//! reverses bytes there and fails here.
//!
//! The files under `tests/golden/` were written once by format version 1 and are never
//! regenerated: every later version of the crate must still read them. (To create a *new*
//! golden file, run with `LUTE_LAYOUT_BLESS=1`; it writes only files that do not exist.)

use std::path::PathBuf;

use lute_layout::batch::BatchBuilder;
use lute_layout::bid::{self, BidBatch, BidFixed, BidRef, BidView};
use lute_layout::header::{FORMAT_VERSION, MAGIC};
use lute_layout::wire::{F32, F64, I32, I64, U16, U32, U64, VarRef};
use lute_layout::{
    DecodeError, Field, FieldType, Frame, FrameBuilder, Header, Kind, Limits, Reader, Schema,
    Snapshot, Value,
};
use zerocopy::{FromBytes, IntoBytes};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn scalar_wire_types() {
    assert_eq!(U16::new(0x0102).as_bytes(), hex("0201"));
    assert_eq!(U32::new(0x0102_0304).as_bytes(), hex("04030201"));
    assert_eq!(
        U64::new(0x0102_0304_0506_0708).as_bytes(),
        hex("0807060504030201")
    );
    assert_eq!(I32::new(-2).as_bytes(), hex("feffffff"));
    assert_eq!(I64::new(-2).as_bytes(), hex("feffffffffffffff"));
    assert_eq!(I64::new(i64::MIN).as_bytes(), hex("0000000000000080"));
    assert_eq!(F32::new(1.5).as_bytes(), hex("0000c03f"));
    assert_eq!(F64::new(-0.5).as_bytes(), hex("000000000000e0bf"));
    assert_eq!(
        VarRef::new(0x0102_0304, 5).as_bytes(),
        hex("04030201 05000000")
    );
    // And back, from bytes.
    assert_eq!(
        U32::read_from_bytes(&hex("04030201")).unwrap().get(),
        0x0102_0304
    );
    assert_eq!(
        I64::read_from_bytes(&hex("feffffffffffffff"))
            .unwrap()
            .get(),
        -2
    );
    assert_eq!(
        F64::read_from_bytes(&hex("000000000000e0bf"))
            .unwrap()
            .get(),
        -0.5
    );
}

const HEADER_HEX: &str = "4e4c5554 0100 02 00 0807060504030201 05000000 10000000 00000000 efbeadde";

#[test]
fn header_bytes() {
    let h = Header {
        magic: MAGIC,
        format_version: U16::new(FORMAT_VERSION),
        kind: Kind::Snapshot as u8,
        flags: 0,
        fingerprint: U64::new(0x0102_0304_0506_0708),
        schema_version: U32::new(5),
        payload_len: U32::new(16),
        reserved: U32::new(0),
        checksum: U32::new(0xdead_beef),
    };
    assert_eq!(h.as_bytes(), hex(HEADER_HEX));
    let back = Header::read_from_bytes(&hex(HEADER_HEX)).unwrap();
    assert_eq!(back, h);
    assert_eq!(back.fingerprint.get(), 0x0102_0304_0506_0708);
    assert_eq!(back.payload_len.get(), 16);
}

#[test]
fn checksums_and_fingerprints() {
    // The CRC-32C check value (RFC 3720 / iSCSI polynomial).
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    // Header of an empty data frame: the checksum covers the first 28 bytes (value computed
    // independently with a bitwise CRC-32C, polynomial 0x82F63B78 reflected).
    let mut buf = Vec::new();
    FrameBuilder::new(&mut buf, Kind::Data, bid::schema().id())
        .finish()
        .unwrap();
    assert_eq!(
        buf,
        hex("4e4c5554 0100 01 00 ebb08e1feca76792 01000000 00000000 00000000 3d9bde25")
    );
    assert_eq!(bid::schema().fingerprint(), 0x9267_a7ec_1f8e_b0eb);
}

fn sample_bids() -> [BidRef<'static>; 3] {
    [
        BidRef {
            auction: 1000,
            bidder: 2001,
            price: 12_345,
            channel: "Google",
            url: "https://www.nexmark.com/abc/item.htm?query=1",
            date_time: 1_700_000_000_000,
            extra: "",
        },
        BidRef {
            auction: 1007,
            bidder: 2010,
            price: 1,
            channel: "channel-42",
            url: "https://www.nexmark.com/xyz/item.htm?query=1&channel_id=42",
            date_time: -1,
            extra: "pädding ✓",
        },
        BidRef {
            auction: u64::MAX,
            bidder: 0,
            price: u64::MAX - 1,
            channel: "",
            url: "",
            date_time: i64::MIN,
            extra: "x",
        },
    ]
}

#[test]
fn bid_record_bytes() {
    let b = BidRef {
        auction: 0x0102,
        bidder: 3,
        price: 0x0400,
        channel: "ab",
        url: "c",
        date_time: -1,
        extra: "",
    };
    let mut rec = Vec::new();
    b.encode(&mut rec).unwrap();
    let expect = hex(concat!(
        "0201000000000000 0300000000000000 0004000000000000",
        "38000000 02000000 3a000000 01000000",
        "ffffffffffffffff 3b000000 00000000",
        "616263"
    ));
    assert_eq!(rec, expect);
    let fixed = BidFixed::ref_from_prefix(&rec).unwrap().0;
    assert_eq!(fixed.price.get(), 0x0400);
    assert_eq!(BidView::new(&rec).unwrap().as_bid_ref(), b);
    // The generic, schema-driven encoder writes the same bytes.
    let mut generic = Vec::new();
    bid::schema()
        .encode_record(
            &[
                Value::U64(0x0102),
                Value::U64(3),
                Value::U64(0x0400),
                Value::String("ab".into()),
                Value::String("c".into()),
                Value::I64(-1),
                Value::String(String::new()),
            ],
            &mut generic,
        )
        .unwrap();
    assert_eq!(generic, expect);
}

/// A test schema with one field of every type: written by version 1 into a golden file.
fn evolve_v1() -> Schema {
    Schema::new(
        "golden.Evolve",
        1,
        vec![
            Field::new("id", FieldType::U64),
            Field::new("count", FieldType::U32),
            Field::new("score", FieldType::F32),
            Field::new("delta", FieldType::I32),
            Field::new("name", FieldType::String),
            Field::new("note", FieldType::String).with_default(Value::String("none".into())),
            Field::new("legacy", FieldType::U32).with_default(Value::U32(7)),
            Field::new("flag", FieldType::Bool),
            Field::new("blob", FieldType::Bytes),
            Field::new("ratio", FieldType::F64),
            Field::new("offset", FieldType::I64),
        ],
    )
    .unwrap()
}

/// A later version: reordered, widened, one field renamed (old name kept as alias), one field
/// with a default removed, one added with a default.
fn evolve_v2() -> Schema {
    Schema::new(
        "golden.Evolve",
        2,
        vec![
            Field::new("offset", FieldType::I64),
            Field::new("title", FieldType::String).with_alias("name"),
            Field::new("id", FieldType::U64),
            Field::new("count", FieldType::U64),
            Field::new("score", FieldType::F64),
            Field::new("delta", FieldType::I64),
            Field::new("note", FieldType::String).with_default(Value::String("none".into())),
            Field::new("flag", FieldType::Bool),
            Field::new("blob", FieldType::Bytes),
            Field::new("ratio", FieldType::F64),
            Field::new("tags", FieldType::Bytes).with_default(Value::Bytes(vec![])),
        ],
    )
    .unwrap()
}

fn evolve_records() -> Vec<Vec<Value>> {
    vec![
        vec![
            Value::U64(1),
            Value::U32(u32::MAX),
            Value::F32(0.1),
            Value::I32(i32::MIN),
            Value::String("first".into()),
            Value::String("n".into()),
            Value::U32(9),
            Value::Bool(true),
            Value::Bytes(vec![0, 255]),
            Value::F64(-2.25),
            Value::I64(-5),
        ],
        vec![
            Value::U64(u64::MAX),
            Value::U32(0),
            Value::F32(-3.5),
            Value::I32(42),
            Value::String(String::new()),
            Value::String("ünïcode".into()),
            Value::U32(0),
            Value::Bool(false),
            Value::Bytes(vec![]),
            Value::F64(1e300),
            Value::I64(i64::MAX),
        ],
    ]
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares freshly written bytes with the committed golden file (creating it only when
/// `LUTE_LAYOUT_BLESS=1` and it does not exist yet).
fn check_golden(name: &str, fresh: &[u8]) -> Vec<u8> {
    let path = golden_path(name);
    if !path.exists() && std::env::var_os("LUTE_LAYOUT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, fresh).unwrap();
    }
    let golden = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("golden file {} unreadable: {e}", path.display()));
    assert_eq!(
        golden, fresh,
        "version 1 no longer writes the bytes of {name}"
    );
    golden
}

fn bid_frame_v1() -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = FrameBuilder::new(&mut buf, Kind::Data, bid::schema().id());
    for bid in sample_bids() {
        b.push_record_with(|out| bid.encode(out)).unwrap();
    }
    b.finish().unwrap();
    buf
}

#[test]
fn golden_bid_frame_v1() {
    let golden = check_golden("bid_v1.frame", &bid_frame_v1());
    let (frame, rest) = Frame::decode(&golden, &Limits::default()).unwrap();
    assert!(rest.is_empty());
    let views: Vec<BidView<'_>> = bid::views(&frame)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let read: Vec<BidRef<'_>> = views.iter().map(BidView::as_bid_ref).collect();
    assert_eq!(read, sample_bids());
}

/// Bid version 2, as a later release might define it: `date_time` renamed `event_time` (old
/// name kept as alias), `extra` removed (it had a default), `currency` added with a default.
fn bid_v2() -> Schema {
    Schema::new(
        bid::NAME,
        2,
        vec![
            Field::new("auction", FieldType::U64),
            Field::new("bidder", FieldType::U64),
            Field::new("price", FieldType::U64),
            Field::new("currency", FieldType::String).with_default(Value::String("USD".into())),
            Field::new("channel", FieldType::String),
            Field::new("url", FieldType::String),
            Field::new("event_time", FieldType::I64).with_alias("date_time"),
        ],
    )
    .unwrap()
}

#[test]
fn golden_bid_frame_v1_read_by_v2() {
    let golden = std::fs::read(golden_path("bid_v1.frame")).unwrap();
    let mut reader = Reader::new(bid_v2());
    reader.register(bid::schema()).unwrap();
    let (recs, _) = reader.read_frame(&golden).unwrap();
    let recs: Vec<Vec<Value>> = recs.collect::<Result<_, _>>().unwrap();
    let expect: Vec<Vec<Value>> = sample_bids()
        .iter()
        .map(|b| {
            vec![
                Value::U64(b.auction),
                Value::U64(b.bidder),
                Value::U64(b.price),
                Value::String("USD".into()),
                Value::String(b.channel.into()),
                Value::String(b.url.into()),
                Value::I64(b.date_time),
            ]
        })
        .collect();
    assert_eq!(recs, expect);
    // A reader that does not know v1 refuses the frame by fingerprint.
    let stranger = Reader::new(bid_v2());
    assert!(matches!(
        stranger.read_frame(&golden),
        Err(DecodeError::UnknownFingerprint { fingerprint }) if fingerprint == bid::FINGERPRINT_V1
    ));
}

fn evolve_snapshot_v1() -> Vec<u8> {
    let mut buf = Vec::new();
    Snapshot::write(&mut buf, &evolve_v1(), &evolve_records()).unwrap();
    buf
}

#[test]
fn golden_evolve_snapshot_v1() {
    let golden = check_golden("evolve_v1.snapshot", &evolve_snapshot_v1());
    let (snap, rest) = Snapshot::decode(&golden, &Limits::default()).unwrap();
    assert!(rest.is_empty());
    assert_eq!(snap.writer_schema(), &evolve_v1());
    let v1: Vec<Vec<Value>> = snap
        .read_as(&evolve_v1())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(v1, evolve_records());

    // Version 2 reads the version 1 bytes.
    let v2: Vec<Vec<Value>> = snap
        .read_as(&evolve_v2())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expect: Vec<Vec<Value>> = evolve_records()
        .into_iter()
        .map(|r| {
            let widen = |v: &Value| match v {
                Value::U32(x) => Value::U64(u64::from(*x)),
                Value::I32(x) => Value::I64(i64::from(*x)),
                Value::F32(x) => Value::F64(f64::from(*x)),
                other => other.clone(),
            };
            vec![
                r[10].clone(),
                r[4].clone(),
                r[0].clone(),
                widen(&r[1]),
                widen(&r[2]),
                widen(&r[3]),
                r[5].clone(),
                r[7].clone(),
                r[8].clone(),
                r[9].clone(),
                Value::Bytes(vec![]),
            ]
        })
        .collect();
    assert_eq!(v2, expect);
    // f32 -> f64 is exact: 0.1f32 stays 0.1f32's value, not 0.1f64.
    assert_eq!(v2[0][4], Value::F64(f64::from(0.1f32)));
}

#[test]
fn golden_evolve_data_frame_v1() {
    let v1 = evolve_v1();
    let mut buf = Vec::new();
    let mut b = FrameBuilder::new(&mut buf, Kind::Data, v1.id());
    for r in evolve_records() {
        b.push_values(&v1, &r).unwrap();
    }
    b.finish().unwrap();
    let golden = check_golden("evolve_v1.frame", &buf);
    let mut reader = Reader::new(evolve_v2());
    reader.register(&v1).unwrap();
    let (recs, _) = reader.read_frame(&golden).unwrap();
    assert_eq!(recs.count(), 2);
    let (recs, _) = reader.read_frame(&golden).unwrap();
    for r in recs {
        assert_eq!(r.unwrap().len(), evolve_v2().fields().len());
    }
}

fn bid_batch_v1() -> Vec<u8> {
    let mut b = BatchBuilder::for_schema(bid::schema());
    for bid in sample_bids() {
        bid.push_to(&mut b).unwrap();
    }
    let mut buf = Vec::new();
    b.finish_into(&mut buf, bid::schema().id()).unwrap();
    buf
}

#[test]
fn golden_bid_batch_v1() {
    let golden = check_golden("bid_v1.batch", &bid_batch_v1());
    // Batch header: 3 records of 56 bytes, string heap, empty bytes heap.
    let heap: usize = sample_bids()
        .iter()
        .map(|b| b.channel.len() + b.url.len() + b.extra.len())
        .sum();
    let mut expect_head = hex("03000000 38000000");
    expect_head.extend_from_slice(&(heap as u32).to_le_bytes());
    expect_head.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(&golden[32..48], expect_head.as_slice());
    assert_eq!(golden.len(), 32 + 16 + 3 * 56 + heap);

    let (frame, _) = Frame::decode(&golden, &Limits::default()).unwrap();
    assert_eq!(frame.kind(), Kind::Batch);
    let batch = BidBatch::new(&frame).unwrap();
    let read: Vec<BidRef<'_>> = batch.iter().map(|v| v.unwrap().as_bid_ref()).collect();
    assert_eq!(read, sample_bids());
    // Read by a later version through resolution, like the data frame.
    let mut reader = Reader::new(bid_v2());
    reader.register(bid::schema()).unwrap();
    let (recs, _) = reader.read_frame(&golden).unwrap();
    let recs: Vec<Vec<Value>> = recs.collect::<Result<_, _>>().unwrap();
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[1][3], Value::String("USD".into()));
    assert_eq!(recs[1][6], Value::I64(-1));
}

#[test]
fn golden_evolve_batch_v1() {
    let v1 = evolve_v1();
    let mut b = BatchBuilder::for_schema(&v1);
    for r in evolve_records() {
        b.push_values(&v1, &r).unwrap();
    }
    let mut buf = Vec::new();
    b.finish_into(&mut buf, v1.id()).unwrap();
    let golden = check_golden("evolve_v1.batch", &buf);
    let same = Reader::new(v1.clone());
    let (recs, _) = same.read_frame(&golden).unwrap();
    assert_eq!(
        recs.collect::<Result<Vec<_>, _>>().unwrap(),
        evolve_records()
    );
    let mut reader = Reader::new(evolve_v2());
    reader.register(&v1).unwrap();
    let (recs, _) = reader.read_frame(&golden).unwrap();
    let recs: Vec<Vec<Value>> = recs.collect::<Result<_, _>>().unwrap();
    assert_eq!(recs[0][1], Value::String("first".into()));
    assert_eq!(recs[0][3], Value::U64(u64::from(u32::MAX)));
}
