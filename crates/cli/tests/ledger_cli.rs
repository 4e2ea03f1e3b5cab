//! The audit commands of the real binary: checkpoint, verify (online and offline), prove,
//! export; tampering caught with a non-zero exit that names the index; and several `serve`
//! instances appending to one PostgreSQL log concurrently without forking it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Server, changegate, init, post, text};
use serde_json::{Value, json};

fn seed_changes(base: &str, token: &str, count: usize) {
    let (status, _) =
        post(base, token, "/api/v1/services", json!({"name": "payments-api", "team": "payments", "tier": 3}));
    assert!(status == 201 || status == 409);
    for number in 0..count {
        let body = json!({"title": format!("Change {number}"), "type": "standard", "service": "payments-api", "environment": "production"});
        let (status, change) = post(base, token, "/api/v1/changes", body);
        assert_eq!(status, 201, "{change}");
        let id = change["id"].as_str().unwrap();
        let (status, _) = post(base, token, &format!("/api/v1/changes/{id}/actions/submit"), json!({}));
        assert_eq!(status, 200);
    }
}

#[test]
fn audit_commands_verify_prove_export_and_catch_tampering() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let data_dir = data.to_str().unwrap();
    let token = init(&["--data-dir", data_dir]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("ledger-signing-key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the signing key is readable by its owner only");
    }
    {
        let server = Server::start(&["--data-dir", data_dir]);
        seed_changes(&server.base, &token, 12);
    }
    let checkpoint = changegate(&["audit", "checkpoint", "--data-dir", data_dir]);
    assert!(checkpoint.status.success(), "{}", text(&checkpoint));
    assert!(text(&checkpoint).contains("— changegate-"), "a signed note: {}", text(&checkpoint));

    let verified = changegate(&["audit", "verify", "--data-dir", data_dir]);
    assert!(verified.status.success(), "{}", text(&verified));
    assert!(text(&verified).contains("OK"), "{}", text(&verified));
    assert!(text(&verified).contains("every projection is the fold of the events"), "{}", text(&verified));

    let proof = changegate(&["audit", "prove", "--index", "5", "--data-dir", data_dir]);
    assert!(proof.status.success(), "{}", text(&proof));
    let proof: Value = serde_json::from_slice(&proof.stdout).unwrap();
    assert_eq!(proof["index"], 5);
    assert!(!proof["hashes"].as_array().unwrap().is_empty());

    let bundle = directory.path().join("bundle");
    let exported = changegate(&["audit", "export", "--data-dir", data_dir, "--out", bundle.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    let public_key = bundle.join("public-key");
    let offline = |bundle: &Path| {
        changegate(&[
            "audit",
            "verify",
            "--bundle",
            bundle.to_str().unwrap(),
            "--public-key",
            public_key.to_str().unwrap(),
        ])
    };
    let good = offline(&bundle);
    assert!(good.status.success(), "{}", text(&good));

    // Offline: alter one entry, then drop one.
    let entries = std::fs::read_to_string(bundle.join("entries.jsonl")).unwrap();
    let mut lines: Vec<String> = entries.lines().map(str::to_owned).collect();
    let mut entry: Value = serde_json::from_str(&lines[7]).unwrap();
    entry["leaf"] = Value::String(base64_of(b"{\"forged\":true}"));
    lines[7] = entry.to_string();
    std::fs::write(bundle.join("entries.jsonl"), lines.join("\n") + "\n").unwrap();
    let altered = offline(&bundle);
    assert!(!altered.status.success(), "an altered bundle must fail");
    let message = text(&altered);
    let index: u64 = message
        .split("FAILED at index ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("the failure names an index: {message}"));
    assert!(index <= 7, "the named span starts at or before the altered entry 7: {message}");
    assert!(bundle.join("checkpoints").is_dir(), "the bundle carries every checkpoint");
    lines.remove(3);
    std::fs::write(bundle.join("entries.jsonl"), lines.join("\n") + "\n").unwrap();
    let missing = offline(&bundle);
    assert!(!missing.status.success());
    assert!(text(&missing).contains("index 3"), "{}", text(&missing));

    // Online: drop the trigger and alter a stored event, as an attacker with database access would.
    tamper_sqlite(&data.join("changegate.db"));
    let tampered = changegate(&["audit", "verify", "--data-dir", data_dir]);
    assert!(!tampered.status.success(), "{}", text(&tampered));
    assert!(text(&tampered).contains("index 9"), "{}", text(&tampered));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn tamper_sqlite(path: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::raw_sql("DROP TRIGGER events_no_update; UPDATE events SET actor = 'mallory' WHERE sequence = 10;")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
}

#[test]
fn three_instances_on_one_postgres_log_never_fork_it() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(url) = runtime.block_on(changegate_store::testing::fresh_postgres_url()) else { return };
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().to_str().unwrap();
    let token = init(&["--database-url", &url, "--data-dir", data_dir]);
    let key = directory.path().join("ledger-signing-key");
    let key = key.to_str().unwrap();
    let servers: Vec<Server> = (0..3)
        .map(|_| {
            Server::start(&[
                "--database-url",
                &url,
                "--signing-key-file",
                key,
                "--checkpoint-every-events",
                "25",
                "--checkpoint-interval-s",
                "1",
            ])
        })
        .collect();
    let (status, _) = post(
        &servers[0].base,
        &token,
        "/api/v1/services",
        json!({"name": "payments-api", "team": "payments", "tier": 3}),
    );
    assert_eq!(status, 201);
    let workers: Vec<_> = (0..6)
        .map(|worker| {
            let base = servers[worker % 3].base.clone();
            let token = token.clone();
            std::thread::spawn(move || {
                for number in 0..15 {
                    let body = json!({"title": format!("w{worker} c{number}"), "type": "standard", "service": "payments-api", "environment": "production"});
                    let (status, change) = post(&base, &token, "/api/v1/changes", body);
                    assert_eq!(status, 201, "{change}");
                    let id = change["id"].as_str().unwrap().to_owned();
                    let (status, _) = post(&base, &token, &format!("/api/v1/changes/{id}/actions/submit"), json!({}));
                    assert_eq!(status, 200);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    // Let the background signers run at least once more, then stop them.
    std::thread::sleep(Duration::from_millis(1_500));
    drop(servers);

    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let _ = agent;
    let verified = changegate(&["audit", "verify", "--json", "--database-url", &url, "--data-dir", data_dir]);
    assert!(verified.status.success(), "{}", text(&verified));
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["checkpoints_checked"].as_u64().unwrap() >= 1, "the instances signed checkpoints: {report}");
    // 1 admin (2 events) + team + service + 90 changes × (created, submitted, assessed, auto-approved).
    assert_eq!(report["size"], 2 + 2 + 90 * 4, "{report}");
}

#[test]
fn an_offline_bundle_locates_an_altered_entry_between_two_signed_checkpoints() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let data_dir = data.to_str().unwrap();
    let token = init(&["--data-dir", data_dir]);
    {
        let server = Server::start(&["--data-dir", data_dir]);
        seed_changes(&server.base, &token, 4);
    }
    let first = changegate(&["audit", "checkpoint", "--json", "--data-dir", data_dir]);
    assert!(first.status.success(), "{}", text(&first));
    let first_size = serde_json::from_slice::<Value>(&first.stdout).unwrap()["size"].as_u64().unwrap();
    {
        let server = Server::start(&["--data-dir", data_dir]);
        let (status, change) = post(
            &server.base,
            &token,
            "/api/v1/changes",
            json!({"title": "Later", "type": "normal", "service": "payments-api", "environment": "production"}),
        );
        assert_eq!(status, 201, "{change}");
    }
    let bundle = directory.path().join("bundle");
    let exported = changegate(&["audit", "export", "--data-dir", data_dir, "--out", bundle.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", text(&exported));
    let entries = std::fs::read_to_string(bundle.join("entries.jsonl")).unwrap();
    let mut lines: Vec<String> = entries.lines().map(str::to_owned).collect();
    assert!(lines.len() as u64 > first_size, "entries after the first checkpoint");
    let altered = first_size as usize; // the first entry after the first checkpoint
    let mut entry: Value = serde_json::from_str(&lines[altered]).unwrap();
    entry["leaf"] = Value::String(base64_of(b"{\"forged\":true}"));
    lines[altered] = entry.to_string();
    std::fs::write(bundle.join("entries.jsonl"), lines.join("\n") + "\n").unwrap();
    let public_key = bundle.join("public-key");
    let verified = changegate(&[
        "audit",
        "verify",
        "--bundle",
        bundle.to_str().unwrap(),
        "--public-key",
        public_key.to_str().unwrap(),
    ]);
    assert!(!verified.status.success());
    assert!(
        text(&verified).contains(&format!("FAILED at index {first_size}")),
        "the span starts right after the last checkpoint that still verifies: {}",
        text(&verified)
    );
}

/// Regression: `init` with a bad `--signing-key-file` failed after writing the admin user, whose
/// token was never shown, and the next `init` answered 409. It now checks the key first.
#[test]
fn init_with_a_bad_signing_key_writes_nothing_and_a_second_init_succeeds() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let data_dir = data.to_str().unwrap();
    let missing = directory.path().join("no-such-key");
    let refused = changegate(&["init", "--data-dir", data_dir, "--signing-key-file", missing.to_str().unwrap()]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("does not exist"), "{}", text(&refused));
    let garbage = directory.path().join("garbage-key");
    std::fs::write(&garbage, "not a key\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let refused = changegate(&["init", "--data-dir", data_dir, "--signing-key-file", garbage.to_str().unwrap()]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("does not hold a signing key"), "{}", text(&refused));
    // Nothing was written: the next `init` makes the admin and shows its token.
    let token = init(&["--data-dir", data_dir]);
    assert!(token.starts_with("cg_"), "{token}");
}

/// Several instances may share one store: one started with another signing key must not start
/// (it would accept writes and then fail every checkpoint), and must name the key the log has.
#[test]
fn serve_refuses_a_signing_key_other_than_the_logs() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("data");
    let data_dir = data.to_str().unwrap();
    init(&["--data-dir", data_dir]);
    let signed = changegate(&["audit", "checkpoint", "--data-dir", data_dir]);
    assert!(signed.status.success(), "{}", text(&signed));
    let log_key = std::fs::read_to_string(data.join("ledger-signing-key")).unwrap();
    let other = directory.path().join("other");
    init(&["--data-dir", other.to_str().unwrap()]);
    let other_key = other.join("ledger-signing-key");
    let refused = changegate(&[
        "serve",
        "--data-dir",
        data_dir,
        "--signing-key-file",
        other_key.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!refused.status.success(), "{}", text(&refused));
    let log_key_name = log_key.trim().split('+').nth(2).unwrap();
    assert!(text(&refused).contains(log_key_name), "names the log's key {log_key_name}: {}", text(&refused));
}
