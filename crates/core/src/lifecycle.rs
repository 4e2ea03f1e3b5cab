//! The change lifecycle: which action may happen in which state, who may take it, and which
//! events it records.
//!
//! ```text
//! draft → submitted → assessed → approved | rejected → scheduled → implementing → implemented
//!       → verified | failed → rolled_back → closed
//! ```
//! Submitting records the submission and the assessment together, so a change never rests in
//! `submitted`. `cancel` works from every state before implementation starts. An emergency change
//! may `start` straight from `assessed`; it then needs a retrospective approval and a
//! post-implementation review (`review`) before it closes. A failed or rolled-back change needs a
//! review with a root cause before it closes.
//!
//! The assessment on submit is decided by the host (the service evaluates the approval policy and
//! the risk model) and handed in as an [`AssessmentDecision`]; without one, the interim rule
//! [`assess`] applies (risk class from the change type and service tier, one approval from a
//! decision role except for low-risk standard changes). A denial ends the change `rejected`.
//!
//! Separation of duties is checked by [`approval_eligibility`] and [`start_eligibility`]: the
//! requester never approves, one person fills at most one required approval, and for a change in
//! a compliance scope the implementer and the approvers are different people.

use crate::approval::{Approver, RequiredApproval, approvals_satisfied};
use crate::domain::{ChangeState, ChangeType, Name, RiskClass, Role, TEXT_LENGTH_MAX, Tier, check_text};
use crate::error::DomainError;
use crate::event::DomainEvent;
use crate::projection::ChangeRecord;
use crate::time::Timestamp;

pub use crate::action::Action;

/// Who is acting: a user name and the roles they hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub name: Name,
    pub roles: Vec<Role>,
    pub team: Option<Name>,
}

impl Actor {
    pub fn new(name: Name, roles: Vec<Role>, team: Option<Name>) -> Self {
        Actor { name, roles, team }
    }

    /// This actor as the approval matcher sees them.
    pub fn approver(&self) -> Approver {
        Approver {
            name: self.name.to_string(),
            roles: self.roles.iter().map(|role| role.as_str().to_owned()).collect(),
            team: self.team.as_ref().map(ToString::to_string),
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has_role(*role))
    }
}

/// The optional details an action carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionInput {
    pub comment: Option<String>,
    /// For `review`: the root cause found by the post-implementation review.
    pub root_cause: Option<String>,
    /// For `schedule`: the window; defaults to the change's planned window, else now.
    pub planned_start: Option<Timestamp>,
    pub planned_end: Option<Timestamp>,
    /// For `submit`: the assessment the host decided (policy and risk); `None` applies the
    /// interim rule [`assess`].
    pub assessment: Option<AssessmentDecision>,
    /// For `start` of an emergency change without approval: how long until its retrospective
    /// approval and review are due ([`EMERGENCY_DEADLINE_MS_DEFAULT`] when `None`).
    pub emergency_deadline_ms: Option<i64>,
}

/// Default time an emergency change has, from its start, for its retrospective approval and
/// post-implementation review: 24 hours.
pub const EMERGENCY_DEADLINE_MS_DEFAULT: i64 = 24 * 60 * 60 * 1000;

/// The assessment of a change on submission, decided by the host from the policy decision and
/// the risk assessment.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AssessmentDecision {
    pub risk_class: RiskClass,
    pub risk_score: Option<u32>,
    /// What decided (`policy:<sha256 prefix>`).
    pub rule: String,
    pub reasons: Vec<String>,
    pub auto_approve: bool,
    pub required_approvals: Vec<RequiredApproval>,
    pub deny: Vec<String>,
    pub warn: Vec<String>,
    pub policy_sha256: Option<String>,
    pub input_sha256: Option<String>,
    pub policy_error: Option<String>,
    pub scoped: bool,
    pub conflicts: Vec<String>,
    pub freeze: Option<String>,
    pub risk_factors: Vec<crate::event::RiskFactorRecord>,
    pub risk_probability: Option<f64>,
    pub risk_model: Option<String>,
}

impl AssessmentDecision {
    /// The events the assessment records after `change_submitted`: the assessment itself, then
    /// the denial or the automatic approval when there is one. Deny wins over auto-approval, and
    /// a policy error never auto-approves (fail closed).
    pub fn events(&self) -> Vec<DomainEvent> {
        let auto_approve = self.auto_approve
            && self.deny.is_empty()
            && self.required_approvals.is_empty()
            && self.policy_error.is_none();
        let approvals_required = if auto_approve {
            0
        } else {
            self.required_approvals.iter().map(|required| required.count).sum::<u32>().max(1)
        };
        let mut events = vec![DomainEvent::ChangeAssessed {
            risk_class: self.risk_class,
            approvals_required,
            rule: self.rule.clone(),
            reasons: self.reasons.clone(),
            required_approvals: self.required_approvals.clone(),
            deny: self.deny.clone(),
            warn: self.warn.clone(),
            policy_sha256: self.policy_sha256.clone(),
            input_sha256: self.input_sha256.clone(),
            policy_error: self.policy_error.clone(),
            scoped: self.scoped,
            risk_score: self.risk_score,
            conflicts: self.conflicts.clone(),
            freeze: self.freeze.clone(),
            risk_factors: self.risk_factors.clone(),
            risk_probability: self.risk_probability,
            risk_model: self.risk_model.clone(),
        }];
        if matches!(self.risk_class, RiskClass::High | RiskClass::Critical) {
            events.push(DomainEvent::ChangeRiskAlert {
                risk_class: self.risk_class,
                risk_score: self.risk_score,
                risk_probability: self.risk_probability,
            });
        }
        if !self.deny.is_empty() {
            events.push(DomainEvent::ChangeDenied { reasons: self.deny.clone() });
        } else if auto_approve {
            events.push(DomainEvent::ChangeAutoApproved { rule: self.rule.clone() });
        }
        events
    }
}

/// Roles that may approve or reject.
pub const DECISION_ROLES: [Role; 4] = [Role::Approver, Role::Cab, Role::Security, Role::Admin];

/// May `actor` take `action` on `change` at all? Independent of the state: a refusal here is a
/// denial (recorded as an event), a refusal by [`decide`] is an illegal transition.
pub fn authorize(actor: &Actor, action: Action, change: &ChangeRecord) -> Result<(), String> {
    if action.is_decision() {
        if !actor.has_any_role(&DECISION_ROLES) {
            return Err(format!("{action} needs one of the roles approver, cab, security or admin"));
        }
        if actor.name == change.requester {
            return Err(format!("separation of duties: {} requested {} and cannot {action} it", actor.name, change.id));
        }
        return Ok(());
    }
    let is_requester = actor.name == change.requester && actor.has_role(Role::Requester);
    if is_requester || actor.has_role(Role::Admin) {
        return Ok(());
    }
    if actor.has_role(Role::Requester) && action != Action::Cancel {
        // Any requester may carry a change through implementation (the SRE on call runs
        // someone else's change); only its own requester or an admin may cancel it.
        return Ok(());
    }
    Err(format!("{action} on {} needs the requester role (or admin; cancel only by its requester)", change.id))
}

/// The interim assessment rule: risk class from type and tier, approvals required.
pub fn assess(change_type: ChangeType, tier: Tier) -> AssessmentDecision {
    let tier_value = tier.value();
    let (risk_class, reason) = match change_type {
        ChangeType::Emergency if tier_value == 1 => (RiskClass::Critical, "emergency change on a tier-1 service"),
        ChangeType::Emergency => (RiskClass::High, "emergency change"),
        ChangeType::Normal => match tier_value {
            1 => (RiskClass::High, "normal change on a tier-1 service"),
            2 => (RiskClass::Medium, "normal change on a tier-2 service"),
            _ => (RiskClass::Low, "normal change on a tier-3 or tier-4 service"),
        },
        ChangeType::Standard if tier_value == 1 => (RiskClass::Medium, "standard change on a tier-1 service"),
        ChangeType::Standard => (RiskClass::Low, "standard change from a pre-approved template"),
    };
    let pre_approved = change_type == ChangeType::Standard && risk_class == RiskClass::Low;
    let approval_reason = if pre_approved {
        "low-risk standard change: pre-approved".to_owned()
    } else {
        "one approval from an approver, cab, security or admin who is not the requester".to_owned()
    };
    AssessmentDecision {
        risk_class,
        rule: "interim-tier-type-v1".to_owned(),
        reasons: vec![reason.to_owned(), approval_reason],
        auto_approve: pre_approved,
        required_approvals: if pre_approved {
            Vec::new()
        } else {
            vec![RequiredApproval::new(crate::projection::LEGACY_APPROVER_ROLE, 1)]
        },
        ..AssessmentDecision::default()
    }
}

/// May `actor` approve (or reject) `change` now, under separation of duties? An approval must
/// fill a required approval nobody fills yet: the requester never approves, one person fills at
/// most one required approval, and for a change in a compliance scope its implementer does not
/// approve. A refusal is an access denial (recorded).
pub fn approval_eligibility(change: &ChangeRecord, actor: &Actor, action: Action) -> Result<(), String> {
    let Some(assessment) = &change.assessment else {
        return Ok(()); // The lifecycle refuses the action itself.
    };
    let requirement = assessment.requirement();
    let me = actor.approver();
    if actor.name == change.requester {
        return Err(format!("separation of duties: {} requested {} and cannot {action} it", actor.name, change.id));
    }
    if assessment.scoped && change.implementer.as_ref() == Some(&actor.name) {
        return Err(format!(
            "separation of duties: {} implements {}, a change in compliance scope, and cannot {action} it \
             (DORA RTS 2024/1774 Art. 17(1)(b), PCI DSS 6.5.4)",
            actor.name, change.id
        ));
    }
    if !requirement.iter().any(|required| me.matches(&required.role)) {
        let roles: Vec<&str> = requirement.iter().map(|required| required.role.as_str()).collect();
        return Err(format!(
            "{} needs approval by {}; {} holds none of these",
            change.id,
            roles.join(", "),
            actor.name
        ));
    }
    if action == Action::Reject {
        return Ok(());
    }
    let before = change.approval_status().map(|status| status.assigned.len()).unwrap_or(0);
    let mut approvers = change.approvers();
    approvers.push(me);
    let after = approvals_satisfied(
        &requirement,
        &approvers,
        change.requester.as_str(),
        change.implementer.as_ref().map(Name::as_str),
        assessment.scoped,
    );
    if after.assigned.len() <= before {
        return Err(format!(
            "separation of duties: one person fills at most one required approval, and what {} could fill is \
             already filled; still missing: {}",
            actor.name,
            describe_missing(change)
        ));
    }
    Ok(())
}

/// May `actor` start `change`? For a change in a compliance scope, whoever approved it does not
/// implement it.
pub fn start_eligibility(change: &ChangeRecord, actor: &Actor) -> Result<(), String> {
    let scoped = change.assessment.as_ref().is_some_and(|assessment| assessment.scoped);
    if scoped && change.approvals.iter().any(|approval| approval.approver == actor.name) {
        return Err(format!(
            "separation of duties: {} approved {}, a change in compliance scope, and cannot implement it \
             (DORA RTS 2024/1774 Art. 17(1)(b), PCI DSS 6.5.4)",
            actor.name, change.id
        ));
    }
    Ok(())
}

fn describe_missing(change: &ChangeRecord) -> String {
    let missing = change.approval_status().map(|status| status.missing).unwrap_or_default();
    if missing.is_empty() {
        return "nothing".to_owned();
    }
    missing.iter().map(|required| format!("{} × {}", required.count, required.role)).collect::<Vec<_>>().join(", ")
}

/// The overdue flag for an emergency change whose retrospective deadline passed at `now` with its
/// approval or review still missing; `None` when nothing is overdue or it was flagged already.
pub fn emergency_overdue(change: &ChangeRecord, now: Timestamp) -> Option<DomainEvent> {
    let due = change.retrospective_due?;
    if change.change_type != ChangeType::Emergency || change.emergency_overdue || now < due {
        return None;
    }
    if matches!(change.state, ChangeState::Cancelled | ChangeState::Closed) {
        return None;
    }
    let mut missing = Vec::new();
    if !change.is_approved() {
        missing.push("retrospective approval".to_owned());
    }
    if change.review.is_none() {
        missing.push("post-implementation review".to_owned());
    }
    if missing.is_empty() {
        return None;
    }
    Some(DomainEvent::EmergencyOverdue { due, missing })
}

fn check_comment(input: &ActionInput) -> Result<(), DomainError> {
    if let Some(comment) = &input.comment {
        check_text("comment", comment, TEXT_LENGTH_MAX)?;
    }
    if let Some(root_cause) = &input.root_cause {
        check_text("root_cause", root_cause, TEXT_LENGTH_MAX)?;
    }
    Ok(())
}

fn illegal(action: Action, state: ChangeState, hint: Option<&str>) -> DomainError {
    DomainError::IllegalTransition { action, state, hint: hint.map(str::to_owned) }
}

/// Decides the events `action` records on `change`, or refuses. `tier` is the tier of the
/// change's service (used by the assessment on submit). Authorization is checked separately by
/// [`authorize`]; this only knows the lifecycle.
pub fn decide(
    change: &ChangeRecord,
    actor: &Actor,
    action: Action,
    input: &ActionInput,
    tier: Tier,
    now: Timestamp,
) -> Result<Vec<DomainEvent>, DomainError> {
    use ChangeState as S;
    check_comment(input)?;
    let state = change.state;
    let comment = input.comment.clone();
    if state.is_terminal() {
        return Err(illegal(action, state, Some("the change is finished")));
    }
    if input.root_cause.is_some() && action != Action::Review {
        return Err(DomainError::invalid("root_cause", "only the review action takes a root cause"));
    }
    if (input.planned_start.is_some() || input.planned_end.is_some()) && action != Action::Schedule {
        return Err(DomainError::invalid("planned_start", "only the schedule action takes a window"));
    }
    let emergency = change.change_type == ChangeType::Emergency;
    let events = match action {
        Action::Submit => {
            if state != S::Draft {
                return Err(illegal(action, state, Some("only a draft can be submitted")));
            }
            let assessment = input.assessment.clone().unwrap_or_else(|| assess(change.change_type, tier));
            let mut events = vec![DomainEvent::ChangeSubmitted { comment }];
            events.extend(assessment.events());
            events
        }
        Action::Approve => {
            let retrospective = emergency
                && matches!(state, S::Implementing | S::Implemented | S::Verified | S::Failed | S::RolledBack);
            if state != S::Assessed && !retrospective {
                return Err(illegal(
                    action,
                    state,
                    Some("approval is given to an assessed change (or, for an emergency change, after it started)"),
                ));
            }
            if change.is_approved() {
                return Err(illegal(action, state, Some("the change already has every approval it needs")));
            }
            if change.approvals.iter().any(|approval| approval.approver == actor.name) {
                return Err(DomainError::Conflict(format!("{} already approved {}", actor.name, change.id)));
            }
            vec![DomainEvent::ChangeApproved {
                approver: actor.name.clone(),
                comment,
                retrospective,
                roles: actor.roles.clone(),
                team: actor.team.clone(),
            }]
        }
        Action::Reject => {
            if state != S::Assessed {
                return Err(illegal(action, state, Some("only an assessed change awaiting approval can be rejected")));
            }
            vec![DomainEvent::ChangeRejected { approver: actor.name.clone(), comment }]
        }
        Action::Schedule => {
            if state != S::Approved {
                return Err(illegal(action, state, Some("only an approved change can be scheduled")));
            }
            let planned_start = input.planned_start.or(change.planned_start).unwrap_or(now);
            let planned_end = input.planned_end.or(change.planned_end);
            if let Some(end) = planned_end
                && end < planned_start
            {
                return Err(DomainError::invalid("planned_end", "must not be before planned_start"));
            }
            vec![DomainEvent::ChangeScheduled { planned_start, planned_end, comment }]
        }
        Action::Start => {
            let emergency_start = emergency && state == S::Assessed;
            if state != S::Scheduled && !emergency_start {
                return Err(illegal(
                    action,
                    state,
                    Some("a change starts once scheduled (an emergency change may start once assessed)"),
                ));
            }
            let retrospective_due = (emergency && !change.is_approved())
                .then(|| now.plus_ms(input.emergency_deadline_ms.unwrap_or(EMERGENCY_DEADLINE_MS_DEFAULT)));
            vec![DomainEvent::ChangeStarted { comment, implementer: Some(actor.name.clone()), retrospective_due }]
        }
        Action::Complete => {
            if state != S::Implementing {
                return Err(illegal(action, state, Some("only a change being implemented can be completed")));
            }
            vec![DomainEvent::ChangeCompleted { comment }]
        }
        Action::Verify => {
            if state != S::Implemented {
                return Err(illegal(action, state, Some("only an implemented change can be verified")));
            }
            vec![DomainEvent::ChangeVerified { comment }]
        }
        Action::Fail => {
            if !matches!(state, S::Implementing | S::Implemented) {
                return Err(illegal(
                    action,
                    state,
                    Some("only a change being implemented or awaiting verification can fail"),
                ));
            }
            vec![DomainEvent::ChangeFailed { comment }]
        }
        Action::Rollback => {
            if state != S::Failed {
                return Err(illegal(action, state, Some("only a failed change can be rolled back")));
            }
            vec![DomainEvent::ChangeRolledBack { comment, automated: false }]
        }
        Action::Review => {
            if !matches!(state, S::Implemented | S::Verified | S::Failed | S::RolledBack) {
                return Err(illegal(action, state, Some("a post-implementation review follows implementation")));
            }
            let root_cause = input.root_cause.clone().filter(|text| !text.trim().is_empty());
            if matches!(state, S::Failed | S::RolledBack) && root_cause.is_none() {
                return Err(DomainError::invalid(
                    "root_cause",
                    "the review of a failed change must name its root cause",
                ));
            }
            vec![DomainEvent::ChangeReviewed { reviewer: actor.name.clone(), root_cause, comment }]
        }
        Action::Close => {
            if !matches!(state, S::Verified | S::Failed | S::RolledBack) {
                return Err(illegal(action, state, Some("a change closes once verified, failed or rolled back")));
            }
            let failed = matches!(state, S::Failed | S::RolledBack);
            let has_root_cause = change.review.as_ref().is_some_and(|review| review.root_cause.is_some());
            if failed && !has_root_cause {
                return Err(illegal(
                    action,
                    state,
                    Some("a failed change needs a review with a root cause before it closes"),
                ));
            }
            if emergency && !change.is_approved() {
                return Err(illegal(
                    action,
                    state,
                    Some("an emergency change needs its retrospective approval before it closes"),
                ));
            }
            if emergency && change.review.is_none() {
                return Err(illegal(
                    action,
                    state,
                    Some("an emergency change needs a post-implementation review before it closes"),
                ));
            }
            vec![DomainEvent::ChangeClosed { comment }]
        }
        Action::Cancel => {
            if !matches!(state, S::Draft | S::Submitted | S::Assessed | S::Approved | S::Scheduled) {
                return Err(illegal(
                    action,
                    state,
                    Some("a change can be cancelled only before implementation starts"),
                ));
            }
            vec![DomainEvent::ChangeCancelled { comment }]
        }
    };
    Ok(events)
}

/// Handles one action on a change: `handle(state, command) -> events`, with every refusal in the
/// order the lifecycle defines it:
/// 1. may the actor take this action at all ([`authorize`])? — a `Forbidden` refusal, which the
///    host records as a denial;
/// 2. does the change's state allow it, is the input valid ([`decide`])? — an illegal transition
///    or a validation error, nothing recorded;
/// 3. may this actor approve or start this particular change (separation of duties,
///    [`approval_eligibility`], [`start_eligibility`])? — `Forbidden` again.
///
/// The host may call [`authorize`] first on its own to skip reading what a refused actor would
/// never need (the assessment on submit); the answer is the same, since this checks it again.
pub fn handle(
    change: &ChangeRecord,
    actor: &Actor,
    action: Action,
    input: &ActionInput,
    tier: Tier,
    now: Timestamp,
) -> Result<Vec<DomainEvent>, DomainError> {
    authorize(actor, action, change).map_err(DomainError::Forbidden)?;
    let events = decide(change, actor, action, input, tier, now)?;
    let eligibility = match action {
        Action::Approve | Action::Reject => approval_eligibility(change, actor, action),
        Action::Start => start_eligibility(change, actor),
        _ => Ok(()),
    };
    eligibility.map_err(DomainError::Forbidden)?;
    Ok(events)
}

/// The actions that `decide` would accept now for this change and actor (for UIs).
pub fn available_actions(change: &ChangeRecord, actor: &Actor, tier: Tier, now: Timestamp) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|action| authorize(actor, *action, change).is_ok())
        .filter(|action| {
            let input = ActionInput {
                root_cause: (*action == Action::Review).then(|| "placeholder".to_owned()),
                ..ActionInput::default()
            };
            decide(change, actor, *action, &input, tier, now).is_ok()
        })
        .collect()
}

/// Whether a service's rollback hook is due for `change`: the change was deployed (its
/// implementation started), it was not rolled back yet, and the hook never ran for it. The hook
/// runs at most once per change, whatever triggers it and however often.
pub fn rollback_hook_due(change: &ChangeRecord) -> bool {
    change.started_at.is_some() && change.rolled_back_at.is_none() && change.rollback_hook_runs.is_empty()
}

/// The events that record an automated rollback of `change` after its service's rollback hook
/// succeeded, appended as the actor `system`.
///
/// A failed change rolls back (`change_rolled_back`, automated). A change still deploying, or one
/// already verified, that a severity 1–2 incident was linked to inside the hook's window failed
/// after all: it records `change_failed` with `reason`, then the rollback. This is the one place
/// a verified change may still fail; people cannot do it through [`decide`], which keeps
/// `fail` to changes being implemented or awaiting verification. A finished change (closed,
/// cancelled, rejected) keeps its state: the hook's run is recorded on it, nothing else.
pub fn automated_rollback(change: &ChangeRecord, reason: &str) -> Vec<DomainEvent> {
    let rolled_back = DomainEvent::ChangeRolledBack {
        comment: Some(format!("rolled back automatically: {reason}")),
        automated: true,
    };
    match change.state {
        ChangeState::Failed => vec![rolled_back],
        ChangeState::Implementing | ChangeState::Implemented | ChangeState::Verified => {
            vec![DomainEvent::ChangeFailed { comment: Some(reason.to_owned()) }, rolled_back]
        }
        _ => Vec::new(),
    }
}
