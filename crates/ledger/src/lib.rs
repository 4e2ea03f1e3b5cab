//! `changegate-ledger`: the pure core of Changegate's tamper-evident audit log.
//!
//! It owns the formats and the cryptography, and nothing else (no I/O, clock, database or
//! randomness), so that the server, the store and the offline verifier share one
//! implementation that can be tested exhaustively:
//!
//! * [`hashing`]: RFC 6962 leaf and node hashes and the reference tree hash.
//! * [`frontier`]: the compact frontier for O(log n) appends and streaming verification.
//! * [`proof`]: inclusion and consistency proofs assembled from stored perfect subtrees.
//! * [`verify`]: RFC 9162 proof verification.
//! * [`note`] and [`checkpoint`]: C2SP signed notes (Ed25519) and tlog checkpoints.
//!
//! Streaming verification of a whole log needs no extra type: feed the entries in order with
//! `frontier.append(leaf_hash(entry_bytes))` and compare `frontier.root()` with a checkpoint
//! root whenever `frontier.size()` reaches the checkpoint size.

pub mod checkpoint;
pub mod error;
pub mod frontier;
pub mod hashing;
pub mod note;
pub mod proof;
pub mod verify;

pub use checkpoint::{Checkpoint, open_checkpoint};
pub use error::LedgerError;
pub use frontier::{Frontier, SubtreeId, root_from_subtrees, root_subtrees};
pub use hashing::{Hash, empty_root, leaf_hash, node_hash, root_from_leaf_hashes};
pub use note::{MAX_NOTE_BYTES, MAX_SIGNATURE_LINES, NoteSigner, NoteVerifier};
pub use proof::{consistency_proof, consistency_proof_subtrees, inclusion_proof, inclusion_proof_subtrees};
pub use verify::{verify_consistency, verify_inclusion};
