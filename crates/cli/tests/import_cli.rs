//! `changegate import` through the real binary on a local store: a good import and its report,
//! bad rows (exit 2, listed with the file's path and line, nothing written), `--skip-bad`, and
//! an idempotent re-import.

mod common;

use common::{changegate, init, text};
use serde_json::Value;

const CHANGES: &str = "id,title,type,service,team,environment,requester,created_at,outcome,started_at,completed_at\n\
SN-1,Rotate certificates,normal,billing,finance,production,alice,2025-03-01T09:00:00Z,success,2025-03-01T10:00:00Z,2025-03-01T10:30:00Z\n\
SN-2,Tune the pool,emergency,billing,finance,production,bob,2025-03-02T09:00:00Z,failed,2025-03-02T09:05:00Z,\n";
const INCIDENTS: &str = "id,service,severity,detected_at,caused_by\nPD-1,billing,1,2025-03-02T09:30:00Z,SN-2\n";
const BAD_CHANGES: &str = "id,title,type,service,team,environment,requester,created_at\n\
SN-7,Fine,normal,billing,finance,production,alice,2025-03-01T09:00:00Z\n\
SN-8,Broken,normal,billing,finance,production,alice,2025-13-01T09:00:00Z\n\
SN-9,Also broken,major,billing,finance,production,alice,2025-03-01T09:00:00Z\n";

fn import(data_dir: &str, arguments: &[&str]) -> std::process::Output {
    let mut all = vec!["import", "--data-dir", data_dir];
    all.extend_from_slice(arguments);
    changegate(&all)
}

fn report(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{error}: {}", text(output)))
}

#[test]
fn import_brings_history_in_once() {
    // Given an initialised store and two files
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("store");
    let data_dir = data_dir.to_str().unwrap();
    init(&["--data-dir", data_dir]);
    let changes = data.path().join("changes.csv");
    let incidents = data.path().join("incidents.csv");
    std::fs::write(&changes, CHANGES).unwrap();
    std::fs::write(&incidents, INCIDENTS).unwrap();
    let files = ["--changes", changes.to_str().unwrap(), "--incidents", incidents.to_str().unwrap()];

    // When they are imported
    let output = import(data_dir, &files);

    // Then the summary says what came in
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Imported 2 changes and 1 incidents"), "{stdout}");
    assert!(stdout.contains("New teams (1): finance"), "{stdout}");
    assert!(stdout.contains("New services (1, tier 3"), "{stdout}");

    // And importing again (as JSON) creates nothing
    let mut again = vec!["--json"];
    again.extend_from_slice(&files);
    let output = import(data_dir, &again);
    assert!(output.status.success(), "{}", text(&output));
    let second = report(&output);
    assert_eq!((second["changes_created"].as_u64(), second["incidents_created"].as_u64()), (Some(0), Some(0)));
    assert_eq!(second["skipped_existing"], 3);
    assert_eq!(second["events_appended"], 0);
}

#[test]
fn bad_rows_exit_2_with_their_lines_and_nothing_is_written() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("store");
    let data_dir = data_dir.to_str().unwrap();
    let changes = data.path().join("changes.csv");
    std::fs::write(&changes, BAD_CHANGES).unwrap();
    let path = changes.to_str().unwrap();

    // When the file has bad rows
    let output = import(data_dir, &["--changes", path]);

    // Then the exit code is 2 and each bad row is named by path, line and column
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2 bad rows"), "{stderr}");
    assert!(
        stderr.contains(&format!("{path}:3: column created_at: `2025-13-01T09:00:00Z` is not an RFC 3339 time")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{path}:4: column type: `major` is not one of: standard, normal, emergency")),
        "{stderr}"
    );
    assert!(stderr.contains("--skip-bad"), "{stderr}");

    // And nothing was written: the JSON report says so, and a later --skip-bad run creates the
    // good row (it would be skipped had the first run written it)
    let output = import(data_dir, &["--json", "--changes", path]);
    assert_eq!(output.status.code(), Some(2));
    let refused = report(&output);
    assert_eq!(refused["rejected"], true);
    assert_eq!(refused["problems"][0]["line"], 3);
    assert_eq!(refused["problems"][0]["kind"], "bad_time");
    let output = import(data_dir, &["--json", "--skip-bad", "--changes", path]);
    assert!(output.status.success(), "{}", text(&output));
    let imported = report(&output);
    assert_eq!((imported["changes_created"].as_u64(), imported["bad_rows"].as_u64()), (Some(1), Some(2)));
    assert_eq!(imported["skipped_existing"], 0);
}

#[test]
fn a_missing_file_is_a_plain_failure() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("store");
    let output = import(data_dir.to_str().unwrap(), &["--changes", "/nonexistent/changes.csv"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("reading /nonexistent/changes.csv"), "{}", text(&output));
}
