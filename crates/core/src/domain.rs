//! Domain vocabulary: identifiers, roles, change types and states, tiers and validated names.
//!
//! Preconditions live in the types ("parse, don't validate"): a [`Name`] is always a valid slug,
//! a [`Tier`] is always 1–4, a [`ChangeId`] always prints as `CHG-000001`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::DomainError;

/// Longest name (team, service, user, environment, scope) we accept.
pub const NAME_LENGTH_MAX: usize = 64;
/// Longest change title.
pub const TITLE_LENGTH_MAX: usize = 200;
/// Longest free text (description, plans, comments).
pub const TEXT_LENGTH_MAX: usize = 20_000;
/// Most links, scopes or dependencies on one record.
pub const LIST_LENGTH_MAX: usize = 64;

/// A lowercase slug: `[a-z0-9][a-z0-9._-]*`, at most [`NAME_LENGTH_MAX`] bytes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid_start = text.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let valid_rest =
            text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        if text.len() > NAME_LENGTH_MAX {
            return Err(format!("must be at most {NAME_LENGTH_MAX} characters"));
        }
        if !valid_start || !valid_rest {
            return Err(format!(
                "`{text}` is not a valid name: use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit"
            ));
        }
        Ok(Name(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Name::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Defines a numbered identifier printed with a fixed prefix and six digits.
macro_rules! numbered_id {
    ($type_name:ident, $prefix:literal) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $type_name(u64);

        impl $type_name {
            pub const PREFIX: &'static str = $prefix;

            pub const fn new(number: u64) -> Self {
                $type_name(number)
            }

            pub const fn number(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $type_name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "{}-{:06}", $prefix, self.0)
            }
        }

        impl FromStr for $type_name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                let digits = text
                    .strip_prefix(concat!($prefix, "-"))
                    .ok_or_else(|| format!("`{text}` is not a {} id like {}-000001", $prefix, $prefix))?;
                let number: u64 =
                    digits.parse().map_err(|_| format!("`{text}` is not a {} id like {}-000001", $prefix, $prefix))?;
                if number == 0 || digits.len() < 6 {
                    return Err(format!("`{text}` is not a {} id like {}-000001", $prefix, $prefix));
                }
                Ok($type_name(number))
            }
        }

        impl Serialize for $type_name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type_name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

numbered_id!(ChangeId, "CHG");
numbered_id!(IncidentId, "INC");

/// Defines a closed set of lowercase names with parsing, display and serde.
macro_rules! word_enum {
    ($(#[$meta:meta])* $type_name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $type_name { $($variant),+ }

        impl $type_name {
            pub const ALL: &'static [$type_name] = &[$($type_name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($type_name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $type_name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl FromStr for $type_name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($type_name::$variant),)+
                    _ => Err(format!(
                        "`{text}` is not one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl Serialize for $type_name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $type_name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

word_enum!(
    /// What a user may do. A user holds one or more roles.
    Role {
        Requester => "requester",
        Approver => "approver",
        Security => "security",
        Cab => "cab",
        Auditor => "auditor",
        Admin => "admin",
    }
);

word_enum!(
    /// How a change is governed: `standard` comes from a pre-approved template, `normal` goes
    /// through assessment and approval, `emergency` may be implemented before approval.
    ChangeType {
        Standard => "standard",
        Normal => "normal",
        Emergency => "emergency",
    }
);

word_enum!(
    /// Where a change is in its lifecycle (see `lifecycle` for the allowed moves).
    ChangeState {
        Draft => "draft",
        Submitted => "submitted",
        Assessed => "assessed",
        Approved => "approved",
        Rejected => "rejected",
        Scheduled => "scheduled",
        Implementing => "implementing",
        Implemented => "implemented",
        Verified => "verified",
        Failed => "failed",
        RolledBack => "rolled_back",
        Closed => "closed",
        Cancelled => "cancelled",
    }
);

impl ChangeState {
    /// A terminal state accepts no further action.
    pub const fn is_terminal(self) -> bool {
        matches!(self, ChangeState::Rejected | ChangeState::Closed | ChangeState::Cancelled)
    }

    /// Submitted and not yet running: its planned window may still clash with other planned
    /// work, so conflicts matter (once it runs or ends they no longer do).
    pub const fn is_planned(self) -> bool {
        matches!(self, ChangeState::Submitted | ChangeState::Assessed | ChangeState::Approved | ChangeState::Scheduled)
    }
}

word_enum!(
    /// How a finished change ended, as its record shows (see `ChangeRecord::outcome`).
    ChangeOutcome {
        Successful => "successful",
        Failed => "failed",
        RolledBack => "rolled_back",
        Rejected => "rejected",
        Cancelled => "cancelled",
    }
);

impl ChangeOutcome {
    /// It reached its environment: successful, failed or rolled back (not refused or withdrawn).
    pub const fn was_deployed(self) -> bool {
        matches!(self, ChangeOutcome::Successful | ChangeOutcome::Failed | ChangeOutcome::RolledBack)
    }

    /// Deployed and then failed or undone: a failed deployment in DORA's sense.
    pub const fn is_failure(self) -> bool {
        matches!(self, ChangeOutcome::Failed | ChangeOutcome::RolledBack)
    }
}

word_enum!(
    /// The risk class an assessment assigns.
    RiskClass {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

word_enum!(
    /// How bad an incident is; `sev1` is the worst.
    Severity {
        Sev1 => "sev1",
        Sev2 => "sev2",
        Sev3 => "sev3",
        Sev4 => "sev4",
    }
);

word_enum!(
    /// How an imported change was approved: by a rule, by people, or not at all.
    ApprovalMode {
        Auto => "auto",
        Manual => "manual",
        None => "none",
    }
);

word_enum!(
    /// Who raised a change: a CI/CD pipeline or a person.
    CreatedBy {
        Pipeline => "pipeline",
        Manual => "manual",
    }
);

word_enum!(
    /// How an imported change ended, as the source system recorded it.
    ImportedOutcome {
        Success => "success",
        Failed => "failed",
        RolledBack => "rolled_back",
        Cancelled => "cancelled",
    }
);

word_enum!(
    /// Where the link from an incident to the change that caused it comes from. Only `explicit`
    /// (given by a person or an import) and `confirmed` (a suggestion a person accepted) count in
    /// metrics; `suggested` is the attribution rule's guess, waiting for a person.
    LinkProvenance {
        Explicit => "explicit",
        Confirmed => "confirmed",
        Suggested => "suggested",
    }
);

impl Severity {
    /// The severity as a number 1–4 (1 is the worst).
    pub const fn level(self) -> u8 {
        match self {
            Severity::Sev1 => 1,
            Severity::Sev2 => 2,
            Severity::Sev3 => 3,
            Severity::Sev4 => 4,
        }
    }

    pub fn from_level(level: i64) -> Result<Self, String> {
        match level {
            1 => Ok(Severity::Sev1),
            2 => Ok(Severity::Sev2),
            3 => Ok(Severity::Sev3),
            4 => Ok(Severity::Sev4),
            _ => Err(format!("severity must be 1, 2, 3 or 4, not {level}")),
        }
    }
}

impl RiskClass {
    /// The class of a 0–100 risk score, for records that carry a score but no class
    /// (the same bands as the factor score: below 25 low, below 50 medium, below 75 high).
    pub const fn of_score(score: u32) -> RiskClass {
        match score {
            0..25 => RiskClass::Low,
            25..50 => RiskClass::Medium,
            50..75 => RiskClass::High,
            _ => RiskClass::Critical,
        }
    }
}

/// The environments that are production. Metrics, attribution, compliance and maturity count
/// only production deployments, and all of them ask here.
pub const PRODUCTION_ENVIRONMENTS: &[&str] = &["production", "prod"];

/// Whether an environment is production (one of [`PRODUCTION_ENVIRONMENTS`]).
pub fn is_production(environment: &str) -> bool {
    PRODUCTION_ENVIRONMENTS.contains(&environment)
}

/// Criticality tier of a service: 1 is the most critical, 4 the least.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Tier(u8);

impl Tier {
    pub fn new(value: i64) -> Result<Self, String> {
        if (1..=4).contains(&value) {
            Ok(Tier(value as u8))
        } else {
            Err(format!("tier must be 1, 2, 3 or 4, not {value}"))
        }
    }

    pub const fn value(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Tier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        Tier::new(value).map_err(serde::de::Error::custom)
    }
}

/// Validates free text: trims nothing, refuses control characters other than newlines and tabs.
pub fn check_text(field: &str, text: &str, length_max: usize) -> Result<(), DomainError> {
    if text.chars().count() > length_max {
        return Err(DomainError::invalid(field, format!("must be at most {length_max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(DomainError::invalid(field, "must not contain control characters"));
    }
    Ok(())
}

/// Longest link (to a ticket, a pull request, a pipeline run) a change records.
pub const LINK_LENGTH_MAX: usize = 2_000;

/// URL schemes a browser runs or embeds instead of navigating to: a page that shows a change's
/// links as `href`s must never carry one.
const LINK_SCHEMES_REFUSED: [&str; 5] = ["javascript", "data", "vbscript", "file", "blob"];

/// A link a change records (`links`, `pipeline_url`): 1 to [`LINK_LENGTH_MAX`] bytes, no
/// whitespace or control characters, and no scheme a browser would run (`javascript:`, `data:`, …).
/// A plain reference such as `PROJ-123` is a link too.
pub fn check_link(text: &str) -> Result<(), String> {
    if text.is_empty() || text.len() > LINK_LENGTH_MAX || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("1 to {LINK_LENGTH_MAX} characters without spaces or control characters"));
    }
    if let Some((scheme, _)) = text.split_once(':')
        && LINK_SCHEMES_REFUSED.iter().any(|refused| scheme.eq_ignore_ascii_case(refused))
    {
        return Err(format!("`{scheme}:` links are refused: give an http(s) address or a reference"));
    }
    Ok(())
}

/// Whether any string in a JSON value (keys included) holds a control character.
pub fn json_has_control_characters(value: &serde_json::Value) -> bool {
    let has = |text: &str| text.chars().any(char::is_control);
    match value {
        serde_json::Value::String(text) => has(text),
        serde_json::Value::Array(items) => items.iter().any(json_has_control_characters),
        serde_json::Value::Object(entries) => {
            entries.iter().any(|(key, item)| has(key) || json_has_control_characters(item))
        }
        _ => false,
    }
}

/// A new assessment starts from low risk (used as the default of builders).
impl Default for RiskClass {
    fn default() -> Self {
        RiskClass::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_refuse_spaces_control_characters_and_scripts() {
        for good in ["https://ci.example.com/runs/981", "PROJ-123", "http://x/a?b=c:d", "mailto:ops@example.com"] {
            assert_eq!(check_link(good), Ok(()), "{good}");
        }
        for bad in
            ["", "a b", "a\u{0}b", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>", "vbscript:x"]
        {
            assert!(check_link(bad).is_err(), "{bad:?}");
        }
        assert!(check_link(&"x".repeat(LINK_LENGTH_MAX + 1)).is_err());
        assert!(json_has_control_characters(&serde_json::json!({"la": "x\u{1}"})));
        assert!(json_has_control_characters(&serde_json::json!({"l\u{0}a": 1})));
        assert!(!json_has_control_characters(&serde_json::json!({"la": ["fine", 3]})));
    }

    #[test]
    fn change_ids_print_and_parse() {
        assert_eq!(ChangeId::new(42).to_string(), "CHG-000042");
        assert_eq!("CHG-000042".parse::<ChangeId>(), Ok(ChangeId::new(42)));
        assert_eq!("CHG-1234567".parse::<ChangeId>(), Ok(ChangeId::new(1_234_567)));
        assert!("CHG-42".parse::<ChangeId>().is_err());
        assert!("CHG-000000".parse::<ChangeId>().is_err());
        assert!("INC-000001".parse::<ChangeId>().is_err());
    }

    #[test]
    fn names_are_slugs() {
        assert!(Name::parse("payments-api").is_ok());
        assert!(Name::parse("Payments").is_err());
        assert!(Name::parse("-x").is_err());
        assert!(Name::parse("").is_err());
        assert!(Name::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn tiers_are_one_to_four() {
        assert!(Tier::new(0).is_err());
        assert_eq!(Tier::new(4).map(Tier::value), Ok(4));
        assert!(Tier::new(5).is_err());
    }
}
