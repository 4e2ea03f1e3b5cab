//! The facts of one period that the criteria share: which changes are the period's production
//! deployments, which of them failed, the incidents, and the few metric helpers the criteria need
//! (recovery time, approval time, medians). Computed once per assessment.
//!
//! The definitions, as `docs/maturity-rubric.md` states them:
//! - a production change is one whose environment is `production` or `prod`;
//! - a deployment is a production change with a deployment time (`ChangeRecord::deployed_at`) in
//!   the period; its outcome is `ChangeRecord::outcome`;
//! - a failed deployment failed, was rolled back, or caused an incident (an explicit or confirmed
//!   link only: suggestions do not count);
//! - a finished production change is one that ended successful, failed or rolled back in the
//!   period, whether or not it records a deployment time (imports may not).
//!
//! These helpers are deliberately minimal and private: the metrics crate owns the full KPIs.

use std::collections::{BTreeMap, HashMap};

use changegate_core::{ChangeId, ChangeOutcome, ChangeRecord, ChangeType, IncidentRecord, ServiceRecord, Timestamp};

use crate::input::{Answer, AssessmentInput, LiveEvidence};

pub(crate) use changegate_core::civil::MINUTE_MS;

/// Whether a change went to production (the core's one list of production environments).
pub(crate) fn is_production(change: &ChangeRecord) -> bool {
    changegate_core::is_production(change.environment.as_str())
}

/// When a change started, or, when no start was recorded (imports), when it deployed.
pub(crate) fn start_of(change: &ChangeRecord) -> Option<Timestamp> {
    change.started_at.or(change.deployed_at())
}

/// When a finished change ended: its deployment, else its verification or closing.
fn finish_of(change: &ChangeRecord) -> Option<Timestamp> {
    change.deployed_at().or(change.verified_at).or(change.closed_at)
}

/// Whether a person or the policy approved the change before it started.
pub(crate) fn is_approved_before_start(change: &ChangeRecord) -> bool {
    let start = start_of(change);
    match (change.approved_at, start) {
        (Some(approved), Some(start)) => approved <= start,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Whether the change followed the procedure: approved before it started, or an emergency change
/// with its retrospective approval and its post-implementation review.
pub(crate) fn followed_procedure(change: &ChangeRecord) -> bool {
    if is_approved_before_start(change) {
        return true;
    }
    change.change_type == ChangeType::Emergency && change.approved_at.is_some() && change.review.is_some()
}

/// Whether the approval recorded was given by a person (not pre-approved by the policy).
pub(crate) fn approved_by_person(change: &ChangeRecord) -> bool {
    !change.auto_approved && !change.approvals.is_empty()
}

/// Minutes from submission to approval, when both are known and in that order.
pub(crate) fn approval_minutes(change: &ChangeRecord) -> Option<f64> {
    let submitted = change.submitted_at?;
    let approved = change.approved_at?;
    (approved >= submitted).then(|| approved.since_ms(submitted) as f64 / MINUTE_MS as f64)
}

/// Whether the change was approved in any way (so its approval time is expected).
pub(crate) fn was_approved(change: &ChangeRecord) -> bool {
    change.auto_approved || change.approved_at.is_some() || !change.approvals.is_empty()
}

/// The median of some values; `None` for none.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[middle] } else { (values[middle - 1] + values[middle]) / 2.0 })
}

/// The facts of one period.
pub(crate) struct Facts<'a> {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Every change (the approval-time trend reads the quarters before the period).
    pub changes: &'a [ChangeRecord],
    /// Production changes with a deployment time in the period, oldest first.
    pub deployments: Vec<&'a ChangeRecord>,
    /// Production changes that ended successful, failed or rolled back in the period.
    pub finished: Vec<&'a ChangeRecord>,
    /// Deployments that failed, were rolled back, or caused an incident.
    pub failed: Vec<&'a ChangeRecord>,
    /// Incidents detected in the period.
    pub incidents: Vec<&'a IncidentRecord>,
    /// Incidents (of any time) by the change that caused them.
    caused: HashMap<ChangeId, Vec<&'a IncidentRecord>>,
    services: HashMap<&'a str, &'a ServiceRecord>,
    /// Successful production deployment times by service, sorted: for roll-forward recovery.
    successes_by_service: HashMap<&'a str, Vec<Timestamp>>,
    pub live: &'a LiveEvidence,
    pub answers: &'a BTreeMap<String, Answer>,
}

impl<'a> Facts<'a> {
    pub fn gather(input: &AssessmentInput<'a>) -> Facts<'a> {
        let (from, to) = (input.from, input.to);
        let within = |time: Timestamp| from <= time && time < to;
        let mut caused: HashMap<ChangeId, Vec<&IncidentRecord>> = HashMap::new();
        for incident in input.incidents {
            if let Some(change) = incident.caused_by {
                caused.entry(change).or_default().push(incident);
            }
        }
        let mut deployments: Vec<&ChangeRecord> = input
            .changes
            .iter()
            .filter(|change| is_production(change) && change.deployed_at().is_some_and(within))
            .collect();
        deployments.sort_by_key(|change| (change.deployed_at(), change.id));
        let finished = input
            .changes
            .iter()
            .filter(|change| {
                is_production(change)
                    && change.outcome().is_some_and(ChangeOutcome::was_deployed)
                    && finish_of(change).is_some_and(within)
            })
            .collect();
        let failed = deployments
            .iter()
            .copied()
            .filter(|change| change.outcome().is_some_and(ChangeOutcome::is_failure) || caused.contains_key(&change.id))
            .collect();
        let incidents = input.incidents.iter().filter(|incident| within(incident.detected_at)).collect();
        let mut successes_by_service: HashMap<&str, Vec<Timestamp>> = HashMap::new();
        for change in input
            .changes
            .iter()
            .filter(|change| is_production(change) && change.outcome() == Some(ChangeOutcome::Successful))
        {
            if let Some(deployed) = change.deployed_at() {
                successes_by_service.entry(change.service.as_str()).or_default().push(deployed);
            }
        }
        for times in successes_by_service.values_mut() {
            times.sort();
        }
        Facts {
            from,
            to,
            changes: input.changes,
            deployments,
            finished,
            failed,
            incidents,
            caused,
            services: input.services.iter().map(|service| (service.name.as_str(), service)).collect(),
            successes_by_service,
            live: input.live,
            answers: input.answers,
        }
    }

    pub fn service(&self, name: &str) -> Option<&'a ServiceRecord> {
        self.services.get(name).copied()
    }

    /// The team a change belongs to: as recorded on it, else its service's owner.
    pub fn team_of(&self, change: &ChangeRecord) -> String {
        match (&change.team, self.service(change.service.as_str())) {
            (Some(team), _) => team.to_string(),
            (None, Some(service)) => service.team.to_string(),
            (None, None) => "(no team)".to_owned(),
        }
    }

    /// Incidents the change caused.
    pub fn incidents_caused_by(&self, change: ChangeId) -> &[&'a IncidentRecord] {
        self.caused.get(&change).map_or(&[], Vec::as_slice)
    }

    /// Minutes from a failed deployment's failure to recovery; `None` when that cannot be
    /// measured. Recovery is, in this order: the resolution of the incidents it caused (the last
    /// one; unknown while any is open); a rollback recorded live (an imported rollback carries no
    /// time of its own); the next successful production deployment of its service (roll-forward).
    pub fn recovery_minutes(&self, change: &ChangeRecord) -> Option<f64> {
        let minutes =
            |from: Timestamp, to: Timestamp| (to >= from).then(|| to.since_ms(from) as f64 / MINUTE_MS as f64);
        let incidents = self.incidents_caused_by(change.id);
        if !incidents.is_empty() {
            let mut longest: f64 = 0.0;
            for incident in incidents {
                longest = longest.max(minutes(incident.detected_at, incident.resolved_at?)?);
            }
            return Some(longest);
        }
        let failed_at = change.failed_at.or(change.deployed_at())?;
        if let (Some(rolled_back), false) = (change.rolled_back_at, change.imported) {
            return minutes(failed_at, rolled_back);
        }
        let successes = self.successes_by_service.get(change.service.as_str())?;
        let next = successes.partition_point(|time| *time <= failed_at);
        successes.get(next).and_then(|recovered| minutes(failed_at, *recovered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{History, hours};

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn recovery_is_the_incident_then_the_rollback_then_the_next_success() {
        // Given a failure rolled back after 30 minutes, one that caused an incident resolved after
        // two hours, and one fixed forward by the next successful deployment four hours later.
        let mut history = History::new();
        let rolled_back = history.deployment(|change| {
            change.failed_at = Some(hours(10));
            change.rolled_back_at = Some(hours(10).plus_ms(30 * MINUTE_MS));
        });
        let with_incident = history.deployment(|change| change.failed_at = Some(hours(20)));
        history.incident(with_incident, hours(20), Some(hours(22)));
        let rolled_forward = history.deployment(|change| change.failed_at = Some(hours(30)));
        history.deployment(|change| change.completed_at = Some(hours(34)));
        // When the facts are gathered.
        let facts = history.facts();
        // Then each recovery is measured its own way.
        let recovery = |id| facts.recovery_minutes(facts.deployments.iter().find(|change| change.id == id).unwrap());
        assert_eq!(recovery(rolled_back), Some(30.0));
        assert_eq!(recovery(with_incident), Some(120.0));
        assert_eq!(recovery(rolled_forward), Some(240.0));
        assert_eq!(facts.failed.len(), 3);
    }
}
