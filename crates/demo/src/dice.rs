//! The one source of randomness: a ChaCha generator seeded from the demo seed, with the few
//! distributions the generator needs (no floating-point state outside this stream, so the same
//! seed always draws the same history).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;

pub(crate) struct Dice {
    rng: ChaCha12Rng,
}

impl Dice {
    pub(crate) fn new(seed: u64) -> Self {
        Dice { rng: ChaCha12Rng::seed_from_u64(seed) }
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    /// True with probability `probability`.
    pub(crate) fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// Uniform integer in `[low, high]`.
    pub(crate) fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low { low } else { self.rng.random_range(low..=high) }
    }

    /// Uniform index below `length` (which must be positive).
    pub(crate) fn index(&mut self, length: usize) -> usize {
        self.rng.random_range(0..length)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// An index drawn with probability proportional to its weight.
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.unit() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.len() - 1
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal milliseconds with the given median and spread, clamped to `[low, high]`.
    pub(crate) fn log_normal_ms(&mut self, median_ms: f64, sigma: f64, low: i64, high: i64) -> i64 {
        let value = median_ms * (sigma * self.normal()).exp();
        (value as i64).clamp(low, high)
    }

    /// A lowercase hex string of `length` digits (commit shas).
    pub(crate) fn hex(&mut self, length: usize) -> String {
        const DIGITS: &[u8] = b"0123456789abcdef";
        (0..length).map(|_| DIGITS[self.index(16)] as char).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws() {
        let mut first = Dice::new(1);
        let mut second = Dice::new(1);
        for _ in 0..100 {
            assert_eq!(first.unit().to_bits(), second.unit().to_bits());
        }
        assert_ne!(Dice::new(1).hex(16), Dice::new(2).hex(16));
    }

    #[test]
    fn log_normal_respects_its_median_and_bounds() {
        let mut dice = Dice::new(3);
        let mut draws: Vec<i64> = (0..2_001).map(|_| dice.log_normal_ms(1_000.0, 1.0, 10, 100_000)).collect();
        draws.sort_unstable();
        let median = draws[1_000];
        assert!((700..1_400).contains(&median), "median {median}");
        assert!(draws.iter().all(|draw| (10..=100_000).contains(draw)));
    }
}
