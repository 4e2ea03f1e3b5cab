//! Page handlers. Like the API handlers they only translate: form fields into service inputs,
//! service results into pages. Authorization and validation happen in the service.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::approval::RequiredApproval;
use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ChangeRecord, ChangeState, ChangeType, FieldError};
use changegate_service::Caller;
use changegate_service::Permission;
use changegate_service::{ActionRequest, ChangeDetail, ChangeQuery, NewChange, ServiceError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::render::{self, EventView, Flash, layout, render, service_error, to_value};
use super::risk_pages::risk_panel;
use super::session::{self, MaybeSession, Session, csrf_refusal};
use crate::AppState;

/// Environments suggested on the new-change form (any valid name is accepted).
const ENVIRONMENT_SUGGESTIONS: &[&str] = &["production", "staging", "development", "test"];

/// The page for a form or query string that could not be read (`status` and `detail` from the
/// extractor's rejection).
pub(super) fn bad_form(state: &AppState, session: Option<&Session>, status: StatusCode, detail: String) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        let message = format!(
            "The form is larger than {} KiB, so nothing was done. Shorten the longest texts and send it again.",
            super::FORM_SIZE_MAX_BYTES / 1024
        );
        return render::error_page(state, session, status, "Form too large", &message);
    }
    let status = if status.is_client_error() { status } else { StatusCode::BAD_REQUEST };
    render::error_page(state, session, status, "Unreadable form", &detail)
}

pub(super) fn unknown_change(state: &AppState, session: &Session, text: &str) -> Response {
    render::error_page(
        state,
        Some(session),
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("There is no change {text}. Change ids look like CHG-000001."),
    )
}

/// A posted form that carries the session's CSRF value in its `csrf` field.
pub trait CsrfField {
    fn csrf(&self) -> Option<&str>;
}

macro_rules! csrf_field {
    ($($form:ty),+) => {
        $(impl CsrfField for $form {
            fn csrf(&self) -> Option<&str> {
                self.csrf.as_deref()
            }
        })+
    };
}

csrf_field!(CsrfForm, NewChangeForm, ActionForm, IncidentForm);

/// Reads a posted form and checks its CSRF value; the `Err` is the page to answer with
/// (unreadable form, or a forged or expired one). The page is returned as it is, not boxed:
/// it is answered at once.
#[allow(clippy::result_large_err)]
pub fn checked_form<T: CsrfField>(
    state: &AppState,
    session: &Session,
    form: Result<Form<T>, FormRejection>,
) -> Result<T, Response> {
    let Form(form) =
        form.map_err(|rejection| bad_form(state, Some(session), rejection.status(), rejection.body_text()))?;
    match csrf_refusal(state, session, form.csrf()) {
        Some(refusal) => Err(refusal),
        None => Ok(form),
    }
}

/// Text of an optional form field: `None` when blank.
pub(super) fn non_blank(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// A `datetime-local` value (`2026-11-26T10:00`, no zone) as RFC 3339 UTC; values that already
/// carry a zone pass as they are. Garbage passes too, for the service to refuse with its message.
pub fn datetime_local_to_rfc3339(text: &str) -> Option<String> {
    let text = non_blank(text)?.replacen(' ', "T", 1);
    let Some((_, time)) = text.split_once('T') else {
        return Some(text);
    };
    if time.contains(['Z', 'z', '+', '-']) {
        return Some(text);
    }
    Some(if time.matches(':').count() == 1 { format!("{text}:00Z") } else { format!("{text}Z") })
}

/// Field errors grouped by field, for showing each beside its input.
pub(super) fn errors_by_field(fields: &[FieldError]) -> BTreeMap<String, Vec<String>> {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for field in fields {
        grouped.entry(field.field.clone()).or_default().push(field.message.clone());
    }
    grouped
}

// ---------------------------------------------------------------------------------------------
// Sign-in and sign-out

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    token: String,
    next: String,
}

fn login_page(state: &AppState, status: StatusCode, next: Option<&str>, error: Option<&str>) -> Response {
    let context = context! {
        next => next.and_then(session::safe_next),
        error => error,
        ..layout(None, "login", None)
    };
    render(state, status, "login.html", context)
}

#[tracing::instrument(skip_all)]
pub async fn login_form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let next = query.ok().and_then(|Query(query)| query.next);
    if session.is_some() {
        let target = next.as_deref().and_then(session::safe_next).unwrap_or("/");
        return Redirect::to(target).into_response();
    }
    login_page(&state, StatusCode::OK, next.as_deref(), None)
}

#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    if !session::origin_matches_host(&headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "cross-site sign-in refused");
        return render::error_page(
            &state,
            None,
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            "This sign-in form was sent from another site. Open the sign-in page of Changegate itself and try again.",
        );
    }
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => return bad_form(&state, None, rejection.status(), rejection.body_text()),
    };
    let next = session::safe_next(&form.next);
    let token = form.token.trim();
    match state.service.authenticate(token).await {
        Ok(caller) => {
            tracing::info!(user = %caller.name(), "signed in");
            let mut response = Redirect::to(next.unwrap_or("/")).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session::session_cookie(token, state.config.secure_cookies));
            response
        }
        Err(ServiceError::Unauthenticated) => {
            let count = state.count_unauthenticated();
            tracing::info!(unauthenticated_total = count, "sign-in with an invalid token refused");
            let message = if token.is_empty() {
                "Enter your API token."
            } else {
                "That token was not accepted. Check that you copied the whole token (it starts with cg_) \
                 and that it has not been revoked."
            };
            login_page(&state, StatusCode::UNAUTHORIZED, next, Some(message))
        }
        Err(error) => service_error(&state, None, error),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = checked_form(&state, &session, form) {
        return refusal;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::cleared_cookie(state.config.secure_cookies));
    response
}

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

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneParams {
    done: String,
}

impl DoneParams {
    pub(super) fn done(&self) -> &str {
        &self.done
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn incidents(State(state): State<AppState>, session: Session, Query(params): Query<DoneParams>) -> Response {
    let flash = match params.done.as_str() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_local_becomes_utc() {
        assert_eq!(datetime_local_to_rfc3339("2026-11-26T10:00").as_deref(), Some("2026-11-26T10:00:00Z"));
        assert_eq!(datetime_local_to_rfc3339("2026-11-26T10:00:30").as_deref(), Some("2026-11-26T10:00:30Z"));
        assert_eq!(
            datetime_local_to_rfc3339("2026-11-26T10:00:00+02:00").as_deref(),
            Some("2026-11-26T10:00:00+02:00")
        );
        assert_eq!(datetime_local_to_rfc3339("  ").as_deref(), None);
        assert_eq!(datetime_local_to_rfc3339("soon").as_deref(), Some("soon"));
    }
}
