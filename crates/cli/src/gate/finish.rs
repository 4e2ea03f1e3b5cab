//! `changegate gate --finish`: records how the implementation went, taking every lifecycle step
//! still missing (schedule and start from an approved change, then complete and verify, or fail
//! and rollback). Running it again changes nothing.

use anyhow::{Context, anyhow};
use changegate_core::ChangeState;
use serde_json::{Value, json};

use super::exit::{Exit, require_token, usage};
use super::status::{ChangeStatus, ReportedState};
use crate::args::{GateArgs, OutcomeArgument};
use crate::client::Client;

/// Most lifecycle steps one `--finish` takes (approved → schedule, start, complete, verify).
const FINISH_STEPS_MAX: usize = 6;

pub(super) fn finish(arguments: &GateArgs, id: &str, json: bool) -> anyhow::Result<Exit> {
    let outcome = arguments.outcome.ok_or_else(|| usage("--finish needs --outcome success or failed"))?;
    if arguments.rolled_back && outcome != OutcomeArgument::Failed {
        return Err(usage("--rolled-back goes with --outcome failed"));
    }
    if !id.starts_with("CHG-") || id.len() > 32 || !id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    {
        return Err(usage(format!("--finish takes a change id such as CHG-000001, not `{id}`")));
    }
    require_token(&arguments.client)?;
    let client = Client::new(&arguments.client);
    let mut change = client.get(&format!("/api/v1/changes/{id}"))?;
    let mut steps: Vec<&'static str> = Vec::new();
    for _ in 0..FINISH_STEPS_MAX {
        let Some(action) = next_finish_step(&change, outcome, arguments.rolled_back)? else { break };
        let outcome_step = matches!(action, "verify" | "fail");
        let body = match (&arguments.comment, outcome_step) {
            (Some(comment), true) => json!({"comment": comment}),
            _ => json!({"comment": format!("recorded by changegate gate --finish ({action})")}),
        };
        change = client
            .post(&format!("/api/v1/changes/{id}/actions/{action}"), &body, None)
            .with_context(|| format!("recording `{action}` on {id}"))?;
        steps.push(action);
    }
    let state = ChangeStatus::of(&change).state.text().unwrap_or_default().to_owned();
    let url = format!("{}/changes/{id}", arguments.client.server.trim_end_matches('/'));
    if json {
        let outcome = match outcome {
            OutcomeArgument::Success => "success",
            OutcomeArgument::Failed => "failed",
        };
        let answer = json!({"change": id, "state": state, "outcome": outcome, "steps": steps, "url": url});
        println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
    } else if steps.is_empty() {
        println!("{id} is {state}: nothing left to record.");
    } else {
        println!("{id} is now {state} (recorded: {}).", steps.join(", "));
    }
    Ok(Exit::Approved)
}

/// The next action that records `outcome` on `change`, or `None` once it is recorded.
fn next_finish_step(
    change: &Value,
    outcome: OutcomeArgument,
    rolled_back: bool,
) -> anyhow::Result<Option<&'static str>> {
    let status = ChangeStatus::of(change);
    let id = status.id.as_deref().unwrap_or("the change");
    // An approved change the pipeline implemented without the gate recording it first.
    if let Some(step) = status.start_step() {
        return Ok(Some(step));
    }
    let ReportedState::Known(state) = status.state else {
        let other = status.state.text().unwrap_or_default();
        return Err(anyhow!("{id} is {other}: there is no implementation to record"));
    };
    let step = match (outcome, state) {
        (OutcomeArgument::Success, ChangeState::Implementing) => Some("complete"),
        (OutcomeArgument::Success, ChangeState::Implemented) => Some("verify"),
        (OutcomeArgument::Success, ChangeState::Verified) => None,
        (OutcomeArgument::Success, ChangeState::Closed) if status.succeeded() => None,
        (OutcomeArgument::Failed, ChangeState::Implementing | ChangeState::Implemented) => Some("fail"),
        (OutcomeArgument::Failed, ChangeState::Failed) if rolled_back => Some("rollback"),
        (OutcomeArgument::Failed, ChangeState::Failed | ChangeState::RolledBack) => None,
        (OutcomeArgument::Failed, ChangeState::Closed) if !status.succeeded() => None,
        (OutcomeArgument::Failed, ChangeState::Verified | ChangeState::Closed) => {
            return Err(anyhow!(
                "{id} was already verified as successful; a failure found later is an incident: \
                 changegate incident open --caused-by {id} …"
            ));
        }
        (OutcomeArgument::Success, ChangeState::Failed | ChangeState::RolledBack | ChangeState::Closed) => {
            return Err(anyhow!("{id} is already recorded as {state}; it cannot succeed now"));
        }
        (_, ChangeState::Assessed | ChangeState::Submitted | ChangeState::Draft) => {
            return Err(anyhow!("{id} is {state}: it was never approved, so there is no implementation to record"));
        }
        (_, other) => return Err(anyhow!("{id} is {other}: there is no implementation to record")),
    };
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_steps_from_every_state() {
        let change = |state: &str| json!({"id": "CHG-000001", "state": state, "type": "normal"});
        let success = |state: &str| next_finish_step(&change(state), OutcomeArgument::Success, false).unwrap();
        assert_eq!(success("approved"), Some("schedule"));
        assert_eq!(success("scheduled"), Some("start"));
        assert_eq!(success("implementing"), Some("complete"));
        assert_eq!(success("implemented"), Some("verify"));
        assert_eq!(success("verified"), None);
        let failed = |state: &str, rolled_back| next_finish_step(&change(state), OutcomeArgument::Failed, rolled_back);
        assert_eq!(failed("implementing", false).unwrap(), Some("fail"));
        assert_eq!(failed("failed", true).unwrap(), Some("rollback"));
        assert_eq!(failed("failed", false).unwrap(), None);
        assert!(failed("verified", false).is_err());
        assert!(failed("assessed", false).is_err());
        let emergency = json!({"id": "CHG-000002", "state": "assessed", "type": "emergency"});
        assert_eq!(next_finish_step(&emergency, OutcomeArgument::Success, false).unwrap(), Some("start"));
    }
}
