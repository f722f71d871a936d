//! The 32-byte header that starts every frame and snapshot, and the framing around it.
//!
//! # Header (format version 1)
//!
//! | offset | size | field | value |
//! |---|---|---|---|
//! | 0 | 4 | magic | `b"NLUT"` ([`MAGIC`]) |
//! | 4 | 2 | format version | `U16`, [`FORMAT_VERSION`] = 1 |
//! | 6 | 1 | kind | 1 = [`Kind::Data`] frame, 2 = [`Kind::Snapshot`], 3 = [`Kind::Batch`] |
//! | 7 | 1 | flags | 0 (no flag defined; any set bit is rejected) |
//! | 8 | 8 | schema fingerprint | `U64`, [`Schema::fingerprint`](crate::Schema::fingerprint) of the writer schema |
//! | 16 | 4 | schema version | `U32`, the writer schema's version (informational) |
//! | 20 | 4 | payload length | `U32`, bytes following the header |
//! | 24 | 4 | reserved | 0 |
//! | 28 | 4 | checksum | `U32`, CRC-32C (Castagnoli) of header bytes 0..28, then the payload |
//!
//! All integers little-endian. The header is 32 bytes, so a payload that starts at an 8-aligned
//! buffer offset stays 8-aligned (the wire types need no alignment, but memcpy likes it).
//!
//! # Payload
//!
//! - [`Kind::Data`]: a sequence of records, each a `U32` length followed by that many bytes
//!   laid out by the writer schema (see [`schema`](crate::schema)).
//! - [`Kind::Snapshot`]: a `U32` length and the writer's schema descriptor
//!   ([`Schema::to_descriptor`](crate::Schema::to_descriptor)), then records as in a data frame.
//!   A snapshot is self-describing: a reader of any later (or earlier) version can resolve it.
//! - [`Kind::Batch`]: a batch header, the fixed parts of all records, then a string heap and a
//!   bytes heap shared by the records (see [`batch`](crate::batch)).
//!
//! # Checks, in order
//!
//! [`Frame::decode`] checks, and fails with the first that does not hold:
//! 1. at least 32 bytes: [`DecodeError::Truncated`];
//! 2. magic: [`DecodeError::BadMagic`];
//! 3. format version: [`DecodeError::UnsupportedFormatVersion`];
//! 4. kind, flags, reserved: [`DecodeError::UnknownKind`], [`DecodeError::UnknownFlags`],
//!    [`DecodeError::ReservedNotZero`];
//! 5. payload length against [`Limits::max_payload`]: [`DecodeError::LengthTooLarge`];
//! 6. payload present: [`DecodeError::Truncated`];
//! 7. CRC-32C: [`DecodeError::ChecksumMismatch`].
//!
//! The schema fingerprint is checked by whoever interprets the payload
//! ([`Reader`](crate::Reader): [`DecodeError::UnknownFingerprint`]).

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{DecodeError, EncodeError};
use crate::schema::{Schema, Value};
use crate::wire::{U16, U32, U64};

/// The four magic bytes at the start of every frame and snapshot.
pub const MAGIC: [u8; 4] = *b"NLUT";
/// The header format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Size of [`Header`] on the wire.
pub const HEADER_LEN: usize = 32;
/// Default for [`Limits::max_payload`]: 64 MiB.
pub const DEFAULT_MAX_PAYLOAD: u32 = 64 << 20;

/// What a header introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A data frame: length-prefixed records.
    Data = 1,
    /// A snapshot: the writer's schema descriptor, then length-prefixed records.
    Snapshot = 2,
    /// A batch: fixed parts of many records, then shared string and bytes heaps
    /// (see [`batch`](crate::batch)).
    Batch = 3,
}

impl Kind {
    /// The kind for a header byte.
    ///
    /// # Errors
    /// [`DecodeError::UnknownKind`] for any other byte.
    pub fn from_byte(b: u8) -> Result<Self, DecodeError> {
        match b {
            1 => Ok(Self::Data),
            2 => Ok(Self::Snapshot),
            3 => Ok(Self::Batch),
            found => Err(DecodeError::UnknownKind { found }),
        }
    }
}

/// The header as laid out on the wire (see the [module docs](self)).
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
pub struct Header {
    /// [`MAGIC`].
    pub magic: [u8; 4],
    /// [`FORMAT_VERSION`].
    pub format_version: U16,
    /// A [`Kind`] byte.
    pub kind: u8,
    /// Flag bits; none defined, must be 0.
    pub flags: u8,
    /// Fingerprint of the writer schema.
    pub fingerprint: U64,
    /// Version of the writer schema.
    pub schema_version: U32,
    /// Bytes of payload after the header.
    pub payload_len: U32,
    /// Must be 0.
    pub reserved: U32,
    /// CRC-32C of header bytes `0..28` followed by the payload.
    pub checksum: U32,
}

const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<Header>() == HEADER_LEN && align_of::<Header>() == 1);
    assert!(offset_of!(Header, magic) == 0);
    assert!(offset_of!(Header, format_version) == 4);
    assert!(offset_of!(Header, kind) == 6);
    assert!(offset_of!(Header, flags) == 7);
    assert!(offset_of!(Header, fingerprint) == 8);
    assert!(offset_of!(Header, schema_version) == 16);
    assert!(offset_of!(Header, payload_len) == 20);
    assert!(offset_of!(Header, reserved) == 24);
    assert!(offset_of!(Header, checksum) == 28);
};

/// Offset of the checksum field: the CRC covers the header bytes before it.
const CRC_COVERED: usize = 28;

impl Header {
    /// The header's [`Kind`].
    ///
    /// # Errors
    /// [`DecodeError::UnknownKind`].
    pub fn kind(&self) -> Result<Kind, DecodeError> {
        Kind::from_byte(self.kind)
    }

    /// CRC-32C of this header's first 28 bytes followed by `payload`.
    pub fn compute_checksum(&self, payload: &[u8]) -> u32 {
        let c = crc32c::crc32c(&self.as_bytes()[..CRC_COVERED]);
        crc32c::crc32c_append(c, payload)
    }
}

/// Limits applied before anything is read or allocated on behalf of a length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted payload, in bytes.
    pub max_payload: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// The identity of a writer schema as written into headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SchemaId {
    /// [`Schema::fingerprint`](crate::Schema::fingerprint).
    pub fingerprint: u64,
    /// [`Schema::version`](crate::Schema::version).
    pub version: u32,
}

/// A validated frame or snapshot borrowed from a received buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    header: &'a Header,
    payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Validates the header and checksum at the start of `bytes` (see the
    /// [module docs](self) for the checks) and returns the frame and the bytes after it.
    ///
    /// Allocates nothing; the checksum is computed over the whole payload.
    ///
    /// # Errors
    /// The [`DecodeError`] of the first failed check.
    ///
    /// # Examples
    ///
    /// ```
    /// use lute_layout::{Frame, FrameBuilder, Kind, Limits, SchemaId, DecodeError};
    ///
    /// let mut buf = Vec::new();
    /// let id = SchemaId { fingerprint: 7, version: 1 };
    /// let mut b = FrameBuilder::new(&mut buf, Kind::Data, id);
    /// b.push_record(b"hello")?;
    /// b.finish()?;
    ///
    /// let (frame, rest) = Frame::decode(&buf, &Limits::default())?;
    /// assert!(rest.is_empty());
    /// assert_eq!(frame.schema_id(), id);
    /// let recs: Vec<&[u8]> = frame.records().collect::<Result<_, _>>()?;
    /// assert_eq!(recs, [b"hello".as_slice()]);
    ///
    /// buf[40] ^= 1; // corrupt one payload bit
    /// assert!(matches!(Frame::decode(&buf, &Limits::default()),
    ///                  Err(DecodeError::ChecksumMismatch { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decode(bytes: &'a [u8], limits: &Limits) -> Result<(Self, &'a [u8]), DecodeError> {
        let (header, rest) =
            Header::ref_from_prefix(bytes).map_err(|_| DecodeError::Truncated {
                what: "header",
                needed: HEADER_LEN as u64,
                available: bytes.len() as u64,
            })?;
        if header.magic != MAGIC {
            return Err(DecodeError::BadMagic {
                found: header.magic,
            });
        }
        let version = header.format_version.get();
        if version != FORMAT_VERSION {
            return Err(DecodeError::UnsupportedFormatVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        header.kind()?;
        if header.flags != 0 {
            return Err(DecodeError::UnknownFlags {
                found: header.flags,
            });
        }
        if header.reserved.get() != 0 {
            return Err(DecodeError::ReservedNotZero {
                found: header.reserved.get(),
            });
        }
        let len = header.payload_len.get();
        if len > limits.max_payload {
            return Err(DecodeError::LengthTooLarge {
                what: "payload",
                len: u64::from(len),
                max: u64::from(limits.max_payload),
            });
        }
        let len_usize = usize::try_from(len).map_err(|_| DecodeError::LengthTooLarge {
            what: "payload",
            len: u64::from(len),
            max: usize::MAX as u64,
        })?;
        if rest.len() < len_usize {
            return Err(DecodeError::Truncated {
                what: "payload",
                needed: u64::from(len),
                available: rest.len() as u64,
            });
        }
        let (payload, after) = rest.split_at(len_usize);
        let computed = header.compute_checksum(payload);
        if computed != header.checksum.get() {
            return Err(DecodeError::ChecksumMismatch {
                stored: header.checksum.get(),
                computed,
            });
        }
        Ok((Self { header, payload }, after))
    }

    /// The validated header.
    pub fn header(&self) -> &'a Header {
        self.header
    }

    /// The frame's kind.
    pub fn kind(&self) -> Kind {
        // Validated in `decode`; `Data` is unreachable as a fallback.
        self.header.kind().unwrap_or(Kind::Data)
    }

    /// The writer schema's fingerprint and version.
    pub fn schema_id(&self) -> SchemaId {
        SchemaId {
            fingerprint: self.header.fingerprint.get(),
            version: self.header.schema_version.get(),
        }
    }

    /// The payload bytes (after the header).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The records of a [`Kind::Data`] frame (for a snapshot, see
    /// [`Snapshot`](crate::Snapshot); for a batch, [`BatchView`](crate::batch::BatchView)).
    pub fn records(&self) -> Records<'a> {
        Records::new(self.payload)
    }
}

/// Iterator over length-prefixed records (`U32` length, then the bytes).
///
/// Yields an error (and then stops) when a length prefix or record is truncated.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Records<'a> {
    /// Iterates over the records in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<&'a [u8], DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let Ok((len, rest)) = U32::read_from_prefix(self.rest) else {
            self.failed = true;
            return Some(Err(DecodeError::Truncated {
                what: "record length",
                needed: 4,
                available: self.rest.len() as u64,
            }));
        };
        let len = len.get();
        match usize::try_from(len).ok().filter(|&l| l <= rest.len()) {
            Some(l) => {
                let (rec, after) = rest.split_at(l);
                self.rest = after;
                Some(Ok(rec))
            }
            None => {
                self.failed = true;
                Some(Err(DecodeError::Truncated {
                    what: "record",
                    needed: u64::from(len),
                    available: rest.len() as u64,
                }))
            }
        }
    }
}

/// Writes one frame or snapshot into a `Vec<u8>`: a header placeholder, then records, then the
/// length and checksum are patched in by [`finish`](Self::finish).
///
/// Allocates nothing once `out` has the capacity for the frame.
#[derive(Debug)]
#[must_use = "a frame is incomplete until `finish` is called"]
pub struct FrameBuilder<'b> {
    out: &'b mut Vec<u8>,
    start: usize,
    max_payload: u32,
}

impl<'b> FrameBuilder<'b> {
    /// Starts a frame at the end of `out`, with the default [`Limits`].
    pub fn new(out: &'b mut Vec<u8>, kind: Kind, schema: SchemaId) -> Self {
        Self::with_limits(out, kind, schema, &Limits::default())
    }

    /// Starts a frame at the end of `out`; [`finish`](Self::finish) refuses a payload larger
    /// than `limits.max_payload`.
    pub fn with_limits(
        out: &'b mut Vec<u8>,
        kind: Kind,
        schema: SchemaId,
        limits: &Limits,
    ) -> Self {
        let start = out.len();
        let header = Header {
            magic: MAGIC,
            format_version: U16::new(FORMAT_VERSION),
            kind: kind as u8,
            flags: 0,
            fingerprint: U64::new(schema.fingerprint),
            schema_version: U32::new(schema.version),
            payload_len: U32::new(0),
            reserved: U32::new(0),
            checksum: U32::new(0),
        };
        out.extend_from_slice(header.as_bytes());
        Self {
            out,
            start,
            max_payload: limits.max_payload,
        }
    }

    /// Appends raw payload bytes (no length prefix).
    pub fn push_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Appends one record with its `U32` length prefix.
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] if the record exceeds `u32::MAX` bytes.
    pub fn push_record(&mut self, record: &[u8]) -> Result<(), EncodeError> {
        self.push_record_with(|out| {
            out.extend_from_slice(record);
            Ok(())
        })
    }

    /// Appends one record of `schema` ([`Schema::encode_record`]) with its length prefix.
    ///
    /// # Errors
    /// The [`EncodeError`] of [`Schema::encode_record`]; the frame is then left as before.
    pub fn push_values(&mut self, schema: &Schema, values: &[Value]) -> Result<(), EncodeError> {
        self.push_record_with(|out| schema.encode_record(values, out))
    }

    /// Appends one record written by `write` (which must only append to the vector), with its
    /// `U32` length prefix.
    ///
    /// # Errors
    /// The error of `write`, or [`EncodeError::TooLarge`] if the record exceeds `u32::MAX`
    /// bytes; the frame is then left as before the call.
    pub fn push_record_with(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        if let Err(e) = write(self.out) {
            self.out.truncate(at);
            return Err(e);
        }
        let len = self.out.len().saturating_sub(at + 4);
        let Ok(len32) = u32::try_from(len) else {
            self.out.truncate(at);
            return Err(EncodeError::TooLarge {
                what: "record",
                len: len as u64,
                max: u64::from(u32::MAX),
            });
        };
        self.out[at..at + 4].copy_from_slice(&len32.to_le_bytes());
        Ok(())
    }

    /// Removes the unfinished frame from the output.
    pub fn abandon(self) {
        self.out.truncate(self.start);
    }

    /// Patches the payload length and checksum into the header; returns the frame's total
    /// length.
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] if the payload exceeds the limit; the frame is then removed
    /// from `out`.
    pub fn finish(self) -> Result<usize, EncodeError> {
        let body = self.start + HEADER_LEN;
        let len = self.out.len() - body;
        let len32 = u32::try_from(len)
            .ok()
            .filter(|&l| l <= self.max_payload)
            .ok_or_else(|| {
                self.out.truncate(self.start);
                EncodeError::TooLarge {
                    what: "payload",
                    len: len as u64,
                    max: u64::from(self.max_payload),
                }
            })?;
        let frame = &mut self.out[self.start..];
        frame[20..24].copy_from_slice(&len32.to_le_bytes());
        let crc =
            crc32c::crc32c_append(crc32c::crc32c(&frame[..CRC_COVERED]), &frame[HEADER_LEN..]);
        frame[CRC_COVERED..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
        Ok(HEADER_LEN + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: Kind) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut b = FrameBuilder::new(
            &mut buf,
            kind,
            SchemaId {
                fingerprint: 0x1122_3344_5566_7788,
                version: 3,
            },
        );
        b.push_record(b"ab").unwrap();
        b.push_record(b"").unwrap();
        b.finish().unwrap();
        buf
    }

    #[test]
    fn round_trip_and_rest() {
        let mut buf = frame(Kind::Data);
        let n = buf.len();
        buf.extend_from_slice(b"next");
        let (f, rest) = Frame::decode(&buf, &Limits::default()).unwrap();
        assert_eq!(rest, b"next");
        assert_eq!(f.payload().len(), n - HEADER_LEN);
        assert_eq!(f.kind(), Kind::Data);
        let recs: Vec<_> = f.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs, [b"ab".as_slice(), b""]);
    }

    #[test]
    fn each_check_has_its_error() {
        let good = frame(Kind::Snapshot);
        let lim = Limits::default();
        let dec = |b: &[u8]| Frame::decode(b, &lim).map(|_| ()).unwrap_err();

        assert!(matches!(
            dec(&good[..31]),
            DecodeError::Truncated { what: "header", .. }
        ));
        let mut b = good.clone();
        b[0] = b'X';
        assert!(matches!(dec(&b), DecodeError::BadMagic { .. }));
        let mut b = good.clone();
        b[4] = 2;
        assert!(matches!(
            dec(&b),
            DecodeError::UnsupportedFormatVersion { found: 2, .. }
        ));
        let mut b = good.clone();
        b[6] = 9;
        assert_eq!(dec(&b), DecodeError::UnknownKind { found: 9 });
        let mut b = good.clone();
        b[7] = 0x80;
        assert_eq!(dec(&b), DecodeError::UnknownFlags { found: 0x80 });
        let mut b = good.clone();
        b[24] = 1;
        assert_eq!(dec(&b), DecodeError::ReservedNotZero { found: 1 });
        let mut b = good.clone();
        b[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(dec(&b), DecodeError::LengthTooLarge { .. }));
        assert!(matches!(
            dec(&good[..good.len() - 1]),
            DecodeError::Truncated {
                what: "payload",
                ..
            }
        ));
        let mut b = good.clone();
        b[33] ^= 0x10;
        assert!(matches!(dec(&b), DecodeError::ChecksumMismatch { .. }));
        let mut b = good.clone();
        b[10] ^= 0x10; // fingerprint is covered by the checksum too
        assert!(matches!(dec(&b), DecodeError::ChecksumMismatch { .. }));
    }

    #[test]
    fn limit_applies_on_both_sides() {
        let small = Limits { max_payload: 4 };
        let mut buf = Vec::new();
        let mut b = FrameBuilder::with_limits(
            &mut buf,
            Kind::Data,
            SchemaId {
                fingerprint: 1,
                version: 1,
            },
            &small,
        );
        b.push_record(b"hello").unwrap();
        assert!(matches!(b.finish(), Err(EncodeError::TooLarge { .. })));
        assert!(buf.is_empty());
        let good = frame(Kind::Data);
        assert!(matches!(
            Frame::decode(&good, &small),
            Err(DecodeError::LengthTooLarge {
                len: 10,
                max: 4,
                ..
            })
        ));
    }

    #[test]
    fn records_truncated() {
        let mut it = Records::new(&[5, 0, 0, 0, 1, 2]);
        assert!(matches!(
            it.next(),
            Some(Err(DecodeError::Truncated { what: "record", .. }))
        ));
        assert!(it.next().is_none());
        let mut it = Records::new(&[5, 0]);
        assert!(matches!(
            it.next(),
            Some(Err(DecodeError::Truncated {
                what: "record length",
                ..
            }))
        ));
    }
}
