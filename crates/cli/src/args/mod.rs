//! The command line, as close to the flags as possible. `lib.rs` turns it into actions.
//!
//! The definition is split by command group, one file each, and every file here is a leaf: it
//! imports nothing from the modules that run the commands. Data flows one way, from these types
//! into the command modules (and the HTTP client, which takes [`ClientArgs`]), never back.

mod audit;
mod change;
mod gate;
mod governance;
mod history;
mod incident;
mod organisation;
mod risk;
mod shared;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use audit::{AuditCommand, ComplianceScopeArgs, ComplyArgs, ComplyCommand};
pub use change::{ActionArgs, ChangeCommand, NewChangeArgs};
pub use gate::{ChangeTypeArgument, GateArgs, OutcomeArgument};
pub use governance::{AlertsCommand, CalendarCommand, PolicyCommand, TemplateCommand};
pub use history::{AssessArgs, ImportArgs};
pub use incident::IncidentCommand;
pub use organisation::{ServiceCommand, UserCommand};
pub use risk::RiskCommand;
pub use shared::{AlertArgs, ClientArgs, KeyArgs, StoreArgs};

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
    #[command(long_about = gate::GATE_LONG_ABOUT)]
    Gate(GateArgs),
    /// Compliance: controls of PCI DSS, SOC 2, ISO 27001, NIST 800-53, HIPAA, GDPR and DORA checked
    /// over the changes of a period; `comply bundle` writes the auditor's evidence bundle.
    #[command(long_about = audit::COMPLY_LONG_ABOUT)]
    Comply(ComplyArgs),
    /// Assess change-management maturity: a CMMI level (1 to 5) per dimension with the evidence
    /// behind it, the overall level, a roadmap to the next level, and the trend.
    #[command(long_about = history::ASSESS_LONG_ABOUT)]
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
