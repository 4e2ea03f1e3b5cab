//! What the gate says when it is done: the headline, reasons, warnings and missing approvals for
//! people on stderr (the change id alone on stdout when the pipeline may proceed), or one JSON
//! object with `--json`.

use std::time::Duration;

use serde_json::{Value, json};

use super::exit::Exit;
use super::status::{ChangeStatus, Verdict};
use super::wording::seconds;

/// What the gate says, for people and as JSON.
pub(super) struct Report {
    change: String,
    pub(super) state: String,
    verdict: Verdict,
    auto_approved: bool,
    pub(super) reasons: Vec<String>,
    warnings: Vec<String>,
    missing: Vec<(String, u64)>,
    url: String,
}

impl Report {
    pub(super) fn of(change: &Value, verdict: Verdict, server: &str) -> Report {
        let status = ChangeStatus::of(change);
        let id = status.id.unwrap_or_default();
        let assessment = &change["assessment"];
        let mut warnings = strings(&assessment["warn"]);
        if let Some(error) = assessment["policy_error"].as_str() {
            warnings.insert(0, format!("the policy could not decide: {error}"));
        }
        let reasons = match verdict {
            Verdict::Denied => strings(&change["denied"]),
            Verdict::Cancelled => vec![format!("{id} was cancelled")],
            _ => strings(&assessment["reasons"]),
        };
        Report {
            url: format!("{}/changes/{id}", server.trim_end_matches('/')),
            change: id,
            state: status.state.text().unwrap_or_default().to_owned(),
            verdict,
            auto_approved: change["auto_approved"] == true,
            reasons,
            warnings,
            missing: missing_of(change),
        }
    }

    pub(super) fn exit(&self) -> Exit {
        match self.verdict {
            Verdict::Approved | Verdict::Emergency => Exit::Approved,
            Verdict::Denied | Verdict::Rejected | Verdict::Cancelled => Exit::Rejected,
            Verdict::Waiting => Exit::Waiting,
            Verdict::Ended => Exit::Failure,
        }
    }

    /// Prints the report: JSON on stdout, or the id on stdout (when it may proceed) and the
    /// rest on stderr. `keyed`: the run has an idempotency key.
    pub(super) fn print(&self, json: bool, wait: Duration, keyed: bool) {
        if json {
            let missing: Vec<Value> =
                self.missing.iter().map(|(role, count)| json!({"role": role, "count": count})).collect();
            let answer = json!({
                "change": self.change,
                "state": self.state,
                "decision": self.verdict.decision(),
                "auto_approved": self.auto_approved,
                "reasons": self.reasons,
                "warnings": self.warnings,
                "missing_approvals": missing,
                "url": self.url,
            });
            println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
            return;
        }
        let id = &self.change;
        let headline = match self.verdict {
            Verdict::Approved if self.auto_approved => {
                format!("{id} auto-approved by the policy; it is {}", self.state)
            }
            Verdict::Approved => format!("{id} approved; it is {}", self.state),
            Verdict::Emergency => format!(
                "{id} is an emergency change: it may proceed before approval (approvals and a review are due \
                 retrospectively); it is {}",
                self.state
            ),
            Verdict::Denied => format!("{id} denied by the policy:"),
            Verdict::Rejected => format!("{id} rejected:"),
            Verdict::Cancelled => format!("{id} cancelled:"),
            Verdict::Waiting if wait.is_zero() => {
                format!("{id} awaits approval (no --wait): still missing {}", describe_missing(&self.missing))
            }
            Verdict::Waiting => format!(
                "{id} has no decision after {}: still missing {}",
                seconds(wait),
                describe_missing(&self.missing)
            ),
            Verdict::Ended => format!("{id} already ended ({})", self.state),
        };
        eprintln!("{headline}");
        let listed = match self.verdict {
            Verdict::Denied | Verdict::Rejected | Verdict::Cancelled => &self.reasons,
            _ => &Vec::new(),
        };
        for reason in listed {
            eprintln!("  - {reason}");
        }
        for warning in &self.warnings {
            eprintln!("  warning: {warning}");
        }
        eprintln!("  {}", self.url);
        match self.verdict {
            Verdict::Approved | Verdict::Emergency => {
                eprintln!("Record the result with: changegate gate --finish {id} --outcome success|failed");
                println!("{id}");
            }
            Verdict::Waiting if keyed => {
                eprintln!("Run the gate again with the same --idempotency-key to pick up {id} once approved.")
            }
            Verdict::Waiting => eprintln!(
                "Pass --idempotency-key (the pipeline run's id) so that running the gate again picks up {id} \
                 instead of creating another change."
            ),
            _ => {}
        }
    }
}

pub(super) fn rejection_reasons(detail: &Value) -> Vec<String> {
    let rejection =
        detail["events"].as_array().into_iter().flatten().rev().find(|event| event["type"] == "change_rejected");
    let by = text_of(&detail["rejected_by"])
        .or_else(|| rejection.and_then(|event| text_of(&event["data"]["approver"])))
        .unwrap_or_else(|| "an approver".to_owned());
    let comment = rejection.and_then(|event| text_of(&event["data"]["comment"]));
    match comment {
        Some(comment) => vec![format!("rejected by {by}: {comment}")],
        None => vec![format!("rejected by {by} (no comment)")],
    }
}

pub(super) fn missing_of(change: &Value) -> Vec<(String, u64)> {
    change["assessment"]["missing_approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|required| (text_of(&required["role"]).unwrap_or_default(), required["count"].as_u64().unwrap_or(1)))
        .collect()
}

pub(super) fn describe_missing(missing: &[(String, u64)]) -> String {
    if missing.is_empty() {
        return "no approval (the decision is pending)".to_owned();
    }
    missing.iter().map(|(role, count)| format!("{count} × {role}")).collect::<Vec<_>>().join(", ")
}

pub(super) fn describe_waiting(change: &Value, wait: Duration) -> String {
    let risk = change["assessment"]["risk_class"].as_str().unwrap_or("?");
    let mut text = format!("risk {risk}, missing {}", describe_missing(&missing_of(change)));
    if let Some(error) = change["assessment"]["policy_error"].as_str() {
        text.push_str(&format!("; the policy could not decide ({error})"));
    }
    if !wait.is_zero() {
        text.push_str(&format!("; waiting up to {}", seconds(wait)));
    }
    text
}

pub(super) fn describe_state(change: &ChangeStatus) -> String {
    format!("state {}", change.state.text().unwrap_or("?"))
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(text_of).collect()
}

fn text_of(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}
