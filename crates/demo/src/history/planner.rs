//! The planner's groundwork: recording steps, picking the people who act, and what is fixed about
//! a change before it is submitted (its birth) together with the risk class the service will
//! give it.
//!
//! Why a room of its own: every timeline draws on these; the timelines themselves are in
//! [`super::schedule`] and [`super::steps`].

use super::timing::{hour, next_working_slot, weekday, whole_seconds};
use super::*;

impl<'a> Planner<'a> {
    pub(super) fn push(&mut self, time: i64, actor: usize, step: Step, expect: Option<(ChangeId, ChangeState)>) {
        self.steps.push(Planned { time: Timestamp::from_unix_ms(time), actor, step, expect });
    }

    pub(super) fn act(
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
    pub(super) fn office(&mut self, now: i64, delay: i64) -> i64 {
        if self.dice.chance(0.85) { next_working_slot(self.dice, now + delay) - now } else { delay }
    }

    pub(super) fn pick_from(&mut self, pool: &[usize], not: usize) -> usize {
        let others: Vec<usize> = pool.iter().copied().filter(|person| *person != not).collect();
        if others.is_empty() { pool[self.dice.index(pool.len())] } else { others[self.dice.index(others.len())] }
    }

    /// Someone from `pool` who is not in `excluded`, if anyone.
    pub(super) fn pick_outside(&mut self, pool: &[usize], excluded: &[usize]) -> Option<usize> {
        let allowed: Vec<usize> = pool.iter().copied().filter(|person| !excluded.contains(person)).collect();
        (!allowed.is_empty()).then(|| allowed[self.dice.index(allowed.len())])
    }

    /// One distinct person per required approval, none of them in `excluded` (the requester,
    /// and for a change in compliance scope its implementer): separation of duties, so that
    /// every approval counts. Mostly people of the owner team; sometimes from elsewhere.
    pub(super) fn approvers(&mut self, required: &[Requirement], team: usize, excluded: &[usize]) -> Vec<usize> {
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
    pub(super) fn approval_comment(&mut self, requirement: Requirement) -> Option<String> {
        let comments = match requirement {
            Requirement::Security => text::SECURITY_APPROVE_COMMENTS,
            Requirement::CabOrSecurity => text::CAB_APPROVE_COMMENTS,
            Requirement::Approver | Requirement::OwnerTeam => text::APPROVE_COMMENTS,
        };
        comment(self.dice, 0.6, comments)
    }

    /// Who carries out a step of the implementation: mostly the requester, sometimes the
    /// engineer on call in the team.
    pub(super) fn implementer(&mut self, team: usize, requester: usize) -> usize {
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
    pub(super) fn security_findings(&mut self, change_type: ChangeType, scoped: bool) -> Option<u32> {
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
    pub(super) fn birth(&mut self, id: ChangeId, change_type: ChangeType, created: i64) -> Birth {
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
    pub(super) fn decision_time(birth: &Birth) -> i64 {
        match (birth.cancel_at, birth.hold) {
            (Some(0), _) => birth.created,
            (_, Some(Hold::Draft)) => birth.submitted_at + HELD,
            _ => birth.submitted_at,
        }
    }

    /// The last instant whose steps are committed when a batch running a step at `time` starts:
    /// the previous batch boundary (a slice boundary or an overdue sweep). The service's reads
    /// outside the batch transaction (the requester's recent failures) see only that much.
    pub(super) fn committed_before(&self, time: i64) -> i64 {
        let slices = (time - self.start).div_euclid(self.batch_span);
        let slice_boundary = self.start + slices * self.batch_span - 1;
        let sweep = self.sweeps.iter().copied().filter(|sweep| *sweep < time).max().unwrap_or(i64::MIN);
        slice_boundary.max(sweep)
    }

    /// The requester's failed changes the service counts at `time`: failed in the 90 days before
    /// it, and committed by then.
    pub(super) fn requester_failures(&self, requester: usize, time: i64) -> u32 {
        let committed = self.committed_before(time);
        let since = time - RISK_HISTORY;
        self.failures[requester].iter().filter(|failed| **failed >= since && **failed <= committed).count() as u32
    }

    /// The risk class the service will score on submission (the factor score of
    /// `changegate_risk::factors`, with the facts gathered as the service gathers them).
    pub(super) fn risk(
        &self,
        facts: &Facts<'_>,
        change: &NewChange,
        at: i64,
        planned: Option<(i64, i64)>,
    ) -> RiskClass {
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
}
