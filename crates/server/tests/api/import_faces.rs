//! The history import's HTTP faces over real HTTP: `POST /api/v1/import` (report, 422 with the
//! bad rows, admins only, its own body limit, in the OpenAPI document) and the `/import` page
//! (the form for admins, the report or the bad rows, CSRF, refusals recorded). The server runs on
//! a background runtime; the test drives it with blocking `ureq`.

use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

const CHANGES: &str = "id,title,type,service,team,environment,requester,created_at,outcome,started_at,completed_at\n\
SN-1,Rotate certificates,normal,billing,finance,production,alice,2025-03-01T09:00:00Z,success,2025-03-01T10:00:00Z,2025-03-01T10:30:00Z\n\
SN-2,Tune the pool,standard,payments-api,payments,production,bob,2025-03-02T09:00:00Z,,,\n";
const INCIDENTS: &str = "id,service,severity,detected_at,caused_by\nPD-1,billing,2,2025-03-01T11:00:00Z,SN-1\n";
const BAD_CHANGES: &str = "id,title,type,service,team,environment,requester,created_at\n\
SN-1,Fine,normal,billing,finance,production,alice,2025-03-01T09:00:00Z\n\
SN-2,Broken,normal,billing,finance,production,alice,last tuesday\n";

fn last_event_type(app: &TestApp) -> String {
    app.block_on(app.store().recent_events(1)).unwrap()[0].event_type.clone()
}

#[test]
fn the_api_imports_and_reports() {
    let app = spawn_app();
    let before = app.event_count();
    // When an admin imports two changes and an incident
    let reply =
        app.post("/api/v1/import", &app.admin.token, json!({"changes_csv": CHANGES, "incidents_csv": INCIDENTS}));
    // Then the report says what was written, and the ledger grew by exactly that
    assert_eq!(reply.status, 200, "{}", reply.text);
    let report = reply.body;
    assert_eq!(report["changes_created"], 2);
    assert_eq!(report["incidents_created"], 1);
    assert_eq!(report["new_teams"], json!(["finance"]));
    assert_eq!(report["new_services"], json!(["billing"]));
    assert_eq!(report["events_appended"], 5);
    assert_eq!(app.event_count(), before + 5);
    let change = app.block_on(app.store().change_by_external_id("SN-1")).unwrap().unwrap();
    assert!(change.imported);
    // And the same body again creates nothing
    let again =
        app.post("/api/v1/import", &app.admin.token, json!({"changes_csv": CHANGES, "incidents_csv": INCIDENTS})).body;
    assert_eq!((again["changes_created"].as_u64(), again["skipped_existing"].as_u64()), (Some(0), Some(3)));
    assert_eq!(app.event_count(), before + 5);
}

#[test]
fn the_api_answers_bad_rows_with_422_and_writes_nothing() {
    let app = spawn_app();
    let before = app.event_count();
    let reply = app.post("/api/v1/import", &app.admin.token, json!({"changes_csv": BAD_CHANGES}));
    assert_eq!(reply.status, 422, "{}", reply.text);
    let body = reply.body;
    assert_eq!(body["error"]["code"], "bad_rows");
    assert!(body["error"]["message"].as_str().unwrap().contains("1 bad row"), "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "changes.csv:3:created_at");
    let problem = &body["report"]["problems"][0];
    assert_eq!((problem["line"].as_u64(), problem["kind"].as_str()), (Some(3), Some("bad_time")));
    assert_eq!(body["report"]["rejected"], true);
    assert_eq!(app.event_count(), before);
    // With skip_bad the good row goes in
    let skipped = app.post("/api/v1/import", &app.admin.token, json!({"changes_csv": BAD_CHANGES, "skip_bad": true}));
    assert_eq!(skipped.status, 200, "{}", skipped.text);
    assert_eq!((skipped.body["changes_created"].as_u64(), skipped.body["bad_rows"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn the_api_refuses_non_admins_and_malformed_requests() {
    let app = spawn_app();
    let before = app.event_count();
    // A requester is refused, and the refusal is recorded
    let refused = app.post("/api/v1/import", &app.alice.token, json!({"changes_csv": CHANGES}));
    assert_eq!((refused.status, refused.body["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.event_count(), before + 1);
    assert_eq!(last_event_type(&app), "access_denied");
    // No token, no JSON, unknown fields, neither file: clear errors, nothing written
    let body = json!({"changes_csv": CHANGES}).to_string();
    assert_eq!(app.post_raw("/api/v1/import", None, Some("application/json"), body.as_bytes(), None).status, 401);
    assert_eq!(
        app.post_raw("/api/v1/import", Some(&app.admin.token), Some("text/csv"), CHANGES.as_bytes(), None).status,
        415
    );
    let unknown = app.post("/api/v1/import", &app.admin.token, json!({"changes": CHANGES}));
    assert_eq!((unknown.status, unknown.body["error"]["code"].as_str()), (422, Some("validation_failed")));
    let empty = app.post("/api/v1/import", &app.admin.token, json!({}));
    assert_eq!((empty.status, empty.body["error"]["code"].as_str()), (422, Some("validation_failed")));
    assert_eq!(app.event_count(), before + 1);
}

#[test]
fn the_api_takes_bodies_beyond_the_usual_limit_and_is_documented() {
    let app = spawn_app();
    // Given about 1 MiB of CSV, four times the limit of other endpoints
    let mut changes = String::from("id,title,type,service,team,environment,requester,created_at\n");
    for number in 0..8_000 {
        changes.push_str(&format!(
            "BULK-{number:05},A change with a reasonably long title number {number},standard,payments-api,payments,production,alice,2025-01-01T00:00:00Z\n"
        ));
    }
    assert!(changes.len() > changegate_server::BODY_SIZE_MAX_BYTES * 2);
    let reply = app.post("/api/v1/import", &app.admin.token, json!({"changes_csv": changes}));
    assert_eq!(reply.status, 200, "{}", &reply.text[..reply.text.len().min(400)]);
    assert_eq!(reply.body["changes_created"], 8_000);
    // And the endpoint is in the OpenAPI document
    let document = app.get("/api/openapi.json", None).body;
    let operation = &document["paths"]["/api/v1/import"]["post"];
    assert!(operation["responses"]["422"].is_object(), "{operation}");
    assert!(document["components"]["schemas"]["ImportReportView"].is_object());
}

#[test]
fn the_page_imports_for_admins() {
    let app = spawn_app();
    // The admin sees the page in the navigation and its form
    let page = app.with_session_cookie(&app.admin).get("/import");
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"href="/import""#) && page.text.contains(r#"id="import-form""#), "{}", page.text);
    // When they paste the files
    let csrf = changegate_server::web::csrf_token(&app.admin.token);
    let reply = app
        .with_session_cookie(&app.admin)
        .post("/import", &[("csrf", &csrf), ("changes_csv", CHANGES), ("incidents_csv", INCIDENTS)]);
    // Then the report shows what was created
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.text.contains(r#"<span id="report-changes-created">2</span>"#), "{}", reply.text);
    assert!(reply.text.contains(r#"<span id="report-incidents-created">1</span>"#), "{}", reply.text);
    assert!(app.block_on(app.store().incident_by_external_id("PD-1")).unwrap().is_some());
}

#[test]
fn the_page_lists_bad_rows_keeps_the_text_and_writes_nothing() {
    let app = spawn_app();
    let before = app.event_count();
    let csrf = changegate_server::web::csrf_token(&app.admin.token);
    let reply = app
        .with_session_cookie(&app.admin)
        .post("/import", &[("csrf", &csrf), ("changes_csv", BAD_CHANGES), ("incidents_csv", "")]);
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(reply.text.contains(r#"data-line="3" data-kind="bad_time""#), "{}", reply.text);
    assert!(reply.text.contains("`last tuesday` is not an RFC 3339 time"), "{}", reply.text);
    assert!(reply.text.contains("SN-2,Broken,normal"), "the text is kept for correcting: {}", reply.text);
    assert_eq!(app.event_count(), before);
    // Without the CSRF value nothing happens either
    let forged = app.with_session_cookie(&app.admin).post("/import", &[("changes_csv", CHANGES)]);
    assert_eq!(forged.status, 403);
    assert_eq!(app.event_count(), before);
}

#[test]
fn the_page_is_for_admins_only() {
    let app = spawn_app();
    let page = app.with_session_cookie(&app.alice).get("/import");
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"id="import-admin-only""#) && !page.text.contains(r#"id="import-form""#));
    assert!(!page.text.contains(r#"href="/import""#), "no navigation link for non-admins");
    // A post from a requester (with a valid CSRF value) is refused by the service and recorded
    let before = app.event_count();
    let csrf = changegate_server::web::csrf_token(&app.alice.token);
    let refused = app.with_session_cookie(&app.alice).post("/import", &[("csrf", &csrf), ("changes_csv", CHANGES)]);
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(app.event_count(), before + 1);
    assert_eq!(last_event_type(&app), "access_denied");
}

/// Regression: the 422 of `POST /api/v1/import` was documented with a required `report` that a
/// refusal other than bad rows (no file given) does not carry.
#[test]
fn a_refusal_without_bad_rows_matches_the_documented_422() {
    let app = spawn_app();
    let reply = app.post("/api/v1/import", &app.admin.token, json!({}));
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(reply.body["error"]["code"].is_string(), "{}", reply.text);
    assert!(reply.body.get("report").is_none(), "{}", reply.text);
    let document = app.get("/api/openapi.json", None).body;
    let schema = &document["components"]["schemas"]["ImportRejectedBody"];
    let required: Vec<&str> =
        schema["required"].as_array().unwrap().iter().map(|name| name.as_str().unwrap()).collect();
    assert_eq!(required, ["error"], "{schema}");
    let bad = app.post("/api/v1/import", &app.admin.token, json!({"changes_csv": BAD_CHANGES}));
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["report"]["rejected"], true, "bad rows still carry the report");
}
