//! The ledger page (size, root, newest checkpoint, public key, last verification; verify and
//! sign buttons for admins and auditors) and a change's downloadable inclusion proof.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::ChangeId;
use changegate_service::Caller;
use changegate_service::Permission;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{CsrfForm, checked_form};
use super::render::{self, Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;

/// The newest verification, as the pages show it.
#[derive(Serialize)]
pub struct VerificationView {
    pub ok: bool,
    pub size: u64,
    pub first_bad_index: Option<u64>,
    pub message: String,
    pub time: String,
    pub actor: String,
}

/// Reads the newest `ledger_verified` event, if any.
pub async fn last_verification(state: &AppState, caller: &Caller) -> Option<VerificationView> {
    let event = state.service.last_verification(caller).await.ok().flatten()?;
    let data: serde_json::Value = serde_json::from_str(&event.payload).ok()?;
    Some(VerificationView {
        ok: data["ok"].as_bool().unwrap_or(false),
        size: data["size"].as_u64().unwrap_or(0),
        first_bad_index: data["first_bad_index"].as_u64(),
        message: data["message"].as_str().unwrap_or("").to_owned(),
        time: event.time.to_rfc3339(),
        actor: event.actor,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneParams {
    done: String,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn ledger_page(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<DoneParams>,
) -> Response {
    let status = match state.service.ledger_status(&session.caller).await {
        Ok(status) => status,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let flash = match params.done.as_str() {
        "checkpoint" => Some(Flash::success("Checkpoint signed.")),
        "verify" => Some(Flash::success("Verification finished; the result is below.")),
        _ => None,
    };
    let checkpoint = status.latest_checkpoint.as_ref().map(|checkpoint| {
        context! {
            size => checkpoint.size,
            root => hex::encode(checkpoint.root),
            note => checkpoint.note.clone(),
            signed_at => checkpoint.signed_at.to_rfc3339(),
            behind => status.size.saturating_sub(checkpoint.size),
        }
    });
    let context = context! {
        size => status.size,
        root => hex::encode(status.root),
        checkpoint => checkpoint,
        verifier_key => status.verifier_key,
        verification => to_value(last_verification(&state, &session.caller).await),
        can_operate => session.caller.may(Permission::OperateLedger),
        ..layout(Some(&session), "ledger", flash)
    };
    render(&state, StatusCode::OK, "ledger.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn verify(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = checked_form(&state, &session, form) {
        return refusal;
    }
    match state.service.verify_ledger(&session.caller, &|_, _| {}).await {
        Ok(_) => Redirect::to("/ledger?done=verify").into_response(),
        Err(error) => service_error(&state, Some(&session), error),
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn checkpoint(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = checked_form(&state, &session, form) {
        return refusal;
    }
    match state.service.checkpoint_now(&session.caller).await {
        Ok(_) => Redirect::to("/ledger?done=checkpoint").into_response(),
        Err(error) => service_error(&state, Some(&session), error),
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), change = %id))]
pub async fn change_proof(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Response {
    let Ok(change) = id.parse::<ChangeId>() else {
        return render::error_page(
            &state,
            Some(&session),
            StatusCode::NOT_FOUND,
            "Not found",
            "Change ids look like CHG-000001.",
        );
    };
    match crate::api::ledger::change_proof_body(&state.service, &session.caller, change).await {
        Ok(body) => crate::api::ledger::proof_download(change, &body),
        Err(error) => service_error(&state, Some(&session), error),
    }
}
