//! The Nexmark `Bid` as a typed record: the same bytes as the generic layout of
//! [`schema()`] (Bid version 1), written and read without going through [`Value`]s.
//!
//! # Layout (56-byte fixed part, then the strings)
//!
//! | offset | size | field | type |
//! |---|---|---|---|
//! | 0 | 8 | `auction` | `U64` |
//! | 8 | 8 | `bidder` | `U64` |
//! | 16 | 8 | `price` | `U64` |
//! | 24 | 8 | `channel` | [`VarRef`] to UTF-8 |
//! | 32 | 8 | `url` | [`VarRef`] to UTF-8 |
//! | 40 | 8 | `date_time` | `I64`, milliseconds since the Unix epoch |
//! | 48 | 8 | `extra` | [`VarRef`] to UTF-8 |
//! | 56 | .. | string bytes | `channel`, `url`, `extra` in that order |
//!
//! [`BidView`] validates a record once (fixed part present, every string in bounds and UTF-8)
//! and then reads fields straight from the received bytes: no copy and no allocation.
//! [`RawBidView`] checks only the layout (no UTF-8 pass, O(1) per record) for readers that need
//! the numeric fields or raw string bytes; [`RawBidView::validate`] upgrades it to a
//! [`BidView`]. UTF-8 validation is most of a `BidView`'s cost (see `BENCHMARKS.md`, Layout).
//!
//! # Examples
//!
//! ```
//! use lute_layout::bid::{BidRef, BidView};
//!
//! let bid = BidRef { auction: 1000, bidder: 2001, price: 123, channel: "Google",
//!                    url: "https://example.invalid/item", date_time: 1_700_000_000_000,
//!                    extra: "" };
//! let mut rec = Vec::new();
//! bid.encode(&mut rec)?;
//! let view = BidView::new(&rec)?;
//! assert_eq!(view.as_bid_ref(), bid);
//! // The same bytes as the schema-driven encoder.
//! let vals = lute_layout::bid::schema().decode_record(&rec)?;
//! assert_eq!(vals[3], lute_layout::Value::String("Google".into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::OnceLock;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::batch::{BatchBuilder, BatchView};
use crate::error::{DecodeError, EncodeError};
use crate::header::{Frame, Kind};
use crate::schema::{Field, FieldType, Schema, Value};
use crate::wire::{I64, U64, VarRef};

/// Record name of the Bid schema.
pub const NAME: &str = "nexmark.Bid";

/// Fingerprint of Bid version 1 ([`schema()`]); pinned: it is on the wire in every Bid frame.
pub const FINGERPRINT_V1: u64 = 0x9267_a7ec_1f8e_b0eb;

/// Size of the fixed part of a Bid record.
pub const FIXED_LEN: usize = 56;

/// The Bid version 1 schema (fields in layout order, no defaults except `extra = ""`).
pub fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::new(
            NAME,
            1,
            vec![
                Field::new("auction", FieldType::U64),
                Field::new("bidder", FieldType::U64),
                Field::new("price", FieldType::U64),
                Field::new("channel", FieldType::String),
                Field::new("url", FieldType::String),
                Field::new("date_time", FieldType::I64),
                Field::new("extra", FieldType::String).with_default(Value::String(String::new())),
            ],
        )
        .expect("the Bid v1 schema is valid (checked by the tests)")
    })
}

/// The fixed part of a Bid record as laid out on the wire.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
pub struct BidFixed {
    /// Auction id.
    pub auction: U64,
    /// Bidder (person) id.
    pub bidder: U64,
    /// Price in cents.
    pub price: U64,
    /// Slot of the channel string.
    pub channel: VarRef,
    /// Slot of the URL string.
    pub url: VarRef,
    /// Event time, milliseconds since the Unix epoch.
    pub date_time: I64,
    /// Slot of the padding string.
    pub extra: VarRef,
}

const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<BidFixed>() == FIXED_LEN && align_of::<BidFixed>() == 1);
    assert!(offset_of!(BidFixed, auction) == 0);
    assert!(offset_of!(BidFixed, bidder) == 8);
    assert!(offset_of!(BidFixed, price) == 16);
    assert!(offset_of!(BidFixed, channel) == 24);
    assert!(offset_of!(BidFixed, url) == 32);
    assert!(offset_of!(BidFixed, date_time) == 40);
    assert!(offset_of!(BidFixed, extra) == 48);
};

/// An owned Bid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bid {
    /// Auction id.
    pub auction: u64,
    /// Bidder (person) id.
    pub bidder: u64,
    /// Price in cents.
    pub price: u64,
    /// Channel name.
    pub channel: String,
    /// URL.
    pub url: String,
    /// Event time, milliseconds since the Unix epoch.
    pub date_time: i64,
    /// Padding.
    pub extra: String,
}

impl Bid {
    /// A borrowed view of this bid, for encoding.
    pub fn as_bid_ref(&self) -> BidRef<'_> {
        BidRef {
            auction: self.auction,
            bidder: self.bidder,
            price: self.price,
            channel: &self.channel,
            url: &self.url,
            date_time: self.date_time,
            extra: &self.extra,
        }
    }
}

/// A Bid whose strings are borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidRef<'a> {
    /// Auction id.
    pub auction: u64,
    /// Bidder (person) id.
    pub bidder: u64,
    /// Price in cents.
    pub price: u64,
    /// Channel name.
    pub channel: &'a str,
    /// URL.
    pub url: &'a str,
    /// Event time, milliseconds since the Unix epoch.
    pub date_time: i64,
    /// Padding.
    pub extra: &'a str,
}

impl BidRef<'_> {
    /// Length of the encoded record.
    pub fn encoded_len(&self) -> usize {
        FIXED_LEN + self.channel.len() + self.url.len() + self.extra.len()
    }

    /// Appends the record's bytes to `out` (no length prefix). Allocates nothing when `out`
    /// has [`encoded_len`](Self::encoded_len) spare capacity.
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] when the record exceeds `u32::MAX` bytes; `out` is unchanged.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let len = self.encoded_len();
        if u32::try_from(len).is_err() {
            return Err(EncodeError::TooLarge {
                what: "record",
                len: len as u64,
                max: u64::from(u32::MAX),
            });
        }
        // All offsets below are <= len <= u32::MAX.
        let c = FIXED_LEN as u32;
        let u = c + self.channel.len() as u32;
        let e = u + self.url.len() as u32;
        let fixed = BidFixed {
            auction: U64::new(self.auction),
            bidder: U64::new(self.bidder),
            price: U64::new(self.price),
            channel: VarRef::new(c, self.channel.len() as u32),
            url: VarRef::new(u, self.url.len() as u32),
            date_time: I64::new(self.date_time),
            extra: VarRef::new(e, self.extra.len() as u32),
        };
        out.reserve(len);
        out.extend_from_slice(fixed.as_bytes());
        out.extend_from_slice(self.channel.as_bytes());
        out.extend_from_slice(self.url.as_bytes());
        out.extend_from_slice(self.extra.as_bytes());
        Ok(())
    }

    /// Appends this bid to a batch ([`batch`](crate::batch)): strings into the string heap,
    /// then the fixed part. Allocates nothing once the builder's buffers have grown.
    ///
    /// # Errors
    /// [`EncodeError::TooLarge`] if the builder is not for 56-byte fixed parts, or a heap
    /// would exceed `u32::MAX` bytes (strings already added then stay unreferenced in the
    /// heap, which is allowed).
    #[inline]
    pub fn push_to(&self, batch: &mut BatchBuilder) -> Result<(), EncodeError> {
        if batch.fixed_size() != FIXED_LEN {
            return Err(EncodeError::TooLarge {
                what: "fixed part",
                len: FIXED_LEN as u64,
                max: batch.fixed_size() as u64,
            });
        }
        let fixed = BidFixed {
            auction: U64::new(self.auction),
            bidder: U64::new(self.bidder),
            price: U64::new(self.price),
            channel: batch.add_str(self.channel)?,
            url: batch.add_str(self.url)?,
            date_time: I64::new(self.date_time),
            extra: batch.add_str(self.extra)?,
        };
        batch.push_fixed(fixed.as_bytes())
    }

    /// An owned copy.
    pub fn to_bid(&self) -> Bid {
        Bid {
            auction: self.auction,
            bidder: self.bidder,
            price: self.price,
            channel: self.channel.to_owned(),
            url: self.url.to_owned(),
            date_time: self.date_time,
            extra: self.extra.to_owned(),
        }
    }
}

/// A zero-copy view of an encoded Bid record whose *layout* is validated (fixed part present,
/// every string slot inside the variable part) but whose strings are not yet checked for UTF-8.
///
/// For readers that need only the numeric fields (Nexmark Q1 and Q2 read `auction` and
/// `price`) or raw string bytes (hashing a key): construction is O(1), it reads only the
/// fixed part. [`validate`](Self::validate) turns it into a [`BidView`].
#[derive(Debug, Clone, Copy)]
pub struct RawBidView<'a> {
    fixed: &'a BidFixed,
    record: &'a [u8],
    /// `(start, end)` of `channel`, `url`, `extra` in `record`; each inside
    /// `FIXED_LEN..=record.len()`, start <= end.
    ranges: [(u32, u32); 3],
}

const STRINGS: [&str; 3] = ["channel", "url", "extra"];

impl<'a> RawBidView<'a> {
    /// Validates the layout of `record` and views it in place. Allocates nothing on success.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] or [`DecodeError::FieldOutOfBounds`].
    #[inline]
    pub fn new(record: &'a [u8]) -> Result<Self, DecodeError> {
        let (fixed, _) = BidFixed::ref_from_prefix(record).map_err(|_| DecodeError::Truncated {
            what: "record",
            needed: FIXED_LEN as u64,
            available: record.len() as u64,
        })?;
        let range = |r: &VarRef, field: &'static str| {
            r.range(FIXED_LEN, record.len())
                // In range of `record.len()`, so both ends fit in u32 as the slot's do.
                .map(|x| (r.offset.get(), r.offset.get() + (x.end - x.start) as u32))
                .ok_or_else(|| DecodeError::FieldOutOfBounds {
                    field: field.to_owned(),
                    offset: r.offset.get(),
                    len: r.len.get(),
                    min: FIXED_LEN as u32,
                    record_len: record.len() as u64,
                })
        };
        Ok(Self {
            fixed,
            record,
            ranges: [
                range(&fixed.channel, STRINGS[0])?,
                range(&fixed.url, STRINGS[1])?,
                range(&fixed.extra, STRINGS[2])?,
            ],
        })
    }

    fn bytes(&self, i: usize) -> &'a [u8] {
        let (start, end) = self.ranges[i];
        // In bounds: checked in `new`.
        self.record
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// The fixed part as laid out on the wire.
    pub fn fixed(&self) -> &'a BidFixed {
        self.fixed
    }

    /// Auction id.
    pub fn auction(&self) -> u64 {
        self.fixed.auction.get()
    }

    /// Bidder id.
    pub fn bidder(&self) -> u64 {
        self.fixed.bidder.get()
    }

    /// Price in cents.
    pub fn price(&self) -> u64 {
        self.fixed.price.get()
    }

    /// Event time, milliseconds since the Unix epoch.
    pub fn date_time(&self) -> i64 {
        self.fixed.date_time.get()
    }

    /// The channel's bytes (not checked for UTF-8).
    pub fn channel_bytes(&self) -> &'a [u8] {
        self.bytes(0)
    }

    /// The URL's bytes (not checked for UTF-8).
    pub fn url_bytes(&self) -> &'a [u8] {
        self.bytes(1)
    }

    /// The padding's bytes (not checked for UTF-8).
    pub fn extra_bytes(&self) -> &'a [u8] {
        self.bytes(2)
    }

    /// Checks the three strings for UTF-8.
    ///
    /// # Errors
    /// [`DecodeError::InvalidUtf8`] naming the first invalid string.
    #[inline]
    pub fn validate(&self) -> Result<BidView<'a>, DecodeError> {
        // NB: one UTF-8 validation of the whole variable part, where the
        // writer puts the three strings back to back, instead of three short ones: the
        // validation is most of `BidView::new`'s cost (see the `layout` benchmark). A
        // substring of valid UTF-8 is valid iff it starts and ends on char boundaries, which
        // `str::get` checks. If the variable part as a whole is not UTF-8 (bytes outside the
        // strings, or a bad string), check string by string to name the culprit.
        let var = self.record.get(FIXED_LEN..).unwrap_or_default();
        let whole = std::str::from_utf8(var).ok();
        let s = |i: usize| {
            let (start, end) = self.ranges[i];
            let s = match whole {
                Some(all) => all.get(start as usize - FIXED_LEN..end as usize - FIXED_LEN),
                None => std::str::from_utf8(self.bytes(i)).ok(),
            };
            s.ok_or_else(|| DecodeError::InvalidUtf8 {
                field: STRINGS[i].to_owned(),
            })
        };
        Ok(BidView {
            fixed: self.fixed,
            channel: s(0)?,
            url: s(1)?,
            extra: s(2)?,
        })
    }
}

/// A validated, zero-copy view of an encoded Bid record: layout checked and strings UTF-8.
#[derive(Debug, Clone, Copy)]
pub struct BidView<'a> {
    fixed: &'a BidFixed,
    channel: &'a str,
    url: &'a str,
    extra: &'a str,
}

impl<'a> BidView<'a> {
    /// Validates `record` (fixed part present; each string inside the variable part and valid
    /// UTF-8) and views it in place. Allocates nothing on success.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`], [`DecodeError::FieldOutOfBounds`] or
    /// [`DecodeError::InvalidUtf8`].
    #[inline]
    pub fn new(record: &'a [u8]) -> Result<Self, DecodeError> {
        RawBidView::new(record)?.validate()
    }

    /// The fixed part as laid out on the wire.
    pub fn fixed(&self) -> &'a BidFixed {
        self.fixed
    }

    /// Auction id.
    pub fn auction(&self) -> u64 {
        self.fixed.auction.get()
    }

    /// Bidder id.
    pub fn bidder(&self) -> u64 {
        self.fixed.bidder.get()
    }

    /// Price in cents.
    pub fn price(&self) -> u64 {
        self.fixed.price.get()
    }

    /// Channel name.
    pub fn channel(&self) -> &'a str {
        self.channel
    }

    /// URL.
    pub fn url(&self) -> &'a str {
        self.url
    }

    /// Event time, milliseconds since the Unix epoch.
    pub fn date_time(&self) -> i64 {
        self.fixed.date_time.get()
    }

    /// Padding.
    pub fn extra(&self) -> &'a str {
        self.extra
    }

    /// All fields, borrowed.
    pub fn as_bid_ref(&self) -> BidRef<'a> {
        BidRef {
            auction: self.auction(),
            bidder: self.bidder(),
            price: self.price(),
            channel: self.channel,
            url: self.url,
            date_time: self.date_time(),
            extra: self.extra,
        }
    }
}

/// Zero-copy views over the records of a batch frame ([`Kind::Batch`]) written with Bid
/// version 1. The string heap is validated once for the whole batch; each record then costs a
/// few bounds and char-boundary checks.
///
/// # Examples
///
/// ```
/// use lute_layout::batch::BatchBuilder;
/// use lute_layout::bid::{self, BidBatch, BidRef};
/// use lute_layout::{Frame, Limits};
///
/// let mut b = BatchBuilder::for_schema(bid::schema());
/// let bid = BidRef { auction: 1, bidder: 2, price: 3, channel: "Apple", url: "u",
///                    date_time: 4, extra: "" };
/// bid.push_to(&mut b)?;
/// let mut buf = Vec::new();
/// b.finish_into(&mut buf, bid::schema().id())?;
///
/// let (frame, _) = Frame::decode(&buf, &Limits::default())?;
/// let batch = BidBatch::new(&frame)?;
/// assert_eq!(batch.get(0)?.as_bid_ref(), bid);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BidBatch<'a> {
    batch: BatchView<'a>,
}

impl<'a> BidBatch<'a> {
    /// Validates a batch frame of Bid v1 records (batch layout, string heap UTF-8).
    ///
    /// # Errors
    /// [`DecodeError::FingerprintMismatch`] for another schema, [`DecodeError::UnknownKind`]
    /// for a frame that is not a batch, [`DecodeError::BatchLayout`] for a fixed size other
    /// than 56, and the errors of [`BatchView::new`].
    pub fn new(frame: &Frame<'a>) -> Result<Self, DecodeError> {
        let found = frame.schema_id().fingerprint;
        if found != FINGERPRINT_V1 {
            return Err(DecodeError::FingerprintMismatch {
                expected: FINGERPRINT_V1,
                found,
            });
        }
        if frame.kind() != Kind::Batch {
            return Err(DecodeError::UnknownKind {
                found: frame.header().kind,
            });
        }
        let batch = BatchView::new(frame.payload())?;
        if batch.fixed_size() != FIXED_LEN {
            return Err(DecodeError::BatchLayout {
                reason: "fixed size differs from the schema's",
            });
        }
        Ok(Self { batch })
    }

    /// Number of bids.
    pub fn len(&self) -> usize {
        self.batch.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }

    /// Bid `index`, viewed in place.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] past the end; [`DecodeError::FieldOutOfBounds`] or
    /// [`DecodeError::InvalidUtf8`] for a string slot outside the heap or not on char
    /// boundaries.
    #[inline]
    pub fn get(&self, index: usize) -> Result<BidView<'a>, DecodeError> {
        let fixed = self.batch.fixed(index).ok_or(DecodeError::Truncated {
            what: "batch record",
            needed: index as u64 + 1,
            available: self.batch.len() as u64,
        })?;
        self.view(fixed)
    }

    #[inline]
    fn view(&self, fixed: &'a [u8]) -> Result<BidView<'a>, DecodeError> {
        // `fixed` is one FIXED_LEN chunk of the fixed region (checked in `new`).
        let fixed = BidFixed::ref_from_bytes(fixed).map_err(|_| DecodeError::BatchLayout {
            reason: "fixed size differs from the schema's",
        })?;
        Ok(BidView {
            fixed,
            channel: self.batch.string(&fixed.channel, "channel")?,
            url: self.batch.string(&fixed.url, "url")?,
            extra: self.batch.string(&fixed.extra, "extra")?,
        })
    }

    /// All bids, in order.
    pub fn iter(&self) -> impl Iterator<Item = Result<BidView<'a>, DecodeError>> + '_ {
        self.batch
            .fixed_parts()
            .chunks_exact(FIXED_LEN)
            .map(|c| self.view(c))
    }
}

/// Views over the Bid records of a data frame written with Bid version 1.
///
/// # Errors
/// [`DecodeError::FingerprintMismatch`] when the frame was written with another schema (read
/// those through a [`Reader`](crate::Reader)); each item is the result of [`BidView::new`] or a
/// truncated length prefix.
pub fn views<'a>(
    frame: &Frame<'a>,
) -> Result<impl Iterator<Item = Result<BidView<'a>, DecodeError>> + use<'a>, DecodeError> {
    let found = frame.schema_id().fingerprint;
    if found != FINGERPRINT_V1 {
        return Err(DecodeError::FingerprintMismatch {
            expected: FINGERPRINT_V1,
            found,
        });
    }
    Ok(frame.records().map(|r| r.and_then(BidView::new)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_pinned() {
        assert_eq!(schema().fingerprint(), FINGERPRINT_V1);
        assert_eq!(schema().fixed_size(), FIXED_LEN);
    }

    #[test]
    fn view_rejects_bad_records() {
        let b = BidRef {
            auction: 1,
            bidder: 2,
            price: 3,
            channel: "c",
            url: "u",
            date_time: -4,
            extra: "xyz",
        };
        let mut rec = Vec::new();
        b.encode(&mut rec).unwrap();
        assert!(matches!(
            BidView::new(&rec[..55]),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            BidView::new(&rec[..rec.len() - 1]),
            Err(DecodeError::FieldOutOfBounds { ref field, .. }) if field == "extra"
        ));
        let mut bad = rec.clone();
        bad[24] = 8; // channel offset into the fixed part
        assert!(matches!(
            BidView::new(&bad),
            Err(DecodeError::FieldOutOfBounds { ref field, .. }) if field == "channel"
        ));
        let mut bad = rec.clone();
        bad[57] = 0xc3; // url: a lone UTF-8 lead byte
        assert_eq!(
            BidView::new(&bad).unwrap_err(),
            DecodeError::InvalidUtf8 {
                field: "url".into()
            }
        );
    }

    #[test]
    fn raw_view_then_validate() {
        let b = BidRef {
            auction: 9,
            bidder: 8,
            price: 7,
            channel: "é",
            url: "ü",
            date_time: 6,
            extra: "",
        };
        let mut rec = Vec::new();
        b.encode(&mut rec).unwrap();
        let raw = RawBidView::new(&rec).unwrap();
        assert_eq!((raw.auction(), raw.price()), (9, 7));
        assert_eq!(raw.channel_bytes(), "é".as_bytes());
        assert_eq!(raw.validate().unwrap().as_bid_ref(), b);

        // Whole variable part valid UTF-8, but `channel` cut inside "é": only its first byte.
        let mut cut = rec.clone();
        cut[28] = 1; // channel len 2 -> 1
        assert!(RawBidView::new(&cut).is_ok());
        assert_eq!(
            BidView::new(&cut).unwrap_err(),
            DecodeError::InvalidUtf8 {
                field: "channel".into()
            }
        );

        // Junk outside the strings makes the whole part invalid; strings themselves are fine.
        let mut gap = Vec::new();
        let fixed = BidFixed {
            auction: U64::new(1),
            bidder: U64::new(2),
            price: U64::new(3),
            channel: VarRef::new(57, 1),
            url: VarRef::new(58, 0),
            date_time: I64::new(4),
            extra: VarRef::new(58, 0),
        };
        gap.extend_from_slice(fixed.as_bytes());
        gap.extend_from_slice(&[0xff, b'c']);
        let v = BidView::new(&gap).unwrap();
        assert_eq!((v.channel(), v.url(), v.extra()), ("c", "", ""));
    }
}
