//! `changegate metrics` through the real binary: `--json` prints the API's report, the table shows
//! the headline numbers with their bands and a row per service, and bad input fails with the
//! server's error code.

mod common;

use common::{Server, changegate, init, post, text};
use serde_json::{Value, json};

#[test]
fn metrics_prints_the_report_as_json_and_as_tables() {
    // Given a server with two production deployments of blog, one of which failed
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
    for ending in ["verify", "fail"] {
        let body = json!({"title": "Deploy", "type": "normal", "service": "blog", "environment": "production",
                          "rollback_plan": "redeploy", "test_evidence": "ci"});
        let (status, change) = post(base, &rita, "/api/v1/changes", body);
        assert_eq!(status, 201, "{change}");
        let id = change["id"].as_str().unwrap().to_owned();
        for (token, action) in [
            (&rita, "submit"),
            (&olga, "approve"),
            (&rita, "schedule"),
            (&rita, "start"),
            (&rita, "complete"),
            (&rita, ending),
        ] {
            let (status, answer) = post(base, token, &format!("/api/v1/changes/{id}/actions/{action}"), json!({}));
            assert_eq!(status, 200, "{action}: {answer}");
        }
    }

    // When the metrics are asked for with --json
    let output = changegate(&["metrics", "--json", "--server", base, "--token", &rita, "--service", "blog"]);
    // Then the report's keys and numbers are printed
    assert!(output.status.success(), "{}", text(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["deployments"], 2);
    assert_eq!(report["change_failure_rate"], 0.5);
    assert_eq!(report["bands"]["change_failure_rate"], "low");
    assert!(report["weekly"].as_array().is_some_and(|weeks| !weeks.is_empty()));

    // When they are asked for as tables
    let output = changegate(&["metrics", "--server", base, "--token", &rita]);
    let shown = text(&output);
    // Then the headline numbers carry their bands and blog has a row
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("change failure rate") && shown.contains("50.0%") && shown.contains("low"), "{shown}");
    assert!(shown.lines().any(|line| line.starts_with("blog ")), "{shown}");

    // When the period is reversed or the service unknown
    let reversed = changegate(&[
        "metrics",
        "--json",
        "--server",
        base,
        "--token",
        &rita,
        "--from",
        "2026-02-01",
        "--to",
        "2026-01-01",
    ]);
    let unknown = changegate(&["metrics", "--server", base, "--token", &rita, "--service", "billing"]);
    // Then both fail with the server's clear error
    assert!(!reversed.status.success());
    assert!(String::from_utf8_lossy(&reversed.stderr).contains("validation_failed"), "{}", text(&reversed));
    assert!(!unknown.status.success());
    assert!(text(&unknown).contains("no service `billing`"), "{}", text(&unknown));
}
