//! Handlers for the API resources. Each one: authenticate, translate the request into a service
//! call, translate the result. Nothing here decides anything.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, IncidentId};
use changegate_service::{
    ActionRequest, ChangeQuery, Command, IncidentResolution, IncidentUpdate, NewChange, NewIncident, NewService,
    NewUser, Outcome,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated, BoundedBody, IdempotencyHeader, JsonBody, optional_json};
use changegate_api::*;

/// Responds 201 for a new resource, or 201 with `Idempotent-Replayed: true` for a replay.
fn created<T: serde::Serialize>(body: T, replayed: bool) -> Response {
    let mut headers = HeaderMap::new();
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    (StatusCode::CREATED, headers, Json(body)).into_response()
}

fn parse_change_id(text: &str) -> Result<ChangeId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(format!("no change {text}: ids look like CHG-000001")))
}

/// Create a change (in `draft`).
#[utoipa::path(post, path = "/api/v1/changes", tag = "changes", request_body = CreateChangeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key; the same key and body return the first result")),
    responses(
        (status = 201, description = "Created", body = ChangeView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid input", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name()))]
pub async fn create_change(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    idempotency: IdempotencyHeader,
    body: JsonBody<CreateChangeRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency.key("POST", "/api/v1/changes", &body.raw)?;
    let request = body.value;
    let input = NewChange {
        title: request.title,
        description: request.description,
        change_type: request.change_type,
        service: request.service,
        environment: request.environment,
        implementation_plan: request.implementation_plan,
        rollback_plan: request.rollback_plan,
        planned_start: request.planned_start,
        planned_end: request.planned_end,
        links: request.links,
        test_evidence: request.test_evidence,
        security_evidence: request.security_evidence,
        security_critical_findings: request.security_critical_findings,
        template: request.template,
        justification: request.justification,
        commit: request.commit,
        pipeline_url: request.pipeline_url,
        code_metrics: request.code_metrics,
        commit_time: request.commit_time,
    };
    let Outcome { value, replayed } = state.service.create_change(&caller, input, key.as_ref()).await?;
    Ok(created(ChangeView::from(&value), replayed))
}

/// Filters and paging for listing changes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListChangesParams {
    /// Only changes in this state.
    pub state: Option<String>,
    /// Only changes to this service.
    pub service: Option<String>,
    /// Only changes by this requester.
    pub requester: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List changes, newest first.
#[utoipa::path(get, path = "/api/v1/changes", tag = "changes", params(ListChangesParams),
    responses((status = 200, body = ChangePageView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_changes(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<ListChangesParams>,
) -> Result<Json<ChangePageView>, ApiError> {
    let query = ChangeQuery {
        state: params.state,
        service: params.service,
        requester: params.requester,
        limit: params.limit,
        cursor: params.cursor,
    };
    let page = state.service.list_changes(&caller, &query).await?;
    Ok(Json(ChangePageView {
        items: page.changes.iter().map(ChangeView::from).collect(),
        next_cursor: page.next_before_id.map(|id| id.to_string()),
    }))
}

/// One change with its event history and the actions the caller may take.
#[utoipa::path(get, path = "/api/v1/changes/{id}", tag = "changes",
    params(("id" = String, Path, description = "e.g. CHG-000001")),
    responses((status = 200, body = ChangeDetailView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_change(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<ChangeDetailView>, ApiError> {
    let id = parse_change_id(&id)?;
    let detail = state.service.change_detail(&caller, id).await?;
    Ok(Json(ChangeDetailView {
        change: ChangeView::from(&detail.change),
        events: detail.events.iter().map(EventView::from).collect(),
        available_actions: detail.available_actions.iter().map(|action| action.to_string()).collect(),
    }))
}

/// Take a lifecycle action: submit, approve, reject, schedule, start, complete, verify, fail,
/// rollback, review, close or cancel.
#[utoipa::path(post, path = "/api/v1/changes/{id}/actions/{action}", tag = "changes", request_body(content = ActionBody, description = "Optional"),
    params(
        ("id" = String, Path, description = "e.g. CHG-000001"),
        ("action" = String, Path, description = "submit, approve, reject, schedule, start, complete, verify, fail, rollback, review, close, cancel"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key"),
    ),
    responses(
        (status = 200, description = "The change after the action", body = ChangeView),
        (status = 401, body = ErrorBody), (status = 403, description = "Not allowed (recorded as an event)", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "illegal_transition", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name(), change = %id, action = %action))]
pub async fn change_action(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    idempotency: IdempotencyHeader,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    BoundedBody(body): BoundedBody,
) -> Result<Response, ApiError> {
    let change = parse_change_id(&id)?;
    let parsed_action: Action =
        action.parse().map_err(|message: String| ApiError::new(StatusCode::NOT_FOUND, "unknown_action", message))?;
    // The body is optional for actions; when present it must be a JSON object of known fields.
    let request: ActionBody = optional_json(&headers, &body)?;
    let key = idempotency.key("POST", &format!("/api/v1/changes/{change}/actions/{parsed_action}"), &body)?;
    let input = ActionRequest {
        comment: request.comment,
        root_cause: request.root_cause,
        planned_start: request.planned_start,
        planned_end: request.planned_end,
    };
    let outcome = state.service.act(&caller, change, parsed_action, input, key.as_ref()).await?;
    let mut response = Json(ChangeView::from(&outcome.value)).into_response();
    if outcome.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// Register a service (admin).
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = CreateServiceRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = ServiceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, description = "Name taken", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_service(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    idempotency: IdempotencyHeader,
    body: JsonBody<CreateServiceRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency.key("POST", "/api/v1/services", &body.raw)?;
    let request = body.value;
    let input = NewService {
        name: request.name,
        team: request.team,
        tier: request.tier,
        scopes: request.scopes,
        depends_on: request.depends_on,
    };
    let outcome = state.service.register_service(&caller, input, key.as_ref()).await?;
    Ok(created(ServiceView::from(&outcome.value), outcome.replayed))
}

/// List services.
#[utoipa::path(get, path = "/api/v1/services", tag = "services",
    responses((status = 200, body = ListView<ServiceView>), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_services(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ListView<ServiceView>>, ApiError> {
    let services = state.service.services(&caller).await?;
    Ok(Json(ListView { items: services.iter().map(ServiceView::from).collect() }))
}

/// Add a user (admin). The response carries the user's API token, shown only this once.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = CreatedUserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<CreateUserRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let input = NewUser { name: request.name, roles: request.roles, team: request.team };
    let created_user = state.service.create_user(&caller, input).await?;
    Ok(created(
        CreatedUserView {
            user: UserView::from(&created_user.user),
            token: created_user.token,
            token_id: created_user.token_id,
        },
        false,
    ))
}

/// List users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = ListView<UserView>), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<ListView<UserView>>, ApiError> {
    let users = state.service.users(&caller).await?;
    Ok(Json(ListView { items: users.iter().map(UserView::from).collect() }))
}

/// Open an incident, optionally naming the change that caused it.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = CreateIncidentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 201, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_incident(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    idempotency: IdempotencyHeader,
    body: JsonBody<CreateIncidentRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency.key("POST", "/api/v1/incidents", &body.raw)?;
    let request = body.value;
    let input = NewIncident {
        title: request.title,
        service: request.service,
        severity: request.severity,
        detected_at: request.detected_at,
        caused_by: request.caused_by,
        downtime_minutes: request.downtime_minutes,
    };
    let outcome = state.service.open_incident(&caller, input, key.as_ref()).await?;
    Ok(created(IncidentView::from(&outcome.value), outcome.replayed))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LimitParams {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
}

/// List incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(LimitParams),
    responses((status = 200, body = ListView<IncidentView>), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list_incidents(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<LimitParams>,
) -> Result<Json<ListView<IncidentView>>, ApiError> {
    let limit = params.limit.unwrap_or(changegate_service::PAGE_SIZE_DEFAULT);
    let incidents = state.service.incidents(&caller, limit).await?;
    Ok(Json(ListView { items: incidents.iter().map(IncidentView::from).collect() }))
}

fn parse_incident_id(text: &str) -> Result<IncidentId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(format!("no incident {text}: ids look like INC-000001")))
}

/// One incident, with its link and provenance.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "e.g. INC-000001")),
    responses((status = 200, body = IncidentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_incident(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    let incident = parse_incident_id(&id)?;
    let record = state.service.incident(&caller, incident).await?;
    Ok(Json(IncidentView::from(&record)))
}

/// Mark an incident resolved, optionally with its downtime.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/resolve", tag = "incidents", request_body(content = ResolveIncidentRequest, description = "Optional"),
    params(("id" = String, Path, description = "e.g. INC-000001")),
    responses((status = 200, body = IncidentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resolve_incident(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    BoundedBody(body): BoundedBody,
) -> Result<Json<IncidentView>, ApiError> {
    let request: ResolveIncidentRequest = optional_json(&headers, &body)?;
    let incident = parse_incident_id(&id)?;
    let resolution = IncidentResolution {
        resolved_at: request.resolved_at,
        downtime_minutes: request.downtime_minutes,
        comment: request.comment,
    };
    let record = state.service.incident_command(&caller, Command::ResolveIncident { incident, resolution }).await?;
    Ok(Json(IncidentView::from(&record)))
}

/// Correct an incident's title, severity, detection time or downtime.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", request_body = UpdateIncidentRequest,
    params(("id" = String, Path, description = "e.g. INC-000001")),
    responses((status = 200, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update_incident(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    body: JsonBody<UpdateIncidentRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let incident = parse_incident_id(&id)?;
    let request = body.value;
    let update = IncidentUpdate {
        title: request.title,
        severity: request.severity,
        detected_at: request.detected_at,
        downtime_minutes: request.downtime_minutes,
        comment: request.comment,
    };
    let record = state.service.incident_command(&caller, Command::UpdateIncident { incident, update }).await?;
    Ok(Json(IncidentView::from(&record)))
}

/// Link an incident to the change that caused it (an explicit link; naming the suggested change
/// confirms the suggestion).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/link", tag = "incidents", request_body = LinkIncidentRequest,
    params(("id" = String, Path, description = "e.g. INC-000001")),
    responses((status = 200, body = IncidentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn link_incident(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    body: JsonBody<LinkIncidentRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let incident = parse_incident_id(&id)?;
    let request = body.value;
    let command = Command::LinkIncident { incident, change: request.change, comment: request.comment };
    let record = state.service.incident_command(&caller, command).await?;
    Ok(Json(IncidentView::from(&record)))
}

/// Confirm the attribution rule's suggestion: the link becomes `confirmed` and counts in metrics.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/confirm-link", tag = "incidents",
    request_body(content = IncidentLinkDecisionRequest, description = "Optional"),
    params(("id" = String, Path, description = "e.g. INC-000001")),
    responses((status = 200, body = IncidentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn confirm_incident_link(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    BoundedBody(body): BoundedBody,
) -> Result<Json<IncidentView>, ApiError> {
    let request: IncidentLinkDecisionRequest = optional_json(&headers, &body)?;
    let incident = parse_incident_id(&id)?;
    let command = Command::ConfirmIncidentLink { incident, comment: request.comment };
    let record = state.service.incident_command(&caller, command).await?;
    Ok(Json(IncidentView::from(&record)))
}

/// Reject the suggested link (or remove an explicit one); the rule then suggests the next
/// candidate, never the rejected change again.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reject-link", tag = "incidents",
    request_body(content = IncidentLinkDecisionRequest, description = "Optional"),
    params(("id" = String, Path, description = "e.g. INC-000001")),
    responses((status = 200, body = IncidentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reject_incident_link(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    BoundedBody(body): BoundedBody,
) -> Result<Json<IncidentView>, ApiError> {
    let request: IncidentLinkDecisionRequest = optional_json(&headers, &body)?;
    let incident = parse_incident_id(&id)?;
    let command = Command::RejectIncidentLink { incident, comment: request.comment };
    let record = state.service.incident_command(&caller, command).await?;
    Ok(Json(IncidentView::from(&record)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Return events with a sequence above this (default 0: from the start).
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// Read the event log in order.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventParams),
    responses((status = 200, body = EventPageView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<EventParams>,
) -> Result<Json<EventPageView>, ApiError> {
    let events = state.service.events_after(&caller, params.after.unwrap_or(0), params.limit.unwrap_or(100)).await?;
    Ok(Json(EventPageView {
        next_after: events.last().map(|event| event.sequence),
        items: events.iter().map(EventView::from).collect(),
    }))
}
