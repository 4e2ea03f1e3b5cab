//! Maturity: the `/maturity` page and its questionnaire form.
//!
//! The page shows the overall level (the lowest dimension), a radar chart of the five dimensions,
//! every criterion of every dimension with its value, threshold and evidence (sample changes link
//! to their pages), the roadmap to each dimension's next level, the month-by-month trend (a table
//! and a small chart of the overall level), and the questionnaire with the answers in force. The
//! form records answers through the service (admin or cab; CSRF like every form), as a ledger event
//! by the signed-in user.
//!
//! Charts are inline SVG computed here and in `changegate_maturity::radar`; the CSP allows neither
//! scripts nor inline styles, so geometry goes in attributes and colours come from `app.css`.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use changegate_core::Timestamp;
use changegate_maturity::report::{threshold_text, value_text};
use changegate_maturity::{Assessment, TrendPoint};
use changegate_service::Permission;
use changegate_service::{MaturityPeriod, RecordedAnswer, ServiceError, TREND_MONTHS_DEFAULT};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{CsrfField, bad_form, checked_form, non_blank};
use super::render::{Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;

/// Width of one month in the trend chart, in SVG user units.
const TREND_MONTH_WIDTH: f64 = 44.0;
/// Height of one level in the trend chart.
const TREND_LEVEL_HEIGHT: f64 = 22.0;
const TREND_MARGIN_LEFT: f64 = 60.0;
const TREND_MARGIN_TOP: f64 = 10.0;
const TREND_MARGIN_BOTTOM: f64 = 26.0;
/// Longest text of a query value echoed back in an error.
const ECHO_LENGTH_MAX: usize = 40;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MaturityParams {
    /// `YYYY-MM-DD` (midnight UTC) or RFC 3339.
    from: String,
    to: String,
    /// `answered` after the questionnaire was saved.
    done: String,
}

/// A date (`2026-03-01`, midnight UTC) or an RFC 3339 time from a form field.
fn parse_day_or_time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    let full = if text.len() == 10 { format!("{text}T00:00:00Z") } else { text.to_owned() };
    Timestamp::parse_rfc3339(&full).map_err(|_| {
        let shown: String = text.chars().take(ECHO_LENGTH_MAX).collect();
        format!("`{shown}` is not a date (YYYY-MM-DD) or an RFC 3339 time")
    })
}

/// One criterion as the page shows it.
#[derive(Serialize)]
struct CriterionRow {
    id: String,
    level: u8,
    kind: String,
    title: String,
    met: bool,
    value: String,
    threshold: String,
    summary: String,
    sample_changes: Vec<String>,
    sample_incidents: Vec<String>,
}

#[derive(Serialize)]
struct DimensionSection {
    name: &'static str,
    title: String,
    level: u8,
    level_name: String,
    /// `50%` of the next level's criteria met; `None` at level 5.
    progress: Option<String>,
    next_level: u8,
    criteria: Vec<CriterionRow>,
}

fn dimension_sections(assessment: &Assessment) -> Vec<DimensionSection> {
    assessment
        .dimensions
        .iter()
        .map(|dimension| DimensionSection {
            name: dimension.name.as_str(),
            title: dimension.title.clone(),
            level: dimension.level,
            level_name: dimension.level_name.clone(),
            progress: (dimension.level < changegate_maturity::LEVEL_MAX)
                .then(|| format!("{:.0}%", dimension.progress * 100.0)),
            next_level: dimension.level + 1,
            criteria: dimension
                .criteria
                .iter()
                .map(|criterion| CriterionRow {
                    id: criterion.id.clone(),
                    level: criterion.level,
                    kind: serde_json::to_value(criterion.kind)
                        .ok()
                        .and_then(|kind| kind.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    title: criterion.title.clone(),
                    met: criterion.met,
                    value: value_text(criterion.unit, criterion.value),
                    threshold: threshold_text(criterion),
                    summary: criterion.evidence.summary.clone(),
                    sample_changes: criterion.evidence.sample_change_ids.clone(),
                    sample_incidents: criterion.evidence.sample_incident_ids.clone(),
                })
                .collect(),
        })
        .collect()
}

/// The page of the feature that helps, when it has one here (the rubric names features in words;
/// the pages are this server's).
fn feature_page(feature: &str) -> Option<&'static str> {
    const PAGES: &[(&str, &str)] = &[
        ("New change", "/changes/new"),
        ("approvals inbox", "/approvals"),
        ("template", "/templates"),
        ("polic", "/policy"),
        ("risk", "/risk"),
        ("ledger", "/ledger"),
        ("audit verify", "/ledger"),
        ("incident", "/incidents"),
    ];
    PAGES.iter().find(|(words, _)| feature.contains(words)).map(|(_, page)| *page)
}

/// A roadmap step as the page shows it.
#[derive(Serialize)]
struct StepRow<'a> {
    #[serde(flatten)]
    step: &'a changegate_maturity::RoadmapStep,
    /// The page of the feature that helps.
    page: Option<&'static str>,
}

/// One point of the trend chart.
#[derive(Serialize, Debug)]
struct TrendChartPoint {
    x: f64,
    y: f64,
    label: String,
}

/// The small chart of the overall level by month.
#[derive(Serialize, Debug)]
struct TrendChart {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    /// Level lines: `(level, y)`.
    levels: Vec<(u8, f64)>,
    points: Vec<TrendChartPoint>,
    /// `points` of the step line.
    line: String,
    /// Month labels under the axis: `(x, label)`.
    months: Vec<(f64, String)>,
    description: String,
}

fn trend_chart(points: &[TrendPoint]) -> Option<TrendChart> {
    if points.is_empty() {
        return None;
    }
    let bottom = TREND_MARGIN_TOP + TREND_LEVEL_HEIGHT * 4.0;
    let y_of = |level: u8| bottom - TREND_LEVEL_HEIGHT * f64::from(level.clamp(1, 5) - 1);
    let x_of = |index: usize| TREND_MARGIN_LEFT + TREND_MONTH_WIDTH * (index as f64 + 0.5);
    let chart_points: Vec<TrendChartPoint> = points
        .iter()
        .enumerate()
        .map(|(index, point)| TrendChartPoint {
            x: x_of(index),
            y: y_of(point.overall_level),
            label: format!("{}: overall level {}", point.month, point.overall_level),
        })
        .collect();
    let line = chart_points.iter().map(|point| format!("{},{}", point.x, point.y)).collect::<Vec<_>>().join(" ");
    let width = TREND_MARGIN_LEFT + TREND_MONTH_WIDTH * points.len() as f64 + 10.0;
    Some(TrendChart {
        width,
        height: bottom + TREND_MARGIN_BOTTOM,
        left: TREND_MARGIN_LEFT,
        right: width - 10.0,
        levels: (1..=5).map(|level| (level, y_of(level))).collect(),
        months: points.iter().enumerate().map(|(index, point)| (x_of(index), point.month[2..].to_owned())).collect(),
        line,
        description: points
            .iter()
            .map(|point| format!("{} level {}", point.month, point.overall_level))
            .collect::<Vec<_>>()
            .join(", "),
        points: chart_points,
    })
}

#[derive(Serialize)]
struct TrendRow {
    month: String,
    overall_level: u8,
    levels: Vec<u8>,
    deployments: u64,
}

/// One question with the answer in force.
#[derive(Serialize)]
struct QuestionRow {
    id: String,
    dimension: &'static str,
    level: u8,
    text: String,
    /// `yes`, `no`, or empty when unanswered.
    answer: &'static str,
    answered_by: Option<String>,
    answered_at: Option<String>,
}

fn question_rows(state: &AppState, answers: &[RecordedAnswer]) -> Vec<QuestionRow> {
    state
        .service
        .maturity_questions()
        .into_iter()
        .map(|question| {
            let answer = answers.iter().find(|answer| answer.id == question.id);
            QuestionRow {
                dimension: question.dimension.title(),
                level: question.level,
                text: question.text,
                answer: match answer {
                    Some(answer) if answer.yes => "yes",
                    Some(_) => "no",
                    None => "",
                },
                answered_by: answer.map(|answer| answer.answered_by.clone()),
                answered_at: answer.map(|answer| answer.answered_at.to_rfc3339()),
                id: question.id,
            }
        })
        .collect()
}

async fn maturity_page(
    state: &AppState,
    session: &Session,
    period: MaturityPeriod,
    status: StatusCode,
    flash: Option<Flash>,
) -> Response {
    let service = &state.service;
    let report = service.maturity_report(&session.caller, period, &BTreeMap::new(), TREND_MONTHS_DEFAULT).await;
    let (assessment, trend) = match report {
        Ok(report) => report,
        Err(ServiceError::Validation(fields)) => {
            let message = fields.iter().map(|field| field.message.clone()).collect::<Vec<_>>().join("; ");
            return bad_form(state, Some(session), StatusCode::UNPROCESSABLE_ENTITY, message);
        }
        Err(error) => return service_error(state, Some(session), error),
    };
    let answers = match service.maturity_answers(&session.caller).await {
        Ok(answers) => answers,
        Err(error) => return service_error(state, Some(session), error),
    };
    let radar = changegate_maturity::radar::radar(&assessment.levels());
    let trend_rows: Vec<TrendRow> = trend
        .iter()
        .map(|point| TrendRow {
            month: point.month.clone(),
            overall_level: point.overall_level,
            levels: point.dimensions.iter().map(|dimension| dimension.level).collect(),
            deployments: point.deployments,
        })
        .collect();
    let context = context! {
        assessment => to_value(&assessment),
        dimensions => to_value(dimension_sections(&assessment)),
        roadmap => to_value(
            assessment.roadmap.iter().map(|step| StepRow { step, page: feature_page(&step.feature) }).collect::<Vec<_>>()
        ),
        dimension_titles => changegate_maturity::Dimension::ALL.iter().map(|dimension| dimension.title()).collect::<Vec<_>>(),
        radar => to_value(&radar),
        trend => to_value(&trend_rows),
        trend_chart => trend_chart(&trend).map(to_value),
        questions => to_value(question_rows(state, &answers)),
        can_answer => session.caller.may(Permission::AnswerMaturity),
        from_day => assessment.from.to_rfc3339().chars().take(10).collect::<String>(),
        to_day => assessment.to.to_rfc3339().chars().take(10).collect::<String>(),
        roadmap_note => changegate_maturity::report::ROADMAP_NOTE,
        ..layout(Some(session), "maturity", flash)
    };
    render(state, status, "maturity.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn maturity(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<MaturityParams>, QueryRejection>,
) -> Response {
    let Query(params) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_form(&state, Some(&session), rejection.status(), rejection.body_text()),
    };
    let mut period = MaturityPeriod::default();
    for (text, end) in [(&params.from, &mut period.from), (&params.to, &mut period.to)] {
        if let Some(text) = non_blank(text) {
            match parse_day_or_time(&text) {
                Ok(time) => *end = Some(time),
                Err(message) => return bad_form(&state, Some(&session), StatusCode::UNPROCESSABLE_ENTITY, message),
            }
        }
    }
    let flash = (params.done == "answered")
        .then(|| Flash::success("Your answers were recorded in the ledger, with your name, and are used from now on."));
    maturity_page(&state, &session, period, StatusCode::OK, flash).await
}

/// The questionnaire form: each question's field holds `yes`, `no` or nothing (unchanged).
#[derive(Deserialize)]
pub struct AnswersForm {
    csrf: Option<String>,
    #[serde(default)]
    comment: String,
    #[serde(flatten)]
    answers: BTreeMap<String, String>,
}

impl CsrfField for AnswersForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn record_answers(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<AnswersForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let mut answers = BTreeMap::new();
    for (id, value) in &form.answers {
        match value.trim() {
            "" => {}
            "yes" => {
                answers.insert(id.clone(), true);
            }
            "no" => {
                answers.insert(id.clone(), false);
            }
            _ => {
                let message = "Each answer must be yes or no (or left unchanged).".to_owned();
                return bad_form(&state, Some(&session), StatusCode::UNPROCESSABLE_ENTITY, message);
            }
        }
    }
    match state.service.answer_maturity(&session.caller, answers, non_blank(&form.comment)).await {
        Ok(_) => Redirect::to("/maturity?done=answered").into_response(),
        Err(ServiceError::Validation(fields)) => {
            let message = fields.iter().map(|field| field.message.clone()).collect::<Vec<_>>().join("; ");
            let flash = Some(Flash::error(format!("Nothing was recorded: {message}.")));
            maturity_page(&state, &session, MaturityPeriod::default(), StatusCode::UNPROCESSABLE_ENTITY, flash).await
        }
        Err(error) => service_error(&state, Some(&session), error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_link_to_their_pages() {
        assert_eq!(feature_page("the approval policy and the approvals inbox"), Some("/approvals"));
        assert_eq!(feature_page("standard-change templates and policy auto-approval"), Some("/templates"));
        assert_eq!(feature_page("`changegate risk train` and the risk page"), Some("/risk"));
        assert_eq!(feature_page("alert rules with webhook delivery"), None);
        for criterion in changegate_maturity::RUBRIC {
            if let Some(page) = feature_page(criterion.feature) {
                assert!(page.starts_with('/'), "{}", criterion.id);
            }
        }
    }

    #[test]
    fn dates_and_times_both_parse() {
        assert_eq!(parse_day_or_time("2026-03-01").unwrap(), Timestamp::parse_rfc3339("2026-03-01T00:00:00Z").unwrap());
        assert!(parse_day_or_time("2026-03-01T12:00:00Z").is_ok());
        let error = parse_day_or_time(&"x".repeat(200)).unwrap_err();
        assert!(error.len() < 120, "{error}");
    }
}
