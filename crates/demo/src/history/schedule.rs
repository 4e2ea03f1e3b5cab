//! From birth to submission: developing a change once its submission comes up, choosing its
//! template and planning its window around change windows and freezes.
//!
//! Why a room of its own: scheduling is where the calendar and the policy meet; the steps after
//! submission are in [`super::steps`].

use super::timing::{next_working_slot, whole_seconds};
use super::*;

impl Planner<'_> {
    /// Everything after the birth of a change, planned when its submission comes up.
    pub(super) fn develop(&mut self, birth: &Birth) {
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

    pub(super) fn set_creation(&mut self, creation: usize, input: NewChange) {
        if let Step::CreateChange(placeholder) = &mut self.steps[creation].step {
            **placeholder = input;
        }
    }

    /// The standard-change template a requester picks for `service_index`: one of the approved
    /// templates covering the service, weighted by how common its routine is.
    pub(super) fn template_for(&mut self, service_index: usize) -> usize {
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
    pub(super) fn in_change_window(&mut self, team: usize, after: i64, length: i64, late: bool) -> (i64, i64) {
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
    pub(super) fn planned_window(&mut self, facts: &Facts<'_>, submitted_at: i64, approval_lead: i64) -> (i64, i64) {
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
    pub(super) fn free_window(&mut self, facts: &Facts<'_>, after: i64, length: i64) -> (i64, i64) {
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
}
