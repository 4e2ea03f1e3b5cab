//! The report as one self-contained HTML page (inline style, no scripts, no external assets),
//! for `changegate comply --html` and the auditor's bundle.
//!
//! Why hand-written rather than a template engine: the page must open from a file with nothing
//! beside it, and this crate stays free of I/O and heavy dependencies. Every text from the data
//! goes through [`escape`].

use std::fmt::Write;

use changegate_core::ChangeId;

use crate::checks::{CheckId, CheckResult, Violation};
use crate::report::{ComplianceReport, FrameworkReport, Status};

/// Violations (and undetermined changes) listed per check; the rest are counted.
pub const LISTED_PER_CHECK_MAX: usize = 200;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1c2430}\
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:2px solid #d6dbe3;padding-bottom:.3rem}h3{margin-top:1.4rem}\
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #d6dbe3;padding:.35rem .5rem;text-align:left;vertical-align:top}\
th{background:#f1f4f8}.satisfied{color:#11693a;font-weight:600}.not_satisfied{color:#a4161a;font-weight:600}\
.not_applicable{color:#6b7280;font-weight:600}.muted{color:#6b7280}code{font-size:.92em}ul.compact{margin:.2rem 0;padding-left:1.2rem}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Satisfied => "Satisfied",
        Status::NotSatisfied => "Not satisfied",
        Status::NotApplicable => "Not applicable (no data)",
    }
}

fn change_reference(id: ChangeId, change_href: &dyn Fn(ChangeId) -> Option<String>) -> String {
    match change_href(id) {
        Some(href) => format!("<a href=\"{}\">{id}</a>", escape(&href)),
        None => id.to_string(),
    }
}

/// Renders the report. `change_href` gives the link of a change (its page, or its file in a
/// bundle), or `None` for plain text.
pub fn render_html(report: &ComplianceReport, change_href: &dyn Fn(ChangeId) -> Option<String>) -> String {
    let mut page = String::new();
    let period = format!("{} to {}", report.from, report.to);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Changegate compliance report, {}</title><style>{STYLE}</style></head><body>\n",
        escape(&period)
    );
    let _ = write!(
        page,
        "<h1>Compliance report</h1>\n<p>Period <strong>{}</strong> (end exclusive), generated {}. {} production change(s) started or deployed in the period.</p>\n",
        escape(&period),
        report.generated_at,
        report.changes_in_period.len()
    );
    page.push_str("<table><tr><th>Framework</th><th>Scope</th><th>Changes in scope</th><th>Status</th></tr>\n");
    for framework in &report.frameworks {
        let _ = writeln!(
            page,
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            framework.framework,
            escape(&framework.name),
            scope_text(framework),
            framework.population,
            framework.status.as_str(),
            status_text(framework.status)
        );
    }
    page.push_str("</table>\n");
    ledger_section(&mut page, report);
    for framework in &report.frameworks {
        framework_section(&mut page, framework, change_href);
    }
    definitions_section(&mut page);
    page.push_str("<p class=\"muted\">Control texts are Changegate's own paraphrases, not the frameworks' wording.</p>\n</body></html>\n");
    page
}

fn scope_text(framework: &FrameworkReport) -> String {
    if framework.scope_tags.is_empty() {
        "all production services".to_owned()
    } else {
        format!("services tagged {}", escape(&framework.scope_tags.join(", ")))
    }
}

fn ledger_section(page: &mut String, report: &ComplianceReport) {
    let ledger = &report.ledger;
    let optional = |time: Option<changegate_core::Timestamp>| time.map(|time| time.to_rfc3339()).unwrap_or("—".into());
    let verification = match ledger.verified {
        None => "never verified".to_owned(),
        Some(true) => format!("OK at {}", optional(ledger.verified_at)),
        Some(false) => format!(
            "FAILED at {}{}: {}",
            optional(ledger.verified_at),
            ledger.first_bad_index.map(|index| format!(" (index {index})")).unwrap_or_default(),
            ledger.verification_message.clone().unwrap_or_default()
        ),
    };
    let _ = write!(
        page,
        "<h2>Audit ledger evidence</h2>\n<table>\
         <tr><th>Entries</th><td>{}</td></tr>\
         <tr><th>Newest verification</th><td>{}</td></tr>\
         <tr><th>Newest checkpoint</th><td>{} (size {})</td></tr>\
         <tr><th>Checkpoints signed in the period</th><td>{}</td></tr>\
         <tr><th>Signing key</th><td>{}</td></tr>\
         <tr><th>Oldest event</th><td>{}</td></tr>\
         <tr><th>Retention required</th><td>{} days</td></tr></table>\n",
        ledger.size,
        escape(&verification),
        optional(ledger.latest_checkpoint_at),
        ledger.latest_checkpoint_size.map(|size| size.to_string()).unwrap_or("—".into()),
        ledger.checkpoints_in_period,
        if ledger.signing_key_present { "present" } else { "MISSING" },
        optional(ledger.oldest_event_at),
        report.settings.retention_days_required
    );
}

fn framework_section(page: &mut String, framework: &FrameworkReport, change_href: &dyn Fn(ChangeId) -> Option<String>) {
    let _ = write!(
        page,
        "<h2 id=\"{}\">{} — <span class=\"{}\">{}</span></h2>\n<p>Scope: {}; {} change(s) in the period.</p>\n",
        framework.framework,
        escape(&framework.name),
        framework.status.as_str(),
        status_text(framework.status),
        scope_text(framework),
        framework.population
    );
    page.push_str("<table><tr><th>Control</th><th>Our paraphrase</th><th>Checks</th><th>Status</th><th>Changes at fault</th></tr>\n");
    for control in &framework.controls {
        let checks: Vec<String> = control
            .checks
            .iter()
            .map(|check| format!("<a href=\"#{}-{check}\">{check}</a>", framework.framework))
            .collect();
        let mut at_fault: Vec<String> = control
            .violating_changes
            .iter()
            .take(LISTED_PER_CHECK_MAX)
            .map(|id| change_reference(*id, change_href))
            .collect();
        if control.violating_changes.len() > LISTED_PER_CHECK_MAX {
            at_fault.push(format!("and {} more", control.violating_changes.len() - LISTED_PER_CHECK_MAX));
        }
        if control.ledger_at_fault {
            at_fault.insert(0, "the ledger".to_owned());
        }
        let _ = writeln!(
            page,
            "<tr id=\"{}-{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            framework.framework,
            escape(&control.id),
            escape(&control.reference),
            escape(&control.paraphrase),
            checks.join("<br>"),
            control.status.as_str(),
            status_text(control.status),
            if at_fault.is_empty() { "—".to_owned() } else { at_fault.join(", ") }
        );
    }
    page.push_str("</table>\n");
    for result in &framework.checks {
        check_section(page, framework, result, change_href);
    }
}

fn check_section(
    page: &mut String,
    framework: &FrameworkReport,
    result: &CheckResult,
    change_href: &dyn Fn(ChangeId) -> Option<String>,
) {
    let status = if !result.satisfied() {
        Status::NotSatisfied
    } else if result.population == 0 {
        Status::NotApplicable
    } else {
        Status::Satisfied
    };
    let _ = write!(
        page,
        "<h3 id=\"{}-{}\">{} <span class=\"{}\">{}</span></h3>\n<p class=\"muted\">{}</p>\n<p>Population {}; {} violation(s); {} undetermined.</p>\n",
        framework.framework,
        result.check,
        escape(result.check.title()),
        status.as_str(),
        status_text(status),
        escape(result.check.definition()),
        result.population,
        result.violations.len(),
        result.undetermined.len()
    );
    listing(page, "Violations", &result.violations, change_href);
    listing(page, "Undetermined", &result.undetermined, change_href);
}

fn listing(page: &mut String, heading: &str, items: &[Violation], change_href: &dyn Fn(ChangeId) -> Option<String>) {
    if items.is_empty() {
        return;
    }
    let _ = write!(page, "<p><strong>{heading}</strong></p><ul class=\"compact\">");
    for item in items.iter().take(LISTED_PER_CHECK_MAX) {
        let subject = match item.change {
            Some(id) => change_reference(id, change_href),
            None => "ledger".to_owned(),
        };
        let _ = write!(
            page,
            "<li>{subject}: {} <span class=\"muted\">({})</span></li>",
            escape(&item.reason),
            escape(&item.code)
        );
    }
    if items.len() > LISTED_PER_CHECK_MAX {
        let _ = write!(page, "<li>and {} more (see the JSON report)</li>", items.len() - LISTED_PER_CHECK_MAX);
    }
    page.push_str("</ul>\n");
}

fn definitions_section(page: &mut String) {
    page.push_str(
        "<h2>Check definitions</h2>\n<table><tr><th>Check</th><th>Definition</th><th>Unknown data</th></tr>\n",
    );
    for check in CheckId::ALL {
        let _ = writeln!(
            page,
            "<tr><td><code>{check}</code></td><td>{}</td><td>{}</td></tr>",
            escape(check.definition()),
            escape(check.unknowns())
        );
    }
    page.push_str("</table>\n");
    let _ = writeln!(
        page,
        "<p class=\"muted\">In scope: changes to an environment named production or prod whose implementation started, or whose deployment finished, in the period.</p>"
    );
}
