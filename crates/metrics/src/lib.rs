//! Changegate's delivery metrics: DORA's five (deployment frequency, lead time for changes,
//! change failure rate, failed-deployment recovery time, deployment rework rate) and the
//! change-management ones (approval time, time to implement, change-related incidents, MTTR,
//! MTBF, downtime, risk score against outcome, changes by type), overall, by service, team and
//! environment, and by ISO week, with DORA's performance bands next to the raw values.
//!
//! - Inputs: [`ChangeFact`] and [`IncidentFact`], compact facts whose names are ids from the
//!   index's [`Names`] interner; [`MetricsConfig`] says which environments are production.
//! - [`MetricsIndex`]: kept up to date fact by fact ([`MetricsIndex::upsert_change`],
//!   [`MetricsIndex::upsert_incident`]) and answering [`MetricsIndex::query`] with a
//!   [`MetricsReport`] in milliseconds for a million changes.
//! - [`reference::report`]: the same definitions as plain loops, the specification the index is
//!   tested against.
//!
//! Why a crate of its own: the definitions are where metrics tools go wrong (incidents blamed on
//! the wrong deployment, rollbacks not counted, results that move with the window), so they live
//! in one pure place, written down in `docs/metrics.md`, with tests that pin every number. Pure:
//! no I/O and no clock; every instant is an argument.

mod civil;
mod error;
mod facts;
mod index;
mod names;
mod query;
pub mod reference;
mod report;
mod select;
mod totals;

pub use civil::{DAY_MS, HOUR_MS, WEEK_MS};
pub use error::MetricsError;
pub use facts::{
    ChangeFact, ChangeOutcome, DOWNTIME_MAX_MINUTES, IncidentFact, MetricsConfig, NAME_LENGTH_MAX_BYTES, NAMES_MAX,
    PRODUCTION_ENVIRONMENTS_MAX, RISK_SCORE_MAX, TIME_MAX_MS, TIME_MIN_MS, TRACKED_DEPLOYMENTS_MAX,
    TRACKED_INCIDENTS_MAX, is_deployment,
};
pub use index::MetricsIndex;
pub use names::{NameId, Names};
pub use report::{
    Bands, BreakdownRow, ChangesByType, GroupMetrics, IncidentsBySeverity, MetricsQuery, MetricsReport,
    PERIOD_LENGTH_MAX_DAYS, PerformanceBand, Period, RiskRow, WeeklyPoint,
};
pub use select::nearest_rank;
