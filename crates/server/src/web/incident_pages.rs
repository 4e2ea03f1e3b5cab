//! The incident page: one incident with its link to the change that caused it and where the link
//! comes from (explicit, suggested by the attribution rule, or confirmed), and the forms to
//! correct it, link it, confirm or reject a suggestion, and resolve it with its downtime.
//!
//! Like the other pages it only translates: the service validates and authorizes every post
//! (a forged one is refused and recorded there).

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::{FieldError, IncidentId};
use changegate_service::Permission;
use changegate_service::{Command, IncidentResolution, IncidentUpdate, ServiceError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{CsrfField, DoneParams, checked_form, datetime_local_to_rfc3339, errors_by_field, non_blank};
use super::render::{self, Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;
use changegate_api::IncidentView;

/// Every form of the incident page posts this; `action` says which.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct IncidentActionForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    action: String,
    title: String,
    severity: String,
    detected_at: String,
    downtime_minutes: String,
    change: String,
    comment: String,
}

impl CsrfField for IncidentActionForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The `Err` is the page to answer with at once (like `checked_form`), so it is not boxed.
#[allow(clippy::result_large_err)]
fn parse_id(state: &AppState, session: &Session, id: &str) -> Result<IncidentId, Response> {
    id.parse().map_err(|_| {
        render::error_page(
            state,
            Some(session),
            StatusCode::NOT_FOUND,
            "Not found",
            "Incident ids look like INC-000001.",
        )
    })
}

async fn incident_page(
    state: &AppState,
    session: &Session,
    id: IncidentId,
    status: StatusCode,
    form: &IncidentActionForm,
    errors: &[FieldError],
    flash: Option<Flash>,
) -> Response {
    let record = match state.service.incident(&session.caller, id).await {
        Ok(record) => record,
        Err(error) => return service_error(state, Some(session), error),
    };
    let context = context! {
        incident => to_value(IncidentView::from(&record)),
        form => to_value(form),
        errors => to_value(errors_by_field(errors)),
        can_edit => session.caller.may(Permission::EditIncidents),
        ..layout(Some(session), "incidents", flash)
    };
    render(state, status, "incident.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), incident = %id))]
pub async fn incident(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<DoneParams>,
) -> Response {
    let id = match parse_id(&state, &session, &id) {
        Ok(id) => id,
        Err(page) => return page,
    };
    let flash = done_flash(params.done()).map(Flash::success);
    incident_page(&state, &session, id, StatusCode::OK, &IncidentActionForm::default(), &[], flash).await
}

fn done_flash(done: &str) -> Option<&'static str> {
    Some(match done {
        "updated" => "Incident updated.",
        "linked" => "Link recorded.",
        "confirmed" => "Suggestion confirmed: the link now counts in metrics.",
        "rejected" => "Link rejected.",
        "resolved" => "Incident resolved.",
        _ => return None,
    })
}

fn minutes(fields: &mut Vec<FieldError>, text: &str) -> Option<u32> {
    let text = non_blank(text)?;
    text.parse().map_err(|_| fields.push(FieldError::new("downtime_minutes", "must be a whole number of minutes"))).ok()
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), incident = %id))]
pub async fn incident_action(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Result<Form<IncidentActionForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let incident = match parse_id(&state, &session, &id) {
        Ok(id) => id,
        Err(page) => return page,
    };
    let mut errors = Vec::new();
    let downtime_minutes = minutes(&mut errors, &form.downtime_minutes);
    let comment = non_blank(&form.comment);
    let (command, done) = match form.action.as_str() {
        "update" => (
            Command::UpdateIncident {
                incident,
                update: IncidentUpdate {
                    title: non_blank(&form.title),
                    severity: non_blank(&form.severity),
                    detected_at: datetime_local_to_rfc3339(&form.detected_at),
                    downtime_minutes,
                    comment,
                },
            },
            "updated",
        ),
        "link" => (Command::LinkIncident { incident, change: form.change.trim().to_uppercase(), comment }, "linked"),
        "confirm" => (Command::ConfirmIncidentLink { incident, comment }, "confirmed"),
        "reject" => (Command::RejectIncidentLink { incident, comment }, "rejected"),
        "resolve" => (
            Command::ResolveIncident {
                incident,
                resolution: IncidentResolution { resolved_at: None, downtime_minutes, comment },
            },
            "resolved",
        ),
        other => {
            let message = format!("unknown action `{other}`");
            return render::error_page(&state, Some(&session), StatusCode::BAD_REQUEST, "Bad request", &message);
        }
    };
    if !errors.is_empty() {
        let flash = Some(Flash::error("Nothing was changed. Correct the fields marked below."));
        return incident_page(&state, &session, incident, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors, flash)
            .await;
    }
    match state.service.incident_command(&session.caller, command).await {
        Ok(_) => Redirect::to(&format!("/incidents/{incident}?done={done}")).into_response(),
        Err(ServiceError::Validation(fields)) => {
            let flash = Some(Flash::error("Nothing was changed. Correct the fields marked below."));
            incident_page(&state, &session, incident, StatusCode::UNPROCESSABLE_ENTITY, &form, &fields, flash).await
        }
        Err(ServiceError::Conflict(message)) => {
            let flash = Some(Flash::error(message));
            incident_page(&state, &session, incident, StatusCode::CONFLICT, &form, &[], flash).await
        }
        Err(error) => service_error(&state, Some(&session), error),
    }
}
