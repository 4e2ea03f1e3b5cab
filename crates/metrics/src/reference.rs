//! The definitions as plain loops over all facts: the executable specification the index is
//! tested against.
//!
//! Nothing here is incremental or clever: every derived fact is recomputed from scratch by
//! scanning all deployments (quadratic in their number), every group is a filter over all of
//! them, and every percentile sorts its values. Use it for tests and small data only; the
//! service answers queries with [`crate::MetricsIndex`].

use std::collections::{HashMap, HashSet};

use crate::civil::{WEEK_MS, day_of, week_of, week_start_ms};
use crate::error::MetricsError;
use crate::facts::{
    ChangeFact, ChangeOutcome, IncidentFact, MetricsConfig, check_change, check_incident, is_deployment,
};
use crate::names::{NameId, Names};
use crate::report::{MetricsQuery, MetricsReport, ReportTotals, assemble, check_query, resolve_period};
use crate::select::nearest_rank;
use crate::totals::{Deployment, GroupTotals, IncidentSummary, Recovery, Tally};

/// The report for `query` over `changes` and `incidents`. When a number appears more than once,
/// its last fact counts (as if the facts were upserted in order).
pub fn report(
    config: &MetricsConfig,
    names: &Names,
    changes: &[ChangeFact],
    incidents: &[IncidentFact],
    query: &MetricsQuery,
) -> Result<MetricsReport, MetricsError> {
    config.check()?;
    check_query(query)?;
    let mut latest_changes: HashMap<u64, &ChangeFact> = HashMap::new();
    for change in changes {
        check_change(names, change)?;
        latest_changes.insert(change.number, change);
    }
    let mut latest_incidents: HashMap<u64, &IncidentFact> = HashMap::new();
    for incident in incidents {
        check_incident(names, incident)?;
        latest_incidents.insert(incident.number, incident);
    }
    let deployments = derive_all(config, names, &latest_changes, &latest_incidents);

    let filter =
        [&query.service, &query.team, &query.environment].map(|name| name.as_ref().map(|name| names.get(name)));
    let matches = |deployment: &Deployment| {
        let values = [deployment.service, deployment.team, deployment.environment];
        filter.iter().zip(values).all(|(wanted, value)| match wanted {
            None => true,
            Some(wanted) => *wanted == Some(value),
        })
    };
    let matching: Vec<&Deployment> = deployments.iter().filter(|deployment| matches(deployment)).collect();
    let first_day = matching.iter().map(|deployment| day_of(deployment.completed_at_ms)).min();
    let last_day = matching.iter().map(|deployment| day_of(deployment.completed_at_ms)).max();
    let period = resolve_period(query, first_day.zip(last_day))?;
    let (from_ms, to_ms) = period.unwrap_or((0, 0));
    let in_period: Vec<&Deployment> =
        matching.iter().copied().filter(|deployment| (from_ms..to_ms).contains(&deployment.completed_at_ms)).collect();

    let by = |key: fn(&Deployment) -> NameId| {
        let mut keys: Vec<NameId> = in_period.iter().map(|deployment| key(deployment)).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|value| {
                let group: Vec<&Deployment> =
                    in_period.iter().copied().filter(|deployment| key(deployment) == value).collect();
                (value, totals_of(&group))
            })
            .collect::<Vec<_>>()
    };
    let mut weekly = Vec::new();
    if to_ms > from_ms {
        for week in week_of(from_ms)..=week_of(to_ms - 1) {
            let start_ms = week_start_ms(week).max(from_ms);
            let end_ms = (week_start_ms(week) + WEEK_MS).min(to_ms);
            let group: Vec<&Deployment> = in_period
                .iter()
                .copied()
                .filter(|deployment| (start_ms..end_ms).contains(&deployment.completed_at_ms))
                .collect();
            weekly.push((week, totals_of(&group)));
        }
    }
    let totals = ReportTotals {
        period,
        top: totals_of(&in_period),
        by_service: by(|deployment| deployment.service),
        by_team: by(|deployment| deployment.team),
        by_environment: by(|deployment| deployment.environment),
        weekly,
    };
    Ok(assemble(names, totals))
}

/// Every deployment with its derived facts, each computed by scanning everything.
fn derive_all(
    config: &MetricsConfig,
    names: &Names,
    changes: &HashMap<u64, &ChangeFact>,
    incidents: &HashMap<u64, &IncidentFact>,
) -> Vec<Deployment> {
    let mut deployments: Vec<Deployment> = changes
        .values()
        .filter(|change| is_deployment(config, names, change))
        .map(|change| Deployment::from_fact(change))
        .collect();
    let counted = |number: u64| -> Vec<&IncidentFact> {
        let mut caused: Vec<&IncidentFact> =
            incidents.values().copied().filter(|incident| incident.counted_cause == Some(number)).collect();
        caused.sort_by_key(|incident| incident.number);
        caused
    };
    let failed =
        |deployment: &Deployment| deployment.outcome.is_failed_deployment() || !counted(deployment.number).is_empty();
    let snapshot = deployments.clone();
    for deployment in &mut deployments {
        let own_incidents = counted(deployment.number);
        deployment.failed = failed(deployment);
        deployment.incidents = IncidentSummary::of(own_incidents.iter().copied());
        let key = deployment.order_key();
        let same_service = || snapshot.iter().filter(|other| other.service == deployment.service);
        deployment.recovery = if !deployment.failed {
            Recovery::NotFailed
        } else if !own_incidents.is_empty() {
            if own_incidents.iter().all(|incident| incident.resolved_at_ms.is_some()) {
                let latest_ms = own_incidents.iter().filter_map(|incident| incident.resolved_at_ms).max().unwrap_or(0);
                Recovery::Recovered { after_ms: latest_ms - deployment.completed_at_ms }
            } else {
                Recovery::Unrecovered
            }
        } else {
            let next_success = same_service()
                .filter(|other| other.order_key() > key && other.outcome == ChangeOutcome::Success)
                .min_by_key(|other| other.order_key());
            match next_success {
                Some(next) => Recovery::Recovered { after_ms: next.completed_at_ms - deployment.completed_at_ms },
                None => Recovery::Unrecovered,
            }
        };
        let previous = same_service().filter(|other| other.order_key() < key).max_by_key(|other| other.order_key());
        deployment.rework =
            deployment.change_type == changegate_core::ChangeType::Emergency && previous.is_some_and(&failed);
    }
    deployments
}

fn percentile_pair(mut values: Vec<i64>) -> [Option<i64>; 2] {
    values.sort_unstable();
    if values.is_empty() {
        return [None, None];
    }
    [50, 90].map(|percent| Some(values[nearest_rank(values.len(), percent) - 1]))
}

fn totals_of(group: &[&Deployment]) -> GroupTotals {
    let mut tally = Tally::default();
    for deployment in group {
        tally.count(deployment, 1);
    }
    let days: HashSet<i64> = group.iter().map(|deployment| day_of(deployment.completed_at_ms)).collect();
    let values =
        |value: fn(&Deployment) -> Option<i64>| group.iter().filter_map(|deployment| value(deployment)).collect();
    let detected: Vec<i64> = group
        .iter()
        .filter_map(|deployment| deployment.incidents.as_ref())
        .flat_map(|summary| summary.detected_ms.iter().copied())
        .collect();
    GroupTotals {
        tally,
        deployment_days: days.len() as u64,
        lead_ms: percentile_pair(values(|deployment| deployment.lead_ms)),
        approval_ms: percentile_pair(values(|deployment| deployment.approval_ms)),
        implement_median_ms: percentile_pair(values(|deployment| deployment.implement_ms))[0],
        recovery_median_ms: percentile_pair(values(|deployment| match deployment.recovery {
            Recovery::Recovered { after_ms } => Some(after_ms),
            _ => None,
        }))[0],
        incident_detected_range_ms: detected.iter().min().copied().zip(detected.iter().max().copied()),
    }
}
