//! The history import page (`/import`): admins paste `changes.csv` and `incidents.csv` and get
//! the report, or the bad rows with their lines and reasons. The server has no multipart
//! parsing, so the files come as text areas; histories larger than the form's limit go through
//! `changegate import`. Like the other pages it only translates: the service checks the rows,
//! authorizes (a forged post from a non-admin is refused and recorded there) and writes.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use changegate_service::Permission;
use changegate_service::{ImportInput, ImportOptions, ImportReport, ServiceError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{CsrfField, checked_form};
use super::render::{self, Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;

/// Largest import form: about 100,000 changes of CSV once URL-encoded (which can triple it).
pub const IMPORT_FORM_SIZE_MAX_BYTES: usize = 32 * 1024 * 1024;

/// The posted form; the texts come back into the form when rows are bad, to be corrected.
#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct ImportForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    changes_csv: String,
    incidents_csv: String,
    /// A checkbox: present (any value) when ticked.
    skip_bad: String,
}

impl CsrfField for ImportForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

fn import_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    form: &ImportForm,
    report: Option<&ImportReport>,
    flash: Option<Flash>,
) -> Response {
    let context = context! {
        can_import => session.caller.may(Permission::ImportHistory),
        form => to_value(form),
        report => report.map(to_value),
        form_size_max_mib => IMPORT_FORM_SIZE_MAX_BYTES / (1024 * 1024),
        ..layout(Some(session), "import", flash)
    };
    render(state, status, "import.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn import_form(State(state): State<AppState>, session: Session) -> Response {
    import_page(&state, &session, StatusCode::OK, &ImportForm::default(), None, None)
}

/// A blank text area is a file not given.
fn given(text: &str) -> Option<&[u8]> {
    (!text.trim().is_empty()).then_some(text.as_bytes())
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn import(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<ImportForm>, FormRejection>,
) -> Response {
    let form = match form {
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message = format!(
                "The form is larger than {} MiB, so nothing was imported. Import a history this large with \
                 `changegate import --changes FILE` on the server.",
                IMPORT_FORM_SIZE_MAX_BYTES / (1024 * 1024)
            );
            return render::error_page(
                &state,
                Some(&session),
                StatusCode::PAYLOAD_TOO_LARGE,
                "Form too large",
                &message,
            );
        }
        form => match checked_form(&state, &session, form) {
            Ok(form) => form,
            Err(refusal) => return refusal,
        },
    };
    let input = ImportInput { changes_csv: given(&form.changes_csv), incidents_csv: given(&form.incidents_csv) };
    let options = ImportOptions { skip_bad: !form.skip_bad.is_empty(), ..ImportOptions::default() };
    match state.service.import_history(&session.caller, input, &options, &mut |_| {}).await {
        Ok(report) => {
            let message = format!(
                "Imported {} changes and {} incidents; {} rows were imported before and skipped.",
                report.changes_created, report.incidents_created, report.skipped_existing
            );
            let kept = ImportForm { skip_bad: form.skip_bad.clone(), ..ImportForm::default() };
            import_page(&state, &session, StatusCode::OK, &kept, Some(&report), Some(Flash::success(message)))
        }
        Err(ServiceError::BadRows(report)) => {
            let flash = Flash::error(format!("Nothing was imported: {}.", report.refusal()));
            import_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &form, Some(&report), Some(flash))
        }
        Err(error @ ServiceError::Validation(_)) => {
            let flash = Flash::error(format!("Nothing was imported: {}.", render::message_of(&error)));
            import_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &form, None, Some(flash))
        }
        Err(error) => service_error(&state, Some(&session), error),
    }
}
