//! `POST /api/v1/import`: history import over HTTP, with its own body limit (whole CSV files).
//! Translation only; the service checks, authorizes and writes.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use changegate_service::import::RowProblem;
use changegate_service::{ImportInput, ImportOptions, ImportReport, ServiceError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody, ErrorDetail, FieldErrorBody};
use crate::extract::{Authenticated, has_json_content_type, parse_json, read_body_up_to, unsupported_media_type};

/// Largest import request: about 200,000 changes of CSV. Larger histories go through the
/// command line (`changegate import`), which reads files from disk.
pub const IMPORT_BODY_SIZE_MAX_BYTES: usize = 64 * 1024 * 1024;

/// The import routes, outside the API's default body limit (they read their own, larger one).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/import", post(import_history))
        .layer(axum::middleware::from_fn(crate::extract::read_whole_import_body))
}

/// `POST /api/v1/import`: the CSV files as text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// changes.csv: a header row, then one change a row (columns in docs/import.md).
    #[schema(
        example = "id,title,type,service,team,environment,requester,created_at\nSN-1,Rotate certificates,normal,payments-api,payments,production,alice,2025-03-01T09:00:00Z\n"
    )]
    pub changes_csv: Option<String>,
    /// incidents.csv: a header row, then one incident a row.
    pub incidents_csv: Option<String>,
    /// Import the good rows even when some are bad (the bad ones are reported, not written).
    #[serde(default)]
    pub skip_bad: bool,
}

/// One problem with one row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblemView {
    /// `changes.csv` or `incidents.csv`.
    pub file: String,
    /// 1-based line where the row starts; the header is line 1.
    pub line: u64,
    pub column: Option<String>,
    /// Stable: `bad_time`, `bad_value`, `bad_number`, `out_of_range`, `missing_value`,
    /// `unknown_column`, `missing_column`, `duplicate_column`, `duplicate_id`, `inconsistent`,
    /// `unknown_reference`, `too_long`, `bad_name`, `bad_text`, `wrong_column_count`,
    /// `unreadable_row`, `too_many_rows`, `empty_file`.
    pub kind: String,
    pub reason: String,
}

impl From<&RowProblem> for RowProblemView {
    fn from(problem: &RowProblem) -> Self {
        RowProblemView {
            file: problem.file.to_string(),
            line: problem.line,
            column: problem.column.clone(),
            kind: problem.kind.to_string(),
            reason: problem.reason.clone(),
        }
    }
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportView {
    /// Bad rows stopped the import: nothing was written.
    pub rejected: bool,
    pub skip_bad: bool,
    pub change_rows: u64,
    pub incident_rows: u64,
    pub changes_created: u64,
    pub incidents_created: u64,
    /// Rows whose id an earlier import already brought in.
    pub skipped_existing: u64,
    pub bad_rows: u64,
    pub problems_total: u64,
    /// The first 1,000 problems.
    pub problems: Vec<RowProblemView>,
    pub teams_created: u64,
    pub services_created: u64,
    pub new_teams: Vec<String>,
    pub new_services: Vec<String>,
    pub events_appended: u64,
    pub transactions: u64,
    pub elapsed_ms: u64,
    pub rows_per_second: f64,
}

impl From<&ImportReport> for ImportReportView {
    fn from(report: &ImportReport) -> Self {
        let names = |names: &[changegate_core::Name]| names.iter().map(ToString::to_string).collect();
        ImportReportView {
            rejected: report.rejected,
            skip_bad: report.skip_bad,
            change_rows: report.change_rows,
            incident_rows: report.incident_rows,
            changes_created: report.changes_created,
            incidents_created: report.incidents_created,
            skipped_existing: report.skipped_existing,
            bad_rows: report.bad_rows,
            problems_total: report.problems_total,
            problems: report.problems.iter().map(RowProblemView::from).collect(),
            teams_created: report.teams_created,
            services_created: report.services_created,
            new_teams: names(&report.new_teams),
            new_services: names(&report.new_services),
            events_appended: report.events_appended,
            transactions: report.transactions,
            elapsed_ms: report.elapsed_ms,
            rows_per_second: report.rows_per_second,
        }
    }
}

/// The 422 answer: the usual error, and for bad rows (`bad_rows`, each problem as a field error
/// named `file:line:column`) the report with every problem typed. Other refusals (no file given,
/// `validation_failed`) have no report.
#[derive(Serialize, ToSchema)]
pub struct ImportRejectedBody {
    pub error: ErrorDetail,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ImportReportView>,
}

fn rejected(report: &ImportReport) -> Response {
    let fields = report
        .problems
        .iter()
        .map(|problem| FieldErrorBody {
            field: format!("{}:{}:{}", problem.file, problem.line, problem.column.as_deref().unwrap_or("")),
            message: problem.reason.clone(),
        })
        .collect();
    let body = ImportRejectedBody {
        error: ErrorDetail { code: "bad_rows".to_owned(), message: report.refusal(), fields },
        report: Some(ImportReportView::from(report)),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Import history from CSV (admin). Every row is checked first; by default one bad row stops
/// the import and nothing is written. Rows whose ids were imported before are skipped.
#[utoipa::path(post, path = "/api/v1/import", tag = "import", request_body = ImportRequest,
    responses((status = 200, body = ImportReportView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "Larger than 64 MiB: use `changegate import`", body = ErrorBody),
        (status = 422, description = "Bad rows (nothing was written), or neither file given", body = ImportRejectedBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name()))]
pub async fn import_history(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if !has_json_content_type(&headers) {
        return unsupported_media_type().into_response();
    }
    // Read here with this endpoint's limit: the API-wide one is far below a history's size.
    let body = match read_body_up_to(body, IMPORT_BODY_SIZE_MAX_BYTES).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let request: ImportRequest = match parse_json(&body) {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let input = ImportInput {
        changes_csv: request.changes_csv.as_deref().map(str::as_bytes),
        incidents_csv: request.incidents_csv.as_deref().map(str::as_bytes),
    };
    let options = ImportOptions { skip_bad: request.skip_bad, ..ImportOptions::default() };
    match state.service.import_history(&caller, input, &options, &mut |_| {}).await {
        Ok(report) => Json(ImportReportView::from(&report)).into_response(),
        Err(ServiceError::BadRows(report)) => rejected(&report),
        Err(error) => ApiError::from(error).into_response(),
    }
}
