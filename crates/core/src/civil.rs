//! UTC calendar arithmetic, once for every crate: durations in milliseconds, day and ISO-week
//! numbers, and civil dates of the proleptic Gregorian calendar.
//!
//! Why not a date library everywhere: the hot paths (the metrics index groups millions of changes
//! by day and week) want integers, and every figure is in UTC, so Howard Hinnant's day-number
//! formulas are all the arithmetic needed. A day is `unix_ms.div_euclid(DAY_MS)` (Unix time has no
//! leap seconds); week 0 starts on Monday 1969-12-29 (the epoch was a Thursday), so every week
//! starts on a Monday at 00:00 UTC as ISO 8601 says.
//!
//! Invariant: `Date::from_days(date.days()) == date` and `civil_from_days(days_from_civil(y, m, d))
//! == (y, m, d)` for every valid date (tested across eras and leap years).

use std::fmt;

use crate::time::Timestamp;

/// Milliseconds in a second.
pub const SECOND_MS: i64 = 1_000;
/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 24 * HOUR_MS;
/// Milliseconds in a week.
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// The UTC day of an instant, counted from 1970-01-01.
pub const fn day_of(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(DAY_MS)
}

/// The ISO week of an instant (week 0 starts on Monday 1969-12-29).
pub const fn week_of(unix_ms: i64) -> i64 {
    (day_of(unix_ms) + 3).div_euclid(7)
}

/// Monday 00:00 UTC of `week`, in Unix milliseconds.
pub const fn week_start_ms(week: i64) -> i64 {
    (week * 7 - 3) * DAY_MS
}

/// 0 for Monday … 6 for Sunday.
pub const fn weekday_of(unix_ms: i64) -> usize {
    (day_of(unix_ms) + 3).rem_euclid(7) as usize
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = month as i64;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month, day) of a day counted from 1970-01-01 (Hinnant's `civil_from_days`).
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + (month <= 2) as i64;
    (year, month, day)
}

pub const fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        _ => 28,
    }
}

/// A day of the proleptic Gregorian calendar, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// The date, if it exists.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (1..=12).contains(&month) && (1..=days_in_month(i64::from(year), month)).contains(&day);
        valid.then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i64 {
        days_from_civil(self.year as i64, self.month, self.day)
    }

    /// The date `days` after 1970-01-01.
    pub const fn from_days(days: i64) -> Date {
        let (year, month, day) = civil_from_days(days);
        Date { year: year as i32, month, day }
    }

    /// The UTC date of an instant.
    pub const fn of(time: Timestamp) -> Date {
        Date::from_days(day_of(time.unix_ms()))
    }

    /// Midnight UTC at the start of the day.
    pub const fn start(self) -> Timestamp {
        Timestamp::from_unix_ms(self.days() * DAY_MS)
    }

    pub const fn plus_days(self, days: i64) -> Date {
        Date::from_days(self.days() + days)
    }

    /// ISO weekday: 1 is Monday, 7 is Sunday.
    pub const fn weekday(self) -> u32 {
        weekday_of(self.days() * DAY_MS) as u32 + 1
    }

    /// The Monday of the ISO week this day is in.
    pub const fn monday(self) -> Date {
        self.plus_days(1 - self.weekday() as i64)
    }

    /// The ISO 8601 week-numbering year and week: the week belongs to the year of its Thursday.
    pub fn iso_week(self) -> (i32, u32) {
        let thursday = self.plus_days(4 - i64::from(self.weekday()));
        let first_of_year = Date { year: thursday.year, month: 1, day: 1 };
        let ordinal = thursday.days() - first_of_year.days();
        (thursday.year, (ordinal / 7 + 1) as u32)
    }

    /// The Monday of ISO week `week` of `year`, if that week exists.
    pub fn from_iso_week(year: i32, week: u32) -> Option<Date> {
        let fourth_of_january = Date::new(year, 1, 4)?;
        let weeks_in_year = Date::new(year, 12, 28)?.iso_week().1;
        if !(1..=weeks_in_year).contains(&week) {
            return None;
        }
        Some(fourth_of_january.monday().plus_days(7 * (i64::from(week) - 1)))
    }
}

/// `2026-11-26`.
impl fmt::Display for Date {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A UTC month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i64,
    pub month: u32,
}

impl Month {
    /// The month an instant falls in.
    pub const fn of(time: Timestamp) -> Month {
        let (year, month, _) = civil_from_days(day_of(time.unix_ms()));
        Month { year, month }
    }

    /// Midnight UTC on its first day.
    pub const fn start(self) -> Timestamp {
        Timestamp::from_unix_ms(days_from_civil(self.year, self.month, 1) * DAY_MS)
    }

    pub const fn previous(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }

    pub const fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    /// `2026-03`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// `2025-W03`: the ISO year and week number of `week` (a [`week_of`] number).
pub fn iso_week_label(week: i64) -> String {
    let (year, number) = Date::from_days(week * 7 - 3).iso_week();
    format!("{year:04}-W{number:02}")
}

/// `2025-01-13`: the civil date of a UTC day (a [`day_of`] number).
pub fn date_label(day: i64) -> String {
    Date::from_days(day).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_across_leap_years_and_eras() {
        for days in (-800_000..800_000).step_by(97) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days, "{year}-{month}-{day}");
            assert_eq!(Date::from_days(days).days(), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(Date::new(2025, 2, 29), None);
        assert_eq!(Date::new(2024, 2, 29).map(|date| date.to_string()).as_deref(), Some("2024-02-29"));
    }

    #[test]
    fn weeks_start_on_monday_and_carry_iso_labels() {
        // Given instants around the 2024/2025 ISO year boundary (2024-12-30 is a Monday of 2025-W01).
        let sunday_2024_12_29_late = 1_735_516_799_999;
        let monday_2024_12_30 = 1_735_516_800_000;
        // Then the week changes exactly at Monday 00:00 UTC and is labelled as ISO 8601 says.
        assert_eq!(week_of(monday_2024_12_30), week_of(sunday_2024_12_29_late) + 1);
        assert_eq!(week_start_ms(week_of(monday_2024_12_30)), monday_2024_12_30);
        assert_eq!(weekday_of(monday_2024_12_30), 0);
        assert_eq!(weekday_of(sunday_2024_12_29_late), 6);
        assert_eq!(iso_week_label(week_of(monday_2024_12_30)), "2025-W01");
        assert_eq!(iso_week_label(week_of(sunday_2024_12_29_late)), "2024-W52");
        assert_eq!(date_label(day_of(monday_2024_12_30)), "2024-12-30");
        // And the epoch falls in the week that starts on Monday 1969-12-29.
        assert_eq!(week_of(0), 0);
        assert_eq!(iso_week_label(0), "1970-W01");
    }

    #[test]
    fn months_start_at_midnight_utc_and_step_over_years() {
        let time = Timestamp::parse_rfc3339("2026-01-15T12:00:00Z").unwrap();
        let month = Month::of(time);
        assert_eq!(month.label(), "2026-01");
        assert_eq!(month.start(), Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap());
        assert_eq!(month.previous().label(), "2025-12");
        assert_eq!(month.previous().next(), month);
        assert_eq!(Date::of(time).to_string(), "2026-01-15");
    }

    #[test]
    fn iso_weeks_agree_with_a_calendar_library() {
        // Every day of 1999..2031 against jiff's ISO week date (the metrics' labels used it).
        for day in days_from_civil(1999, 1, 1)..days_from_civil(2031, 1, 1) {
            let date = Date::from_days(day);
            let other = jiff::civil::date(date.year as i16, date.month as i8, date.day as i8).iso_week_date();
            assert_eq!(date.iso_week(), (i32::from(other.year()), other.week() as u32), "{date}");
            assert_eq!(date.weekday(), other.weekday().to_monday_one_offset() as u32, "{date}");
        }
    }
}
