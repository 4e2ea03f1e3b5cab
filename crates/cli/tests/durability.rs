//! Durability and the real binary: start `changegate serve`, acknowledge N writes, `kill -9` it,
//! start it again, and find all N. Also drives the CLI client commands against it.

mod common;

use std::process::Command;

use common::{BINARY, Server, get, init, post};
use serde_json::{Value, json};

#[test]
fn acknowledged_writes_survive_kill_9() {
    const WRITES: usize = 60;
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().to_str().unwrap();
    let token = init(&["--data-dir", data_dir]);
    let server = Server::start(&["--data-dir", data_dir]);
    let (status, _) =
        post(&server.base, &token, "/api/v1/services", json!({"name": "payments-api", "team": "payments", "tier": 2}));
    assert_eq!(status, 201);
    let mut acknowledged = Vec::new();
    for number in 0..WRITES {
        let body = json!({"title": format!("Change {number}"), "type": "standard", "service": "payments-api", "environment": "production"});
        let (status, change) = post(&server.base, &token, "/api/v1/changes", body);
        assert_eq!(status, 201);
        acknowledged.push(change["id"].as_str().unwrap().to_owned());
    }
    let events_before =
        get(&server.base, &token, "/api/v1/events?after=0&limit=1000")["items"].as_array().unwrap().len();
    server.kill_hard();

    let server = Server::start(&["--data-dir", data_dir]);
    let page = get(&server.base, &token, "/api/v1/changes?limit=500");
    let mut found: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    found.reverse();
    assert_eq!(found, acknowledged, "every acknowledged change is there after kill -9");
    let events_after =
        get(&server.base, &token, "/api/v1/events?after=0&limit=1000")["items"].as_array().unwrap().len();
    assert_eq!(events_after, events_before);
    // And the store keeps working after the crash.
    let (status, _) = post(&server.base, &token, "/api/v1/changes/CHG-000001/actions/submit", json!({}));
    assert_eq!(status, 200);
}

fn cli(base: &str, token: &str, arguments: &[&str]) -> (bool, String, String) {
    let output = Command::new(BINARY)
        .args(arguments)
        .env("CHANGEGATE_SERVER", base)
        .env("CHANGEGATE_TOKEN", token)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_cli_client_drives_a_change_and_reports_errors() {
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().to_str().unwrap();
    let admin = init(&["--data-dir", data_dir]);
    let output = Command::new(BINARY)
        .args(["user", "add", "--json", "--name", "alice", "--roles", "requester", "--data-dir"])
        .arg(directory.path())
        .env_remove("CHANGEGATE_SERVER")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let alice: Value = serde_json::from_slice(&output.stdout).unwrap();
    let alice = alice["token"].as_str().unwrap().to_owned();
    let server = Server::start(&["--data-dir", data_dir]);
    let base = server.base.clone();

    let (ok, _, error) =
        cli(&base, &admin, &["service", "add", "--name", "payments-api", "--team", "payments", "--tier", "3"]);
    assert!(ok, "{error}");
    let (ok, stdout, error) = cli(
        &base,
        &alice,
        &["change", "new", "--json", "--title", "Bump openssl", "--type", "normal", "--service", "payments-api"],
    );
    assert!(ok, "{error}");
    let change: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(change["id"], "CHG-000001");
    let (ok, stdout, _) = cli(&base, &alice, &["change", "submit", "CHG-000001"]);
    assert!(ok);
    assert!(stdout.contains("CHG-000001 is now assessed"), "{stdout}");
    let (ok, stdout, _) = cli(&base, &alice, &["change", "list"]);
    assert!(ok);
    assert!(stdout.contains("CHG-000001") && stdout.contains("assessed"), "{stdout}");
    let (ok, _, stderr) = cli(&base, &alice, &["change", "approve", "CHG-000001"]);
    assert!(!ok, "alice cannot approve her own change");
    assert!(stderr.contains("forbidden"), "{stderr}");
    let (ok, _, stderr) = cli(&base, &alice, &["change", "start", "CHG-000001", "--json"]);
    assert!(!ok);
    let error: Value = serde_json::from_str(stderr.trim()).expect("errors are JSON with --json");
    assert_eq!(error["error"]["code"], "illegal_transition");
    let (ok, stdout, _) = cli(&base, &alice, &["change", "show", "CHG-000001"]);
    assert!(ok);
    assert!(stdout.contains("change_assessed"), "{stdout}");
}
