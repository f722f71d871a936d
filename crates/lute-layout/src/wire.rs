//! Fixed-size little-endian wire types.
//!
//! Every multi-byte integer or float on the wire is little-endian, whatever the host: the types
//! here store bytes, not native integers, and convert with explicit `from_le_bytes` /
//! `to_le_bytes` semantics (zerocopy's [`byteorder`](zerocopy::byteorder) types). None of them
//! has alignment requirements (all are `Unaligned`, alignment 1), so a view can be laid over
//! any received buffer without copying, at any offset.
//!
//! | type | size | bytes on the wire |
//! |---|---|---|
//! | [`U16`] | 2 | `u16::to_le_bytes` |
//! | [`U32`] | 4 | `u32::to_le_bytes` |
//! | [`U64`] | 8 | `u64::to_le_bytes` |
//! | [`I32`] | 4 | `i32::to_le_bytes` (two's complement) |
//! | [`I64`] | 8 | `i64::to_le_bytes` (two's complement) |
//! | [`F32`] | 4 | `f32::to_bits().to_le_bytes()` (IEEE 754 binary32) |
//! | [`F64`] | 8 | `f64::to_bits().to_le_bytes()` (IEEE 754 binary64) |
//! | [`VarRef`] | 8 | offset `U32`, then length `U32` |
//!
//! A bool is one byte, 0 or 1; any other byte is rejected
//! ([`DecodeError::InvalidBool`](crate::DecodeError::InvalidBool)).
//!
//! # Examples
//!
//! ```
//! use lute_layout::wire::{U32, VarRef};
//! use zerocopy::IntoBytes;
//!
//! assert_eq!(U32::new(0x0102_0304).as_bytes(), &[4, 3, 2, 1]);
//! let r = VarRef::new(56, 3);
//! assert_eq!(r.as_bytes(), &[56, 0, 0, 0, 3, 0, 0, 0]);
//! ```

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

pub use zerocopy::byteorder::little_endian::{F32, F64, I32, I64, U16, U32, U64};

/// A variable-length field's slot: where its bytes are, relative to the start of the record.
///
/// Invariant checked by every reader before the bytes are touched: `offset >= fixed size of the
/// record` and `offset + len <= record length` (computed without overflow).
#[repr(C)]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
pub struct VarRef {
    /// Offset of the first byte from the start of the record.
    pub offset: U32,
    /// Number of bytes.
    pub len: U32,
}

impl VarRef {
    /// A slot for `len` bytes at `offset`.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = lute_layout::wire::VarRef::new(8, 2);
    /// assert_eq!((r.offset.get(), r.len.get()), (8, 2));
    /// ```
    pub const fn new(offset: u32, len: u32) -> Self {
        Self {
            offset: U32::new(offset),
            len: U32::new(len),
        }
    }

    /// The byte range this slot designates inside a record of `record_len` bytes whose
    /// variable part starts at `min`, or `None` when it points outside it.
    ///
    /// # Examples
    ///
    /// ```
    /// use lute_layout::wire::VarRef;
    /// assert_eq!(VarRef::new(8, 2).range(8, 10), Some(8..10));
    /// assert_eq!(VarRef::new(8, 3).range(8, 10), None);
    /// assert_eq!(VarRef::new(4, 1).range(8, 10), None);
    /// ```
    pub fn range(&self, min: usize, record_len: usize) -> Option<std::ops::Range<usize>> {
        let start = usize::try_from(self.offset.get()).ok()?;
        let end = start.checked_add(usize::try_from(self.len.get()).ok()?)?;
        (start >= min && end <= record_len).then_some(start..end)
    }
}

// Compile-time layout checks: sizes and alignment are part of the wire format.
const _: () = {
    use std::mem::{align_of, size_of};
    assert!(size_of::<U16>() == 2 && align_of::<U16>() == 1);
    assert!(size_of::<U32>() == 4 && align_of::<U32>() == 1);
    assert!(size_of::<U64>() == 8 && align_of::<U64>() == 1);
    assert!(size_of::<I32>() == 4 && align_of::<I32>() == 1);
    assert!(size_of::<I64>() == 8 && align_of::<I64>() == 1);
    assert!(size_of::<F32>() == 4 && align_of::<F32>() == 1);
    assert!(size_of::<F64>() == 8 && align_of::<F64>() == 1);
    assert!(size_of::<VarRef>() == 8 && align_of::<VarRef>() == 1);
    assert!(std::mem::offset_of!(VarRef, offset) == 0);
    assert!(std::mem::offset_of!(VarRef, len) == 4);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_rejects_overflow() {
        let r = VarRef::new(u32::MAX, u32::MAX);
        assert_eq!(r.range(0, u32::MAX as usize), None);
        assert_eq!(VarRef::new(u32::MAX, 1).range(0, u32::MAX as usize), None);
        assert_eq!(VarRef::new(0, 0).range(0, 0), Some(0..0));
    }

    #[test]
    fn varref_reads_from_unaligned_bytes() {
        let bytes = [0xff, 1, 0, 0, 0, 2, 0, 0, 0];
        let r = VarRef::read_from_bytes(&bytes[1..]).unwrap();
        assert_eq!(r, VarRef::new(1, 2));
    }
}
