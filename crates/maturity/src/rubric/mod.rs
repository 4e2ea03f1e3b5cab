//! The rubric, as data: five dimensions (the seed table's columns) and, for levels 2 to 5 of each,
//! the criteria a level requires. Level 1 (Initial, ad hoc) has none: it is where everyone starts.
//!
//! Each criterion names what it measures, its threshold and minimum sample, the sentence of the
//! seed it comes from, the roadmap step that meets it and the Changegate feature that helps, and
//! its check (in `checks.rs`). `docs/maturity-rubric.md` is this table for people; a test keeps
//! the two in step. Change [`RUBRIC_VERSION`] whenever a criterion, threshold or gate changes:
//! assessments record it, so levels measured under different rubrics are never compared silently.
//!
//! The table is kept one file per dimension (`process`, `risk_management`, `metrics`,
//! `automation`, `audit_compliance`); the types of a criterion are in `crate::criterion`.

mod audit_compliance;
mod automation;
mod metrics;
mod process;
mod risk_management;

use serde::{Deserialize, Serialize};

use crate::checks;
use crate::criterion::Measurement;
pub use crate::criterion::{Comparison, Criterion, CriterionKind, Dimension, Unit};
use crate::facts::Facts;

/// The version of the rubric below (criteria, thresholds, samples, gates).
pub const RUBRIC_VERSION: &str = "1.0";
/// The highest level.
pub const LEVEL_MAX: u8 = 5;

/// The name of a level, as the seed's table gives it.
pub fn level_name(level: u8) -> &'static str {
    match level {
        0 | 1 => "Initial (ad hoc)",
        2 => "Managed",
        3 => "Defined",
        4 => "Quantitatively managed",
        _ => "Optimizing",
    }
}

/// The seed's guidance for moving from `level` to the next ("Moving up the CMMI ladder").
pub fn ladder_guidance(level: u8) -> &'static str {
    match level {
        0 | 1 => {
            "From level 1 to level 2, implementing basic structure: document all changes and ensure they are \
             reviewed and approved before implementation."
        }
        2 => {
            "From level 2 to level 3, standardizing across the organization: clear policies and procedures for \
             change submissions, approvals, testing, and deployment, the same for every team."
        }
        3 => {
            "From level 3 to level 4, measuring performance: track the percentage of successful changes, \
             change-related incidents and approval time, and use the data to refine the process."
        }
        _ => {
            "From level 4 to level 5, continuous improvement: feedback loops and innovation, metrics that predict \
             and prevent issues, and automation that implements and approves changes faster and more securely."
        }
    }
}

/// A question of the questionnaire, as `changegate assess --questions --json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The id of the criterion it answers.
    pub id: String,
    pub dimension: Dimension,
    pub level: u8,
    pub text: String,
}

/// The questionnaire: one question per question criterion, in rubric order.
pub fn questions() -> Vec<Question> {
    RUBRIC
        .iter()
        .filter_map(|criterion| {
            criterion.question.map(|text| Question {
                id: criterion.id.to_owned(),
                dimension: criterion.dimension,
                level: criterion.level,
                text: text.to_owned(),
            })
        })
        .collect()
}

/// The criterion with this id.
pub fn criterion(id: &str) -> Option<&'static Criterion> {
    RUBRIC.iter().find(|criterion| criterion.id == id)
}

// A row of the rubric table: positional like the table it reads as.
#[allow(clippy::too_many_arguments)]
const fn data(
    id: &'static str,
    dimension: Dimension,
    level: u8,
    title: &'static str,
    measures: &'static str,
    threshold: f64,
    sample_min: u32,
    seed: &'static str,
    step: &'static str,
    feature: &'static str,
    check: fn(&Facts<'_>, &Criterion) -> Measurement,
) -> Criterion {
    Criterion {
        id,
        dimension,
        level,
        kind: CriterionKind::Data,
        title,
        measures,
        threshold,
        comparison: Comparison::AtLeast,
        unit: Unit::Share,
        sample_min,
        seed,
        step,
        feature,
        question: None,
        check,
    }
}

#[allow(clippy::too_many_arguments)]
const fn question(
    id: &'static str,
    dimension: Dimension,
    level: u8,
    title: &'static str,
    text: &'static str,
    seed: &'static str,
    step: &'static str,
    feature: &'static str,
) -> Criterion {
    Criterion {
        id,
        dimension,
        level,
        kind: CriterionKind::Question,
        title,
        measures: "The answer to the question (not answering counts as no).",
        threshold: 1.0,
        comparison: Comparison::AtLeast,
        unit: Unit::Answer,
        sample_min: 1,
        seed,
        step,
        feature,
        question: Some(text),
        check: checks::answered_yes,
    }
}

/// How many criteria the rubric has, over all dimensions.
const CRITERIA_COUNT: usize = process::CRITERIA.len()
    + risk_management::CRITERIA.len()
    + metrics::CRITERIA.len()
    + automation::CRITERIA.len()
    + audit_compliance::CRITERIA.len();

/// The dimensions' criteria joined into one table, in order.
const fn joined<const COUNT: usize>(parts: [&[Criterion]; 5]) -> [Criterion; COUNT] {
    let mut table = [parts[0][0]; COUNT];
    let mut next = 0;
    let mut part = 0;
    while part < parts.len() {
        let mut row = 0;
        while row < parts[part].len() {
            table[next] = parts[part][row];
            next += 1;
            row += 1;
        }
        part += 1;
    }
    assert!(next == COUNT, "every criterion has its place");
    table
}

/// Every criterion, by dimension and level.
pub static RUBRIC: &[Criterion] = &joined::<CRITERIA_COUNT>([
    process::CRITERIA,
    risk_management::CRITERIA,
    metrics::CRITERIA,
    automation::CRITERIA,
    audit_compliance::CRITERIA,
]);

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_name_their_dimension() {
        let mut seen = BTreeSet::new();
        for criterion in RUBRIC {
            assert!(seen.insert(criterion.id), "{} twice", criterion.id);
            let prefix = match criterion.dimension {
                Dimension::Process => "process.",
                Dimension::RiskManagement => "risk.",
                Dimension::Metrics => "metrics.",
                Dimension::Automation => "automation.",
                Dimension::AuditCompliance => "audit.",
            };
            assert!(criterion.id.starts_with(prefix), "{}", criterion.id);
            assert!((2..=LEVEL_MAX).contains(&criterion.level), "{}", criterion.id);
            assert_eq!(criterion.question.is_some(), criterion.kind == CriterionKind::Question, "{}", criterion.id);
        }
    }

    #[test]
    fn every_level_of_every_dimension_has_criteria() {
        for dimension in Dimension::ALL {
            for level in 2..=LEVEL_MAX {
                let count = RUBRIC.iter().filter(|c| c.dimension == dimension && c.level == level).count();
                assert!(count > 0, "{dimension:?} level {level} has no criterion");
            }
        }
    }

    #[test]
    fn the_questionnaire_asks_only_what_data_cannot_show() {
        // Given the rubric, when the questionnaire is listed, then it is small and each question is
        // tied to a criterion at a level.
        let questions = questions();
        assert_eq!(questions.len(), 6);
        for question in &questions {
            let criterion = criterion(&question.id).unwrap();
            assert_eq!(criterion.kind, CriterionKind::Question);
            assert_eq!(criterion.level, question.level);
            assert!(question.text.ends_with('?'));
        }
    }

    /// The per-criterion part of `docs/maturity-rubric.md`, generated from the rubric.
    fn criteria_section() -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for dimension in Dimension::ALL {
            let _ = writeln!(out, "### {}\n", dimension.title());
            for level in 2..=LEVEL_MAX {
                let _ = writeln!(out, "#### Level {level}: {}\n", level_name(level));
                for criterion in RUBRIC.iter().filter(|c| c.dimension == dimension && c.level == level) {
                    let sign = match criterion.comparison {
                        Comparison::AtLeast => "≥",
                        Comparison::AtMost => "≤",
                    };
                    let threshold = if criterion.unit == Unit::Answer {
                        "yes".to_owned()
                    } else {
                        format!("{sign} {}", crate::report::value_text(criterion.unit, Some(criterion.threshold)))
                    };
                    let kind = match criterion.kind {
                        CriterionKind::Data => "records (live or imported)",
                        CriterionKind::Live => "a live installation",
                        CriterionKind::Question => "the questionnaire",
                    };
                    let _ = writeln!(out, "- **`{}`: {}**", criterion.id, criterion.title);
                    match criterion.question {
                        Some(question) => {
                            let _ = writeln!(out, "  - Question: {question}");
                        }
                        None => {
                            let _ = writeln!(out, "  - Measures: {}", criterion.measures);
                        }
                    }
                    let _ = writeln!(
                        out,
                        "  - Threshold: {threshold}; minimum sample: {}; evidence from {kind}.",
                        criterion.sample_min
                    );
                    let _ = writeln!(out, "  - Seed: “{}”", criterion.seed);
                    let _ = writeln!(out, "  - Roadmap step: {} Changegate: {}.", criterion.step, criterion.feature);
                }
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn the_document_explains_every_criterion() {
        // The criteria section of the document is generated from the rubric; run the test with
        // UPDATE_DOCS=1 to rewrite it after changing a criterion.
        const BEGIN: &str = "<!-- criteria: generated from crates/maturity/src/rubric.rs -->\n";
        const END: &str = "<!-- end of criteria -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/maturity-rubric.md");
        let document = std::fs::read_to_string(path).expect("docs/maturity-rubric.md");
        let (Some(begin), Some(end)) = (document.find(BEGIN), document.find(END)) else {
            panic!("docs/maturity-rubric.md lacks the criteria markers");
        };
        let generated = criteria_section();
        let current = &document[begin + BEGIN.len()..end];
        if current != generated {
            if std::env::var_os("UPDATE_DOCS").is_some() {
                let updated = format!("{}{generated}{}", &document[..begin + BEGIN.len()], &document[end..]);
                std::fs::write(path, updated).expect("docs/maturity-rubric.md is writable");
            } else {
                panic!("docs/maturity-rubric.md is out of date with the rubric: run the test with UPDATE_DOCS=1");
            }
        }
        assert!(document.contains(&format!("Rubric version {RUBRIC_VERSION}")), "the document names the version");
        for question in questions() {
            assert!(document.contains(&question.text), "the document misses the question of {}", question.id);
        }
    }
}
