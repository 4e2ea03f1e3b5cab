//! The change history: for every change a full timeline (create, submit, approve or reject,
//! schedule, start, complete, verify or fail, roll back, review, close, cancel) and the incidents
//! that failures cause, all drawn from the seed, then merged into one chronological command list.
//!
//! Each timeline follows the lifecycle rules of `changegate_core::lifecycle` and the decision the
//! service will make on submission: the risk class of the service's factor score (computed here
//! with the same function and the same facts, the requester's failures as the service can see
//! them then) and the default approval policy (mirrored in [`crate::policy`]). A change the
//! policy denies stops at submission, an auto-approved one needs nobody, and the others get
//! exactly the approvals the policy requires, from people who may give them under separation of
//! duties. So any prefix of a timeline is legal too: cutting everything after `end` leaves the
//! most recent changes open in whatever state they had reached, which is the live work the
//! dashboard shows.
//!
//! The rooms: [`timing`] (working time and creation times), [`planner`] (people, a change's
//! birth and risk), [`schedule`] (development and planned windows) and [`steps`] (what follows
//! submission, and incidents). This module keeps the plan's types and [`plan`] itself.

mod planner;
mod schedule;
mod steps;
mod timing;

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ChangeState, ChangeType, RiskClass, Timestamp};
use changegate_risk::{RiskFacts, RiskWeights, factors};
use changegate_service::governance::{FREEZE_PROXIMITY_MS, PLANNED_DURATION_DEFAULT_MS};
use changegate_service::{ActionRequest, NewChange, NewIncident};

use self::timing::{creation_time, whole_seconds};
use crate::calendar::Calendar;
use crate::dice::Dice;
use crate::org::{Job, Kind, Person, SERVICES, ServiceSpec, TEAMS};
use crate::policy::{self, Decision, Requirement};
use crate::templates::{ROUTINES, TemplateSpec};
use crate::text::{self, ChangeContext, Counters};

pub(crate) use changegate_core::civil::{DAY_MS as DAY, HOUR_MS as HOUR, MINUTE_MS as MINUTE, SECOND_MS as SECOND};
/// The average Gregorian month.
pub(crate) const MONTH: i64 = 2_629_746 * SECOND;

/// How much busier the last day of the history is than the first (volume grows linearly).
const GROWTH: f64 = 1.2;
/// How much of the usual work goes on during the holidays (global freezes), emergencies aside.
const HOLIDAY_ACTIVITY: f64 = 0.3;
/// The share of requesters who plan into a freeze anyway, and whom the policy then stops.
const FREEZE_IGNORED: f64 = 0.1;
/// The share of emergency changes whose retrospective approval or review comes after the
/// deadline.
const EMERGENCY_LATE: f64 = 0.08;
/// How far back the risk score counts the requester's failed changes (the service's window).
const RISK_HISTORY: i64 = 90 * DAY;

/// What one planned command does. Incidents are named by a key until their ids are known: ids
/// follow the order in which incidents are opened, which is only fixed once all timelines are
/// merged.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// Boxed: a change's input is several times larger than any other step.
    CreateChange(Box<NewChange>),
    Act {
        change: ChangeId,
        action: Action,
        request: ActionRequest,
    },
    OpenIncident {
        key: usize,
        input: NewIncident,
    },
    ResolveIncident {
        key: usize,
        resolved_at: Timestamp,
        downtime_minutes: Option<u32>,
    },
}

/// One command of the history, with the actor (an index into the people) and what it must
/// produce.
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub time: Timestamp,
    pub actor: usize,
    pub step: Step,
    /// For change commands: the change and the state it must be in afterwards.
    pub expect: Option<(ChangeId, ChangeState)>,
}

/// The whole history, in time order.
pub(crate) struct Plan {
    pub steps: Vec<Planned>,
    pub changes: usize,
    /// Incidents opened by `end`.
    pub incidents: usize,
    /// Incident keys handed out (some incidents open only after `end` and are left out).
    pub incident_keys: usize,
    /// When the hourly overdue sweep finds an emergency change past its retrospective deadline
    /// (ascending, by `end`): the seed runs the sweep at these times.
    pub sweeps: Vec<i64>,
    /// Where batches end (ascending, by `end`): every step at or before a boundary runs before
    /// any step after it. The slice boundaries and the sweeps; the plan counts on exactly these
    /// (see [`Setting::batch_span`]).
    pub boundaries: Vec<i64>,
}

/// What the history is planned against.
pub(crate) struct Setting<'a> {
    pub people: &'a [Person],
    pub calendar: &'a Calendar,
    pub templates: &'a [TemplateSpec],
    pub start: i64,
    pub end: i64,
    /// How long an emergency change has, from its start, for its retrospective approval and
    /// review (the service's setting).
    pub emergency_deadline: i64,
    /// The weights of the service's risk factors.
    pub risk_weights: &'a RiskWeights,
    /// The history runs in batches of this much time (one transaction each), cut short at the
    /// overdue sweeps. The service reads the requester's recent failures outside the batch
    /// transaction, so a submission sees the failures committed before its batch: the plan
    /// predicts the risk score from the same boundaries.
    pub batch_span: i64,
}

/// Who works where, as indices into the people.
struct Staff {
    /// Per team: people with the requester role (engineers and leads).
    requesters: Vec<Vec<usize>>,
    engineers: Vec<Vec<usize>>,
    leads: Vec<Vec<usize>>,
    security: Vec<Vec<usize>>,
    cab: Vec<Vec<usize>>,
    all_requesters: Vec<usize>,
    all_leads: Vec<usize>,
    all_security: Vec<usize>,
    all_cab: Vec<usize>,
}

impl Staff {
    fn new(people: &[Person]) -> Self {
        let per_team = |jobs: &[Job]| -> Vec<Vec<usize>> {
            (0..TEAMS.len())
                .map(|team| {
                    people
                        .iter()
                        .enumerate()
                        .filter(|(_, person)| person.team == team && jobs.contains(&person.job))
                        .map(|(index, _)| index)
                        .collect()
                })
                .collect()
        };
        let requesters = per_team(&[Job::Engineer, Job::Lead]);
        let leads = per_team(&[Job::Lead]);
        let security = per_team(&[Job::Security]);
        let cab = per_team(&[Job::Cab]);
        Staff {
            all_requesters: requesters.concat(),
            all_leads: leads.concat(),
            all_security: security.concat(),
            all_cab: cab.concat(),
            requesters,
            engineers: per_team(&[Job::Engineer]),
            leads,
            security,
            cab,
        }
    }

    /// Everyone who can fill `requirement` for a change owned by `team`.
    fn eligible(&self, requirement: Requirement, team: usize) -> Vec<usize> {
        match requirement {
            Requirement::Approver => self.all_leads.clone(),
            Requirement::OwnerTeam => [&self.leads[team][..], &self.cab[team], &self.security[team]].concat(),
            Requirement::CabOrSecurity => [&self.all_cab[..], &self.all_security].concat(),
            Requirement::Security => self.all_security.clone(),
        }
    }
}

fn team_of(spec: &ServiceSpec) -> usize {
    TEAMS.iter().position(|team| *team == spec.team).unwrap_or(0)
}

/// The time line of one change: every step strictly after the previous one, in whole seconds.
struct Timeline {
    now: i64,
    id: ChangeId,
    state: ChangeState,
}

impl Timeline {
    fn advance(&mut self, delay: i64) -> i64 {
        self.now += whole_seconds(delay).max(SECOND);
        self.now
    }
}

fn comment(dice: &mut Dice, share: f64, comments: &[&str]) -> Option<String> {
    dice.chance(share).then(|| (*dice.pick(comments)).to_owned())
}

fn request(comment: Option<String>) -> ActionRequest {
    ActionRequest { comment, ..ActionRequest::default() }
}

/// The outcome of the implementation phase.
struct Implemented {
    failed: bool,
}

/// Where a change of the last days waits at `end`, so the dashboard always has live work
/// whatever the hour the demo is seeded: still a draft, awaiting approval, scheduled for the
/// coming days, or in a long implementation; for an emergency change, awaiting its
/// retrospective approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hold {
    Draft,
    Approval,
    Scheduled,
    Implementing,
}

/// How far a held step is pushed: past any `end`, so the cut removes it.
const HELD: i64 = 400 * DAY;
/// Changes created this close to `end` may be held.
const RECENT: i64 = 3 * DAY;

/// What is fixed about a change before it is submitted (see [`Planner::birth`]).
struct Birth {
    id: ChangeId,
    created: i64,
    /// As intended: a standard change may be filed as a normal one when its risk is too high
    /// for its template.
    change_type: ChangeType,
    service_index: usize,
    environment: &'static str,
    requester: usize,
    hold: Option<Hold>,
    /// Where a planned change is cancelled (0: as a draft … 3: once scheduled).
    cancel_at: Option<usize>,
    submitted_at: i64,
    /// The index of its create step.
    creation: usize,
}

struct Planner<'a> {
    dice: &'a mut Dice,
    staff: Staff,
    calendar: &'a Calendar,
    templates: &'a [TemplateSpec],
    risk_weights: &'a RiskWeights,
    /// Per service: how many services depend on it, directly or transitively.
    dependents: Vec<u32>,
    /// Per person: when their changes failed, in planning order.
    failures: Vec<Vec<i64>>,
    counters: Counters,
    steps: Vec<Planned>,
    incidents: usize,
    sweeps: Vec<i64>,
    start: i64,
    end: i64,
    emergency_deadline: i64,
    batch_span: i64,
}

/// The state a change is in right after submission, under `decision`.
fn submitted_state(decision: &Decision) -> ChangeState {
    if decision.denied() {
        ChangeState::Rejected
    } else if decision.auto_approved() {
        ChangeState::Approved
    } else {
        ChangeState::Assessed
    }
}

/// What the steps of one change need to know about it.
struct Facts<'a> {
    spec: &'a ServiceSpec,
    service_index: usize,
    team: usize,
    change_type: ChangeType,
    staging: bool,
    requester: usize,
    risk: RiskClass,
    large: bool,
    small: bool,
    has_rollback_plan: bool,
    /// The service has a compliance scope: its implementer may not approve it.
    scoped: bool,
    /// The service is in pci or hipaa scope.
    sensitive: bool,
    template: Option<policy::TemplateFacts>,
    has_justification: bool,
    security_findings: Option<u32>,
    hold: Option<Hold>,
}

impl Facts<'_> {
    /// What the policy sees, with or without a freeze over the planned window.
    fn policy(&self, in_freeze: bool) -> policy::ChangeFacts {
        policy::ChangeFacts {
            change_type: self.change_type,
            risk: self.risk,
            template: self.template,
            in_freeze,
            tier: self.spec.tier,
            sensitive: self.sensitive,
            has_rollback_plan: self.has_rollback_plan,
            has_justification: self.has_justification,
            security_findings: self.security_findings,
        }
    }
}

/// Per service of the catalogue: how many services depend on it, directly or transitively (as
/// the service counts them for the risk score's blast radius).
fn dependents() -> Vec<u32> {
    SERVICES
        .iter()
        .map(|spec| {
            let mut seen: Vec<&str> = Vec::new();
            let mut stack = vec![spec.name];
            while let Some(current) = stack.pop() {
                for other in SERVICES.iter().filter(|other| other.depends_on.contains(&current)) {
                    if other.name != spec.name && !seen.contains(&other.name) {
                        seen.push(other.name);
                        stack.push(other.name);
                    }
                }
            }
            seen.len() as u32
        })
        .collect()
}

/// Plans `change_count` changes over `[start, end)` with ids from `first_id` on, plus incidents,
/// and returns every command up to `end` in time order.
///
/// Two passes: first every change's birth in creation order (what is fixed before submission),
/// then the rest of each timeline in the order of submission, so that when a change's risk is
/// scored, every failure the service can see then is already planned.
pub(crate) fn plan(dice: &mut Dice, setting: &Setting<'_>, change_count: u32, first_id: u64) -> Plan {
    let (start, end) = (setting.start, setting.end);
    let span = end - start;
    let counters = Counters::new(dice, SERVICES.len(), TEAMS.len());
    // Draw every change's type and creation time first, then number them in creation order, so
    // the ids the store hands out (sequential, in creation order) are known in advance.
    let mut births: Vec<(i64, ChangeType)> = (0..change_count)
        .map(|_| {
            let change_type = match dice.weighted(&[0.55, 0.40, 0.05]) {
                0 => ChangeType::Standard,
                1 => ChangeType::Normal,
                _ => ChangeType::Emergency,
            };
            (creation_time(dice, setting.calendar, start, span, change_type), change_type)
        })
        .collect();
    births.sort_by_key(|(created, _)| *created);
    let mut planner = Planner {
        dice,
        staff: Staff::new(setting.people),
        calendar: setting.calendar,
        templates: setting.templates,
        risk_weights: setting.risk_weights,
        dependents: dependents(),
        failures: vec![Vec::new(); setting.people.len()],
        counters,
        steps: Vec::with_capacity(change_count as usize * 9),
        incidents: 0,
        sweeps: Vec::new(),
        start,
        end,
        emergency_deadline: setting.emergency_deadline,
        batch_span: setting.batch_span.max(1),
    };
    let mut born: Vec<Birth> = births
        .iter()
        .enumerate()
        .map(|(position, (created, change_type))| {
            planner.birth(ChangeId::new(first_id + position as u64), *change_type, *created)
        })
        .collect();
    born.sort_by_key(|birth| (Planner::decision_time(birth), birth.id));
    for birth in &born {
        planner.develop(birth);
    }
    // Incidents no change caused: about one for every 160 changes.
    let unrelated = (change_count as usize).div_ceil(160);
    for _ in 0..unrelated {
        let weights: Vec<f64> = SERVICES.iter().map(|spec| spec.activity).collect();
        let spec = &SERVICES[planner.dice.weighted(&weights)];
        planner.incident(spec, team_of(spec), None);
    }
    let incident_keys = planner.incidents;
    let mut sweeps = planner.sweeps;
    sweeps.sort_unstable();
    sweeps.dedup();
    let batch_span = planner.batch_span;
    let mut boundaries: Vec<i64> =
        (1..).map(|slice| start + slice * batch_span - 1).take_while(|boundary| *boundary < end).collect();
    boundaries.extend(&sweeps);
    boundaries.sort_unstable();
    boundaries.dedup();
    let mut steps = planner.steps;
    steps.retain(|step| step.time.unix_ms() <= end);
    // Stable: steps at the same millisecond keep their planning order, so a change is always
    // created before anything happens to it (creations were planned first, in id order).
    steps.sort_by_key(|step| step.time);
    let incidents = steps.iter().filter(|step| matches!(step.step, Step::OpenIncident { .. })).count();
    Plan { steps, changes: births.len(), incidents, incident_keys, sweeps, boundaries }
}

#[cfg(test)]
mod tests {
    use super::timing::{hour, next_full_hour, next_working_slot, weekday};
    use super::*;
    use crate::calendar;

    #[test]
    fn calendar_helpers_know_the_week() {
        // 2026-11-26T10:00:00Z is a Thursday.
        let thursday = 1_795_687_200_000;
        assert_eq!(weekday(thursday), 3);
        assert_eq!(hour(thursday), 10);
        let mut dice = Dice::new(1);
        let saturday = thursday + 2 * DAY;
        let slot = next_working_slot(&mut dice, saturday);
        assert_eq!(weekday(slot), 0);
        assert!((9..17).contains(&hour(slot)));
        assert_eq!(next_full_hour(thursday), thursday);
        assert_eq!(next_full_hour(thursday + 1), thursday + HOUR);
    }

    #[test]
    fn every_timeline_is_in_time_order_and_ends_by_the_end() {
        let mut dice = Dice::new(5);
        let people = crate::org::people(&mut dice);
        let end = 1_795_687_200_000;
        let start = end - 3 * MONTH;
        let windows = calendar::windows(start, end);
        let calendar = Calendar::new(&windows, start, end);
        let templates = crate::templates::catalogue();
        let weights = RiskWeights::default();
        let setting = Setting {
            people: &people,
            calendar: &calendar,
            templates: &templates,
            start,
            end,
            emergency_deadline: DAY,
            risk_weights: &weights,
            batch_span: 7 * DAY,
        };
        let plan = plan(&mut dice, &setting, 500, 1);
        assert_eq!(plan.changes, 500);
        assert!(plan.steps.windows(2).all(|pair| pair[0].time <= pair[1].time));
        assert!(plan.steps.iter().all(|step| step.time.unix_ms() <= end));
        assert!(plan.sweeps.iter().all(|sweep| *sweep <= end));
        assert!(plan.sweeps.iter().all(|sweep| plan.boundaries.contains(sweep)));
        assert!(plan.boundaries.windows(2).all(|pair| pair[0] < pair[1]));
        let mut next = 1;
        for step in &plan.steps {
            if let Step::CreateChange(input) = &step.step {
                assert_eq!(step.expect.map(|(id, _)| id), Some(ChangeId::new(next)));
                next += 1;
                if input.change_type == "standard" {
                    assert!(input.template.is_some(), "a standard change names its template");
                }
            }
        }
    }
}
