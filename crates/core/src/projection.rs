//! Projections: current state as a fold of events.
//!
//! Every record here is rebuilt by applying its stream's events in order, and the store keeps the
//! result beside the events in the same transaction. `apply` is total: an event that does not fit
//! the record (which the lifecycle never produces) is recorded as-is rather than panicking, so a
//! replay of a historic log never crashes; the property tests show the lifecycle never emits one.

use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalStatus, Approver, RequiredApproval, approvals_satisfied};
use crate::domain::{
    ApprovalMode, ChangeId, ChangeState, ChangeType, CreatedBy, ImportedOutcome, IncidentId, LinkProvenance, Name,
    RiskClass, Role, Severity, Tier,
};
use crate::event::{DomainEvent, ImportedChange, RiskFactorRecord, RollbackHook};
use crate::time::Timestamp;

/// One approval on a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub approver: Name,
    pub at: Timestamp,
    pub comment: Option<String>,
    pub retrospective: bool,
    /// The approver's roles and team when they approved.
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub team: Option<Name>,
}

impl Approval {
    /// This approval as the approval matcher sees it.
    pub fn approver(&self) -> Approver {
        Approver {
            name: self.approver.to_string(),
            roles: self.roles.iter().map(|role| role.as_str().to_owned()).collect(),
            team: self.team.as_ref().map(ToString::to_string),
        }
    }
}

/// A post-implementation review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub reviewer: Name,
    pub at: Timestamp,
    pub root_cause: Option<String>,
    pub comment: Option<String>,
}

/// The assessment recorded on a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub risk_class: RiskClass,
    pub approvals_required: u32,
    pub rule: String,
    pub reasons: Vec<String>,
    pub at: Timestamp,
    #[serde(default)]
    pub required_approvals: Vec<RequiredApproval>,
    #[serde(default)]
    pub deny: Vec<String>,
    #[serde(default)]
    pub warn: Vec<String>,
    #[serde(default)]
    pub policy_sha256: Option<String>,
    #[serde(default)]
    pub input_sha256: Option<String>,
    #[serde(default)]
    pub policy_error: Option<String>,
    #[serde(default)]
    pub scoped: bool,
    #[serde(default)]
    pub risk_score: Option<u32>,
    #[serde(default)]
    pub conflicts: Vec<String>,
    #[serde(default)]
    pub freeze: Option<String>,
    #[serde(default)]
    pub risk_factors: Vec<RiskFactorRecord>,
    #[serde(default)]
    pub risk_probability: Option<f64>,
    #[serde(default)]
    pub risk_model: Option<String>,
}

/// Roles that counted as "an approver" before policies named roles (interim assessments).
pub const LEGACY_APPROVER_ROLE: &str = "approver|cab|security|admin";

impl Assessment {
    /// What has to be approved: the policy's requirement, or, for an assessment that named no
    /// roles (early events, or a policy that required nothing without auto-approving: fail
    /// closed), `approvals_required` people holding any decision role.
    pub fn requirement(&self) -> Vec<RequiredApproval> {
        if self.required_approvals.is_empty() {
            vec![RequiredApproval::new(LEGACY_APPROVER_ROLE, self.approvals_required.max(1))]
        } else {
            self.required_approvals.clone()
        }
    }
}

fn manual() -> CreatedBy {
    CreatedBy::Manual
}

/// One invocation of a service's rollback hook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollbackHookRun {
    pub trigger: String,
    pub target: String,
    pub ok: bool,
    pub detail: String,
    pub at: Timestamp,
}

/// The current state of one change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub id: ChangeId,
    pub title: String,
    pub description: String,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub service: Name,
    pub environment: Name,
    pub requester: Name,
    pub state: ChangeState,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub planned_start: Option<Timestamp>,
    pub planned_end: Option<Timestamp>,
    pub links: Vec<String>,
    pub test_evidence: Option<String>,
    pub security_evidence: Option<String>,
    #[serde(default)]
    pub security_critical_findings: Option<u32>,
    #[serde(default)]
    pub template: Option<Name>,
    #[serde(default)]
    pub justification: Option<String>,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub pipeline_url: Option<String>,
    #[serde(default)]
    pub code_metrics: Option<serde_json::Value>,
    pub assessment: Option<Assessment>,
    pub auto_approved: bool,
    pub approvals: Vec<Approval>,
    pub rejected_by: Option<Name>,
    /// The policy's reasons, when it denied the change.
    #[serde(default)]
    pub denied: Vec<String>,
    /// Who started the implementation.
    #[serde(default)]
    pub implementer: Option<Name>,
    /// For an emergency change started without approval: when its retrospective approval and
    /// review are due.
    #[serde(default)]
    pub retrospective_due: Option<Timestamp>,
    /// Set once an emergency change missed that deadline.
    #[serde(default)]
    pub emergency_overdue: bool,
    pub review: Option<Review>,
    /// The team that owned the service when the change was created (unknown for early events).
    #[serde(default)]
    pub team: Option<Name>,
    /// When the first commit was made: the start of the change's lead time.
    #[serde(default)]
    pub commit_time: Option<Timestamp>,
    /// A pipeline raised it (it names a pipeline run or a commit, or the import says so).
    #[serde(default = "manual")]
    pub created_by: CreatedBy,
    /// Imported from another system's history (its times are the original ones).
    #[serde(default)]
    pub imported: bool,
    /// The id in the system it was imported from.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Rolled back by automation (the service's rollback hook, or the source system said so).
    #[serde(default)]
    pub rollback_automated: bool,
    /// Invocations of the service's rollback hook for this change.
    #[serde(default)]
    pub rollback_hook_runs: Vec<RollbackHookRun>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    pub approved_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub verified_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub rolled_back_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// Number of events in this change's stream.
    pub version: u64,
}

impl ChangeRecord {
    /// Builds the record from its creation event; `None` for any other event.
    pub fn create(event: &DomainEvent, time: Timestamp) -> Option<Self> {
        let DomainEvent::ChangeCreated {
            id,
            title,
            description,
            change_type,
            service,
            environment,
            requester,
            implementation_plan,
            rollback_plan,
            planned_start,
            planned_end,
            links,
            test_evidence,
            security_evidence,
            security_critical_findings,
            template,
            justification,
            commit,
            pipeline_url,
            code_metrics,
            team,
            commit_time,
        } = event
        else {
            if let DomainEvent::ChangeImported { id, change } = event {
                return Some(ChangeRecord::imported(*id, change, time));
            }
            return None;
        };
        let created_by =
            if pipeline_url.is_some() || commit.is_some() { CreatedBy::Pipeline } else { CreatedBy::Manual };
        Some(ChangeRecord {
            id: *id,
            title: title.clone(),
            description: description.clone(),
            change_type: *change_type,
            service: service.clone(),
            environment: environment.clone(),
            requester: requester.clone(),
            state: ChangeState::Draft,
            implementation_plan: implementation_plan.clone(),
            rollback_plan: rollback_plan.clone(),
            planned_start: *planned_start,
            planned_end: *planned_end,
            links: links.clone(),
            test_evidence: test_evidence.clone(),
            security_evidence: security_evidence.clone(),
            security_critical_findings: *security_critical_findings,
            template: template.clone(),
            justification: justification.clone(),
            commit: commit.clone(),
            pipeline_url: pipeline_url.clone(),
            code_metrics: code_metrics.clone(),
            assessment: None,
            auto_approved: false,
            approvals: Vec::new(),
            rejected_by: None,
            denied: Vec::new(),
            implementer: None,
            retrospective_due: None,
            emergency_overdue: false,
            review: None,
            team: team.clone(),
            commit_time: *commit_time,
            created_by,
            imported: false,
            external_id: None,
            rollback_automated: false,
            rollback_hook_runs: Vec::new(),
            created_at: time,
            updated_at: time,
            submitted_at: None,
            approved_at: None,
            started_at: None,
            completed_at: None,
            verified_at: None,
            failed_at: None,
            rolled_back_at: None,
            closed_at: None,
            version: 1,
        })
    }

    /// The record of a change imported whole from another system, at its original times.
    ///
    /// The mapping (documented in `docs/import.md`): `yes` evidence becomes the text
    /// `imported: yes`, `no` or unknown none; `approval_mode` auto makes it pre-approved, manual
    /// records one approval per approver at `approved_at`; a risk score without a class gets the
    /// class of its band; a PIR or a root cause becomes a review; the outcome decides the state
    /// (success: closed and verified at `completed_at`; failed, rolled back, cancelled; without
    /// an outcome, the furthest step the times show).
    pub fn imported(id: ChangeId, change: &ImportedChange, recorded_at: Timestamp) -> Self {
        let evidence = |flag: Option<bool>| (flag == Some(true)).then(|| "imported: yes".to_owned());
        let risk_class = change.risk_class.or(change.risk_score.map(RiskClass::of_score));
        let assessed_at = change.submitted_at.unwrap_or(change.created_at);
        let assessment = risk_class.map(|risk_class| Assessment {
            risk_class,
            approvals_required: u32::try_from(change.approvers.len()).unwrap_or(u32::MAX),
            rule: "imported".to_owned(),
            reasons: Vec::new(),
            at: assessed_at,
            required_approvals: Vec::new(),
            deny: Vec::new(),
            warn: Vec::new(),
            policy_sha256: None,
            input_sha256: None,
            policy_error: None,
            scoped: false,
            risk_score: change.risk_score,
            conflicts: Vec::new(),
            freeze: None,
            risk_factors: Vec::new(),
            risk_probability: None,
            risk_model: None,
        });
        let auto_approved = change.approval_mode == Some(ApprovalMode::Auto);
        let approvals: Vec<Approval> = if change.approval_mode == Some(ApprovalMode::Manual)
            || (change.approval_mode.is_none() && !change.approvers.is_empty())
        {
            let at = change.approved_at.unwrap_or(assessed_at);
            change
                .approvers
                .iter()
                .map(|approver| Approval {
                    approver: approver.clone(),
                    at,
                    comment: None,
                    retrospective: change.change_type == ChangeType::Emergency
                        && change.started_at.is_some_and(|started| started < at),
                    roles: Vec::new(),
                    team: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        let approved_at = if change.approval_mode == Some(ApprovalMode::None) { None } else { change.approved_at };
        let finished_at = change.completed_at.or(change.started_at).unwrap_or(change.created_at);
        let (state, verified_at, failed_at, rolled_back_at, closed_at) = match change.outcome {
            Some(ImportedOutcome::Success) => (ChangeState::Closed, Some(finished_at), None, None, Some(finished_at)),
            Some(ImportedOutcome::Failed) => (ChangeState::Failed, None, Some(finished_at), None, None),
            Some(ImportedOutcome::RolledBack) => {
                (ChangeState::RolledBack, None, Some(finished_at), Some(finished_at), None)
            }
            Some(ImportedOutcome::Cancelled) => (ChangeState::Cancelled, None, None, None, Some(finished_at)),
            None => {
                let state = if change.completed_at.is_some() {
                    ChangeState::Implemented
                } else if change.started_at.is_some() {
                    ChangeState::Implementing
                } else if approved_at.is_some() || auto_approved {
                    ChangeState::Approved
                } else if assessment.is_some() {
                    ChangeState::Assessed
                } else if change.submitted_at.is_some() {
                    ChangeState::Submitted
                } else {
                    ChangeState::Draft
                };
                (state, None, None, None, None)
            }
        };
        let review = (change.pir_done == Some(true) || change.root_cause.is_some()).then(|| Review {
            reviewer: Name::parse("imported").expect("a valid name"),
            at: finished_at,
            root_cause: change.root_cause.clone(),
            comment: (change.pir_done != Some(true)).then(|| "root cause recorded without a review".to_owned()),
        });
        ChangeRecord {
            id,
            title: change.title.clone(),
            description: String::new(),
            change_type: change.change_type,
            service: change.service.clone(),
            environment: change.environment.clone(),
            requester: change.requester.clone(),
            state,
            implementation_plan: None,
            rollback_plan: evidence(change.rollback_plan),
            planned_start: None,
            planned_end: None,
            links: Vec::new(),
            test_evidence: evidence(change.test_evidence),
            security_evidence: evidence(change.security_evidence),
            security_critical_findings: None,
            template: None,
            justification: None,
            commit: None,
            pipeline_url: None,
            code_metrics: None,
            assessment,
            auto_approved,
            approvals,
            rejected_by: None,
            denied: Vec::new(),
            implementer: None,
            retrospective_due: None,
            emergency_overdue: false,
            review,
            team: Some(change.team.clone()),
            commit_time: change.commit_time,
            created_by: change.created_by.unwrap_or(CreatedBy::Manual),
            imported: true,
            external_id: Some(change.external_id.clone()),
            rollback_automated: change.rollback_automated == Some(true),
            rollback_hook_runs: Vec::new(),
            created_at: change.created_at,
            updated_at: recorded_at,
            submitted_at: change.submitted_at,
            approved_at: approved_at.or(auto_approved.then_some(assessed_at)),
            started_at: change.started_at,
            completed_at: change.completed_at,
            verified_at,
            failed_at,
            rolled_back_at,
            closed_at,
            version: 1,
        }
    }

    /// When the deployment finished, successfully or not: `completed_at`, or for a change that
    /// failed or was rolled back before it completed, the failure. `None` for changes that never
    /// deployed (metrics count a deployment at this time).
    pub fn deployed_at(&self) -> Option<Timestamp> {
        self.completed_at
            .or(self.failed_at)
            .or(self.rolled_back_at)
            .filter(|_| self.started_at.is_some() || self.imported)
    }

    /// Whether the approvals the assessment asked for are all in (or the change was pre-approved).
    pub fn is_approved(&self) -> bool {
        if self.auto_approved {
            return true;
        }
        if !self.denied.is_empty() {
            return false;
        }
        self.approval_status().is_some_and(|status| status.satisfied)
    }

    /// The approvals given so far, as the approval matcher sees them.
    pub fn approvers(&self) -> Vec<Approver> {
        self.approvals.iter().map(Approval::approver).collect()
    }

    /// Where the approvals stand against the assessment's requirement under separation of
    /// duties; `None` before the assessment.
    pub fn approval_status(&self) -> Option<ApprovalStatus> {
        let assessment = self.assessment.as_ref()?;
        if assessment.required_approvals.is_empty() && self.approvals.iter().all(|approval| approval.roles.is_empty()) {
            // Early events recorded neither roles nor a requirement: count distinct people.
            let mut people: Vec<&Name> = self
                .approvals
                .iter()
                .map(|approval| &approval.approver)
                .filter(|name| **name != self.requester)
                .collect();
            people.sort();
            people.dedup();
            let needed = assessment.approvals_required.max(1);
            let filled = u32::try_from(people.len()).unwrap_or(u32::MAX).min(needed);
            let missing = if filled < needed {
                vec![RequiredApproval::new(LEGACY_APPROVER_ROLE, needed - filled)]
            } else {
                Vec::new()
            };
            return Some(ApprovalStatus {
                satisfied: missing.is_empty(),
                missing,
                refused: Vec::new(),
                assigned: people
                    .iter()
                    .take(filled as usize)
                    .map(|name| (name.to_string(), LEGACY_APPROVER_ROLE.to_owned()))
                    .collect(),
            });
        }
        Some(approvals_satisfied(
            &assessment.requirement(),
            &self.approvers(),
            self.requester.as_str(),
            self.implementer.as_ref().map(Name::as_str),
            assessment.scoped,
        ))
    }

    /// Whether someone still has to approve it: an assessed change waiting for its decision, or an
    /// emergency change that started without approval and still needs its retrospective one.
    pub fn awaits_approval(&self) -> bool {
        if self.is_approved() {
            return false;
        }
        match self.state {
            ChangeState::Assessed => true,
            ChangeState::Implementing
            | ChangeState::Implemented
            | ChangeState::Verified
            | ChangeState::Failed
            | ChangeState::RolledBack => self.change_type == ChangeType::Emergency,
            _ => false,
        }
    }

    /// How the change ended, once it has: `successful` (verified or closed after verification),
    /// `failed`, `rolled_back`, `rejected` or `cancelled`; `None` while it is open.
    pub fn outcome(&self) -> Option<&'static str> {
        if self.rolled_back_at.is_some() {
            return Some("rolled_back");
        }
        if self.failed_at.is_some() {
            return Some("failed");
        }
        match self.state {
            ChangeState::Verified | ChangeState::Closed if self.verified_at.is_some() => Some("successful"),
            ChangeState::Rejected => Some("rejected"),
            ChangeState::Cancelled => Some("cancelled"),
            _ => None,
        }
    }

    /// Applies one later event of this change's stream.
    pub fn apply(&mut self, event: &DomainEvent, time: Timestamp) {
        self.version += 1;
        self.updated_at = time;
        match event {
            DomainEvent::ChangeSubmitted { .. } => {
                self.state = ChangeState::Submitted;
                self.submitted_at = Some(time);
            }
            DomainEvent::ChangeAssessed {
                risk_class,
                approvals_required,
                rule,
                reasons,
                required_approvals,
                deny,
                warn,
                policy_sha256,
                input_sha256,
                policy_error,
                scoped,
                risk_score,
                conflicts,
                freeze,
                risk_factors,
                risk_probability,
                risk_model,
            } => {
                self.state = ChangeState::Assessed;
                self.assessment = Some(Assessment {
                    risk_class: *risk_class,
                    approvals_required: *approvals_required,
                    rule: rule.clone(),
                    reasons: reasons.clone(),
                    at: time,
                    required_approvals: required_approvals.clone(),
                    deny: deny.clone(),
                    warn: warn.clone(),
                    policy_sha256: policy_sha256.clone(),
                    input_sha256: input_sha256.clone(),
                    policy_error: policy_error.clone(),
                    scoped: *scoped,
                    risk_score: *risk_score,
                    conflicts: conflicts.clone(),
                    freeze: freeze.clone(),
                    risk_factors: risk_factors.clone(),
                    risk_probability: *risk_probability,
                    risk_model: risk_model.clone(),
                });
            }
            DomainEvent::ChangeDenied { reasons } => {
                self.denied = reasons.clone();
                self.state = ChangeState::Rejected;
            }
            DomainEvent::EmergencyOverdue { .. } => {
                self.emergency_overdue = true;
            }
            DomainEvent::ChangeAutoApproved { .. } => {
                self.auto_approved = true;
                self.approved_at = Some(time);
                self.state = ChangeState::Approved;
            }
            DomainEvent::ChangeApproved { approver, comment, retrospective, roles, team } => {
                self.approvals.push(Approval {
                    approver: approver.clone(),
                    at: time,
                    comment: comment.clone(),
                    retrospective: *retrospective,
                    roles: roles.clone(),
                    team: team.clone(),
                });
                if self.is_approved() && self.approved_at.is_none() {
                    self.approved_at = Some(time);
                    if self.state == ChangeState::Assessed {
                        self.state = ChangeState::Approved;
                    }
                }
            }
            DomainEvent::ChangeRejected { approver, .. } => {
                self.rejected_by = Some(approver.clone());
                self.state = ChangeState::Rejected;
            }
            DomainEvent::ChangeScheduled { planned_start, planned_end, .. } => {
                self.planned_start = Some(*planned_start);
                if planned_end.is_some() {
                    self.planned_end = *planned_end;
                }
                self.state = ChangeState::Scheduled;
            }
            DomainEvent::ChangeStarted { implementer, retrospective_due, .. } => {
                self.implementer.clone_from(implementer);
                self.retrospective_due = *retrospective_due;
                self.started_at = Some(time);
                self.state = ChangeState::Implementing;
            }
            DomainEvent::ChangeCompleted { .. } => {
                self.completed_at = Some(time);
                self.state = ChangeState::Implemented;
            }
            DomainEvent::ChangeVerified { .. } => {
                self.verified_at = Some(time);
                self.state = ChangeState::Verified;
            }
            DomainEvent::ChangeFailed { .. } => {
                self.failed_at = Some(time);
                self.state = ChangeState::Failed;
            }
            DomainEvent::ChangeRolledBack { automated, .. } => {
                self.rolled_back_at = Some(time);
                self.rollback_automated |= *automated;
                self.state = ChangeState::RolledBack;
            }
            DomainEvent::RollbackHookInvoked { trigger, target, ok, detail } => {
                self.rollback_hook_runs.push(RollbackHookRun {
                    trigger: trigger.clone(),
                    target: target.clone(),
                    ok: *ok,
                    detail: detail.clone(),
                    at: time,
                });
            }
            DomainEvent::ChangeReviewed { reviewer, root_cause, comment } => {
                self.review = Some(Review {
                    reviewer: reviewer.clone(),
                    at: time,
                    root_cause: root_cause.clone(),
                    comment: comment.clone(),
                });
            }
            DomainEvent::ChangeClosed { .. } => {
                self.closed_at = Some(time);
                self.state = ChangeState::Closed;
            }
            DomainEvent::ChangeCancelled { .. } => {
                self.closed_at = Some(time);
                self.state = ChangeState::Cancelled;
            }
            // Events of other streams never reach a change; the version still counts them so a
            // mismatch shows up in the rebuild comparison.
            _ => {}
        }
    }

    /// Folds a whole stream; `None` when the first event is not a creation.
    pub fn fold<'a>(events: impl IntoIterator<Item = (&'a DomainEvent, Timestamp)>) -> Option<Self> {
        let mut events = events.into_iter();
        let (first, time) = events.next()?;
        let mut record = ChangeRecord::create(first, time)?;
        for (event, time) in events {
            record.apply(event, time);
        }
        Some(record)
    }
}

/// A registered service (configuration item).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub name: Name,
    pub team: Name,
    pub tier: Tier,
    pub scopes: Vec<Name>,
    pub depends_on: Vec<Name>,
    pub created_at: Timestamp,
    /// The automated rollback, when one is set.
    #[serde(default)]
    pub rollback_hook: Option<RollbackHook>,
}

impl ServiceRecord {
    /// The record a `service_registered` event leaves; `None` for any other event.
    pub fn registered(event: &DomainEvent, time: Timestamp) -> Option<Self> {
        let DomainEvent::ServiceRegistered { name, team, tier, scopes, depends_on } = event else { return None };
        Some(ServiceRecord {
            name: name.clone(),
            team: team.clone(),
            tier: *tier,
            scopes: scopes.clone(),
            depends_on: depends_on.clone(),
            created_at: time,
            rollback_hook: None,
        })
    }

    /// Applies one later event of this service's stream.
    pub fn apply(&mut self, event: &DomainEvent) {
        if let DomainEvent::RollbackHookSet { hook, .. } = event {
            self.rollback_hook.clone_from(hook);
        }
    }
}

/// An alert rule, as last defined. `rule` is the alert engine's JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleRecord {
    pub name: Name,
    pub rule: serde_json::Value,
    pub defined_by: String,
    pub updated_at: Timestamp,
}

impl AlertRuleRecord {
    /// The record an `alert_rule_defined` event leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::AlertRuleDefined { name, rule } = event else { return None };
        Some(AlertRuleRecord { name: name.clone(), rule: rule.clone(), defined_by: actor.to_owned(), updated_at: time })
    }
}

/// One firing of an alert rule and its delivery attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertFiringRecord {
    /// The ledger sequence of the `alert_fired` event.
    pub sequence: u64,
    pub rule: Name,
    pub kind: String,
    pub subject: String,
    pub key: String,
    pub message: String,
    pub details: serde_json::Value,
    pub fired_at: Timestamp,
    pub deliveries: Vec<AlertDeliveryRecord>,
}

/// One delivery attempt of a firing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertDeliveryRecord {
    pub target: String,
    pub attempt: u32,
    pub ok: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: Timestamp,
}

impl AlertFiringRecord {
    /// The record an `alert_fired` event at `sequence` leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, sequence: u64, time: Timestamp) -> Option<Self> {
        let DomainEvent::AlertFired { rule, kind, subject, key, message, details } = event else { return None };
        Some(AlertFiringRecord {
            sequence,
            rule: rule.clone(),
            kind: kind.clone(),
            subject: subject.clone(),
            key: key.clone(),
            message: message.clone(),
            details: details.clone(),
            fired_at: time,
            deliveries: Vec::new(),
        })
    }

    /// Records an `alert_delivered` event for this firing.
    pub fn apply(&mut self, event: &DomainEvent, time: Timestamp) {
        if let DomainEvent::AlertDelivered { target, attempt, ok, status, error, .. } = event {
            self.deliveries.push(AlertDeliveryRecord {
                target: target.clone(),
                attempt: *attempt,
                ok: *ok,
                status: *status,
                error: error.clone(),
                at: time,
            });
        }
    }

    /// Whether some delivery of this firing succeeded.
    pub fn delivered(&self) -> bool {
        self.deliveries.iter().any(|delivery| delivery.ok)
    }
}

/// A team that owns services.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamRecord {
    pub name: Name,
    pub description: String,
    pub created_at: Timestamp,
}

/// A user and their roles. Tokens are kept apart, by hash only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: Name,
    pub roles: Vec<Role>,
    pub team: Option<Name>,
    pub created_at: Timestamp,
}

impl UserRecord {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// An incident, optionally caused by a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub id: IncidentId,
    pub title: String,
    pub service: Name,
    pub severity: Severity,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// The change that caused it, by an explicit or a confirmed link: the only links metrics
    /// count. A suggestion stays in `suggested_cause` until a person confirms or rejects it.
    pub caused_by: Option<ChangeId>,
    /// Where `caused_by` comes from (`explicit` or `confirmed`).
    #[serde(default)]
    pub provenance: Option<LinkProvenance>,
    /// The attribution rule's suggestion, waiting for a person.
    #[serde(default)]
    pub suggested_cause: Option<SuggestedCause>,
    /// Changes a person said did not cause it (never suggested again).
    #[serde(default)]
    pub rejected_causes: Vec<ChangeId>,
    #[serde(default)]
    pub downtime_minutes: Option<u32>,
    #[serde(default)]
    pub imported: bool,
    #[serde(default)]
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Number of events in this incident's stream.
    #[serde(default)]
    pub version: u64,
}

/// A link the attribution rule suggested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuggestedCause {
    pub change: ChangeId,
    pub rule: String,
    pub at: Timestamp,
}

impl IncidentRecord {
    pub fn create(event: &DomainEvent, time: Timestamp) -> Option<Self> {
        match event {
            DomainEvent::IncidentOpened { id, title, service, severity, detected_at, caused_by, downtime_minutes } => {
                Some(IncidentRecord {
                    id: *id,
                    title: title.clone(),
                    service: service.clone(),
                    severity: *severity,
                    detected_at: *detected_at,
                    resolved_at: None,
                    caused_by: *caused_by,
                    provenance: caused_by.map(|_| LinkProvenance::Explicit),
                    suggested_cause: None,
                    rejected_causes: Vec::new(),
                    downtime_minutes: *downtime_minutes,
                    imported: false,
                    external_id: None,
                    created_at: time,
                    updated_at: None,
                    version: 1,
                })
            }
            DomainEvent::IncidentImported { id, incident } => Some(IncidentRecord {
                id: *id,
                title: format!("Imported incident {}", incident.external_id),
                service: incident.service.clone(),
                severity: incident.severity,
                detected_at: incident.detected_at,
                resolved_at: incident.resolved_at,
                caused_by: incident.caused_by,
                provenance: incident.caused_by.map(|_| LinkProvenance::Explicit),
                suggested_cause: None,
                rejected_causes: Vec::new(),
                downtime_minutes: incident.downtime_minutes,
                imported: true,
                external_id: Some(incident.external_id.clone()),
                created_at: time,
                updated_at: None,
                version: 1,
            }),
            _ => None,
        }
    }

    /// Applies one later event of this incident's stream.
    pub fn apply(&mut self, event: &DomainEvent, time: Timestamp) {
        self.version += 1;
        self.updated_at = Some(time);
        match event {
            DomainEvent::IncidentResolved { resolved_at, downtime_minutes, .. } => {
                self.resolved_at = Some(*resolved_at);
                if downtime_minutes.is_some() {
                    self.downtime_minutes = *downtime_minutes;
                }
            }
            DomainEvent::IncidentUpdated { title, severity, detected_at, downtime_minutes, .. } => {
                if let Some(title) = title {
                    self.title.clone_from(title);
                }
                if let Some(severity) = severity {
                    self.severity = *severity;
                }
                if let Some(detected_at) = detected_at {
                    self.detected_at = *detected_at;
                }
                if downtime_minutes.is_some() {
                    self.downtime_minutes = *downtime_minutes;
                }
            }
            DomainEvent::IncidentLinked { change, provenance, .. } => {
                self.caused_by = Some(*change);
                self.provenance = Some(*provenance);
                self.rejected_causes.retain(|rejected| rejected != change);
                if self.suggested_cause.as_ref().is_some_and(|suggested| suggested.change == *change) {
                    self.suggested_cause = None;
                }
            }
            DomainEvent::IncidentLinkSuggested { change, rule } => {
                self.suggested_cause = Some(SuggestedCause { change: *change, rule: rule.clone(), at: time });
            }
            DomainEvent::IncidentLinkRejected { change, .. } => {
                if self.suggested_cause.as_ref().is_some_and(|suggested| suggested.change == *change) {
                    self.suggested_cause = None;
                }
                if self.caused_by == Some(*change) {
                    self.caused_by = None;
                    self.provenance = None;
                }
                if !self.rejected_causes.contains(change) {
                    self.rejected_causes.push(*change);
                }
            }
            _ => {}
        }
    }

    /// The link as people see it: the counted cause with its provenance, else the suggestion.
    pub fn link(&self) -> Option<(ChangeId, LinkProvenance)> {
        match (self.caused_by, self.provenance) {
            (Some(change), provenance) => Some((change, provenance.unwrap_or(LinkProvenance::Explicit))),
            (None, _) => self.suggested_cause.as_ref().map(|suggested| (suggested.change, LinkProvenance::Suggested)),
        }
    }
}

/// A standard-change template, as last defined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateRecord {
    pub name: Name,
    pub description: String,
    pub services: Vec<Name>,
    pub teams: Vec<Name>,
    pub environments: Vec<Name>,
    pub max_risk: RiskClass,
    pub approved: bool,
    pub defined_by: String,
    pub updated_at: Timestamp,
}

impl TemplateRecord {
    /// The record a `template_defined` event leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::TemplateDefined { name, description, services, teams, environments, max_risk, approved } =
            event
        else {
            return None;
        };
        Some(TemplateRecord {
            name: name.clone(),
            description: description.clone(),
            services: services.clone(),
            teams: teams.clone(),
            environments: environments.clone(),
            max_risk: *max_risk,
            approved: *approved,
            defined_by: actor.to_owned(),
            updated_at: time,
        })
    }

    /// Whether the template may be used for a change to `service` (owned by `team`).
    pub fn covers(&self, service: &Name, team: &Name) -> bool {
        if self.services.is_empty() && self.teams.is_empty() {
            return true;
        }
        self.services.contains(service) || self.teams.contains(team)
    }

    /// Whether the template may be used in `environment`.
    pub fn allows_environment(&self, environment: &Name) -> bool {
        self.environments.is_empty() || self.environments.contains(environment)
    }
}

/// A calendar window (freeze or maintenance), as last defined. `window` is the calendar crate's
/// JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarWindowRecord {
    pub name: Name,
    pub window: serde_json::Value,
    pub defined_by: String,
    pub updated_at: Timestamp,
}

/// One version of the approval policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersionRecord {
    /// The ledger sequence of the `policy_set` event: versions are ordered by it.
    pub sequence: u64,
    pub sha256: String,
    pub files: Vec<crate::event::PolicySource>,
    pub comment: Option<String>,
    pub set_by: String,
    pub set_at: Timestamp,
}

impl PolicyVersionRecord {
    /// The record a `policy_set` event at `sequence` leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, sequence: u64, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::PolicySet { sha256, files, comment } = event else { return None };
        Some(PolicyVersionRecord {
            sequence,
            sha256: sha256.clone(),
            files: files.clone(),
            comment: comment.clone(),
            set_by: actor.to_owned(),
            set_at: time,
        })
    }
}

impl CalendarWindowRecord {
    /// The record a `calendar_window_defined` event leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::CalendarWindowDefined { name, window } = event else { return None };
        Some(CalendarWindowRecord {
            name: name.clone(),
            window: window.clone(),
            defined_by: actor.to_owned(),
            updated_at: time,
        })
    }
}

/// A trained risk model (metadata and the model itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskModelRecord {
    /// The ledger sequence of the `risk_model_trained` event.
    pub sequence: u64,
    pub version: String,
    pub model: String,
    pub auc: Option<f64>,
    pub brier: f64,
    pub training_rows: u64,
    pub validation_rows: u64,
    pub positive_rate: f64,
    pub calibration: serde_json::Value,
    pub trained_by: String,
    pub trained_at: Timestamp,
}
