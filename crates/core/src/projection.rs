//! Projections: current state as a fold of events.
//!
//! Every record here is rebuilt by applying its stream's events in order, and the store keeps the
//! result beside the events in the same transaction. `apply` is total: an event that does not fit
//! the record (which the lifecycle never produces) is recorded as-is rather than panicking, so a
//! replay of a historic log never crashes; the property tests show the lifecycle never emits one.

use serde::{Deserialize, Serialize};

use crate::domain::{ChangeId, ChangeState, ChangeType, IncidentId, Name, RiskClass, Role, Severity, Tier};
use crate::event::DomainEvent;
use crate::time::Timestamp;

/// One approval on a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub approver: Name,
    pub at: Timestamp,
    pub comment: Option<String>,
    pub retrospective: bool,
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
    pub assessment: Option<Assessment>,
    pub auto_approved: bool,
    pub approvals: Vec<Approval>,
    pub rejected_by: Option<Name>,
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
            assessment: None,
            auto_approved: false,
            approvals: Vec::new(),
            rejected_by: None,
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
        match &self.assessment {
            Some(assessment) => self.approvals.len() as u64 >= u64::from(assessment.approvals_required.max(1)),
            None => false,
        }
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
            DomainEvent::ChangeAssessed { risk_class, approvals_required, rule, reasons } => {
                self.state = ChangeState::Assessed;
                self.assessment = Some(Assessment {
                    risk_class: *risk_class,
                    approvals_required: *approvals_required,
                    rule: rule.clone(),
                    reasons: reasons.clone(),
                    at: time,
                });
            }
            DomainEvent::ChangeAutoApproved { .. } => {
                self.auto_approved = true;
                self.approved_at = Some(time);
                self.state = ChangeState::Approved;
            }
            DomainEvent::ChangeApproved { approver, comment, retrospective } => {
                self.approvals.push(Approval {
                    approver: approver.clone(),
                    at: time,
                    comment: comment.clone(),
                    retrospective: *retrospective,
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
            DomainEvent::ChangeStarted { .. } => {
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
