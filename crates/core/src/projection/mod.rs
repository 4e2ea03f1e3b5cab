//! Projections: current state as a fold of events.
//!
//! Every record here is rebuilt by applying its stream's events in order, and the store keeps the
//! result beside the events in the same transaction. `apply` is total: an event that does not fit
//! the record (which the lifecycle never produces) is recorded as-is rather than panicking, so a
//! replay of a historic log never crashes; the property tests show the lifecycle never emits one.
//!
//! One room per feature's records: `change`, `incident`, `organisation` (services, teams,
//! users), `alert`, `governance` (templates, calendar windows, policy versions) and
//! `risk_model`. Their types are re-exported here, so `changegate_core::projection::…` paths
//! name them as before.

mod alert;
mod change;
mod governance;
mod incident;
mod organisation;
mod risk_model;

pub use alert::{AlertDeliveryRecord, AlertFiringRecord, AlertRuleRecord};
pub use change::{Approval, Assessment, ChangeRecord, LEGACY_APPROVER_ROLE, Review, RollbackHookRun};
pub use governance::{CalendarWindowRecord, PolicyVersionRecord, TemplateRecord};
pub use incident::{IncidentRecord, SuggestedCause};
pub use organisation::{ServiceRecord, TeamRecord, UserRecord};
pub use risk_model::RiskModelRecord;
