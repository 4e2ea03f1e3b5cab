//! Running the `test_*` rules of policy files, like `opa test`.
//!
//! Every rule whose name starts with `test_`, in any package, is a test; it passes when it
//! evaluates to `true`. False, undefined (a condition in its body did not hold), any other
//! value, an evaluation error or running past the time limit fail it. Tests usually set their
//! input with `with input as {...}`.

use serde::{Deserialize, Serialize};

use regorus::Value;

use crate::engine::{EvalLimits, PolicyError, PolicyFile, eval_rule_limited, prepared_engine};

/// The outcome of a test run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestReport {
    /// Tests that evaluated to true, as `data.<package>.<rule>`, sorted.
    pub passed: Vec<String>,
    /// Tests that did not, with why, sorted by name.
    pub failed: Vec<(String, String)>,
}

impl TestReport {
    /// Whether the run succeeded: at least one test and none failed (as `opa test`, finding no
    /// tests is a failure).
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && !self.passed.is_empty()
    }

    /// Number of tests run.
    pub fn total(&self) -> usize {
        self.passed.len() + self.failed.len()
    }
}

/// Runs every `test_*` rule in `files` with the default per-test time limit.
///
/// An `Err` means the files could not be loaded at all (a parse error, duplicate names): no test
/// ran. Unlike [`crate::Policy::from_files`], the files need not define `data.changegate.decision`,
/// so helper packages can be tested on their own.
pub fn run_policy_tests(files: &[PolicyFile]) -> Result<TestReport, PolicyError> {
    run_policy_tests_with_limits(files, EvalLimits::default())
}

/// [`run_policy_tests`] with an explicit time limit for each test.
pub fn run_policy_tests_with_limits(files: &[PolicyFile], limits: EvalLimits) -> Result<TestReport, PolicyError> {
    let mut files = files.to_vec();
    files.sort();
    let engine = prepared_engine(&files)?;
    let packages = engine.get_policy_package_components().map_err(|error| PolicyError::Invalid(error.to_string()))?;
    let mut tests: Vec<String> = Vec::new();
    for package in &packages {
        let Some(file) = files.iter().find(|file| file.name == package.source_file) else {
            continue;
        };
        for rule in candidate_test_rules(&file.text) {
            // The text scan only proposes names; regorus confirms that the module really declares
            // the rule (not a comment, a string or a function).
            if engine.has_declared_rule_rooted_at(&package.source_file, &rule).unwrap_or(false) {
                let path = rule_path(&package.components, &rule);
                if !tests.contains(&path) {
                    tests.push(path);
                }
            }
        }
    }
    tests.sort();

    let mut report = TestReport::default();
    for test in tests {
        match eval_rule_limited(&engine, Value::new_object(), &test, limits) {
            Ok(Some(serde_json::Value::Bool(true))) => report.passed.push(test),
            Ok(Some(serde_json::Value::Bool(false))) => report.failed.push((test, "evaluated to false".into())),
            Ok(None) => {
                report.failed.push((test, "undefined: a condition in its body did not hold".into()));
            }
            Ok(Some(other)) => report.failed.push((test, format!("evaluated to {other}, not true"))),
            Err(error) => report.failed.push((test, error.to_string())),
        }
    }
    Ok(report)
}

/// Names of rules that look like tests: a line starting (after indentation) with `test_<ident>`
/// not followed by `(` (a function) or `.`/`[` (a reference into a nested rule).
fn candidate_test_rules(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if !line.starts_with("test_") {
            continue;
        }
        let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(line.len());
        let (name, rest) = line.split_at(end);
        if rest.trim_start().starts_with(['(', '.', '[']) {
            continue;
        }
        if !names.iter().any(|known| known == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// `data.a.b.rule`, quoting package components that are not identifiers.
fn rule_path(components: &[String], rule: &str) -> String {
    let mut path = String::from("data");
    for component in components {
        let identifier = component.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && component.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if identifier {
            path.push('.');
            path.push_str(component);
        } else {
            path.push('[');
            path.push_str(&serde_json::Value::String(component.clone()).to_string());
            path.push(']');
        }
    }
    path.push('.');
    path.push_str(rule);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_test_rule_candidates() {
        let text = "package x\n\ntest_a if true\n  test_b := true\ntest_f(x) if x\n# test_c if true\ntest_a if false\n";
        assert_eq!(candidate_test_rules(text), vec!["test_a", "test_b"]);
    }

    #[test]
    fn quotes_odd_package_components() {
        assert_eq!(rule_path(&["a".into(), "b".into()], "test_x"), "data.a.b.test_x");
        assert_eq!(rule_path(&["a".into(), "1.0".into()], "test_x"), "data.a[\"1.0\"].test_x");
    }
}
