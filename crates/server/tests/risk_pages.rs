//! The risk pages over real HTTP: the model page before any model (how to train one, the factor
//! weights), after a model is trained on a synthetic history (version, figures, the calibration
//! chart and table, every version kept), and the change page's risk panel (factor bars, the
//! recorded probability, the model's largest contributions). The server runs on a background
//! runtime; the test drives it with blocking `ureq`.

use changegate_core::ChangeId;
use changegate_core::lifecycle::Action;
use changegate_service::{ActionRequest, Caller, CreatedUser, NewChange, NewService, NewUser, Service, SystemClock};

/// A running server over a fresh SQLite store with an admin, alice (requester), bob (approver)
/// and the tier-4 service `blog`, in no compliance scope.
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
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        let (service, admin, alice, bob, address) = runtime.block_on(async move {
            let store =
                changegate_store::Store::open(&changegate_store::StoreLocation::DataDir(data_dir)).await.unwrap();
            let service = Service::new(store, std::sync::Arc::new(SystemClock));
            let admin = service.bootstrap_admin("admin").await.unwrap();
            let add = async |name: &str, role: &str| {
                let user = NewUser { name: name.into(), roles: vec![role.into()], team: None };
                service.add_user_locally(&user).await.unwrap()
            };
            let alice = add("alice", "requester").await;
            let bob = add("bob", "approver").await;
            let blog =
                NewService { name: "blog".into(), team: "web".into(), tier: 4, scopes: vec![], depends_on: vec![] };
            service.register_service(&Caller { user: admin.user.clone() }, blog, None).await.unwrap();
            let config =
                changegate_server::ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
            let app = changegate_server::Application::build(service.clone(), config).await.unwrap();
            let address = app.local_addr();
            tokio::spawn(app.run_until(std::future::pending()));
            (service, admin, alice, bob, address)
        });
        TestApp { runtime, base: format!("http://{address}"), service, admin, alice, bob, _dir: dir }
    }

    fn caller(user: &CreatedUser) -> Caller {
        Caller { user: user.user.clone() }
    }

    fn act(&self, user: &CreatedUser, id: ChangeId, action: Action) {
        let caller = Self::caller(user);
        self.runtime
            .block_on(self.service.act(&caller, id, action, ActionRequest::default(), None))
            .unwrap_or_else(|error| panic!("{action:?} on {id}: {error}"));
    }

    /// A change to `blog` by alice, submitted; `rollback_plan` decides whether it carries one.
    fn submitted(&self, title: &str, rollback_plan: bool) -> ChangeId {
        let input = NewChange {
            title: title.into(),
            description: "made by the test".into(),
            change_type: "normal".into(),
            service: "blog".into(),
            environment: "production".into(),
            rollback_plan: rollback_plan.then(|| "redeploy the previous release".to_owned()),
            test_evidence: Some("pipeline run 7: 812 tests passed".into()),
            security_evidence: Some("scans clean".into()),
            ..NewChange::default()
        };
        let caller = Self::caller(&self.alice);
        let id = self.runtime.block_on(self.service.create_change(&caller, input, None)).unwrap().value.id;
        self.act(&self.alice, id, Action::Submit);
        id
    }

    /// A history where changes without a rollback plan fail and the others succeed: 90 changes
    /// carried to verified or failed.
    fn build_history(&self) {
        self.extend_history(0..90);
    }

    /// Changes `numbers` of that history (every third one fails).
    fn extend_history(&self, numbers: std::ops::Range<u32>) {
        for number in numbers {
            let risky = number % 3 == 0;
            let id = self.submitted(&format!("History change {number}"), !risky);
            self.act(&self.bob, id, Action::Approve);
            for action in [Action::Schedule, Action::Start, Action::Complete] {
                self.act(&self.alice, id, action);
            }
            self.act(&self.alice, id, if risky { Action::Fail } else { Action::Verify });
        }
    }

    /// Trains a model as the admin, with settings for a small history; returns its version.
    fn train(&self) -> String {
        let config = changegate_risk::TrainConfig {
            iterations: 40,
            min_leaf_weight: 1.0,
            subsample: 1.0,
            parallel: false,
            ..Default::default()
        };
        let record = self.runtime.block_on(self.service.train_risk_model(&Self::caller(&self.admin), &config)).unwrap();
        record.version
    }

    fn signed_in(&self, user: &CreatedUser) -> Client {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).build().into();
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
        Client { base: self.base.clone(), agent, cookie }
    }
}

/// A signed-in browser: sends the session cookie, never follows redirects.
struct Client {
    base: String,
    agent: ureq::Agent,
    cookie: String,
}

struct Page {
    status: u16,
    body: String,
}

impl Client {
    fn get(&self, path: &str) -> Page {
        let mut response =
            self.agent.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).call().unwrap();
        let status = response.status().as_u16();
        Page { status, body: response.body_mut().read_to_string().unwrap() }
    }
}

impl Page {
    /// The page as the CSP allows it: no scripts, no inline styles.
    fn assert_csp_clean(&self) {
        assert!(!self.body.contains("<script"), "no scripts");
        assert!(!self.body.contains("style="), "no inline styles: {}", self.body);
        assert!(!self.body.contains("<style"), "no style elements");
    }

    /// The text of the element with `id` up to its closing `tag`.
    fn element(&self, id: &str, tag: &str) -> &str {
        let start = self.body.find(&format!(r#"id="{id}""#)).unwrap_or_else(|| panic!("no #{id}: {}", self.body));
        let end = self.body[start..].find(&format!("</{tag}>")).expect("the element ends") + start;
        &self.body[start..end]
    }
}

#[test]
fn the_model_page_explains_training_until_a_model_exists_then_shows_its_calibration_and_history() {
    let app = TestApp::start();
    let client = app.signed_in(&app.alice);

    // Before any model: how to train one, and what the factor score does meanwhile.
    let page = client.get("/risk");
    assert_eq!(page.status, 200);
    page.assert_csp_clean();
    assert!(page.body.contains(r#"<a href="/risk" aria-current="page">Risk</a>"#), "the nav entry");
    assert!(page.body.contains(r#"id="no-model""#), "{}", page.body);
    assert!(page.body.contains("changegate risk train"));
    assert!(page.body.contains("factor score alone"));
    assert!(!page.body.contains("<svg"), "no chart without a model");
    assert!(!page.body.contains(r#"id="model-history""#));
    // The factor weights in use (the defaults), each with its severity.
    let weights = page.element("risk-weights", "table");
    assert_eq!(weights.matches("data-factor=").count(), 9);
    assert!(weights.contains(r#"data-factor="service_tier""#) && weights.contains(">30<"), "{weights}");
    assert!(weights.contains("no rollback plan"));
    assert!(page.body.contains("the weights add up to 150"));

    // An unknown version is a 404 that still shows the page.
    let unknown = client.get("/risk?version=0000000000000000");
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("none has been trained yet"), "{}", unknown.body);

    // After training on a history where changes without a rollback plan fail:
    app.build_history();
    let version = app.train();
    let page = client.get("/risk");
    assert_eq!(page.status, 200);
    page.assert_csp_clean();
    assert!(!page.body.contains(r#"id="no-model""#));
    assert!(page.element("model-version", "span").contains(&version));
    let auc = page.element("model-auc", "span");
    let auc: f64 = auc[auc.find('>').unwrap() + 1..].parse().unwrap_or_else(|_| panic!("an AUC: {auc}"));
    assert!(auc > 0.9, "{auc}");
    assert!(page.element("model-validation-rows", "dd").ends_with(">18"), "the newest 20 % of 90");
    assert!(page.element("model-trained-by", "dd").ends_with(">admin"));
    assert!(page.element("model-failure-rate", "span").ends_with(">33.3%"), "30 of 90 failed");
    // The reliability diagram: an accessible SVG with the diagonal and one point per non-empty bin.
    let chart = page.element("calibration-chart", "svg");
    assert!(page.body.contains(r#"<svg class="chart" id="calibration-chart""#));
    assert!(chart.contains("<title id=\"calibration-chart-title\">") && chart.contains("<desc"), "{chart}");
    assert!(chart.contains(r#"class="chart-reference""#));
    assert!(chart.contains("Mean predicted probability of failure") && chart.contains("Observed failure rate"));
    let bins = page.element("calibration-bins", "table");
    assert_eq!(bins.matches("<tr").count(), 11, "a header and ten bins: {bins}");
    let empty_bins = bins.matches(r#"<tr class="muted">"#).count();
    assert_eq!(chart.matches("<circle").count(), 10 - empty_bins, "empty bins are skipped");
    let history = page.element("model-history", "table");
    assert_eq!(history.matches("data-version=").count(), 1);
    assert!(history.contains("in use"));

    // A second model, on a longer history: both are listed, the first superseded and still viewable.
    app.extend_history(90..96);
    let newer = app.train();
    assert_ne!(newer, version);
    let page = client.get("/risk");
    let history = page.element("model-history", "table");
    assert_eq!(history.matches("data-version=").count(), 2);
    assert!(history.find(&newer).unwrap() < history.find(&version).unwrap(), "newest first");
    assert!(history.contains("superseded"));
    let older = client.get(&format!("/risk?version={version}"));
    assert_eq!(older.status, 200);
    assert!(older.body.contains("(superseded)") && older.element("model-version", "span").contains(&version));
    assert!(older.body.contains(r#"id="calibration-chart""#));
}

#[test]
fn the_change_page_shows_factor_bars_and_after_training_the_model_contributions() {
    let app = TestApp::start();
    let client = app.signed_in(&app.bob);

    // Without a model: the recorded factors as bars, and no contributions.
    let early = app.submitted("Before the model", false);
    let page = client.get(&format!("/changes/{early}"));
    assert_eq!(page.status, 200);
    page.assert_csp_clean();
    let panel = page.element("risk", "section");
    assert!(panel.contains(r#"id="risk-factors""#), "{panel}");
    assert_eq!(panel.matches(r#"<svg class="bar""#).count(), 9, "one bar per factor");
    assert!(panel.contains("rollback plan") && panel.contains("no rollback plan"));
    assert!(panel.contains(r#"class="bar-fill""#));
    assert!(panel.contains(r#"id="risk-no-model""#));
    assert!(!panel.contains(r#"id="risk-contributions""#));
    assert!(!panel.contains(r#"id="risk-probability""#));

    app.build_history();
    let version = app.train();

    // The change assessed before the model: explained by the model in use, with no recorded probability.
    let page = client.get(&format!("/changes/{early}"));
    let panel = page.element("risk", "section");
    assert!(panel.contains(r#"id="risk-probability-none""#), "{panel}");
    assert!(panel.contains("A model has been trained since the change was assessed"));
    assert!(panel.contains(r#"id="risk-contributions""#));

    // A change assessed by the model: its probability and version recorded, the largest
    // contributions (at most five; on this history only a few features matter).
    let late = app.submitted("After the model", false);
    let page = client.get(&format!("/changes/{late}"));
    assert_eq!(page.status, 200);
    page.assert_csp_clean();
    let panel = page.element("risk", "section");
    assert!(panel.contains(r#"id="risk-probability""#), "{panel}");
    assert!(panel.contains(&format!(r#"href="/risk?version={version}""#)));
    assert!(panel.contains("the one that assessed it"));
    let contributions = page.element("risk-contributions", "table");
    assert!((1..=5).contains(&contributions.matches("data-feature=").count()), "{contributions}");
    // The history taught it that a missing rollback plan raises the risk.
    let first = &contributions[contributions.find("data-feature=").unwrap()..];
    assert!(first.starts_with(r#"data-feature="has_rollback_plan""#), "{contributions}");
    assert!(first[..first.find("</tr>").unwrap()].contains("(raises the risk)"), "{first}");
    assert!(contributions.contains("rollback plan"));
    assert!(!contributions.contains(">+0.00<") && !contributions.contains(">−0.00<"), "zeros are not listed");
    // The policy panel still shows the class, and points to the risk panel.
    assert!(page.body.contains(r##"href="#risk-title""##));

    // A draft has no assessment yet: the model says what it would give it if submitted now.
    let input = NewChange {
        title: "Still a draft".into(),
        change_type: "normal".into(),
        service: "blog".into(),
        environment: "production".into(),
        ..NewChange::default()
    };
    let caller = TestApp::caller(&app.alice);
    let draft = app.runtime.block_on(app.service.create_change(&caller, input, None)).unwrap().value.id;
    let page = client.get(&format!("/changes/{draft}"));
    assert_eq!(page.status, 200);
    let panel = page.element("risk", "section");
    assert!(panel.contains("Not assessed yet") && !panel.contains(r#"id="risk-factors""#), "{panel}");
    assert!(panel.contains("If the change were submitted now"), "{panel}");
}
