//! The files one commit touched, with line counts: a tree diff of the commit against its parent
//! (gitoxide), with rename detection, and a line diff of each text file. This is the only module
//! that reads trees and blobs.
//!
//! Rename detection is fixed here rather than read from the repository's configuration, so the
//! metrics do not depend on a user's `diff.renames`: renames only (no copies), at least 50 %
//! similar content (git's default), at most [`RENAME_CANDIDATES_MAX`] candidates per side.
//! Line counts use the Myers algorithm (git's default), on blobs as stored in git; a blob is
//! binary (no line counts) when git attributes say so, when it holds a NUL byte in its first
//! 8000 bytes (git's rule), or when it is larger than [`crate::Limits::blob_size_max_bytes`].
//! Only blobs and symbolic links are files; directories and submodules are not counted.

use gix::ObjectId;
use gix::diff::blob::Algorithm;
use gix::object::tree::diff::{Action, Change};

use crate::Limits;
use crate::size::{ChangeKind, FileChange};

/// Most deleted and added files compared with each other to find renames in one commit (git's
/// `diff.renameLimit` default is 1000).
pub const RENAME_CANDIDATES_MAX: usize = 1000;

/// Why a commit's changes could not be listed.
#[derive(Debug)]
pub enum DiffError {
    /// More files than [`Limits::files_per_commit_max`].
    TooManyFiles,
    /// Reading objects or diffing failed.
    Git(gix::Error),
}

/// Diffs commits of one repository, reusing its blob caches.
pub struct Differ<'repository> {
    repository: &'repository gix::Repository,
    /// Blobs compared for rename detection.
    rename_cache: gix::diff::blob::Platform,
    /// Blobs compared for line counts.
    line_cache: gix::diff::blob::Platform,
    files_per_commit_max: usize,
}

impl<'repository> Differ<'repository> {
    /// Prepare to diff commits of `repository` within `limits`.
    pub fn new(repository: &'repository gix::Repository, limits: &Limits) -> Result<Self, gix::Error> {
        let prepare = || -> Result<gix::diff::blob::Platform, gix::Error> {
            let mut cache = repository.diff_resource_cache_for_tree_diff()?;
            cache.filter.options.large_file_threshold_bytes = limits.blob_size_max_bytes.max(1);
            cache.options.algorithm = Some(Algorithm::Myers);
            Ok(cache)
        };
        Ok(Self {
            repository,
            rename_cache: prepare()?,
            line_cache: prepare()?,
            files_per_commit_max: limits.files_per_commit_max,
        })
    }

    /// The files changed from `parent_tree` (the empty tree for a root commit) to `tree`, with
    /// line counts when `count_lines` (history-only commits need only the paths).
    pub fn changes(
        &mut self,
        parent_tree: Option<ObjectId>,
        tree: ObjectId,
        count_lines: bool,
    ) -> Result<Vec<FileChange>, DiffError> {
        let old_tree = match parent_tree {
            Some(id) => self.repository.find_tree(id).map_err(DiffError::Git)?,
            None => self.repository.empty_tree(),
        };
        let new_tree = self.repository.find_tree(tree).map_err(DiffError::Git)?;
        let rewrites = gix::diff::Rewrites {
            copies: None,
            percentage: Some(0.5),
            limit: RENAME_CANDIDATES_MAX,
            track_empty: false,
        };
        let mut files = Vec::new();
        let mut too_many = false;
        let line_cache = &mut self.line_cache;
        let files_per_commit_max = self.files_per_commit_max;
        let mut platform = old_tree.changes().map_err(DiffError::Git)?;
        platform.options(|options| {
            options.track_path().track_rewrites(Some(rewrites));
        });
        self.rename_cache.clear_resource_cache_keep_allocation();
        platform
            .for_each_to_obtain_tree_with_cache(&new_tree, &mut self.rename_cache, |change| {
                let Some((path, previous_path, kind)) = describe(&change) else {
                    return Ok(Action::Continue(()));
                };
                if files.len() >= files_per_commit_max {
                    too_many = true;
                    return Ok(Action::Break(()));
                }
                let mut file =
                    FileChange { path, previous_path, kind, lines_added: 0, lines_deleted: 0, lines_before: 0 };
                if count_lines {
                    let counts = change.diff(line_cache)?.line_counts()?;
                    if let Some(counts) = counts {
                        file.lines_added = u64::from(counts.insertions);
                        file.lines_deleted = u64::from(counts.removals);
                        file.lines_before = counts.before as u64;
                    }
                    line_cache.clear_resource_cache_keep_allocation();
                }
                files.push(file);
                Ok(Action::Continue(()))
            })
            .map_err(DiffError::Git)?;
        if too_many {
            return Err(DiffError::TooManyFiles);
        }
        Ok(files)
    }
}

/// The path, previous path and kind of a change to a file; `None` for directories and submodules.
fn describe(change: &Change<'_, '_, '_>) -> Option<(String, Option<String>, ChangeKind)> {
    let text = |path: &gix::bstr::BStr| String::from_utf8_lossy(path).into_owned();
    match *change {
        Change::Addition { location, entry_mode, .. } => {
            entry_mode.is_blob_or_symlink().then(|| (text(location), None, ChangeKind::Added))
        }
        Change::Deletion { location, entry_mode, .. } => {
            entry_mode.is_blob_or_symlink().then(|| (text(location), None, ChangeKind::Deleted))
        }
        Change::Modification { location, entry_mode, .. } => {
            entry_mode.is_blob_or_symlink().then(|| (text(location), None, ChangeKind::Modified))
        }
        Change::Rewrite { source_location, location, entry_mode, .. } => {
            entry_mode.is_blob_or_symlink().then(|| (text(location), Some(text(source_location)), ChangeKind::Renamed))
        }
    }
}
