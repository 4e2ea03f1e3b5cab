//! The policy decision: what a policy said about one change, with the hashes that make it
//! replayable.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use changegate_core::approval::RequiredApproval;

/// The outcome of evaluating a policy against one input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDecision {
    /// The change needs no human approval. Always false when `deny` or `required_approvals` is
    /// not empty ("deny wins": the host normalises a policy that says otherwise).
    pub auto_approve: bool,
    /// Approvals needed before the change counts as approved.
    pub required_approvals: Vec<RequiredApproval>,
    /// Reasons that block the change; the change cannot be approved while any stands.
    pub deny: Vec<String>,
    /// Notes for the approver that do not block.
    pub warn: Vec<String>,
    /// SHA-256 (hex) of the policy version that decided (see [`crate::Policy::sha256`]).
    pub policy_sha256: String,
    /// SHA-256 (hex) of the canonical JSON of the input (see [`crate::PolicyInput::sha256`]).
    pub input_sha256: String,
}

impl PolicyDecision {
    /// Whether the policy blocks the change.
    pub fn is_denied(&self) -> bool {
        !self.deny.is_empty()
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
