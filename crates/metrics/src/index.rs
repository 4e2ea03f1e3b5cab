//! `MetricsIndex`: the deployments and incidents, kept up to date fact by fact, arranged so that
//! a query reads a few hundred precomputed cells instead of a million rows.
//!
//! Layout, and why:
//! - Deployment rows sit in a slab (`rows`), found by change number. Changes that are not
//!   deployments are not stored at all: an incident may still name one as its cause, and counts
//!   once the change becomes a deployment.
//! - Per service, a timeline of its deployments in (completed, number) order. A deployment's
//!   derived facts depend on its neighbours there: rework on the previous deployment, recovery
//!   (without incidents) on the next successful one. An upsert recomputes only the rows whose
//!   neighbours changed (see `neighbours`).
//! - Per ISO week, the week's deployments in order (`week_members`): queries scan these only in
//!   the two weeks where the period starts or ends mid-week.
//! - Per group and ISO week, a `Cell`: the week's totals (`Tally`, deployments per weekday) and
//!   the week's values of each duration, sorted. A group is a combination of service, team and
//!   environment, each fixed or any (eight per deployment), so every filter and every breakdown
//!   under a filter has cells of its own. Full weeks of a period add cells; percentiles are
//!   selected exactly across the cells' sorted runs (`select`).
//!
//! An upsert costs a few binary searches and small in-week moves per touched row; a query costs
//! O(groups × weeks) cells plus the rows of at most two partial weeks.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use changegate_core::ChangeType;

use crate::civil::{week_of, weekday_of};
use crate::error::MetricsError;
use crate::facts::{
    ChangeFact, ChangeOutcome, IncidentFact, MetricsConfig, TRACKED_DEPLOYMENTS_MAX, TRACKED_INCIDENTS_MAX,
    check_change, check_incident, is_deployment,
};
use crate::names::{NameId, Names};
use crate::report::{MetricsQuery, MetricsReport};
use crate::totals::{Deployment, IncidentSummary, Recovery, Tally};

/// Duration streams kept sorted per cell: lead time, approval time, time to implement, recovery
/// time, and the detection times of counted incidents.
pub(crate) const STREAMS: usize = 5;
pub(crate) const STREAM_LEAD: usize = 0;
pub(crate) const STREAM_APPROVAL: usize = 1;
pub(crate) const STREAM_IMPLEMENT: usize = 2;
pub(crate) const STREAM_RECOVERY: usize = 3;
pub(crate) const STREAM_DETECTED: usize = 4;

/// A set of deployments: service, team and environment each fixed (`Some`) or any (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey {
    pub service: Option<NameId>,
    pub team: Option<NameId>,
    pub environment: Option<NameId>,
}

impl GroupKey {
    pub fn matches(&self, deployment: &Deployment) -> bool {
        self.service.is_none_or(|service| service == deployment.service)
            && self.team.is_none_or(|team| team == deployment.team)
            && self.environment.is_none_or(|environment| environment == deployment.environment)
    }

    /// The eight groups a deployment belongs to.
    fn all_of(deployment: &Deployment) -> [GroupKey; 8] {
        std::array::from_fn(|mask| GroupKey {
            service: (mask & 1 != 0).then_some(deployment.service),
            team: (mask & 2 != 0).then_some(deployment.team),
            environment: (mask & 4 != 0).then_some(deployment.environment),
        })
    }
}

/// One group's deployments in one ISO week.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cell {
    pub tally: Tally,
    /// Deployments per weekday, Monday first (distinct deployment days are the non-zero ones).
    pub weekday_deployments: [u32; 7],
    /// Each stream's values, ascending.
    pub streams: [Vec<i64>; STREAMS],
}

/// Calls `visit(stream, value)` for every duration a deployment contributes.
pub(crate) fn stream_values(deployment: &Deployment, mut visit: impl FnMut(usize, i64)) {
    if let Some(lead_ms) = deployment.lead_ms {
        visit(STREAM_LEAD, lead_ms);
    }
    if let Some(approval_ms) = deployment.approval_ms {
        visit(STREAM_APPROVAL, approval_ms);
    }
    if let Some(implement_ms) = deployment.implement_ms {
        visit(STREAM_IMPLEMENT, implement_ms);
    }
    if let Recovery::Recovered { after_ms } = deployment.recovery {
        visit(STREAM_RECOVERY, after_ms);
    }
    if let Some(summary) = &deployment.incidents {
        for detected_ms in &summary.detected_ms {
            visit(STREAM_DETECTED, *detected_ms);
        }
    }
}

impl Cell {
    fn add(&mut self, deployment: &Deployment) {
        self.tally.count(deployment, 1);
        self.weekday_deployments[weekday_of(deployment.completed_at_ms)] += 1;
        let streams = &mut self.streams;
        stream_values(deployment, |stream, value| {
            let values = &mut streams[stream];
            // After equal values: facts mostly arrive in time order, so this is usually a push.
            let position = values.partition_point(|existing| *existing <= value);
            values.insert(position, value);
        });
    }

    fn remove(&mut self, deployment: &Deployment) {
        self.tally.count(deployment, -1);
        self.weekday_deployments[weekday_of(deployment.completed_at_ms)] -= 1;
        let streams = &mut self.streams;
        stream_values(deployment, |stream, value| {
            let values = &mut streams[stream];
            match values.binary_search(&value) {
                Ok(position) => {
                    values.remove(position);
                }
                Err(_) => debug_assert!(false, "a value that was added is missing from its cell"),
            }
        });
    }
}

/// The registry of groups and their cells by week.
#[derive(Clone, Debug, Default)]
pub(crate) struct Groups {
    pub ids: HashMap<GroupKey, usize>,
    pub keys: Vec<GroupKey>,
    pub cells: Vec<BTreeMap<i64, Cell>>,
}

impl Groups {
    fn apply(&mut self, deployment: &Deployment, sign: i64) {
        let week = week_of(deployment.completed_at_ms);
        for key in GroupKey::all_of(deployment) {
            let id = match self.ids.get(&key) {
                Some(id) => *id,
                None => {
                    let id = self.keys.len();
                    self.ids.insert(key, id);
                    self.keys.push(key);
                    self.cells.push(BTreeMap::new());
                    id
                }
            };
            let cells = &mut self.cells[id];
            if sign > 0 {
                cells.entry(week).or_default().add(deployment);
            } else if let Some(cell) = cells.get_mut(&week) {
                cell.remove(deployment);
                // Empty cells go, so the first and last cell of a group hold its first and last
                // deployment.
                if cell.tally.deployments == 0 {
                    cells.remove(&week);
                }
            }
        }
    }
}

/// A deployment's place in its week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Member {
    pub completed_at_ms: i64,
    pub number: u64,
    pub slot: u32,
}

/// What is derived from a deployment's neighbours and incidents.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Derived {
    failed: bool,
    recovery: Recovery,
    rework: bool,
    incidents: Option<Box<IncidentSummary>>,
}

/// Deployments and incidents, indexed for fast, exact metrics (see the module docs).
#[derive(Clone, Debug)]
pub struct MetricsIndex {
    pub(crate) config: MetricsConfig,
    pub(crate) names: Names,
    pub(crate) rows: Vec<Option<Deployment>>,
    free_slots: Vec<u32>,
    slot_by_number: HashMap<u64, u32>,
    incidents: HashMap<u64, IncidentFact>,
    /// Counted incidents by the change they name as cause.
    incidents_by_cause: HashMap<u64, Vec<u64>>,
    /// Per service, its deployments in order, to their slots.
    timelines: HashMap<NameId, BTreeMap<(i64, u64), u32>>,
    pub(crate) week_members: BTreeMap<i64, Vec<Member>>,
    pub(crate) groups: Groups,
}

impl MetricsIndex {
    /// An empty index.
    pub fn new(config: MetricsConfig) -> Result<MetricsIndex, MetricsError> {
        config.check()?;
        Ok(MetricsIndex {
            config,
            names: Names::new(),
            rows: Vec::new(),
            free_slots: Vec::new(),
            slot_by_number: HashMap::new(),
            incidents: HashMap::new(),
            incidents_by_cause: HashMap::new(),
            timelines: HashMap::new(),
            week_members: BTreeMap::new(),
            groups: Groups::default(),
        })
    }

    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// The interner whose ids the facts must carry.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// The id of a service, team or environment name, for building facts.
    pub fn intern(&mut self, name: &str) -> Result<NameId, MetricsError> {
        self.names.intern(name)
    }

    /// Number of deployments tracked.
    pub fn deployments(&self) -> usize {
        self.slot_by_number.len()
    }

    /// Number of incidents tracked (with a counted cause or not).
    pub fn incidents(&self) -> usize {
        self.incidents.len()
    }

    /// The metrics for `query`.
    pub fn query(&self, query: &MetricsQuery) -> Result<MetricsReport, MetricsError> {
        crate::query::run(self, query)
    }

    fn row(&self, slot: u32) -> &Deployment {
        self.rows[slot as usize].as_ref().expect("a linked slot holds a row")
    }

    /// Records the latest state of a change, replacing what was known of it. A change that is
    /// (no longer) a deployment leaves the metrics.
    pub fn upsert_change(&mut self, fact: &ChangeFact) -> Result<(), MetricsError> {
        check_change(&self.names, fact)?;
        let new_row = is_deployment(&self.config, &self.names, fact).then(|| Deployment::from_fact(fact));
        let old_slot = self.slot_by_number.get(&fact.number).copied();
        match (old_slot, &new_row) {
            (None, None) => return Ok(()),
            (Some(slot), Some(row)) if self.row(slot).same_fact(row) => return Ok(()),
            (None, Some(_)) if self.slot_by_number.len() >= TRACKED_DEPLOYMENTS_MAX => {
                return Err(MetricsError::TooManyDeployments);
            }
            _ => {}
        }
        let mut affected = Vec::new();
        if let Some(slot) = old_slot {
            let old = self.rows[slot as usize].take().expect("a linked slot holds a row");
            self.neighbours(old.service, old.order_key(), &mut affected);
            self.groups.apply(&old, -1);
            self.unlink(slot, &old);
        }
        let fresh = new_row.is_some();
        if let Some(row) = new_row {
            let (service, key) = (row.service, row.order_key());
            self.link(row);
            self.neighbours(service, key, &mut affected);
        }
        self.refresh(affected, fresh.then_some(fact.number));
        Ok(())
    }

    /// Records the latest state of an incident, replacing what was known of it.
    pub fn upsert_incident(&mut self, fact: &IncidentFact) -> Result<(), MetricsError> {
        check_incident(&self.names, fact)?;
        let old_cause = match self.incidents.get(&fact.number) {
            Some(old) if old == fact => return Ok(()),
            Some(old) => old.counted_cause,
            None if self.incidents.len() >= TRACKED_INCIDENTS_MAX => return Err(MetricsError::TooManyIncidents),
            None => None,
        };
        let mut affected = Vec::new();
        for cause in [old_cause, fact.counted_cause].into_iter().flatten() {
            if let Some(slot) = self.slot_by_number.get(&cause) {
                let row = self.row(*slot);
                affected.push(cause);
                // The next deployment's rework depends on whether this one failed.
                if let Some((_, next_slot)) =
                    self.timelines[&row.service].range((Bound::Excluded(row.order_key()), Bound::Unbounded)).next()
                {
                    affected.push(self.row(*next_slot).number);
                }
            }
        }
        if let Some(old_cause) = old_cause
            && let Some(caused) = self.incidents_by_cause.get_mut(&old_cause)
        {
            caused.retain(|number| *number != fact.number);
            if caused.is_empty() {
                self.incidents_by_cause.remove(&old_cause);
            }
        }
        if let Some(cause) = fact.counted_cause {
            self.incidents_by_cause.entry(cause).or_default().push(fact.number);
        }
        self.incidents.insert(fact.number, fact.clone());
        self.refresh(affected, None);
        Ok(())
    }

    /// The deployments whose derived facts may change when the one at `key` of `service` comes
    /// or goes: the next one (its rework looks back at this one), and the unbroken run of
    /// unsuccessful ones just before it (their recovery may be this one, if it succeeded).
    fn neighbours(&self, service: NameId, key: (i64, u64), affected: &mut Vec<u64>) {
        let Some(timeline) = self.timelines.get(&service) else { return };
        if let Some((_, slot)) = timeline.range((Bound::Excluded(key), Bound::Unbounded)).next() {
            affected.push(self.row(*slot).number);
        }
        for (_, slot) in timeline.range(..key).rev() {
            let row = self.row(*slot);
            if row.outcome == ChangeOutcome::Success {
                break;
            }
            affected.push(row.number);
        }
    }

    fn link(&mut self, row: Deployment) {
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.rows.push(None);
                (self.rows.len() - 1) as u32
            }
        };
        let member = Member { completed_at_ms: row.completed_at_ms, number: row.number, slot };
        self.slot_by_number.insert(row.number, slot);
        self.timelines.entry(row.service).or_default().insert(row.order_key(), slot);
        let members = self.week_members.entry(week_of(row.completed_at_ms)).or_default();
        let position = members.partition_point(|existing| *existing < member);
        members.insert(position, member);
        self.rows[slot as usize] = Some(row);
    }

    fn unlink(&mut self, slot: u32, row: &Deployment) {
        self.slot_by_number.remove(&row.number);
        if let Some(timeline) = self.timelines.get_mut(&row.service) {
            timeline.remove(&row.order_key());
            if timeline.is_empty() {
                self.timelines.remove(&row.service);
            }
        }
        let week = week_of(row.completed_at_ms);
        if let Some(members) = self.week_members.get_mut(&week) {
            let member = Member { completed_at_ms: row.completed_at_ms, number: row.number, slot };
            if let Ok(position) = members.binary_search(&member) {
                members.remove(position);
            }
            if members.is_empty() {
                self.week_members.remove(&week);
            }
        }
        self.free_slots.push(slot);
    }

    /// Whether the deployment in `slot` failed: by its outcome, or by causing a counted incident.
    fn failed(&self, row: &Deployment) -> bool {
        row.outcome.is_failed_deployment() || self.incidents_by_cause.contains_key(&row.number)
    }

    fn derive(&self, slot: u32) -> Derived {
        let row = self.row(slot);
        let incidents = IncidentSummary::of(
            self.incidents_by_cause
                .get(&row.number)
                .into_iter()
                .flatten()
                .filter_map(|number| self.incidents.get(number)),
        );
        let failed = self.failed(row);
        let timeline = &self.timelines[&row.service];
        let key = row.order_key();
        let recovery = if !failed {
            Recovery::NotFailed
        } else if let Some(summary) = &incidents {
            match summary.all_resolved_at_ms {
                Some(resolved_at_ms) => Recovery::Recovered { after_ms: resolved_at_ms - row.completed_at_ms },
                None => Recovery::Unrecovered,
            }
        } else {
            timeline
                .range((Bound::Excluded(key), Bound::Unbounded))
                .map(|(_, next_slot)| self.row(*next_slot))
                .find(|next| next.outcome == ChangeOutcome::Success)
                .map_or(Recovery::Unrecovered, |next| Recovery::Recovered {
                    after_ms: next.completed_at_ms - row.completed_at_ms,
                })
        };
        let rework = row.change_type == ChangeType::Emergency
            && timeline.range(..key).next_back().is_some_and(|(_, previous)| self.failed(self.row(*previous)));
        Derived { failed, recovery, rework, incidents }
    }

    /// Recomputes the derived facts of `affected` deployments and moves the changed ones in
    /// their cells. `fresh` is a deployment just linked, which has no contribution yet.
    fn refresh(&mut self, mut affected: Vec<u64>, fresh: Option<u64>) {
        affected.extend(fresh);
        affected.sort_unstable();
        affected.dedup();
        for number in affected {
            let Some(slot) = self.slot_by_number.get(&number).copied() else { continue };
            let derived = self.derive(slot);
            let row = self.rows[slot as usize].as_mut().expect("a linked slot holds a row");
            let is_fresh = fresh == Some(number);
            let unchanged = row.failed == derived.failed
                && row.recovery == derived.recovery
                && row.rework == derived.rework
                && row.incidents == derived.incidents;
            if unchanged && !is_fresh {
                continue;
            }
            if !is_fresh {
                self.groups.apply(row, -1);
            }
            row.failed = derived.failed;
            row.recovery = derived.recovery;
            row.rework = derived.rework;
            row.incidents = derived.incidents;
            self.groups.apply(row, 1);
        }
    }
}
