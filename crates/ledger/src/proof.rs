//! Generation of RFC 6962 inclusion and consistency proofs from stored perfect-subtree hashes.
//!
//! Each proof node of RFC 6962 (`PATH` and `SUBPROOF`, §2.1.1 and §2.1.2) is the Merkle Tree
//! Hash of a leaf range `[begin, end)`, and every such range splits into perfect subtrees. The
//! store persists perfect-subtree hashes (reported by [`crate::Frontier::append`]), so proof
//! generation is split into two pure steps with a database read in between:
//!
//! 1. `*_proof_subtrees` lists every [`SubtreeId`] whose hash is needed;
//! 2. `*_proof` assembles the proof from a map holding those hashes.
//!
//! The same range computation gives verifiers the expected proof length.

use std::collections::HashMap;

use crate::error::LedgerError;
use crate::frontier::{SubtreeId, fold_from_right, range_subtrees};
use crate::hashing::{Hash, largest_power_of_two_below};

/// A half-open leaf range `[begin, end)` whose RFC 6962 hash is one proof node.
type LeafRange = (u64, u64);

/// Leaf ranges of the inclusion proof `PATH(index, D[0:tree_size])`, in proof order (the
/// sibling nearest the leaf first).
pub(crate) fn inclusion_ranges(index: u64, tree_size: u64) -> Result<Vec<LeafRange>, LedgerError> {
    if index >= tree_size {
        return Err(LedgerError::InvalidIndex { index, tree_size });
    }
    let (mut begin, mut end) = (0, tree_size);
    let mut ranges = Vec::new();
    // Walk down from the root, recording the sibling of each subtree we descend into; the RFC
    // lists them bottom-up, hence the reverse at the end.
    while end - begin > 1 {
        let split = begin + largest_power_of_two_below(end - begin);
        if index < split {
            ranges.push((split, end));
            end = split;
        } else {
            ranges.push((begin, split));
            begin = split;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// Leaf ranges of the consistency proof `PROOF(from_size, D[0:to_size])`, in proof order.
///
/// Empty when `from_size` is 0 or equals `to_size`: there is nothing to prove in either case
/// (see [`crate::verify_consistency`] for how verification treats size 0).
pub(crate) fn consistency_ranges(from_size: u64, to_size: u64) -> Result<Vec<LeafRange>, LedgerError> {
    if from_size > to_size {
        return Err(LedgerError::InvalidSize { from_size, to_size });
    }
    if from_size == 0 || from_size == to_size {
        return Ok(Vec::new());
    }
    let (mut begin, mut end) = (0, to_size);
    // `old_tree_is_whole_subtree` is the RFC's `b`: true while the current subtree is a prefix
    // subtree the verifier already knows the hash of (it is the old root).
    let mut old_tree_is_whole_subtree = true;
    let mut ranges = Vec::new();
    // Walk down SUBPROOF(m, D[begin:end], b) with m kept as the absolute boundary `from_size`.
    while from_size != end {
        let split = begin + largest_power_of_two_below(end - begin);
        if from_size <= split {
            ranges.push((split, end));
            end = split;
        } else {
            ranges.push((begin, split));
            begin = split;
            old_tree_is_whole_subtree = false;
        }
    }
    if !old_tree_is_whole_subtree {
        ranges.push((begin, end));
    }
    ranges.reverse();
    Ok(ranges)
}

/// Every perfect subtree needed for the given proof ranges, in proof order.
fn subtrees_of(ranges: &[LeafRange]) -> Vec<SubtreeId> {
    ranges.iter().flat_map(|&(begin, end)| range_subtrees(begin, end)).collect()
}

/// Hashes each proof range from the supplied perfect-subtree hashes.
fn assemble(ranges: &[LeafRange], subtree_hashes: &HashMap<SubtreeId, Hash>) -> Result<Vec<Hash>, LedgerError> {
    ranges
        .iter()
        .map(|&(begin, end)| {
            let hashes = range_subtrees(begin, end)
                .into_iter()
                .map(|id| subtree_hashes.get(&id).ok_or(LedgerError::MissingSubtree(id)))
                .collect::<Result<Vec<&Hash>, LedgerError>>()?;
            Ok(fold_from_right(hashes.into_iter())
                .expect("proof ranges are never empty, so they have at least one subtree"))
        })
        .collect()
}

/// The perfect subtrees whose hashes [`inclusion_proof`] needs for leaf `index` in a tree of
/// `tree_size` leaves.
pub fn inclusion_proof_subtrees(index: u64, tree_size: u64) -> Result<Vec<SubtreeId>, LedgerError> {
    Ok(subtrees_of(&inclusion_ranges(index, tree_size)?))
}

/// The RFC 6962 inclusion proof of leaf `index` in the tree of `tree_size` leaves, assembled
/// from perfect-subtree hashes (at least those listed by [`inclusion_proof_subtrees`]).
pub fn inclusion_proof(
    index: u64,
    tree_size: u64,
    subtree_hashes: &HashMap<SubtreeId, Hash>,
) -> Result<Vec<Hash>, LedgerError> {
    assemble(&inclusion_ranges(index, tree_size)?, subtree_hashes)
}

/// The perfect subtrees whose hashes [`consistency_proof`] needs to prove that the tree of
/// `from_size` leaves is a prefix of the tree of `to_size` leaves.
pub fn consistency_proof_subtrees(from_size: u64, to_size: u64) -> Result<Vec<SubtreeId>, LedgerError> {
    Ok(subtrees_of(&consistency_ranges(from_size, to_size)?))
}

/// The RFC 6962 consistency proof between tree sizes `from_size <= to_size`, assembled from
/// perfect-subtree hashes (at least those listed by [`consistency_proof_subtrees`]).
///
/// The proof is empty when `from_size` is 0 or equals `to_size`.
pub fn consistency_proof(
    from_size: u64,
    to_size: u64,
    subtree_hashes: &HashMap<SubtreeId, Hash>,
) -> Result<Vec<Hash>, LedgerError> {
    assemble(&consistency_ranges(from_size, to_size)?, subtree_hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inclusion_ranges_follow_rfc_example() {
        // RFC 6962 §2.1.3: the audit path for d3 in the 7-leaf tree is [c, g, l] where
        // c = leaf 2, g = [0, 2), l = [4, 7).
        assert_eq!(inclusion_ranges(3, 7), Ok(vec![(2, 3), (0, 2), (4, 7)]));
        // The audit path for d6 is [i, k] where i = [4, 6), k = [0, 4).
        assert_eq!(inclusion_ranges(6, 7), Ok(vec![(4, 6), (0, 4)]));
        assert_eq!(inclusion_ranges(0, 1), Ok(vec![]));
        assert!(inclusion_ranges(1, 1).is_err());
    }

    #[test]
    fn consistency_ranges_follow_rfc_example() {
        // RFC 6962 §2.1.3: PROOF(3, D[7]) = [c, d, g, l], PROOF(4, D[7]) = [l],
        // PROOF(6, D[7]) = [i, j, k].
        assert_eq!(consistency_ranges(3, 7), Ok(vec![(2, 3), (3, 4), (0, 2), (4, 7)]));
        assert_eq!(consistency_ranges(4, 7), Ok(vec![(4, 7)]));
        assert_eq!(consistency_ranges(6, 7), Ok(vec![(4, 6), (6, 7), (0, 4)]));
        assert_eq!(consistency_ranges(0, 7), Ok(vec![]));
        assert_eq!(consistency_ranges(7, 7), Ok(vec![]));
        assert!(consistency_ranges(8, 7).is_err());
    }

    #[test]
    fn missing_subtree_is_reported() {
        let error = inclusion_proof(0, 2, &HashMap::new());
        assert_eq!(error, Err(LedgerError::MissingSubtree(SubtreeId { level: 0, index: 1 })));
    }

    #[test]
    fn ranges_at_extreme_sizes_do_not_overflow() {
        // The last leaf of a tree of 2^64 - 1 leaves is the lone single-leaf subtree of the
        // decomposition; its path has one left sibling for each of the other 63 subtrees.
        assert_eq!(inclusion_ranges(u64::MAX - 1, u64::MAX).map(|ranges| ranges.len()), Ok(63));
        assert_eq!(inclusion_ranges(0, u64::MAX).map(|ranges| ranges.len()), Ok(64));
        assert!(consistency_ranges(u64::MAX - 1, u64::MAX).is_ok());
        assert!(consistency_subtrees_fit(1, u64::MAX));
    }

    fn consistency_subtrees_fit(from_size: u64, to_size: u64) -> bool {
        consistency_proof_subtrees(from_size, to_size)
            .map(|subtrees| subtrees.iter().all(|id| id.level < 64))
            .unwrap_or(false)
    }
}
