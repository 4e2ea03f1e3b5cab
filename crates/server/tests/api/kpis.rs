//! The metrics faces over real HTTP: `GET /api/v1/metrics` (the report's keys, filters, 422 for
//! bad dates and unknown names, 400 for unknown parameters, 401 without a token, the OpenAPI
//! entry) and the `/kpis` page (cards with bands, the SVG charts, the by-service table, hostile
//! input escaped, bad input a 422 that still shows the form). The server runs on a background
//! runtime; the test drives it with blocking `ureq`.

use changegate_core::ChangeId;
use changegate_core::lifecycle::Action;
use changegate_service::NewChange;

use crate::helpers::{Answer, TestApp, service};

/// The application with the services `blog` (team web) and `shop` (team commerce), both tier 4.
fn spawn_with_blog_and_shop() -> TestApp {
    TestApp::builder().service(service("blog", "web", 4, &[])).service(service("shop", "commerce", 4, &[])).spawn()
}

/// A production change of `service` by alice, approved by bob, taken to verified, or to failed
/// when `fail`.
fn deploy(app: &TestApp, service: &str, fail: bool) -> ChangeId {
    let input = NewChange {
        title: format!("Deploy {service}"),
        change_type: "normal".into(),
        service: service.into(),
        environment: "production".into(),
        rollback_plan: Some("redeploy the previous release".into()),
        test_evidence: Some("pipeline run 7".into()),
        security_evidence: Some("scans clean".into()),
        ..NewChange::default()
    };
    app.take_through(&app.alice, &[&app.bob], input, if fail { Action::Fail } else { Action::Verify })
}

const REPORT_KEYS: [&str; 12] = [
    "deployments",
    "deployment_frequency_per_day",
    "lead_time_median_hours",
    "change_failure_rate",
    "change_success_rate",
    "failed_deployment_recovery_median_hours",
    "deployment_rework_rate",
    "approval_time_median_hours",
    "mttr_hours",
    "change_related_incidents",
    "downtime_minutes_from_changes",
    "changes_by_type",
];

#[test]
fn the_api_answers_the_report_and_refuses_bad_input_with_clear_errors() {
    // Given three blog deployments (one failed) and one shop deployment
    let app = spawn_with_blog_and_shop();
    let token = app.alice.token.clone();
    for fail in [false, true, false] {
        deploy(&app, "blog", fail);
    }
    deploy(&app, "shop", false);

    // When the whole history is asked for
    let Answer { status, body: report, .. } = app.get("/api/v1/metrics", Some(&token));
    // Then every documented key is there, with the numbers of that history
    assert_eq!(status, 200, "{report}");
    for key in REPORT_KEYS.iter().chain(&["period", "bands", "by_service", "by_team", "weekly", "risk_distribution"]) {
        assert!(report.get(key).is_some(), "missing {key}: {report}");
    }
    assert_eq!(report["deployments"], 4);
    assert_eq!(report["change_failure_rate"], 0.25);
    assert_eq!(report["changes_by_type"]["normal"], 4);
    assert_eq!(report["by_service"][0]["name"], "blog");
    assert_eq!(report["by_service"][0]["deployments"], 3);

    // And filters, and a period given as dates, narrow it
    let Answer { body: blog, .. } = app.get("/api/v1/metrics?service=blog", Some(&token));
    assert_eq!(blog["deployments"], 3);
    let Answer { body: commerce, .. } = app.get("/api/v1/metrics?team=commerce&environment=production", Some(&token));
    assert_eq!(commerce["deployments"], 1);
    let Answer { status, body: old, .. } =
        app.get("/api/v1/metrics?from=2020-01-01&to=2020-02-01T00:00:00Z", Some(&token));
    assert_eq!((status, old["deployments"].as_u64()), (200, Some(0)), "{old}");
    assert_eq!(old["period"]["from"], "2020-01-01T00:00:00Z");

    // And a new deployment is in the next answer
    deploy(&app, "shop", false);
    let Answer { body: report, .. } = app.get("/api/v1/metrics", Some(&token));
    assert_eq!(report["deployments"], 5);

    // When the input is bad, the answer is 422 naming the field (400 for an unknown parameter)
    let cases = [
        ("from=2026-13-01", "from"),
        ("to=soon", "to"),
        ("from=2026-02-01&to=2026-02-01", "to"),
        ("from=2026-03-01&to=2026-02-01", "to"),
        ("service=billing", "service"),
        ("team=nobody", "team"),
        ("environment=moon", "environment"),
        ("service=Not%20A%20Name", "service"),
    ];
    for (query, field) in cases {
        let Answer { status, body: answer, .. } = app.get(&format!("/api/v1/metrics?{query}"), Some(&token));
        assert_eq!(status, 422, "{query}: {answer}");
        assert_eq!(answer["error"]["code"], "validation_failed");
        assert_eq!(answer["error"]["fields"][0]["field"], field, "{query}: {answer}");
    }
    let Answer { status, body: answer, .. } = app.get("/api/v1/metrics?since=2026-01-01", Some(&token));
    assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("invalid_query")));
    let Answer { status, .. } = app.get("/api/v1/metrics", None);
    assert_eq!(status, 401);

    // And the OpenAPI document lists the endpoint
    let Answer { body: document, .. } = app.get("/api/openapi.json", None);
    assert!(document["paths"]["/api/v1/metrics"]["get"].is_object(), "{}", document["paths"]);
}

#[test]
fn the_kpi_page_shows_cards_with_bands_svg_charts_and_the_service_table() {
    // Given a small history
    let app = spawn_with_blog_and_shop();
    for fail in [false, false, true] {
        deploy(&app, "blog", fail);
    }
    deploy(&app, "shop", false);

    // When alice opens the page
    let Answer { status, text: body, .. } = app.signed_in(&app.alice).get("/kpis");

    // Then it has the nav entry, the cards with their bands, every chart as SVG, and the table
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"<a href="/kpis" aria-current="page">Metrics &amp; KPIs</a>"#), "the nav entry");
    assert!(!body.contains("<script") && !body.contains("style="), "no scripts, no inline styles");
    assert!(body.contains(r#"id="card-failure-rate""#));
    assert!(body.contains("25.0%"), "the change failure rate: {body}");
    assert!(body.contains(r#"class="badge band band-low""#), "a 25 % failure rate is in the low band");
    for chart in [
        "trend-deployments",
        "trend-failure-rate",
        "trend-lead-time",
        "trend-approval-time",
        "trend-mttr",
        "risk-chart",
    ] {
        assert!(body.contains(&format!(r#"<svg class="chart kpi-chart" id="{chart}""#)), "{chart}");
    }
    assert!(body.contains(r#"id="type-chart""#));
    assert!(body.contains("<polyline") || body.contains("<circle"), "a trend is drawn");
    let table_start = body.find(r#"id="kpi-service-table""#).expect("the service table");
    let table = &body[table_start..];
    assert!(table.contains(">blog<") && table.contains(">shop<"));
    // The filter form offers the known names.
    assert!(body.contains(r#"<option value="commerce">commerce</option>"#));

    // When the filters carry markup, or a date that does not parse
    let hostile = "/kpis?service=%3Cscript%3Ealert(1)%3C%2Fscript%3E&from=%22%3E%3Cb%3E";
    let Answer { status, text: body, .. } = app.signed_in(&app.alice).get(hostile);
    // Then the answer is a 422 that shows the form, with every echo escaped
    assert_eq!(status, 422, "{body}");
    assert!(!body.contains("<script>alert(1)"), "{body}");
    assert!(!body.contains("\"><b>"), "{body}");
    assert!(body.contains("&lt;script&gt;") || body.contains("&lt;script"), "{body}");
    assert!(body.contains(r#"id="kpi-filters""#));
    assert!(!body.contains(r#"id="kpi-cards""#), "no report for bad input");

    // And a filter on a service narrows the page
    let Answer { status, text: body, .. } = app.signed_in(&app.alice).get("/kpis?service=shop&from=2020-01-01");
    assert_eq!(status, 200);
    assert!(body.contains(r#"<option value="shop" selected>shop</option>"#));
}
