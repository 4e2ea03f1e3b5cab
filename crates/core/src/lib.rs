//! Changegate's pure core: the domain types, the change lifecycle, the events and the
//! projections folded from them.
//!
//! Why a crate of its own: everything that decides (may this action happen, what does it record,
//! what is the state afterwards) lives here with no I/O and no clock, so it can be tested
//! exhaustively and replayed from the event log. Time comes in as a [`Timestamp`] argument,
//! read by the edges from a [`Clock`].

mod action;
pub mod approval;
pub mod canonical;
pub mod civil;
pub mod clock;
pub mod creation;
pub mod domain;
pub mod error;
pub mod event;
pub mod lifecycle;
pub mod projection;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod time;

pub use clock::{Clock, ManualClock};
pub use domain::*;
pub use error::{DomainError, FieldError};
pub use event::{
    DomainEvent, EventEnvelope, ImportedChange, ImportedIncident, PolicySource, RiskFactorRecord, RollbackHook,
    RollbackTarget, StreamId,
};
pub use lifecycle::{Action, ActionInput, Actor};
pub use projection::{
    AlertDeliveryRecord, AlertFiringRecord, AlertRuleRecord, CalendarWindowRecord, ChangeRecord, IncidentRecord,
    PolicyVersionRecord, RiskModelRecord, RollbackHookRun, ServiceRecord, SuggestedCause, TeamRecord, TemplateRecord,
    UserRecord,
};
pub use time::Timestamp;
