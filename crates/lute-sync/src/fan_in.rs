//! Fan-in: one consumer that owns one SPSC ring per producer and merges them in an order the
//! caller defines, so the merge order can be deterministic.
//!
//! - [`FanIn::try_pop_round_robin`]: strict round robin. Input `i` is read only when its turn
//!   comes; if it is empty the call returns `Empty` (it waits for that input) instead of
//!   reading another one. The output sequence depends only on the inputs' contents.
//! - [`FanIn::try_pop_by_key`]: smallest key first (e.g. an event timestamp), ties broken by
//!   the lowest input index. A value is released only when every live input has a value at its
//!   head, so, for inputs that are each sorted by key, the output is the deterministic sorted
//!   merge whatever the thread timing.
//! - [`FanIn::try_pop_any`]: the first input with data, scanning round robin; lowest latency,
//!   order depends on timing.
//!
//! An input whose producer was dropped and which is drained is skipped from then on. When all
//! inputs are finished, pops return [`PopError::Disconnected`].
//!
//! All rings share one wake-up notifier, so the blocking pops ([`FanIn::pop_round_robin`],
//! [`FanIn::pop_by_key`]) park once and are woken by any producer's notifying push or drop.
//! No atomics of its own: the orders are those of [`crate::spsc`].
//!
//! # Examples
//!
//! ```
//! use lute_sync::fan_in;
//! let (mut txs, mut merged) = fan_in::channels::<u64>(2, 8).unwrap();
//! txs[0].push_slice(&[1, 4, 6]);
//! txs[1].push_slice(&[2, 3]);
//! drop(txs);
//! let mut out = Vec::new();
//! while let Ok((_, v)) = merged.try_pop_by_key(|v| *v) {
//!     out.push(v);
//! }
//! assert_eq!(out, [1, 2, 3, 4, 6]);
//! ```

use crate::CapacityError;
use crate::error::PopError;
use crate::primitive::Arc;
use crate::spsc::{self, Consumer, Producer};
use crate::wait::{Notifier, WaitStrategy};

/// Creates `producers` SPSC rings of `capacity` slots each and a [`FanIn`] reading them all.
///
/// # Errors
/// [`CapacityError`] as for [`spsc::channel`]; [`CapacityError::Zero`] for 0 producers.
pub fn channels<T>(
    producers: usize,
    capacity: usize,
) -> Result<(Vec<Producer<T>>, FanIn<T>), CapacityError> {
    if producers == 0 {
        return Err(CapacityError::Zero);
    }
    let notifier = Arc::new(Notifier::new());
    let mut txs = Vec::with_capacity(producers);
    let mut rxs = Vec::with_capacity(producers);
    for _ in 0..producers {
        // Release every pop: the merge stops popping a non-empty input while it waits for
        // another one (the order is the data's), so slots held back by lazy release could
        // leave that input's producer facing a full ring for as long as the merge waits
        // (a deadlock when it waits on that producer's other input).
        let (tx, rx) = spsc::channel_with_notifier(capacity, 1, notifier.clone())?;
        txs.push(tx);
        rxs.push(rx);
    }
    let finished = vec![false; producers];
    Ok((
        txs,
        FanIn {
            inputs: rxs,
            finished,
            next: 0,
            notifier,
        },
    ))
}

/// The merging consumer of several SPSC rings (see the module docs).
#[derive(Debug)]
pub struct FanIn<T> {
    inputs: Vec<Consumer<T>>,
    /// `finished[i]`: input `i`'s producer is gone and its ring is drained.
    finished: Vec<bool>,
    /// Round-robin cursor.
    next: usize,
    notifier: Arc<Notifier>,
}

impl<T> FanIn<T> {
    /// Number of inputs (finished ones included).
    pub fn inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Whether input `i` is finished (producer gone, ring drained). Updates the cached state.
    fn check_finished(&mut self, i: usize) -> bool {
        if !self.finished[i] {
            let c = &mut self.inputs[i];
            // `available` re-reads `tail` when it looks empty, and is called again after the
            // Acquire load in `is_abandoned`, so a last push before the drop is not missed.
            self.finished[i] = c.available() == 0 && c.is_abandoned() && c.available() == 0;
        }
        self.finished[i]
    }

    fn all_finished(&self) -> bool {
        self.finished.iter().all(|&f| f)
    }

    /// Strict round robin (deterministic); returns the input index with the value.
    ///
    /// # Errors
    /// `Empty` if the input whose turn it is has nothing yet; `Disconnected` when every input
    /// is finished.
    pub fn try_pop_round_robin(&mut self) -> Result<(usize, T), PopError> {
        for _ in 0..self.inputs.len() {
            let i = self.next;
            match self.inputs[i].try_pop() {
                Ok(v) => {
                    self.next = (i + 1) % self.inputs.len();
                    return Ok((i, v));
                }
                Err(PopError::Empty) => return Err(PopError::Empty),
                Err(PopError::Disconnected) => {
                    self.finished[i] = true;
                    self.next = (i + 1) % self.inputs.len();
                }
            }
        }
        Err(PopError::Disconnected)
    }

    /// Smallest key first among the heads of all live inputs (deterministic for sorted
    /// inputs); ties go to the lowest input index.
    ///
    /// # Errors
    /// `Empty` if some live input has no head yet; `Disconnected` when all are finished.
    pub fn try_pop_by_key<K: Ord>(
        &mut self,
        mut key: impl FnMut(&T) -> K,
    ) -> Result<(usize, T), PopError> {
        let mut best: Option<(K, usize)> = None;
        for i in 0..self.inputs.len() {
            if self.finished[i] {
                continue;
            }
            match self.inputs[i].peek() {
                Some(v) => {
                    let k = key(v);
                    if best.as_ref().is_none_or(|(bk, _)| k < *bk) {
                        best = Some((k, i));
                    }
                }
                None => {
                    if !self.check_finished(i) {
                        return Err(PopError::Empty);
                    }
                }
            }
        }
        match best {
            Some((_, i)) => {
                let v = self.inputs[i]
                    .try_pop()
                    .expect("peeked value is still there: only this consumer pops");
                Ok((i, v))
            }
            None => Err(PopError::Disconnected),
        }
    }

    /// The first input with data, scanning round robin from the cursor (order depends on
    /// timing; use for latency when determinism is not needed).
    ///
    /// # Errors
    /// `Empty` if no input has data; `Disconnected` when all are finished.
    pub fn try_pop_any(&mut self) -> Result<(usize, T), PopError> {
        let n = self.inputs.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if self.finished[i] {
                continue;
            }
            match self.inputs[i].try_pop() {
                Ok(v) => {
                    self.next = (i + 1) % n;
                    return Ok((i, v));
                }
                Err(PopError::Disconnected) => self.finished[i] = true,
                Err(PopError::Empty) => {}
            }
        }
        if self.all_finished() {
            Err(PopError::Disconnected)
        } else {
            Err(PopError::Empty)
        }
    }

    /// Blocking [`FanIn::try_pop_round_robin`].
    ///
    /// # Errors
    /// `Disconnected` when all inputs are finished.
    pub fn pop_round_robin(&mut self, wait: WaitStrategy) -> Result<(usize, T), PopError> {
        let notifier = self.notifier.clone();
        let r = notifier.wait_until(wait, || match self.try_pop_round_robin() {
            Err(PopError::Empty) => None,
            r => Some(r),
        });
        self.wake_after_pop(&r);
        r
    }

    /// Blocking [`FanIn::try_pop_by_key`].
    ///
    /// # Errors
    /// `Disconnected` when all inputs are finished.
    pub fn pop_by_key<K: Ord>(
        &mut self,
        wait: WaitStrategy,
        mut key: impl FnMut(&T) -> K,
    ) -> Result<(usize, T), PopError> {
        let notifier = self.notifier.clone();
        let r = notifier.wait_until(wait, || match self.try_pop_by_key(&mut key) {
            Err(PopError::Empty) => None,
            r => Some(r),
        });
        self.wake_after_pop(&r);
        r
    }

    fn wake_after_pop(&self, r: &Result<(usize, T), PopError>) {
        if let Ok((i, _)) = r {
            self.inputs[*i].wake_producer();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn zero_producers_is_an_error() {
        assert_eq!(channels::<u8>(0, 4).err(), Some(CapacityError::Zero));
        assert_eq!(
            channels::<u8>(2, 5).err(),
            Some(CapacityError::NotPowerOfTwo(5))
        );
    }

    #[test]
    fn by_key_waits_for_every_live_input() {
        let (mut txs, mut m) = channels::<u64>(2, 4).unwrap();
        txs[0].try_push(5).unwrap();
        assert_eq!(m.try_pop_by_key(|v| *v), Err(PopError::Empty));
        txs[1].try_push(7).unwrap();
        assert_eq!(m.try_pop_by_key(|v| *v), Ok((0, 5)));
        assert_eq!(m.try_pop_by_key(|v| *v), Err(PopError::Empty));
        txs.remove(0); // input 0 finished
        assert_eq!(m.try_pop_by_key(|v| *v), Ok((1, 7)));
        drop(txs);
        assert_eq!(m.try_pop_by_key(|v| *v), Err(PopError::Disconnected));
    }

    #[test]
    fn ties_go_to_lowest_input() {
        let (mut txs, mut m) = channels::<(u64, char)>(3, 4).unwrap();
        txs[2].try_push((1, 'c')).unwrap();
        txs[1].try_push((1, 'b')).unwrap();
        txs[0].try_push((1, 'a')).unwrap();
        drop(txs);
        let out: Vec<char> = std::iter::from_fn(|| m.try_pop_by_key(|v| v.0).ok())
            .map(|(_, v)| v.1)
            .collect();
        assert_eq!(out, ['a', 'b', 'c']);
    }

    /// A producer whose ring the merge stopped popping (while it waits on another input) sees
    /// every slot the merge popped: it can go on, and so can the merge.
    #[test]
    fn a_paused_input_returns_its_popped_slots() {
        let (mut txs, mut m) = channels::<u64>(2, 64).unwrap();
        for v in 0..64 {
            txs[0].try_push(v).unwrap();
        }
        assert_eq!(m.try_pop_round_robin(), Ok((0, 0)));
        // The merge now waits for input 1; input 0's producer must find the freed slot.
        assert_eq!(m.try_pop_round_robin(), Err(PopError::Empty));
        assert_eq!(txs[0].try_push(64), Ok(()));
        txs[1].try_push(100).unwrap();
        assert_eq!(m.try_pop_round_robin(), Ok((1, 100)));
        assert_eq!(m.try_pop_round_robin(), Ok((0, 1)));
    }

    #[test]
    fn round_robin_is_strict() {
        let (mut txs, mut m) = channels::<u32>(2, 4).unwrap();
        txs[0].push_slice(&[1, 2]);
        assert_eq!(m.try_pop_round_robin(), Ok((0, 1)));
        // Input 1's turn: it is empty, so input 0's second value must wait.
        assert_eq!(m.try_pop_round_robin(), Err(PopError::Empty));
        txs[1].try_push(10).unwrap();
        assert_eq!(m.try_pop_round_robin(), Ok((1, 10)));
        assert_eq!(m.try_pop_round_robin(), Ok((0, 2)));
        drop(txs);
        assert_eq!(m.try_pop_round_robin(), Err(PopError::Disconnected));
        assert_eq!(m.try_pop_any(), Err(PopError::Disconnected));
    }

    #[test]
    fn threaded_merge_is_deterministic() {
        let per: u64 = if cfg!(miri) { 50 } else { 20_000 };
        for _run in 0..if cfg!(miri) { 1 } else { 3 } {
            let (txs, mut m) = channels::<u64>(3, 8).unwrap();
            let handles: Vec<_> = txs
                .into_iter()
                .enumerate()
                .map(|(p, mut tx)| {
                    std::thread::spawn(move || {
                        for i in 0..per {
                            // Interleaved, each input sorted: p, p+3, p+6, ...
                            tx.push(i * 3 + p as u64, WaitStrategy::default()).unwrap();
                        }
                    })
                })
                .collect();
            let mut expect = 0;
            while let Ok((_, v)) = m.pop_by_key(WaitStrategy::default(), |v| *v) {
                assert_eq!(v, expect);
                expect += 1;
            }
            assert_eq!(expect, per * 3);
            for h in handles {
                h.join().unwrap();
            }
        }
    }
}
