//! Alert rules: what a rule watches (its typed condition), the webhooks it posts to, and the
//! validation every rule passes before it is written.
//!
//! Why a room of its own: a rule is data with a JSON form that is stored in the ledger, shown on
//! pages and compared on reload; none of that needs the store or the engine, so it stays apart
//! from both.

use changegate_core::{Name, RiskClass};
use changegate_store::PAGE_SIZE_MAX;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ServiceError;
use crate::outbound::valid_http_url;

/// Most webhooks one rule posts to.
pub const WEBHOOKS_PER_RULE_MAX: usize = 8;
/// Longest webhook URL.
pub const WEBHOOK_URL_LENGTH_MAX: usize = 2_000;
/// Longest window or waiting time a rule may name: a year.
pub const RULE_HOURS_MAX: u32 = 24 * 366;
/// Most frameworks a compliance rule names.
pub const FRAMEWORKS_MAX: usize = 32;
/// Deployments a change-failure-rate evaluation looks at (the latest in the window).
pub const RATE_DEPLOYMENTS_MAX: u32 = PAGE_SIZE_MAX;

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
}
