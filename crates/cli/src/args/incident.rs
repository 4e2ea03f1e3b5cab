//! Arguments of `incident`: opening incidents and linking them to the change that caused them,
//! which is what the change failure rate counts.

use clap::Subcommand;

use super::shared::ClientArgs;

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
