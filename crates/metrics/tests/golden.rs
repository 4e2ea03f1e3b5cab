//! A hand-built history whose every metric is worked out by hand below, and a snapshot of its
//! JSON report.
//!
//! Times are `at(day, hour)`: hours after Monday 2025-03-03 00:00 UTC (ISO week 2025-W10) plus
//! whole days. Two services in production: `payments` (team `red`) and `search` (team `blue`).
//!
//! | #  | service  | type      | outcome     | completed | created | submitted | approved | first commit | risk |
//! |----|----------|-----------|-------------|-----------|---------|-----------|----------|--------------|------|
//! | 1  | payments | normal    | success     | 0 10:00   | 0 00:00 | 0 01:00   | 0 03:00  | –            | 15   |
//! | 2  | payments | normal    | failed      | 1 12:00   | 0 12:00 | 0 13:00   | 0 17:00  | –            | 72   |
//! | 3  | payments | emergency | success     | 1 15:00   | 1 13:00 | 1 13:00   | 1 14:00  | 1 12:00      | 40   |
//! | 4  | payments | standard  | success     | 2 09:00   | 2 00:00 | 2 08:00   | 2 08:00  | 1 09:00      | 85   |
//! | 5  | payments | normal    | rolled_back | 3 16:00   | 3 10:00 | 3 11:00   | 3 12:00  | –            | 55   |
//! | 6  | payments | emergency | success     | 7 10:00   | 7 06:00 | 7 06:00   | 7 14:00 (after!) | –    | –    |
//! | 7  | payments | normal    | success     | 8 12:00   | 8 00:00 | 8 02:00   | 8 06:00  | –            | 5    |
//! | 8  | search   | standard  | success     | 0 14:00   | 0 12:00 | 0 12:00   | 0 12:00  | –            | 10   |
//! | 9  | search   | normal    | failed      | 2 20:00   | 2 08:00 | 2 09:00   | 2 14:00  | –            | 95   |
//! | 10 | search   | emergency | success     | 4 08:00   | 4 04:00 | 4 04:00   | 4 05:00  | –            | 60   |
//! | 11 | search   | normal    | success     | 9 09:00   | 8 09:00 | 8 10:00   | 8 20:00  | –            | 30   |
//! | 12 | payments (staging) | normal | success | 1 00:00 | not production: never a deployment |
//! | 13 | search   | normal    | cancelled   | –         | not a deployment |
//! | 14 | payments | normal    | open        | –         | not a deployment |
//!
//! Incidents: I1 caused by #4 (counted), detected 2 11:00, resolved 2 15:00, 30 min down, sev2.
//! I2 only suggested for #7 (first upserted with #7 as counted cause, then the link was
//! downgraded, so the fact carries none), 8 14:00 → 8 16:00, 60 min, sev2. I3 caused by #9,
//! detected 2 21:00, still open, sev1. I4 caused by #10, 5 00:00 → 5 02:00, 45 min, sev3. I5
//! names #12 (staging) as cause, 1 02:00 → 1 03:00, 10 min, sev4.

use changegate_core::{ChangeType, RiskClass, Severity};
use changegate_metrics::{
    ChangeFact, ChangeOutcome, DAY_MS, HOUR_MS, IncidentFact, MetricsConfig, MetricsError, MetricsIndex, MetricsQuery,
    MetricsReport, PerformanceBand, reference,
};
use expect_test::expect_file;

/// Monday 2025-03-03T00:00:00Z.
const MONDAY_MS: i64 = 1_740_960_000_000;

fn at(day: i64, hour: i64) -> i64 {
    MONDAY_MS + day * DAY_MS + hour * HOUR_MS
}

struct Golden {
    index: MetricsIndex,
    changes: Vec<ChangeFact>,
    incidents: Vec<IncidentFact>,
}

#[allow(clippy::too_many_arguments)]
fn change(
    index: &mut MetricsIndex,
    number: u64,
    service: &str,
    environment: &str,
    change_type: ChangeType,
    outcome: ChangeOutcome,
    times: [Option<(i64, i64)>; 5],
    risk_score: Option<u8>,
) -> ChangeFact {
    let team = if service == "payments" { "red" } else { "blue" };
    let [completed, created, submitted, approved, first_commit] =
        times.map(|time| time.map(|(day, hour)| at(day, hour)));
    ChangeFact {
        number,
        service: index.intern(service).unwrap(),
        team: index.intern(team).unwrap(),
        environment: index.intern(environment).unwrap(),
        change_type,
        created_at_ms: created.unwrap(),
        submitted_at_ms: submitted,
        approved_at_ms: approved,
        started_at_ms: None,
        completed_at_ms: completed,
        outcome,
        first_commit_at_ms: first_commit,
        risk_score,
        risk_class: risk_score.map(|score| if score >= 70 { RiskClass::High } else { RiskClass::Low }),
    }
}

fn incident(
    index: &mut MetricsIndex,
    number: u64,
    cause: Option<u64>,
    detected: (i64, i64),
    resolved: Option<(i64, i64)>,
    downtime_minutes: Option<u32>,
    severity: Severity,
) -> IncidentFact {
    IncidentFact {
        number,
        service: index.intern("payments").unwrap(),
        severity,
        detected_at_ms: at(detected.0, detected.1),
        resolved_at_ms: resolved.map(|(day, hour)| at(day, hour)),
        downtime_minutes,
        counted_cause: cause,
    }
}

fn golden() -> Golden {
    use ChangeOutcome::{Cancelled, Failed, Open, RolledBack, Success};
    use ChangeType::{Emergency, Normal, Standard};
    let mut index = MetricsIndex::new(MetricsConfig::default()).unwrap();
    let index_ref = &mut index;
    let production = "production";
    // [completed, created, submitted, approved, first commit]
    let changes = vec![
        change(
            index_ref,
            1,
            "payments",
            production,
            Normal,
            Success,
            [Some((0, 10)), Some((0, 0)), Some((0, 1)), Some((0, 3)), None],
            Some(15),
        ),
        change(
            index_ref,
            2,
            "payments",
            production,
            Normal,
            Failed,
            [Some((1, 12)), Some((0, 12)), Some((0, 13)), Some((0, 17)), None],
            Some(72),
        ),
        change(
            index_ref,
            3,
            "payments",
            production,
            Emergency,
            Success,
            [Some((1, 15)), Some((1, 13)), Some((1, 13)), Some((1, 14)), Some((1, 12))],
            Some(40),
        ),
        change(
            index_ref,
            4,
            "payments",
            production,
            Standard,
            Success,
            [Some((2, 9)), Some((2, 0)), Some((2, 8)), Some((2, 8)), Some((1, 9))],
            Some(85),
        ),
        change(
            index_ref,
            5,
            "payments",
            production,
            Normal,
            RolledBack,
            [Some((3, 16)), Some((3, 10)), Some((3, 11)), Some((3, 12)), None],
            Some(55),
        ),
        change(
            index_ref,
            6,
            "payments",
            production,
            Emergency,
            Success,
            [Some((7, 10)), Some((7, 6)), Some((7, 6)), Some((7, 14)), None],
            None,
        ),
        change(
            index_ref,
            7,
            "payments",
            production,
            Normal,
            Success,
            [Some((8, 12)), Some((8, 0)), Some((8, 2)), Some((8, 6)), None],
            Some(5),
        ),
        change(
            index_ref,
            8,
            "search",
            production,
            Standard,
            Success,
            [Some((0, 14)), Some((0, 12)), Some((0, 12)), Some((0, 12)), None],
            Some(10),
        ),
        change(
            index_ref,
            9,
            "search",
            production,
            Normal,
            Failed,
            [Some((2, 20)), Some((2, 8)), Some((2, 9)), Some((2, 14)), None],
            Some(95),
        ),
        change(
            index_ref,
            10,
            "search",
            production,
            Emergency,
            Success,
            [Some((4, 8)), Some((4, 4)), Some((4, 4)), Some((4, 5)), None],
            Some(60),
        ),
        change(
            index_ref,
            11,
            "search",
            production,
            Normal,
            Success,
            [Some((9, 9)), Some((8, 9)), Some((8, 10)), Some((8, 20)), None],
            Some(30),
        ),
        change(
            index_ref,
            12,
            "payments",
            "staging",
            Normal,
            Success,
            [Some((1, 0)), Some((0, 20)), Some((0, 21)), Some((0, 22)), None],
            None,
        ),
        change(
            index_ref,
            13,
            "search",
            production,
            Normal,
            Cancelled,
            [None, Some((3, 0)), Some((3, 1)), None, None],
            None,
        ),
        change(
            index_ref,
            14,
            "payments",
            production,
            Normal,
            Open,
            [None, Some((9, 0)), Some((9, 1)), Some((9, 2)), None],
            None,
        ),
    ];
    let incidents = vec![
        incident(index_ref, 1, Some(4), (2, 11), Some((2, 15)), Some(30), Severity::Sev2),
        incident(index_ref, 2, None, (8, 14), Some((8, 16)), Some(60), Severity::Sev2),
        incident(index_ref, 3, Some(9), (2, 21), None, None, Severity::Sev1),
        incident(index_ref, 4, Some(10), (5, 0), Some((5, 2)), Some(45), Severity::Sev3),
        incident(index_ref, 5, Some(12), (1, 2), Some((1, 3)), Some(10), Severity::Sev4),
    ];
    // Facts arrive as states move on: #7 was open before it succeeded, and I2 was first linked to
    // #7 as a counted cause before the link was downgraded to a suggestion.
    let mut seven_in_progress = changes[6].clone();
    seven_in_progress.outcome = Open;
    seven_in_progress.completed_at_ms = None;
    index.upsert_change(&seven_in_progress).unwrap();
    let mut two_linked = incidents[1].clone();
    two_linked.counted_cause = Some(7);
    index.upsert_incident(&two_linked).unwrap();
    for fact in &changes {
        index.upsert_change(fact).unwrap();
    }
    for fact in &incidents {
        index.upsert_incident(fact).unwrap();
    }
    Golden { index, changes, incidents }
}

/// The index's report, checked against the reference implementation on the way.
fn report(golden: &Golden, query: &MetricsQuery) -> MetricsReport {
    let from_index = golden.index.query(query).unwrap();
    let from_reference =
        reference::report(golden.index.config(), golden.index.names(), &golden.changes, &golden.incidents, query)
            .unwrap();
    assert_eq!(from_index, from_reference);
    from_index
}

#[test]
fn whole_history_without_a_period() {
    // Given the golden history.
    let golden = golden();
    // When the metrics are asked for without a period or filter.
    let report = report(&golden, &MetricsQuery::default());
    let totals = &report.totals;
    // Then the period is the calendar days of the first (#1, day 0) to the last (#11, day 9)
    // deployment, inclusive: 10 days.
    let period = report.period.as_ref().unwrap();
    assert_eq!((period.from_ms, period.to_ms, period.days), (at(0, 0), at(10, 0), 10.0));
    assert_eq!(period.from, "2025-03-03T00:00:00Z");
    // Deployments are #1–#11: #12 is staging, #13 cancelled, #14 still open. 11 / 10 days = 1.1.
    assert_eq!(totals.deployments, 11);
    assert_eq!(totals.deployment_frequency_per_day, Some(1.1));
    // Deployment days 0, 1, 2, 3, 4, 7, 8, 9 = 8 in 10/7 weeks: 8 × 7 / 10 = 5.6.
    assert_eq!(totals.deployment_days_per_week, Some(5.6));
    // Lead times of the successes, completed − (first commit, else created), in hours:
    // #1 10, #3 3 (commit 1 12:00), #4 24 (commit 1 09:00), #6 4, #7 12, #8 2, #10 4, #11 24.
    // Sorted 2 3 4 4 10 12 24 24: median rank ⌈0.5·8⌉ = 4 → 4 h; p90 rank ⌈0.9·8⌉ = 8 → 24 h.
    assert_eq!(totals.lead_time_median_hours, Some(4.0));
    assert_eq!(totals.lead_time_p90_hours, Some(24.0));
    // Failed: #2 (failed), #4 (a success that caused I1), #5 (rolled back), #9 (failed, I3), #10
    // (caused I4). #7 is not: I2's link to it is only a suggestion. 5 / 11 = 0.4545.
    assert_eq!(totals.failed_deployments, 5);
    assert_eq!(totals.change_failure_rate, Some(0.4545));
    assert_eq!(totals.change_success_rate, Some(0.5455));
    // Recovery: #2 → next payments success #3: 1 12:00 → 1 15:00 = 3 h. #4 → I1 resolved
    // 2 15:00: 6 h. #5 → next success #6: 3 16:00 → 7 10:00 = 90 h. #9 → I3 still open:
    // unrecovered. #10 → I4 resolved 5 02:00: 18 h. Sorted 3 6 18 90: median rank 2 → 6 h.
    assert_eq!(totals.failed_deployment_recovery_median_hours, Some(6.0));
    assert_eq!(totals.failed_deployments_unrecovered, 1);
    // Rework: emergency changes whose service's previous deployment failed: #3 (after #2), #6
    // (after #5), #10 (after #9). 3 / 11 = 0.2727. #11 follows a failure but is normal.
    assert_eq!(totals.rework_deployments, 3);
    assert_eq!(totals.deployment_rework_rate, Some(0.2727));
    // Approval, approved − submitted: #1 2, #2 4, #3 1, #4 0, #5 1, #6 8 (retrospective), #7 4,
    // #8 0, #9 5, #10 1, #11 10. Sorted 0 0 1 1 1 2 4 4 5 8 10: median rank 6 → 2 h; p90 rank
    // ⌈9.9⌉ = 10 → 8 h.
    assert_eq!(totals.approval_time_median_hours, Some(2.0));
    assert_eq!(totals.approval_time_p90_hours, Some(8.0));
    // Time to implement, completed − approved, without #6 (approved after it completed): #1 7,
    // #2 19, #3 1, #4 1, #5 4, #7 6, #8 2, #9 6, #10 3, #11 13. Sorted 1 1 2 3 4 6 6 7 13 19:
    // median rank 5 → 4 h.
    assert_eq!(totals.time_to_implement_median_hours, Some(4.0));
    // Change-related incidents: I1, I3, I4 (I2 has no counted cause; I5's cause #12 is no
    // deployment). 3 / 11 = 0.2727. MTTR over the resolved ones: I1 4 h, I4 2 h → 3 h.
    // Downtime 30 + 45 (I3 reports none) = 75 minutes.
    assert_eq!(totals.change_related_incidents, 3);
    assert_eq!(totals.change_related_incidents_per_deployment, Some(0.2727));
    assert_eq!(totals.change_related_incidents_unresolved, 1);
    assert_eq!(totals.mttr_hours, Some(3.0));
    assert_eq!(totals.downtime_minutes_from_changes, 75);
    assert_eq!(report.change_related_incidents_by_severity.sev1, 1);
    assert_eq!(report.change_related_incidents_by_severity.sev4, 0);
    // By type: standard #4 #8; normal #1 #2 #5 #7 #9 #11; emergency #3 #6 #10.
    let by_type = &totals.changes_by_type;
    assert_eq!((by_type.standard, by_type.normal, by_type.emergency), (2, 6, 3));
    // MTBF: search's change-caused incidents I3 (2 21:00) and I4 (5 00:00) are 51 h apart;
    // payments has only I1.
    assert_eq!(report.mtbf_hours_by_service.get("search"), Some(&Some(51.0)));
    assert_eq!(report.mtbf_hours_by_service.get("payments"), Some(&None));
    // Bands: 5.6 deployment days a week ≥ 5 elite; lead 4 h < 1 day elite; CFR 45 % > 15 % low;
    // recovery 6 h between 1 h and 1 day high.
    let bands = &totals.bands;
    assert_eq!(bands.deployment_frequency, Some(PerformanceBand::Elite));
    assert_eq!(bands.lead_time, Some(PerformanceBand::Elite));
    assert_eq!(bands.change_failure_rate, Some(PerformanceBand::Low));
    assert_eq!(bands.recovery_time, Some(PerformanceBand::High));
}

#[test]
fn breakdowns_risk_and_weekly_trend() {
    // Given the golden history, when the whole history is asked for.
    let golden = golden();
    let report = report(&golden, &MetricsQuery::default());
    // Then payments has #1–#7: failed #2 #4 #5 → 3/7 = 0.4286; leads 3 4 10 12 24 → median
    // rank 3 → 10 h, p90 rank 5 → 24 h; recoveries 3 6 90 → 6 h; rework #3 #6 → 2/7 = 0.2857.
    let payments = &report.by_service[0].metrics;
    assert_eq!(report.by_service[0].name, "payments");
    assert_eq!(payments.deployments, 7);
    assert_eq!(payments.change_failure_rate, Some(0.4286));
    assert_eq!((payments.lead_time_median_hours, payments.lead_time_p90_hours), (Some(10.0), Some(24.0)));
    assert_eq!(payments.failed_deployment_recovery_median_hours, Some(6.0));
    assert_eq!(payments.deployment_rework_rate, Some(0.2857));
    // Search has #8–#11: failed #9 #10 → 0.5; leads 2 4 24 → 4 h; recovery only #10's 18 h.
    let search = &report.by_service[1].metrics;
    assert_eq!(search.deployments, 4);
    assert_eq!(search.change_failure_rate, Some(0.5));
    assert_eq!(search.lead_time_median_hours, Some(4.0));
    assert_eq!(search.failed_deployment_recovery_median_hours, Some(18.0));
    // Search deployed on days 0, 2, 4, 9 of the report's 10 days: 4 × 7 / 10 = 2.8 a week.
    assert_eq!(search.deployment_days_per_week, Some(2.8));
    // Teams mirror services here; the one environment holds everything.
    assert_eq!(report.by_team.iter().map(|row| row.name.as_str()).collect::<Vec<_>>(), ["blue", "red"]);
    assert_eq!(report.by_environment.len(), 1);
    assert_eq!(report.by_environment[0].metrics.deployments, 11);
    // Risk buckets: 0–9 #7; 10–19 #1 #8; 30–39 #11; 40–49 #3; 50–59 #5 (failed); 60–69 #10
    // (failed); 70–79 #2 (failed); 80–89 #4 (failed); 90–100 #9 (failed); #6 has no score.
    let buckets: Vec<(u64, u64)> = report.risk_distribution.iter().map(|row| (row.deployments, row.failures)).collect();
    assert_eq!(buckets, [(1, 0), (2, 0), (0, 0), (1, 0), (1, 0), (1, 1), (1, 1), (1, 1), (1, 1), (1, 1)]);
    assert_eq!(report.risk_distribution[9].risk, "90-100");
    assert_eq!(report.risk_distribution[9].failure_rate, Some(1.0));
    // Weekly: 2025-W10 holds #1–#5, #8, #9, #10: 8 deployments, 5 failed → 0.625; leads 2 3 4 10
    // 24 → 4 h; approvals 0 0 1 1 1 2 4 5 → rank 4 → 1 h; MTTR of I1 and I4 → 3 h. 2025-W11
    // (days 7–9) holds #6 #7 #11: none failed; leads 4 12 24 → 12 h; approvals 4 8 10 → 8 h.
    assert_eq!(report.weekly.len(), 2);
    let (first, second) = (&report.weekly[0], &report.weekly[1]);
    assert_eq!((first.week.as_str(), first.week_start.as_str()), ("2025-W10", "2025-03-03"));
    assert_eq!((first.deployments, first.change_failure_rate), (8, Some(0.625)));
    assert_eq!((first.lead_time_median_hours, first.approval_time_median_hours), (Some(4.0), Some(1.0)));
    assert_eq!(first.mttr_hours, Some(3.0));
    assert_eq!((second.week.as_str(), second.deployments, second.change_failure_rate), ("2025-W11", 3, Some(0.0)));
    assert_eq!((second.lead_time_median_hours, second.approval_time_median_hours), (Some(12.0), Some(8.0)));
    assert_eq!(second.mttr_hours, None);
}

#[test]
fn a_period_includes_its_start_and_excludes_its_end() {
    // Given the golden history.
    let golden = golden();
    // When the period starts exactly at #4's completion (2 09:00) and ends exactly at #7's
    // (8 12:00).
    let query = MetricsQuery { from_ms: Some(at(2, 9)), to_ms: Some(at(8, 12)), ..MetricsQuery::default() };
    let report = report(&golden, &query);
    let totals = &report.totals;
    // Then #4, #9, #5, #10, #6 count and #7 does not: 5 deployments in 6 days 3 hours = 6.125
    // days → 5 / 6.125 = 0.816 a day; deployment days 2 3 4 7 → 4 × 7 / 6.125 = 4.571 a week.
    assert_eq!(totals.deployments, 5);
    assert_eq!(report.period.as_ref().unwrap().days, 6.125);
    assert_eq!(totals.deployment_frequency_per_day, Some(0.816));
    assert_eq!(totals.deployment_days_per_week, Some(4.571));
    // Failed #4 #9 #5 #10 → 4/5 = 0.8. Recoveries 6 (#4), 90 (#5), 18 (#10) → median 18 h; #9
    // is unrecovered. Recovery does not depend on the period: #5's is still 90 h.
    assert_eq!(totals.change_failure_rate, Some(0.8));
    assert_eq!(totals.failed_deployment_recovery_median_hours, Some(18.0));
    // Rework #10 and #6 → 2/5 = 0.4. Leads 24 (#4) 4 (#10) 4 (#6) → median 4 h, p90 24 h.
    assert_eq!(totals.deployment_rework_rate, Some(0.4));
    assert_eq!((totals.lead_time_median_hours, totals.lead_time_p90_hours), (Some(4.0), Some(24.0)));
    // 4 deployment days a week is high (≥ 1, < 5).
    assert_eq!(totals.bands.deployment_frequency, Some(PerformanceBand::High));
    assert_eq!(totals.bands.recovery_time, Some(PerformanceBand::High));
    // The weekly trend covers only the period's part of each week.
    assert_eq!(report.weekly.iter().map(|point| point.deployments).collect::<Vec<_>>(), [4, 1]);
}

#[test]
fn rework_looks_at_the_previous_deployment_even_before_the_period() {
    // Given the golden history, when the period holds only #3 (from its completion at 1 15:00 to
    // #4's at 2 09:00, excluded).
    let golden = golden();
    let query = MetricsQuery { from_ms: Some(at(1, 15)), to_ms: Some(at(2, 9)), ..MetricsQuery::default() };
    let report = report(&golden, &query);
    // Then #3 is rework, because #2 before the period failed.
    assert_eq!(report.totals.deployments, 1);
    assert_eq!(report.totals.deployment_rework_rate, Some(1.0));
}

#[test]
fn a_filter_sets_the_default_period_from_its_own_deployments() {
    // Given the golden history, when only search is asked for.
    let golden = golden();
    let query = MetricsQuery { service: Some("search".to_owned()), ..MetricsQuery::default() };
    let report = report(&golden, &query);
    // Then the period is days 0–9 of search's own deployments (10 days): 4 / 10 = 0.4 a day.
    assert_eq!(report.period.as_ref().unwrap().days, 10.0);
    assert_eq!(report.totals.deployment_frequency_per_day, Some(0.4));
    assert_eq!(report.by_service.len(), 1);
    assert_eq!(report.by_team[0].name, "blue");
    // And with only a start, the period ends with the last deployment's day: days 7–9, #6 #7 #11.
    let from_day_seven = MetricsQuery { from_ms: Some(at(7, 0)), ..MetricsQuery::default() };
    let report = self::report(&golden, &from_day_seven);
    assert_eq!((report.totals.deployments, report.period.as_ref().unwrap().to_ms), (3, at(10, 0)));
}

#[test]
fn unknown_names_and_empty_periods_give_nulls_not_errors() {
    // Given the golden history.
    let golden = golden();
    // When a service never seen is asked for, then nothing matches and there is no period.
    let unknown = report(&golden, &MetricsQuery { service: Some("nope".to_owned()), ..MetricsQuery::default() });
    assert_eq!((unknown.totals.deployments, unknown.period.is_none()), (0, true));
    assert_eq!(unknown.totals.change_failure_rate, None);
    assert!(unknown.weekly.is_empty());
    // When the period is empty, then rates per day are undefined.
    let empty =
        report(&golden, &MetricsQuery { from_ms: Some(at(3, 0)), to_ms: Some(at(3, 0)), ..MetricsQuery::default() });
    assert_eq!((empty.totals.deployments, empty.totals.deployment_frequency_per_day), (0, None));
    // When the period runs backwards, then the query is refused.
    let backwards = MetricsQuery { from_ms: Some(at(3, 0)), to_ms: Some(at(2, 0)), ..MetricsQuery::default() };
    assert_eq!(
        golden.index.query(&backwards),
        Err(MetricsError::PeriodReversed { from_ms: at(3, 0), to_ms: at(2, 0) })
    );
}

#[test]
fn json_report_snapshot() {
    // Given the golden history, when its whole-history report is serialised, then it matches the
    // snapshot (refresh with UPDATE_EXPECT=1 after a deliberate change) and reads back.
    let golden = golden();
    let report = report(&golden, &MetricsQuery::default());
    let json = serde_json::to_string_pretty(&report).unwrap();
    expect_file!["golden_report.json"].assert_eq(&(json.clone() + "\n"));
    let read_back: MetricsReport = serde_json::from_str(&json).unwrap();
    assert_eq!(read_back.totals.deployments, report.totals.deployments);
    assert_eq!(read_back.weekly, report.weekly);
}

#[test]
fn facts_that_break_a_limit_are_refused_and_change_nothing() {
    // Given the golden history and its whole-history report.
    let mut golden = golden();
    let before = golden.index.query(&MetricsQuery::default()).unwrap();
    let mut change = golden.changes[0].clone();
    // When facts break limits: a risk score above 100, a time before 1970, an id from another
    // interner, a downtime of centuries.
    change.risk_score = Some(101);
    assert_eq!(golden.index.upsert_change(&change), Err(MetricsError::RiskScoreTooHigh { score: 101 }));
    change.risk_score = None;
    change.completed_at_ms = Some(-1);
    assert_eq!(
        golden.index.upsert_change(&change),
        Err(MetricsError::TimeOutOfRange { field: "completed_at_ms", value_ms: -1 })
    );
    let mut stranger = golden.changes[0].clone();
    let mut other_index = MetricsIndex::new(MetricsConfig::default()).unwrap();
    // The golden index holds six names (ids 0–5); the seventh name elsewhere is id 6.
    for name in ["a", "b", "c", "d", "e", "f", "g"] {
        stranger.service = other_index.intern(name).unwrap();
    }
    assert_eq!(golden.index.upsert_change(&stranger), Err(MetricsError::UnknownNameId { id: 6 }));
    let mut incident = golden.incidents[0].clone();
    incident.downtime_minutes = Some(u32::MAX);
    assert_eq!(golden.index.upsert_incident(&incident), Err(MetricsError::DowntimeTooLong { minutes: u32::MAX }));
    // Then the report is unchanged.
    assert_eq!(golden.index.query(&MetricsQuery::default()).unwrap(), before);
}
