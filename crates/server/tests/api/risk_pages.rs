//! The risk pages over real HTTP: the model page before any model (how to train one, the factor
//! weights), after a model is trained on a synthetic history (version, figures, the calibration
//! chart and table, every version kept), and the change page's risk panel (factor bars, the
//! recorded probability, the model's largest contributions). The server runs on a background
//! runtime; the test drives it with blocking `ureq`.

use changegate_core::ChangeId;
use changegate_core::lifecycle::Action;
use changegate_service::NewChange;

use crate::helpers::{TestApp, service};

/// The application with the tier-4 service `blog` (team web), in no compliance scope.
fn spawn_with_blog() -> TestApp {
    TestApp::builder().service(service("blog", "web", 4, &[])).spawn()
}

/// A change to `blog` by alice, submitted; `rollback_plan` decides whether it carries one.
fn submitted(app: &TestApp, title: &str, rollback_plan: bool) -> ChangeId {
    let id = app.create_change(&app.alice, blog_change(title, rollback_plan));
    app.act(&app.alice, id, Action::Submit);
    id
}

fn blog_change(title: &str, rollback_plan: bool) -> NewChange {
    NewChange {
        title: title.into(),
        description: "made by the test".into(),
        change_type: "normal".into(),
        service: "blog".into(),
        environment: "production".into(),
        rollback_plan: rollback_plan.then(|| "redeploy the previous release".to_owned()),
        test_evidence: Some("pipeline run 7: 812 tests passed".into()),
        security_evidence: Some("scans clean".into()),
        ..NewChange::default()
    }
}

/// A history where changes without a rollback plan fail and the others succeed: 90 changes
/// carried to verified or failed.
fn build_history(app: &TestApp) {
    extend_history(app, 0..90);
}

/// Changes `numbers` of that history (every third one fails).
fn extend_history(app: &TestApp, numbers: std::ops::Range<u32>) {
    for number in numbers {
        let risky = number % 3 == 0;
        let input = blog_change(&format!("History change {number}"), !risky);
        app.take_through(&app.alice, &[&app.bob], input, if risky { Action::Fail } else { Action::Verify });
    }
}

/// Trains a model as the admin, with settings for a small history; returns its version.
fn train(app: &TestApp) -> String {
    let config = changegate_risk::TrainConfig {
        iterations: 40,
        min_leaf_weight: 1.0,
        subsample: 1.0,
        parallel: false,
        ..Default::default()
    };
    app.block_on(app.service.train_risk_model(&app.caller(&app.admin), &config)).unwrap().version
}

#[test]
fn the_model_page_explains_training_until_a_model_exists_then_shows_its_calibration_and_history() {
    let app = spawn_with_blog();
    let mut client = app.signed_in(&app.alice);

    // Before any model: how to train one, and what the factor score does meanwhile.
    let page = client.get("/risk");
    assert_eq!(page.status, 200);
    page.assert_csp_clean();
    assert!(page.text.contains(r#"<a href="/risk" aria-current="page">Risk</a>"#), "the nav entry");
    assert!(page.text.contains(r#"id="no-model""#), "{}", page.text);
    assert!(page.text.contains("changegate risk train"));
    assert!(page.text.contains("factor score alone"));
    assert!(!page.text.contains("<svg"), "no chart without a model");
    assert!(!page.text.contains(r#"id="model-history""#));
    // The factor weights in use (the defaults), each with its severity.
    let weights = page.element("risk-weights", "table");
    assert_eq!(weights.matches("data-factor=").count(), 9);
    assert!(weights.contains(r#"data-factor="service_tier""#) && weights.contains(">30<"), "{weights}");
    assert!(weights.contains("no rollback plan"));
    assert!(page.text.contains("the weights add up to 150"));

    // An unknown version is a 404 that still shows the page.
    let unknown = client.get("/risk?version=0000000000000000");
    assert_eq!(unknown.status, 404);
    assert!(unknown.text.contains("none has been trained yet"), "{}", unknown.text);

    // After training on a history where changes without a rollback plan fail:
    build_history(&app);
    let version = train(&app);
    let page = client.get("/risk");
    assert_eq!(page.status, 200);
    page.assert_csp_clean();
    assert!(!page.text.contains(r#"id="no-model""#));
    assert!(page.element("model-version", "span").contains(&version));
    let auc = page.element("model-auc", "span");
    let auc: f64 = auc[auc.find('>').unwrap() + 1..].parse().unwrap_or_else(|_| panic!("an AUC: {auc}"));
    assert!(auc > 0.9, "{auc}");
    assert!(page.element("model-validation-rows", "dd").ends_with(">18"), "the newest 20 % of 90");
    assert!(page.element("model-trained-by", "dd").ends_with(">admin"));
    assert!(page.element("model-failure-rate", "span").ends_with(">33.3%"), "30 of 90 failed");
    // The reliability diagram: an accessible SVG with the diagonal and one point per non-empty bin.
    let chart = page.element("calibration-chart", "svg");
    assert!(page.text.contains(r#"<svg class="chart" id="calibration-chart""#));
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
    extend_history(&app, 90..96);
    let newer = train(&app);
    assert_ne!(newer, version);
    let page = client.get("/risk");
    let history = page.element("model-history", "table");
    assert_eq!(history.matches("data-version=").count(), 2);
    assert!(history.find(&newer).unwrap() < history.find(&version).unwrap(), "newest first");
    assert!(history.contains("superseded"));
    let older = client.get(&format!("/risk?version={version}"));
    assert_eq!(older.status, 200);
    assert!(older.text.contains("(superseded)") && older.element("model-version", "span").contains(&version));
    assert!(older.text.contains(r#"id="calibration-chart""#));
}

#[test]
fn the_change_page_shows_factor_bars_and_after_training_the_model_contributions() {
    let app = spawn_with_blog();
    let mut client = app.signed_in(&app.bob);

    // Without a model: the recorded factors as bars, and no contributions.
    let early = submitted(&app, "Before the model", false);
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

    build_history(&app);
    let version = train(&app);

    // The change assessed before the model: explained by the model in use, with no recorded probability.
    let page = client.get(&format!("/changes/{early}"));
    let panel = page.element("risk", "section");
    assert!(panel.contains(r#"id="risk-probability-none""#), "{panel}");
    assert!(panel.contains("A model has been trained since the change was assessed"));
    assert!(panel.contains(r#"id="risk-contributions""#));

    // A change assessed by the model: its probability and version recorded, the largest
    // contributions (at most five; on this history only a few features matter).
    let late = submitted(&app, "After the model", false);
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
    assert!(page.text.contains(r##"href="#risk-title""##));

    // A draft has no assessment yet: the model says what it would give it if submitted now.
    let input = NewChange {
        title: "Still a draft".into(),
        change_type: "normal".into(),
        service: "blog".into(),
        environment: "production".into(),
        ..NewChange::default()
    };
    let draft = app.create_change(&app.alice, input);
    let page = client.get(&format!("/changes/{draft}"));
    assert_eq!(page.status, 200);
    let panel = page.element("risk", "section");
    assert!(panel.contains("Not assessed yet") && !panel.contains(r#"id="risk-factors""#), "{panel}");
    assert!(panel.contains("If the change were submitted now"), "{panel}");
}
