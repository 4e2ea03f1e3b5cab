//! The history import's HTTP faces over real HTTP: `POST /api/v1/import` (report, 422 with the
//! bad rows, admins only, its own body limit, in the OpenAPI document) and the `/import` page
//! (the form for admins, the report or the bad rows, CSRF, refusals recorded). The server runs on
//! a background runtime; the test drives it with blocking `ureq`.

use std::future::Future;

use changegate_service::{CreatedUser, NewService, NewUser, Service, SystemClock};
use serde_json::{Value, json};

const CHANGES: &str = "id,title,type,service,team,environment,requester,created_at,outcome,started_at,completed_at\n\
SN-1,Rotate certificates,normal,billing,finance,production,alice,2025-03-01T09:00:00Z,success,2025-03-01T10:00:00Z,2025-03-01T10:30:00Z\n\
SN-2,Tune the pool,standard,payments-api,payments,production,bob,2025-03-02T09:00:00Z,,,\n";
const INCIDENTS: &str = "id,service,severity,detected_at,caused_by\nPD-1,billing,2,2025-03-01T11:00:00Z,SN-1\n";
const BAD_CHANGES: &str = "id,title,type,service,team,environment,requester,created_at\n\
SN-1,Fine,normal,billing,finance,production,alice,2025-03-01T09:00:00Z\n\
SN-2,Broken,normal,billing,finance,production,alice,last tuesday\n";

struct TestApp {
    runtime: tokio::runtime::Runtime,
    base: String,
    service: Service,
    admin: CreatedUser,
    alice: CreatedUser,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }
}

impl TestApp {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        let (service, admin, alice, address) = runtime.block_on(async move {
            let store =
                changegate_store::Store::open(&changegate_store::StoreLocation::DataDir(data_dir)).await.unwrap();
            let service = Service::new(store, std::sync::Arc::new(SystemClock));
            let admin = service.bootstrap_admin("admin").await.unwrap();
            let alice = service
                .add_user_locally(&NewUser { name: "alice".into(), roles: vec!["requester".into()], team: None })
                .await
                .unwrap();
            let caller = changegate_service::Caller { user: admin.user.clone() };
            let payments =
                NewService { name: "payments-api".into(), team: "payments".into(), tier: 2, ..NewService::default() };
            service.register_service(&caller, payments, None).await.unwrap();
            let config =
                changegate_server::ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
            let app = changegate_server::Application::build(service.clone(), config).await.unwrap();
            let address = app.local_addr();
            tokio::spawn(app.run_until(std::future::pending()));
            (service, admin, alice, address)
        });
        let agent = ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into();
        TestApp { runtime, base: format!("http://{address}"), service, admin, alice, agent, _dir: dir }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn event_count(&self) -> u64 {
        self.block_on(self.service.store().event_count()).unwrap()
    }

    fn last_event_type(&self) -> String {
        self.block_on(self.service.store().recent_events(1)).unwrap()[0].event_type.clone()
    }

    fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("the server answers");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply { status, body }
    }

    fn post_api(&self, token: Option<&str>, content_type: &str, body: &[u8]) -> Reply {
        let mut request = self.agent.post(format!("{}/api/v1/import", self.base)).header("Content-Type", content_type);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Self::read(request.send(body))
    }

    fn import_api(&self, token: &str, body: Value) -> Reply {
        self.post_api(Some(token), "application/json", body.to_string().as_bytes())
    }

    fn get_page(&self, user: &CreatedUser, path: &str) -> Reply {
        let request = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("changegate_session={}", user.token));
        Self::read(request.call())
    }

    fn post_page(&self, user: &CreatedUser, fields: &[(&str, &str)]) -> Reply {
        let request = self
            .agent
            .post(format!("{}/import", self.base))
            .header("cookie", format!("changegate_session={}", user.token));
        Self::read(request.send_form(fields.iter().copied()))
    }
}

#[test]
fn the_api_imports_and_reports() {
    let app = TestApp::start();
    let before = app.event_count();
    // When an admin imports two changes and an incident
    let reply = app.import_api(&app.admin.token, json!({"changes_csv": CHANGES, "incidents_csv": INCIDENTS}));
    // Then the report says what was written, and the ledger grew by exactly that
    assert_eq!(reply.status, 200, "{}", reply.body);
    let report = reply.json();
    assert_eq!(report["changes_created"], 2);
    assert_eq!(report["incidents_created"], 1);
    assert_eq!(report["new_teams"], json!(["finance"]));
    assert_eq!(report["new_services"], json!(["billing"]));
    assert_eq!(report["events_appended"], 5);
    assert_eq!(app.event_count(), before + 5);
    let change = app.block_on(app.service.store().change_by_external_id("SN-1")).unwrap().unwrap();
    assert!(change.imported);
    // And the same body again creates nothing
    let again = app.import_api(&app.admin.token, json!({"changes_csv": CHANGES, "incidents_csv": INCIDENTS})).json();
    assert_eq!((again["changes_created"].as_u64(), again["skipped_existing"].as_u64()), (Some(0), Some(3)));
    assert_eq!(app.event_count(), before + 5);
}

#[test]
fn the_api_answers_bad_rows_with_422_and_writes_nothing() {
    let app = TestApp::start();
    let before = app.event_count();
    let reply = app.import_api(&app.admin.token, json!({"changes_csv": BAD_CHANGES}));
    assert_eq!(reply.status, 422, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"]["code"], "bad_rows");
    assert!(body["error"]["message"].as_str().unwrap().contains("1 bad row"), "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "changes.csv:3:created_at");
    let problem = &body["report"]["problems"][0];
    assert_eq!((problem["line"].as_u64(), problem["kind"].as_str()), (Some(3), Some("bad_time")));
    assert_eq!(body["report"]["rejected"], true);
    assert_eq!(app.event_count(), before);
    // With skip_bad the good row goes in
    let skipped = app.import_api(&app.admin.token, json!({"changes_csv": BAD_CHANGES, "skip_bad": true}));
    assert_eq!(skipped.status, 200, "{}", skipped.body);
    assert_eq!((skipped.json()["changes_created"].as_u64(), skipped.json()["bad_rows"].as_u64()), (Some(1), Some(1)));
}

#[test]
fn the_api_refuses_non_admins_and_malformed_requests() {
    let app = TestApp::start();
    let before = app.event_count();
    // A requester is refused, and the refusal is recorded
    let refused = app.import_api(&app.alice.token, json!({"changes_csv": CHANGES}));
    assert_eq!((refused.status, refused.json()["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(app.event_count(), before + 1);
    assert_eq!(app.last_event_type(), "access_denied");
    // No token, no JSON, unknown fields, neither file: clear errors, nothing written
    let body = json!({"changes_csv": CHANGES}).to_string();
    assert_eq!(app.post_api(None, "application/json", body.as_bytes()).status, 401);
    assert_eq!(app.post_api(Some(&app.admin.token), "text/csv", CHANGES.as_bytes()).status, 415);
    let unknown = app.import_api(&app.admin.token, json!({"changes": CHANGES}));
    assert_eq!((unknown.status, unknown.json()["error"]["code"].as_str()), (422, Some("validation_failed")));
    let empty = app.import_api(&app.admin.token, json!({}));
    assert_eq!((empty.status, empty.json()["error"]["code"].as_str()), (422, Some("validation_failed")));
    assert_eq!(app.event_count(), before + 1);
}

#[test]
fn the_api_takes_bodies_beyond_the_usual_limit_and_is_documented() {
    let app = TestApp::start();
    // Given about 1 MiB of CSV, four times the limit of other endpoints
    let mut changes = String::from("id,title,type,service,team,environment,requester,created_at\n");
    for number in 0..8_000 {
        changes.push_str(&format!(
            "BULK-{number:05},A change with a reasonably long title number {number},standard,payments-api,payments,production,alice,2025-01-01T00:00:00Z\n"
        ));
    }
    assert!(changes.len() > changegate_server::BODY_SIZE_MAX_BYTES * 2);
    let reply = app.import_api(&app.admin.token, json!({"changes_csv": changes}));
    assert_eq!(reply.status, 200, "{}", &reply.body[..reply.body.len().min(400)]);
    assert_eq!(reply.json()["changes_created"], 8_000);
    // And the endpoint is in the OpenAPI document
    let document = TestApp::read(app.agent.get(format!("{}/api/openapi.json", app.base)).call()).json();
    let operation = &document["paths"]["/api/v1/import"]["post"];
    assert!(operation["responses"]["422"].is_object(), "{operation}");
    assert!(document["components"]["schemas"]["ImportReportView"].is_object());
}

#[test]
fn the_page_imports_for_admins() {
    let app = TestApp::start();
    // The admin sees the page in the navigation and its form
    let page = app.get_page(&app.admin, "/import");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"href="/import""#) && page.body.contains(r#"id="import-form""#), "{}", page.body);
    // When they paste the files
    let csrf = changegate_server::web::csrf_token(&app.admin.token);
    let reply = app.post_page(&app.admin, &[("csrf", &csrf), ("changes_csv", CHANGES), ("incidents_csv", INCIDENTS)]);
    // Then the report shows what was created
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains(r#"<span id="report-changes-created">2</span>"#), "{}", reply.body);
    assert!(reply.body.contains(r#"<span id="report-incidents-created">1</span>"#), "{}", reply.body);
    assert!(app.block_on(app.service.store().incident_by_external_id("PD-1")).unwrap().is_some());
}

#[test]
fn the_page_lists_bad_rows_keeps_the_text_and_writes_nothing() {
    let app = TestApp::start();
    let before = app.event_count();
    let csrf = changegate_server::web::csrf_token(&app.admin.token);
    let reply = app.post_page(&app.admin, &[("csrf", &csrf), ("changes_csv", BAD_CHANGES), ("incidents_csv", "")]);
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains(r#"data-line="3" data-kind="bad_time""#), "{}", reply.body);
    assert!(reply.body.contains("`last tuesday` is not an RFC 3339 time"), "{}", reply.body);
    assert!(reply.body.contains("SN-2,Broken,normal"), "the text is kept for correcting: {}", reply.body);
    assert_eq!(app.event_count(), before);
    // Without the CSRF value nothing happens either
    let forged = app.post_page(&app.admin, &[("changes_csv", CHANGES)]);
    assert_eq!(forged.status, 403);
    assert_eq!(app.event_count(), before);
}

#[test]
fn the_page_is_for_admins_only() {
    let app = TestApp::start();
    let page = app.get_page(&app.alice, "/import");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"id="import-admin-only""#) && !page.body.contains(r#"id="import-form""#));
    assert!(!page.body.contains(r#"href="/import""#), "no navigation link for non-admins");
    // A post from a requester (with a valid CSRF value) is refused by the service and recorded
    let before = app.event_count();
    let csrf = changegate_server::web::csrf_token(&app.alice.token);
    let refused = app.post_page(&app.alice, &[("csrf", &csrf), ("changes_csv", CHANGES)]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(app.event_count(), before + 1);
    assert_eq!(app.last_event_type(), "access_denied");
}
