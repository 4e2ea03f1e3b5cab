//! The changes: the list with its filters, the new-change form, and one change's page with its
//! lifecycle actions, the policy decision, the conflicts and the risk panel.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::approval::RequiredApproval;
use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ChangeRecord, ChangeState, ChangeType, FieldError};
use changegate_service::Caller;
use changegate_service::Permission;
use changegate_service::{ActionRequest, ChangeDetail, ChangeQuery, NewChange, ServiceError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::*;
use super::render::{self, EventView, Flash, layout, render, service_error, to_value};
use super::risk_pages::risk_panel;
use super::session::Session;
use crate::AppState;

/// Environments suggested on the new-change form (any valid name is accepted).
const ENVIRONMENT_SUGGESTIONS: &[&str] = &["production", "staging", "development", "test"];

// ---------------------------------------------------------------------------------------------
// The list of changes

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct ListParams {
    state: String,
    service: String,
    requester: String,
    cursor: String,
    limit: String,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn list_changes(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let Query(params) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_form(&state, Some(&session), rejection.status(), rejection.body_text()),
    };
    let services = match state.service.services(&session.caller).await {
        Ok(services) => services,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let mut errors: Vec<FieldError> = Vec::new();
    let limit = match non_blank(&params.limit).map(|text| text.parse::<u32>()) {
        None => None,
        Some(Ok(limit)) => Some(limit),
        Some(Err(_)) => {
            errors.push(FieldError::new("limit", "must be a whole number"));
            None
        }
    };
    let query = ChangeQuery {
        state: non_blank(&params.state),
        service: non_blank(&params.service),
        // Names are lowercase slugs: "Alice" finds alice.
        requester: non_blank(&params.requester).map(|requester| requester.to_lowercase()),
        limit,
        cursor: non_blank(&params.cursor),
    };
    let (changes, next_page) = if errors.is_empty() {
        match state.service.list_changes(&session.caller, &query).await {
            Ok(page) => {
                let next_page = page.next_before_id.map(|cursor| {
                    let mut pairs: Vec<(&str, String)> = Vec::new();
                    for (name, value) in
                        [("state", &query.state), ("service", &query.service), ("requester", &query.requester)]
                    {
                        if let Some(value) = value {
                            pairs.push((name, value.clone()));
                        }
                    }
                    if let Some(limit) = query.limit {
                        pairs.push(("limit", limit.to_string()));
                    }
                    pairs.push(("cursor", cursor.to_string()));
                    let query: Vec<String> =
                        pairs.iter().map(|(name, value)| format!("{name}={}", render::url_encode(value))).collect();
                    format!("/changes?{}", query.join("&"))
                });
                (page.changes, next_page)
            }
            Err(ServiceError::Validation(fields)) => {
                errors = fields;
                (Vec::new(), None)
            }
            Err(error) => return service_error(&state, Some(&session), error),
        }
    } else {
        (Vec::new(), None)
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let flash = (!errors.is_empty()).then(|| {
        let messages: Vec<String> = errors.iter().map(|error| format!("{}: {}", error.field, error.message)).collect();
        Flash::error(format!("Some filters are not valid: {}", messages.join("; ")))
    });
    let filtered = query.state.is_some() || query.service.is_some() || query.requester.is_some();
    let context = context! {
        changes => to_value(&changes),
        next_page => next_page,
        paged => query.cursor.is_some(),
        filtered => filtered,
        filters => to_value(&params),
        states => ChangeState::ALL.iter().map(|state| state.as_str()).collect::<Vec<_>>(),
        services => services.iter().map(|service| service.name.as_str().to_owned()).collect::<Vec<_>>(),
        ..layout(Some(&session), "changes", flash)
    };
    render(&state, status, "changes.html", context)
}

// ---------------------------------------------------------------------------------------------
// A new change

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct NewChangeForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    title: String,
    description: String,
    #[serde(rename = "type")]
    change_type: String,
    service: String,
    environment: String,
    implementation_plan: String,
    rollback_plan: String,
    planned_start: String,
    planned_end: String,
    links: String,
    test_evidence: String,
    security_evidence: String,
    template: String,
    justification: String,
}

async fn new_change_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    form: &NewChangeForm,
    errors: &[FieldError],
) -> Response {
    let services = match state.service.services(&session.caller).await {
        Ok(services) => services,
        Err(error) => return service_error(state, Some(session), error),
    };
    let templates = match super::governance_pages::approved_templates(state, &session.caller).await {
        Ok(templates) => templates,
        Err(error) => return service_error(state, Some(session), error),
    };
    let flash = (!errors.is_empty())
        .then(|| Flash::error("The change was not created. Correct the fields marked below and send the form again."));
    let context = context! {
        form => to_value(form),
        errors => to_value(errors_by_field(errors)),
        types => ChangeType::ALL.iter().map(|change_type| change_type.as_str()).collect::<Vec<_>>(),
        services => to_value(&services),
        templates => to_value(&templates),
        environments => ENVIRONMENT_SUGGESTIONS.to_vec(),
        ..layout(Some(session), "new", flash)
    };
    render(state, status, "change_new.html", context)
}

fn may_create(session: &Session) -> bool {
    session.caller.may(Permission::CreateChanges)
}

fn cannot_create(state: &AppState, session: &Session) -> Response {
    render::error_page(
        state,
        Some(session),
        StatusCode::FORBIDDEN,
        "Not allowed",
        "Creating a change needs the requester or admin role.",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewChangeParams {
    /// A template to start from (the templates page links here).
    template: String,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn new_change_form(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<NewChangeParams>, QueryRejection>,
) -> Response {
    if !may_create(&session) {
        return cannot_create(&state, &session);
    }
    let template = query.ok().and_then(|Query(params)| non_blank(&params.template));
    // A change from a template is a standard change; otherwise most changes are normal ones.
    let change_type = if template.is_some() { ChangeType::Standard } else { ChangeType::Normal };
    let form = NewChangeForm {
        change_type: change_type.as_str().to_owned(),
        template: template.unwrap_or_default(),
        ..NewChangeForm::default()
    };
    new_change_page(&state, &session, StatusCode::OK, &form, &[]).await
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn create_change(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<NewChangeForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let input = NewChange {
        title: form.title.clone(),
        description: form.description.clone(),
        change_type: form.change_type.trim().to_owned(),
        service: form.service.trim().to_owned(),
        environment: form.environment.trim().to_owned(),
        implementation_plan: non_blank(&form.implementation_plan).map(|_| form.implementation_plan.clone()),
        rollback_plan: non_blank(&form.rollback_plan).map(|_| form.rollback_plan.clone()),
        planned_start: datetime_local_to_rfc3339(&form.planned_start),
        planned_end: datetime_local_to_rfc3339(&form.planned_end),
        links: form.links.lines().filter_map(non_blank).collect(),
        test_evidence: non_blank(&form.test_evidence),
        security_evidence: non_blank(&form.security_evidence),
        template: non_blank(&form.template),
        justification: non_blank(&form.justification),
        ..NewChange::default()
    };
    match state.service.create_change(&session.caller, input, None).await {
        Ok(outcome) => {
            tracing::info!(change = %outcome.value.id, "change created from the web form");
            Redirect::to(&format!("/changes/{}", outcome.value.id)).into_response()
        }
        Err(ServiceError::Validation(fields)) => {
            new_change_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &form, &fields).await
        }
        Err(error) => service_error(&state, Some(&session), error),
    }
}

// ---------------------------------------------------------------------------------------------
// One change

/// An action button.
#[derive(Serialize)]
struct ActionView {
    name: &'static str,
    label: &'static str,
    /// Button style: `good`, `danger`, `warn` or `primary`.
    style: &'static str,
    help: &'static str,
}

fn action_view(action: Action) -> ActionView {
    let (label, style, help) = match action {
        Action::Submit => ("Submit for assessment", "primary", "Records the risk assessment and asks for approval."),
        Action::Approve => ("Approve", "good", "Give your approval."),
        Action::Reject => ("Reject", "danger", "Refuse the change; it cannot be resumed."),
        Action::Schedule => ("Schedule", "primary", "Set the window (defaults to the planned window)."),
        Action::Start => ("Start implementation", "primary", "The change is being implemented now."),
        Action::Complete => ("Mark implemented", "primary", "Implementation finished; verification follows."),
        Action::Verify => ("Verify", "good", "The change works as intended."),
        Action::Fail => ("Mark failed", "danger", "The change did not work."),
        Action::Rollback => ("Roll back", "warn", "The change was reverted."),
        Action::Review => {
            ("Record review", "primary", "Post-implementation review; a failed change needs its root cause.")
        }
        Action::Close => ("Close", "primary", "Finish the change."),
        Action::Cancel => ("Cancel change", "danger", "Withdraw the change before implementation."),
    };
    ActionView { name: action.as_str(), label, style, help }
}

/// What the confirmation after an action says was done.
fn action_done(action: Action) -> &'static str {
    match action {
        Action::Submit => "Submitted",
        Action::Approve => "Your approval is recorded",
        Action::Reject => "Your rejection is recorded",
        Action::Schedule => "Scheduled",
        Action::Start => "Implementation started",
        Action::Complete => "Marked implemented",
        Action::Verify => "Verified",
        Action::Fail => "Marked failed",
        Action::Rollback => "Rollback recorded",
        Action::Review => "Review recorded",
        Action::Close => "Closed",
        Action::Cancel => "Cancelled",
    }
}

/// What a failed action leaves on the page: which form, and what was typed in it.
#[derive(Serialize, Default)]
struct ActionAttempt {
    action: String,
    comment: String,
    root_cause: String,
    planned_start: String,
    planned_end: String,
}

/// One required approval on the change page: who fills it and how many are still missing.
#[derive(Serialize)]
struct RequirementView {
    role: String,
    count: u32,
    filled_by: Vec<String>,
    missing: u32,
}

/// An approval that does not count, with why.
#[derive(Serialize)]
struct RefusedView {
    approver: String,
    reason: String,
}

/// Where the approvals stand against the policy's decision, for the "Policy decision" panel.
#[derive(Serialize, Default)]
struct DecisionView {
    requirements: Vec<RequirementView>,
    missing: Vec<RequiredApproval>,
    refused: Vec<RefusedView>,
    /// Open changes overlapping this one now (the assessment's list is as of submission).
    conflicts_now: Option<Vec<String>>,
}

fn decision_view(change: &ChangeRecord, conflicts_now: Option<Vec<String>>) -> DecisionView {
    let (Some(assessment), Some(status)) = (&change.assessment, change.approval_status()) else {
        return DecisionView { conflicts_now, ..DecisionView::default() };
    };
    let requirements = assessment
        .requirement()
        .into_iter()
        .map(|required| RequirementView {
            filled_by: status
                .assigned
                .iter()
                .filter(|(_, role)| *role == required.role)
                .map(|(approver, _)| approver.clone())
                .collect(),
            missing: status
                .missing
                .iter()
                .filter(|missing| missing.role == required.role)
                .map(|missing| missing.count)
                .sum(),
            role: required.role,
            count: required.count,
        })
        .collect();
    DecisionView {
        requirements,
        missing: if change.auto_approved { Vec::new() } else { status.missing },
        refused: status.refused.into_iter().map(|(approver, reason)| RefusedView { approver, reason }).collect(),
        conflicts_now,
    }
}

/// The open changes overlapping `change` now, for a change still being decided or planned; `None`
/// for the others (conflicts no longer matter once it runs or ends) or when they cannot be read.
async fn conflicts_now(state: &AppState, caller: &Caller, change: &ChangeRecord) -> Option<Vec<String>> {
    if !change.state.is_planned() || change.planned_start.is_none() {
        return None;
    }
    match state.service.change_conflicts(caller, change.id).await {
        Ok(conflicts) => Some(conflicts),
        Err(error) => {
            tracing::warn!(change = %change.id, error = %error, "conflicts could not be read for the change page");
            None
        }
    }
}

/// The change page; reads what it shows besides the detail (conflicts now, the risk panel).
async fn change_page_response(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    detail: &ChangeDetail,
    flash: Option<Flash>,
    attempt: Option<&ActionAttempt>,
) -> Response {
    let change = &detail.change;
    // Independent reads: side by side, the page waits for the slower one only.
    let (conflicts, risk) =
        tokio::join!(conflicts_now(state, &session.caller, change), risk_panel(state, &session.caller, change));
    let actions: Vec<ActionView> = detail.available_actions.iter().copied().map(action_view).collect();
    let mut events: Vec<EventView> = detail.events.iter().map(EventView::from).collect();
    events.reverse();
    let is_requester = &change.requester == session.caller.name();
    let waiting_for_approval = change.awaits_approval();
    let context = context! {
        change => to_value(change),
        decision => to_value(decision_view(change, conflicts)),
        risk => to_value(&risk),
        actions => to_value(&actions),
        events => to_value(&events),
        is_requester => is_requester,
        waiting_for_approval => waiting_for_approval,
        attempt => attempt.map(to_value),
        ..layout(Some(session), "changes", flash)
    };
    render(state, status, "change.html", context)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangePageQuery {
    done: Option<String>,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), change = %id))]
pub async fn change_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    query: Result<Query<ChangePageQuery>, QueryRejection>,
) -> Response {
    let Ok(change_id) = id.parse::<ChangeId>() else {
        return unknown_change(&state, &session, &id);
    };
    let detail = match state.service.change_detail(&session.caller, change_id).await {
        Ok(detail) => detail,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let flash =
        query.ok().and_then(|Query(query)| query.done).and_then(|done| done.parse::<Action>().ok()).map(|action| {
            let state = detail.change.state.as_str().replace('_', " ");
            Flash::success(format!("{}. The change is now {state}.", action_done(action)))
        });
    change_page_response(&state, &session, StatusCode::OK, &detail, flash, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: Option<String>,
    comment: String,
    root_cause: String,
    planned_start: String,
    planned_end: String,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), change = %id, action = %action))]
pub async fn change_action(
    State(state): State<AppState>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let Ok(change_id) = id.parse::<ChangeId>() else {
        return unknown_change(&state, &session, &id);
    };
    let Ok(parsed_action) = action.parse::<Action>() else {
        return render::error_page(
            &state,
            Some(&session),
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("`{action}` is not an action on a change."),
        );
    };
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let schedule = parsed_action == Action::Schedule;
    let request = ActionRequest {
        comment: non_blank(&form.comment).map(|_| form.comment.clone()),
        root_cause: if parsed_action == Action::Review { non_blank(&form.root_cause) } else { None },
        planned_start: if schedule { datetime_local_to_rfc3339(&form.planned_start) } else { None },
        planned_end: if schedule { datetime_local_to_rfc3339(&form.planned_end) } else { None },
    };
    let error = match state.service.act(&session.caller, change_id, parsed_action, request, None).await {
        Ok(outcome) => {
            tracing::info!(state = %outcome.value.state, "action taken from the web page");
            return Redirect::to(&format!("/changes/{change_id}?done={}", parsed_action.as_str())).into_response();
        }
        Err(
            error @ (ServiceError::Unauthenticated
            | ServiceError::NotFound(_)
            | ServiceError::Store(_)
            | ServiceError::Internal(_)),
        ) => {
            return service_error(&state, Some(&session), error);
        }
        Err(error) => error,
    };
    // Show the refusal on the change page itself, with what was typed kept in its form.
    let detail = match state.service.change_detail(&session.caller, change_id).await {
        Ok(detail) => detail,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let status = render::status_of(&error);
    let message = format!("Could not {}: {}", parsed_action.as_str(), render::message_of(&error));
    let attempt = ActionAttempt {
        action: parsed_action.as_str().to_owned(),
        comment: form.comment,
        root_cause: form.root_cause,
        planned_start: form.planned_start,
        planned_end: form.planned_end,
    };
    change_page_response(&state, &session, status, &detail, Some(Flash::error(message)), Some(&attempt)).await
}

csrf_field!(NewChangeForm, ActionForm);
