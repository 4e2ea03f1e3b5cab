//! The assessment: every criterion checked over the period, the gated level of each dimension
//! with its progress into the next level, the overall level (the lowest dimension, as in CMMI's
//! staged view), and the roadmap to the next level of each dimension.
//!
//! Gating: a dimension reaches level N only when every criterion of levels 2..N holds. A dimension
//! that meets some criteria of a higher level without those below stays below: maturity is built
//! bottom-up, and the roadmap points at the lowest gap.

use serde::{Deserialize, Serialize};

use changegate_core::Timestamp;

use crate::criterion::{Evidence, Measurement};
use crate::facts::Facts;
use crate::input::AssessmentInput;
use crate::rubric::{Comparison, CriterionKind, Dimension, LEVEL_MAX, RUBRIC, RUBRIC_VERSION, Unit};
use crate::{MaturityError, PERIOD_MAX_DAYS};

/// One criterion, checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriterionResult {
    pub id: String,
    pub level: u8,
    pub kind: CriterionKind,
    pub title: String,
    pub met: bool,
    /// The measured value (a share, a count, days, an AUC, a ratio, or 1/0 for yes/no); `None`
    /// when nothing could be measured.
    pub value: Option<f64>,
    pub threshold: f64,
    pub comparison: Comparison,
    pub unit: Unit,
    pub evidence: Evidence,
}

/// One dimension, assessed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DimensionResult {
    pub name: Dimension,
    pub title: String,
    /// 1 to 5: the highest level whose criteria, and all those below, hold.
    pub level: u8,
    pub level_name: String,
    /// Share of the next level's criteria met (1 at level 5).
    pub progress: f64,
    /// Every criterion of levels 2 to 5, by level.
    pub criteria: Vec<CriterionResult>,
}

/// A step of the roadmap: an unmet criterion of a dimension's next level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoadmapStep {
    pub dimension: Dimension,
    pub from_level: u8,
    pub to_level: u8,
    pub criterion: String,
    pub title: String,
    /// What to do.
    pub step: String,
    /// The Changegate feature that helps.
    pub feature: String,
    /// The seed's guidance for this move up the ladder.
    pub guidance: String,
    /// Where the criterion stands now.
    pub evidence: String,
    /// Expected impact: how many of the period's changes (or incidents, for the incident criteria)
    /// the step would bring in line; for a step about the installation as a whole (live evidence,
    /// a question, a trend), every production deployment of the period.
    pub impact: u64,
}

/// The whole assessment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub rubric_version: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub assessed_at: Timestamp,
    /// The lowest dimension's level (CMMI staged view).
    pub overall_level: u8,
    pub overall_level_name: String,
    pub dimensions: Vec<DimensionResult>,
    /// Steps to each dimension's next level: the dimensions holding the overall level back first,
    /// then by expected impact.
    pub roadmap: Vec<RoadmapStep>,
    /// Production deployments in the period.
    pub deployments: u64,
    /// How many of them were imported from another system.
    pub imported_deployments: u64,
    /// Questions not answered (each counts as "no").
    pub unanswered_questions: Vec<String>,
}

/// A dimension's level alone, for trends and charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionLevel {
    pub name: Dimension,
    pub level: u8,
}

impl Assessment {
    pub fn dimension(&self, name: Dimension) -> Option<&DimensionResult> {
        self.dimensions.iter().find(|dimension| dimension.name == name)
    }

    /// Every dimension's level.
    pub fn levels(&self) -> Vec<DimensionLevel> {
        self.dimensions
            .iter()
            .map(|dimension| DimensionLevel { name: dimension.name, level: dimension.level })
            .collect()
    }
}

/// Checks that the period can be assessed: `from` before `to`, at most [`PERIOD_MAX_DAYS`] apart.
pub fn check_period(from: Timestamp, to: Timestamp) -> Result<(), MaturityError> {
    if from >= to {
        return Err(MaturityError::InvalidPeriod {
            field: "from",
            message: format!("the period must start before it ends (from {from}, to {to})"),
        });
    }
    if to.since_ms(from) > PERIOD_MAX_DAYS * crate::civil::DAY_MS {
        return Err(MaturityError::InvalidPeriod {
            field: "to",
            message: format!("the period may span at most {PERIOD_MAX_DAYS} days"),
        });
    }
    Ok(())
}

/// The gated level and the progress into the next, from the criteria checked.
fn gate(criteria: &[CriterionResult]) -> (u8, f64) {
    let mut level = 1;
    for candidate in 2..=LEVEL_MAX {
        if criteria.iter().filter(|criterion| criterion.level == candidate).all(|criterion| criterion.met) {
            level = candidate;
        } else {
            break;
        }
    }
    if level == LEVEL_MAX {
        return (level, 1.0);
    }
    let next: Vec<&CriterionResult> = criteria.iter().filter(|criterion| criterion.level == level + 1).collect();
    let met = next.iter().filter(|criterion| criterion.met).count();
    (level, met as f64 / next.len().max(1) as f64)
}

/// Assesses the period.
pub fn assess(input: &AssessmentInput<'_>) -> Result<Assessment, MaturityError> {
    check_period(input.from, input.to)?;
    let facts = Facts::gather(input);
    let mut dimensions = Vec::with_capacity(Dimension::ALL.len());
    let mut roadmap = Vec::new();
    for dimension in Dimension::ALL {
        let checked: Vec<(&crate::rubric::Criterion, Measurement)> = RUBRIC
            .iter()
            .filter(|criterion| criterion.dimension == dimension)
            .map(|criterion| (criterion, (criterion.check)(&facts, criterion)))
            .collect();
        let criteria: Vec<CriterionResult> = checked
            .iter()
            .map(|(criterion, measurement)| CriterionResult {
                id: criterion.id.to_owned(),
                level: criterion.level,
                kind: criterion.kind,
                title: criterion.title.to_owned(),
                met: measurement.met,
                value: measurement.value.map(|value| (value * 10_000.0).round() / 10_000.0),
                threshold: criterion.threshold,
                comparison: criterion.comparison,
                unit: criterion.unit,
                evidence: measurement.evidence.clone(),
            })
            .collect();
        let (level, progress) = gate(&criteria);
        let mut steps: Vec<RoadmapStep> = checked
            .iter()
            .filter(|(criterion, measurement)| criterion.level == level + 1 && !measurement.met)
            .map(|(criterion, measurement)| RoadmapStep {
                dimension,
                from_level: level,
                to_level: level + 1,
                criterion: criterion.id.to_owned(),
                title: criterion.title.to_owned(),
                step: criterion.step.to_owned(),
                feature: criterion.feature.to_owned(),
                guidance: crate::rubric::ladder_guidance(level).to_owned(),
                evidence: measurement.evidence.summary.clone(),
                impact: measurement.shortfall,
            })
            .collect();
        steps.sort_by(|left, right| right.impact.cmp(&left.impact).then_with(|| left.criterion.cmp(&right.criterion)));
        roadmap.extend(steps);
        dimensions.push(DimensionResult {
            name: dimension,
            title: dimension.title().to_owned(),
            level,
            level_name: crate::rubric::level_name(level).to_owned(),
            progress: (progress * 1000.0).round() / 1000.0,
            criteria,
        });
    }
    let overall_level = dimensions.iter().map(|dimension| dimension.level).min().unwrap_or(1);
    let level_of = |name: Dimension| dimensions.iter().find(|dimension| dimension.name == name).map_or(1, |d| d.level);
    // Dimensions holding the overall level back come first; the sort is stable, so each
    // dimension's steps stay in impact order.
    roadmap.sort_by_key(|step| level_of(step.dimension));
    let unanswered_questions = RUBRIC
        .iter()
        .filter(|criterion| criterion.kind == CriterionKind::Question && !facts.answers.contains_key(criterion.id))
        .map(|criterion| criterion.id.to_owned())
        .collect();
    Ok(Assessment {
        rubric_version: RUBRIC_VERSION.to_owned(),
        from: input.from,
        to: input.to,
        assessed_at: input.now,
        overall_level,
        overall_level_name: crate::rubric::level_name(overall_level).to_owned(),
        dimensions,
        roadmap,
        deployments: facts.deployments.len() as u64,
        imported_deployments: facts.deployments.iter().filter(|change| change.imported).count() as u64,
        unanswered_questions,
    })
}

/// Checks answers against the questionnaire: every id must name a question.
pub fn validate_answers<'a>(ids: impl IntoIterator<Item = &'a String>) -> Result<(), MaturityError> {
    let mut any = false;
    for id in ids {
        any = true;
        let is_question =
            crate::rubric::criterion(id).is_some_and(|criterion| criterion.kind == CriterionKind::Question);
        if !is_question {
            return Err(MaturityError::UnknownQuestion(id.chars().take(80).collect()));
        }
    }
    if any { Ok(()) } else { Err(MaturityError::NoAnswers) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(level: u8, met: bool) -> CriterionResult {
        CriterionResult {
            id: format!("x.{level}-{met}"),
            level,
            kind: CriterionKind::Data,
            title: String::new(),
            met,
            value: None,
            threshold: 0.5,
            comparison: Comparison::AtLeast,
            unit: Unit::Share,
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn a_level_needs_every_criterion_of_the_levels_below() {
        // Given a dimension meeting levels 2 and 4 but not 3, when gated, then it is at level 2
        // with half of level 3 met.
        let criteria = vec![result(2, true), result(3, true), result(3, false), result(4, true), result(5, true)];
        assert_eq!(gate(&criteria), (2, 0.5));
        assert_eq!(gate(&[result(2, false), result(3, true)]), (1, 0.0));
        assert_eq!(gate(&[result(2, true), result(3, true), result(4, true), result(5, true)]), (5, 1.0));
    }

    #[test]
    fn answers_must_name_questions() {
        let ids = |ids: &[&str]| ids.iter().map(|id| (*id).to_owned()).collect::<Vec<String>>();
        assert_eq!(validate_answers(&ids(&["process.roles-published"])), Ok(()));
        assert_eq!(validate_answers(&ids(&[])), Err(MaturityError::NoAnswers));
        assert_eq!(
            validate_answers(&ids(&["risk.formal-class-share"])),
            Err(MaturityError::UnknownQuestion("risk.formal-class-share".into()))
        );
    }

    #[test]
    fn periods_must_be_ordered_and_bounded() {
        let at = Timestamp::from_unix_ms;
        assert!(check_period(at(0), at(1)).is_ok());
        assert!(matches!(check_period(at(1), at(1)), Err(MaturityError::InvalidPeriod { field: "from", .. })));
        let too_long = (PERIOD_MAX_DAYS + 1) * crate::civil::DAY_MS;
        assert!(matches!(check_period(at(0), at(too_long)), Err(MaturityError::InvalidPeriod { field: "to", .. })));
    }
}
