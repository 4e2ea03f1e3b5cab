//! Where a change stands, for the gate: the one place that turns the state the API reports into
//! a decision. The gate and `--finish` read a change's answer into [`ChangeStatus`] (the core's
//! `ChangeState` and `ChangeType`, which deserialize from the API's words) and ask it what the
//! state means, instead of comparing state strings wherever they need to know.

use changegate_core::{ChangeState, ChangeType};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::Value;

/// A change's state as the API wrote it. A newer server may know a state this build does not: it
/// is kept as written (for messages) and decides nothing, so the gate keeps waiting on it as it
/// always has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum ReportedState {
    Known(ChangeState),
    Unknown(String),
    /// No state, or not a string.
    #[default]
    Missing,
}

impl ReportedState {
    /// The state as the API wrote it, `None` when there was none.
    pub(super) fn text(&self) -> Option<&str> {
        match self {
            ReportedState::Known(state) => Some(state.as_str()),
            ReportedState::Unknown(text) => Some(text),
            ReportedState::Missing => None,
        }
    }
}

impl<'de> Deserialize<'de> for ReportedState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::String(text) => match text.parse::<ChangeState>() {
                Ok(state) => ReportedState::Known(state),
                Err(_) => ReportedState::Unknown(text),
            },
            _ => ReportedState::Missing,
        })
    }
}

/// The fields of a change (`GET /api/v1/changes/{id}` and every action's answer) that decide what
/// the gate does next. Every field is lenient: a field that is missing or of another shape reads
/// as absent, as it did when the gate looked into the JSON by hand.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChangeStatus {
    #[serde(default, deserialize_with = "lenient")]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) state: ReportedState,
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    change_type: Option<ChangeType>,
    /// The policy's reasons when it denied the change; any entry at all means denied.
    #[serde(default, deserialize_with = "lenient")]
    denied: Option<Vec<Value>>,
    /// `successful` once a closed change is known to have succeeded.
    #[serde(default, deserialize_with = "lenient")]
    outcome: Option<String>,
}

/// Reads a field as `T`, or as absent when it does not have that shape.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(deserializer: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(Value::deserialize(deserializer)?).ok())
}

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

impl ChangeStatus {
    /// Reads the status out of a change as the API answered it; anything that is not a change
    /// object reads as a change without a state.
    pub(super) fn of(change: &Value) -> ChangeStatus {
        ChangeStatus::deserialize(change).unwrap_or_default()
    }

    pub(super) fn is(&self, state: ChangeState) -> bool {
        self.state == ReportedState::Known(state)
    }

    fn is_emergency(&self) -> bool {
        self.change_type == Some(ChangeType::Emergency)
    }

    /// Closed after a successful implementation (a closed change may also have failed).
    pub(super) fn succeeded(&self) -> bool {
        self.outcome.as_deref() == Some("successful")
    }

    /// What the state means for the gate. Every known state is named, so a state added to the
    /// core's lifecycle does not compile until the gate decides what it means.
    pub(super) fn verdict(&self) -> Verdict {
        let ReportedState::Known(state) = &self.state else { return Verdict::Waiting };
        match *state {
            ChangeState::Approved | ChangeState::Scheduled | ChangeState::Implementing => Verdict::Approved,
            ChangeState::Rejected if self.denied.as_ref().is_some_and(|denied| !denied.is_empty()) => Verdict::Denied,
            ChangeState::Rejected => Verdict::Rejected,
            ChangeState::Cancelled => Verdict::Cancelled,
            ChangeState::Implemented
            | ChangeState::Verified
            | ChangeState::Failed
            | ChangeState::RolledBack
            | ChangeState::Closed => Verdict::Ended,
            ChangeState::Assessed if self.is_emergency() => Verdict::Emergency,
            ChangeState::Draft | ChangeState::Submitted | ChangeState::Assessed => Verdict::Waiting,
        }
    }

    /// The next action that records the pipeline starting to implement: `schedule` from
    /// approved, `start` from scheduled, or straight `start` for an emergency change that is
    /// assessed. `None` when there is none to take from this state. Both the gate (after
    /// approval) and `--finish` (before recording the result) take these steps.
    pub(super) fn start_step(&self) -> Option<&'static str> {
        match self.state {
            ReportedState::Known(ChangeState::Approved) => Some("schedule"),
            ReportedState::Known(ChangeState::Scheduled) => Some("start"),
            ReportedState::Known(ChangeState::Assessed) if self.is_emergency() => Some("start"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn verdict_of(change: &Value) -> Verdict {
        ChangeStatus::of(change).verdict()
    }

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

    #[test]
    fn states_this_build_does_not_know_keep_the_gate_waiting() {
        assert_eq!(verdict_of(&json!({"state": "under_review"})), Verdict::Waiting);
        assert_eq!(verdict_of(&json!({"state": 7})), Verdict::Waiting);
        assert_eq!(verdict_of(&json!({})), Verdict::Waiting);
        assert_eq!(verdict_of(&Value::Null), Verdict::Waiting);
        assert_eq!(ChangeStatus::of(&json!({"state": "under_review"})).state.text(), Some("under_review"));
        assert_eq!(ChangeStatus::of(&json!({"state": 7})).state.text(), None);
        // A field of another shape reads as absent instead of failing the whole change.
        let odd = ChangeStatus::of(&json!({"id": 1, "state": "approved", "type": "unknown", "denied": "x"}));
        assert_eq!((odd.verdict(), odd.id), (Verdict::Approved, None));
    }

    #[test]
    fn start_steps_schedule_then_start_and_emergencies_start_from_assessed() {
        let step = |change: Value| ChangeStatus::of(&change).start_step();
        assert_eq!(step(json!({"state": "approved", "type": "normal"})), Some("schedule"));
        assert_eq!(step(json!({"state": "scheduled", "type": "normal"})), Some("start"));
        assert_eq!(step(json!({"state": "assessed", "type": "emergency"})), Some("start"));
        assert_eq!(step(json!({"state": "assessed", "type": "normal"})), None);
        assert_eq!(step(json!({"state": "implementing", "type": "emergency"})), None);
        assert!(ChangeStatus::of(&json!({"state": "closed", "outcome": "successful"})).succeeded());
        assert!(!ChangeStatus::of(&json!({"state": "closed", "outcome": "failed"})).succeeded());
    }
}
