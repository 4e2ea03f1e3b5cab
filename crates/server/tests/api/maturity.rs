//! The maturity faces over real HTTP: the API (assessment, questions, answers, trend, its errors
//! and the OpenAPI document) and the `/maturity` page (radar chart, criteria with links to the
//! sample changes, roadmap, trend, the questionnaire form with CSRF). The server runs on a
//! background runtime over a fresh SQLite store holding an imported history; the test drives it
//! with blocking `ureq`.

use changegate_core::{CreatedBy, DomainEvent, ImportedChange, RiskClass, StreamId, Timestamp};
use changegate_store::StoreError;
use serde_json::json;

use crate::helpers::{Answer, TestApp, service};

use changegate_core::civil::DAY_MS;
use changegate_core::testing::imported_change;

/// A change imported from another system, created `2 + 3 × number` days before `now`.
fn imported(number: u32, now: Timestamp) -> ImportedChange {
    let created = now.plus_ms(-(2 + i64::from(number) * 3) * DAY_MS);
    ImportedChange {
        risk_class: (!number.is_multiple_of(4)).then_some(RiskClass::Medium),
        test_evidence: Some(true),
        created_by: Some(CreatedBy::Manual),
        ..imported_change(number, created)
    }
}

/// The application with the tier-1 service `payments-api` and 20 changes imported at the
/// clock's time, deployed over the last two months.
fn spawn_with_imported_history() -> TestApp {
    let app = TestApp::builder().service(service("payments-api", "payments", 1, &[])).spawn();
    let now = app.clock.now();
    app.block_on(app.store().write(async |tx| -> Result<(), StoreError> {
        for number in 0..20 {
            let id = tx.next_change_id().await?;
            let event = DomainEvent::ChangeImported { id, change: imported(number, now) };
            tx.append(&StreamId::Change(id), "importer", now, &event).await?;
        }
        Ok(())
    }))
    .unwrap();
    app
}

fn maturity_events(app: &TestApp) -> usize {
    app.block_on(app.store().stream_events("maturity")).unwrap().len()
}

#[test]
fn the_api_assesses_lists_questions_records_answers_and_gives_the_trend() {
    let app = spawn_with_imported_history();
    let (admin, alice) = (app.admin.token.as_str(), app.alice.token.as_str());

    // Without a token: 401.
    let Answer { status, body, .. } = app.get("/api/v1/maturity", None);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthenticated");

    // The assessment of the last 90 days: five named dimensions, every criterion with its evidence.
    let Answer { status, body, .. } = app.get("/api/v1/maturity", Some(alice));
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
    let Answer { status, body, .. } = app.get("/api/v1/maturity?from=yesterday", Some(alice));
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    let Answer { status, body, .. } =
        app.get("/api/v1/maturity?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", Some(alice));
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "from");
    let Answer { status, .. } = app.get("/api/v1/maturity?period=all", Some(alice));
    assert_eq!(status, 400, "unknown query parameters are refused");

    // The questionnaire.
    let Answer { status, body: questions, .. } = app.get("/api/v1/maturity/questions", Some(alice));
    assert_eq!(status, 200);
    let questions = questions.as_array().unwrap();
    assert_eq!(questions.len(), 6);
    let keys: Vec<&String> = questions[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["dimension", "id", "level", "text"]);

    // Answers: refused for a requester (recorded as a denial, no answer), unknown ids refused.
    let answer = json!({"answers": {"process.roles-published": true}, "comment": "published on the wiki"});
    let Answer { status, body, .. } = app.post("/api/v1/maturity/answers", alice, answer.clone());
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let Answer { status, body, .. } =
        app.post("/api/v1/maturity/answers", admin, json!({"answers": {"process.vibes": true}}));
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("validation_failed")), "{body}");
    let Answer { status, .. } = app.post("/api/v1/maturity/answers", admin, json!({"answers": {}, "extra": 1}));
    assert_eq!(status, 422);
    assert_eq!(maturity_events(&app), 0, "nothing recorded");
    // By the admin: recorded, with who answered.
    let Answer { status, body, .. } = app.post("/api/v1/maturity/answers", admin, answer);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["id"], "process.roles-published");
    assert_eq!(body[0]["answered_by"], "admin");
    assert_eq!(maturity_events(&app), 1);
    let Answer { body: in_force, .. } = app.get("/api/v1/maturity/answers", Some(alice));
    assert_eq!(in_force.as_array().unwrap().len(), 1);
    let Answer { body, .. } = app.get("/api/v1/maturity", Some(alice));
    let unanswered = body["unanswered_questions"].as_array().unwrap();
    assert!(!unanswered.contains(&json!("process.roles-published")));

    // The trend, month by month.
    let Answer { status, body: trend, .. } = app.get("/api/v1/maturity/trend?months=3", Some(alice));
    assert_eq!(status, 200, "{trend}");
    assert_eq!(trend.as_array().unwrap().len(), 3);
    assert_eq!(trend[2]["deployments"], 20);
    assert_eq!(trend[2]["dimensions"].as_array().unwrap().len(), 5);
    let Answer { status, body, .. } = app.get("/api/v1/maturity/trend?months=0", Some(alice));
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("months")));

    // The OpenAPI document describes every endpoint.
    let Answer { body: document, .. } = app.get("/api/openapi.json", None);
    for path in ["/api/v1/maturity", "/api/v1/maturity/questions", "/api/v1/maturity/answers", "/api/v1/maturity/trend"]
    {
        assert!(document["paths"].get(path).is_some(), "{path} is not documented");
    }
    assert!(document["paths"]["/api/v1/maturity/answers"].get("post").is_some());
    assert!(document["components"]["schemas"].get("MaturityAssessmentView").is_some());
}

#[test]
fn the_page_shows_the_radar_criteria_roadmap_trend_and_records_answers_from_its_form() {
    let app = spawn_with_imported_history();
    let mut admin = app.signed_in(&app.admin);

    let Answer { status, text: page, .. } = admin.get("/maturity");
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
    let mut alice = app.signed_in(&app.alice);
    let Answer { status, text: page, .. } = alice.get("/maturity");
    assert_eq!(status, 200);
    assert!(!page.contains(r#"id="answers-form""#));
    assert!(page.contains("Answering needs the admin or cab role"));

    // A period given as dates; a bad one is refused.
    let Answer { status, .. } = admin.get("/maturity?from=2026-01-01&to=2026-03-01");
    assert_eq!(status, 200);
    let Answer { status, text: page, .. } = admin.get("/maturity?from=2026-03-01&to=2026-01-01");
    assert_eq!(status, 422, "{page}");
    let Answer { status, .. } = admin.get("/maturity?from=someday");
    assert_eq!(status, 422);

    // The form without its CSRF value is refused and records nothing.
    let Answer { status, .. } =
        admin.post_with("/maturity/answers", &[("process.documented", "yes")], &[("origin", &app.address)]);
    assert_eq!(status, 403);
    assert_eq!(maturity_events(&app), 0);
    // Nothing chosen: refused, nothing recorded.
    let Answer { status, text: page, .. } = admin.post_with(
        "/maturity/answers",
        &[("csrf", &admin.csrf()), ("process.documented", "")],
        &[("origin", &app.address)],
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Nothing was recorded"));
    assert_eq!(maturity_events(&app), 0);
    // With it: recorded as the admin, and shown as the answer in force.
    let answer = admin.post_with(
        "/maturity/answers",
        &[("csrf", &admin.csrf()), ("process.documented", "yes"), ("process.kpis-reviewed", "no"), ("comment", "")],
        &[("origin", &app.address)],
    );
    let (status, location) = (answer.status, answer.header("location").unwrap_or_default().to_owned());
    assert_eq!((status, location.as_str()), (303, "/maturity?done=answered"));
    assert_eq!(maturity_events(&app), 1);
    let Answer { text: page, .. } = admin.get("/maturity?done=answered");
    assert!(page.contains("were recorded in the ledger"));
    assert!(page.contains(r#"data-question="process.documented" data-answer="yes""#), "{page}");
    assert!(page.contains(r#"data-question="process.kpis-reviewed" data-answer="no""#));
    // A requester posting the form is refused by the service.
    let Answer { status, .. } = alice.post_with(
        "/maturity/answers",
        &[("csrf", &alice.csrf()), ("process.documented", "no")],
        &[("origin", &app.address)],
    );
    assert_eq!(status, 403);
    assert_eq!(maturity_events(&app), 1);
}
