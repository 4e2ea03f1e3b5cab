//! Risk: the `/risk` page and the "Risk" panel of the change page.
//!
//! The page shows the predictive model in use with its measured quality (ROC AUC, Brier score,
//! the failure rate it learned from, and a reliability diagram of its calibration with the table
//! behind it), every model version trained (older ones stay for audit; any can be shown with
//! `?version=`), and the factor weights in use. Without a model it says how to train one and what
//! the factor score does meanwhile.
//!
//! The panel shows a change's recorded factor points as bars, the probability recorded at
//! submission with its model version, and, when a model is trained, the model's largest
//! contributions to its prediction (`Service::explain_risk`; only called when a model exists).
//!
//! Charts are inline SVG computed here: the CSP allows neither scripts nor inline styles, so
//! geometry goes in SVG attributes and colours and fonts come from classes in `app.css`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use changegate_core::event::RiskFactorRecord;
use changegate_core::{ChangeRecord, RiskModelRecord};
use changegate_risk::factors::CLASS_THRESHOLDS;
use changegate_risk::{CalibrationBin, Explanation, RiskWeights};
use changegate_service::Caller;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{bad_form, non_blank};
use super::render::{Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;

/// Model contributions the change page lists, largest absolute value first.
const CONTRIBUTIONS_SHOWN: usize = 5;
/// Contributions smaller than this (in log-odds) print as 0.00 and explain nothing: not listed.
const CONTRIBUTION_SHOWN_MIN: f64 = 0.005;
/// Side of the reliability diagram's square plot, in SVG user units.
const CHART_PLOT_SIZE: f64 = 300.0;
/// Room around the plot for tick labels and axis titles.
const CHART_MARGIN_LEFT: f64 = 62.0;
const CHART_MARGIN_TOP: f64 = 12.0;
const CHART_MARGIN_RIGHT: f64 = 16.0;
const CHART_MARGIN_BOTTOM: f64 = 50.0;
/// Grid lines and tick labels every 20 %.
const CHART_TICKS: u32 = 5;
/// Radius of a bin's point: the smallest bin's and the largest's (area grows with the count).
const POINT_RADIUS_MIN: f64 = 3.5;
const POINT_RADIUS_MAX: f64 = 12.0;
/// Length of a full bar in the change page's bar charts, in SVG user units.
const BAR_LENGTH: f64 = 100.0;
/// Longest model version echoed back in a "not found" message.
const VERSION_LENGTH_MAX: usize = 64;

/// `0.234` → `23.4%`.
fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

/// A coordinate rounded to a tenth of a unit: short attributes, no visible difference.
fn coordinate(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Factor points: `15` when whole, else `7.5`.
fn points_text(points: f64) -> String {
    if (points - points.round()).abs() < 0.05 { format!("{points:.0}") } else { format!("{points:.1}") }
}

/// A signed number with a real minus sign: `+0.84`, `−0.31`.
fn signed(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    if value < 0.0 && text.bytes().any(|byte| byte.is_ascii_digit() && byte != b'0') {
        format!("−{text}")
    } else {
        format!("+{text}")
    }
}

// ---------------------------------------------------------------------------------------------
// Factor weights

/// The factors with their weights, in the documented order. Destructured so that a new factor
/// does not compile until it is listed here.
fn weight_list(weights: &RiskWeights) -> [(&'static str, f64); 9] {
    let RiskWeights {
        service_tier,
        blast_radius,
        change_size,
        security_findings,
        timing,
        rollback_plan,
        test_evidence,
        emergency,
        requester_failures,
    } = *weights;
    [
        ("service_tier", service_tier),
        ("blast_radius", blast_radius),
        ("change_size", change_size),
        ("security_findings", security_findings),
        ("timing", timing),
        ("rollback_plan", rollback_plan),
        ("test_evidence", test_evidence),
        ("emergency", emergency),
        ("requester_failures", requester_failures),
    ]
}

/// What turns a factor on, as `docs/risk.md` documents it (severity 0 to 1 of its weight).
fn severity_text(factor: &str) -> &'static str {
    match factor {
        "service_tier" => "tier 1 → full weight, tier 2 → 0.6, tier 3 → 0.25, tier 4 → none",
        "blast_radius" => "services depending on this one, directly or transitively: full at 5",
        "change_size" => {
            "lines added + deleted (full at 1,000, on a log scale); else files changed (full at 20); unknown → 0.3"
        }
        "security_findings" => {
            "critical findings → full; no security evidence on a service in compliance scope → 0.7, elsewhere → 0.2"
        }
        "timing" => {
            "in or within 24 h of a freeze → full; Friday afternoon or weekend → 0.6; outside 07:00–19:00 UTC → 0.4"
        }
        "rollback_plan" => "no rollback plan → full",
        "test_evidence" => "no test evidence → full",
        "emergency" => "an emergency change → full",
        "requester_failures" => "the requester's failed changes in the last 90 days: full at 3",
        _ => "",
    }
}

/// One factor on the page's weights table.
#[derive(Serialize)]
struct WeightView {
    name: &'static str,
    label: String,
    weight: String,
    default_weight: String,
    /// Configured away from the default.
    changed: bool,
    severity: &'static str,
}

fn weight_views(weights: &RiskWeights) -> Vec<WeightView> {
    let defaults = weight_list(&RiskWeights::default());
    weight_list(weights)
        .into_iter()
        .zip(defaults)
        .map(|((name, weight), (_, default_weight))| WeightView {
            name,
            label: name.replace('_', " "),
            weight: points_text(weight),
            default_weight: points_text(default_weight),
            changed: (weight - default_weight).abs() > f64::EPSILON,
            severity: severity_text(name),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Models and the reliability diagram

/// One trained model as the page shows it.
#[derive(Serialize)]
struct ModelView {
    version: String,
    sequence: u64,
    trained_by: String,
    trained_at: String,
    training_rows: u64,
    validation_rows: u64,
    /// `None` when the validation changes all had the same outcome.
    auc: Option<String>,
    brier: String,
    /// Share of failed changes among the training rows.
    failure_rate: String,
    in_use: bool,
}

impl ModelView {
    fn of(record: &RiskModelRecord, in_use: bool) -> Self {
        ModelView {
            version: record.version.clone(),
            sequence: record.sequence,
            trained_by: record.trained_by.clone(),
            trained_at: record.trained_at.to_rfc3339(),
            training_rows: record.training_rows,
            validation_rows: record.validation_rows,
            auc: record.auc.filter(|auc| auc.is_finite()).map(|auc| format!("{auc:.3}")),
            brier: if record.brier.is_finite() { format!("{:.3}", record.brier) } else { "—".to_owned() },
            failure_rate: percent(record.positive_rate),
            in_use,
        }
    }
}

/// One calibration bin on the table.
#[derive(Serialize)]
struct BinView {
    /// `10–20%`.
    range: String,
    count: usize,
    mean_predicted: Option<String>,
    observed_rate: Option<String>,
    /// Observed minus predicted, in percentage points.
    gap: Option<String>,
}

/// Whether a bin has a point to plot.
fn plotted(bin: &CalibrationBin) -> bool {
    bin.count > 0 && bin.mean_predicted.is_finite() && bin.observed_rate.is_finite()
}

fn bin_view(bin: &CalibrationBin) -> BinView {
    let filled = plotted(bin);
    BinView {
        range: format!("{:.0}–{:.0}%", bin.lower * 100.0, bin.upper * 100.0),
        count: bin.count,
        mean_predicted: filled.then(|| percent(bin.mean_predicted)),
        observed_rate: filled.then(|| percent(bin.observed_rate)),
        gap: filled.then(|| format!("{} pp", signed((bin.observed_rate - bin.mean_predicted) * 100.0, 1))),
    }
}

/// A grid line with its tick label, on both axes (the plot is square).
#[derive(Serialize, Debug)]
struct TickView {
    /// Position along the x axis and along the y axis.
    x: f64,
    y: f64,
    label: String,
}

/// One non-empty bin in the diagram.
#[derive(Serialize, Debug)]
struct PointView {
    cx: f64,
    cy: f64,
    r: f64,
    /// For the point's `<title>`.
    label: String,
}

/// The reliability diagram's geometry, in SVG user units.
#[derive(Serialize, Debug)]
struct ChartView {
    width: f64,
    height: f64,
    /// The plot's edges.
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
    ticks: Vec<TickView>,
    points: Vec<PointView>,
    /// `points` of the polyline joining the bins in order.
    line: String,
    /// For the `<desc>`: what the chart shows, in words.
    description: String,
}

/// The reliability diagram of `bins`: x the mean predicted probability of each non-empty bin,
/// y its observed failure rate, the point's area proportional to its count; `None` when every
/// bin is empty.
fn reliability_chart(bins: &[CalibrationBin]) -> Option<ChartView> {
    let filled: Vec<&CalibrationBin> = bins.iter().filter(|bin| plotted(bin)).collect();
    let count_max = filled.iter().map(|bin| bin.count).max()?;
    let (left, top) = (CHART_MARGIN_LEFT, CHART_MARGIN_TOP);
    let (right, bottom) = (left + CHART_PLOT_SIZE, top + CHART_PLOT_SIZE);
    let x_of = |probability: f64| coordinate(left + probability.clamp(0.0, 1.0) * CHART_PLOT_SIZE);
    let y_of = |rate: f64| coordinate(bottom - rate.clamp(0.0, 1.0) * CHART_PLOT_SIZE);
    let ticks = (0..=CHART_TICKS)
        .map(|step| {
            let value = f64::from(step) / f64::from(CHART_TICKS);
            TickView { x: x_of(value), y: y_of(value), label: format!("{:.0}%", value * 100.0) }
        })
        .collect();
    let points: Vec<PointView> = filled
        .iter()
        .map(|bin| {
            let share = (bin.count as f64 / count_max as f64).sqrt();
            PointView {
                cx: x_of(bin.mean_predicted),
                cy: y_of(bin.observed_rate),
                r: coordinate(POINT_RADIUS_MIN + (POINT_RADIUS_MAX - POINT_RADIUS_MIN) * share),
                label: format!(
                    "Predicted {:.0}–{:.0}%: {} change{}, mean prediction {}, observed failure rate {}",
                    bin.lower * 100.0,
                    bin.upper * 100.0,
                    bin.count,
                    if bin.count == 1 { "" } else { "s" },
                    percent(bin.mean_predicted),
                    percent(bin.observed_rate),
                ),
            }
        })
        .collect();
    let line = points.iter().map(|point| format!("{},{}", point.cx, point.cy)).collect::<Vec<_>>().join(" ");
    let rows: usize = filled.iter().map(|bin| bin.count).sum();
    let description = format!(
        "{} of {} bins hold the {rows} validation changes. For each, the mean predicted probability of failure \
         (across) is plotted against the observed failure rate (up); a well-calibrated model stays on the \
         dashed diagonal. {}",
        filled.len(),
        bins.len(),
        filled
            .iter()
            .map(|bin| format!(
                "{} predicted, {} observed ({} changes).",
                percent(bin.mean_predicted),
                percent(bin.observed_rate),
                bin.count
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Some(ChartView {
        width: left + CHART_PLOT_SIZE + CHART_MARGIN_RIGHT,
        height: top + CHART_PLOT_SIZE + CHART_MARGIN_BOTTOM,
        left,
        top,
        right,
        bottom,
        ticks,
        points,
        line,
        description,
    })
}

/// The model shown in detail: its figures, calibration table and diagram.
#[derive(Serialize)]
struct ShownModelView {
    model: ModelView,
    bins: Vec<BinView>,
    chart: Option<ChartView>,
    /// Failure rate among the validation changes, and the Brier score of always predicting it
    /// (what the model's Brier score should beat).
    validation_failure_rate: Option<String>,
    baseline_brier: Option<String>,
    /// The stored calibration table could not be read.
    calibration_unreadable: bool,
}

fn shown_model(record: &RiskModelRecord, in_use: bool) -> ShownModelView {
    let bins = match serde_json::from_value::<Vec<CalibrationBin>>(record.calibration.clone()) {
        Ok(bins) => Some(bins),
        Err(error) => {
            tracing::warn!(version = %record.version, %error, "a risk model's calibration table does not read");
            None
        }
    };
    let (rows, failures) =
        bins.iter().flatten().filter(|bin| plotted(bin)).fold((0usize, 0.0), |(rows, failures), bin| {
            (rows + bin.count, failures + bin.count as f64 * bin.observed_rate)
        });
    let validation_rate = (rows > 0).then(|| failures / rows as f64);
    ShownModelView {
        model: ModelView::of(record, in_use),
        bins: bins.iter().flatten().map(bin_view).collect(),
        chart: bins.as_deref().and_then(reliability_chart),
        validation_failure_rate: validation_rate.map(percent),
        baseline_brier: validation_rate.map(|rate| format!("{:.3}", rate * (1.0 - rate))),
        calibration_unreadable: bins.is_none(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RiskParams {
    /// A model version, to show an older one.
    version: String,
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn risk(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<RiskParams>, QueryRejection>,
) -> Response {
    let Query(params) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_form(&state, Some(&session), rejection.status(), rejection.body_text()),
    };
    let records = match state.service.risk_models(&session.caller).await {
        Ok(records) => records,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let in_use = records.last();
    let mut status = StatusCode::OK;
    let mut flash = None;
    let shown = match non_blank(&params.version) {
        None => in_use,
        // Retraining on unchanged history gives the same version again: the newest one counts.
        Some(version) => match records.iter().rev().find(|record| record.version == version) {
            Some(record) => Some(record),
            None => {
                status = StatusCode::NOT_FOUND;
                let asked =
                    if version.chars().count() <= VERSION_LENGTH_MAX { version } else { "of that version".to_owned() };
                let message = match in_use {
                    Some(_) => format!("No risk model {asked} was trained on this server; showing the model in use."),
                    None => format!("No risk model {asked} was trained on this server: none has been trained yet."),
                };
                flash = Some(Flash::error(message));
                in_use
            }
        },
    };
    let in_use_sequence = in_use.map(|record| record.sequence);
    let history: Vec<ModelView> =
        records.iter().rev().map(|record| ModelView::of(record, Some(record.sequence) == in_use_sequence)).collect();
    let weights = &state.service.governance_settings().risk_weights;
    let weights_total: f64 = weight_list(weights).iter().map(|(_, weight)| weight.max(0.0)).sum();
    let context = context! {
        shown => shown.map(|record| to_value(shown_model(record, Some(record.sequence) == in_use_sequence))),
        history => to_value(&history),
        weights => to_value(weight_views(weights)),
        weights_changed => *weights != RiskWeights::default(),
        weights_total => points_text(weights_total),
        thresholds => CLASS_THRESHOLDS.to_vec(),
        ..layout(Some(&session), "risk", flash)
    };
    render(&state, status, "risk.html", context)
}

// ---------------------------------------------------------------------------------------------
// The change page's panel

/// A factor's points as a bar.
#[derive(Serialize, Debug)]
struct FactorBarView {
    name: String,
    /// `15` or `7.5`.
    points: String,
    /// Bar length in SVG user units, out of [`BAR_LENGTH`].
    width: f64,
    detail: String,
}

/// One feature's contribution to the model's log-odds, as a bar either side of zero.
#[derive(Serialize, Debug)]
struct ContributionView {
    feature: String,
    label: &'static str,
    /// `+0.84` or `−0.31`.
    value: String,
    raises: bool,
    /// The bar: from `x`, `width` long, out of 2 × [`BAR_LENGTH`] with zero in the middle.
    x: f64,
    width: f64,
}

/// The model's explanation of its prediction for the change.
#[derive(Serialize, Debug)]
struct ExplanationView {
    model: String,
    probability: String,
    /// `intercept + Σ contributions = logit`.
    intercept: String,
    logit: String,
    contributions: Vec<ContributionView>,
    /// The features not listed and what they add up to.
    others: usize,
    others_total: String,
    /// A different model (or none) gave the probability recorded at submission.
    differs_from_recorded: bool,
}

/// The "Risk" panel of the change page.
#[derive(Serialize, Default, Debug)]
pub(super) struct RiskPanelView {
    /// Every factor recorded at submission, in the documented order.
    factors: Vec<FactorBarView>,
    /// Points a full bar stands for: the largest weight in use (or a larger recorded factor).
    bar_scale: String,
    /// The factor points add up to more than 100.
    capped: bool,
    /// Recorded at submission: the model's probability, and its version.
    probability: Option<String>,
    recorded_model: Option<String>,
    /// The version of the model in use now, if one is trained.
    model_in_use: Option<String>,
    explanation: Option<ExplanationView>,
}

/// People's names of the model's features (`CHANGE_FEATURE_NAMES`).
fn feature_label(feature: &str) -> &'static str {
    match feature {
        "tier" => "service tier",
        "production" => "production environment",
        "standard" => "standard change",
        "emergency" => "emergency change",
        "has_rollback_plan" => "rollback plan",
        "has_test_evidence" => "test evidence",
        "has_security_evidence" => "security evidence",
        "critical_findings" => "critical security findings",
        "from_template" => "from a template",
        "scoped" => "service in compliance scope",
        "dependents" => "services depending on it",
        "depends_on" => "services it depends on",
        "hour_utc" => "planned hour (UTC)",
        "weekday" => "planned weekday",
        "planned_minutes" => "planned duration",
        "description_chars" => "description length",
        "service_changes_90d" => "the service's changes in 90 days",
        "service_failure_rate_90d" => "the service's failure rate in 90 days",
        "requester_changes_before" => "the requester's earlier changes",
        "requester_failures_90d" => "the requester's failures in 90 days",
        "ns" => "subsystems touched",
        "nd" => "directories touched",
        "nf" => "files touched",
        "entropy" => "spread of the edit",
        "la" => "lines added",
        "ld" => "lines deleted",
        "lt" => "lines in the files before",
        "fix" => "a bug fix",
        "ndev" => "developers of the files",
        "age" => "days since the files changed",
        "nuc" => "earlier changes to the files",
        "exp" => "author's experience",
        "rexp" => "author's recent experience",
        "sexp" => "author's experience in the subsystem",
        _ => "",
    }
}

fn factor_bars(factors: &[RiskFactorRecord], weights: &RiskWeights) -> (Vec<FactorBarView>, f64) {
    let weight_max = weight_list(weights).iter().map(|(_, weight)| *weight).fold(0.0, f64::max);
    let scale = factors.iter().map(|factor| factor.contribution).fold(weight_max, f64::max);
    let bars = factors
        .iter()
        .map(|factor| FactorBarView {
            name: factor.name.replace('_', " "),
            points: points_text(factor.contribution),
            width: if scale > 0.0 { coordinate(factor.contribution.max(0.0) / scale * BAR_LENGTH) } else { 0.0 },
            detail: factor.detail.clone(),
        })
        .collect();
    (bars, scale)
}

fn explanation_view(model: String, explanation: &Explanation, recorded_model: Option<&str>) -> ExplanationView {
    let mut ranked: Vec<&(String, f64)> = explanation.contributions.iter().collect();
    ranked.sort_by(|left, right| right.1.abs().total_cmp(&left.1.abs()));
    let listed = ranked.iter().take(CONTRIBUTIONS_SHOWN).filter(|(_, value)| value.abs() >= CONTRIBUTION_SHOWN_MIN);
    let (shown, rest) = ranked.split_at(listed.count());
    let largest = shown.first().map_or(0.0, |(_, value)| value.abs());
    let contributions = shown
        .iter()
        .map(|(feature, value)| {
            let width = if largest > 0.0 { coordinate(value.abs() / largest * BAR_LENGTH) } else { 0.0 };
            ContributionView {
                feature: feature.clone(),
                label: feature_label(feature),
                value: signed(*value, 2),
                raises: *value > 0.0,
                x: if *value > 0.0 { BAR_LENGTH } else { BAR_LENGTH - width },
                width,
            }
        })
        .collect();
    let others_total: f64 = rest.iter().map(|(_, value)| value).sum();
    ExplanationView {
        differs_from_recorded: recorded_model != Some(model.as_str()),
        model,
        probability: percent(explanation.probability),
        intercept: signed(explanation.intercept, 2),
        logit: signed(explanation.logit, 2),
        contributions,
        others: rest.len(),
        others_total: signed(others_total, 2),
    }
}

/// The "Risk" panel of `change`. Asks the model for an explanation only when one is trained; a
/// failure to read or explain is logged and leaves that part out rather than failing the page.
pub(super) async fn risk_panel(state: &AppState, caller: &Caller, change: &ChangeRecord) -> RiskPanelView {
    let weights = &state.service.governance_settings().risk_weights;
    let assessment = change.assessment.as_ref();
    let recorded = assessment.map(|assessment| assessment.risk_factors.as_slice()).unwrap_or_default();
    let (factors, scale) = factor_bars(recorded, weights);
    let total: f64 = recorded.iter().map(|factor| factor.contribution).sum();
    let recorded_model = assessment.and_then(|assessment| assessment.risk_model.clone());
    let model_in_use = match state.service.risk_model_in_use(caller).await {
        Ok(version) => version,
        Err(error) => {
            tracing::warn!(change = %change.id, %error, "the risk model version could not be read for the change page");
            None
        }
    };
    let explanation = match &model_in_use {
        None => None,
        Some(_) => match state.service.explain_risk(caller, change.id).await {
            Ok(report) => report
                .prediction
                .map(|(model, explanation)| explanation_view(model, &explanation, recorded_model.as_deref())),
            Err(error) => {
                tracing::warn!(change = %change.id, %error, "the change's risk could not be explained");
                None
            }
        },
    };
    RiskPanelView {
        factors,
        bar_scale: points_text(scale),
        capped: total.round() > 100.0,
        probability: assessment.and_then(|assessment| assessment.risk_probability).map(percent),
        recorded_model,
        model_in_use,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(lower: f64, count: usize, mean_predicted: f64, observed_rate: f64) -> CalibrationBin {
        CalibrationBin { lower, upper: lower + 0.1, count, mean_predicted, observed_rate }
    }

    #[test]
    fn the_diagram_skips_empty_bins_and_sizes_points_by_count() {
        let bins = vec![
            bin(0.0, 40, 0.05, 0.0),
            bin(0.1, 0, f64::NAN, f64::NAN),
            bin(0.5, 10, 0.55, 0.6),
            bin(0.9, 1, 0.95, 1.0),
        ];
        let chart = reliability_chart(&bins).unwrap();
        assert_eq!(chart.points.len(), 3, "the empty bin has no point");
        assert!(chart.points.iter().all(|point| {
            (chart.left..=chart.right).contains(&point.cx) && (chart.top..=chart.bottom).contains(&point.cy)
        }));
        // Zero observed sits on the x axis; a 100 % rate at the top.
        assert_eq!(chart.points[0].cy, chart.bottom);
        assert_eq!(chart.points[2].cy, chart.top);
        assert_eq!(chart.points[0].r, POINT_RADIUS_MAX);
        assert!(chart.points[1].r > chart.points[2].r && chart.points[2].r >= POINT_RADIUS_MIN);
        assert_eq!(chart.line.split(' ').count(), 3);
        assert_eq!(chart.ticks.len(), CHART_TICKS as usize + 1);
        assert_eq!(chart.ticks.last().unwrap().label, "100%");
        assert!(chart.description.starts_with("3 of 4 bins hold the 51 validation changes"));
        assert!(reliability_chart(&[bin(0.0, 0, f64::NAN, f64::NAN)]).is_none());
    }

    #[test]
    fn calibration_tables_read_from_json_with_nulls() {
        let json = serde_json::json!([
            {"lower": 0.0, "upper": 0.1, "count": 0, "mean_predicted": null, "observed_rate": null},
            {"lower": 0.1, "upper": 0.2, "count": 4, "mean_predicted": 0.15, "observed_rate": 0.5},
        ]);
        let record = RiskModelRecord {
            sequence: 7,
            version: "0123456789abcdef".into(),
            model: String::new(),
            auc: None,
            brier: 0.2,
            training_rows: 60,
            validation_rows: 4,
            positive_rate: 0.3,
            calibration: json,
            trained_by: "admin".into(),
            trained_at: changegate_core::Timestamp::from_unix_ms(0),
        };
        let shown = shown_model(&record, true);
        assert!(!shown.calibration_unreadable);
        assert_eq!(shown.bins.len(), 2);
        assert_eq!(shown.bins[0].observed_rate, None);
        assert_eq!(shown.bins[1].gap.as_deref(), Some("+35.0 pp"));
        assert_eq!(shown.validation_failure_rate.as_deref(), Some("50.0%"));
        assert_eq!(shown.baseline_brier.as_deref(), Some("0.250"));
        assert_eq!(shown.model.auc, None);
        assert_eq!(shown.chart.unwrap().points.len(), 1);
        let broken = RiskModelRecord { calibration: serde_json::json!("nonsense"), ..record };
        assert!(shown_model(&broken, false).calibration_unreadable);
    }

    #[test]
    fn explanations_list_the_largest_contributions_with_their_sign() {
        let contributions: Vec<(String, f64)> =
            [("tier", 0.1), ("has_rollback_plan", -1.5), ("emergency", 0.8), ("la", 0.0), ("fix", 0.3), ("nf", -0.2)]
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect();
        let explanation = Explanation { intercept: -1.0, contributions, logit: -1.5, probability: 0.182 };
        let view = explanation_view("v2".into(), &explanation, Some("v1"));
        let names: Vec<&str> = view.contributions.iter().map(|item| item.feature.as_str()).collect();
        assert_eq!(names, ["has_rollback_plan", "emergency", "fix", "nf", "tier"]);
        assert_eq!(view.contributions[0].value, "−1.50");
        assert!(!view.contributions[0].raises);
        assert_eq!((view.contributions[0].x, view.contributions[0].width), (0.0, BAR_LENGTH));
        assert_eq!(view.contributions[1].value, "+0.80");
        assert_eq!(view.contributions[1].x, BAR_LENGTH);
        assert_eq!(view.contributions[0].label, "rollback plan");
        assert_eq!((view.others, view.others_total.as_str()), (1, "+0.00"));
        // Contributions that print as zero are not listed.
        let flat = Explanation {
            contributions: vec![("tier".to_owned(), 0.9), ("fix".to_owned(), 0.001), ("la".to_owned(), 0.0)],
            ..explanation
        };
        let view = explanation_view("v1".into(), &flat, None);
        assert_eq!(view.contributions.len(), 1);
        assert_eq!((view.others, view.others_total.as_str()), (2, "+0.00"));
        assert_eq!(view.probability, "18.2%");
        assert!(view.differs_from_recorded);
        assert!(!explanation_view("v1".into(), &explanation, Some("v1")).differs_from_recorded);
    }

    #[test]
    fn factor_bars_share_one_scale() {
        let factor =
            |name: &str, contribution: f64| RiskFactorRecord { name: name.into(), contribution, detail: String::new() };
        let (bars, scale) =
            factor_bars(&[factor("service_tier", 18.0), factor("rollback_plan", 0.0)], &RiskWeights::default());
        assert_eq!(scale, 30.0, "the largest default weight");
        assert_eq!(bars[0].name, "service tier");
        assert_eq!((bars[0].points.as_str(), bars[0].width), ("18", 60.0));
        assert_eq!(bars[1].width, 0.0);
        assert_eq!(points_text(7.5), "7.5");
    }

    #[test]
    fn every_weight_and_feature_is_described() {
        for view in weight_views(&RiskWeights::default()) {
            assert!(!view.severity.is_empty(), "{}", view.name);
            assert!(!view.changed);
        }
        for feature in changegate_risk::CHANGE_FEATURE_NAMES {
            assert!(!feature_label(feature).is_empty(), "{feature}");
        }
        assert_eq!(signed(-0.001, 2), "+0.00");
        assert_eq!(signed(-0.5, 1), "−0.5");
    }
}
