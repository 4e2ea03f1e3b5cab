//! The checks: plain functions over change records and ledger evidence, each giving its
//! population (what it looked at), its violations (change and reason) and what it could not
//! decide.
//!
//! Why "undetermined" exists beside "violated": imported history lacks facts Changegate would
//! have recorded itself (the implementer, approver roles, sometimes approval times). Where a
//! missing fact is the evidence itself (no test evidence, no rollback plan, no review), it is a
//! violation whoever recorded the change: an auditor cannot sample what is not there. Where a
//! missing fact only prevents a comparison (who implemented an imported change, when an
//! imported approval was given), the change is listed as undetermined, which does not fail the
//! check but is shown beside it. Each check's `unknowns` text says which applies.

use std::collections::{BTreeMap, BTreeSet};

use changegate_core::{ChangeId, ChangeRecord, ChangeType, IncidentRecord, ServiceRecord, Timestamp};
use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
pub use changegate_core::civil::DAY_MS;

/// Production is the core's one list of environments.
pub use changegate_core::{PRODUCTION_ENVIRONMENTS, is_production};

/// A check over the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    IndependentApproval,
    ApprovalBeforeImplementation,
    SecurityImpact,
    SecurityEvidence,
    TestEvidence,
    RollbackPlan,
    EmergencyRetrospective,
    PostImplementationReview,
    LedgerIntegrity,
    Retention,
}

impl CheckId {
    pub const ALL: &'static [CheckId] = &[
        CheckId::IndependentApproval,
        CheckId::ApprovalBeforeImplementation,
        CheckId::SecurityImpact,
        CheckId::SecurityEvidence,
        CheckId::TestEvidence,
        CheckId::RollbackPlan,
        CheckId::EmergencyRetrospective,
        CheckId::PostImplementationReview,
        CheckId::LedgerIntegrity,
        CheckId::Retention,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            CheckId::IndependentApproval => "independent-approval",
            CheckId::ApprovalBeforeImplementation => "approval-before-implementation",
            CheckId::SecurityImpact => "security-impact",
            CheckId::SecurityEvidence => "security-evidence",
            CheckId::TestEvidence => "test-evidence",
            CheckId::RollbackPlan => "rollback-plan",
            CheckId::EmergencyRetrospective => "emergency-retrospective",
            CheckId::PostImplementationReview => "post-implementation-review",
            CheckId::LedgerIntegrity => "ledger-integrity",
            CheckId::Retention => "retention",
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            CheckId::IndependentApproval => "Independent approval",
            CheckId::ApprovalBeforeImplementation => "Approval before implementation",
            CheckId::SecurityImpact => "Security impact documented",
            CheckId::SecurityEvidence => "Security evidence for scoped services",
            CheckId::TestEvidence => "Test evidence",
            CheckId::RollbackPlan => "Rollback plan",
            CheckId::EmergencyRetrospective => "Emergency changes approved and reviewed in time",
            CheckId::PostImplementationReview => "Post-implementation review of failures",
            CheckId::LedgerIntegrity => "Ledger integrity",
            CheckId::Retention => "Retention",
        }
    }

    /// What the check requires, and of which population.
    pub const fn definition(self) -> &'static str {
        match self {
            CheckId::IndependentApproval => {
                "Every change in scope that needed a human approval has at least one approver who is neither its requester nor its implementer. Pre-approved standard changes (approved by their template) and emergency changes whose retrospective approval is not yet due are not in the population."
            }
            CheckId::ApprovalBeforeImplementation => {
                "Every standard or normal change in scope was approved (by people, or pre-approved by its template) no later than its implementation started. Emergency changes are checked by emergency-retrospective instead."
            }
            CheckId::SecurityImpact => {
                "Every change in scope has a recorded impact assessment (risk class, the policy's reasons) made no later than its implementation started."
            }
            CheckId::SecurityEvidence => {
                "Every change in scope to a service with a compliance scope carries security evidence (SAST/SCA/secret scan) with no critical findings."
            }
            CheckId::TestEvidence => "Every change in scope carries test evidence (a pipeline run, report or summary).",
            CheckId::RollbackPlan => "Every change in scope has a rollback (fall-back) plan.",
            CheckId::EmergencyRetrospective => {
                "Every emergency change in scope that started before it was approved got its retrospective approval and its post-implementation review by its deadline (recorded at start, else start plus the emergency deadline)."
            }
            CheckId::PostImplementationReview => {
                "Every change in scope that failed, was rolled back or caused an incident has a post-implementation review with a root cause, once the review deadline after the failure has passed."
            }
            CheckId::LedgerIntegrity => {
                "The audit ledger was verified (the whole Merkle tree recomputed and every signed checkpoint checked) successfully and recently (within the verification age limit before the end of the period), a signing key is set, and a checkpoint was signed since the period began."
            }
            CheckId::Retention => {
                "Records are kept for the required retention: every change in scope still has its whole event history (a change recorded by Changegate is never older than the earliest event in the ledger: its creation event is one), and a successful verification shows the log is complete from its first entry. Changegate deletes nothing: database triggers refuse updates and deletes of events."
            }
        }
    }

    /// How the check treats facts that imported history (or old events) do not have.
    pub const fn unknowns(self) -> &'static str {
        match self {
            CheckId::IndependentApproval => {
                "An unknown implementer (imported changes, early events) is not a violation: the approvers are checked against the requester only and the change is listed as undetermined. Approver roles are not needed."
            }
            CheckId::ApprovalBeforeImplementation => {
                "An imported change with approvers but no approval time, or with no start time, is undetermined. A change that started with no approval at all is a violation."
            }
            CheckId::SecurityImpact => {
                "A missing assessment is a violation, imported or not: an imported change without a risk class or score has no impact assessment on record."
            }
            CheckId::SecurityEvidence => {
                "Missing evidence is a violation, imported or not. Imported evidence counts as present when the source said yes; an unknown number of critical findings is not a violation."
            }
            CheckId::TestEvidence => {
                "Missing evidence is a violation, imported or not (the import maps `no` and unknown alike)."
            }
            CheckId::RollbackPlan => "A missing plan is a violation, imported or not.",
            CheckId::EmergencyRetrospective => {
                "Before the deadline a missing approval or review is undetermined (pending), after it a violation. Imported emergency changes have no recorded deadline: start plus the emergency deadline applies."
            }
            CheckId::PostImplementationReview => {
                "Before the review deadline a missing review is undetermined (pending), after it a violation; a review without a root cause is a violation. Imported reviews count when the source recorded a PIR or a root cause."
            }
            CheckId::LedgerIntegrity => {
                "No verification on record is a violation: integrity that was never checked is not evidenced."
            }
            CheckId::Retention => {
                "Imported changes are exempt from the history comparison (their times are the source system's, older than their events). No successful verification is a violation."
            }
        }
    }

    /// Whether the check is about the ledger rather than individual changes.
    pub const fn is_ledger_check(self) -> bool {
        matches!(self, CheckId::LedgerIntegrity)
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.id())
    }
}

/// What the ledger service knows about the audit ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEvidence {
    /// Entries in the log now.
    pub size: u64,
    /// The newest recorded verification's outcome; `None` when none was ever recorded.
    pub verified: Option<bool>,
    pub verified_at: Option<Timestamp>,
    /// Entries the newest verification covered.
    pub verified_size: Option<u64>,
    pub first_bad_index: Option<u64>,
    pub verification_message: Option<String>,
    /// Checkpoints signed in `[from, to)`.
    pub checkpoints_in_period: u64,
    pub latest_checkpoint_at: Option<Timestamp>,
    pub latest_checkpoint_size: Option<u64>,
    pub signing_key_present: bool,
    /// The earliest time of any event in the log (imports and seeded history included).
    pub oldest_event_at: Option<Timestamp>,
}

/// The thresholds the checks use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceSettings {
    /// How long records must be kept.
    pub retention_days_required: u32,
    /// An emergency change's deadline for its retrospective approval and review, from its start,
    /// where the change did not record one.
    pub emergency_deadline_ms: i64,
    /// How long after a failure its post-implementation review may take.
    pub review_deadline_ms: i64,
    /// How old the newest successful verification may be at the end of the period.
    pub verification_age_max_ms: i64,
}

impl Default for ComplianceSettings {
    fn default() -> Self {
        ComplianceSettings {
            // Six years: the longest of the catalogue (HIPAA documentation, 164.316(b)(2)(i)).
            retention_days_required: 6 * 365,
            emergency_deadline_ms: DAY_MS,
            review_deadline_ms: 14 * DAY_MS,
            verification_age_max_ms: 7 * DAY_MS,
        }
    }
}

/// Everything the checks read. `now` is the report time; nothing here reads a clock.
#[derive(Clone, Copy, Debug)]
pub struct ComplianceInput<'a> {
    /// Start of the period (inclusive).
    pub from: Timestamp,
    /// End of the period (exclusive).
    pub to: Timestamp,
    pub now: Timestamp,
    pub changes: &'a [ChangeRecord],
    pub incidents: &'a [IncidentRecord],
    pub services: &'a [ServiceRecord],
    pub ledger: &'a LedgerEvidence,
    pub settings: ComplianceSettings,
}

/// One change (or the ledger, when `change` is `None`) that failed a check, or that the check
/// could not decide.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Violation {
    pub change: Option<ChangeId>,
    /// A stable short code of what is wrong (`approved-after-start`), for alert keys.
    pub code: String,
    pub reason: String,
}

impl Violation {
    fn of(change: &ChangeRecord, code: &str, reason: impl Into<String>) -> Self {
        Violation { change: Some(change.id), code: code.to_owned(), reason: reason.into() }
    }

    fn of_ledger(code: &str, reason: impl Into<String>) -> Self {
        Violation { change: None, code: code.to_owned(), reason: reason.into() }
    }

    /// What the violation is about: the change id, or `ledger`.
    pub fn subject(&self) -> String {
        self.change.map(|id| id.to_string()).unwrap_or_else(|| "ledger".to_owned())
    }
}

/// A check's outcome over one population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: CheckId,
    /// How many changes (or ledgers) the check looked at.
    pub population: u64,
    pub violations: Vec<Violation>,
    /// Changes it could not decide (not failures; see [`CheckId::unknowns`]).
    pub undetermined: Vec<Violation>,
}

impl CheckResult {
    /// Satisfied: no violations.
    pub fn satisfied(&self) -> bool {
        self.violations.is_empty()
    }

    /// The distinct changes at fault, in id order.
    pub fn violating_changes(&self) -> Vec<ChangeId> {
        let ids: BTreeSet<ChangeId> = self.violations.iter().filter_map(|violation| violation.change).collect();
        ids.into_iter().collect()
    }
}

/// Whether `time` falls in `[from, to)`.
fn within(time: Option<Timestamp>, from: Timestamp, to: Timestamp) -> bool {
    time.is_some_and(|time| from <= time && time < to)
}

/// The changes a report covers: production changes whose implementation started, or whose
/// deployment finished (completed, failed or rolled back), in `[from, to)`.
pub fn changes_in_period<'a>(input: &ComplianceInput<'a>) -> Vec<&'a ChangeRecord> {
    input
        .changes
        .iter()
        .filter(|change| is_production(change.environment.as_str()))
        .filter(|change| {
            within(change.started_at, input.from, input.to) || within(change.deployed_at(), input.from, input.to)
        })
        .collect()
}

/// Of `changes`, those of services carrying one of `tags` (all of them when `tags` is empty).
pub fn changes_with_scope<'a>(
    changes: &[&'a ChangeRecord],
    services: &[ServiceRecord],
    tags: &[&str],
) -> Vec<&'a ChangeRecord> {
    if tags.is_empty() {
        return changes.to_vec();
    }
    let tagged: BTreeSet<&str> = services
        .iter()
        .filter(|service| service.scopes.iter().any(|scope| tags.contains(&scope.as_str())))
        .map(|service| service.name.as_str())
        .collect();
    changes.iter().copied().filter(|change| tagged.contains(change.service.as_str())).collect()
}

/// Runs one check over `population` (the changes in scope of one framework).
pub fn run_check(check: CheckId, population: &[&ChangeRecord], input: &ComplianceInput<'_>) -> CheckResult {
    match check {
        CheckId::IndependentApproval => independent_approval(population, input),
        CheckId::ApprovalBeforeImplementation => approval_before_implementation(population),
        CheckId::SecurityImpact => security_impact(population),
        CheckId::SecurityEvidence => security_evidence(population, input.services),
        CheckId::TestEvidence => {
            evidence_present(check, population, |change| &change.test_evidence, "no-test-evidence", "no test evidence")
        }
        CheckId::RollbackPlan => {
            evidence_present(check, population, |change| &change.rollback_plan, "no-rollback-plan", "no rollback plan")
        }
        CheckId::EmergencyRetrospective => emergency_retrospective(population, input),
        CheckId::PostImplementationReview => post_implementation_review(population, input),
        CheckId::LedgerIntegrity => ledger_integrity(input),
        CheckId::Retention => retention(population, input),
    }
}

fn result(check: CheckId, population: usize, violations: Vec<Violation>, undetermined: Vec<Violation>) -> CheckResult {
    CheckResult { check, population: population as u64, violations, undetermined }
}

fn blank(text: &Option<String>) -> bool {
    text.as_deref().is_none_or(|text| text.trim().is_empty())
}

fn names(names: &[&str]) -> String {
    names.join(", ")
}

/// When an emergency change's retrospective approval and review are due, if it needed them.
fn retrospective_deadline(change: &ChangeRecord, settings: &ComplianceSettings) -> Option<Timestamp> {
    if change.change_type != ChangeType::Emergency {
        return None;
    }
    let started = change.started_at?;
    let approved_before_start = change.approved_at.is_some_and(|approved| approved <= started);
    if approved_before_start {
        return None;
    }
    Some(change.retrospective_due.unwrap_or(started.plus_ms(settings.emergency_deadline_ms)))
}

/// The [`CheckId::IndependentApproval`] check (its `definition` and `unknowns` say what it requires).
pub fn independent_approval(population: &[&ChangeRecord], input: &ComplianceInput<'_>) -> CheckResult {
    let mut violations = Vec::new();
    let mut undetermined = Vec::new();
    let mut counted = 0usize;
    for change in population {
        if change.auto_approved {
            continue;
        }
        // Its approval is not due yet: emergency-retrospective lists it as pending.
        let retrospective_pending = change.approvals.is_empty()
            && retrospective_deadline(change, &input.settings).is_some_and(|due| input.now < due);
        if retrospective_pending {
            continue;
        }
        counted += 1;
        if change.approvals.is_empty() {
            violations.push(Violation::of(change, "no-approval", "no approval recorded"));
            continue;
        }
        let implementer = change.implementer.as_ref();
        let independent: Vec<&str> = change
            .approvals
            .iter()
            .filter(|approval| approval.approver != change.requester && Some(&approval.approver) != implementer)
            .map(|approval| approval.approver.as_str())
            .collect();
        if independent.is_empty() {
            let approvers: Vec<&str> = change.approvals.iter().map(|approval| approval.approver.as_str()).collect();
            violations.push(Violation::of(
                change,
                "approver-not-independent",
                format!(
                    "every approver ({}) is also its requester ({}) or implementer ({})",
                    names(&approvers),
                    change.requester,
                    implementer.map(|name| name.as_str()).unwrap_or("unknown")
                ),
            ));
        } else if implementer.is_none() {
            undetermined.push(Violation::of(
                change,
                "implementer-unknown",
                format!(
                    "the implementer is not recorded{}: approver(s) {} differ from the requester, independence from the implementer cannot be shown",
                    if change.imported { " (imported)" } else { "" },
                    names(&independent)
                ),
            ));
        }
    }
    result(CheckId::IndependentApproval, counted, violations, undetermined)
}

/// The [`CheckId::ApprovalBeforeImplementation`] check (its `definition` and `unknowns` say what it requires).
pub fn approval_before_implementation(population: &[&ChangeRecord]) -> CheckResult {
    let mut violations = Vec::new();
    let mut undetermined = Vec::new();
    let mut counted = 0usize;
    for change in population.iter().filter(|change| change.change_type != ChangeType::Emergency) {
        counted += 1;
        match (change.approved_at, change.started_at) {
            (None, _) if !change.approvals.is_empty() && change.imported => undetermined.push(Violation::of(
                change,
                "approval-time-unknown",
                "imported with approvers but without the time of approval",
            )),
            (None, _) => {
                violations.push(Violation::of(change, "not-approved", "implemented without a recorded approval"))
            }
            (Some(_), None) => undetermined.push(Violation::of(
                change,
                "start-unknown",
                "imported without the time its implementation started",
            )),
            (Some(approved), Some(started)) if approved > started => violations.push(Violation::of(
                change,
                "approved-after-start",
                format!("approved at {approved}, after its implementation started at {started}"),
            )),
            (Some(_), Some(_)) => {}
        }
    }
    result(CheckId::ApprovalBeforeImplementation, counted, violations, undetermined)
}

/// The [`CheckId::SecurityImpact`] check (its `definition` and `unknowns` say what it requires).
pub fn security_impact(population: &[&ChangeRecord]) -> CheckResult {
    let mut violations = Vec::new();
    for change in population {
        match (&change.assessment, change.started_at) {
            (None, _) => {
                violations.push(Violation::of(change, "no-impact-assessment", "no impact assessment recorded"))
            }
            (Some(assessment), Some(started)) if assessment.at > started => violations.push(Violation::of(
                change,
                "assessed-after-start",
                format!("assessed at {}, after its implementation started at {started}", assessment.at),
            )),
            _ => {}
        }
    }
    result(CheckId::SecurityImpact, population.len(), violations, Vec::new())
}

/// The [`CheckId::SecurityEvidence`] check (its `definition` and `unknowns` say what it requires).
pub fn security_evidence(population: &[&ChangeRecord], services: &[ServiceRecord]) -> CheckResult {
    let scoped_services: BTreeMap<&str, Vec<&str>> = services
        .iter()
        .filter(|service| !service.scopes.is_empty())
        .map(|service| (service.name.as_str(), service.scopes.iter().map(|scope| scope.as_str()).collect()))
        .collect();
    let mut violations = Vec::new();
    let mut counted = 0usize;
    for change in population {
        let scopes = scoped_services.get(change.service.as_str());
        let scoped = scopes.is_some() || change.assessment.as_ref().is_some_and(|assessment| assessment.scoped);
        if !scoped {
            continue;
        }
        counted += 1;
        let scope_text = scopes.map(|scopes| format!(" in scope {}", scopes.join("/"))).unwrap_or_default();
        if blank(&change.security_evidence) {
            violations.push(Violation::of(
                change,
                "no-security-evidence",
                format!("no security evidence for {}{scope_text}", change.service),
            ));
        } else if let Some(findings @ 1..) = change.security_critical_findings {
            violations.push(Violation::of(
                change,
                "critical-findings",
                format!("deployed to {}{scope_text} with {findings} critical security finding(s)", change.service),
            ));
        }
    }
    result(CheckId::SecurityEvidence, counted, violations, Vec::new())
}

fn evidence_present(
    check: CheckId,
    population: &[&ChangeRecord],
    field: impl Fn(&ChangeRecord) -> &Option<String>,
    code: &str,
    reason: &str,
) -> CheckResult {
    let violations = population
        .iter()
        .filter(|change| blank(field(change)))
        .map(|change| Violation::of(change, code, reason))
        .collect();
    result(check, population.len(), violations, Vec::new())
}

/// The [`CheckId::EmergencyRetrospective`] check (its `definition` and `unknowns` say what it requires).
pub fn emergency_retrospective(population: &[&ChangeRecord], input: &ComplianceInput<'_>) -> CheckResult {
    let mut violations = Vec::new();
    let mut undetermined = Vec::new();
    let mut counted = 0usize;
    for change in population {
        let Some(due) = retrospective_deadline(change, &input.settings) else { continue };
        counted += 1;
        match change.approved_at {
            Some(approved) if approved > due => violations.push(Violation::of(
                change,
                "retrospective-approval-late",
                format!("retrospective approval at {approved}, after its deadline {due}"),
            )),
            Some(_) => {}
            None if input.now >= due => violations.push(Violation::of(
                change,
                "retrospective-approval-missing",
                format!("no retrospective approval; it was due at {due}"),
            )),
            None => undetermined.push(Violation::of(
                change,
                "retrospective-approval-pending",
                format!("retrospective approval not yet given; due at {due}"),
            )),
        }
        match &change.review {
            Some(review) if review.at > due => violations.push(Violation::of(
                change,
                "retrospective-review-late",
                format!("post-implementation review at {}, after its deadline {due}", review.at),
            )),
            Some(_) => {}
            None if input.now >= due => violations.push(Violation::of(
                change,
                "retrospective-review-missing",
                format!("no post-implementation review; it was due at {due}"),
            )),
            None => undetermined.push(Violation::of(
                change,
                "retrospective-review-pending",
                format!("post-implementation review not yet recorded; due at {due}"),
            )),
        }
    }
    result(CheckId::EmergencyRetrospective, counted, violations, undetermined)
}

/// The [`CheckId::PostImplementationReview`] check (its `definition` and `unknowns` say what it requires).
pub fn post_implementation_review(population: &[&ChangeRecord], input: &ComplianceInput<'_>) -> CheckResult {
    let mut incident_times: BTreeMap<ChangeId, Timestamp> = BTreeMap::new();
    for incident in input.incidents {
        if let Some(cause) = incident.caused_by {
            let earliest = incident_times.entry(cause).or_insert(incident.detected_at);
            *earliest = (*earliest).min(incident.detected_at);
        }
    }
    let mut violations = Vec::new();
    let mut undetermined = Vec::new();
    let mut counted = 0usize;
    for change in population {
        let failure = [change.failed_at, change.rolled_back_at, incident_times.get(&change.id).copied()]
            .into_iter()
            .flatten()
            .min();
        let Some(failure) = failure else { continue };
        counted += 1;
        let what = match (change.rolled_back_at, change.failed_at) {
            (Some(_), _) => "rolled back",
            (None, Some(_)) => "failed",
            (None, None) => "caused an incident",
        };
        let due = failure.plus_ms(input.settings.review_deadline_ms);
        match &change.review {
            Some(review) if blank(&review.root_cause) => violations.push(Violation::of(
                change,
                "root-cause-missing",
                format!("{what}; its review at {} records no root cause", review.at),
            )),
            Some(_) => {}
            None if input.now >= due => violations.push(Violation::of(
                change,
                "review-missing",
                format!("{what} at {failure}; no post-implementation review by {due}"),
            )),
            None => undetermined.push(Violation::of(
                change,
                "review-pending",
                format!("{what} at {failure}; its review is due by {due}"),
            )),
        }
    }
    result(CheckId::PostImplementationReview, counted, violations, undetermined)
}

/// The [`CheckId::LedgerIntegrity`] check (its `definition` and `unknowns` say what it requires).
pub fn ledger_integrity(input: &ComplianceInput<'_>) -> CheckResult {
    let ledger = input.ledger;
    if ledger.size == 0 {
        return result(CheckId::LedgerIntegrity, 0, Vec::new(), Vec::new());
    }
    let mut violations = Vec::new();
    let end = input.to.min(input.now);
    match (ledger.verified, ledger.verified_at) {
        (None, _) | (_, None) => violations.push(Violation::of_ledger(
            "never-verified",
            "no ledger verification is on record (run `changegate audit verify` or POST /api/v1/ledger/verify)",
        )),
        (Some(false), Some(at)) => violations.push(Violation::of_ledger(
            "verification-failed",
            format!(
                "the newest verification, at {at}, FAILED{}: {}",
                ledger.first_bad_index.map(|index| format!(" at index {index}")).unwrap_or_default(),
                ledger.verification_message.as_deref().unwrap_or("no message")
            ),
        )),
        (Some(true), Some(at)) if end.since_ms(at) > input.settings.verification_age_max_ms => {
            violations.push(Violation::of_ledger(
                "verification-stale",
                format!(
                    "the newest verification, at {at}, is more than {} day(s) older than the end of the period ({end})",
                    input.settings.verification_age_max_ms / DAY_MS
                ),
            ))
        }
        (Some(true), Some(_)) => {}
    }
    if !ledger.signing_key_present {
        violations.push(Violation::of_ledger(
            "no-signing-key",
            "no checkpoint signing key is set: the tree head is not signed",
        ));
    }
    if ledger.latest_checkpoint_at.is_none_or(|at| at < input.from) {
        violations.push(Violation::of_ledger(
            "no-checkpoint-in-period",
            format!(
                "no checkpoint was signed since the period began ({}); the newest is {}",
                input.from,
                ledger.latest_checkpoint_at.map(|at| at.to_rfc3339()).unwrap_or_else(|| "none".to_owned())
            ),
        ));
    }
    result(CheckId::LedgerIntegrity, 1, violations, Vec::new())
}

/// The [`CheckId::Retention`] check (its `definition` and `unknowns` say what it requires).
pub fn retention(population: &[&ChangeRecord], input: &ComplianceInput<'_>) -> CheckResult {
    let ledger = input.ledger;
    let mut violations = Vec::new();
    if ledger.size > 0 && ledger.verified != Some(true) {
        violations.push(Violation::of_ledger(
            "completeness-unproven",
            "no successful verification shows that the log is complete from its first entry",
        ));
    }
    if let Some(oldest) = ledger.oldest_event_at {
        for change in population.iter().filter(|change| !change.imported && change.created_at < oldest) {
            violations.push(Violation::of(
                change,
                "history-missing",
                format!(
                    "created at {} but the earliest event in the ledger is from {oldest}: its creation event is gone",
                    change.created_at
                ),
            ));
        }
    }
    result(CheckId::Retention, population.len() + usize::from(ledger.size > 0), violations, Vec::new())
}
