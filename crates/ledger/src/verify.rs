//! Verification of RFC 6962 inclusion and consistency proofs, following the algorithms of
//! RFC 9162 §2.1.3.2 and §2.1.4.2.
//!
//! Verification is what protects users from a misbehaving log, so it is deliberately strict:
//! proof lengths must match exactly what the tree sizes require, roots are compared in
//! constant time, and the degenerate size-0 cases follow the transparency-dev/merkle test
//! vectors (see [`verify_consistency`]).

use crate::error::LedgerError;
use crate::hashing::{Hash, empty_root, hashes_equal, node_hash};
use crate::proof::{consistency_ranges, inclusion_ranges};

/// Checks that `proof` proves that `leaf_hash` is the leaf at `index` in the tree of
/// `tree_size` leaves whose root is `root` (RFC 9162 §2.1.3.2).
///
/// Fails with [`LedgerError::InvalidIndex`] if `index >= tree_size` (in particular for the
/// empty tree), [`LedgerError::ProofLength`] if the proof has the wrong number of hashes and
/// [`LedgerError::RootMismatch`] if the recomputed root differs.
///
/// `tree_size` and `root` must come from the same signed checkpoint: for some sizes a proof
/// has the same shape in a slightly larger tree, so the size is only meaningful together with
/// the root it was signed with.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    let expected = inclusion_ranges(index, tree_size)?.len();
    if proof.len() != expected {
        return Err(LedgerError::ProofLength { expected, actual: proof.len() });
    }

    let mut node_index = index;
    let mut last_node = tree_size - 1;
    let mut computed = *leaf_hash;
    for sibling in proof {
        if last_node == 0 {
            // Unreachable after the length check; kept because it is the RFC's own guard.
            return Err(LedgerError::RootMismatch);
        }
        if node_index & 1 == 1 || node_index == last_node {
            computed = node_hash(sibling, &computed);
            // On the right border the node has no right sibling at some levels: skip them.
            while node_index & 1 == 0 && node_index != 0 {
                node_index >>= 1;
                last_node >>= 1;
            }
        } else {
            computed = node_hash(&computed, sibling);
        }
        node_index >>= 1;
        last_node >>= 1;
    }
    if last_node == 0 && hashes_equal(&computed, root) { Ok(()) } else { Err(LedgerError::RootMismatch) }
}

/// Checks that `proof` proves the tree of `from_size` leaves with root `from_root` is a prefix
/// of the tree of `to_size` leaves with root `to_root` (RFC 9162 §2.1.4.2).
///
/// Degenerate sizes, matching the transparency-dev/merkle vectors:
///
/// * `from_size > to_size` fails with [`LedgerError::InvalidSize`].
/// * `from_size == to_size`: the proof must be empty and the roots equal. For size 0 both roots
///   must moreover be [`empty_root`], the only possible root of the empty tree.
/// * `from_size == 0 < to_size` always fails with [`LedgerError::ConsistencyFromEmptyTree`]:
///   the only possible proof is empty and it says nothing about `to_root`, so accepting it
///   would let a caller believe it had checked something. A client with no previous
///   checkpoint has nothing to be consistent with; it should simply adopt the new (signed)
///   checkpoint. [`crate::consistency_proof`] still returns an empty proof for size 0 so that
///   servers can answer such requests uniformly.
pub fn verify_consistency(
    from_size: u64,
    to_size: u64,
    proof: &[Hash],
    from_root: &Hash,
    to_root: &Hash,
) -> Result<(), LedgerError> {
    if from_size > to_size {
        return Err(LedgerError::InvalidSize { from_size, to_size });
    }
    if from_size == to_size {
        if !proof.is_empty() {
            return Err(LedgerError::ProofLength { expected: 0, actual: proof.len() });
        }
        let roots_match = if from_size == 0 {
            let empty = empty_root();
            hashes_equal(from_root, &empty) & hashes_equal(to_root, &empty)
        } else {
            hashes_equal(from_root, to_root)
        };
        return if roots_match { Ok(()) } else { Err(LedgerError::RootMismatch) };
    }
    if from_size == 0 {
        return Err(LedgerError::ConsistencyFromEmptyTree { to_size });
    }

    let expected = consistency_ranges(from_size, to_size)?.len();
    if proof.len() != expected {
        return Err(LedgerError::ProofLength { expected, actual: proof.len() });
    }

    // When the old tree is a perfect subtree its root is the first node of the path, and the
    // RFC omits it from the proof because the verifier already has it.
    let (seed, rest) = if from_size.is_power_of_two() {
        (from_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => {
                return Err(LedgerError::ProofLength { expected, actual: 0 });
            }
        }
    };

    let mut node_index = from_size - 1;
    let mut last_node = to_size - 1;
    while node_index & 1 == 1 {
        node_index >>= 1;
        last_node >>= 1;
    }
    let mut from_computed = *seed;
    let mut to_computed = *seed;
    for node in rest {
        if last_node == 0 {
            // Unreachable after the length check; kept because it is the RFC's own guard.
            return Err(LedgerError::RootMismatch);
        }
        if node_index & 1 == 1 || node_index == last_node {
            from_computed = node_hash(node, &from_computed);
            to_computed = node_hash(node, &to_computed);
            while node_index & 1 == 0 && node_index != 0 {
                node_index >>= 1;
                last_node >>= 1;
            }
        } else {
            to_computed = node_hash(&to_computed, node);
        }
        node_index >>= 1;
        last_node >>= 1;
    }
    // Evaluate both comparisons fully (non-short-circuit `&`) to keep timing uniform.
    let roots_match = hashes_equal(&from_computed, from_root) & hashes_equal(&to_computed, to_root);
    if last_node == 0 && roots_match { Ok(()) } else { Err(LedgerError::RootMismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::leaf_hash;

    #[test]
    fn single_leaf_tree_inclusion() {
        let leaf = leaf_hash(b"only");
        assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
        assert_eq!(
            verify_inclusion(&leaf, 0, 1, &[leaf], &leaf),
            Err(LedgerError::ProofLength { expected: 0, actual: 1 })
        );
        assert!(matches!(verify_inclusion(&leaf, 0, 0, &[], &leaf), Err(LedgerError::InvalidIndex { .. })));
    }

    #[test]
    fn consistency_from_empty_tree_rules() {
        let empty = empty_root();
        let some_root = leaf_hash(b"x");
        assert_eq!(verify_consistency(0, 0, &[], &empty, &empty), Ok(()));
        assert_eq!(verify_consistency(0, 0, &[], &some_root, &some_root), Err(LedgerError::RootMismatch));
        assert_eq!(
            verify_consistency(0, 1, &[], &empty, &some_root),
            Err(LedgerError::ConsistencyFromEmptyTree { to_size: 1 })
        );
        assert!(matches!(verify_consistency(2, 1, &[], &empty, &some_root), Err(LedgerError::InvalidSize { .. })));
    }
}
