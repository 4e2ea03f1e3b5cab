//! The alert and rollback-hook endpoints and `/metrics` over real HTTP: a rule is defined,
//! read and removed; bad rules and hooks get a 422 with a stable code and write nothing; the
//! OpenAPI document names the endpoints; `/metrics` carries the new series.

use serde_json::{Value, json};

use crate::helpers::{Answer, spawn_app};

#[test]
fn an_alert_rule_is_defined_read_and_removed_and_a_bad_one_writes_nothing() {
    let app = spawn_app();
    // Bad rules: 422 with a stable code and the field, nothing written.
    let before = app.event_count();
    for (rule, field) in [
        (json!({"kind": "change_failure_rate", "threshold": 2, "window_hours": 24}), "threshold"),
        (json!({"kind": "no_such_kind"}), "rule"),
        (json!({"kind": "high_risk_change", "webhooks": ["mailto:ops@example.com"]}), "webhooks"),
    ] {
        let Answer { status, body, .. } = app.put("/api/v1/alert-rules/cfr", &app.admin.token, rule.clone());
        assert_eq!(status, 422, "{rule}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["fields"][0]["field"], field, "{body}");
    }
    assert_eq!(app.event_count(), before, "a bad rule writes nothing");
    // A requester is refused (and the refusal recorded).
    let rule = json!({"kind": "change_failure_rate", "threshold": 0.25, "window_hours": 168,
        "webhooks": ["https://hooks.example.com/cfr"]});
    let Answer { status, body, .. } = app.put("/api/v1/alert-rules/cfr", &app.alice.token, rule.clone());
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    // The admin defines it; it reads back with its defaults.
    let Answer { status, body, .. } = app.put("/api/v1/alert-rules/cfr", &app.admin.token, rule);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "change_failure_rate");
    assert_eq!(body["rule"]["min_deployments"], 1);
    assert_eq!(body["webhooks"], json!(["https://hooks.example.com/cfr"]));
    let Answer { status, body: list, .. } = app.get("/api/v1/alert-rules", Some(&app.alice.token));
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
    let Answer { status, .. } = app.get("/api/v1/alert-rules/cfr", Some(&app.alice.token));
    assert_eq!(status, 200);
    let Answer { status, body: firings, .. } = app.get("/api/v1/alert-firings?limit=10", Some(&app.alice.token));
    assert_eq!((status, firings), (200, json!([])));
    let Answer { status, .. } = app.delete("/api/v1/alert-rules/cfr", Some(&app.admin.token));
    assert_eq!(status, 204);
    let Answer { status, body, .. } = app.get("/api/v1/alert-rules/cfr", Some(&app.admin.token));
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let Answer { status, .. } = app.get("/api/v1/alert-rules", None);
    assert_eq!(status, 401);
}

#[test]
fn a_rollback_hook_is_set_shown_and_removed_and_a_bad_one_writes_nothing() {
    let app = spawn_app();
    let path = "/api/v1/services/payments-api/rollback-hook";
    let before = app.event_count();
    let bad = json!({"target": {"kind": "command", "program": ""}, "incident_window_hours": 9999});
    let Answer { status, body, .. } = app.put(path, &app.admin.token, bad);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let Answer { status, body, .. } = app.put(path, &app.admin.token, json!({"target": {"kind": "ftp", "url": "x"}}));
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    assert_eq!(app.event_count(), before);
    let hook = json!({"target": {"kind": "webhook", "url": "https://deploy.example.com/rollback"}, "incident_window_hours": 6});
    let Answer { status, body, .. } = app.put(path, &app.admin.token, hook);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rollback_hook"],
        json!({"kind": "webhook", "target": "https://deploy.example.com/rollback",
        "arguments": [], "incident_window_hours": 6})
    );
    let Answer { body: services, .. } = app.get("/api/v1/services", Some(&app.alice.token));
    assert_eq!(services["items"][0]["rollback_hook"]["kind"], "webhook");
    let Answer { status, .. } = app.delete(path, Some(&app.alice.token));
    assert_eq!(status, 403);
    let Answer { status, body, .. } = app.delete(path, Some(&app.admin.token));
    assert_eq!((status, &body["rollback_hook"]), (200, &Value::Null));
    let Answer { status, .. } = app.delete("/api/v1/services/nowhere/rollback-hook", Some(&app.admin.token));
    assert_eq!(status, 404);
}

#[test]
fn the_openapi_document_and_metrics_carry_the_new_endpoints_and_series() {
    let app = spawn_app();
    let Answer { body: document, .. } = app.get("/api/openapi.json", None);
    for path in [
        "/api/v1/alert-rules",
        "/api/v1/alert-rules/{name}",
        "/api/v1/alert-firings",
        "/api/v1/services/{name}/rollback-hook",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
    // One submission, so the decision series have a sample.
    let change = json!({"title": "Pool size", "type": "normal", "service": "payments-api", "environment": "production",
        "rollback_plan": "revert"});
    let Answer { status, body: created, .. } = app.post("/api/v1/changes", &app.alice.token, change);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let Answer { status, .. } = app.post(&format!("/api/v1/changes/{id}/actions/submit"), &app.alice.token, json!({}));
    assert_eq!(status, 200);
    let Answer { status, text, .. } = app.get("/metrics", None);
    assert_eq!(status, 200);
    for series in [
        "changegate_changes{state=\"assessed\"} 1",
        "changegate_ledger_entries ",
        "# TYPE changegate_decision_latency_seconds histogram",
        "changegate_decision_latency_seconds_bucket{le=\"+Inf\"} 1",
        "changegate_decision_latency_seconds_count 1",
        "changegate_policy_decisions_total{result=\"approval_required\"} 1",
        "changegate_alert_deliveries_total{result=\"ok\"} 0",
        "changegate_alert_firings_total 0",
        "changegate_rollback_hook_runs_total{result=\"ok\"} 0",
    ] {
        assert!(text.contains(series), "missing `{series}` in:\n{text}");
    }
}
