//! The dashboard, the services list, the incidents list with its forms, and the page for an
//! unknown path.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::{ChangeState, FieldError};
use changegate_service::Permission;
use changegate_service::ServiceError;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::*;
use super::render::{self, EventView, Flash, layout, render, service_error, to_value};
use super::session::{MaybeSession, Session};
use crate::AppState;

// ---------------------------------------------------------------------------------------------
// Dashboard

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn dashboard(State(state): State<AppState>, session: Session) -> Response {
    // Only users who may approve have an inbox; for the others it is empty by definition.
    let may_approve = session.caller.may(Permission::DecideChanges);
    let inbox = async {
        if may_approve {
            state.service.approvals_inbox(&session.caller).await.map(|items| Some(items.len()))
        } else {
            Ok(None)
        }
    };
    // Three independent reads (each scans its own rows): side by side, the page waits for the
    // slowest, not for their sum.
    let (dashboard, inbox_count, overdue_emergencies) = tokio::join!(
        state.service.dashboard(&session.caller),
        inbox,
        state.service.overdue_emergency_count(&session.caller)
    );
    let (dashboard, inbox_count, overdue_emergencies) = match (dashboard, inbox_count, overdue_emergencies) {
        (Ok(dashboard), Ok(inbox_count), Ok(overdue_emergencies)) => (dashboard, inbox_count, overdue_emergencies),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
            return service_error(&state, Some(&session), error);
        }
    };
    let counts: Vec<(ChangeState, u64)> = dashboard.counts.iter().map(|count| (count.state, count.count)).collect();
    let count_of = |states: &[ChangeState]| -> u64 {
        counts.iter().filter(|(state, _)| states.contains(state)).map(|(_, count)| count).sum()
    };
    let in_flight =
        count_of(&[ChangeState::Approved, ChangeState::Scheduled, ChangeState::Implementing, ChangeState::Implemented]);
    let needs_attention = count_of(&[ChangeState::Failed, ChangeState::RolledBack]);
    let events: Vec<EventView> = dashboard.recent_events.iter().map(EventView::from).collect();
    let context = context! {
        total => dashboard.total_changes,
        awaiting => dashboard.awaiting_approval,
        inbox_count => inbox_count,
        overdue_emergencies => overdue_emergencies,
        in_flight => in_flight,
        needs_attention => needs_attention,
        states => to_value(render::state_slices(&counts)),
        ledger_size => dashboard.ledger.size,
        ledger_root => hex::encode(dashboard.ledger.root),
        events => to_value(&events),
        verification => to_value(super::ledger_pages::last_verification(&state, &session.caller).await),
        ..layout(Some(&session), "dashboard", None)
    };
    render(&state, StatusCode::OK, "dashboard.html", context)
}

// ---------------------------------------------------------------------------------------------
// Services and the rest

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn services(State(state): State<AppState>, session: Session) -> Response {
    let services = match state.service.services(&session.caller).await {
        Ok(services) => services,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let context = context! {
        services => to_value(&services),
        ..layout(Some(&session), "services", None)
    };
    render(&state, StatusCode::OK, "services.html", context)
}

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct IncidentForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    title: String,
    service: String,
    severity: String,
    detected_at: String,
    caused_by: String,
}

async fn incidents_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    form: &IncidentForm,
    errors: &[FieldError],
    flash: Option<Flash>,
) -> Response {
    let incidents = match state.service.incidents(&session.caller, changegate_service::PAGE_SIZE_MAX).await {
        Ok(incidents) => incidents,
        Err(error) => return service_error(state, Some(session), error),
    };
    let services = match state.service.services(&session.caller).await {
        Ok(services) => services,
        Err(error) => return service_error(state, Some(session), error),
    };
    let context = context! {
        incidents => to_value(&incidents),
        services => to_value(&services),
        form => to_value(form),
        errors => to_value(errors_by_field(errors)),
        can_open => session.caller.may(Permission::EditIncidents),
        ..layout(Some(session), "incidents", flash)
    };
    render(state, status, "incidents.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn incidents(State(state): State<AppState>, session: Session, Query(params): Query<DoneParams>) -> Response {
    let flash = match params.done() {
        "opened" => Some(Flash::success("Incident opened.")),
        "resolved" => Some(Flash::success("Incident resolved.")),
        _ => None,
    };
    let form = IncidentForm { severity: "sev3".into(), ..IncidentForm::default() };
    incidents_page(&state, &session, StatusCode::OK, &form, &[], flash).await
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn open_incident(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<IncidentForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let input = changegate_service::NewIncident {
        title: form.title.clone(),
        service: form.service.trim().to_owned(),
        severity: form.severity.trim().to_owned(),
        detected_at: datetime_local_to_rfc3339(&form.detected_at),
        caused_by: non_blank(&form.caused_by).map(|id| id.to_uppercase()),
        downtime_minutes: None,
    };
    match state.service.open_incident(&session.caller, input, None).await {
        Ok(_) => Redirect::to("/incidents?done=opened").into_response(),
        Err(ServiceError::Validation(fields)) => {
            let flash = Some(Flash::error("The incident was not opened. Correct the fields marked below."));
            incidents_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &form, &fields, flash).await
        }
        Err(error) => service_error(&state, Some(&session), error),
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), incident = %id))]
pub async fn resolve_incident(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = checked_form(&state, &session, form) {
        return refusal;
    }
    let Ok(incident) = id.parse::<changegate_core::IncidentId>() else {
        return render::error_page(
            &state,
            Some(&session),
            StatusCode::NOT_FOUND,
            "Not found",
            "Incident ids look like INC-000001.",
        );
    };
    match state.service.resolve_incident(&session.caller, incident, None).await {
        Ok(_) => Redirect::to("/incidents?done=resolved").into_response(),
        Err(error) => service_error(&state, Some(&session), error),
    }
}

#[tracing::instrument(skip_all, fields(path = %uri.path()))]
pub async fn not_found(State(state): State<AppState>, MaybeSession(session): MaybeSession, uri: Uri) -> Response {
    render::error_page(
        &state,
        session.as_ref(),
        StatusCode::NOT_FOUND,
        "Page not found",
        &format!("There is no page at {}.", uri.path()),
    )
}

csrf_field!(IncidentForm);
