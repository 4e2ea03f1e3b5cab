//! Alerts: rules, their evaluation, firing once per key, and delivery to webhooks.
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

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use changegate_core::{
    AlertFiringRecord, AlertRuleRecord, ChangeId, ChangeRecord, DomainEvent, EventEnvelope, IncidentId, Name,
    RiskClass, Role, StreamId, Timestamp, check_text,
};
use changegate_store::{AWAITING_LIST_MAX, PAGE_SIZE_MAX, WriteTx};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

use crate::identity::Caller;
use crate::outbound::{self, valid_http_url};
use crate::telemetry::DeliveryResult;
use crate::{Service, ServiceError};

/// Most webhooks one rule posts to.
pub const WEBHOOKS_PER_RULE_MAX: usize = 8;
/// Longest webhook URL.
pub const WEBHOOK_URL_LENGTH_MAX: usize = 2_000;
/// Most alert rules an installation has.
pub const ALERT_RULES_MAX: usize = 200;
/// Longest window or waiting time a rule may name: a year.
pub const RULE_HOURS_MAX: u32 = 24 * 366;
/// Longest subject and key of a firing.
pub const FIRING_KEY_LENGTH_MAX: usize = 200;
/// Longest message of a firing.
pub const FIRING_MESSAGE_LENGTH_MAX: usize = 2_000;
/// Largest JSON of a firing's details.
pub const FIRING_DETAILS_BYTES_MAX: usize = 16 * 1024;
/// Most frameworks a compliance rule names.
pub const FRAMEWORKS_MAX: usize = 32;
/// Deployments a change-failure-rate evaluation looks at (the latest in the window).
pub const RATE_DEPLOYMENTS_MAX: u32 = PAGE_SIZE_MAX;
/// Most firings one approval-overdue sweep appends (the next sweep goes on).
pub const SWEEP_FIRINGS_MAX: usize = 500;

const HOUR_MS: i64 = 60 * 60 * 1000;

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

/// What kind of condition a rule watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    HighRiskChange,
    ChangeFailureRate,
    ApprovalOverdue,
    EmergencyRetrospectiveOverdue,
    ComplianceViolation,
    LedgerVerificationFailed,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::HighRiskChange,
        AlertKind::ChangeFailureRate,
        AlertKind::ApprovalOverdue,
        AlertKind::EmergencyRetrospectiveOverdue,
        AlertKind::ComplianceViolation,
        AlertKind::LedgerVerificationFailed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AlertKind::HighRiskChange => "high_risk_change",
            AlertKind::ChangeFailureRate => "change_failure_rate",
            AlertKind::ApprovalOverdue => "approval_overdue",
            AlertKind::EmergencyRetrospectiveOverdue => "emergency_retrospective_overdue",
            AlertKind::ComplianceViolation => "compliance_violation",
            AlertKind::LedgerVerificationFailed => "ledger_verification_failed",
        }
    }

    /// What fires it and which parameters it takes, for `changegate alerts rules` and the docs.
    pub const fn description(self) -> &'static str {
        match self {
            AlertKind::HighRiskChange => {
                "a change is submitted with a risk class of at least min_class (high by default); once per change"
            }
            AlertKind::ChangeFailureRate => {
                "a service's change failure rate over the last window_hours exceeds threshold (0..1), counting at \
                 least min_deployments deployments; service (optional) limits it to one service; once per service \
                 and window"
            }
            AlertKind::ApprovalOverdue => {
                "a change has waited longer than after_hours for its approval; once per change"
            }
            AlertKind::EmergencyRetrospectiveOverdue => {
                "an emergency change missed its retrospective approval or review deadline; once per change"
            }
            AlertKind::ComplianceViolation => {
                "a compliance check found a violation; frameworks (optional) limits it to those frameworks; once per \
                 violation"
            }
            AlertKind::LedgerVerificationFailed => {
                "a full verification of the audit ledger failed; once per verification"
            }
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::str::FromStr for AlertKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        AlertKind::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| {
            let names: Vec<&str> = AlertKind::ALL.iter().map(|kind| kind.as_str()).collect();
            format!("`{text}` is not an alert kind; use one of: {}", names.join(", "))
        })
    }
}

fn high() -> RiskClass {
    RiskClass::High
}

fn one() -> u32 {
    1
}

/// The condition of a rule, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AlertCondition {
    HighRiskChange {
        #[serde(default = "high")]
        min_class: RiskClass,
    },
    ChangeFailureRate {
        #[serde(default)]
        service: Option<Name>,
        /// A share: 0.25 fires above 25 %.
        threshold: f64,
        window_hours: u32,
        #[serde(default = "one")]
        min_deployments: u32,
    },
    ApprovalOverdue {
        after_hours: u32,
    },
    EmergencyRetrospectiveOverdue {},
    ComplianceViolation {
        #[serde(default)]
        frameworks: Option<Vec<String>>,
    },
    LedgerVerificationFailed {},
}

impl AlertCondition {
    pub fn kind(&self) -> AlertKind {
        match self {
            AlertCondition::HighRiskChange { .. } => AlertKind::HighRiskChange,
            AlertCondition::ChangeFailureRate { .. } => AlertKind::ChangeFailureRate,
            AlertCondition::ApprovalOverdue { .. } => AlertKind::ApprovalOverdue,
            AlertCondition::EmergencyRetrospectiveOverdue {} => AlertKind::EmergencyRetrospectiveOverdue,
            AlertCondition::ComplianceViolation { .. } => AlertKind::ComplianceViolation,
            AlertCondition::LedgerVerificationFailed {} => AlertKind::LedgerVerificationFailed,
        }
    }
}

/// An alert rule: a condition and the webhooks its firings are posted to. Its JSON is the
/// condition's fields with `kind`, plus `webhooks`:
/// `{"kind": "high_risk_change", "min_class": "critical", "webhooks": ["https://hooks.slack.com/…"]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRule {
    pub condition: AlertCondition,
    pub webhooks: Vec<String>,
}

impl AlertRule {
    /// Parses and validates a rule's JSON; every problem is a field error.
    pub fn parse(value: &Value) -> Result<AlertRule, ServiceError> {
        let Some(object) = value.as_object() else {
            return Err(ServiceError::invalid("rule", "a rule is a JSON object with `kind` and `webhooks`"));
        };
        let mut fields = object.clone();
        let webhooks: Vec<String> = match fields.remove("webhooks") {
            None => Vec::new(),
            Some(value) => serde_json::from_value(value)
                .map_err(|_| ServiceError::invalid("webhooks", "a list of http(s) URLs"))?,
        };
        if !fields.contains_key("kind") {
            let kinds: Vec<&str> = AlertKind::ALL.iter().map(|kind| kind.as_str()).collect();
            return Err(ServiceError::invalid("kind", format!("missing; use one of: {}", kinds.join(", "))));
        }
        let condition: AlertCondition = serde_json::from_value(Value::Object(fields))
            .map_err(|error| ServiceError::invalid("rule", error.to_string()))?;
        let rule = AlertRule { condition, webhooks };
        rule.validate()?;
        Ok(rule)
    }

    fn validate(&self) -> Result<(), ServiceError> {
        let mut errors = Vec::new();
        let mut push = |field: &str, message: String| errors.push(changegate_core::FieldError::new(field, message));
        if self.webhooks.len() > WEBHOOKS_PER_RULE_MAX {
            push("webhooks", format!("at most {WEBHOOKS_PER_RULE_MAX} webhooks"));
        }
        for url in &self.webhooks {
            if let Err(message) = valid_http_url(url, WEBHOOK_URL_LENGTH_MAX) {
                push("webhooks", message);
            }
        }
        let hours = |push: &mut dyn FnMut(&str, String), field: &str, value: u32| {
            if value == 0 || value > RULE_HOURS_MAX {
                push(field, format!("must be 1 to {RULE_HOURS_MAX} hours"));
            }
        };
        match &self.condition {
            AlertCondition::HighRiskChange { min_class } if *min_class < RiskClass::High => {
                // The assessment raises its risk alert only for high and critical changes.
                push("min_class", "high or critical".to_owned());
            }
            AlertCondition::ChangeFailureRate { threshold, window_hours, min_deployments, .. } => {
                if !(threshold.is_finite() && *threshold >= 0.0 && *threshold < 1.0) {
                    push("threshold", "a share from 0 up to (not including) 1: 0.25 fires above 25 %".to_owned());
                }
                hours(&mut push, "window_hours", *window_hours);
                if *min_deployments == 0 || *min_deployments > RATE_DEPLOYMENTS_MAX {
                    push("min_deployments", format!("must be 1 to {RATE_DEPLOYMENTS_MAX}"));
                }
            }
            AlertCondition::ApprovalOverdue { after_hours } => hours(&mut push, "after_hours", *after_hours),
            AlertCondition::ComplianceViolation { frameworks: Some(frameworks) } => {
                if frameworks.is_empty() || frameworks.len() > FRAMEWORKS_MAX {
                    push("frameworks", format!("1 to {FRAMEWORKS_MAX} framework names, or leave it out for all"));
                }
                if frameworks.iter().any(|framework| framework.parse::<changegate_compliance::Framework>().is_err()) {
                    let known: Vec<&str> =
                        changegate_compliance::Framework::ALL.iter().map(|framework| framework.id()).collect();
                    push("frameworks", format!("frameworks are {}", known.join(", ")));
                }
            }
            _ => {}
        }
        if errors.is_empty() { Ok(()) } else { Err(ServiceError::Validation(errors)) }
    }

    /// The rule's JSON, with every default written out (what is stored and compared).
    pub fn to_value(&self) -> Value {
        let mut value = serde_json::to_value(&self.condition).expect("conditions serialise");
        if let Some(object) = value.as_object_mut() {
            object.insert("webhooks".to_owned(), json!(self.webhooks));
        }
        value
    }

    /// The condition's parameters as `name=value` pairs, for pages and tables.
    pub fn parameters(&self) -> Vec<(String, String)> {
        let value = serde_json::to_value(&self.condition).expect("conditions serialise");
        value
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, value)| key.as_str() != "kind" && !value.is_null())
            .map(|(key, value)| {
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Array(items) => items
                        .iter()
                        .map(|item| item.as_str().unwrap_or_default().to_owned())
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                (key.clone(), text)
            })
            .collect()
    }
}

/// One delivery: a firing to one webhook.
#[derive(Clone, Debug)]
struct DeliveryJob {
    firing: AlertFiringRecord,
    target: String,
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

/// The compliance checks read every change of the period, so the sweep runs them at most this
/// often for `compliance_violation` rules (a new violation fires within this time).
pub const COMPLIANCE_SWEEP_INTERVAL_MS: i64 = 10 * 60 * 1_000;
/// The period the compliance sweep checks: the default compliance report period.
pub const COMPLIANCE_SWEEP_WINDOW_DAYS: u32 = 90;

/// `change/CHG-000001` → the change id.
pub(crate) fn change_of_stream(stream: &str) -> Option<ChangeId> {
    stream.strip_prefix("change/")?.parse().ok()
}

/// `incident/INC-000001` → the incident id.
pub(crate) fn incident_of_stream(stream: &str) -> Option<IncidentId> {
    stream.strip_prefix("incident/")?.parse().ok()
}

/// The page a firing's subject is shown on.
fn link_path(subject: &str) -> String {
    if let Some(change) = subject.strip_prefix("change/") {
        return format!("/changes/{change}");
    }
    match subject.split('/').next() {
        Some("service") => "/services".to_owned(),
        Some("ledger") => "/ledger".to_owned(),
        _ => "/alerts".to_owned(),
    }
}

/// The JSON posted to a webhook for `firing`: a Slack-compatible one-line `text` and the
/// firing's fields.
pub fn delivery_payload(firing: &AlertFiringRecord, public_url: Option<&str>) -> Value {
    let path = link_path(&firing.subject);
    let link = match public_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => path,
    };
    let mut text = format!("[Changegate] {} (rule {}, {})", firing.message, firing.rule, firing.kind);
    if link.starts_with("http") {
        text.push_str(&format!(" <{link}>"));
    }
    json!({
        "text": text,
        "rule": firing.rule,
        "kind": firing.kind,
        "subject": firing.subject,
        "key": firing.key,
        "message": firing.message,
        "details": firing.details,
        "fired_at": firing.fired_at.to_rfc3339(),
        "sequence": firing.sequence,
        "link": link,
    })
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

    pub async fn alert_rules(&self) -> Result<Vec<AlertRuleRecord>, ServiceError> {
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
        if !caller.has_role(Role::Admin) {
            let reason = "defining an alert rule needs the admin role".to_owned();
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
        if !caller.has_role(Role::Admin) {
            let reason = "removing an alert rule needs the admin role".to_owned();
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
    pub async fn alert_firings(&self, limit: u32) -> Result<Vec<AlertFiringRecord>, ServiceError> {
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

    // --- delivery -------------------------------------------------------------------------------

    async fn enqueue_delivery(&self, job: DeliveryJob) {
        let Some(queue) = self.alerts.queue.get() else {
            tracing::debug!(rule = %job.firing.rule, "no alert delivery worker runs in this process; firing recorded only");
            return;
        };
        match queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job)) => {
                let error =
                    format!("dropped: the delivery queue was full ({} waiting)", self.alerts.settings.queue_depth_max);
                tracing::error!(rule = %job.firing.rule, target = %job.target, "alert delivery {error}");
                self.metrics.record_delivery(DeliveryResult::Dropped);
                self.record_delivery(&job, 0, false, None, Some(error)).await;
            }
        }
    }

    async fn record_delivery(
        &self,
        job: &DeliveryJob,
        attempt: u32,
        ok: bool,
        status: Option<u16>,
        error: Option<String>,
    ) {
        let event = DomainEvent::AlertDelivered {
            fired_sequence: job.firing.sequence,
            target: job.target.clone(),
            attempt,
            ok,
            status,
            error,
        };
        let time = self.now();
        let written = self
            .store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Alerts, "system", time, &event).await?;
                Ok(())
            })
            .await;
        if let Err(error) = written {
            tracing::error!(%error, sequence = job.firing.sequence, "could not record an alert delivery");
        }
    }

    /// Posts one firing to one webhook, up to `delivery_attempts_max` times with backoff,
    /// recording every attempt.
    async fn deliver(&self, job: DeliveryJob) {
        let settings = &self.alerts.settings;
        let payload = delivery_payload(&job.firing, settings.public_url.as_deref());
        let attempts = settings.delivery_attempts_max.max(1);
        for attempt in 1..=attempts {
            let result = outbound::post_json(&job.target, &payload, settings.attempt_timeout_ms).await;
            let error = (!result.ok).then(|| result.detail.clone());
            self.metrics.record_delivery(if result.ok { DeliveryResult::Ok } else { DeliveryResult::Failed });
            self.record_delivery(&job, attempt, result.ok, result.status, error).await;
            if result.ok {
                tracing::info!(rule = %job.firing.rule, target = %job.target, attempt, "alert delivered");
                return;
            }
            tracing::warn!(rule = %job.firing.rule, target = %job.target, attempt, detail = %result.detail, "alert delivery failed");
            if attempt < attempts {
                tokio::time::sleep(Duration::from_millis(settings.backoff_ms(attempt))).await;
            }
        }
    }

    /// The delivery worker: starts the queue and returns the task that drains it (spawn it once
    /// per process). `None` when a worker was started already.
    pub fn alert_delivery_worker(&self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let (sender, mut receiver) = mpsc::channel(self.alerts.settings.queue_depth_max.max(1));
        self.alerts.queue.set(sender).ok()?;
        let service = self.clone();
        let in_flight = Arc::new(Semaphore::new(self.alerts.settings.deliveries_in_flight_max.max(1)));
        Some(async move {
            while let Some(job) = receiver.recv().await {
                let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
                let service = service.clone();
                tokio::spawn(async move {
                    service.deliver(job).await;
                    drop(permit);
                });
            }
        })
    }

    // --- evaluation -----------------------------------------------------------------------------

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
        let interesting = matches!(
            envelope.event_type.as_str(),
            "change_risk_alert"
                | "emergency_overdue"
                | "ledger_verified"
                | "change_failed"
                | "change_rolled_back"
                | "incident_opened"
                | "incident_linked"
        );
        if !interesting {
            return Ok(());
        }
        let event = envelope
            .domain_event()
            .map_err(|error| ServiceError::Conflict(format!("event {} does not parse: {error}", envelope.sequence)))?;
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
                    &format!("change/{id}"),
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
                    &format!("change/{id}"),
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
                    matches!(change.outcome(), Some("failed" | "rolled_back")) || caused.contains(&change.id)
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
                Some(change) => format!("change/{change}"),
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
                &format!("change/{}", change.id),
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
    use super::*;

    #[test]
    fn a_rule_round_trips_with_its_defaults_written_out() {
        // Given a rule that leaves min_class to its default
        let rule =
            AlertRule::parse(&json!({"kind": "high_risk_change", "webhooks": ["https://example.com/hook"]})).unwrap();
        // Then its stored form names it
        assert_eq!(
            rule.to_value(),
            json!({"kind": "high_risk_change", "min_class": "high", "webhooks": ["https://example.com/hook"]})
        );
        assert_eq!(AlertRule::parse(&rule.to_value()).unwrap(), rule);
    }

    #[test]
    fn bad_rules_name_the_field() {
        let cases = [
            (json!({"kind": "nope"}), "rule"),
            (json!({"webhooks": []}), "kind"),
            (json!({"kind": "approval_overdue", "after_hours": 0}), "after_hours"),
            (json!({"kind": "approval_overdue", "after_hours": 4, "extra": 1}), "rule"),
            (json!({"kind": "change_failure_rate", "threshold": 1.5, "window_hours": 24}), "threshold"),
            (json!({"kind": "ledger_verification_failed", "webhooks": ["ftp://x"]}), "webhooks"),
            (json!({"kind": "compliance_violation", "frameworks": ["PCI DSS"]}), "frameworks"),
            (json!({"kind": "high_risk_change", "min_class": "medium"}), "min_class"),
            (json!([1, 2]), "rule"),
        ];
        for (value, field) in cases {
            let error = AlertRule::parse(&value).unwrap_err();
            assert_eq!(error.code(), "validation_failed", "{value}");
            assert_eq!(error.fields()[0].field, field, "{value}: {error}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let settings = AlertSettings { backoff_base_ms: 100, backoff_max_ms: 1_000, ..AlertSettings::default() };
        let waits: Vec<u64> = (1..=6).map(|attempt| settings.backoff_ms(attempt)).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(settings.backoff_ms(200), 1_000);
    }

    #[test]
    fn the_payload_carries_a_slack_text_and_an_absolute_link_when_the_url_is_known() {
        let firing = AlertFiringRecord {
            sequence: 9,
            rule: Name::parse("risky").unwrap(),
            kind: "high_risk_change".into(),
            subject: "change/CHG-000003".into(),
            key: "CHG-000003".into(),
            message: "High-risk change CHG-000003 submitted".into(),
            details: json!({}),
            fired_at: Timestamp::from_unix_ms(0),
            deliveries: Vec::new(),
        };
        let payload = delivery_payload(&firing, Some("https://cg.example.com/"));
        assert_eq!(payload["link"], "https://cg.example.com/changes/CHG-000003");
        assert!(payload["text"].as_str().unwrap().starts_with("[Changegate] High-risk change CHG-000003"));
        assert_eq!(delivery_payload(&firing, None)["link"], "/changes/CHG-000003");
    }
}
