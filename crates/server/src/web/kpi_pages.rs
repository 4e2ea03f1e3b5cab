//! Metrics & KPIs: the `/kpis` page (`/metrics` is the Prometheus endpoint).
//!
//! One GET form (period and filters, so a view is a link), the headline numbers as cards with
//! DORA's band next to each raw value, the weekly trends as line charts (deployments, change
//! failure rate, lead time, approval time, MTTR), the risk score against outcomes and the changes
//! by type as bar charts, and the by-service table with MTBF. Everything comes from one
//! `Service::metrics` call, the same report the API and the CLI show.
//!
//! Charts are inline SVG computed here, like the risk page's: the CSP allows neither scripts nor
//! inline styles, so geometry goes in attributes and colours in `app.css` classes. Text reaches
//! the SVG only through the auto-escaping template. Every chart is bounded: the weekly trend is at
//! most `PERIOD_LENGTH_MAX_DAYS / 7 + 2` points, dots are drawn only up to `DOTS_POINTS_MAX`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use changegate_metrics::{GroupMetrics, MetricsReport, PerformanceBand};
use changegate_service::{MetricsParams, ServiceError, parse_metrics_query};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::forms::{bad_form, errors_by_field};
use super::render::{Flash, layout, message_of, render, service_error, to_value, url_encode};
use super::session::Session;
use crate::AppState;

/// Plot size of a trend chart, in SVG user units.
const TREND_PLOT_WIDTH: f64 = 500.0;
const TREND_PLOT_HEIGHT: f64 = 140.0;
/// Plot size of a bar chart.
const BAR_PLOT_WIDTH: f64 = 500.0;
const BAR_PLOT_HEIGHT: f64 = 180.0;
/// Room around a plot for tick labels.
const MARGIN_LEFT: f64 = 58.0;
const MARGIN_TOP: f64 = 18.0;
const MARGIN_RIGHT: f64 = 12.0;
const MARGIN_BOTTOM: f64 = 30.0;
/// Horizontal grid lines (and y tick labels) above the zero line.
const Y_TICKS: u32 = 4;
/// Most week labels under a trend chart.
const X_LABELS_MAX: usize = 6;
/// Trends with more points than this draw only the line, no dot per week (page weight).
const DOTS_POINTS_MAX: usize = 160;
/// Longest filter value echoed in the page's links and messages.
const ECHO_LENGTH_MAX: usize = 200;
/// The quick ranges offered above the form, in days back from today.
const QUICK_RANGES_DAYS: [(i64, &str); 3] = [(30, "Last 30 days"), (90, "Last 90 days"), (365, "Last 12 months")];
use changegate_core::civil::DAY_MS;

/// `0.234` → `23.4%`.
fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

/// Hours for people: minutes below an hour, days from two days on.
fn duration(hours: f64) -> String {
    if hours.abs() >= 48.0 {
        format!("{:.1} d", hours / 24.0)
    } else if hours.abs() >= 1.0 {
        format!("{hours:.1} h")
    } else {
        format!("{:.0} min", hours * 60.0)
    }
}

fn count(value: f64) -> String {
    count_text(value)
}

/// A whole number as such, else one decimal.
fn count_text(value: f64) -> String {
    if (value - value.round()).abs() < 1e-6 { format!("{value:.0}") } else { format!("{value:.1}") }
}

fn or_dash(value: Option<f64>, format: fn(f64) -> String) -> String {
    value.map_or_else(|| "—".to_owned(), format)
}

/// A coordinate rounded to a tenth of a unit: short attributes, no visible difference.
fn coordinate(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn band_name(band: Option<PerformanceBand>) -> Option<&'static str> {
    band.map(|band| match band {
        PerformanceBand::Elite => "elite",
        PerformanceBand::High => "high",
        PerformanceBand::Medium => "medium",
        PerformanceBand::Low => "low",
    })
}

/// The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `value`: round axis ends.
fn nice_ceiling(value: f64) -> f64 {
    if !(value.is_finite() && value > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|candidate| *candidate >= value * (1.0 - 1e-12))
        .unwrap_or(10.0 * magnitude)
}

/// Round grid steps for values up to `high`: a step of 1, 2, 2.5 or 5 × 10ⁿ and how many of them
/// (at most `Y_TICKS`) reach `high`, so every tick label is a round number.
fn axis_steps(high: f64) -> (f64, u32) {
    let step = nice_ceiling(high / f64::from(Y_TICKS));
    let steps = if high > 0.0 { (high / step * (1.0 - 1e-9)).ceil() as u32 } else { 1 };
    (step, steps.clamp(1, Y_TICKS))
}

// ---------------------------------------------------------------------------------------------
// Charts

/// A grid line with its label.
#[derive(Serialize, Debug)]
struct TickView {
    /// Position along the axis the tick belongs to.
    at: f64,
    label: String,
}

/// A value's dot with its tooltip.
#[derive(Serialize, Debug)]
struct DotView {
    cx: f64,
    cy: f64,
    label: String,
}

/// One weekly trend as a line chart.
#[derive(Serialize, Debug)]
struct TrendView {
    id: &'static str,
    title: &'static str,
    width: f64,
    height: f64,
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
    y_ticks: Vec<TickView>,
    x_ticks: Vec<TickView>,
    /// `points` of each polyline: the line breaks where a week has no value.
    segments: Vec<String>,
    dots: Vec<DotView>,
    /// For the `<desc>`.
    description: String,
    /// Weeks that have a value.
    valued_weeks: usize,
}

/// What a trend measures, which decides its axis and how its values read.
#[derive(Clone, Copy, Debug)]
enum Measure {
    Count,
    Rate,
    Hours,
}

impl Measure {
    fn text(self, value: f64) -> String {
        match self {
            Measure::Count => count(value),
            Measure::Rate => percent(value),
            Measure::Hours => duration(value),
        }
    }

    /// The axis unit for values up to `high` (in the measure's own unit) and its suffix: round
    /// days, hours or minutes rather than 2.1 d, 4.2 d.
    fn axis_unit(self, high: f64) -> (f64, &'static str) {
        match self {
            Measure::Count => (1.0, ""),
            Measure::Rate => (0.01, "%"),
            Measure::Hours if high >= 48.0 => (24.0, " d"),
            Measure::Hours if high >= 1.0 => (1.0, " h"),
            Measure::Hours => (1.0 / 60.0, " min"),
        }
    }
}

/// A trend chart of `values` (one per week, labelled by `weeks`).
fn trend_chart(
    id: &'static str,
    title: &'static str,
    weeks: &[String],
    values: &[Option<f64>],
    measure: Measure,
) -> TrendView {
    let (left, top) = (MARGIN_LEFT, MARGIN_TOP);
    let (right, bottom) = (left + TREND_PLOT_WIDTH, top + TREND_PLOT_HEIGHT);
    let count = values.len().max(1);
    let format = |value: f64| measure.text(value);
    let low = values.iter().flatten().copied().fold(0.0_f64, f64::min);
    let high = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    let (unit, suffix) = measure.axis_unit(high.max(-low));
    // Negative values only come from clocks that disagree (docs/metrics.md); the axis shows them.
    let (step, steps) = axis_steps((high - low.min(0.0)) / unit);
    let low = if low < 0.0 { -(-low / unit / step).ceil() * step * unit } else { 0.0 };
    let span = step * f64::from(steps) * unit;
    let x_of = |position: usize| coordinate(left + (position as f64 + 0.5) * TREND_PLOT_WIDTH / count as f64);
    let y_of = |value: f64| coordinate(bottom - (value - low) / span * TREND_PLOT_HEIGHT);
    let y_ticks = (0..=steps)
        .map(|index| {
            let value = low + step * unit * f64::from(index);
            TickView { at: y_of(value), label: format!("{}{suffix}", count_text(value / unit)) }
        })
        .collect();
    let label_every = weeks.len().div_ceil(X_LABELS_MAX).max(1);
    let x_ticks = weeks
        .iter()
        .enumerate()
        .filter(|(position, _)| position % label_every == 0)
        .map(|(position, week)| TickView { at: x_of(position), label: week.clone() })
        .collect();
    let mut segments = Vec::new();
    let mut dots = Vec::new();
    let mut current: Vec<(usize, f64)> = Vec::new();
    let mut finish = |run: &mut Vec<(usize, f64)>, dots: &mut Vec<DotView>| {
        // A lone value has no line to sit on: it always gets its dot.
        if run.len() == 1 && values.len() > DOTS_POINTS_MAX {
            let (position, value) = run[0];
            dots.push(DotView {
                cx: x_of(position),
                cy: y_of(value),
                label: format!("{}: {}", weeks[position], format(value)),
            });
        }
        if run.len() > 1 {
            segments.push(
                run.iter()
                    .map(|(position, value)| format!("{},{}", x_of(*position), y_of(*value)))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        run.clear();
    };
    for (position, value) in values.iter().enumerate() {
        match value {
            Some(value) => {
                current.push((position, *value));
                if values.len() <= DOTS_POINTS_MAX {
                    dots.push(DotView {
                        cx: x_of(position),
                        cy: y_of(*value),
                        label: format!("Week of {}: {}", weeks[position], format(*value)),
                    });
                }
            }
            None => finish(&mut current, &mut dots),
        }
    }
    finish(&mut current, &mut dots);
    let valued: Vec<f64> = values.iter().flatten().copied().collect();
    let description = match (valued.first(), valued.last()) {
        (Some(first), Some(last)) => format!(
            "{title} per ISO week over {} weeks ({} with a value): first {}, last {}, highest {}.",
            values.len(),
            valued.len(),
            format(*first),
            format(*last),
            format(valued.iter().copied().fold(f64::MIN, f64::max)),
        ),
        _ => format!("{title}: no week of the period has a value."),
    };
    TrendView {
        id,
        title,
        width: right + MARGIN_RIGHT,
        height: bottom + MARGIN_BOTTOM,
        left,
        top,
        right,
        bottom,
        y_ticks,
        x_ticks,
        segments,
        dots,
        description,
        valued_weeks: valued.len(),
    }
}

/// One part of a bar.
#[derive(Serialize, Debug)]
struct SegmentView {
    y: f64,
    height: f64,
    /// `bar-success`, `bar-failure`, …
    class: &'static str,
}

/// One bar with its label under it, its figure above it and a tooltip.
#[derive(Serialize, Debug)]
struct BarView {
    x: f64,
    width: f64,
    /// The middle, for the labels.
    center: f64,
    label: String,
    figure: String,
    /// The top of the bar, for the figure.
    top: f64,
    title: String,
    segments: Vec<SegmentView>,
}

/// A bar chart.
#[derive(Serialize, Debug)]
struct BarChartView {
    id: &'static str,
    title: &'static str,
    width: f64,
    height: f64,
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
    y_ticks: Vec<TickView>,
    bars: Vec<BarView>,
    description: String,
}

/// What one bar shows: its label, its stacked parts (value and class, bottom first), the figure
/// printed above it and its tooltip.
struct BarInput {
    label: String,
    parts: Vec<(f64, &'static str)>,
    figure: String,
    title: String,
}

fn bar_chart(id: &'static str, title: &'static str, inputs: Vec<BarInput>, description: String) -> BarChartView {
    let (left, top) = (MARGIN_LEFT, MARGIN_TOP);
    let (right, bottom) = (left + BAR_PLOT_WIDTH, top + BAR_PLOT_HEIGHT);
    let total = |input: &BarInput| input.parts.iter().map(|(value, _)| value.max(0.0)).sum::<f64>();
    let (step, steps) = axis_steps(inputs.iter().map(total).fold(0.0, f64::max));
    let high = step * f64::from(steps);
    let y_of = |value: f64| coordinate(bottom - value / high * BAR_PLOT_HEIGHT);
    let y_ticks = (0..=steps)
        .map(|index| {
            let value = step * f64::from(index);
            TickView { at: y_of(value), label: count(value) }
        })
        .collect();
    let slot = BAR_PLOT_WIDTH / inputs.len().max(1) as f64;
    let bars = inputs
        .into_iter()
        .enumerate()
        .map(|(position, input)| {
            let x = left + position as f64 * slot + slot * 0.15;
            let mut base = 0.0;
            let segments = input
                .parts
                .iter()
                .filter(|(value, _)| *value > 0.0)
                .map(|(value, class)| {
                    let (lower, upper) = (y_of(base), y_of(base + value));
                    base += value;
                    SegmentView { y: upper, height: coordinate(lower - upper), class }
                })
                .collect();
            BarView {
                x: coordinate(x),
                width: coordinate(slot * 0.7),
                center: coordinate(x + slot * 0.35),
                label: input.label,
                figure: input.figure,
                top: y_of(base),
                title: input.title,
                segments,
            }
        })
        .collect();
    BarChartView {
        id,
        title,
        width: right + MARGIN_RIGHT,
        height: bottom + MARGIN_BOTTOM,
        left,
        top,
        right,
        bottom,
        y_ticks,
        bars,
        description,
    }
}

/// Deployments per risk-score bucket, split into failed and not failed, with the failure rate
/// above each bar.
fn risk_chart(report: &MetricsReport) -> BarChartView {
    let inputs = report
        .risk_distribution
        .iter()
        .map(|row| BarInput {
            label: row.risk.clone(),
            parts: vec![
                (row.failures as f64, "bar-failure"),
                (row.deployments.saturating_sub(row.failures) as f64, "bar-success"),
            ],
            figure: or_dash(row.failure_rate, percent),
            title: format!(
                "Risk score {}: {} deployments, {} failed ({})",
                row.risk,
                row.deployments,
                row.failures,
                or_dash(row.failure_rate, percent)
            ),
        })
        .collect();
    let description = report
        .risk_distribution
        .iter()
        .filter(|row| row.deployments > 0)
        .map(|row| format!("{}: {} deployments, {} failed.", row.risk, row.deployments, row.failures))
        .collect::<Vec<_>>()
        .join(" ");
    let description = format!(
        "Deployments by the risk score their assessment gave, failed ones at the bottom; the failure rate is above each \
         bar. {description}"
    );
    bar_chart("risk-chart", "Risk score against outcome", inputs, description)
}

fn type_chart(metrics: &GroupMetrics) -> BarChartView {
    let by_type = &metrics.changes_by_type;
    let rows = [("standard", by_type.standard), ("normal", by_type.normal), ("emergency", by_type.emergency)];
    let inputs = rows
        .iter()
        .map(|(name, deployments)| BarInput {
            label: (*name).to_owned(),
            parts: vec![(*deployments as f64, if *name == "emergency" { "bar-emergency" } else { "bar-success" })],
            figure: deployments.to_string(),
            title: format!("{deployments} {name} deployments"),
        })
        .collect();
    let description = format!(
        "Deployments by change type: {} standard, {} normal, {} emergency.",
        by_type.standard, by_type.normal, by_type.emergency
    );
    bar_chart("type-chart", "Deployments by change type", inputs, description)
}

fn trends(report: &MetricsReport) -> Vec<TrendView> {
    let weeks: Vec<String> = report.weekly.iter().map(|point| point.week_start.clone()).collect();
    let series = |pick: fn(&changegate_metrics::WeeklyPoint) -> Option<f64>| -> Vec<Option<f64>> {
        report.weekly.iter().map(pick).collect()
    };
    vec![
        trend_chart(
            "trend-deployments",
            "Deployments",
            &weeks,
            &series(|point| Some(point.deployments as f64)),
            Measure::Count,
        ),
        trend_chart(
            "trend-failure-rate",
            "Change failure rate",
            &weeks,
            &series(|point| point.change_failure_rate),
            Measure::Rate,
        ),
        trend_chart(
            "trend-lead-time",
            "Lead time (median)",
            &weeks,
            &series(|point| point.lead_time_median_hours),
            Measure::Hours,
        ),
        trend_chart(
            "trend-approval-time",
            "Approval time (median)",
            &weeks,
            &series(|point| point.approval_time_median_hours),
            Measure::Hours,
        ),
        trend_chart("trend-mttr", "MTTR", &weeks, &series(|point| point.mttr_hours), Measure::Hours),
    ]
}

// ---------------------------------------------------------------------------------------------
// Cards and tables

/// A headline number.
#[derive(Serialize, Debug)]
struct CardView {
    id: &'static str,
    label: &'static str,
    value: String,
    detail: String,
    /// DORA's band, for the four metrics that have one.
    band: Option<&'static str>,
}

fn cards(report: &MetricsReport) -> Vec<CardView> {
    let totals = &report.totals;
    let bands = &totals.bands;
    let days = report.period.as_ref().map_or(0.0, |period| period.days);
    vec![
        CardView {
            id: "card-deployments",
            label: "Deployments",
            value: totals.deployments.to_string(),
            detail: format!("over {} days", count(days)),
            band: None,
        },
        CardView {
            id: "card-frequency",
            label: "Deployment frequency",
            value: or_dash(totals.deployment_frequency_per_day, |value| format!("{value:.2}/day")),
            detail: format!(
                "{} deployment days per week",
                or_dash(totals.deployment_days_per_week, |value| format!("{value:.1}"))
            ),
            band: band_name(bands.deployment_frequency),
        },
        CardView {
            id: "card-lead-time",
            label: "Lead time (median)",
            value: or_dash(totals.lead_time_median_hours, duration),
            detail: format!("p90 {}", or_dash(totals.lead_time_p90_hours, duration)),
            band: band_name(bands.lead_time),
        },
        CardView {
            id: "card-failure-rate",
            label: "Change failure rate",
            value: or_dash(totals.change_failure_rate, percent),
            detail: format!("{} of {} deployments failed", totals.failed_deployments, totals.deployments),
            band: band_name(bands.change_failure_rate),
        },
        CardView {
            id: "card-recovery",
            label: "Failed deployment recovery (median)",
            value: or_dash(totals.failed_deployment_recovery_median_hours, duration),
            detail: format!("{} not recovered yet", totals.failed_deployments_unrecovered),
            band: band_name(bands.recovery_time),
        },
        CardView {
            id: "card-rework",
            label: "Deployment rework rate",
            value: or_dash(totals.deployment_rework_rate, percent),
            detail: format!("{} emergency fixes after a failure", totals.rework_deployments),
            band: None,
        },
        CardView {
            id: "card-approval-time",
            label: "Approval time (median)",
            value: or_dash(totals.approval_time_median_hours, duration),
            detail: format!("p90 {}", or_dash(totals.approval_time_p90_hours, duration)),
            band: None,
        },
        CardView {
            id: "card-mttr",
            label: "MTTR",
            value: or_dash(totals.mttr_hours, duration),
            detail: format!(
                "{} change-related incidents, {} open",
                totals.change_related_incidents, totals.change_related_incidents_unresolved
            ),
            band: None,
        },
        CardView {
            id: "card-downtime",
            label: "Downtime from changes",
            value: format!("{} min", totals.downtime_minutes_from_changes),
            detail: format!(
                "{} incidents per deployment",
                or_dash(totals.change_related_incidents_per_deployment, |value| format!("{value:.3}"))
            ),
            band: None,
        },
    ]
}

/// One service's row.
#[derive(Serialize, Debug)]
struct ServiceRowView {
    name: String,
    deployments: u64,
    frequency: String,
    lead_time: String,
    lead_time_band: Option<&'static str>,
    change_failure_rate: String,
    change_failure_band: Option<&'static str>,
    recovery: String,
    recovery_band: Option<&'static str>,
    rework_rate: String,
    incidents: u64,
    mttr: String,
    mtbf: String,
    downtime_minutes: u64,
}

fn service_rows(report: &MetricsReport) -> Vec<ServiceRowView> {
    report
        .by_service
        .iter()
        .map(|row| {
            let metrics = &row.metrics;
            ServiceRowView {
                name: row.name.clone(),
                deployments: metrics.deployments,
                frequency: or_dash(metrics.deployment_frequency_per_day, |value| format!("{value:.2}/day")),
                lead_time: or_dash(metrics.lead_time_median_hours, duration),
                lead_time_band: band_name(metrics.bands.lead_time),
                change_failure_rate: or_dash(metrics.change_failure_rate, percent),
                change_failure_band: band_name(metrics.bands.change_failure_rate),
                recovery: or_dash(metrics.failed_deployment_recovery_median_hours, duration),
                recovery_band: band_name(metrics.bands.recovery_time),
                rework_rate: or_dash(metrics.deployment_rework_rate, percent),
                incidents: metrics.change_related_incidents,
                mttr: or_dash(metrics.mttr_hours, duration),
                mtbf: or_dash(report.mtbf_hours_by_service.get(&row.name).copied().flatten(), duration),
                downtime_minutes: metrics.downtime_minutes_from_changes,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The page

#[derive(Deserialize, Default, Serialize)]
#[serde(default)]
pub struct KpiParams {
    from: String,
    to: String,
    service: String,
    team: String,
    environment: String,
}

impl KpiParams {
    fn raw(&self) -> MetricsParams {
        let value = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        MetricsParams {
            from: value(&self.from),
            to: value(&self.to),
            service: value(&self.service),
            team: value(&self.team),
            environment: value(&self.environment),
        }
    }

    /// The filters as query-string pairs, for links that keep them.
    fn filter_query(&self) -> String {
        [("service", &self.service), ("team", &self.team), ("environment", &self.environment)]
            .iter()
            .filter(|(_, value)| !value.trim().is_empty() && value.len() <= ECHO_LENGTH_MAX)
            .map(|(key, value)| format!("&{key}={}", url_encode(value.trim())))
            .collect()
    }
}

/// A link to a preset period.
#[derive(Serialize)]
struct RangeLink {
    label: &'static str,
    href: String,
}

fn quick_ranges(state: &AppState, params: &KpiParams) -> Vec<RangeLink> {
    let today_ms = state.service.now().unix_ms().div_euclid(DAY_MS) * DAY_MS;
    let date = |unix_ms: i64| changegate_core::Timestamp::from_unix_ms(unix_ms).to_rfc3339()[..10].to_owned();
    let filters = params.filter_query();
    let mut links: Vec<RangeLink> = QUICK_RANGES_DAYS
        .iter()
        .map(|(days, label)| RangeLink {
            label,
            href: format!(
                "/kpis?from={}&to={}{filters}",
                date(today_ms - (days - 1) * DAY_MS),
                date(today_ms + DAY_MS)
            ),
        })
        .collect();
    let rest = filters.strip_prefix('&').map(|rest| format!("?{rest}")).unwrap_or_default();
    links.push(RangeLink { label: "All history", href: format!("/kpis{rest}") });
    links
}

/// Everything the page shows of a report.
#[derive(Serialize)]
struct ReportView {
    period_from: String,
    period_to: String,
    cards: Vec<CardView>,
    trends: Vec<TrendView>,
    risk_chart: BarChartView,
    type_chart: BarChartView,
    services: Vec<ServiceRowView>,
    /// Deployments without a risk score (no bucket holds them).
    unscored: u64,
}

fn report_view(report: &MetricsReport) -> ReportView {
    let scored: u64 = report.risk_distribution.iter().map(|row| row.deployments).sum();
    let (period_from, period_to) =
        report.period.as_ref().map_or_else(Default::default, |period| (period.from.clone(), period.to.clone()));
    ReportView {
        period_from,
        period_to,
        cards: cards(report),
        trends: trends(report),
        risk_chart: risk_chart(report),
        type_chart: type_chart(&report.totals),
        services: service_rows(report),
        unscored: report.totals.deployments.saturating_sub(scored),
    }
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn kpis(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<KpiParams>, QueryRejection>,
) -> Response {
    let Query(params) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_form(&state, Some(&session), rejection.status(), rejection.body_text()),
    };
    let names = match state.service.metrics_names(&session.caller).await {
        Ok(names) => names,
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let result = match parse_metrics_query(&params.raw()) {
        Ok(query) => state.service.metrics(&session.caller, &query).await,
        Err(error) => Err(error),
    };
    let (status, report, errors, flash) = match result {
        Ok(report) => (StatusCode::OK, Some(report_view(&report)), Vec::new(), None),
        Err(error @ ServiceError::Validation(_)) => {
            let flash = Flash::error(format!("Nothing to show: {}.", message_of(&error)));
            (StatusCode::UNPROCESSABLE_ENTITY, None, error.fields().to_vec(), Some(flash))
        }
        Err(error) => return service_error(&state, Some(&session), error),
    };
    let filtered = params.raw() != MetricsParams::default();
    let context = context! {
        form => to_value(&params),
        names => to_value(&names),
        filtered => filtered,
        ranges => to_value(quick_ranges(&state, &params)),
        report => report.map(to_value),
        errors => to_value(errors_by_field(&errors)),
        ..layout(Some(&session), "kpis", flash)
    };
    render(&state, status, "kpis.html", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ends_are_round() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(0.23), 0.25);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(2.0), 2.0);
    }

    #[test]
    fn duration_axes_tick_in_round_days_hours_or_minutes() {
        // Given lead times up to 100 hours
        let weeks = vec!["2026-01-05".to_owned(), "2026-01-12".to_owned()];
        let chart = trend_chart("trend", "Lead time", &weeks, &[Some(30.0), Some(100.0)], Measure::Hours);
        // Then the axis runs to 6 days in steps of 2 days
        let labels: Vec<&str> = chart.y_ticks.iter().map(|tick| tick.label.as_str()).collect();
        assert_eq!(labels, vec!["0 d", "2 d", "4 d", "6 d"]);
        // And rates tick in whole percent
        let chart = trend_chart("trend", "Rate", &weeks, &[Some(0.1), Some(0.23)], Measure::Rate);
        let labels: Vec<&str> = chart.y_ticks.iter().map(|tick| tick.label.as_str()).collect();
        assert_eq!(labels, vec!["0%", "10%", "20%", "30%"]);
    }

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(duration(0.25), "15 min");
        assert_eq!(duration(5.26), "5.3 h");
        assert_eq!(duration(72.0), "3.0 d");
    }

    #[test]
    fn a_trend_breaks_where_a_week_has_no_value_and_keeps_lone_values() {
        // Given five weeks with a gap in the middle and a lone value at the end
        let weeks: Vec<String> = (1..=5).map(|week| format!("2026-01-0{week}")).collect();
        let values = [Some(1.0), Some(2.0), None, None, Some(4.0)];
        // When it is charted
        let chart = trend_chart("trend", "Test", &weeks, &values, Measure::Count);
        // Then one line joins the first two weeks, every value has a dot, and the axis reaches 4
        assert_eq!(chart.segments.len(), 1);
        assert_eq!(chart.dots.len(), 3);
        assert_eq!(chart.y_ticks.last().unwrap().label, "4");
        assert_eq!(chart.valued_weeks, 3);
        assert!(chart.dots.iter().all(|dot| dot.cy >= chart.top && dot.cy <= chart.bottom));
    }
}
