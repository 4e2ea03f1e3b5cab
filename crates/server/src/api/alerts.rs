//! Handlers for alerts and automated rollback: alert rules (`/api/v1/alert-rules`), their
//! firings with every delivery attempt (`/api/v1/alert-firings`), and a service's rollback hook
//! (`/api/v1/services/{name}/rollback-hook`). Translation only; the service validates and decides.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use changegate_core::{AlertFiringRecord, AlertRuleRecord, RollbackTarget};
use changegate_service::{AlertRule, RollbackHookRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated, JsonBody};
use changegate_api::ServiceView;

/// An alert rule as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertRuleView {
    pub name: String,
    /// One of high_risk_change, change_failure_rate, approval_overdue,
    /// emergency_retrospective_overdue, compliance_violation, ledger_verification_failed.
    pub kind: String,
    /// The rule as stored, defaults written out: `{"kind": …, <parameters>, "webhooks": [...]}`.
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    pub webhooks: Vec<String>,
    pub defined_by: String,
    pub updated_at: String,
}

impl From<&AlertRuleRecord> for AlertRuleView {
    fn from(record: &AlertRuleRecord) -> Self {
        let parsed = AlertRule::parse(&record.rule).ok();
        AlertRuleView {
            name: record.name.to_string(),
            kind: record.rule["kind"].as_str().unwrap_or_default().to_owned(),
            rule: record.rule.clone(),
            webhooks: parsed.map(|rule| rule.webhooks).unwrap_or_default(),
            defined_by: record.defined_by.clone(),
            updated_at: record.updated_at.to_rfc3339(),
        }
    }
}

/// One delivery attempt of a firing.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDeliveryView {
    pub target: String,
    /// 1 for the first attempt; 0 when the job was dropped because the queue was full.
    pub attempt: u32,
    pub ok: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: String,
}

/// One firing of a rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertFiringView {
    /// The ledger sequence of the `alert_fired` event.
    pub sequence: u64,
    pub rule: String,
    pub kind: String,
    /// What it is about: `change/CHG-…`, `service/…`, `ledger`.
    pub subject: String,
    /// A rule fires once per key.
    pub key: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub fired_at: String,
    /// Whether some attempt succeeded.
    pub delivered: bool,
    pub deliveries: Vec<AlertDeliveryView>,
}

impl From<&AlertFiringRecord> for AlertFiringView {
    fn from(record: &AlertFiringRecord) -> Self {
        AlertFiringView {
            sequence: record.sequence,
            rule: record.rule.to_string(),
            kind: record.kind.clone(),
            subject: record.subject.clone(),
            key: record.key.clone(),
            message: record.message.clone(),
            details: record.details.clone(),
            fired_at: record.fired_at.to_rfc3339(),
            delivered: record.delivered(),
            deliveries: record
                .deliveries
                .iter()
                .map(|delivery| AlertDeliveryView {
                    target: delivery.target.clone(),
                    attempt: delivery.attempt,
                    ok: delivery.ok,
                    status: delivery.status,
                    error: delivery.error.clone(),
                    at: delivery.at.to_rfc3339(),
                })
                .collect(),
        }
    }
}

/// Every alert rule, by name.
#[utoipa::path(get, path = "/api/v1/alert-rules", tag = "alerts",
    responses((status = 200, body = [AlertRuleView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_rules(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<AlertRuleView>>, ApiError> {
    Ok(Json(state.service.alert_rules(&caller).await?.iter().map(AlertRuleView::from).collect()))
}

/// One alert rule.
#[utoipa::path(get, path = "/api/v1/alert-rules/{name}", tag = "alerts",
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 200, body = AlertRuleView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_rule(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<AlertRuleView>, ApiError> {
    let rules = state.service.alert_rules(&caller).await?;
    let record = rules
        .iter()
        .find(|record| record.name.as_str() == name)
        .ok_or_else(|| ApiError::not_found(format!("alert rule {name} not found")))?;
    Ok(Json(AlertRuleView::from(record)))
}

/// Define or redefine an alert rule (admin). The body is the rule:
/// `{"kind": "high_risk_change", "min_class": "critical", "webhooks": ["https://hooks.slack.com/…"]}`,
/// `{"kind": "change_failure_rate", "service": "payments-api", "threshold": 0.25, "window_hours": 168, "min_deployments": 4}`,
/// `{"kind": "approval_overdue", "after_hours": 24}`, `{"kind": "emergency_retrospective_overdue"}`,
/// `{"kind": "compliance_violation", "frameworks": ["dora"]}` or `{"kind": "ledger_verification_failed"}`,
/// each with optional `webhooks` (at most 8 http(s) URLs). A bad rule is a 422 and writes nothing.
#[utoipa::path(put, path = "/api/v1/alert-rules/{name}", tag = "alerts",
    params(("name" = String, Path, description = "The rule's name: a lowercase slug")),
    request_body(content = Object, description = "The rule"),
    responses((status = 200, body = AlertRuleView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, description = "Unknown kind, bad parameter or webhook", body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name(), rule = %name))]
pub async fn put_rule(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    body: JsonBody<serde_json::Value>,
) -> Result<Json<AlertRuleView>, ApiError> {
    let record = state.service.define_alert_rule(&caller, &name, &body.value).await?;
    Ok(Json(AlertRuleView::from(&record)))
}

/// Remove an alert rule (admin). Its firings stay in the log.
#[utoipa::path(delete, path = "/api/v1/alert-rules/{name}", tag = "alerts",
    params(("name" = String, Path, description = "The rule's name")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_rule(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.remove_alert_rule(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FiringParams {
    /// How many, newest first (1 to 500; default 50).
    pub limit: Option<u32>,
}

/// Alert firings with every delivery attempt, newest first.
#[utoipa::path(get, path = "/api/v1/alert-firings", tag = "alerts", params(FiringParams),
    responses((status = 200, body = [AlertFiringView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_firings(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<FiringParams>,
) -> Result<Json<Vec<AlertFiringView>>, ApiError> {
    let firings = state.service.alert_firings(&caller, params.limit.unwrap_or(50)).await?;
    Ok(Json(firings.iter().map(AlertFiringView::from).collect()))
}

/// `PUT /api/v1/services/{name}/rollback-hook`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackHookBody {
    /// `{"kind": "webhook", "url": "https://deploy.example.com/rollback"}` or
    /// `{"kind": "command", "program": "/usr/local/bin/rollback", "arguments": ["--service", "payments-api"]}`
    /// (run without a shell; `CHANGEGATE_CHANGE_ID`, `CHANGEGATE_SERVICE`, `CHANGEGATE_ENVIRONMENT` and
    /// `CHANGEGATE_TRIGGER` are in its environment).
    #[schema(value_type = Object)]
    pub target: RollbackTarget,
    /// A severity 1–2 incident linked to a change and detected this long after its deployment
    /// triggers the hook (1 to 720; default 24).
    pub incident_window_hours: Option<u32>,
}

/// Set a service's automated rollback hook (admin). It runs, once per change, when a change of
/// the service fails or a severity 1–2 incident is linked to one inside the window; on success
/// the change is rolled back automatically.
#[utoipa::path(put, path = "/api/v1/services/{name}/rollback-hook", tag = "services", request_body = RollbackHookBody,
    params(("name" = String, Path, description = "The service")),
    responses((status = 200, body = ServiceView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name(), service = %name))]
pub async fn put_rollback_hook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
    body: JsonBody<RollbackHookBody>,
) -> Result<Json<ServiceView>, ApiError> {
    let request =
        RollbackHookRequest { target: body.value.target, incident_window_hours: body.value.incident_window_hours };
    let record = state.service.set_rollback_hook(&caller, &name, Some(request)).await?;
    Ok(Json(ServiceView::from(&record)))
}

/// Remove a service's rollback hook (admin).
#[utoipa::path(delete, path = "/api/v1/services/{name}/rollback-hook", tag = "services",
    params(("name" = String, Path, description = "The service")),
    responses((status = 200, body = ServiceView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No such service, or it has no hook", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_rollback_hook(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<ServiceView>, ApiError> {
    let record = state.service.set_rollback_hook(&caller, &name, None).await?;
    Ok(Json(ServiceView::from(&record)))
}
