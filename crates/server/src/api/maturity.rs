//! Handlers for the maturity assessment: the assessment of a period, its month-by-month trend,
//! the questionnaire and its answers. Translation only; the service gathers and the maturity crate
//! judges.
//!
//! The views mirror `changegate_maturity::Assessment` field for field (a test keeps them equal), so
//! `GET /api/v1/maturity` is the same JSON as `changegate assess --json`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use changegate_maturity::{Assessment, CriterionResult, DimensionResult, Question, RoadmapStep, TrendPoint};
use changegate_service::{MaturityPeriod, RecordedAnswer, TREND_MONTHS_DEFAULT};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::governance::parse_time;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated, JsonBody};

/// The serde name of an enum value (`risk_management`, `at_least`, …).
fn tag<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

/// What a criterion's check found.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceView {
    /// The measurement in one sentence.
    pub summary: String,
    /// How many items were measured, for shares.
    pub population: Option<u64>,
    /// How many of them meet the check.
    pub matching: Option<u64>,
    /// Changes that do not meet the check (the ones to fix), at most five.
    pub sample_change_ids: Vec<String>,
    /// Incidents that do not meet the check, at most five.
    pub sample_incident_ids: Vec<String>,
}

/// One criterion, checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionView {
    #[schema(example = "risk.formal-class-share")]
    pub id: String,
    pub level: u8,
    /// `data` (records, live or imported), `live` (only a live installation has it) or `question`.
    pub kind: String,
    pub title: String,
    pub met: bool,
    /// The measured value in `unit`; null when nothing could be measured.
    pub value: Option<f64>,
    pub threshold: f64,
    /// `at_least` or `at_most`.
    pub comparison: String,
    /// `share` (0–1), `count`, `days`, `auc`, `ratio` or `answer` (1 yes, 0 no).
    pub unit: String,
    pub evidence: EvidenceView,
}

impl From<&CriterionResult> for CriterionView {
    fn from(criterion: &CriterionResult) -> Self {
        let evidence = &criterion.evidence;
        CriterionView {
            id: criterion.id.clone(),
            level: criterion.level,
            kind: tag(&criterion.kind),
            title: criterion.title.clone(),
            met: criterion.met,
            value: criterion.value,
            threshold: criterion.threshold,
            comparison: tag(&criterion.comparison),
            unit: tag(&criterion.unit),
            evidence: EvidenceView {
                summary: evidence.summary.clone(),
                population: evidence.population,
                matching: evidence.matching,
                sample_change_ids: evidence.sample_change_ids.clone(),
                sample_incident_ids: evidence.sample_incident_ids.clone(),
            },
        }
    }
}

/// One dimension, assessed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DimensionView {
    /// `process`, `risk_management`, `metrics`, `automation` or `audit_compliance`.
    pub name: String,
    pub title: String,
    /// 1 to 5: the highest level whose criteria, and all those below, hold.
    pub level: u8,
    pub level_name: String,
    /// Share of the next level's criteria met (1 at level 5).
    pub progress: f64,
    pub criteria: Vec<CriterionView>,
}

impl From<&DimensionResult> for DimensionView {
    fn from(dimension: &DimensionResult) -> Self {
        DimensionView {
            name: dimension.name.as_str().to_owned(),
            title: dimension.title.clone(),
            level: dimension.level,
            level_name: dimension.level_name.clone(),
            progress: dimension.progress,
            criteria: dimension.criteria.iter().map(CriterionView::from).collect(),
        }
    }
}

/// A step of the roadmap: an unmet criterion of a dimension's next level.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoadmapStepView {
    pub dimension: String,
    pub from_level: u8,
    pub to_level: u8,
    pub criterion: String,
    pub title: String,
    pub step: String,
    /// The Changegate feature that helps.
    pub feature: String,
    /// The seed's guidance for this move up the ladder.
    pub guidance: String,
    /// Where the criterion stands now.
    pub evidence: String,
    /// How many of the period's changes (or incidents) the step would bring in line; every
    /// deployment for a step about the installation as a whole.
    pub impact: u64,
}

impl From<&RoadmapStep> for RoadmapStepView {
    fn from(step: &RoadmapStep) -> Self {
        RoadmapStepView {
            dimension: step.dimension.as_str().to_owned(),
            from_level: step.from_level,
            to_level: step.to_level,
            criterion: step.criterion.clone(),
            title: step.title.clone(),
            step: step.step.clone(),
            feature: step.feature.clone(),
            guidance: step.guidance.clone(),
            evidence: step.evidence.clone(),
            impact: step.impact,
        }
    }
}

/// The assessment of a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaturityAssessmentView {
    /// The rubric version (`docs/maturity-rubric.md`).
    pub rubric_version: String,
    pub from: String,
    pub to: String,
    pub assessed_at: String,
    /// The lowest dimension's level (CMMI staged view).
    pub overall_level: u8,
    pub overall_level_name: String,
    pub dimensions: Vec<DimensionView>,
    /// The dimensions at the lowest level first, then by impact.
    pub roadmap: Vec<RoadmapStepView>,
    /// Production deployments in the period.
    pub deployments: u64,
    /// How many of them were imported from another system.
    pub imported_deployments: u64,
    /// Questions not answered (each counts as no).
    pub unanswered_questions: Vec<String>,
}

impl From<&Assessment> for MaturityAssessmentView {
    fn from(assessment: &Assessment) -> Self {
        MaturityAssessmentView {
            rubric_version: assessment.rubric_version.clone(),
            from: assessment.from.to_rfc3339(),
            to: assessment.to.to_rfc3339(),
            assessed_at: assessment.assessed_at.to_rfc3339(),
            overall_level: assessment.overall_level,
            overall_level_name: assessment.overall_level_name.clone(),
            dimensions: assessment.dimensions.iter().map(DimensionView::from).collect(),
            roadmap: assessment.roadmap.iter().map(RoadmapStepView::from).collect(),
            deployments: assessment.deployments,
            imported_deployments: assessment.imported_deployments,
            unanswered_questions: assessment.unanswered_questions.clone(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MaturityParams {
    /// RFC 3339 start (inclusive); default 90 days before `to`.
    pub from: Option<String>,
    /// RFC 3339 end (exclusive); default now.
    pub to: Option<String>,
}

/// The maturity assessment of a period (default: the last 90 days): the level of each dimension
/// with every criterion and its evidence, the overall level, and the roadmap.
#[utoipa::path(get, path = "/api/v1/maturity", tag = "maturity", params(MaturityParams),
    responses((status = 200, body = MaturityAssessmentView), (status = 401, body = ErrorBody),
        (status = 422, description = "A time that does not parse, or a period that ends before it starts or spans more than 1,098 days", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn assessment(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<MaturityParams>,
) -> Result<Json<MaturityAssessmentView>, ApiError> {
    let period = MaturityPeriod {
        from: parse_time("from", params.from.as_deref())?,
        to: parse_time("to", params.to.as_deref())?,
    };
    let assessment = state.service.maturity_assessment(&caller, period, &BTreeMap::new()).await?;
    Ok(Json(MaturityAssessmentView::from(&assessment)))
}

/// A question of the questionnaire.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    /// The criterion it answers.
    #[schema(example = "process.roles-published")]
    pub id: String,
    pub dimension: String,
    pub level: u8,
    pub text: String,
}

impl From<&Question> for QuestionView {
    fn from(question: &Question) -> Self {
        QuestionView {
            id: question.id.clone(),
            dimension: question.dimension.as_str().to_owned(),
            level: question.level,
            text: question.text.clone(),
        }
    }
}

/// The questionnaire: only what the data cannot show.
#[utoipa::path(get, path = "/api/v1/maturity/questions", tag = "maturity",
    responses((status = 200, body = [QuestionView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn questions(
    State(state): State<AppState>,
    Authenticated(_caller): Authenticated,
) -> Json<Vec<QuestionView>> {
    Json(state.service.maturity_questions().iter().map(QuestionView::from).collect())
}

/// An answer in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    pub id: String,
    pub yes: bool,
    pub answered_by: String,
    pub answered_at: String,
}

impl From<&RecordedAnswer> for AnswerView {
    fn from(answer: &RecordedAnswer) -> Self {
        AnswerView {
            id: answer.id.clone(),
            yes: answer.yes,
            answered_by: answer.answered_by.clone(),
            answered_at: answer.answered_at.to_rfc3339(),
        }
    }
}

/// `POST /api/v1/maturity/answers`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersRequest {
    /// `{"<question id>": true|false}`; every id must name a question.
    #[schema(example = json!({"process.roles-published": true}))]
    pub answers: BTreeMap<String, bool>,
    /// Why, or where the evidence is (kept with the answers in the ledger).
    pub comment: Option<String>,
}

/// The answers in force: the latest recorded answer to each question, with who gave it.
#[utoipa::path(get, path = "/api/v1/maturity/answers", tag = "maturity",
    responses((status = 200, body = [AnswerView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn answers(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<AnswerView>>, ApiError> {
    Ok(Json(state.service.maturity_answers(&caller).await?.iter().map(AnswerView::from).collect()))
}

/// Record answers to the questionnaire (admin or cab), as a ledger event by the caller. Returns
/// the answers in force.
#[utoipa::path(post, path = "/api/v1/maturity/answers", tag = "maturity", request_body = AnswersRequest,
    responses((status = 200, body = [AnswerView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "No answers, or an id that names no question", body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name()))]
pub async fn record_answers(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    body: JsonBody<AnswersRequest>,
) -> Result<Json<Vec<AnswerView>>, ApiError> {
    let request = body.value;
    let recorded = state.service.answer_maturity(&caller, request.answers, request.comment).await?;
    Ok(Json(recorded.iter().map(AnswerView::from).collect()))
}

/// A dimension's level in one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct DimensionLevelView {
    pub name: String,
    pub level: u8,
}

/// One month of the trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPointView {
    #[schema(example = "2026-03")]
    pub month: String,
    /// The window assessed: the 90 days before `to`.
    pub from: String,
    pub to: String,
    pub overall_level: u8,
    pub dimensions: Vec<DimensionLevelView>,
    pub deployments: u64,
}

impl From<&TrendPoint> for TrendPointView {
    fn from(point: &TrendPoint) -> Self {
        TrendPointView {
            month: point.month.clone(),
            from: point.from.to_rfc3339(),
            to: point.to.to_rfc3339(),
            overall_level: point.overall_level,
            dimensions: point
                .dimensions
                .iter()
                .map(|dimension| DimensionLevelView {
                    name: dimension.name.as_str().to_owned(),
                    level: dimension.level,
                })
                .collect(),
            deployments: point.deployments,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// RFC 3339 end of the last month's window; default now.
    pub to: Option<String>,
    /// Months, 1 to 36; default 12.
    pub months: Option<u32>,
}

/// The assessment month by month, each month over the 90 days before its end, oldest first.
#[utoipa::path(get, path = "/api/v1/maturity/trend", tag = "maturity", params(TrendParams),
    responses((status = 200, body = [TrendPointView]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn trend(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<TrendParams>,
) -> Result<Json<Vec<TrendPointView>>, ApiError> {
    let to = parse_time("to", params.to.as_deref())?;
    let months = params.months.unwrap_or(TREND_MONTHS_DEFAULT);
    let points = state.service.maturity_trend(&caller, to, months).await?;
    Ok(Json(points.iter().map(TrendPointView::from).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use changegate_core::Timestamp;
    use changegate_maturity::{AssessmentInput, LiveEvidence};

    #[test]
    fn the_view_is_the_assessment_field_for_field() {
        // Given an assessment of an empty history, when shown through the API view, then its JSON
        // is the assessment's own (what `changegate assess --json` prints locally).
        let (live, answers) = (LiveEvidence::default(), BTreeMap::new());
        let input = AssessmentInput {
            from: Timestamp::from_unix_ms(0),
            to: Timestamp::from_unix_ms(90 * 86_400_000),
            now: Timestamp::from_unix_ms(90 * 86_400_000),
            changes: &[],
            incidents: &[],
            services: &[],
            live: &live,
            answers: &answers,
        };
        let assessment = changegate_maturity::assess(&input).unwrap();
        let view = serde_json::to_value(MaturityAssessmentView::from(&assessment)).unwrap();
        assert_eq!(view, serde_json::to_value(&assessment).unwrap());
        let question = &changegate_maturity::questions()[0];
        assert_eq!(
            serde_json::to_value(QuestionView::from(question)).unwrap(),
            serde_json::to_value(question).unwrap()
        );
    }
}
