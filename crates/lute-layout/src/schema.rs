//! Schemas: record descriptors with a version and a fingerprint, the record layout they
//! define, and their binary descriptor.
//!
//! # Record layout
//!
//! A record of a schema with fields `f0 .. fn` is a **fixed part**, one slot per field in
//! declaration order with no padding, followed by a **variable part** holding the bytes of the
//! string and bytes fields:
//!
//! | field type | slot size | slot contents |
//! |---|---|---|
//! | `bool` | 1 | 0 or 1 |
//! | `u32`, `i32`, `f32` | 4 | little-endian value |
//! | `u64`, `i64`, `f64` | 8 | little-endian value |
//! | `string`, `bytes` | 8 | [`VarRef`]: `U32` offset from the start of the record, `U32` length |
//!
//! The writer places variable bytes right after the fixed part, in field order. A reader only
//! requires `fixed size <= offset` and `offset + len <= record length` for every slot (checked
//! before any byte is read: [`DecodeError::FieldOutOfBounds`]), that strings are UTF-8
//! ([`DecodeError::InvalidUtf8`]) and that bools are 0 or 1 ([`DecodeError::InvalidBool`]).
//! A record shorter than its fixed part is [`DecodeError::Truncated`].
//!
//! # Fingerprint
//!
//! [`Schema::fingerprint`] is the 64-bit Rabin fingerprint (CRC-64-AVRO, the polynomial Avro
//! uses for schema fingerprints) of the schema's *layout form*: the record name, the version
//! and each field's name and type tag, in order (encoded as in the descriptor below). Defaults
//! and aliases are not part of it: they change how a reader fills gaps, not the bytes written.
//!
//! # Descriptor (format 1)
//!
//! [`Schema::to_descriptor`] writes, all integers little-endian, `str` = `U16` length + UTF-8:
//!
//! | item | encoding |
//! |---|---|
//! | descriptor format | `u8` = 1 |
//! | record name | `str` |
//! | version | `U32` |
//! | field count | `U16` |
//! | per field: name | `str` |
//! | per field: type | `u8` tag ([`FieldType::tag`]) |
//! | per field: aliases | `u8` count, then `str` each |
//! | per field: default | `u8` 0 (none) or 1, then the value: fixed types as their slot, `string`/`bytes` as `U32` length + bytes |
//!
//! [`Schema::from_descriptor`] checks every length against the input and the [`limits`] before
//! reading, then validates the schema as [`Schema::new`] does.

use std::fmt;

use crate::error::{DecodeError, EncodeError, SchemaError};
use crate::wire::VarRef;

/// Structural limits on schemas (checked by [`Schema::new`] and the descriptor decoder).
pub mod limits {
    /// Most fields in one schema.
    pub const MAX_FIELDS: usize = 1024;
    /// Longest record or field name or alias, in bytes.
    pub const MAX_NAME_LEN: usize = 255;
    /// Most aliases of one field.
    pub const MAX_ALIASES: usize = 16;
    /// Longest string or bytes default, in bytes.
    pub const MAX_DEFAULT_LEN: usize = 64 * 1024;
}

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `bool`: one byte, 0 or 1.
    Bool,
    /// `u32`, little-endian.
    U32,
    /// `u64`, little-endian.
    U64,
    /// `i32`, little-endian two's complement.
    I32,
    /// `i64`, little-endian two's complement.
    I64,
    /// `f32`, IEEE 754 binary32, little-endian.
    F32,
    /// `f64`, IEEE 754 binary64, little-endian.
    F64,
    /// UTF-8 string, variable length.
    String,
    /// Byte string, variable length.
    Bytes,
}

impl FieldType {
    /// All types, in tag order.
    pub const ALL: [FieldType; 9] = [
        Self::Bool,
        Self::U32,
        Self::U64,
        Self::I32,
        Self::I64,
        Self::F32,
        Self::F64,
        Self::String,
        Self::Bytes,
    ];

    /// The type's tag in descriptors and fingerprints (1 to 9, in the order of [`Self::ALL`]).
    pub const fn tag(self) -> u8 {
        match self {
            Self::Bool => 1,
            Self::U32 => 2,
            Self::U64 => 3,
            Self::I32 => 4,
            Self::I64 => 5,
            Self::F32 => 6,
            Self::F64 => 7,
            Self::String => 8,
            Self::Bytes => 9,
        }
    }

    /// The type with tag `tag`, if any.
    pub fn from_tag(tag: u8) -> Option<Self> {
        Self::ALL.get(usize::from(tag).checked_sub(1)?).copied()
    }

    /// Size of the field's slot in the fixed part of a record.
    pub const fn slot_size(self) -> usize {
        match self {
            Self::Bool => 1,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 | Self::String | Self::Bytes => 8,
        }
    }

    /// Whether every value of `self` converts exactly to `to` (the widening rules of
    /// [`evolution`](crate::evolution)).
    ///
    /// # Examples
    ///
    /// ```
    /// use lute_layout::FieldType::*;
    /// assert!(U32.widens_to(U64) && I32.widens_to(F64) && F32.widens_to(F64));
    /// assert!(!U64.widens_to(U32) && !I64.widens_to(F64) && !U32.widens_to(I32));
    /// ```
    pub const fn widens_to(self, to: FieldType) -> bool {
        use FieldType::*;
        matches!(
            (self, to),
            (Bool, Bool)
                | (U32, U32 | U64 | I64 | F64)
                | (U64, U64)
                | (I32, I32 | I64 | F64)
                | (I64, I64)
                | (F32, F32 | F64)
                | (F64, F64)
                | (String, String | Bytes)
                | (Bytes, Bytes)
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bool => "bool",
            Self::U32 => "u32",
            Self::U64 => "u64",
            Self::I32 => "i32",
            Self::I64 => "i64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::String => "string",
            Self::Bytes => "bytes",
        })
    }
}

/// An owned field value (defaults, and records decoded through a schema).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A `bool`.
    Bool(bool),
    /// A `u32`.
    U32(u32),
    /// A `u64`.
    U64(u64),
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
    /// A `string`.
    String(String),
    /// A `bytes`.
    Bytes(Vec<u8>),
}

impl Value {
    /// The value's type.
    pub fn field_type(&self) -> FieldType {
        self.as_ref().field_type()
    }

    /// A borrowed view of the value.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Self::Bool(v) => ValueRef::Bool(*v),
            Self::U32(v) => ValueRef::U32(*v),
            Self::U64(v) => ValueRef::U64(*v),
            Self::I32(v) => ValueRef::I32(*v),
            Self::I64(v) => ValueRef::I64(*v),
            Self::F32(v) => ValueRef::F32(*v),
            Self::F64(v) => ValueRef::F64(*v),
            Self::String(v) => ValueRef::Str(v),
            Self::Bytes(v) => ValueRef::Bytes(v),
        }
    }
}

/// A field value borrowed from a record's bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// A `bool`.
    Bool(bool),
    /// A `u32`.
    U32(u32),
    /// A `u64`.
    U64(u64),
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
    /// A `string`.
    Str(&'a str),
    /// A `bytes`.
    Bytes(&'a [u8]),
}

impl ValueRef<'_> {
    /// The value's type.
    pub fn field_type(&self) -> FieldType {
        match self {
            Self::Bool(_) => FieldType::Bool,
            Self::U32(_) => FieldType::U32,
            Self::U64(_) => FieldType::U64,
            Self::I32(_) => FieldType::I32,
            Self::I64(_) => FieldType::I64,
            Self::F32(_) => FieldType::F32,
            Self::F64(_) => FieldType::F64,
            Self::Str(_) => FieldType::String,
            Self::Bytes(_) => FieldType::Bytes,
        }
    }

    /// An owned copy.
    pub fn to_value(&self) -> Value {
        match *self {
            Self::Bool(v) => Value::Bool(v),
            Self::U32(v) => Value::U32(v),
            Self::U64(v) => Value::U64(v),
            Self::I32(v) => Value::I32(v),
            Self::I64(v) => Value::I64(v),
            Self::F32(v) => Value::F32(v),
            Self::F64(v) => Value::F64(v),
            Self::Str(v) => Value::String(v.to_owned()),
            Self::Bytes(v) => Value::Bytes(v.to_vec()),
        }
    }

    /// Converts to type `to` along a widening rule ([`FieldType::widens_to`]); `None` if
    /// there is none. Every conversion is exact.
    pub fn widen(&self, to: FieldType) -> Option<Value> {
        use FieldType as T;
        Some(match (*self, to) {
            (v, t) if v.field_type() == t => v.to_value(),
            (Self::U32(v), T::U64) => Value::U64(u64::from(v)),
            (Self::U32(v), T::I64) => Value::I64(i64::from(v)),
            (Self::U32(v), T::F64) => Value::F64(f64::from(v)),
            (Self::I32(v), T::I64) => Value::I64(i64::from(v)),
            (Self::I32(v), T::F64) => Value::F64(f64::from(v)),
            (Self::F32(v), T::F64) => Value::F64(f64::from(v)),
            (Self::Str(v), T::Bytes) => Value::Bytes(v.as_bytes().to_vec()),
            _ => return None,
        })
    }
}

/// One field of a [`Schema`].
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's name (unique in its schema, together with all aliases).
    pub name: String,
    /// The field's type.
    pub ty: FieldType,
    /// The value a reader uses when the writer did not write this field.
    pub default: Option<Value>,
    /// Former (or other) names of the field: resolution matches a writer field with one of
    /// them (see [`evolution`](crate::evolution)).
    pub aliases: Vec<String>,
}

impl Field {
    /// A field with no default and no alias.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Self {
            name: name.into(),
            ty,
            default: None,
            aliases: Vec::new(),
        }
    }

    /// Sets the default.
    #[must_use]
    pub fn with_default(mut self, default: Value) -> Self {
        self.default = Some(default);
        self
    }

    /// Adds an alias.
    #[must_use]
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// Whether `name` is this field's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.iter().any(|a| a == name)
    }
}

/// A record type's descriptor: name, version, fields; with its layout and fingerprint
/// computed once.
///
/// # Examples
///
/// ```
/// use lute_layout::{Field, FieldType, Schema, Value};
///
/// let s = Schema::new("demo", 1, vec![
///     Field::new("id", FieldType::U64),
///     Field::new("name", FieldType::String).with_default(Value::String(String::new())),
/// ])?;
/// assert_eq!(s.fixed_size(), 16);
/// let mut rec = Vec::new();
/// s.encode_record(&[Value::U64(7), Value::String("ab".into())], &mut rec)?;
/// assert_eq!(rec.len(), 18);
/// assert_eq!(s.decode_record(&rec)?, [Value::U64(7), Value::String("ab".into())]);
/// assert_eq!(Schema::from_descriptor(&s.to_descriptor())?, s);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    name: String,
    version: u32,
    fields: Vec<Field>,
    offsets: Vec<usize>,
    fixed_size: usize,
    fingerprint: u64,
}

impl Schema {
    /// Builds and validates a schema.
    ///
    /// # Errors
    /// [`SchemaError::DuplicateField`] when a name or alias is used twice,
    /// [`SchemaError::BadDefault`] when a default's type is not the field's, and
    /// [`SchemaError::TooLarge`] beyond the [`limits`].
    pub fn new(
        name: impl Into<String>,
        version: u32,
        fields: Vec<Field>,
    ) -> Result<Self, SchemaError> {
        let name = name.into();
        if fields.len() > limits::MAX_FIELDS {
            return Err(SchemaError::TooLarge {
                what: "field count",
            });
        }
        if name.len() > limits::MAX_NAME_LEN {
            return Err(SchemaError::TooLarge { what: "name" });
        }
        let mut seen: Vec<&str> = Vec::new();
        for f in &fields {
            if f.aliases.len() > limits::MAX_ALIASES {
                return Err(SchemaError::TooLarge { what: "aliases" });
            }
            for n in std::iter::once(&f.name).chain(&f.aliases) {
                if n.len() > limits::MAX_NAME_LEN {
                    return Err(SchemaError::TooLarge { what: "name" });
                }
                if seen.contains(&n.as_str()) {
                    return Err(SchemaError::DuplicateField {
                        schema: name.clone(),
                        field: n.clone(),
                    });
                }
                seen.push(n);
            }
            if let Some(d) = &f.default {
                if d.field_type() != f.ty {
                    return Err(SchemaError::BadDefault {
                        field: f.name.clone(),
                        expected: f.ty,
                        found: d.field_type(),
                    });
                }
                let var_len = match d {
                    Value::String(s) => s.len(),
                    Value::Bytes(b) => b.len(),
                    _ => 0,
                };
                if var_len > limits::MAX_DEFAULT_LEN {
                    return Err(SchemaError::TooLarge { what: "default" });
                }
            }
        }
        let mut offsets = Vec::with_capacity(fields.len());
        let mut at = 0;
        for f in &fields {
            offsets.push(at);
            at += f.ty.slot_size();
        }
        let mut s = Self {
            name,
            version,
            fields,
            offsets,
            fixed_size: at,
            fingerprint: 0,
        };
        let mut form = Vec::new();
        s.write_layout_form(&mut form);
        s.fingerprint = rabin64(&form);
        Ok(s)
    }

    /// The record name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The fields, in layout order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Offset of field `i`'s slot in the fixed part.
    ///
    /// # Panics
    /// If `i` is not a field index.
    pub fn slot_offset(&self, i: usize) -> usize {
        self.offsets[i]
    }

    /// Size of the fixed part of a record (the sum of the slot sizes).
    pub fn fixed_size(&self) -> usize {
        self.fixed_size
    }

    /// The schema's fingerprint (see the [module docs](self)).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Fingerprint and version, as written into headers.
    pub fn id(&self) -> crate::SchemaId {
        crate::SchemaId {
            fingerprint: self.fingerprint,
            version: self.version,
        }
    }

    /// Index of the field named `name` (not aliases).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    fn write_layout_form(&self, out: &mut Vec<u8>) {
        out.push(DESCRIPTOR_FORMAT);
        put_str(out, &self.name);
        out.extend_from_slice(&self.version.to_le_bytes());
        put_u16(out, self.fields.len());
        for f in &self.fields {
            put_str(out, &f.name);
            out.push(f.ty.tag());
        }
    }

    /// The schema's binary descriptor (see the [module docs](self)).
    pub fn to_descriptor(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.push(DESCRIPTOR_FORMAT);
        put_str(&mut out, &self.name);
        out.extend_from_slice(&self.version.to_le_bytes());
        put_u16(&mut out, self.fields.len());
        for f in &self.fields {
            put_str(&mut out, &f.name);
            out.push(f.ty.tag());
            // Bounded by MAX_ALIASES (checked in `new`).
            out.push(u8::try_from(f.aliases.len()).unwrap_or(u8::MAX));
            for a in &f.aliases {
                put_str(&mut out, a);
            }
            match &f.default {
                None => out.push(0),
                Some(v) => {
                    out.push(1);
                    put_value(&mut out, v.as_ref());
                }
            }
        }
        out
    }

    /// Parses and validates a descriptor written by [`to_descriptor`](Self::to_descriptor).
    /// The whole input must be consumed.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`], [`DecodeError::InvalidDescriptor`],
    /// [`DecodeError::InvalidUtf8`], [`DecodeError::InvalidBool`],
    /// [`DecodeError::TrailingBytes`], or [`DecodeError::Schema`] when the descriptor parses
    /// but does not form a valid schema.
    pub fn from_descriptor(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut c = Cursor { rest: bytes };
        if c.u8()? != DESCRIPTOR_FORMAT {
            return Err(DecodeError::InvalidDescriptor {
                reason: "unknown descriptor format",
            });
        }
        let name = c.str("record name")?;
        let version = c.u32()?;
        let n = usize::from(c.u16()?);
        if n > limits::MAX_FIELDS {
            return Err(DecodeError::InvalidDescriptor {
                reason: "too many fields",
            });
        }
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            let fname = c.str("field name")?;
            let ty = FieldType::from_tag(c.u8()?).ok_or(DecodeError::InvalidDescriptor {
                reason: "unknown field type",
            })?;
            let na = usize::from(c.u8()?);
            if na > limits::MAX_ALIASES {
                return Err(DecodeError::InvalidDescriptor {
                    reason: "too many aliases",
                });
            }
            let mut aliases = Vec::with_capacity(na);
            for _ in 0..na {
                aliases.push(c.str("alias")?);
            }
            let default = match c.u8()? {
                0 => None,
                1 => Some(c.value(ty, &fname)?),
                _ => {
                    return Err(DecodeError::InvalidDescriptor {
                        reason: "bad default marker",
                    });
                }
            };
            fields.push(Field {
                name: fname,
                ty,
                default,
                aliases,
            });
        }
        if !c.rest.is_empty() {
            return Err(DecodeError::TrailingBytes {
                what: "schema descriptor",
                count: c.rest.len() as u64,
            });
        }
        Ok(Self::new(name, version, fields)?)
    }

    /// Appends one record of this schema, laid out as in the [module docs](self).
    ///
    /// # Errors
    /// [`EncodeError::ArityMismatch`], [`EncodeError::TypeMismatch`], or
    /// [`EncodeError::TooLarge`] when the record exceeds `u32::MAX` bytes. On error `out` is
    /// left as it was.
    pub fn encode_record(&self, values: &[Value], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if values.len() != self.fields.len() {
            return Err(EncodeError::ArityMismatch {
                expected: self.fields.len(),
                found: values.len(),
            });
        }
        let mut total = self.fixed_size as u64;
        for (f, v) in self.fields.iter().zip(values) {
            let found = v.field_type();
            if found != f.ty {
                return Err(EncodeError::TypeMismatch {
                    field: f.name.clone(),
                    expected: f.ty,
                    found,
                });
            }
            match v {
                Value::String(s) => total += s.len() as u64,
                Value::Bytes(b) => total += b.len() as u64,
                _ => {}
            }
        }
        if total > u64::from(u32::MAX) {
            return Err(EncodeError::TooLarge {
                what: "record",
                len: total,
                max: u64::from(u32::MAX),
            });
        }
        out.reserve(total as usize);
        let start = out.len();
        // Fits in u32: total <= u32::MAX.
        let mut var_at = self.fixed_size as u32;
        for v in values {
            match v.as_ref() {
                ValueRef::Str(s) => {
                    push_varref(out, &mut var_at, s.len());
                }
                ValueRef::Bytes(b) => {
                    push_varref(out, &mut var_at, b.len());
                }
                other => put_value(out, other),
            }
        }
        for v in values {
            match v {
                Value::String(s) => out.extend_from_slice(s.as_bytes()),
                Value::Bytes(b) => out.extend_from_slice(b),
                _ => {}
            }
        }
        debug_assert_eq!(out.len() - start, total as usize);
        Ok(())
    }

    /// Validates `record` against this schema and returns a zero-copy view of it.
    ///
    /// # Errors
    /// See [`RecordView::new`].
    pub fn view<'a>(&self, record: &'a [u8]) -> Result<RecordView<'_, 'a>, DecodeError> {
        RecordView::new(self, record)
    }

    /// Decodes `record` into owned values.
    ///
    /// # Errors
    /// See [`RecordView::new`] and [`RecordView::get`].
    pub fn decode_record(&self, record: &[u8]) -> Result<Vec<Value>, DecodeError> {
        let v = self.view(record)?;
        (0..self.fields.len())
            .map(|i| v.get(i).map(|x| x.to_value()))
            .collect()
    }
}

fn push_varref(out: &mut Vec<u8>, var_at: &mut u32, len: usize) {
    // The caller checked that the whole record fits in u32.
    let len = len as u32;
    out.extend_from_slice(&var_at.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    *var_at += len;
}

/// A record validated against a schema: every variable-length slot is in bounds. Reading a
/// field allocates nothing and never reads outside the record.
///
/// The record is either self-contained (its variable bytes follow its fixed part: data frames,
/// snapshots, [`Schema::decode_record`]) or one record of a batch, whose variable bytes live in
/// the batch's shared heaps ([`RecordView::in_batch`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'s, 'a> {
    schema: &'s Schema,
    /// The whole record (inline) or its fixed part (batch); at least `schema.fixed_size` bytes.
    bytes: &'a [u8],
    var: Var<'a>,
}

/// Where a record's variable-length bytes are.
#[derive(Debug, Clone, Copy)]
enum Var<'a> {
    /// After the fixed part, in the same slice; offsets from the record start.
    Inline,
    /// In a batch's heaps; offsets from each heap's start. `strs` was validated as UTF-8 once.
    Heaps { strs: &'a str, bytes: &'a [u8] },
}

impl<'s, 'a> RecordView<'s, 'a> {
    /// Checks that `bytes` holds the fixed part and that every variable-length slot lies in the
    /// variable part.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] or [`DecodeError::FieldOutOfBounds`].
    pub fn new(schema: &'s Schema, bytes: &'a [u8]) -> Result<Self, DecodeError> {
        Self::with_var(schema, bytes, Var::Inline)
    }

    /// Views record `index` of a batch written with `schema`.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] if there is no such record, [`DecodeError::BatchLayout`] if
    /// the batch's fixed size is not the schema's, [`DecodeError::FieldOutOfBounds`] for a
    /// slot outside its heap.
    pub fn in_batch(
        schema: &'s Schema,
        batch: &crate::batch::BatchView<'a>,
        index: usize,
    ) -> Result<Self, DecodeError> {
        if batch.fixed_size() != schema.fixed_size {
            return Err(DecodeError::BatchLayout {
                reason: "fixed size differs from the schema's",
            });
        }
        let fixed = batch.fixed(index).ok_or(DecodeError::Truncated {
            what: "batch record",
            needed: index as u64 + 1,
            available: batch.len() as u64,
        })?;
        Self::with_var(
            schema,
            fixed,
            Var::Heaps {
                strs: batch.str_heap(),
                bytes: batch.bytes_heap(),
            },
        )
    }

    fn with_var(schema: &'s Schema, bytes: &'a [u8], var: Var<'a>) -> Result<Self, DecodeError> {
        if bytes.len() < schema.fixed_size {
            return Err(DecodeError::Truncated {
                what: "record",
                needed: schema.fixed_size as u64,
                available: bytes.len() as u64,
            });
        }
        let view = Self { schema, bytes, var };
        for (i, f) in schema.fields.iter().enumerate() {
            if matches!(f.ty, FieldType::String | FieldType::Bytes) {
                view.var_bytes(i)?;
            }
        }
        Ok(view)
    }

    /// The record's bytes (for a batch record: its fixed part).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    fn slot<const N: usize>(&self, i: usize) -> Result<[u8; N], DecodeError> {
        let at = self.schema.offsets[i];
        self.bytes
            .get(at..at + N)
            .and_then(|s| s.try_into().ok())
            .ok_or(DecodeError::Truncated {
                what: "record",
                needed: (at + N) as u64,
                available: self.bytes.len() as u64,
            })
    }

    fn var_ref(&self, i: usize) -> Result<VarRef, DecodeError> {
        let slot: [u8; 8] = self.slot(i)?;
        Ok(VarRef::new(
            u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]),
            u32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]),
        ))
    }

    fn var_bytes(&self, i: usize) -> Result<&'a [u8], DecodeError> {
        let r = self.var_ref(i)?;
        let (area, min): (&'a [u8], usize) = match self.var {
            Var::Inline => (self.bytes, self.schema.fixed_size),
            Var::Heaps { strs, .. } if self.schema.fields[i].ty == FieldType::String => {
                (strs.as_bytes(), 0)
            }
            Var::Heaps { bytes, .. } => (bytes, 0),
        };
        r.range(min, area.len())
            .and_then(|range| area.get(range))
            .ok_or_else(|| DecodeError::FieldOutOfBounds {
                field: self.schema.fields[i].name.clone(),
                offset: r.offset.get(),
                len: r.len.get(),
                min: min as u32,
                record_len: area.len() as u64,
            })
    }

    fn var_str(&self, i: usize) -> Result<&'a str, DecodeError> {
        let invalid = || DecodeError::InvalidUtf8 {
            field: self.schema.fields[i].name.clone(),
        };
        match self.var {
            Var::Inline => std::str::from_utf8(self.var_bytes(i)?).map_err(|_| invalid()),
            Var::Heaps { strs, .. } => {
                // In bounds (checked by `var_bytes`); the heap is valid UTF-8 as a whole, so
                // the string is valid iff both ends are char boundaries.
                self.var_bytes(i)?;
                let r = self.var_ref(i)?;
                let start = r.offset.get() as usize;
                strs.get(start..start + r.len.get() as usize)
                    .ok_or_else(invalid)
            }
        }
    }

    /// Field `i`'s value, borrowed from the record.
    ///
    /// # Errors
    /// [`DecodeError::InvalidUtf8`] or [`DecodeError::InvalidBool`].
    ///
    /// # Panics
    /// If `i` is not a field index of the schema.
    pub fn get(&self, i: usize) -> Result<ValueRef<'a>, DecodeError> {
        let f = &self.schema.fields[i];
        Ok(match f.ty {
            FieldType::Bool => match self.slot::<1>(i)?[0] {
                0 => ValueRef::Bool(false),
                1 => ValueRef::Bool(true),
                byte => {
                    return Err(DecodeError::InvalidBool {
                        field: f.name.clone(),
                        byte,
                    });
                }
            },
            FieldType::U32 => ValueRef::U32(u32::from_le_bytes(self.slot(i)?)),
            FieldType::U64 => ValueRef::U64(u64::from_le_bytes(self.slot(i)?)),
            FieldType::I32 => ValueRef::I32(i32::from_le_bytes(self.slot(i)?)),
            FieldType::I64 => ValueRef::I64(i64::from_le_bytes(self.slot(i)?)),
            FieldType::F32 => ValueRef::F32(f32::from_le_bytes(self.slot(i)?)),
            FieldType::F64 => ValueRef::F64(f64::from_le_bytes(self.slot(i)?)),
            FieldType::String => ValueRef::Str(self.var_str(i)?),
            FieldType::Bytes => ValueRef::Bytes(self.var_bytes(i)?),
        })
    }

    /// The schema this record is laid out by.
    pub fn schema(&self) -> &'s Schema {
        self.schema
    }
}

const DESCRIPTOR_FORMAT: u8 = 1;

fn put_u16(out: &mut Vec<u8>, n: usize) {
    // Callers pass lengths bounded by the limits (all < 2^16).
    out.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u16(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

pub(crate) fn put_value(out: &mut Vec<u8>, v: ValueRef<'_>) {
    match v {
        ValueRef::Bool(b) => out.push(u8::from(b)),
        ValueRef::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        ValueRef::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        ValueRef::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        ValueRef::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        ValueRef::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        ValueRef::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
        ValueRef::Str(s) => {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        ValueRef::Bytes(b) => {
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// A bounds-checked reader over descriptor bytes.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated {
                what,
                needed: n as u64,
                available: self.rest.len() as u64,
            });
        }
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N, "descriptor")?;
        let mut a = [0; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn str(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let n = usize::from(self.u16()?);
        if n > limits::MAX_NAME_LEN {
            return Err(DecodeError::InvalidDescriptor {
                reason: "name too long",
            });
        }
        let b = self.take(n, what)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8 {
                field: what.to_owned(),
            })
    }

    fn var(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()?;
        if n as usize > limits::MAX_DEFAULT_LEN {
            return Err(DecodeError::LengthTooLarge {
                what: "default",
                len: u64::from(n),
                max: limits::MAX_DEFAULT_LEN as u64,
            });
        }
        self.take(n as usize, "default")
    }

    fn value(&mut self, ty: FieldType, field: &str) -> Result<Value, DecodeError> {
        Ok(match ty {
            FieldType::Bool => match self.u8()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                byte => {
                    return Err(DecodeError::InvalidBool {
                        field: field.to_owned(),
                        byte,
                    });
                }
            },
            FieldType::U32 => Value::U32(self.u32()?),
            FieldType::U64 => Value::U64(u64::from_le_bytes(self.array()?)),
            FieldType::I32 => Value::I32(i32::from_le_bytes(self.array()?)),
            FieldType::I64 => Value::I64(i64::from_le_bytes(self.array()?)),
            FieldType::F32 => Value::F32(f32::from_le_bytes(self.array()?)),
            FieldType::F64 => Value::F64(f64::from_le_bytes(self.array()?)),
            FieldType::String => Value::String(
                std::str::from_utf8(self.var()?)
                    .map_err(|_| DecodeError::InvalidUtf8 {
                        field: field.to_owned(),
                    })?
                    .to_owned(),
            ),
            FieldType::Bytes => Value::Bytes(self.var()?.to_vec()),
        })
    }
}

/// The 64-bit Rabin fingerprint used by Avro (CRC-64-AVRO), over `bytes`.
///
/// # Examples
///
/// ```
/// // The empty input fingerprints to the polynomial's seed.
/// assert_eq!(lute_layout::schema::rabin64(b""), 0xc15d_213a_a4d7_a795);
/// ```
pub fn rabin64(bytes: &[u8]) -> u64 {
    let mut fp = RABIN_EMPTY;
    for &b in bytes {
        fp = (fp >> 8) ^ RABIN_TABLE[((fp ^ u64::from(b)) & 0xff) as usize];
    }
    fp
}

const RABIN_EMPTY: u64 = 0xc15d_213a_a4d7_a795;

const RABIN_TABLE: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut fp = i as u64;
        let mut j = 0;
        while j < 8 {
            fp = (fp >> 1) ^ (RABIN_EMPTY & (0u64.wrapping_sub(fp & 1)));
            j += 1;
        }
        t[i] = fp;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Schema {
        Schema::new(
            "demo",
            1,
            vec![
                Field::new("flag", FieldType::Bool),
                Field::new("name", FieldType::String),
                Field::new("n", FieldType::I32).with_default(Value::I32(-1)),
                Field::new("blob", FieldType::Bytes).with_alias("data"),
            ],
        )
        .unwrap()
    }

    #[test]
    fn layout_offsets() {
        let s = demo();
        assert_eq!(s.fixed_size(), 1 + 8 + 4 + 8);
        assert_eq!(
            (0..4).map(|i| s.slot_offset(i)).collect::<Vec<_>>(),
            [0, 1, 9, 13]
        );
    }

    #[test]
    fn record_bytes_are_explicit() {
        let s = demo();
        let mut out = Vec::new();
        s.encode_record(
            &[
                Value::Bool(true),
                Value::String("hé".into()),
                Value::I32(-2),
                Value::Bytes(vec![9]),
            ],
            &mut out,
        )
        .unwrap();
        let expect: Vec<u8> = [
            &[1][..],
            &[21, 0, 0, 0, 3, 0, 0, 0],
            &[0xfe, 0xff, 0xff, 0xff],
            &[24, 0, 0, 0, 1, 0, 0, 0],
            "hé".as_bytes(),
            &[9],
        ]
        .concat();
        assert_eq!(out, expect);
    }

    #[test]
    fn record_errors() {
        let s = demo();
        let mut out = Vec::new();
        assert!(matches!(
            s.encode_record(&[Value::Bool(true)], &mut out),
            Err(EncodeError::ArityMismatch { .. })
        ));
        let vals = [
            Value::Bool(true),
            Value::U32(1),
            Value::I32(-2),
            Value::Bytes(vec![]),
        ];
        assert!(matches!(
            s.encode_record(&vals, &mut out),
            Err(EncodeError::TypeMismatch { ref field, .. }) if field == "name"
        ));
        assert!(out.is_empty());
        let good = [
            Value::Bool(false),
            Value::String("ab".into()),
            Value::I32(0),
            Value::Bytes(vec![1, 2]),
        ];
        s.encode_record(&good, &mut out).unwrap();
        // Truncated fixed part.
        assert!(matches!(
            s.decode_record(&out[..20]),
            Err(DecodeError::Truncated { .. })
        ));
        // Var field pointing past the end.
        let mut bad = out.clone();
        bad.truncate(out.len() - 1);
        assert!(matches!(
            s.decode_record(&bad),
            Err(DecodeError::FieldOutOfBounds { ref field, .. }) if field == "blob"
        ));
        // Var field pointing into the fixed part.
        let mut bad = out.clone();
        bad[1] = 3;
        assert!(matches!(
            s.decode_record(&bad),
            Err(DecodeError::FieldOutOfBounds { ref field, .. }) if field == "name"
        ));
        // Invalid UTF-8 and bool.
        let mut bad = out.clone();
        bad[21] = 0xff;
        assert_eq!(
            s.decode_record(&bad),
            Err(DecodeError::InvalidUtf8 {
                field: "name".into()
            })
        );
        let mut bad = out.clone();
        bad[0] = 2;
        assert_eq!(
            s.decode_record(&bad),
            Err(DecodeError::InvalidBool {
                field: "flag".into(),
                byte: 2
            })
        );
    }

    #[test]
    fn schema_validation() {
        let dup = Schema::new(
            "x",
            1,
            vec![
                Field::new("a", FieldType::U32),
                Field::new("b", FieldType::U32).with_alias("a"),
            ],
        );
        assert_eq!(
            dup.unwrap_err(),
            SchemaError::DuplicateField {
                schema: "x".into(),
                field: "a".into()
            }
        );
        let bad = Schema::new(
            "x",
            1,
            vec![Field::new("a", FieldType::U32).with_default(Value::U64(1))],
        );
        assert!(matches!(bad, Err(SchemaError::BadDefault { .. })));
    }

    #[test]
    fn descriptor_round_trip_and_truncation() {
        let s = demo();
        let d = s.to_descriptor();
        assert_eq!(Schema::from_descriptor(&d).unwrap(), s);
        for n in 0..d.len() {
            assert!(Schema::from_descriptor(&d[..n]).is_err(), "prefix {n}");
        }
        let mut long = d.clone();
        long.push(0);
        assert!(matches!(
            Schema::from_descriptor(&long),
            Err(DecodeError::TrailingBytes { count: 1, .. })
        ));
    }

    #[test]
    fn fingerprint_ignores_defaults_and_aliases_only() {
        let a = Schema::new("r", 1, vec![Field::new("x", FieldType::U32)]).unwrap();
        let b = Schema::new(
            "r",
            1,
            vec![
                Field::new("x", FieldType::U32)
                    .with_default(Value::U32(3))
                    .with_alias("y"),
            ],
        )
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        for other in [
            Schema::new("r", 2, vec![Field::new("x", FieldType::U32)]),
            Schema::new("q", 1, vec![Field::new("x", FieldType::U32)]),
            Schema::new("r", 1, vec![Field::new("z", FieldType::U32)]),
            Schema::new("r", 1, vec![Field::new("x", FieldType::U64)]),
        ] {
            assert_ne!(a.fingerprint(), other.unwrap().fingerprint());
        }
    }

    #[test]
    fn rabin_known_values() {
        // Pinned values: a change here changes every fingerprint on the wire.
        assert_eq!(rabin64(b""), 0xc15d_213a_a4d7_a795);
        assert_eq!(rabin64(b"a"), rabin64(b"a"));
        assert_ne!(rabin64(b"a"), rabin64(b"b"));
    }
}
