//! The gate's main door: create the change, submit it, wait for the decision within `--wait`
//! (polling, tolerating a few transient failures), and when it may proceed record that the
//! pipeline starts implementing. Every decision about what a state means is asked of `status`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use changegate_api::CreateChangeRequest;
use changegate_core::ChangeState;
use serde_json::{Value, json};

use super::evidence::Evidence;
use super::exit::{Exit, require_token, usage};
use super::report::{Report, describe_missing, describe_state, describe_waiting, missing_of, rejection_reasons};
use super::status::{ChangeStatus, Verdict};
use super::wording::seconds;
use crate::args::{ChangeTypeArgument, GateArgs};
use crate::client::{ApiFailure, Client};

/// Consecutive failed polls (server unreachable or 5xx) tolerated while waiting.
const POLL_FAILURES_MAX: u32 = 10;
/// How often a still-waiting gate says so on stderr.
const PROGRESS_INTERVAL_MS: u64 = 60_000;

/// Progress for people, on stderr; silent with `--json`.
fn progress(json: bool, message: &str) {
    if !json {
        eprintln!("changegate gate: {message}");
    }
}

/// The idempotency keys of one gate run.
struct Keys<'a>(Option<&'a str>);

impl Keys<'_> {
    fn for_step(&self, step: &str) -> Option<String> {
        self.0.map(|key| format!("{key}:{step}"))
    }
}

pub(super) fn gate(arguments: &GateArgs, json: bool) -> anyhow::Result<Exit> {
    let body = proposal(arguments)?;
    require_token(&arguments.client)?;
    let client = Client::new(&arguments.client);
    let keys = Keys(arguments.idempotency_key.as_deref());
    let created = client.post("/api/v1/changes", &body, keys.for_step("create").as_deref()).map_err(refused_input)?;
    let created_status = ChangeStatus::of(&created);
    let id = created_status.id.clone().ok_or_else(|| anyhow!("the server answered without a change id"))?;
    let mut change = if created_status.is(ChangeState::Draft) {
        progress(json, &format!("created {id}; submitting it"));
        let path = format!("/api/v1/changes/{id}/actions/submit");
        client.post(&path, &json!({}), keys.for_step("submit").as_deref())?
    } else {
        progress(json, &format!("{id} exists already (same --idempotency-key), {}", describe_state(&created_status)));
        created
    };

    let deadline = Instant::now() + arguments.wait;
    let mut verdict = ChangeStatus::of(&change).verdict();
    if verdict == Verdict::Waiting {
        progress(json, &format!("{id} awaits approval: {}", describe_waiting(&change, arguments.wait)));
        let mut said = (missing_of(&change), Instant::now());
        let mut failures = 0u32;
        while verdict == Verdict::Waiting {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::sleep(arguments.poll_interval.min(deadline - now));
            match client.get(&format!("/api/v1/changes/{id}")) {
                Ok(current) => {
                    failures = 0;
                    change = current;
                }
                Err(error) if transient(&error) && failures < POLL_FAILURES_MAX => {
                    failures += 1;
                    progress(json, &format!("asking about {id} failed ({failures} in a row), trying again: {error:#}"));
                    continue;
                }
                Err(error) => return Err(error),
            }
            verdict = ChangeStatus::of(&change).verdict();
            let missing = missing_of(&change);
            if verdict == Verdict::Waiting
                && (missing != said.0 || said.1.elapsed() >= Duration::from_millis(PROGRESS_INTERVAL_MS))
            {
                let left = deadline.saturating_duration_since(Instant::now());
                progress(json, &format!("{id} still awaits {} ({} left)", describe_missing(&missing), seconds(left)));
                said = (missing, Instant::now());
            }
        }
    }

    let mut report = Report::of(&change, verdict, &arguments.client.server);
    match verdict {
        Verdict::Approved | Verdict::Emergency if !arguments.no_start => {
            let started = start_implementing(&client, change, &keys)?;
            report.state = ChangeStatus::of(&started).state.text().unwrap_or_default().to_owned();
        }
        Verdict::Rejected => {
            // The rejection's comment is in the change's events.
            let detail = client.get(&format!("/api/v1/changes/{id}"))?;
            report.reasons = rejection_reasons(&detail);
        }
        Verdict::Ended => {
            return Err(anyhow!(
                "{id} is already {}: its implementation is over, and a new deployment needs a new change \
                 (run the gate with another --idempotency-key)",
                report.state
            ));
        }
        _ => {}
    }
    report.print(json, arguments.wait, arguments.idempotency_key.is_some());
    Ok(report.exit())
}

/// The body of `POST /api/v1/changes`, with the evidence files read and summarised.
fn proposal(arguments: &GateArgs) -> anyhow::Result<CreateChangeRequest> {
    let evidence = Evidence::read(&arguments.evidence)?;
    let change_type = arguments.change_type.unwrap_or(ChangeTypeArgument::Standard);
    let code_metrics = match (&arguments.repo, &arguments.commit) {
        (Some(repository), Some(commit)) => Some(code_metrics(repository, commit)?),
        _ => None,
    };
    Ok(CreateChangeRequest {
        title: arguments.title.clone().unwrap_or_default(),
        description: arguments.description.clone().unwrap_or_default(),
        change_type: change_type.as_str().to_owned(),
        service: arguments.service.clone().unwrap_or_default(),
        environment: arguments.environment.clone().unwrap_or_default(),
        implementation_plan: None,
        rollback_plan: arguments.rollback_plan.clone(),
        planned_start: None,
        planned_end: None,
        links: Vec::new(),
        test_evidence: evidence.test_text(),
        security_evidence: evidence.security_text(),
        security_critical_findings: evidence.critical_findings(),
        template: arguments.template.clone(),
        justification: arguments.justification.clone(),
        commit: arguments.commit.clone(),
        pipeline_url: arguments.pipeline_url.clone(),
        code_metrics,
        commit_time: None,
    })
}

/// The 14 JIT metrics of `commit` in `repository`, as the API's `code_metrics` object.
fn code_metrics(repository: &Path, commit: &str) -> anyhow::Result<Value> {
    // The commit's own metrics need the history before it: compute over everything reachable
    // from it and keep the last row (the commit itself; rows are oldest first).
    let rows = changegate_gitmetrics::commit_metrics(repository, commit, &changegate_gitmetrics::Limits::default())
        .map_err(|error| usage(format!("--repo {}: {error}", repository.display())))?;
    let is_hex = !commit.is_empty() && commit.chars().all(|character| character.is_ascii_hexdigit());
    let Some(metrics) = rows.last().filter(|row| !is_hex || row.commit.starts_with(&commit.to_ascii_lowercase()))
    else {
        return Err(usage(format!("--commit {commit} is a merge commit (merges have no metrics) or not in --repo")));
    };
    Ok(json!({
        "ns": metrics.ns, "nd": metrics.nd, "nf": metrics.nf, "entropy": metrics.entropy,
        "la": metrics.la, "ld": metrics.ld, "lt": metrics.lt, "fix": u8::from(metrics.fix),
        "ndev": metrics.ndev, "age": metrics.age, "nuc": metrics.nuc, "exp": metrics.exp,
        "rexp": metrics.rexp, "sexp": metrics.sexp,
    }))
}

/// Input the server refuses when creating (400, 422: an unknown service, a missing
/// justification, a reused idempotency key) is bad usage.
fn refused_input(error: anyhow::Error) -> anyhow::Error {
    match error.downcast_ref::<ApiFailure>() {
        Some(failure) if matches!(failure.status, 400 | 422) => {
            usage(format!("the server refused the change: {failure}"))
        }
        _ => error,
    }
}

/// Worth asking again: the server could not be reached, or failed inside.
fn transient(error: &anyhow::Error) -> bool {
    match error.downcast_ref::<ApiFailure>() {
        Some(failure) => failure.status >= 500,
        None => true,
    }
}

/// Records that the pipeline starts implementing an approved change: `schedule` when it is not
/// scheduled yet, then `start`. An emergency change starts straight from `assessed`.
fn start_implementing(client: &Client, mut change: Value, keys: &Keys<'_>) -> anyhow::Result<Value> {
    let id = ChangeStatus::of(&change).id.unwrap_or_default();
    for _ in 0..2 {
        let Some(action) = ChangeStatus::of(&change).start_step() else { break };
        let body = json!({"comment": format!("the pipeline starts implementing (changegate gate: {action})")});
        change = client
            .post(&format!("/api/v1/changes/{id}/actions/{action}"), &body, keys.for_step(action).as_deref())
            .with_context(|| format!("{id} is approved, but recording `{action}` failed"))?;
    }
    Ok(change)
}
