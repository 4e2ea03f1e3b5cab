//! The command line, as close to the flags as possible. `lib.rs` turns it into actions.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Change management for DevSecOps teams: plan, assess, approve, implement, roll back, audit.";

const LONG_ABOUT: &str = "\
Changegate takes a change from the pipeline that proposes it to the auditor who inspects it a year
later. One binary runs the server (API and web UI) and is also the command-line client.

Getting started:
  changegate demo                      seed a realistic organisation and serve it on 127.0.0.1:8080
  changegate init                      create an empty store in ./changegate-data and the first admin
  changegate serve                     serve the API and web UI
  export CHANGEGATE_TOKEN=cg_…         then talk to the server:
  changegate change new --title \"Bump openssl\" --type normal --service payments-api --environment production
  changegate change submit CHG-000001

Storage: embedded SQLite in --data-dir by default; PostgreSQL with --database-url postgres://…
(several `serve` instances may share one PostgreSQL database).";

#[derive(Debug, Parser)]
#[command(name = "changegate", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
pub struct Cli {
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Where the store is (for commands that open it directly).
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite store.
    #[arg(long, env = "CHANGEGATE_DATA_DIR", default_value = "changegate-data", value_name = "DIR")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://user@host/db). When set, --data-dir is not used.
    #[arg(long, env = "CHANGEGATE_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// The ledger signing key.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// File with the ledger signing key (default: <data-dir>/ledger-signing-key).
    #[arg(long, env = "CHANGEGATE_SIGNING_KEY_FILE", value_name = "FILE")]
    pub signing_key_file: Option<PathBuf>,
    /// The signing key itself (PRIVATE+KEY+…); overrides the file. Give every instance the same key.
    #[arg(long, env = "CHANGEGATE_SIGNING_KEY", hide_env_values = true, hide = true)]
    pub signing_key: Option<String>,
}

/// Alerts and automated rollback, for `serve`.
#[derive(Debug, Clone, Args)]
pub struct AlertArgs {
    /// Alert rules to define at start, as JSON: `{"rules": {"NAME": {"kind": …, "webhooks": […]}}}`.
    /// A rule is written (as a ledger event) only when it differs from the stored one; rules not
    /// in the file are kept. A bad rule stops the start. See docs/alerts.md.
    #[arg(long, env = "CHANGEGATE_ALERT_RULES_FILE", value_name = "FILE")]
    pub alert_rules: Option<PathBuf>,
    /// Attempts per webhook delivery, the first included.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub alert_delivery_attempts: u32,
    /// Wait before the second delivery attempt; it doubles for each later one (up to 60 s).
    #[arg(long, default_value_t = 1_000, value_name = "MS")]
    pub alert_backoff_ms: u64,
    /// Time limit of one delivery attempt.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub alert_timeout_s: u64,
    /// Time limit of a rollback hook (webhook or command); other writes wait while it runs.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub rollback_timeout_s: u64,
    /// The server's public base URL (https://changegate.example.com), for links in alerts.
    #[arg(long, env = "CHANGEGATE_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

/// How to reach a running server (for client commands).
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Base URL of the Changegate server.
    #[arg(long, env = "CHANGEGATE_SERVER", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub server: String,
    /// API token (from `changegate init`, `changegate user add` or an admin).
    #[arg(long, env = "CHANGEGATE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store (SQLite in --data-dir, or PostgreSQL) and its first admin; prints the admin token.
    Init {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// Name of the first admin.
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// Serve the API (/api/v1, /api/openapi.json) and the web UI.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// Sign a ledger checkpoint after this many new events…
        #[arg(long, default_value_t = 1_000, value_name = "N")]
        checkpoint_every_events: u64,
        /// …or after this many seconds with new events, whichever comes first.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        checkpoint_interval_s: u64,
        /// Address to listen on.
        #[arg(long, env = "CHANGEGATE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Mark the session cookie Secure (when users reach the server over HTTPS).
        #[arg(long)]
        secure_cookies: bool,
        /// Weights of the explainable risk factors, as JSON (`{"service_tier": 40, "emergency": 30}`;
        /// factors left out keep their defaults; see docs/risk.md).
        #[arg(long, env = "CHANGEGATE_RISK_WEIGHTS_FILE", value_name = "FILE")]
        risk_weights: Option<PathBuf>,
        /// Hours an emergency change has, from its start, for its retrospective approval and review.
        #[arg(long, default_value_t = 24)]
        emergency_deadline_hours: u32,
        /// How far back from an incident's detection the attribution rule looks for the change
        /// that probably caused it (1 to 720 hours; see docs/incidents.md).
        #[arg(long, default_value_t = 24, value_name = "HOURS")]
        attribution_window_hours: u32,
        #[command(flatten)]
        alerts: AlertArgs,
        /// Log lines as text (default) or as JSON objects, one per line.
        #[arg(long, env = "CHANGEGATE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
    },
    /// Seed a realistic demo organisation (when the store is empty), print an admin token, and serve.
    Demo {
        /// Directory of the demo's SQLite store.
        #[arg(long, default_value = "changegate-demo-data", value_name = "DIR")]
        data_dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed of the generator: the same seed gives the same organisation and history.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Number of changes to generate.
        #[arg(long, default_value_t = 20_000)]
        changes: u32,
        /// Seed only; do not serve.
        #[arg(long)]
        no_serve: bool,
        /// End of the generated history (RFC 3339; default now). With the same seed and end, the
        /// same organisation and history come out.
        #[arg(long, value_name = "TIME")]
        end: Option<String>,
    },
    /// Manage users. Opens the store directly unless --server is given.
    #[command(subcommand)]
    User(UserCommand),
    /// Register and list services (configuration items).
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Create, list, show and move changes through their lifecycle.
    #[command(subcommand)]
    Change(ChangeCommand),
    /// Open, list, correct, link and resolve incidents.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// The tamper-evident audit ledger: checkpoints, verification, proofs, export.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The predictive risk model.
    #[command(subcommand)]
    Risk(RiskCommand),
    /// Standard-change templates: pre-approved kinds of change.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// The change calendar: freeze and maintenance windows, planned changes, conflicts.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// What you may approve now (separation of duties applied), with risk, evidence and conflicts.
    Approvals {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Alert rules (high-risk change, change failure rate, approval overdue, …), their firings
    /// and deliveries.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Approval policies as code (Rego): show the default, evaluate, test.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Gate a pipeline on change approval: create, submit, wait; exit 0 approved, 3 rejected, 4 waiting.
    #[command(long_about = crate::gate::GATE_LONG_ABOUT)]
    Gate(crate::gate::GateArgs),
    /// Compliance: controls of PCI DSS, SOC 2, ISO 27001, NIST 800-53, HIPAA, GDPR and DORA checked
    /// over the changes of a period; `comply bundle` writes the auditor's evidence bundle.
    #[command(long_about = COMPLY_LONG_ABOUT)]
    Comply(ComplyArgs),
    /// Assess change-management maturity: a CMMI level (1 to 5) per dimension with the evidence
    /// behind it, the overall level, a roadmap to the next level, and the trend.
    #[command(long_about = ASSESS_LONG_ABOUT)]
    Assess(Box<AssessArgs>),
    /// Delivery metrics: DORA's five and the change-management ones, with DORA's bands (docs/metrics.md).
    Metrics {
        #[command(flatten)]
        client: ClientArgs,
        /// Start of the period, inclusive: 2026-01-01 (UTC midnight) or an RFC 3339 time. Deployments
        /// count by when they finished. Without --from and --to: from the first to the last deployment.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// End of the period, exclusive, in the same forms.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Only this service's deployments.
        #[arg(long)]
        service: Option<String>,
        /// Only this team's deployments.
        #[arg(long)]
        team: Option<String>,
        /// Only this (production) environment's deployments.
        #[arg(long)]
        environment: Option<String>,
    },
    /// Import another system's history from CSV (changes.csv, incidents.csv; see docs/import.md) into the store.
    /// Exit 0 imported, 2 bad rows (nothing imported).
    Import(ImportArgs),
    /// Read the event log.
    Events {
        #[command(flatten)]
        client: ClientArgs,
        /// Events with a sequence above this.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// How many (1 to 1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// The period and frameworks of a compliance report.
#[derive(Debug, Clone, Args)]
pub struct ComplianceScopeArgs {
    /// pci-dss, soc2, iso27001, nist-800-53, hipaa, gdpr, eu-dora or all.
    #[arg(long, default_value = "all", value_name = "FRAMEWORK")]
    pub framework: String,
    /// Start of the period, RFC 3339 (default: 90 days before --to).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the period, exclusive, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ComplyArgs {
    #[command(subcommand)]
    pub command: Option<ComplyCommand>,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub scope: ComplianceScopeArgs,
    /// Also write the report as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ComplyCommand {
    /// Write the auditor's evidence bundle (opens the store directly, like `audit export`): the
    /// reports (JSON, HTML), OSCAL assessment results, the ledger export with its public key and
    /// checkpoint, and a sample of changes with their events and inclusion proofs. The ledger is
    /// verified and a checkpoint signed first (both are recorded).
    Bundle {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        scope: ComplianceScopeArgs,
        /// Output directory (created; must be empty if it exists).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Changes to include with their evidence: every violating one first, then an even spread
        /// of the others (1 to 1000).
        #[arg(long, default_value_t = 25)]
        sample: u32,
        /// The server's emergency deadline, for the emergency-retrospective check.
        #[arg(long, default_value_t = 24)]
        emergency_deadline_hours: u32,
    },
    /// Verify a bundle offline: the ledger export against the public key, and every sampled
    /// change's events against the bundle's checkpoint with their inclusion proofs.
    Verify {
        /// A directory written by `changegate comply bundle`.
        #[arg(long, value_name = "DIR")]
        bundle: PathBuf,
        /// The verifier key to trust (the text `name+id+key`, or a file holding it). Take it from
        /// the operator, not from the bundle.
        #[arg(long, value_name = "KEY")]
        public_key: String,
    },
}

const ASSESS_LONG_ABOUT: &str = "\
Assess change-management maturity on the five-level CMMI scale, measured on this installation's own
changes (recorded live, or imported with `changegate import`): process, risk management, metrics &
KPIs, automation, and audit & compliance. A dimension reaches a level only when every criterion of
that level and of the levels below holds; the overall level is the lowest dimension. Each criterion
shows its measured value, threshold and evidence (sample change ids); the roadmap turns the next
level's unmet criteria into steps. docs/maturity-rubric.md explains every criterion.

It opens the store directly (--data-dir or --database-url), so an exported history can be assessed
without a running server; with --server it asks that server's API instead.

A few questions cover what data cannot show; an unanswered question counts as no.
  --questions           list them (`--json`: [{\"id\",\"dimension\",\"level\",\"text\"}])
  --interactive         ask the unanswered ones (y/n) and record the answers
  --answers FILE        {\"<id>\": true|false}, used for this run only; --record records them
Recorded answers are ledger events with who answered: the token's user through a server, or the
store user named with --answered-by (admin or cab role) locally.

Examples:
  changegate assess --data-dir imported-data
  changegate assess --from 2026-01-01 --to 2026-04-01 --json
  changegate assess --answers answers.json --markdown > maturity.md
  changegate assess --html maturity.html --months 18
  changegate assess --interactive --answered-by carol";

/// `changegate assess`.
#[derive(Debug, Args)]
pub struct AssessArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Ask this server's API instead of opening the store.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// API token for --server.
    #[arg(long, env = "CHANGEGATE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Start of the period: YYYY-MM-DD (midnight UTC) or RFC 3339 (default: 90 days before --to).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the period, exclusive (default: now).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Answers to the questionnaire, `{"<question id>": true|false}`, for this run only (see --record).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Record the --answers file's answers in the ledger.
    #[arg(long)]
    pub record: bool,
    /// Ask the unanswered questions (y/n on standard input) and record the answers.
    #[arg(long)]
    pub interactive: bool,
    /// Who records answers in local mode: a user of the store with the admin or cab role.
    #[arg(long, value_name = "USER")]
    pub answered_by: Option<String>,
    /// List the questions instead of assessing.
    #[arg(long)]
    pub questions: bool,
    /// Print the report as Markdown.
    #[arg(long)]
    pub markdown: bool,
    /// Write the report as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Months of trend in the reports (1 to 36; default 12; with --json, adds `trend`).
    #[arg(long, value_name = "N")]
    pub months: Option<u32>,
}

/// `changegate import`: opens the store itself, like `init` and `demo`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// changes.csv: a header row, then one change a row (the columns are in docs/import.md).
    #[arg(long, value_name = "FILE")]
    pub changes: PathBuf,
    /// incidents.csv: a header row, then one incident a row; `caused_by` names a change.
    #[arg(long, value_name = "FILE")]
    pub incidents: Option<PathBuf>,
    /// Import the good rows even when some are bad (the bad ones are listed and left out).
    #[arg(long)]
    pub skip_bad: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user and print their API token (shown once).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// User name: lowercase letters, digits, '.', '_' and '-'.
        #[arg(long)]
        name: String,
        /// Comma-separated roles: requester, approver, security, cab, auditor, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Team the user belongs to.
        #[arg(long)]
        team: Option<String>,
        /// Add the user through this server's API (needs an admin --token) instead of the store.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// Admin token for --server.
        #[arg(long, env = "CHANGEGATE_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// List users.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Register a service (admin).
    Add {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        name: String,
        /// Owning team (created when new).
        #[arg(long)]
        team: String,
        /// Criticality tier: 1 (most critical) to 4.
        #[arg(long)]
        tier: i64,
        /// Comma-separated compliance scopes, e.g. pci,sox,gdpr.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Comma-separated services this one depends on.
        #[arg(long, value_delimiter = ',')]
        depends_on: Vec<String>,
    },
    /// List services.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Set or remove a service's automated rollback hook (admin): a webhook, or a command run
    /// without a shell (put --command last: everything after it is the program and its
    /// arguments). It runs once per change, when a change of the service fails or a severity 1–2
    /// incident is linked to one within the window after its deployment.
    ///
    /// Examples:
    ///   changegate service rollback-hook payments-api --webhook https://deploy.example.com/rollback
    ///   changegate service rollback-hook payments-api --incident-window-hours 6 --command /usr/local/bin/rollback --fast
    ///   changegate service rollback-hook payments-api --remove
    #[command(group(clap::ArgGroup::new("hook").required(true).args(["webhook", "command", "remove"])))]
    RollbackHook {
        #[command(flatten)]
        client: ClientArgs,
        /// The service.
        service: String,
        /// POST a JSON body naming the change to this URL.
        #[arg(long, value_name = "URL")]
        webhook: Option<String>,
        /// Run this program with these arguments (CHANGEGATE_CHANGE_ID and CHANGEGATE_SERVICE
        /// are in its environment).
        #[arg(long, num_args = 1.., allow_hyphen_values = true, value_name = "PROGRAM [ARG]...")]
        command: Option<Vec<String>>,
        /// Remove the hook.
        #[arg(long)]
        remove: bool,
        /// A linked severity 1–2 incident detected this long after a deployment still triggers it.
        #[arg(long, default_value_t = 24, value_name = "HOURS")]
        incident_window_hours: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// The rule kinds and their parameters (no server needed).
    Rules,
    /// List the alert rules defined on the server.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Define or redefine an alert rule from a JSON file (admin).
    ///
    /// Example rule.json: {"kind": "change_failure_rate", "threshold": 0.25, "window_hours": 168,
    ///                     "webhooks": ["https://hooks.slack.com/services/…"]}
    Set {
        #[command(flatten)]
        client: ClientArgs,
        /// The rule's name.
        name: String,
        /// The rule as JSON.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Remove an alert rule (admin); its firings stay in the ledger.
    Remove {
        #[command(flatten)]
        client: ClientArgs,
        name: String,
    },
    /// Recent firings with every delivery attempt, newest first.
    Firings {
        #[command(flatten)]
        client: ClientArgs,
        /// How many (1 to 500).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

// Parsed once per run: the size of the largest variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ChangeCommand {
    /// Create a change (it starts as a draft; `submit` it when ready).
    New(NewChangeArgs),
    /// List changes, newest first.
    List {
        #[command(flatten)]
        client: ClientArgs,
        /// Only this state (draft, submitted, assessed, approved, rejected, scheduled, implementing,
        /// implemented, verified, failed, rolled_back, closed, cancelled).
        #[arg(long)]
        state: Option<String>,
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
        /// Only this requester.
        #[arg(long)]
        requester: Option<String>,
        /// Page size (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Cursor from the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show a change with its event history.
    Show {
        #[command(flatten)]
        client: ClientArgs,
        /// Change id, e.g. CHG-000001.
        id: String,
    },
    /// Submit a draft: it is assessed at once (risk class, approvals needed).
    Submit(ActionArgs),
    /// Approve an assessed change (not your own).
    Approve(ActionArgs),
    /// Reject an assessed change (not your own).
    Reject(ActionArgs),
    /// Schedule an approved change (--planned-start/--planned-end, else its planned window or now).
    Schedule(ActionArgs),
    /// Start implementing a scheduled change (an emergency change may start once assessed).
    Start(ActionArgs),
    /// Mark the implementation complete.
    Complete(ActionArgs),
    /// Confirm the implemented change works.
    Verify(ActionArgs),
    /// Mark the change failed.
    Fail(ActionArgs),
    /// Record that a failed change was rolled back.
    Rollback(ActionArgs),
    /// Record a post-implementation review (--root-cause required for failed changes).
    Review(ActionArgs),
    /// Close a verified, failed or rolled-back change.
    Close(ActionArgs),
    /// Cancel a change before implementation starts.
    Cancel(ActionArgs),
}

#[derive(Debug, Args)]
pub struct NewChangeArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[arg(long)]
    pub title: String,
    /// standard, normal or emergency.
    #[arg(long = "type", value_name = "TYPE")]
    pub change_type: Option<String>,
    #[arg(long)]
    pub service: String,
    #[arg(long, default_value = "production")]
    pub environment: String,
    #[arg(long, default_value = "")]
    pub description: String,
    #[arg(long)]
    pub implementation_plan: Option<String>,
    #[arg(long)]
    pub rollback_plan: Option<String>,
    /// RFC 3339, e.g. 2026-12-01T22:00:00Z.
    #[arg(long)]
    pub planned_start: Option<String>,
    #[arg(long)]
    pub planned_end: Option<String>,
    /// A link (commit, PR, pipeline run, ticket); repeat for several.
    #[arg(long = "link")]
    pub links: Vec<String>,
    /// Test results: a link to the pipeline run or report, or a summary.
    #[arg(long)]
    pub test_evidence: Option<String>,
    /// Security scan results (SAST/SCA/secret scan): a link or a summary.
    #[arg(long)]
    pub security_evidence: Option<String>,
    /// Critical findings in the security evidence (the default policy denies scoped changes with any).
    #[arg(long)]
    pub security_critical_findings: Option<u32>,
    /// Make it from a standard-change template (`changegate template list`); the type is then standard.
    #[arg(long)]
    pub template: Option<String>,
    /// Why an emergency change cannot wait (required for --type emergency).
    #[arg(long)]
    pub justification: Option<String>,
    /// The commit being deployed.
    #[arg(long)]
    pub commit: Option<String>,
    /// The pipeline run proposing the change.
    #[arg(long)]
    pub pipeline_url: Option<String>,
    /// Retry-safe key: the same key and input never create twice (pipelines should pass their run id).
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActionArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Change id, e.g. CHG-000001.
    pub id: String,
    /// A comment recorded with the action.
    #[arg(long, short = 'm')]
    pub comment: Option<String>,
    /// Root cause (for `review`).
    #[arg(long)]
    pub root_cause: Option<String>,
    /// Window start (for `schedule`), RFC 3339.
    #[arg(long)]
    pub planned_start: Option<String>,
    /// Window end (for `schedule`), RFC 3339.
    #[arg(long)]
    pub planned_end: Option<String>,
    /// Retry-safe key.
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Open an incident. Without --caused-by the attribution rule suggests the latest successful
    /// production change of the service within its window; confirm or reject it later.
    Open {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        title: String,
        #[arg(long)]
        service: String,
        /// sev1 (worst) to sev4, or 1 to 4.
        #[arg(long)]
        severity: String,
        /// The change that caused it, e.g. CHG-000042 (an explicit link).
        #[arg(long)]
        caused_by: Option<String>,
        /// When it was detected (RFC 3339; default now).
        #[arg(long)]
        detected_at: Option<String>,
        /// Minutes of downtime it caused.
        #[arg(long)]
        downtime_minutes: Option<u32>,
    },
    /// List incidents, newest first, with each link's provenance.
    List {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one incident.
    Show {
        #[command(flatten)]
        client: ClientArgs,
        /// Incident id, e.g. INC-000001.
        id: String,
    },
    /// Correct an incident's title, severity, detection time or downtime.
    Update {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        detected_at: Option<String>,
        #[arg(long)]
        downtime_minutes: Option<u32>,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Resolve an incident.
    Resolve {
        #[command(flatten)]
        client: ClientArgs,
        /// Incident id, e.g. INC-000001.
        id: String,
        /// When it was resolved (RFC 3339; default now).
        #[arg(long)]
        resolved_at: Option<String>,
        /// Minutes of downtime it caused.
        #[arg(long)]
        downtime_minutes: Option<u32>,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Link an incident to the change that caused it (explicit; naming the suggested change
    /// confirms the suggestion).
    Link {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        /// The change, e.g. CHG-000042.
        change: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Confirm the suggested link: it then counts in metrics.
    Confirm {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject the suggested link (or remove the link); the rule suggests the next candidate.
    Reject {
        #[command(flatten)]
        client: ClientArgs,
        id: String,
        #[arg(long)]
        comment: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Sign a checkpoint of the ledger now.
    Checkpoint {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Recompute the whole Merkle tree from the stored events and check every signed checkpoint;
    /// with --bundle, verify an exported bundle offline (no database). Exits 1 and names the
    /// first bad index when anything fails.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// A directory written by `changegate audit export`.
        #[arg(long, value_name = "DIR", requires = "public_key")]
        bundle: Option<PathBuf>,
        /// The verifier key to trust (the text `name+id+key`, or a file holding it).
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
    },
    /// Print an inclusion proof of one ledger entry.
    Prove {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// Leaf index (event sequence - 1).
        #[arg(long)]
        index: u64,
        /// Tree size to prove against (default: the newest checkpoint, else the whole log).
        #[arg(long)]
        tree_size: Option<u64>,
    },
    /// Write an offline-verifiable bundle: entries.jsonl, checkpoint, public-key.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// Output directory (created).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the default policy that ships in the binary.
    Show {
        /// Include its Rego tests.
        #[arg(long)]
        with_tests: bool,
    },
    /// Evaluate a policy against an input document (see docs/policy.md for its fields).
    Eval {
        /// The policy input as JSON.
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// A .rego file or a directory of them (default: the built-in policy).
        #[arg(long, value_name = "PATH")]
        policy: Option<PathBuf>,
        /// Give up (and refuse) after this long.
        #[arg(long, default_value_t = 500)]
        time_limit_ms: u64,
    },
    /// Run the `test_*` rules of a policy directory, like `opa test`; exits 1 when any fails.
    Test {
        /// Directory of .rego files (policies and their tests).
        directory: PathBuf,
    },
    /// Show the policy in force on the server (the default, or the last one set).
    Current {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List the policy versions set on the server, oldest first (each is a ledger event).
    Versions {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Put a new policy version in force on the server (admin or security). The files must parse,
    /// declare `data.changegate.decision`, and pass their own `test_*` rules; the version is a
    /// ledger event and every later decision records its SHA-256.
    ///
    /// Example: changegate policy set --file policies/ --comment "CAB for tier 1 during Q4"
    Set {
        #[command(flatten)]
        client: ClientArgs,
        /// A .rego file or a directory of them; repeat for several.
        #[arg(long, required = true, value_name = "PATH")]
        file: Vec<PathBuf>,
        /// Why this version (kept with it in the ledger).
        #[arg(long, short = 'm')]
        comment: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// List the standard-change templates.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Define or redefine a standard-change template (admin or cab). Changes made from an approved
    /// template are standard changes; the default policy auto-approves them at low risk outside
    /// freezes.
    ///
    /// Example: changegate template add --name restart-pod --services catalog,search --environments production,staging
    Add {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Services it covers (comma-separated). With no --services and no --teams: every service.
        #[arg(long, value_delimiter = ',')]
        services: Vec<String>,
        /// Teams whose services it covers (comma-separated).
        #[arg(long, value_delimiter = ',')]
        teams: Vec<String>,
        /// Environments it may be used in (comma-separated; default all).
        #[arg(long, value_delimiter = ',')]
        environments: Vec<String>,
        /// Highest risk class a change from it may have and stay standard.
        #[arg(long, default_value = "low", value_parser = ["low", "medium", "high", "critical"])]
        max_risk: String,
        /// Define it as retired (not approved): changes from it are denied.
        #[arg(long)]
        retired: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Show freeze and maintenance windows and the planned changes over a span (default: the
    /// next 31 days).
    Show {
        #[command(flatten)]
        client: ClientArgs,
        /// RFC 3339 start, e.g. 2026-12-01T00:00:00Z.
        #[arg(long)]
        from: Option<String>,
        /// RFC 3339 end (exclusive; at most 400 days after --from).
        #[arg(long)]
        to: Option<String>,
    },
    /// List the window definitions.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Define or redefine a freeze or maintenance window (admin or cab). One-off with --start and
    /// --end (holidays, launches), or recurring with an RRULE (or `cron:` expression), a time
    /// zone and a duration. See docs/calendar.md.
    ///
    /// Examples:
    ///   changegate calendar add --name year-end --kind freeze --start 2026-12-20T00:00:00Z --end 2027-01-04T00:00:00Z
    ///   changegate calendar add --name shop-weekly --kind maintenance --team shop \
    ///     --rule 'DTSTART:20261107T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA' --time-zone Europe/Berlin --duration-minutes 240
    Add {
        #[command(flatten)]
        client: ClientArgs,
        /// The whole window as a JSON file instead of the flags below.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["name", "start", "end", "rule"])]
        file: Option<PathBuf>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "freeze", value_parser = ["freeze", "maintenance"])]
        kind: String,
        /// Only this team's services (default: every service).
        #[arg(long)]
        team: Option<String>,
        /// Only this service.
        #[arg(long)]
        service: Option<String>,
        /// One-off start, RFC 3339.
        #[arg(long)]
        start: Option<String>,
        /// One-off end (exclusive), RFC 3339.
        #[arg(long)]
        end: Option<String>,
        /// Recurrence: DTSTART + RRULE (a literal `\n` separates the lines) or `cron:MIN HOUR DOM MON DOW`.
        #[arg(long)]
        rule: Option<String>,
        /// IANA time zone of a recurring window's wall-clock times.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// Length of each occurrence of a recurring window.
        #[arg(long, default_value_t = 240)]
        duration_minutes: u32,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Remove a window (admin or cab).
    Remove {
        #[command(flatten)]
        client: ClientArgs,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// Measure the model on a just-in-time defect-prediction CSV: sort by commit date, train on
    /// the first part, test on the rest; print ROC AUC, Brier score, sizes and timings.
    Benchmark {
        /// The CSV (the 14 Kamei metrics and `bug`; any of the spellings in docs and
        /// shared/data/README.md; a `commitdate` string or a Unix `date` column).
        #[arg(long, value_name = "FILE")]
        csv: PathBuf,
        /// Share of the rows, oldest first, to train on.
        #[arg(long, default_value_t = 0.8)]
        train_fraction: f64,
    },
    /// Compute the 14 just-in-time change metrics (Kamei et al. 2013) of every commit of a git
    /// range: the model's input, from a real repository.
    #[command(long_about = RISK_FEATURES_LONG_ABOUT)]
    Features {
        /// The git repository: its work tree or its .git directory.
        #[arg(long, value_name = "PATH")]
        repo: PathBuf,
        /// `A..B` (commits reachable from B but not from A; an empty side means HEAD), or one
        /// revision such as HEAD or main (its whole history).
        #[arg(long, value_name = "RANGE")]
        range: String,
        /// Print CSV (header `commit_id,date,ns,…,sexp`) instead of a table.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// Train the predictive model on this installation's own history (opens the store directly;
    /// run it where the store is). Every finished change is a row, labelled failed when it failed,
    /// was rolled back or caused an incident; the newest 20 % measure the model (ROC AUC, Brier
    /// score, calibration), then it is refitted on all rows, recorded in the ledger and used for
    /// every later assessment. Older models are kept for audit.
    Train {
        #[command(flatten)]
        store: StoreArgs,
        /// Boosting rounds.
        #[arg(long, default_value_t = 200)]
        iterations: usize,
    },
    /// Explain one change's risk: its factor score, and the model's probability with each
    /// feature's contribution to the log-odds (largest first).
    Score {
        #[command(flatten)]
        client: ClientArgs,
        /// The change, e.g. CHG-000042.
        id: String,
    },
    /// List the trained models with their measured quality.
    Models {
        #[command(flatten)]
        client: ClientArgs,
    },
}

const COMPLY_LONG_ABOUT: &str = "\
Check the controls of PCI DSS v4.0 (6.5.1-6.5.6, 6.2.3), SOC 2 CC8.1, ISO/IEC 27001:2022 A.8.32,
NIST SP 800-53 rev5 (CM-3, CM-4, CM-5, AU-9, AU-10), HIPAA 164.312(b), GDPR Art. 30 and 32 and EU
DORA Art. 9(4)(e) with RTS 2024/1774 Art. 17 over the production changes started or deployed in a
period, and list each control as satisfied or not with the changes at fault. Control texts are
Changegate's paraphrases; docs/compliance.md defines every check.

The report comes from the server (auditor, admin or cab token); the bundle opens the store.

Examples:
  changegate comply --framework pci-dss --from 2026-07-01T00:00:00Z --to 2026-10-01T00:00:00Z
  changegate comply --json > compliance.json
  changegate comply --html compliance.html
  changegate comply bundle --out audit-2026-q3 --from 2026-07-01T00:00:00Z --to 2026-10-01T00:00:00Z
  changegate comply verify --bundle audit-2026-q3 --public-key 'changegate-…+…+…'";

const RISK_FEATURES_LONG_ABOUT: &str = "\
Compute the 14 just-in-time change metrics of Kamei et al. (2013) for every non-merge commit of a
git range, oldest first: the input of the risk model, from a real repository.

  size       ns subsystems (top-level directories), nd directories, nf files, entropy (normalised,
             0..1) of the modified lines over the files, la/ld lines added/deleted, lt lines of
             the files before the change (absolute counts; binary files count no lines)
  purpose    fix: the message has bug, fix, defect or patch (or fixes, fixed, bugfix, hotfix…) as a word
  history    ndev developers and nuc earlier commits that touched the files, age mean days since
             the files last changed
  experience exp the author's earlier commits, rexp the same weighted 1/(years ago + 1), sexp
             those in the subsystems touched

History and experience count the whole history reachable from the range's end, not only the range.
Renamed files keep their history. The exact formulas are in the changegate-gitmetrics crate docs.

Examples:
  changegate risk features --repo . --range origin/main..HEAD
  changegate risk features --repo . --range HEAD --csv > features.csv
      (add a 0/1 `bug` column, and `changegate risk benchmark --csv features.csv` reads it)";
