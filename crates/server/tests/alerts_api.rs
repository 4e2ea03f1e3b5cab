//! The alert and rollback-hook endpoints and `/metrics` over real HTTP: a rule is defined,
//! read and removed; bad rules and hooks get a 422 with a stable code and write nothing; the
//! OpenAPI document names the endpoints; `/metrics` carries the new series.

use std::sync::Arc;

use changegate_server::{Application, ServerConfig};
use changegate_service::{Service, SystemClock};
use changegate_store::Store;
use changegate_store::testing::{TestStore, sqlite_store};
use serde_json::{Value, json};

struct TestApp {
    base: String,
    store: Store,
    admin: String,
    alice: String,
    agent: ureq::Agent,
    _test_store: TestStore,
}

async fn spawn_app() -> TestApp {
    let test_store = sqlite_store().await.unwrap();
    let store = test_store.store.clone();
    let service = Service::new(store.clone(), Arc::new(SystemClock));
    let admin = service.bootstrap_admin("admin").await.unwrap();
    let input = changegate_service::NewUser { name: "alice".into(), roles: vec!["requester".into()], team: None };
    let alice = service.add_user_locally(&input).await.unwrap();
    let caller = changegate_service::Caller { user: admin.user.clone() };
    let payments = changegate_service::NewService {
        name: "payments-api".into(),
        team: "payments".into(),
        tier: 2,
        ..changegate_service::NewService::default()
    };
    service.register_service(&caller, payments, None).await.unwrap();
    let config = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
    let application = Application::build(service, config).await.unwrap();
    let base = format!("http://{}", application.local_addr());
    tokio::spawn(application.run_until(std::future::pending()));
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    TestApp { base, store, admin: admin.token, alice: alice.token, agent, _test_store: test_store }
}

impl TestApp {
    fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value, String) {
        let url = format!("{}{path}", self.base);
        let authorization = token.map(|token| format!("Bearer {token}"));
        let response = tokio::task::block_in_place(|| {
            let with_auth = |request: ureq::RequestBuilder<ureq::typestate::WithBody>| match &authorization {
                Some(value) => request.header("Authorization", value),
                None => request,
            };
            let without_body = |request: ureq::RequestBuilder<ureq::typestate::WithoutBody>| match &authorization {
                Some(value) => request.header("Authorization", value),
                None => request,
            };
            match (method, body) {
                ("GET", _) => without_body(self.agent.get(&url)).call(),
                ("DELETE", _) => without_body(self.agent.delete(&url)).call(),
                ("PUT", Some(body)) => with_auth(self.agent.put(&url)).send_json(&body),
                (_, body) => with_auth(self.agent.post(&url)).send_json(body.unwrap_or(json!({}))),
            }
        });
        let mut response = response.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, value, text)
    }

    async fn events(&self) -> u64 {
        self.store.event_count().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_rule_is_defined_read_and_removed_and_a_bad_one_writes_nothing() {
    let app = spawn_app().await;
    // Bad rules: 422 with a stable code and the field, nothing written.
    let before = app.events().await;
    for (rule, field) in [
        (json!({"kind": "change_failure_rate", "threshold": 2, "window_hours": 24}), "threshold"),
        (json!({"kind": "no_such_kind"}), "rule"),
        (json!({"kind": "high_risk_change", "webhooks": ["mailto:ops@example.com"]}), "webhooks"),
    ] {
        let (status, body, _) = app.send("PUT", "/api/v1/alert-rules/cfr", Some(&app.admin), Some(rule.clone()));
        assert_eq!(status, 422, "{rule}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["fields"][0]["field"], field, "{body}");
    }
    assert_eq!(app.events().await, before, "a bad rule writes nothing");
    // A requester is refused (and the refusal recorded).
    let rule = json!({"kind": "change_failure_rate", "threshold": 0.25, "window_hours": 168,
        "webhooks": ["https://hooks.example.com/cfr"]});
    let (status, body, _) = app.send("PUT", "/api/v1/alert-rules/cfr", Some(&app.alice), Some(rule.clone()));
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    // The admin defines it; it reads back with its defaults.
    let (status, body, _) = app.send("PUT", "/api/v1/alert-rules/cfr", Some(&app.admin), Some(rule));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "change_failure_rate");
    assert_eq!(body["rule"]["min_deployments"], 1);
    assert_eq!(body["webhooks"], json!(["https://hooks.example.com/cfr"]));
    let (status, list, _) = app.send("GET", "/api/v1/alert-rules", Some(&app.alice), None);
    assert_eq!((status, list.as_array().unwrap().len()), (200, 1));
    let (status, _, _) = app.send("GET", "/api/v1/alert-rules/cfr", Some(&app.alice), None);
    assert_eq!(status, 200);
    let (status, firings, _) = app.send("GET", "/api/v1/alert-firings?limit=10", Some(&app.alice), None);
    assert_eq!((status, firings), (200, json!([])));
    let (status, _, _) = app.send("DELETE", "/api/v1/alert-rules/cfr", Some(&app.admin), None);
    assert_eq!(status, 204);
    let (status, body, _) = app.send("GET", "/api/v1/alert-rules/cfr", Some(&app.admin), None);
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, _, _) = app.send("GET", "/api/v1/alert-rules", None, None);
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_hook_is_set_shown_and_removed_and_a_bad_one_writes_nothing() {
    let app = spawn_app().await;
    let path = "/api/v1/services/payments-api/rollback-hook";
    let before = app.events().await;
    let bad = json!({"target": {"kind": "command", "program": ""}, "incident_window_hours": 9999});
    let (status, body, _) = app.send("PUT", path, Some(&app.admin), Some(bad));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let (status, body, _) =
        app.send("PUT", path, Some(&app.admin), Some(json!({"target": {"kind": "ftp", "url": "x"}})));
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    assert_eq!(app.events().await, before);
    let hook = json!({"target": {"kind": "webhook", "url": "https://deploy.example.com/rollback"}, "incident_window_hours": 6});
    let (status, body, _) = app.send("PUT", path, Some(&app.admin), Some(hook));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["rollback_hook"],
        json!({"kind": "webhook", "target": "https://deploy.example.com/rollback",
        "arguments": [], "incident_window_hours": 6})
    );
    let (_, services, _) = app.send("GET", "/api/v1/services", Some(&app.alice), None);
    assert_eq!(services["items"][0]["rollback_hook"]["kind"], "webhook");
    let (status, _, _) = app.send("DELETE", path, Some(&app.alice), None);
    assert_eq!(status, 403);
    let (status, body, _) = app.send("DELETE", path, Some(&app.admin), None);
    assert_eq!((status, &body["rollback_hook"]), (200, &Value::Null));
    let (status, _, _) = app.send("DELETE", "/api/v1/services/nowhere/rollback-hook", Some(&app.admin), None);
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_and_metrics_carry_the_new_endpoints_and_series() {
    let app = spawn_app().await;
    let (_, document, _) = app.send("GET", "/api/openapi.json", None, None);
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
    let (status, created, _) = app.send("POST", "/api/v1/changes", Some(&app.alice), Some(change));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, _, _) = app.send("POST", &format!("/api/v1/changes/{id}/actions/submit"), Some(&app.alice), None);
    assert_eq!(status, 200);
    let (status, _, text) = app.send("GET", "/metrics", None, None);
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
