//! The SARIF reader: a SARIF 2.1.0 log (what Trivy, Semgrep, CodeQL and most scanners write)
//! summarised as security evidence, with the count of critical findings the approval policy
//! reads.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::wording::{file_name, plural};

/// A SARIF result at level `error` with a `security-severity` of at least this is critical
/// (GitHub code scanning's threshold for "critical").
const SECURITY_SEVERITY_CRITICAL_MIN: f64 = 9.0;

/// Counts of a SARIF log.
#[derive(Debug, Default, PartialEq)]
pub(super) struct SarifSummary {
    results: u64,
    pub(super) critical: u64,
    levels: BTreeMap<String, u64>,
    not_counted: u64,
    tools: BTreeSet<String>,
}

impl SarifSummary {
    pub(super) fn text(&self, path: &Path) -> String {
        let mut text = format!(
            "SARIF: {} {}, {} critical (level error, security-severity ≥ {SECURITY_SEVERITY_CRITICAL_MIN:.1})",
            self.results,
            plural(self.results, "result", "results"),
            self.critical
        );
        if !self.levels.is_empty() {
            let levels: Vec<String> = self.levels.iter().map(|(level, count)| format!("{count} {level}")).collect();
            text.push_str(&format!("; {}", levels.join(", ")));
        }
        if self.not_counted > 0 {
            text.push_str(&format!("; {} suppressed or fixed not counted", self.not_counted));
        }
        if !self.tools.is_empty() {
            text.push_str(&format!("; {}", self.tools.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        text.push_str(&format!(" ({})", file_name(path)));
        text
    }
}

/// Summarises a SARIF 2.1.0 log: every result of every run, by effective level, and the critical
/// ones (level `error` and a `security-severity` of at least 9.0 on the result or its rule).
pub(super) fn sarif_summary(document: &Value) -> Result<SarifSummary, String> {
    let runs = document["runs"].as_array().ok_or("`runs` is not an array")?;
    let mut summary = SarifSummary::default();
    for run in runs {
        let tool = &run["tool"];
        if let Some(name) = tool["driver"]["name"].as_str() {
            summary.tools.insert(name.chars().take(64).collect());
        }
        let results = match &run["results"] {
            Value::Null => continue,
            Value::Array(results) => results,
            _ => return Err("a run's `results` is not an array".to_owned()),
        };
        for result in results {
            if !counts(result) {
                summary.not_counted += 1;
                continue;
            }
            let rule = rule_of(tool, result);
            let level = result["level"]
                .as_str()
                .or_else(|| match result["kind"].as_str() {
                    Some(kind) if kind != "fail" => Some("none"),
                    _ => None,
                })
                .or_else(|| rule.and_then(|rule| rule["defaultConfiguration"]["level"].as_str()))
                .unwrap_or("warning");
            let severity = security_severity(result).or_else(|| rule.and_then(security_severity));
            summary.results += 1;
            *summary.levels.entry(level.chars().take(16).collect()).or_insert(0) += 1;
            if level == "error" && severity.is_some_and(|severity| severity >= SECURITY_SEVERITY_CRITICAL_MIN) {
                summary.critical += 1;
            }
        }
    }
    Ok(summary)
}

/// A result counts unless it is suppressed (a suppression that is not `rejected`) or it is absent
/// from the current run (`baselineState: absent`, i.e. fixed).
fn counts(result: &Value) -> bool {
    let suppressed = result["suppressions"]
        .as_array()
        .is_some_and(|suppressions| suppressions.iter().any(|suppression| suppression["status"] != "rejected"));
    !suppressed && result["baselineState"] != "absent"
}

/// The rule a result refers to: by `rule.index`/`ruleIndex`, else by `rule.id`/`ruleId`, in the
/// driver or in the extension `rule.toolComponent.index` names.
fn rule_of<'a>(tool: &'a Value, result: &Value) -> Option<&'a Value> {
    let reference = &result["rule"];
    let component = match reference["toolComponent"]["index"].as_u64() {
        Some(index) => tool["extensions"].get(usize::try_from(index).ok()?)?,
        None => &tool["driver"],
    };
    let rules = component["rules"].as_array()?;
    let index = reference["index"].as_u64().or_else(|| result["ruleIndex"].as_u64());
    if let Some(index) = index {
        return rules.get(usize::try_from(index).ok()?);
    }
    let id = reference["id"].as_str().or_else(|| result["ruleId"].as_str())?;
    rules.iter().find(|rule| rule["id"] == id)
}

/// The `security-severity` property (a number, or a string holding one, as GitHub writes it).
fn security_severity(object: &Value) -> Option<f64> {
    match &object["properties"]["security-severity"] {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|severity: &f64| severity.is_finite())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sarif_critical_needs_level_error_and_security_severity_9() {
        let document = json!({
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "Trivy", "rules": [
                    {"id": "CVE-1", "defaultConfiguration": {"level": "error"}, "properties": {"security-severity": "9.8"}},
                    {"id": "CVE-2", "properties": {"security-severity": "7.5"}},
                    {"id": "CVE-3", "properties": {"security-severity": 9.1}}
                ]}},
                "results": [
                    {"ruleId": "CVE-1", "message": {"text": "critical, level from the rule"}},
                    {"ruleIndex": 1, "level": "error", "message": {"text": "high"}},
                    {"ruleId": "CVE-3", "level": "warning", "message": {"text": "severe but a warning"}},
                    {"ruleId": "CVE-3", "level": "error", "message": {"text": "critical"}},
                    {"ruleId": "CVE-2", "level": "error", "properties": {"security-severity": "10.0"}, "message": {"text": "result overrides"}},
                    {"ruleId": "CVE-1", "suppressions": [{"kind": "inSource"}], "message": {"text": "suppressed"}},
                    {"ruleId": "CVE-1", "baselineState": "absent", "message": {"text": "fixed"}},
                    {"ruleId": "CVE-1", "kind": "pass", "message": {"text": "passed"}}
                ]
            }, {"tool": {"driver": {"name": "CodeQL"}}, "results": []}]
        });
        let summary = sarif_summary(&document).unwrap();
        assert_eq!(summary.results, 6);
        assert_eq!(summary.critical, 3);
        assert_eq!(summary.not_counted, 2);
        assert_eq!(summary.levels.get("error"), Some(&4));
        assert_eq!(summary.levels.get("none"), Some(&1));
        let text = summary.text(Path::new("out/trivy.sarif"));
        assert!(text.starts_with("SARIF: 6 results, 3 critical"), "{text}");
        assert!(text.contains("CodeQL, Trivy") && text.ends_with("(trivy.sarif)"), "{text}");
        assert!(sarif_summary(&json!({"runs": 3})).is_err());
    }
}
