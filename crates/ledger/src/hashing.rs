//! RFC 6962 §2.1 hashing: leaf and interior node hashes with domain separation, the empty-tree
//! root, the naive recursive Merkle Tree Hash used as a reference, and constant-time comparison.
//!
//! Everything else in the crate is built on these few functions, so they are kept tiny and are
//! checked against the transparency-dev known answers in the tests.

use sha2::{Digest, Sha256};

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Prefix of leaf hashes; distinct from [`NODE_PREFIX`] so that a leaf can never be confused
/// with an interior node (second-preimage resistance, RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Prefix of interior node hashes.
const NODE_PREFIX: u8 = 0x01;

/// Hash of a log entry: `SHA-256(0x00 || leaf_bytes)`.
pub fn leaf_hash(leaf_bytes: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(leaf_bytes);
    hasher.finalize().into()
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Root of the empty tree: `SHA-256("")` (RFC 6962 `MTH({})`).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Naive recursive RFC 6962 Merkle Tree Hash of a list of leaf hashes.
///
/// This follows the RFC definition literally (split at the largest power of two smaller than
/// the length) and is the reference the incremental [`crate::Frontier`] is tested against. It
/// is also convenient for verifiers that hold a whole, small tree in memory.
pub fn root_from_leaf_hashes(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes.len() {
        0 => empty_root(),
        1 => leaf_hashes[0],
        length => {
            let split = largest_power_of_two_below(length as u64) as usize;
            let left = root_from_leaf_hashes(&leaf_hashes[..split]);
            let right = root_from_leaf_hashes(&leaf_hashes[split..]);
            node_hash(&left, &right)
        }
    }
}

/// The largest power of two strictly smaller than `value`; `value` must be at least 2.
///
/// This is the split point `k` of RFC 6962 §2.1 for a (sub)tree of `value` leaves.
pub(crate) fn largest_power_of_two_below(value: u64) -> u64 {
    debug_assert!(value >= 2);
    1 << (63 - (value - 1).leading_zeros())
}

/// Compares two hashes without an early exit, so that the time taken does not reveal how many
/// leading bytes of a forged root were right.
pub(crate) fn hashes_equal(left: &Hash, right: &Hash) -> bool {
    let difference = left.iter().zip(right.iter()).fold(0u8, |accumulated, (a, b)| accumulated | (a ^ b));
    // black_box keeps the optimiser from turning the fold back into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_power_of_two_below_matches_definition() {
        for value in 2u64..1000 {
            let mut expected = 1;
            while expected * 2 < value {
                expected *= 2;
            }
            assert_eq!(largest_power_of_two_below(value), expected, "value {value}");
        }
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
        assert_eq!(largest_power_of_two_below(1 << 63), 1 << 62);
    }

    #[test]
    fn hashes_equal_detects_every_byte() {
        let base = [7u8; 32];
        assert!(hashes_equal(&base, &base));
        for position in 0..32 {
            let mut other = base;
            other[position] ^= 0x80;
            assert!(!hashes_equal(&base, &other));
        }
    }
}
