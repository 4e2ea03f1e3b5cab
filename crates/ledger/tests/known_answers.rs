//! Known-answer tests from transparency-dev/merkle (`rfc6962/rfc6962_test.go` and
//! `testonly/constants.go`): hashes, the roots of every prefix of the 8-leaf reference tree,
//! every perfect-subtree hash and every compact frontier.

use std::collections::HashMap;

use changegate_ledger::{
    Frontier, Hash, SubtreeId, empty_root, inclusion_proof, leaf_hash, node_hash, root_from_leaf_hashes,
    verify_consistency, verify_inclusion,
};
use sha2::{Digest, Sha256};

fn hash_from_hex(text: &str) -> Hash {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash).expect("valid hex hash");
    hash
}

/// `testonly.LeafInputs()`.
fn leaf_inputs() -> Vec<Vec<u8>> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|text| hex::decode(text).expect("valid hex"))
        .collect()
}

/// `testonly.RootHashes()`, indexed by tree size.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `testonly.NodeHashes()`: level, then index within the level.
fn node_hashes() -> Vec<Vec<Hash>> {
    [
        vec![
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        vec![
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        vec![
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        vec!["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ]
    .into_iter()
    .map(|level| level.into_iter().map(hash_from_hex).collect())
    .collect()
}

#[test]
fn rfc6962_hasher_known_answers() {
    assert_eq!(empty_root(), hash_from_hex(ROOTS[0]));
    assert_eq!(leaf_hash(b""), hash_from_hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
    assert_eq!(
        leaf_hash(b"L123456"),
        hash_from_hex("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    );
    // The Go vector hashes the 4-byte children "N123" and "N456", which `node_hash` cannot
    // take; check the same preimage layout (0x01 || left || right) directly instead.
    let mut preimage = vec![0x01];
    preimage.extend_from_slice(b"N123N456");
    assert_eq!(
        <[u8; 32]>::from(Sha256::digest(&preimage)),
        hash_from_hex("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    );
    let left = leaf_hash(b"Hello");
    let right = leaf_hash(b"World");
    assert_ne!(node_hash(&left, &right), node_hash(&right, &left));
    let mut concatenated = left.to_vec();
    concatenated.extend_from_slice(&right);
    assert_ne!(node_hash(&left, &right), leaf_hash(&concatenated));
}

#[test]
fn roots_of_every_prefix_of_the_reference_tree() {
    let leaf_hashes: Vec<Hash> = leaf_inputs().iter().map(|leaf| leaf_hash(leaf)).collect();
    let mut frontier = Frontier::new();
    assert_eq!(frontier.root(), hash_from_hex(ROOTS[0]));
    for (size, expected) in ROOTS.iter().enumerate().skip(1) {
        frontier.append(leaf_hashes[size - 1]);
        assert_eq!(frontier.root(), hash_from_hex(expected), "frontier root at size {size}");
        assert_eq!(
            root_from_leaf_hashes(&leaf_hashes[..size]),
            hash_from_hex(expected),
            "reference root at size {size}"
        );
    }
}

#[test]
fn appends_report_every_reference_node_hash() {
    let expected = node_hashes();
    let mut frontier = Frontier::new();
    let mut reported: HashMap<SubtreeId, Hash> = HashMap::new();
    for leaf in leaf_inputs() {
        for (id, hash) in frontier.append(leaf_hash(&leaf)) {
            assert!(reported.insert(id, hash).is_none(), "{id:?} reported twice");
        }
    }
    let expected_count: usize = expected.iter().map(Vec::len).sum();
    assert_eq!(reported.len(), expected_count);
    for (level, hashes) in expected.iter().enumerate() {
        for (index, hash) in hashes.iter().enumerate() {
            let id = SubtreeId { level: level as u8, index: index as u64 };
            assert_eq!(reported.get(&id), Some(hash), "{id:?}");
        }
    }
}

#[test]
fn compact_frontiers_match_reference() {
    // `testonly.CompactTrees()`, as (level, index) references into NodeHashes.
    let layout: [&[(usize, usize)]; 9] = [
        &[],
        &[(0, 0)],
        &[(1, 0)],
        &[(1, 0), (0, 2)],
        &[(2, 0)],
        &[(2, 0), (0, 4)],
        &[(2, 0), (1, 2)],
        &[(2, 0), (1, 2), (0, 6)],
        &[(3, 0)],
    ];
    let nodes = node_hashes();
    let mut frontier = Frontier::new();
    let leaves = leaf_inputs();
    for (size, expected) in layout.iter().enumerate() {
        if size > 0 {
            frontier.append(leaf_hash(&leaves[size - 1]));
        }
        let subtrees = frontier.subtrees();
        let got: Vec<(usize, usize, Hash)> =
            subtrees.iter().map(|(id, hash)| (id.level as usize, id.index as usize, *hash)).collect();
        let want: Vec<(usize, usize, Hash)> =
            expected.iter().map(|&(level, index)| (level, index, nodes[level][index])).collect();
        assert_eq!(got, want, "frontier at size {size}");
        let mut bytes = (size as u64).to_be_bytes().to_vec();
        for (_, _, hash) in &want {
            bytes.extend_from_slice(hash);
        }
        assert_eq!(frontier.to_bytes(), bytes, "serialised frontier at size {size}");
    }
}

#[test]
fn reference_proofs_from_the_vectors_are_generated_exactly() {
    // inclusion/1/happy-path.json: leaf 0 of the 8-leaf tree.
    let leaves = leaf_inputs();
    let mut frontier = Frontier::new();
    let mut subtrees = HashMap::new();
    for leaf in &leaves {
        subtrees.extend(frontier.append(leaf_hash(leaf)));
    }
    let proof = inclusion_proof(0, 8, &subtrees).expect("all subtrees present");
    let nodes = node_hashes();
    assert_eq!(proof, vec![nodes[0][1], nodes[1][1], nodes[2][1]]);
    assert_eq!(verify_inclusion(&nodes[0][0], 0, 8, &proof, &hash_from_hex(ROOTS[8])), Ok(()));
    assert_eq!(verify_consistency(8, 8, &[], &hash_from_hex(ROOTS[8]), &hash_from_hex(ROOTS[8])), Ok(()));
}

/// Builds all perfect-subtree hashes of the first `size` reference leaves.
fn reference_subtrees(size: usize) -> HashMap<SubtreeId, Hash> {
    let mut frontier = Frontier::new();
    let mut subtrees = HashMap::new();
    for leaf in leaf_inputs().iter().take(size) {
        subtrees.extend(frontier.append(leaf_hash(leaf)));
    }
    subtrees
}

fn proof_from_hex(hashes: &[&str]) -> Vec<Hash> {
    hashes.iter().map(|text| hash_from_hex(text)).collect()
}

/// Inclusion and consistency proofs from transparency-dev/merkle `testonly/reference_test.go`
/// (the same vectors ct-merkle's `tests/known_answer.rs` copies).
#[test]
fn reference_proofs_are_generated_and_verified() {
    const L0: &str = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
    const L1: &str = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7";
    const L4: &str = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b";
    const N1_0: &str = "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125";
    const N1_1: &str = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e";
    const N1_2: &str = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a";
    const N1_3: &str = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0";
    const N2_0: &str = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7";
    const N2_1: &str = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4";

    let inclusion: [(u64, u64, &[&str]); 7] = [
        (1, 0, &[]),
        (2, 0, &[L1]),
        (2, 1, &[L0]),
        (3, 2, &[N1_0]),
        (5, 1, &[L0, N1_1, L4]),
        (8, 0, &[L1, N1_1, N2_1]),
        (8, 5, &[L4, N1_3, N2_0]),
    ];
    let leaves = leaf_inputs();
    for (size, index, expected) in inclusion {
        let subtrees = reference_subtrees(size as usize);
        let proof = inclusion_proof(index, size, &subtrees).expect("all subtrees present");
        assert_eq!(proof, proof_from_hex(expected), "inclusion of {index} in {size}");
        let leaf = leaf_hash(&leaves[index as usize]);
        let root = hash_from_hex(ROOTS[size as usize]);
        assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
    }

    let consistency: [(u64, u64, &[&str]); 4] =
        [(1, 1, &[]), (1, 8, &[L1, N1_1, N2_1]), (2, 5, &[N1_1, L4]), (6, 8, &[N1_2, N1_3, N2_0])];
    for (from_size, to_size, expected) in consistency {
        let subtrees = reference_subtrees(to_size as usize);
        let proof = changegate_ledger::consistency_proof(from_size, to_size, &subtrees).expect("all subtrees present");
        assert_eq!(proof, proof_from_hex(expected), "consistency {from_size} -> {to_size}");
        assert_eq!(
            verify_consistency(
                from_size,
                to_size,
                &proof,
                &hash_from_hex(ROOTS[from_size as usize]),
                &hash_from_hex(ROOTS[to_size as usize]),
            ),
            Ok(())
        );
    }
}
