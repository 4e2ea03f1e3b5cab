//! The `--evidence` files, read on the pipeline's side: each is sniffed (SARIF, JUnit XML or
//! anything else), size-limited and summarised in one line; only the summaries and the count of
//! critical findings travel to the server.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::exit::usage;
use super::junit::{JunitSummary, junit_summary};
use super::sarif::{SarifSummary, sarif_summary};

/// Largest SARIF or JUnit report read.
const EVIDENCE_FILE_SIZE_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Most `--evidence` files.
const EVIDENCE_FILES_MAX: usize = 32;
/// How much of an evidence file is read to tell what it is.
const EVIDENCE_SNIFF_BYTES: usize = 4 * 1024;

/// The summaries of the `--evidence` files.
#[derive(Debug, Default)]
pub(super) struct Evidence {
    tests: Vec<String>,
    security: Vec<String>,
    critical_findings: Option<u64>,
}

impl Evidence {
    pub(super) fn read(paths: &[PathBuf]) -> anyhow::Result<Evidence> {
        if paths.len() > EVIDENCE_FILES_MAX {
            return Err(usage(format!("at most {EVIDENCE_FILES_MAX} --evidence files")));
        }
        let mut evidence = Evidence::default();
        for path in paths {
            match read_evidence(path).map_err(|message| usage(format!("evidence {}: {message}", path.display())))? {
                Summary::Sarif(sarif) => {
                    evidence.security.push(sarif.text(path));
                    *evidence.critical_findings.get_or_insert(0) += sarif.critical;
                }
                Summary::Junit(junit) => evidence.tests.push(junit.text(path)),
                Summary::Other => evidence.tests.push(format!("file {}", path.display())),
            }
        }
        for (field, parts) in [("test", &evidence.tests), ("security", &evidence.security)] {
            let length: usize = parts.iter().map(|part| part.chars().count() + 2).sum();
            if length > changegate_core::TEXT_LENGTH_MAX {
                return Err(usage(format!(
                    "the {field} evidence summaries come to {length} characters, more than the {} a change holds",
                    changegate_core::TEXT_LENGTH_MAX
                )));
            }
        }
        Ok(evidence)
    }

    pub(super) fn test_text(&self) -> Option<String> {
        (!self.tests.is_empty()).then(|| self.tests.join("; "))
    }

    pub(super) fn security_text(&self) -> Option<String> {
        (!self.security.is_empty()).then(|| self.security.join("; "))
    }

    pub(super) fn critical_findings(&self) -> Option<u32> {
        self.critical_findings.map(|count| u32::try_from(count).unwrap_or(u32::MAX))
    }
}

#[derive(Debug, PartialEq)]
enum Summary {
    Sarif(SarifSummary),
    Junit(JunitSummary),
    Other,
}

/// Reads one evidence file: SARIF and JUnit reports are summarised, anything else is only named.
fn read_evidence(path: &Path) -> Result<Summary, String> {
    let file = std::fs::File::open(path).map_err(|error| format!("cannot open it: {error}"))?;
    let metadata = file.metadata().map_err(|error| format!("cannot read it: {error}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".to_owned());
    }
    let mut head = Vec::with_capacity(EVIDENCE_SNIFF_BYTES);
    let mut reader = file.take(EVIDENCE_FILE_SIZE_MAX_BYTES + 1);
    (&mut reader)
        .take(EVIDENCE_SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|error| format!("cannot read it: {error}"))?;
    let extension = path.extension().and_then(|extension| extension.to_str()).unwrap_or_default().to_ascii_lowercase();
    let start = String::from_utf8_lossy(&head);
    let start = start.trim_start_matches('\u{feff}').trim_start();
    let report = start.starts_with('{') || start.starts_with('<') || matches!(extension.as_str(), "sarif" | "xml");
    if !report {
        return Ok(Summary::Other);
    }
    let mut bytes = head;
    reader.read_to_end(&mut bytes).map_err(|error| format!("cannot read it: {error}"))?;
    if bytes.len() as u64 > EVIDENCE_FILE_SIZE_MAX_BYTES {
        return Err(format!(
            "larger than {} MiB: give a smaller report, or a link with --pipeline-url",
            EVIDENCE_FILE_SIZE_MAX_BYTES / 1024 / 1024
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') {
        let document: Value = match serde_json::from_str(text) {
            Ok(document) => document,
            Err(error) if extension == "sarif" => return Err(format!("not valid JSON: {error}")),
            Err(_) => return Ok(Summary::Other),
        };
        if document.get("runs").is_some() {
            return sarif_summary(&document).map(Summary::Sarif);
        }
        if extension == "sarif" {
            return Err("not SARIF: it has no `runs`".to_owned());
        }
        return Ok(Summary::Other);
    }
    if extension == "sarif" {
        return Err("not SARIF: it is not a JSON object".to_owned());
    }
    match junit_summary(text)? {
        Some(junit) => Ok(Summary::Junit(junit)),
        None => Ok(Summary::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_files_are_sniffed_and_limited() {
        let directory = tempfile::tempdir().unwrap();
        let sarif = directory.path().join("scan.sarif");
        std::fs::write(&sarif, r#"{"runs": []}"#).unwrap();
        let junit = directory.path().join("report.xml");
        std::fs::write(&junit, "\u{feff}<testsuite><testcase name=\"a\"/></testsuite>").unwrap();
        let other = directory.path().join("coverage.txt");
        std::fs::write(&other, "lines: 93%").unwrap();
        let broken = directory.path().join("broken.sarif");
        std::fs::write(&broken, "{not json").unwrap();
        assert!(matches!(read_evidence(&sarif), Ok(Summary::Sarif(_))));
        assert_eq!(read_evidence(&junit), Ok(Summary::Junit(JunitSummary { tests: 1, failures: 0, skipped: 0 })));
        assert_eq!(read_evidence(&other), Ok(Summary::Other));
        assert!(read_evidence(&broken).unwrap_err().contains("not valid JSON"));
        assert!(read_evidence(&directory.path().join("missing.xml")).unwrap_err().contains("cannot open"));
        assert!(read_evidence(directory.path()).is_err());
        let large = directory.path().join("large.sarif");
        let mut bytes = vec![b' '; usize::try_from(EVIDENCE_FILE_SIZE_MAX_BYTES).unwrap() + 1];
        bytes[0] = b'{';
        std::fs::write(&large, bytes).unwrap();
        assert!(read_evidence(&large).unwrap_err().contains("larger than 10 MiB"));
        let evidence = Evidence::read(&[sarif, junit, other]).unwrap();
        assert_eq!(evidence.critical_findings(), Some(0));
        let coverage = directory.path().join("coverage.txt");
        let expected = format!("JUnit: 1 test, 0 failures (report.xml); file {}", coverage.display());
        assert_eq!(evidence.test_text().unwrap(), expected);
    }
}
