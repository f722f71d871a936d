//! The crate's error domains: [`DecodeError`] (bytes that cannot be read), [`SchemaError`]
//! (schemas that are malformed or cannot be resolved against each other) and [`EncodeError`]
//! (values that cannot be written).
//!
//! Every failure to read untrusted bytes is one of these values; no decoder in this crate panics
//! on any input, and none produces a value from bytes it did not validate.

use crate::schema::FieldType;

/// Why bytes could not be decoded.
///
/// Each header check has its own variant, so a caller (and a test) can tell a truncated read
/// from an oversized length, a foreign stream (bad magic), a checksum mismatch or a frame
/// written with a schema this process does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the layout requires.
    #[error("truncated {what}: needed {needed} bytes, {available} available")]
    Truncated {
        /// What was being read (`"header"`, `"payload"`, `"record"`, ...).
        what: &'static str,
        /// Bytes required.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// The first four bytes are not [`MAGIC`](crate::header::MAGIC).
    #[error("bad magic {found:02x?}: not a NacreousLute frame or snapshot")]
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The header's format version is not one this build reads.
    #[error("unsupported format version {found} (this build reads {supported})")]
    UnsupportedFormatVersion {
        /// Version in the header.
        found: u16,
        /// Version this build reads.
        supported: u16,
    },
    /// The header's kind byte is not a known [`Kind`](crate::header::Kind).
    #[error("unknown header kind {found}")]
    UnknownKind {
        /// The kind byte.
        found: u8,
    },
    /// The header sets flag bits this build does not know.
    #[error("unknown header flags {found:#04x}")]
    UnknownFlags {
        /// The flags byte.
        found: u8,
    },
    /// The header's reserved word is not zero.
    #[error("reserved header word is {found:#x}, must be 0")]
    ReservedNotZero {
        /// The reserved word.
        found: u32,
    },
    /// A length field exceeds the configured limit (checked before anything is read or
    /// allocated for it).
    #[error("{what} length {len} exceeds the limit {max}")]
    LengthTooLarge {
        /// What the length describes.
        what: &'static str,
        /// The length found.
        len: u64,
        /// The limit in force.
        max: u64,
    },
    /// The CRC-32C stored in the header does not match the bytes.
    #[error("checksum mismatch: header says {stored:#010x}, bytes give {computed:#010x}")]
    ChecksumMismatch {
        /// CRC-32C stored in the header.
        stored: u32,
        /// CRC-32C computed over the header and payload.
        computed: u32,
    },
    /// The frame's schema fingerprint is not registered with the reader.
    #[error("unknown schema fingerprint {fingerprint:#018x}")]
    UnknownFingerprint {
        /// The fingerprint in the header.
        fingerprint: u64,
    },
    /// The bytes were written with a different schema than the one the caller asked for (a
    /// typed view over a frame of another record type or version).
    #[error("schema fingerprint {found:#018x}, expected {expected:#018x}")]
    FingerprintMismatch {
        /// The fingerprint the caller required.
        expected: u64,
        /// The fingerprint found.
        found: u64,
    },
    /// A variable-length field points outside its record.
    #[error("field `{field}`: range {offset}+{len} outside the variable part {min}..{record_len}")]
    FieldOutOfBounds {
        /// Field name.
        field: String,
        /// Offset stored in the slot (from the start of the record).
        offset: u32,
        /// Length stored in the slot.
        len: u32,
        /// Where the variable part starts (the fixed part's size).
        min: u32,
        /// Length of the record.
        record_len: u64,
    },
    /// A string field is not valid UTF-8.
    #[error("field `{field}`: invalid UTF-8")]
    InvalidUtf8 {
        /// Field name.
        field: String,
    },
    /// A bool field holds a byte other than 0 or 1.
    #[error("field `{field}`: invalid bool byte {byte}")]
    InvalidBool {
        /// Field name.
        field: String,
        /// The byte found.
        byte: u8,
    },
    /// A schema descriptor (or another self-delimited structure) is malformed.
    #[error("invalid descriptor: {reason}")]
    InvalidDescriptor {
        /// What is wrong.
        reason: &'static str,
    },
    /// A batch payload's own header is inconsistent (see [`batch`](crate::batch)).
    #[error("invalid batch: {reason}")]
    BatchLayout {
        /// What is wrong.
        reason: &'static str,
    },
    /// Bytes left over after a structure that must fill its container exactly.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// What was read.
        what: &'static str,
        /// Bytes left over.
        count: u64,
    },
    /// The writer schema embedded in a snapshot cannot be resolved against the reader's.
    #[error(transparent)]
    Schema(#[from] SchemaError),
}

/// Why a schema is malformed, or why a writer schema cannot be read with a reader schema.
///
/// Resolution errors are raised when the two schemas are resolved, before any record is read,
/// and name the field concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// Two fields of one schema share a name or alias.
    #[error("schema `{schema}`: field name or alias `{field}` used twice")]
    DuplicateField {
        /// Schema name.
        schema: String,
        /// The repeated name.
        field: String,
    },
    /// A field's default does not have the field's type.
    #[error("field `{field}`: default is a {found}, field is a {expected}")]
    BadDefault {
        /// Field name.
        field: String,
        /// The field's type.
        expected: FieldType,
        /// The default's type.
        found: FieldType,
    },
    /// The schema exceeds a structural limit (see [`limits`](crate::schema::limits)).
    #[error("schema too large: {what}")]
    TooLarge {
        /// Which limit.
        what: &'static str,
    },
    /// The writer and reader describe different record types.
    #[error("writer schema `{writer}` is not reader schema `{reader}` (nor an alias of it)")]
    NameMismatch {
        /// Writer record name.
        writer: String,
        /// Reader record name.
        reader: String,
    },
    /// A reader field is absent from the writer schema and has no default.
    #[error("field `{field}`: absent from the writer schema and has no default")]
    MissingDefault {
        /// Reader field name.
        field: String,
    },
    /// A field's writer type cannot be converted losslessly to its reader type.
    #[error("field `{field}`: writer type {writer} cannot be read as {reader}")]
    IncompatibleType {
        /// Reader field name.
        field: String,
        /// Type in the writer schema.
        writer: FieldType,
        /// Type in the reader schema.
        reader: FieldType,
    },
    /// A reader field matches more than one writer field (through names and aliases).
    #[error("field `{field}`: matches writer fields `{first}` and `{second}`")]
    AmbiguousField {
        /// Reader field name.
        field: String,
        /// First matching writer field.
        first: String,
        /// Second matching writer field.
        second: String,
    },
}

/// Why values could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The number of values differs from the number of fields.
    #[error("{found} values for a schema of {expected} fields")]
    ArityMismatch {
        /// Fields in the schema.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A value does not have its field's type.
    #[error("field `{field}`: value is a {found}, field is a {expected}")]
    TypeMismatch {
        /// Field name.
        field: String,
        /// The field's type.
        expected: FieldType,
        /// The value's type.
        found: FieldType,
    },
    /// A record or payload does not fit its length field (or the configured limit).
    #[error("{what} of {len} bytes exceeds the limit {max}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its size.
        len: u64,
        /// The limit.
        max: u64,
    },
}
