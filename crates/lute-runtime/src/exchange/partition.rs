//! Partitioning: which worker a record goes to ([`Partition`]: [`ByKey`] hashing with
//! [`route`], or [`SameWorker`] for a union), and the deterministic [`MixHasher`].

use std::hash::{Hash, Hasher};

/// A fast, well-mixed, deterministic 64-bit hasher (a multiply-rotate fold finished by the
/// MurmurHash3 `fmix64` avalanche), the same in every run and on every machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct MixHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Feeds `bytes` to `f` as little-endian 64-bit words; a short tail is zero-padded and tagged
/// with its length in the top bits (so `[1]` and `[1, 0]` differ). Shared by the hashers.
#[inline]
pub fn words(bytes: &[u8], mut f: impl FnMut(u64)) {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        f(u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        f(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
    }
}

impl Hasher for MixHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        words(bytes, |w| self.write_u64(w));
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(K).rotate_left(29);
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The worker (of `n`) that owns `key`.
#[inline]
pub fn route<K: Hash + ?Sized>(key: &K, n: usize) -> usize {
    let mut h = MixHasher::default();
    key.hash(&mut h);
    // Lemire's multiply-shift range reduction: unbiased enough, no division.
    ((u128::from(h.finish()) * n as u128) >> 64) as usize
}

/// How an exchange routes records: to the worker that owns their key ([`ByKey`]), or to the
/// sending worker itself ([`SameWorker`], used by `union`: no repartitioning).
pub trait Partition<T>: Clone + Send + 'static {
    /// Rings per sending worker when the job has `workers` workers.
    fn fan_out(&self, workers: usize) -> usize;
    /// The ring (of `fan_out`) that `x` goes to.
    fn route(&mut self, x: &T, fan_out: usize) -> usize;
    /// Whether records stay on their worker (one ring, to the same worker).
    fn forward(&self) -> bool {
        false
    }
}

/// Hash partitioning by a key function (see [`route`]).
#[derive(Debug, Clone)]
pub struct ByKey<KF>(pub KF);

impl<T, K: Hash, KF: FnMut(&T) -> K + Clone + Send + 'static> Partition<T> for ByKey<KF> {
    fn fan_out(&self, workers: usize) -> usize {
        workers
    }
    #[inline(always)]
    fn route(&mut self, x: &T, fan_out: usize) -> usize {
        route(&(self.0)(x), fan_out)
    }
}

/// Every record stays on its worker (a `union`: no repartitioning).
#[derive(Debug, Clone, Copy, Default)]
pub struct SameWorker;

impl<T> Partition<T> for SameWorker {
    fn fan_out(&self, _workers: usize) -> usize {
        1
    }
    fn forward(&self) -> bool {
        true
    }
    #[inline(always)]
    fn route(&mut self, _x: &T, _fan_out: usize) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_is_deterministic_and_spreads() {
        let mut counts = [0usize; 4];
        for k in 0u64..4000 {
            let d = route(&k, 4);
            assert_eq!(d, route(&k, 4));
            counts[d] += 1;
        }
        for c in counts {
            assert!((800..1200).contains(&c), "skewed routing: {counts:?}");
        }
        assert_eq!(route("word", 1), 0);
    }
}
