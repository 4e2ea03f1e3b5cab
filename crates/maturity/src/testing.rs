//! Test histories: a builder of change and incident records over a 90-day period, so each test
//! states only what matters to it. Every deployment starts bare (recorded, started, completed and
//! verified, with nothing else: no risk class, approval, evidence or pipeline) and the test adds
//! what it checks.

use std::collections::BTreeMap;

use changegate_core::projection::{Approval, Assessment as RecordedAssessment, Review};
use changegate_core::{
    ChangeId, ChangeRecord, ChangeState, IncidentId, IncidentRecord, LinkProvenance, Name, RiskClass, ServiceRecord,
    Severity, Tier, Timestamp,
};

use changegate_core::testing::bare_deployment;

use crate::assessment::{Assessment, assess};
use crate::criterion::Measurement;
use crate::facts::Facts;
use crate::input::{Answer, AssessmentInput, LiveEvidence};
use crate::rubric::criterion;

/// 2026-01-01T00:00:00Z: the start of the test period.
pub(crate) const START: Timestamp = Timestamp::from_unix_ms(1_767_225_600_000);
pub(crate) use changegate_core::civil::DAY_MS;
pub(crate) use changegate_core::civil::HOUR_MS;
/// Hours between the default times of consecutive deployments.
const SLOT_HOURS: i64 = 7;
/// The default times wrap within the period's first 87.5 days.
const SLOT_SPAN_HOURS: i64 = 2100;

/// `count` hours after the period's start (negative: before it).
pub(crate) fn hours(count: i64) -> Timestamp {
    START.plus_ms(count * HOUR_MS)
}

pub(crate) fn name(text: &str) -> Name {
    Name::parse(text).expect("a valid test name")
}

/// Records a risk assessment of `class` on the change, a minute after it was created, with a
/// score in the class' band.
pub(crate) fn classify(change: &mut ChangeRecord, class: RiskClass) {
    let at = change.created_at.plus_ms(60 * 1000);
    change.submitted_at.get_or_insert(at);
    change.assessment = Some(RecordedAssessment {
        risk_class: class,
        approvals_required: 1,
        rule: "test".into(),
        reasons: Vec::new(),
        at,
        required_approvals: Vec::new(),
        deny: Vec::new(),
        warn: Vec::new(),
        policy_sha256: None,
        input_sha256: None,
        policy_error: None,
        scoped: false,
        risk_score: None,
        conflicts: Vec::new(),
        freeze: None,
        risk_factors: Vec::new(),
        risk_probability: None,
        risk_model: None,
    });
}

/// A person's approval `minutes` after submission (submitted a minute after creation if not yet).
pub(crate) fn approve(change: &mut ChangeRecord, minutes: i64) {
    let submitted = *change.submitted_at.get_or_insert(change.created_at.plus_ms(60 * 1000));
    let at = submitted.plus_ms(minutes * 60 * 1000);
    change.approvals.push(Approval {
        approver: name("bob"),
        at,
        comment: None,
        retrospective: change.started_at.is_some_and(|started| started < at),
        roles: Vec::new(),
        team: None,
    });
    change.approved_at = Some(at);
}

/// Pre-approval by the policy at submission.
pub(crate) fn auto_approve(change: &mut ChangeRecord) {
    let submitted = *change.submitted_at.get_or_insert(change.created_at.plus_ms(60 * 1000));
    change.auto_approved = true;
    change.approved_at = Some(submitted);
}

/// Marks the change failed at its completion.
pub(crate) fn fail(change: &mut ChangeRecord) {
    change.verified_at = None;
    change.failed_at = change.completed_at;
    change.state = ChangeState::Failed;
}

/// A review, with a root cause when given.
pub(crate) fn review(change: &mut ChangeRecord, root_cause: Option<&str>) {
    change.review = Some(Review {
        reviewer: name("carol"),
        at: change.completed_at.unwrap_or(change.created_at).plus_ms(DAY_MS),
        root_cause: root_cause.map(str::to_owned),
        comment: None,
    });
}

/// A change history over the period [`START`, `START` + 90 days).
pub(crate) struct History {
    pub from: Timestamp,
    pub to: Timestamp,
    pub now: Timestamp,
    pub changes: Vec<ChangeRecord>,
    pub incidents: Vec<IncidentRecord>,
    pub services: Vec<ServiceRecord>,
    pub live: LiveEvidence,
    pub answers: BTreeMap<String, Answer>,
}

impl History {
    /// An empty history with two services: `payments-api` (tier 1, team payments) and `blog`
    /// (tier 4, team web).
    pub fn new() -> Self {
        let service = |service: &str, team: &str, tier: i64| ServiceRecord {
            name: name(service),
            team: name(team),
            tier: Tier::new(tier).expect("a valid tier"),
            scopes: Vec::new(),
            depends_on: Vec::new(),
            created_at: START.plus_ms(-400 * DAY_MS),
            rollback_hook: None,
        };
        History {
            from: START,
            to: START.plus_ms(90 * DAY_MS),
            now: START.plus_ms(90 * DAY_MS),
            changes: Vec::new(),
            incidents: Vec::new(),
            services: vec![service("payments-api", "payments", 1), service("blog", "web", 4)],
            live: LiveEvidence::default(),
            answers: BTreeMap::new(),
        }
    }

    /// Adds a bare deployment at the next default time, edited by `edit`; returns its id.
    pub fn deployment(&mut self, edit: impl FnOnce(&mut ChangeRecord)) -> ChangeId {
        let index = self.changes.len() as i64;
        let at = hours(1 + (index * SLOT_HOURS) % SLOT_SPAN_HOURS);
        let mut change = bare_deployment(index as u64 + 1, at);
        edit(&mut change);
        let id = change.id;
        self.changes.push(change);
        id
    }

    /// Adds a bare deployment made at `at` (any time, before or in the period), edited by `edit`.
    pub fn deployment_at(&mut self, at: Timestamp, edit: impl FnOnce(&mut ChangeRecord)) -> ChangeId {
        let mut change = bare_deployment(self.changes.len() as u64 + 1, at);
        edit(&mut change);
        let id = change.id;
        self.changes.push(change);
        id
    }

    /// Adds `count` bare deployments, each edited by `edit` with its number.
    pub fn deployments(&mut self, count: usize, edit: impl Fn(usize, &mut ChangeRecord)) -> Vec<ChangeId> {
        (0..count).map(|number| self.deployment(|change| edit(number, change))).collect()
    }

    /// Adds an incident caused by `caused_by` (when given), detected and resolved at these times.
    pub fn incident(
        &mut self,
        caused_by: impl Into<Option<ChangeId>>,
        detected_at: Timestamp,
        resolved_at: Option<Timestamp>,
    ) -> IncidentId {
        let id = IncidentId::new(self.incidents.len() as u64 + 1);
        let caused_by = caused_by.into();
        self.incidents.push(IncidentRecord {
            id,
            title: format!("Incident {id}"),
            service: name("payments-api"),
            severity: Severity::Sev2,
            detected_at,
            resolved_at,
            caused_by,
            provenance: caused_by.map(|_| LinkProvenance::Explicit),
            suggested_cause: None,
            rejected_causes: Vec::new(),
            downtime_minutes: None,
            imported: false,
            external_id: None,
            created_at: detected_at,
            updated_at: None,
            version: 1,
        });
        id
    }

    /// Answers a question yes or no, as alice through the product.
    pub fn answer(&mut self, id: &str, yes: bool) {
        let answer = Answer { yes, answered_by: Some("alice".into()), answered_at: Some(self.from) };
        self.answers.insert(id.to_owned(), answer);
    }

    pub fn input(&self) -> AssessmentInput<'_> {
        AssessmentInput {
            from: self.from,
            to: self.to,
            now: self.now,
            changes: &self.changes,
            incidents: &self.incidents,
            services: &self.services,
            live: &self.live,
            answers: &self.answers,
        }
    }

    pub fn facts(&self) -> Facts<'_> {
        Facts::gather(&self.input())
    }

    pub fn assess(&self) -> Assessment {
        assess(&self.input()).expect("a valid period")
    }

    /// Checks one criterion.
    pub fn check(&self, id: &str) -> Measurement {
        let criterion = criterion(id).unwrap_or_else(|| panic!("no criterion {id}"));
        (criterion.check)(&self.facts(), criterion)
    }
}
