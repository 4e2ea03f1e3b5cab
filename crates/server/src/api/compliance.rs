//! Handlers for compliance: the report per framework and control, and the same report as an OSCAL
//! assessment-results document. Translation only; the service gathers and the compliance crate
//! decides.
//!
//! The views serialise with the report's own field names, so a client may read the JSON back
//! into `changegate_compliance::ComplianceReport` (the CLI does, to render HTML).

use axum::Json;
use axum::extract::State;
use changegate_compliance::{
    CheckResult, ComplianceReport, ControlFinding, FrameworkReport, LedgerEvidence, OscalOptions, Violation,
    assessment_results,
};
use changegate_core::{ChangeId, Timestamp};
use changegate_service::ComplianceQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComplianceParams {
    /// pci-dss, soc2, iso27001, nist-800-53, hipaa, gdpr, eu-dora or all (default all).
    pub framework: Option<String>,
    /// RFC 3339 start of the period (default: 90 days before `to`).
    pub from: Option<String>,
    /// RFC 3339 end of the period, exclusive (default: now).
    pub to: Option<String>,
}

impl From<ComplianceParams> for ComplianceQuery {
    fn from(params: ComplianceParams) -> Self {
        ComplianceQuery { framework: params.framework, from: params.from, to: params.to }
    }
}

fn time(time: Option<Timestamp>) -> Option<String> {
    time.map(Timestamp::to_rfc3339)
}

/// A change (or the ledger, when `change` is null) that failed a check or could not be decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViolationView {
    #[schema(example = "CHG-000042")]
    pub change: Option<String>,
    /// Stable short code, e.g. `approved-after-start`.
    pub code: String,
    pub reason: String,
}

impl From<&Violation> for ViolationView {
    fn from(violation: &Violation) -> Self {
        ViolationView {
            change: violation.change.map(|id| id.to_string()),
            code: violation.code.clone(),
            reason: violation.reason.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResultView {
    /// e.g. `independent-approval`.
    pub check: String,
    pub title: String,
    pub definition: String,
    /// How imported history's unknowns are treated.
    pub unknowns: String,
    /// Changes (or 1 for the ledger) the check looked at.
    pub population: u64,
    pub satisfied: bool,
    pub violations: Vec<ViolationView>,
    /// Changes it could not decide: not failures.
    pub undetermined: Vec<ViolationView>,
}

impl From<&CheckResult> for CheckResultView {
    fn from(result: &CheckResult) -> Self {
        CheckResultView {
            check: result.check.id().to_owned(),
            title: result.check.title().to_owned(),
            definition: result.check.definition().to_owned(),
            unknowns: result.check.unknowns().to_owned(),
            population: result.population,
            satisfied: result.satisfied(),
            violations: result.violations.iter().map(ViolationView::from).collect(),
            undetermined: result.undetermined.iter().map(ViolationView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ControlFindingView {
    /// e.g. `cm-3`, `pci-dss-6.5.1`.
    pub id: String,
    /// As the framework writes it, e.g. `6.5.1`.
    pub reference: String,
    pub title: String,
    /// Changegate's own one-line paraphrase (never the framework's text).
    pub paraphrase: String,
    pub checks: Vec<String>,
    /// satisfied, not_satisfied or not_applicable (no data).
    pub status: String,
    pub violating_changes: Vec<String>,
    /// A ledger-level violation fails it.
    pub ledger_at_fault: bool,
}

impl From<&ControlFinding> for ControlFindingView {
    fn from(control: &ControlFinding) -> Self {
        ControlFindingView {
            id: control.id.clone(),
            reference: control.reference.clone(),
            title: control.title.clone(),
            paraphrase: control.paraphrase.clone(),
            checks: control.checks.iter().map(|check| check.id().to_owned()).collect(),
            status: control.status.as_str().to_owned(),
            violating_changes: control.violating_changes.iter().map(ChangeId::to_string).collect(),
            ledger_at_fault: control.ledger_at_fault,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkReportView {
    #[schema(example = "pci-dss")]
    pub framework: String,
    pub name: String,
    /// Service scope tags that put a change under the framework (empty: every production change).
    pub scope_tags: Vec<String>,
    pub population: u64,
    pub status: String,
    pub controls: Vec<ControlFindingView>,
    pub checks: Vec<CheckResultView>,
}

impl From<&FrameworkReport> for FrameworkReportView {
    fn from(framework: &FrameworkReport) -> Self {
        FrameworkReportView {
            framework: framework.framework.id().to_owned(),
            name: framework.name.clone(),
            scope_tags: framework.scope_tags.clone(),
            population: framework.population,
            status: framework.status.as_str().to_owned(),
            controls: framework.controls.iter().map(ControlFindingView::from).collect(),
            checks: framework.checks.iter().map(CheckResultView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEvidenceView {
    pub size: u64,
    /// The newest verification's outcome; null when none was recorded.
    pub verified: Option<bool>,
    pub verified_at: Option<String>,
    pub verified_size: Option<u64>,
    pub first_bad_index: Option<u64>,
    pub verification_message: Option<String>,
    pub checkpoints_in_period: u64,
    pub latest_checkpoint_at: Option<String>,
    pub latest_checkpoint_size: Option<u64>,
    pub signing_key_present: bool,
    pub oldest_event_at: Option<String>,
}

impl From<&LedgerEvidence> for LedgerEvidenceView {
    fn from(ledger: &LedgerEvidence) -> Self {
        LedgerEvidenceView {
            size: ledger.size,
            verified: ledger.verified,
            verified_at: time(ledger.verified_at),
            verified_size: ledger.verified_size,
            first_bad_index: ledger.first_bad_index,
            verification_message: ledger.verification_message.clone(),
            checkpoints_in_period: ledger.checkpoints_in_period,
            latest_checkpoint_at: time(ledger.latest_checkpoint_at),
            latest_checkpoint_size: ledger.latest_checkpoint_size,
            signing_key_present: ledger.signing_key_present,
            oldest_event_at: time(ledger.oldest_event_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceSettingsView {
    pub retention_days_required: u32,
    pub emergency_deadline_ms: i64,
    pub review_deadline_ms: i64,
    pub verification_age_max_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceReportView {
    pub generated_at: String,
    pub from: String,
    /// Exclusive.
    pub to: String,
    pub settings: ComplianceSettingsView,
    pub ledger: LedgerEvidenceView,
    /// Production changes started or deployed in the period: the population to sample from.
    pub changes_in_period: Vec<String>,
    pub frameworks: Vec<FrameworkReportView>,
}

impl From<&ComplianceReport> for ComplianceReportView {
    fn from(report: &ComplianceReport) -> Self {
        ComplianceReportView {
            generated_at: report.generated_at.to_rfc3339(),
            from: report.from.to_rfc3339(),
            to: report.to.to_rfc3339(),
            settings: ComplianceSettingsView {
                retention_days_required: report.settings.retention_days_required,
                emergency_deadline_ms: report.settings.emergency_deadline_ms,
                review_deadline_ms: report.settings.review_deadline_ms,
                verification_age_max_ms: report.settings.verification_age_max_ms,
            },
            ledger: LedgerEvidenceView::from(&report.ledger),
            changes_in_period: report.changes_in_period.iter().map(ChangeId::to_string).collect(),
            frameworks: report.frameworks.iter().map(FrameworkReportView::from).collect(),
        }
    }
}

/// Controls per framework with their status and the changes at fault, over the production
/// changes started or deployed in the period (auditor, admin or cab).
#[utoipa::path(get, path = "/api/v1/compliance", tag = "compliance", params(ComplianceParams),
    responses((status = 200, body = ComplianceReportView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, description = "Unknown framework or bad period", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<ComplianceParams>,
) -> Result<Json<ComplianceReportView>, ApiError> {
    let request = state.service.parse_compliance_query(&params.into())?;
    let report = state.service.compliance_report(&caller, &request).await?;
    Ok(Json(ComplianceReportView::from(&report)))
}

/// The same report as an OSCAL 1.2 assessment-results document (auditor, admin or cab).
/// Relevant evidence links to the change pages.
#[utoipa::path(get, path = "/api/v1/compliance/oscal", tag = "compliance", params(ComplianceParams),
    responses((status = 200, description = "OSCAL assessment-results JSON", body = Object), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn oscal(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<ComplianceParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = state.service.parse_compliance_query(&params.into())?;
    let report = state.service.compliance_report(&caller, &request).await?;
    let change_href = |id: ChangeId| Some(format!("/changes/{id}"));
    let options = OscalOptions {
        import_ap_href: "/api/v1/compliance",
        report_href: "/api/v1/compliance",
        change_href: &change_href,
    };
    Ok(Json(assessment_results(&report, &options)))
}
