//! Handlers for governance: the approval policy, standard-change templates, the change calendar
//! and the approvals inbox. Translation only; the service decides.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use changegate_core::{PolicySource, PolicyVersionRecord, TemplateRecord, Timestamp};
use changegate_service::{CalendarView, InboxItem, NewTemplate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated, JsonBody};
use changegate_api::{ChangeView, RequiredApprovalView};

/// One file of a policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFileBody {
    #[schema(example = "changegate.rego")]
    pub name: String,
    pub text: String,
}

/// `PUT /api/v1/policy`: a new policy version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPolicyRequest {
    /// Rego files; one must declare `data.changegate.decision`. `test_*` rules in them must pass.
    pub files: Vec<PolicyFileBody>,
    pub comment: Option<String>,
}

/// A policy version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub sha256: String,
    /// `default` (shipped in the binary) or `set` (set through `policy set`).
    pub source: String,
    /// Ledger sequence of the `policy_set` event, for set versions.
    pub sequence: Option<u64>,
    pub set_by: Option<String>,
    pub set_at: Option<String>,
    pub comment: Option<String>,
    pub files: Vec<PolicyFileBody>,
}

impl From<&PolicyVersionRecord> for PolicyView {
    fn from(record: &PolicyVersionRecord) -> Self {
        PolicyView {
            sha256: record.sha256.clone(),
            source: "set".to_owned(),
            sequence: Some(record.sequence),
            set_by: Some(record.set_by.clone()),
            set_at: Some(record.set_at.to_rfc3339()),
            comment: record.comment.clone(),
            files: record
                .files
                .iter()
                .map(|file| PolicyFileBody { name: file.name.clone(), text: file.text.clone() })
                .collect(),
        }
    }
}

/// The policy in force.
#[utoipa::path(get, path = "/api/v1/policy", tag = "governance",
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_policy(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<PolicyView>, ApiError> {
    let (record, policy) = state.service.current_policy(&caller).await?;
    Ok(Json(match record {
        Some(record) => PolicyView::from(&record),
        None => PolicyView {
            sha256: policy.sha256().to_owned(),
            source: "default".to_owned(),
            sequence: None,
            set_by: None,
            set_at: None,
            comment: None,
            files: policy
                .files()
                .iter()
                .map(|file| PolicyFileBody { name: file.name.clone(), text: file.text.clone() })
                .collect(),
        },
    }))
}

/// Every policy version set, oldest first (the default policy is in force before the first).
#[utoipa::path(get, path = "/api/v1/policy/versions", tag = "governance",
    responses((status = 200, body = [PolicyView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn policy_versions(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<PolicyView>>, ApiError> {
    Ok(Json(state.service.policy_versions(&caller).await?.iter().map(PolicyView::from).collect()))
}

/// Put a new policy version in force (admin or security). Recorded in the ledger.
#[utoipa::path(put, path = "/api/v1/policy", tag = "governance", request_body = SetPolicyRequest,
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "Does not parse, lacks the entry point, or its tests fail", body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name()))]
pub async fn set_policy(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<SetPolicyRequest>,
) -> Result<Json<PolicyView>, ApiError> {
    let request = body.value;
    let files = request.files.into_iter().map(|file| PolicySource { name: file.name, text: file.text }).collect();
    let record = state.service.set_policy(&caller, files, request.comment).await?;
    Ok(Json(PolicyView::from(&record)))
}

/// `POST /api/v1/templates`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefineTemplateRequest {
    #[schema(example = "restart-pod")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Services the template covers (empty with empty `teams`: every service).
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
    /// Environments it may be used in (empty: all).
    #[serde(default)]
    pub environments: Vec<String>,
    /// Highest risk class a change from it may have: low (default), medium, high or critical.
    #[serde(default)]
    pub max_risk: String,
    /// Approved for standard (pre-approved) changes.
    #[serde(default = "yes")]
    pub approved: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub name: String,
    pub description: String,
    pub services: Vec<String>,
    pub teams: Vec<String>,
    pub environments: Vec<String>,
    pub max_risk: String,
    pub approved: bool,
    pub defined_by: String,
    pub updated_at: String,
}

impl From<&TemplateRecord> for TemplateView {
    fn from(record: &TemplateRecord) -> Self {
        let names = |names: &[changegate_core::Name]| names.iter().map(ToString::to_string).collect();
        TemplateView {
            name: record.name.to_string(),
            description: record.description.clone(),
            services: names(&record.services),
            teams: names(&record.teams),
            environments: names(&record.environments),
            max_risk: record.max_risk.to_string(),
            approved: record.approved,
            defined_by: record.defined_by.clone(),
            updated_at: record.updated_at.to_rfc3339(),
        }
    }
}

/// Standard-change templates.
#[utoipa::path(get, path = "/api/v1/templates", tag = "governance",
    responses((status = 200, body = [TemplateView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_templates(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<TemplateView>>, ApiError> {
    Ok(Json(state.service.templates(&caller).await?.iter().map(TemplateView::from).collect()))
}

/// Define or redefine a standard-change template (admin or cab).
#[utoipa::path(post, path = "/api/v1/templates", tag = "governance", request_body = DefineTemplateRequest,
    responses((status = 201, body = TemplateView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name()))]
pub async fn define_template(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<DefineTemplateRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let input = NewTemplate {
        name: request.name,
        description: request.description,
        services: request.services,
        teams: request.teams,
        environments: request.environments,
        max_risk: request.max_risk,
        approved: request.approved,
    };
    let record = state.service.define_template(&caller, input).await?;
    Ok((StatusCode::CREATED, Json(TemplateView::from(&record))).into_response())
}

/// A calendar window as stored, with its definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowView {
    pub name: String,
    /// `{name, kind: freeze|maintenance, scope: {kind: global|team|service, name?}, schedule: {kind: one_off, start, end} |
    /// {kind: recurring, rule, time_zone, duration_minutes}, description}`.
    #[schema(value_type = Object)]
    pub window: serde_json::Value,
    pub defined_by: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceView {
    pub name: String,
    /// freeze or maintenance.
    pub kind: String,
    pub scope: String,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarViewBody {
    pub from: String,
    pub to: String,
    pub occurrences: Vec<OccurrenceView>,
    /// Open changes planned in the span.
    pub changes: Vec<ChangeView>,
    pub windows: Vec<WindowView>,
}

fn window_view(record: &changegate_core::CalendarWindowRecord) -> WindowView {
    WindowView {
        name: record.name.to_string(),
        window: record.window.clone(),
        defined_by: record.defined_by.clone(),
        updated_at: record.updated_at.to_rfc3339(),
    }
}

impl From<&CalendarView> for CalendarViewBody {
    fn from(view: &CalendarView) -> Self {
        CalendarViewBody {
            from: view.from.to_rfc3339(),
            to: view.to.to_rfc3339(),
            occurrences: view
                .occurrences
                .iter()
                .map(|occurrence| OccurrenceView {
                    name: occurrence.name.clone(),
                    kind: occurrence.kind.clone(),
                    scope: occurrence.scope.clone(),
                    start: occurrence.start.to_rfc3339(),
                    end: occurrence.end.to_rfc3339(),
                })
                .collect(),
            changes: view.changes.iter().map(ChangeView::from).collect(),
            windows: view.windows.iter().map(window_view).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalendarParams {
    /// RFC 3339 start (inclusive); default now.
    pub from: Option<String>,
    /// RFC 3339 end (exclusive); default 31 days after `from`. At most 400 days after it.
    pub to: Option<String>,
}

/// Parses an optional RFC 3339 query value.
pub fn parse_time(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|text| Timestamp::parse_rfc3339(text).map_err(|message| ApiError::invalid(field, message))).transpose()
}

/// Freeze and maintenance windows and the planned changes over a span.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "governance", params(CalendarParams),
    responses((status = 200, body = CalendarViewBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn calendar(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<CalendarParams>,
) -> Result<Json<CalendarViewBody>, ApiError> {
    let from = parse_time("from", params.from.as_deref())?.unwrap_or_else(|| state.service.now());
    let to = parse_time("to", params.to.as_deref())?.unwrap_or(from.plus_ms(31 * 24 * 60 * 60 * 1000));
    let view = state.service.calendar_view(&caller, from, to).await?;
    Ok(Json(CalendarViewBody::from(&view)))
}

/// Every calendar window.
#[utoipa::path(get, path = "/api/v1/calendar/windows", tag = "governance",
    responses((status = 200, body = [WindowView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_windows(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<WindowView>>, ApiError> {
    Ok(Json(state.service.calendar_windows(&caller).await?.iter().map(window_view).collect()))
}

/// Define or redefine a freeze or maintenance window (admin or cab). The body is the window:
/// `{"name": "black-friday", "kind": "freeze", "scope": {"kind": "global"}, "schedule": {"kind": "one_off",
/// "start": "2026-11-27T00:00:00Z", "end": "2026-11-30T00:00:00Z"}, "description": "..."}` or with
/// `"schedule": {"kind": "recurring", "rule": "DTSTART:20261107T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA",
/// "time_zone": "Europe/Berlin", "duration_minutes": 240}` (an RRULE, or `cron:0 22 * * SAT`).
#[utoipa::path(post, path = "/api/v1/calendar/windows", tag = "governance", request_body(content = Object, description = "The window"),
    responses((status = 201, body = WindowView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "Invalid rule, time zone or span", body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name()))]
pub async fn define_window(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<serde_json::Value>,
) -> Result<Response, ApiError> {
    let window: changegate_calendar::CalendarWindow =
        serde_json::from_value(body.value).map_err(|error| ApiError::invalid("window", error.to_string()))?;
    let record = state.service.define_window(&caller, window).await?;
    Ok((StatusCode::CREATED, Json(window_view(&record))).into_response())
}

/// Remove a calendar window (admin or cab).
#[utoipa::path(delete, path = "/api/v1/calendar/windows/{name}", tag = "governance",
    params(("name" = String, Path, description = "The window's name")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove_window(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.remove_window(&caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One change the caller may approve.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItemView {
    pub change: ChangeView,
    /// Approvals still missing.
    pub missing: Vec<RequiredApprovalView>,
    /// A retrospective approval of an emergency change that already started.
    pub retrospective: bool,
}

impl From<&InboxItem> for InboxItemView {
    fn from(item: &InboxItem) -> Self {
        InboxItemView {
            change: ChangeView::from(&item.change),
            missing: item.missing.iter().map(RequiredApprovalView::from).collect(),
            retrospective: item.retrospective,
        }
    }
}

/// The approvals inbox: what the caller may approve now, under separation of duties, oldest
/// first, with risk, evidence and conflicts.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "governance",
    responses((status = 200, body = [InboxItemView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn approvals_inbox(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<InboxItemView>>, ApiError> {
    Ok(Json(state.service.approvals_inbox(&caller).await?.iter().map(InboxItemView::from).collect()))
}

/// Planned changes that overlap this one on the same or a dependent service, now.
#[utoipa::path(get, path = "/api/v1/changes/{id}/conflicts", tag = "changes",
    params(("id" = String, Path, description = "e.g. CHG-000001")),
    responses((status = 200, body = [String]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_conflicts(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Vec<String>>, ApiError> {
    let id = id.parse().map_err(|_| ApiError::not_found(format!("no change {id}: ids look like CHG-000001")))?;
    Ok(Json(state.service.change_conflicts(&caller, id).await?))
}
