//! The web pages over real HTTP: sign-in and its cookie, CSRF refusals, the new-change form,
//! lifecycle actions with their error banners, lists, escaping of hostile input, and not-found
//! pages. The server runs on a background runtime; the test drives it with blocking `ureq`.

use std::future::Future;

use changegate_core::ChangeId;
use changegate_service::{Caller, CreatedUser, NewChange, NewService, NewUser, Service, SystemClock};
use ureq::http::HeaderMap;

/// A running server over a fresh SQLite store with an admin, alice (requester), bob (approver)
/// and the service `payments-api`.
struct TestApp {
    runtime: tokio::runtime::Runtime,
    base: String,
    service: Service,
    alice: CreatedUser,
    bob: CreatedUser,
    _dir: tempfile::TempDir,
}

impl TestApp {
    fn start() -> Self {
        Self::start_with(false)
    }

    fn start_with(secure_cookies: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        let (service, alice, bob, address) = runtime.block_on(async move {
            let store =
                changegate_store::Store::open(&changegate_store::StoreLocation::DataDir(data_dir)).await.unwrap();
            let service = Service::new(store, std::sync::Arc::new(SystemClock));
            let admin = service.bootstrap_admin("admin").await.unwrap();
            let alice = service
                .add_user_locally(&NewUser { name: "alice".into(), roles: vec!["requester".into()], team: None })
                .await
                .unwrap();
            let bob = service
                .add_user_locally(&NewUser { name: "bob".into(), roles: vec!["approver".into()], team: None })
                .await
                .unwrap();
            let caller = Caller { user: admin.user.clone() };
            let payments = NewService {
                name: "payments-api".into(),
                team: "payments".into(),
                tier: 2,
                scopes: vec!["pci".into()],
                depends_on: vec![],
            };
            service.register_service(&caller, payments, None).await.unwrap();
            let config = changegate_server::ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies };
            let app = changegate_server::Application::build(service.clone(), config).await.unwrap();
            let address = app.local_addr();
            tokio::spawn(app.run_until(std::future::pending()));
            (service, alice, bob, address)
        });
        TestApp { runtime, base: format!("http://{address}"), service, alice, bob, _dir: dir }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn event_count(&self) -> u64 {
        self.block_on(self.service.store().event_count()).unwrap()
    }

    fn caller(&self, user: &CreatedUser) -> Caller {
        Caller { user: user.user.clone() }
    }

    /// A change created directly through the service (for tests about other pages).
    fn create_change(&self, user: &CreatedUser, title: &str) -> ChangeId {
        let input = NewChange {
            title: title.into(),
            description: "made by the test".into(),
            change_type: "normal".into(),
            service: "payments-api".into(),
            environment: "production".into(),
            ..NewChange::default()
        };
        self.block_on(self.service.create_change(&self.caller(user), input, None)).unwrap().value.id
    }

    fn change(&self, id: ChangeId) -> changegate_core::ChangeRecord {
        self.block_on(self.service.store().change(id)).unwrap().expect("the change exists")
    }

    fn client(&self) -> Client {
        Client { base: self.base.clone(), agent: agent(), cookie: None }
    }

    fn signed_in(&self, user: &CreatedUser) -> Client {
        let mut client = self.client();
        let reply = client.post("/login", &[("token", &user.token)]);
        assert_eq!(reply.status, 303, "signing in as {} failed: {}", user.user.name, reply.body);
        client
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into()
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn location(&self) -> &str {
        self.header("location").unwrap_or_else(|| panic!("no Location in a {} reply", self.status))
    }

    /// The page's CSRF value, as its forms carry it.
    fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let start = self.body.find(marker).expect("the page has a CSRF field") + marker.len();
        self.body[start..start + 64].to_owned()
    }
}

/// A browser-like client: keeps the session cookie, never follows redirects.
struct Client {
    base: String,
    agent: ureq::Agent,
    cookie: Option<String>,
}

impl Client {
    fn reply(&mut self, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut response = response.expect("the request reaches the server");
        let headers = response.headers().clone();
        for value in headers.get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            if let Some(token) = pair.strip_prefix("changegate_session=") {
                self.cookie = (!token.is_empty()).then(|| pair.to_owned());
            }
        }
        let body = response.body_mut().read_to_string().unwrap();
        Reply { status: response.status().as_u16(), headers, body }
    }

    fn get(&mut self, path: &str) -> Reply {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.call();
        self.reply(response)
    }

    fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.post_with(path, fields, &[])
    }

    fn post_with(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send_form(fields.iter().copied());
        self.reply(response)
    }
}

fn new_change_fields<'a>(csrf: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("title", title),
        ("description", "Rotate the signing keys of the payments API.\nSecond line."),
        ("type", "normal"),
        ("service", "payments-api"),
        ("environment", "production"),
        ("implementation_plan", "1. deploy\n2. watch"),
        ("rollback_plan", "redeploy the previous release"),
        ("planned_start", "2026-11-26T10:00"),
        ("planned_end", "2026-11-26T11:30"),
        ("links", "https://git.example/pr/42\r\n\r\nhttps://ci.example/runs/7\r\n"),
    ]
}

#[test]
fn sign_in_page_and_bad_tokens_write_nothing() {
    let app = TestApp::start();
    let mut client = app.client();
    let page = client.get("/login");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"name="token""#), "{}", page.body);
    assert!(page.header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors 'none'")));

    let before = app.event_count();
    let fake = format!("cg_{}", "0".repeat(64));
    for token in [fake.as_str(), "garbage", ""] {
        let reply = client.post("/login", &[("token", token)]);
        assert_eq!(reply.status, 401, "token {token:?}");
        assert!(reply.header("set-cookie").is_none());
        assert!(reply.body.contains(r#"id="login-error""#), "{}", reply.body);
        assert!(!reply.body.contains(&fake), "a refused token is never echoed");
    }
    assert!(client.post("/login", &[("token", &fake)]).body.contains("not accepted"));
    assert_eq!(app.event_count(), before, "refused sign-ins write nothing");

    // Pages need a session; a GET comes back to where it was going.
    let reply = client.get("/");
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login");
    let reply = client.get("/changes/CHG-000001");
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login?next=%2Fchanges%2FCHG-000001");
    // A stale cookie is refused and dropped.
    client.cookie = Some(format!("changegate_session={fake}"));
    let reply = client.get("/services");
    assert_eq!(reply.location(), "/login?next=%2Fservices");
    assert!(reply.header("set-cookie").is_some_and(|cookie| cookie.contains("Max-Age=0")));
    assert_eq!(app.event_count(), before);
}

#[test]
fn signing_in_sets_a_strict_http_only_session_cookie() {
    let app = TestApp::start();
    let mut client = app.client();
    let reply = client.post("/login", &[("token", &app.alice.token)]);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/");
    let cookie = reply.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with(&format!("changegate_session={};", app.alice.token)), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.split("; ").any(|part| part == attribute), "{attribute} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag ({cookie})");

    let dashboard = client.get("/");
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains(r#"<span class="who-name" id="who-name">alice</span>"#));
    assert!(dashboard.body.contains(r#"<span class="role">requester</span>"#));
    assert_eq!(dashboard.header("cache-control"), Some("no-store"));
    let csrf = dashboard.csrf();
    assert_eq!(csrf, changegate_server::web::csrf_token(&app.alice.token));

    // Signed in, the sign-in page sends you on.
    assert_eq!(client.get("/login?next=/services").location(), "/services");

    // Signing out needs the CSRF value too; then the cookie is cleared.
    let refused = client.post("/logout", &[]);
    assert_eq!(refused.status, 403);
    assert!(refused.header("set-cookie").is_none());
    let reply = client.post("/logout", &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login");
    assert!(reply.header("set-cookie").is_some_and(|cookie| {
        cookie.starts_with("changegate_session=;") && cookie.contains("Max-Age=0") && cookie.contains("HttpOnly")
    }));
    assert!(client.cookie.is_none());
    assert_eq!(client.get("/").status, 303);

    // `next` brings the user back, but only to a page of this site.
    let mut client = app.client();
    let reply = client.post("/login", &[("token", &app.bob.token), ("next", "/changes?state=assessed")]);
    assert_eq!(reply.location(), "/changes?state=assessed");
    let mut client = app.client();
    let reply = client.post("/login", &[("token", &app.bob.token), ("next", "//evil.example/x")]);
    assert_eq!(reply.location(), "/");
}

#[test]
fn secure_cookies_when_configured() {
    let app = TestApp::start_with(true);
    let reply = app.client().post("/login", &[("token", &app.alice.token)]);
    assert_eq!(reply.status, 303);
    let cookie = reply.header("set-cookie").unwrap();
    assert!(cookie.split("; ").any(|part| part == "Secure"), "{cookie}");
}

#[test]
fn cross_site_sign_in_is_refused() {
    let app = TestApp::start();
    let mut client = app.client();
    let reply = client.post_with("/login", &[("token", &app.alice.token)], &[("origin", "https://evil.example")]);
    assert_eq!(reply.status, 403);
    assert!(reply.header("set-cookie").is_none());
    assert!(reply.body.contains("another site"), "{}", reply.body);
    let reply = client.post_with("/login", &[("token", &app.alice.token)], &[("origin", "null")]);
    assert_eq!(reply.status, 403);
    let own_origin = app.base.clone();
    let reply = client.post_with("/login", &[("token", &app.alice.token)], &[("origin", &own_origin)]);
    assert_eq!(reply.status, 303);
    assert!(reply.header("set-cookie").is_some());
}

#[test]
fn a_change_is_created_through_the_form_and_submitted() {
    let app = TestApp::start();
    let mut alice = app.signed_in(&app.alice);
    let form = alice.get("/changes/new");
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains(r#"<option value="payments-api">payments-api (tier 2, payments)</option>"#),
        "{}",
        form.body
    );
    let csrf = form.csrf();

    let before = app.event_count();
    let reply = alice.post("/changes", &new_change_fields(&csrf, "Rotate signing keys"));
    assert_eq!(reply.status, 303, "{}", reply.body);
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
    assert!(page.body.contains(r#"<h1 id="change-title">Rotate signing keys</h1>"#));
    assert!(page.body.contains(r#"data-state="draft""#));
    assert!(
        page.body.contains(r#"rel="noopener noreferrer nofollow">https:&#x2f;&#x2f;git.example&#x2f;pr&#x2f;42</a>"#)
    );
    assert!(page.body.contains("change created"), "the timeline shows the creation");

    let reply = alice.post("/changes/CHG-000001/actions/submit", &[("csrf", &csrf), ("comment", "ready")]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location(), "/changes/CHG-000001?done=submit");
    let page = alice.get(reply.location());
    assert!(page.body.contains(r#"data-state="assessed""#));
    assert!(page.body.contains("banner-success"));
    assert!(page.body.contains("normal change on a tier-2 service"), "the assessment's reasons are shown");
    assert!(page.body.contains(r#"<span class="badge risk-medium">medium</span>"#));
}

#[test]
fn invalid_input_re_renders_the_form_with_messages_and_values() {
    let app = TestApp::start();
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
        reply.body.contains(r#"<ul class="field-errors" data-field="title"><li>must not be empty</li></ul>"#),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(r#"data-field="environment""#));
    assert!(reply.body.contains(r#"data-field="planned_end""#));
    assert!(reply.body.contains("not a valid name"));
    // What was typed is kept.
    assert!(reply.body.contains(r#"value="Prod!""#));
    assert!(reply.body.contains("Rotate the signing keys of the payments API.\nSecond line."));
    assert!(reply.body.contains(r#"<option value="payments-api" selected>"#));
    assert!(reply.body.contains(r#"value="2026-11-26T10:00""#));

    // Long texts fit (URL-encoding inflates them past the API's JSON limit)...
    let long_plan = "ü".repeat(19_000);
    let mut fields = new_change_fields(&csrf, "Long plans");
    fields.retain(|(name, _)| *name != "implementation_plan" && *name != "rollback_plan");
    fields.push(("implementation_plan", &long_plan));
    fields.push(("rollback_plan", &long_plan));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 303, "{}", reply.body);
    // ...but a form past the page limit gets a clear 413 page, and nothing is written.
    let before = app.event_count();
    let huge = "x".repeat(changegate_server::web::FORM_SIZE_MAX_BYTES + 1);
    let mut fields = new_change_fields(&csrf, "Too long");
    fields.push(("description", &huge));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 413);
    assert!(reply.body.contains("Form too large"), "{}", reply.body);
    assert_eq!(app.event_count(), before);

    // An approver cannot create changes: the page says so.
    let mut bob = app.signed_in(&app.bob);
    assert_eq!(bob.get("/changes/new").status, 403);
    let bob_csrf = bob.get("/").csrf();
    let reply = bob.post("/changes", &new_change_fields(&bob_csrf, "Not mine to make"));
    assert_eq!(reply.status, 403);
    assert!(reply.body.contains("requester or admin role"), "{}", reply.body);
}

#[test]
fn forms_without_the_right_csrf_value_are_refused_and_write_nothing() {
    let app = TestApp::start();
    let id = app.create_change(&app.alice, "Existing change");
    let mut alice = app.signed_in(&app.alice);
    let bobs_csrf = changegate_server::web::csrf_token(&app.bob.token);
    let before = app.event_count();

    let mut fields = new_change_fields("", "Forged change");
    fields.retain(|(name, _)| *name != "csrf");
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 403, "no csrf field");
    assert!(reply.body.contains("nothing was done"), "{}", reply.body);
    for wrong in ["", "deadbeef", bobs_csrf.as_str()] {
        let reply = alice.post("/changes", &new_change_fields(wrong, "Forged change"));
        assert_eq!(reply.status, 403, "csrf {wrong:?}");
    }
    let path = format!("/changes/{id}/actions/submit");
    assert_eq!(alice.post(&path, &[("comment", "forged")]).status, 403);
    assert_eq!(alice.post(&path, &[("csrf", &bobs_csrf)]).status, 403);

    assert_eq!(app.event_count(), before, "refused forms write nothing");
    assert_eq!(app.change(id).state.as_str(), "draft");
    assert!(app.block_on(app.service.store().change(ChangeId::new(2))).unwrap().is_none());

    // Without a session at all, a POST goes to the sign-in page.
    let reply = app.client().post("/changes", &new_change_fields(&bobs_csrf, "Anonymous"));
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/login");
    assert_eq!(app.event_count(), before);
}

#[test]
fn hostile_input_is_escaped_everywhere() {
    let app = TestApp::start();
    let mut alice = app.signed_in(&app.alice);
    let csrf = alice.get("/changes/new").csrf();
    let hostile = "<script>alert(1)</script>";
    let mut fields = new_change_fields(&csrf, hostile);
    fields.retain(|(name, _)| *name != "links" && *name != "description");
    fields.push(("description", r#"<img src=x onerror="alert(2)">"#));
    fields.push(("links", "javascript:alert(3)"));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.location().to_owned();

    for path in [location.as_str(), "/changes", "/"] {
        let page = alice.get(path);
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("<script>alert(1)"), "{path} carries the raw script:\n{}", page.body);
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(page.body.contains("&lt;script&gt;alert(1)"), "{path} shows the escaped title:\n{}", page.body);
    }
    let page = alice.get(&location);
    assert!(page.body.contains("&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"));
    assert!(!page.body.contains(r#"href="javascript:"#), "a javascript: link never becomes an href");
    assert!(page.body.contains(r#"<span class="mono">javascript:alert(3)</span>"#));

    // A hostile title also stays escaped in the form re-rendered after a validation error.
    let mut fields = new_change_fields(&csrf, hostile);
    fields.retain(|(name, _)| *name != "service");
    fields.push(("service", "no-such-service"));
    let reply = alice.post("/changes", &fields);
    assert_eq!(reply.status, 422);
    assert!(!reply.body.contains("<script>alert(1)"));
    assert!(reply.body.contains("&lt;script&gt;alert(1)"));
}

#[test]
fn actions_follow_the_lifecycle_and_show_refusals_on_the_page() {
    let app = TestApp::start();
    let id = app.create_change(&app.alice, "Upgrade the database");
    let path = format!("/changes/{id}");
    let mut alice = app.signed_in(&app.alice);
    let csrf = alice.get("/").csrf();
    assert_eq!(alice.post(&format!("{path}/actions/submit"), &[("csrf", &csrf)]).status, 303);

    // Alice may not approve her own change: no button, and a forged attempt shows a 403 banner.
    let page = alice.get(&path);
    assert!(!page.body.contains(r#"data-action="approve""#));
    assert!(page.body.contains(r#"id="no-actions""#) || page.body.contains(r#"data-action="cancel""#));
    let before = app.event_count();
    let reply = alice.post(&format!("{path}/actions/approve"), &[("csrf", &csrf), ("comment", "self-approval")]);
    assert_eq!(reply.status, 403);
    assert!(reply.body.contains("Could not approve"), "{}", reply.body);
    assert!(reply.body.contains("needs one of the roles approver"), "{}", reply.body);
    assert_eq!(app.event_count(), before + 1, "the service records the denial, nothing else");
    assert_eq!(app.change(id).state.as_str(), "assessed");

    // Bob approves.
    let mut bob = app.signed_in(&app.bob);
    let bob_csrf = bob.get("/").csrf();
    let page = bob.get(&path);
    assert!(page.body.contains(r#"data-action="approve""#));
    assert!(page.body.contains(r#"data-action="reject""#));
    let reply = bob.post(&format!("{path}/actions/approve"), &[("csrf", &bob_csrf), ("comment", "looks safe")]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = bob.get(reply.location());
    assert!(page.body.contains(r#"data-state="approved""#));
    assert!(page.body.contains("looks safe"));
    assert_eq!(app.change(id).approvals.len(), 1);

    // An illegal transition: 409 with a banner, nothing written.
    let before = app.event_count();
    let reply = bob.post(&format!("{path}/actions/approve"), &[("csrf", &bob_csrf)]);
    assert_eq!(reply.status, 409);
    assert!(reply.body.contains("Could not approve"), "{}", reply.body);
    assert_eq!(app.event_count(), before);

    // Validation: a review of a failed change needs a root cause.
    for action in ["schedule", "start", "fail"] {
        assert_eq!(alice.post(&format!("{path}/actions/{action}"), &[("csrf", &csrf)]).status, 303, "{action}");
    }
    let reply = alice
        .post(&format!("{path}/actions/review"), &[("csrf", &csrf), ("root_cause", "  "), ("comment", "PIR held")]);
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("must name its root cause"), "{}", reply.body);
    assert!(reply.body.contains(r#"value="PIR held""#), "what was typed stays in the form");
    let reply =
        alice.post(&format!("{path}/actions/review"), &[("csrf", &csrf), ("root_cause", "migration locked a table")]);
    assert_eq!(reply.status, 303);
    assert!(alice.get(&path).body.contains("migration locked a table"));

    // Unknown actions and changes.
    assert_eq!(alice.post(&format!("{path}/actions/teleport"), &[("csrf", &csrf)]).status, 404);
    assert_eq!(alice.get("/changes/CHG-999999").status, 404);
    assert_eq!(alice.get("/changes/not-an-id").status, 404);
}

#[test]
fn the_list_filters_and_pages() {
    let app = TestApp::start();
    for title in ["First", "Second", "Third"] {
        app.create_change(&app.alice, title);
    }
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/changes?limit=2");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("CHG-000003") && page.body.contains("CHG-000002"));
    assert!(!page.body.contains(">CHG-000001<"));
    // The next-page link keeps the page size (minijinja escapes '/' as &#x2f; in attributes).
    assert!(page.body.contains(r#"href="&#x2f;changes?limit=2&amp;cursor=CHG-000002" rel="next""#), "{}", page.body);
    let next = bob.get("/changes?limit=2&cursor=CHG-000002");
    assert!(next.body.contains(">CHG-000001<"));
    assert!(!next.body.contains(r#"id="next-page""#));

    let filtered = bob.get("/changes?state=draft&service=payments-api&requester=alice");
    assert_eq!(filtered.status, 200);
    assert!(filtered.body.contains(r#"<option value="draft" selected>"#));
    assert!(filtered.body.contains(r#"value="alice""#));
    assert!(filtered.body.contains("Third"));
    let none = bob.get("/changes?state=approved");
    assert!(none.body.contains("No changes match."));

    let invalid = bob.get("/changes?requester=Not+A+Name&state=sideways");
    assert_eq!(invalid.status, 422);
    assert!(invalid.body.contains("Some filters are not valid"), "{}", invalid.body);
    assert!(invalid.body.contains("sideways"));
}

#[test]
fn dashboard_services_static_files_and_not_found() {
    let app = TestApp::start();
    let id = app.create_change(&app.alice, "Patch the kernel");
    let mut bob = app.signed_in(&app.bob);

    let dashboard = bob.get("/");
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.body.contains(&format!(r#"<a href="/changes/{id}" class="mono">{id}</a>"#)),
        "{}",
        dashboard.body
    );
    assert!(
        dashboard.body.contains(&format!(r#"<span class="stat-value">{}</span>"#, app.event_count())),
        "ledger size"
    );
    assert!(dashboard.body.contains(r#"class="fill-draft""#), "the state bar");

    let services = bob.get("/services");
    assert_eq!(services.status, 200);
    assert!(
        services.body.contains("payments-api") && services.body.contains("Tier 2") && services.body.contains(">pci<")
    );

    let css = bob.get("/static/app.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.body.contains(".state-approved"));

    let missing = bob.get("/no/such/page");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page not found") && missing.body.contains("who-name"), "{}", missing.body);
    let anonymous = app.client().get("/no/such/page");
    assert_eq!(anonymous.status, 404);
    assert!(anonymous.body.contains("Page not found"));

    // The API keeps its own JSON fallback.
    let api = app.client().get("/api/v1/no-such-endpoint");
    assert_eq!(api.status, 404);
    assert!(api.body.contains(r#""code":"not_found""#), "{}", api.body);
    assert_eq!(app.client().get("/healthz").status, 200);
}

#[test]
fn the_ledger_page_verifies_and_the_dashboard_shows_a_failed_verification() {
    let app = TestApp::start();
    let auditor = app
        .block_on(app.service.add_user_locally(&NewUser {
            name: "audrey".into(),
            roles: vec!["auditor".into()],
            team: None,
        }))
        .unwrap();
    let id = app.create_change(&app.alice, "Proved change");

    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/ledger");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Audit ledger"));
    assert!(!page.body.contains("id=\"verify-ledger\""), "only admins and auditors get the buttons");

    let mut audrey = app.signed_in(&auditor);
    let page = audrey.get("/ledger");
    let csrf = page.csrf();
    assert!(page.body.contains("id=\"verify-ledger\""));
    assert_eq!(audrey.post("/ledger/verify", &[]).status, 403, "no CSRF, no verification");
    let verified = audrey.post("/ledger/verify", &[("csrf", &csrf)]);
    assert_eq!(verified.status, 303);
    let page = audrey.get(verified.location());
    assert!(page.body.contains("entries and 0 signed checkpoints verified"), "{}", page.body);

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
        app.service.store().write(async |tx| {
            tx.append(&changegate_core::StreamId::Ledger, "system", time, &failure).await.map(|_| ())
        }),
    )
    .unwrap();
    let dashboard = bob.get("/");
    assert!(dashboard.body.contains("id=\"verification-failed\""), "{}", dashboard.body);
    assert!(dashboard.body.contains("at index 7"));

    // The change page offers its inclusion proof as a download.
    let change_page = bob.get(&format!("/changes/{id}"));
    assert!(change_page.body.contains(&format!("/changes/{id}/proof")));
    let proof = bob.get(&format!("/changes/{id}/proof"));
    assert_eq!(proof.status, 200);
    assert!(proof.header("content-disposition").unwrap().contains("attachment"));
    let proof: serde_json::Value = serde_json::from_str(&proof.body).unwrap();
    assert_eq!(proof["change"], id.to_string());
    assert_eq!(proof["proofs"].as_array().unwrap().len(), proof["entries"].as_array().unwrap().len());
    assert!(!proof["proofs"].as_array().unwrap().is_empty());
}

#[test]
fn the_incidents_page_lists_incidents_with_their_changes() {
    let app = TestApp::start();
    let id = app.create_change(&app.alice, "Caused trouble");
    let incident = changegate_service::NewIncident {
        title: "Checkout <errors>".into(),
        service: "payments-api".into(),
        severity: "sev2".into(),
        detected_at: None,
        caused_by: Some(id.to_string()),
    };
    app.block_on(app.service.open_incident(&app.caller(&app.alice), incident, None)).unwrap();
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/incidents");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("INC-000001"));
    assert!(page.body.contains(&format!("href=\"/changes/{id}\"")));
    assert!(page.body.contains("Checkout &lt;errors&gt;"), "escaped title");
    assert!(!page.body.contains("id=\"open-incident\""), "an approver cannot open incidents");

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
    assert!(invalid.body.contains("sev9"), "the message names the bad value");
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
    assert_eq!(opened.status, 303, "{}", opened.body);
    let resolved = alice.post("/incidents/INC-000002/resolve", &[("csrf", &csrf)]);
    assert_eq!(resolved.status, 303);
    let page = alice.get("/incidents?done=resolved");
    assert!(page.body.contains("Incident resolved."));
    let incident = app.block_on(app.service.store().incident(changegate_core::IncidentId::new(2))).unwrap().unwrap();
    assert_eq!(incident.caused_by, Some(id));
    assert!(incident.resolved_at.is_some());
}
