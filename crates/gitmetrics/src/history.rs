//! The history state behind the history and experience metrics (`ndev`, `age`, `nuc`, `exp`,
//! `rexp`, `sexp`): for every file path, who changed it, which commits changed it and when it last
//! changed; for every developer, when they committed and in which subsystems. It owns no git
//! access, so the formulas are tested here on plain values.
//!
//! Commits are fed oldest first: [`History::measure`] computes a commit's metrics from everything
//! recorded so far (strictly earlier changes), then [`History::record`] adds the commit.

use std::collections::{HashMap, HashSet};

use crate::size::{ChangeKind, FileChange, subsystem_of};

/// Seconds in a day, for `age`.
pub const SECONDS_PER_DAY: f64 = 86_400.0;

/// Seconds in a year (a Julian year of 365.25 days), for the age of a change in `rexp`.
pub const SECONDS_PER_YEAR: i64 = 31_557_600;

/// The history and experience metrics of one commit, measured against strictly earlier commits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryMetrics {
    /// Distinct developers who changed any of the modified files before.
    pub ndev: f64,
    /// Mean days since the last change of each modified file that has an earlier change.
    pub age: f64,
    /// Distinct earlier commits that changed any of the modified files.
    pub nuc: f64,
    /// Earlier commits of the author.
    pub exp: f64,
    /// Earlier commits of the author, each weighted by `1 / (n + 1)`, `n` its age in whole years.
    pub rexp: f64,
    /// Earlier commits of the author that touched at least one subsystem this commit touches.
    pub sexp: f64,
}

/// What the history knows of one file path.
#[derive(Debug, Clone, Default)]
struct FileHistory {
    /// Commit time of the last change, Unix seconds.
    last_change_unix_s: i64,
    /// Developer ids of everyone who changed the file (each once).
    developers: Vec<u32>,
    /// Ordinals of the commits that changed the file (each once, ascending).
    commits: Vec<u32>,
}

/// The accumulated history of the commits recorded so far.
#[derive(Debug, Default)]
pub struct History {
    /// Per file path.
    files: HashMap<String, FileHistory>,
    /// Developer identity → developer id.
    developer_ids: HashMap<String, u32>,
    /// Per developer id: commit times (Unix seconds) of their recorded commits.
    developer_commit_times: Vec<Vec<i64>>,
    /// Subsystem name → subsystem id.
    subsystem_ids: HashMap<String, u32>,
    /// (developer id, subsystem id) → ordinals of the developer's commits in that subsystem.
    developer_subsystem_commits: HashMap<(u32, u32), Vec<u32>>,
    /// Commits recorded so far; the next commit's ordinal.
    commits_recorded: u32,
    /// Per commit ordinal: the query generation that last counted it (distinct counting).
    commit_marks: Vec<u32>,
    /// Per developer id: the query generation that last counted them.
    developer_marks: Vec<u32>,
    /// Current query generation.
    generation: u32,
}

/// One commit as the history sees it.
#[derive(Debug, Clone, Copy)]
pub struct CommitFacts<'a> {
    /// Developer identity (see the crate docs: the lower-cased author e-mail).
    pub developer: &'a str,
    /// Commit time, Unix seconds.
    pub time_unix_s: i64,
    /// The files the commit touched.
    pub files: &'a [FileChange],
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The history metrics of `commit` against everything recorded so far. Does not record it.
    pub fn measure(&mut self, commit: &CommitFacts<'_>) -> HistoryMetrics {
        let generation = self.next_generation();
        let mut developers = 0u32;
        let mut commits = 0u32;
        let mut age_days_sum = 0.0;
        let mut files_with_history = 0u32;
        for file in commit.files {
            let Some(history) = self.files.get(file.path_before()) else { continue };
            files_with_history += 1;
            age_days_sum += (commit.time_unix_s - history.last_change_unix_s).max(0) as f64 / SECONDS_PER_DAY;
            for &developer in &history.developers {
                let mark = &mut self.developer_marks[developer as usize];
                if *mark != generation {
                    *mark = generation;
                    developers += 1;
                }
            }
            for &ordinal in &history.commits {
                let mark = &mut self.commit_marks[ordinal as usize];
                if *mark != generation {
                    *mark = generation;
                    commits += 1;
                }
            }
        }
        let age = if files_with_history == 0 { 0.0 } else { age_days_sum / f64::from(files_with_history) };

        let (mut exp, mut rexp, mut sexp) = (0.0, 0.0, 0u32);
        if let Some(&developer) = self.developer_ids.get(commit.developer) {
            let times = &self.developer_commit_times[developer as usize];
            exp = times.len() as f64;
            rexp = times
                .iter()
                .map(|&earlier| {
                    let whole_years = (commit.time_unix_s - earlier).max(0) / SECONDS_PER_YEAR;
                    1.0 / (whole_years as f64 + 1.0)
                })
                .sum();
            let generation = self.next_generation();
            for subsystem in subsystems(commit.files) {
                let Some(&subsystem_id) = self.subsystem_ids.get(subsystem) else { continue };
                let Some(ordinals) = self.developer_subsystem_commits.get(&(developer, subsystem_id)) else {
                    continue;
                };
                for &ordinal in ordinals {
                    let mark = &mut self.commit_marks[ordinal as usize];
                    if *mark != generation {
                        *mark = generation;
                        sexp += 1;
                    }
                }
            }
        }
        HistoryMetrics { ndev: f64::from(developers), age, nuc: f64::from(commits), exp, rexp, sexp: f64::from(sexp) }
    }

    /// Add `commit` to the history. A renamed file carries its history to its new path; a deleted
    /// file's history is dropped after this commit (a file later added at that path starts anew).
    pub fn record(&mut self, commit: &CommitFacts<'_>) {
        let ordinal = self.commits_recorded;
        self.commits_recorded += 1;
        self.commit_marks.push(0);
        let developer = self.developer_id(commit.developer);
        self.developer_commit_times[developer as usize].push(commit.time_unix_s);

        for file in commit.files {
            if file.kind == ChangeKind::Deleted {
                self.files.remove(&file.path);
                continue;
            }
            let mut history = match &file.previous_path {
                Some(previous) => self.files.remove(previous).unwrap_or_default(),
                None => self.files.remove(&file.path).unwrap_or_default(),
            };
            history.last_change_unix_s = commit.time_unix_s;
            if !history.developers.contains(&developer) {
                history.developers.push(developer);
            }
            if history.commits.last() != Some(&ordinal) {
                history.commits.push(ordinal);
            }
            self.files.insert(file.path.clone(), history);
        }

        for subsystem in subsystems(commit.files) {
            let next_id = self.subsystem_ids.len() as u32;
            let subsystem_id = *self.subsystem_ids.entry(subsystem.to_owned()).or_insert(next_id);
            let ordinals = self.developer_subsystem_commits.entry((developer, subsystem_id)).or_default();
            if ordinals.last() != Some(&ordinal) {
                ordinals.push(ordinal);
            }
        }
    }

    fn developer_id(&mut self, identity: &str) -> u32 {
        if let Some(&id) = self.developer_ids.get(identity) {
            return id;
        }
        let id = self.developer_commit_times.len() as u32;
        self.developer_ids.insert(identity.to_owned(), id);
        self.developer_commit_times.push(Vec::new());
        self.developer_marks.push(0);
        id
    }

    fn next_generation(&mut self) -> u32 {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped after 2^32 queries: clear the marks so no stale mark equals a new generation.
            self.commit_marks.fill(0);
            self.developer_marks.fill(0);
            self.generation = 1;
        }
        self.generation
    }
}

/// The distinct subsystems of the files (both sides of a rename).
fn subsystems(files: &[FileChange]) -> HashSet<&str> {
    files
        .iter()
        .flat_map(|file| std::iter::once(file.path.as_str()).chain(file.previous_path.as_deref()))
        .map(subsystem_of)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_S: i64 = 86_400;

    fn change(path: &str, kind: ChangeKind) -> FileChange {
        FileChange { path: path.into(), previous_path: None, kind, lines_added: 0, lines_deleted: 0, lines_before: 0 }
    }

    fn facts<'a>(developer: &'a str, time_unix_s: i64, files: &'a [FileChange]) -> CommitFacts<'a> {
        CommitFacts { developer, time_unix_s, files }
    }

    #[test]
    fn first_commit_has_no_history() {
        let mut history = History::new();
        let files = [change("a/x", ChangeKind::Added)];
        let metrics = history.measure(&facts("ann", 0, &files));
        assert_eq!(metrics, HistoryMetrics { ndev: 0.0, age: 0.0, nuc: 0.0, exp: 0.0, rexp: 0.0, sexp: 0.0 });
    }

    #[test]
    fn distinct_developers_and_commits_over_the_modified_files() {
        let mut history = History::new();
        // c0: ann adds a/x and b/y at day 0; c1: bob changes a/x at day 2; c2: ann changes b/y at day 4.
        history.record(&facts("ann", 0, &[change("a/x", ChangeKind::Added), change("b/y", ChangeKind::Added)]));
        history.record(&facts("bob", 2 * DAY_S, &[change("a/x", ChangeKind::Modified)]));
        history.record(&facts("ann", 4 * DAY_S, &[change("b/y", ChangeKind::Modified)]));
        // c3: bob changes both at day 10.
        let files = [change("a/x", ChangeKind::Modified), change("b/y", ChangeKind::Modified)];
        let metrics = history.measure(&facts("bob", 10 * DAY_S, &files));
        // ndev: {ann, bob}; nuc: {c0, c1, c2}; age: a/x last day 2 → 8 days, b/y last day 4 → 6 days, mean 7.
        // exp: bob's c1; rexp: 1/(0+1); sexp: bob's commits in a or b: c1.
        assert_eq!(metrics, HistoryMetrics { ndev: 2.0, age: 7.0, nuc: 3.0, exp: 1.0, rexp: 1.0, sexp: 1.0 });
    }

    #[test]
    fn recent_experience_weights_by_whole_years() {
        let mut history = History::new();
        let files = [change("x", ChangeKind::Modified)];
        history.record(&facts("ann", 0, &files));
        history.record(&facts("ann", SECONDS_PER_YEAR, &files));
        history.record(&facts("ann", 2 * SECONDS_PER_YEAR + 5, &files));
        let metrics = history.measure(&facts("ann", 3 * SECONDS_PER_YEAR, &files));
        // Ages: 3 years, 2 years, 1 year minus 5 s (0 whole years): 1/4 + 1/3 + 1/1.
        assert!((metrics.rexp - (0.25 + 1.0 / 3.0 + 1.0)).abs() < 1e-12, "{metrics:?}");
        assert_eq!(metrics.exp, 3.0);
    }

    #[test]
    fn renames_carry_history_and_deletions_drop_it() {
        let mut history = History::new();
        history.record(&facts("ann", 0, &[change("a/x", ChangeKind::Added)]));
        let rename = FileChange { previous_path: Some("a/x".into()), ..change("b/x", ChangeKind::Renamed) };
        history.record(&facts("bob", DAY_S, std::slice::from_ref(&rename)));
        let metrics = history.measure(&facts("cyd", 3 * DAY_S, &[change("b/x", ChangeKind::Modified)]));
        assert_eq!((metrics.ndev, metrics.nuc, metrics.age), (2.0, 2.0, 2.0));

        history.record(&facts("cyd", 3 * DAY_S, &[change("b/x", ChangeKind::Deleted)]));
        let metrics = history.measure(&facts("cyd", 4 * DAY_S, &[change("b/x", ChangeKind::Added)]));
        assert_eq!((metrics.ndev, metrics.nuc, metrics.age), (0.0, 0.0, 0.0));
        // Subsystem experience: cyd's deletion touched subsystem b.
        assert_eq!(metrics.sexp, 1.0);
    }
}
