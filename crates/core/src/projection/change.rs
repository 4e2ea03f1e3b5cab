//! The change record: a change's current state (its assessment, approvals, review, deployment
//! and outcome) folded from the change's stream, and the parts it is made of.
//!
//! Why a room of its own: the change is the product's main aggregate and its fold is most of the
//! projection code; every other record only refers to changes by id.

use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalStatus, Approver, RequiredApproval, approvals_satisfied};
use crate::domain::{
    ApprovalMode, ChangeId, ChangeOutcome, ChangeState, ChangeType, CreatedBy, ImportedOutcome, Name, RiskClass, Role,
};
use crate::event::{DomainEvent, ImportedChange, RiskFactorRecord};
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
    pub fn outcome(&self) -> Option<ChangeOutcome> {
        if self.rolled_back_at.is_some() {
            return Some(ChangeOutcome::RolledBack);
        }
        if self.failed_at.is_some() {
            return Some(ChangeOutcome::Failed);
        }
        match self.state {
            ChangeState::Verified | ChangeState::Closed if self.verified_at.is_some() => {
                Some(ChangeOutcome::Successful)
            }
            ChangeState::Rejected => Some(ChangeOutcome::Rejected),
            ChangeState::Cancelled => Some(ChangeOutcome::Cancelled),
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
