//! Schema descriptors and resolution on arbitrary bytes: decoding two descriptors, resolving
//! one against the other and reading a record through the resolution never panics; a
//! resolution that succeeds never yields a value whose type is not the reader field's, and a
//! record that decodes under its writer schema round-trips.
//!
//! Input: `u16 len_a | descriptor a | u16 len_b | descriptor b | record bytes`. Seeds in
//! `seeds/schema_resolve` follow this shape.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lute_layout::{Resolution, Schema};

fn take<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_le_bytes(*len));
    if rest.len() < len {
        return None;
    }
    let (a, b) = rest.split_at(len);
    *data = b;
    Some(a)
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let Some(a) = take(&mut rest) else {
        let _ = Schema::from_descriptor(data);
        return;
    };
    let Some(b) = take(&mut rest) else {
        let _ = Schema::from_descriptor(a);
        return;
    };
    let record = rest;
    let (Ok(writer), Ok(reader)) = (Schema::from_descriptor(a), Schema::from_descriptor(b)) else {
        return;
    };
    // Descriptors are canonical: an accepted descriptor is exactly what its schema writes.
    // (Compared as bytes: a NaN default is not equal to itself, found by this target.)
    assert_eq!(writer.to_descriptor(), a);
    assert_eq!(reader.to_descriptor(), b);

    if let Ok(vals) = writer.decode_record(record) {
        // Compare bytes, not values: a NaN is not equal to itself (found by this target).
        let mut again = Vec::new();
        writer.encode_record(&vals, &mut again).expect("re-encode");
        let vals2 = writer.decode_record(&again).expect("re-decode");
        let mut third = Vec::new();
        writer.encode_record(&vals2, &mut third).expect("re-encode");
        assert_eq!(again, third);
    }
    for (w, r) in [(&writer, &reader), (&reader, &writer)] {
        let Ok(res) = Resolution::new(w, r) else {
            continue;
        };
        if let Ok(vals) = res.read(record) {
            assert_eq!(vals.len(), r.fields().len());
            for (v, f) in vals.iter().zip(r.fields()) {
                assert_eq!(v.field_type(), f.ty, "field {}", f.name);
            }
        }
    }
});
