//! The alert engine: reacts to the events appended after a cursor and sweeps the time-based
//! rules (approvals overdue, compliance violations).
//!
//! Why a room of its own: evaluation reads the log and the projections and decides what fires;
//! firing itself and delivery are doors it calls, so it can change without touching either.

use std::time::Duration;

use changegate_core::{ChangeId, ChangeRecord, DomainEvent, EventEnvelope, IncidentId, Name, StreamId, Timestamp};
use changegate_store::AWAITING_LIST_MAX;
use serde_json::json;

use super::{AlertCondition, AlertKind, AlertRule, RATE_DEPLOYMENTS_MAX};
use crate::{Service, ServiceError};

/// Most firings one approval-overdue sweep appends (the next sweep goes on).
pub const SWEEP_FIRINGS_MAX: usize = 500;

use changegate_core::civil::HOUR_MS;

/// The compliance checks read every change of the period, so the sweep runs them at most this
/// often for `compliance_violation` rules (a new violation fires within this time).
pub const COMPLIANCE_SWEEP_INTERVAL_MS: i64 = 10 * 60 * 1_000;
/// The period the compliance sweep checks: the default compliance report period.
pub const COMPLIANCE_SWEEP_WINDOW_DAYS: u32 = 90;

/// `change/CHG-000001` → the change id.
pub(crate) fn change_of_stream(stream: &str) -> Option<ChangeId> {
    stream.parse::<StreamId>().ok()?.change()
}

/// `incident/INC-000001` → the incident id.
pub(crate) fn incident_of_stream(stream: &str) -> Option<IncidentId> {
    stream.parse::<StreamId>().ok()?.incident()
}

/// The types of the events [`Service::react_to_event`] reacts to: exactly the variants its match
/// names, in their stored (snake case) form. Other events are skipped before they are parsed. A
/// test reads the match and fails when the two differ.
const REACTING_EVENT_TYPES: [&str; 7] = [
    "change_risk_alert",
    "emergency_overdue",
    "ledger_verified",
    "change_failed",
    "change_rolled_back",
    "incident_opened",
    "incident_linked",
];

impl Service {
    /// Reacts to up to `events_per_step_max` events after sequence `after`: fires the rules they
    /// concern and runs the rollback hooks they trigger. Returns the sequence of the last event
    /// read (`after` when there was none). A reaction that fails is logged and not retried: the
    /// engine moves on rather than stall on one event.
    pub async fn react_to_events(&self, after: u64) -> Result<u64, ServiceError> {
        let events = self.store().events_after(after, self.alerts.settings.events_per_step_max).await?;
        let Some(last) = events.last().map(|event| event.sequence) else { return Ok(after) };
        let rules = self.parsed_alert_rules().await?;
        for envelope in &events {
            if let Err(error) = self.react_to_event(&rules, envelope).await {
                tracing::error!(sequence = envelope.sequence, event = %envelope.event_type, %error, "reacting to an event failed");
            }
        }
        Ok(last)
    }

    async fn react_to_event(&self, rules: &[(Name, AlertRule)], envelope: &EventEnvelope) -> Result<(), ServiceError> {
        if !REACTING_EVENT_TYPES.contains(&envelope.event_type.as_str()) {
            return Ok(());
        }
        let event = envelope
            .domain_event()
            .map_err(|error| ServiceError::Internal(format!("event {} does not parse: {error}", envelope.sequence)))?;
        let of_kind = |kind: AlertKind| -> Vec<&(Name, AlertRule)> {
            rules.iter().filter(|(_, rule)| rule.condition.kind() == kind).collect()
        };
        match &event {
            DomainEvent::ChangeRiskAlert { risk_class, risk_score, risk_probability } => {
                let Some(id) = change_of_stream(&envelope.stream) else { return Ok(()) };
                let matching: Vec<Name> = of_kind(AlertKind::HighRiskChange)
                    .into_iter()
                    .filter(|(_, rule)| {
                        matches!(rule.condition, AlertCondition::HighRiskChange { min_class } if *risk_class >= min_class)
                    })
                    .map(|(name, _)| name.clone())
                    .collect();
                if matching.is_empty() {
                    return Ok(());
                }
                let change = self.store().change(id).await?;
                let (title, service) = change
                    .as_ref()
                    .map(|change| (change.title.clone(), change.service.to_string()))
                    .unwrap_or_default();
                let score = risk_score.map(|score| format!(", score {score}")).unwrap_or_default();
                let message =
                    format!("High-risk change {id} submitted: {title} ({risk_class} risk{score}) on {service}");
                let details = json!({"change": id, "title": title, "service": service, "risk_class": risk_class,
                    "risk_score": risk_score, "risk_probability": risk_probability});
                self.fire_rules(
                    &matching,
                    AlertKind::HighRiskChange,
                    &StreamId::Change(id).to_string(),
                    &id.to_string(),
                    &message,
                    details,
                )
                .await?;
            }
            DomainEvent::EmergencyOverdue { due, missing } => {
                let Some(id) = change_of_stream(&envelope.stream) else { return Ok(()) };
                let matching: Vec<Name> = of_kind(AlertKind::EmergencyRetrospectiveOverdue)
                    .into_iter()
                    .map(|(name, _)| name.clone())
                    .collect();
                if matching.is_empty() {
                    return Ok(());
                }
                let title = self.store().change(id).await?.map(|change| change.title).unwrap_or_default();
                let message = format!(
                    "Emergency change {id} is overdue (due {}): {} still missing — {title}",
                    due.to_rfc3339(),
                    missing.join(" and ")
                );
                let details = json!({"change": id, "title": title, "due": due.to_rfc3339(), "missing": missing});
                self.fire_rules(
                    &matching,
                    AlertKind::EmergencyRetrospectiveOverdue,
                    &StreamId::Change(id).to_string(),
                    &id.to_string(),
                    &message,
                    details,
                )
                .await?;
            }
            DomainEvent::LedgerVerified { ok: false, size, first_bad_index, message, .. } => {
                let matching: Vec<Name> =
                    of_kind(AlertKind::LedgerVerificationFailed).into_iter().map(|(name, _)| name.clone()).collect();
                let text = format!("Audit ledger verification FAILED at size {size}: {message}");
                let details = json!({"size": size, "first_bad_index": first_bad_index, "message": message,
                    "verification_sequence": envelope.sequence});
                let key = format!("ledger-verification/{}", envelope.sequence);
                self.fire_rules(&matching, AlertKind::LedgerVerificationFailed, "ledger", &key, &text, details).await?;
            }
            DomainEvent::ChangeFailed { .. } | DomainEvent::ChangeRolledBack { .. } => {
                let Some(id) = change_of_stream(&envelope.stream) else { return Ok(()) };
                if matches!(event, DomainEvent::ChangeFailed { .. }) {
                    self.rollback_on_failure(id).await?;
                }
                if let Some(change) = self.store().change(id).await? {
                    self.evaluate_failure_rate(&of_kind(AlertKind::ChangeFailureRate), &change.service).await?;
                }
            }
            DomainEvent::IncidentOpened { id, caused_by: Some(change), .. } => {
                self.rollback_on_incident(*id, *change).await?;
                if let Some(change) = self.store().change(*change).await? {
                    self.evaluate_failure_rate(&of_kind(AlertKind::ChangeFailureRate), &change.service).await?;
                }
            }
            DomainEvent::IncidentLinked { change, .. } => {
                if let Some(incident) = incident_of_stream(&envelope.stream) {
                    self.rollback_on_incident(incident, *change).await?;
                }
                if let Some(change) = self.store().change(*change).await? {
                    self.evaluate_failure_rate(&of_kind(AlertKind::ChangeFailureRate), &change.service).await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Fires the change-failure-rate rules that cover `service` and whose threshold its rate
    /// over their window exceeds. The key is the service and the window's start (windows are
    /// aligned to multiples of their length), so a rule fires at most once per service and window.
    async fn evaluate_failure_rate(&self, rules: &[&(Name, AlertRule)], service: &Name) -> Result<(), ServiceError> {
        let now = self.now();
        for (name, rule) in rules {
            let AlertCondition::ChangeFailureRate { service: only, threshold, window_hours, min_deployments } =
                &rule.condition
            else {
                continue;
            };
            if only.as_ref().is_some_and(|only| only != service) {
                continue;
            }
            let window_ms = i64::from(*window_hours) * HOUR_MS;
            let deployments = self
                .store()
                .deployments_of_service(service, now.plus_ms(-window_ms), now, RATE_DEPLOYMENTS_MAX)
                .await?;
            if deployments.len() < *min_deployments as usize {
                continue;
            }
            let ids: Vec<ChangeId> = deployments.iter().map(|change| change.id).collect();
            let caused = self.store().changes_that_caused_incidents(&ids).await?;
            let failures = deployments
                .iter()
                .filter(|change| {
                    change.outcome().is_some_and(changegate_core::ChangeOutcome::is_failure)
                        || caused.contains(&change.id)
                })
                .count();
            let rate = failures as f64 / deployments.len() as f64;
            if rate <= *threshold {
                continue;
            }
            let window_start = Timestamp::from_unix_ms(now.unix_ms().div_euclid(window_ms) * window_ms);
            let key = format!("{service}@{}", window_start.to_rfc3339());
            let message = format!(
                "Change failure rate of {service} is {:.0} % ({failures} of {} deployments in the last {window_hours} h), above {:.0} %",
                rate * 100.0,
                deployments.len(),
                threshold * 100.0
            );
            let details = json!({"service": service, "rate": rate, "failures": failures, "deployments": deployments.len(),
                "window_hours": window_hours, "threshold": threshold});
            self.fire_rules(
                std::slice::from_ref(name),
                AlertKind::ChangeFailureRate,
                &format!("service/{service}"),
                &key,
                &message,
                details,
            )
            .await?;
        }
        Ok(())
    }

    /// Fires the time-based rules: every change that has waited longer than a rule's
    /// `after_hours` for its approval (since its submission). At most [`SWEEP_FIRINGS_MAX`]
    /// firings per sweep. Returns how many fired.
    pub async fn sweep_alerts(&self) -> Result<usize, ServiceError> {
        let parsed = self.parsed_alert_rules().await?;
        let compliance_fired =
            if parsed.iter().any(|(_, rule)| matches!(rule.condition, AlertCondition::ComplianceViolation { .. })) {
                self.sweep_compliance().await?
            } else {
                0
            };
        Ok(compliance_fired + self.sweep_approvals(parsed).await?)
    }

    /// Fires `compliance_violation` rules for violations of the last
    /// [`COMPLIANCE_SWEEP_WINDOW_DAYS`], at most every [`COMPLIANCE_SWEEP_INTERVAL_MS`]; a rule
    /// fires once per violation key, so only new violations fire. At most
    /// [`SWEEP_FIRINGS_MAX`] firings per sweep (the rest fire on the next ones), so enabling a
    /// rule on a long history does not flood its webhook at once.
    pub async fn sweep_compliance(&self) -> Result<usize, ServiceError> {
        use std::sync::atomic::Ordering;
        let now = self.now().unix_ms();
        let last = self.alerts.compliance_checked_at_ms.load(Ordering::SeqCst);
        if last != 0 && now - last < COMPLIANCE_SWEEP_INTERVAL_MS {
            return Ok(0);
        }
        self.alerts.compliance_checked_at_ms.store(now, Ordering::SeqCst);
        let violations = self.compliance_violations(COMPLIANCE_SWEEP_WINDOW_DAYS).await?;
        let mut fired = 0;
        for violation in &violations {
            let message = format!("{} {}: {}", violation.framework.name(), violation.control, violation.reason);
            let details = serde_json::to_value(violation).unwrap_or_default();
            let subject = match violation.change {
                Some(change) => StreamId::Change(change).to_string(),
                None => "ledger".to_owned(),
            };
            fired += self
                .fire_alert(AlertKind::ComplianceViolation, &subject, &violation.key, &message, details)
                .await?
                .len();
            if fired >= SWEEP_FIRINGS_MAX {
                // Check again on the next sweep rather than waiting for the interval.
                self.alerts.compliance_checked_at_ms.store(0, Ordering::SeqCst);
                break;
            }
        }
        Ok(fired)
    }

    async fn sweep_approvals(&self, parsed: Vec<(Name, AlertRule)>) -> Result<usize, ServiceError> {
        let rules: Vec<(Name, u32)> = parsed
            .into_iter()
            .filter_map(|(name, rule)| match rule.condition {
                AlertCondition::ApprovalOverdue { after_hours } => Some((name, after_hours)),
                _ => None,
            })
            .collect();
        if rules.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let waiting = self.store().changes_awaiting_approval(AWAITING_LIST_MAX).await?;
        let mut fired = 0;
        for change in &waiting {
            let Some(since) = change.submitted_at.or(change.assessment.as_ref().map(|assessment| assessment.at)) else {
                continue;
            };
            let overdue: Vec<Name> = rules
                .iter()
                .filter(|(_, after_hours)| now.since_ms(since) > i64::from(*after_hours) * HOUR_MS)
                .map(|(name, _)| name.clone())
                .collect();
            if overdue.is_empty() {
                continue;
            }
            fired += self.fire_approval_overdue(&overdue, change, now.since_ms(since)).await?;
            if fired >= SWEEP_FIRINGS_MAX {
                break;
            }
        }
        Ok(fired)
    }

    async fn fire_approval_overdue(
        &self,
        rules: &[Name],
        change: &ChangeRecord,
        waited_ms: i64,
    ) -> Result<usize, ServiceError> {
        let hours = waited_ms / HOUR_MS;
        let missing = change
            .approval_status()
            .map(|status| {
                status
                    .missing
                    .iter()
                    .map(|required| format!("{} × {}", required.count, required.role))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let message = format!("{} has waited {hours} h for approval: {}", change.id, change.title);
        let details = json!({"change": change.id, "title": change.title, "service": change.service,
            "waited_hours": hours, "missing": missing});
        let fired = self
            .fire_rules(
                rules,
                AlertKind::ApprovalOverdue,
                &StreamId::Change(change.id).to_string(),
                &change.id.to_string(),
                &message,
                details,
            )
            .await?;
        Ok(fired.len())
    }

    /// Runs the alert engine until the task is dropped: reacts to new events every
    /// `poll_interval_ms` (from the log's head when it starts, so history never fires) and sweeps
    /// the time-based rules every `sweep_interval_ms`.
    pub async fn run_alert_engine(self) {
        let settings = self.alerts.settings.clone();
        let mut cursor = loop {
            match self.store().ledger_head().await {
                Ok(head) => break head.size,
                Err(error) => {
                    tracing::error!(%error, "the alert engine cannot read the ledger head; retrying");
                    tokio::time::sleep(Duration::from_millis(settings.poll_interval_ms.max(100))).await;
                }
            }
        };
        let mut poll = tokio::time::interval(Duration::from_millis(settings.poll_interval_ms.max(10)));
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sweep = tokio::time::interval(Duration::from_millis(settings.sweep_interval_ms.max(10)));
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = poll.tick() => loop {
                    match self.react_to_events(cursor).await {
                        Ok(next) if next == cursor => break,
                        Ok(next) => cursor = next,
                        Err(error) => {
                            tracing::error!(%error, "the alert engine could not read events");
                            break;
                        }
                    }
                },
                _ = sweep.tick() => {
                    if let Err(error) = self.sweep_alerts().await {
                        tracing::error!(%error, "the alert sweep failed");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use changegate_core::RiskClass;

    use super::*;

    /// `ChangeRiskAlert` → `change_risk_alert`, as serde's `rename_all = "snake_case"` writes it.
    fn snake_case(variant: &str) -> String {
        let mut name = String::new();
        for (index, character) in variant.chars().enumerate() {
            if character.is_ascii_uppercase() && index > 0 {
                name.push('_');
            }
            name.push(character.to_ascii_lowercase());
        }
        name
    }

    #[test]
    fn the_reacting_event_types_are_the_variants_the_engine_matches() {
        // Given the source of the engine's match on the event
        let source = include_str!("engine.rs");
        let start = source.find("async fn react_to_event(").expect("the engine reacts to events");
        let body = &source[start..];
        let body = &body[..body.find("\n    }\n").expect("the function ends")];
        let matched: BTreeSet<String> = body
            .split("DomainEvent::")
            .skip(1)
            .map(|rest| rest.chars().take_while(char::is_ascii_alphanumeric).collect::<String>())
            .map(|variant| snake_case(&variant))
            .collect();
        // Then the prefilter lets through exactly those event types
        let listed: BTreeSet<String> = REACTING_EVENT_TYPES.iter().map(|name| (*name).to_owned()).collect();
        assert_eq!(listed, matched);
        assert_eq!(listed.len(), REACTING_EVENT_TYPES.len(), "no type is listed twice");
    }

    #[test]
    fn the_snake_case_of_a_variant_is_the_type_the_store_keeps() {
        // The first test reads variant names from the source; this one checks that turning them
        // into type names agrees with how events are stored.
        let events = [
            (
                "ChangeRiskAlert",
                DomainEvent::ChangeRiskAlert { risk_class: RiskClass::High, risk_score: None, risk_probability: None },
            ),
            (
                "EmergencyOverdue",
                DomainEvent::EmergencyOverdue { due: Timestamp::from_unix_ms(0), missing: Vec::new() },
            ),
            (
                "LedgerVerified",
                DomainEvent::LedgerVerified {
                    size: 0,
                    ok: false,
                    first_bad_index: None,
                    checkpoints_checked: 0,
                    message: String::new(),
                },
            ),
            ("ChangeFailed", DomainEvent::ChangeFailed { comment: None }),
            ("ChangeRolledBack", DomainEvent::ChangeRolledBack { comment: None, automated: false }),
        ];
        for (variant, event) in events {
            let (event_type, _) = event.to_parts();
            assert_eq!(snake_case(variant), event_type);
            assert!(REACTING_EVENT_TYPES.contains(&event_type.as_str()), "{event_type}");
        }
    }
}
