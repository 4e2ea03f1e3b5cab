//! `changegate comply` of the real binary: the report from a running server (table, JSON, HTML),
//! a refused bad framework, and the evidence bundle written from the store, verified offline and
//! caught when a sampled change's event is altered.

mod common;

use common::{Server, changegate, init, post, text};
use serde_json::{Value, json};

/// Registers a tier-3 service, adds bob (approver), and carries one normal change through
/// approval and implementation without test evidence. Returns the change id.
fn seed(base: &str, token: &str) -> String {
    let (status, _) = post(base, token, "/api/v1/services", json!({"name": "catalog", "team": "shop", "tier": 3}));
    assert_eq!(status, 201);
    let (status, bob) = post(base, token, "/api/v1/users", json!({"name": "bob", "roles": ["approver"]}));
    assert_eq!(status, 201, "{bob}");
    let bob_token = bob["token"].as_str().unwrap().to_owned();
    let body = json!({"title": "Reindex <search>", "type": "normal", "service": "catalog", "environment": "production",
                      "rollback_plan": "restore the previous index"});
    let (status, change) = post(base, token, "/api/v1/changes", body);
    assert_eq!(status, 201, "{change}");
    let id = change["id"].as_str().unwrap().to_owned();
    for (actor, action) in [(token, "submit"), (bob_token.as_str(), "approve"), (token, "schedule"), (token, "start")] {
        let (status, answer) = post(base, actor, &format!("/api/v1/changes/{id}/actions/{action}"), json!({}));
        assert_eq!(status, 200, "{action}: {answer}");
    }
    id
}

#[test]
fn comply_reports_bundles_and_verifies() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let data_dir = data.to_str().unwrap();
    let token = init(&["--data-dir", data_dir]);
    let id;
    {
        let server = Server::start(&["--data-dir", data_dir]);
        id = seed(&server.base, &token);
        let client = ["--server", server.base.as_str(), "--token", token.as_str()];
        // The report as a table names the change under the controls it fails.
        let mut arguments = vec!["comply", "--framework", "soc2"];
        arguments.extend_from_slice(&client);
        let table = changegate(&arguments);
        assert!(table.status.success(), "{}", text(&table));
        assert!(text(&table).contains("CC8.1") && text(&table).contains(&id), "{}", text(&table));
        // As JSON, with an HTML page beside it.
        let page = directory.path().join("report.html");
        let mut arguments = vec!["--json", "comply", "--html", page.to_str().unwrap()];
        arguments.extend_from_slice(&client);
        let answer = changegate(&arguments);
        assert!(answer.status.success(), "{}", text(&answer));
        let report: Value = serde_json::from_slice(&answer.stdout).unwrap();
        assert_eq!(report["frameworks"].as_array().unwrap().len(), 7);
        assert_eq!(report["changes_in_period"], json!([id]));
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.starts_with("<!doctype html>") && !html.contains("<script"));
        assert!(html.contains(&format!("{}/changes/{id}", server.base)), "links to the change page");
        // A bad framework is refused with the API's code.
        let mut arguments = vec!["--json", "comply", "--framework", "sox"];
        arguments.extend_from_slice(&client);
        let refused = changegate(&arguments);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("validation_failed"), "{}", text(&refused));
    }
    // The bundle, from the store (the server is stopped).
    let bundle = directory.path().join("bundle");
    let written =
        changegate(&["--json", "comply", "bundle", "--data-dir", data_dir, "--out", bundle.to_str().unwrap()]);
    assert!(written.status.success(), "{}", text(&written));
    let summary: Value = serde_json::from_slice(&written.stdout).unwrap();
    assert_eq!(summary["changes"], json!([id]), "the violating change is sampled first");
    for file in [
        "README.txt",
        "compliance.json",
        "compliance.html",
        "oscal-assessment-results.json",
        "ledger/entries.jsonl",
        "ledger/checkpoint",
        "ledger/public-key",
    ] {
        assert!(bundle.join(file).is_file(), "{file} is in the bundle");
    }
    let change_file = bundle.join(format!("changes/{id}.json"));
    let change: Value = serde_json::from_str(&std::fs::read_to_string(&change_file).unwrap()).unwrap();
    assert_eq!(
        change["events"].as_array().unwrap().len(),
        6,
        "created, submitted, assessed, approved, scheduled, started"
    );
    let oscal: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("oscal-assessment-results.json")).unwrap()).unwrap();
    assert!(oscal.to_string().contains(&format!("changes/{id}.json")), "OSCAL evidence points at the change file");
    // A second bundle into the same directory is refused.
    let again = changegate(&["comply", "bundle", "--data-dir", data_dir, "--out", bundle.to_str().unwrap()]);
    assert!(!again.status.success());
    // Offline verification passes…
    let public_key = bundle.join("ledger/public-key");
    let verify = || {
        changegate(&[
            "comply",
            "verify",
            "--bundle",
            bundle.to_str().unwrap(),
            "--public-key",
            public_key.to_str().unwrap(),
        ])
    };
    let verified = verify();
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(text(&verified).contains("6 event(s) proven"), "{}", text(&verified));
    // …and fails when a sampled event is altered.
    let mut forged = change.clone();
    forged["events"][3]["data"] = json!({"approver": "mallory"});
    let leaf = forged["events"][3]["leaf"].as_str().unwrap().to_owned();
    forged["events"][3]["leaf"] = Value::String(leaf.replacen('A', "B", 1));
    std::fs::write(&change_file, serde_json::to_string(&forged).unwrap()).unwrap();
    let failed = verify();
    assert!(!failed.status.success(), "{}", text(&failed));
    assert!(text(&failed).contains("event 4"), "{}", text(&failed));
}
