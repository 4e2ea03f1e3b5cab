//! Where a change stands, for the gate: the one place that turns the state the API reports into
//! the gate's decision.

use serde_json::Value;

/// Where a change stands, for the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Approved (by the policy or by people), or already scheduled or being implemented (a retry
    /// of a gate that got that far).
    Approved,
    /// An emergency change, assessed and not denied: it may start before its approval.
    Emergency,
    /// The policy denied it.
    Denied,
    /// A person rejected it.
    Rejected,
    Cancelled,
    /// Its implementation is over (implemented, verified, failed, rolled back, closed): a retry
    /// with the same key after the pipeline finished; a new deployment needs a new change.
    Ended,
    /// Submitted, approvals missing.
    Waiting,
}

impl Verdict {
    pub(super) fn decision(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Emergency => "emergency",
            Verdict::Denied => "denied",
            Verdict::Rejected => "rejected",
            Verdict::Cancelled => "cancelled",
            Verdict::Ended => "ended",
            Verdict::Waiting => "waiting",
        }
    }
}

pub(super) fn verdict_of(change: &Value) -> Verdict {
    let state = change["state"].as_str().unwrap_or_default();
    match state {
        "approved" | "scheduled" | "implementing" => Verdict::Approved,
        "rejected" if change["denied"].as_array().is_some_and(|denied| !denied.is_empty()) => Verdict::Denied,
        "rejected" => Verdict::Rejected,
        "cancelled" => Verdict::Cancelled,
        "implemented" | "verified" | "failed" | "rolled_back" | "closed" => Verdict::Ended,
        "assessed" if change["type"] == "emergency" => Verdict::Emergency,
        _ => Verdict::Waiting,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(verdict_of(&json!({"state": "approved"})), Verdict::Approved);
        assert_eq!(verdict_of(&json!({"state": "implementing"})), Verdict::Approved);
        assert_eq!(verdict_of(&json!({"state": "rejected", "denied": ["freeze"]})), Verdict::Denied);
        assert_eq!(verdict_of(&json!({"state": "rejected", "denied": []})), Verdict::Rejected);
        assert_eq!(verdict_of(&json!({"state": "assessed", "type": "normal"})), Verdict::Waiting);
        assert_eq!(verdict_of(&json!({"state": "assessed", "type": "emergency"})), Verdict::Emergency);
        assert_eq!(verdict_of(&json!({"state": "verified"})), Verdict::Ended);
        assert_eq!(verdict_of(&json!({"state": "closed", "outcome": "successful"})), Verdict::Ended);
        assert_eq!(verdict_of(&json!({"state": "rolled_back"})), Verdict::Ended);
    }
}
