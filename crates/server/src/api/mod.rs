//! The JSON API under `/api/v1` and its OpenAPI document at `/api/openapi.json`.

pub mod alerts;
pub mod compliance;
pub mod governance;
pub mod health;
pub mod import;
pub mod ledger;
pub mod maturity;
pub mod metrics;
pub mod resources;
pub mod risk;

use axum::Json;
use axum::Router;
use axum::routing::{delete, get, post, put};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;
use crate::error::{ErrorBody, ErrorDetail, FieldErrorBody};
use changegate_api::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Changegate API",
        description = "Change management for DevSecOps teams: changes, their lifecycle, services, users and the event log. \
                       Authenticate with `Authorization: Bearer <token>`. Errors are `{\"error\":{\"code\",\"message\"}}` \
                       with a stable code. POST endpoints accept an `Idempotency-Key` header: a retry with the same key and \
                       body returns the first result and writes nothing new."
    ),
    paths(
        health::healthz,
        health::readyz,
        resources::create_change,
        resources::list_changes,
        resources::get_change,
        resources::change_action,
        resources::create_service,
        resources::list_services,
        resources::create_user,
        resources::list_users,
        resources::create_incident,
        resources::list_incidents,
        resources::resolve_incident,
        resources::get_incident,
        resources::update_incident,
        resources::link_incident,
        resources::confirm_incident_link,
        resources::reject_incident_link,
        resources::list_events,
        ledger::checkpoint,
        ledger::sign_checkpoint,
        ledger::public_key,
        ledger::entries,
        ledger::inclusion,
        ledger::consistency,
        ledger::status,
        ledger::verify,
        ledger::change_proof,
        governance::get_policy,
        governance::policy_versions,
        governance::set_policy,
        governance::list_templates,
        governance::define_template,
        governance::calendar,
        governance::list_windows,
        governance::define_window,
        governance::remove_window,
        governance::approvals_inbox,
        governance::change_conflicts,
        risk::change_risk,
        risk::risk_models,
        alerts::list_rules,
        alerts::get_rule,
        alerts::put_rule,
        alerts::delete_rule,
        alerts::list_firings,
        alerts::put_rollback_hook,
        alerts::delete_rollback_hook,
        compliance::report,
        compliance::oscal,
        maturity::assessment,
        maturity::questions,
        maturity::answers,
        maturity::record_answers,
        maturity::trend,
        metrics::metrics,
        import::import_history,
    ),
    components(schemas(
        ErrorBody, ErrorDetail, FieldErrorBody, CreateChangeRequest, ActionBody, CreateServiceRequest,
        CreateUserRequest, CreateIncidentRequest, ResolveIncidentRequest, UpdateIncidentRequest, LinkIncidentRequest,
        IncidentLinkDecisionRequest, IncidentLinkView, ChangeView, ChangeDetailView,
        ChangePageView, EventView, EventPageView, ServiceView, UserView, CreatedUserView, IncidentView,
        AssessmentView, ApprovalView, ReviewView, HealthView, ledger::CheckpointView, ledger::EntryView,
        ledger::InclusionProofView, ledger::ConsistencyProofView, ledger::VerificationView, ledger::LedgerStatusView,
        ledger::ChangeProofView, RequiredApprovalView, RiskFactorPointsView, RefusedApprovalView, governance::PolicyFileBody,
        governance::SetPolicyRequest, governance::PolicyView, governance::DefineTemplateRequest, governance::TemplateView,
        governance::WindowView, governance::OccurrenceView, governance::CalendarViewBody, governance::InboxItemView, risk::RiskFactorView,
        risk::FactorScoreView, risk::FeatureContributionView, risk::PredictionView, risk::RiskReportView,
        risk::RiskModelView, alerts::AlertRuleView, alerts::AlertDeliveryView, alerts::AlertFiringView,
        alerts::RollbackHookBody, RollbackHookView, RollbackHookRunView,
        compliance::ViolationView, compliance::CheckResultView, compliance::ControlFindingView,
        compliance::FrameworkReportView, compliance::LedgerEvidenceView, compliance::ComplianceSettingsView,
        compliance::ComplianceReportView,
        maturity::EvidenceView, maturity::CriterionView, maturity::DimensionView,
        maturity::RoadmapStepView, maturity::MaturityAssessmentView, maturity::QuestionView, maturity::AnswerView,
        maturity::AnswersRequest, maturity::DimensionLevelView, maturity::TrendPointView,
        metrics::MetricsReportView,
        import::ImportRequest, import::ImportReportView, import::RowProblemView,
        import::ImportRejectedBody
    )),
    modifiers(&BearerSecurity, &RefusalResponses),
    tags(
        (name = "changes", description = "Changes and their lifecycle"),
        (name = "services", description = "Services (configuration items)"),
        (name = "users", description = "Users, roles and tokens"),
        (name = "incidents", description = "Incidents and the changes that caused them"),
        (name = "events", description = "The append-only event log"),
        (name = "ledger", description = "The tamper-evident audit ledger: RFC 6962 Merkle tree, signed checkpoints, proofs"),
        (name = "governance", description = "Approval policy, standard-change templates, the change calendar and the approvals inbox"),
        (name = "risk", description = "Explainable risk scores and the predictive model trained on this installation's history"),
        (name = "alerts", description = "Alert rules, their firings and every delivery attempt"),
        (name = "compliance", description = "Controls of PCI DSS, SOC 2, ISO 27001, NIST 800-53, HIPAA, GDPR and DORA checked over the change records and the ledger; OSCAL assessment results"),
        (name = "maturity", description = "The CMMI maturity assessment of change management: levels per dimension with their evidence, the roadmap, the trend and the questionnaire"),
        (name = "metrics", description = "Delivery metrics: DORA's five and the change-management ones, with DORA's bands (docs/metrics.md)"),
        (name = "import", description = "History import: another system's changes and incidents, from CSV"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct BearerSecurity;

/// The refusals every operation of a kind can answer, documented on all of them from one place:
/// a JSON body can be malformed (400), too large (413) or not JSON (415), a query string can be
/// malformed (400), and a deletion names its target by a value that can be invalid (422).
struct RefusalResponses;

impl Modify for RefusalResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let refusal = |description: &str| -> RefOr<utoipa::openapi::Response> {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
        };
        let add = |operation: &mut utoipa::openapi::path::Operation, status: &str, description: &str| {
            operation.responses.responses.entry(status.to_owned()).or_insert_with(|| refusal(description));
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.post, &mut item.put, &mut item.patch].into_iter().flatten() {
                if operation.request_body.is_some() {
                    add(operation, "400", "The body is not valid JSON, or not readable");
                    add(operation, "413", "The body is larger than the limit");
                    add(operation, "415", "The body is not `application/json`");
                }
            }
            if let Some(operation) = &mut item.get
                && operation.parameters.iter().flatten().any(|parameter| {
                    matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == utoipa::openapi::path::ParameterIn::Query)
                })
            {
                add(operation, "400", "The query string is malformed (an unknown parameter, a wrong type)");
            }
            if let Some(operation) = &mut item.delete {
                add(operation, "422", "The target's name or id is not valid");
            }
        }
    }
}

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("cg_<64 hex>").build(),
            ),
        );
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Routes under `/api`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/v1/changes", post(resources::create_change).get(resources::list_changes))
        .route("/v1/changes/{id}", get(resources::get_change))
        .route("/v1/changes/{id}/actions/{action}", post(resources::change_action))
        .route("/v1/services", post(resources::create_service).get(resources::list_services))
        .route("/v1/users", post(resources::create_user).get(resources::list_users))
        .route("/v1/incidents", post(resources::create_incident).get(resources::list_incidents))
        .route("/v1/incidents/{id}", get(resources::get_incident).patch(resources::update_incident))
        .route("/v1/incidents/{id}/resolve", post(resources::resolve_incident))
        .route("/v1/incidents/{id}/link", post(resources::link_incident))
        .route("/v1/incidents/{id}/confirm-link", post(resources::confirm_incident_link))
        .route("/v1/incidents/{id}/reject-link", post(resources::reject_incident_link))
        .route("/v1/events", get(resources::list_events))
        .route("/v1/changes/{id}/proof", get(ledger::change_proof))
        .route("/v1/ledger/checkpoint", get(ledger::checkpoint).post(ledger::sign_checkpoint))
        .route("/v1/ledger/public-key", get(ledger::public_key))
        .route("/v1/ledger/entries", get(ledger::entries))
        .route("/v1/ledger/proof/inclusion", get(ledger::inclusion))
        .route("/v1/ledger/proof/consistency", get(ledger::consistency))
        .route("/v1/ledger/status", get(ledger::status))
        .route("/v1/ledger/verify", post(ledger::verify))
        .route("/v1/policy", get(governance::get_policy).put(governance::set_policy))
        .route("/v1/policy/versions", get(governance::policy_versions))
        .route("/v1/templates", get(governance::list_templates).post(governance::define_template))
        .route("/v1/calendar", get(governance::calendar))
        .route("/v1/calendar/windows", get(governance::list_windows).post(governance::define_window))
        .route("/v1/calendar/windows/{name}", delete(governance::remove_window))
        .route("/v1/approvals", get(governance::approvals_inbox))
        .route("/v1/changes/{id}/conflicts", get(governance::change_conflicts))
        .route("/v1/changes/{id}/risk", get(risk::change_risk))
        .route("/v1/risk/models", get(risk::risk_models))
        .route("/v1/alert-rules", get(alerts::list_rules))
        .route("/v1/alert-rules/{name}", get(alerts::get_rule).put(alerts::put_rule).delete(alerts::delete_rule))
        .route("/v1/alert-firings", get(alerts::list_firings))
        .route("/v1/services/{name}/rollback-hook", put(alerts::put_rollback_hook).delete(alerts::delete_rollback_hook))
        .route("/v1/compliance", get(compliance::report))
        .route("/v1/compliance/oscal", get(compliance::oscal))
        .route("/v1/maturity", get(maturity::assessment))
        .route("/v1/maturity/questions", get(maturity::questions))
        .route("/v1/maturity/answers", get(maturity::answers).post(maturity::record_answers))
        .route("/v1/maturity/trend", get(maturity::trend))
        .route("/v1/metrics", get(metrics::metrics))
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        .layer(axum::middleware::from_fn(crate::extract::read_whole_body))
        // After the layer above: the import reads whole CSV files, under a limit of its own.
        .merge(import::routes())
}

/// A known path asked with a method it does not take: the JSON error every other refusal has.
async fn api_method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> crate::ApiError {
    crate::ApiError {
        status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{method} is not allowed on {}; see /api/openapi.json", uri.path()),
        fields: Vec::new(),
    }
}

async fn api_not_found(uri: axum::http::Uri) -> crate::ApiError {
    crate::ApiError::not_found(format!("no API endpoint at {}; see /api/openapi.json", uri.path()))
}
