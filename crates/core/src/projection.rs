//! Projections: current state as a fold of events.
//!
//! Every record here is rebuilt by applying its stream's events in order, and the store keeps the
//! result beside the events in the same transaction. `apply` is total: an event that does not fit
//! the record (which the lifecycle never produces) is recorded as-is rather than panicking, so a
//! replay of a historic log never crashes; the property tests show the lifecycle never emits one.

use serde::{Deserialize, Serialize};

use crate::approval::{ApprovalStatus, Approver, RequiredApproval, approvals_satisfied};
use crate::domain::{ChangeId, ChangeState, ChangeType, IncidentId, Name, RiskClass, Role, Severity, Tier};
use crate::event::{DomainEvent, RiskFactorRecord};
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
        } = event
        else {
            return None;
        };
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
            DomainEvent::ChangeRolledBack { .. } => {
                self.rolled_back_at = Some(time);
                self.state = ChangeState::RolledBack;
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
    pub caused_by: Option<ChangeId>,
    pub created_at: Timestamp,
}

impl IncidentRecord {
    pub fn create(event: &DomainEvent, time: Timestamp) -> Option<Self> {
        let DomainEvent::IncidentOpened { id, title, service, severity, detected_at, caused_by } = event else {
            return None;
        };
        Some(IncidentRecord {
            id: *id,
            title: title.clone(),
            service: service.clone(),
            severity: *severity,
            detected_at: *detected_at,
            resolved_at: None,
            caused_by: *caused_by,
            created_at: time,
        })
    }

    pub fn apply(&mut self, event: &DomainEvent) {
        if let DomainEvent::IncidentResolved { resolved_at, .. } = event {
            self.resolved_at = Some(*resolved_at);
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
