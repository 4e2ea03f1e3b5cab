//! The inputs: compact change and incident facts, the configuration that says which
//! environments are production, and the limits every fact is checked against.
//!
//! The service layer converts its `ChangeRecord`s and `IncidentRecord`s into these facts; this
//! crate never sees the store. A fact is the latest state of one change or incident: when the
//! state moves on, the new fact replaces the old one (`MetricsIndex::upsert_change`).

use changegate_core::{ChangeType, RiskClass, Severity};
use serde::{Deserialize, Serialize};

use crate::error::MetricsError;
use crate::names::{NameId, Names};

/// Earliest accepted instant: the Unix epoch. Changegate has no history before it.
pub const TIME_MIN_MS: i64 = 0;
/// Latest accepted instant: 9999-12-31T23:59:59.999Z, so day and week arithmetic never overflows.
pub const TIME_MAX_MS: i64 = 253_402_300_799_999;
/// Longest service, team or environment name.
pub const NAME_LENGTH_MAX_BYTES: usize = 200;
/// Most distinct names one index interns.
pub const NAMES_MAX: usize = 1_000_000;
/// Highest risk score.
pub const RISK_SCORE_MAX: u8 = 100;
/// Longest downtime one incident may report: about 10 years.
pub const DOWNTIME_MAX_MINUTES: u32 = 5_300_000;
/// Most deployments one index tracks (changes that are not deployments are not stored).
pub const TRACKED_DEPLOYMENTS_MAX: usize = 50_000_000;
/// Most incidents one index tracks.
pub const TRACKED_INCIDENTS_MAX: usize = 10_000_000;
/// Most environment names that may be configured as production.
pub const PRODUCTION_ENVIRONMENTS_MAX: usize = 64;

/// How a change ended, or that it has not ended yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOutcome {
    /// Deployed, and neither failed nor rolled back: verified, or completed and awaiting
    /// verification (a failed verification replaces the fact with `Failed`).
    Success,
    /// The deployment failed (during implementation or at verification).
    Failed,
    /// The deployment was undone.
    RolledBack,
    /// Withdrawn before implementation.
    Cancelled,
    /// Refused by its approvers or the policy.
    Rejected,
    /// Still in progress.
    Open,
}

impl ChangeOutcome {
    /// Whether a change with this outcome reached its environment (successfully or not).
    pub const fn is_deployed(self) -> bool {
        matches!(self, ChangeOutcome::Success | ChangeOutcome::Failed | ChangeOutcome::RolledBack)
    }

    /// Whether the deployment itself went wrong, whatever its incidents.
    pub const fn is_failed_deployment(self) -> bool {
        matches!(self, ChangeOutcome::Failed | ChangeOutcome::RolledBack)
    }
}

/// The latest known state of one change, reduced to what the metrics read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeFact {
    /// The change's number (`CHG-000042` is 42).
    pub number: u64,
    pub service: NameId,
    /// The team that owns the change.
    pub team: NameId,
    pub environment: NameId,
    pub change_type: ChangeType,
    pub created_at_ms: i64,
    pub submitted_at_ms: Option<i64>,
    pub approved_at_ms: Option<i64>,
    /// Kept for completeness; no metric reads it yet.
    pub started_at_ms: Option<i64>,
    /// When the deployment finished, successfully or not. For a live change that fails during
    /// implementation the service puts the failure time here. This is the deployment's time
    /// for every metric.
    pub completed_at_ms: Option<i64>,
    pub outcome: ChangeOutcome,
    /// The earliest commit the change ships, when known; lead time starts there.
    pub first_commit_at_ms: Option<i64>,
    /// The assessment's risk score, 0–100.
    pub risk_score: Option<u8>,
    pub risk_class: Option<RiskClass>,
}

/// The latest known state of one incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFact {
    /// The incident's number (`INC-000007` is 7).
    pub number: u64,
    /// The service the incident was raised on. Metrics attribute an incident to the service of
    /// the deployment that caused it, so this is informative only.
    pub service: NameId,
    pub severity: Severity,
    pub detected_at_ms: i64,
    pub resolved_at_ms: Option<i64>,
    pub downtime_minutes: Option<u32>,
    /// The change that caused it, only when the link is explicit and confirmed. Suggested links
    /// must not be given: they never count.
    pub counted_cause: Option<u64>,
}

/// Which environments are production.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsConfig {
    /// Environment names (exact, case-sensitive) whose deployments count. Default: `production`
    /// and `prod`.
    pub production_environments: Vec<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            production_environments: changegate_core::PRODUCTION_ENVIRONMENTS
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
        }
    }
}

impl MetricsConfig {
    pub(crate) fn check(&self) -> Result<(), MetricsError> {
        if self.production_environments.len() > PRODUCTION_ENVIRONMENTS_MAX {
            return Err(MetricsError::TooManyProductionEnvironments { count: self.production_environments.len() });
        }
        Ok(())
    }

    /// Whether the environment named `name` is production.
    pub fn is_production(&self, name: &str) -> bool {
        self.production_environments.iter().any(|production| production == name)
    }
}

/// Whether `fact` is a deployment: a change in a production environment that finished with
/// success, failure or rollback.
pub fn is_deployment(config: &MetricsConfig, names: &Names, fact: &ChangeFact) -> bool {
    fact.completed_at_ms.is_some()
        && fact.outcome.is_deployed()
        && names.text(fact.environment).is_some_and(|name| config.is_production(name))
}

fn check_time(field: &'static str, value_ms: i64) -> Result<(), MetricsError> {
    if (TIME_MIN_MS..=TIME_MAX_MS).contains(&value_ms) {
        Ok(())
    } else {
        Err(MetricsError::TimeOutOfRange { field, value_ms })
    }
}

fn check_name(names: &Names, id: NameId) -> Result<(), MetricsError> {
    if names.contains(id) { Ok(()) } else { Err(MetricsError::UnknownNameId { id: id.value() }) }
}

/// Checks a change fact against the limits and the interner its ids come from.
pub fn check_change(names: &Names, fact: &ChangeFact) -> Result<(), MetricsError> {
    check_name(names, fact.service)?;
    check_name(names, fact.team)?;
    check_name(names, fact.environment)?;
    check_time("created_at_ms", fact.created_at_ms)?;
    let optional_times = [
        ("submitted_at_ms", fact.submitted_at_ms),
        ("approved_at_ms", fact.approved_at_ms),
        ("started_at_ms", fact.started_at_ms),
        ("completed_at_ms", fact.completed_at_ms),
        ("first_commit_at_ms", fact.first_commit_at_ms),
    ];
    for (field, value_ms) in optional_times {
        if let Some(value_ms) = value_ms {
            check_time(field, value_ms)?;
        }
    }
    if let Some(score) = fact.risk_score
        && score > RISK_SCORE_MAX
    {
        return Err(MetricsError::RiskScoreTooHigh { score });
    }
    Ok(())
}

/// Checks an incident fact against the limits and the interner its ids come from.
pub fn check_incident(names: &Names, fact: &IncidentFact) -> Result<(), MetricsError> {
    check_name(names, fact.service)?;
    check_time("detected_at_ms", fact.detected_at_ms)?;
    if let Some(resolved_at_ms) = fact.resolved_at_ms {
        check_time("resolved_at_ms", resolved_at_ms)?;
    }
    if let Some(minutes) = fact.downtime_minutes
        && minutes > DOWNTIME_MAX_MINUTES
    {
        return Err(MetricsError::DowntimeTooLong { minutes });
    }
    Ok(())
}
