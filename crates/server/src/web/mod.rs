//! Server-rendered web pages: sign-in, dashboard, changes (list, new, detail with lifecycle
//! actions, the policy decision and the risk panel), services, incidents, the ledger, governance
//! (approvals inbox, change calendar, standard-change templates, the approval policy) and risk
//! (the predictive model with its calibration, every model version, the factor weights), alerts
//! (rules, firings with their deliveries, rollback hooks), compliance (controls per framework
//! with the changes at fault), maturity (the CMMI assessment: radar, criteria, roadmap, trend
//! and the questionnaire), metrics & KPIs (`/kpis`: DORA's metrics and the change-management
//! ones, with SVG charts) and the history import (admins).
//!
//! Pages are minijinja templates embedded in the binary and registered under names ending in
//! `.html`, so every interpolated value is HTML-escaped. No JavaScript is needed: every action is
//! a plain form.
//!
//! Sessions: signing in with an API token sets the `changegate_session` cookie (HttpOnly,
//! SameSite=Strict, `Secure` when configured) holding that token; each request authenticates it
//! through the service like a bearer token. Every POST form of a signed-in user carries a `csrf`
//! field derived from the session token (see [`session::csrf_token`]); the sign-in form, which has
//! no session yet, is protected by an `Origin` check.

mod alert_pages;
mod calendar_pages;
mod change_pages;
mod civil;
mod compliance_pages;
mod forms;
mod governance_pages;
mod import_pages;
mod incident_pages;
mod kpi_pages;
mod ledger_pages;
mod maturity_pages;
mod pages;
mod render;
mod risk_pages;
mod session;
mod sign_in_pages;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::{Digest, Sha256};

use crate::AppState;

pub use session::{SESSION_COOKIE, csrf_token};

/// Largest form body the pages accept. Larger than the API's JSON limit because URL-encoding
/// inflates text up to ninefold, and a change carries three long texts (description and plans).
pub const FORM_SIZE_MAX_BYTES: usize = 256 * 1024;

/// The stylesheet, served at `/static/app.css`.
const APP_CSS: &str = include_str!("../../static/app.css");
/// The favicon, served at `/static/favicon.svg`.
const FAVICON_SVG: &str = include_str!("../../static/favicon.svg");

/// A short digest of the static assets, appended to their URLs so browsers refetch after an
/// upgrade while caching them otherwise.
static ASSET_VERSION: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::new().chain_update(APP_CSS).chain_update(FAVICON_SVG).finalize();
    hex::encode(&digest[..6])
});

/// Every template, by name. Names end in `.html`: that is what turns on HTML auto-escaping.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("dashboard.html", include_str!("../../templates/dashboard.html")),
    ("changes.html", include_str!("../../templates/changes.html")),
    ("change_new.html", include_str!("../../templates/change_new.html")),
    ("change.html", include_str!("../../templates/change.html")),
    ("services.html", include_str!("../../templates/services.html")),
    ("ledger.html", include_str!("../../templates/ledger.html")),
    ("incidents.html", include_str!("../../templates/incidents.html")),
    ("incident.html", include_str!("../../templates/incident.html")),
    ("approvals.html", include_str!("../../templates/approvals.html")),
    ("calendar.html", include_str!("../../templates/calendar.html")),
    ("templates.html", include_str!("../../templates/templates.html")),
    ("policy.html", include_str!("../../templates/policy.html")),
    ("risk.html", include_str!("../../templates/risk.html")),
    ("alerts.html", include_str!("../../templates/alerts.html")),
    ("compliance.html", include_str!("../../templates/compliance.html")),
    ("maturity.html", include_str!("../../templates/maturity.html")),
    ("kpis.html", include_str!("../../templates/kpis.html")),
    ("import.html", include_str!("../../templates/import.html")),
    ("error.html", include_str!("../../templates/error.html")),
];

/// The page templates.
pub fn templates() -> minijinja::Environment<'static> {
    let mut environment = minijinja::Environment::new();
    // Fail loudly on a misspelt variable instead of printing nothing; `{% if x %}` stays allowed.
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    for (name, source) in TEMPLATES {
        debug_assert!(name.ends_with(".html"), "template {name} would not be HTML-escaped");
        if let Err(error) = environment.add_template(name, source) {
            // The templates are compiled in; a syntax error is a bug caught by the tests.
            panic!("template {name} does not parse: {error:#}");
        }
    }
    render::register_filters(&mut environment);
    environment
}

/// Routes of the web pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(sign_in_pages::login_form).post(sign_in_pages::login))
        .route("/logout", post(sign_in_pages::logout))
        .route("/changes", get(change_pages::list_changes).post(change_pages::create_change))
        .route("/changes/new", get(change_pages::new_change_form))
        .route("/changes/{id}", get(change_pages::change_page))
        .route("/changes/{id}/actions/{action}", post(change_pages::change_action))
        .route("/services", get(pages::services))
        .route("/incidents", get(pages::incidents).post(pages::open_incident))
        .route("/incidents/{id}/resolve", post(pages::resolve_incident))
        .route("/incidents/{id}", get(incident_pages::incident).post(incident_pages::incident_action))
        .route("/approvals", get(governance_pages::approvals))
        .route("/approvals/{id}/{decision}", post(governance_pages::decide))
        .route("/calendar", get(calendar_pages::calendar))
        .route("/calendar/windows", post(calendar_pages::define_window))
        .route("/calendar/windows/{name}/remove", post(calendar_pages::remove_window))
        .route("/templates", get(governance_pages::templates).post(governance_pages::define_template))
        .route("/policy", get(governance_pages::policy))
        .route("/risk", get(risk_pages::risk))
        .route("/alerts", get(alert_pages::alerts))
        .route("/alerts/rules", post(alert_pages::define_rule))
        .route("/alerts/rules/{name}/remove", post(alert_pages::remove_rule))
        .route("/alerts/rollback-hooks", post(alert_pages::set_hook))
        .route("/alerts/rollback-hooks/{name}/remove", post(alert_pages::remove_hook))
        .route("/compliance", get(compliance_pages::compliance))
        .route("/maturity", get(maturity_pages::maturity))
        .route("/maturity/answers", post(maturity_pages::record_answers))
        // `/metrics` is the Prometheus endpoint; the people's page is `/kpis`.
        .route("/kpis", get(kpi_pages::kpis))
        .route(
            "/import",
            get(import_pages::import_form)
                .post(import_pages::import)
                // Inside the pages' limit below, so this larger one applies to the import form.
                .layer(DefaultBodyLimit::max(import_pages::IMPORT_FORM_SIZE_MAX_BYTES)),
        )
        .route("/ledger", get(ledger_pages::ledger_page))
        .route("/ledger/verify", post(ledger_pages::verify))
        .route("/ledger/checkpoint", post(ledger_pages::checkpoint))
        .route("/changes/{id}/proof", get(ledger_pages::change_proof))
        .route("/static/app.css", get(app_css))
        .route("/static/favicon.svg", get(favicon))
        .fallback(pages::not_found)
        // Inside the application-wide limit's layer, so this one applies to the pages.
        .layer(DefaultBodyLimit::max(FORM_SIZE_MAX_BYTES))
        .layer(axum::middleware::map_response(security_headers))
}

#[tracing::instrument(skip_all)]
async fn app_css() -> Response {
    static_asset("text/css; charset=utf-8", APP_CSS)
}

#[tracing::instrument(skip_all)]
async fn favicon() -> Response {
    static_asset("image/svg+xml", FAVICON_SVG)
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=86400")], body).into_response()
}

/// Headers on every page: no framing, no foreign scripts or styles, no caching of pages that
/// show a signed-in user's data.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
