//! The calendar's one error type, with a stable machine-readable code per variant.
//!
//! Kept apart from the types so that the codes, which the API and the CLI show to people and
//! scripts, are listed in one place and never change once shipped.

use thiserror::Error;

/// Why a window was refused or could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// A field of the window (name, scope, description, one-off span) is out of bounds.
    #[error("invalid window: {reason}")]
    InvalidWindow { reason: String },
    /// `duration_minutes` of a recurring window is outside `1..=DURATION_MAX_MINUTES`.
    #[error("invalid duration: {duration_minutes} minutes (allowed: 1 to {maximum_minutes})")]
    InvalidDuration { duration_minutes: u32, maximum_minutes: u32 },
    /// The recurrence rule (RRULE text or cron expression) could not be parsed or never occurs.
    #[error("invalid rule: {reason}")]
    InvalidRule { reason: String },
    /// The time zone is not an IANA name known to the compiled-in tz database.
    #[error("unknown time zone `{time_zone}` (use an IANA name such as `Europe/Berlin`)")]
    UnknownTimeZone { time_zone: String },
    /// Expanding the rule over the asked range would look at more than
    /// `SCANNED_OCCURRENCES_MAX` occurrences (a frequent rule with a DTSTART far in the past).
    #[error("the rule has more than {scanned_maximum} occurrences before the asked range; move its DTSTART closer")]
    RuleTooExpensive { scanned_maximum: u32 },
}

impl CalendarError {
    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::InvalidWindow { .. } => "invalid_window",
            CalendarError::InvalidDuration { .. } => "invalid_duration",
            CalendarError::InvalidRule { .. } => "invalid_rule",
            CalendarError::UnknownTimeZone { .. } => "unknown_time_zone",
            CalendarError::RuleTooExpensive { .. } => "rule_too_expensive",
        }
    }

    pub(crate) fn invalid_window(reason: impl Into<String>) -> Self {
        CalendarError::InvalidWindow { reason: reason.into() }
    }

    pub(crate) fn invalid_rule(reason: impl Into<String>) -> Self {
        CalendarError::InvalidRule { reason: reason.into() }
    }
}
