//! Event time.

/// Event time: milliseconds (or any unit the job chooses). `EventTime::MIN` is "before
/// everything" (no watermark yet); `EventTime::MAX` is end of stream.
pub type EventTime = i64;
