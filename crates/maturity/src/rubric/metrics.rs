//! The metrics and KPI criteria: the change measures tracked and used to improve.
//!
//! Why a file of its own: the rubric is a long table; one file per dimension keeps each column
//! of the seed's maturity table readable on its own. Rows are in level order; [`super::RUBRIC`]
//! joins the dimensions in the table's order.

use super::data;
use crate::checks;
use crate::criterion::Dimension::Metrics;
use crate::criterion::{Comparison, Criterion, DEPLOYMENTS_MIN, Unit};

/// The criteria of this dimension, by level.
pub(super) const CRITERIA: &[Criterion] = &[
    Criterion {
        unit: Unit::Count,
        ..data(
            "metrics.change-count",
            Metrics,
            2,
            "The number of changes is tracked",
            "Number of production changes that finished (successful, failed or rolled back) in the period.",
            10.0,
            1,
            "Basic metrics (e.g., number of changes).",
            "Record every production change with its outcome so that change volume can be counted.",
            "the change list and the dashboard",
            checks::change_count,
        )
    },
    data(
        "metrics.deployment-times",
        Metrics,
        2,
        "Changes carry their deployment time",
        "Share of the period's finished production changes that record when they were deployed.",
        0.8,
        DEPLOYMENTS_MIN,
        "Basic metrics (e.g., number of changes). (Processes are planned, documented, and tracked.)",
        "Record when each change was deployed (start and completion), so changes can be counted per period.",
        "lifecycle events with their times (start, complete)",
        checks::deployment_times,
    ),
    data(
        "metrics.success-rate-tracked",
        Metrics,
        3,
        "The change success rate is tracked",
        "Share of the period's production deployments with a known outcome (verified successful, failed, or rolled back; not left unverified).",
        0.9,
        DEPLOYMENTS_MIN,
        "Metrics tracked include change success rates and approval times.",
        "Close every deployed change with its outcome: verify it, or mark it failed or rolled back.",
        "verify / fail / rollback actions, and `changegate gate --finish` from the pipeline",
        checks::success_rate_tracked,
    ),
    data(
        "metrics.approval-time-tracked",
        Metrics,
        3,
        "Approval time is tracked",
        "Share of the period's approved production deployments whose approval time (submission to approval) can be measured.",
        0.9,
        DEPLOYMENTS_MIN,
        "Metrics tracked include change success rates and approval times.",
        "Submit changes for approval in the tool so that submission and approval times are both recorded.",
        "submit and approve through Changegate (API, CLI, inbox)",
        checks::approval_time_tracked,
    ),
    data(
        "metrics.change-incidents-monitored",
        Metrics,
        3,
        "Change-related incidents are monitored",
        "Share of the period's incidents whose link to a change is settled (none waits for a person to confirm a suggested cause); at least one incident must be recorded.",
        0.9,
        1,
        "Change-related incidents monitored.",
        "Record incidents in Changegate (or import them) and confirm or reject each suggested causing change.",
        "incidents with change attribution (explicit, suggested, confirmed, rejected)",
        checks::change_incidents_monitored,
    ),
    data(
        "metrics.recovery-time-measured",
        Metrics,
        4,
        "Time to recover from failed changes is measured",
        "Share of the period's failed production deployments whose recovery time can be measured (the incident resolved, a rollback recorded live, or the next successful deployment).",
        0.8,
        1,
        "Advanced metrics include time-to-recover from failed changes, change risk scores, and downtime related to changes.",
        "Record how each failure ended: roll back through Changegate, resolve the linked incident, or deploy the fix as a change.",
        "rollback actions and hooks, incident resolution times",
        checks::recovery_time_measured,
    ),
    data(
        "metrics.change-downtime-recorded",
        Metrics,
        4,
        "Downtime caused by changes is recorded",
        "Share of the period's incidents caused by a change that record their downtime.",
        0.8,
        1,
        "Advanced metrics include time-to-recover from failed changes, change risk scores, and downtime related to changes.",
        "Record the downtime of every incident a change caused.",
        "incident downtime minutes",
        checks::change_downtime_recorded,
    ),
    data(
        "metrics.recovery-within-hour",
        Metrics,
        5,
        "Failed changes are recovered within an hour",
        "Share of the period's failed production deployments recovered within 60 minutes (an unmeasurable recovery counts as slower); MTTR and MTBF are reported with it.",
        0.8,
        1,
        "Metrics used for real-time process improvement (e.g., Mean Time to Recovery (MTTR), Mean Time Between Failures (MTBF)).",
        "Watch MTTR and MTBF continuously and cut recovery time: automated rollbacks, alerts on failure.",
        "rollback hooks and alert rules; the metrics pages",
        checks::recovery_within_hour,
    ),
    Criterion {
        unit: Unit::Ratio,
        comparison: Comparison::AtMost,
        ..data(
            "metrics.approval-time-falling",
            Metrics,
            5,
            "Approval time keeps falling",
            "Median approval time of the latest quarter over that of three quarters ago (91-day quarters ending at the period's end), with no quarter rising more than 10 % over the one before; met outright once the latest median is under an hour.",
            0.9,
            5,
            "Change approval time continuously reduced.",
            "Remove approval waits quarter by quarter: more standard templates, policy auto-approval of low-risk changes, approvers notified at once.",
            "standard-change templates, policy auto-approval, the approvals inbox",
            checks::approval_time_falling,
        )
    },
];
