//! `changegate gate`: the change gate of a CI/CD pipeline. It creates a change, submits it (the
//! approval policy decides at once), waits for the decision within a bounded time, and answers
//! with an exit code a pipeline can branch on: 0 approved, 3 rejected or denied, 4 still
//! waiting, 2 bad usage, 1 any other failure. When approved it records that the pipeline starts
//! implementing (`schedule` when needed, then `start`). `gate --finish` records the result.
//!
//! Evidence files are summarised here, on the pipeline's side: a SARIF file becomes the security
//! evidence and its count of critical findings, a JUnit XML report the test evidence. Only the
//! summaries travel to the server.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::args::ClientArgs;
use crate::client::{ApiFailure, Client};

/// The long `--help` of `changegate gate`.
pub(crate) const GATE_LONG_ABOUT: &str = "\
Gate a deployment on change approval, from a CI/CD pipeline.

  CHG=$(changegate gate --service payments-api --environment production --type normal \\
          --title \"Deploy $SHA\" --commit \"$SHA\" --evidence trivy.sarif --evidence junit.xml \\
          --wait 30m --idempotency-key \"$RUN_ID\")
  if ./deploy.sh; then changegate gate --finish \"$CHG\" --outcome success
  else changegate gate --finish \"$CHG\" --outcome failed --rolled-back; exit 1; fi

It creates the change, submits it (the approval policy decides at once), then waits up to
--wait for the decision, asking the server every --poll-interval:

  approved   auto-approved by the policy, or every required approval is in. The gate records
             that the pipeline starts implementing (`schedule` when needed, then `start`;
             --no-start skips both), prints the change id alone on stdout and exits 0.
             An emergency change that is assessed and not denied passes too: it may start
             before approval, and its approvals and review are then due retrospectively.
  rejected   a person rejected it, or the policy denied it (a freeze, a missing rollback plan…):
             the gate prints why and exits 3.
  waiting    still no decision when --wait runs out (the default --wait 0 decides now): the gate
             prints the approvals still missing and exits 4. Running it again with the same
             --idempotency-key picks up the same change (approved by then, perhaps).

Exit codes: 0 approved, 1 failure (server unreachable, token refused, …), 2 bad usage (flags,
durations, evidence files, or input the server refuses such as an unknown service), 3 rejected or
denied, 4 still waiting. Progress goes to stderr; --json prints one object on stdout instead of
the id: change, state, decision (approved, emergency, rejected, denied, cancelled, waiting),
reasons, warnings, missing_approvals, url.

--finish CHG-… --outcome success|failed records the result: success = complete + verify; failed =
fail, then rollback with --rolled-back. From an approved or scheduled change it first records the
missing schedule and start. Running it again changes nothing.

Evidence (--evidence FILE, repeatable; reports up to 10 MiB):
  SARIF (JSON with `runs`)  security evidence \"SARIF: N results, C critical …\"; C, sent as the
                            change's security_critical_findings, counts the results of level
                            `error` (the result's level, else its rule's default level) whose
                            `security-severity` property (on the result, else on its rule) is at
                            least 9.0. Suppressed results and results absent from the baseline do
                            not count.
  JUnit XML                 test evidence \"JUnit: T tests, F failures\" (errors count as failures)
  anything else             its path, as test evidence

Retries: with --idempotency-key K the gate sends `Idempotency-Key: K:create`, `K:submit` (and
`K:schedule`, `K:start`): the same key with the same input gives back the same change, never a
second one. Give it the pipeline run's id. Once that change's implementation is over
(implemented, verified, failed, closed) the key is refused with exit 1: a new deployment needs a
new change.

GitHub Actions (CHANGEGATE_TOKEN as a repository secret):
  - name: Change gate
    id: gate
    env:
      CHANGEGATE_SERVER: https://changegate.example.com
      CHANGEGATE_TOKEN: ${{ secrets.CHANGEGATE_TOKEN }}
    run: |
      CHG=$(changegate gate --service payments-api --environment production --type normal \\
        --title \"Deploy $GITHUB_SHA\" --commit \"$GITHUB_SHA\" \\
        --pipeline-url \"$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID\" \\
        --evidence results.sarif --evidence junit.xml \\
        --wait 2h --idempotency-key \"gh-$GITHUB_RUN_ID\")
      echo \"change=$CHG\" >> \"$GITHUB_OUTPUT\"
  - run: ./deploy.sh
  - if: success()
    run: changegate gate --finish ${{ steps.gate.outputs.change }} --outcome success
  - if: failure() && steps.gate.outputs.change != ''
    run: changegate gate --finish ${{ steps.gate.outputs.change }} --outcome failed --rolled-back

GitLab CI (CHANGEGATE_SERVER and CHANGEGATE_TOKEN as masked CI/CD variables):
  deploy:
    stage: deploy
    script:
      - >
        CHG=$(changegate gate --service payments-api --environment production --type normal
        --title \"Deploy $CI_COMMIT_SHORT_SHA\" --commit \"$CI_COMMIT_SHA\"
        --pipeline-url \"$CI_PIPELINE_URL\" --evidence semgrep.sarif --evidence junit.xml
        --wait 1h --idempotency-key \"gl-$CI_PIPELINE_ID\")
      - ./deploy.sh || (changegate gate --finish \"$CHG\" --outcome failed --rolled-back; exit 1)
      - changegate gate --finish \"$CHG\" --outcome success";

/// Longest `--wait`.
const WAIT_MAX_S: u64 = 24 * 60 * 60;
/// Bounds of `--poll-interval`.
const POLL_INTERVAL_MIN_MS: u64 = 500;
const POLL_INTERVAL_MAX_MS: u64 = 5 * 60 * 1000;
/// Consecutive failed polls (server unreachable or 5xx) tolerated while waiting.
const POLL_FAILURES_MAX: u32 = 10;
/// How often a still-waiting gate says so on stderr.
const PROGRESS_INTERVAL_MS: u64 = 60_000;
/// Largest SARIF or JUnit report read.
const EVIDENCE_FILE_SIZE_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Most `--evidence` files.
const EVIDENCE_FILES_MAX: usize = 32;
/// How much of an evidence file is read to tell what it is.
const EVIDENCE_SNIFF_BYTES: usize = 4 * 1024;
/// A SARIF result at level `error` with a `security-severity` of at least this is critical
/// (GitHub code scanning's threshold for "critical").
const SECURITY_SEVERITY_CRITICAL_MIN: f64 = 9.0;
/// The server's limit on `Idempotency-Key`, and the longest suffix the gate appends.
const SERVER_IDEMPOTENCY_KEY_LENGTH_MAX: usize = 255;
const IDEMPOTENCY_SUFFIX_LENGTH_MAX: usize = ":schedule".len();
/// Most lifecycle steps one `--finish` takes (approved → schedule, start, complete, verify).
const FINISH_STEPS_MAX: usize = 6;

/// Arguments of `changegate gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// Service the change is to (as registered).
    #[arg(long, required_unless_present = "finish", help_heading = "The change")]
    pub service: Option<String>,
    /// Environment, e.g. production.
    #[arg(long, required_unless_present = "finish", help_heading = "The change")]
    pub environment: Option<String>,
    /// standard, normal or emergency (with --template, standard when left out).
    #[arg(long = "type", value_name = "TYPE", value_enum, help_heading = "The change")]
    #[arg(required_unless_present_any = ["finish", "template"])]
    pub change_type: Option<ChangeTypeArgument>,
    /// Standard-change template (`GET /api/v1/templates`).
    #[arg(long, help_heading = "The change")]
    pub template: Option<String>,
    /// One line: what changes.
    #[arg(long, required_unless_present = "finish", help_heading = "The change")]
    pub title: Option<String>,
    /// More about it, for the approvers.
    #[arg(long, help_heading = "The change")]
    pub description: Option<String>,
    /// How to undo it (tier 1–2 services need one).
    #[arg(long, help_heading = "The change")]
    pub rollback_plan: Option<String>,
    /// Why an emergency change cannot wait (required for emergency changes).
    #[arg(long, help_heading = "The change")]
    pub justification: Option<String>,
    /// The commit being deployed.
    #[arg(long, value_name = "SHA", help_heading = "The change")]
    pub commit: Option<String>,
    /// The pipeline run.
    #[arg(long, value_name = "URL", help_heading = "The change")]
    pub pipeline_url: Option<String>,
    /// A git repository holding --commit: the commit's 14 just-in-time code metrics (size,
    /// history, experience; see `changegate risk features`) are computed and attached, so the
    /// risk score and the model see them.
    #[arg(long, value_name = "PATH", requires = "commit", help_heading = "The change")]
    pub repo: Option<PathBuf>,
    /// A SARIF file (security evidence), a JUnit XML report (test evidence) or any other file
    /// (named as test evidence); repeat for several.
    #[arg(long, value_name = "FILE", num_args = 1.., help_heading = "The change")]
    pub evidence: Vec<PathBuf>,

    /// How long to wait for the decision: 30s, 10m, 1h, 1h30m (at most 24h; 0 decides now).
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_wait, help_heading = "Waiting")]
    pub wait: Duration,
    /// How often to ask while waiting (500ms to 5m).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_poll_interval, help_heading = "Waiting")]
    pub poll_interval: Duration,
    /// Retry-safe key (the pipeline run's id): the same key and input give back the same change.
    #[arg(long, value_name = "KEY", value_parser = parse_idempotency_key, help_heading = "Waiting")]
    pub idempotency_key: Option<String>,
    /// When approved, do not record `schedule` and `start`.
    #[arg(long, help_heading = "Waiting")]
    pub no_start: bool,

    /// Record the result of the implementation of this change instead (with --outcome).
    #[arg(long, value_name = "CHANGE", requires = "outcome", help_heading = "Finishing")]
    #[arg(conflicts_with_all = ["service", "environment", "change_type", "template", "title", "description",
        "rollback_plan", "justification", "commit", "pipeline_url", "repo", "evidence", "idempotency_key", "no_start"])]
    pub finish: Option<String>,
    /// How the implementation went.
    #[arg(long, value_enum, requires = "finish", help_heading = "Finishing")]
    pub outcome: Option<OutcomeArgument>,
    /// With --outcome failed: the change was rolled back.
    #[arg(long, requires = "finish", help_heading = "Finishing")]
    pub rolled_back: bool,
    /// A comment recorded with the result.
    #[arg(long, short = 'm', requires = "finish", help_heading = "Finishing")]
    pub comment: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChangeTypeArgument {
    Standard,
    Normal,
    Emergency,
}

impl ChangeTypeArgument {
    fn as_str(self) -> &'static str {
        match self {
            ChangeTypeArgument::Standard => "standard",
            ChangeTypeArgument::Normal => "normal",
            ChangeTypeArgument::Emergency => "emergency",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutcomeArgument {
    Success,
    Failed,
}

/// The exit codes of `changegate gate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    Approved = 0,
    Failure = 1,
    Usage = 2,
    Rejected = 3,
    Waiting = 4,
}

/// Bad usage found after parsing (exit 2).
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Runs `changegate gate` and returns its exit code.
pub fn run(arguments: GateArgs, json: bool) -> ExitCode {
    let result = match arguments.finish.clone() {
        Some(id) => finish(&arguments, &id, json),
        None => gate(&arguments, json),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(error) => {
            let exit = if error.downcast_ref::<UsageError>().is_some() { Exit::Usage } else { Exit::Failure };
            if json {
                let (code, message) = match error.downcast_ref::<ApiFailure>() {
                    Some(failure) => (failure.code.clone(), failure.message.clone()),
                    None if exit == Exit::Usage => ("usage".to_owned(), format!("{error:#}")),
                    None => ("cli_error".to_owned(), format!("{error:#}")),
                };
                eprintln!("{}", json!({"error": {"code": code, "message": message}}));
            } else {
                eprintln!("error: {error:#}");
            }
            exit
        }
    };
    ExitCode::from(exit as u8)
}

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

fn gate(arguments: &GateArgs, json: bool) -> anyhow::Result<Exit> {
    let body = proposal(arguments)?;
    require_token(&arguments.client)?;
    let client = Client::new(&arguments.client);
    let keys = Keys(arguments.idempotency_key.as_deref());
    let created = client.post("/api/v1/changes", &body, keys.for_step("create").as_deref()).map_err(refused_input)?;
    let id = text_of(&created["id"]).ok_or_else(|| anyhow!("the server answered without a change id"))?;
    let mut change = if created["state"] == "draft" {
        progress(json, &format!("created {id}; submitting it"));
        let path = format!("/api/v1/changes/{id}/actions/submit");
        client.post(&path, &json!({}), keys.for_step("submit").as_deref())?
    } else {
        progress(json, &format!("{id} exists already (same --idempotency-key), {}", describe_state(&created)));
        created
    };

    let deadline = Instant::now() + arguments.wait;
    let mut verdict = verdict_of(&change);
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
            verdict = verdict_of(&change);
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
            report.state = text_of(&started["state"]).unwrap_or_default();
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
fn proposal(arguments: &GateArgs) -> anyhow::Result<Value> {
    let evidence = Evidence::read(&arguments.evidence)?;
    let change_type = arguments.change_type.unwrap_or(ChangeTypeArgument::Standard);
    let mut body = json!({
        "title": arguments.title.clone().unwrap_or_default(),
        "description": arguments.description.clone().unwrap_or_default(),
        "type": change_type.as_str(),
        "service": arguments.service.clone().unwrap_or_default(),
        "environment": arguments.environment.clone().unwrap_or_default(),
    });
    let optional = [
        ("template", arguments.template.clone()),
        ("rollback_plan", arguments.rollback_plan.clone()),
        ("justification", arguments.justification.clone()),
        ("commit", arguments.commit.clone()),
        ("pipeline_url", arguments.pipeline_url.clone()),
        ("test_evidence", evidence.test_text()),
        ("security_evidence", evidence.security_text()),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            body[field] = Value::String(value);
        }
    }
    if let Some(critical) = evidence.critical_findings() {
        body["security_critical_findings"] = json!(critical);
    }
    if let (Some(repository), Some(commit)) = (&arguments.repo, &arguments.commit) {
        body["code_metrics"] = code_metrics(repository, commit)?;
    }
    Ok(body)
}

/// The 14 JIT metrics of `commit` in `repository`, as the API's `code_metrics` object.
fn code_metrics(repository: &std::path::Path, commit: &str) -> anyhow::Result<Value> {
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

fn require_token(client: &ClientArgs) -> anyhow::Result<()> {
    if client.token.as_deref().is_none_or(str::is_empty) {
        return Err(usage("no API token: pass --token or set CHANGEGATE_TOKEN"));
    }
    Ok(())
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

/// Where a change stands, for the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Approved (by the policy or by people), or already scheduled or being implemented (a retry
    /// of a gate that got that far).
    Approved,
    /// An emergency change, assessed and not denied: it may start before its approval.
    Emergency,
    /// The policy denied it.
    Denied,
    /// A person rejected it.
    Rejected,
    Cancelled,
    /// Its implementation is over (implemented, verified, failed, rolled back, closed): a retry
    /// with the same key after the pipeline finished; a new deployment needs a new change.
    Ended,
    /// Submitted, approvals missing.
    Waiting,
}

impl Verdict {
    fn decision(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Emergency => "emergency",
            Verdict::Denied => "denied",
            Verdict::Rejected => "rejected",
            Verdict::Cancelled => "cancelled",
            Verdict::Ended => "ended",
            Verdict::Waiting => "waiting",
        }
    }
}

fn verdict_of(change: &Value) -> Verdict {
    let state = change["state"].as_str().unwrap_or_default();
    match state {
        "approved" | "scheduled" | "implementing" => Verdict::Approved,
        "rejected" if change["denied"].as_array().is_some_and(|denied| !denied.is_empty()) => Verdict::Denied,
        "rejected" => Verdict::Rejected,
        "cancelled" => Verdict::Cancelled,
        "implemented" | "verified" | "failed" | "rolled_back" | "closed" => Verdict::Ended,
        "assessed" if change["type"] == "emergency" => Verdict::Emergency,
        _ => Verdict::Waiting,
    }
}

/// Records that the pipeline starts implementing an approved change: `schedule` when it is not
/// scheduled yet, then `start`. An emergency change starts straight from `assessed`.
fn start_implementing(client: &Client, mut change: Value, keys: &Keys<'_>) -> anyhow::Result<Value> {
    let id = text_of(&change["id"]).unwrap_or_default();
    for _ in 0..2 {
        let state = change["state"].as_str().unwrap_or_default();
        let emergency = change["type"] == "emergency";
        let action = match state {
            "approved" => "schedule",
            "scheduled" => "start",
            "assessed" if emergency => "start",
            _ => break,
        };
        let body = json!({"comment": format!("the pipeline starts implementing (changegate gate: {action})")});
        change = client
            .post(&format!("/api/v1/changes/{id}/actions/{action}"), &body, keys.for_step(action).as_deref())
            .with_context(|| format!("{id} is approved, but recording `{action}` failed"))?;
    }
    Ok(change)
}

/// What the gate says, for people and as JSON.
struct Report {
    change: String,
    state: String,
    verdict: Verdict,
    auto_approved: bool,
    reasons: Vec<String>,
    warnings: Vec<String>,
    missing: Vec<(String, u64)>,
    url: String,
}

impl Report {
    fn of(change: &Value, verdict: Verdict, server: &str) -> Report {
        let id = text_of(&change["id"]).unwrap_or_default();
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
            state: text_of(&change["state"]).unwrap_or_default(),
            verdict,
            auto_approved: change["auto_approved"] == true,
            reasons,
            warnings,
            missing: missing_of(change),
        }
    }

    fn exit(&self) -> Exit {
        match self.verdict {
            Verdict::Approved | Verdict::Emergency => Exit::Approved,
            Verdict::Denied | Verdict::Rejected | Verdict::Cancelled => Exit::Rejected,
            Verdict::Waiting => Exit::Waiting,
            Verdict::Ended => Exit::Failure,
        }
    }

    /// Prints the report: JSON on stdout, or the id on stdout (when it may proceed) and the
    /// rest on stderr. `keyed`: the run has an idempotency key.
    fn print(&self, json: bool, wait: Duration, keyed: bool) {
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

fn rejection_reasons(detail: &Value) -> Vec<String> {
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

fn missing_of(change: &Value) -> Vec<(String, u64)> {
    change["assessment"]["missing_approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|required| (text_of(&required["role"]).unwrap_or_default(), required["count"].as_u64().unwrap_or(1)))
        .collect()
}

fn describe_missing(missing: &[(String, u64)]) -> String {
    if missing.is_empty() {
        return "no approval (the decision is pending)".to_owned();
    }
    missing.iter().map(|(role, count)| format!("{count} × {role}")).collect::<Vec<_>>().join(", ")
}

fn describe_waiting(change: &Value, wait: Duration) -> String {
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

fn describe_state(change: &Value) -> String {
    format!("state {}", change["state"].as_str().unwrap_or("?"))
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(text_of).collect()
}

fn text_of(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64().round())
}

// --- finish ------------------------------------------------------------------------------------

fn finish(arguments: &GateArgs, id: &str, json: bool) -> anyhow::Result<Exit> {
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
    let state = text_of(&change["state"]).unwrap_or_default();
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
    let id = change["id"].as_str().unwrap_or("the change");
    let state = change["state"].as_str().unwrap_or_default();
    let emergency = change["type"] == "emergency";
    let step = match (outcome, state) {
        (_, "approved") => Some("schedule"),
        (_, "scheduled") => Some("start"),
        (_, "assessed") if emergency => Some("start"),
        (OutcomeArgument::Success, "implementing") => Some("complete"),
        (OutcomeArgument::Success, "implemented") => Some("verify"),
        (OutcomeArgument::Success, "verified") => None,
        (OutcomeArgument::Success, "closed") if change["outcome"] == "successful" => None,
        (OutcomeArgument::Failed, "implementing" | "implemented") => Some("fail"),
        (OutcomeArgument::Failed, "failed") if rolled_back => Some("rollback"),
        (OutcomeArgument::Failed, "failed" | "rolled_back") => None,
        (OutcomeArgument::Failed, "closed") if change["outcome"] != "successful" => None,
        (OutcomeArgument::Failed, "verified" | "closed") => {
            return Err(anyhow!(
                "{id} was already verified as successful; a failure found later is an incident: \
                 changegate incident open --caused-by {id} …"
            ));
        }
        (OutcomeArgument::Success, "failed" | "rolled_back" | "closed") => {
            return Err(anyhow!("{id} is already recorded as {state}; it cannot succeed now"));
        }
        (_, "assessed" | "submitted" | "draft") => {
            return Err(anyhow!("{id} is {state}: it was never approved, so there is no implementation to record"));
        }
        (_, other) => return Err(anyhow!("{id} is {other}: there is no implementation to record")),
    };
    Ok(step)
}

// --- durations and keys -------------------------------------------------------------------------

/// Parses `0`, `500ms`, `30s`, `10m`, `1h`, `1h30m`. A number needs a unit (except 0).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let invalid = || format!("`{text}` is not a duration: write it like 30s, 10m, 1h or 1h30m");
    let mut total_ms: u64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 9 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_length = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_alphabetic()).len();
        let unit_ms = match &rest[..unit_length] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_length..];
        total_ms = number.checked_mul(unit_ms).and_then(|ms| total_ms.checked_add(ms)).ok_or_else(invalid)?;
    }
    Ok(Duration::from_millis(total_ms))
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration > Duration::from_secs(WAIT_MAX_S) {
        return Err(format!("at most {}h", WAIT_MAX_S / 3600));
    }
    Ok(duration)
}

fn parse_poll_interval(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration < Duration::from_millis(POLL_INTERVAL_MIN_MS) || duration > Duration::from_millis(POLL_INTERVAL_MAX_MS)
    {
        return Err(format!("must be {POLL_INTERVAL_MIN_MS}ms to {}m", POLL_INTERVAL_MAX_MS / 60_000));
    }
    Ok(duration)
}

fn parse_idempotency_key(text: &str) -> Result<String, String> {
    let length_max = SERVER_IDEMPOTENCY_KEY_LENGTH_MAX - IDEMPOTENCY_SUFFIX_LENGTH_MAX;
    if text.is_empty() || text.len() > length_max || !text.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(format!("must be 1 to {length_max} visible ASCII characters (no spaces)"));
    }
    Ok(text.to_owned())
}

// --- evidence -----------------------------------------------------------------------------------

/// The summaries of the `--evidence` files.
#[derive(Debug, Default)]
struct Evidence {
    tests: Vec<String>,
    security: Vec<String>,
    critical_findings: Option<u64>,
}

impl Evidence {
    fn read(paths: &[PathBuf]) -> anyhow::Result<Evidence> {
        if paths.len() > EVIDENCE_FILES_MAX {
            return Err(usage(format!("at most {EVIDENCE_FILES_MAX} --evidence files")));
        }
        let mut evidence = Evidence::default();
        for path in paths {
            match read_evidence(path).map_err(|message| usage(format!("evidence {}: {message}", path.display())))? {
                Summary::Sarif(sarif) => {
                    evidence.security.push(sarif.text(path));
                    *evidence.critical_findings.get_or_insert(0) += sarif.critical;
                }
                Summary::Junit(junit) => evidence.tests.push(junit.text(path)),
                Summary::Other => evidence.tests.push(format!("file {}", path.display())),
            }
        }
        for (field, parts) in [("test", &evidence.tests), ("security", &evidence.security)] {
            let length: usize = parts.iter().map(|part| part.chars().count() + 2).sum();
            if length > changegate_core::TEXT_LENGTH_MAX {
                return Err(usage(format!(
                    "the {field} evidence summaries come to {length} characters, more than the {} a change holds",
                    changegate_core::TEXT_LENGTH_MAX
                )));
            }
        }
        Ok(evidence)
    }

    fn test_text(&self) -> Option<String> {
        (!self.tests.is_empty()).then(|| self.tests.join("; "))
    }

    fn security_text(&self) -> Option<String> {
        (!self.security.is_empty()).then(|| self.security.join("; "))
    }

    fn critical_findings(&self) -> Option<u32> {
        self.critical_findings.map(|count| u32::try_from(count).unwrap_or(u32::MAX))
    }
}

#[derive(Debug, PartialEq)]
enum Summary {
    Sarif(SarifSummary),
    Junit(JunitSummary),
    Other,
}

/// Reads one evidence file: SARIF and JUnit reports are summarised, anything else is only named.
fn read_evidence(path: &Path) -> Result<Summary, String> {
    let file = std::fs::File::open(path).map_err(|error| format!("cannot open it: {error}"))?;
    let metadata = file.metadata().map_err(|error| format!("cannot read it: {error}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".to_owned());
    }
    let mut head = Vec::with_capacity(EVIDENCE_SNIFF_BYTES);
    let mut reader = file.take(EVIDENCE_FILE_SIZE_MAX_BYTES + 1);
    (&mut reader)
        .take(EVIDENCE_SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|error| format!("cannot read it: {error}"))?;
    let extension = path.extension().and_then(|extension| extension.to_str()).unwrap_or_default().to_ascii_lowercase();
    let start = String::from_utf8_lossy(&head);
    let start = start.trim_start_matches('\u{feff}').trim_start();
    let report = start.starts_with('{') || start.starts_with('<') || matches!(extension.as_str(), "sarif" | "xml");
    if !report {
        return Ok(Summary::Other);
    }
    let mut bytes = head;
    reader.read_to_end(&mut bytes).map_err(|error| format!("cannot read it: {error}"))?;
    if bytes.len() as u64 > EVIDENCE_FILE_SIZE_MAX_BYTES {
        return Err(format!(
            "larger than {} MiB: give a smaller report, or a link with --pipeline-url",
            EVIDENCE_FILE_SIZE_MAX_BYTES / 1024 / 1024
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') {
        let document: Value = match serde_json::from_str(text) {
            Ok(document) => document,
            Err(error) if extension == "sarif" => return Err(format!("not valid JSON: {error}")),
            Err(_) => return Ok(Summary::Other),
        };
        if document.get("runs").is_some() {
            return sarif_summary(&document).map(Summary::Sarif);
        }
        if extension == "sarif" {
            return Err("not SARIF: it has no `runs`".to_owned());
        }
        return Ok(Summary::Other);
    }
    if extension == "sarif" {
        return Err("not SARIF: it is not a JSON object".to_owned());
    }
    match junit_summary(text)? {
        Some(junit) => Ok(Summary::Junit(junit)),
        None => Ok(Summary::Other),
    }
}

/// Counts of a SARIF log.
#[derive(Debug, Default, PartialEq)]
struct SarifSummary {
    results: u64,
    critical: u64,
    levels: BTreeMap<String, u64>,
    not_counted: u64,
    tools: BTreeSet<String>,
}

impl SarifSummary {
    fn text(&self, path: &Path) -> String {
        let mut text = format!(
            "SARIF: {} {}, {} critical (level error, security-severity ≥ {SECURITY_SEVERITY_CRITICAL_MIN:.1})",
            self.results,
            plural(self.results, "result", "results"),
            self.critical
        );
        if !self.levels.is_empty() {
            let levels: Vec<String> = self.levels.iter().map(|(level, count)| format!("{count} {level}")).collect();
            text.push_str(&format!("; {}", levels.join(", ")));
        }
        if self.not_counted > 0 {
            text.push_str(&format!("; {} suppressed or fixed not counted", self.not_counted));
        }
        if !self.tools.is_empty() {
            text.push_str(&format!("; {}", self.tools.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        text.push_str(&format!(" ({})", file_name(path)));
        text
    }
}

/// Summarises a SARIF 2.1.0 log: every result of every run, by effective level, and the critical
/// ones (level `error` and a `security-severity` of at least 9.0 on the result or its rule).
fn sarif_summary(document: &Value) -> Result<SarifSummary, String> {
    let runs = document["runs"].as_array().ok_or("`runs` is not an array")?;
    let mut summary = SarifSummary::default();
    for run in runs {
        let tool = &run["tool"];
        if let Some(name) = tool["driver"]["name"].as_str() {
            summary.tools.insert(name.chars().take(64).collect());
        }
        let results = match &run["results"] {
            Value::Null => continue,
            Value::Array(results) => results,
            _ => return Err("a run's `results` is not an array".to_owned()),
        };
        for result in results {
            if !counts(result) {
                summary.not_counted += 1;
                continue;
            }
            let rule = rule_of(tool, result);
            let level = result["level"]
                .as_str()
                .or_else(|| match result["kind"].as_str() {
                    Some(kind) if kind != "fail" => Some("none"),
                    _ => None,
                })
                .or_else(|| rule.and_then(|rule| rule["defaultConfiguration"]["level"].as_str()))
                .unwrap_or("warning");
            let severity = security_severity(result).or_else(|| rule.and_then(security_severity));
            summary.results += 1;
            *summary.levels.entry(level.chars().take(16).collect()).or_insert(0) += 1;
            if level == "error" && severity.is_some_and(|severity| severity >= SECURITY_SEVERITY_CRITICAL_MIN) {
                summary.critical += 1;
            }
        }
    }
    Ok(summary)
}

/// A result counts unless it is suppressed (a suppression that is not `rejected`) or it is absent
/// from the current run (`baselineState: absent`, i.e. fixed).
fn counts(result: &Value) -> bool {
    let suppressed = result["suppressions"]
        .as_array()
        .is_some_and(|suppressions| suppressions.iter().any(|suppression| suppression["status"] != "rejected"));
    !suppressed && result["baselineState"] != "absent"
}

/// The rule a result refers to: by `rule.index`/`ruleIndex`, else by `rule.id`/`ruleId`, in the
/// driver or in the extension `rule.toolComponent.index` names.
fn rule_of<'a>(tool: &'a Value, result: &Value) -> Option<&'a Value> {
    let reference = &result["rule"];
    let component = match reference["toolComponent"]["index"].as_u64() {
        Some(index) => tool["extensions"].get(usize::try_from(index).ok()?)?,
        None => &tool["driver"],
    };
    let rules = component["rules"].as_array()?;
    let index = reference["index"].as_u64().or_else(|| result["ruleIndex"].as_u64());
    if let Some(index) = index {
        return rules.get(usize::try_from(index).ok()?);
    }
    let id = reference["id"].as_str().or_else(|| result["ruleId"].as_str())?;
    rules.iter().find(|rule| rule["id"] == id)
}

/// The `security-severity` property (a number, or a string holding one, as GitHub writes it).
fn security_severity(object: &Value) -> Option<f64> {
    match &object["properties"]["security-severity"] {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|severity: &f64| severity.is_finite())
}

/// Counts of a JUnit XML report.
#[derive(Debug, Default, PartialEq)]
struct JunitSummary {
    tests: u64,
    failures: u64,
    skipped: u64,
}

impl JunitSummary {
    fn text(&self, path: &Path) -> String {
        let mut text = format!(
            "JUnit: {} {}, {} {}",
            self.tests,
            plural(self.tests, "test", "tests"),
            self.failures,
            plural(self.failures, "failure", "failures")
        );
        if self.skipped > 0 {
            text.push_str(&format!(", {} skipped", self.skipped));
        }
        text.push_str(&format!(" ({})", file_name(path)));
        text
    }
}

/// Summarises a JUnit XML report (root `testsuites` or `testsuite`): each `testcase` is a test;
/// one with a `failure` or `error` inside is a failure, one with `skipped` is skipped. A report
/// without `testcase` elements falls back to its root's `tests`, `failures` + `errors` and
/// `skipped` attributes. `None` when the XML is not a JUnit report.
fn junit_summary(text: &str) -> Result<Option<JunitSummary>, String> {
    let mut summary = JunitSummary::default();
    let mut root: Option<(String, BTreeMap<String, String>)> = None;
    // The innermost open testcase: (failed, skipped).
    let mut testcase: Option<(bool, bool)> = None;
    let mut depth: usize = 0;
    let mut testcase_depth = 0;
    let mut rest = text;
    while let Some(position) = rest.find('<') {
        rest = &rest[position..];
        let (skip_to, tag) = if rest.starts_with("<!--") {
            (find_after(rest, "-->")?, None)
        } else if rest.starts_with("<![CDATA[") {
            (find_after(rest, "]]>")?, None)
        } else if rest.starts_with("<?") {
            (find_after(rest, "?>")?, None)
        } else if rest.starts_with("<!") {
            (find_after(rest, ">")?, None)
        } else {
            let end = tag_end(rest).ok_or("an XML tag is not closed")?;
            (end, Some(&rest[1..end - 1]))
        };
        rest = &rest[skip_to..];
        let Some(tag) = tag else { continue };
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            depth = depth.saturating_sub(1);
            if name == "testcase" && testcase.is_some() && depth == testcase_depth {
                let (failed, skipped) = testcase.take().unwrap_or_default();
                summary.failures += u64::from(failed);
                summary.skipped += u64::from(skipped && !failed);
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_length = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
        let name = &tag[..name_length];
        if root.is_none() {
            if name != "testsuites" && name != "testsuite" {
                return Ok(None);
            }
            root = Some((name.to_owned(), attributes(&tag[name_length..])));
        }
        match name {
            "testcase" => {
                summary.tests += 1;
                if self_closing {
                    continue;
                }
                testcase = Some((false, false));
                testcase_depth = depth;
            }
            "failure" | "error" => {
                if let Some((failed, _)) = testcase.as_mut() {
                    *failed = true;
                }
            }
            "skipped" => {
                if let Some((_, skipped)) = testcase.as_mut() {
                    *skipped = true;
                }
            }
            _ => {}
        }
        if !self_closing {
            depth += 1;
        }
    }
    let Some((_, root_attributes)) = root else { return Ok(None) };
    if summary.tests == 0 {
        let number =
            |name: &str| root_attributes.get(name).and_then(|value| value.trim().parse::<u64>().ok()).unwrap_or(0);
        summary.tests = number("tests");
        summary.failures = number("failures") + number("errors");
        summary.skipped = number("skipped");
    }
    Ok(Some(summary))
}

/// The index just past `marker` in `text`.
fn find_after(text: &str, marker: &str) -> Result<usize, String> {
    text.find(marker).map(|position| position + marker.len()).ok_or_else(|| format!("`{marker}` missing in the XML"))
}

/// The index just past the `>` that closes the tag at the start of `text` (quotes respected).
fn tag_end(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (position, character) in text.char_indices().skip(1) {
        match (quote, character) {
            (Some(open), _) if character == open => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(character),
            (None, '>') => return Some(position + 1),
            (None, _) => {}
        }
    }
    None
}

/// `name="value"` pairs of a tag (entities are left as they are: only numbers are read).
fn attributes(text: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut rest = text;
    while let Some(equals) = rest.find('=') {
        let name = rest[..equals].trim().to_owned();
        let after = rest[equals + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else { break };
        let Some(close) = after[1..].find(quote) else { break };
        found.insert(name, after[1..1 + close].to_owned());
        rest = &after[close + 2..];
    }
    found
}

fn plural<'a>(count: u64, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_units_and_limits() {
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["", "30", "ten", "5d", "1h-2m", "s", "99999999999s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_wait("25h").is_err());
        assert!(parse_wait("24h").is_ok());
        assert!(parse_poll_interval("100ms").is_err());
        assert!(parse_poll_interval("1s").is_ok());
        assert!(parse_poll_interval("6m").is_err());
    }

    #[test]
    fn idempotency_keys_leave_room_for_the_suffixes() {
        assert!(parse_idempotency_key("gh-123456").is_ok());
        assert!(parse_idempotency_key("has space").is_err());
        assert!(parse_idempotency_key("").is_err());
        let longest = "k".repeat(SERVER_IDEMPOTENCY_KEY_LENGTH_MAX - IDEMPOTENCY_SUFFIX_LENGTH_MAX);
        assert!(parse_idempotency_key(&longest).is_ok());
        assert!(parse_idempotency_key(&format!("{longest}k")).is_err());
    }

    #[test]
    fn sarif_critical_needs_level_error_and_security_severity_9() {
        let document = json!({
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "Trivy", "rules": [
                    {"id": "CVE-1", "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "9.8"}},
                    {"id": "CVE-2", "properties": {"security-severity": "7.5"}},
                    {"id": "CVE-3", "properties": {"security-severity": 9.1}}
                ]}},
                "results": [
                    {"ruleId": "CVE-1", "message": {"text": "critical, level from the rule"}},
                    {"ruleIndex": 1, "level": "error", "message": {"text": "high"}},
                    {"ruleId": "CVE-3", "level": "warning", "message": {"text": "severe but a warning"}},
                    {"ruleId": "CVE-3", "level": "error", "message": {"text": "critical"}},
                    {"ruleId": "CVE-2", "level": "error", "properties": {"security-severity": "10.0"}, "message": {"text": "result overrides"}},
                    {"ruleId": "CVE-1", "suppressions": [{"kind": "inSource"}], "message": {"text": "suppressed"}},
                    {"ruleId": "CVE-1", "baselineState": "absent", "message": {"text": "fixed"}},
                    {"ruleId": "CVE-1", "kind": "pass", "message": {"text": "passed"}}
                ]
            }, {"tool": {"driver": {"name": "CodeQL"}}, "results": []}]
        });
        let summary = sarif_summary(&document).unwrap();
        assert_eq!(summary.results, 6);
        assert_eq!(summary.critical, 3);
        assert_eq!(summary.not_counted, 2);
        assert_eq!(summary.levels.get("error"), Some(&4));
        assert_eq!(summary.levels.get("none"), Some(&1));
        let text = summary.text(Path::new("out/trivy.sarif"));
        assert!(text.starts_with("SARIF: 6 results, 3 critical"), "{text}");
        assert!(text.contains("CodeQL, Trivy") && text.ends_with("(trivy.sarif)"), "{text}");
        assert!(sarif_summary(&json!({"runs": 3})).is_err());
    }

    #[test]
    fn junit_counts_testcases_and_ignores_markup_in_cdata_and_comments() {
        let report = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- <testcase name="in a comment"/> -->
<testsuites tests="99" failures="99">
  <testsuite name="a" tests="4">
    <testcase name="passes" classname="a"/>
    <testcase name="fails"><failure message="x &gt; 1"><![CDATA[<testcase name="in cdata"/> a > b]]></failure></testcase>
    <testcase name="errs"><error type="panic"/></testcase>
    <testcase name="skipped"><skipped/></testcase>
    <testsuite name="nested"><testcase name='quoted > bracket'></testcase></testsuite>
  </testsuite>
</testsuites>"#;
        let summary = junit_summary(report).unwrap().unwrap();
        assert_eq!(summary, JunitSummary { tests: 5, failures: 2, skipped: 1 });
        assert_eq!(summary.text(Path::new("junit.xml")), "JUnit: 5 tests, 2 failures, 1 skipped (junit.xml)");
        let aggregate = r#"<testsuite tests="7" failures="1" errors="1" skipped="0"></testsuite>"#;
        assert_eq!(junit_summary(aggregate).unwrap(), Some(JunitSummary { tests: 7, failures: 2, skipped: 0 }));
        assert_eq!(junit_summary("<html><body/></html>").unwrap(), None);
        assert!(junit_summary("<testsuites><testcase name=\"x\"").is_err());
    }

    #[test]
    fn evidence_files_are_sniffed_and_limited() {
        let directory = tempfile::tempdir().unwrap();
        let sarif = directory.path().join("scan.sarif");
        std::fs::write(&sarif, r#"{"runs": []}"#).unwrap();
        let junit = directory.path().join("report.xml");
        std::fs::write(&junit, "\u{feff}<testsuite><testcase name=\"a\"/></testsuite>").unwrap();
        let other = directory.path().join("coverage.txt");
        std::fs::write(&other, "lines: 93%").unwrap();
        let broken = directory.path().join("broken.sarif");
        std::fs::write(&broken, "{not json").unwrap();
        assert!(matches!(read_evidence(&sarif), Ok(Summary::Sarif(_))));
        assert_eq!(read_evidence(&junit), Ok(Summary::Junit(JunitSummary { tests: 1, failures: 0, skipped: 0 })));
        assert_eq!(read_evidence(&other), Ok(Summary::Other));
        assert!(read_evidence(&broken).unwrap_err().contains("not valid JSON"));
        assert!(read_evidence(&directory.path().join("missing.xml")).unwrap_err().contains("cannot open"));
        assert!(read_evidence(directory.path()).is_err());
        let large = directory.path().join("large.sarif");
        let mut bytes = vec![b' '; usize::try_from(EVIDENCE_FILE_SIZE_MAX_BYTES).unwrap() + 1];
        bytes[0] = b'{';
        std::fs::write(&large, bytes).unwrap();
        assert!(read_evidence(&large).unwrap_err().contains("larger than 10 MiB"));
        let evidence = Evidence::read(&[sarif, junit, other]).unwrap();
        assert_eq!(evidence.critical_findings(), Some(0));
        let coverage = directory.path().join("coverage.txt");
        let expected = format!("JUnit: 1 test, 0 failures (report.xml); file {}", coverage.display());
        assert_eq!(evidence.test_text().unwrap(), expected);
    }

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

    #[test]
    fn verdicts() {
        assert_eq!(verdict_of(&json!({"state": "approved"})), Verdict::Approved);
        assert_eq!(verdict_of(&json!({"state": "implementing"})), Verdict::Approved);
        assert_eq!(verdict_of(&json!({"state": "rejected", "denied": ["freeze"]})), Verdict::Denied);
        assert_eq!(verdict_of(&json!({"state": "rejected", "denied": []})), Verdict::Rejected);
        assert_eq!(verdict_of(&json!({"state": "assessed", "type": "normal"})), Verdict::Waiting);
        assert_eq!(verdict_of(&json!({"state": "assessed", "type": "emergency"})), Verdict::Emergency);
        assert_eq!(verdict_of(&json!({"state": "verified"})), Verdict::Ended);
        assert_eq!(verdict_of(&json!({"state": "closed", "outcome": "successful"})), Verdict::Ended);
        assert_eq!(verdict_of(&json!({"state": "rolled_back"})), Verdict::Ended);
    }
}
