//! The change pages: the new-change form (its validation, limits and roles), lifecycle actions
//! with their banners and refusals, the list with its filters and pages, the dashboard, services,
//! static files and not-found pages, the ledger page, and the incident pages.

use changegate_core::ChangeId;

use super::{change_input, new_change_fields, spawn_with_pci_payments};

#[test]
fn a_change_is_created_through_the_form_and_submitted() {
    let app = spawn_with_pci_payments();
    let mut alice = app.signed_in(&app.alice);
    let form = alice.get("/changes/new");
    assert_eq!(form.status, 200);
    assert!(
        form.text.contains(r#"<option value="payments-api">payments-api (tier 2, payments)</option>"#),
        "{}",
        form.text
    );
    let csrf = form.csrf();

    let before = app.event_count();
    let reply = alice.post("/changes", &new_change_fields(&csrf, "Rotate signing keys"));
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(reply.location(), "/changes/CHG-000001");
    assert_eq!(app.event_count(), before + 1);

    let change = app.change(ChangeId::new(1));
    assert_eq!(change.title, "Rotate signing keys");
    assert_eq!(change.requester.as_str(), "alice");
    assert_eq!(change.environment.as_str(), "production");
    assert_eq!(change.planned_start.unwrap().to_rfc3339(), "2026-11-26T10:00:00Z");
    assert_eq!(change.planned_end.unwrap().to_rfc3339(), "2026-11-26T11:30:00Z");
    assert_eq!(change.links, vec!["https://git.example/pr/42", "https://ci.example/runs/7"]);
    assert_eq!(change.rollback_plan.as_deref(), Some("redeploy the previous release"));

    let page = alice.get("/changes/CHG-000001");
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"<h1 id="change-title">Rotate signing keys</h1>"#));
    assert!(page.text.contains(r#"data-state="draft""#));
    assert!(
        page.text.contains(r#"rel="noopener noreferrer nofollow">https:&#x2f;&#x2f;git.example&#x2f;pr&#x2f;42</a>"#)
    );
    assert!(page.text.contains("change created"), "the timeline shows the creation");

    let reply = alice.post("/changes/CHG-000001/actions/submit", &[("csrf", &csrf), ("comment", "ready")]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(reply.location(), "/changes/CHG-000001?done=submit");
    let page = alice.get(reply.location());
    assert!(page.text.contains(r#"data-state="assessed""#));
    assert!(page.text.contains("banner-success"));
    assert!(page.text.contains("risk medium"), "the assessment's reasons: {}", page.text);
    assert!(page.text.contains(r#"id="risk-factors""#), "the factors that added to the score");
    assert!(page.text.contains(r#"<span class="badge risk-medium">medium</span>"#));
    // The policy's decision: a peer approver and, for PCI scope, security.
    assert!(page.text.contains(r#"id="policy-decision""#), "{}", page.text);
    assert!(page.text.contains(r#"<tr data-role="approver">"#));
    assert!(page.text.contains(r#"<tr data-role="security">"#));
}

#[test]
fn invalid_input_re_renders_the_form_with_messages_and_values() {
    let app = spawn_with_pci_payments();
    let mut alice = app.signed_in(&app.alice);
    let csrf = alice.get("/changes/new").csrf();
    let before = app.event_count();
    let mut fields = new_change_fields(&csrf, "   ");
    fields.retain(|(name, _)| *name != "environment" && *name != "planned_end");
    fields.push(("environment", "Prod!"));
    fields.push(("planned_end", "2026-11-25T09:00"));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 422);
    assert_eq!(app.event_count(), before, "nothing written");
    assert!(
        reply.text.contains(r#"<ul class="field-errors" data-field="title"><li>must not be empty</li></ul>"#),
        "{}",
        reply.text
    );
    assert!(reply.text.contains(r#"data-field="environment""#));
    assert!(reply.text.contains(r#"data-field="planned_end""#));
    assert!(reply.text.contains("not a valid name"));
    // What was typed is kept.
    assert!(reply.text.contains(r#"value="Prod!""#));
    assert!(reply.text.contains("Rotate the signing keys of the payments API.\nSecond line."));
    assert!(reply.text.contains(r#"<option value="payments-api" selected>"#));
    assert!(reply.text.contains(r#"value="2026-11-26T10:00""#));

    // Long texts fit (URL-encoding inflates them past the API's JSON limit)...
    let long_plan = "ü".repeat(19_000);
    let mut fields = new_change_fields(&csrf, "Long plans");
    fields.retain(|(name, _)| *name != "implementation_plan" && *name != "rollback_plan");
    fields.push(("implementation_plan", &long_plan));
    fields.push(("rollback_plan", &long_plan));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 303, "{}", reply.text);
    // ...but a form past the page limit gets a clear 413 page, and nothing is written.
    let before = app.event_count();
    let huge = "x".repeat(changegate_server::web::FORM_SIZE_MAX_BYTES + 1);
    let mut fields = new_change_fields(&csrf, "Too long");
    fields.push(("description", &huge));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 413);
    assert!(reply.text.contains("Form too large"), "{}", reply.text);
    assert_eq!(app.event_count(), before);

    // An approver cannot create changes: the page says so.
    let mut bob = app.signed_in(&app.bob);
    assert_eq!(bob.get("/changes/new").status, 403);
    let bob_csrf = bob.get("/").csrf();
    let reply = bob.post("/changes", &new_change_fields(&bob_csrf, "Not mine to make"));
    assert_eq!(reply.status, 403);
    assert!(reply.text.contains("requester or admin role"), "{}", reply.text);
}

#[test]
fn actions_follow_the_lifecycle_and_show_refusals_on_the_page() {
    let app = spawn_with_pci_payments();
    let id = app.create_change(&app.alice, change_input("Upgrade the database"));
    let path = format!("/changes/{id}");
    let mut alice = app.signed_in(&app.alice);
    let csrf = alice.get("/").csrf();
    assert_eq!(alice.post(&format!("{path}/actions/submit"), &[("csrf", &csrf)]).status, 303);

    // Alice may not approve her own change: no button, and a forged attempt shows a 403 banner.
    let page = alice.get(&path);
    assert!(!page.text.contains(r#"data-action="approve""#));
    assert!(page.text.contains(r#"id="no-actions""#) || page.text.contains(r#"data-action="cancel""#));
    let before = app.event_count();
    let reply = alice.post(&format!("{path}/actions/approve"), &[("csrf", &csrf), ("comment", "self-approval")]);
    assert_eq!(reply.status, 403);
    assert!(reply.text.contains("Could not approve"), "{}", reply.text);
    assert!(reply.text.contains("needs one of the roles approver"), "{}", reply.text);
    assert_eq!(app.event_count(), before + 1, "the service records the denial, nothing else");
    assert_eq!(app.change(id).state.as_str(), "assessed");

    // Bob approves as the peer approver; the policy also wants security for a PCI service.
    let mut bob = app.signed_in(&app.bob);
    let bob_csrf = bob.get("/").csrf();
    let page = bob.get(&path);
    assert!(page.text.contains(r#"data-action="approve""#));
    assert!(page.text.contains(r#"data-action="reject""#));
    let reply = bob.post(&format!("{path}/actions/approve"), &[("csrf", &bob_csrf), ("comment", "looks safe")]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    let page = bob.get(reply.location());
    assert!(page.text.contains(r#"data-state="assessed""#), "security is still missing");
    assert!(page.text.contains("looks safe"));
    let sam = app.add_user("sam", &["security"], None);
    let mut sam = app.signed_in(&sam);
    let sam_csrf = sam.get("/").csrf();
    let reply = sam.post(&format!("{path}/actions/approve"), &[("csrf", &sam_csrf), ("comment", "scans clean")]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert!(sam.get(reply.location()).text.contains(r#"data-state="approved""#));
    assert_eq!(app.change(id).approvals.len(), 2);

    // An illegal transition: 409 with a banner, nothing written.
    let before = app.event_count();
    let reply = bob.post(&format!("{path}/actions/reject"), &[("csrf", &bob_csrf)]);
    assert_eq!(reply.status, 409);
    assert!(reply.text.contains("Could not reject"), "{}", reply.text);
    assert_eq!(app.event_count(), before);

    // Validation: a review of a failed change needs a root cause.
    for action in ["schedule", "start", "fail"] {
        assert_eq!(alice.post(&format!("{path}/actions/{action}"), &[("csrf", &csrf)]).status, 303, "{action}");
    }
    let reply = alice
        .post(&format!("{path}/actions/review"), &[("csrf", &csrf), ("root_cause", "  "), ("comment", "PIR held")]);
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(reply.text.contains("must name its root cause"), "{}", reply.text);
    assert!(reply.text.contains(r#"value="PIR held""#), "what was typed stays in the form");
    let reply =
        alice.post(&format!("{path}/actions/review"), &[("csrf", &csrf), ("root_cause", "migration locked a table")]);
    assert_eq!(reply.status, 303);
    assert!(alice.get(&path).text.contains("migration locked a table"));

    // Unknown actions and changes.
    assert_eq!(alice.post(&format!("{path}/actions/teleport"), &[("csrf", &csrf)]).status, 404);
    assert_eq!(alice.get("/changes/CHG-999999").status, 404);
    assert_eq!(alice.get("/changes/not-an-id").status, 404);
}

#[test]
fn the_list_filters_and_pages() {
    let app = spawn_with_pci_payments();
    for title in ["First", "Second", "Third"] {
        app.create_change(&app.alice, change_input(title));
    }
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/changes?limit=2");
    assert_eq!(page.status, 200);
    assert!(page.text.contains("CHG-000003") && page.text.contains("CHG-000002"));
    assert!(!page.text.contains(">CHG-000001<"));
    // The next-page link keeps the page size (minijinja escapes '/' as &#x2f; in attributes).
    assert!(page.text.contains(r#"href="&#x2f;changes?limit=2&amp;cursor=CHG-000002" rel="next""#), "{}", page.text);
    let next = bob.get("/changes?limit=2&cursor=CHG-000002");
    assert!(next.text.contains(">CHG-000001<"));
    assert!(!next.text.contains(r#"id="next-page""#));

    let filtered = bob.get("/changes?state=draft&service=payments-api&requester=alice");
    assert_eq!(filtered.status, 200);
    assert!(filtered.text.contains(r#"<option value="draft" selected>"#));
    assert!(filtered.text.contains(r#"value="alice""#));
    assert!(filtered.text.contains("Third"));
    let none = bob.get("/changes?state=approved");
    assert!(none.text.contains("No changes match."));

    let invalid = bob.get("/changes?requester=Not+A+Name&state=sideways");
    assert_eq!(invalid.status, 422);
    assert!(invalid.text.contains("Some filters are not valid"), "{}", invalid.text);
    assert!(invalid.text.contains("sideways"));
}

#[test]
fn dashboard_services_static_files_and_not_found() {
    let app = spawn_with_pci_payments();
    let id = app.create_change(&app.alice, change_input("Patch the kernel"));
    let mut bob = app.signed_in(&app.bob);

    let dashboard = bob.get("/");
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.text.contains(&format!(r#"<a href="/changes/{id}" class="mono">{id}</a>"#)),
        "{}",
        dashboard.text
    );
    assert!(
        dashboard.text.contains(&format!(r#"<span class="stat-value">{}</span>"#, app.event_count())),
        "ledger size"
    );
    assert!(dashboard.text.contains(r#"class="fill-draft""#), "the state bar");

    let services = bob.get("/services");
    assert_eq!(services.status, 200);
    assert!(
        services.text.contains("payments-api") && services.text.contains("Tier 2") && services.text.contains(">pci<")
    );

    let css = bob.get("/static/app.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.text.contains(".state-approved"));

    let missing = bob.get("/no/such/page");
    assert_eq!(missing.status, 404);
    assert!(missing.text.contains("Page not found") && missing.text.contains("who-name"), "{}", missing.text);
    let anonymous = app.client().get("/no/such/page");
    assert_eq!(anonymous.status, 404);
    assert!(anonymous.text.contains("Page not found"));

    // The API keeps its own JSON fallback.
    let api = app.client().get("/api/v1/no-such-endpoint");
    assert_eq!(api.status, 404);
    assert!(api.text.contains(r#""code":"not_found""#), "{}", api.text);
    assert_eq!(app.client().get("/healthz").status, 200);
}

#[test]
fn the_ledger_page_verifies_and_the_dashboard_shows_a_failed_verification() {
    let app = spawn_with_pci_payments();
    let auditor = app.add_user("audrey", &["auditor"], None);
    let id = app.create_change(&app.alice, change_input("Proved change"));

    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/ledger");
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Audit ledger"));
    assert!(!page.text.contains("id=\"verify-ledger\""), "only admins and auditors get the buttons");

    let mut audrey = app.signed_in(&auditor);
    let page = audrey.get("/ledger");
    let csrf = page.csrf();
    assert!(page.text.contains("id=\"verify-ledger\""));
    assert_eq!(audrey.post("/ledger/verify", &[]).status, 403, "no CSRF, no verification");
    let verified = audrey.post("/ledger/verify", &[("csrf", &csrf)]);
    assert_eq!(verified.status, 303);
    let page = audrey.get(verified.location());
    assert!(page.text.contains("entries and 0 signed checkpoints verified"), "{}", page.text);

    // A failed verification (recorded as the service records it) is shown on the dashboard.
    let failure = changegate_core::DomainEvent::LedgerVerified {
        size: 20,
        ok: false,
        first_bad_index: Some(7),
        checkpoints_checked: 0,
        message: "entry 7 does not hash to the leaf recorded when it was appended".into(),
    };
    let time = app.service.now();
    app.block_on(
        app.store().write(async |tx| {
            tx.append(&changegate_core::StreamId::Ledger, "system", time, &failure).await.map(|_| ())
        }),
    )
    .unwrap();
    let dashboard = bob.get("/");
    assert!(dashboard.text.contains("id=\"verification-failed\""), "{}", dashboard.text);
    assert!(dashboard.text.contains("at index 7"));

    // The change page offers its inclusion proof as a download.
    let change_page = bob.get(&format!("/changes/{id}"));
    assert!(change_page.text.contains(&format!("/changes/{id}/proof")));
    let proof = bob.get(&format!("/changes/{id}/proof"));
    assert_eq!(proof.status, 200);
    assert!(proof.header("content-disposition").unwrap().contains("attachment"));
    let proof: serde_json::Value = serde_json::from_str(&proof.text).unwrap();
    assert_eq!(proof["change"], id.to_string());
    assert_eq!(proof["proofs"].as_array().unwrap().len(), proof["entries"].as_array().unwrap().len());
    assert!(!proof["proofs"].as_array().unwrap().is_empty());
}

#[test]
fn the_incidents_page_lists_incidents_with_their_changes() {
    let app = spawn_with_pci_payments();
    let id = app.create_change(&app.alice, change_input("Caused trouble"));
    let incident = changegate_service::NewIncident {
        title: "Checkout <errors>".into(),
        service: "payments-api".into(),
        severity: "sev2".into(),
        detected_at: None,
        caused_by: Some(id.to_string()),
        downtime_minutes: None,
    };
    app.block_on(app.service.open_incident(&app.caller(&app.alice), incident, None)).unwrap();
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/incidents");
    assert_eq!(page.status, 200);
    assert!(page.text.contains("INC-000001"));
    assert!(page.text.contains(&format!("href=\"/changes/{id}\"")));
    assert!(page.text.contains("Checkout &lt;errors&gt;"), "escaped title");
    assert!(!page.text.contains("id=\"open-incident\""), "an approver cannot open incidents");

    let mut alice = app.signed_in(&app.alice);
    let page = alice.get("/incidents");
    let csrf = page.csrf();
    let before = app.event_count();
    let refused = alice.post("/incidents", &[("title", "No CSRF"), ("service", "payments-api"), ("severity", "sev3")]);
    assert_eq!(refused.status, 403);
    let invalid = alice.post(
        "/incidents",
        &[
            ("csrf", &csrf),
            ("title", "Bad"),
            ("service", "payments-api"),
            ("severity", "sev9"),
            ("caused_by", "CHG-009999"),
        ],
    );
    assert_eq!(invalid.status, 422);
    assert!(invalid.text.contains("sev9"), "the message names the bad value");
    assert_eq!(app.event_count(), before, "refusals write nothing");
    let opened = alice.post(
        "/incidents",
        &[
            ("csrf", &csrf),
            ("title", "Latency"),
            ("service", "payments-api"),
            ("severity", "sev2"),
            ("caused_by", &id.to_string().to_lowercase()),
        ],
    );
    assert_eq!(opened.status, 303, "{}", opened.text);
    let resolved = alice.post("/incidents/INC-000002/resolve", &[("csrf", &csrf)]);
    assert_eq!(resolved.status, 303);
    let page = alice.get("/incidents?done=resolved");
    assert!(page.text.contains("Incident resolved."));
    let incident = app.block_on(app.store().incident(changegate_core::IncidentId::new(2))).unwrap().unwrap();
    assert_eq!(incident.caused_by, Some(id));
    assert!(incident.resolved_at.is_some());
}

#[test]
fn the_incident_page_shows_provenance_and_links_confirms_rejects_and_resolves() {
    let app = spawn_with_pci_payments();
    let cause = app.create_change(&app.alice, change_input("Caused trouble"));
    let open = changegate_service::NewIncident {
        title: "Checkout errors".into(),
        service: "payments-api".into(),
        severity: "sev2".into(),
        detected_at: None,
        caused_by: None,
        downtime_minutes: Some(5),
    };
    app.block_on(app.service.open_incident(&app.caller(&app.alice), open, None)).unwrap();
    let mut alice = app.signed_in(&app.alice);
    let page = alice.get("/incidents/INC-000001");
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("No change is linked"), "a draft change is not a deployment: nothing suggested");
    assert!(page.text.contains("5 min of downtime"));
    let csrf = page.csrf();
    let before = app.event_count();
    let bad = alice.post("/incidents/INC-000001", &[("csrf", &csrf), ("action", "link"), ("change", "CHG-099999")]);
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("no change CHG-099999"), "{}", bad.text);
    let bad = alice.post("/incidents/INC-000001", &[("csrf", &csrf), ("action", "update"), ("downtime_minutes", "x")]);
    assert_eq!(bad.status, 422);
    assert_eq!(app.event_count(), before, "refusals write nothing");
    let linked = alice.post(
        "/incidents/INC-000001",
        &[("csrf", &csrf), ("action", "link"), ("change", &cause.to_string().to_lowercase())],
    );
    assert_eq!(linked.status, 303, "{}", linked.text);
    let page = alice.get("/incidents/INC-000001?done=linked");
    assert!(page.text.contains("Link recorded."));
    assert!(page.text.contains("id=\"provenance\">explicit"), "{}", page.text);
    let list = alice.get("/incidents");
    assert!(list.text.contains("href=\"/incidents/INC-000001\""));
    let rejected = alice.post("/incidents/INC-000001", &[("csrf", &csrf), ("action", "reject"), ("comment", "not it")]);
    assert_eq!(rejected.status, 303);
    let page = alice.get("/incidents/INC-000001");
    assert!(page.text.contains("Rejected:"), "{}", page.text);
    let resolved = alice.post(
        "/incidents/INC-000001",
        &[("csrf", &csrf), ("action", "resolve"), ("downtime_minutes", "30"), ("comment", "fixed")],
    );
    assert_eq!(resolved.status, 303);
    let incident = app.block_on(app.store().incident(changegate_core::IncidentId::new(1))).unwrap().unwrap();
    assert_eq!(incident.downtime_minutes, Some(30));
    assert_eq!(incident.rejected_causes, vec![cause]);
    assert!(incident.resolved_at.is_some() && incident.caused_by.is_none());
    // An approver sees the page but no forms.
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/incidents/INC-000001");
    assert!(!page.text.contains("id=\"link-form\""));
    assert_eq!(bob.get("/incidents/nonsense").status, 404);
}
