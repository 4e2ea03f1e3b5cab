//! Arguments of the commands that prove what happened: `audit` (the tamper-evident ledger) and
//! `comply` (compliance reports and the auditor's evidence bundle, which reuses the ledger export).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::shared::{ClientArgs, KeyArgs, StoreArgs};

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

pub(super) const COMPLY_LONG_ABOUT: &str = "\
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
