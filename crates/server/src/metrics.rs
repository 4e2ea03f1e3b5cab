//! `/metrics` in the Prometheus text format: request refusals, the event log and ledger sizes, and
//! changes by state. Read-only counts, for scraping; the KPIs themselves live in the metrics
//! feature, not here.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

#[tracing::instrument(skip_all)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.service.store();
    let (counts, head, checkpoint) =
        match (store.count_changes_by_state().await, store.ledger_head().await, store.latest_checkpoint().await) {
            (Ok(counts), Ok(head), Ok(checkpoint)) => (counts, head, checkpoint),
            _ => return (StatusCode::SERVICE_UNAVAILABLE, "the database did not answer\n").into_response(),
        };
    let mut body = String::new();
    let unauthenticated = state.unauthenticated_requests.load(Ordering::Relaxed);
    let _ = writeln!(
        body,
        "# HELP changegate_unauthenticated_requests_total Requests refused for lack of a valid token (counted, never stored)."
    );
    let _ = writeln!(body, "# TYPE changegate_unauthenticated_requests_total counter");
    let _ = writeln!(body, "changegate_unauthenticated_requests_total {unauthenticated}");
    let _ = writeln!(body, "# HELP changegate_ledger_entries Events in the audit ledger.");
    let _ = writeln!(body, "# TYPE changegate_ledger_entries gauge");
    let _ = writeln!(body, "changegate_ledger_entries {}", head.size);
    let _ = writeln!(body, "# HELP changegate_ledger_checkpoint_size Tree size of the newest signed checkpoint.");
    let _ = writeln!(body, "# TYPE changegate_ledger_checkpoint_size gauge");
    let _ = writeln!(
        body,
        "changegate_ledger_checkpoint_size {}",
        checkpoint.map(|checkpoint| checkpoint.size).unwrap_or(0)
    );
    let _ = writeln!(body, "# HELP changegate_changes Changes by lifecycle state.");
    let _ = writeln!(body, "# TYPE changegate_changes gauge");
    for state in changegate_core::ChangeState::ALL {
        let count = counts.iter().find(|count| count.state == *state).map(|count| count.count).unwrap_or(0);
        let _ = writeln!(body, "changegate_changes{{state=\"{state}\"}} {count}");
    }
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}
