//! Signing in with an API token (sets the session cookie) and signing out.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use changegate_service::ServiceError;
use minijinja::context;
use serde::Deserialize;

use super::forms::*;
use super::render::{self, layout, render, service_error};
use super::session::{self, MaybeSession, Session};
use crate::AppState;

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
