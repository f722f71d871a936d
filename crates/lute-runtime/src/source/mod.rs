//! Sources: where records and their event times enter a job, and how watermarks are made.

use crate::error::{OperatorError, StateError};
use crate::operator::EventTime;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

/// What a source did in one call to [`Source::fill`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    /// It may have more records.
    More,
    /// It has nothing now but is not finished (its partition is marked idle downstream and
    /// left out of watermark minimums until it has data again).
    Idle,
    /// It is exhausted.
    Done,
}

/// A partitioned source. Each worker runs an instance (made by the per-worker factory from the
/// prototype given to the builder), opened with its partition index.
pub trait Source: Clone + Send + 'static {
    /// Record type.
    type Item: Send + 'static;

    /// Called once per worker: this clone reads partition `partition` of `partitions`.
    ///
    /// # Errors
    /// Fails the job.
    fn open(&mut self, partition: usize, partitions: usize) -> Result<(), OperatorError>;

    /// Emits at most `max` records through `out`.
    ///
    /// # Errors
    /// A source failure or the error `out` returned; fails the job.
    fn fill<F>(&mut self, max: usize, out: &mut F) -> Result<SourceStatus, OperatorError>
    where
        F: FnMut(EventTime, Self::Item) -> Result<(), OperatorError>;

    /// The partition's position: records it has emitted since its start (`0` after `open`).
    fn position(&self) -> u64;

    /// Moves an opened partition to `position` (a value [`Source::position`] returned), so the
    /// next record is the one that followed it; registered state restores sources this way.
    ///
    /// # Errors
    /// [`StateError::Seek`] if the partition has no such position.
    fn seek(&mut self, position: u64) -> Result<(), StateError>;
}

/// How a source's watermarks are made: bounded out-of-orderness, emitted every `every`
/// records (a data-defined point, so runs are deterministic) and at end of stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatermarkStrategy {
    /// The watermark is the largest event time seen minus `delay`: events up to `delay` late
    /// are still on time.
    pub delay: EventTime,
    /// Records between watermarks.
    pub every: usize,
}

impl Default for WatermarkStrategy {
    fn default() -> Self {
        Self {
            delay: 0,
            every: 256,
        }
    }
}

/// An in-memory source over a shared vector of `(event time, record)`; partition `p` of `n`
/// reads elements `p, p + n, p + 2n, …`, or with [`VecSource::blocks`] runs of `len`
/// consecutive elements: blocks `p, p + n, …`.
#[derive(Debug)]
pub struct VecSource<T> {
    data: Arc<Vec<(EventTime, T)>>,
    next: usize,
    step: usize,
    block: usize,
    /// Elements left in the current block.
    left: usize,
    /// Records emitted since `open`.
    pos: u64,
    partition: usize,
}

impl<T> Clone for VecSource<T> {
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            next: self.next,
            step: self.step,
            block: self.block,
            left: self.left,
            pos: self.pos,
            partition: self.partition,
        }
    }
}

impl<T> VecSource<T> {
    /// A source over `data`.
    pub fn new(data: Vec<(EventTime, T)>) -> Self {
        Self {
            data: Arc::new(data),
            next: 0,
            step: 1,
            block: 1,
            left: 1,
            pos: 0,
            partition: 0,
        }
    }

    /// The records, in order (shared by every clone of this source).
    pub fn records(&self) -> &[(EventTime, T)] {
        &self.data
    }

    /// Deals the data to the partitions in blocks of `len` consecutive elements instead of
    /// one by one. A partition then reads whole cache lines of the vector that no other
    /// partition reads (element by element, every partition touches every line, so memory
    /// traffic grows with the number of partitions), while the partitions' event times stay
    /// within about one block of each other (what the watermark, their minimum, waits for).
    ///
    /// # Examples
    /// ```
    /// use lute_runtime::{Source, VecSource};
    /// let mut s = VecSource::new((0..10).map(|i| (i, i)).collect()).blocks(3.try_into().unwrap());
    /// s.open(1, 2).unwrap(); // partition 1 of 2: blocks 1 and 3
    /// let mut got = Vec::new();
    /// s.fill(100, &mut |_, x| Ok(got.push(x))).unwrap();
    /// assert_eq!(got, [3, 4, 5, 9]);
    /// ```
    pub fn blocks(mut self, len: std::num::NonZeroUsize) -> Self {
        self.block = len.get();
        self.left = self.block;
        self
    }
}

impl<T: Clone + Send + Sync + 'static> Source for VecSource<T> {
    type Item = T;

    fn open(&mut self, partition: usize, partitions: usize) -> Result<(), OperatorError> {
        // Saturating: a huge block or partition count reads nothing rather than wrapping
        // around to another partition's data.
        self.next = partition.saturating_mul(self.block);
        self.step = partitions;
        self.left = self.block;
        self.pos = 0;
        self.partition = partition;
        Ok(())
    }

    fn position(&self) -> u64 {
        self.pos
    }

    fn seek(&mut self, position: u64) -> Result<(), StateError> {
        // The `position`-th element of this partition: block `position / block` of the
        // partition (global block `partition + k · step`), offset `position % block` in it.
        let p = usize::try_from(position).map_err(|_| StateError::Seek {
            position,
            reason: "beyond the address space".into(),
        })?;
        let (k, off) = (p / self.block, p % self.block);
        let next = k
            .checked_mul(self.step)
            .and_then(|b| b.checked_add(self.partition))
            .and_then(|b| b.checked_mul(self.block))
            .and_then(|b| b.checked_add(off))
            .ok_or_else(|| StateError::Seek {
                position,
                reason: "beyond the address space".into(),
            })?;
        self.next = next;
        self.left = self.block - off;
        self.pos = position;
        Ok(())
    }

    fn fill<O>(&mut self, max: usize, out: &mut O) -> Result<SourceStatus, OperatorError>
    where
        O: FnMut(EventTime, T) -> Result<(), OperatorError>,
    {
        for _ in 0..max {
            let Some((ts, x)) = self.data.get(self.next) else {
                return Ok(SourceStatus::Done);
            };
            out(*ts, x.clone())?;
            self.pos += 1;
            self.left -= 1;
            if self.left == 0 {
                // On to this partition's next block (with blocks of 1: the next element).
                self.next = self
                    .next
                    .saturating_add((self.step - 1).saturating_mul(self.block))
                    .saturating_add(1);
                self.left = self.block;
            } else {
                self.next = self.next.saturating_add(1);
            }
        }
        Ok(if self.next < self.data.len() {
            SourceStatus::More
        } else {
            SourceStatus::Done
        })
    }
}

/// A generator: record `i` (for `i` in `0..count`) is `f(i)`; partition `p` of `n` generates
/// the indices `i ≡ p (mod n)`. Allocation-free if `f` is.
#[derive(Debug, Clone)]
pub struct GenSource<F> {
    f: F,
    count: u64,
    next: u64,
    /// The partition's first index.
    start: u64,
    step: u64,
}

impl<F> GenSource<F> {
    /// `count` records made by `f(index) -> (event time, record)`.
    pub fn new(count: u64, f: F) -> Self {
        Self {
            f,
            count,
            next: 0,
            start: 0,
            step: 1,
        }
    }
}

impl<T, F> Source for GenSource<F>
where
    T: Send + 'static,
    F: FnMut(u64) -> (EventTime, T) + Clone + Send + 'static,
{
    type Item = T;

    fn open(&mut self, partition: usize, partitions: usize) -> Result<(), OperatorError> {
        self.next = partition as u64;
        self.start = partition as u64;
        self.step = partitions as u64;
        Ok(())
    }

    fn position(&self) -> u64 {
        (self.next - self.start) / self.step
    }

    fn seek(&mut self, position: u64) -> Result<(), StateError> {
        let next = position
            .checked_mul(self.step)
            .and_then(|n| n.checked_add(self.start))
            .ok_or_else(|| StateError::Seek {
                position,
                reason: "beyond the generator's range".into(),
            })?;
        self.next = next;
        Ok(())
    }

    fn fill<O>(&mut self, max: usize, out: &mut O) -> Result<SourceStatus, OperatorError>
    where
        O: FnMut(EventTime, T) -> Result<(), OperatorError>,
    {
        // A local index (kept in a register, not stored per record); written back on every
        // exit, an error included.
        let mut next = self.next;
        let mut failed = None;
        // One bound per record: the end of this fill (`max` records or the source's end).
        let end = self
            .count
            .min(next.saturating_add((max as u64).saturating_mul(self.step)));
        while next < end {
            let (ts, x) = (self.f)(next);
            next += self.step;
            if let Err(e) = out(ts, x) {
                failed = Some(e);
                break;
            }
        }
        self.next = next;
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(if self.next < self.count {
            SourceStatus::More
        } else {
            SourceStatus::Done
        })
    }
}

/// Splits one CSV line into fields: separated by commas; an unquoted field is trimmed of
/// surrounding whitespace and may not contain a double quote (RFC 4180: such a field must be
/// quoted); a field in double quotes keeps everything inside (commas and whitespace
/// included), with `""` standing for one quote, and only whitespace may follow its closing
/// quote. Records spanning lines (a newline inside quotes) are not supported: the line ends
/// the record.
///
/// # Errors
/// A quoted field without its closing quote, text after a closing quote, or a quote inside
/// an unquoted field; each names the field (1-based).
///
/// # Examples
///
/// ```
/// use lute_runtime::source::csv_fields;
/// let f = csv_fields(r#" 7 , "a, b" ,"say ""hi""",,x"#).unwrap();
/// assert_eq!(f, ["7", "a, b", r#"say "hi""#, "", "x"]);
/// assert!(csv_fields(r#"1,"open"#).is_err());
/// assert!(csv_fields(r#""a"b,1"#).is_err());
/// assert!(csv_fields(r#"x"a,b""#).is_err());
/// assert_eq!(csv_fields("1,\u{a0}k\u{a0},").unwrap(), ["1", "k", ""]);
/// ```
pub fn csv_fields(line: &str) -> Result<Vec<std::borrow::Cow<'_, str>>, String> {
    use std::borrow::Cow;
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        let t = rest.trim_start();
        let after = if let Some(q) = t.strip_prefix('"') {
            // Quoted: up to the first quote that is not doubled.
            let mut value = String::new();
            let mut q = q;
            loop {
                let Some(at) = q.find('"') else {
                    return Err(format!(
                        "field {}: unterminated quoted field",
                        out.len() + 1
                    ));
                };
                value.push_str(&q[..at]);
                if q[at + 1..].starts_with('"') {
                    value.push('"');
                    q = &q[at + 2..];
                } else {
                    q = &q[at + 1..];
                    break;
                }
            }
            out.push(Cow::Owned(value));
            let q = q.trim_start();
            if !(q.is_empty() || q.starts_with(',')) {
                return Err(format!("field {}: text after the closing quote", out.len()));
            }
            q
        } else {
            let end = t.find(',').unwrap_or(t.len());
            let field = t[..end].trim_end();
            if field.contains('"') {
                return Err(format!(
                    "field {}: a quote inside an unquoted field (quote the field)",
                    out.len() + 1
                ));
            }
            out.push(Cow::Borrowed(field));
            &t[end..]
        };
        match after.strip_prefix(',') {
            Some(r) => rest = r,
            None => return Ok(out),
        }
    }
}

/// Turns one line into an event time and a record, or says why it cannot.
type Parser<T> = dyn Fn(&str) -> Result<(EventTime, T), String> + Send + Sync;

/// A file of records, one per line (CSV or JSON lines; see [`FileSource::csv`] and
/// [`FileSource::json_lines`]). Partition `p` of `n` takes lines `p, p + n, …` (each worker
/// reads the file and skips the other partitions' lines). Blank lines are skipped. A line that
/// does not parse fails the job with the file, the line number and the reason; a missing file
/// fails it when the job opens its sources.
///
/// # Examples
///
/// ```
/// use lute_runtime::{Config, FileSource, WatermarkStrategy, api};
/// let path = std::env::temp_dir().join(format!("lute-doc-{}.csv", std::process::id()));
/// std::fs::write(&path, "1,apple\n2,pear\n").unwrap();
/// let src = FileSource::csv(&path, |f| {
///     let t: i64 = f.first().ok_or("no time")?.parse().map_err(|e| format!("time: {e}"))?;
///     Ok((t, f.get(1).ok_or("no name")?.to_string()))
/// });
/// let out = api::source("fruit", src, WatermarkStrategy::default())
///     .collect()
///     .run(&Config::default())
///     .unwrap();
/// assert_eq!(out, vec![(1, "apple".to_string()), (2, "pear".to_string())]);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub struct FileSource<T> {
    path: Arc<PathBuf>,
    parse: Arc<Parser<T>>,
    reader: Option<std::io::BufReader<std::fs::File>>,
    line: String,
    line_no: u64,
    partition: u64,
    partitions: u64,
    /// Records emitted since `open`.
    emitted: u64,
}

impl<T> std::fmt::Debug for FileSource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("path", &self.path)
            .field("line_no", &self.line_no)
            .finish_non_exhaustive()
    }
}

impl<T> Clone for FileSource<T> {
    fn clone(&self) -> Self {
        Self {
            path: self.path.clone(),
            parse: self.parse.clone(),
            reader: None,
            line: String::new(),
            line_no: 0,
            partition: 0,
            partitions: 1,
            emitted: 0,
        }
    }
}

impl<T> FileSource<T> {
    /// A file whose lines `parse` turns into records.
    pub fn lines(
        path: impl Into<PathBuf>,
        parse: impl Fn(&str) -> Result<(EventTime, T), String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            path: Arc::new(path.into()),
            parse: Arc::new(parse),
            reader: None,
            line: String::new(),
            line_no: 0,
            partition: 0,
            partitions: 1,
            emitted: 0,
        }
    }

    /// A CSV file, one record per line; `parse` gets the fields of a line (see [`csv_fields`]:
    /// RFC 4180 quoting within a line). A line with a malformed quoted field fails the job
    /// with the file, line number and reason, like any line that does not parse. Each line's
    /// fields are collected into a fresh vector (file sources parse text; they are not on the
    /// allocation-free path).
    pub fn csv(
        path: impl Into<PathBuf>,
        parse: impl Fn(&[&str]) -> Result<(EventTime, T), String> + Send + Sync + 'static,
    ) -> Self {
        Self::lines(path, move |line| {
            let owned = csv_fields(line)?;
            let fields: Vec<&str> = owned.iter().map(AsRef::as_ref).collect();
            parse(&fields)
        })
    }

    /// A file of JSON objects, one per line, deserialized into `T`; `time` gives a record's
    /// event time.
    pub fn json_lines(
        path: impl Into<PathBuf>,
        time: impl Fn(&T) -> EventTime + Send + Sync + 'static,
    ) -> Self
    where
        T: serde::de::DeserializeOwned,
    {
        Self::lines(path, move |line| {
            let x: T = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
            Ok((time(&x), x))
        })
    }
}

impl<T: Send + 'static> Source for FileSource<T> {
    type Item = T;

    fn open(&mut self, partition: usize, partitions: usize) -> Result<(), OperatorError> {
        let f = std::fs::File::open(&*self.path)
            .map_err(|e| OperatorError::new(format!("cannot open {}: {e}", self.path.display())))?;
        self.reader = Some(std::io::BufReader::new(f));
        self.partition = partition as u64;
        self.partitions = partitions as u64;
        self.line_no = 0;
        self.emitted = 0;
        Ok(())
    }

    fn position(&self) -> u64 {
        self.emitted
    }

    fn seek(&mut self, position: u64) -> Result<(), StateError> {
        // Re-reads the partition from the start, parsing and dropping `position` records (a
        // line that does not parse fails here as it would in `fill`).
        self.open(self.partition as usize, self.partitions as usize)
            .map_err(|e| StateError::Seek {
                position,
                reason: e.to_string(),
            })?;
        let mut left = position;
        while left > 0 {
            let mut skipped = 0u64;
            let status = self
                .fill(usize::try_from(left).unwrap_or(usize::MAX), &mut |_, _| {
                    skipped += 1;
                    Ok(())
                })
                .map_err(|e| StateError::Seek {
                    position,
                    reason: e.to_string(),
                })?;
            left -= skipped.min(left);
            if status == SourceStatus::Done && left > 0 {
                return Err(StateError::Seek {
                    position,
                    reason: format!("{} has fewer records", self.path.display()),
                });
            }
        }
        Ok(())
    }

    fn fill<O>(&mut self, max: usize, out: &mut O) -> Result<SourceStatus, OperatorError>
    where
        O: FnMut(EventTime, T) -> Result<(), OperatorError>,
    {
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| OperatorError::new("file source used before open"))?;
        let mut n = 0;
        while n < max {
            self.line.clear();
            let read = reader
                .read_line(&mut self.line)
                .map_err(|e| OperatorError::new(format!("reading {}: {e}", self.path.display())))?;
            if read == 0 {
                return Ok(SourceStatus::Done);
            }
            self.line_no += 1;
            if (self.line_no - 1) % self.partitions != self.partition {
                continue;
            }
            let text = self.line.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let (t, x) = (self.parse)(text).map_err(|e| {
                OperatorError::new(format!(
                    "{} line {}: {e}",
                    self.path.display(),
                    self.line_no
                ))
            })?;
            out(t, x)?;
            self.emitted += 1;
            n += 1;
        }
        Ok(SourceStatus::More)
    }
}

#[cfg(test)]
mod vec_source_tests {
    use super::*;

    /// Every element is read by exactly one partition, in order, in runs of the block length
    /// dealt round-robin, whatever the batch sizes of `fill`.
    #[test]
    fn blocks_deal_every_element_once() {
        for len in [0usize, 1, 7, 30] {
            for block in 1..=5usize {
                for parts in 1..=4usize {
                    let data: Vec<(EventTime, usize)> =
                        (0..len).map(|i| (i as EventTime, i)).collect();
                    let src = VecSource::new(data)
                        .blocks(std::num::NonZeroUsize::new(block).expect("non-zero"));
                    let mut seen = vec![0u32; len];
                    for p in 0..parts {
                        let mut s = src.clone();
                        s.open(p, parts).unwrap();
                        let mut got = Vec::new();
                        let mut max = 1;
                        loop {
                            let status = s
                                .fill(max, &mut |_, x| {
                                    got.push(x);
                                    Ok(())
                                })
                                .unwrap();
                            max = max % 3 + 1;
                            if status == SourceStatus::Done {
                                break;
                            }
                        }
                        for &i in &got {
                            assert_eq!((i / block) % parts, p, "element {i} in partition {p}");
                            seen[i] += 1;
                        }
                        assert!(got.windows(2).all(|w| w[0] < w[1]));
                    }
                    assert!(
                        seen.iter().all(|&c| c == 1),
                        "len {len} block {block} parts {parts}: {seen:?}"
                    );
                }
            }
        }
        // A block too large to address: partition 0 reads everything, the others nothing
        // (no wrap-around into partition 0's data).
        let src = VecSource::new((0..5).map(|i| (i, i)).collect())
            .blocks(std::num::NonZeroUsize::new(1 << 63).expect("non-zero"));
        for (p, want) in [(0, 5), (1, 0), (2, 0)] {
            let mut s = src.clone();
            s.open(p, 3).unwrap();
            let mut n = 0;
            s.fill(100, &mut |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(n, want, "partition {p}");
        }
    }
}
