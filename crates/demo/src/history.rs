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

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ChangeState, ChangeType, RiskClass, Timestamp};
use changegate_risk::{RiskFacts, RiskWeights, factors};
use changegate_service::governance::{FREEZE_PROXIMITY_MS, PLANNED_DURATION_DEFAULT_MS};
use changegate_service::{ActionRequest, NewChange, NewIncident};

use crate::calendar::Calendar;
use crate::dice::Dice;
use crate::org::{Job, Kind, Person, SERVICES, ServiceSpec, TEAMS};
use crate::policy::{self, Decision, Requirement};
use crate::templates::{ROUTINES, TemplateSpec};
use crate::text::{self, ChangeContext, Counters};

pub(crate) const SECOND: i64 = 1_000;
pub(crate) const MINUTE: i64 = 60 * SECOND;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;
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

fn weekday(time: i64) -> i64 {
    (time.div_euclid(DAY) + 3).rem_euclid(7) // 1970-01-01 was a Thursday; 0 = Monday
}

fn hour(time: i64) -> i64 {
    time.rem_euclid(DAY) / HOUR
}

fn midnight(time: i64) -> i64 {
    time.div_euclid(DAY) * DAY
}

fn whole_seconds(time: i64) -> i64 {
    time.div_euclid(SECOND) * SECOND
}

/// How likely a change is created at this hour of the week, relative to the busiest hour.
fn working_weight(time: i64) -> f64 {
    const HOURS: [f64; 24] = [
        0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.05, 0.2, 0.6, 1.0, 1.0, 0.9, 0.5, 0.8, 1.0, 0.95, 0.8, 0.5, 0.25, 0.12,
        0.06, 0.06, 0.04, 0.03,
    ];
    const DAYS: [f64; 7] = [0.95, 1.0, 1.0, 0.95, 0.7, 0.06, 0.04];
    DAYS[weekday(time) as usize] * HOURS[hour(time) as usize]
}

/// A creation time in `[start, end)`: volume grows linearly over the history, and normal work
/// happens on weekdays in working hours, and less during the holidays; emergencies happen
/// whenever.
fn creation_time(dice: &mut Dice, calendar: &Calendar, start: i64, span: i64, change_type: ChangeType) -> i64 {
    loop {
        let u = dice.unit();
        // Inverse CDF of a density proportional to 1 + GROWTH·x on [0, 1).
        let x = ((1.0 + 2.0 * GROWTH * u * (1.0 + GROWTH / 2.0)).sqrt() - 1.0) / GROWTH;
        let time = whole_seconds(start + (x.clamp(0.0, 1.0) * span as f64) as i64).min(start + span - SECOND);
        let weight = working_weight(time);
        let weight = if change_type == ChangeType::Emergency {
            weight.max(0.4)
        } else if calendar.in_global_freeze(time) {
            weight * HOLIDAY_ACTIVITY
        } else {
            weight
        };
        if dice.chance(weight) {
            return time;
        }
    }
}

/// The next working-hours moment at or after `time` (weekdays 09:00–17:00).
fn next_working_slot(dice: &mut Dice, time: i64) -> i64 {
    let day = weekday(time);
    let in_hours = (9..17).contains(&hour(time));
    if day < 5 && in_hours {
        return time;
    }
    let mut next = midnight(time);
    if day < 5 && hour(time) < 9 {
        return next + 9 * HOUR + dice.between(0, 180) * MINUTE;
    }
    loop {
        next += DAY;
        if weekday(next) < 5 {
            return next + 9 * HOUR + 30 * MINUTE + dice.between(0, 360) * MINUTE;
        }
    }
}

/// The first full hour at or after `time`: the overdue sweep runs hourly.
fn next_full_hour(time: i64) -> i64 {
    time.div_euclid(HOUR) * HOUR + if time.rem_euclid(HOUR) == 0 { 0 } else { HOUR }
}

/// The chance that a change fails, from what makes changes fail in real organisations: the type,
/// the tier, the size, the timing (Friday evening, nights, weekends), the environment and a
/// missing rollback plan. Tuned for an overall change failure rate of about 11%.
fn failure_probability(
    change_type: ChangeType,
    tier: u8,
    large: bool,
    small: bool,
    start: i64,
    staging: bool,
    has_rollback_plan: bool,
) -> f64 {
    let mut probability: f64 = match change_type {
        ChangeType::Standard => 0.065,
        ChangeType::Normal => 0.11,
        ChangeType::Emergency => 0.18,
    };
    probability *= match tier {
        1 => 1.35,
        2 => 1.1,
        3 => 1.0,
        _ => 0.85,
    };
    if large {
        probability *= 1.6;
    }
    if small {
        probability *= 0.7;
    }
    let day = weekday(start);
    let hour = hour(start);
    if (day == 4 && hour >= 15) || day >= 5 {
        probability *= 1.8;
    } else if !(7..20).contains(&hour) {
        probability *= 1.3;
    }
    if staging {
        probability *= 0.7;
    }
    if !has_rollback_plan {
        probability *= 1.25;
    }
    probability.min(0.6)
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

impl<'a> Planner<'a> {
    fn push(&mut self, time: i64, actor: usize, step: Step, expect: Option<(ChangeId, ChangeState)>) {
        self.steps.push(Planned { time: Timestamp::from_unix_ms(time), actor, step, expect });
    }

    fn act(
        &mut self,
        timeline: &mut Timeline,
        delay: i64,
        actor: usize,
        action: Action,
        request: ActionRequest,
        state: ChangeState,
    ) {
        let time = timeline.advance(delay);
        timeline.state = state;
        let step = Step::Act { change: timeline.id, action, request };
        self.push(time, actor, step, Some((timeline.id, state)));
    }

    /// `delay` from `now` moved on to working hours when it would end outside them: people
    /// approve, review and close changes at work (most of the time).
    fn office(&mut self, now: i64, delay: i64) -> i64 {
        if self.dice.chance(0.85) { next_working_slot(self.dice, now + delay) - now } else { delay }
    }

    fn pick_from(&mut self, pool: &[usize], not: usize) -> usize {
        let others: Vec<usize> = pool.iter().copied().filter(|person| *person != not).collect();
        if others.is_empty() { pool[self.dice.index(pool.len())] } else { others[self.dice.index(others.len())] }
    }

    /// Someone from `pool` who is not in `excluded`, if anyone.
    fn pick_outside(&mut self, pool: &[usize], excluded: &[usize]) -> Option<usize> {
        let allowed: Vec<usize> = pool.iter().copied().filter(|person| !excluded.contains(person)).collect();
        (!allowed.is_empty()).then(|| allowed[self.dice.index(allowed.len())])
    }

    /// One distinct person per required approval, none of them in `excluded` (the requester,
    /// and for a change in compliance scope its implementer): separation of duties, so that
    /// every approval counts. Mostly people of the owner team; sometimes from elsewhere.
    fn approvers(&mut self, required: &[Requirement], team: usize, excluded: &[usize]) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::with_capacity(required.len());
        for requirement in required {
            let preferred = match requirement {
                Requirement::Approver if self.dice.chance(0.92) => self.staff.leads[team].clone(),
                Requirement::Approver => self.staff.all_leads.clone(),
                Requirement::OwnerTeam => {
                    let pool = [&self.staff.leads[team], &self.staff.cab[team], &self.staff.security[team]]
                        [self.dice.weighted(&[0.6, 0.3, 0.1])];
                    pool.clone()
                }
                Requirement::CabOrSecurity => {
                    let pool = [
                        &self.staff.cab[team],
                        &self.staff.all_cab,
                        &self.staff.security[team],
                        &self.staff.all_security,
                    ][self.dice.weighted(&[0.6, 0.2, 0.1, 0.1])];
                    pool.clone()
                }
                Requirement::Security if self.dice.chance(0.75) => self.staff.security[team].clone(),
                Requirement::Security => self.staff.all_security.clone(),
            };
            let excluded: Vec<usize> = excluded.iter().chain(&chosen).copied().collect();
            let person = match self.pick_outside(&preferred, &excluded) {
                Some(person) => person,
                None => {
                    let eligible = self.staff.eligible(*requirement, team);
                    self.pick_outside(&eligible, &excluded)
                        .unwrap_or_else(|| unreachable!("every requirement has several eligible people"))
                }
            };
            chosen.push(person);
        }
        chosen
    }

    /// The comment of an approval filling `requirement`.
    fn approval_comment(&mut self, requirement: Requirement) -> Option<String> {
        let comments = match requirement {
            Requirement::Security => text::SECURITY_APPROVE_COMMENTS,
            Requirement::CabOrSecurity => text::CAB_APPROVE_COMMENTS,
            Requirement::Approver | Requirement::OwnerTeam => text::APPROVE_COMMENTS,
        };
        comment(self.dice, 0.6, comments)
    }

    /// Who carries out a step of the implementation: mostly the requester, sometimes the
    /// engineer on call in the team.
    fn implementer(&mut self, team: usize, requester: usize) -> usize {
        if self.dice.chance(0.8) {
            requester
        } else {
            let pool = self.staff.requesters[team].clone();
            self.pick_from(&pool, requester)
        }
    }

    /// Critical findings of the security evidence a change carries, `None` without evidence.
    /// Services in a compliance scope almost always attach a scan (the policy denies a change
    /// without one in pci or hipaa scope, and the risk score counts a missing one); elsewhere
    /// normal changes often do. Now and then a scan finds something critical.
    fn security_findings(&mut self, change_type: ChangeType, scoped: bool) -> Option<u32> {
        let share = match (scoped, change_type) {
            (true, ChangeType::Emergency) => 0.95,
            (true, _) => 0.985,
            (false, ChangeType::Normal) => 0.55,
            (false, ChangeType::Standard) => 0.15,
            (false, ChangeType::Emergency) => 0.1,
        };
        if !self.dice.chance(share) {
            return None;
        }
        Some(if self.dice.chance(0.01) { self.dice.between(1, 3) as u32 } else { 0 })
    }

    /// What is fixed about a change up to its submission: its service, requester and
    /// environment, whether it is held or cancelled early, and when it is submitted. The create
    /// step is pushed now, as a placeholder filled in by [`Planner::develop`], so that creations
    /// keep id order among steps at the same instant.
    fn birth(&mut self, id: ChangeId, change_type: ChangeType, created: i64) -> Birth {
        let weights: Vec<f64> = SERVICES.iter().map(|spec| spec.activity).collect();
        let service_index = self.dice.weighted(&weights);
        let spec = &SERVICES[service_index];
        let team = team_of(spec);
        let staging_share = match change_type {
            ChangeType::Emergency => 0.03,
            _ if spec.kind == Kind::Mobile => 0.05,
            _ => 0.15,
        };
        let environment = if self.dice.chance(staging_share) { "staging" } else { "production" };
        let requester = if self.dice.chance(0.08) {
            let pool = self.staff.all_requesters.clone();
            pool[self.dice.index(pool.len())]
        } else {
            let engineers = &self.staff.engineers[team];
            let leads = &self.staff.leads[team];
            if self.dice.chance(0.8) || leads.is_empty() {
                engineers[self.dice.index(engineers.len())]
            } else {
                leads[self.dice.index(leads.len())]
            }
        };
        let hold = if created >= self.end - RECENT && self.dice.chance(0.35) {
            if change_type == ChangeType::Emergency {
                Some(Hold::Approval)
            } else {
                Some(
                    [Hold::Draft, Hold::Approval, Hold::Scheduled, Hold::Implementing]
                        [self.dice.weighted(&[0.25, 0.35, 0.25, 0.15])],
                )
            }
        } else {
            None
        };
        // 2% of planned changes are cancelled, at one of four points before implementation.
        let cancel_at = if change_type != ChangeType::Emergency && self.dice.chance(0.021) {
            Some(self.dice.index(4))
        } else {
            None
        };
        let submit_delay = match change_type {
            ChangeType::Standard => self.dice.between(20, 300) * SECOND,
            ChangeType::Normal => {
                let delay = self.dice.log_normal_ms(90.0 * MINUTE as f64, 1.0, MINUTE, 3 * DAY);
                self.office(created, delay)
            }
            ChangeType::Emergency => self.dice.between(1, 10) * MINUTE,
        };
        let submitted_at = created + whole_seconds(submit_delay).max(SECOND);
        let creation = self.steps.len();
        let placeholder = Step::CreateChange(Box::default());
        self.push(created, requester, placeholder, Some((id, ChangeState::Draft)));
        Birth {
            id,
            created,
            change_type,
            service_index,
            environment,
            requester,
            hold,
            cancel_at,
            submitted_at,
            creation,
        }
    }

    /// When the planner looks at a change: at its submission, when its risk is scored (never for
    /// a change cancelled as a draft, or one submitted after `end`).
    fn decision_time(birth: &Birth) -> i64 {
        match (birth.cancel_at, birth.hold) {
            (Some(0), _) => birth.created,
            (_, Some(Hold::Draft)) => birth.submitted_at + HELD,
            _ => birth.submitted_at,
        }
    }

    /// The last instant whose steps are committed when a batch running a step at `time` starts:
    /// the previous batch boundary (a slice boundary or an overdue sweep). The service's reads
    /// outside the batch transaction (the requester's recent failures) see only that much.
    fn committed_before(&self, time: i64) -> i64 {
        let slices = (time - self.start).div_euclid(self.batch_span);
        let slice_boundary = self.start + slices * self.batch_span - 1;
        let sweep = self.sweeps.iter().copied().filter(|sweep| *sweep < time).max().unwrap_or(i64::MIN);
        slice_boundary.max(sweep)
    }

    /// The requester's failed changes the service counts at `time`: failed in the 90 days before
    /// it, and committed by then.
    fn requester_failures(&self, requester: usize, time: i64) -> u32 {
        let committed = self.committed_before(time);
        let since = time - RISK_HISTORY;
        self.failures[requester].iter().filter(|failed| **failed >= since && **failed <= committed).count() as u32
    }

    /// The risk class the service will score on submission (the factor score of
    /// `changegate_risk::factors`, with the facts gathered as the service gathers them).
    fn risk(&self, facts: &Facts<'_>, change: &NewChange, at: i64, planned: Option<(i64, i64)>) -> RiskClass {
        let start = planned.map_or(at, |(start, _)| start);
        let end = planned.map(|(_, end)| end).filter(|end| *end > start).unwrap_or(start + PLANNED_DURATION_DEFAULT_MS);
        let near_freeze =
            self.calendar.freeze(facts.spec.name, facts.spec.team, start, end + FREEZE_PROXIMITY_MS).is_some();
        let metric = |name: &str| change.code_metrics.as_ref().and_then(|metrics| metrics.get(name)?.as_f64());
        let lines = match (metric("la"), metric("ld")) {
            (None, None) => None,
            (added, deleted) => Some(added.unwrap_or(0.0) + deleted.unwrap_or(0.0)),
        };
        let risk_facts = RiskFacts {
            tier: facts.spec.tier,
            dependents: self.dependents[facts.service_index],
            lines_changed: lines,
            files_changed: metric("nf"),
            security_evidence: change.security_evidence.is_some(),
            critical_findings: change.security_critical_findings.unwrap_or(0),
            scoped: facts.scoped,
            near_freeze,
            hour_utc: hour(start) as u8,
            weekday: (weekday(start) + 1) as u8,
            has_rollback_plan: change.rollback_plan.is_some(),
            has_test_evidence: change.test_evidence.is_some(),
            emergency: facts.change_type == ChangeType::Emergency,
            requester_failures_90d: self.requester_failures(facts.requester, at),
        };
        factors::assess(&risk_facts, self.risk_weights).class.parse().unwrap_or(RiskClass::Critical)
    }

    /// Everything after the birth of a change, planned when its submission comes up.
    fn develop(&mut self, birth: &Birth) {
        let spec = &SERVICES[birth.service_index];
        let team = team_of(spec);
        let scoped = !spec.scopes.is_empty();
        let sensitive = policy::is_sensitive(spec.scopes);
        // A standard change follows a routine of the team's templates; a few requesters still
        // reach for the retired template.
        let template = if birth.change_type == ChangeType::Standard {
            let retired = self
                .templates
                .iter()
                .position(|template| !template.approved && template.covers(birth.service_index))
                .filter(|_| self.dice.chance(0.006));
            Some(retired.unwrap_or_else(|| self.template_for(birth.service_index)))
        } else {
            None
        };
        // Tier 1-2 services need a rollback plan (the policy denies a change without one), so
        // their changes nearly always have one; emergencies are written in a hurry.
        let rollback_share = match (birth.change_type, spec.tier <= 2) {
            (ChangeType::Emergency, true) => 0.93,
            (ChangeType::Emergency, false) => 0.45,
            (ChangeType::Standard, false) => 0.88,
            (ChangeType::Normal, false) => 0.9,
            (_, true) => 0.985,
        };
        let with_rollback_plan = self.dice.chance(rollback_share);
        let year = 1970 + birth.created.div_euclid(DAY * 36_525 / 100);
        let context = ChangeContext {
            spec,
            service_index: birth.service_index,
            team_index: team,
            change_type: birth.change_type,
            environment: birth.environment,
            year,
            routine: template.map(|index| self.templates[index].routine),
            with_rollback_plan,
        };
        let change_text = text::change_text(self.dice, &mut self.counters, &context);
        let security_findings = self.security_findings(birth.change_type, scoped);
        let pipeline = change_text
            .links
            .iter()
            .find(|link| link.contains("/pipelines/"))
            .cloned()
            .unwrap_or_else(|| format!("scan {}", self.dice.hex(8)));
        let test_evidence = match birth.change_type {
            ChangeType::Emergency => change_text
                .links
                .first()
                .filter(|_| self.dice.chance(0.35))
                .map(|link| format!("Reproduced in staging; the fix passes the new regression test: {link}")),
            _ => change_text.links.first().map(|link| format!("CI tests passed: {link}")),
        };
        // The diff's size, for the risk score, when the change links its code.
        let has_code = change_text.links.iter().any(|link| link.contains("/pull/") || link.contains("/commit/"));
        let code_metrics = has_code.then(|| {
            let added = (change_text.lines as f64 * (0.5 + 0.4 * self.dice.unit())).round() as i64;
            serde_json::json!({"la": added, "ld": change_text.lines - added, "nf": change_text.files})
        });
        let mut new_change = NewChange {
            title: change_text.title,
            description: change_text.description,
            change_type: birth.change_type.as_str().to_owned(),
            service: spec.name.to_owned(),
            environment: birth.environment.to_owned(),
            implementation_plan: change_text.implementation_plan,
            rollback_plan: change_text.rollback_plan,
            planned_start: None,
            planned_end: None,
            test_evidence,
            security_evidence: security_findings
                .map(|findings| text::security_evidence(self.dice, findings, &pipeline)),
            security_critical_findings: security_findings,
            links: change_text.links,
            template: template.map(|index| self.templates[index].name.clone()),
            justification: change_text.justification,
            code_metrics,
            ..NewChange::default()
        };
        let mut facts = Facts {
            spec,
            service_index: birth.service_index,
            team,
            change_type: birth.change_type,
            staging: birth.environment == "staging",
            requester: birth.requester,
            risk: RiskClass::Low,
            large: change_text.large,
            small: change_text.small,
            has_rollback_plan: with_rollback_plan,
            scoped,
            sensitive,
            template: template.map(|index| policy::TemplateFacts {
                approved: self.templates[index].approved,
                max_risk: self.templates[index].max_risk(),
            }),
            has_justification: new_change.justification.is_some(),
            security_findings,
            hold: birth.hold,
        };
        let mut timeline = Timeline { now: birth.created, id: birth.id, state: ChangeState::Draft };
        if birth.change_type == ChangeType::Emergency {
            facts.risk = self.risk(&facts, &new_change, birth.submitted_at, None);
            self.set_creation(birth.creation, new_change);
            self.emergency(&mut timeline, &facts, birth.submitted_at);
            return;
        }
        if birth.cancel_at == Some(0) {
            self.set_creation(birth.creation, new_change);
            let comment = comment(self.dice, 0.7, text::CANCEL_COMMENTS);
            let delay = self.dice.log_normal_ms(6.0 * HOUR as f64, 1.0, 10 * MINUTE, 10 * DAY);
            self.act(&mut timeline, delay, birth.requester, Action::Cancel, request(comment), ChangeState::Cancelled);
            return;
        }
        // The requester plans the window after the approvals they expect, from a first look at
        // the risk (the window's timing then refines it).
        let first_look = (birth.submitted_at + HOUR, birth.submitted_at + 2 * HOUR);
        facts.risk = self.risk(&facts, &new_change, birth.submitted_at, Some(first_look));
        let expected = policy::decide(&facts.policy(false));
        let approval_lead = if expected.auto_approved() {
            0
        } else {
            // About the 90th percentile of the approval delays below, office hours included.
            let first = match facts.risk {
                RiskClass::Low => 3 * HOUR,
                RiskClass::Medium => 30 * HOUR,
                RiskClass::High => 60 * HOUR,
                RiskClass::Critical => 84 * HOUR,
            };
            first + (expected.required.len() as i64 - 1).max(0) * 12 * HOUR
        };
        let window = self.planned_window(&facts, birth.submitted_at, approval_lead);
        new_change.planned_start = Some(Timestamp::from_unix_ms(window.0).to_rfc3339());
        new_change.planned_end = Some(Timestamp::from_unix_ms(window.1).to_rfc3339());
        facts.risk = self.risk(&facts, &new_change, birth.submitted_at, Some(window));
        // A routine whose risk the template does not allow is filed as a normal change, as the
        // policy asks; a few try the template anyway and are denied.
        if let Some(template) = facts.template
            && template.approved
            && facts.risk > template.max_risk
            && !self.dice.chance(0.03)
        {
            facts.change_type = ChangeType::Normal;
            facts.template = None;
            new_change.change_type = ChangeType::Normal.as_str().to_owned();
            new_change.template = None;
        }
        self.set_creation(birth.creation, new_change);
        self.planned(&mut timeline, &facts, birth, window);
    }

    fn set_creation(&mut self, creation: usize, input: NewChange) {
        if let Step::CreateChange(placeholder) = &mut self.steps[creation].step {
            **placeholder = input;
        }
    }

    /// The standard-change template a requester picks for `service_index`: one of the approved
    /// templates covering the service, weighted by how common its routine is.
    fn template_for(&mut self, service_index: usize) -> usize {
        let templates = self.templates;
        let covering: Vec<usize> = (0..templates.len())
            .filter(|index| templates[*index].approved && templates[*index].covers(service_index))
            .collect();
        let weights: Vec<f64> = covering
            .iter()
            .map(|index| {
                ROUTINES
                    .iter()
                    .find(|(routine, _)| *routine == templates[*index].routine)
                    .map_or(0.05, |(_, weight)| *weight)
            })
            .collect();
        covering[self.dice.weighted(&weights)]
    }

    /// A start in `team`'s change window at or after `after` for a change lasting `length`
    /// (shortened to the window when longer), early in the window or, for `late`, at its end
    /// (after peak traffic). Outside any window when the calendar has none.
    fn in_change_window(&mut self, team: usize, after: i64, length: i64, late: bool) -> (i64, i64) {
        let Some((open, close)) = self.calendar.next_change_window(team, after, length) else {
            return (next_working_slot(self.dice, after), length);
        };
        let length = length.min(close - open);
        let earliest = open.max(after);
        let latest = (close - length).max(earliest);
        let start = if late {
            latest - self.dice.between(0, (latest - earliest).min(HOUR) / MINUTE) * MINUTE
        } else {
            earliest + self.dice.between(0, (latest - earliest).min(3 * HOUR) / MINUTE) * MINUTE
        };
        (start, length)
    }

    /// The planned window of a change submitted at `submitted_at` whose approvals are expected
    /// to take `approval_lead`: standard changes roll out once approved when the team's change
    /// window is open (or at its next opening, mostly), normal ones after a lead time in the
    /// change window, a few outside it. Most requesters look at the calendar and move a window
    /// that hits a freeze to after it; the rest are denied.
    fn planned_window(&mut self, facts: &Facts<'_>, submitted_at: i64, approval_lead: i64) -> (i64, i64) {
        let team = facts.team;
        let standard = facts.change_type == ChangeType::Standard;
        let length =
            self.dice.log_normal_ms(if standard { HOUR as f64 } else { 2.0 * HOUR as f64 }, 0.5, 15 * MINUTE, 8 * HOUR);
        let ready = submitted_at + approval_lead;
        let (mut start, mut length) = if standard {
            // Past the schedule step that follows the approval.
            let at_once = ready + self.dice.between(6, 25) * MINUTE;
            let open =
                self.calendar.change_window_at(team, at_once).is_some_and(|(_, close)| at_once + length <= close);
            if open || self.dice.chance(0.25) {
                (at_once, length)
            } else {
                self.in_change_window(team, at_once, length, false)
            }
        } else {
            let lead = self.dice.log_normal_ms(20.0 * HOUR as f64, 1.0, 30 * MINUTE, 10 * DAY).max(approval_lead);
            let ready = submitted_at;
            if self.dice.chance(0.1) {
                (next_working_slot(self.dice, ready + lead), length)
            } else {
                let late = facts.spec.tier <= 2 && self.dice.chance(0.35);
                self.in_change_window(team, ready + lead, length, late)
            }
        };
        if facts.hold == Some(Hold::Scheduled) && start <= self.end {
            let after = self.end + self.dice.log_normal_ms(12.0 * HOUR as f64, 1.0, HOUR, 5 * DAY);
            (start, length) = self.in_change_window(team, after, length, false);
        }
        for _ in 0..4 {
            match self.calendar.freeze(facts.spec.name, facts.spec.team, start, start + length) {
                Some((_, ends_at)) if !self.dice.chance(FREEZE_IGNORED) => {
                    (start, length) = self.in_change_window(team, ends_at, length, false);
                }
                _ => break,
            }
        }
        let start = whole_seconds(start);
        (start, start + whole_seconds(length).max(MINUTE))
    }

    /// A window of `length` in the team's change window after `after`, clear of freezes: where
    /// a change is moved when its approvals came too late for its planned window.
    fn free_window(&mut self, facts: &Facts<'_>, after: i64, length: i64) -> (i64, i64) {
        let (mut start, mut length) = self.in_change_window(facts.team, after, length, false);
        for _ in 0..8 {
            match self.calendar.freeze(facts.spec.name, facts.spec.team, start, start + length) {
                Some((_, ends_at)) => (start, length) = self.in_change_window(facts.team, ends_at, length, false),
                None => break,
            }
        }
        let start = whole_seconds(start);
        (start, start + whole_seconds(length).max(MINUTE))
    }

    /// A standard or normal change, from its submission: the policy denies it, auto-approves it
    /// or asks for approvals; then schedule (again, when the approvals came after the planned
    /// start), implement, review, close.
    fn planned(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, birth: &Birth, window: (i64, i64)) {
        let requester = facts.requester;
        let standard = facts.change_type == ChangeType::Standard;
        let cancel_at = birth.cancel_at;
        let (mut planned_start, mut planned_end) = window;
        let in_freeze = self.calendar.freeze(facts.spec.name, facts.spec.team, planned_start, planned_end).is_some();
        let decision = policy::decide(&facts.policy(in_freeze));
        let submit_delay = birth.submitted_at - timeline.now;
        let submit_delay = if facts.hold == Some(Hold::Draft) { submit_delay + HELD } else { submit_delay };
        self.act(
            timeline,
            submit_delay,
            requester,
            Action::Submit,
            ActionRequest::default(),
            submitted_state(&decision),
        );
        if decision.denied() {
            return;
        }
        let implementer = self.implementer(facts.team, requester);
        if !decision.auto_approved() {
            let excluded = if facts.scoped { vec![requester, implementer] } else { vec![requester] };
            let approvers = self.approvers(&decision.required, facts.team, &excluded);
            let held = if facts.hold == Some(Hold::Approval) { HELD } else { 0 };
            let median = match facts.risk {
                RiskClass::Low => 25.0 * MINUTE as f64,
                RiskClass::Medium => 2.0 * HOUR as f64,
                RiskClass::High => 6.0 * HOUR as f64,
                RiskClass::Critical => 10.0 * HOUR as f64,
            };
            let delay = self.dice.log_normal_ms(median, 1.1, 2 * MINUTE, 7 * DAY);
            let first = self.office(timeline.now, delay) + held;
            if cancel_at == Some(1) {
                let comment = comment(self.dice, 0.7, text::CANCEL_COMMENTS);
                self.act(timeline, first * 4 / 5, requester, Action::Cancel, request(comment), ChangeState::Cancelled);
                return;
            }
            let reject_share = match facts.risk {
                RiskClass::Low => 0.02,
                RiskClass::Medium => 0.035,
                RiskClass::High | RiskClass::Critical => 0.055,
            };
            if self.dice.chance(reject_share) {
                let comment = Some((*self.dice.pick(text::REJECT_COMMENTS)).to_owned());
                self.act(timeline, first, approvers[0], Action::Reject, request(comment), ChangeState::Rejected);
                return;
            }
            for (position, approver) in approvers.iter().enumerate() {
                let delay = if position == 0 {
                    first
                } else {
                    let delay = self.dice.log_normal_ms(90.0 * MINUTE as f64, 1.1, 2 * MINUTE, 5 * DAY);
                    self.office(timeline.now, delay)
                };
                let state = if position + 1 == approvers.len() { ChangeState::Approved } else { ChangeState::Assessed };
                let comment = self.approval_comment(decision.required[position]);
                self.act(timeline, delay, *approver, Action::Approve, request(comment), state);
            }
        }
        if cancel_at == Some(2) {
            let comment = comment(self.dice, 0.7, text::CANCEL_COMMENTS);
            let delay = self.dice.log_normal_ms(4.0 * HOUR as f64, 1.0, 5 * MINUTE, 5 * DAY);
            self.act(timeline, delay, requester, Action::Cancel, request(comment), ChangeState::Cancelled);
            return;
        }
        // The window was planned on creation; scheduling confirms it, or moves it to the next
        // change window when the approvals came too late for it.
        let schedule_delay =
            if standard { self.dice.between(1, 5) * MINUTE } else { self.dice.between(5, 120) * MINUTE };
        let scheduled_at = timeline.now + whole_seconds(schedule_delay).max(SECOND);
        let window = if planned_start <= scheduled_at + MINUTE {
            let length = planned_end - planned_start;
            let lead = self.dice.log_normal_ms(4.0 * HOUR as f64, 1.0, 10 * MINUTE, 3 * DAY);
            (planned_start, planned_end) = self.free_window(facts, scheduled_at + lead, length);
            ActionRequest {
                planned_start: Some(Timestamp::from_unix_ms(planned_start).to_rfc3339()),
                planned_end: Some(Timestamp::from_unix_ms(planned_end).to_rfc3339()),
                comment: Some("Rescheduled: the approvals came after the planned start.".to_owned()),
                ..ActionRequest::default()
            }
        } else {
            ActionRequest::default()
        };
        self.act(timeline, schedule_delay, requester, Action::Schedule, window, ChangeState::Scheduled);
        if cancel_at == Some(3) {
            let comment = comment(self.dice, 0.7, text::CANCEL_COMMENTS);
            let room = (planned_start - timeline.now).max(2 * SECOND);
            let delay = self.dice.between(SECOND, room - SECOND);
            self.act(timeline, delay, requester, Action::Cancel, request(comment), ChangeState::Cancelled);
            return;
        }

        let start_delay = (planned_start - timeline.now) + self.dice.between(0, 10) * MINUTE;
        self.act(
            timeline,
            start_delay,
            implementer,
            Action::Start,
            ActionRequest::default(),
            ChangeState::Implementing,
        );
        let outcome = self.implement(timeline, facts, implementer);

        if outcome.failed {
            // 4% of failures never get their post-implementation review: a gap an audit finds.
            if self.dice.chance(0.96) {
                let delay = self.review_delay(timeline.now);
                self.review(timeline, facts, true, delay);
                let delay = self.dice.log_normal_ms(6.0 * HOUR as f64, 1.0, 10 * MINUTE, 4 * DAY);
                let delay = self.office(timeline.now, delay);
                self.act(timeline, delay, requester, Action::Close, ActionRequest::default(), ChangeState::Closed);
            }
            return;
        }
        if !standard && facts.risk >= RiskClass::High && self.dice.chance(0.3) {
            let delay = self.review_delay(timeline.now);
            self.review(timeline, facts, false, delay);
        }
        let (close_share, delay) = if standard {
            (0.97, self.dice.between(1, 30) * MINUTE)
        } else {
            let delay = self.dice.log_normal_ms(20.0 * HOUR as f64, 1.0, 30 * MINUTE, 7 * DAY);
            (0.94, self.office(timeline.now, delay))
        };
        if self.dice.chance(close_share) {
            self.act(timeline, delay, requester, Action::Close, ActionRequest::default(), ChangeState::Closed);
        }
    }

    /// An emergency change: submitted and started at once, then approved retrospectively by the
    /// people the policy asks for and reviewed, mostly before the deadline; a quarter get an
    /// expedited approval before they start. The policy may still deny one (no rollback plan on
    /// tier 1-2, no clean security evidence in pci/hipaa scope).
    fn emergency(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, submitted_at: i64) {
        let requester = facts.requester;
        let decision = policy::decide(&facts.policy(false));
        let submitted = submitted_state(&decision);
        let delay = submitted_at - timeline.now;
        self.act(timeline, delay, requester, Action::Submit, ActionRequest::default(), submitted);
        if decision.denied() {
            return;
        }
        let implementer = self.implementer(facts.team, requester);
        let excluded = if facts.scoped { vec![requester, implementer] } else { vec![requester] };
        let approvers = self.approvers(&decision.required, facts.team, &excluded);
        let expedited = facts.hold.is_none() && self.dice.chance(0.25);
        if expedited {
            for (position, approver) in approvers.iter().enumerate() {
                let minutes = if position == 0 { self.dice.between(5, 40) } else { self.dice.between(3, 20) };
                let delay = minutes * MINUTE;
                let state = if position + 1 == approvers.len() { ChangeState::Approved } else { ChangeState::Assessed };
                let comment = Some("Expedited approval for an emergency change.".to_owned());
                self.act(timeline, delay, *approver, Action::Approve, request(comment), state);
            }
            let delay = self.dice.between(1, 5) * MINUTE;
            let planned_start = whole_seconds(timeline.now + delay + self.dice.between(2, 10) * MINUTE);
            let window = ActionRequest {
                planned_start: Some(Timestamp::from_unix_ms(planned_start).to_rfc3339()),
                ..ActionRequest::default()
            };
            self.act(timeline, delay, requester, Action::Schedule, window, ChangeState::Scheduled);
            let delay = planned_start - timeline.now;
            self.act(timeline, delay, implementer, Action::Start, ActionRequest::default(), ChangeState::Implementing);
        } else {
            let delay = self.dice.between(2, 20) * MINUTE;
            self.act(timeline, delay, implementer, Action::Start, ActionRequest::default(), ChangeState::Implementing);
        }
        let started_at = timeline.now;
        let outcome = self.implement(timeline, facts, implementer);
        if expedited {
            let delay = self.review_delay(timeline.now);
            self.review(timeline, facts, outcome.failed, delay);
        } else {
            self.retrospective(timeline, facts, &decision, &approvers, started_at, outcome.failed);
        }
        let delay = self.dice.log_normal_ms(5.0 * HOUR as f64, 1.0, 10 * MINUTE, 3 * DAY);
        let delay = self.office(timeline.now, delay);
        self.act(timeline, delay, requester, Action::Close, ActionRequest::default(), ChangeState::Closed);
    }

    /// The retrospective approvals and the review of an emergency change that started without
    /// approval. They are due `emergency_deadline` after the start: most teams make it, a few
    /// are late (a weekend, a forgotten ticket), and some of the last days still wait at `end`.
    /// Whenever one is still missing at the hourly sweep after the deadline, the sweep flags the
    /// change overdue.
    fn retrospective(
        &mut self,
        timeline: &mut Timeline,
        facts: &Facts<'_>,
        decision: &Decision,
        approvers: &[usize],
        started_at: i64,
        failed: bool,
    ) {
        let due = started_at + self.emergency_deadline;
        let sweep = next_full_hour(due);
        // The times of the approvals, then of the review.
        let mut times = Vec::with_capacity(approvers.len() + 1);
        let mut cursor = timeline.now;
        for position in 0..=approvers.len() {
            let median = match position {
                0 => 2.0 * HOUR as f64,
                _ if position == approvers.len() => 4.0 * HOUR as f64,
                _ => 45.0 * MINUTE as f64,
            };
            cursor += whole_seconds(self.dice.log_normal_ms(median, 0.9, 10 * MINUTE, 20 * HOUR)).max(SECOND);
            times.push(cursor);
        }
        let target = due - self.dice.between(5, 60) * MINUTE;
        let last = times[times.len() - 1];
        if self.dice.chance(EMERGENCY_LATE) {
            // One of them comes after the sweep that follows the deadline; the rest shift with it.
            let late = self.dice.index(times.len());
            let shift =
                (sweep - times[late]).max(0) + self.dice.log_normal_ms(4.0 * HOUR as f64, 1.0, 5 * MINUTE, 4 * DAY);
            for time in &mut times[late..] {
                *time += shift;
            }
        } else if last > target && timeline.now < target {
            // In time: the on-call approvers and the reviewer fit it into the deadline.
            let scale = (target - timeline.now) as f64 / (last - timeline.now) as f64;
            for time in &mut times {
                *time = timeline.now + ((*time - timeline.now) as f64 * scale) as i64;
            }
        }
        if facts.hold == Some(Hold::Approval) {
            times[0] += HELD;
        }
        let finished = times.iter().copied().fold(timeline.now, i64::max);
        if finished > sweep && sweep <= self.end {
            self.sweeps.push(sweep);
        }
        for (position, approver) in approvers.iter().enumerate() {
            let comment = match decision.required[position] {
                Requirement::Security => self.approval_comment(Requirement::Security),
                _ => Some((*self.dice.pick(text::RETROSPECTIVE_COMMENTS)).to_owned()),
            };
            let state = timeline.state;
            let delay = times[position] - timeline.now;
            self.act(timeline, delay, *approver, Action::Approve, request(comment), state);
        }
        let delay = times[approvers.len()] - timeline.now;
        self.review(timeline, facts, failed, delay);
    }

    /// From `implementing` to verified, or failed (and maybe rolled back, maybe with an incident).
    fn implement(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, implementer: usize) -> Implemented {
        let median = match facts.change_type {
            ChangeType::Standard => 12.0 * MINUTE as f64,
            ChangeType::Normal => 40.0 * MINUTE as f64,
            ChangeType::Emergency => 20.0 * MINUTE as f64,
        };
        let median = if facts.large { median * 2.0 } else { median };
        let duration = self.dice.log_normal_ms(median, 0.8, 2 * MINUTE, 8 * HOUR);
        let duration = if facts.hold == Some(Hold::Implementing) && timeline.now <= self.end {
            duration.max(self.end - timeline.now + 10 * MINUTE)
        } else {
            duration
        };
        let probability = failure_probability(
            facts.change_type,
            facts.spec.tier,
            facts.large,
            facts.small,
            timeline.now,
            facts.staging,
            facts.has_rollback_plan,
        );
        if !self.dice.chance(probability) {
            self.act(
                timeline,
                duration,
                implementer,
                Action::Complete,
                ActionRequest::default(),
                ChangeState::Implemented,
            );
            let median = if facts.change_type == ChangeType::Standard { 8.0 } else { 25.0 };
            let delay = self.dice.log_normal_ms(median * MINUTE as f64, 0.7, MINUTE, 6 * HOUR);
            let comment = comment(self.dice, 0.5, text::VERIFY_COMMENTS);
            self.act(timeline, delay, implementer, Action::Verify, request(comment), ChangeState::Verified);
            return Implemented { failed: false };
        }
        if self.dice.chance(0.4) {
            let delay = (duration as f64 * (0.2 + 0.7 * self.dice.unit())) as i64;
            let comment = Some((*self.dice.pick(text::FAIL_DURING_COMMENTS)).to_owned());
            self.act(timeline, delay, implementer, Action::Fail, request(comment), ChangeState::Failed);
        } else {
            self.act(
                timeline,
                duration,
                implementer,
                Action::Complete,
                ActionRequest::default(),
                ChangeState::Implemented,
            );
            let delay = self.dice.log_normal_ms(20.0 * MINUTE as f64, 0.8, 2 * MINUTE, 6 * HOUR);
            let comment = Some((*self.dice.pick(text::FAIL_AFTER_COMMENTS)).to_owned());
            self.act(timeline, delay, implementer, Action::Fail, request(comment), ChangeState::Failed);
        }
        let failed_at = timeline.now;
        self.failures[facts.requester].push(failed_at);
        let rollback_share = if facts.has_rollback_plan { 0.58 } else { 0.3 };
        let rolled_back_at = if self.dice.chance(rollback_share) {
            let delay = self.dice.log_normal_ms(15.0 * MINUTE as f64, 0.8, 2 * MINUTE, 3 * HOUR);
            let comment = comment(self.dice, 0.8, text::ROLLBACK_COMMENTS);
            self.act(timeline, delay, implementer, Action::Rollback, request(comment), ChangeState::RolledBack);
            Some(timeline.now)
        } else {
            None
        };
        let incident_share = if facts.staging { 0.08 } else { 0.46 };
        if self.dice.chance(incident_share) {
            self.incident(facts.spec, facts.team, Some((timeline.id, failed_at, rolled_back_at)));
        }
        Implemented { failed: true }
    }

    /// How long after `now` a post-implementation review is held: a day or two, at work.
    fn review_delay(&mut self, now: i64) -> i64 {
        let delay = self.dice.log_normal_ms(1.5 * DAY as f64, 0.8, 2 * HOUR, 12 * DAY);
        self.office(now, delay)
    }

    /// A post-implementation review by a lead of the team (a root cause when the change failed),
    /// `delay` after the last step.
    fn review(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, failed: bool, delay: i64) {
        let pool = self.staff.leads[facts.team].clone();
        let reviewer = self.pick_from(&pool, facts.requester);
        let request = ActionRequest {
            comment: comment(self.dice, if failed { 0.4 } else { 1.0 }, text::REVIEW_COMMENTS),
            root_cause: failed.then(|| (*self.dice.pick(text::ROOT_CAUSES)).to_owned()),
            ..ActionRequest::default()
        };
        let state = timeline.state;
        self.act(timeline, delay, reviewer, Action::Review, request, state);
    }

    /// An incident on `spec`, caused by a change (its id, failure and rollback times) or not.
    fn incident(&mut self, spec: &ServiceSpec, team: usize, cause: Option<(ChangeId, i64, Option<i64>)>) {
        let severity_weights: &[f64] = match spec.tier {
            1 => &[0.12, 0.33, 0.4, 0.15],
            2 => &[0.05, 0.25, 0.45, 0.25],
            _ => &[0.01, 0.1, 0.49, 0.4],
        };
        let severity = self.dice.weighted(severity_weights);
        let detected_at = match cause {
            Some((_, failed_at, _)) => {
                whole_seconds(failed_at + self.dice.log_normal_ms(6.0 * MINUTE as f64, 0.8, MINUTE, 2 * HOUR))
            }
            None => whole_seconds(self.start + (self.dice.unit() * (self.end - self.start) as f64) as i64),
        };
        let opened_at = detected_at + self.dice.between(1, 10) * MINUTE;
        let opener = if self.dice.chance(0.3) && !self.staff.cab[team].is_empty() {
            self.staff.cab[team][self.dice.index(self.staff.cab[team].len())]
        } else {
            self.staff.requesters[team][self.dice.index(self.staff.requesters[team].len())]
        };
        let titles = if cause.is_some() { text::CHANGE_INCIDENT_TITLES } else { text::OTHER_INCIDENT_TITLES };
        let title = text::incident_title(self.dice, titles, spec.name);
        let key = self.incidents;
        self.incidents += 1;
        let input = NewIncident {
            title,
            service: spec.name.to_owned(),
            severity: format!("sev{}", severity + 1),
            detected_at: Some(Timestamp::from_unix_ms(detected_at).to_rfc3339()),
            caused_by: cause.map(|(id, _, _)| id.to_string()),
            downtime_minutes: None,
        };
        self.push(opened_at, opener, Step::OpenIncident { key, input }, None);
        let median = [45.0, 80.0, 180.0, 600.0][severity] * MINUTE as f64;
        let mut resolved_at = detected_at + self.dice.log_normal_ms(median, 0.8, 5 * MINUTE, 3 * DAY);
        if let Some((_, _, Some(rolled_back_at))) = cause {
            resolved_at = rolled_back_at.max(detected_at) + self.dice.between(2, 20) * MINUTE;
        }
        // Some recent incidents are still being worked on.
        if opened_at >= self.end - 2 * DAY && self.dice.chance(0.4) {
            resolved_at = resolved_at.max(self.end + HOUR);
        }
        let resolved_at = whole_seconds(resolved_at.max(opened_at + MINUTE));
        let resolver = self.staff.requesters[team][self.dice.index(self.staff.requesters[team].len())];
        // Severity 1 is an outage for its whole duration, severity 2 a partial one for half of
        // it; lesser incidents degrade without downtime.
        let outage_share = [1.0, 0.5, 0.0, 0.0][severity];
        let downtime_minutes = (outage_share > 0.0)
            .then(|| ((resolved_at - detected_at) as f64 * outage_share / MINUTE as f64).round() as u32);
        let step = Step::ResolveIncident { key, resolved_at: Timestamp::from_unix_ms(resolved_at), downtime_minutes };
        self.push(resolved_at, resolver, step, None);
    }
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
