//! The timelines after submission: planned and emergency changes, retrospectives, the
//! implementation and how likely it fails, reviews, and the incidents failures cause.
//!
//! Why a room of its own: this is the largest part of the plan and the one that follows the
//! lifecycle step by step; the groundwork it uses is in [`super::planner`].

use super::timing::{hour, next_full_hour, weekday, whole_seconds};
use super::*;

/// The chance that a change fails, from what makes changes fail in real organisations: the type,
/// the tier, the size, the timing (Friday evening, nights, weekends), the environment and a
/// missing rollback plan. Tuned for an overall change failure rate of about 11%.
pub(super) fn failure_probability(
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

impl Planner<'_> {
    /// A standard or normal change, from its submission: the policy denies it, auto-approves it
    /// or asks for approvals; then schedule (again, when the approvals came after the planned
    /// start), implement, review, close.
    pub(super) fn planned(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, birth: &Birth, window: (i64, i64)) {
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
    pub(super) fn emergency(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, submitted_at: i64) {
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
    pub(super) fn retrospective(
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
    pub(super) fn implement(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, implementer: usize) -> Implemented {
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
    pub(super) fn review_delay(&mut self, now: i64) -> i64 {
        let delay = self.dice.log_normal_ms(1.5 * DAY as f64, 0.8, 2 * HOUR, 12 * DAY);
        self.office(now, delay)
    }

    /// A post-implementation review by a lead of the team (a root cause when the change failed),
    /// `delay` after the last step.
    pub(super) fn review(&mut self, timeline: &mut Timeline, facts: &Facts<'_>, failed: bool, delay: i64) {
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
    pub(super) fn incident(&mut self, spec: &ServiceSpec, team: usize, cause: Option<(ChangeId, i64, Option<i64>)>) {
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
