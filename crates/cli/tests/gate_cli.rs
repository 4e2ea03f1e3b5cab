//! `changegate gate` end to end: the real binary against a real server (SQLite in a temp dir,
//! port 0). Auto-approval from a template, a freeze denial, waiting for a person's approval or
//! rejection, the timeout, retries with the same idempotency key, bad usage, and `--finish`.
//!
//! No assertion depends on timing: waits are generous and every background gate is released by
//! an action the test takes only once it has seen the change waiting.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use changegate_core::Timestamp;
use common::{BINARY, Server, get, init, post, text};
use serde_json::{Value, json};

/// How long a test waits for a background gate to show its change.
const APPEARANCE_TIMEOUT_MS: u64 = 60_000;

/// A server with a tier-3 service, a template for it, a pipeline user (requester) and an
/// approver.
struct Setup {
    _directory: tempfile::TempDir,
    server: Server,
    admin: String,
    pipeline: String,
    approver: String,
}

impl Setup {
    fn new() -> Setup {
        let directory = tempfile::tempdir().unwrap();
        let data = directory.path().join("data");
        let data_dir = data.to_str().unwrap();
        let admin = init(&["--data-dir", data_dir]);
        let server = Server::start(&["--data-dir", data_dir]);
        let base = &server.base;
        let service = json!({"name": "payments-api", "team": "payments", "tier": 3});
        let (status, answer) = post(base, &admin, "/api/v1/services", service);
        assert_eq!(status, 201, "{answer}");
        let template = json!({"name": "dependency-bump", "services": ["payments-api"], "environments": ["production"], "max_risk": "low", "approved": true});
        let (status, answer) = post(base, &admin, "/api/v1/templates", template);
        assert_eq!(status, 201, "{answer}");
        let user = |name: &str, role: &str| {
            let (status, answer) = post(base, &admin, "/api/v1/users", json!({"name": name, "roles": [role]}));
            assert_eq!(status, 201, "{answer}");
            answer["token"].as_str().unwrap().to_owned()
        };
        let pipeline = user("pipeline", "requester");
        let approver = user("alice", "approver");
        Setup { _directory: directory, server, admin, pipeline, approver }
    }

    fn base(&self) -> &str {
        &self.server.base
    }

    /// Runs `changegate gate` as the pipeline user with `arguments`.
    fn gate<S: AsRef<OsStr>>(&self, arguments: &[S]) -> Output {
        self.gate_command(arguments).output().expect("the binary runs")
    }

    /// Starts `changegate gate` in the background.
    fn gate_in_background<S: AsRef<OsStr>>(&self, arguments: &[S]) -> Child {
        self.gate_command(arguments).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts")
    }

    fn gate_command<S: AsRef<OsStr>>(&self, arguments: &[S]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .arg("gate")
            .args(arguments)
            .env("CHANGEGATE_SERVER", self.base())
            .env("CHANGEGATE_TOKEN", &self.pipeline)
            .env_remove("CHANGEGATE_DATABASE_URL");
        command
    }

    fn change(&self, id: &str) -> Value {
        get(self.base(), &self.admin, &format!("/api/v1/changes/{id}"))
    }

    fn change_count(&self) -> usize {
        get(self.base(), &self.admin, "/api/v1/changes?limit=500")["items"].as_array().unwrap().len()
    }

    /// Waits until a change titled `title` awaits approval, and returns its id.
    fn wait_for_assessed(&self, title: &str) -> String {
        let deadline = Instant::now() + Duration::from_millis(APPEARANCE_TIMEOUT_MS);
        while Instant::now() < deadline {
            let page = get(self.base(), &self.admin, "/api/v1/changes?state=assessed&limit=500");
            let found = page["items"].as_array().unwrap().iter().find(|change| change["title"] == title).cloned();
            if let Some(change) = found {
                return change["id"].as_str().unwrap().to_owned();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no change `{title}` awaited approval within {APPEARANCE_TIMEOUT_MS} ms");
    }

    fn act(&self, token: &str, id: &str, action: &str, body: Value) -> Value {
        let (status, answer) = post(self.base(), token, &format!("/api/v1/changes/{id}/actions/{action}"), body);
        assert_eq!(status, 200, "{action} {id}: {answer}");
        answer
    }
}

/// The change id a successful gate printed: its whole standard output.
fn printed_id(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(0), "{}", text(output));
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let id = stdout.strip_suffix('\n').unwrap_or(&stdout);
    assert!(id.starts_with("CHG-") && !id.contains(char::is_whitespace), "stdout is the id alone: {stdout:?}");
    id.to_owned()
}

fn write(directory: &Path, name: &str, contents: &str) -> String {
    let path = directory.join(name);
    std::fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Two results, neither critical: a 9.8 at level warning, a 5.3 at level error.
const SARIF: &str = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy", "rules": [
    {"id": "CVE-2026-0001", "defaultConfiguration": {"level": "warning"}, "properties": {"security-severity": "9.8"}},
    {"id": "CVE-2026-0002", "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "5.3"}}]}},
  "results": [{"ruleId": "CVE-2026-0001", "message": {"text": "severe, but a warning"}},
              {"ruleId": "CVE-2026-0002", "message": {"text": "medium"}}]}]}"#;

/// One critical result (level error from the rule, security-severity 9.8) and one that is not.
const SARIF_CRITICAL: &str = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy", "rules": [
    {"id": "CVE-2026-0001", "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "9.8"}},
    {"id": "CVE-2026-0002", "defaultConfiguration": {"level": "warning"}, "properties": {"security-severity": "5.3"}}]}},
  "results": [{"ruleId": "CVE-2026-0001", "message": {"text": "critical"}},
              {"ruleId": "CVE-2026-0002", "message": {"text": "medium"}}]}]}"#;

const JUNIT: &str = r#"<?xml version="1.0"?>
<testsuites><testsuite name="unit">
  <testcase name="a"/><testcase name="b"/>
  <testcase name="c"><failure message="expected 1">boom</failure></testcase>
</testsuite></testsuites>"#;

/// A standard change from the template; with test evidence it is low risk (the factor score
/// counts a missing rollback plan and missing test evidence against it).
const STANDARD: [&str; 10] = [
    "--service",
    "payments-api",
    "--environment",
    "production",
    "--type",
    "standard",
    "--template",
    "dependency-bump",
    "--rollback-plan",
    "revert the commit",
];

#[test]
fn an_auto_approved_standard_change_passes_starts_and_finishes_and_a_retry_creates_nothing() {
    let setup = Setup::new();
    let files = tempfile::tempdir().unwrap();
    let sarif = write(files.path(), "trivy.sarif", SARIF);
    let junit = write(files.path(), "junit.xml", JUNIT);
    let mut arguments = STANDARD.to_vec();
    arguments.extend(["--title", "Bump serde", "--commit", "0123abcd", "--evidence", &sarif, "--evidence", &junit]);
    arguments.extend(["--pipeline-url", "https://ci.example.com/runs/1", "--idempotency-key", "run-1"]);

    let output = setup.gate(&arguments);
    let id = printed_id(&output);
    assert!(text(&output).contains("auto-approved"), "{}", text(&output));
    let change = setup.change(&id);
    assert_eq!(change["state"], "implementing", "the gate records that the pipeline starts: {change}");
    assert_eq!(change["auto_approved"], true);
    assert_eq!(change["commit"], "0123abcd");
    assert_eq!(change["security_critical_findings"], 0);
    let security = change["security_evidence"].as_str().unwrap();
    assert!(security.starts_with("SARIF: 2 results, 0 critical"), "{security}");
    let tests = change["test_evidence"].as_str().unwrap();
    assert!(tests.starts_with("JUnit: 3 tests, 1 failure "), "{tests}");

    // The same key again: the same change, nothing new, and the answer as JSON.
    let count = setup.change_count();
    let mut again = arguments.clone();
    again.push("--json");
    let output = setup.gate(&again);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["change"], id.as_str());
    assert_eq!(answer["decision"], "approved");
    assert_eq!(answer["state"], "implementing");
    assert_eq!(answer["missing_approvals"], json!([]));
    assert_eq!(answer["url"], format!("{}/changes/{id}", setup.base()));
    assert_eq!(setup.change_count(), count, "a retry with the same key creates no change");
    // The same key with different input is refused, not silently merged.
    let mut different = arguments.clone();
    let title = different.iter().position(|argument| *argument == "Bump serde").unwrap();
    different[title] = "Bump serde_json";
    let output = setup.gate(&different);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("already used for a different request"), "{}", text(&output));
    assert_eq!(setup.change_count(), count);

    // Finish: complete + verify; again: nothing left to do.
    let finished = setup.gate(&["--finish", &id, "--outcome", "success", "--comment", "deployed"]);
    assert_eq!(finished.status.code(), Some(0), "{}", text(&finished));
    assert_eq!(setup.change(&id)["state"], "verified");
    let finished = setup.gate(&["--finish", &id, "--outcome", "success"]);
    assert_eq!(finished.status.code(), Some(0), "{}", text(&finished));
    assert!(text(&finished).contains("nothing left"), "{}", text(&finished));
    let contradicted = setup.gate(&["--finish", &id, "--outcome", "failed"]);
    assert_eq!(contradicted.status.code(), Some(1), "{}", text(&contradicted));
    // A re-run of the finished pipeline with the same key does not gate a second deployment.
    let rerun = setup.gate(&arguments);
    assert_eq!(rerun.status.code(), Some(1), "{}", text(&rerun));
    assert!(text(&rerun).contains("new deployment needs a new change"), "{}", text(&rerun));

    // --no-start leaves it approved; --finish failed --rolled-back does the missing steps.
    let mut arguments = STANDARD.to_vec();
    arguments.extend(["--title", "Bump tokio", "--no-start", "--evidence", &junit]);
    let id = printed_id(&setup.gate(&arguments));
    assert_eq!(setup.change(&id)["state"], "approved");
    let finished = setup.gate(&["--finish", &id, "--outcome", "failed", "--rolled-back", "--json"]);
    assert_eq!(finished.status.code(), Some(0), "{}", text(&finished));
    let answer: Value = serde_json::from_slice(&finished.stdout).unwrap();
    assert_eq!(answer["steps"], json!(["schedule", "start", "fail", "rollback"]));
    assert_eq!(setup.change(&id)["state"], "rolled_back");

    // A critical finding travels as security_critical_findings (a normal change: it waits).
    let critical = write(files.path(), "critical.sarif", SARIF_CRITICAL);
    let arguments = ["--service", "payments-api", "--environment", "production", "--type", "normal"];
    let mut arguments = arguments.to_vec();
    arguments.extend(["--title", "Bump openssl", "--evidence", &critical, "--evidence", &junit, "--json"]);
    let output = setup.gate(&arguments);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    let change = setup.change(answer["change"].as_str().unwrap());
    assert_eq!(change["security_critical_findings"], 1, "{change}");
    let security = change["security_evidence"].as_str().unwrap();
    assert!(security.starts_with("SARIF: 2 results, 1 critical"), "{security}");
}

#[test]
fn bad_usage_exits_2_and_other_failures_exit_1() {
    let setup = Setup::new();
    let usage = |arguments: &[&str], expected: &str| {
        let output = setup.gate(arguments);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {}", text(&output));
        assert!(text(&output).contains(expected), "{arguments:?}: {}", text(&output));
    };
    fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut arguments = STANDARD.to_vec();
        arguments.extend(["--title", "Usage"]);
        arguments.extend_from_slice(extra);
        arguments
    }
    usage(&with(&["--wait", "10x"]), "not a duration");
    usage(&with(&["--wait", "30"]), "not a duration");
    usage(&with(&["--wait", "48h"]), "at most 24h");
    usage(&with(&["--poll-interval", "10ms"]), "500ms");
    usage(&with(&["--evidence", "/nonexistent/report.sarif"]), "cannot open");
    usage(&with(&["--idempotency-key", "has space"]), "visible ASCII");
    usage(&["--environment", "production", "--type", "normal", "--title", "No service"], "--service");
    usage(&["--finish", "CHG-000001", "--outcome", "success", "--rolled-back"], "--outcome failed");
    usage(&["--finish", "CHG-000001"], "--outcome");
    usage(&["--finish", "CHG-000001", "--outcome", "success", "--service", "x"], "cannot be used with");
    let mut unknown = STANDARD.to_vec();
    unknown[1] = "no-such-service";
    unknown.extend(["--title", "Unknown service"]);
    usage(&unknown, "refused");
    let files = tempfile::tempdir().unwrap();
    let broken = write(files.path(), "broken.sarif", "{\"runs\": ");
    usage(&with(&["--evidence", &broken]), "not valid JSON");
    assert_eq!(setup.change_count(), 0, "no bad usage creates a change");

    let mut no_token = setup.gate_command(&with(&[]));
    let output = no_token.env_remove("CHANGEGATE_TOKEN").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));

    let output = setup.gate(&with(&["--token", "cg_not_a_token"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("valid API token"), "the server's message: {}", text(&output));
    let output = setup.gate(&with(&["--server", "http://127.0.0.1:9", "--json"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("cannot reach the server"), "{}", text(&output));
    let output = setup.gate(&["--finish", "CHG-999999", "--outcome", "success"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
}

#[test]
fn a_freeze_denies_the_change_with_exit_3() {
    let setup = Setup::new();
    let now = Timestamp::from_unix_ms(
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap(),
    );
    let freeze = json!({"name": "year-end", "kind": "freeze", "scope": {"kind": "global"},
        "schedule": {"kind": "one_off", "start": now.plus_ms(-3_600_000).to_rfc3339(), "end": now.plus_ms(7 * 3_600_000).to_rfc3339()},
        "description": "year-end freeze"});
    let (status, answer) = post(setup.base(), &setup.admin, "/api/v1/calendar/windows", freeze);
    assert_eq!(status, 201, "{answer}");

    let mut arguments = STANDARD.to_vec();
    arguments.extend(["--title", "During the freeze"]);
    let output = setup.gate(&arguments);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(output.stdout.is_empty(), "no id on stdout when denied: {}", text(&output));
    assert!(text(&output).contains("freeze `year-end`"), "{}", text(&output));

    arguments.push("--json");
    let output = setup.gate(&arguments);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["decision"], "denied");
    assert_eq!(answer["state"], "rejected");
    assert!(answer["reasons"][0].as_str().unwrap().contains("freeze"), "{answer}");

    // An emergency change may proceed during a freeze; the gate starts it at once.
    let emergency = [
        "--service",
        "payments-api",
        "--environment",
        "production",
        "--type",
        "emergency",
        "--title",
        "Hotfix during the freeze",
        "--justification",
        "payments are failing",
        "--json",
    ];
    let output = setup.gate(&emergency);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["decision"], "emergency");
    assert_eq!(answer["state"], "implementing");
    assert!(answer["warnings"].to_string().contains("freeze"), "{answer}");
}

#[test]
fn a_gate_waits_for_approval_rejection_or_its_timeout() {
    let setup = Setup::new();
    let files = tempfile::tempdir().unwrap();
    let junit = write(files.path(), "junit.xml", JUNIT);
    // A low-risk normal change (rollback plan and test evidence): it needs one approver.
    let normal = |title: &'static str| -> Vec<String> {
        let arguments =
            ["--service", "payments-api", "--environment", "production", "--type", "normal", "--title", title];
        let mut arguments: Vec<String> = arguments.iter().map(|argument| (*argument).to_owned()).collect();
        arguments.extend(["--rollback-plan", "revert", "--evidence", &junit].map(str::to_owned));
        arguments
    };

    // Waiting, then approved by someone else.
    let mut arguments = normal("Rotate certificates");
    arguments.extend(["--wait", "60s", "--poll-interval", "1s"].map(str::to_owned));
    let waiting = setup.gate_in_background(&arguments);
    let id = setup.wait_for_assessed("Rotate certificates");
    setup.act(&setup.approver, &id, "approve", json!({"comment": "looks fine"}));
    let output = waiting.wait_with_output().unwrap();
    assert_eq!(printed_id(&output), id);
    assert!(text(&output).contains("awaits approval"), "progress on stderr: {}", text(&output));
    assert_eq!(setup.change(&id)["state"], "implementing");

    // Waiting, then rejected.
    let mut arguments = normal("Drop the legacy index");
    arguments.extend(["--wait", "60s", "--poll-interval", "1s"].map(str::to_owned));
    let waiting = setup.gate_in_background(&arguments);
    let rejected = setup.wait_for_assessed("Drop the legacy index");
    setup.act(&setup.approver, &rejected, "reject", json!({"comment": "not during the sale"}));
    let output = waiting.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(text(&output).contains("rejected by alice: not during the sale"), "{}", text(&output));

    // Nobody approves: exit 4 with what is missing. Approved later, the same key picks it up.
    let mut arguments = normal("Resize the pool");
    arguments.extend(["--wait", "2s", "--poll-interval", "1s", "--idempotency-key", "run-7"].map(str::to_owned));
    let output = setup.gate(&arguments);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    assert!(output.stdout.is_empty(), "{}", text(&output));
    assert!(text(&output).contains("1 × approver"), "{}", text(&output));
    let timed_out = setup.wait_for_assessed("Resize the pool");
    let count = setup.change_count();
    let mut json_arguments = arguments.clone();
    json_arguments.push("--json".to_owned());
    let output = setup.gate(&json_arguments);
    assert_eq!(output.status.code(), Some(4), "{}", text(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["change"], timed_out.as_str());
    assert_eq!(answer["decision"], "waiting");
    assert_eq!(answer["missing_approvals"], json!([{"role": "approver", "count": 1}]));
    setup.act(&setup.approver, &timed_out, "approve", json!({}));
    let output = setup.gate(&arguments);
    assert_eq!(printed_id(&output), timed_out);
    assert_eq!(setup.change_count(), count, "retries with the same key reuse the change");
    assert_eq!(setup.change(&timed_out)["state"], "implementing");

    // The first one failed in production.
    let finished = setup.gate(&["--finish", &id, "--outcome", "failed", "--comment", "5xx spike"]);
    assert_eq!(finished.status.code(), Some(0), "{}", text(&finished));
    let change = setup.change(&id);
    assert_eq!(change["state"], "failed");
    let comments: Vec<&Value> =
        change["events"].as_array().unwrap().iter().map(|event| &event["data"]["comment"]).collect();
    assert!(comments.contains(&&json!("5xx spike")), "{change}");
}

/// `--repo . --commit SHA` computes the commit's JIT metrics and attaches them to the change.
#[test]
fn the_gate_attaches_the_code_metrics_of_the_commit() {
    let setup = Setup::new();
    let repository = tempfile::tempdir().unwrap();
    let git = |arguments: &[&str]| {
        let output = Command::new("git")
            .current_dir(repository.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["-c", "user.name=rita", "-c", "user.email=rita@example.org", "-c", "commit.gpgsign=false"])
            .args(arguments)
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    git(&["init", "--quiet"]);
    std::fs::create_dir_all(repository.path().join("src")).unwrap();
    std::fs::write(repository.path().join("src/lib.rs"), "fn a() {}\n").unwrap();
    git(&["add", "--all"]);
    git(&["commit", "--quiet", "-m", "first"]);
    std::fs::write(repository.path().join("src/lib.rs"), "fn a() {}\nfn b() {}\nfn c() {}\n").unwrap();
    git(&["add", "--all"]);
    git(&["commit", "--quiet", "-m", "fix the parser"]);
    let sha = git(&["rev-parse", "HEAD"]);

    let files = tempfile::tempdir().unwrap();
    let sarif = write(files.path(), "trivy.sarif", SARIF);
    let junit = write(files.path(), "junit.xml", JUNIT);
    let mut arguments = STANDARD.to_vec();
    let repo = repository.path().to_str().unwrap();
    arguments.extend(["--title", "Ship the parser fix", "--commit", &sha, "--repo", repo, "--no-start"]);
    arguments.extend(["--evidence", &sarif, "--evidence", &junit]);
    let output = setup.gate(&arguments);
    let id = printed_id(&output);
    let metrics = &setup.change(&id)["code_metrics"];
    assert_eq!(metrics["la"], 2.0, "{metrics}");
    assert_eq!(metrics["nf"], 1, "{metrics}");
    assert_eq!(metrics["fix"], 1, "{metrics}");
    assert_eq!(metrics["exp"], 1.0, "{metrics}");
    let risk = &setup.change(&id)["assessment"]["risk_factors"];
    let size = risk.as_array().unwrap().iter().find(|factor| factor["name"] == "change_size").unwrap();
    assert!(size["detail"].as_str().unwrap().contains("2 lines"), "{size}");

    // A commit that is not in the repository is a usage error.
    let mut wrong = STANDARD.to_vec();
    wrong.extend(["--title", "Nope", "--commit", "deadbeef", "--repo", repo]);
    assert_eq!(setup.gate(&wrong).status.code(), Some(2));
}
