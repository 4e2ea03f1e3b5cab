//! Answering a `MetricsQuery` from the index: full weeks of the period read the cells of the
//! groups involved, the (at most two) partial weeks at its ends are scanned row by row, and the
//! totals of each part of the report are finished with exact percentile selection.

use std::collections::{BTreeMap, HashMap};

use crate::civil::{WEEK_MS, day_of, week_of, week_start_ms};
use crate::error::MetricsError;
use crate::index::{
    Cell, GroupKey, MetricsIndex, STREAM_APPROVAL, STREAM_DETECTED, STREAM_IMPLEMENT, STREAM_LEAD, STREAM_RECOVERY,
    STREAMS, stream_values,
};
use crate::names::NameId;
use crate::report::{MetricsQuery, MetricsReport, ReportTotals, assemble, check_query, resolve_period};
use crate::select::percentiles;
use crate::totals::{Deployment, GroupTotals, Tally};

/// The totals of one part of the report as they are gathered: whole cells and single rows.
#[derive(Default)]
struct Accumulator<'a> {
    tally: Tally,
    /// Distinct deployment days from whole cells (weeks never overlap, so they add up).
    cell_days: u64,
    /// Days of rows from partial weeks, deduplicated at the end.
    row_days: Vec<i64>,
    runs: [Vec<&'a [i64]>; STREAMS],
    row_values: [Vec<i64>; STREAMS],
}

impl<'a> Accumulator<'a> {
    fn add_cell(&mut self, cell: &'a Cell) {
        self.tally.merge(&cell.tally);
        self.cell_days += cell.weekday_deployments.iter().filter(|count| **count > 0).count() as u64;
        for (runs, values) in self.runs.iter_mut().zip(&cell.streams) {
            if !values.is_empty() {
                runs.push(values);
            }
        }
    }

    fn add_row(&mut self, deployment: &Deployment) {
        self.tally.count(deployment, 1);
        self.row_days.push(day_of(deployment.completed_at_ms));
        let row_values = &mut self.row_values;
        stream_values(deployment, |stream, value| row_values[stream].push(value));
    }

    fn finish(mut self) -> GroupTotals {
        self.row_days.sort_unstable();
        self.row_days.dedup();
        let mut runs = self.runs;
        for (stream, values) in self.row_values.iter_mut().enumerate() {
            values.sort_unstable();
            if !values.is_empty() {
                runs[stream].push(values);
            }
        }
        let detected = &runs[STREAM_DETECTED];
        let first_detected_ms = detected.iter().map(|run| run[0]).min();
        let last_detected_ms = detected.iter().map(|run| run[run.len() - 1]).max();
        GroupTotals {
            tally: self.tally,
            deployment_days: self.cell_days + self.row_days.len() as u64,
            lead_ms: percentiles(&runs[STREAM_LEAD], [50, 90]),
            approval_ms: percentiles(&runs[STREAM_APPROVAL], [50, 90]),
            implement_median_ms: percentiles(&runs[STREAM_IMPLEMENT], [50])[0],
            recovery_median_ms: percentiles(&runs[STREAM_RECOVERY], [50])[0],
            incident_detected_range_ms: first_detected_ms.zip(last_detected_ms),
        }
    }
}

/// One breakdown (by service, team or environment) under the query's filter.
struct Breakdown<'a> {
    /// The breakdown's groups: name, group id, accumulator.
    parts: Vec<(NameId, usize, Accumulator<'a>)>,
    position_by_name: HashMap<NameId, usize>,
}

impl<'a> Breakdown<'a> {
    fn new(
        index: &MetricsIndex,
        filter: GroupKey,
        pick: fn(&GroupKey) -> Option<NameId>,
        refine: fn(&mut GroupKey, NameId),
    ) -> Breakdown<'a> {
        let mut parts = Vec::new();
        for (id, key) in index.groups.keys.iter().enumerate() {
            let Some(name) = pick(key) else { continue };
            // Under a filter on this very dimension the breakdown has the filter's one value.
            if pick(&filter).is_some_and(|fixed| fixed != name) {
                continue;
            }
            let mut wanted = filter;
            refine(&mut wanted, name);
            if *key == wanted {
                parts.push((name, id, Accumulator::default()));
            }
        }
        let position_by_name = parts.iter().enumerate().map(|(position, (name, _, _))| (*name, position)).collect();
        Breakdown { parts, position_by_name }
    }

    fn add_row(&mut self, name: NameId, deployment: &Deployment) {
        if let Some(position) = self.position_by_name.get(&name) {
            self.parts[*position].2.add_row(deployment);
        }
    }

    fn finish(self) -> Vec<(NameId, GroupTotals)> {
        self.parts.into_iter().map(|(name, _, accumulator)| (name, accumulator.finish())).collect()
    }
}

/// The UTC days of a group's first and last deployment.
fn deployment_days(cells: &BTreeMap<i64, Cell>) -> Option<(i64, i64)> {
    let (first_week, first_cell) = cells.first_key_value()?;
    let (last_week, last_cell) = cells.last_key_value()?;
    let first_weekday = first_cell.weekday_deployments.iter().position(|count| *count > 0)?;
    let last_weekday = last_cell.weekday_deployments.iter().rposition(|count| *count > 0)?;
    let monday = |week: i64| day_of(week_start_ms(week));
    Some((monday(*first_week) + first_weekday as i64, monday(*last_week) + last_weekday as i64))
}

pub(crate) fn run(index: &MetricsIndex, query: &MetricsQuery) -> Result<MetricsReport, MetricsError> {
    check_query(query)?;
    let resolve = |name: &Option<String>| match name {
        None => Some(None),
        Some(text) => index.names.get(text).map(Some),
    };
    // A name never seen matches nothing: there is no filter to apply, and no deployment.
    let filter = match (resolve(&query.service), resolve(&query.team), resolve(&query.environment)) {
        (Some(service), Some(team), Some(environment)) => Some(GroupKey { service, team, environment }),
        _ => None,
    };
    let top_group = filter.and_then(|key| index.groups.ids.get(&key).copied());
    let period = resolve_period(query, top_group.and_then(|id| deployment_days(&index.groups.cells[id])))?;

    let mut top = Accumulator::default();
    let mut weekly: Vec<(i64, Accumulator)> = Vec::new();
    let no_filter = GroupKey { service: None, team: None, environment: None };
    let filter_or_none = filter.unwrap_or(no_filter);
    let mut by_service = Breakdown::new(index, filter_or_none, |key| key.service, |key, name| key.service = Some(name));
    let mut by_team = Breakdown::new(index, filter_or_none, |key| key.team, |key, name| key.team = Some(name));
    let mut by_environment =
        Breakdown::new(index, filter_or_none, |key| key.environment, |key, name| key.environment = Some(name));
    if filter.is_none() {
        for breakdown in [&mut by_service, &mut by_team, &mut by_environment] {
            breakdown.parts.clear();
            breakdown.position_by_name.clear();
        }
    }

    if let Some((from_ms, to_ms)) = period
        && to_ms > from_ms
    {
        for week in week_of(from_ms)..=week_of(to_ms - 1) {
            let mut this_week = Accumulator::default();
            let start_ms = week_start_ms(week);
            let end_ms = start_ms + WEEK_MS;
            match filter {
                None => {}
                Some(_) if from_ms <= start_ms && end_ms <= to_ms => {
                    let cell_of = |id: usize| index.groups.cells[id].get(&week);
                    if let Some(cell) = top_group.and_then(cell_of) {
                        top.add_cell(cell);
                        this_week.add_cell(cell);
                    }
                    for breakdown in [&mut by_service, &mut by_team, &mut by_environment] {
                        for (_, id, accumulator) in &mut breakdown.parts {
                            if let Some(cell) = cell_of(*id) {
                                accumulator.add_cell(cell);
                            }
                        }
                    }
                }
                Some(filter) => {
                    let Some(members) = index.week_members.get(&week) else {
                        weekly.push((week, this_week));
                        continue;
                    };
                    let scan_from_ms = start_ms.max(from_ms);
                    let scan_to_ms = end_ms.min(to_ms);
                    let first = members.partition_point(|member| member.completed_at_ms < scan_from_ms);
                    let end = members.partition_point(|member| member.completed_at_ms < scan_to_ms);
                    for member in &members[first..end] {
                        let Some(deployment) = index.rows[member.slot as usize].as_ref() else { continue };
                        if !filter.matches(deployment) {
                            continue;
                        }
                        top.add_row(deployment);
                        this_week.add_row(deployment);
                        by_service.add_row(deployment.service, deployment);
                        by_team.add_row(deployment.team, deployment);
                        by_environment.add_row(deployment.environment, deployment);
                    }
                }
            }
            weekly.push((week, this_week));
        }
    }
    let totals = ReportTotals {
        period,
        top: top.finish(),
        by_service: by_service.finish(),
        by_team: by_team.finish(),
        by_environment: by_environment.finish(),
        weekly: weekly.into_iter().map(|(week, accumulator)| (week, accumulator.finish())).collect(),
    };
    Ok(assemble(&index.names, totals))
}
