//! The compliance faces over real HTTP: the API report (readable back into the compliance
//! crate's report), its OSCAL form, the OpenAPI entry, the `/compliance` page with links to the
//! changes at fault, and refusals (wrong role, bad input) that change nothing but the recorded
//! denial.

use std::future::Future;

use changegate_compliance::{CheckId, ComplianceReport};
use changegate_core::ChangeId;
use changegate_core::lifecycle::Action;
use changegate_service::{ActionRequest, Caller, CreatedUser, NewChange, NewService, NewUser, Service, SystemClock};

struct TestApp {
    runtime: tokio::runtime::Runtime,
    base: String,
    service: Service,
    admin: CreatedUser,
    alice: CreatedUser,
    /// A normal change to the PCI service, approved and implemented without test evidence.
    untested: ChangeId,
    _dir: tempfile::TempDir,
}

impl TestApp {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        let (service, admin, alice, untested, address) = runtime.block_on(async move {
            let store =
                changegate_store::Store::open(&changegate_store::StoreLocation::DataDir(data_dir)).await.unwrap();
            let service = Service::new(store, std::sync::Arc::new(SystemClock));
            let admin = service.bootstrap_admin("admin").await.unwrap();
            let user = |name: &str, role: &str| NewUser { name: name.into(), roles: vec![role.into()], team: None };
            let alice = service.add_user_locally(&user("alice", "requester")).await.unwrap();
            let bob = service.add_user_locally(&user("bob", "approver")).await.unwrap();
            let sam = service.add_user_locally(&user("sam", "security")).await.unwrap();
            let payments = NewService {
                name: "payments-api".into(),
                team: "payments".into(),
                tier: 2,
                scopes: vec!["pci".into()],
                depends_on: vec![],
            };
            service.register_service(&Caller { user: admin.user.clone() }, payments, None).await.unwrap();
            let input = NewChange {
                title: "Rotate <keys> & \"secrets\"".into(),
                change_type: "normal".into(),
                service: "payments-api".into(),
                environment: "production".into(),
                rollback_plan: Some("redeploy the previous release".into()),
                security_evidence: Some("SAST, SCA and secret scan clean".into()),
                ..NewChange::default()
            };
            let requester = Caller { user: alice.user.clone() };
            let approver = Caller { user: bob.user.clone() };
            let security = Caller { user: sam.user.clone() };
            let untested = service.create_change(&requester, input, None).await.unwrap().value.id;
            for (caller, action) in [
                (&requester, Action::Submit),
                (&approver, Action::Approve),
                (&security, Action::Approve),
                (&requester, Action::Schedule),
                (&requester, Action::Start),
            ] {
                service.act(caller, untested, action, ActionRequest::default(), None).await.unwrap();
            }
            let config =
                changegate_server::ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
            let app = changegate_server::Application::build(service.clone(), config).await.unwrap();
            let address = app.local_addr();
            tokio::spawn(app.run_until(std::future::pending()));
            (service, admin, alice, untested, address)
        });
        TestApp { runtime, base: format!("http://{address}"), service, admin, alice, untested, _dir: dir }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn event_count(&self) -> u64 {
        self.block_on(self.service.store().event_count()).unwrap()
    }

    /// GET with a bearer token: status and body.
    fn api(&self, user: &CreatedUser, path: &str) -> (u16, String) {
        let mut response = agent()
            .get(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", user.token))
            .call()
            .unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    }

    /// GET a page as `user`, signed in with a session cookie.
    fn page(&self, user: &CreatedUser, path: &str) -> (u16, String) {
        let login = agent().post(format!("{}/login", self.base)).send_form([("token", user.token.as_str())]).unwrap();
        assert_eq!(login.status().as_u16(), 303, "signing in");
        let cookie = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok()?.split(';').next())
            .find(|pair| pair.starts_with("changegate_session="))
            .unwrap()
            .to_owned();
        let mut response = agent().get(format!("{}{path}", self.base)).header("cookie", &cookie).call().unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into()
}

#[test]
fn the_api_report_names_the_change_at_fault_and_reads_back_into_the_report() {
    // Given an implemented PCI change without test evidence, when an admin asks the API,
    let app = TestApp::start();
    let (status, body) = app.api(&app.admin, "/api/v1/compliance?framework=pci-dss");
    assert_eq!(status, 200, "{body}");
    // then the JSON is the compliance crate's report, and test evidence names the change.
    let report: ComplianceReport = serde_json::from_str(&body).unwrap();
    assert_eq!(report.changes_in_period, vec![app.untested]);
    let pci = &report.frameworks[0];
    assert_eq!(pci.check(CheckId::TestEvidence).unwrap().violating_changes(), vec![app.untested]);
    let control = pci.controls.iter().find(|control| control.id == "pci-dss-6.5.6").unwrap();
    assert_eq!(control.violating_changes, vec![app.untested]);
    // The OSCAL form is an assessment-results document pointing at the change page.
    let (status, body) = app.api(&app.admin, "/api/v1/compliance/oscal?framework=pci-dss");
    assert_eq!(status, 200, "{body}");
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["assessment-results"]["metadata"]["oscal-version"], "1.2.1");
    assert!(body.contains(&format!("/changes/{}", app.untested)));
    // Both are in the OpenAPI document.
    let (_, openapi) = app.api(&app.admin, "/api/openapi.json");
    let openapi: serde_json::Value = serde_json::from_str(&openapi).unwrap();
    assert!(openapi["paths"]["/api/v1/compliance"]["get"].is_object());
    assert!(openapi["paths"]["/api/v1/compliance/oscal"]["get"].is_object());
}

#[test]
fn refusals_have_stable_codes_and_change_nothing_but_the_denial() {
    let app = TestApp::start();
    // Given a requester, when they ask, then 403 `forbidden` and one access_denied event;
    let before = app.event_count();
    let (status, body) = app.api(&app.alice, "/api/v1/compliance");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("\"code\":\"forbidden\""), "{body}");
    assert_eq!(app.event_count(), before + 1);
    // given bad input, then 422 `validation_failed` naming the field, and nothing written;
    let (status, body) = app.api(&app.admin, "/api/v1/compliance?framework=sox&from=yesterday");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"code\":\"validation_failed\"") && body.contains("\"framework\""), "{body}");
    // given an unknown parameter, then 400.
    let (status, _) = app.api(&app.admin, "/api/v1/compliance?frameworks=all");
    assert_eq!(status, 400);
    assert_eq!(app.event_count(), before + 1);
}

#[test]
fn the_page_lists_controls_and_links_the_changes_at_fault() {
    let app = TestApp::start();
    // Given an admin, when they open the PCI report page,
    let (status, page) = app.page(&app.admin, "/compliance?framework=pci-dss");
    assert_eq!(status, 200, "{page}");
    // then the controls, their status and a link to the change at fault are there, no script.
    assert!(page.contains("Compliance</a>"), "the navigation shows the page to an admin");
    assert!(page.contains("6.5.1"));
    assert!(page.contains("Not satisfied"));
    assert!(page.contains(&format!("href=\"/changes/{}\"", app.untested)));
    assert!(page.contains("oscal?framework=pci-dss"), "the OSCAL link (minijinja escapes its slashes)");
    assert!(!page.contains("<script"));
    // A requester is refused; a bad period is a clear error.
    let (status, _) = app.page(&app.alice, "/compliance");
    assert_eq!(status, 403);
    let (status, page) = app.page(&app.admin, "/compliance?from=2026-12-01&to=2026-11-01");
    assert_eq!(status, 422);
    assert!(page.contains("must be before"), "{page}");
}
