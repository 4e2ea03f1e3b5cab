//! The governance pages: the approvals inbox, the calendar of windows and planned changes,
//! templates and auto-approved standard changes, the policy in force and its history, the
//! dashboard's governance counts, the alerts page, and the timing of the pages over demo data.

use std::time::Duration;

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, PolicySource};
use changegate_service::{GovernanceSettings, NewChange, NewTemplate, NewUser, Service};

use super::{change_input, pci_payments_api, register_catalog, spawn_with_pci_payments};
use crate::helpers::{Client, TestApp, TestClock, background_runtime, serve};

/// The calendar cell of `date` (`2026-11-28`): from its opening tag to its end.
fn calendar_cell<'a>(body: &'a str, date: &str) -> &'a str {
    let marker = body.find(&format!(r#"data-date="{date}""#)).unwrap_or_else(|| panic!("no cell for {date}:\n{body}"));
    let start = body[..marker].rfind("<td").unwrap_or(marker);
    let end = body[start..].find("</td>").map_or(body.len(), |end| start + end);
    &body[start..end]
}

/// The table row of `marker` (an attribute such as `data-role="approver"`) up to its end.
fn row_of<'a>(body: &'a str, marker: &str) -> &'a str {
    let start = body.find(marker).unwrap_or_else(|| panic!("no row {marker}:\n{body}"));
    let end = body[start..].find("</tr>").map_or(body.len(), |end| start + end);
    &body[start..end]
}

#[test]
fn the_inbox_lists_what_an_approver_may_approve_and_decides_from_its_forms() {
    let app = spawn_with_pci_payments();
    let rita = app.add_user("rita", &["requester", "approver"], None);
    let id = app.create_change(&rita, change_input("Rotate the PCI keys"));
    app.act(&rita, id, Action::Submit);
    let draft = app.create_change(&app.alice, change_input("Still a draft"));

    // Bob (approver) sees it, with what is missing, the warnings and the evidence.
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/approvals");
    assert_eq!(page.status, 200);
    let row = row_of(&page.text, &format!(r#"<tr data-change="{id}">"#));
    assert!(row.contains(r#"title="approver">approver</span>"#), "{row}");
    assert!(row.contains(r#"title="security">security</span>"#), "{row}");
    assert!(row.contains("no test evidence attached"), "the policy's warnings: {row}");
    assert!(row.contains("Security: <span class=\"good-text\">given</span>"), "{row}");
    assert!(row.contains(r#"data-decision="approve""#) && row.contains(r#"data-decision="reject""#));
    assert!(!page.text.contains(&format!(r#"data-change="{draft}""#)), "drafts await nothing");
    assert!(page.text.contains(r#"<th scope="col">Decision</th>"#));
    assert!(page.text.contains(r#"id="nav-inbox-count">1<"#), "the nav counts the inbox");

    // Rita requested it: not in her inbox, and approving it anyway is refused with the reason.
    let mut rita_client = app.signed_in(&rita);
    let page = rita_client.get("/approvals");
    assert!(!page.text.contains(&format!(r#"data-change="{id}""#)), "{}", page.text);
    assert!(page.text.contains(r#"id="inbox-empty""#));
    let csrf = page.csrf();
    let before = app.event_count();
    let refused =
        rita_client.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf), ("comment", "mine, but fine")]);
    assert_eq!(refused.status, 403);
    assert!(
        refused.text.contains(&format!("Could not approve {id}: separation of duties: rita requested {id}")),
        "{}",
        refused.text
    );
    assert_eq!(app.event_count(), before + 1, "the refusal is recorded, nothing else");
    assert!(app.change(id).approvals.is_empty());

    // Without the CSRF value nothing happens.
    assert_eq!(bob.post(&format!("/approvals/{id}/approve"), &[("comment", "forged")]).status, 403);
    assert_eq!(bob.post(&format!("/approvals/{id}/maybe"), &[]).status, 404);

    // Bob approves from the inbox; the change then waits for security only.
    let csrf = bob.get("/approvals").csrf();
    let reply = bob.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf), ("comment", "peer-reviewed")]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(reply.location(), format!("/approvals?done=approve&change={id}"));
    let page = bob.get(reply.location());
    assert!(page.text.contains(&format!("Your approval of {id} is recorded.")), "{}", page.text);
    assert!(!page.text.contains(&format!(r#"data-change="{id}""#)), "bob filled what he can fill");
    let change = app.change(id);
    assert_eq!(change.approvals[0].approver.as_str(), "bob");
    assert_eq!(change.approvals[0].comment.as_deref(), Some("peer-reviewed"));
    assert_eq!(change.state.as_str(), "assessed");

    // A second approval by bob is refused (he already approved), with its message.
    let refused = bob.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf), ("comment", "again")]);
    assert_eq!(refused.status, 409);
    assert!(refused.text.contains(r#"role="alert" id="flash">Could not approve"#), "{}", refused.text);
    assert!(refused.text.contains("already approved"), "{}", refused.text);

    // The change page says who filled which approval and what is missing.
    let sam = app.add_user("sam", &["security"], None);
    let mut sam = app.signed_in(&sam);
    let change_page = sam.get(&format!("/changes/{id}"));
    let approver = row_of(&change_page.text, r#"<tr data-role="approver">"#);
    assert!(approver.contains(r#"<span class="strong">bob</span>"#) && approver.contains("filled"), "{approver}");
    let security = row_of(&change_page.text, r#"<tr data-role="security">"#);
    assert!(security.contains("1 more"), "{security}");

    // Security rejects another change from the inbox, with a reason.
    let other = app.create_change(&app.alice, change_input("Widen the firewall"));
    app.act(&app.alice, other, Action::Submit);
    let page = sam.get("/approvals");
    assert!(page.text.contains(&format!(r#"<tr data-change="{id}">"#)));
    assert!(page.text.contains(&format!(r#"<tr data-change="{other}">"#)));
    let csrf = page.csrf();
    let reply = sam.post(&format!("/approvals/{other}/reject"), &[("csrf", &csrf), ("comment", "too broad")]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert!(sam.get(reply.location()).text.contains(&format!("Your rejection of {other} is recorded.")));
    assert_eq!(app.change(other).state.as_str(), "rejected");
    let reply = sam.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(app.change(id).state.as_str(), "approved");
    assert!(sam.get("/approvals").text.contains(r#"id="inbox-empty""#));
}

#[test]
fn the_calendar_shows_windows_and_planned_changes_by_month_and_week() {
    let app = spawn_with_pci_payments();
    let carol = app.add_user("carol", &["cab"], None);
    let planned = app.create_change(
        &app.alice,
        NewChange {
            planned_start: Some("2026-11-26T10:00:00Z".into()),
            planned_end: Some("2026-11-26T11:30:00Z".into()),
            ..change_input("Planned key rotation")
        },
    );
    app.act(&app.alice, planned, Action::Submit);

    let mut carol = app.signed_in(&carol);
    let page = carol.get("/calendar?month=2026-11");
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"id="define-window""#), "cab may define windows");
    let csrf = page.csrf();
    let window = |fields: &[(&'static str, &'static str)]| -> Vec<(&'static str, String)> {
        let mut all: Vec<(&'static str, String)> = vec![
            ("csrf", csrf.clone()),
            ("kind", "freeze".into()),
            ("scope_kind", "global".into()),
            ("scope_name", String::new()),
            ("schedule_kind", "one_off".into()),
            ("time_zone", "UTC".into()),
        ];
        for (name, value) in fields {
            all.retain(|(existing, _)| existing != name);
            all.push((name, (*value).to_owned()));
        }
        all
    };
    let post = |client: &mut Client, fields: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (*name, value.as_str())).collect();
        client.post("/calendar/windows", &pairs)
    };
    let reply = post(
        &mut carol,
        window(&[
            ("name", "black-friday"),
            ("start", "2026-11-27T00:00"),
            ("end", "2026-11-30T00:00"),
            ("description", "Peak sales: no changes"),
        ]),
    );
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(reply.location(), "/calendar?month=2026-11&done=window-defined");
    let reply = post(
        &mut carol,
        window(&[
            ("name", "saturday-nights"),
            ("kind", "maintenance"),
            ("scope_kind", "team"),
            ("scope_name", "payments"),
            ("schedule_kind", "recurring"),
            ("rule", "cron:0 22 * * SAT"),
            ("time_zone", "Europe/Berlin"),
            ("duration_minutes", "240"),
        ]),
    );
    assert_eq!(reply.status, 303, "{}", reply.text);
    // The service's refusal is shown beside the field it is about, with what was typed.
    let before = app.event_count();
    let reply = post(
        &mut carol,
        window(&[
            ("name", "martian-maintenance"),
            ("schedule_kind", "recurring"),
            ("rule", "cron:0 22 * * SAT"),
            ("time_zone", "Mars/Olympus_Mons"),
            ("duration_minutes", "60"),
        ]),
    );
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(reply.text.contains(r#"data-field="time_zone""#), "{}", reply.text);
    assert!(reply.text.contains("Mars&#x2f;Olympus_Mons"), "what was typed stays");
    let reply = post(&mut carol, window(&[("name", "no-end"), ("start", "2026-12-01T00:00")]));
    assert_eq!(reply.status, 422);
    assert!(reply.text.contains(r#"<ul class="field-errors" data-field="end"><li>must not be empty</li></ul>"#));
    assert_eq!(app.event_count(), before, "refused windows write nothing");

    // The month: the freeze (in its own colour) on its days, maintenance on Saturday night,
    // the planned change on its day with a link.
    let month = carol.get("/calendar?month=2026-11&done=window-defined");
    assert_eq!(month.status, 200);
    assert!(month.text.contains(r#"data-view="month""#) && month.text.contains("November 2026"));
    assert!(month.text.contains("Window saved."));
    assert!(month.text.contains("(UTC)"));
    for date in ["2026-11-27", "2026-11-28", "2026-11-29"] {
        let cell = calendar_cell(&month.text, date);
        assert!(cell.contains("cal-frozen"), "{date}: {cell}");
        assert!(cell.contains(r#"<li class="cal-window cal-freeze" data-window="black-friday""#), "{date}: {cell}");
    }
    assert!(!calendar_cell(&month.text, "2026-11-30").contains("black-friday"), "the end is not included");
    let saturday = calendar_cell(&month.text, "2026-11-28");
    assert!(saturday.contains(r#"data-window="saturday-nights""#), "{saturday}");
    assert!(saturday.contains("from 21:00"), "22:00 in Berlin is 21:00 UTC in November: {saturday}");
    let thursday = calendar_cell(&month.text, "2026-11-26");
    assert!(thursday.contains(&format!(r#"<a href="/changes/{planned}" class="mono">{planned}</a>"#)), "{thursday}");
    assert!(thursday.contains("10:00–11:30"), "{thursday}");
    assert!(!thursday.contains("cal-frozen"));
    assert!(month.text.contains("calendar?month=2026-12") && month.text.contains("calendar?month=2026-10"));
    assert_eq!(month.text.matches(r#"<td class="cal-day"#).count(), 42, "six whole weeks");
    // The windows' definitions, with the time zone of the recurring one.
    let definition = row_of(&month.text, r#"<tr data-window="saturday-nights">"#);
    assert!(definition.contains("local times in Europe&#x2f;Berlin") && definition.contains("cron:0 22 * * SAT"));
    assert!(definition.contains("services of team payments"), "{definition}");
    assert!(row_of(&month.text, r#"<tr data-window="black-friday">"#).contains("Peak sales: no changes"));

    // The week, by ISO week and by date.
    for path in ["/calendar?week=2026-W48", "/calendar?view=week&date=2026-11-28"] {
        let week = carol.get(path);
        assert_eq!(week.status, 200, "{path}");
        assert!(week.text.contains(r#"data-view="week""#) && week.text.contains("Week 48 of 2026"), "{path}");
        assert_eq!(week.text.matches(r#"<td class="cal-day"#).count(), 7, "{path}");
        assert!(calendar_cell(&week.text, "2026-11-27").contains(r#"data-window="black-friday""#), "{path}");
        assert!(calendar_cell(&week.text, "2026-11-26").contains(&format!(r#"data-change="{planned}""#)));
        assert!(week.text.contains("calendar?week=2026-W49") && week.text.contains("calendar?month=2026-11"));
    }
    let bad = carol.get("/calendar?month=2026-13");
    assert_eq!(bad.status, 422);
    assert!(bad.text.contains("not a month such as 2026-11"), "{}", bad.text);

    // A change planned into the freeze is denied on submission; its page says why.
    let frozen = app.create_change(
        &app.alice,
        NewChange { planned_start: Some("2026-11-28T10:00:00Z".into()), ..change_input("During the freeze") },
    );
    assert_eq!(app.act(&app.alice, frozen, Action::Submit).state.as_str(), "rejected");
    let page = carol.get(&format!("/changes/{frozen}"));
    assert!(page.text.contains(r#"id="denied""#), "{}", page.text);
    assert!(page.text.contains("freeze `black-friday` is in force"), "{}", page.text);
    assert!(page.text.contains(r#"<span class="badge badge-freeze">freeze</span> black-friday"#));

    // Others see no form and may not remove a window; cab may.
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/calendar");
    assert!(!page.text.contains(r#"id="define-window""#));
    let bob_csrf = page.csrf();
    assert_eq!(bob.post("/calendar/windows/black-friday/remove", &[("csrf", &bob_csrf)]).status, 403);
    let reply = carol.post("/calendar/windows/black-friday/remove", &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/calendar?done=window-removed");
    let month = carol.get("/calendar?month=2026-11");
    assert!(!month.text.contains("black-friday"), "{}", month.text);
}

#[test]
fn templates_are_listed_and_defined_and_a_standard_change_from_one_is_auto_approved() {
    let app = spawn_with_pci_payments();
    register_catalog(&app);
    let mut admin = app.signed_in(&app.admin);
    let page = admin.get("/templates");
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"id="no-templates""#) && page.text.contains(r#"id="define-template""#));
    let csrf = page.csrf();
    let template = |name: &'static str, services: &'static str| {
        vec![
            ("csrf", csrf.as_str()),
            ("name", name),
            ("description", "Restart the pods of a service"),
            ("services", services),
            ("environments", "production, staging"),
            ("max_risk", "low"),
            ("approved", "yes"),
        ]
    };
    let refused = admin.post("/templates", &template("restart-pod", "catalog, no-such-service"));
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("no service named no-such-service"), "{}", refused.text);
    assert!(refused.text.contains(r#"value="catalog, no-such-service""#));
    let reply = admin.post("/templates", &template("restart-pod", "catalog"));
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(reply.location(), "/templates?done=defined");
    let retired = NewTemplate { name: "old-way".into(), approved: false, ..NewTemplate::default() };
    app.block_on(app.service.define_template(&app.caller(&app.admin), retired)).unwrap();

    let mut alice = app.signed_in(&app.alice);
    let page = alice.get("/templates");
    assert!(!page.text.contains(r#"id="define-template""#), "only admin and cab define templates");
    let row = row_of(&page.text, r#"<tr data-template="restart-pod">"#);
    assert!(row.contains(">catalog<") && row.contains(">production<") && row.contains(">staging<"), "{row}");
    assert!(row.contains("/changes/new?template=restart-pod"), "{row}");
    assert!(row_of(&page.text, r#"<tr data-template="old-way">"#).contains("retired"));

    // The new-change form offers approved templates only, with what they cover.
    let form = alice.get("/changes/new");
    assert!(
        form.text.contains(
            r#"<option value="restart-pod">restart-pod: catalog · production, staging · max risk low</option>"#
        ),
        "{}",
        form.text
    );
    assert!(!form.text.contains(r#"value="old-way""#));
    let form = alice.get("/changes/new?template=restart-pod");
    assert!(form.text.contains(r#"<option value="restart-pod" selected>"#));
    assert!(form.text.contains(r#"<option value="standard" selected>"#));
    let csrf = form.csrf();
    // Low risk: a rollback plan, test and security evidence, planned on a weekday morning.
    let standard = |service: &'static str| {
        vec![
            ("csrf", csrf.as_str()),
            ("title", "Restart the catalog pods"),
            ("type", "standard"),
            ("template", "restart-pod"),
            ("service", service),
            ("environment", "production"),
            ("rollback_plan", "nothing to roll back: pods restart from the same image"),
            ("test_evidence", "smoke tests green"),
            ("security_evidence", "no code change"),
            ("planned_start", "2026-12-02T10:00"),
        ]
    };
    let refused = alice.post("/changes", &standard("payments-api"));
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("template restart-pod does not cover service payments-api"), "{}", refused.text);
    let reply = alice.post("/changes", &standard("catalog"));
    assert_eq!(reply.status, 303, "{}", reply.text);
    let path = reply.location().to_owned();
    let id: ChangeId = path.trim_start_matches("/changes/").parse().unwrap();
    assert_eq!(app.change(id).template.as_ref().map(|name| name.as_str()), Some("restart-pod"));
    assert_eq!(app.change(id).change_type.as_str(), "standard");

    let reply = alice.post(&format!("{path}/actions/submit"), &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303, "{}", reply.text);
    let change = app.change(id);
    assert!(change.auto_approved, "{change:?}");
    assert_eq!(change.state.as_str(), "approved");
    let page = alice.get(&path);
    assert!(page.text.contains(r#"<a class="mono" href="/templates" id="change-template">restart-pod</a>"#));
    assert!(page.text.contains("the policy needs no human approval"), "{}", page.text);
    assert!(page.text.contains("the policy auto-approves it"));

    // An emergency change needs a justification; the form shows the service's message.
    let emergency = |justification: &'static str| {
        vec![
            ("csrf", csrf.as_str()),
            ("title", "Catalog is down"),
            ("type", "emergency"),
            ("service", "catalog"),
            ("environment", "production"),
            ("justification", justification),
        ]
    };
    let refused = alice.post("/changes", &emergency("  "));
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains(r#"<ul class="field-errors" data-field="justification">"#), "{}", refused.text);
    assert!(refused.text.contains("an emergency change needs a justification"));
    let reply = alice.post("/changes", &emergency("checkout fails for every customer"));
    assert_eq!(reply.status, 303, "{}", reply.text);
    let page = alice.get(reply.location());
    assert!(page.text.contains(r#"<div class="prose" id="justification">checkout fails for every customer</div>"#));
}

#[test]
fn the_policy_page_shows_the_policy_in_force_and_its_history() {
    let app = spawn_with_pci_payments();
    let mut bob = app.signed_in(&app.bob);
    let (_, default) = app.block_on(app.service.current_policy(&app.caller(&app.admin))).unwrap();
    let page = bob.get("/policy");
    assert_eq!(page.status, 200);
    assert!(page.text.contains("In force:") && page.text.contains("the default policy shipped with Changegate"));
    assert!(page.text.contains(&format!(r#"id="policy-sha256">{}</dd>"#, default.sha256())), "{}", page.text);
    assert!(page.text.contains("package changegate"), "the Rego source");
    assert!(page.text.contains("changegate policy set --file F"));

    // A change decided by it links its policy version.
    let id = app.create_change(&app.alice, change_input("Decided by the default"));
    app.act(&app.alice, id, Action::Submit);
    let change_page = bob.get(&format!("/changes/{id}"));
    assert!(change_page.text.contains(&format!("/policy?sha256={}", default.sha256())), "{}", change_page.text);
    assert!(change_page.text.contains(r#"id="input-sha""#));
    assert_eq!(bob.get(&format!("/policy?sha256={}", default.sha256())).status, 200);

    // A version set (as the CLI does it) is in force; the default stays in the history.
    let files: Vec<PolicySource> = default
        .files()
        .iter()
        .map(|file| PolicySource { name: file.name.clone(), text: format!("{}\n# tuned for the test\n", file.text) })
        .collect();
    let record =
        app.block_on(app.service.set_policy(&app.caller(&app.admin), files, Some("tuned <for> Q4".into()))).unwrap();
    let page = bob.get("/policy");
    assert!(page.text.contains(&format!("version {}", record.sequence)), "{}", page.text);
    assert!(page.text.contains("# tuned for the test"));
    assert!(page.text.contains("tuned &lt;for&gt; Q4"), "the comment, escaped");
    let history = row_of(&page.text, &format!(r#"<tr data-sequence="{}">"#, record.sequence));
    assert!(history.contains("in force") && history.contains(&format!("/policy?version={}", record.sequence)));
    assert!(page.text.contains("Default policy") && page.text.contains("superseded"));

    let older = bob.get(&format!("/policy?sha256={}", record.sha256));
    assert_eq!(older.status, 200);
    let missing = bob.get("/policy?version=999999");
    assert_eq!(missing.status, 404);
    assert!(missing.text.contains("No policy version 999999 was set"), "{}", missing.text);
}

#[test]
fn the_dashboard_counts_my_inbox_and_overdue_emergencies() {
    // Emergencies are due one millisecond after they start, so this one is overdue at once.
    let settings = GovernanceSettings { emergency_deadline_ms: 1, ..GovernanceSettings::default() };
    let app = TestApp::builder().service(pci_payments_api()).governance_settings(settings).spawn();
    register_catalog(&app);
    let carol = app.add_user("carol", &["cab"], None);
    // Medium risk on a tier-3 service outside compliance scope: one peer approver is required.
    let id = app.create_change(
        &app.alice,
        NewChange {
            change_type: "emergency".into(),
            service: "catalog".into(),
            justification: Some("the catalog is down".into()),
            planned_start: Some("2026-12-02T10:00:00Z".into()),
            ..change_input("Hotfix the catalog")
        },
    );
    let submitted = app.act(&app.alice, id, Action::Submit);
    let required = &submitted.assessment.as_ref().unwrap().required_approvals;
    assert_eq!(required.iter().map(|required| required.role.as_str()).collect::<Vec<_>>(), ["approver"]);
    app.act(&app.alice, id, Action::Start);
    app.clock.advance(Duration::from_millis(5));
    app.block_on(app.service.flag_overdue_emergencies()).unwrap();
    assert!(app.change(id).emergency_overdue);

    let mut bob = app.signed_in(&app.bob);
    let dashboard = bob.get("/");
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.text.contains(r#"<a class="stat stat-attention" href="/approvals" id="stat-inbox">"#),
        "{}",
        dashboard.text
    );
    assert!(dashboard.text.contains(r#"<div class="stat stat-danger" id="stat-overdue">"#), "{}", dashboard.text);
    assert!(dashboard.text.contains(r#"id="nav-inbox-count">1<"#));
    let inbox = bob.get("/approvals");
    let row = row_of(&inbox.text, &format!(r#"<tr data-change="{id}">"#));
    assert!(row.contains("retrospective") && row.contains(r#"<span class="badge badge-overdue">overdue</span>"#));
    assert!(row.contains("the catalog is down"), "the justification: {row}");
    let page = bob.get(&format!("/changes/{id}"));
    assert!(page.text.contains(r#"id="overdue-badge""#) && page.text.contains(r#"id="retrospective-due""#));
    assert!(page.text.contains(r#"<dt>Implementer</dt><dd>alice</dd>"#), "{}", page.text);

    // Carol's cab role fills nothing the policy asks for here; a requester has no inbox tile.
    let mut carol = app.signed_in(&carol);
    let dashboard = carol.get("/");
    assert!(dashboard.text.contains(r#"<a class="stat" href="/approvals" id="stat-inbox">"#), "{}", dashboard.text);
    let mut alice = app.signed_in(&app.alice);
    let dashboard = alice.get("/");
    assert!(!dashboard.text.contains(r#"id="stat-inbox""#));
    assert!(dashboard.text.contains(r#"<div class="stat stat-danger" id="stat-overdue">"#));
}

/// Times the pages over a demo store, the size the product is demonstrated at (20,000 changes):
/// `changegate demo --no-serve --data-dir DIR`, then
/// `CHANGEGATE_WEB_DEMO_DIR=DIR cargo test -p changegate-server --test api -- --ignored --nocapture pages_stay_quick`.
/// It adds one user to that store (with every deciding role, so the inbox is as full as it gets).
/// The service reads the test clock, like every other test's.
#[test]
#[ignore = "needs a demo store in CHANGEGATE_WEB_DEMO_DIR"]
fn pages_stay_quick_over_demo_data() {
    let Some(data_dir) = std::env::var_os("CHANGEGATE_WEB_DEMO_DIR") else {
        panic!("set CHANGEGATE_WEB_DEMO_DIR to the data directory of a demo store");
    };
    let runtime = background_runtime();
    let (store, user, address) = runtime.block_on(async move {
        let location = changegate_store::StoreLocation::DataDir(data_dir.into());
        let store = changegate_store::Store::open(&location).await.unwrap();
        let service = Service::new(store.clone(), TestClock::new().shared());
        let name = format!("timer-{}", std::process::id());
        let roles = ["requester", "approver", "security", "cab", "admin"].map(str::to_owned).to_vec();
        let user = service.add_user_locally(&NewUser { name, roles, team: None }).await.unwrap();
        let address = serve(service, false).await;
        (store, user, address)
    });
    let mut client = Client::new(address);
    assert_eq!(client.post("/login", &[("token", &user.token)]).status, 303);
    let waiting = runtime.block_on(store.changes_awaiting_approval(1)).unwrap();
    let mut paths = vec![
        "/".to_owned(),
        "/approvals".to_owned(),
        "/calendar".to_owned(),
        "/calendar?view=week".to_owned(),
        "/templates".to_owned(),
        "/policy".to_owned(),
        "/changes/new".to_owned(),
        "/changes".to_owned(),
    ];
    paths.extend(waiting.first().map(|change| format!("/changes/{}", change.id)));
    // Once more, warm: the first request also pays for the connection and the store's caches.
    paths.push("/".to_owned());
    for path in paths {
        let started = std::time::Instant::now();
        let page = client.get(&path);
        let elapsed = started.elapsed();
        println!(
            "{path:<28} {:>4} {:>8.1} ms {:>8} bytes",
            page.status,
            elapsed.as_secs_f64() * 1000.0,
            page.text.len()
        );
        assert_eq!(page.status, 200, "{path}");
    }
}

#[test]
fn the_alerts_page_defines_rules_and_hooks_and_shows_an_automated_rollback() {
    let app = spawn_with_pci_payments();
    register_catalog(&app);
    let mut admin = app.signed_in(&app.admin);
    let page = admin.get("/alerts");
    assert_eq!(page.status, 200);
    assert!(page.text.contains(r#"href="/alerts" aria-current="page""#), "the navigation links the page");
    assert!(page.text.contains(r#"id="no-rules""#));
    let csrf = page.csrf();
    // A bad rule comes back with its field and writes nothing.
    let before = app.event_count();
    let bad = admin.post(
        "/alerts/rules",
        &[("csrf", &csrf), ("name", "stuck"), ("rule", r#"{"kind": "approval_overdue", "after_hours": 0}"#)],
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains(r#"data-field="after_hours""#), "{}", bad.text);
    assert!(bad.text.contains("approval_overdue"), "the form keeps what was typed");
    assert_eq!(app.event_count(), before);
    // A good one is saved and listed with its parameters.
    let saved = admin.post(
        "/alerts/rules",
        &[("csrf", &csrf), ("name", "stuck"), ("rule", r#"{"kind": "approval_overdue", "after_hours": 8}"#)],
    );
    assert_eq!(saved.status, 303, "{}", saved.text);
    let page = admin.get(saved.location());
    assert!(page.text.contains(r#"data-rule="stuck""#) && page.text.contains("after_hours=8"), "{}", page.text);
    // A command hook for catalog, then a failed change of it is rolled back automatically.
    let hook = admin.post(
        "/alerts/rollback-hooks",
        &[
            ("csrf", &csrf),
            ("service", "catalog"),
            ("kind", "command"),
            ("target", "/bin/true"),
            ("arguments", ""),
            ("incident_window_hours", "12"),
        ],
    );
    assert_eq!(hook.status, 303, "{}", hook.text);
    let page = admin.get("/alerts");
    assert!(page.text.contains(r#"data-service="catalog""#) && page.text.contains("12 h"), "{}", page.text);
    let emergency = NewChange {
        change_type: "emergency".into(),
        service: "catalog".into(),
        justification: Some("the catalog is down".into()),
        ..change_input("Restart the catalog")
    };
    let id = app.create_change(&app.alice, emergency);
    app.act(&app.alice, id, Action::Submit);
    app.act(&app.alice, id, Action::Start);
    app.act(&app.alice, id, Action::Fail);
    let mut rolled_back = false;
    for _ in 0..200 {
        if app.change(id).rollback_automated {
            rolled_back = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(rolled_back, "the alert engine ran the hook");
    let change_page = admin.get(&format!("/changes/{id}"));
    assert!(change_page.text.contains("rolled back automatically"), "{}", change_page.text);
    assert!(change_page.text.contains(r#"id="rollback-hook-runs""#));
    // A requester sees the page without the forms.
    let mut alice = app.signed_in(&app.alice);
    let page = alice.get("/alerts");
    assert_eq!(page.status, 200);
    assert!(!page.text.contains(r#"id="define-rule""#));
}
