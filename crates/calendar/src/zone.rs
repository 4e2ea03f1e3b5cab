//! IANA time zones and the one rule for turning a local wall-clock time into an instant.
//!
//! Every local time in the crate (DTSTART, each occurrence, EXDATE/RDATE, a floating UNTIL) goes
//! through [`instant_of_local`], so daylight-saving transitions are handled the same way
//! everywhere. The rule is RFC 5545 §3.3.5's, which is also what calendar applications and
//! Temporal's `compatible` disambiguation do:
//!
//! - a local time that occurs twice (clocks go back) names its **first** occurrence, the one
//!   still on the earlier (summer) offset;
//! - a local time that does not exist (clocks go forward) is read with the offset in force
//!   **before** the gap, so it lands as many minutes after the gap as it was into it:
//!   02:30 on the night Berlin jumps from 02:00 to 03:00 becomes 03:30 summer time.
//!
//! The tz database is chrono-tz's, compiled into the binary: no file is read, so the answer does
//! not depend on the machine, and it changes only when the dependency is updated.

use chrono::{NaiveDateTime, Offset, TimeDelta, TimeZone};
use chrono_tz::Tz;

use changegate_core::time::Timestamp;

use crate::error::CalendarError;

/// Longest accepted time zone name. The longest IANA name today is 32 bytes
/// (`America/Argentina/ComodRivadavia`).
pub const TIME_ZONE_NAME_LENGTH_MAX_BYTES: usize = 64;

/// Looks up an IANA time zone name such as `Europe/Berlin` (exact spelling, as in the tz
/// database; links such as `US/Eastern` are accepted too).
pub(crate) fn parse_time_zone(name: &str) -> Result<Tz, CalendarError> {
    let unknown = || CalendarError::UnknownTimeZone { time_zone: name.to_owned() };
    if name.is_empty() || name.len() > TIME_ZONE_NAME_LENGTH_MAX_BYTES {
        return Err(unknown());
    }
    name.parse::<Tz>().map_err(|_| unknown())
}

/// The instant that the wall-clock time `local` in `zone` names, by the rule in the module
/// documentation.
pub(crate) fn instant_of_local(zone: Tz, local: NaiveDateTime) -> Timestamp {
    let local_as_utc_ms = local.and_utc().timestamp_millis();
    let offset_seconds = match zone.from_local_datetime(&local).earliest() {
        // One instant, or the first of two.
        Some(instant) => instant.offset().fix().local_minus_utc(),
        // In a gap: use the offset in force just before it. The instant `local - 1 day` (reading
        // `local` as UTC) is at least 10 hours before the transition (offsets are within
        // -12h..+14h) and at most 36 hours before it; tz transitions are never that close
        // together, so the offset there is the one that ended at the gap.
        None => {
            let day_before = local.checked_sub_signed(TimeDelta::days(1)).unwrap_or(local);
            zone.offset_from_utc_datetime(&day_before).fix().local_minus_utc()
        }
    };
    Timestamp::from_unix_ms(local_as_utc_ms - i64::from(offset_seconds) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
    }

    fn instant(zone: &str, text: &str) -> String {
        instant_of_local(parse_time_zone(zone).unwrap(), local(text)).to_rfc3339()
    }

    #[test]
    fn ordinary_times_use_the_offset_in_force() {
        assert_eq!(instant("Europe/Berlin", "2026-01-15T12:00"), "2026-01-15T11:00:00Z");
        assert_eq!(instant("Europe/Berlin", "2026-07-15T12:00"), "2026-07-15T10:00:00Z");
        assert_eq!(instant("UTC", "2026-07-15T12:00"), "2026-07-15T12:00:00Z");
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_forward_by_the_gap() {
        // Berlin: 2026-03-29 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
        assert_eq!(instant("Europe/Berlin", "2026-03-29T02:30"), "2026-03-29T01:30:00Z"); // 03:30 CEST
        // New York: 2026-03-08 02:00 EST becomes 03:00 EDT.
        assert_eq!(instant("America/New_York", "2026-03-08T02:30"), "2026-03-08T07:30:00Z"); // 03:30 EDT
        // Lord Howe moves by 30 minutes: 02:00 becomes 02:30 on 2026-10-04.
        assert_eq!(instant("Australia/Lord_Howe", "2026-10-04T02:15"), "2026-10-03T15:45:00Z"); // 02:45 +11
    }

    #[test]
    fn a_repeated_autumn_time_is_its_first_occurrence() {
        // Berlin: 2026-10-25 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
        assert_eq!(instant("Europe/Berlin", "2026-10-25T02:30"), "2026-10-25T00:30:00Z"); // 02:30 CEST
        assert_eq!(instant("America/New_York", "2026-11-01T01:30"), "2026-11-01T05:30:00Z"); // 01:30 EDT
    }

    #[test]
    fn a_skipped_day_moves_forward_by_a_day() {
        // Samoa skipped 2011-12-30 entirely (-10:00 to +14:00).
        assert_eq!(instant("Pacific/Apia", "2011-12-30T12:00"), "2011-12-30T22:00:00Z"); // 12-31 12:00 +14
    }

    #[test]
    fn unknown_and_oversized_names_are_refused() {
        for name in ["", "Europe/Atlantis", "europe/berlin ", &"A".repeat(65)] {
            assert_eq!(parse_time_zone(name).unwrap_err().code(), "unknown_time_zone", "{name:?}");
        }
        assert!(parse_time_zone("US/Eastern").is_ok());
    }
}
