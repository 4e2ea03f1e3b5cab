//! The maturity assessment's view of the calendar: UTC months for the trend and UTC days for the
//! ledger criterion, over the core's one civil-date module ([`changegate_core::civil`]).

use changegate_core::Timestamp;
pub(crate) use changegate_core::civil::{DAY_MS, Date, Month};

/// The UTC day number (days since 1970-01-01) of an instant.
pub(crate) fn day_of(time: Timestamp) -> i64 {
    changegate_core::civil::day_of(time.unix_ms())
}

/// `2026-03-14` of an instant, for evidence texts.
pub(crate) fn date_text(time: Timestamp) -> String {
    Date::of(time).to_string()
}
