//! `changegate policy current|versions|set`, `template`, `calendar` and `approvals` through the
//! real binary against a real server.

mod common;

use common::{Server, changegate, init, post, text};
use serde_json::{Value, json};

fn run(base: &str, token: &str, arguments: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = arguments.to_vec();
    all.extend_from_slice(&["--server", base, "--token", token]);
    changegate(&all)
}

fn run_json(base: &str, token: &str, arguments: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(arguments);
    let output = run(base, token, &all);
    assert!(output.status.success(), "{arguments:?}: {}", text(&output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{arguments:?}: {error}: {}", text(&output)))
}

#[test]
fn governance_commands_round_trip_through_the_server() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let admin = init(&["--data-dir", data_dir]);
    let server = Server::start(&["--data-dir", data_dir]);
    let base = server.base.as_str();

    // Users and services through the API.
    let (status, rita) =
        post(base, &admin, "/api/v1/users", json!({"name": "rita", "roles": ["requester"], "team": "shop"}));
    assert_eq!(status, 201, "{rita}");
    let rita = rita["token"].as_str().unwrap().to_owned();
    let (_, olga) = post(base, &admin, "/api/v1/users", json!({"name": "olga", "roles": ["approver"], "team": "ops"}));
    let olga = olga["token"].as_str().unwrap().to_owned();
    let (status, _) = post(base, &admin, "/api/v1/services", json!({"name": "catalog", "team": "shop", "tier": 3}));
    assert_eq!(status, 201);

    // The default policy is in force until one is set.
    let current = run_json(base, &admin, &["policy", "current"]);
    assert_eq!(current["source"], "default");
    assert_eq!(run_json(base, &admin, &["policy", "versions"]), json!([]));

    // A template, listed, used by `change new --template` and auto-approved on submit.
    let template = run_json(
        base,
        &admin,
        &["template", "add", "--name", "restart-pod", "--services", "catalog", "--environments", "production"],
    );
    assert_eq!(template["approved"], true);
    let templates = run_json(base, &admin, &["template", "list"]);
    assert_eq!(templates[0]["name"], "restart-pod");
    let change = run_json(
        base,
        &rita,
        &[
            "change",
            "new",
            "--title",
            "Restart a stuck pod",
            "--service",
            "catalog",
            "--template",
            "restart-pod",
            "--rollback-plan",
            "restart it again",
            "--test-evidence",
            "pipeline 12",
        ],
    );
    assert_eq!(change["type"], "standard");
    let id = change["id"].as_str().unwrap().to_owned();
    let submitted = run_json(base, &rita, &["change", "submit", &id]);
    assert_eq!(submitted["state"], "approved", "{submitted}");

    // A requester may not define templates or windows: a clear refusal, exit 1.
    let refused = run(base, &rita, &["template", "add", "--name", "sneaky"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused).contains("admin or cab"), "{}", text(&refused));

    // A freeze over the next two days, listed and shown; then a normal change is denied.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let rfc3339 = |unix: i64| changegate_core::Timestamp::from_unix_ms(unix * 1000).to_rfc3339();
    let (start, end) = (rfc3339(now - 3600), rfc3339(now + 2 * 86_400));
    run_json(
        base,
        &admin,
        &["calendar", "add", "--name", "launch-freeze", "--kind", "freeze", "--start", &start, "--end", &end],
    );
    let bad_zone = run(
        base,
        &admin,
        &[
            "calendar",
            "add",
            "--name",
            "weekly",
            "--kind",
            "maintenance",
            "--rule",
            "DTSTART:20261107T220000\\nRRULE:FREQ=WEEKLY;BYDAY=SA",
            "--time-zone",
            "Mars/Olympus",
        ],
    );
    assert_eq!(bad_zone.status.code(), Some(1));
    assert!(text(&bad_zone).contains("Mars/Olympus"), "{}", text(&bad_zone));
    run_json(
        base,
        &admin,
        &[
            "calendar",
            "add",
            "--name",
            "shop-weekly",
            "--kind",
            "maintenance",
            "--team",
            "shop",
            "--rule",
            "DTSTART:20261107T220000\\nRRULE:FREQ=WEEKLY;BYDAY=SA",
            "--time-zone",
            "Europe/Berlin",
            "--duration-minutes",
            "240",
        ],
    );
    let windows = run_json(base, &admin, &["calendar", "list"]);
    assert_eq!(windows.as_array().unwrap().len(), 2);
    let view = run_json(base, &admin, &["calendar", "show"]);
    let kinds: Vec<&str> = view["occurrences"].as_array().unwrap().iter().filter_map(|o| o["kind"].as_str()).collect();
    assert!(kinds.contains(&"freeze") && kinds.contains(&"maintenance"), "{view}");
    let table = run(base, &admin, &["calendar", "show"]);
    assert!(text(&table).contains("launch-freeze"), "{}", text(&table));

    let normal = run_json(
        base,
        &rita,
        &["change", "new", "--title", "Raise the cache size", "--type", "normal", "--service", "catalog"],
    );
    let normal_id = normal["id"].as_str().unwrap().to_owned();
    let denied = run_json(base, &rita, &["change", "submit", &normal_id]);
    assert_eq!(denied["state"], "rejected");
    assert!(denied["denied"][0].as_str().unwrap().contains("launch-freeze"), "{denied}");

    // Without the freeze, the next normal change waits in olga's inbox.
    run_json(base, &admin, &["calendar", "remove", "launch-freeze"]);
    let waiting = run_json(
        base,
        &rita,
        &["change", "new", "--title", "Raise the cache size again", "--type", "normal", "--service", "catalog"],
    );
    let waiting_id = waiting["id"].as_str().unwrap().to_owned();
    assert_eq!(run_json(base, &rita, &["change", "submit", &waiting_id])["state"], "assessed");
    let inbox = run_json(base, &olga, &["approvals"]);
    assert_eq!(inbox[0]["change"]["id"], waiting_id.as_str());
    assert_eq!(inbox[0]["missing"], json!([{"role": "approver", "count": 1}]));
    assert_eq!(run_json(base, &rita, &["approvals"]), json!([]));
    let human = run(base, &olga, &["approvals"]);
    assert!(text(&human).contains(&waiting_id), "{}", text(&human));

    // A new policy version: CAB for everything. Recorded; decisions carry its hash.
    let policies = data.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("cab.rego"),
        "package changegate\n\ndecision := {\"auto_approve\": false, \"required_approvals\": [{\"role\": \"cab\", \"count\": 1}], \"deny\": [], \"warn\": []}\n\ntest_cab if decision.required_approvals[0].role == \"cab\"\n",
    )
    .unwrap();
    let refused = run(base, &rita, &["policy", "set", "--file", policies.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let version =
        run_json(base, &admin, &["policy", "set", "--file", policies.to_str().unwrap(), "--comment", "CAB week"]);
    let sha256 = version["sha256"].as_str().unwrap().to_owned();
    assert_eq!(run_json(base, &admin, &["policy", "current"])["sha256"], sha256.as_str());
    let versions = run_json(base, &admin, &["policy", "versions"]);
    assert_eq!(versions[0]["comment"], "CAB week");
    let later = run_json(
        base,
        &rita,
        &["change", "new", "--title", "Another change", "--type", "normal", "--service", "catalog"],
    );
    let later = run_json(base, &rita, &["change", "submit", later["id"].as_str().unwrap()]);
    assert_eq!(later["assessment"]["policy_sha256"], sha256.as_str());
    assert_eq!(later["assessment"]["required_approvals"], json!([{"role": "cab", "count": 1}]));

    // A policy whose own test fails is refused, with the test named.
    std::fs::write(policies.join("cab_test.rego"), "package changegate_test\n\ntest_broken if 1 == 2\n").unwrap();
    let broken = run(base, &admin, &["policy", "set", "--file", policies.to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(text(&broken).contains("test_broken"), "{}", text(&broken));
}

#[test]
fn serve_takes_the_risk_weights_from_a_file_and_refuses_bad_ones() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let admin = init(&["--data-dir", data_dir]);
    let bad = data.path().join("bad.json");
    std::fs::write(&bad, r#"{"tier": 10}"#).unwrap();
    let refused = changegate(&[
        "serve",
        "--data-dir",
        data_dir,
        "--listen",
        "127.0.0.1:0",
        "--risk-weights",
        bad.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("risk weights"), "{}", text(&refused));

    let weights = data.path().join("weights.json");
    std::fs::write(&weights, r#"{"test_evidence": 40}"#).unwrap();
    let server = Server::start(&["--data-dir", data_dir, "--risk-weights", weights.to_str().unwrap()]);
    let base = server.base.as_str();
    post(base, &admin, "/api/v1/services", json!({"name": "blog", "team": "web", "tier": 4}));
    let (_, change) = post(
        base,
        &admin,
        "/api/v1/changes",
        json!({"title": "No tests", "type": "normal", "service": "blog", "environment": "production", "rollback_plan": "redeploy"}),
    );
    let id = change["id"].as_str().unwrap();
    let (_, submitted) = post(base, &admin, &format!("/api/v1/changes/{id}/actions/submit"), json!({}));
    let factors = submitted["assessment"]["risk_factors"].as_array().unwrap();
    let tests = factors.iter().find(|factor| factor["name"] == "test_evidence").unwrap();
    assert_eq!(tests["contribution"], 40.0, "{submitted}");
}
