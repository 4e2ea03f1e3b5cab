//! Alerts: rules, their evaluation, firing once per key, and delivery to webhooks.
//!
//! The rooms: `rule` holds the rules, their typed conditions and validation; `engine` reacts
//! to events after a cursor and sweeps the time-based rules; `delivery` is the bounded queue
//! that posts firings to webhooks with retries. This module keeps what they share: the settings,
//! the runtime state a service carries, the rule commands and the firing door.
//!
//! What it owns and why it is shaped this way:
//! - Rules are ledger events (`alert_rule_defined`/`removed`); their JSON is [`AlertRule`], a
//!   typed condition plus webhooks, validated before anything is written. A rules file given to
//!   `serve` redefines a rule only when it differs from the stored one, so restarts add nothing.
//! - Evaluation reacts to events: [`Service::react_to_events`] reads the log after a cursor (the
//!   server starts it at the head, so old history never fires) and fires the rules an event
//!   concerns; [`Service::sweep_alerts`] looks for time-based conditions (approvals overdue).
//!   Nothing is stored but the firings themselves.
//! - A rule fires once per key (`UNIQUE(rule, firing_key)`); the check and the append happen in
//!   one write transaction, which holds the ledger head lock, so two instances reacting to the
//!   same event fire once between them. [`Service::fire_alert`] is the door for other features
//!   (compliance violations).
//! - Delivery is in-process and bounded: the instance that appended a firing queues one job per
//!   webhook; a worker POSTs each with a time limit, up to `delivery_attempts_max` times with
//!   exponential backoff, recording every attempt as `alert_delivered`. When the queue is full
//!   the job is dropped and the drop is recorded (an `alert_delivered` with attempt 0), so the
//!   firing path never waits for a slow webhook. Jobs waiting in memory are lost if the process
//!   stops; the alerts page shows such a firing as undelivered.

mod delivery;
mod engine;
mod rule;

pub use delivery::delivery_payload;
pub use engine::{COMPLIANCE_SWEEP_INTERVAL_MS, COMPLIANCE_SWEEP_WINDOW_DAYS, SWEEP_FIRINGS_MAX};
pub use rule::{
    AlertCondition, AlertKind, AlertRule, FRAMEWORKS_MAX, RATE_DEPLOYMENTS_MAX, RULE_HOURS_MAX, WEBHOOK_URL_LENGTH_MAX,
    WEBHOOKS_PER_RULE_MAX,
};

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use changegate_core::{AlertFiringRecord, AlertRuleRecord, DomainEvent, Name, StreamId, check_text};
use changegate_store::WriteTx;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::identity::Caller;
use crate::{Permission, Service, ServiceError};

use self::delivery::DeliveryJob;

/// Most alert rules an installation has.
pub const ALERT_RULES_MAX: usize = 200;
/// Longest subject and key of a firing.
pub const FIRING_KEY_LENGTH_MAX: usize = 200;
/// Longest message of a firing.
pub const FIRING_MESSAGE_LENGTH_MAX: usize = 2_000;
/// Largest JSON of a firing's details.
pub const FIRING_DETAILS_BYTES_MAX: usize = 16 * 1024;

/// How alerts are evaluated and delivered.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertSettings {
    /// Attempts per webhook, the first included.
    pub delivery_attempts_max: u32,
    /// Wait before the second attempt; it doubles for each later one…
    pub backoff_base_ms: u64,
    /// …up to this.
    pub backoff_max_ms: u64,
    /// Time limit of one delivery attempt.
    pub attempt_timeout_ms: u64,
    /// Delivery jobs waiting at most; beyond it a job is dropped and the drop recorded.
    pub queue_depth_max: usize,
    /// Deliveries running at once.
    pub deliveries_in_flight_max: usize,
    /// Events read per evaluation step.
    pub events_per_step_max: u32,
    /// How often the engine reads new events.
    pub poll_interval_ms: u64,
    /// How often the time-based rules are swept.
    pub sweep_interval_ms: u64,
    /// Time limit of one rollback hook run (webhook or command).
    pub rollback_timeout_ms: u64,
    /// The server's public base URL (`https://changegate.example.com`), for links in payloads;
    /// links are paths without it.
    pub public_url: Option<String>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            delivery_attempts_max: 5,
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
            attempt_timeout_ms: 10_000,
            queue_depth_max: 1_024,
            deliveries_in_flight_max: 16,
            events_per_step_max: 1_000,
            poll_interval_ms: 1_000,
            sweep_interval_ms: 60_000,
            rollback_timeout_ms: 10_000,
            public_url: None,
        }
    }
}

impl AlertSettings {
    /// The wait after failed attempt `attempt` (1-based): base × 2^(attempt − 1), capped.
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let factor = 1u64.checked_shl(attempt.saturating_sub(1)).unwrap_or(u64::MAX);
        self.backoff_base_ms.saturating_mul(factor).min(self.backoff_max_ms)
    }
}

/// The alert state a service carries: its settings and, once the delivery worker runs, the
/// sender of its queue.
pub(crate) struct AlertRuntime {
    pub(crate) settings: AlertSettings,
    queue: OnceLock<mpsc::Sender<DeliveryJob>>,
    /// When the compliance checks last ran for `compliance_violation` rules (Unix ms; 0: never).
    compliance_checked_at_ms: std::sync::atomic::AtomicI64,
}

impl AlertRuntime {
    pub(crate) fn new(settings: AlertSettings) -> Self {
        AlertRuntime {
            settings,
            queue: OnceLock::new(),
            compliance_checked_at_ms: std::sync::atomic::AtomicI64::new(0),
        }
    }
}

impl Service {
    pub fn alert_settings(&self) -> &AlertSettings {
        &self.alerts.settings
    }

    /// Replaces the alert settings. Call before the delivery worker starts.
    pub fn with_alert_settings(mut self, settings: AlertSettings) -> Self {
        self.alerts = Arc::new(AlertRuntime::new(settings));
        self
    }

    // --- rules ----------------------------------------------------------------------------------

    pub async fn alert_rules(&self, _caller: &Caller) -> Result<Vec<AlertRuleRecord>, ServiceError> {
        Ok(self.store().alert_rules().await?)
    }

    /// The stored rules that parse, with their names (a rule that no longer parses is logged and
    /// skipped: it cannot fire).
    async fn parsed_alert_rules(&self) -> Result<Vec<(Name, AlertRule)>, ServiceError> {
        let records = self.store().alert_rules().await?;
        Ok(records
            .into_iter()
            .filter_map(|record| match AlertRule::parse(&record.rule) {
                Ok(rule) => Some((record.name, rule)),
                Err(error) => {
                    tracing::error!(rule = %record.name, %error, "a stored alert rule does not parse; it cannot fire");
                    None
                }
            })
            .collect())
    }

    /// Defines or redefines the alert rule `name` (admin). The rule is validated first; a bad
    /// rule writes nothing.
    pub async fn define_alert_rule(
        &self,
        caller: &Caller,
        name: &str,
        rule: &Value,
    ) -> Result<AlertRuleRecord, ServiceError> {
        if !caller.may(Permission::ManageAlerts) {
            let reason = format!("defining an alert rule needs {}", Permission::ManageAlerts.roles_text());
            return Err(self.refuse(caller, "define_alert_rule", &format!("alert-rule/{name}"), reason).await);
        }
        let name = Name::parse(name).map_err(|message| ServiceError::invalid("name", message))?;
        let rule = AlertRule::parse(rule)?;
        let existing = self.store().alert_rules().await?;
        if existing.len() >= ALERT_RULES_MAX && !existing.iter().any(|record| record.name == name) {
            return Err(ServiceError::Conflict(format!(
                "there are {ALERT_RULES_MAX} alert rules already; remove one first"
            )));
        }
        let event = DomainEvent::AlertRuleDefined { name: name.clone(), rule: rule.to_value() };
        let time = self.now();
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::AlertRule(name.clone()), caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        tracing::info!(actor = %caller.name(), rule = %name, kind = %rule.condition.kind(), "alert rule defined");
        self.store()
            .alert_rules()
            .await?
            .into_iter()
            .find(|record| record.name == name)
            .ok_or_else(|| ServiceError::NotFound(format!("alert rule {name}")))
    }

    /// Removes the alert rule `name` (admin). Its firings stay in the log.
    pub async fn remove_alert_rule(&self, caller: &Caller, name: &str) -> Result<(), ServiceError> {
        if !caller.may(Permission::ManageAlerts) {
            let reason = format!("removing an alert rule needs {}", Permission::ManageAlerts.roles_text());
            return Err(self.refuse(caller, "remove_alert_rule", &format!("alert-rule/{name}"), reason).await);
        }
        let name = Name::parse(name).map_err(|message| ServiceError::invalid("name", message))?;
        if !self.store().alert_rules().await?.iter().any(|record| record.name == name) {
            return Err(ServiceError::NotFound(format!("alert rule {name}")));
        }
        let time = self.now();
        let event = DomainEvent::AlertRuleRemoved { name: name.clone() };
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::AlertRule(name.clone()), caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Defines the rules of a configuration file (`serve --alert-rules`), as the actor `system`.
    /// Every rule is validated before any is written (a bad file changes nothing); a rule is
    /// written only when it differs from the stored one, so loading the same file again appends
    /// nothing. Rules missing from the file are left as they are. Returns the names written.
    pub async fn load_alert_rules(&self, rules: &BTreeMap<String, Value>) -> Result<Vec<Name>, ServiceError> {
        if rules.len() > ALERT_RULES_MAX {
            return Err(ServiceError::invalid("rules", format!("at most {ALERT_RULES_MAX} rules")));
        }
        let mut parsed = Vec::with_capacity(rules.len());
        for (name, value) in rules {
            let named = |error: ServiceError| match error {
                ServiceError::Validation(fields) => ServiceError::Validation(
                    fields
                        .into_iter()
                        .map(|field| changegate_core::FieldError::new(format!("{name}.{}", field.field), field.message))
                        .collect(),
                ),
                other => other,
            };
            let parsed_name = Name::parse(name).map_err(|message| ServiceError::invalid(name, message))?;
            parsed.push((parsed_name, AlertRule::parse(value).map_err(named)?.to_value()));
        }
        let stored: BTreeMap<Name, Value> =
            self.store().alert_rules().await?.into_iter().map(|record| (record.name, record.rule)).collect();
        let changed: Vec<(Name, Value)> =
            parsed.into_iter().filter(|(name, value)| stored.get(name) != Some(value)).collect();
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let time = self.now();
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                for (name, rule) in &changed {
                    let event = DomainEvent::AlertRuleDefined { name: name.clone(), rule: rule.clone() };
                    tx.append(&StreamId::AlertRule(name.clone()), "system", time, &event).await?;
                }
                Ok(())
            })
            .await?;
        Ok(changed.into_iter().map(|(name, _)| name).collect())
    }

    /// Firings with their deliveries, newest first.
    pub async fn alert_firings(&self, _caller: &Caller, limit: u32) -> Result<Vec<AlertFiringRecord>, ServiceError> {
        Ok(self.store().alert_firings(limit).await?)
    }

    // --- firing ---------------------------------------------------------------------------------

    /// Fires every rule of `kind` for `key`, once per rule and key: a rule that already fired for
    /// the key is skipped. `subject` names what the alert is about (`change/CHG-000001`,
    /// `service/payments-api`, `ledger`, …), `details` is a JSON object. For
    /// `compliance_violation` rules that name frameworks, only those whose list holds
    /// `details.framework` fire. Returns the new firings; their deliveries are queued.
    pub async fn fire_alert(
        &self,
        kind: AlertKind,
        subject: &str,
        key: &str,
        message: &str,
        details: Value,
    ) -> Result<Vec<AlertFiringRecord>, ServiceError> {
        let mut errors = Vec::new();
        for (field, text) in [("subject", subject), ("key", key)] {
            if text.trim().is_empty() || text.len() > FIRING_KEY_LENGTH_MAX {
                errors
                    .push(changegate_core::FieldError::new(field, format!("1 to {FIRING_KEY_LENGTH_MAX} characters")));
            }
        }
        if message.trim().is_empty() {
            errors.push(changegate_core::FieldError::new("message", "must not be empty"));
        }
        if let Err(changegate_core::DomainError::Validation(mut found)) =
            check_text("message", message, FIRING_MESSAGE_LENGTH_MAX)
        {
            errors.append(&mut found);
        }
        if !details.is_object() && !details.is_null() {
            errors.push(changegate_core::FieldError::new("details", "a JSON object"));
        } else if details.to_string().len() > FIRING_DETAILS_BYTES_MAX {
            errors
                .push(changegate_core::FieldError::new("details", format!("at most {FIRING_DETAILS_BYTES_MAX} bytes")));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let framework = details.get("framework").and_then(Value::as_str).map(str::to_owned);
        let rules: Vec<Name> = self
            .parsed_alert_rules()
            .await?
            .into_iter()
            .filter(|(_, rule)| rule.condition.kind() == kind)
            .filter(|(_, rule)| match &rule.condition {
                AlertCondition::ComplianceViolation { frameworks: Some(frameworks) } => {
                    framework.as_ref().is_some_and(|framework| frameworks.contains(framework))
                }
                _ => true,
            })
            .map(|(name, _)| name)
            .collect();
        self.fire_rules(&rules, kind, subject, key, message, details).await
    }

    /// Appends a firing of each of `rules` that did not fire for `key` yet (one transaction),
    /// then queues their deliveries.
    async fn fire_rules(
        &self,
        rules: &[Name],
        kind: AlertKind,
        subject: &str,
        key: &str,
        message: &str,
        details: Value,
    ) -> Result<Vec<AlertFiringRecord>, ServiceError> {
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        // Skip the write when every rule fired already (the common case for repeated triggers).
        let mut pending = Vec::new();
        for rule in rules {
            if self.store().alert_firing(rule, key).await?.is_none() {
                pending.push(rule.clone());
            }
        }
        if pending.is_empty() {
            return Ok(Vec::new());
        }
        let details = if details.is_null() { json!({}) } else { details };
        let time = self.now();
        let fired = self
            .store()
            .write(async |tx: &mut WriteTx| -> Result<Vec<AlertFiringRecord>, ServiceError> {
                let mut fired = Vec::new();
                for rule in &pending {
                    // Again inside the transaction: another instance may have fired it meanwhile.
                    if tx.alert_fired(rule, key).await? {
                        continue;
                    }
                    let event = DomainEvent::AlertFired {
                        rule: rule.clone(),
                        kind: kind.as_str().to_owned(),
                        subject: subject.to_owned(),
                        key: key.to_owned(),
                        message: message.to_owned(),
                        details: details.clone(),
                    };
                    let envelope = tx.append(&StreamId::Alerts, "system", time, &event).await?;
                    if let Some(record) = AlertFiringRecord::from_event(&event, envelope.sequence, time) {
                        fired.push(record);
                    }
                }
                Ok(fired)
            })
            .await?;
        let stored = self.store().alert_rules().await?;
        for firing in &fired {
            self.metrics.record_firing();
            tracing::warn!(rule = %firing.rule, kind = %firing.kind, subject = %firing.subject, key = %firing.key, "alert fired");
            let webhooks = stored
                .iter()
                .find(|record| record.name == firing.rule)
                .and_then(|record| AlertRule::parse(&record.rule).ok())
                .map(|rule| rule.webhooks)
                .unwrap_or_default();
            for target in webhooks {
                self.enqueue_delivery(DeliveryJob { firing: firing.clone(), target }).await;
            }
        }
        Ok(fired)
    }
}
