//! Arguments of the commands that work on a whole history of changes in the store: `assess` (the
//! maturity assessment) and `import` (another system's history from CSV).

use std::path::PathBuf;

use clap::Args;

use super::shared::StoreArgs;

pub(super) const ASSESS_LONG_ABOUT: &str = "\
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
