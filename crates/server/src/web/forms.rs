//! The form plumbing every page shares: reading a form or query that may be malformed, the CSRF
//! check, blank-to-`None`, `datetime-local` values and field errors by field.
//!
//! A leaf: it imports no page module, so every page module may import it (the page modules used to
//! import these from `pages.rs`, which imported three page modules back).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use changegate_core::FieldError;
use serde::Deserialize;

use super::render::{self};
use super::session::{Session, csrf_refusal};
use crate::AppState;

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

/// Implements [`CsrfField`] for forms with a `csrf: Option<String>` field.
macro_rules! csrf_field {
    ($($form:ty),+) => {
        $(impl CsrfField for $form {
            fn csrf(&self) -> Option<&str> {
                self.csrf.as_deref()
            }
        })+
    };
}

pub(super) use csrf_field;

csrf_field!(CsrfForm);

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

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: Option<String>,
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
