//! The question (`MetricsQuery`) and the answer (`MetricsReport`), and how integer totals become
//! the rates, hours and bands people read.
//!
//! Rounding (half away from zero), applied only here, at the very end: hours, days per week and
//! deployments per day to 3 decimals (3.6 s for hours); rates and ratios to 4 decimals (0.01
//! percentage points). Bands are decided on the unrounded values. A value is `null` when it is
//! undefined: a rate without deployments, a median without values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::civil::{DAY_MS, HOUR_MS, WEEK_MS, date_label, day_of, iso_week_label, week_start_ms};
use crate::error::MetricsError;
use crate::facts::{TIME_MAX_MS, TIME_MIN_MS};
use crate::names::{NameId, Names};
use crate::totals::{GroupTotals, RISK_BUCKETS};

/// Longest period a query may span (about 27 years), which bounds the weekly trend's length.
pub const PERIOD_LENGTH_MAX_DAYS: i64 = 10_000;

/// What to measure. Without `from_ms` and `to_ms` the period is the calendar days from the first
/// to the last matching deployment, inclusive. Names that were never seen match nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsQuery {
    /// Inclusive start, Unix milliseconds.
    pub from_ms: Option<i64>,
    /// Exclusive end, Unix milliseconds.
    pub to_ms: Option<i64>,
    pub service: Option<String>,
    pub team: Option<String>,
    pub environment: Option<String>,
}

/// The period the report covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub from_ms: i64,
    pub to_ms: i64,
    /// RFC 3339.
    pub from: String,
    /// RFC 3339.
    pub to: String,
    pub days: f64,
}

/// DORA's performance clusters (State of DevOps 2023/2024 thresholds, see docs/metrics.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerformanceBand {
    Elite,
    High,
    Medium,
    Low,
}

/// The band of each of the four classic DORA metrics; `null` where the metric is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bands {
    pub deployment_frequency: Option<PerformanceBand>,
    pub lead_time: Option<PerformanceBand>,
    pub change_failure_rate: Option<PerformanceBand>,
    pub recovery_time: Option<PerformanceBand>,
}

/// Deployments by change type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesByType {
    pub standard: u64,
    pub normal: u64,
    pub emergency: u64,
}

/// Counted incidents by severity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentsBySeverity {
    pub sev1: u64,
    pub sev2: u64,
    pub sev3: u64,
    pub sev4: u64,
}

/// The metrics of one group of deployments: the whole report, one service, team or environment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    pub deployments: u64,
    pub deployment_frequency_per_day: Option<f64>,
    pub deployment_days_per_week: Option<f64>,
    pub lead_time_median_hours: Option<f64>,
    pub lead_time_p90_hours: Option<f64>,
    pub change_failure_rate: Option<f64>,
    pub change_success_rate: Option<f64>,
    pub failed_deployments: u64,
    pub failed_deployment_recovery_median_hours: Option<f64>,
    /// Failed deployments left out of the recovery median because they have not recovered.
    pub failed_deployments_unrecovered: u64,
    pub deployment_rework_rate: Option<f64>,
    pub rework_deployments: u64,
    pub approval_time_median_hours: Option<f64>,
    pub approval_time_p90_hours: Option<f64>,
    pub time_to_implement_median_hours: Option<f64>,
    pub change_related_incidents: u64,
    pub change_related_incidents_per_deployment: Option<f64>,
    /// Change-related incidents left out of the MTTR because they are still open.
    pub change_related_incidents_unresolved: u64,
    pub mttr_hours: Option<f64>,
    pub downtime_minutes_from_changes: u64,
    pub changes_by_type: ChangesByType,
    pub bands: Bands,
}

/// One row of a breakdown by service, team or environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakdownRow {
    pub name: String,
    #[serde(flatten)]
    pub metrics: GroupMetrics,
}

/// Deployments and failures in one risk-score bucket or risk class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskRow {
    /// `0-9` … `90-100`, or the risk class.
    pub risk: String,
    pub deployments: u64,
    pub failures: u64,
    pub failure_rate: Option<f64>,
}

/// One ISO week of the trend (only the part inside the period).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeeklyPoint {
    /// `2025-W03`.
    pub week: String,
    /// The Monday, `2025-01-13`.
    pub week_start: String,
    pub deployments: u64,
    pub change_failure_rate: Option<f64>,
    pub lead_time_median_hours: Option<f64>,
    pub approval_time_median_hours: Option<f64>,
    pub mttr_hours: Option<f64>,
}

/// The answer to a [`MetricsQuery`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    /// `null` when no period was asked for and nothing matched.
    pub period: Option<Period>,
    #[serde(flatten)]
    pub totals: GroupMetrics,
    pub change_related_incidents_by_severity: IncidentsBySeverity,
    /// Mean time between consecutive change-caused incidents, per service that deployed in the
    /// period; `null` with fewer than two incidents.
    pub mtbf_hours_by_service: BTreeMap<String, Option<f64>>,
    pub risk_distribution: Vec<RiskRow>,
    pub risk_class_distribution: Vec<RiskRow>,
    pub by_service: Vec<BreakdownRow>,
    pub by_team: Vec<BreakdownRow>,
    pub by_environment: Vec<BreakdownRow>,
    pub weekly: Vec<WeeklyPoint>,
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn hours(duration_ms: i64) -> f64 {
    round_to(duration_ms as f64 / HOUR_MS as f64, 3)
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| round_to(numerator as f64 / denominator as f64, 4))
}

/// Checks a query's bounds; returns them as given.
pub(crate) fn check_query(query: &MetricsQuery) -> Result<(), MetricsError> {
    for (field, value) in [("from_ms", query.from_ms), ("to_ms", query.to_ms)] {
        if let Some(value_ms) = value
            && !(TIME_MIN_MS..=TIME_MAX_MS).contains(&value_ms)
        {
            return Err(MetricsError::TimeOutOfRange { field, value_ms });
        }
    }
    if let (Some(from_ms), Some(to_ms)) = (query.from_ms, query.to_ms)
        && from_ms > to_ms
    {
        return Err(MetricsError::PeriodReversed { from_ms, to_ms });
    }
    Ok(())
}

/// The period a query covers, given the UTC days of the first and last matching deployment
/// (`None` when nothing matches). A missing bound is that deployment's day (its start for
/// `from`, the next day's start for `to`), clamped so the period never runs backwards.
pub(crate) fn resolve_period(
    query: &MetricsQuery,
    deployment_days: Option<(i64, i64)>,
) -> Result<Option<(i64, i64)>, MetricsError> {
    let first_ms = deployment_days.map(|(first_day, _)| first_day * DAY_MS);
    let end_ms = deployment_days.map(|(_, last_day)| (last_day + 1) * DAY_MS);
    let period = match (query.from_ms, query.to_ms) {
        (Some(from_ms), Some(to_ms)) => Some((from_ms, to_ms)),
        (Some(from_ms), None) => Some((from_ms, end_ms.map_or(from_ms, |end_ms| end_ms.max(from_ms)))),
        (None, Some(to_ms)) => Some((first_ms.map_or(to_ms, |first_ms| first_ms.min(to_ms)), to_ms)),
        (None, None) => first_ms.zip(end_ms),
    };
    if let Some((from_ms, to_ms)) = period
        && to_ms - from_ms > PERIOD_LENGTH_MAX_DAYS * DAY_MS
    {
        return Err(MetricsError::PeriodTooLong);
    }
    Ok(period)
}

fn band_lower_is_better(value: i64, elite_below: i64, high_below: i64, medium_below: i64) -> PerformanceBand {
    if value < elite_below {
        PerformanceBand::Elite
    } else if value < high_below {
        PerformanceBand::High
    } else if value < medium_below {
        PerformanceBand::Medium
    } else {
        PerformanceBand::Low
    }
}

fn bands(totals: &GroupTotals, period_ms: Option<i64>) -> Bands {
    let tally = &totals.tally;
    // Deployment days per week ≥ 5 elite, ≥ 1 high; at least one deployment day per 30 days
    // medium. Compared in integers: days × 7 days ≥ 5 × period.
    let deployment_frequency = period_ms.filter(|period_ms| *period_ms > 0).map(|period_ms| {
        let days = i128::from(totals.deployment_days) * i128::from(DAY_MS);
        let period_ms = i128::from(period_ms);
        if days * 7 >= 5 * period_ms {
            PerformanceBand::Elite
        } else if days * 7 >= period_ms {
            PerformanceBand::High
        } else if days * 30 >= period_ms {
            PerformanceBand::Medium
        } else {
            PerformanceBand::Low
        }
    });
    let lead_time = totals.lead_ms[0].map(|median_ms| band_lower_is_better(median_ms, DAY_MS, 7 * DAY_MS, 30 * DAY_MS));
    // ≤ 5 % elite, ≤ 10 % high, ≤ 15 % medium.
    let change_failure_rate = (tally.deployments > 0).then(|| {
        let failed = u128::from(tally.failed) * 100;
        let deployments = u128::from(tally.deployments);
        if failed <= 5 * deployments {
            PerformanceBand::Elite
        } else if failed <= 10 * deployments {
            PerformanceBand::High
        } else if failed <= 15 * deployments {
            PerformanceBand::Medium
        } else {
            PerformanceBand::Low
        }
    });
    let recovery_time =
        totals.recovery_median_ms.map(|median_ms| band_lower_is_better(median_ms, HOUR_MS, DAY_MS, 7 * DAY_MS));
    Bands { deployment_frequency, lead_time, change_failure_rate, recovery_time }
}

impl GroupMetrics {
    /// Turns integer totals into the metrics, for a period of `period_ms` (when there is one).
    pub(crate) fn from_totals(totals: &GroupTotals, period_ms: Option<i64>) -> GroupMetrics {
        let tally = &totals.tally;
        let positive_period_ms = period_ms.filter(|period_ms| *period_ms > 0);
        let change_failure_rate = ratio(tally.failed, tally.deployments);
        let resolved_incidents = tally.incidents_resolved;
        GroupMetrics {
            deployments: tally.deployments,
            deployment_frequency_per_day: positive_period_ms
                .map(|period_ms| round_to(tally.deployments as f64 * DAY_MS as f64 / period_ms as f64, 3)),
            deployment_days_per_week: positive_period_ms
                .map(|period_ms| round_to(totals.deployment_days as f64 * WEEK_MS as f64 / period_ms as f64, 3)),
            lead_time_median_hours: totals.lead_ms[0].map(hours),
            lead_time_p90_hours: totals.lead_ms[1].map(hours),
            change_failure_rate,
            // 1 − the rounded failure rate, so the two always add up to 1.
            change_success_rate: change_failure_rate.map(|rate| round_to(1.0 - rate, 4)),
            failed_deployments: tally.failed,
            failed_deployment_recovery_median_hours: totals.recovery_median_ms.map(hours),
            failed_deployments_unrecovered: tally.unrecovered,
            deployment_rework_rate: ratio(tally.rework, tally.deployments),
            rework_deployments: tally.rework,
            approval_time_median_hours: totals.approval_ms[0].map(hours),
            approval_time_p90_hours: totals.approval_ms[1].map(hours),
            time_to_implement_median_hours: totals.implement_median_ms.map(hours),
            change_related_incidents: tally.incidents,
            change_related_incidents_per_deployment: ratio(tally.incidents, tally.deployments),
            change_related_incidents_unresolved: tally.incidents - resolved_incidents,
            mttr_hours: (resolved_incidents > 0).then(|| {
                round_to(tally.incident_resolution_sum_ms as f64 / resolved_incidents as f64 / HOUR_MS as f64, 3)
            }),
            downtime_minutes_from_changes: tally.downtime_minutes,
            changes_by_type: ChangesByType {
                standard: tally.by_type[0],
                normal: tally.by_type[1],
                emergency: tally.by_type[2],
            },
            bands: bands(totals, period_ms),
        }
    }
}

/// The totals of every part of one report, from whichever implementation computed them.
pub(crate) struct ReportTotals {
    pub period: Option<(i64, i64)>,
    pub top: GroupTotals,
    pub by_service: Vec<(NameId, GroupTotals)>,
    pub by_team: Vec<(NameId, GroupTotals)>,
    pub by_environment: Vec<(NameId, GroupTotals)>,
    /// Every ISO week the period touches, in order.
    pub weekly: Vec<(i64, GroupTotals)>,
}

fn mtbf_hours(totals: &GroupTotals) -> Option<f64> {
    // Consecutive gaps between n sorted detection times add up to last − first, so their mean is
    // (last − first) / (n − 1).
    let incidents = totals.tally.incidents;
    let (first_ms, last_ms) = totals.incident_detected_range_ms?;
    (incidents >= 2).then(|| round_to((last_ms - first_ms) as f64 / (incidents - 1) as f64 / HOUR_MS as f64, 3))
}

fn breakdown(names: &Names, groups: &[(NameId, GroupTotals)], period_ms: Option<i64>) -> Vec<BreakdownRow> {
    let mut rows: Vec<BreakdownRow> = groups
        .iter()
        .filter(|(_, totals)| totals.tally.deployments > 0)
        .map(|(name, totals)| BreakdownRow {
            name: names.text_of(*name).to_owned(),
            metrics: GroupMetrics::from_totals(totals, period_ms),
        })
        .collect();
    rows.sort_by(|left, right| left.name.cmp(&right.name));
    rows
}

fn risk_row(risk: String, counts: [u64; 2]) -> RiskRow {
    RiskRow { risk, deployments: counts[0], failures: counts[1], failure_rate: ratio(counts[1], counts[0]) }
}

/// Assembles the report from its totals.
pub(crate) fn assemble(names: &Names, totals: ReportTotals) -> MetricsReport {
    let period_ms = totals.period.map(|(from_ms, to_ms)| to_ms - from_ms);
    let period = totals.period.map(|(from_ms, to_ms)| Period {
        from_ms,
        to_ms,
        from: changegate_core::Timestamp::from_unix_ms(from_ms).to_rfc3339(),
        to: changegate_core::Timestamp::from_unix_ms(to_ms).to_rfc3339(),
        days: round_to((to_ms - from_ms) as f64 / DAY_MS as f64, 3),
    });
    let tally = &totals.top.tally;
    let mtbf_hours_by_service = totals
        .by_service
        .iter()
        .filter(|(_, group)| group.tally.deployments > 0)
        .map(|(service, group)| (names.text_of(*service).to_owned(), mtbf_hours(group)))
        .collect();
    let risk_distribution = (0..RISK_BUCKETS)
        .map(|bucket| {
            let low = bucket * 10;
            let high = if bucket == RISK_BUCKETS - 1 { 100 } else { low + 9 };
            risk_row(format!("{low}-{high}"), tally.risk_buckets[bucket])
        })
        .collect();
    let risk_class_distribution = ["low", "medium", "high", "critical"]
        .iter()
        .zip(tally.risk_classes)
        .map(|(name, counts)| risk_row((*name).to_owned(), counts))
        .collect();
    let weekly = totals
        .weekly
        .iter()
        .map(|(week, group)| {
            let metrics = GroupMetrics::from_totals(group, None);
            WeeklyPoint {
                week: iso_week_label(*week),
                week_start: date_label(day_of(week_start_ms(*week))),
                deployments: metrics.deployments,
                change_failure_rate: metrics.change_failure_rate,
                lead_time_median_hours: metrics.lead_time_median_hours,
                approval_time_median_hours: metrics.approval_time_median_hours,
                mttr_hours: metrics.mttr_hours,
            }
        })
        .collect();
    MetricsReport {
        period,
        totals: GroupMetrics::from_totals(&totals.top, period_ms),
        change_related_incidents_by_severity: IncidentsBySeverity {
            sev1: tally.by_severity[0],
            sev2: tally.by_severity[1],
            sev3: tally.by_severity[2],
            sev4: tally.by_severity[3],
        },
        mtbf_hours_by_service,
        risk_distribution,
        risk_class_distribution,
        by_service: breakdown(names, &totals.by_service, period_ms),
        by_team: breakdown(names, &totals.by_team, period_ms),
        by_environment: breakdown(names, &totals.by_environment, period_ms),
        weekly,
    }
}
