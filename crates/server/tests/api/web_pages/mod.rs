//! The web pages over real HTTP, signed in with a session cookie and posting forms with their
//! CSRF value: sessions and refusals, the change pages, and the governance pages. What the three
//! modules share: the application with `payments-api` in PCI scope and the change inputs the
//! default policy accepts for it.

mod changes;
mod governance;
mod sessions;

use changegate_service::{NewChange, NewService};

use crate::helpers::{TestApp, service};

/// `payments-api` (tier 2, team payments) in PCI scope.
fn pci_payments_api() -> NewService {
    service("payments-api", "payments", 2, &["pci"])
}

/// The application with `payments-api` in PCI scope.
fn spawn_with_pci_payments() -> TestApp {
    TestApp::builder().service(pci_payments_api()).spawn()
}

/// Registers `catalog`: tier 3, owned by team shop, in no compliance scope (what an
/// auto-approved standard change needs under the default policy).
fn register_catalog(app: &TestApp) {
    app.register_service(service("catalog", "shop", 3, &[]));
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
