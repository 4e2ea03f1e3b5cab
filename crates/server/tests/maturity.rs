//! The maturity faces over real HTTP: the API (assessment, questions, answers, trend, its errors
//! and the OpenAPI document) and the `/maturity` page (radar chart, criteria with links to the
//! sample changes, roadmap, trend, the questionnaire form with CSRF). The server runs on a
//! background runtime over a fresh SQLite store holding an imported history; the test drives it
//! with blocking `ureq`.

use changegate_core::{
    ApprovalMode, ChangeType, CreatedBy, DomainEvent, ImportedChange, ImportedOutcome, Name, RiskClass, StreamId,
    Timestamp,
};
use changegate_service::{CreatedUser, NewUser, Service, SystemClock};
use serde_json::{Value, json};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

struct TestApp {
    runtime: tokio::runtime::Runtime,
    base: String,
    service: Service,
    admin: CreatedUser,
    alice: CreatedUser,
    _dir: tempfile::TempDir,
}

/// A change imported from another system, deployed `days_ago` days before `now`.
fn imported(number: u32, now: Timestamp) -> ImportedChange {
    let name = |text: &str| Name::parse(text).unwrap();
    let created = now.plus_ms(-(2 + i64::from(number) * 3) * DAY_MS);
    ImportedChange {
        external_id: format!("SNOW-{number}"),
        title: format!("Imported change {number}"),
        change_type: ChangeType::Normal,
        service: name("payments-api"),
        team: name("payments"),
        environment: name("production"),
        requester: name("alice"),
        created_at: created,
        submitted_at: Some(created.plus_ms(HOUR_MS)),
        risk_class: (!number.is_multiple_of(4)).then_some(RiskClass::Medium),
        risk_score: None,
        approved_at: Some(created.plus_ms(2 * HOUR_MS)),
        approvers: vec![name("bob")],
        approval_mode: Some(ApprovalMode::Manual),
        started_at: Some(created.plus_ms(3 * HOUR_MS)),
        completed_at: Some(created.plus_ms(4 * HOUR_MS)),
        outcome: Some(ImportedOutcome::Success),
        rollback_plan: Some(true),
        test_evidence: Some(true),
        security_evidence: None,
        created_by: Some(CreatedBy::Manual),
        pir_done: None,
        root_cause: None,
        rollback_automated: None,
        commit_time: None,
    }
}

impl TestApp {
    /// An admin, alice (requester), the tier-1 service `payments-api` and 20 imported changes.
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        let (service, admin, alice, address) = runtime.block_on(async move {
            let store =
                changegate_store::Store::open(&changegate_store::StoreLocation::DataDir(data_dir)).await.unwrap();
            let service = Service::new(store, std::sync::Arc::new(SystemClock));
            let admin = service.bootstrap_admin("admin").await.unwrap();
            let user = NewUser { name: "alice".into(), roles: vec!["requester".into()], team: None };
            let alice = service.add_user_locally(&user).await.unwrap();
            let caller = changegate_service::Caller { user: admin.user.clone() };
            let payments = changegate_service::NewService {
                name: "payments-api".into(),
                team: "payments".into(),
                tier: 1,
                ..Default::default()
            };
            service.register_service(&caller, payments, None).await.unwrap();
            let now = service.now();
            service
                .store()
                .write(async |tx| -> Result<(), changegate_store::StoreError> {
                    for number in 0..20 {
                        let id = tx.next_change_id().await?;
                        let event = DomainEvent::ChangeImported { id, change: imported(number, now) };
                        tx.append(&StreamId::Change(id), "importer", now, &event).await?;
                    }
                    Ok(())
                })
                .await
                .unwrap();
            let config =
                changegate_server::ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
            let app = changegate_server::Application::build(service.clone(), config).await.unwrap();
            let address = app.local_addr();
            tokio::spawn(app.run_until(std::future::pending()));
            (service, admin, alice, address)
        });
        TestApp { runtime, base: format!("http://{address}"), service, admin, alice, _dir: dir }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into()
    }

    fn api(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let agent = Self::agent();
        let authorization = token.map(|token| format!("Bearer {token}"));
        let response = match (method, body) {
            ("GET", _) => {
                let mut request = agent.get(&url);
                if let Some(value) = &authorization {
                    request = request.header("Authorization", value);
                }
                request.call()
            }
            (_, body) => {
                let mut request = agent.post(&url).header("Content-Type", "application/json");
                if let Some(value) = &authorization {
                    request = request.header("Authorization", value);
                }
                request.send(body.unwrap_or(Value::Null).to_string().as_bytes())
            }
        };
        let mut response = response.unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn maturity_events(&self) -> usize {
        self.runtime.block_on(self.service.store().stream_events("maturity")).unwrap().len()
    }

    fn signed_in(&self, user: &CreatedUser) -> Client {
        let agent = Self::agent();
        let response = agent.post(format!("{}/login", self.base)).send_form([("token", user.token.as_str())]).unwrap();
        assert_eq!(response.status().as_u16(), 303, "signing in as {}", user.user.name);
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok()?.split(';').next())
            .find(|pair| pair.starts_with("changegate_session="))
            .expect("a session cookie")
            .to_owned();
        Client { base: self.base.clone(), agent, csrf: changegate_server::web::csrf_token(&user.token), cookie }
    }
}

/// A signed-in browser: sends the session cookie, never follows redirects.
struct Client {
    base: String,
    agent: ureq::Agent,
    cookie: String,
    csrf: String,
}

impl Client {
    fn get(&self, path: &str) -> (u16, String) {
        let mut response =
            self.agent.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).call().unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    }

    fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let mut response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .send_form(fields.iter().copied())
            .unwrap();
        let location =
            response.headers().get("location").and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap(), location)
    }
}

#[test]
fn the_api_assesses_lists_questions_records_answers_and_gives_the_trend() {
    let app = TestApp::start();
    let (admin, alice) = (app.admin.token.as_str(), app.alice.token.as_str());

    // Without a token: 401.
    let (status, body) = app.api("GET", "/api/v1/maturity", None, None);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");

    // The assessment of the last 90 days: five named dimensions, every criterion with its evidence.
    let (status, body) = app.api("GET", "/api/v1/maturity", Some(alice), None);
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["dimensions"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["process", "risk_management", "metrics", "automation", "audit_compliance"]);
    assert_eq!(body["deployments"], 20);
    assert_eq!(body["imported_deployments"], 20);
    let overall = body["overall_level"].as_u64().unwrap();
    let lowest = body["dimensions"].as_array().unwrap().iter().map(|d| d["level"].as_u64().unwrap()).min().unwrap();
    assert_eq!(overall, lowest);
    let criterion = &body["dimensions"][1]["criteria"][0];
    for field in ["id", "level", "met", "value", "threshold", "evidence"] {
        assert!(criterion.get(field).is_some(), "criterion lacks {field}: {criterion}");
    }
    assert_eq!(criterion["id"], "risk.significant-assessed");
    assert_eq!(criterion["value"], 0.75);
    assert_eq!(criterion["evidence"]["sample_change_ids"].as_array().unwrap().len(), 5);
    assert!(!body["roadmap"].as_array().unwrap().is_empty());

    // Bad periods are refused with a field error.
    let (status, body) = app.api("GET", "/api/v1/maturity?from=yesterday", Some(alice), None);
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    let (status, body) =
        app.api("GET", "/api/v1/maturity?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", Some(alice), None);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "from");
    let (status, _) = app.api("GET", "/api/v1/maturity?period=all", Some(alice), None);
    assert_eq!(status, 400, "unknown query parameters are refused");

    // The questionnaire.
    let (status, questions) = app.api("GET", "/api/v1/maturity/questions", Some(alice), None);
    assert_eq!(status, 200);
    let questions = questions.as_array().unwrap();
    assert_eq!(questions.len(), 6);
    let keys: Vec<&String> = questions[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["dimension", "id", "level", "text"]);

    // Answers: refused for a requester (recorded as a denial, no answer), unknown ids refused.
    let answer = json!({"answers": {"process.roles-published": true}, "comment": "published on the wiki"});
    let (status, body) = app.api("POST", "/api/v1/maturity/answers", Some(alice), Some(answer.clone()));
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, body) =
        app.api("POST", "/api/v1/maturity/answers", Some(admin), Some(json!({"answers": {"process.vibes": true}})));
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    let (status, _) =
        app.api("POST", "/api/v1/maturity/answers", Some(admin), Some(json!({"answers": {}, "extra": 1})));
    assert_eq!(status, 422);
    assert_eq!(app.maturity_events(), 0, "nothing recorded");
    // By the admin: recorded, with who answered.
    let (status, body) = app.api("POST", "/api/v1/maturity/answers", Some(admin), Some(answer));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["id"], "process.roles-published");
    assert_eq!(body[0]["answered_by"], "admin");
    assert_eq!(app.maturity_events(), 1);
    let (_, in_force) = app.api("GET", "/api/v1/maturity/answers", Some(alice), None);
    assert_eq!(in_force.as_array().unwrap().len(), 1);
    let (_, body) = app.api("GET", "/api/v1/maturity", Some(alice), None);
    let unanswered = body["unanswered_questions"].as_array().unwrap();
    assert!(!unanswered.contains(&json!("process.roles-published")));

    // The trend, month by month.
    let (status, trend) = app.api("GET", "/api/v1/maturity/trend?months=3", Some(alice), None);
    assert_eq!(status, 200, "{trend}");
    assert_eq!(trend.as_array().unwrap().len(), 3);
    assert_eq!(trend[2]["deployments"], 20);
    assert_eq!(trend[2]["dimensions"].as_array().unwrap().len(), 5);
    let (status, body) = app.api("GET", "/api/v1/maturity/trend?months=0", Some(alice), None);
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("months")));

    // The OpenAPI document describes every endpoint.
    let (_, document) = app.api("GET", "/api/openapi.json", None, None);
    for path in ["/api/v1/maturity", "/api/v1/maturity/questions", "/api/v1/maturity/answers", "/api/v1/maturity/trend"]
    {
        assert!(document["paths"].get(path).is_some(), "{path} is not documented");
    }
    assert!(document["paths"]["/api/v1/maturity/answers"].get("post").is_some());
    assert!(document["components"]["schemas"].get("MaturityAssessmentView").is_some());
}

#[test]
fn the_page_shows_the_radar_criteria_roadmap_trend_and_records_answers_from_its_form() {
    let app = TestApp::start();
    let admin = app.signed_in(&app.admin);

    let (status, page) = admin.get("/maturity");
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("<script") && !page.contains("style="), "CSP-clean");
    assert!(page.contains(r#"<a href="/maturity" aria-current="page">Maturity</a>"#), "the nav entry");
    assert!(page.contains(r#"id="radar-chart""#) && page.contains(r#"id="radar-shape""#));
    assert_eq!(page.matches(r#"class="radar-point""#).count(), 5);
    for dimension in ["process", "risk_management", "metrics", "automation", "audit_compliance"] {
        assert!(page.contains(&format!(r#"id="dimension-{dimension}""#)), "{dimension}");
    }
    assert!(page.contains(r#"data-criterion="risk.formal-class-share""#));
    assert!(page.contains(r#"href="/changes/CHG-"#), "sample changes link to their pages");
    assert!(page.contains(r#"id="roadmap""#) && page.contains("roadmap-steps"));
    assert!(page.contains(r#"id="trend-chart""#) && page.contains(r#"id="trend-table""#));
    assert_eq!(page.matches("data-question=").count(), 6);
    assert!(page.contains(r#"id="answers-form""#), "the admin may answer");

    // A requester sees the questionnaire without a form.
    let alice = app.signed_in(&app.alice);
    let (status, page) = alice.get("/maturity");
    assert_eq!(status, 200);
    assert!(!page.contains(r#"id="answers-form""#));
    assert!(page.contains("Answering needs the admin or cab role"));

    // A period given as dates; a bad one is refused.
    let (status, _) = admin.get("/maturity?from=2026-01-01&to=2026-03-01");
    assert_eq!(status, 200);
    let (status, page) = admin.get("/maturity?from=2026-03-01&to=2026-01-01");
    assert_eq!(status, 422, "{page}");
    let (status, _) = admin.get("/maturity?from=someday");
    assert_eq!(status, 422);

    // The form without its CSRF value is refused and records nothing.
    let (status, _, _) = admin.post_form("/maturity/answers", &[("process.documented", "yes")]);
    assert_eq!(status, 403);
    assert_eq!(app.maturity_events(), 0);
    // Nothing chosen: refused, nothing recorded.
    let (status, page, _) = admin.post_form("/maturity/answers", &[("csrf", &admin.csrf), ("process.documented", "")]);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Nothing was recorded"));
    assert_eq!(app.maturity_events(), 0);
    // With it: recorded as the admin, and shown as the answer in force.
    let (status, _, location) = admin.post_form(
        "/maturity/answers",
        &[("csrf", &admin.csrf), ("process.documented", "yes"), ("process.kpis-reviewed", "no"), ("comment", "")],
    );
    assert_eq!((status, location.as_str()), (303, "/maturity?done=answered"));
    assert_eq!(app.maturity_events(), 1);
    let (_, page) = admin.get("/maturity?done=answered");
    assert!(page.contains("were recorded in the ledger"));
    assert!(page.contains(r#"data-question="process.documented" data-answer="yes""#), "{page}");
    assert!(page.contains(r#"data-question="process.kpis-reviewed" data-answer="no""#));
    // A requester posting the form is refused by the service.
    let (status, _, _) = alice.post_form("/maturity/answers", &[("csrf", &alice.csrf), ("process.documented", "no")]);
    assert_eq!(status, 403);
    assert_eq!(app.maturity_events(), 1);
}
