//! A deployment with its derived facts, and the integer totals a group of deployments adds up to.
//!
//! Both the index and the reference implementation reduce a set of deployments to the same
//! [`GroupTotals`] (counts, sums and exact percentile values in milliseconds); only then are
//! they turned into rates, hours and bands (`report`). Keeping everything an integer up to that
//! point is what lets the index answer exactly what the plain loops answer.

use changegate_core::{ChangeType, RiskClass, Severity};

use crate::facts::{ChangeFact, ChangeOutcome, IncidentFact};
use crate::names::NameId;

/// Number of risk-score buckets: 0–9, 10–19, …, 80–89 and 90–100.
pub const RISK_BUCKETS: usize = 10;

/// How a failed deployment recovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The deployment did not fail.
    NotFailed,
    /// It recovered this many milliseconds after it completed.
    Recovered { after_ms: i64 },
    /// An incident it caused is still open, or (without incidents) no later deployment of its
    /// service succeeded yet.
    Unrecovered,
}

/// The counted incidents of one deployment, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IncidentSummary {
    pub count: u64,
    pub resolved: u64,
    /// Σ (resolved − detected) over the resolved ones (128 bits: ten million incidents of
    /// centuries each still fit).
    pub resolution_sum_ms: i128,
    /// The latest resolution, when every one is resolved.
    pub all_resolved_at_ms: Option<i64>,
    pub downtime_minutes: u64,
    pub by_severity: [u64; 4],
    /// Detection times, ascending (for the time between failures).
    pub detected_ms: Vec<i64>,
}

impl IncidentSummary {
    /// Sums the counted incidents of one deployment (`incidents` all name it as their cause).
    pub fn of<'a>(incidents: impl IntoIterator<Item = &'a IncidentFact>) -> Option<Box<IncidentSummary>> {
        let mut summary = IncidentSummary::default();
        let mut latest_resolved_ms = i64::MIN;
        let mut all_resolved = true;
        for incident in incidents {
            summary.count += 1;
            match incident.resolved_at_ms {
                Some(resolved_at_ms) => {
                    summary.resolved += 1;
                    summary.resolution_sum_ms += i128::from(resolved_at_ms - incident.detected_at_ms);
                    latest_resolved_ms = latest_resolved_ms.max(resolved_at_ms);
                }
                None => all_resolved = false,
            }
            summary.downtime_minutes += u64::from(incident.downtime_minutes.unwrap_or(0));
            summary.by_severity[severity_index(incident.severity)] += 1;
            summary.detected_ms.push(incident.detected_at_ms);
        }
        if summary.count == 0 {
            return None;
        }
        summary.detected_ms.sort_unstable();
        summary.all_resolved_at_ms = all_resolved.then_some(latest_resolved_ms);
        Some(Box::new(summary))
    }
}

/// One deployment as the metrics see it: the fact's fields they read, and what is derived from
/// its neighbours and incidents (`failed`, `recovery`, `rework`, `incidents`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub number: u64,
    pub completed_at_ms: i64,
    pub service: NameId,
    pub team: NameId,
    pub environment: NameId,
    pub change_type: ChangeType,
    pub outcome: ChangeOutcome,
    /// completed − (first commit, else created), for successful deployments only.
    pub lead_ms: Option<i64>,
    /// approved − submitted.
    pub approval_ms: Option<i64>,
    /// completed − approved, unless the approval came after completion (a retrospective one).
    pub implement_ms: Option<i64>,
    pub risk_score: Option<u8>,
    pub risk_class: Option<RiskClass>,
    /// Failed, rolled back, or the cause of at least one counted incident.
    pub failed: bool,
    pub recovery: Recovery,
    /// An emergency change whose service's previous deployment failed.
    pub rework: bool,
    pub incidents: Option<Box<IncidentSummary>>,
}

impl Deployment {
    /// The deployment a fact describes, before anything is derived; `fact` must be a deployment.
    pub fn from_fact(fact: &ChangeFact) -> Deployment {
        let completed_at_ms = fact.completed_at_ms.unwrap_or(0);
        let lead_ms = (fact.outcome == ChangeOutcome::Success)
            .then(|| completed_at_ms - fact.first_commit_at_ms.unwrap_or(fact.created_at_ms));
        let approval_ms = match (fact.submitted_at_ms, fact.approved_at_ms) {
            (Some(submitted_at_ms), Some(approved_at_ms)) => Some(approved_at_ms - submitted_at_ms),
            _ => None,
        };
        let implement_ms = fact
            .approved_at_ms
            .filter(|approved_at_ms| *approved_at_ms <= completed_at_ms)
            .map(|approved_at_ms| completed_at_ms - approved_at_ms);
        Deployment {
            number: fact.number,
            completed_at_ms,
            service: fact.service,
            team: fact.team,
            environment: fact.environment,
            change_type: fact.change_type,
            outcome: fact.outcome,
            lead_ms,
            approval_ms,
            implement_ms,
            risk_score: fact.risk_score,
            risk_class: fact.risk_class,
            failed: fact.outcome.is_failed_deployment(),
            recovery: Recovery::NotFailed,
            rework: false,
            incidents: None,
        }
    }

    /// The order of deployments: by completion, then by change number.
    pub fn order_key(&self) -> (i64, u64) {
        (self.completed_at_ms, self.number)
    }

    /// Whether two rows differ only in what is derived.
    pub fn same_fact(&self, other: &Deployment) -> bool {
        self.number == other.number
            && self.completed_at_ms == other.completed_at_ms
            && self.service == other.service
            && self.team == other.team
            && self.environment == other.environment
            && self.change_type == other.change_type
            && self.outcome == other.outcome
            && self.lead_ms == other.lead_ms
            && self.approval_ms == other.approval_ms
            && self.implement_ms == other.implement_ms
            && self.risk_score == other.risk_score
            && self.risk_class == other.risk_class
    }
}

pub fn change_type_index(change_type: ChangeType) -> usize {
    match change_type {
        ChangeType::Standard => 0,
        ChangeType::Normal => 1,
        ChangeType::Emergency => 2,
    }
}

pub fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Sev1 => 0,
        Severity::Sev2 => 1,
        Severity::Sev3 => 2,
        Severity::Sev4 => 3,
    }
}

pub fn risk_class_index(risk_class: RiskClass) -> usize {
    match risk_class {
        RiskClass::Low => 0,
        RiskClass::Medium => 1,
        RiskClass::High => 2,
        RiskClass::Critical => 3,
    }
}

/// 0 for scores 0–9 … 9 for 90–100.
pub fn risk_bucket(score: u8) -> usize {
    usize::from(score / 10).min(RISK_BUCKETS - 1)
}

/// The additive part of a group's totals: plain counts and sums that add across weeks and
/// subtract when a deployment leaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub deployments: u64,
    pub failed: u64,
    pub unrecovered: u64,
    pub rework: u64,
    pub by_type: [u64; 3],
    pub incidents: u64,
    pub incidents_resolved: u64,
    pub incident_resolution_sum_ms: i128,
    pub downtime_minutes: u64,
    pub by_severity: [u64; 4],
    /// Per risk bucket: deployments and failed deployments.
    pub risk_buckets: [[u64; 2]; RISK_BUCKETS],
    /// Per risk class: deployments and failed deployments.
    pub risk_classes: [[u64; 2]; 4],
}

impl Tally {
    /// Adds (`sign` = 1) or takes away (`sign` = −1) one deployment; counts wrap, so a take-away
    /// of what was added restores the tally exactly.
    pub fn count(&mut self, deployment: &Deployment, sign: i64) {
        let step = sign as u64;
        let failed = u64::from(deployment.failed).wrapping_mul(step);
        self.deployments = self.deployments.wrapping_add(step);
        self.failed = self.failed.wrapping_add(failed);
        if deployment.recovery == Recovery::Unrecovered {
            self.unrecovered = self.unrecovered.wrapping_add(step);
        }
        if deployment.rework {
            self.rework = self.rework.wrapping_add(step);
        }
        let type_index = change_type_index(deployment.change_type);
        self.by_type[type_index] = self.by_type[type_index].wrapping_add(step);
        if let Some(summary) = &deployment.incidents {
            self.incidents = self.incidents.wrapping_add(summary.count.wrapping_mul(step));
            self.incidents_resolved = self.incidents_resolved.wrapping_add(summary.resolved.wrapping_mul(step));
            self.incident_resolution_sum_ms += summary.resolution_sum_ms * i128::from(sign);
            self.downtime_minutes = self.downtime_minutes.wrapping_add(summary.downtime_minutes.wrapping_mul(step));
            for (total, count) in self.by_severity.iter_mut().zip(summary.by_severity) {
                *total = total.wrapping_add(count.wrapping_mul(step));
            }
        }
        if let Some(score) = deployment.risk_score {
            let bucket = &mut self.risk_buckets[risk_bucket(score)];
            bucket[0] = bucket[0].wrapping_add(step);
            bucket[1] = bucket[1].wrapping_add(failed);
        }
        if let Some(risk_class) = deployment.risk_class {
            let row = &mut self.risk_classes[risk_class_index(risk_class)];
            row[0] = row[0].wrapping_add(step);
            row[1] = row[1].wrapping_add(failed);
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &Tally) {
        self.deployments += other.deployments;
        self.failed += other.failed;
        self.unrecovered += other.unrecovered;
        self.rework += other.rework;
        self.incidents += other.incidents;
        self.incidents_resolved += other.incidents_resolved;
        self.incident_resolution_sum_ms += other.incident_resolution_sum_ms;
        self.downtime_minutes += other.downtime_minutes;
        for (total, count) in self.by_type.iter_mut().zip(other.by_type) {
            *total += count;
        }
        for (total, count) in self.by_severity.iter_mut().zip(other.by_severity) {
            *total += count;
        }
        for (total, row) in self.risk_buckets.iter_mut().zip(other.risk_buckets) {
            total[0] += row[0];
            total[1] += row[1];
        }
        for (total, row) in self.risk_classes.iter_mut().zip(other.risk_classes) {
            total[0] += row[0];
            total[1] += row[1];
        }
    }
}

/// Everything a group of deployments adds up to, still in integers and milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupTotals {
    pub tally: Tally,
    /// Distinct UTC days with at least one deployment.
    pub deployment_days: u64,
    /// Lead time median and p90.
    pub lead_ms: [Option<i64>; 2],
    /// Approval time median and p90.
    pub approval_ms: [Option<i64>; 2],
    pub implement_median_ms: Option<i64>,
    pub recovery_median_ms: Option<i64>,
    /// The earliest and latest detection among the group's counted incidents.
    pub incident_detected_range_ms: Option<(i64, i64)>,
}
