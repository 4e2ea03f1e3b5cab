//! Perfect subtrees and the compact "frontier" of an append-only RFC 6962 tree.
//!
//! A tree of `size` leaves is fully summarised by the hashes of the perfect subtrees of the
//! binary decomposition of `size` (at most 64 hashes). [`Frontier`] keeps exactly that, so the
//! store can append in O(log n) and persist the tree head in a single row, and an offline
//! verifier can stream a whole log through `Frontier::append(leaf_hash(bytes))` and compare
//! `root()` with a signed checkpoint without holding the log in memory.
//!
//! [`SubtreeId`] names perfect subtrees; every append reports the subtrees it completed so the
//! store can persist them and later assemble proofs from them (see [`crate::proof`]).

use crate::error::LedgerError;
use crate::hashing::{Hash, empty_root, node_hash};

/// Identifies a perfect subtree: `level` L, `index` i covers leaves `[i*2^L, (i+1)*2^L)`.
///
/// Level 0 subtrees are single leaves, whose hash is the leaf hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubtreeId {
    /// Height of the subtree: it covers `2^level` leaves.
    pub level: u8,
    /// Position of the subtree among the subtrees of the same level, counted from the left.
    pub index: u64,
}

/// Splits the leaf range `[begin, end)` into maximal perfect subtrees, left to right.
///
/// Each step takes the largest subtree that both starts at `begin` (alignment) and fits before
/// `end`. For the ranges RFC 6962 proofs use (a subtree `D[begin:end]` whose `begin` is aligned
/// to a power of two at least `end - begin`) this is the binary decomposition of the length,
/// largest first, which is exactly how RFC 6962 hashes an incomplete subtree.
pub(crate) fn range_subtrees(begin: u64, end: u64) -> Vec<SubtreeId> {
    let mut subtrees = Vec::new();
    let mut cursor = begin;
    while cursor < end {
        // trailing_zeros(0) is 64, which the fit below always caps.
        let alignment = cursor.trailing_zeros();
        let fit = 63 - (end - cursor).leading_zeros();
        let level = alignment.min(fit);
        subtrees.push(SubtreeId { level: level as u8, index: cursor >> level });
        cursor += 1u64 << level;
    }
    subtrees
}

/// Combines the hashes of a left-to-right run of perfect subtrees into the RFC 6962 hash of the
/// range they cover, merging from the right as the RFC's recursive definition does.
pub(crate) fn fold_from_right<'a>(hashes: impl DoubleEndedIterator<Item = &'a Hash>) -> Option<Hash> {
    let mut reversed = hashes.rev();
    let last = *reversed.next()?;
    Some(reversed.fold(last, |right, left| node_hash(left, &right)))
}

/// The compact range of a tree of `size` leaves: hashes of the perfect subtrees of the binary
/// decomposition of `size`, left to right (largest first).
///
/// This is also the streaming verifier for a full log: feed every entry in order with
/// `frontier.append(leaf_hash(entry_bytes))` and compare `frontier.root()` with the root of a
/// checkpoint whenever `frontier.size()` reaches the checkpoint's size.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// One hash per set bit of `size`, most significant bit first.
    hashes: Vec<Hash>,
}

/// Length of the big-endian size prefix of the serialised form.
const SIZE_PREFIX_LENGTH: usize = 8;
/// Length of one serialised hash.
const HASH_LENGTH: usize = 32;

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// RFC 6962 Merkle Tree Hash of the whole tree; [`empty_root`] for the empty tree.
    pub fn root(&self) -> Hash {
        fold_from_right(self.hashes.iter()).unwrap_or_else(empty_root)
    }

    /// The perfect subtrees that make up the frontier, left to right, with their hashes.
    pub fn subtrees(&self) -> Vec<(SubtreeId, Hash)> {
        range_subtrees(0, self.size).into_iter().zip(self.hashes.iter().copied()).collect()
    }

    /// Appends one leaf hash and returns every perfect subtree completed by this append, from
    /// the leaf itself (always `(level 0, index of the leaf)`) up to the largest one, so a store
    /// can persist them for later proof generation.
    ///
    /// # Panics
    ///
    /// Panics if the tree already holds `u64::MAX` leaves, a size no log can reach.
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<(SubtreeId, Hash)> {
        let leaf_index = self.size;
        let new_size = leaf_index.checked_add(1).expect("a Merkle tree cannot hold more than u64::MAX leaves");
        let mut completed = Vec::with_capacity(1 + leaf_index.trailing_ones() as usize);
        let mut hash = leaf_hash;
        let mut level = 0u8;
        let mut index = leaf_index;
        completed.push((SubtreeId { level, index }, hash));
        // Each trailing one bit of the old size is a perfect subtree of the same height that
        // the new subtree now completes into its parent.
        while index & 1 == 1 {
            let left = self.hashes.pop().expect("every set bit of the size has a frontier hash");
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            completed.push((SubtreeId { level, index }, hash));
        }
        self.hashes.push(hash);
        self.size = new_size;
        completed
    }

    /// Serialises as the 8-byte big-endian size followed by the frontier hashes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(SIZE_PREFIX_LENGTH + HASH_LENGTH * self.hashes.len());
        bytes.extend_from_slice(&self.size.to_be_bytes());
        for hash in &self.hashes {
            bytes.extend_from_slice(hash);
        }
        bytes
    }

    /// Parses the output of [`Frontier::to_bytes`], checking that the number of hashes equals
    /// the number of set bits of the size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LedgerError> {
        let (size_bytes, hash_bytes) = bytes.split_first_chunk::<SIZE_PREFIX_LENGTH>().ok_or_else(|| {
            LedgerError::MalformedFrontier(format!(
                "{} bytes is shorter than the {SIZE_PREFIX_LENGTH}-byte size prefix",
                bytes.len()
            ))
        })?;
        let size = u64::from_be_bytes(*size_bytes);
        let expected_hashes = size.count_ones() as usize;
        if hash_bytes.len() != expected_hashes * HASH_LENGTH {
            return Err(LedgerError::MalformedFrontier(format!(
                "size {size} needs {expected_hashes} hashes ({} bytes) but {} bytes follow",
                expected_hashes * HASH_LENGTH,
                hash_bytes.len()
            )));
        }
        let hashes = hash_bytes
            .chunks_exact(HASH_LENGTH)
            .map(|chunk| {
                let mut hash = [0u8; HASH_LENGTH];
                hash.copy_from_slice(chunk);
                hash
            })
            .collect();
        Ok(Self { size, hashes })
    }
}

/// The perfect subtrees whose hashes make up the root of a tree of `tree_size` leaves (its
/// binary decomposition, largest first). With [`root_from_subtrees`], a store recomputes the root
/// of any earlier size from the subtree hashes it kept, without re-hashing leaves.
pub fn root_subtrees(tree_size: u64) -> Vec<SubtreeId> {
    range_subtrees(0, tree_size)
}

/// The root of a tree of `tree_size` leaves from the hashes of [`root_subtrees`]`(tree_size)`.
pub fn root_from_subtrees(
    tree_size: u64,
    subtree_hashes: &std::collections::HashMap<SubtreeId, Hash>,
) -> Result<Hash, LedgerError> {
    let hashes = root_subtrees(tree_size)
        .into_iter()
        .map(|subtree| subtree_hashes.get(&subtree).copied().ok_or(LedgerError::MissingSubtree(subtree)))
        .collect::<Result<Vec<Hash>, LedgerError>>()?;
    Ok(fold_from_right(hashes.iter()).unwrap_or_else(empty_root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::{leaf_hash, root_from_leaf_hashes};

    #[test]
    fn range_subtrees_of_prefix_is_binary_decomposition() {
        assert!(range_subtrees(0, 0).is_empty());
        assert_eq!(
            range_subtrees(0, 7),
            vec![SubtreeId { level: 2, index: 0 }, SubtreeId { level: 1, index: 2 }, SubtreeId { level: 0, index: 6 },]
        );
        assert_eq!(range_subtrees(0, u64::MAX).len(), 64, "every bit of u64::MAX is one subtree");
    }

    #[test]
    fn range_subtrees_of_unaligned_range() {
        assert_eq!(range_subtrees(3, 8), vec![SubtreeId { level: 0, index: 3 }, SubtreeId { level: 2, index: 1 },]);
    }

    #[test]
    fn append_reports_completed_subtrees() {
        let mut frontier = Frontier::new();
        let leaves: Vec<Hash> = (0u8..4).map(|byte| leaf_hash(&[byte])).collect();
        assert_eq!(frontier.append(leaves[0]).len(), 1);
        let completed = frontier.append(leaves[1]);
        assert_eq!(
            completed,
            vec![
                (SubtreeId { level: 0, index: 1 }, leaves[1]),
                (SubtreeId { level: 1, index: 0 }, node_hash(&leaves[0], &leaves[1])),
            ]
        );
        frontier.append(leaves[2]);
        let completed = frontier.append(leaves[3]);
        assert_eq!(completed.len(), 3);
        assert_eq!(completed[2].0, SubtreeId { level: 2, index: 0 });
        assert_eq!(completed[2].1, root_from_leaf_hashes(&leaves));
        assert_eq!(frontier.root(), root_from_leaf_hashes(&leaves));
    }

    #[test]
    fn from_bytes_rejects_inconsistent_lengths() {
        assert!(Frontier::from_bytes(&[]).is_err());
        assert!(Frontier::from_bytes(&[0; 7]).is_err());
        assert_eq!(Frontier::from_bytes(&[0; 8]), Ok(Frontier::new()));
        let mut one_leaf = 1u64.to_be_bytes().to_vec();
        assert!(Frontier::from_bytes(&one_leaf).is_err());
        one_leaf.extend_from_slice(&[1; 32]);
        assert_eq!(Frontier::from_bytes(&one_leaf).map(|f| f.size()), Ok(1));
        one_leaf.push(0);
        assert!(Frontier::from_bytes(&one_leaf).is_err());
    }

    #[test]
    fn append_at_maximum_size_minus_one_merges_everything() {
        // A frontier of size u64::MAX - 1 has 63 hashes; appending completes nothing beyond the
        // leaf itself because the leaf index is even.
        let mut bytes = (u64::MAX - 1).to_be_bytes().to_vec();
        bytes.extend(std::iter::repeat_n(0u8, 63 * 32));
        let mut frontier = Frontier::from_bytes(&bytes).expect("valid frontier");
        let completed = frontier.append([1; 32]);
        assert_eq!(completed.len(), 1);
        assert_eq!(frontier.size(), u64::MAX);
        assert_eq!(frontier.subtrees().len(), 64);
    }

    #[test]
    fn root_from_subtrees_matches_the_reference_root_for_every_earlier_size() {
        let mut frontier = Frontier::new();
        let mut stored = std::collections::HashMap::new();
        let mut leaves = Vec::new();
        for leaf in 0u32..70 {
            let hash = crate::hashing::leaf_hash(&leaf.to_be_bytes());
            leaves.push(hash);
            stored.extend(frontier.append(hash));
        }
        for size in 0..=70u64 {
            let root = root_from_subtrees(size, &stored).unwrap();
            assert_eq!(root, crate::hashing::root_from_leaf_hashes(&leaves[..size as usize]), "size {size}");
        }
        assert!(root_from_subtrees(71, &stored).is_err(), "a subtree that was never stored is reported");
    }
}
