//! Which commits are measured and in what order: parses the range (`A..B`, or one revision meaning
//! its whole history), reads every commit reachable from the tip (the history the metrics are
//! computed over, not only the range) within [`crate::Limits::commits_max`], and orders them
//! topologically, parents first, oldest committer time first among commits that are ready.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use gix::ObjectId;

use crate::GitMetricsError;
use crate::fix::is_fix;

/// One commit, as read from the repository.
#[derive(Debug, Clone)]
pub struct CommitNode {
    /// The commit id.
    pub id: ObjectId,
    /// Parent ids, in order.
    pub parents: Vec<ObjectId>,
    /// The commit's tree.
    pub tree: ObjectId,
    /// Author name as written in the commit.
    pub author_name: String,
    /// Developer identity: the lower-cased author e-mail (the name when the e-mail is empty).
    pub developer: String,
    /// Committer time, Unix seconds.
    pub time_unix_s: i64,
    /// Whether the message marks a fix ([`crate::fix`]).
    pub fix: bool,
}

/// What to measure: the tip, and the commits to leave out (those reachable from `excluded_tip`).
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    /// Measure commits reachable from here.
    pub tip: ObjectId,
    /// ... except those reachable from here (the `A` of `A..B`).
    pub excluded_tip: Option<ObjectId>,
}

/// Parse and resolve `range`: `A..B` (an empty side means `HEAD`) or a single revision.
pub fn resolve_range(repository: &gix::Repository, range: &str) -> Result<Selection, GitMetricsError> {
    let bad = |reason: String| GitMetricsError::BadRange { range: range.to_owned(), reason };
    let range_trimmed = range.trim();
    if range_trimmed.is_empty() {
        return Err(bad("empty range: give `A..B` or a single revision such as `HEAD`".into()));
    }
    if range_trimmed.contains("...") {
        return Err(bad("symmetric differences (`A...B`) are not supported: give `A..B`".into()));
    }
    let resolve = |revision: &str| -> Result<ObjectId, GitMetricsError> {
        let revision = if revision.is_empty() { "HEAD" } else { revision };
        let id = repository
            .rev_parse_single(revision)
            .map_err(|error| bad(format!("`{revision}` does not name a revision: {error}")))?;
        let commit = id
            .object()
            .and_then(|object| object.peel_to_commit())
            .map_err(|error| bad(format!("`{revision}` is not a commit: {error}")))?;
        Ok(commit.id)
    };
    match range_trimmed.split_once("..") {
        Some((from, to)) => Ok(Selection { tip: resolve(to)?, excluded_tip: Some(resolve(from)?) }),
        None => Ok(Selection { tip: resolve(range_trimmed)?, excluded_tip: None }),
    }
}

/// The commits of a shallow clone's boundary (empty for a full clone): their parents are not in
/// the repository, so they are read as root commits, as git shows them.
pub fn shallow_boundary(repository: &gix::Repository) -> Result<HashSet<ObjectId>, GitMetricsError> {
    let commits = repository
        .shallow_commits()
        .map_err(|error| GitMetricsError::Git { what: "the shallow file".into(), source: Box::new(error) })?;
    Ok(commits.map(|commits| commits.iter().copied().collect()).unwrap_or_default())
}

/// Read every commit reachable from `tip`, at most `commits_max`; commits of the `shallow`
/// boundary get no parents.
pub fn read_history(
    repository: &gix::Repository,
    tip: ObjectId,
    shallow: &HashSet<ObjectId>,
    commits_max: usize,
    message_size_max_bytes: usize,
) -> Result<HashMap<ObjectId, CommitNode>, GitMetricsError> {
    let mut nodes = HashMap::new();
    let mut pending = vec![tip];
    while let Some(id) = pending.pop() {
        if nodes.contains_key(&id) {
            continue;
        }
        if nodes.len() >= commits_max {
            return Err(GitMetricsError::TooManyCommits { limit: commits_max });
        }
        let mut node = read_commit(repository, id, message_size_max_bytes)?;
        if shallow.contains(&id) {
            node.parents.clear();
        }
        pending.extend(node.parents.iter().filter(|parent| !nodes.contains_key(*parent)));
        nodes.insert(id, node);
    }
    Ok(nodes)
}

/// The ids of every commit reachable from `tip` (at most `commits_max`), using `known` parents
/// where available and reading the others; the `shallow` boundary ends the walk.
pub fn reachable(
    repository: &gix::Repository,
    tip: ObjectId,
    known: &HashMap<ObjectId, CommitNode>,
    shallow: &HashSet<ObjectId>,
    commits_max: usize,
) -> Result<HashSet<ObjectId>, GitMetricsError> {
    let mut seen = HashSet::new();
    let mut pending = vec![tip];
    while let Some(id) = pending.pop() {
        if !seen.insert(id) {
            continue;
        }
        if seen.len() > commits_max {
            return Err(GitMetricsError::TooManyCommits { limit: commits_max });
        }
        match known.get(&id) {
            Some(node) => pending.extend(node.parents.iter().copied()),
            None if shallow.contains(&id) => {}
            None => {
                let commit = repository.find_commit(id).map_err(|error| git_error(id, error))?;
                pending.extend(commit.parent_ids().map(|parent| parent.detach()));
            }
        }
    }
    Ok(seen)
}

/// The commits in topological order (every parent before its children), the oldest committer
/// time first among the commits whose parents are all placed (ties: by id).
pub fn topological_order(nodes: &HashMap<ObjectId, CommitNode>) -> Vec<ObjectId> {
    let mut waiting_parents: HashMap<ObjectId, usize> = HashMap::with_capacity(nodes.len());
    let mut children: HashMap<ObjectId, Vec<ObjectId>> = HashMap::with_capacity(nodes.len());
    let mut ready = BinaryHeap::new();
    for node in nodes.values() {
        let mut distinct_parents: Vec<ObjectId> =
            node.parents.iter().copied().filter(|parent| nodes.contains_key(parent)).collect();
        distinct_parents.sort_unstable();
        distinct_parents.dedup();
        for parent in &distinct_parents {
            children.entry(*parent).or_default().push(node.id);
        }
        if distinct_parents.is_empty() {
            ready.push(Reverse((node.time_unix_s, node.id)));
        }
        waiting_parents.insert(node.id, distinct_parents.len());
    }
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        order.push(id);
        for child in children.get(&id).into_iter().flatten() {
            let waiting = waiting_parents.get_mut(child).expect("every child is a node");
            *waiting -= 1;
            if *waiting == 0 {
                ready.push(Reverse((nodes[child].time_unix_s, *child)));
            }
        }
    }
    order
}

fn read_commit(
    repository: &gix::Repository,
    id: ObjectId,
    message_size_max_bytes: usize,
) -> Result<CommitNode, GitMetricsError> {
    let commit = repository.find_commit(id).map_err(|error| git_error(id, error))?;
    let decoded = commit.decode().map_err(|error| git_error(id, error))?;
    let author = decoded.author().map_err(|error| git_error(id, error))?.trim();
    let committer = decoded.committer().map_err(|error| git_error(id, error))?;
    let message = &decoded.message[..decoded.message.len().min(message_size_max_bytes)];
    let email = String::from_utf8_lossy(author.email).to_lowercase();
    let author_name = String::from_utf8_lossy(author.name).into_owned();
    Ok(CommitNode {
        id,
        parents: decoded.parents().collect(),
        tree: decoded.tree(),
        developer: if email.is_empty() { author_name.clone() } else { email },
        author_name,
        time_unix_s: committer.seconds(),
        fix: is_fix(&String::from_utf8_lossy(message)),
    })
}

fn git_error(id: ObjectId, error: gix::Error) -> GitMetricsError {
    GitMetricsError::Git { what: format!("commit {id}"), source: Box::new(error) }
}
