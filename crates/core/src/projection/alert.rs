//! The alert records: rules as last defined, and their firings with every delivery attempt.
//!
//! Why a room of its own: alerts have their own streams and their records are read by the alert
//! pages and the engine only.

use serde::{Deserialize, Serialize};

use crate::domain::Name;
use crate::event::DomainEvent;
use crate::time::Timestamp;

/// An alert rule, as last defined. `rule` is the alert engine's JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleRecord {
    pub name: Name,
    pub rule: serde_json::Value,
    pub defined_by: String,
    pub updated_at: Timestamp,
}

impl AlertRuleRecord {
    /// The record an `alert_rule_defined` event leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::AlertRuleDefined { name, rule } = event else { return None };
        Some(AlertRuleRecord { name: name.clone(), rule: rule.clone(), defined_by: actor.to_owned(), updated_at: time })
    }
}

/// One firing of an alert rule and its delivery attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertFiringRecord {
    /// The ledger sequence of the `alert_fired` event.
    pub sequence: u64,
    pub rule: Name,
    pub kind: String,
    pub subject: String,
    pub key: String,
    pub message: String,
    pub details: serde_json::Value,
    pub fired_at: Timestamp,
    pub deliveries: Vec<AlertDeliveryRecord>,
}

/// One delivery attempt of a firing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertDeliveryRecord {
    pub target: String,
    pub attempt: u32,
    pub ok: bool,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub at: Timestamp,
}

impl AlertFiringRecord {
    /// The record an `alert_fired` event at `sequence` leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, sequence: u64, time: Timestamp) -> Option<Self> {
        let DomainEvent::AlertFired { rule, kind, subject, key, message, details } = event else { return None };
        Some(AlertFiringRecord {
            sequence,
            rule: rule.clone(),
            kind: kind.clone(),
            subject: subject.clone(),
            key: key.clone(),
            message: message.clone(),
            details: details.clone(),
            fired_at: time,
            deliveries: Vec::new(),
        })
    }

    /// Records an `alert_delivered` event for this firing.
    pub fn apply(&mut self, event: &DomainEvent, time: Timestamp) {
        if let DomainEvent::AlertDelivered { target, attempt, ok, status, error, .. } = event {
            self.deliveries.push(AlertDeliveryRecord {
                target: target.clone(),
                attempt: *attempt,
                ok: *ok,
                status: *status,
                error: error.clone(),
                at: time,
            });
        }
    }

    /// Whether some delivery of this firing succeeded.
    pub fn delivered(&self) -> bool {
        self.deliveries.iter().any(|delivery| delivery.ok)
    }
}
