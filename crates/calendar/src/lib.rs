//! Changegate's change calendar: freeze and maintenance windows, their occurrences in real time
//! zones, and conflicts between planned changes.
//!
//! - [`CalendarWindow`]: a named [`WindowKind::Freeze`] or [`WindowKind::Maintenance`] window
//!   with a [`WindowScope`] (global, a team, a service) and a [`Schedule`]: a one-off span (a
//!   holiday) or a recurring rule (an RFC 5545 RRULE with its DTSTART, or `cron:` and a
//!   5-field cron expression) in an IANA time zone, lasting `duration_minutes` each time.
//! - [`CalendarWindow::occurrences`] / [`CalendarWindow::overlapping`]: occurrences as half-open
//!   [`Occurrence`] spans of instants.
//! - [`facts_for`]: the [`CalendarFacts`] the approval policy reads for one planned change.
//! - [`conflicts`]: planned changes that overlap on the same or a dependency-related service.
//!
//! Why a crate of its own: time zones, daylight-saving time and recurrence are easy to get
//! subtly wrong, so they live in one pure place with the tests that pin them down
//! (`docs/calendar.md` explains the rules). Pure: no I/O and no clock, every instant is an
//! argument; the tz database is compiled in, so results do not depend on the machine.

mod conflicts;
mod cron;
mod error;
mod facts;
mod rule;
mod window;
mod zone;

pub use conflicts::{PlannedChange, conflicts};
pub use cron::CRON_EXPRESSION_LENGTH_MAX_BYTES;
pub use error::CalendarError;
pub use facts::{CalendarFacts, facts_for};
pub use rule::{RULE_DATES_MAX, RULE_LENGTH_MAX_BYTES, SCANNED_OCCURRENCES_MAX};
pub use window::{
    CalendarWindow, DESCRIPTION_LENGTH_MAX_BYTES, DURATION_MAX_MINUTES, NAME_LENGTH_MAX_BYTES, OCCURRENCES_MAX,
    ONE_OFF_DURATION_MAX_DAYS, Occurrence, Schedule, WindowKind, WindowScope,
};
pub use zone::TIME_ZONE_NAME_LENGTH_MAX_BYTES;
