//! Arguments of the commands that set the rules changes are held to: `policy` (approval policies
//! as code), `template` (standard changes), `calendar` (freeze and maintenance windows) and
//! `alerts` (alert rules and their firings).

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::ClientArgs;

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
