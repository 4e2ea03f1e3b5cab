//! Arguments of the commands that describe the organisation the changes happen in: `user` and
//! `service` (with the service's automated rollback hook).

use clap::Subcommand;

use super::shared::{ClientArgs, StoreArgs};

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
