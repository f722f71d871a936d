//! Batch frames ([`Kind::Batch`]): many records of one schema whose variable-length bytes
//! live in two heaps shared by the whole batch, so a reader validates all strings with one
//! UTF-8 pass per frame instead of one per string.
//!
//! Why: validating short strings one at a time is most of the cost of reading a record with
//! strings (a Bid's ~80 string bytes cost about as much as everything else together), while
//! one pass over a long contiguous heap runs at memory speed (see `BENCHMARKS.md`, Layout).
//! Records of a batch are not self-contained; use data frames ([`Kind::Data`]) or snapshots
//! when a record must be stored or forwarded on its own.
//!
//! # Payload of a batch frame
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | `count`: number of records (`U32`) |
//! | 4 | 4 | `fixed_size`: size of each fixed part, must equal the writer schema's (`U32`) |
//! | 8 | 4 | `str_heap_len` (`U32`) |
//! | 12 | 4 | `bytes_heap_len` (`U32`) |
//! | 16 | `count × fixed_size` | the fixed parts, record `i` at `16 + i × fixed_size` |
//! | .. | `str_heap_len` | string heap: valid UTF-8 as a whole |
//! | .. | `bytes_heap_len` | bytes heap |
//!
//! The payload ends exactly there ([`DecodeError::TrailingBytes`] otherwise). Fixed parts are
//! laid out as in [`schema`](crate::schema), except that a [`VarRef`] of a `string` field is an
//! offset into the string heap and one of a `bytes` field an offset into the bytes heap. A
//! string is valid iff it lies in the heap and starts and ends on char boundaries of it
//! ([`DecodeError::FieldOutOfBounds`], [`DecodeError::InvalidUtf8`]). A batch of a schema with
//! an empty fixed part must have no records ([`DecodeError::BatchLayout`]), so `count` is
//! always bounded by the payload length.
//!
//! # Examples
//!
//! ```
//! use lute_layout::batch::{BatchBuilder, BatchView};
//! use lute_layout::{Field, FieldType, Frame, Limits, Reader, Schema, Value};
//!
//! let s = Schema::new("kv", 1, vec![
//!     Field::new("k", FieldType::String),
//!     Field::new("v", FieldType::U64),
//! ])?;
//! let mut b = BatchBuilder::for_schema(&s);
//! b.push_values(&s, &[Value::String("a".into()), Value::U64(1)])?;
//! b.push_values(&s, &[Value::String("bc".into()), Value::U64(2)])?;
//! let mut frame = Vec::new();
//! b.finish_into(&mut frame, s.id())?;
//!
//! let reader = Reader::new(s.clone());
//! let (recs, _) = reader.read_frame(&frame)?;
//! let recs: Vec<_> = recs.collect::<Result<_, _>>()?;
//! assert_eq!(recs[1], [Value::String("bc".into()), Value::U64(2)]);
//!
//! let (f, _) = Frame::decode(&frame, &Limits::default())?;
//! let batch = BatchView::new(f.payload())?;
//! assert_eq!((batch.len(), batch.str_heap()), (2, "abc"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{DecodeError, EncodeError};
use crate::header::{FrameBuilder, Kind, Limits, SchemaId};
use crate::schema::{Schema, Value, ValueRef, put_value};
use crate::wire::{U32, VarRef};

/// Size of [`BatchHeader`].
pub const BATCH_HEADER_LEN: usize = 16;

/// The header at the start of a batch payload (see the [module docs](self)).
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
pub struct BatchHeader {
    /// Number of records.
    pub count: U32,
    /// Size of each record's fixed part.
    pub fixed_size: U32,
    /// Length of the string heap.
    pub str_heap_len: U32,
    /// Length of the bytes heap.
    pub bytes_heap_len: U32,
}

const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<BatchHeader>() == BATCH_HEADER_LEN && align_of::<BatchHeader>() == 1);
    assert!(offset_of!(BatchHeader, count) == 0);
    assert!(offset_of!(BatchHeader, fixed_size) == 4);
    assert!(offset_of!(BatchHeader, str_heap_len) == 8);
    assert!(offset_of!(BatchHeader, bytes_heap_len) == 12);
};

/// A validated batch payload: sizes consistent, string heap UTF-8. Allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct BatchView<'a> {
    fixed: &'a [u8],
    fixed_size: usize,
    count: usize,
    strs: &'a str,
    bytes: &'a [u8],
}

impl<'a> BatchView<'a> {
    /// Validates a batch payload (the [`Frame::payload`](crate::Frame::payload) of a
    /// [`Kind::Batch`] frame): header, sizes, and one UTF-8 pass over the string heap.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`], [`DecodeError::TrailingBytes`],
    /// [`DecodeError::BatchLayout`], or [`DecodeError::InvalidUtf8`] (field `"string heap"`).
    pub fn new(payload: &'a [u8]) -> Result<Self, DecodeError> {
        let (h, rest) =
            BatchHeader::ref_from_prefix(payload).map_err(|_| DecodeError::Truncated {
                what: "batch header",
                needed: BATCH_HEADER_LEN as u64,
                available: payload.len() as u64,
            })?;
        let count = u64::from(h.count.get());
        let fixed_size = u64::from(h.fixed_size.get());
        if fixed_size == 0 && count > 0 {
            return Err(DecodeError::BatchLayout {
                reason: "records with an empty fixed part",
            });
        }
        let fixed_len = count * fixed_size; // < 2^64: both < 2^32
        let str_len = u64::from(h.str_heap_len.get());
        let bytes_len = u64::from(h.bytes_heap_len.get());
        let needed = fixed_len + str_len + bytes_len;
        let available = rest.len() as u64;
        if needed > available {
            return Err(DecodeError::Truncated {
                what: "batch",
                needed,
                available,
            });
        }
        if needed < available {
            return Err(DecodeError::TrailingBytes {
                what: "batch",
                count: available - needed,
            });
        }
        // All three fit in `rest`, so they fit in usize.
        let (fixed, rest) = rest.split_at(fixed_len as usize);
        let (strs, bytes) = rest.split_at(str_len as usize);
        // NB: one UTF-8 pass over the whole heap instead of one per string (module docs).
        let strs = std::str::from_utf8(strs).map_err(|_| DecodeError::InvalidUtf8 {
            field: "string heap".to_owned(),
        })?;
        Ok(Self {
            fixed,
            fixed_size: fixed_size as usize,
            count: count as usize,
            strs,
            bytes,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size of each fixed part.
    pub fn fixed_size(&self) -> usize {
        self.fixed_size
    }

    /// The fixed part of record `index`.
    pub fn fixed(&self, index: usize) -> Option<&'a [u8]> {
        let start = index.checked_mul(self.fixed_size)?;
        if index >= self.count {
            return None;
        }
        self.fixed.get(start..start + self.fixed_size)
    }

    /// The fixed parts of all records, back to back (`len() × fixed_size()` bytes).
    pub fn fixed_parts(&self) -> &'a [u8] {
        self.fixed
    }

    /// The string heap (validated UTF-8).
    pub fn str_heap(&self) -> &'a str {
        self.strs
    }

    /// The bytes heap.
    pub fn bytes_heap(&self) -> &'a [u8] {
        self.bytes
    }

    /// The string a slot designates in the string heap.
    ///
    /// # Errors
    /// [`DecodeError::FieldOutOfBounds`] outside the heap, [`DecodeError::InvalidUtf8`] when
    /// an end is not a char boundary; both name `field`.
    #[inline]
    pub fn string(&self, r: &VarRef, field: &str) -> Result<&'a str, DecodeError> {
        let range = r
            .range(0, self.strs.len())
            .ok_or_else(|| out_of_bounds(r, field, self.strs.len()))?;
        self.strs
            .get(range)
            .ok_or_else(|| DecodeError::InvalidUtf8 {
                field: field.to_owned(),
            })
    }

    /// The bytes a slot designates in the bytes heap.
    ///
    /// # Errors
    /// [`DecodeError::FieldOutOfBounds`] naming `field`.
    pub fn bytes_field(&self, r: &VarRef, field: &str) -> Result<&'a [u8], DecodeError> {
        r.range(0, self.bytes.len())
            .and_then(|range| self.bytes.get(range))
            .ok_or_else(|| out_of_bounds(r, field, self.bytes.len()))
    }
}

fn out_of_bounds(r: &VarRef, field: &str, heap_len: usize) -> DecodeError {
    DecodeError::FieldOutOfBounds {
        field: field.to_owned(),
        offset: r.offset.get(),
        len: r.len.get(),
        min: 0,
        record_len: heap_len as u64,
    }
}

/// Accumulates records of one schema and writes them as one batch frame.
///
/// Reusable: [`finish_into`](Self::finish_into) leaves it ready for the next batch, keeping its
/// buffers, so steady-state batching allocates nothing once the buffers have grown.
#[derive(Debug, Clone, Default)]
pub struct BatchBuilder {
    fixed_size: usize,
    count: u32,
    fixed: Vec<u8>,
    strs: Vec<u8>,
    bytes: Vec<u8>,
}

impl BatchBuilder {
    /// A builder for records whose fixed part is `fixed_size` bytes.
    pub fn new(fixed_size: usize) -> Self {
        Self {
            fixed_size,
            ..Self::default()
        }
    }

    /// A builder for records of `schema`.
    pub fn for_schema(schema: &Schema) -> Self {
        Self::new(schema.fixed_size())
    }

    /// Size of each record's fixed part.
    pub fn fixed_size(&self) -> usize {
        self.fixed_size
    }

    /// Records pushed since the last finish.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether no record was pushed since the last finish.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the batch frame will take (header, batch header, fixed parts and heaps).
    pub fn encoded_len(&self) -> usize {
        crate::header::HEADER_LEN
            + BATCH_HEADER_LEN
            + self.fixed.len()
            + self.strs.len()
            + self.bytes.len()
    }

    /// Drops the pushed records, keeping the buffers.
    pub fn clear(&mut self) {
        self.count = 0;
        self.fixed.clear();
        self.strs.clear();
        self.bytes.clear();
    }

    fn heap_ref(heap: &mut Vec<u8>, data: &[u8]) -> Result<VarRef, EncodeError> {
        let (Ok(offset), Ok(len)) = (u32::try_from(heap.len()), u32::try_from(data.len())) else {
            return Err(EncodeError::TooLarge {
                what: "batch heap",
                len: (heap.len() + data.len()) as u64,
                max: u64::from(u32::MAX),
            });
        };
        if offset.checked_add(len).is_none() {
            return Err(EncodeError::TooLarge {
                what: "batch heap",
                len: u64::from(offset) + u64::from(len),
                max: u64::from(u32::MAX),
            });
        }
        heap.extend_from_slice(data);
        Ok(VarRef::new(offset, len))
    }

    /// Appends a string to the string heap and returns its slot (for writing a fixed part
    /// with [`push_fixed`](Self::push_fixed)).
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] when the heap would exceed `u32::MAX` bytes.
    #[inline]
    pub fn add_str(&mut self, s: &str) -> Result<VarRef, EncodeError> {
        Self::heap_ref(&mut self.strs, s.as_bytes())
    }

    /// Appends bytes to the bytes heap and returns their slot.
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] when the heap would exceed `u32::MAX` bytes.
    pub fn add_bytes(&mut self, b: &[u8]) -> Result<VarRef, EncodeError> {
        Self::heap_ref(&mut self.bytes, b)
    }

    /// Appends one record's fixed part (whose slots point into the heaps).
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] if `fixed` is not `fixed_size` bytes, or past `u32::MAX`
    /// records.
    #[inline]
    pub fn push_fixed(&mut self, fixed: &[u8]) -> Result<(), EncodeError> {
        if fixed.len() != self.fixed_size {
            return Err(EncodeError::TooLarge {
                what: "fixed part",
                len: fixed.len() as u64,
                max: self.fixed_size as u64,
            });
        }
        self.count = self.count.checked_add(1).ok_or(EncodeError::TooLarge {
            what: "batch records",
            len: u64::from(u32::MAX) + 1,
            max: u64::from(u32::MAX),
        })?;
        self.fixed.extend_from_slice(fixed);
        Ok(())
    }

    /// Appends one record of `schema`.
    ///
    /// # Errors
    /// [`EncodeError::ArityMismatch`], [`EncodeError::TypeMismatch`],
    /// [`EncodeError::TooLarge`] (also when `schema`'s fixed size is not this builder's). On
    /// error the builder is left as it was.
    pub fn push_values(&mut self, schema: &Schema, values: &[Value]) -> Result<(), EncodeError> {
        if schema.fixed_size() != self.fixed_size {
            return Err(EncodeError::TooLarge {
                what: "fixed part",
                len: schema.fixed_size() as u64,
                max: self.fixed_size as u64,
            });
        }
        if values.len() != schema.fields().len() {
            return Err(EncodeError::ArityMismatch {
                expected: schema.fields().len(),
                found: values.len(),
            });
        }
        for (f, v) in schema.fields().iter().zip(values) {
            if v.field_type() != f.ty {
                return Err(EncodeError::TypeMismatch {
                    field: f.name.clone(),
                    expected: f.ty,
                    found: v.field_type(),
                });
            }
        }
        let marks = (self.fixed.len(), self.strs.len(), self.bytes.len());
        let r = self.push_checked(values);
        if r.is_err() {
            self.fixed.truncate(marks.0);
            self.strs.truncate(marks.1);
            self.bytes.truncate(marks.2);
        }
        r
    }

    fn push_checked(&mut self, values: &[Value]) -> Result<(), EncodeError> {
        if self.count == u32::MAX {
            return Err(EncodeError::TooLarge {
                what: "batch records",
                len: u64::from(u32::MAX) + 1,
                max: u64::from(u32::MAX),
            });
        }
        for v in values {
            let r = match v.as_ref() {
                ValueRef::Str(s) => Self::heap_ref(&mut self.strs, s.as_bytes())?,
                ValueRef::Bytes(b) => Self::heap_ref(&mut self.bytes, b)?,
                other => {
                    put_value(&mut self.fixed, other);
                    continue;
                }
            };
            self.fixed.extend_from_slice(r.as_bytes());
        }
        self.count += 1;
        Ok(())
    }

    /// Writes the batch as one [`Kind::Batch`] frame at the end of `out` and clears the
    /// builder; returns the frame's length.
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] when the payload exceeds the default [`Limits`]; the builder
    /// is then left unchanged and `out` as it was.
    pub fn finish_into(
        &mut self,
        out: &mut Vec<u8>,
        schema: SchemaId,
    ) -> Result<usize, EncodeError> {
        self.finish_with_limits(out, schema, &Limits::default())
    }

    /// As [`finish_into`](Self::finish_into), with explicit limits.
    ///
    /// # Errors
    /// As [`finish_into`](Self::finish_into).
    pub fn finish_with_limits(
        &mut self,
        out: &mut Vec<u8>,
        schema: SchemaId,
        limits: &Limits,
    ) -> Result<usize, EncodeError> {
        let too_large = |len: usize| EncodeError::TooLarge {
            what: "batch heap",
            len: len as u64,
            max: u64::from(u32::MAX),
        };
        let header = BatchHeader {
            count: U32::new(self.count),
            fixed_size: U32::new(
                u32::try_from(self.fixed_size).map_err(|_| too_large(self.fixed_size))?,
            ),
            str_heap_len: U32::new(
                u32::try_from(self.strs.len()).map_err(|_| too_large(self.strs.len()))?,
            ),
            bytes_heap_len: U32::new(
                u32::try_from(self.bytes.len()).map_err(|_| too_large(self.bytes.len()))?,
            ),
        };
        out.reserve(self.encoded_len());
        let mut b = FrameBuilder::with_limits(out, Kind::Batch, schema, limits);
        b.push_raw(header.as_bytes());
        b.push_raw(&self.fixed);
        b.push_raw(&self.strs);
        b.push_raw(&self.bytes);
        let n = b.finish()?;
        self.clear();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Field, FieldType, Frame};

    fn schema() -> Schema {
        Schema::new(
            "b",
            1,
            vec![
                Field::new("s", FieldType::String),
                Field::new("n", FieldType::U32),
                Field::new("b", FieldType::Bytes),
            ],
        )
        .unwrap()
    }

    fn batch() -> Vec<u8> {
        let s = schema();
        let mut b = BatchBuilder::for_schema(&s);
        for (x, n) in [("hé", 1u32), ("", 2), ("xyz", 3)] {
            b.push_values(
                &s,
                &[
                    Value::String(x.into()),
                    Value::U32(n),
                    Value::Bytes(vec![n as u8; n as usize]),
                ],
            )
            .unwrap();
        }
        let mut out = Vec::new();
        b.finish_into(&mut out, s.id()).unwrap();
        assert!(b.is_empty());
        out
    }

    #[test]
    fn layout_and_records() {
        let s = schema();
        let buf = batch();
        let (f, _) = Frame::decode(&buf, &Limits::default()).unwrap();
        assert_eq!(f.kind(), Kind::Batch);
        let p = f.payload();
        assert_eq!(&p[..16], &[3, 0, 0, 0, 20, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0]);
        let v = BatchView::new(p).unwrap();
        assert_eq!((v.len(), v.str_heap()), (3, "héxyz"));
        assert_eq!(v.bytes_heap(), &[1, 2, 2, 3, 3, 3]);
        let r = crate::RecordView::in_batch(&s, &v, 2).unwrap();
        assert_eq!(r.get(0).unwrap(), ValueRef::Str("xyz"));
        assert_eq!(r.get(2).unwrap(), ValueRef::Bytes(&[3, 3, 3]));
        assert!(crate::RecordView::in_batch(&s, &v, 3).is_err());
        assert!(v.fixed(3).is_none() && v.fixed(usize::MAX).is_none());
    }

    #[test]
    fn payload_errors() {
        let buf = batch();
        let p = &buf[32..];
        let err = |b: &[u8]| BatchView::new(b).unwrap_err();
        assert!(matches!(
            err(&p[..15]),
            DecodeError::Truncated {
                what: "batch header",
                ..
            }
        ));
        assert!(matches!(
            err(&p[..p.len() - 1]),
            DecodeError::Truncated { what: "batch", .. }
        ));
        let mut long = p.to_vec();
        long.push(0);
        assert!(matches!(
            err(&long),
            DecodeError::TrailingBytes { count: 1, .. }
        ));
        let mut huge = p.to_vec();
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            err(&huge),
            DecodeError::Truncated { what: "batch", .. }
        ));
        let mut empty_fixed = p.to_vec();
        empty_fixed[4..8].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(err(&empty_fixed), DecodeError::BatchLayout { .. }));
        // Invalid UTF-8 in the heap: the string heap starts after 16 + 3 * 20 bytes.
        let mut bad = p.to_vec();
        bad[16 + 60 + 1] = 0xff;
        assert_eq!(
            err(&bad),
            DecodeError::InvalidUtf8 {
                field: "string heap".into()
            }
        );
    }

    #[test]
    fn string_slots_are_checked_against_the_heap() {
        let s = schema();
        let buf = batch();
        let mut p = buf[32..].to_vec();
        // Record 0's `s` is "hé" (3 bytes at 0); cut it inside "é".
        p[16 + 4..16 + 8].copy_from_slice(&2u32.to_le_bytes());
        let v = BatchView::new(&p).unwrap();
        let r = crate::RecordView::in_batch(&s, &v, 0).unwrap();
        assert_eq!(
            r.get(0).unwrap_err(),
            DecodeError::InvalidUtf8 { field: "s".into() }
        );
        // Past the heap's end.
        p[16 + 4..16 + 8].copy_from_slice(&7u32.to_le_bytes());
        let v = BatchView::new(&p).unwrap();
        assert!(matches!(
            crate::RecordView::in_batch(&s, &v, 0),
            Err(DecodeError::FieldOutOfBounds { ref field, .. }) if field == "s"
        ));
    }

    #[test]
    fn builder_rejects_and_restores() {
        let s = schema();
        let mut b = BatchBuilder::for_schema(&s);
        assert!(
            b.push_values(&s, &[Value::U32(1), Value::U32(1), Value::Bytes(vec![])])
                .is_err()
        );
        assert!(b.is_empty() && b.encoded_len() == 48);
        assert!(b.push_fixed(&[0; 3]).is_err());
    }
}
