//! `changegate risk features` through the real binary, on a tiny repository built with `git`:
//! the JSON carries the 14 metrics per commit, the CSV loads back into the risk model's loader
//! once a `bug` column is added, and a path that is not a repository is refused.

mod common;

use std::path::Path;
use std::process::Command;

use common::{changegate, text};
use serde_json::Value;

/// 2021-03-01T12:00:00Z.
const DAY_0_UNIX_S: i64 = 1_614_600_000;
const DAY_S: i64 = 86_400;

fn git(directory: &Path, author: &str, day: i64, arguments: &[&str]) {
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
}

fn commit(directory: &Path, author: &str, day: i64, files: &[(&str, &str)], message: &str) {
    for (path, content) in files {
        let path = directory.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    git(directory, author, day, &["add", "--all"]);
    git(directory, author, day, &["commit", "--quiet", "-m", message]);
}

/// Three commits: ann adds two files in two subsystems, bob fixes one, ann extends the other.
fn build_repository(directory: &Path) {
    git(directory, "ann", 0, &["init", "--quiet"]);
    commit(directory, "ann", 0, &[("api/handler.rs", "1\n2\n3\n4\n"), ("docs/guide.md", "a\nb\n")], "Add handler");
    commit(directory, "bob", 3, &[("api/handler.rs", "1\n2\nthree\n4\n5\n")], "Fix the handler bug");
    commit(directory, "ann", 10, &[("docs/guide.md", "a\nb\nc\nd\ne\n")], "Extend the guide");
}

#[test]
fn features_print_the_metrics_as_json_and_a_csv_the_loader_reads() {
    let directory = tempfile::tempdir().unwrap();
    let repository = directory.path().to_str().unwrap();
    build_repository(directory.path());

    let output = changegate(&["risk", "features", "--json", "--repo", repository, "--range", "HEAD"]);
    assert!(output.status.success(), "{}", text(&output));
    let commits: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(commits.len(), 3);
    for key in [
        "commit", "author", "time", "ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc", "exp",
        "rexp", "sexp",
    ] {
        assert!(commits.iter().all(|commit| commit.get(key).is_some()), "missing {key}");
    }
    // The first commit: two new files in two subsystems, 4 + 2 lines, entropy of (4, 2) = 0.918296.
    let first = &commits[0];
    assert_eq!(first["commit"].as_str().unwrap().len(), 40);
    assert_eq!((first["author"].as_str(), first["time"].as_i64()), (Some("ann"), Some(DAY_0_UNIX_S)));
    assert_eq!((first["ns"].as_u64(), first["nd"].as_u64(), first["nf"].as_u64()), (Some(2), Some(2), Some(2)));
    assert_eq!((first["la"].as_f64(), first["ld"].as_f64(), first["lt"].as_f64()), (Some(6.0), Some(0.0), Some(0.0)));
    assert!((first["entropy"].as_f64().unwrap() - 0.918_296).abs() < 1e-6);
    // The second: bob replaces one line and adds one in api/handler.rs (4 lines before), a fix;
    // ann changed the file 3 days earlier: ndev 1, nuc 1, age 3; bob's first commit: exp 0.
    let second = &commits[1];
    assert_eq!(
        (second["la"].as_f64(), second["ld"].as_f64(), second["lt"].as_f64()),
        (Some(2.0), Some(1.0), Some(4.0))
    );
    assert_eq!(second["fix"], true);
    let history = ["ndev", "age", "nuc", "exp", "rexp", "sexp"].map(|key| second[key].as_f64().unwrap());
    assert_eq!(history, [1.0, 3.0, 1.0, 0.0, 0.0, 0.0]);
    // The third: ann's second commit, in docs, which she touched 10 days earlier.
    let third = &commits[2];
    let history = ["ndev", "age", "nuc", "exp", "rexp", "sexp"].map(|key| third[key].as_f64().unwrap());
    assert_eq!(history, [1.0, 10.0, 1.0, 1.0, 1.0, 1.0]);

    // A range: only the last two commits, with the same values (history is the whole history).
    let range = format!("{}..HEAD", first["commit"].as_str().unwrap());
    let output = changegate(&["risk", "features", "--json", "--repo", repository, "--range", &range]);
    assert!(output.status.success(), "{}", text(&output));
    let ranged: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(ranged, commits[1..]);

    // CSV: the loader's header; with a `bug` column added it loads (absolute scale, Unix dates).
    let output = changegate(&["risk", "features", "--csv", "--repo", repository, "--range", "HEAD"]);
    assert!(output.status.success(), "{}", text(&output));
    let csv = String::from_utf8(output.stdout).unwrap();
    assert_eq!(csv.lines().next(), Some("commit_id,date,ns,nd,nf,entropy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp"));
    let mut with_label = String::new();
    for (index, line) in csv.lines().enumerate() {
        with_label.push_str(line);
        with_label.push_str(if index == 0 { ",bug\n" } else { ",0\n" });
    }
    let dataset = changegate_risk::jit::load_str(&with_label).unwrap();
    assert_eq!(dataset.rows.len(), 3);
    assert_eq!(dataset.scale, changegate_risk::MetricScale::Absolute);
    assert_eq!(dataset.rows[1].time_unix_s, DAY_0_UNIX_S + 3 * DAY_S);
    let absolute = changegate_risk::jit::denormalise(&dataset.rows[1].metrics);
    assert_eq!(&absolute[4..7], &[2.0, 1.0, 4.0], "la, ld, lt round-trip");
    // Without the label the loader names the missing column.
    let error = changegate_risk::jit::load_str(&csv).unwrap_err();
    assert!(error.to_string().contains("missing column `bug`"), "{error}");

    // The table: a header and one line per commit.
    let output = changegate(&["risk", "features", "--repo", repository, "--range", "HEAD"]);
    assert!(output.status.success(), "{}", text(&output));
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.starts_with("COMMIT"), "{table}");
    assert!(table.contains("3 commits"), "{table}");
}

#[test]
fn features_refuse_a_path_that_is_not_a_repository_and_a_bad_range() {
    let directory = tempfile::tempdir().unwrap();
    let repository = directory.path().to_str().unwrap();
    let output = changegate(&["risk", "features", "--repo", repository, "--range", "HEAD"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("is not a git repository"), "{}", text(&output));

    build_repository(directory.path());
    let output = changegate(&["risk", "features", "--repo", repository, "--range", "HEAD..nowhere"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("bad range"), "{}", text(&output));
}
