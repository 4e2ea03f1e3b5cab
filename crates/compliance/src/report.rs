//! The compliance report: every selected framework's controls with their status, decided by the
//! checks over the framework's population, and the flat list of violations alerting reads.
//!
//! A control is `not_satisfied` when any of its checks has a violation, `not_applicable` when
//! none of its checks had anything to look at (no changes in scope and no ledger), and
//! `satisfied` otherwise. "Not applicable" is never shown as a pass: the HTML and OSCAL say
//! there was no data.

use std::collections::{BTreeMap, BTreeSet};

use changegate_core::{ChangeId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::ComplianceError;
use crate::catalogue::{Control, Framework};
use crate::checks::{
    CheckId, CheckResult, ComplianceInput, ComplianceSettings, DAY_MS, LedgerEvidence, Violation, changes_in_period,
    changes_with_scope, run_check,
};

/// The longest period one report covers.
pub const PERIOD_DAYS_MAX: i64 = 3_660;

/// How a control or a framework stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Satisfied,
    NotSatisfied,
    NotApplicable,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Satisfied => "satisfied",
            Status::NotSatisfied => "not_satisfied",
            Status::NotApplicable => "not_applicable",
        }
    }
}

/// One control's finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlFinding {
    pub id: String,
    pub reference: String,
    pub title: String,
    pub paraphrase: String,
    pub checks: Vec<CheckId>,
    pub status: Status,
    /// The changes at fault under any of its checks, in id order.
    pub violating_changes: Vec<ChangeId>,
    /// Whether a ledger-level violation (not tied to a change) fails it.
    pub ledger_at_fault: bool,
}

/// One framework's findings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameworkReport {
    pub framework: Framework,
    pub name: String,
    /// Service scope tags that put a change under this framework (empty: all production changes).
    pub scope_tags: Vec<String>,
    /// Changes of the period in this framework's scope.
    pub population: u64,
    pub status: Status,
    pub controls: Vec<ControlFinding>,
    pub checks: Vec<CheckResult>,
}

impl FrameworkReport {
    pub fn check(&self, check: CheckId) -> Option<&CheckResult> {
        self.checks.iter().find(|result| result.check == check)
    }
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComplianceReport {
    pub generated_at: Timestamp,
    pub from: Timestamp,
    pub to: Timestamp,
    pub settings: ComplianceSettings,
    pub ledger: LedgerEvidence,
    /// Production changes started or deployed in the period, in id order (the population an
    /// auditor samples from).
    pub changes_in_period: Vec<ChangeId>,
    pub frameworks: Vec<FrameworkReport>,
}

impl ComplianceReport {
    /// Every change at fault in any framework, in id order.
    pub fn violating_changes(&self) -> Vec<ChangeId> {
        let ids: BTreeSet<ChangeId> = self
            .frameworks
            .iter()
            .flat_map(|framework| framework.controls.iter().flat_map(|control| control.violating_changes.iter()))
            .copied()
            .collect();
        ids.into_iter().collect()
    }
}

/// Checks the period: `from` before `to`, at most [`PERIOD_DAYS_MAX`] days.
pub fn check_period(from: Timestamp, to: Timestamp) -> Result<(), ComplianceError> {
    if from >= to {
        return Err(ComplianceError::Period(format!("`from` ({from}) must be before `to` ({to})")));
    }
    if to.since_ms(from) > PERIOD_DAYS_MAX * DAY_MS {
        return Err(ComplianceError::Period(format!("a report covers at most {PERIOD_DAYS_MAX} days")));
    }
    Ok(())
}

/// Evaluates the catalogue's controls of `frameworks` over the input.
pub fn evaluate(input: &ComplianceInput<'_>, frameworks: &[Framework]) -> Result<ComplianceReport, ComplianceError> {
    check_period(input.from, input.to)?;
    let in_period = changes_in_period(input);
    let mut frameworks: Vec<Framework> = frameworks.to_vec();
    frameworks.sort();
    frameworks.dedup();
    let reports = frameworks
        .iter()
        .map(|framework| {
            let population = changes_with_scope(&in_period, input.services, framework.scope_tags());
            evaluate_framework(*framework, &population, input)
        })
        .collect();
    let mut ids: Vec<ChangeId> = in_period.iter().map(|change| change.id).collect();
    ids.sort();
    Ok(ComplianceReport {
        generated_at: input.now,
        from: input.from,
        to: input.to,
        settings: input.settings,
        ledger: input.ledger.clone(),
        changes_in_period: ids,
        frameworks: reports,
    })
}

fn evaluate_framework(
    framework: Framework,
    population: &[&changegate_core::ChangeRecord],
    input: &ComplianceInput<'_>,
) -> FrameworkReport {
    let needed: BTreeSet<CheckId> = framework.controls().flat_map(|control| control.checks.iter().copied()).collect();
    let checks: Vec<CheckResult> = needed.iter().map(|check| run_check(*check, population, input)).collect();
    let by_check: BTreeMap<CheckId, &CheckResult> = checks.iter().map(|result| (result.check, result)).collect();
    let controls: Vec<ControlFinding> =
        framework.controls().map(|control| control_finding(control, &by_check)).collect();
    let status = if controls.iter().any(|control| control.status == Status::NotSatisfied) {
        Status::NotSatisfied
    } else if controls.iter().all(|control| control.status == Status::NotApplicable) {
        Status::NotApplicable
    } else {
        Status::Satisfied
    };
    FrameworkReport {
        framework,
        name: framework.name().to_owned(),
        scope_tags: framework.scope_tags().iter().map(|tag| (*tag).to_owned()).collect(),
        population: population.len() as u64,
        status,
        controls,
        checks,
    }
}

fn control_finding(control: &Control, by_check: &BTreeMap<CheckId, &CheckResult>) -> ControlFinding {
    let results: Vec<&CheckResult> = control.checks.iter().filter_map(|check| by_check.get(check).copied()).collect();
    let violations: Vec<&Violation> = results.iter().flat_map(|result| result.violations.iter()).collect();
    let violating: BTreeSet<ChangeId> = violations.iter().filter_map(|violation| violation.change).collect();
    let status = if !violations.is_empty() {
        Status::NotSatisfied
    } else if results.iter().all(|result| result.population == 0) {
        Status::NotApplicable
    } else {
        Status::Satisfied
    };
    ControlFinding {
        id: control.id.to_owned(),
        reference: control.reference.to_owned(),
        title: control.title(),
        paraphrase: control.paraphrase.to_owned(),
        checks: control.checks.to_vec(),
        status,
        violating_changes: violating.into_iter().collect(),
        ledger_at_fault: violations.iter().any(|violation| violation.change.is_none()),
    }
}

/// One violation of one control: what alerting fires on, once per `key`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ControlViolation {
    pub framework: Framework,
    pub control: String,
    pub check: CheckId,
    pub change: Option<ChangeId>,
    pub code: String,
    pub reason: String,
    /// Stable across runs for the same fault: `framework/control/check/subject/code`. The reason
    /// text is left out because it may name times that move (a deadline, the newest verification).
    pub key: String,
}

impl ControlViolation {
    /// What the violation is about: the change id, or `ledger`.
    pub fn subject(&self) -> String {
        self.change.map(|id| id.to_string()).unwrap_or_else(|| "ledger".to_owned())
    }
}

/// Every (framework, control, violation) of the report, ordered by key. A change that fails a
/// check appears once per control mapped to that check.
pub fn control_violations(report: &ComplianceReport) -> Vec<ControlViolation> {
    let mut listed = Vec::new();
    for framework in &report.frameworks {
        for control in &framework.controls {
            for check in &control.checks {
                let Some(result) = framework.check(*check) else { continue };
                for violation in &result.violations {
                    listed.push(ControlViolation {
                        framework: framework.framework,
                        control: control.id.clone(),
                        check: *check,
                        change: violation.change,
                        code: violation.code.clone(),
                        reason: violation.reason.clone(),
                        key: format!(
                            "{}/{}/{}/{}/{}",
                            framework.framework,
                            control.id,
                            check,
                            violation.subject(),
                            violation.code
                        ),
                    });
                }
            }
        }
    }
    listed.sort_by(|left, right| left.key.cmp(&right.key));
    listed.dedup_by(|left, right| left.key == right.key);
    listed
}

/// Most changes an evidence bundle samples.
pub const SAMPLE_SIZE_MAX: usize = 1_000;

/// The changes an evidence bundle carries, at most `size` (capped at [`SAMPLE_SIZE_MAX`]): every
/// violating change first (in id order), then an even spread, in id order, of the other changes
/// of the period, so the sample covers the whole period and the same report gives the same
/// sample.
pub fn evidence_sample(report: &ComplianceReport, size: usize) -> Vec<ChangeId> {
    let size = size.min(SAMPLE_SIZE_MAX);
    let violating = report.violating_changes();
    let mut sample: Vec<ChangeId> = violating.iter().copied().take(size).collect();
    let at_fault: BTreeSet<ChangeId> = violating.into_iter().collect();
    let others: Vec<ChangeId> = report.changes_in_period.iter().copied().filter(|id| !at_fault.contains(id)).collect();
    let room = size - sample.len();
    if room > 0 && !others.is_empty() {
        let taken = room.min(others.len());
        // Index i·n/k for i in 0..k: evenly spaced, first one included, never repeated.
        sample.extend((0..taken).map(|step| others[step * others.len() / taken]));
    }
    sample
}
