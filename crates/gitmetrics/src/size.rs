//! The size and diffusion metrics of one commit (`ns`, `nd`, `nf`, `entropy`, `la`, `ld`, `lt`)
//! from the list of files it touched. Pure: the line counts come from the `diff` module, so the
//! formulas are tested here on plain values.

use std::collections::HashSet;

/// How a commit touched a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The file is new.
    Added,
    /// The file was removed.
    Deleted,
    /// The file's content or mode changed.
    Modified,
    /// The file moved from [`FileChange::previous_path`] (possibly with edits).
    Renamed,
}

/// One file touched by a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path after the change, `/`-separated from the repository root (for a deletion: the removed
    /// path).
    pub path: String,
    /// For a rename: the path before it.
    pub previous_path: Option<String>,
    /// How the file was touched.
    pub kind: ChangeKind,
    /// Lines added (0 when binary or not counted).
    pub lines_added: u64,
    /// Lines deleted (0 when binary or not counted).
    pub lines_deleted: u64,
    /// Lines of the file before the change (0 when new, binary or not counted).
    pub lines_before: u64,
}

impl FileChange {
    /// The path under which the file's earlier history is kept.
    pub fn path_before(&self) -> &str {
        self.previous_path.as_deref().unwrap_or(&self.path)
    }
}

/// The size and diffusion metrics of one commit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeMetrics {
    /// Distinct subsystems (top-level directories; the root counts as one).
    pub ns: u32,
    /// Distinct directories.
    pub nd: u32,
    /// Files touched.
    pub nf: u32,
    /// Normalised Shannon entropy of the modified lines over the files, in `[0, 1]`.
    pub entropy: f64,
    /// Lines added.
    pub la: f64,
    /// Lines deleted.
    pub ld: f64,
    /// Lines of the touched files before the change.
    pub lt: f64,
}

/// The subsystem of a path: its first component, or `""` for a file at the root.
pub fn subsystem_of(path: &str) -> &str {
    path.split_once('/').map_or("", |(first, _)| first)
}

/// The directory of a path: everything before the last `/`, or `""` for a file at the root.
pub fn directory_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(directory, _)| directory)
}

/// The size metrics of a commit that touched `files`. Both sides of a rename count for `ns` and
/// `nd` (both directories changed); a rename is one file for `nf`.
pub fn size_metrics(files: &[FileChange]) -> SizeMetrics {
    let mut subsystems: HashSet<&str> = HashSet::new();
    let mut directories: HashSet<&str> = HashSet::new();
    for file in files {
        for path in std::iter::once(file.path.as_str()).chain(file.previous_path.as_deref()) {
            subsystems.insert(subsystem_of(path));
            directories.insert(directory_of(path));
        }
    }
    let sum = |line_count: fn(&FileChange) -> u64| files.iter().map(line_count).sum::<u64>() as f64;
    SizeMetrics {
        ns: count(subsystems.len()),
        nd: count(directories.len()),
        nf: count(files.len()),
        entropy: entropy(files.iter().map(|file| file.lines_added + file.lines_deleted)),
        la: sum(|file| file.lines_added),
        ld: sum(|file| file.lines_deleted),
        lt: sum(|file| file.lines_before),
    }
}

/// Normalised entropy of modified lines: `H = −Σ pₖ·log₂ pₖ / log₂ n` over the `n` files with at
/// least one modified line, `pₖ` = the file's share of the modified lines; 0 when `n ≤ 1`.
pub fn entropy(modified_lines_per_file: impl Iterator<Item = u64>) -> f64 {
    let counts: Vec<u64> = modified_lines_per_file.filter(|&lines| lines > 0).collect();
    if counts.len() <= 1 {
        return 0.0;
    }
    let total = counts.iter().sum::<u64>() as f64;
    let bits: f64 = counts
        .iter()
        .map(|&lines| {
            let share = lines as f64 / total;
            -share * share.log2()
        })
        .sum();
    bits / (counts.len() as f64).log2()
}

fn count(length: usize) -> u32 {
    u32::try_from(length).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, added: u64, deleted: u64, before: u64) -> FileChange {
        FileChange {
            path: path.into(),
            previous_path: None,
            kind: ChangeKind::Modified,
            lines_added: added,
            lines_deleted: deleted,
            lines_before: before,
        }
    }

    #[test]
    fn paths() {
        assert_eq!((subsystem_of("a/b/c.rs"), directory_of("a/b/c.rs")), ("a", "a/b"));
        assert_eq!((subsystem_of("README"), directory_of("README")), ("", ""));
    }

    #[test]
    fn entropy_is_normalised() {
        assert_eq!(entropy([5].into_iter()), 0.0);
        assert_eq!(entropy([3, 3].into_iter()), 1.0);
        assert_eq!(entropy([1, 1, 1, 1].into_iter()), 1.0);
        // p = (3/4, 1/4): H = 0.8113 bits, log₂ 2 = 1.
        let skewed = -(0.75f64 * 0.75f64.log2() + 0.25 * 0.25f64.log2());
        assert!((entropy([3, 1, 0].into_iter()) - skewed).abs() < 1e-12);
    }

    #[test]
    fn sizes_count_both_sides_of_a_rename() {
        let renamed = FileChange {
            previous_path: Some("a/old.txt".into()),
            kind: ChangeKind::Renamed,
            ..file("b/c/new.txt", 1, 0, 4)
        };
        let metrics = size_metrics(&[renamed, file("README", 2, 1, 10)]);
        assert_eq!((metrics.ns, metrics.nd, metrics.nf), (3, 3, 2));
        assert_eq!((metrics.la, metrics.ld, metrics.lt), (3.0, 1.0, 14.0));
    }
}
