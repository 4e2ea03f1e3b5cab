//! Changes on the wire: the create-change request, the body of a lifecycle action, and a change as
//! the API shows it (with its assessment, approvals, review and rollback-hook runs). The server
//! answers with these and the CLI reads them back, so both sides agree on every field.

use changegate_core::ChangeRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::event::EventView;
use crate::time;

/// `POST /api/v1/changes`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChangeRequest {
    #[schema(example = "Bump openssl to 3.0.15 in payments-api")]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// `standard`, `normal` or `emergency` (defaults to `standard` with a template).
    #[serde(rename = "type", default)]
    #[schema(example = "normal")]
    pub change_type: String,
    #[schema(example = "payments-api", pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub service: String,
    #[schema(example = "production", pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub environment: String,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    /// RFC 3339, e.g. `2026-12-01T22:00:00Z`.
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    #[serde(default)]
    pub links: Vec<String>,
    /// Test results: a link to the pipeline run or report, or a summary.
    pub test_evidence: Option<String>,
    /// Security scan results (SAST/SCA/secret scan): a link or a summary.
    pub security_evidence: Option<String>,
    /// Critical findings in the security evidence (policies deny scoped changes with any).
    pub security_critical_findings: Option<u32>,
    /// A standard-change template (`GET /api/v1/templates`); the type then defaults to `standard`.
    pub template: Option<String>,
    /// Why an emergency change cannot wait: required for `emergency`.
    pub justification: Option<String>,
    /// The commit being deployed.
    pub commit: Option<String>,
    /// The pipeline run that proposed the change.
    pub pipeline_url: Option<String>,
    /// The commit's just-in-time code metrics (`changegate risk features`), a JSON object.
    #[schema(value_type = Option<Object>)]
    pub code_metrics: Option<serde_json::Value>,
    /// When the first commit of the change was made (RFC 3339): where its lead time starts.
    #[serde(default)]
    pub commit_time: Option<String>,
}

/// Body of `POST /api/v1/changes/{id}/actions/{action}` (all fields optional).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    pub comment: Option<String>,
    /// For `review`: the root cause (required when the change failed).
    pub root_cause: Option<String>,
    /// For `schedule`: RFC 3339 window.
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
}

/// A change as the API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeView {
    #[schema(example = "CHG-000001")]
    pub id: String,
    pub title: String,
    pub description: String,
    #[serde(rename = "type")]
    pub change_type: String,
    pub service: String,
    pub environment: String,
    pub requester: String,
    #[schema(example = "draft")]
    pub state: String,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    pub links: Vec<String>,
    pub test_evidence: Option<String>,
    pub security_evidence: Option<String>,
    pub security_critical_findings: Option<u32>,
    pub template: Option<String>,
    pub justification: Option<String>,
    pub commit: Option<String>,
    pub pipeline_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub code_metrics: Option<serde_json::Value>,
    pub assessment: Option<AssessmentView>,
    pub auto_approved: bool,
    /// Whether every required approval is in (or the change was auto-approved).
    pub approved: bool,
    pub approvals: Vec<ApprovalView>,
    pub rejected_by: Option<String>,
    /// The policy's reasons, when it denied the change.
    pub denied: Vec<String>,
    /// Who started the implementation.
    pub implementer: Option<String>,
    /// For an emergency change started without approval: when its retrospective approval and review are due.
    pub retrospective_due: Option<String>,
    /// The emergency change missed that deadline.
    pub emergency_overdue: bool,
    pub review: Option<ReviewView>,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub approved_at: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub verified_at: Option<String>,
    pub failed_at: Option<String>,
    pub rolled_back_at: Option<String>,
    pub closed_at: Option<String>,
    /// successful, failed, rolled_back, rejected or cancelled once the change has ended.
    pub outcome: Option<String>,
    /// Rolled back by the service's rollback hook (or, for imported changes, by automation).
    pub rollback_automated: bool,
    /// Runs of the service's rollback hook for this change (at most one).
    pub rollback_hook_runs: Vec<RollbackHookRunView>,
    /// Number of events in the change's stream.
    pub version: u64,
}

impl From<&ChangeRecord> for ChangeView {
    fn from(change: &ChangeRecord) -> Self {
        ChangeView {
            id: change.id.to_string(),
            title: change.title.clone(),
            description: change.description.clone(),
            change_type: change.change_type.to_string(),
            service: change.service.to_string(),
            environment: change.environment.to_string(),
            requester: change.requester.to_string(),
            state: change.state.to_string(),
            implementation_plan: change.implementation_plan.clone(),
            rollback_plan: change.rollback_plan.clone(),
            planned_start: time(change.planned_start),
            planned_end: time(change.planned_end),
            links: change.links.clone(),
            test_evidence: change.test_evidence.clone(),
            security_evidence: change.security_evidence.clone(),
            security_critical_findings: change.security_critical_findings,
            template: change.template.as_ref().map(ToString::to_string),
            justification: change.justification.clone(),
            commit: change.commit.clone(),
            pipeline_url: change.pipeline_url.clone(),
            code_metrics: change.code_metrics.clone(),
            assessment: change.assessment.as_ref().map(|assessment| {
                let status = change.approval_status();
                AssessmentView {
                    risk_class: assessment.risk_class.to_string(),
                    risk_score: assessment.risk_score,
                    approvals_required: assessment.approvals_required,
                    rule: assessment.rule.clone(),
                    reasons: assessment.reasons.clone(),
                    at: assessment.at.to_rfc3339(),
                    required_approvals: assessment.requirement().iter().map(RequiredApprovalView::from).collect(),
                    missing_approvals: if change.auto_approved {
                        Vec::new()
                    } else {
                        status
                            .as_ref()
                            .map(|status| status.missing.iter().map(RequiredApprovalView::from).collect())
                            .unwrap_or_default()
                    },
                    refused_approvals: status
                        .as_ref()
                        .map(|status| {
                            status
                                .refused
                                .iter()
                                .map(|(approver, reason)| RefusedApprovalView {
                                    approver: approver.clone(),
                                    reason: reason.clone(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    deny: assessment.deny.clone(),
                    warn: assessment.warn.clone(),
                    policy_sha256: assessment.policy_sha256.clone(),
                    input_sha256: assessment.input_sha256.clone(),
                    policy_error: assessment.policy_error.clone(),
                    scoped: assessment.scoped,
                    conflicts: assessment.conflicts.clone(),
                    freeze: assessment.freeze.clone(),
                    risk_factors: assessment
                        .risk_factors
                        .iter()
                        .map(|factor| RiskFactorPointsView {
                            name: factor.name.clone(),
                            contribution: factor.contribution,
                            detail: factor.detail.clone(),
                        })
                        .collect(),
                    risk_probability: assessment.risk_probability,
                    risk_model: assessment.risk_model.clone(),
                }
            }),
            auto_approved: change.auto_approved,
            approved: change.is_approved(),
            denied: change.denied.clone(),
            implementer: change.implementer.as_ref().map(ToString::to_string),
            retrospective_due: time(change.retrospective_due),
            emergency_overdue: change.emergency_overdue,
            approvals: change
                .approvals
                .iter()
                .map(|approval| ApprovalView {
                    approver: approval.approver.to_string(),
                    at: approval.at.to_rfc3339(),
                    comment: approval.comment.clone(),
                    retrospective: approval.retrospective,
                    roles: approval.roles.iter().map(ToString::to_string).collect(),
                    team: approval.team.as_ref().map(ToString::to_string),
                })
                .collect(),
            rejected_by: change.rejected_by.as_ref().map(ToString::to_string),
            review: change.review.as_ref().map(|review| ReviewView {
                reviewer: review.reviewer.to_string(),
                at: review.at.to_rfc3339(),
                root_cause: review.root_cause.clone(),
                comment: review.comment.clone(),
            }),
            created_at: change.created_at.to_rfc3339(),
            updated_at: change.updated_at.to_rfc3339(),
            submitted_at: time(change.submitted_at),
            approved_at: time(change.approved_at),
            started_at: time(change.started_at),
            completed_at: time(change.completed_at),
            verified_at: time(change.verified_at),
            failed_at: time(change.failed_at),
            rolled_back_at: time(change.rolled_back_at),
            closed_at: time(change.closed_at),
            outcome: change.outcome().map(|outcome| outcome.as_str().to_owned()),
            rollback_automated: change.rollback_automated,
            rollback_hook_runs: change
                .rollback_hook_runs
                .iter()
                .map(|run| RollbackHookRunView {
                    trigger: run.trigger.clone(),
                    target: run.target.clone(),
                    ok: run.ok,
                    detail: run.detail.clone(),
                    at: run.at.to_rfc3339(),
                })
                .collect(),
            version: change.version,
        }
    }
}

/// A change with its event history.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangeDetailView {
    #[serde(flatten)]
    pub change: ChangeView,
    pub events: Vec<EventView>,
    /// The actions the caller may take now.
    pub available_actions: Vec<String>,
}

/// A page of changes; pass `next_cursor` as `cursor` for the next page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangePageView {
    pub items: Vec<ChangeView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssessmentView {
    /// low, medium, high or critical.
    pub risk_class: String,
    pub risk_score: Option<u32>,
    pub approvals_required: u32,
    /// What decided: `policy:<sha256 prefix>`.
    pub rule: String,
    pub reasons: Vec<String>,
    pub at: String,
    /// The approvals the policy requires (`role`: a role, `team:<name>`, or alternatives joined by `|`).
    pub required_approvals: Vec<RequiredApprovalView>,
    /// What is still missing, under separation of duties.
    pub missing_approvals: Vec<RequiredApprovalView>,
    /// Approvals that do not count, with why.
    pub refused_approvals: Vec<RefusedApprovalView>,
    /// Reasons the policy denied the change (it is then rejected).
    pub deny: Vec<String>,
    pub warn: Vec<String>,
    /// SHA-256 of the policy version and of the canonical input: together they replay the decision.
    pub policy_sha256: Option<String>,
    pub input_sha256: Option<String>,
    /// Set when the policy could not decide: the change then waits for a CAB approval (fail closed).
    pub policy_error: Option<String>,
    /// A service of the change is in a compliance scope (the implementer may not approve).
    pub scoped: bool,
    /// Planned changes overlapping on the same or a dependent service.
    pub conflicts: Vec<String>,
    /// The freeze over the planned window, if any.
    pub freeze: Option<String>,
    /// The explainable factors behind `risk_score`: points each (they add up to the score).
    pub risk_factors: Vec<RiskFactorPointsView>,
    /// The predictive model's probability that the change fails, and the model version.
    pub risk_probability: Option<f64>,
    pub risk_model: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequiredApprovalView {
    #[schema(example = "security")]
    pub role: String,
    pub count: u32,
}

impl From<&changegate_core::approval::RequiredApproval> for RequiredApprovalView {
    fn from(required: &changegate_core::approval::RequiredApproval) -> Self {
        RequiredApprovalView { role: required.role.clone(), count: required.count }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RefusedApprovalView {
    pub approver: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RiskFactorPointsView {
    pub name: String,
    pub contribution: f64,
    pub detail: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalView {
    pub approver: String,
    pub at: String,
    pub comment: Option<String>,
    pub retrospective: bool,
    /// The approver's roles and team when they approved.
    pub roles: Vec<String>,
    pub team: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    pub reviewer: String,
    pub at: String,
    pub root_cause: Option<String>,
    pub comment: Option<String>,
}

/// One run of a service's rollback hook for a change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RollbackHookRunView {
    /// `verification_failed` or `incident:INC-…`.
    pub trigger: String,
    pub target: String,
    pub ok: bool,
    pub detail: String,
    pub at: String,
}
