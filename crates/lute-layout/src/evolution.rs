//! Schema evolution: resolving a writer schema against a reader schema.
//!
//! Bytes are always laid out by the schema that wrote them (the *writer* schema, identified by
//! the fingerprint in the header). A process reads them with its own *reader* schema; a
//! [`Resolution`] maps one to the other, and is computed once per writer schema, before any
//! record is read. Every incompatibility is refused at that point, with a [`SchemaError`] that
//! names the field, so a record is never decoded into a garbled value.
//!
//! # Rules
//!
//! Fields are matched **by name**, never by position. A reader field matches a writer field
//! when their names are equal; failing that, when either field lists the other's name among
//! its aliases (so a rename works in both directions if the new field keeps the old name as an
//! alias). Then, for each reader field:
//!
//! | change (v1 → v2) | v1 bytes read by v2 | v2 bytes read by v1 |
//! |---|---|---|
//! | **add** a field with a default | the default | the field is skipped |
//! | **add** a field without a default | refused: [`SchemaError::MissingDefault`] | skipped |
//! | **remove** a field that has a default (in v1) | skipped | the v1 default |
//! | **remove** a field without a default | skipped | refused: [`SchemaError::MissingDefault`] |
//! | **widen** a type ([`FieldType::widens_to`]) | converted exactly | refused: [`SchemaError::IncompatibleType`] |
//! | **rename** with the old name as alias | matched through the alias | matched through the alias |
//! | **reorder** fields | matched by name | matched by name |
//! | any other type change | refused: [`SchemaError::IncompatibleType`] | refused |
//! | rename the record | refused: [`SchemaError::NameMismatch`] | refused |
//!
//! Widening is lossless only: `u32 → u64 | i64 | f64`, `i32 → i64 | f64`, `f32 → f64`,
//! `string → bytes`. Narrowing, signedness changes and `i64/u64 → f64` (inexact above 2^53) are
//! refused. A reader field matching two writer fields is [`SchemaError::AmbiguousField`].
//!
//! A reader must know the writer schema: data and batch frames carry only its fingerprint (the reader
//! registers the schemas it may receive with [`Reader::register`], and an unregistered one is
//! [`DecodeError::UnknownFingerprint`]); snapshots embed the writer's descriptor
//! ([`Snapshot`]), so any version can resolve them.

use std::collections::HashMap;

use crate::batch::BatchView;
use crate::error::{DecodeError, EncodeError, SchemaError};
use crate::header::{Frame, FrameBuilder, Kind, Limits, Records};
use crate::schema::{FieldType, RecordView, Schema, Value};
use crate::wire::U32;
use zerocopy::FromBytes;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Read writer field `index` and convert it to the reader's type.
    Writer { index: usize, to: FieldType },
    /// The writer has no such field: use the reader's default.
    Default(Value),
}

/// How to read records of a writer schema as records of a reader schema (see the
/// [module docs](self) for the rules).
///
/// # Examples
///
/// ```
/// use lute_layout::{Field, FieldType::*, Resolution, Schema, Value, SchemaError};
///
/// let v1 = Schema::new("pt", 1, vec![Field::new("x", U32), Field::new("y", U32)])?;
/// let v2 = Schema::new("pt", 2, vec![
///     Field::new("y", U64),                                   // reordered and widened
///     Field::new("x", U32),
///     Field::new("z", U32).with_default(Value::U32(0)),       // added with a default
/// ])?;
/// let mut rec = Vec::new();
/// v1.encode_record(&[Value::U32(1), Value::U32(2)], &mut rec)?;
/// let r = Resolution::new(&v1, &v2)?;
/// assert_eq!(r.read(&rec)?, [Value::U64(2), Value::U32(1), Value::U32(0)]);
///
/// // The reverse narrows `y`: refused when resolving, naming the field.
/// assert!(matches!(Resolution::new(&v2, &v1),
///                  Err(SchemaError::IncompatibleType { field, .. }) if field == "y"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    writer: Schema,
    steps: Vec<Step>,
}

impl Resolution {
    /// Resolves `writer` against `reader`.
    ///
    /// # Errors
    /// [`SchemaError::NameMismatch`], [`SchemaError::MissingDefault`],
    /// [`SchemaError::IncompatibleType`] or [`SchemaError::AmbiguousField`], naming the
    /// (reader) field at fault.
    pub fn new(writer: &Schema, reader: &Schema) -> Result<Self, SchemaError> {
        if writer.name() != reader.name() {
            return Err(SchemaError::NameMismatch {
                writer: writer.name().to_owned(),
                reader: reader.name().to_owned(),
            });
        }
        let mut steps = Vec::with_capacity(reader.fields().len());
        for rf in reader.fields() {
            let index = match writer.field_index(&rf.name) {
                Some(i) => Some(i),
                None => {
                    let mut found: Option<usize> = None;
                    for (i, wf) in writer.fields().iter().enumerate() {
                        if rf.answers_to(&wf.name) || wf.answers_to(&rf.name) {
                            if let Some(first) = found {
                                return Err(SchemaError::AmbiguousField {
                                    field: rf.name.clone(),
                                    first: writer.fields()[first].name.clone(),
                                    second: wf.name.clone(),
                                });
                            }
                            found = Some(i);
                        }
                    }
                    found
                }
            };
            steps.push(match index {
                Some(i) => {
                    let from = writer.fields()[i].ty;
                    if !from.widens_to(rf.ty) {
                        return Err(SchemaError::IncompatibleType {
                            field: rf.name.clone(),
                            writer: from,
                            reader: rf.ty,
                        });
                    }
                    Step::Writer {
                        index: i,
                        to: rf.ty,
                    }
                }
                None => Step::Default(rf.default.clone().ok_or_else(|| {
                    SchemaError::MissingDefault {
                        field: rf.name.clone(),
                    }
                })?),
            });
        }
        Ok(Self {
            writer: writer.clone(),
            steps,
        })
    }

    /// The writer schema this resolution reads.
    pub fn writer(&self) -> &Schema {
        &self.writer
    }

    /// Reads one record written with the writer schema as reader-schema values.
    ///
    /// # Errors
    /// As [`Schema::decode_record`] for the writer schema: the whole record is validated,
    /// including fields the reader skips.
    pub fn read(&self, record: &[u8]) -> Result<Vec<Value>, DecodeError> {
        let mut out = Vec::with_capacity(self.steps.len());
        self.read_into(record, &mut out)?;
        Ok(out)
    }

    /// As [`read`](Self::read), appending to `out` (cleared first).
    ///
    /// # Errors
    /// As [`read`](Self::read); `out` is then left empty.
    pub fn read_into(&self, record: &[u8], out: &mut Vec<Value>) -> Result<(), DecodeError> {
        out.clear();
        let view = RecordView::new(&self.writer, record)?;
        self.read_view_into(&view, out)
    }

    /// Reads a record already viewed with the writer schema (for instance a batch record,
    /// [`RecordView::in_batch`]) into `out` (cleared first).
    ///
    /// # Errors
    /// [`DecodeError::FingerprintMismatch`] if `view` is not laid out by the writer schema; a
    /// field error of [`RecordView::get`] (all fields are validated, including skipped ones).
    /// `out` is then left empty.
    pub fn read_view_into(
        &self,
        view: &RecordView<'_, '_>,
        out: &mut Vec<Value>,
    ) -> Result<(), DecodeError> {
        out.clear();
        if view.schema().fingerprint() != self.writer.fingerprint() {
            return Err(DecodeError::FingerprintMismatch {
                expected: self.writer.fingerprint(),
                found: view.schema().fingerprint(),
            });
        }
        for i in 0..self.writer.fields().len() {
            // Validate skipped fields too: a corrupt record is an error whoever reads it.
            view.get(i)?;
        }
        for step in &self.steps {
            out.push(match step {
                Step::Writer { index, to } => {
                    let v = view.get(*index)?;
                    // Resolution admitted only `widens_to` pairs, which `widen` implements;
                    // a mismatch would be a bug in this crate, reported as the field's value.
                    v.widen(*to).unwrap_or_else(|| v.to_value())
                }
                Step::Default(d) => d.clone(),
            });
        }
        Ok(())
    }
}

/// Reads data frames written with any registered writer schema as records of one reader
/// schema.
///
/// # Examples
///
/// ```
/// use lute_layout::{Field, FieldType, FrameBuilder, Kind, Reader, Schema, Value};
///
/// let v1 = Schema::new("t", 1, vec![Field::new("a", FieldType::U32)])?;
/// let v2 = Schema::new("t", 2, vec![Field::new("a", FieldType::I64)])?;
/// let mut buf = Vec::new();
/// let mut b = FrameBuilder::new(&mut buf, Kind::Data, v1.id());
/// b.push_values(&v1, &[Value::U32(5)])?;
/// b.finish()?;
///
/// let mut reader = Reader::new(v2);
/// reader.register(&v1)?;
/// let (recs, _rest) = reader.read_frame(&buf)?;
/// assert_eq!(recs.collect::<Result<Vec<_>, _>>()?, [vec![Value::I64(5)]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reader {
    schema: Schema,
    limits: Limits,
    resolutions: HashMap<u64, Resolution>,
}

impl Reader {
    /// A reader of `schema`, which is registered as a writer schema too.
    pub fn new(schema: Schema) -> Self {
        let mut resolutions = HashMap::new();
        // Resolving a schema against itself cannot fail: every field matches itself by name
        // with its own type. Ignore the impossible error rather than panic.
        if let Ok(r) = Resolution::new(&schema, &schema) {
            resolutions.insert(schema.fingerprint(), r);
        }
        Self {
            schema,
            limits: Limits::default(),
            resolutions,
        }
    }

    /// Sets the limits applied to frames.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The reader schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Resolves `writer` against the reader schema and remembers it under its fingerprint.
    ///
    /// # Errors
    /// The [`SchemaError`] of [`Resolution::new`].
    pub fn register(&mut self, writer: &Schema) -> Result<(), SchemaError> {
        let r = Resolution::new(writer, &self.schema)?;
        self.resolutions.insert(writer.fingerprint(), r);
        Ok(())
    }

    /// The resolution for writer fingerprint `fingerprint`.
    ///
    /// # Errors
    /// [`DecodeError::UnknownFingerprint`] if it was never registered.
    pub fn resolution(&self, fingerprint: u64) -> Result<&Resolution, DecodeError> {
        self.resolutions
            .get(&fingerprint)
            .ok_or(DecodeError::UnknownFingerprint { fingerprint })
    }

    /// Validates the data or batch frame at the start of `bytes` and returns an iterator over
    /// its records as reader-schema values, and the bytes after the frame.
    ///
    /// # Errors
    /// Any error of [`Frame::decode`] (and, for a batch, of [`BatchView::new`]),
    /// [`DecodeError::UnknownKind`] for a snapshot (read those with [`Snapshot`]),
    /// [`DecodeError::UnknownFingerprint`].
    pub fn read_frame<'r, 'a>(
        &'r self,
        bytes: &'a [u8],
    ) -> Result<(ResolvedRecords<'r, 'a>, &'a [u8]), DecodeError> {
        let (frame, rest) = Frame::decode(bytes, &self.limits)?;
        let source = match frame.kind() {
            Kind::Data => Source::Data(frame.records()),
            Kind::Batch => Source::Batch {
                view: BatchView::new(frame.payload())?,
                next: 0,
            },
            Kind::Snapshot => {
                return Err(DecodeError::UnknownKind {
                    found: frame.header().kind,
                });
            }
        };
        let resolution = self.resolution(frame.schema_id().fingerprint)?;
        Ok((ResolvedRecords { resolution, source }, rest))
    }
}

#[derive(Debug, Clone)]
enum Source<'a> {
    Data(Records<'a>),
    Batch { view: BatchView<'a>, next: usize },
}

/// Records of a data or batch frame, or a snapshot, read through a [`Resolution`].
#[derive(Debug, Clone)]
pub struct ResolvedRecords<'r, 'a> {
    resolution: &'r Resolution,
    source: Source<'a>,
}

impl Iterator for ResolvedRecords<'_, '_> {
    type Item = Result<Vec<Value>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Data(records) => {
                let rec = records.next()?;
                Some(rec.and_then(|r| self.resolution.read(r)))
            }
            Source::Batch { view, next } => {
                if *next >= view.len() {
                    return None;
                }
                let i = *next;
                *next += 1;
                let mut out = Vec::new();
                Some(
                    RecordView::in_batch(&self.resolution.writer, view, i)
                        .and_then(|v| self.resolution.read_view_into(&v, &mut out))
                        .map(|()| out),
                )
            }
        }
    }
}

/// A validated snapshot: a header of kind [`Kind::Snapshot`], the writer's schema descriptor,
/// and records.
///
/// # Examples
///
/// ```
/// use lute_layout::{Field, FieldType, Limits, Schema, Snapshot, Value};
///
/// let v2 = Schema::new("t", 2, vec![
///     Field::new("a", FieldType::U32),
///     Field::new("b", FieldType::String).with_default(Value::String("-".into())),
/// ])?;
/// let v1 = Schema::new("t", 1, vec![Field::new("a", FieldType::U32)])?;
/// let mut buf = Vec::new();
/// Snapshot::write(&mut buf, &v2, &[vec![Value::U32(1), Value::String("x".into())]])?;
///
/// // An older reader resolves the newer writer from the embedded descriptor.
/// let (snap, _) = Snapshot::decode(&buf, &Limits::default())?;
/// assert_eq!(snap.writer_schema(), &v2);
/// let recs: Vec<_> = snap.read_as(&v1)?.collect::<Result<_, _>>()?;
/// assert_eq!(recs, [vec![Value::U32(1)]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    frame: Frame<'a>,
    writer: Schema,
    records: &'a [u8],
}

impl<'a> Snapshot<'a> {
    /// Writes a snapshot of `records` (values of `schema`) at the end of `out`; returns its
    /// length.
    ///
    /// # Errors
    /// The [`EncodeError`] of the first record that does not match `schema`, or
    /// [`EncodeError::TooLarge`]; `out` is then left as it was.
    pub fn write<R: AsRef<[Value]>>(
        out: &mut Vec<u8>,
        schema: &Schema,
        records: &[R],
    ) -> Result<usize, EncodeError> {
        let start = out.len();
        let mut b = FrameBuilder::new(out, Kind::Snapshot, schema.id());
        let d = schema.to_descriptor();
        if let Err(e) = b.push_record(&d) {
            b.abandon();
            return Err(e);
        }
        for r in records {
            if let Err(e) = b.push_values(schema, r.as_ref()) {
                b.abandon();
                debug_assert_eq!(out.len(), start);
                return Err(e);
            }
        }
        b.finish()
    }

    /// Validates the snapshot at the start of `bytes` (header, checksum, descriptor, and that
    /// the descriptor's fingerprint is the header's) and returns it with the bytes after it.
    ///
    /// # Errors
    /// Any error of [`Frame::decode`] or [`Schema::from_descriptor`];
    /// [`DecodeError::UnknownKind`] for a data frame; [`DecodeError::FingerprintMismatch`]
    /// when the descriptor is not the schema the header names.
    pub fn decode(bytes: &'a [u8], limits: &Limits) -> Result<(Self, &'a [u8]), DecodeError> {
        let (frame, rest) = Frame::decode(bytes, limits)?;
        if frame.kind() != Kind::Snapshot {
            return Err(DecodeError::UnknownKind {
                found: frame.header().kind,
            });
        }
        let payload = frame.payload();
        let (len, after) = U32::read_from_prefix(payload).map_err(|_| DecodeError::Truncated {
            what: "schema descriptor length",
            needed: 4,
            available: payload.len() as u64,
        })?;
        let len = len.get();
        let Some((desc, records)) = usize::try_from(len)
            .ok()
            .filter(|&l| l <= after.len())
            .map(|l| after.split_at(l))
        else {
            return Err(DecodeError::Truncated {
                what: "schema descriptor",
                needed: u64::from(len),
                available: after.len() as u64,
            });
        };
        let writer = Schema::from_descriptor(desc)?;
        let expected = frame.schema_id().fingerprint;
        if writer.fingerprint() != expected {
            return Err(DecodeError::FingerprintMismatch {
                expected,
                found: writer.fingerprint(),
            });
        }
        Ok((
            Self {
                frame,
                writer,
                records,
            },
            rest,
        ))
    }

    /// The validated frame.
    pub fn frame(&self) -> &Frame<'a> {
        &self.frame
    }

    /// The writer schema, from the embedded descriptor.
    pub fn writer_schema(&self) -> &Schema {
        &self.writer
    }

    /// The raw records (laid out by the writer schema).
    pub fn records(&self) -> Records<'a> {
        Records::new(self.records)
    }

    /// Resolves the writer schema against `reader` and returns the records as reader values.
    ///
    /// # Errors
    /// [`DecodeError::Schema`] with the [`SchemaError`] of [`Resolution::new`].
    pub fn read_as(
        &self,
        reader: &Schema,
    ) -> Result<impl Iterator<Item = Result<Vec<Value>, DecodeError>> + '_, DecodeError> {
        let resolution = Resolution::new(&self.writer, reader)?;
        Ok(self
            .records()
            .map(move |r| r.and_then(|r| resolution.read(r))))
    }
}
