//! The 14 metrics on a tiny real repository built with the `git` command line, against values
//! computed by hand; and the errors (not a repository, bad ranges, limits).

use std::path::Path;
use std::process::Command;

use changegate_gitmetrics::{CommitMetrics, GitMetricsError, Limits, commit_metrics};

/// 2020-01-01T00:00:00Z.
const DAY_0_UNIX_S: i64 = 1_577_836_800;
const DAY_S: i64 = 86_400;

/// Runs `git` in `directory` as `author` at `day` (author and committer time), without the
/// caller's configuration.
fn git(directory: &Path, author: &str, day: i64, arguments: &[&str]) -> String {
    let date = format!("@{} +0000", DAY_0_UNIX_S + day * DAY_S);
    let output = Command::new("git")
        .current_dir(directory)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .args(["-c", &format!("user.name={author}"), "-c", &format!("user.email={author}@example.org")])
        .args(["-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"])
        .args(arguments)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn write(directory: &Path, path: &str, content: &[u8]) {
    let path = directory.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Commits everything as `author` at `day`; returns the commit id.
fn commit(directory: &Path, author: &str, day: i64, message: &str) -> String {
    git(directory, author, day, &["add", "--all"]);
    git(directory, author, day, &["commit", "--quiet", "-m", message]);
    git(directory, author, day, &["rev-parse", "HEAD"])
}

/// The repository of the hand computations (two authors, subsystems `core` and `web`, a binary
/// file, a fix, a rename, deletions). Returns the five commit ids, oldest first.
fn build_repository(directory: &Path) -> Vec<String> {
    git(directory, "ann", 0, &["init", "--quiet"]);
    let mut commits = Vec::new();
    // C1, ann, day 0: three new files.
    write(directory, "core/a.txt", b"a1\na2\na3\na4\n");
    write(directory, "core/b.txt", b"b1\nb2\n");
    write(directory, "web/index.html", b"h1\nh2\nh3\n");
    commits.push(commit(directory, "ann", 0, "Add core and web"));
    // C2, bob, day 2: a binary logo; one line of index.html replaced.
    write(directory, "web/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01");
    write(directory, "web/index.html", b"h1\nH2\nh3\n");
    commits.push(commit(directory, "bob", 2, "Add the logo"));
    // C3, ann, day 5: a.txt loses a4 and gains x5, x6; index.html gains a line.
    write(directory, "core/a.txt", b"a1\na2\na3\nx5\nx6\n");
    write(directory, "web/index.html", b"h1\nH2\nh3\nh4\n");
    commits.push(commit(directory, "ann", 5, "Fix off-by-one in the parser"));
    // C4, bob, day 400: core/b.txt moves to web/b.txt unchanged; the logo is deleted.
    git(directory, "bob", 400, &["mv", "core/b.txt", "web/b.txt"]);
    git(directory, "bob", 400, &["rm", "--quiet", "web/logo.png"]);
    commits.push(commit(directory, "bob", 400, "Move b next to the page and drop the logo"));
    // C5, ann, day 800: core/a.txt deleted, web/b.txt gains a line, README.md at the root.
    git(directory, "ann", 800, &["rm", "--quiet", "core/a.txt"]);
    write(directory, "web/b.txt", b"b1\nb2\nb3\n");
    write(directory, "README.md", b"readme\n");
    commits.push(commit(directory, "ann", 800, "Tidy: prefix the readme"));
    commits
}

/// Normalised entropy of the given modified-line counts.
fn entropy(counts: &[f64]) -> f64 {
    let total: f64 = counts.iter().sum();
    -counts.iter().map(|count| count / total * (count / total).log2()).sum::<f64>() / (counts.len() as f64).log2()
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!((actual - expected).abs() < 1e-9, "{what}: {actual} != {expected}");
}

/// Asserts all 14 metrics (and the identity fields) of one commit.
#[allow(clippy::too_many_arguments)]
fn assert_metrics(
    metrics: &CommitMetrics,
    commit: &str,
    author: &str,
    day: i64,
    (ns, nd, nf): (u32, u32, u32),
    entropy_expected: f64,
    (la, ld, lt): (f64, f64, f64),
    fix: bool,
    [ndev, age, nuc, exp, rexp, sexp]: [f64; 6],
) {
    let what = format!("commit {commit} by {author}");
    assert_eq!(metrics.commit, commit);
    assert_eq!(metrics.author, author);
    assert_eq!(metrics.time, DAY_0_UNIX_S + day * DAY_S, "{what}");
    assert_eq!((metrics.ns, metrics.nd, metrics.nf), (ns, nd, nf), "{what}: ns, nd, nf");
    assert_close(metrics.entropy, entropy_expected, &format!("{what}: entropy"));
    assert_eq!((metrics.la, metrics.ld, metrics.lt), (la, ld, lt), "{what}: la, ld, lt");
    assert_eq!(metrics.fix, fix, "{what}: fix");
    assert_eq!(
        (metrics.ndev, metrics.nuc, metrics.exp, metrics.sexp),
        (ndev, nuc, exp, sexp),
        "{what}: ndev nuc exp sexp"
    );
    assert_close(metrics.age, age, &format!("{what}: age"));
    assert_close(metrics.rexp, rexp, &format!("{what}: rexp"));
}

#[test]
fn every_metric_matches_the_hand_computation() {
    let directory = tempfile::tempdir().unwrap();
    let commits = build_repository(directory.path());
    let metrics = commit_metrics(directory.path(), "HEAD", &Limits::default()).unwrap();
    let ids: Vec<&str> = metrics.iter().map(|m| m.commit.as_str()).collect();
    assert_eq!(ids, commits.iter().map(String::as_str).collect::<Vec<_>>(), "oldest first, all five");

    // C1 (ann, day 0) adds core/a.txt (4 lines), core/b.txt (2), web/index.html (3).
    // ns = |{core, web}| = 2; nd = |{core, web}| = 2; nf = 3.
    // la = 4 + 2 + 3 = 9; ld = 0; lt = 0 (all files new).
    // entropy = −(4/9·log₂ 4/9 + 2/9·log₂ 2/9 + 3/9·log₂ 3/9) / log₂ 3 = 1.530494 / 1.584963 = 0.965634.
    // fix: "Add core and web" has no keyword. No earlier commit: ndev = age = nuc = exp = rexp = sexp = 0.
    assert_metrics(
        &metrics[0],
        &commits[0],
        "ann",
        0,
        (2, 2, 3),
        entropy(&[4.0, 2.0, 3.0]),
        (9.0, 0.0, 0.0),
        false,
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    );
    assert!((metrics[0].entropy - 0.965_634).abs() < 1e-6);

    // C2 (bob, day 2) adds web/logo.png (binary: no lines) and replaces one line of index.html.
    // ns = 1 (web); nd = 1 (web); nf = 2; la = 1, ld = 1; lt = 3 (index.html before; the logo is new).
    // entropy: only index.html has modified lines (n = 1) → 0.
    // ndev = |{ann}| = 1 (index.html; the logo has no history); age = mean(2 − 0) = 2 days;
    // nuc = |{C1}| = 1; exp = 0 (bob's first commit); rexp = 0; sexp = 0.
    assert_metrics(
        &metrics[1],
        &commits[1],
        "bob",
        2,
        (1, 1, 2),
        0.0,
        (1.0, 1.0, 3.0),
        false,
        [1.0, 2.0, 1.0, 0.0, 0.0, 0.0],
    );

    // C3 (ann, day 5) "Fix off-by-one…": core/a.txt −1 +2 (4 lines before), index.html +1 (3 before).
    // ns = 2; nd = 2; nf = 2; la = 3; ld = 1; lt = 4 + 3 = 7.
    // entropy: modified lines (3, 1) → −(3/4·log₂ 3/4 + 1/4·log₂ 1/4) / log₂ 2 = 0.811278.
    // fix = true ("Fix"). ndev = |{ann} ∪ {ann, bob}| = 2; age = mean(5 − 0, 5 − 2) = 4 days;
    // nuc = |{C1} ∪ {C1, C2}| = 2; exp = 1 (C1); rexp = 1/(0 + 1) = 1 (C1 is 5 days old);
    // sexp = ann's earlier commits in core or web = |{C1}| = 1.
    assert_metrics(
        &metrics[2],
        &commits[2],
        "ann",
        5,
        (2, 2, 2),
        entropy(&[3.0, 1.0]),
        (3.0, 1.0, 7.0),
        true,
        [2.0, 4.0, 2.0, 1.0, 1.0, 1.0],
    );
    assert!((metrics[2].entropy - 0.811_278).abs() < 1e-6);

    // C4 (bob, day 400): rename core/b.txt → web/b.txt (unchanged, 2 lines), delete web/logo.png.
    // ns = |{core, web}| = 2 (both sides of the rename); nd = 2; nf = 2 (rename, deletion).
    // la = ld = 0 (the rename changes no line, the logo is binary); lt = 2 (b.txt) + 0 (binary) = 2.
    // entropy = 0 (no modified line). fix = false ("drop" is no keyword).
    // ndev = |{ann} (b.txt) ∪ {bob} (logo)| = 2; age = mean(400 − 0, 400 − 2) = 399 days;
    // nuc = |{C1} ∪ {C2}| = 2; exp = 1 (C2); rexp = 1/(1 + 1) = 0.5 (C2 is 398 days = 1 whole year old);
    // sexp = bob's earlier commits in core or web = |{C2}| = 1.
    assert_metrics(
        &metrics[3],
        &commits[3],
        "bob",
        400,
        (2, 2, 2),
        0.0,
        (0.0, 0.0, 2.0),
        false,
        [2.0, 399.0, 2.0, 1.0, 0.5, 1.0],
    );

    // C5 (ann, day 800): delete core/a.txt (5 lines), web/b.txt +1 (2 before), add README.md (1 line).
    // ns = |{core, web, ""}| = 3; nd = 3; nf = 3; la = 1 + 1 = 2; ld = 5; lt = 5 + 2 + 0 = 7.
    // entropy: modified lines (5, 1, 1) → −(5/7·log₂ 5/7 + 2·1/7·log₂ 1/7) / log₂ 3 = 0.724834.
    // fix = false ("prefix" is not the word "fix").
    // ndev = |{ann} (a.txt: C1, C3) ∪ {ann, bob} (b.txt: C1 carried over the rename, C4)| = 2;
    // age = mean(800 − 5, 800 − 400) = 597.5 days; nuc = |{C1, C3} ∪ {C1, C4}| = 3;
    // exp = 2 (C1, C3); rexp = 1/(2 + 1) + 1/(2 + 1) = 0.666667 (800 and 795 days: 2 whole years);
    // sexp = ann's earlier commits in core, web or the root = |{C1, C3}| = 2.
    assert_metrics(
        &metrics[4],
        &commits[4],
        "ann",
        800,
        (3, 3, 3),
        entropy(&[5.0, 1.0, 1.0]),
        (2.0, 5.0, 7.0),
        false,
        [2.0, 597.5, 3.0, 2.0, 2.0 / 3.0, 2.0],
    );
    assert!((metrics[4].entropy - 0.724_834).abs() < 1e-6);
}

#[test]
fn a_range_measures_its_commits_against_the_whole_history() {
    let directory = tempfile::tempdir().unwrap();
    let commits = build_repository(directory.path());
    let all = commit_metrics(directory.path(), "HEAD", &Limits::default()).unwrap();
    let range = format!("{}..{}", commits[1], commits[4]);
    let ranged = commit_metrics(directory.path(), &range, &Limits::default()).unwrap();
    // C3, C4, C5, with the same values as in the full run (their history includes C1 and C2).
    assert_eq!(ranged, all[2..]);
    // An empty side means HEAD.
    assert_eq!(commit_metrics(directory.path(), &format!("{}..", commits[3]), &Limits::default()).unwrap(), all[4..]);
    assert!(commit_metrics(directory.path(), "HEAD..HEAD", &Limits::default()).unwrap().is_empty());
}

#[test]
fn a_shallow_clone_starts_its_history_at_the_boundary() {
    let directory = tempfile::tempdir().unwrap();
    let full = directory.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let commits = build_repository(&full);
    let url = format!("file://{}", full.display());
    git(directory.path(), "ann", 900, &["clone", "--quiet", "--depth", "2", &url, "shallow"]);
    let metrics = commit_metrics(&directory.path().join("shallow"), "HEAD", &Limits::default()).unwrap();
    let ids: Vec<&str> = metrics.iter().map(|m| m.commit.as_str()).collect();
    assert_eq!(ids, [commits[3].as_str(), commits[4].as_str()]);
    // C4 reads as a root commit: its whole tree (core/a.txt 5 lines, web/b.txt 2, web/index.html 4) is added.
    assert_eq!((metrics[0].nf, metrics[0].la, metrics[0].ld, metrics[0].lt), (3, 11.0, 0.0, 0.0));
    assert_eq!((metrics[0].ndev, metrics[0].nuc, metrics[0].exp), (0.0, 0.0, 0.0));
}

#[test]
fn merge_commits_are_not_measured() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path();
    git(path, "ann", 0, &["init", "--quiet"]);
    write(path, "core/a.txt", b"1\n");
    let base = commit(path, "ann", 0, "base");
    git(path, "ann", 1, &["checkout", "--quiet", "-b", "side"]);
    write(path, "web/b.txt", b"1\n");
    let side = commit(path, "bob", 1, "side");
    git(path, "ann", 2, &["checkout", "--quiet", "main"]);
    write(path, "core/a.txt", b"1\n2\n");
    let main = commit(path, "ann", 2, "main");
    git(path, "ann", 3, &["merge", "--quiet", "--no-edit", "--no-ff", "side"]);
    let metrics = commit_metrics(path, "HEAD", &Limits::default()).unwrap();
    let ids: Vec<&str> = metrics.iter().map(|m| m.commit.as_str()).collect();
    assert_eq!(ids, [base.as_str(), side.as_str(), main.as_str()]);
    // main (day 2) changes core/a.txt, last changed by base (day 0): ndev 1, nuc 1, age 2 days,
    // exp 1 (base); bob's side commit (day 1, web) is placed before it but touches neither.
    assert_eq!((metrics[2].ndev, metrics[2].nuc, metrics[2].age, metrics[2].exp), (1.0, 1.0, 2.0, 1.0));
}

#[test]
fn errors_name_the_problem() {
    let directory = tempfile::tempdir().unwrap();
    let error = commit_metrics(directory.path(), "HEAD", &Limits::default()).unwrap_err();
    assert!(matches!(error, GitMetricsError::NotARepository { .. }), "{error:?}");
    assert!(error.to_string().contains("is not a git repository"), "{error}");

    build_repository(directory.path());
    for range in ["no-such-branch", "HEAD..no-such-branch", "HEAD~1...HEAD", "", "HEAD^{tree}"] {
        let error = commit_metrics(directory.path(), range, &Limits::default()).unwrap_err();
        assert!(matches!(error, GitMetricsError::BadRange { .. }), "{range}: {error:?}");
        assert!(error.to_string().starts_with("bad range"), "{error}");
    }

    let limits = Limits { commits_max: 4, ..Limits::default() };
    let error = commit_metrics(directory.path(), "HEAD", &limits).unwrap_err();
    assert!(matches!(error, GitMetricsError::TooManyCommits { limit: 4 }), "{error:?}");
    let limits = Limits { files_per_commit_max: 2, ..Limits::default() };
    let error = commit_metrics(directory.path(), "HEAD", &limits).unwrap_err();
    assert!(matches!(error, GitMetricsError::TooManyFiles { limit: 2, .. }), "{error:?}");
}
