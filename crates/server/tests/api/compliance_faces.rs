//! The compliance faces over real HTTP: the API report (readable back into the compliance
//! crate's report), its OSCAL form, the OpenAPI entry, the `/compliance` page with links to the
//! changes at fault, and refusals (wrong role, bad input) that change nothing but the recorded
//! denial.

use std::time::Duration;

use changegate_compliance::{CheckId, ComplianceReport};
use changegate_core::ChangeId;
use changegate_core::lifecycle::Action;
use changegate_service::NewChange;

use crate::helpers::{Answer, TestApp, service};

/// The application with sam (security) and `payments-api` in PCI scope, and a normal change to
/// it approved and started without test evidence: the change at fault.
fn spawn_with_untested_change() -> (TestApp, ChangeId) {
    let app =
        TestApp::builder().service(service("payments-api", "payments", 2, &["pci"])).user("sam", &["security"]).spawn();
    let input = NewChange {
        title: "Rotate <keys> & \"secrets\"".into(),
        change_type: "normal".into(),
        service: "payments-api".into(),
        environment: "production".into(),
        rollback_plan: Some("redeploy the previous release".into()),
        security_evidence: Some("SAST, SCA and secret scan clean".into()),
        ..NewChange::default()
    };
    let untested = app.create_change(&app.alice, input);
    let sam = app.user("sam");
    for (user, action) in [
        (&app.alice, Action::Submit),
        (&app.bob, Action::Approve),
        (sam, Action::Approve),
        (&app.alice, Action::Schedule),
        (&app.alice, Action::Start),
    ] {
        app.act(user, untested, action);
    }
    // The default period ends now and excludes its end: let a minute pass so the change, started
    // at the clock's time, falls inside it.
    app.clock.advance(Duration::from_secs(60));
    (app, untested)
}

#[test]
fn the_api_report_names_the_change_at_fault_and_reads_back_into_the_report() {
    // Given an implemented PCI change without test evidence, when an admin asks the API,
    let (app, untested) = spawn_with_untested_change();
    let Answer { status, text: body, .. } = app.get("/api/v1/compliance?framework=pci-dss", Some(&app.admin.token));
    assert_eq!(status, 200, "{body}");
    // then the JSON is the compliance crate's report, and test evidence names the change.
    let report: ComplianceReport = serde_json::from_str(&body).unwrap();
    assert_eq!(report.changes_in_period, vec![untested]);
    let pci = &report.frameworks[0];
    assert_eq!(pci.check(CheckId::TestEvidence).unwrap().violating_changes(), vec![untested]);
    let control = pci.controls.iter().find(|control| control.id == "pci-dss-6.5.6").unwrap();
    assert_eq!(control.violating_changes, vec![untested]);
    // The OSCAL form is an assessment-results document pointing at the change page.
    let Answer { status, text: body, .. } =
        app.get("/api/v1/compliance/oscal?framework=pci-dss", Some(&app.admin.token));
    assert_eq!(status, 200, "{body}");
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["assessment-results"]["metadata"]["oscal-version"], "1.2.1");
    assert!(body.contains(&format!("/changes/{}", untested)));
    // Both are in the OpenAPI document.
    let Answer { text: openapi, .. } = app.get("/api/openapi.json", Some(&app.admin.token));
    let openapi: serde_json::Value = serde_json::from_str(&openapi).unwrap();
    assert!(openapi["paths"]["/api/v1/compliance"]["get"].is_object());
    assert!(openapi["paths"]["/api/v1/compliance/oscal"]["get"].is_object());
}

#[test]
fn refusals_have_stable_codes_and_change_nothing_but_the_denial() {
    let (app, _) = spawn_with_untested_change();
    // Given a requester, when they ask, then 403 `forbidden` and one access_denied event;
    let before = app.event_count();
    let Answer { status, text: body, .. } = app.get("/api/v1/compliance", Some(&app.alice.token));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"code\":\"forbidden\""), "{body}");
    assert_eq!(app.event_count(), before + 1);
    // given bad input, then 422 `validation_failed` naming the field, and nothing written;
    let Answer { status, text: body, .. } =
        app.get("/api/v1/compliance?framework=sox&from=yesterday", Some(&app.admin.token));
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"code\":\"validation_failed\"") && body.contains("\"framework\""), "{body}");
    // given an unknown parameter, then 400.
    let Answer { status, .. } = app.get("/api/v1/compliance?frameworks=all", Some(&app.admin.token));
    assert_eq!(status, 400);
    assert_eq!(app.event_count(), before + 1);
}

#[test]
fn the_page_lists_controls_and_links_the_changes_at_fault() {
    let (app, untested) = spawn_with_untested_change();
    // Given an admin, when they open the PCI report page,
    let Answer { status, text: page, .. } = app.signed_in(&app.admin).get("/compliance?framework=pci-dss");
    assert_eq!(status, 200, "{page}");
    // then the controls, their status and a link to the change at fault are there, no script.
    assert!(page.contains("Compliance</a>"), "the navigation shows the page to an admin");
    assert!(page.contains("6.5.1"));
    assert!(page.contains("Not satisfied"));
    assert!(page.contains(&format!("href=\"/changes/{}\"", untested)));
    assert!(page.contains("oscal?framework=pci-dss"), "the OSCAL link (minijinja escapes its slashes)");
    assert!(!page.contains("<script"));
    // A requester is refused; a bad period is a clear error.
    let Answer { status, .. } = app.signed_in(&app.alice).get("/compliance");
    assert_eq!(status, 403);
    let Answer { status, text: page, .. } = app.signed_in(&app.admin).get("/compliance?from=2026-12-01&to=2026-11-01");
    assert_eq!(status, 422);
    assert!(page.contains("must be before"), "{page}");
}
