//! The harness every server test shares: one application per test on port 0 over a fresh store,
//! with a fixed, injected clock ([`TestClock`]), the standard users (`admin`, alice the
//! requester, bob the approver) and services, typed HTTP helpers (the JSON API with a bearer
//! token, the pages with a session cookie and their CSRF value, both answered as an [`Answer`])
//! and typed flows through the service (create a change, act on it, take it to its end).
//!
//! The server runs on a runtime of its own; the tests are plain `#[test]`s that drive it with
//! blocking `ureq` and run service calls on that runtime with [`TestApp::block_on`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ChangeRecord, Clock, ManualClock, Timestamp};
use changegate_ledger::NoteSigner;
use changegate_server::{Application, ServerConfig};
use changegate_service::{
    ActionRequest, Caller, CreatedUser, GovernanceSettings, NewChange, NewService, NewUser, Service,
};
use changegate_store::testing::TestStore;
use serde_json::Value;
use ureq::http::HeaderMap;

/// When every test starts: Tuesday 10 November 2026 at 10:00 UTC, a working hour on a weekday
/// (the risk factors count changes at night and at weekends as riskier).
pub const TEST_START: &str = "2026-11-10T10:00:00Z";

// ---------------------------------------------------------------------------------------------
// The clock

/// The clock the service under test reads: fixed at [`TEST_START`], moved only by the test.
#[derive(Clone)]
pub struct TestClock(Arc<ManualClock>);

impl TestClock {
    pub fn new() -> Self {
        TestClock(Arc::new(ManualClock::new(Timestamp::parse_rfc3339(TEST_START).unwrap())))
    }

    pub fn now(&self) -> Timestamp {
        self.0.now()
    }

    /// Lets `duration` pass.
    pub fn advance(&self, duration: Duration) {
        self.0.advance_ms(i64::try_from(duration.as_millis()).unwrap());
    }

    /// The same clock, as the service takes it.
    pub fn shared(&self) -> Arc<dyn Clock> {
        self.0.clone()
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Starting the application

/// Which store the application runs over.
enum Backend {
    Sqlite,
    Postgres,
}

/// How to start a [`TestApp`]: `TestApp::builder().secure_cookies(true).spawn()`.
pub struct TestAppBuilder {
    backend: Backend,
    services: Vec<NewService>,
    users: Vec<NewUser>,
    secure_cookies: bool,
    governance: GovernanceSettings,
    signer: Option<NoteSigner>,
}

/// The service most tests change: `payments-api`, tier 2, team payments, in no compliance scope.
pub fn payments_api() -> NewService {
    NewService { name: "payments-api".into(), team: "payments".into(), tier: 2, ..NewService::default() }
}

/// A service of `team` at `tier` in the compliance `scopes`, depending on nothing.
pub fn service(name: &str, team: &str, tier: i64, scopes: &[&str]) -> NewService {
    NewService {
        name: name.into(),
        team: team.into(),
        tier,
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        depends_on: vec![],
    }
}

impl TestAppBuilder {
    /// Registers `service` instead of the default `payments-api` (call once per service).
    pub fn service(mut self, service: NewService) -> Self {
        self.services.push(service);
        self
    }

    /// Adds a user beyond admin, alice and bob; [`TestApp::user`] finds them by name.
    pub fn user(mut self, name: &str, roles: &[&str]) -> Self {
        self.users.push(NewUser {
            name: name.into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            team: None,
        });
        self
    }

    pub fn secure_cookies(mut self, secure_cookies: bool) -> Self {
        self.secure_cookies = secure_cookies;
        self
    }

    pub fn governance_settings(mut self, settings: GovernanceSettings) -> Self {
        self.governance = settings;
        self
    }

    /// Signs ledger checkpoints with a fixed key named `changegate-apitest`.
    pub fn signed_checkpoints(mut self) -> Self {
        self.signer = Some(NoteSigner::from_secret_bytes("changegate-apitest", &[3; 32]).unwrap());
        self
    }

    /// Runs over PostgreSQL (see `changegate_store::testing::postgres_store`).
    pub fn postgres(mut self) -> Self {
        self.backend = Backend::Postgres;
        self
    }

    /// Starts the application over a fresh SQLite store.
    pub fn spawn(self) -> TestApp {
        assert!(matches!(self.backend, Backend::Sqlite), "a PostgreSQL app may be unavailable: use try_spawn");
        self.try_spawn().expect("SQLite is always there")
    }

    /// Starts the application; `None` when it runs over PostgreSQL and none is reachable (a
    /// failure instead with `CHANGEGATE_REQUIRE_POSTGRES=1`).
    pub fn try_spawn(self) -> Option<TestApp> {
        let runtime = background_runtime();
        let test_store = match self.backend {
            Backend::Sqlite => Some(runtime.block_on(changegate_store::testing::sqlite_store()).unwrap()),
            Backend::Postgres => runtime.block_on(changegate_store::testing::postgres_store()),
        }?;
        let clock = TestClock::new();
        let mut service =
            Service::new(test_store.store.clone(), clock.shared()).with_governance_settings(self.governance);
        if let Some(signer) = self.signer {
            service = service.with_signer(signer);
        }
        let services = if self.services.is_empty() { vec![payments_api()] } else { self.services };
        let secure_cookies = self.secure_cookies;
        let extra_users = self.users;
        let (admin, alice, bob, users, base) = runtime.block_on(async {
            let admin = service.bootstrap_admin("admin").await.unwrap();
            let add = async |name: &str, role: &str| {
                let user = NewUser { name: name.into(), roles: vec![role.into()], team: None };
                service.add_user_locally(&user).await.unwrap()
            };
            let alice = add("alice", "requester").await;
            let bob = add("bob", "approver").await;
            let mut users = Vec::new();
            for user in &extra_users {
                users.push(service.add_user_locally(user).await.unwrap());
            }
            let caller = service.authenticate(&admin.token).await.unwrap();
            for new_service in services {
                service.register_service(&caller, new_service, None).await.unwrap();
            }
            let base = serve(service.clone(), secure_cookies).await;
            (admin, alice, bob, users, base)
        });
        Some(TestApp { runtime, address: base, service, clock, admin, alice, bob, users, test_store })
    }
}

/// The runtime a test's server runs on.
pub fn background_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Serves `service` on port 0 of the loopback interface until the runtime stops; its address.
pub async fn serve(service: Service, secure_cookies: bool) -> String {
    let config = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies };
    let application = Application::build(service, config).await.unwrap();
    let address = format!("http://{}", application.local_addr());
    tokio::spawn(application.run_until(std::future::pending()));
    address
}

/// The application with the defaults: `payments-api` (tier 2, no compliance scope), the users
/// `admin`, alice (requester) and bob (approver), plain-HTTP cookies and the default governance.
pub fn spawn_app() -> TestApp {
    TestApp::builder().spawn()
}

// ---------------------------------------------------------------------------------------------
// The application under test

/// A running application: its address, its service (to arrange data and read the store), its
/// clock, and the users it was started with.
pub struct TestApp {
    /// Declared first, so it stops (and the server with it) before the store goes.
    runtime: tokio::runtime::Runtime,
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    pub service: Service,
    pub clock: TestClock,
    pub admin: CreatedUser,
    pub alice: CreatedUser,
    pub bob: CreatedUser,
    users: Vec<CreatedUser>,
    test_store: TestStore,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            backend: Backend::Sqlite,
            services: Vec::new(),
            users: Vec::new(),
            secure_cookies: false,
            governance: GovernanceSettings::default(),
            signer: None,
        }
    }

    /// Runs `future` on the server's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// A user added with [`TestAppBuilder::user`].
    pub fn user(&self, name: &str) -> &CreatedUser {
        self.users.iter().find(|user| user.user.name.as_str() == name).unwrap_or_else(|| panic!("no user {name}"))
    }

    /// The only way tests make a [`Caller`]: by authenticating with the user's token.
    pub fn caller(&self, user: &CreatedUser) -> Caller {
        self.block_on(self.service.authenticate(&user.token)).unwrap()
    }

    /// How many events the ledger holds.
    /// The store under the service, for checks the service does not offer (tests only: the
    /// faces reach the store through the service).
    pub fn store(&self) -> &changegate_store::Store {
        &self.test_store.store
    }

    pub fn event_count(&self) -> u64 {
        self.block_on(self.store().event_count()).unwrap()
    }

    pub fn add_user(&self, name: &str, roles: &[&str], team: Option<&str>) -> CreatedUser {
        let user = NewUser {
            name: name.into(),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            team: team.map(str::to_owned),
        };
        self.block_on(self.service.add_user_locally(&user)).unwrap()
    }

    /// Registers `service` as the admin.
    pub fn register_service(&self, service: NewService) {
        self.block_on(self.service.register_service(&self.caller(&self.admin), service, None)).unwrap();
    }

    // -----------------------------------------------------------------------------------------
    // Flows through the service

    /// A change created by `user` through the service (for tests about other faces).
    pub fn create_change(&self, user: &CreatedUser, input: NewChange) -> ChangeId {
        self.block_on(self.service.create_change(&self.caller(user), input, None)).unwrap().value.id
    }

    /// `action` on change `id` by `user`, which must succeed.
    pub fn act(&self, user: &CreatedUser, id: ChangeId, action: Action) -> ChangeRecord {
        let caller = self.caller(user);
        self.block_on(self.service.act(&caller, id, action, ActionRequest::default(), None))
            .unwrap_or_else(|error| panic!("{action:?} on {id}: {error}"))
            .value
    }

    /// A change created by `requester`, submitted, approved by each of `approvers`, scheduled,
    /// started, completed and then `last` (verify or fail, say).
    pub fn take_through(
        &self,
        requester: &CreatedUser,
        approvers: &[&CreatedUser],
        input: NewChange,
        last: Action,
    ) -> ChangeId {
        let id = self.create_change(requester, input);
        self.act(requester, id, Action::Submit);
        for approver in approvers {
            self.act(approver, id, Action::Approve);
        }
        for action in [Action::Schedule, Action::Start, Action::Complete, last] {
            self.act(requester, id, action);
        }
        id
    }

    /// The change as the store holds it.
    pub fn change(&self, id: ChangeId) -> ChangeRecord {
        self.block_on(self.store().change(id)).unwrap().expect("the change exists")
    }

    // -----------------------------------------------------------------------------------------
    // The JSON API, with a bearer token

    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = agent().get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Answer::read(request.call())
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = agent().delete(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Answer::read(request.call())
    }

    /// POST `body` as JSON.
    pub fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send("POST", path, Body::json(Some(token), &body))
    }

    /// PUT `body` as JSON.
    pub fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send("PUT", path, Body::json(Some(token), &body))
    }

    /// POST `bytes` as they are, with what headers are given.
    pub fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        bytes: &[u8],
        idempotency_key: Option<&str>,
    ) -> Answer {
        self.send("POST", path, Body { token, content_type, bytes: bytes.to_vec(), idempotency_key })
    }

    fn send(&self, method: &str, path: &str, body: Body) -> Answer {
        let url = format!("{}{path}", self.address);
        let mut request = match method {
            "PUT" => agent().put(url),
            _ => agent().post(url),
        };
        if let Some(token) = body.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(content_type) = body.content_type {
            request = request.header("Content-Type", content_type);
        }
        if let Some(key) = body.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        Answer::read(request.send(&body.bytes[..]))
    }

    /// The API's change creation: `title` with what the default policy wants (see [`change_body`]).
    pub fn api_create_change(&self, token: &str, title: &str) -> Answer {
        self.post("/api/v1/changes", token, change_body(title))
    }

    /// The API's lifecycle action `action` on change `id`.
    pub fn api_act(&self, token: &str, id: &str, action: &str) -> Answer {
        self.post(&format!("/api/v1/changes/{id}/actions/{action}"), token, serde_json::json!({}))
    }

    // -----------------------------------------------------------------------------------------
    // The pages, with a session cookie

    /// A browser that has not signed in.
    pub fn client(&self) -> Client {
        Client::new(self.address.clone())
    }

    /// A browser signed in as `user` through the sign-in form.
    pub fn signed_in(&self, user: &CreatedUser) -> Client {
        let mut client = self.client();
        let reply = client.post("/login", &[("token", &user.token)]);
        assert_eq!(reply.status, 303, "signing in as {} failed: {}", user.user.name, reply.text);
        client
    }

    /// A browser carrying `user`'s session cookie without having signed in through the form.
    pub fn with_session_cookie(&self, user: &CreatedUser) -> Client {
        Client { cookie: Some(format!("changegate_session={}", user.token)), ..self.client() }
    }
}

/// A JSON body for creating a change to `payments-api` with everything the default policy asks
/// for: a rollback plan, test and security evidence, a link.
pub fn change_body(title: &str) -> Value {
    serde_json::json!({
        "title": title,
        "description": "Raise the pool from 20 to 40",
        "type": "normal",
        "service": "payments-api",
        "environment": "production",
        "rollback_plan": "revert the config commit",
        "test_evidence": "https://ci.example.com/payments/runs/981",
        "security_evidence": "SAST: 0 high; SCA: 0 critical",
        "links": ["https://git.example.com/payments/payments-api/pull/42"]
    })
}

/// What a request sends beyond its method and path.
struct Body<'a> {
    token: Option<&'a str>,
    content_type: Option<&'a str>,
    bytes: Vec<u8>,
    idempotency_key: Option<&'a str>,
}

impl<'a> Body<'a> {
    fn json(token: Option<&'a str>, body: &Value) -> Self {
        Body {
            token,
            content_type: Some("application/json"),
            bytes: body.to_string().into_bytes(),
            idempotency_key: None,
        }
    }
}

/// An agent that returns every status as an answer and never follows redirects.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into()
}

// ---------------------------------------------------------------------------------------------
// Answers

/// What the server answered: the status, the headers, the body as text and, when it is JSON,
/// parsed (else the text as a JSON string).
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut response = response.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Answer { status, headers, body, text }
    }

    /// The API error's stable code.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("<no error code>")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_else(|| panic!("no Location in a {} reply", self.status))
    }

    /// The page's CSRF value, as its forms carry it.
    pub fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let start = self.text.find(marker).expect("the page has a CSRF field") + marker.len();
        self.text[start..start + 64].to_owned()
    }

    /// The page as the CSP allows it: no scripts, no inline styles.
    pub fn assert_csp_clean(&self) {
        assert!(!self.text.contains("<script"), "no scripts");
        assert!(!self.text.contains("style="), "no inline styles: {}", self.text);
        assert!(!self.text.contains("<style"), "no style elements");
    }

    /// The text of the element with `id` up to its closing `tag`.
    pub fn element(&self, id: &str, tag: &str) -> &str {
        let start = self.text.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no #{id}: {}", self.text));
        let end = self.text[start..].find(&format!("</{tag}>")).expect("the element ends") + start;
        &self.text[start..end]
    }
}

// ---------------------------------------------------------------------------------------------
// A browser-like client

/// Keeps the session cookie it is given, never follows redirects.
pub struct Client {
    pub address: String,
    agent: ureq::Agent,
    pub cookie: Option<String>,
}

impl Client {
    /// A browser of the application at `address` that has not signed in.
    pub fn new(address: String) -> Self {
        Client { address, agent: agent(), cookie: None }
    }

    fn reply(&mut self, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let answer = Answer::read(response);
        for value in answer.headers.get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            if let Some(token) = pair.strip_prefix("changegate_session=") {
                self.cookie = (!token.is_empty()).then(|| pair.to_owned());
            }
        }
        answer
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.address));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.call();
        self.reply(response)
    }

    /// Posts a form.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post_with(path, fields, &[])
    }

    /// Posts a form with extra `headers`.
    pub fn post_with(&mut self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Answer {
        let mut request = self.agent.post(format!("{}{path}", self.address));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send_form(fields.iter().copied());
        self.reply(response)
    }

    /// The CSRF value of the signed-in user's forms.
    pub fn csrf(&self) -> String {
        let cookie = self.cookie.as_deref().expect("signed in");
        changegate_server::web::csrf_token(cookie.trim_start_matches("changegate_session="))
    }
}
