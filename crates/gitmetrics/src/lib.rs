//! Changegate's just-in-time (JIT) change metrics, computed per commit from a git repository: the
//! 14 metrics of Kamei et al. (2013, "A large-scale empirical study of just-in-time quality
//! assurance", IEEE TSE) that `changegate-risk` trains on, so that a real repository's commits can
//! be scored (and, once labelled, trained on). It owns the metric definitions; git access is
//! gitoxide (`gix`, pure Rust).
//!
//! [`commit_metrics`]`(repository, range, limits)` returns one [`CommitMetrics`] per non-merge
//! commit of the range, oldest first. `range` is `A..B` (the commits reachable from `B` and not
//! from `A`; an empty side means `HEAD`) or one revision (its whole history).
//!
//! - [`size`]: `ns`, `nd`, `nf`, `entropy`, `la`, `ld`, `lt` from the files one commit touched.
//! - [`history`]: `ndev`, `age`, `nuc`, `exp`, `rexp`, `sexp` from the commits before it.
//! - [`fix`](mod@fix): the `fix` keyword rule.
//! - `diff`: the tree and line diff of one commit (gix). `walk`: range, history, order.
//!
//! # Definitions
//!
//! Notation: the commit `c` touches the files `F` (added, deleted, modified or renamed; a rename
//! is one file, seen at both its old and new path); "earlier" means the non-merge commits placed
//! before `c` in the order below, over the **whole history reachable from the range's tip** (not
//! only the range). Paths are `/`-separated from the repository root.
//!
//! | metric | definition |
//! | --- | --- |
//! | `ns` | distinct subsystems of `F` — a subsystem is a path's first component (top-level directory); files at the root form the subsystem `""` |
//! | `nd` | distinct directories of `F` (a path without its file name; `""` for the root) |
//! | `nf` | the number of files in `F` |
//! | `entropy` | `−Σ pₖ·log₂ pₖ / log₂ n` over the `n` files with modified lines, `pₖ` = (added + deleted lines of file `k`) / (added + deleted lines of `c`); 0 when `n ≤ 1` |
//! | `la`, `ld` | lines added, deleted (absolute counts, summed over `F`) |
//! | `lt` | lines of the files of `F` before the change (0 for an added file; absolute, summed) |
//! | `fix` | the message contains a fix keyword as a whole word (see [`fix`](mod@fix)) |
//! | `ndev` | distinct developers of the earlier commits that touched a file of `F` |
//! | `age` | mean over the files of `F` with an earlier change of (time of `c` − time of that file's last earlier change), in days; 0 when no file has one |
//! | `nuc` | distinct earlier commits that touched a file of `F` |
//! | `exp` | earlier commits by the author of `c` |
//! | `rexp` | `Σ 1 / (n + 1)` over the earlier commits of the author, `n` = whole years (365.25 days) between that commit and `c` |
//! | `sexp` | earlier commits by the author that touched at least one subsystem of `c` |
//!
//! Choices, where the paper leaves room:
//! - **Entropy is normalised** (divided by its maximum `log₂ n`), as in Kamei's paper and in his
//!   four published files (bugzilla, columba, jdt, postgres: entropy ≤ 1). The 17 Apache files in
//!   `shared/data/jit` hold another, unnormalised value (up to 11.9, also for one-file changes).
//! - **Line counts are absolute**, not divided by `lt` / `nf` as in Kamei's files;
//!   `changegate_risk::jit` detects absolute files and converts them to its normalised scale.
//! - **Earlier changes only**: `ndev`, `nuc`, `exp`, `rexp` and `sexp` count strictly earlier
//!   commits (shared/data/README.md: "developers who touched the files before", "unique earlier
//!   changes"). Kamei's four files never go below 1 in `ndev`, `nuc` and `exp`, which suggests his
//!   tool also counted the commit itself; a commit's first-ever change therefore reads 0 here.
//! - **Lines**: counted with the Myers diff on blobs as stored in git. Binary files (git
//!   attributes, a NUL byte in the first 8000 bytes, or above [`Limits::blob_size_max_bytes`])
//!   count as files but contribute no lines. Directories and submodules are not files.
//! - **Renames** are detected at ≥ 50 % similarity (no copies). A renamed file keeps its history
//!   (`ndev`, `nuc`, `age` follow it to the new path); both its old and new directories and
//!   subsystems count in `nd`, `ns` and `sexp`. A deleted file's history ends: a file later added at
//!   the same path starts anew.
//! - **Developer** = the lower-cased author e-mail (the name when the e-mail is empty); no mailmap.
//! - **Time** = the committer time (when the change entered the history); time differences below
//!   zero (clock skew, rebases) count as zero.
//! - **Merge commits** (two or more parents) are neither measured nor part of the history: their
//!   changes are the changes of the commits they merge, which are measured themselves.
//! - **Shallow clones**: the history starts at the shallow boundary; its commits read as root
//!   commits (everything they hold counts as added), as `git log` shows them. Fetch the history
//!   (`git fetch --unshallow`) for history metrics that reach back further.
//! - **Order**: topological, parents first, the oldest committer time first among commits that are
//!   ready. With parallel branches, "earlier" is this order (as with `git log --reverse` in the
//!   usual tools), so a commit of a sibling branch placed before `c` counts as earlier.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

mod diff;
pub mod fix;
pub mod history;
pub mod size;
mod walk;

pub use fix::{FIX_WORDS, is_fix};

/// Limits on the work one call may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most commits read: the whole history reachable from the range's tip (merges included), and
    /// again for the `A` side of `A..B`. Over it the call fails with
    /// [`GitMetricsError::TooManyCommits`].
    pub commits_max: usize,
    /// Most files one commit may touch (every commit of the history, not only the range). Over
    /// it the call fails with [`GitMetricsError::TooManyFiles`].
    pub files_per_commit_max: usize,
    /// Blobs larger than this count as binary: no lines counted.
    pub blob_size_max_bytes: u64,
    /// Only the first this many bytes of a commit message are searched for fix keywords.
    pub message_size_max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            commits_max: 100_000,
            files_per_commit_max: 50_000,
            blob_size_max_bytes: 8 * 1024 * 1024,
            message_size_max_bytes: 64 * 1024,
        }
    }
}

/// The 14 JIT metrics of one commit (see the crate docs for the definitions). JSON keys are the
/// field names: the metric names of Kamei et al.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitMetrics {
    /// Full commit id (hex).
    pub commit: String,
    /// Author name.
    pub author: String,
    /// Committer time, Unix seconds.
    pub time: i64,
    /// Subsystems touched.
    pub ns: u32,
    /// Directories touched.
    pub nd: u32,
    /// Files touched.
    pub nf: u32,
    /// Normalised entropy of the modified lines over the files, in `[0, 1]`.
    pub entropy: f64,
    /// Lines added (absolute).
    pub la: f64,
    /// Lines deleted (absolute).
    pub ld: f64,
    /// Lines in the touched files before the change (absolute).
    pub lt: f64,
    /// The message marks a defect fix.
    pub fix: bool,
    /// Developers who changed the touched files before.
    pub ndev: f64,
    /// Mean days since the touched files last changed.
    pub age: f64,
    /// Earlier commits that changed the touched files.
    pub nuc: f64,
    /// The author's earlier commits.
    pub exp: f64,
    /// The author's earlier commits weighted by `1 / (whole years ago + 1)`.
    pub rexp: f64,
    /// The author's earlier commits in the subsystems touched.
    pub sexp: f64,
}

/// Why the metrics could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum GitMetricsError {
    /// The path is not a git repository (or cannot be read).
    #[error("{} is not a git repository: {source}", path.display())]
    NotARepository {
        path: PathBuf,
        #[source]
        source: Box<gix::Error>,
    },
    /// The range does not parse or does not name commits.
    #[error("bad range `{range}`: {reason}")]
    BadRange { range: String, reason: String },
    /// The history is larger than [`Limits::commits_max`].
    #[error("the history holds more than {limit} commits (Limits::commits_max)")]
    TooManyCommits { limit: usize },
    /// A commit touches more files than [`Limits::files_per_commit_max`].
    #[error("commit {commit} touches more than {limit} files (Limits::files_per_commit_max)")]
    TooManyFiles { commit: String, limit: usize },
    /// Reading an object or diffing failed.
    #[error("reading {what}: {source}")]
    Git {
        what: String,
        #[source]
        source: Box<gix::Error>,
    },
}

/// Object cache of the repository handle, so that trees shared by consecutive commits are read
/// once.
const OBJECT_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// The JIT metrics of every non-merge commit of `range` in `repository`, oldest first (see the
/// crate docs for the range syntax, the order and the definitions).
pub fn commit_metrics(repository: &Path, range: &str, limits: &Limits) -> Result<Vec<CommitMetrics>, GitMetricsError> {
    let mut repo = gix::open(repository)
        .map_err(|error| GitMetricsError::NotARepository { path: repository.to_owned(), source: Box::new(error) })?;
    repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);

    let selection = walk::resolve_range(&repo, range)?;
    let shallow = walk::shallow_boundary(&repo)?;
    let nodes = walk::read_history(&repo, selection.tip, &shallow, limits.commits_max, limits.message_size_max_bytes)?;
    let excluded = match selection.excluded_tip {
        Some(excluded_tip) => walk::reachable(&repo, excluded_tip, &nodes, &shallow, limits.commits_max)?,
        None => HashSet::new(),
    };
    let order = walk::topological_order(&nodes);

    let mut differ = diff::Differ::new(&repo, limits)
        .map_err(|error| GitMetricsError::Git { what: "diff settings".into(), source: Box::new(error) })?;
    let mut history = history::History::new();
    let mut out = Vec::new();
    for id in order {
        let node = &nodes[&id];
        let parent_tree = match node.parents.as_slice() {
            [] => None,
            [parent] => Some(nodes[parent].tree),
            _ => continue, // a merge: see the crate docs
        };
        measure_commit(&mut differ, &mut history, node, parent_tree, !excluded.contains(&id), limits, &mut out)?;
    }
    Ok(out)
}

/// Diff one commit, measure it when `in_range`, and add it to the history.
fn measure_commit(
    differ: &mut diff::Differ<'_>,
    history: &mut history::History,
    node: &walk::CommitNode,
    parent_tree: Option<gix::ObjectId>,
    in_range: bool,
    limits: &Limits,
    out: &mut Vec<CommitMetrics>,
) -> Result<(), GitMetricsError> {
    let files = differ.changes(parent_tree, node.tree, in_range).map_err(|error| match error {
        diff::DiffError::TooManyFiles => {
            GitMetricsError::TooManyFiles { commit: node.id.to_string(), limit: limits.files_per_commit_max }
        }
        diff::DiffError::Git(source) => {
            GitMetricsError::Git { what: format!("the changes of commit {}", node.id), source: Box::new(source) }
        }
    })?;
    let facts = history::CommitFacts { developer: &node.developer, time_unix_s: node.time_unix_s, files: &files };
    if in_range {
        let sizes = size::size_metrics(&files);
        let experience = history.measure(&facts);
        out.push(CommitMetrics {
            commit: node.id.to_string(),
            author: node.author_name.clone(),
            time: node.time_unix_s,
            ns: sizes.ns,
            nd: sizes.nd,
            nf: sizes.nf,
            entropy: sizes.entropy,
            la: sizes.la,
            ld: sizes.ld,
            lt: sizes.lt,
            fix: node.fix,
            ndev: experience.ndev,
            age: experience.age,
            nuc: experience.nuc,
            exp: experience.exp,
            rexp: experience.rexp,
            sexp: experience.sexp,
        });
    }
    history.record(&facts);
    Ok(())
}
