//! `/metrics` in the Prometheus text format: request refusals, the event log and ledger sizes,
//! changes by state, and this process's counters from the service (policy decisions on submit
//! and their latency histogram, alert firings and deliveries by result, rollback hook runs).
//! Read-only, for scraping; the KPIs themselves live in the metrics feature, not here.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;

#[tracing::instrument(skip_all)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Ok(gauges) = state.service.operational_gauges().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the database did not answer\n").into_response();
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
    let _ = writeln!(body, "changegate_ledger_entries {}", gauges.ledger_entries);
    let _ = writeln!(body, "# HELP changegate_ledger_checkpoint_size Tree size of the newest signed checkpoint.");
    let _ = writeln!(body, "# TYPE changegate_ledger_checkpoint_size gauge");
    let _ = writeln!(body, "changegate_ledger_checkpoint_size {}", gauges.checkpoint_size);
    let _ = writeln!(body, "# HELP changegate_changes Changes by lifecycle state.");
    let _ = writeln!(body, "# TYPE changegate_changes gauge");
    for state in changegate_core::ChangeState::ALL {
        let count =
            gauges.changes_by_state.iter().find(|count| count.state == *state).map(|count| count.count).unwrap_or(0);
        let _ = writeln!(body, "changegate_changes{{state=\"{state}\"}} {count}");
    }
    write_service_counters(&mut body, &state.service.process_metrics());
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

/// The service's process counters in the exposition format.
pub(crate) fn write_service_counters(body: &mut String, snapshot: &changegate_service::MetricsSnapshot) {
    let _ = writeln!(body, "# HELP changegate_policy_decisions_total Assessments on submit by result (this process).");
    let _ = writeln!(body, "# TYPE changegate_policy_decisions_total counter");
    for (result, count) in &snapshot.decisions {
        let _ = writeln!(body, "changegate_policy_decisions_total{{result=\"{}\"}} {count}", result.as_str());
    }
    let _ = writeln!(
        body,
        "# HELP changegate_decision_latency_seconds Time to assess a change on submit (policy, risk, calendar)."
    );
    let _ = writeln!(body, "# TYPE changegate_decision_latency_seconds histogram");
    for (bound_us, count) in &snapshot.latency_buckets_cumulative {
        let _ = writeln!(body, "changegate_decision_latency_seconds_bucket{{le=\"{}\"}} {count}", seconds(*bound_us));
    }
    let _ = writeln!(body, "changegate_decision_latency_seconds_bucket{{le=\"+Inf\"}} {}", snapshot.latency_count);
    let _ = writeln!(body, "changegate_decision_latency_seconds_sum {}", seconds(snapshot.latency_sum_us));
    let _ = writeln!(body, "changegate_decision_latency_seconds_count {}", snapshot.latency_count);
    let _ = writeln!(body, "# HELP changegate_alert_firings_total Alert firings appended by this process.");
    let _ = writeln!(body, "# TYPE changegate_alert_firings_total counter");
    let _ = writeln!(body, "changegate_alert_firings_total {}", snapshot.alert_firings);
    let _ = writeln!(
        body,
        "# HELP changegate_alert_deliveries_total Alert delivery attempts by result (dropped: the queue was full)."
    );
    let _ = writeln!(body, "# TYPE changegate_alert_deliveries_total counter");
    for (result, count) in &snapshot.alert_deliveries {
        let _ = writeln!(body, "changegate_alert_deliveries_total{{result=\"{}\"}} {count}", result.as_str());
    }
    let _ = writeln!(body, "# HELP changegate_rollback_hook_runs_total Automated rollback hook runs by result.");
    let _ = writeln!(body, "# TYPE changegate_rollback_hook_runs_total counter");
    let _ = writeln!(body, "changegate_rollback_hook_runs_total{{result=\"ok\"}} {}", snapshot.rollback_runs_ok);
    let _ =
        writeln!(body, "changegate_rollback_hook_runs_total{{result=\"failed\"}} {}", snapshot.rollback_runs_failed);
}

/// Microseconds as decimal seconds, exactly (`250000` → `0.25`).
fn seconds(microseconds: u64) -> String {
    let whole = microseconds / 1_000_000;
    let fraction = microseconds % 1_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    format!("{whole}.{fraction:06}").trim_end_matches('0').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_counters_render_as_a_prometheus_histogram_and_counters() {
        // Given one decision of 30 ms and one ok delivery
        let metrics = changegate_service::telemetry::ServiceMetrics::default();
        metrics.record_decision(changegate_service::DecisionResult::ApprovalRequired, 30_000);
        metrics.record_delivery(changegate_service::DeliveryResult::Ok);
        // When rendered
        let mut body = String::new();
        write_service_counters(&mut body, &metrics.snapshot());
        // Then the buckets are cumulative, in seconds, and end in +Inf
        assert!(body.contains("changegate_decision_latency_seconds_bucket{le=\"0.025\"} 0\n"), "{body}");
        assert!(body.contains("changegate_decision_latency_seconds_bucket{le=\"0.05\"} 1\n"), "{body}");
        assert!(body.contains("changegate_decision_latency_seconds_bucket{le=\"+Inf\"} 1\n"));
        assert!(body.contains("changegate_decision_latency_seconds_sum 0.03\n"));
        assert!(body.contains("changegate_policy_decisions_total{result=\"approval_required\"} 1\n"));
        assert!(body.contains("changegate_alert_deliveries_total{result=\"ok\"} 1\n"));
        assert!(body.contains("changegate_rollback_hook_runs_total{result=\"failed\"} 0\n"));
        assert_eq!(seconds(5_000_000), "5");
        assert_eq!(seconds(2_500_000), "2.5");
    }
}
