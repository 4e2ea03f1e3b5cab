//! The option groups many commands flatten in: where the store is, the ledger signing key, the
//! alert settings of `serve`, and how to reach a running server. They sit in a leaf module that
//! imports nothing from the rest of the CLI, so that the HTTP client and every command module can
//! depend on them without depending on the command tree.

use std::path::PathBuf;

use clap::Args;

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
