//! The change history: for every change a full timeline (create, submit, approve or reject,
//! schedule, start, complete, verify or fail, roll back, review, close, cancel) and the incidents
//! that failures cause, all drawn from the seed, then merged into one chronological command list.
//!
//! Each timeline follows the lifecycle rules of `changegate_core::lifecycle`, so any prefix of it
//! is legal too: cutting everything after `end` leaves the most recent changes open in whatever
//! state they had reached, which is the live work the dashboard shows.

use changegate_core::lifecycle::{self, Action};
use changegate_core::{ChangeId, ChangeState, ChangeType, RiskClass, Tier, Timestamp};
use changegate_service::{ActionRequest, NewChange, NewIncident};

use crate::dice::Dice;
use crate::org::{Job, Kind, Person, SERVICES, ServiceSpec, TEAMS};
use crate::text::{self, ChangeContext, Counters};

pub(crate) const SECOND: i64 = 1_000;
pub(crate) const MINUTE: i64 = 60 * SECOND;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;
/// The average Gregorian month.
pub(crate) const MONTH: i64 = 2_629_746 * SECOND;

/// How much busier the last day of the history is than the first (volume grows linearly).
const GROWTH: f64 = 1.2;

/// What one planned command does. Incidents are named by a key until their ids are known: ids
/// follow the order in which incidents are opened, which is only fixed once all timelines are
/// merged.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    CreateChange(NewChange),
    Act { change: ChangeId, action: Action, request: ActionRequest },
    OpenIncident { key: usize, input: NewIncident },
    ResolveIncident { key: usize, resolved_at: Timestamp },
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
        let cab = per_team(&[Job::Cab]);
        Staff {
            all_requesters: requesters.concat(),
            all_cab: cab.concat(),
            requesters,
            engineers: per_team(&[Job::Engineer]),
            leads: per_team(&[Job::Lead]),
            security: per_team(&[Job::Security]),
            cab,
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
/// happens on weekdays in working hours; emergencies happen whenever.
fn creation_time(dice: &mut Dice, start: i64, span: i64, change_type: ChangeType) -> i64 {
    loop {
        let u = dice.unit();
        // Inverse CDF of a density proportional to 1 + GROWTH·x on [0, 1).
        let x = ((1.0 + 2.0 * GROWTH * u * (1.0 + GROWTH / 2.0)).sqrt() - 1.0) / GROWTH;
        let time = whole_seconds(start + (x.clamp(0.0, 1.0) * span as f64) as i64).min(start + span - SECOND);
        let weight = working_weight(time);
        let weight = if change_type == ChangeType::Emergency { weight.max(0.4) } else { weight };
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

/// The next weeknight maintenance window (20:00–21:30) at or after `time`.
fn next_evening_window(dice: &mut Dice, time: i64) -> i64 {
    let mut candidate = midnight(time) + 20 * HOUR + dice.between(0, 90) * MINUTE;
    while candidate < time || weekday(candidate) >= 5 {
        candidate += DAY;
    }
    candidate
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
/// coming days, or in a long implementation.
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

struct Planner<'a> {
    dice: &'a mut Dice,
    staff: Staff,
    counters: Counters,
    steps: Vec<Planned>,
    incidents: usize,
    start: i64,
    end: i64,
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

    /// `delay` moved on to working hours when it would end outside them: people approve, review
    /// and close changes at work (most of the time).
    fn office(&mut self, timeline: &Timeline, delay: i64) -> i64 {
        if self.dice.chance(0.85) { next_working_slot(self.dice, timeline.now + delay) - timeline.now } else { delay }
    }

    fn pick_from(&mut self, pool: &[usize], not: usize) -> usize {
        let others: Vec<usize> = pool.iter().copied().filter(|person| *person != not).collect();
        if others.is_empty() { pool[self.dice.index(pool.len())] } else { others[self.dice.index(others.len())] }
    }

    /// Someone who may approve or reject: never the requester (separation of duties).
    fn decider(&mut self, team: usize, risk: RiskClass, spec: &ServiceSpec, requester: usize) -> usize {
        let sensitive = spec.scopes.iter().any(|scope| matches!(*scope, "pci" | "hipaa"));
        if sensitive && !self.staff.security[team].is_empty() && self.dice.chance(0.3) {
            let pool = self.staff.security[team].clone();
            return self.pick_from(&pool, requester);
        }
        let cab_share = match risk {
            RiskClass::Critical | RiskClass::High => 0.55,
            RiskClass::Medium => 0.2,
            RiskClass::Low => 0.1,
        };
        let pool = if self.dice.chance(cab_share) {
            if self.dice.chance(0.8) { self.staff.cab[team].clone() } else { self.staff.all_cab.clone() }
        } else {
            self.staff.leads[team].clone()
        };
        self.pick_from(&pool, requester)
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

    fn change(&mut self, id: ChangeId, change_type: ChangeType, created: i64) {
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
        let year = 1970 + created.div_euclid(DAY * 36_525 / 100);
        let context = ChangeContext { spec, service_index, team_index: team, change_type, environment, year };
        let change_text = text::change_text(self.dice, &mut self.counters, &context);
        let new_change = NewChange {
            title: change_text.title,
            description: change_text.description,
            change_type: change_type.as_str().to_owned(),
            service: spec.name.to_owned(),
            environment: environment.to_owned(),
            implementation_plan: change_text.implementation_plan,
            rollback_plan: change_text.rollback_plan,
            planned_start: None,
            planned_end: None,
            test_evidence: change_text
                .links
                .first()
                .filter(|_| change_type != ChangeType::Emergency)
                .map(|link| format!("CI tests passed: {link}")),
            security_evidence: change_text
                .links
                .first()
                .filter(|_| change_type == ChangeType::Normal)
                .map(|_| "SAST: 0 high, SCA: 0 critical, secret scan: clean".to_owned()),
            links: change_text.links,
            justification: (change_type == ChangeType::Emergency)
                .then(|| "customer-facing outage: the fix cannot wait for the approval cycle".to_owned()),
            ..NewChange::default()
        };
        let has_rollback_plan = new_change.rollback_plan.is_some();
        let tier = Tier::new(i64::from(spec.tier)).unwrap_or_else(|_| unreachable!("catalogue tiers are 1 to 4"));
        let assessment = lifecycle::assess(change_type, tier);
        let risk = assessment.risk_class;
        let pre_approved = assessment.auto_approve;
        let hold = if created >= self.end - RECENT && self.dice.chance(0.35) {
            let hold = [Hold::Draft, Hold::Approval, Hold::Scheduled, Hold::Implementing]
                [self.dice.weighted(&[0.25, 0.35, 0.25, 0.15])];
            match hold {
                Hold::Approval if pre_approved => Some(Hold::Scheduled),
                _ => Some(hold),
            }
        } else {
            None
        };
        let mut timeline = Timeline { now: created, id, state: ChangeState::Draft };
        self.push(created, requester, Step::CreateChange(new_change), Some((id, ChangeState::Draft)));

        let facts = Facts {
            spec,
            team,
            change_type,
            staging: environment == "staging",
            requester,
            risk,
            large: change_text.large,
            small: change_text.small,
            has_rollback_plan,
            hold: if change_type == ChangeType::Emergency { None } else { hold },
        };
        if change_type == ChangeType::Emergency {
            self.emergency(&mut timeline, &facts);
        } else {
            self.planned(&mut timeline, &facts, pre_approved);
        }
    }

    /// A standard or normal change: submit, approval (unless pre-approved), schedule, implement.
    fn planned(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, pre_approved: bool) {
        let requester = facts.requester;
        let standard = facts.change_type == ChangeType::Standard;
        // 2% are cancelled, at one of four points before implementation.
        let cancel_at = if self.dice.chance(0.021) { Some(self.dice.index(4)) } else { None };
        if cancel_at == Some(0) {
            let comment = comment(self.dice, 0.7, text::CANCEL_COMMENTS);
            let delay = self.dice.log_normal_ms(6.0 * HOUR as f64, 1.0, 10 * MINUTE, 10 * DAY);
            self.act(timeline, delay, requester, Action::Cancel, request(comment), ChangeState::Cancelled);
            return;
        }
        let submit_delay = if standard {
            self.dice.between(20, 300) * SECOND
        } else {
            let delay = self.dice.log_normal_ms(90.0 * MINUTE as f64, 1.0, MINUTE, 3 * DAY);
            self.office(timeline, delay)
        };
        let submit_delay = if facts.hold == Some(Hold::Draft) { submit_delay + HELD } else { submit_delay };
        let submitted = if pre_approved { ChangeState::Approved } else { ChangeState::Assessed };
        self.act(timeline, submit_delay, requester, Action::Submit, ActionRequest::default(), submitted);

        if !pre_approved {
            let decider = self.decider(facts.team, facts.risk, facts.spec, requester);
            let median = match facts.risk {
                RiskClass::Low => 25.0 * MINUTE as f64,
                RiskClass::Medium => 2.0 * HOUR as f64,
                RiskClass::High => 6.0 * HOUR as f64,
                RiskClass::Critical => 10.0 * HOUR as f64,
            };
            let delay = self.dice.log_normal_ms(median, 1.1, 2 * MINUTE, 7 * DAY);
            let delay = self.office(timeline, delay);
            let delay = if facts.hold == Some(Hold::Approval) { delay + HELD } else { delay };
            if cancel_at == Some(1) {
                let comment = comment(self.dice, 0.7, text::CANCEL_COMMENTS);
                self.act(timeline, delay * 4 / 5, requester, Action::Cancel, request(comment), ChangeState::Cancelled);
                return;
            }
            let reject_share = match facts.risk {
                RiskClass::Low => 0.035,
                RiskClass::Medium => 0.05,
                RiskClass::High | RiskClass::Critical => 0.075,
            };
            if self.dice.chance(reject_share) {
                let comment = Some((*self.dice.pick(text::REJECT_COMMENTS)).to_owned());
                self.act(timeline, delay, decider, Action::Reject, request(comment), ChangeState::Rejected);
                return;
            }
            let comment = comment(self.dice, 0.6, text::APPROVE_COMMENTS);
            self.act(timeline, delay, decider, Action::Approve, request(comment), ChangeState::Approved);
        }
        if cancel_at == Some(2) {
            let comment = comment(self.dice, 0.7, text::CANCEL_COMMENTS);
            let delay = self.dice.log_normal_ms(4.0 * HOUR as f64, 1.0, 5 * MINUTE, 5 * DAY);
            self.act(timeline, delay, requester, Action::Cancel, request(comment), ChangeState::Cancelled);
            return;
        }

        let schedule_delay =
            if standard { self.dice.between(1, 5) * MINUTE } else { self.dice.between(5, 120) * MINUTE };
        let scheduled_at = timeline.now + whole_seconds(schedule_delay).max(SECOND);
        let planned_start = whole_seconds(if standard {
            scheduled_at + self.dice.between(1, 20) * MINUTE
        } else {
            let lead = self.dice.log_normal_ms(20.0 * HOUR as f64, 1.0, 30 * MINUTE, 10 * DAY);
            if facts.spec.tier <= 2 && self.dice.chance(0.35) {
                next_evening_window(self.dice, scheduled_at + lead)
            } else {
                next_working_slot(self.dice, scheduled_at + lead)
            }
        });
        let planned_start = if facts.hold == Some(Hold::Scheduled) && planned_start <= self.end {
            let after = self.end + self.dice.log_normal_ms(12.0 * HOUR as f64, 1.0, HOUR, 5 * DAY);
            whole_seconds(next_working_slot(self.dice, after))
        } else {
            planned_start
        };
        let planned_length =
            self.dice.log_normal_ms(if standard { HOUR as f64 } else { 2.0 * HOUR as f64 }, 0.5, 15 * MINUTE, 8 * HOUR);
        let window = ActionRequest {
            planned_start: Some(Timestamp::from_unix_ms(planned_start).to_rfc3339()),
            planned_end: Some(Timestamp::from_unix_ms(planned_start + whole_seconds(planned_length)).to_rfc3339()),
            ..ActionRequest::default()
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
        let implementer = self.implementer(facts.team, requester);
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
                self.review(timeline, facts, true);
                let delay = self.dice.log_normal_ms(6.0 * HOUR as f64, 1.0, 10 * MINUTE, 4 * DAY);
                let delay = self.office(timeline, delay);
                self.act(timeline, delay, requester, Action::Close, ActionRequest::default(), ChangeState::Closed);
            }
            return;
        }
        if !standard && facts.risk >= RiskClass::High && self.dice.chance(0.3) {
            self.review(timeline, facts, false);
        }
        let (close_share, delay) = if standard {
            (0.97, self.dice.between(1, 30) * MINUTE)
        } else {
            let delay = self.dice.log_normal_ms(20.0 * HOUR as f64, 1.0, 30 * MINUTE, 7 * DAY);
            (0.94, self.office(timeline, delay))
        };
        if self.dice.chance(close_share) {
            self.act(timeline, delay, requester, Action::Close, ActionRequest::default(), ChangeState::Closed);
        }
    }

    /// An emergency change: submitted and started at once; approved before (a quarter of them,
    /// expedited) or after the fact; always reviewed before it closes.
    fn emergency(&mut self, timeline: &mut Timeline, facts: &Facts<'_>) {
        let requester = facts.requester;
        let delay = self.dice.between(1, 10) * MINUTE;
        self.act(timeline, delay, requester, Action::Submit, ActionRequest::default(), ChangeState::Assessed);
        let expedited = self.dice.chance(0.25);
        let implementer = self.implementer(facts.team, requester);
        if expedited {
            let decider = self.decider(facts.team, facts.risk, facts.spec, requester);
            let delay = self.dice.between(5, 40) * MINUTE;
            let comment = Some("Expedited approval for an emergency change.".to_owned());
            self.act(timeline, delay, decider, Action::Approve, request(comment), ChangeState::Approved);
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
        let outcome = self.implement(timeline, facts, implementer);
        if !expedited {
            let decider = self.decider(facts.team, facts.risk, facts.spec, requester);
            let delay = self.dice.log_normal_ms(4.0 * HOUR as f64, 1.0, 20 * MINUTE, 3 * DAY);
            let delay = self.office(timeline, delay);
            let comment = Some((*self.dice.pick(text::RETROSPECTIVE_COMMENTS)).to_owned());
            let state = timeline.state;
            self.act(timeline, delay, decider, Action::Approve, request(comment), state);
        }
        self.review(timeline, facts, outcome.failed);
        let delay = self.dice.log_normal_ms(5.0 * HOUR as f64, 1.0, 10 * MINUTE, 3 * DAY);
        let delay = self.office(timeline, delay);
        self.act(timeline, delay, requester, Action::Close, ActionRequest::default(), ChangeState::Closed);
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

    /// A post-implementation review by a lead of the team (a root cause when the change failed).
    fn review(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, failed: bool) {
        let pool = self.staff.leads[facts.team].clone();
        let reviewer = self.pick_from(&pool, facts.requester);
        let delay = self.dice.log_normal_ms(1.5 * DAY as f64, 0.8, 2 * HOUR, 12 * DAY);
        let delay = self.office(timeline, delay);
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
        let step = Step::ResolveIncident { key, resolved_at: Timestamp::from_unix_ms(resolved_at) };
        self.push(resolved_at, resolver, step, None);
    }
}

/// What the steps of one change need to know about it.
struct Facts<'a> {
    spec: &'a ServiceSpec,
    team: usize,
    change_type: ChangeType,
    staging: bool,
    requester: usize,
    risk: RiskClass,
    large: bool,
    small: bool,
    has_rollback_plan: bool,
    hold: Option<Hold>,
}

/// Plans `change_count` changes over `[start, end)` with ids from `first_id` on, plus incidents,
/// and returns every command up to `end` in time order.
pub(crate) fn plan(dice: &mut Dice, people: &[Person], start: i64, end: i64, change_count: u32, first_id: u64) -> Plan {
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
            (creation_time(dice, start, span, change_type), change_type)
        })
        .collect();
    births.sort_by_key(|(created, _)| *created);
    let mut planner = Planner {
        dice,
        staff: Staff::new(people),
        counters,
        steps: Vec::with_capacity(change_count as usize * 9),
        incidents: 0,
        start,
        end,
    };
    for (position, (created, change_type)) in births.iter().enumerate() {
        planner.change(ChangeId::new(first_id + position as u64), *change_type, *created);
    }
    // Incidents no change caused: about one for every 160 changes.
    let unrelated = (change_count as usize).div_ceil(160);
    for _ in 0..unrelated {
        let weights: Vec<f64> = SERVICES.iter().map(|spec| spec.activity).collect();
        let spec = &SERVICES[planner.dice.weighted(&weights)];
        planner.incident(spec, team_of(spec), None);
    }
    let incident_keys = planner.incidents;
    let mut steps = planner.steps;
    steps.retain(|step| step.time.unix_ms() <= end);
    // Stable: steps at the same millisecond keep their planning order, so a change is always
    // created before anything happens to it and ids stay in creation order.
    steps.sort_by_key(|step| step.time);
    let incidents = steps.iter().filter(|step| matches!(step.step, Step::OpenIncident { .. })).count();
    Plan { steps, changes: births.len(), incidents, incident_keys }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let evening = next_evening_window(&mut dice, saturday);
        assert_eq!(weekday(evening), 0);
        assert!((20..22).contains(&hour(evening)));
    }

    #[test]
    fn every_timeline_is_in_time_order_and_ends_by_the_end() {
        let mut dice = Dice::new(5);
        let people = crate::org::people(&mut dice);
        let end = 1_795_687_200_000;
        let plan = plan(&mut dice, &people, end - 3 * MONTH, end, 500, 1);
        assert_eq!(plan.changes, 500);
        assert!(plan.steps.windows(2).all(|pair| pair[0].time <= pair[1].time));
        assert!(plan.steps.iter().all(|step| step.time.unix_ms() <= end));
        let mut next = 1;
        for step in &plan.steps {
            if let Step::CreateChange(_) = step.step {
                assert_eq!(step.expect.map(|(id, _)| id), Some(ChangeId::new(next)));
                next += 1;
            }
        }
    }
}
