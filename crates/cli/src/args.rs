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
    /// Open, list and resolve incidents.
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
    /// Approval policies as code (Rego): show the default, evaluate, test.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Gate a pipeline on change approval: create, submit, wait; exit 0 approved, 3 rejected, 4 waiting.
    #[command(long_about = crate::gate::GATE_LONG_ABOUT)]
    Gate(crate::gate::GateArgs),
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
    /// Open an incident.
    Open {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        title: String,
        #[arg(long)]
        service: String,
        /// sev1 (worst) to sev4.
        #[arg(long)]
        severity: String,
        /// The change that caused it, e.g. CHG-000042.
        #[arg(long)]
        caused_by: Option<String>,
        /// When it was detected (RFC 3339; default now).
        #[arg(long)]
        detected_at: Option<String>,
    },
    /// List incidents, newest first.
    List {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long, default_value_t = 50)]
        limit: u32,
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
