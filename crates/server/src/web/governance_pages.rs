//! Governance pages: the approvals inbox (approve or reject from the list), standard-change
//! templates, and the approval policy in force with its history. The change calendar has its
//! own module, `calendar_pages`.
//!
//! Like the other pages they only translate. Forms that need the admin or cab role are shown only
//! to those users, but the service decides: a forged post from anyone else is refused (and
//! recorded) there.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::approval::RequiredApproval;
use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ChangeRecord, FieldError, PolicyVersionRecord, TemplateRecord};
use changegate_service::Caller;
use changegate_service::Permission;
use changegate_service::{ActionRequest, NewTemplate, ServiceError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{CsrfField, bad_form, checked_form, errors_by_field, non_blank, unknown_change};
use super::render::{self, Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;

/// Risk classes a template may allow, lowest first.
const RISK_CLASSES: &[&str] = &["low", "medium", "high", "critical"];
/// Inbox rows shown at once (oldest first); the page says how many more there are. Keeps the
/// page small even if thousands of changes wait.
const INBOX_ROWS_SHOWN_MAX: usize = 200;

/// Whether the user may define templates and calendar windows (the service checks again).
pub(super) fn may_govern(session: &Session) -> bool {
    session.caller.may(Permission::Govern)
}

// ---------------------------------------------------------------------------------------------
// The approvals inbox

/// One row of the inbox.
#[derive(Serialize)]
struct InboxRow<'a> {
    change: &'a ChangeRecord,
    missing: &'a [RequiredApproval],
    retrospective: bool,
}

/// What a refused decision leaves in its form.
#[derive(Serialize, Default)]
struct DecisionAttempt {
    change: String,
    decision: String,
    comment: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InboxParams {
    done: String,
    change: String,
}

async fn approvals_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    flash: Option<Flash>,
    attempt: Option<&DecisionAttempt>,
) -> Response {
    let items = match state.service.approvals_inbox(&session.caller).await {
        Ok(items) => items,
        Err(error) => return service_error(state, Some(session), error),
    };
    let rows: Vec<InboxRow> = items
        .iter()
        .take(INBOX_ROWS_SHOWN_MAX)
        .map(|item| InboxRow { change: &item.change, missing: &item.missing, retrospective: item.retrospective })
        .collect();
    let context = context! {
        items => to_value(&rows),
        not_shown => items.len() - rows.len(),
        attempt => attempt.map(to_value),
        inbox_count => items.len(),
        ..layout(Some(session), "approvals", flash)
    };
    render(state, status, "approvals.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn approvals(State(state): State<AppState>, session: Session, Query(params): Query<InboxParams>) -> Response {
    let change = params.change.parse::<ChangeId>().ok();
    let flash = match (params.done.as_str(), change) {
        ("approve", Some(change)) => Some(Flash::success(format!("Your approval of {change} is recorded."))),
        ("reject", Some(change)) => Some(Flash::success(format!("Your rejection of {change} is recorded."))),
        _ => None,
    };
    approvals_page(&state, &session, StatusCode::OK, flash, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    csrf: Option<String>,
    comment: String,
}

impl CsrfField for DecisionForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// Approve or reject from the inbox: the same service action as on the change page; a refusal
/// (separation of duties, say) comes back to the inbox with its reason and the comment kept.
#[tracing::instrument(skip_all, fields(user = %session.caller.name(), change = %id, decision = %decision))]
pub async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path((id, decision)): Path<(String, String)>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Response {
    let Ok(change_id) = id.parse::<ChangeId>() else {
        return unknown_change(&state, &session, &id);
    };
    let action = match decision.as_str() {
        "approve" => Action::Approve,
        "reject" => Action::Reject,
        _ => {
            let message = format!("`{decision}` is not a decision: approve or reject.");
            return render::error_page(&state, Some(&session), StatusCode::NOT_FOUND, "Not found", &message);
        }
    };
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let request =
        ActionRequest { comment: non_blank(&form.comment).map(|_| form.comment.clone()), ..ActionRequest::default() };
    let error = match state.service.act(&session.caller, change_id, action, request, None).await {
        Ok(outcome) => {
            tracing::info!(state = %outcome.value.state, "decision taken from the approvals inbox");
            return Redirect::to(&format!("/approvals?done={decision}&change={change_id}")).into_response();
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
    let status = render::status_of(&error);
    let message = format!("Could not {decision} {change_id}: {}", render::message_of(&error));
    let attempt = DecisionAttempt { change: change_id.to_string(), decision, comment: form.comment };
    approvals_page(&state, &session, status, Some(Flash::error(message)), Some(&attempt)).await
}

// ---------------------------------------------------------------------------------------------
// Standard-change templates

#[derive(Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct TemplateForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    name: String,
    description: String,
    /// Comma- or space-separated names.
    services: String,
    teams: String,
    environments: String,
    max_risk: String,
    /// A checkbox: present (any value) when ticked.
    approved: String,
}

impl Default for TemplateForm {
    fn default() -> Self {
        TemplateForm {
            csrf: None,
            name: String::new(),
            description: String::new(),
            services: String::new(),
            teams: String::new(),
            environments: String::new(),
            max_risk: "low".to_owned(),
            approved: "yes".to_owned(),
        }
    }
}

impl CsrfField for TemplateForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// `payments-api, checkout` → `["payments-api", "checkout"]`.
fn name_list(text: &str) -> Vec<String> {
    text.split(|character: char| character == ',' || character.is_whitespace())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn templates_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    form: &TemplateForm,
    errors: &[FieldError],
    flash: Option<Flash>,
) -> Response {
    let templates = match state.service.templates(&session.caller).await {
        Ok(templates) => templates,
        Err(error) => return service_error(state, Some(session), error),
    };
    let context = context! {
        templates => to_value(&templates),
        can_manage => may_govern(session),
        risk_classes => RISK_CLASSES.to_vec(),
        form => to_value(form),
        errors => to_value(errors_by_field(errors)),
        ..layout(Some(session), "templates", flash)
    };
    render(state, status, "templates.html", context)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneParams {
    done: String,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn templates(State(state): State<AppState>, session: Session, Query(params): Query<DoneParams>) -> Response {
    let flash = (params.done == "defined").then(|| Flash::success("Template saved."));
    templates_page(&state, &session, StatusCode::OK, &TemplateForm::default(), &[], flash).await
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn define_template(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<TemplateForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let input = NewTemplate {
        name: form.name.trim().to_owned(),
        description: form.description.clone(),
        services: name_list(&form.services),
        teams: name_list(&form.teams),
        environments: name_list(&form.environments),
        max_risk: form.max_risk.trim().to_owned(),
        approved: !form.approved.is_empty(),
    };
    match state.service.define_template(&session.caller, input).await {
        Ok(record) => {
            tracing::info!(template = %record.name, "template defined from the web page");
            Redirect::to("/templates?done=defined").into_response()
        }
        Err(ServiceError::Validation(fields)) => {
            let flash = Some(Flash::error("The template was not saved. Correct the fields marked below."));
            templates_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &form, &fields, flash).await
        }
        Err(error) => service_error(&state, Some(&session), error),
    }
}

/// The approved templates, for the new-change form.
pub async fn approved_templates(state: &AppState, caller: &Caller) -> Result<Vec<TemplateRecord>, ServiceError> {
    Ok(state.service.templates(caller).await?.into_iter().filter(|template| template.approved).collect())
}

// ---------------------------------------------------------------------------------------------
// The approval policy

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PolicyParams {
    /// The ledger sequence of a version set.
    version: String,
    /// A policy SHA-256, as a change's decision records it.
    sha256: String,
}

#[derive(Serialize)]
struct PolicyFileView {
    name: String,
    text: String,
}

/// One policy version as the page shows it.
#[derive(Serialize)]
struct PolicyVersionView {
    /// `None` for the default policy shipped in the binary.
    sequence: Option<u64>,
    sha256: String,
    set_by: Option<String>,
    set_at: Option<String>,
    comment: Option<String>,
    in_force: bool,
    files: Vec<PolicyFileView>,
}

impl PolicyVersionView {
    /// A version set through `policy set`; `with_source` leaves the files out for the history.
    fn of(record: &PolicyVersionRecord, in_force: bool, with_source: bool) -> Self {
        let files = if with_source {
            record
                .files
                .iter()
                .map(|file| PolicyFileView { name: file.name.clone(), text: file.text.clone() })
                .collect()
        } else {
            Vec::new()
        };
        PolicyVersionView {
            sequence: Some(record.sequence),
            sha256: record.sha256.clone(),
            set_by: Some(record.set_by.clone()),
            set_at: Some(record.set_at.to_rfc3339()),
            comment: record.comment.clone(),
            in_force,
            files,
        }
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn policy(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<PolicyParams>, QueryRejection>,
) -> Response {
    let Query(params) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_form(&state, Some(&session), rejection.status(), rejection.body_text()),
    };
    let (record, prepared) = match state.service.current_policy(&session.caller).await {
        Ok(current) => current,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let versions = match state.service.policy_versions(&session.caller).await {
        Ok(versions) => versions,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let in_force = match &record {
        Some(record) => PolicyVersionView::of(record, true, true),
        None => PolicyVersionView {
            sequence: None,
            sha256: prepared.sha256().to_owned(),
            set_by: None,
            set_at: None,
            comment: None,
            in_force: true,
            files: prepared
                .files()
                .iter()
                .map(|file| PolicyFileView { name: file.name.clone(), text: file.text.clone() })
                .collect(),
        },
    };
    let in_force_sequence = record.as_ref().map(|record| record.sequence);
    let mut history: Vec<PolicyVersionView> = versions
        .iter()
        .rev()
        .map(|version| PolicyVersionView::of(version, Some(version.sequence) == in_force_sequence, false))
        .collect();
    history.push(PolicyVersionView {
        sequence: None,
        sha256: if record.is_none() { in_force.sha256.clone() } else { String::new() },
        set_by: None,
        set_at: None,
        comment: None,
        in_force: record.is_none(),
        files: Vec::new(),
    });

    // Which version to show: one asked for by sequence or hash, else the one in force.
    let mut status = StatusCode::OK;
    let mut flash = None;
    let asked = if let Some(text) = non_blank(&params.version) {
        let sequence = text.parse::<u64>().ok();
        let found = sequence.and_then(|sequence| versions.iter().find(|version| version.sequence == sequence));
        if found.is_none() {
            status = StatusCode::NOT_FOUND;
            let message = match sequence {
                Some(sequence) => format!("No policy version {sequence} was set; showing the policy in force."),
                None => "A policy version is a number (its ledger sequence); showing the policy in force.".to_owned(),
            };
            flash = Some(Flash::error(message));
        }
        found
    } else if let Some(sha256) = non_blank(&params.sha256).map(|text| text.to_ascii_lowercase()) {
        if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            let message = "That is not a SHA-256 (64 hexadecimal digits); showing the policy in force.";
            return policy_response(
                &state,
                &session,
                StatusCode::NOT_FOUND,
                in_force,
                history,
                Some(Flash::error(message)),
            );
        }
        let found = versions.iter().rev().find(|version| version.sha256 == sha256);
        if found.is_none() && sha256 != in_force.sha256 {
            status = StatusCode::NOT_FOUND;
            flash = Some(Flash::error(format!(
                "No policy version with SHA-256 {sha256} was set on this server, so it is the default policy \
                 of a Changegate release (`changegate policy show` prints this release's). Showing the policy \
                 in force."
            )));
        }
        found
    } else {
        None
    };
    let shown = match asked {
        Some(version) if Some(version.sequence) != in_force_sequence => PolicyVersionView::of(version, false, true),
        _ => in_force,
    };
    policy_response(&state, &session, status, shown, history, flash)
}

fn policy_response(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    shown: PolicyVersionView,
    history: Vec<PolicyVersionView>,
    flash: Option<Flash>,
) -> Response {
    let context = context! {
        shown => to_value(&shown),
        history => to_value(&history),
        ..layout(Some(session), "policy", flash)
    };
    render(state, status, "policy.html", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_split_on_commas_and_spaces() {
        assert_eq!(name_list("payments-api, checkout\nsearch,,"), ["payments-api", "checkout", "search"]);
        assert!(name_list("  ").is_empty());
    }
}
