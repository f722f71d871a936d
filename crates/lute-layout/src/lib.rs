//! Explicit binary layout for NacreousLute: endianness-safe wire types, framed headers with a
//! CRC-32C, versioned schemas with fingerprints, and writer/reader schema resolution.
//!
//! Bytes written by this crate outlive the process that wrote them and cross machines of other
//! architectures and versions, so nothing here depends on the host: every integer on the wire
//! is little-endian and converted explicitly (never a native transmute), every view over
//! received bytes is validated first (zerocopy, no `unsafe` in this crate), and every length is
//! bounds-checked before it is used.
//!
//! - [`wire`]: fixed-size little-endian types ([`wire::U32`], [`wire::U64`], [`wire::VarRef`], ...)
//!   with compile-time size and alignment assertions.
//! - [`header`]: the 32-byte header of frames and snapshots (magic, format version, schema
//!   fingerprint, length, CRC-32C), [`Frame`] decoding and [`FrameBuilder`].
//! - [`schema`]: [`Schema`] descriptors (fields, types, defaults, aliases, version,
//!   fingerprint), the record layout they define, [`RecordView`] and binary descriptors.
//! - [`evolution`]: [`Resolution`] of a writer schema against a reader schema and its rules,
//!   [`Reader`] for data and batch frames, self-describing [`Snapshot`]s.
//! - [`batch`]: batch frames, many records sharing one string heap (one UTF-8 pass per frame),
//!   [`batch::BatchBuilder`] and [`batch::BatchView`].
//! - [`bid`]: the Nexmark Bid as a typed record with zero-copy views ([`bid::BidView`],
//!   [`bid::RawBidView`], [`bid::BidBatch`]).
//! - [`error`]: [`DecodeError`], [`SchemaError`], [`EncodeError`].
//!
//! # Wire format at a glance
//!
//! ```text
//! frame    = header(32 B) payload(payload_len B)
//! header   = "NLUT" u16:format=1 u8:kind u8:flags=0 u64:fingerprint u32:schema_version
//!            u32:payload_len u32:reserved=0 u32:crc32c(header[0..28] ++ payload)
//! data     = { u32:len record(len B) }*                    (kind 1)
//! snapshot = u32:len descriptor(len B) { u32:len record }*  (kind 2)
//! batch    = u32:count u32:fixed_size u32:str_heap_len u32:bytes_heap_len
//!            fixed_part{count} string_heap(UTF-8) bytes_heap     (kind 3)
//! record   = fixed part (one slot per field, declaration order, no padding) ++ variable bytes
//! ```
//!
//! Which payload: a **data frame** when each record must stay self-contained (forwarded or
//! stored one by one); a **batch frame** for throughput on the wire (its strings share one heap,
//! validated as UTF-8 in one pass: the fastest validated read path, see `BENCHMARKS.md`); a
//! **snapshot** when the reader may not know the writer's schema (it embeds the descriptor).
//!
//! All integers little-endian; see each module for the byte tables. Versions of the format:
//! the header's format version changes only when the header or framing changes (a reader
//! refuses versions it does not know); record types evolve through their schemas, whose
//! fingerprint is in every header.
//!
//! # Errors
//!
//! Decoding never panics and never reads out of bounds; it returns a [`DecodeError`]:
//!
//! | condition | error |
//! |---|---|
//! | input shorter than the layout needs | [`DecodeError::Truncated`] |
//! | first 4 bytes are not `NLUT` | [`DecodeError::BadMagic`] |
//! | unknown header format version | [`DecodeError::UnsupportedFormatVersion`] |
//! | unknown kind, flags set, reserved word not 0 | [`DecodeError::UnknownKind`], [`DecodeError::UnknownFlags`], [`DecodeError::ReservedNotZero`] |
//! | a length above the configured limit | [`DecodeError::LengthTooLarge`] |
//! | CRC-32C mismatch | [`DecodeError::ChecksumMismatch`] |
//! | writer schema not registered | [`DecodeError::UnknownFingerprint`] |
//! | typed view over another schema; snapshot descriptor not the header's schema | [`DecodeError::FingerprintMismatch`] |
//! | string or bytes slot outside its record | [`DecodeError::FieldOutOfBounds`] |
//! | invalid UTF-8 / bool byte not 0 or 1 | [`DecodeError::InvalidUtf8`], [`DecodeError::InvalidBool`] |
//! | inconsistent batch header | [`DecodeError::BatchLayout`] |
//! | malformed schema descriptor | [`DecodeError::InvalidDescriptor`], [`DecodeError::TrailingBytes`] |
//! | incompatible embedded writer schema | [`DecodeError::Schema`] |
//!
//! Schema problems are [`SchemaError`]s, raised when a schema is built or when two schemas are
//! resolved (never while reading records); encoding problems are [`EncodeError`]s.
//!
//! # Examples
//!
//! ```
//! use lute_layout::{Field, FieldType, FrameBuilder, Kind, Reader, Schema, Value};
//!
//! let v1 = Schema::new("reading", 1, vec![
//!     Field::new("sensor", FieldType::U32),
//!     Field::new("celsius", FieldType::F32),
//! ])?;
//! // v2 widens both fields and adds one with a default.
//! let v2 = Schema::new("reading", 2, vec![
//!     Field::new("sensor", FieldType::U64),
//!     Field::new("celsius", FieldType::F64),
//!     Field::new("site", FieldType::String).with_default(Value::String("?".into())),
//! ])?;
//!
//! let mut buf = Vec::new();
//! let mut frame = FrameBuilder::new(&mut buf, Kind::Data, v1.id());
//! frame.push_values(&v1, &[Value::U32(7), Value::F32(21.5)])?;
//! frame.finish()?;
//!
//! let mut reader = Reader::new(v2);
//! reader.register(&v1)?;
//! let (records, _rest) = reader.read_frame(&buf)?;
//! let records: Vec<Vec<Value>> = records.collect::<Result<_, _>>()?;
//! assert_eq!(records, [vec![Value::U64(7), Value::F64(21.5), Value::String("?".into())]]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod batch;
pub mod bid;
pub mod error;
pub mod evolution;
pub mod header;
pub mod schema;
pub mod wire;

pub use error::{DecodeError, EncodeError, SchemaError};
pub use evolution::{Reader, Resolution, ResolvedRecords, Snapshot};
pub use header::{Frame, FrameBuilder, Header, Kind, Limits, Records, SchemaId};
pub use schema::{Field, FieldType, RecordView, Schema, Value, ValueRef};
