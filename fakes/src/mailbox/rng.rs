//! Seeding and sampling helpers.
//!
//! Only integer sampling is used on purpose: floating point transcendental
//! functions (`ln`, `powf`) may differ in the last bit between platforms'
//! math libraries, which would break byte-identical output. ChaCha8 is used
//! because `rand_chacha` guarantees a portable, versioned stream, unlike
//! `StdRng` whose algorithm may change between releases.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator type used everywhere in the crate.
pub(crate) type Gen = ChaCha8Rng;

/// Domain separation tags so that independent streams never share a seed.
#[derive(Clone, Copy)]
pub(crate) enum Stream {
    World = 1,
    Plan = 2,
    Thread = 3,
    Content = 4,
}

/// SplitMix64 finaliser: a bijective 64-bit mixer, cheap and well distributed.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a small tuple of integers; used for stable identifiers.
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x5EED_F00D_u64, |acc, &p| mix64(acc ^ mix64(p)))
}

/// A generator for one independent stream, e.g. one thread or one message.
/// Random access works because every stream can be recreated from its key.
pub(crate) fn stream(seed: u64, kind: Stream, a: u64, b: u64) -> Gen {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_exact_mut(8).enumerate() {
        let word = hash(&[seed, kind as u64, a, b, i as u64]);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    Gen::from_seed(bytes)
}

/// True with probability `per_mille / 1000`.
pub(crate) fn chance(rng: &mut Gen, per_mille: u32) -> bool {
    rng.random_range(0..1000) < per_mille
}

/// Uniformly picks one element of a non-empty slice.
pub(crate) fn pick<T: Copy>(rng: &mut Gen, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Picks an index according to integer weights.
pub(crate) fn weighted(rng: &mut Gen, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut roll = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if roll < w {
            return i;
        }
        roll -= w;
    }
    weights.len() - 1
}

/// Cumulative integer weights for fast repeated skewed sampling (popular
/// contacts, big companies) via binary search.
pub(crate) struct Cumulative {
    totals: Vec<u64>,
}

impl Cumulative {
    /// Zipf-like weights `1 / (rank + offset)` in integer arithmetic.
    pub(crate) fn zipf(n: usize, offset: u64) -> Self {
        let mut acc = 0u64;
        let totals = (0..n as u64)
            .map(|rank| {
                acc += 1_000_000 / (rank + offset);
                acc
            })
            .collect();
        Cumulative { totals }
    }

    pub(crate) fn sample(&self, rng: &mut Gen) -> usize {
        let roll = rng.random_range(0..*self.totals.last().expect("non-empty weights"));
        self.totals.partition_point(|&t| t <= roll)
    }
}
