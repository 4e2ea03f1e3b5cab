//! `changegate assess` through the real binary, on a store that holds only an imported history
//! (no server running): the questionnaire, the JSON assessment, an answers file used for one run,
//! answers recorded interactively with who answered, the Markdown and HTML reports, and bad input.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use changegate_core::{CreatedBy, DomainEvent, ImportedChange, RiskClass, StreamId, Timestamp};
use common::{BINARY, changegate, init, text};
use serde_json::Value;

use changegate_core::civil::DAY_MS;
use changegate_core::testing::imported_change;

/// A change imported from Jira, created `2 + 2 × number` days before `now`, by a pipeline.
fn imported(number: u32, now: Timestamp) -> ImportedChange {
    let created = now.plus_ms(-(2 + i64::from(number) * 2) * DAY_MS);
    ImportedChange {
        external_id: format!("JIRA-{number}"),
        risk_class: Some(RiskClass::Medium),
        test_evidence: Some(true),
        security_evidence: Some(number.is_multiple_of(2)),
        created_by: Some(CreatedBy::Pipeline),
        ..imported_change(number, created)
    }
}

/// A store with 30 imported changes and carol, who holds the cab role.
fn imported_store(data_dir: &str) {
    init(&["--data-dir", data_dir]);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let location = changegate_store::StoreLocation::DataDir(data_dir.into());
        let store = changegate_store::Store::open(&location).await.unwrap();
        let service =
            changegate_service::Service::new(store.clone(), std::sync::Arc::new(changegate_service::SystemClock));
        let carol = changegate_service::NewUser { name: "carol".into(), roles: vec!["cab".into()], team: None };
        service.add_user_locally(&carol).await.unwrap();
        let now = service.now();
        store
            .write(async |tx| -> Result<(), changegate_store::StoreError> {
                for number in 0..30 {
                    let id = tx.next_change_id().await?;
                    let event = DomainEvent::ChangeImported { id, change: imported(number, now) };
                    tx.append(&StreamId::Change(id), "importer", now, &event).await?;
                }
                Ok(())
            })
            .await
            .unwrap();
        store.close().await;
    });
}

fn json_of(arguments: &[&str]) -> Value {
    let output = changegate(arguments);
    assert!(output.status.success(), "{arguments:?}: {}", text(&output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{error}: {}", text(&output)))
}

fn criterion<'a>(assessment: &'a Value, id: &str) -> &'a Value {
    assessment["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|dimension| dimension["criteria"].as_array().unwrap())
        .find(|criterion| criterion["id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn an_imported_history_is_assessed_from_the_store_with_answers_and_reports() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    imported_store(data_dir);

    // The questionnaire, in the documented shape.
    let questions = json_of(&["assess", "--questions", "--json", "--data-dir", data_dir]);
    let questions = questions.as_array().unwrap();
    assert_eq!(questions.len(), 6);
    for question in questions {
        let keys: Vec<&String> = question.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["dimension", "id", "level", "text"]);
    }

    // The assessment: every deployment imported, the documented JSON shape.
    let assessment = json_of(&["assess", "--json", "--data-dir", data_dir]);
    assert_eq!(assessment["deployments"], 30);
    assert_eq!(assessment["imported_deployments"], 30);
    assert!(assessment["overall_level"].as_u64().unwrap() >= 1);
    let names: Vec<&str> =
        assessment["dimensions"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["process", "risk_management", "metrics", "automation", "audit_compliance"]);
    assert!(assessment.get("trend").is_none(), "plain --json is the assessment alone");
    let security = criterion(&assessment, "risk.security-evidence");
    assert_eq!(security["value"], 0.5);
    assert_eq!(security["met"], false);
    assert!(!assessment["roadmap"].as_array().unwrap().is_empty());

    // An answers file is used for this run only.
    let file = data.path().join("answers.json");
    std::fs::write(&file, r#"{"process.documented": true, "process.roles-published": true}"#).unwrap();
    let with_file = json_of(&["assess", "--json", "--data-dir", data_dir, "--answers", file.to_str().unwrap()]);
    let documented = criterion(&with_file, "process.documented");
    assert_eq!(documented["met"], true);
    assert!(documented["evidence"]["summary"].as_str().unwrap().contains("not recorded"));
    let again = json_of(&["assess", "--json", "--data-dir", data_dir]);
    assert_eq!(criterion(&again, "process.documented")["met"], false, "the file's answers were not recorded");

    // A bad answers file, a bad date, and recording without saying who: clear errors.
    std::fs::write(&file, r#"{"process.vibes": true}"#).unwrap();
    let output = changegate(&["assess", "--json", "--data-dir", data_dir, "--answers", file.to_str().unwrap()]);
    assert!(!output.status.success());
    let error: Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(error["error"]["code"], "validation_failed", "{error}");
    std::fs::write(&file, "[true]").unwrap();
    let output = changegate(&["assess", "--data-dir", data_dir, "--answers", file.to_str().unwrap()]);
    assert!(text(&output).contains("is not an answers file"), "{}", text(&output));
    let output = changegate(&["assess", "--data-dir", data_dir, "--from", "2026-13-01"]);
    assert!(text(&output).contains("--from `2026-13-01` is not a date"), "{}", text(&output));
    let output = changegate(&["assess", "--data-dir", data_dir, "--interactive"]);
    assert!(text(&output).contains("needs --answered-by"), "{}", text(&output));

    // Interactive answers are recorded with who answered; Enter skips a question.
    let mut child = Command::new(BINARY)
        .args(["assess", "--json", "--interactive", "--answered-by", "carol", "--data-dir", data_dir])
        .env_remove("CHANGEGATE_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"y\nmaybe\nn\n\n\n\n\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Answer y or n"));
    let answered: Value = serde_json::from_slice(&output.stdout).unwrap();
    let documented = criterion(&answered, "process.documented");
    assert_eq!(documented["met"], true);
    assert!(documented["evidence"]["summary"].as_str().unwrap().contains("by carol"), "{documented}");
    assert_eq!(criterion(&answered, "process.roles-published")["met"], false);
    assert_eq!(answered["unanswered_questions"].as_array().unwrap().len(), 4);

    // Reports: Markdown on standard output, HTML in one self-contained file, the trend with --months.
    let output = changegate(&["assess", "--markdown", "--data-dir", data_dir, "--months", "3"]);
    assert!(output.status.success(), "{}", text(&output));
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(markdown.starts_with("# Change management maturity"));
    assert!(markdown.contains("## Roadmap") && markdown.contains("## Trend"));
    let html = data.path().join("maturity.html");
    let output = changegate(&["assess", "--data-dir", data_dir, "--html", html.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("<svg") && page.contains("<style>"));
    assert!(!page.contains("<link") && !page.contains("<script"), "self-contained");
    let with_trend = json_of(&["assess", "--json", "--months", "2", "--data-dir", data_dir]);
    assert_eq!(with_trend["trend"].as_array().unwrap().len(), 2);
    let output = changegate(&["assess", "--data-dir", data_dir]);
    assert!(text(&output).contains("Overall level"), "{}", text(&output));
    assert!(text(&output).contains("Roadmap"));
}

#[test]
fn through_a_server_the_assessment_is_the_same_and_answers_are_recorded_as_the_token_user() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    imported_store(data_dir);
    let admin = {
        // `init` ran in imported_store; a second admin token comes from `user add`.
        let output =
            changegate(&["user", "add", "--json", "--data-dir", data_dir, "--name", "ada", "--roles", "admin"]);
        assert!(output.status.success(), "{}", text(&output));
        let created: Value = serde_json::from_slice(&output.stdout).unwrap();
        created["token"].as_str().unwrap().to_owned()
    };
    let local = json_of(&["assess", "--json", "--data-dir", data_dir]);
    let server = common::Server::start(&["--data-dir", data_dir]);
    let base = server.base.as_str();

    // The same assessment (bar the time it was made) through the API.
    let remote = json_of(&["assess", "--json", "--server", base, "--token", &admin]);
    assert_eq!(remote["dimensions"], local["dimensions"]);
    assert_eq!(remote["roadmap"], local["roadmap"]);
    let questions = json_of(&["assess", "--questions", "--json", "--server", base, "--token", &admin]);
    assert_eq!(questions.as_array().unwrap().len(), 6);

    // An answers file is recorded only when asked, as the token's user.
    let file = data.path().join("answers.json");
    std::fs::write(&file, r#"{"audit.compliance-monitored": true}"#).unwrap();
    let output = changegate(&["assess", "--server", base, "--token", &admin, "--answers", file.to_str().unwrap()]);
    assert!(text(&output).contains("add --record"), "{}", text(&output));
    let recorded = json_of(&[
        "assess",
        "--json",
        "--server",
        base,
        "--token",
        &admin,
        "--answers",
        file.to_str().unwrap(),
        "--record",
    ]);
    let monitored = criterion(&recorded, "audit.compliance-monitored");
    assert_eq!(monitored["met"], true);
    assert!(monitored["evidence"]["summary"].as_str().unwrap().contains("by ada"), "{monitored}");
    // The reports render from the server's JSON too.
    let output = changegate(&["assess", "--markdown", "--months", "2", "--server", base, "--token", &admin]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("## Trend"));
    // Bad input through the server keeps the API's code.
    let output = changegate(&[
        "assess",
        "--json",
        "--server",
        base,
        "--token",
        &admin,
        "--from",
        "2026-02-01",
        "--to",
        "2026-01-01",
    ]);
    let error: Value = serde_json::from_slice(&output.stderr).unwrap();
    assert_eq!(error["error"]["code"], "validation_failed");
}
