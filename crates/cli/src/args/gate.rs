//! Arguments of `changegate gate`, the pipeline's door: the change it proposes, how long it waits,
//! and `--finish`. The flag values are checked here, at parse time (durations, the idempotency
//! key), so that a typo fails with clap's usage error before anything reaches the server. The
//! module is a leaf: the gate's flow in `crate::gate` reads these types and nothing here reads
//! back.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::shared::ClientArgs;

/// The long `--help` of `changegate gate`.
pub(super) const GATE_LONG_ABOUT: &str = "\
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
/// The server's limit on `Idempotency-Key`, and the longest suffix the gate appends.
const SERVER_IDEMPOTENCY_KEY_LENGTH_MAX: usize = 255;
const IDEMPOTENCY_SUFFIX_LENGTH_MAX: usize = ":schedule".len();

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
    pub fn as_str(self) -> &'static str {
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
}
