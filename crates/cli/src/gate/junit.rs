//! The JUnit XML reader: a test report (the format most test runners write) summarised as test
//! evidence: tests, failures, skipped.

use std::collections::BTreeMap;
use std::path::Path;

use super::wording::{file_name, plural};

/// Counts of a JUnit XML report.
#[derive(Debug, Default, PartialEq)]
pub(super) struct JunitSummary {
    pub(super) tests: u64,
    pub(super) failures: u64,
    pub(super) skipped: u64,
}

impl JunitSummary {
    pub(super) fn text(&self, path: &Path) -> String {
        let mut text = format!(
            "JUnit: {} {}, {} {}",
            self.tests,
            plural(self.tests, "test", "tests"),
            self.failures,
            plural(self.failures, "failure", "failures")
        );
        if self.skipped > 0 {
            text.push_str(&format!(", {} skipped", self.skipped));
        }
        text.push_str(&format!(" ({})", file_name(path)));
        text
    }
}

/// Summarises a JUnit XML report (root `testsuites` or `testsuite`): each `testcase` is a test;
/// one with a `failure` or `error` inside is a failure, one with `skipped` is skipped. A report
/// without `testcase` elements falls back to its root's `tests`, `failures` + `errors` and
/// `skipped` attributes. `None` when the XML is not a JUnit report.
pub(super) fn junit_summary(text: &str) -> Result<Option<JunitSummary>, String> {
    let mut summary = JunitSummary::default();
    let mut root: Option<(String, BTreeMap<String, String>)> = None;
    // The innermost open testcase: (failed, skipped).
    let mut testcase: Option<(bool, bool)> = None;
    let mut depth: usize = 0;
    let mut testcase_depth = 0;
    let mut rest = text;
    while let Some(position) = rest.find('<') {
        rest = &rest[position..];
        let (skip_to, tag) = if rest.starts_with("<!--") {
            (find_after(rest, "-->")?, None)
        } else if rest.starts_with("<![CDATA[") {
            (find_after(rest, "]]>")?, None)
        } else if rest.starts_with("<?") {
            (find_after(rest, "?>")?, None)
        } else if rest.starts_with("<!") {
            (find_after(rest, ">")?, None)
        } else {
            let end = tag_end(rest).ok_or("an XML tag is not closed")?;
            (end, Some(&rest[1..end - 1]))
        };
        rest = &rest[skip_to..];
        let Some(tag) = tag else { continue };
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            depth = depth.saturating_sub(1);
            if name == "testcase" && testcase.is_some() && depth == testcase_depth {
                let (failed, skipped) = testcase.take().unwrap_or_default();
                summary.failures += u64::from(failed);
                summary.skipped += u64::from(skipped && !failed);
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_length = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
        let name = &tag[..name_length];
        if root.is_none() {
            if name != "testsuites" && name != "testsuite" {
                return Ok(None);
            }
            root = Some((name.to_owned(), attributes(&tag[name_length..])));
        }
        match name {
            "testcase" => {
                summary.tests += 1;
                if self_closing {
                    continue;
                }
                testcase = Some((false, false));
                testcase_depth = depth;
            }
            "failure" | "error" => {
                if let Some((failed, _)) = testcase.as_mut() {
                    *failed = true;
                }
            }
            "skipped" => {
                if let Some((_, skipped)) = testcase.as_mut() {
                    *skipped = true;
                }
            }
            _ => {}
        }
        if !self_closing {
            depth += 1;
        }
    }
    let Some((_, root_attributes)) = root else { return Ok(None) };
    if summary.tests == 0 {
        let number =
            |name: &str| root_attributes.get(name).and_then(|value| value.trim().parse::<u64>().ok()).unwrap_or(0);
        summary.tests = number("tests");
        summary.failures = number("failures") + number("errors");
        summary.skipped = number("skipped");
    }
    Ok(Some(summary))
}

/// The index just past `marker` in `text`.
fn find_after(text: &str, marker: &str) -> Result<usize, String> {
    text.find(marker).map(|position| position + marker.len()).ok_or_else(|| format!("`{marker}` missing in the XML"))
}

/// The index just past the `>` that closes the tag at the start of `text` (quotes respected).
fn tag_end(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (position, character) in text.char_indices().skip(1) {
        match (quote, character) {
            (Some(open), _) if character == open => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(character),
            (None, '>') => return Some(position + 1),
            (None, _) => {}
        }
    }
    None
}

/// `name="value"` pairs of a tag (entities are left as they are: only numbers are read).
fn attributes(text: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut rest = text;
    while let Some(equals) = rest.find('=') {
        let name = rest[..equals].trim().to_owned();
        let after = rest[equals + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else { break };
        let Some(close) = after[1..].find(quote) else { break };
        found.insert(name, after[1..1 + close].to_owned());
        rest = &after[close + 2..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_counts_testcases_and_ignores_markup_in_cdata_and_comments() {
        let report = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- <testcase name="in a comment"/> -->
<testsuites tests="99" failures="99">
  <testsuite name="a" tests="4">
    <testcase name="passes" classname="a"/>
    <testcase name="fails"><failure message="x &gt; 1"><![CDATA[<testcase name="in cdata"/> a > b]]></failure></testcase>
    <testcase name="errs"><error type="panic"/></testcase>
    <testcase name="skipped"><skipped/></testcase>
    <testsuite name="nested"><testcase name='quoted > bracket'></testcase></testsuite>
  </testsuite>
</testsuites>"#;
        let summary = junit_summary(report).unwrap().unwrap();
        assert_eq!(summary, JunitSummary { tests: 5, failures: 2, skipped: 1 });
        assert_eq!(summary.text(Path::new("junit.xml")), "JUnit: 5 tests, 2 failures, 1 skipped (junit.xml)");
        let aggregate = r#"<testsuite tests="7" failures="1" errors="1" skipped="0"></testsuite>"#;
        assert_eq!(junit_summary(aggregate).unwrap(), Some(JunitSummary { tests: 7, failures: 2, skipped: 0 }));
        assert_eq!(junit_summary("<html><body/></html>").unwrap(), None);
        assert!(junit_summary("<testsuites><testcase name=\"x\"").is_err());
    }
}
