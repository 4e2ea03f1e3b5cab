//! `changegate risk train | models | score` through the real binary: train on a history made
//! through the API, then explain a change.

mod common;

use common::{Server, changegate, get, init, post, text};
use serde_json::{Value, json};

#[test]
fn train_on_the_history_then_list_and_explain() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let admin = init(&["--data-dir", data_dir]);
    let server = Server::start(&["--data-dir", data_dir]);
    let base = server.base.as_str();
    let (_, rita) = post(base, &admin, "/api/v1/users", json!({"name": "rita", "roles": ["requester"]}));
    let rita = rita["token"].as_str().unwrap().to_owned();
    let (_, olga) = post(base, &admin, "/api/v1/users", json!({"name": "olga", "roles": ["approver"]}));
    let olga = olga["token"].as_str().unwrap().to_owned();
    post(base, &admin, "/api/v1/services", json!({"name": "blog", "team": "web", "tier": 4}));

    // Before any model: `risk models` says so, `risk score` shows the factors only.
    let empty = changegate(&["risk", "models", "--server", base, "--token", &admin]);
    assert!(text(&empty).contains("No model trained yet"), "{}", text(&empty));

    // A history where big changes fail.
    let mut last = String::new();
    for number in 0..120 {
        let big = number % 3 == 0;
        let lines = if big { 2_000 } else { 10 };
        let (status, change) = post(
            base,
            &rita,
            "/api/v1/changes",
            json!({"title": format!("Change {number}"), "type": "normal", "service": "blog", "environment": "production",
                   "rollback_plan": "redeploy", "test_evidence": "ci", "code_metrics": {"la": lines, "ld": 5, "nf": 3}}),
        );
        assert_eq!(status, 201, "{change}");
        let id = change["id"].as_str().unwrap().to_owned();
        let action = |token: &str, action: &str| {
            let (status, answer) = post(base, token, &format!("/api/v1/changes/{id}/actions/{action}"), json!({}));
            assert_eq!(status, 200, "{action}: {answer}");
        };
        action(&rita, "submit");
        action(&olga, "approve");
        for step in ["schedule", "start", "complete"] {
            action(&rita, step);
        }
        action(&rita, if big { "fail" } else { "verify" });
        last = id;
    }

    // Training opens the store directly (like `audit verify`) while the server runs.
    let output = changegate(&["risk", "train", "--json", "--data-dir", data_dir, "--iterations", "60"]);
    assert!(output.status.success(), "{}", text(&output));
    let trained: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(trained["training_rows"], 120);
    assert_eq!(trained["validation_rows"], 24);
    assert!(trained["auc"].as_f64().unwrap() > 0.8, "{trained}");
    assert_eq!(trained["calibration"].as_array().unwrap().len(), 10);

    let models = changegate(&["risk", "models", "--json", "--server", base, "--token", &admin]);
    let models: Value = serde_json::from_slice(&models.stdout).unwrap();
    assert_eq!(models[0]["version"], trained["version"]);

    // A new big change records the model's probability; `risk score` explains it.
    let (_, change) = post(
        base,
        &rita,
        "/api/v1/changes",
        json!({"title": "Big one", "type": "normal", "service": "blog", "environment": "production",
               "rollback_plan": "redeploy", "test_evidence": "ci", "code_metrics": {"la": 3000, "ld": 5, "nf": 3}}),
    );
    let id = change["id"].as_str().unwrap();
    let (_, submitted) = post(base, &rita, &format!("/api/v1/changes/{id}/actions/submit"), json!({}));
    assert_eq!(submitted["assessment"]["risk_model"], trained["version"]);
    let probability = submitted["assessment"]["risk_probability"].as_f64().unwrap();
    let report = get(base, &admin, &format!("/api/v1/changes/{last}/risk"));
    assert!(report["prediction"]["probability"].as_f64().unwrap() < probability, "{report}");
    let score = changegate(&["risk", "score", id, "--server", base, "--token", &admin]);
    assert!(score.status.success(), "{}", text(&score));
    let shown = text(&score);
    assert!(shown.contains("probability of failure") && shown.contains("la"), "{shown}");
    assert!(shown.contains("service_tier"), "{shown}");
}
