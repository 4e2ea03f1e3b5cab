//! The compliance page: per framework, its controls with their status and the changes at fault
//! (linked to their pages), each check's population, violations and undetermined changes, and
//! the ledger evidence. A form picks the framework and the period; the JSON and OSCAL versions
//! are linked. Auditors, admins and the CAB only (the service refuses and records the others).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use changegate_compliance::{ComplianceReport, DAY_MS, Framework, Status};
use changegate_service::ComplianceQuery;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{bad_form, non_blank};
use super::render::{layout, render, service_error, to_value, url_encode};
use super::session::Session;
use crate::AppState;

/// Changes listed per control and violations per check; the rest are counted.
const LISTED_MAX: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ComplianceParams {
    framework: String,
    /// A date (`2026-10-01`, midnight UTC) or an RFC 3339 time.
    from: String,
    to: String,
}

/// A date from a `date` input as midnight UTC; anything else passes for the service to judge.
fn date_to_rfc3339(text: &str) -> Option<String> {
    let text = non_blank(text)?;
    let is_date = text.len() == 10
        && text.chars().enumerate().all(|(index, character)| match index {
            4 | 7 => character == '-',
            _ => character.is_ascii_digit(),
        });
    Some(if is_date { format!("{text}T00:00:00Z") } else { text })
}

#[derive(Serialize)]
struct ItemView {
    change: Option<String>,
    code: String,
    reason: String,
}

#[derive(Serialize)]
struct CheckView {
    id: &'static str,
    title: &'static str,
    definition: &'static str,
    unknowns: &'static str,
    status: &'static str,
    population: u64,
    violation_count: usize,
    undetermined_count: usize,
    violations: Vec<ItemView>,
    undetermined: Vec<ItemView>,
}

#[derive(Serialize)]
struct ControlView {
    id: String,
    reference: String,
    paraphrase: String,
    checks: Vec<&'static str>,
    status: &'static str,
    violating_changes: Vec<String>,
    more_changes: usize,
    ledger_at_fault: bool,
}

#[derive(Serialize)]
struct FrameworkView {
    id: &'static str,
    name: String,
    scope: String,
    population: u64,
    status: &'static str,
    controls: Vec<ControlView>,
    checks: Vec<CheckView>,
}

fn items(items: &[changegate_compliance::Violation]) -> Vec<ItemView> {
    items
        .iter()
        .take(LISTED_MAX)
        .map(|item| ItemView {
            change: item.change.map(|id| id.to_string()),
            code: item.code.clone(),
            reason: item.reason.clone(),
        })
        .collect()
}

fn frameworks(report: &ComplianceReport) -> Vec<FrameworkView> {
    report
        .frameworks
        .iter()
        .map(|framework| FrameworkView {
            id: framework.framework.id(),
            name: framework.name.clone(),
            scope: if framework.scope_tags.is_empty() {
                "every production service".to_owned()
            } else {
                format!("services tagged {}", framework.scope_tags.join(", "))
            },
            population: framework.population,
            status: framework.status.as_str(),
            controls: framework
                .controls
                .iter()
                .map(|control| ControlView {
                    id: control.id.clone(),
                    reference: control.reference.clone(),
                    paraphrase: control.paraphrase.clone(),
                    checks: control.checks.iter().map(|check| check.id()).collect(),
                    status: control.status.as_str(),
                    violating_changes: control
                        .violating_changes
                        .iter()
                        .take(LISTED_MAX)
                        .map(ToString::to_string)
                        .collect(),
                    more_changes: control.violating_changes.len().saturating_sub(LISTED_MAX),
                    ledger_at_fault: control.ledger_at_fault,
                })
                .collect(),
            checks: framework
                .checks
                .iter()
                .map(|result| CheckView {
                    id: result.check.id(),
                    title: result.check.title(),
                    definition: result.check.definition(),
                    unknowns: result.check.unknowns(),
                    status: if !result.satisfied() {
                        Status::NotSatisfied.as_str()
                    } else if result.population == 0 {
                        Status::NotApplicable.as_str()
                    } else {
                        Status::Satisfied.as_str()
                    },
                    population: result.population,
                    violation_count: result.violations.len(),
                    undetermined_count: result.undetermined.len(),
                    violations: items(&result.violations),
                    undetermined: items(&result.undetermined),
                })
                .collect(),
        })
        .collect()
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn compliance(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<ComplianceParams>, QueryRejection>,
) -> Response {
    let Query(params) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_form(&state, Some(&session), rejection.status(), rejection.body_text()),
    };
    let raw = ComplianceQuery {
        framework: non_blank(&params.framework),
        from: date_to_rfc3339(&params.from),
        to: date_to_rfc3339(&params.to),
    };
    let request = match state.service.parse_compliance_query(&raw) {
        Ok(request) => request,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let report = match state.service.compliance_report(&session.caller, &request).await {
        Ok(report) => report,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let selected = if request.frameworks.len() == 1 { request.frameworks[0].id() } else { "all" };
    let query_string = format!(
        "framework={}&from={}&to={}",
        selected,
        url_encode(&report.from.to_rfc3339()),
        url_encode(&report.to.to_rfc3339())
    );
    let options: Vec<(&str, &str)> = std::iter::once(("all", "All frameworks"))
        .chain(Framework::ALL.iter().map(|framework| (framework.id(), framework.name())))
        .collect();
    let ledger = &report.ledger;
    let context = context! {
        options => options,
        selected => selected,
        from_date => report.from.to_rfc3339().get(..10).unwrap_or_default().to_owned(),
        // The end rounded up to a whole day, so sending the form again keeps today's changes.
        to_date => report.to.plus_ms(DAY_MS - 1).to_rfc3339().get(..10).unwrap_or_default().to_owned(),
        from => report.from.to_rfc3339(),
        to => report.to.to_rfc3339(),
        generated_at => report.generated_at.to_rfc3339(),
        changes_in_period => report.changes_in_period.len(),
        frameworks => to_value(frameworks(&report)),
        ledger => context! {
            size => ledger.size,
            verified => ledger.verified,
            verified_at => ledger.verified_at.map(|time| time.to_rfc3339()),
            first_bad_index => ledger.first_bad_index,
            message => ledger.verification_message.clone(),
            checkpoints_in_period => ledger.checkpoints_in_period,
            latest_checkpoint_at => ledger.latest_checkpoint_at.map(|time| time.to_rfc3339()),
            signing_key_present => ledger.signing_key_present,
            oldest_event_at => ledger.oldest_event_at.map(|time| time.to_rfc3339()),
        },
        retention_days => report.settings.retention_days_required,
        json_href => format!("/api/v1/compliance?{query_string}"),
        oscal_href => format!("/api/v1/compliance/oscal?{query_string}"),
        ..layout(Some(&session), "compliance", None)
    };
    render(&state, StatusCode::OK, "compliance.html", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_midnight_utc_and_other_text_passes() {
        assert_eq!(date_to_rfc3339("2026-10-01").as_deref(), Some("2026-10-01T00:00:00Z"));
        assert_eq!(date_to_rfc3339("2026-10-01T12:00:00Z").as_deref(), Some("2026-10-01T12:00:00Z"));
        assert_eq!(date_to_rfc3339("  "), None);
        assert_eq!(date_to_rfc3339("yesterday").as_deref(), Some("yesterday"));
    }
}
