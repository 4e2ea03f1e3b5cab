//! Arguments of `risk`: the predictive risk model (benchmark, train, score, list) and the
//! just-in-time metrics of a git range it learns from.

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::{ClientArgs, StoreArgs};

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
