//! Property tests: the incremental frontier agrees with the naive RFC 6962 definition, every
//! generated proof verifies, and every tampered proof (bit flip, wrong index, wrong size) is
//! rejected.

use std::collections::HashMap;

use changegate_ledger::{
    Frontier, Hash, LedgerError, SubtreeId, consistency_proof, consistency_proof_subtrees, empty_root, inclusion_proof,
    inclusion_proof_subtrees, leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

/// Distinct leaf hashes (distinct so that no two subtrees of a tree share a hash by accident).
fn leaves(count: usize, seed: u64) -> Vec<Hash> {
    (0..count as u64)
        .map(|index| {
            let mut bytes = seed.to_be_bytes().to_vec();
            bytes.extend_from_slice(&index.to_be_bytes());
            leaf_hash(&bytes)
        })
        .collect()
}

/// A tree of the given leaves: every perfect-subtree hash (as a store would persist them from
/// `Frontier::append`) and the root at every size.
struct Tree {
    subtrees: HashMap<SubtreeId, Hash>,
    roots: Vec<Hash>,
}

fn build(leaf_hashes: &[Hash]) -> Tree {
    let mut frontier = Frontier::new();
    let mut subtrees = HashMap::new();
    let mut roots = vec![frontier.root()];
    for leaf in leaf_hashes {
        subtrees.extend(frontier.append(*leaf));
        roots.push(frontier.root());
    }
    Tree { subtrees, roots }
}

fn flip_bit(proof: &[Hash], bit: usize) -> Vec<Hash> {
    let mut tampered = proof.to_vec();
    let hash_index = bit / 256 % tampered.len();
    tampered[hash_index][bit / 8 % 32] ^= 1 << (bit % 8);
    tampered
}

proptest! {
    #[test]
    fn frontier_root_equals_naive_root(count in 0usize..300, seed in any::<u64>()) {
        let leaf_hashes = leaves(count, seed);
        let mut frontier = Frontier::new();
        prop_assert_eq!(frontier.root(), empty_root());
        for (size, leaf) in leaf_hashes.iter().enumerate() {
            frontier.append(*leaf);
            prop_assert_eq!(frontier.size(), size as u64 + 1);
            prop_assert_eq!(frontier.root(), root_from_leaf_hashes(&leaf_hashes[..=size]));
        }
    }

    #[test]
    fn frontier_bytes_round_trip(count in 0usize..300, seed in any::<u64>()) {
        let mut frontier = Frontier::new();
        for leaf in leaves(count, seed) {
            frontier.append(leaf);
        }
        let bytes = frontier.to_bytes();
        prop_assert_eq!(bytes.len(), 8 + 32 * (count as u64).count_ones() as usize);
        let parsed = Frontier::from_bytes(&bytes);
        prop_assert_eq!(parsed.as_ref(), Ok(&frontier));
        // The parsed frontier continues exactly like the original.
        let mut original = frontier;
        let mut restored = parsed.expect("round trip");
        let next = leaf_hash(b"next");
        prop_assert_eq!(original.append(next), restored.append(next));
        prop_assert_eq!(original.root(), restored.root());
    }

    #[test]
    fn every_append_reports_each_perfect_subtree_once(count in 1usize..300, seed in any::<u64>()) {
        let leaf_hashes = leaves(count, seed);
        let mut frontier = Frontier::new();
        let mut seen = HashMap::new();
        for (index, leaf) in leaf_hashes.iter().enumerate() {
            let completed = frontier.append(*leaf);
            prop_assert_eq!(completed[0], (SubtreeId { level: 0, index: index as u64 }, *leaf));
            for (id, hash) in completed {
                let begin = (id.index << id.level) as usize;
                let end = ((id.index + 1) << id.level) as usize;
                prop_assert!(end <= index + 1);
                prop_assert_eq!(hash, root_from_leaf_hashes(&leaf_hashes[begin..end]));
                prop_assert!(seen.insert(id, hash).is_none());
            }
        }
        // A tree of n leaves has 2n - popcount(n) perfect subtrees.
        prop_assert_eq!(seen.len(), 2 * count - count.count_ones() as usize);
    }

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        count in 1usize..300,
        seed in any::<u64>(),
        size_choice in any::<prop::sample::Index>(),
        index_choice in any::<prop::sample::Index>(),
        other_choice in any::<prop::sample::Index>(),
        bit in any::<usize>(),
    ) {
        let leaf_hashes = leaves(count, seed);
        let tree = build(&leaf_hashes);
        let size = size_choice.index(count) as u64 + 1;
        let index = index_choice.index(size as usize) as u64;
        let root = tree.roots[size as usize];
        let leaf = leaf_hashes[index as usize];

        let needed = inclusion_proof_subtrees(index, size).expect("index < size");
        let only_needed: HashMap<SubtreeId, Hash> =
            needed.iter().map(|id| (*id, tree.subtrees[id])).collect();
        let proof = inclusion_proof(index, size, &only_needed).expect("all subtrees supplied");
        prop_assert_eq!(&proof, &inclusion_proof(index, size, &tree.subtrees).expect("full map"));
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));

        if !proof.is_empty() {
            let tampered = flip_bit(&proof, bit);
            prop_assert!(verify_inclusion(&leaf, index, size, &tampered, &root).is_err());
            prop_assert!(verify_inclusion(&leaf, index, size, &proof[1..], &root).is_err());
        }
        let mut extended = proof.clone();
        extended.push(leaf);
        prop_assert!(verify_inclusion(&leaf, index, size, &extended, &root).is_err());

        // Wrong index: any other position in the same tree, or one past the end.
        let other_index = other_choice.index(size as usize) as u64;
        if other_index != index {
            prop_assert!(verify_inclusion(&leaf, other_index, size, &proof, &root).is_err());
        }
        let past_the_end = verify_inclusion(&leaf, size, size, &proof, &root);
        prop_assert!(
            matches!(past_the_end, Err(LedgerError::InvalidIndex { .. })),
            "index == size must be rejected as invalid, got {:?}",
            past_the_end
        );

        // Wrong size: a checkpoint of another size (with that size's true root) must not accept
        // the proof. (The size itself is authenticated only together with its root, by the
        // checkpoint signature.)
        let other_size = other_choice.index(count) as u64 + 1;
        if other_size != size && index < other_size {
            let other_root = tree.roots[other_size as usize];
            prop_assert!(verify_inclusion(&leaf, index, other_size, &proof, &other_root).is_err());
        }

        // Wrong leaf.
        let wrong_leaf = leaf_hash(b"not in the tree");
        prop_assert!(verify_inclusion(&wrong_leaf, index, size, &proof, &root).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        count in 1usize..300,
        seed in any::<u64>(),
        first in any::<prop::sample::Index>(),
        second in any::<prop::sample::Index>(),
        other_choice in any::<prop::sample::Index>(),
        bit in any::<usize>(),
    ) {
        let leaf_hashes = leaves(count, seed);
        let tree = build(&leaf_hashes);
        let (a, b) = (first.index(count + 1) as u64, second.index(count + 1) as u64);
        let (from_size, to_size) = (a.min(b), a.max(b));
        let from_root = tree.roots[from_size as usize];
        let to_root = tree.roots[to_size as usize];

        let needed = consistency_proof_subtrees(from_size, to_size).expect("from <= to");
        let only_needed: HashMap<SubtreeId, Hash> =
            needed.iter().map(|id| (*id, tree.subtrees[id])).collect();
        let proof = consistency_proof(from_size, to_size, &only_needed).expect("all supplied");
        prop_assert_eq!(&proof, &consistency_proof(from_size, to_size, &tree.subtrees).expect("full"));

        let verdict = verify_consistency(from_size, to_size, &proof, &from_root, &to_root);
        if from_size == 0 && to_size > 0 {
            prop_assert!(proof.is_empty());
            prop_assert_eq!(verdict, Err(LedgerError::ConsistencyFromEmptyTree { to_size }));
            return Ok(());
        }
        prop_assert_eq!(verdict, Ok(()));
        if from_size == to_size {
            prop_assert!(proof.is_empty());
        }

        if !proof.is_empty() {
            let tampered = flip_bit(&proof, bit);
            prop_assert!(verify_consistency(from_size, to_size, &tampered, &from_root, &to_root).is_err());
            prop_assert!(verify_consistency(from_size, to_size, &proof[1..], &from_root, &to_root).is_err());
        }
        let mut extended = proof.clone();
        extended.push(to_root);
        prop_assert!(verify_consistency(from_size, to_size, &extended, &from_root, &to_root).is_err());

        // Swapped or wrong roots.
        if from_root != to_root {
            prop_assert!(verify_consistency(from_size, to_size, &proof, &to_root, &from_root).is_err());
        }
        let wrong_root = leaf_hash(b"wrong root");
        prop_assert!(verify_consistency(from_size, to_size, &proof, &wrong_root, &to_root).is_err());
        prop_assert!(verify_consistency(from_size, to_size, &proof, &from_root, &wrong_root).is_err());

        // Wrong sizes, each with the true root of that size, as a verifier holding those
        // checkpoints would present them.
        let other = other_choice.index(count + 1) as u64;
        if other != from_size && other <= to_size {
            let other_root = tree.roots[other as usize];
            prop_assert!(verify_consistency(other, to_size, &proof, &other_root, &to_root).is_err());
        }
        if other != to_size && other >= from_size {
            let other_root = tree.roots[other as usize];
            prop_assert!(verify_consistency(from_size, other, &proof, &from_root, &other_root).is_err());
        }
    }

    #[test]
    fn arbitrary_proof_inputs_never_panic(
        leaf in any::<[u8; 32]>(),
        index in any::<u64>(),
        first_size in any::<u64>(),
        second_size in any::<u64>(),
        proof in prop::collection::vec(any::<[u8; 32]>(), 0..70),
        root in any::<[u8; 32]>(),
    ) {
        let _ = verify_inclusion(&leaf, index, second_size, &proof, &root);
        let _ = verify_consistency(first_size, second_size, &proof, &leaf, &root);
        let _ = inclusion_proof_subtrees(index, second_size);
        let _ = consistency_proof_subtrees(first_size, second_size);
        let _ = inclusion_proof(index, second_size, &HashMap::new());
        let _ = consistency_proof(first_size, second_size, &HashMap::new());
    }
}
