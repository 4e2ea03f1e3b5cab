//! `changegate policy …`: show the default policy, evaluate a policy against an input file, and
//! run a policy directory's `test_*` rules like `opa test` (all offline). The policy in force on
//! a server (`current`, `versions`, `set`) is in [`crate::governance`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use changegate_policy::{EvalLimits, Policy, PolicyFile, PolicyInput, evaluate, run_policy_tests};
use serde_json::json;

use crate::args::PolicyCommand;

/// Most policy files read from one directory.
const POLICY_FILES_MAX: usize = 256;

/// Every `.rego` file of `path` (a file or a directory, not recursive).
pub(crate) fn read_policy_files(path: &Path) -> anyhow::Result<Vec<PolicyFile>> {
    let paths: Vec<PathBuf> = if path.is_dir() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|extension| extension == "rego"))
            .collect();
        paths.sort();
        paths
    } else {
        vec![path.to_path_buf()]
    };
    if paths.is_empty() {
        bail!("no .rego files in {}", path.display());
    }
    if paths.len() > POLICY_FILES_MAX {
        bail!("{} has more than {POLICY_FILES_MAX} policy files", path.display());
    }
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(PolicyFile::new(name, text))
        })
        .collect()
}

pub fn run(command: PolicyCommand, json: bool) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Show { with_tests } => {
            let files =
                if with_tests { Policy::default_files_with_tests() } else { Policy::default_policy().files().to_vec() };
            if json {
                let files: Vec<_> = files.iter().map(|file| json!({"name": file.name, "text": file.text})).collect();
                println!("{}", json!({"sha256": Policy::default_policy().sha256(), "files": files}));
            } else {
                for file in files {
                    println!("# {}\n{}", file.name, file.text);
                }
            }
            Ok(())
        }
        PolicyCommand::Eval { input, policy, time_limit_ms } => {
            let policy = match policy {
                Some(path) => Policy::from_files(read_policy_files(&path)?)?,
                None => Policy::default_policy(),
            };
            let text = std::fs::read_to_string(&input).with_context(|| format!("reading {}", input.display()))?;
            let input = PolicyInput::from_json(&text)?;
            let decision = evaluate(&policy, &input, EvalLimits::new(time_limit_ms))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&decision)?);
            } else {
                let verdict = if decision.is_denied() {
                    "DENIED"
                } else if decision.auto_approve {
                    "AUTO-APPROVED"
                } else {
                    "NEEDS APPROVAL"
                };
                println!("{verdict}");
                for required in &decision.required_approvals {
                    println!("  approval: {} × {}", required.count, required.role);
                }
                for reason in &decision.deny {
                    println!("  deny: {reason}");
                }
                for warning in &decision.warn {
                    println!("  warn: {warning}");
                }
                println!("  policy {}  input {}", &decision.policy_sha256[..12], &decision.input_sha256[..12]);
            }
            Ok(())
        }
        PolicyCommand::Test { directory } => {
            let files = read_policy_files(&directory)?;
            let report = run_policy_tests(&files)?;
            if json {
                let failed: Vec<_> =
                    report.failed.iter().map(|(name, reason)| json!({"test": name, "reason": reason})).collect();
                println!("{}", json!({"passed": report.passed, "failed": failed}));
            } else {
                for name in &report.passed {
                    println!("PASS {name}");
                }
                for (name, reason) in &report.failed {
                    println!("FAIL {name}: {reason}");
                }
                println!("{} passed, {} failed", report.passed.len(), report.failed.len());
            }
            if !report.is_success() {
                bail!("policy tests failed (or none were found)");
            }
            Ok(())
        }
        PolicyCommand::Current { .. } | PolicyCommand::Versions { .. } | PolicyCommand::Set { .. } => {
            bail!("`policy current|versions|set` talk to a server (see crate::governance)")
        }
    }
}
