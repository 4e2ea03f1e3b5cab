//! `changegate serve --alert-rules` and `--log-format json`, `changegate alerts …` and
//! `changegate service rollback-hook` through the real binary against a real server.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BINARY, Server, agent, changegate, get, init, post, text};
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

fn event_count(base: &str, token: &str) -> usize {
    get(base, token, "/api/v1/events?limit=1000")["items"].as_array().unwrap().len()
}

#[test]
fn alert_rules_come_from_a_file_once_and_the_alert_and_hook_commands_round_trip() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let admin = init(&["--data-dir", data_dir]);
    let rules = data.path().join("rules.json");
    let file = json!({"rules": {
        "risky": {"kind": "high_risk_change", "webhooks": ["https://hooks.example.com/risky"]},
        "stuck": {"kind": "approval_overdue", "after_hours": 24},
    }});
    std::fs::write(&rules, file.to_string()).unwrap();
    let rules_path = rules.to_str().unwrap();

    // Given a server started with the rules file
    let server = Server::start(&["--data-dir", data_dir, "--alert-rules", rules_path]);
    let listed = run_json(&server.base, &admin, &["alerts", "list"]);
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|rule| rule["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["risky", "stuck"]);
    assert_eq!(listed[0]["defined_by"], "system");
    let events = event_count(&server.base, &admin);
    drop(server);
    // When it restarts with the same file, no event is added.
    let server = Server::start(&["--data-dir", data_dir, "--alert-rules", rules_path]);
    let base = server.base.as_str();
    assert_eq!(event_count(base, &admin), events);

    // The kinds are listed without a server.
    let kinds: Value = serde_json::from_slice(&changegate(&["--json", "alerts", "rules"]).stdout).unwrap();
    assert_eq!(kinds.as_array().unwrap().len(), 6);

    // A rule from a file, listed, removed; a bad one is refused with its code and writes nothing.
    let rule = data.path().join("cfr.json");
    std::fs::write(&rule, r#"{"kind": "change_failure_rate", "threshold": 0.25, "window_hours": 168}"#).unwrap();
    let defined = run_json(base, &admin, &["alerts", "set", "cfr", "--file", rule.to_str().unwrap()]);
    assert_eq!(defined["kind"], "change_failure_rate");
    let human = text(&run(base, &admin, &["alerts", "list"]));
    assert!(human.contains("threshold=0.25") && human.contains("window_hours=168"), "{human}");
    std::fs::write(&rule, r#"{"kind": "change_failure_rate", "threshold": 0.25}"#).unwrap();
    let before = event_count(base, &admin);
    let refused = run(base, &admin, &["--json", "alerts", "set", "cfr", "--file", rule.to_str().unwrap()]);
    assert!(!refused.status.success());
    let error: Value = serde_json::from_slice(&refused.stderr).unwrap();
    assert_eq!(error["error"]["code"], "validation_failed", "{error}");
    assert_eq!(event_count(base, &admin), before);
    assert_eq!(run_json(base, &admin, &["alerts", "remove", "cfr"]), json!({"removed": "cfr"}));
    assert_eq!(run_json(base, &admin, &["alerts", "firings"]), json!([]));

    // A rollback hook by command (everything after --command is the program and its arguments).
    let (status, _) = post(base, &admin, "/api/v1/services", json!({"name": "catalog", "team": "shop", "tier": 3}));
    assert_eq!(status, 201);
    let output = changegate(&[
        "--json",
        "service",
        "rollback-hook",
        "catalog",
        "--server",
        base,
        "--token",
        &admin,
        "--incident-window-hours",
        "6",
        "--command",
        "/bin/sh",
        "-c",
        "echo $CHANGEGATE_CHANGE_ID",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let service: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        service["rollback_hook"],
        json!({"kind": "command", "target": "/bin/sh", "arguments": ["-c", "echo $CHANGEGATE_CHANGE_ID"], "incident_window_hours": 6})
    );
    let service =
        run_json(base, &admin, &["service", "rollback-hook", "catalog", "--webhook", "https://deploy.example.com/rb"]);
    assert_eq!(service["rollback_hook"]["kind"], "webhook");
    let service = run_json(base, &admin, &["service", "rollback-hook", "catalog", "--remove"]);
    assert_eq!(service["rollback_hook"], Value::Null);
    let neither = run(base, &admin, &["service", "rollback-hook", "catalog"]);
    assert_eq!(neither.status.code(), Some(2), "one of the three is required: {}", text(&neither));

    // A bad rules file stops the start and names the rule.
    drop(server);
    std::fs::write(&rules, r#"{"rules": {"broken": {"kind": "approval_overdue"}}}"#).unwrap();
    let output = changegate(&["serve", "--data-dir", data_dir, "--alert-rules", rules_path, "--listen", "127.0.0.1:0"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("broken"), "{}", text(&output));
}

#[test]
fn serve_writes_json_log_lines_with_log_format_json() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    init(&["--data-dir", data_dir]);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(BINARY)
        .args(["serve", "--data-dir", data_dir, "--log-format", "json", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("CHANGEGATE_DATABASE_URL")
        .env_remove("CHANGEGATE_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if agent().get(format!("http://127.0.0.1:{port}/readyz")).call().is_ok_and(|answer| answer.status() == 200) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let logs: Vec<Value> =
        stderr.lines().filter(|line| line.starts_with('{')).map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!logs.is_empty(), "no JSON log lines in:\n{stderr}");
    assert!(logs.iter().all(|line| line["level"].is_string() && line["fields"].is_object()), "{stderr}");
    assert!(logs.iter().any(|line| line["fields"]["message"] == "serving"), "{stderr}");
}
