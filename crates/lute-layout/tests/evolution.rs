//! Every evolution rule, in both directions: write with v1 and read with v2, then write with v2
//! and read with v1. Each direction goes through a data frame and a batch frame (reader with
//! registered writer schema) and through a self-describing snapshot; all must agree.

use lute_layout::batch::BatchBuilder;
use lute_layout::{
    DecodeError, Field, FieldType, FrameBuilder, Kind, Limits, Reader, Schema, SchemaError,
    Snapshot, Value,
};

use FieldType::*;

fn s(version: u32, fields: Vec<Field>) -> Schema {
    Schema::new("test.Rec", version, fields).unwrap()
}

/// Writes `records` with `writer` and reads them back with `reader`, through a data frame and
/// through a snapshot. Returns the records, or the resolution error (identical on both paths).
fn transfer(
    writer: &Schema,
    reader: &Schema,
    records: &[Vec<Value>],
) -> Result<Vec<Vec<Value>>, SchemaError> {
    let mut frame = Vec::new();
    let mut b = FrameBuilder::new(&mut frame, Kind::Data, writer.id());
    for r in records {
        b.push_values(writer, r).unwrap();
    }
    b.finish().unwrap();

    let mut snap = Vec::new();
    Snapshot::write(&mut snap, writer, records).unwrap();
    let (snap, _) = Snapshot::decode(&snap, &Limits::default()).unwrap();
    let via_snapshot = match snap.read_as(reader) {
        Ok(it) => Ok(it.collect::<Result<Vec<_>, _>>().unwrap()),
        Err(DecodeError::Schema(e)) => Err(e),
        Err(e) => panic!("unexpected {e}"),
    };

    let mut batch = Vec::new();
    let mut bb = BatchBuilder::for_schema(writer);
    for r in records {
        bb.push_values(writer, r).unwrap();
    }
    bb.finish_into(&mut batch, writer.id()).unwrap();

    let mut r = Reader::new(reader.clone());
    let via_frame = match r.register(writer) {
        Ok(()) => {
            let (recs, rest) = r.read_frame(&frame).unwrap();
            assert!(rest.is_empty());
            let recs = recs.collect::<Result<Vec<_>, _>>().unwrap();
            let (brecs, _) = r.read_frame(&batch).unwrap();
            assert_eq!(
                brecs.collect::<Result<Vec<_>, _>>().unwrap(),
                recs,
                "batch frame"
            );
            Ok(recs)
        }
        Err(e) => {
            // The writer was refused: its frames are unknown to this reader.
            assert!(matches!(
                r.read_frame(&frame),
                Err(DecodeError::UnknownFingerprint { .. })
            ));
            Err(e)
        }
    };
    assert_eq!(via_frame, via_snapshot);
    via_frame
}

fn st(x: &str) -> Value {
    Value::String(x.into())
}

#[test]
fn add_field_with_default() {
    let v1 = s(1, vec![Field::new("a", U64)]);
    let v2 = s(
        2,
        vec![
            Field::new("a", U64),
            Field::new("b", String).with_default(st("dflt")),
        ],
    );
    // v1 -> v2: the reader fills the default.
    assert_eq!(
        transfer(&v1, &v2, &[vec![Value::U64(1)]]),
        Ok(vec![vec![Value::U64(1), st("dflt")]])
    );
    // v2 -> v1: the new field is skipped.
    assert_eq!(
        transfer(&v2, &v1, &[vec![Value::U64(2), st("new")]]),
        Ok(vec![vec![Value::U64(2)]])
    );
}

#[test]
fn add_field_without_default_is_refused_forward_only() {
    let v1 = s(1, vec![Field::new("a", U64)]);
    let v2 = s(2, vec![Field::new("a", U64), Field::new("b", U32)]);
    assert_eq!(
        transfer(&v1, &v2, &[vec![Value::U64(1)]]),
        Err(SchemaError::MissingDefault { field: "b".into() })
    );
    assert_eq!(
        transfer(&v2, &v1, &[vec![Value::U64(1), Value::U32(2)]]),
        Ok(vec![vec![Value::U64(1)]])
    );
}

#[test]
fn remove_field_with_default() {
    let v1 = s(
        1,
        vec![
            Field::new("a", U64),
            Field::new("gone", I32).with_default(Value::I32(-7)),
        ],
    );
    let v2 = s(2, vec![Field::new("a", U64)]);
    // v1 -> v2: the removed field is skipped.
    assert_eq!(
        transfer(&v1, &v2, &[vec![Value::U64(1), Value::I32(5)]]),
        Ok(vec![vec![Value::U64(1)]])
    );
    // v2 -> v1: the old reader uses its default.
    assert_eq!(
        transfer(&v2, &v1, &[vec![Value::U64(2)]]),
        Ok(vec![vec![Value::U64(2), Value::I32(-7)]])
    );
}

#[test]
fn remove_field_without_default_is_refused_backward() {
    let v1 = s(1, vec![Field::new("a", U64), Field::new("needed", Bool)]);
    let v2 = s(2, vec![Field::new("a", U64)]);
    assert_eq!(
        transfer(&v1, &v2, &[vec![Value::U64(1), Value::Bool(true)]]),
        Ok(vec![vec![Value::U64(1)]])
    );
    assert_eq!(
        transfer(&v2, &v1, &[vec![Value::U64(1)]]),
        Err(SchemaError::MissingDefault {
            field: "needed".into()
        })
    );
}

#[test]
fn widen_every_allowed_pair() {
    let cases: [(FieldType, Value, FieldType, Value); 9] = [
        (
            U32,
            Value::U32(u32::MAX),
            U64,
            Value::U64(u64::from(u32::MAX)),
        ),
        (
            U32,
            Value::U32(u32::MAX),
            I64,
            Value::I64(i64::from(u32::MAX)),
        ),
        (
            U32,
            Value::U32(u32::MAX),
            F64,
            Value::F64(f64::from(u32::MAX)),
        ),
        (
            I32,
            Value::I32(i32::MIN),
            I64,
            Value::I64(i64::from(i32::MIN)),
        ),
        (I32, Value::I32(-3), F64, Value::F64(-3.0)),
        (F32, Value::F32(0.1), F64, Value::F64(f64::from(0.1f32))),
        (
            F32,
            Value::F32(f32::INFINITY),
            F64,
            Value::F64(f64::INFINITY),
        ),
        (
            String,
            st("héllo"),
            Bytes,
            Value::Bytes("héllo".as_bytes().to_vec()),
        ),
        (U32, Value::U32(0), U64, Value::U64(0)),
    ];
    for (from, v, to, expect) in cases {
        let v1 = s(1, vec![Field::new("x", from), Field::new("k", U64)]);
        let v2 = s(2, vec![Field::new("x", to), Field::new("k", U64)]);
        // v1 -> v2: converted exactly.
        assert_eq!(
            transfer(&v1, &v2, &[vec![v.clone(), Value::U64(9)]]),
            Ok(vec![vec![expect.clone(), Value::U64(9)]]),
            "{from} -> {to}"
        );
        // v2 -> v1: narrowing is refused when resolving, naming the field.
        assert_eq!(
            transfer(&v2, &v1, &[vec![expect, Value::U64(9)]]),
            Err(SchemaError::IncompatibleType {
                field: "x".into(),
                writer: to,
                reader: from
            }),
            "{to} -> {from}"
        );
    }
}

#[test]
fn lossy_or_unrelated_type_changes_are_refused_both_ways() {
    let refused = [
        (U64, F64), // inexact above 2^53
        (I64, F64),
        (U32, I32), // sign change
        (U64, I64),
        (F64, F32),
        (String, U64),
        (Bool, U32),
        (Bytes, String), // would need a UTF-8 check per record
    ];
    for (a, b) in refused {
        let v1 = s(1, vec![Field::new("f", a)]);
        let v2 = s(2, vec![Field::new("f", b)]);
        let sample = |t: FieldType| match t {
            Bool => Value::Bool(true),
            U32 => Value::U32(1),
            U64 => Value::U64(1),
            I32 => Value::I32(1),
            I64 => Value::I64(1),
            F32 => Value::F32(1.0),
            F64 => Value::F64(1.0),
            String => st("1"),
            Bytes => Value::Bytes(vec![1]),
        };
        for (w, r) in [(&v1, &v2), (&v2, &v1)] {
            let wt = w.fields()[0].ty;
            let rt = r.fields()[0].ty;
            if wt.widens_to(rt) {
                continue; // the allowed direction of a widening pair
            }
            assert_eq!(
                transfer(w, r, &[vec![sample(wt)]]),
                Err(SchemaError::IncompatibleType {
                    field: "f".into(),
                    writer: wt,
                    reader: rt
                }),
                "{wt} -> {rt}"
            );
        }
    }
}

#[test]
fn rename_through_alias() {
    let v1 = s(1, vec![Field::new("k", U64), Field::new("price", U64)]);
    let v2 = s(
        2,
        vec![
            Field::new("k", U64),
            Field::new("bid_price", U64).with_alias("price"),
        ],
    );
    // v1 -> v2: the reader's alias matches the old name.
    assert_eq!(
        transfer(&v1, &v2, &[vec![Value::U64(1), Value::U64(250)]]),
        Ok(vec![vec![Value::U64(1), Value::U64(250)]])
    );
    // v2 -> v1: the writer's alias matches the reader's (old) name.
    assert_eq!(
        transfer(&v2, &v1, &[vec![Value::U64(2), Value::U64(300)]]),
        Ok(vec![vec![Value::U64(2), Value::U64(300)]])
    );
    // Without the alias the rename is an incompatible change, named.
    let v2_no_alias = s(3, vec![Field::new("k", U64), Field::new("bid_price", U64)]);
    assert_eq!(
        transfer(&v1, &v2_no_alias, &[vec![Value::U64(1), Value::U64(2)]]),
        Err(SchemaError::MissingDefault {
            field: "bid_price".into()
        })
    );
}

#[test]
fn rename_with_type_widening_and_ambiguity() {
    let v1 = s(1, vec![Field::new("n", U32)]);
    let v2 = s(2, vec![Field::new("count", U64).with_alias("n")]);
    assert_eq!(
        transfer(&v1, &v2, &[vec![Value::U32(4)]]),
        Ok(vec![vec![Value::U64(4)]])
    );
    assert!(matches!(
        transfer(&v2, &v1, &[vec![Value::U64(4)]]),
        Err(SchemaError::IncompatibleType { field, .. }) if field == "n"
    ));
    // A reader field whose aliases match two writer fields is ambiguous.
    let w = s(1, vec![Field::new("a", U32), Field::new("b", U32)]);
    let r = s(
        2,
        vec![Field::new("c", U32).with_alias("a").with_alias("b")],
    );
    assert!(matches!(
        transfer(&w, &r, &[vec![Value::U32(1), Value::U32(2)]]),
        Err(SchemaError::AmbiguousField { field, .. }) if field == "c"
    ));
}

#[test]
fn reorder_fields() {
    let v1 = s(
        1,
        vec![
            Field::new("a", U64),
            Field::new("b", String),
            Field::new("c", Bool),
        ],
    );
    let v2 = s(
        2,
        vec![
            Field::new("c", Bool),
            Field::new("a", U64),
            Field::new("b", String),
        ],
    );
    assert_eq!(
        transfer(&v1, &v2, &[vec![Value::U64(1), st("x"), Value::Bool(true)]]),
        Ok(vec![vec![Value::Bool(true), Value::U64(1), st("x")]])
    );
    assert_eq!(
        transfer(
            &v2,
            &v1,
            &[vec![Value::Bool(false), Value::U64(2), st("y")]]
        ),
        Ok(vec![vec![Value::U64(2), st("y"), Value::Bool(false)]])
    );
}

#[test]
fn record_name_change_is_refused() {
    let a = Schema::new("one", 1, vec![Field::new("a", U64)]).unwrap();
    let b = Schema::new("two", 1, vec![Field::new("a", U64)]).unwrap();
    assert!(matches!(
        transfer(&a, &b, &[vec![Value::U64(1)]]),
        Err(SchemaError::NameMismatch { .. })
    ));
}

#[test]
fn incompatible_snapshot_is_refused_before_any_record() {
    let v1 = s(1, vec![Field::new("a", String)]);
    let v2 = s(2, vec![Field::new("a", U64)]);
    let mut buf = Vec::new();
    Snapshot::write(&mut buf, &v1, &[vec![st("1")]]).unwrap();
    let (snap, _) = Snapshot::decode(&buf, &Limits::default()).unwrap();
    let err = snap.read_as(&v2).map(|_| ()).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Schema(SchemaError::IncompatibleType {
            field: "a".into(),
            writer: String,
            reader: U64
        })
    );
    assert!(err.to_string().contains("`a`"), "{err}");
}
