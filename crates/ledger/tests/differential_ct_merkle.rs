//! Differential test against the independent `ct-merkle` 0.3 implementation: for the same
//! leaves both produce the same roots and byte-identical proofs, and each accepts the other's
//! proofs.

use std::collections::HashMap;

use changegate_ledger::{
    Frontier, Hash, SubtreeId, consistency_proof, inclusion_proof, leaf_hash, verify_consistency, verify_inclusion,
};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use proptest::prelude::*;
use sha2::Sha256;

fn concatenate(proof: &[Hash]) -> Vec<u8> {
    proof.concat()
}

fn split_hashes(bytes: &[u8]) -> Vec<Hash> {
    bytes.chunks_exact(32).map(|chunk| chunk.try_into().expect("32-byte chunk")).collect()
}

proptest! {
    #[test]
    fn same_roots_and_proofs_as_ct_merkle(
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 1..200),
        index_choice in any::<prop::sample::Index>(),
        additions_choice in any::<prop::sample::Index>(),
    ) {
        let mut theirs = MemoryBackedTree::<Sha256, Vec<u8>>::new();
        let mut ours = Frontier::new();
        let mut subtrees: HashMap<SubtreeId, Hash> = HashMap::new();
        for value in &values {
            theirs.push(value.clone());
            subtrees.extend(ours.append(leaf_hash(value)));
            let their_root: Hash = theirs.root().as_bytes().as_slice().try_into().expect("32 bytes");
            prop_assert_eq!(ours.root(), their_root);
        }
        let size = values.len() as u64;
        let root = ours.root();
        let their_root = RootHash::<Sha256>::new(root.into(), size);

        // Inclusion: identical bytes, and cross-verification both ways.
        let index = index_choice.index(values.len());
        let our_inclusion = inclusion_proof(index as u64, size, &subtrees).expect("present");
        let their_inclusion = theirs.prove_inclusion(index);
        prop_assert_eq!(concatenate(&our_inclusion), their_inclusion.as_bytes().to_vec());
        prop_assert!(their_root
            .verify_inclusion(&values[index], index as u64, &InclusionProof::<Sha256>::from_bytes(concatenate(&our_inclusion)))
            .is_ok());
        prop_assert_eq!(
            verify_inclusion(&leaf_hash(&values[index]), index as u64, size, &split_hashes(their_inclusion.as_bytes()), &root),
            Ok(())
        );

        // Consistency from every older non-empty size ct-merkle supports (it panics for 0).
        let additions = additions_choice.index(values.len());
        let from_size = size - additions as u64;
        let mut old_tree = Frontier::new();
        for value in &values[..from_size as usize] {
            old_tree.append(leaf_hash(value));
        }
        let from_root = old_tree.root();
        let our_consistency = consistency_proof(from_size, size, &subtrees).expect("present");
        let their_consistency = theirs.prove_consistency(additions);
        prop_assert_eq!(concatenate(&our_consistency), their_consistency.as_bytes().to_vec());
        let their_old_root = RootHash::<Sha256>::new(from_root.into(), from_size);
        let parsed = ConsistencyProof::<Sha256>::try_from_bytes(concatenate(&our_consistency))
            .expect("whole hashes");
        prop_assert!(their_root.verify_consistency(&their_old_root, &parsed).is_ok());
        prop_assert_eq!(
            verify_consistency(from_size, size, &split_hashes(their_consistency.as_bytes()), &from_root, &root),
            Ok(())
        );
    }
}
