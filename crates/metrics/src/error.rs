//! The one error type of the crate: a fact or a query that breaks a documented limit.
//!
//! Metrics never fail on valid input; every error here names the limit that was broken, so the
//! service layer can turn it into a 400 answer without guessing.

use thiserror::Error;

use crate::facts::{
    DOWNTIME_MAX_MINUTES, NAME_LENGTH_MAX_BYTES, NAMES_MAX, PRODUCTION_ENVIRONMENTS_MAX, RISK_SCORE_MAX, TIME_MAX_MS,
    TIME_MIN_MS, TRACKED_DEPLOYMENTS_MAX, TRACKED_INCIDENTS_MAX,
};
use crate::report::PERIOD_LENGTH_MAX_DAYS;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum MetricsError {
    #[error("a name must not be empty")]
    NameEmpty,
    #[error("a name is {length_bytes} bytes long; the limit is {NAME_LENGTH_MAX_BYTES}")]
    NameTooLong { length_bytes: usize },
    #[error("the index holds {NAMES_MAX} names already")]
    TooManyNames,
    #[error("name id {id} was not interned by this index")]
    UnknownNameId { id: u32 },
    #[error("{field} is {value_ms} ms, outside {TIME_MIN_MS}..={TIME_MAX_MS}")]
    TimeOutOfRange { field: &'static str, value_ms: i64 },
    #[error("risk score {score} is above {RISK_SCORE_MAX}")]
    RiskScoreTooHigh { score: u8 },
    #[error("downtime of {minutes} minutes is above {DOWNTIME_MAX_MINUTES}")]
    DowntimeTooLong { minutes: u32 },
    #[error("the index tracks {TRACKED_DEPLOYMENTS_MAX} deployments already")]
    TooManyDeployments,
    #[error("the index tracks {TRACKED_INCIDENTS_MAX} incidents already")]
    TooManyIncidents,
    #[error("{count} production environment names configured; the limit is {PRODUCTION_ENVIRONMENTS_MAX}")]
    TooManyProductionEnvironments { count: usize },
    #[error("the period starts at {from_ms} ms, after its end at {to_ms} ms")]
    PeriodReversed { from_ms: i64, to_ms: i64 },
    #[error("the period is longer than {PERIOD_LENGTH_MAX_DAYS} days")]
    PeriodTooLong,
}
