//! The single error type of the ledger crate.
//!
//! Every fallible operation returns [`LedgerError`] so that callers (the store, the service and
//! the offline verifier) can tell apart "the input is malformed", "the proof does not verify" and
//! "the caller asked for something that does not exist" without string matching.

use crate::frontier::SubtreeId;

/// Why a ledger operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A leaf index was not inside the tree it was checked against.
    #[error("leaf index {index} is outside a tree of size {tree_size}")]
    InvalidIndex {
        /// The index that was asked for.
        index: u64,
        /// The size of the tree it was checked against.
        tree_size: u64,
    },

    /// A consistency proof was asked for (or presented) from a larger tree to a smaller one.
    #[error("tree size {from_size} is larger than tree size {to_size}")]
    InvalidSize {
        /// The size of the older tree.
        from_size: u64,
        /// The size of the newer tree.
        to_size: u64,
    },

    /// A consistency proof from the empty tree to a non-empty tree was presented for
    /// verification. Such a proof is necessarily empty and binds nothing, so it is rejected;
    /// see [`crate::verify_consistency`].
    #[error("a consistency proof from the empty tree to size {to_size} proves nothing")]
    ConsistencyFromEmptyTree {
        /// The size of the newer tree.
        to_size: u64,
    },

    /// A proof had a different number of hashes than the tree sizes require.
    #[error("proof has {actual} hashes, expected {expected}")]
    ProofLength {
        /// How many hashes the tree sizes require.
        expected: usize,
        /// How many hashes the proof had.
        actual: usize,
    },

    /// The root recomputed from a proof did not match the expected root.
    #[error("recomputed root does not match the expected root")]
    RootMismatch,

    /// A perfect subtree hash needed to assemble a proof was not supplied by the caller.
    #[error("missing hash of perfect subtree at level {} index {}", .0.level, .0.index)]
    MissingSubtree(SubtreeId),

    /// A serialised frontier had an inconsistent length.
    #[error("malformed frontier: {0}")]
    MalformedFrontier(String),

    /// A signed note did not follow the C2SP signed-note syntax.
    #[error("malformed signed note: {0}")]
    MalformedNote(String),

    /// A signature line from the verifier's key was present but did not verify.
    #[error("signature from the trusted key is invalid")]
    SignatureInvalid,

    /// The note carried no signature from the verifier's key.
    #[error("note has no signature from the trusted key")]
    UnknownKey,

    /// A checkpoint body did not follow the C2SP tlog-checkpoint syntax.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),

    /// A key string, key name or key material was invalid.
    #[error("malformed key: {0}")]
    MalformedKey(String),
}
