//! What an assessment looks at: the period, the records (changes, incidents, services, whether
//! recorded live or imported), the evidence only a live installation has, and the answers to the
//! questionnaire.
//!
//! Live evidence carries its times, so an assessment of an earlier period (a month of the trend)
//! counts only what existed by the period's end. On an installation that holds only an imported
//! history every list here is empty, and the criteria that need it say so instead of guessing.

use std::collections::BTreeMap;

use changegate_core::{ChangeRecord, IncidentRecord, ServiceRecord, Timestamp};
use serde::{Deserialize, Serialize};

/// Everything one assessment needs. `from` is inclusive, `to` exclusive.
#[derive(Clone, Copy, Debug)]
pub struct AssessmentInput<'a> {
    pub from: Timestamp,
    pub to: Timestamp,
    /// When the assessment is made (recorded on it; the period may end earlier).
    pub now: Timestamp,
    /// Every change, of every environment and time: the assessment picks the period's production
    /// deployments itself, and the approval-time trend looks at the quarters before the period.
    pub changes: &'a [ChangeRecord],
    pub incidents: &'a [IncidentRecord],
    pub services: &'a [ServiceRecord],
    pub live: &'a LiveEvidence,
    /// The answer in force for each question id.
    pub answers: &'a BTreeMap<String, Answer>,
}

/// Evidence that only a live installation has. Empty lists mean "none recorded".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveEvidence {
    /// When each version of the approval policy was put in force.
    pub policy_versions: Vec<Timestamp>,
    /// When each standard-change template was last defined.
    pub template_definitions: Vec<Timestamp>,
    pub alert_rules: Vec<AlertRuleEvidence>,
    /// Every predictive risk model trained; the newest trained before a period's end is in use.
    pub risk_models: Vec<RiskModelEvidence>,
    /// Full verifications of the audit ledger.
    pub ledger_verifications: Vec<LedgerVerificationEvidence>,
    /// Times of signed ledger checkpoints; at least one for every UTC day that has any (the
    /// criteria look at days, so the store may hand in one per day).
    pub checkpoints: Vec<Timestamp>,
    /// Services that have an automated rollback hook.
    pub rollback_hooks: Vec<String>,
}

/// An alert rule as defined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleEvidence {
    pub name: String,
    /// The alert engine's kind of rule (`high_risk_change`, `failure_rate`, `compliance_violation`, …).
    pub kind: String,
    pub defined_at: Timestamp,
}

/// A trained risk model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskModelEvidence {
    pub version: String,
    /// ROC AUC measured on the time-ordered validation split; `None` when not measurable.
    pub auc: Option<f64>,
    pub trained_at: Timestamp,
}

/// One full verification of the audit ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerVerificationEvidence {
    pub at: Timestamp,
    pub ok: bool,
}

/// An answer to one question, and where it comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub yes: bool,
    /// Who answered through the product; `None` for an answers file used for one run only.
    pub answered_by: Option<String>,
    pub answered_at: Option<Timestamp>,
}

impl Answer {
    /// An answer from a file, used for one run and not recorded.
    pub fn from_file(yes: bool) -> Self {
        Answer { yes, answered_by: None, answered_at: None }
    }
}
