//! Arguments of `change`: creating a change and moving it through its lifecycle, one action at a
//! time (the pipeline's all-in-one door is `gate`, in [`super::gate`]).

use clap::{Args, Subcommand};

use super::shared::ClientArgs;

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
