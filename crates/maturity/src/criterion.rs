//! What a criterion is and what its check measures: the dimensions, the criterion type with its
//! kind, comparison and unit, the measurement a check returns and the evidence behind it.
//!
//! Why a leaf module: the rubric (the table of criteria) names the checks, and the checks and the
//! assessment need the criterion's type and the measurement; with those here, importing nothing
//! from the rubric, the checks or the assessment, none of them imports another in a circle.

use serde::{Deserialize, Serialize};

use crate::facts::Facts;

/// A column of the seed's maturity table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// "Process description" and "Key characteristics".
    Process,
    RiskManagement,
    /// "Metrics & KPIs".
    Metrics,
    Automation,
    /// "Audit/compliance".
    AuditCompliance,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Process,
        Dimension::RiskManagement,
        Dimension::Metrics,
        Dimension::Automation,
        Dimension::AuditCompliance,
    ];

    /// The name in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Process => "process",
            Dimension::RiskManagement => "risk_management",
            Dimension::Metrics => "metrics",
            Dimension::Automation => "automation",
            Dimension::AuditCompliance => "audit_compliance",
        }
    }

    /// The name for people.
    pub fn title(self) -> &'static str {
        match self {
            Dimension::Process => "Process",
            Dimension::RiskManagement => "Risk management",
            Dimension::Metrics => "Metrics & KPIs",
            Dimension::Automation => "Automation",
            Dimension::AuditCompliance => "Audit & compliance",
        }
    }
}

/// Where a criterion's evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// The change and incident records, live or imported.
    Data,
    /// Evidence only a live installation has: policy versions, alert rules, the risk model, the
    /// ledger, rollback hooks, and what the live decision records carry (policy hashes, the
    /// model's prediction).
    Live,
    /// A question, for what data cannot show. Not answering counts as "no".
    Question,
}

/// How a measured value is compared with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtLeast,
    AtMost,
}

/// The unit of a measured value and its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share between 0 and 1.
    Share,
    Count,
    Days,
    /// ROC AUC, between 0 and 1.
    Auc,
    /// A ratio of two durations.
    Ratio,
    /// 1 for yes, 0 for no.
    Answer,
}

/// One criterion of one level.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Criterion {
    /// `dimension.name`, stable: answers, links and documents refer to it.
    pub id: &'static str,
    pub dimension: Dimension,
    pub level: u8,
    pub kind: CriterionKind,
    pub title: &'static str,
    /// What is measured, in one sentence.
    pub measures: &'static str,
    pub threshold: f64,
    pub comparison: Comparison,
    pub unit: Unit,
    /// The fewest items the measure needs; below it the criterion is unmet ("too few to tell").
    pub sample_min: u32,
    /// The sentence of the seed the criterion comes from.
    pub seed: &'static str,
    /// The roadmap step that meets it.
    pub step: &'static str,
    /// The Changegate feature that helps.
    pub feature: &'static str,
    /// The question asked, for [`CriterionKind::Question`].
    pub question: Option<&'static str>,
    #[serde(skip)]
    pub(crate) check: fn(&Facts<'_>, &Criterion) -> Measurement,
}

/// Production deployments a share over deployments needs: fewer in 90 days tells nothing.
pub(crate) const DEPLOYMENTS_MIN: u32 = 10;
/// Deployments a team needs in the period to be judged on its own.
pub(crate) const TEAM_DEPLOYMENTS_MIN: u32 = 5;

/// What a check found.
#[derive(Clone, Debug)]
pub(crate) struct Measurement {
    pub met: bool,
    pub value: Option<f64>,
    pub evidence: Evidence,
    /// How many changes have to improve to meet the criterion (for the roadmap's order); for a
    /// criterion about the whole installation, every deployment of the period.
    pub shortfall: u64,
}

/// What a criterion's check found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The measurement in one sentence: counts, shares, medians, what was missing.
    pub summary: String,
    /// How many items were measured, for shares.
    pub population: Option<u64>,
    /// How many of them meet the check.
    pub matching: Option<u64>,
    /// Changes that do not meet the check (the ones to fix), at most five.
    #[serde(default)]
    pub sample_change_ids: Vec<String>,
    /// Incidents that do not meet the check, at most five.
    #[serde(default)]
    pub sample_incident_ids: Vec<String>,
}
