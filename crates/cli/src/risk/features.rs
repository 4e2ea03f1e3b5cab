//! `changegate risk features`: the 14 just-in-time metrics of every commit of a git range
//! (`changegate-gitmetrics`), printed as a table, JSON or a CSV that the JIT loader of
//! `changegate-risk` reads back (after a `bug` column is added: the outcome is not in git).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use changegate_gitmetrics::{CommitMetrics, Limits, commit_metrics};

use crate::output;

/// The CSV header: an id column, a Unix-seconds `date` and the 14 metrics under the names
/// `changegate_risk::jit::load_csv` accepts.
pub const CSV_HEADER: &str = "commit_id,date,ns,nd,nf,entropy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp";

pub fn run(repository: &Path, range: &str, json: bool, csv: bool) -> anyhow::Result<()> {
    if json && csv {
        anyhow::bail!("--json and --csv exclude each other");
    }
    let metrics = commit_metrics(repository, range, &Limits::default())
        .with_context(|| format!("computing the metrics of `{range}` in {}", repository.display()))?;
    if json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else if csv {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        writeln!(out, "{CSV_HEADER}")?;
        for commit in &metrics {
            writeln!(out, "{}", csv_row(commit))?;
        }
        out.flush()?;
    } else {
        let rows: Vec<Vec<String>> = metrics.iter().map(table_row).collect();
        output::table(
            &[
                "commit", "date", "author", "ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc",
                "exp", "rexp", "sexp",
            ],
            &rows,
        );
        println!("{} commits (merge commits are not measured); age in days, line counts absolute", metrics.len());
    }
    Ok(())
}

/// One CSV line, in the order of [`CSV_HEADER`].
pub fn csv_row(commit: &CommitMetrics) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        commit.commit,
        commit.time,
        commit.ns,
        commit.nd,
        commit.nf,
        commit.entropy,
        commit.la,
        commit.ld,
        commit.lt,
        u8::from(commit.fix),
        commit.ndev,
        commit.age,
        commit.nuc,
        commit.exp,
        commit.rexp,
        commit.sexp
    )
}

fn table_row(commit: &CommitMetrics) -> Vec<String> {
    let date = changegate_core::Timestamp::from_unix_ms(commit.time.saturating_mul(1000)).to_rfc3339();
    vec![
        commit.commit.chars().take(10).collect(),
        date.chars().take(10).collect(),
        commit.author.clone(),
        commit.ns.to_string(),
        commit.nd.to_string(),
        commit.nf.to_string(),
        format!("{:.3}", commit.entropy),
        commit.la.to_string(),
        commit.ld.to_string(),
        commit.lt.to_string(),
        if commit.fix { "yes" } else { "no" }.to_owned(),
        commit.ndev.to_string(),
        format!("{:.1}", commit.age),
        commit.nuc.to_string(),
        commit.exp.to_string(),
        format!("{:.2}", commit.rexp),
        commit.sexp.to_string(),
    ]
}
