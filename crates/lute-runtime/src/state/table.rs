//! The keyed state table: an open-addressing hash index (linear probing, load at most 1/2,
//! backward-shift deletion without tombstones, deterministic [`StateHasher`]) over a dense
//! vector of `(key, value)` entries.
//!
//! Entries are dense (`0..len`), so an operator can keep its own lists of entry indices (the
//! window operator's active keys); [`KeyedTable::swap_remove`] says which entry moved into the
//! hole so such lists can be re-pointed. Lookups are one hash, one probe run and a key compare
//! that loads the entry's first cache line (key and value side by side).

use std::hash::{Hash, Hasher};

/// The hasher of keyed state: per 64-bit word, the running hash folded onto itself
/// (`h ^ h >> 32`), XORed with the word, then one multiply by the golden-ratio constant
/// (Fibonacci hashing). The table takes a hash's *top* bits as the home slot; a multiply
/// carries every input bit upwards, and the fold carries the previous words' high bits down
/// before the next multiply, so words that differ only in their high bits cannot cancel (as
/// they would with the multiply alone: `(0, 0)` and `(1 << 56, 0x15 << 56)`). For a one-word
/// key the fold is of the constant start value and compiles away: one `imul`. Cheaper than
/// [`crate::exchange::partition::MixHasher`] (whose full avalanche routing needs, since routing
/// must also be stable across machines); deterministic, so iteration-independent behaviour is
/// the same in every run.
#[derive(Debug, Clone, Copy, Default)]
pub struct StateHasher(u64);

impl Hasher for StateHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        crate::exchange::partition::words(bytes, |w| self.write_u64(w));
    }

    #[inline(always)]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ (self.0 >> 32) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    #[inline(always)]
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    #[inline(always)]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A key's hash for the table.
#[inline(always)]
pub fn hash_of<K: Hash + ?Sized>(k: &K) -> u64 {
    let mut h = StateHasher::default();
    k.hash(&mut h);
    h.finish()
}

/// Keyed entries with a hash index (see the module docs).
#[derive(Debug, Clone)]
pub struct KeyedTable<K, V> {
    /// Open-addressing index into `entries`: `0` empty, `i + 1` for `entries[i]`; its length is
    /// a power of two, at least twice `entries.len()`.
    index: Vec<u32>,
    /// `64 − log2(index.len())`: a hash's top bits pick its home slot.
    shift: u32,
    entries: Vec<(K, V)>,
}

impl<K, V> Default for KeyedTable<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> KeyedTable<K, V> {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            // Never empty (so a lookup needs no emptiness check): two free slots.
            index: vec![0; 2],
            shift: 63,
            entries: Vec::new(),
        }
    }

    /// Entries.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `i`.
    #[inline(always)]
    pub fn entry(&self, i: usize) -> &(K, V) {
        &self.entries[i]
    }

    /// Entry `i`, its value mutable.
    #[inline(always)]
    pub fn entry_mut(&mut self, i: usize) -> (&K, &mut V) {
        let (k, v) = &mut self.entries[i];
        (k, v)
    }

    /// Every entry, in index order.
    pub fn entries(&self) -> &[(K, V)] {
        &self.entries
    }

    /// The hash index's slots (`0` empty, `i + 1` for entry `i`): for tests and accounting.
    pub fn slots(&self) -> &[u32] {
        &self.index
    }

    /// The slot where probing for a key with hash `h` starts (the hash's top bits).
    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (h >> self.shift) as usize
    }
}

impl<K: Hash + Eq, V> KeyedTable<K, V> {
    /// The entry index of `k` (whose [`hash_of`] is `h`), if present.
    #[inline(always)]
    pub fn find(&self, k: &K, h: u64) -> Option<usize> {
        let mask = self.index.len() - 1;
        let mut at = self.home(h);
        loop {
            match self.index[at] {
                0 => return None,
                e if self.entries[e as usize - 1].0 == *k => return Some(e as usize - 1),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Adds `k` (absent; its hash `h`) with `v`; returns its entry index. Allocates when the
    /// entries or the index grow.
    pub fn insert_new(&mut self, k: K, h: u64, v: V) -> usize {
        debug_assert!(self.find(&k, h).is_none());
        let i = self.entries.len();
        self.entries.push((k, v));
        if 2 * self.entries.len() > self.index.len() {
            let n = (4 * self.entries.len()).next_power_of_two().max(16);
            self.index = vec![0; n];
            self.shift = 64 - n.trailing_zeros();
            for j in 0..self.entries.len() {
                let hj = hash_of(&self.entries[j].0);
                self.place(hj, j);
            }
        } else {
            self.place(h, i);
        }
        i
    }

    /// Removes entry `i`; the last entry moves into its place (when `i` was not the last).
    pub fn swap_remove(&mut self, i: usize) -> (K, V) {
        let at = self.slot_of(i);
        self.delete_slot(at);
        let last = self.entries.len() - 1;
        if i != last {
            let at = self.slot_of(last);
            self.index[at] = i as u32 + 1;
        }
        self.entries.swap_remove(i)
    }

    fn place(&mut self, h: u64, i: usize) {
        let mask = self.index.len() - 1;
        let mut at = self.home(h);
        while self.index[at] != 0 {
            at = (at + 1) & mask;
        }
        self.index[at] = i as u32 + 1;
    }

    /// The index slot holding entry `i`.
    fn slot_of(&self, i: usize) -> usize {
        let mask = self.index.len() - 1;
        let mut at = self.home(hash_of(&self.entries[i].0));
        while self.index[at] as usize != i + 1 {
            at = (at + 1) & mask;
        }
        at
    }

    /// Empties index slot `at`, shifting later entries of its probe run back so that every key
    /// stays reachable from its home slot (linear probing without tombstones).
    fn delete_slot(&mut self, mut at: usize) {
        let mask = self.index.len() - 1;
        let mut j = at;
        loop {
            j = (j + 1) & mask;
            let e = self.index[j];
            if e == 0 {
                break;
            }
            let home = self.home(hash_of(&self.entries[e as usize - 1].0));
            // The entry stays if its home lies cyclically in (at, j]; otherwise it fills the
            // hole, which moves to `j`.
            let stays = if at <= j {
                at < home && home <= j
            } else {
                at < home || home <= j
            };
            if !stays {
                self.index[at] = e;
                at = j;
            }
        }
        self.index[at] = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two-word keys that differ only in their high bits do not collide (with a multiply per
    /// word and no fold, `(a << 56, b << 56)` gave 256 distinct hashes for 65 536 keys).
    #[test]
    fn state_hasher_mixes_high_bits_across_words() {
        use std::hash::Hasher as _;
        let h = |k: (u64, u64)| {
            let mut s = StateHasher::default();
            k.hash(&mut s);
            s.finish()
        };
        let mut distinct = std::collections::HashSet::new();
        for a in 0..256u64 {
            for b in 0..256u64 {
                distinct.insert(h((a << 56, b << 56)));
            }
        }
        assert_eq!(distinct.len(), 65_536);
        assert_ne!(h((0, 0)), h((1 << 56, 0x15 << 56)));
    }
}
