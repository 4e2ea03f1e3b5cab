//! The web pages over real HTTP: sign-in and its cookie, CSRF refusals, the new-change form,
//! lifecycle actions with their error banners, lists, escaping of hostile input, not-found
//! pages, and the governance pages (approvals inbox, calendar, templates, policy, the policy
//! decision on a change, the dashboard's governance counts). The server runs on a background runtime; the test drives it with blocking `ureq`.

use std::future::Future;

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, PolicySource};
use changegate_service::{
    ActionRequest, Caller, CreatedUser, GovernanceSettings, NewChange, NewService, NewTemplate, NewUser, Service,
    SystemClock,
};
use ureq::http::HeaderMap;

/// A running server over a fresh SQLite store with an admin, alice (requester), bob (approver)
/// and the service `payments-api`.
struct TestApp {
    runtime: tokio::runtime::Runtime,
    base: String,
    service: Service,
    admin: CreatedUser,
    alice: CreatedUser,
    bob: CreatedUser,
    _dir: tempfile::TempDir,
}

impl TestApp {
    fn start() -> Self {
        Self::start_with(false)
    }

    fn start_with(secure_cookies: bool) -> Self {
        Self::start_configured(secure_cookies, GovernanceSettings::default())
    }

    fn start_configured(secure_cookies: bool, settings: GovernanceSettings) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        let (service, admin, alice, bob, address) = runtime.block_on(async move {
            let store =
                changegate_store::Store::open(&changegate_store::StoreLocation::DataDir(data_dir)).await.unwrap();
            let service = Service::new(store, std::sync::Arc::new(SystemClock)).with_governance_settings(settings);
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
            (service, admin, alice, bob, address)
        });
        TestApp { runtime, base: format!("http://{address}"), service, admin, alice, bob, _dir: dir }
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
        self.create(user, change_input(title))
    }

    fn create(&self, user: &CreatedUser, input: NewChange) -> ChangeId {
        self.block_on(self.service.create_change(&self.caller(user), input, None)).unwrap().value.id
    }

    fn act(&self, user: &CreatedUser, id: ChangeId, action: Action) -> changegate_core::ChangeRecord {
        let request = ActionRequest::default();
        self.block_on(self.service.act(&self.caller(user), id, action, request, None)).unwrap().value
    }

    /// Registers `catalog`: tier 3, owned by team shop, in no compliance scope (what an
    /// auto-approved standard change needs under the default policy).
    fn register_catalog(&self) {
        let catalog =
            NewService { name: "catalog".into(), team: "shop".into(), tier: 3, scopes: vec![], depends_on: vec![] };
        self.block_on(self.service.register_service(&self.caller(&self.admin), catalog, None)).unwrap();
    }

    fn add_user(&self, name: &str, roles: &[&str], team: Option<&str>) -> CreatedUser {
        let user = NewUser {
            name: name.into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            team: team.map(str::to_owned),
        };
        self.block_on(self.service.add_user_locally(&user)).unwrap()
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

/// A normal change to `payments-api` with what the default policy asks of a change to a tier-2
/// service in PCI scope: a rollback plan and security evidence.
fn change_input(title: &str) -> NewChange {
    NewChange {
        title: title.into(),
        description: "made by the test".into(),
        change_type: "normal".into(),
        service: "payments-api".into(),
        environment: "production".into(),
        rollback_plan: Some("redeploy the previous release".into()),
        security_evidence: Some("SAST, SCA and secret scan clean".into()),
        ..NewChange::default()
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
        // The default policy denies changes to services in PCI scope without security evidence.
        ("security_evidence", "scans clean"),
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
    assert!(page.body.contains("risk medium"), "the assessment's reasons: {}", page.body);
    assert!(page.body.contains(r#"id="risk-factors""#), "the factors that added to the score");
    assert!(page.body.contains(r#"<span class="badge risk-medium">medium</span>"#));
    // The policy's decision: a peer approver and, for PCI scope, security.
    assert!(page.body.contains(r#"id="policy-decision""#), "{}", page.body);
    assert!(page.body.contains(r#"<tr data-role="approver">"#));
    assert!(page.body.contains(r#"<tr data-role="security">"#));
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

    // Bob approves as the peer approver; the policy also wants security for a PCI service.
    let mut bob = app.signed_in(&app.bob);
    let bob_csrf = bob.get("/").csrf();
    let page = bob.get(&path);
    assert!(page.body.contains(r#"data-action="approve""#));
    assert!(page.body.contains(r#"data-action="reject""#));
    let reply = bob.post(&format!("{path}/actions/approve"), &[("csrf", &bob_csrf), ("comment", "looks safe")]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = bob.get(reply.location());
    assert!(page.body.contains(r#"data-state="assessed""#), "security is still missing");
    assert!(page.body.contains("looks safe"));
    let sam = app.add_user("sam", &["security"], None);
    let mut sam = app.signed_in(&sam);
    let sam_csrf = sam.get("/").csrf();
    let reply = sam.post(&format!("{path}/actions/approve"), &[("csrf", &sam_csrf), ("comment", "scans clean")]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(sam.get(reply.location()).body.contains(r#"data-state="approved""#));
    assert_eq!(app.change(id).approvals.len(), 2);

    // An illegal transition: 409 with a banner, nothing written.
    let before = app.event_count();
    let reply = bob.post(&format!("{path}/actions/reject"), &[("csrf", &bob_csrf)]);
    assert_eq!(reply.status, 409);
    assert!(reply.body.contains("Could not reject"), "{}", reply.body);
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
        downtime_minutes: None,
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

// ---------------------------------------------------------------------------------------------
// Governance pages

/// The calendar cell of `date` (`2026-11-28`): from its opening tag to its end.
#[test]
fn the_incident_page_shows_provenance_and_links_confirms_rejects_and_resolves() {
    let app = TestApp::start();
    let cause = app.create_change(&app.alice, "Caused trouble");
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
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No change is linked"), "a draft change is not a deployment: nothing suggested");
    assert!(page.body.contains("5 min of downtime"));
    let csrf = page.csrf();
    let before = app.event_count();
    let bad = alice.post("/incidents/INC-000001", &[("csrf", &csrf), ("action", "link"), ("change", "CHG-099999")]);
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("no change CHG-099999"), "{}", bad.body);
    let bad = alice.post("/incidents/INC-000001", &[("csrf", &csrf), ("action", "update"), ("downtime_minutes", "x")]);
    assert_eq!(bad.status, 422);
    assert_eq!(app.event_count(), before, "refusals write nothing");
    let linked = alice.post(
        "/incidents/INC-000001",
        &[("csrf", &csrf), ("action", "link"), ("change", &cause.to_string().to_lowercase())],
    );
    assert_eq!(linked.status, 303, "{}", linked.body);
    let page = alice.get("/incidents/INC-000001?done=linked");
    assert!(page.body.contains("Link recorded."));
    assert!(page.body.contains("id=\"provenance\">explicit"), "{}", page.body);
    let list = alice.get("/incidents");
    assert!(list.body.contains("href=\"/incidents/INC-000001\""));
    let rejected = alice.post("/incidents/INC-000001", &[("csrf", &csrf), ("action", "reject"), ("comment", "not it")]);
    assert_eq!(rejected.status, 303);
    let page = alice.get("/incidents/INC-000001");
    assert!(page.body.contains("Rejected:"), "{}", page.body);
    let resolved = alice.post(
        "/incidents/INC-000001",
        &[("csrf", &csrf), ("action", "resolve"), ("downtime_minutes", "30"), ("comment", "fixed")],
    );
    assert_eq!(resolved.status, 303);
    let incident = app.block_on(app.service.store().incident(changegate_core::IncidentId::new(1))).unwrap().unwrap();
    assert_eq!(incident.downtime_minutes, Some(30));
    assert_eq!(incident.rejected_causes, vec![cause]);
    assert!(incident.resolved_at.is_some() && incident.caused_by.is_none());
    // An approver sees the page but no forms.
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/incidents/INC-000001");
    assert!(!page.body.contains("id=\"link-form\""));
    assert_eq!(bob.get("/incidents/nonsense").status, 404);
}

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
    let app = TestApp::start();
    let rita = app.add_user("rita", &["requester", "approver"], None);
    let id = app.create_change(&rita, "Rotate the PCI keys");
    app.act(&rita, id, Action::Submit);
    let draft = app.create_change(&app.alice, "Still a draft");

    // Bob (approver) sees it, with what is missing, the warnings and the evidence.
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/approvals");
    assert_eq!(page.status, 200);
    let row = row_of(&page.body, &format!(r#"<tr data-change="{id}">"#));
    assert!(row.contains(r#"title="approver">approver</span>"#), "{row}");
    assert!(row.contains(r#"title="security">security</span>"#), "{row}");
    assert!(row.contains("no test evidence attached"), "the policy's warnings: {row}");
    assert!(row.contains("Security: <span class=\"good-text\">given</span>"), "{row}");
    assert!(row.contains(r#"data-decision="approve""#) && row.contains(r#"data-decision="reject""#));
    assert!(!page.body.contains(&format!(r#"data-change="{draft}""#)), "drafts await nothing");
    assert!(page.body.contains(r#"<th scope="col">Decision</th>"#));
    assert!(page.body.contains(r#"id="nav-inbox-count">1<"#), "the nav counts the inbox");

    // Rita requested it: not in her inbox, and approving it anyway is refused with the reason.
    let mut rita_client = app.signed_in(&rita);
    let page = rita_client.get("/approvals");
    assert!(!page.body.contains(&format!(r#"data-change="{id}""#)), "{}", page.body);
    assert!(page.body.contains(r#"id="inbox-empty""#));
    let csrf = page.csrf();
    let before = app.event_count();
    let refused =
        rita_client.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf), ("comment", "mine, but fine")]);
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains(&format!("Could not approve {id}: separation of duties: rita requested {id}")),
        "{}",
        refused.body
    );
    assert_eq!(app.event_count(), before + 1, "the refusal is recorded, nothing else");
    assert!(app.change(id).approvals.is_empty());

    // Without the CSRF value nothing happens.
    assert_eq!(bob.post(&format!("/approvals/{id}/approve"), &[("comment", "forged")]).status, 403);
    assert_eq!(bob.post(&format!("/approvals/{id}/maybe"), &[]).status, 404);

    // Bob approves from the inbox; the change then waits for security only.
    let csrf = bob.get("/approvals").csrf();
    let reply = bob.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf), ("comment", "peer-reviewed")]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location(), format!("/approvals?done=approve&change={id}"));
    let page = bob.get(reply.location());
    assert!(page.body.contains(&format!("Your approval of {id} is recorded.")), "{}", page.body);
    assert!(!page.body.contains(&format!(r#"data-change="{id}""#)), "bob filled what he can fill");
    let change = app.change(id);
    assert_eq!(change.approvals[0].approver.as_str(), "bob");
    assert_eq!(change.approvals[0].comment.as_deref(), Some("peer-reviewed"));
    assert_eq!(change.state.as_str(), "assessed");

    // A second approval by bob is refused (he already approved), with its message.
    let refused = bob.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf), ("comment", "again")]);
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains(r#"role="alert" id="flash">Could not approve"#), "{}", refused.body);
    assert!(refused.body.contains("already approved"), "{}", refused.body);

    // The change page says who filled which approval and what is missing.
    let sam = app.add_user("sam", &["security"], None);
    let mut sam = app.signed_in(&sam);
    let change_page = sam.get(&format!("/changes/{id}"));
    let approver = row_of(&change_page.body, r#"<tr data-role="approver">"#);
    assert!(approver.contains(r#"<span class="strong">bob</span>"#) && approver.contains("filled"), "{approver}");
    let security = row_of(&change_page.body, r#"<tr data-role="security">"#);
    assert!(security.contains("1 more"), "{security}");

    // Security rejects another change from the inbox, with a reason.
    let other = app.create_change(&app.alice, "Widen the firewall");
    app.act(&app.alice, other, Action::Submit);
    let page = sam.get("/approvals");
    assert!(page.body.contains(&format!(r#"<tr data-change="{id}">"#)));
    assert!(page.body.contains(&format!(r#"<tr data-change="{other}">"#)));
    let csrf = page.csrf();
    let reply = sam.post(&format!("/approvals/{other}/reject"), &[("csrf", &csrf), ("comment", "too broad")]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(sam.get(reply.location()).body.contains(&format!("Your rejection of {other} is recorded.")));
    assert_eq!(app.change(other).state.as_str(), "rejected");
    let reply = sam.post(&format!("/approvals/{id}/approve"), &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(app.change(id).state.as_str(), "approved");
    assert!(sam.get("/approvals").body.contains(r#"id="inbox-empty""#));
}

#[test]
fn the_calendar_shows_windows_and_planned_changes_by_month_and_week() {
    let app = TestApp::start();
    let carol = app.add_user("carol", &["cab"], None);
    let planned = app.create(
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
    assert!(page.body.contains(r#"id="define-window""#), "cab may define windows");
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
    assert_eq!(reply.status, 303, "{}", reply.body);
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
    assert_eq!(reply.status, 303, "{}", reply.body);
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
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains(r#"data-field="time_zone""#), "{}", reply.body);
    assert!(reply.body.contains("Mars&#x2f;Olympus_Mons"), "what was typed stays");
    let reply = post(&mut carol, window(&[("name", "no-end"), ("start", "2026-12-01T00:00")]));
    assert_eq!(reply.status, 422);
    assert!(reply.body.contains(r#"<ul class="field-errors" data-field="end"><li>must not be empty</li></ul>"#));
    assert_eq!(app.event_count(), before, "refused windows write nothing");

    // The month: the freeze (in its own colour) on its days, maintenance on Saturday night,
    // the planned change on its day with a link.
    let month = carol.get("/calendar?month=2026-11&done=window-defined");
    assert_eq!(month.status, 200);
    assert!(month.body.contains(r#"data-view="month""#) && month.body.contains("November 2026"));
    assert!(month.body.contains("Window saved."));
    assert!(month.body.contains("(UTC)"));
    for date in ["2026-11-27", "2026-11-28", "2026-11-29"] {
        let cell = calendar_cell(&month.body, date);
        assert!(cell.contains("cal-frozen"), "{date}: {cell}");
        assert!(cell.contains(r#"<li class="cal-window cal-freeze" data-window="black-friday""#), "{date}: {cell}");
    }
    assert!(!calendar_cell(&month.body, "2026-11-30").contains("black-friday"), "the end is not included");
    let saturday = calendar_cell(&month.body, "2026-11-28");
    assert!(saturday.contains(r#"data-window="saturday-nights""#), "{saturday}");
    assert!(saturday.contains("from 21:00"), "22:00 in Berlin is 21:00 UTC in November: {saturday}");
    let thursday = calendar_cell(&month.body, "2026-11-26");
    assert!(thursday.contains(&format!(r#"<a href="/changes/{planned}" class="mono">{planned}</a>"#)), "{thursday}");
    assert!(thursday.contains("10:00–11:30"), "{thursday}");
    assert!(!thursday.contains("cal-frozen"));
    assert!(month.body.contains("calendar?month=2026-12") && month.body.contains("calendar?month=2026-10"));
    assert_eq!(month.body.matches(r#"<td class="cal-day"#).count(), 42, "six whole weeks");
    // The windows' definitions, with the time zone of the recurring one.
    let definition = row_of(&month.body, r#"<tr data-window="saturday-nights">"#);
    assert!(definition.contains("local times in Europe&#x2f;Berlin") && definition.contains("cron:0 22 * * SAT"));
    assert!(definition.contains("services of team payments"), "{definition}");
    assert!(row_of(&month.body, r#"<tr data-window="black-friday">"#).contains("Peak sales: no changes"));

    // The week, by ISO week and by date.
    for path in ["/calendar?week=2026-W48", "/calendar?view=week&date=2026-11-28"] {
        let week = carol.get(path);
        assert_eq!(week.status, 200, "{path}");
        assert!(week.body.contains(r#"data-view="week""#) && week.body.contains("Week 48 of 2026"), "{path}");
        assert_eq!(week.body.matches(r#"<td class="cal-day"#).count(), 7, "{path}");
        assert!(calendar_cell(&week.body, "2026-11-27").contains(r#"data-window="black-friday""#), "{path}");
        assert!(calendar_cell(&week.body, "2026-11-26").contains(&format!(r#"data-change="{planned}""#)));
        assert!(week.body.contains("calendar?week=2026-W49") && week.body.contains("calendar?month=2026-11"));
    }
    let bad = carol.get("/calendar?month=2026-13");
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("not a month such as 2026-11"), "{}", bad.body);

    // A change planned into the freeze is denied on submission; its page says why.
    let frozen = app.create(
        &app.alice,
        NewChange { planned_start: Some("2026-11-28T10:00:00Z".into()), ..change_input("During the freeze") },
    );
    assert_eq!(app.act(&app.alice, frozen, Action::Submit).state.as_str(), "rejected");
    let page = carol.get(&format!("/changes/{frozen}"));
    assert!(page.body.contains(r#"id="denied""#), "{}", page.body);
    assert!(page.body.contains("freeze `black-friday` is in force"), "{}", page.body);
    assert!(page.body.contains(r#"<span class="badge badge-freeze">freeze</span> black-friday"#));

    // Others see no form and may not remove a window; cab may.
    let mut bob = app.signed_in(&app.bob);
    let page = bob.get("/calendar");
    assert!(!page.body.contains(r#"id="define-window""#));
    let bob_csrf = page.csrf();
    assert_eq!(bob.post("/calendar/windows/black-friday/remove", &[("csrf", &bob_csrf)]).status, 403);
    let reply = carol.post("/calendar/windows/black-friday/remove", &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location(), "/calendar?done=window-removed");
    let month = carol.get("/calendar?month=2026-11");
    assert!(!month.body.contains("black-friday"), "{}", month.body);
}

#[test]
fn templates_are_listed_and_defined_and_a_standard_change_from_one_is_auto_approved() {
    let app = TestApp::start();
    app.register_catalog();
    let mut admin = app.signed_in(&app.admin);
    let page = admin.get("/templates");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"id="no-templates""#) && page.body.contains(r#"id="define-template""#));
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
    assert!(refused.body.contains("no service named no-such-service"), "{}", refused.body);
    assert!(refused.body.contains(r#"value="catalog, no-such-service""#));
    let reply = admin.post("/templates", &template("restart-pod", "catalog"));
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location(), "/templates?done=defined");
    let retired = NewTemplate { name: "old-way".into(), approved: false, ..NewTemplate::default() };
    app.block_on(app.service.define_template(&app.caller(&app.admin), retired)).unwrap();

    let mut alice = app.signed_in(&app.alice);
    let page = alice.get("/templates");
    assert!(!page.body.contains(r#"id="define-template""#), "only admin and cab define templates");
    let row = row_of(&page.body, r#"<tr data-template="restart-pod">"#);
    assert!(row.contains(">catalog<") && row.contains(">production<") && row.contains(">staging<"), "{row}");
    assert!(row.contains("/changes/new?template=restart-pod"), "{row}");
    assert!(row_of(&page.body, r#"<tr data-template="old-way">"#).contains("retired"));

    // The new-change form offers approved templates only, with what they cover.
    let form = alice.get("/changes/new");
    assert!(
        form.body.contains(
            r#"<option value="restart-pod">restart-pod: catalog · production, staging · max risk low</option>"#
        ),
        "{}",
        form.body
    );
    assert!(!form.body.contains(r#"value="old-way""#));
    let form = alice.get("/changes/new?template=restart-pod");
    assert!(form.body.contains(r#"<option value="restart-pod" selected>"#));
    assert!(form.body.contains(r#"<option value="standard" selected>"#));
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
    assert!(refused.body.contains("template restart-pod does not cover service payments-api"), "{}", refused.body);
    let reply = alice.post("/changes", &standard("catalog"));
    assert_eq!(reply.status, 303, "{}", reply.body);
    let path = reply.location().to_owned();
    let id: ChangeId = path.trim_start_matches("/changes/").parse().unwrap();
    assert_eq!(app.change(id).template.as_ref().map(|name| name.as_str()), Some("restart-pod"));
    assert_eq!(app.change(id).change_type.as_str(), "standard");

    let reply = alice.post(&format!("{path}/actions/submit"), &[("csrf", &csrf)]);
    assert_eq!(reply.status, 303, "{}", reply.body);
    let change = app.change(id);
    assert!(change.auto_approved, "{change:?}");
    assert_eq!(change.state.as_str(), "approved");
    let page = alice.get(&path);
    assert!(page.body.contains(r#"<a class="mono" href="/templates" id="change-template">restart-pod</a>"#));
    assert!(page.body.contains("the policy needs no human approval"), "{}", page.body);
    assert!(page.body.contains("the policy auto-approves it"));

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
    assert!(refused.body.contains(r#"<ul class="field-errors" data-field="justification">"#), "{}", refused.body);
    assert!(refused.body.contains("an emergency change needs a justification"));
    let reply = alice.post("/changes", &emergency("checkout fails for every customer"));
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = alice.get(reply.location());
    assert!(page.body.contains(r#"<div class="prose" id="justification">checkout fails for every customer</div>"#));
}

#[test]
fn the_policy_page_shows_the_policy_in_force_and_its_history() {
    let app = TestApp::start();
    let mut bob = app.signed_in(&app.bob);
    let (_, default) = app.block_on(app.service.current_policy()).unwrap();
    let page = bob.get("/policy");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("In force:") && page.body.contains("the default policy shipped with Changegate"));
    assert!(page.body.contains(&format!(r#"id="policy-sha256">{}</dd>"#, default.sha256())), "{}", page.body);
    assert!(page.body.contains("package changegate"), "the Rego source");
    assert!(page.body.contains("changegate policy set --file F"));

    // A change decided by it links its policy version.
    let id = app.create_change(&app.alice, "Decided by the default");
    app.act(&app.alice, id, Action::Submit);
    let change_page = bob.get(&format!("/changes/{id}"));
    assert!(change_page.body.contains(&format!("/policy?sha256={}", default.sha256())), "{}", change_page.body);
    assert!(change_page.body.contains(r#"id="input-sha""#));
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
    assert!(page.body.contains(&format!("version {}", record.sequence)), "{}", page.body);
    assert!(page.body.contains("# tuned for the test"));
    assert!(page.body.contains("tuned &lt;for&gt; Q4"), "the comment, escaped");
    let history = row_of(&page.body, &format!(r#"<tr data-sequence="{}">"#, record.sequence));
    assert!(history.contains("in force") && history.contains(&format!("/policy?version={}", record.sequence)));
    assert!(page.body.contains("Default policy") && page.body.contains("superseded"));

    let older = bob.get(&format!("/policy?sha256={}", record.sha256));
    assert_eq!(older.status, 200);
    let missing = bob.get("/policy?version=999999");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("No policy version 999999 was set"), "{}", missing.body);
}

#[test]
fn the_dashboard_counts_my_inbox_and_overdue_emergencies() {
    // Emergencies are due one millisecond after they start, so this one is overdue at once.
    let settings = GovernanceSettings { emergency_deadline_ms: 1, ..GovernanceSettings::default() };
    let app = TestApp::start_configured(false, settings);
    app.register_catalog();
    let carol = app.add_user("carol", &["cab"], None);
    // Medium risk on a tier-3 service outside compliance scope: one peer approver is required.
    let id = app.create(
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
    std::thread::sleep(std::time::Duration::from_millis(5));
    app.block_on(app.service.flag_overdue_emergencies()).unwrap();
    assert!(app.change(id).emergency_overdue);

    let mut bob = app.signed_in(&app.bob);
    let dashboard = bob.get("/");
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.body.contains(r#"<a class="stat stat-attention" href="/approvals" id="stat-inbox">"#),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains(r#"<div class="stat stat-danger" id="stat-overdue">"#), "{}", dashboard.body);
    assert!(dashboard.body.contains(r#"id="nav-inbox-count">1<"#));
    let inbox = bob.get("/approvals");
    let row = row_of(&inbox.body, &format!(r#"<tr data-change="{id}">"#));
    assert!(row.contains("retrospective") && row.contains(r#"<span class="badge badge-overdue">overdue</span>"#));
    assert!(row.contains("the catalog is down"), "the justification: {row}");
    let page = bob.get(&format!("/changes/{id}"));
    assert!(page.body.contains(r#"id="overdue-badge""#) && page.body.contains(r#"id="retrospective-due""#));
    assert!(page.body.contains(r#"<dt>Implementer</dt><dd>alice</dd>"#), "{}", page.body);

    // Carol's cab role fills nothing the policy asks for here; a requester has no inbox tile.
    let mut carol = app.signed_in(&carol);
    let dashboard = carol.get("/");
    assert!(dashboard.body.contains(r#"<a class="stat" href="/approvals" id="stat-inbox">"#), "{}", dashboard.body);
    let mut alice = app.signed_in(&app.alice);
    let dashboard = alice.get("/");
    assert!(!dashboard.body.contains(r#"id="stat-inbox""#));
    assert!(dashboard.body.contains(r#"<div class="stat stat-danger" id="stat-overdue">"#));
}

/// Times the pages over a demo store, the size the product is demonstrated at (20,000 changes):
/// `changegate demo --no-serve --data-dir DIR`, then
/// `CHANGEGATE_WEB_DEMO_DIR=DIR cargo test -p changegate-server --test web_pages -- --ignored --nocapture`.
/// It adds one user to that store (with every deciding role, so the inbox is as full as it gets).
#[test]
#[ignore = "needs a demo store in CHANGEGATE_WEB_DEMO_DIR"]
fn pages_stay_quick_over_demo_data() {
    let Some(data_dir) = std::env::var_os("CHANGEGATE_WEB_DEMO_DIR") else {
        panic!("set CHANGEGATE_WEB_DEMO_DIR to the data directory of a demo store");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (service, user, address) = runtime.block_on(async move {
        let location = changegate_store::StoreLocation::DataDir(data_dir.into());
        let store = changegate_store::Store::open(&location).await.unwrap();
        let service = Service::new(store, std::sync::Arc::new(SystemClock));
        let name = format!("timer-{}", std::process::id());
        let roles = ["requester", "approver", "security", "cab", "admin"].map(str::to_owned).to_vec();
        let user = service.add_user_locally(&NewUser { name, roles, team: None }).await.unwrap();
        let config = changegate_server::ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
        let app = changegate_server::Application::build(service.clone(), config).await.unwrap();
        let address = app.local_addr();
        tokio::spawn(app.run_until(std::future::pending()));
        (service, user, address)
    });
    let mut client = Client { base: format!("http://{address}"), agent: agent(), cookie: None };
    assert_eq!(client.post("/login", &[("token", &user.token)]).status, 303);
    let waiting = runtime.block_on(service.store().changes_awaiting_approval(1)).unwrap();
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
            page.body.len()
        );
        assert_eq!(page.status, 200, "{path}");
    }
}

#[test]
fn the_alerts_page_defines_rules_and_hooks_and_shows_an_automated_rollback() {
    let app = TestApp::start();
    app.register_catalog();
    let mut admin = app.signed_in(&app.admin);
    let page = admin.get("/alerts");
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"href="/alerts" aria-current="page""#), "the navigation links the page");
    assert!(page.body.contains(r#"id="no-rules""#));
    let csrf = page.csrf();
    // A bad rule comes back with its field and writes nothing.
    let before = app.event_count();
    let bad = admin.post(
        "/alerts/rules",
        &[("csrf", &csrf), ("name", "stuck"), ("rule", r#"{"kind": "approval_overdue", "after_hours": 0}"#)],
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains(r#"data-field="after_hours""#), "{}", bad.body);
    assert!(bad.body.contains("approval_overdue"), "the form keeps what was typed");
    assert_eq!(app.event_count(), before);
    // A good one is saved and listed with its parameters.
    let saved = admin.post(
        "/alerts/rules",
        &[("csrf", &csrf), ("name", "stuck"), ("rule", r#"{"kind": "approval_overdue", "after_hours": 8}"#)],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = admin.get(saved.location());
    assert!(page.body.contains(r#"data-rule="stuck""#) && page.body.contains("after_hours=8"), "{}", page.body);
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
    assert_eq!(hook.status, 303, "{}", hook.body);
    let page = admin.get("/alerts");
    assert!(page.body.contains(r#"data-service="catalog""#) && page.body.contains("12 h"), "{}", page.body);
    let emergency = NewChange {
        change_type: "emergency".into(),
        service: "catalog".into(),
        justification: Some("the catalog is down".into()),
        ..change_input("Restart the catalog")
    };
    let id = app.create(&app.alice, emergency);
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
    assert!(change_page.body.contains("rolled back automatically"), "{}", change_page.body);
    assert!(change_page.body.contains(r#"id="rollback-hook-runs""#));
    // A requester sees the page without the forms.
    let mut alice = app.signed_in(&app.alice);
    let page = alice.get("/alerts");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(r#"id="define-rule""#));
}
