//! The JUnit XML reader: a test report (the format most test runners write) summarised as test
//! evidence: tests, failures, skipped. The XML is read with a real parser (`quick-xml`), so
//! comments, CDATA, entities and quoted `>` in attributes cannot be mistaken for elements, and a
//! broken report is refused with where it breaks instead of being half counted.

use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

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

/// The `testcase` element being read: where it opened, and what was found inside it so far.
struct OpenTestcase {
    depth: usize,
    failed: bool,
    skipped: bool,
}

/// Summarises a JUnit XML report (root `testsuites` or `testsuite`): each `testcase` is a test;
/// one with a `failure` or `error` inside is a failure, one with `skipped` is skipped. A report
/// without `testcase` elements falls back to its root's `tests`, `failures` + `errors` and
/// `skipped` attributes. `None` when the XML is not a JUnit report; an error, saying where, when
/// the XML is not well-formed.
pub(super) fn junit_summary(text: &str) -> Result<Option<JunitSummary>, String> {
    let mut reader = Reader::from_str(text);
    // A bare `&` in a test's output is common in reports written by hand-rolled reporters, and it
    // changes no count: accept it, as the gate always has.
    reader.config_mut().allow_dangling_amp = true;
    let malformed = |reader: &Reader<&[u8]>, error: &dyn std::fmt::Display| {
        let position = usize::try_from(reader.error_position()).unwrap_or(usize::MAX).min(text.len());
        let line = text.as_bytes()[..position].iter().filter(|byte| **byte == b'\n').count() + 1;
        format!("not well-formed XML (line {line}): {error}")
    };
    let mut summary = JunitSummary::default();
    let mut root_counts: Option<RootCounts> = None;
    // The names of the elements open around the reader, outermost first.
    let mut open: Vec<String> = Vec::new();
    let mut testcase: Option<OpenTestcase> = None;
    loop {
        let (element, self_closing) = match reader.read_event().map_err(|error| malformed(&reader, &error))? {
            Event::Start(element) => (element, false),
            Event::Empty(element) => (element, true),
            Event::End(element) => {
                open.pop();
                if element.name().as_ref() == "testcase"
                    && let Some(closed) = testcase.take_if(|testcase| testcase.depth == open.len())
                {
                    summary.failures += u64::from(closed.failed);
                    summary.skipped += u64::from(closed.skipped && !closed.failed);
                }
                continue;
            }
            Event::Eof => break,
            // Text, CDATA, comments, processing instructions, the declaration and the doctype
            // hold no counts.
            _ => continue,
        };
        if root_counts.is_none() {
            if !matches!(element.name().as_ref(), "testsuites" | "testsuite") {
                return Ok(None);
            }
            root_counts = Some(RootCounts::of(&element).map_err(|error| malformed(&reader, &error))?);
        }
        match element.name().as_ref() {
            "testcase" => {
                summary.tests += 1;
                if !self_closing {
                    testcase = Some(OpenTestcase { depth: open.len(), failed: false, skipped: false });
                }
            }
            "failure" | "error" => {
                if let Some(testcase) = testcase.as_mut() {
                    testcase.failed = true;
                }
            }
            "skipped" => {
                if let Some(testcase) = testcase.as_mut() {
                    testcase.skipped = true;
                }
            }
            _ => {}
        }
        if !self_closing {
            open.push(element.name().as_ref().to_owned());
        }
    }
    if let Some(name) = open.last() {
        return Err(format!("not well-formed XML: it ends before `</{}>`", name));
    }
    let Some(root_counts) = root_counts else { return Ok(None) };
    if summary.tests == 0 {
        summary = root_counts.summary();
    }
    Ok(Some(summary))
}

/// The totals a report's root element declares, for reports that list no `testcase`.
struct RootCounts {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
}

impl RootCounts {
    fn of(root: &BytesStart<'_>) -> Result<RootCounts, quick_xml::Error> {
        // A count that is absent or not a number counts 0, as a report's totals are advisory.
        let number = |name: &str| -> Result<u64, quick_xml::Error> {
            Ok(match root.try_get_attribute(name)? {
                Some(attribute) => attribute.normalized_value(XmlVersion::Implicit1_0)?.trim().parse().unwrap_or(0),
                None => 0,
            })
        };
        Ok(RootCounts {
            tests: number("tests")?,
            failures: number("failures")?,
            errors: number("errors")?,
            skipped: number("skipped")?,
        })
    }

    fn summary(&self) -> JunitSummary {
        JunitSummary { tests: self.tests, failures: self.failures + self.errors, skipped: self.skipped }
    }
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

    #[test]
    fn nested_suites_count_every_testcase_once() {
        let report = r#"<testsuites>
  <testsuite name="outer">
    <testsuite name="inner">
      <testsuite name="innermost"><testcase name="deep"/></testsuite>
      <testcase name="a"/>
    </testsuite>
    <testcase name="b"></testcase>
  </testsuite>
  <testsuite name="second"><testcase name="c"/></testsuite>
</testsuites>"#;
        assert_eq!(junit_summary(report).unwrap(), Some(JunitSummary { tests: 4, failures: 0, skipped: 0 }));
    }

    #[test]
    fn failures_errors_and_skipped_are_counted_per_testcase() {
        let report = r#"<testsuite>
  <testcase name="fails twice"><failure message="one"/><failure message="two"/></testcase>
  <testcase name="fails and errs"><failure/><error/></testcase>
  <testcase name="errs"><error message="boom">stack</error></testcase>
  <testcase name="skipped"><skipped message="not on CI"/></testcase>
  <testcase name="skipped then failed"><skipped/><failure/></testcase>
  <testcase name="passes"><system-out>ok</system-out></testcase>
  <failure message="outside any testcase counts nothing"/>
</testsuite>"#;
        assert_eq!(junit_summary(report).unwrap(), Some(JunitSummary { tests: 6, failures: 4, skipped: 1 }));
    }

    #[test]
    fn self_closing_testcases_hold_nothing() {
        // A self-closing testcase ends at once: the failure after it is outside any testcase.
        let report = r#"<testsuite><testcase name="a"/><testcase name="b" /><failure/></testsuite>"#;
        assert_eq!(junit_summary(report).unwrap(), Some(JunitSummary { tests: 2, failures: 0, skipped: 0 }));
        let only_root = r#"<testsuite name="empty" tests="0"/>"#;
        assert_eq!(junit_summary(only_root).unwrap(), Some(JunitSummary::default()));
    }

    #[test]
    fn entities_and_cdata_in_messages_are_text_not_markup() {
        let report = r#"<testsuite>
  <testcase name="&lt;testcase&gt; &amp; &quot;quotes&quot; &#60;&#x3C;">
    <failure message="expected &lt;failure/&gt; &apos;x&apos;">&lt;testcase name="escaped"/&gt; a &amp;&amp; b</failure>
  </testcase>
  <testcase name="cdata">
    <system-out><![CDATA[<testcase name="x"/></testcase><failure/> ]] > & <]]></system-out>
  </testcase>
  <testcase name="bare ampersand">a & b</testcase>
</testsuite>"#;
        assert_eq!(junit_summary(report).unwrap(), Some(JunitSummary { tests: 3, failures: 1, skipped: 0 }));
        let totals = r#"<testsuite tests="&#55;" failures=" 2 " errors="x" skipped="1"></testsuite>"#;
        assert_eq!(junit_summary(totals).unwrap(), Some(JunitSummary { tests: 7, failures: 2, skipped: 1 }));
    }

    #[test]
    fn malformed_xml_is_refused_saying_where() {
        let mismatched = "<testsuite>\n  <testcase name=\"a\">\n  </testsuite>\n</testcase>";
        let error = junit_summary(mismatched).unwrap_err();
        assert!(error.starts_with("not well-formed XML (line 3): "), "{error}");
        assert!(error.contains("testcase"), "{error}");
        let truncated = "<testsuites>\n<testsuite>\n<testcase name=\"a\"/>";
        assert_eq!(junit_summary(truncated).unwrap_err(), "not well-formed XML: it ends before `</testsuite>`");
        let unclosed_comment = "<testsuite><!-- never closed <testcase/></testsuite>";
        assert!(junit_summary(unclosed_comment).unwrap_err().contains("comment not closed"));
        let unclosed_cdata = "<testsuite><testcase><![CDATA[ ... </testcase></testsuite>";
        assert!(junit_summary(unclosed_cdata).unwrap_err().contains("CDATA not closed"));
        let unquoted = "<testsuite tests=7></testsuite>";
        assert!(junit_summary(unquoted).unwrap_err().starts_with("not well-formed XML (line 1): "));
    }
}
