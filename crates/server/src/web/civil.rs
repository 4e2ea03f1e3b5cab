//! The calendar page's dates: parsing `2026-11`, `2026-W48` and `2026-11-26` from its query, the
//! month steps of its navigation and the titles it shows.
//!
//! The arithmetic (day numbers, weekdays, ISO weeks) is the core's [`changegate_core::civil`];
//! this adds only what the page reads and writes, as a trait on the core's `Date`.

use changegate_core::Timestamp;
pub use changegate_core::civil::{DAY_MS, Date};

/// Earliest and latest year the calendar page accepts: far enough for any plan, near enough
/// that a typo in the year is refused rather than rendered.
const YEAR_MIN: i32 = 1970;
const YEAR_MAX: i32 = 9999;

/// The date, if it exists and its year is in the range the page accepts.
fn page_date(year: i32, month: u32, day: u32) -> Option<Date> {
    (YEAR_MIN..=YEAR_MAX).contains(&year).then(|| Date::new(year, month, day)).flatten()
}

/// What the calendar page reads from and writes into its query and headings.
pub trait CalendarDate: Sized {
    /// `2026-11-26`.
    fn parse(text: &str) -> Option<Self>;
    /// The first day of `2026-11`.
    fn parse_month(text: &str) -> Option<Self>;
    /// The Monday of `2026-W48`.
    fn parse_week(text: &str) -> Option<Self>;
    /// The first day of the month this day is in.
    fn first_of_month(self) -> Self;
    /// The first day of the next month.
    fn next_month(self) -> Self;
    /// The first day of the previous month.
    fn previous_month(self) -> Self;
    /// `2026-11`.
    fn month_text(self) -> String;
    /// `2026-W48`.
    fn week_text(self) -> String;
    /// `November 2026`.
    fn month_title(self) -> String;
    /// `Thu 26 Nov`.
    fn short_title(self) -> String;
}

impl CalendarDate for Date {
    fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().splitn(3, '-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        page_date(number(year)?, number(month)?, number(day)?)
    }

    fn parse_month(text: &str) -> Option<Date> {
        let (year, month) = text.trim().split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        page_date(number(year)?, number(month)?, 1)
    }

    fn parse_week(text: &str) -> Option<Date> {
        let (year, week) = text.trim().split_once("-W").or_else(|| text.trim().split_once("-w"))?;
        if year.len() != 4 || !(1..=2).contains(&week.len()) {
            return None;
        }
        let year = number(year)?;
        page_date(year, 1, 1)?;
        Date::from_iso_week(year, number(week)?)
    }

    fn first_of_month(self) -> Date {
        Date { day: 1, ..self }
    }

    fn next_month(self) -> Date {
        if self.month == 12 {
            Date { year: self.year + 1, month: 1, day: 1 }
        } else {
            Date { month: self.month + 1, day: 1, ..self }
        }
    }

    fn previous_month(self) -> Date {
        if self.month == 1 {
            Date { year: self.year - 1, month: 12, day: 1 }
        } else {
            Date { month: self.month - 1, day: 1, ..self }
        }
    }

    fn month_text(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    fn week_text(self) -> String {
        let (year, week) = self.iso_week();
        format!("{year:04}-W{week:02}")
    }

    fn month_title(self) -> String {
        format!("{} {}", MONTH_NAMES[(self.month - 1) as usize], self.year)
    }

    fn short_title(self) -> String {
        let month = &MONTH_NAMES[(self.month - 1) as usize][..3];
        format!("{} {} {month}", WEEKDAY_NAMES[(self.weekday() - 1) as usize], self.day)
    }
}

pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Short weekday names, Monday first (ISO order).
pub const WEEKDAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A decimal number of ASCII digits only (no sign, no spaces).
fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `HH:MM` of an instant, in UTC.
pub fn clock_time(time: Timestamp) -> String {
    let minutes = time.unix_ms().rem_euclid(DAY_MS) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_match_known_dates() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().days(), 11_017);
        assert_eq!(Date::new(2026, 11, 26).unwrap().start().to_rfc3339(), "2026-11-26T00:00:00Z");
        for days in [-1, 0, 59, 60, 365, 10_957, 20_000, 20_513, 2_932_896] {
            assert_eq!(Date::from_days(days).days(), days, "{days}");
        }
        assert_eq!(Date::from_days(-1), Date { year: 1969, month: 12, day: 31 });
        assert_eq!(Date::of(Timestamp::parse_rfc3339("2026-02-28T23:59:59Z").unwrap()).to_string(), "2026-02-28");
    }

    #[test]
    fn weekdays_and_iso_weeks() {
        let date = Date::new(2026, 11, 26).unwrap();
        assert_eq!(date.weekday(), 4, "a Thursday");
        assert_eq!(date.monday().to_string(), "2026-11-23");
        assert_eq!(date.week_text(), "2026-W48");
        // 2027-01-01 is a Friday: it belongs to the last week of 2026 (which has 53 weeks).
        assert_eq!(Date::new(2027, 1, 1).unwrap().week_text(), "2026-W53");
        assert_eq!(Date::new(2024, 12, 30).unwrap().week_text(), "2025-W01");
        assert_eq!(Date::from_iso_week(2026, 48).unwrap().to_string(), "2026-11-23");
        assert_eq!(Date::from_iso_week(2025, 1).unwrap().to_string(), "2024-12-30");
        assert_eq!(Date::from_iso_week(2026, 53).unwrap().to_string(), "2026-12-28");
        assert!(Date::from_iso_week(2025, 53).is_none(), "2025 has 52 weeks");
        assert!(Date::from_iso_week(2026, 0).is_none());
    }

    #[test]
    fn parses_only_well_formed_text() {
        assert_eq!(Date::parse_month("2026-11").unwrap().to_string(), "2026-11-01");
        assert_eq!(Date::parse_week("2026-W48").unwrap().to_string(), "2026-11-23");
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        for bad in ["2026-13", "26-11", "2026-1", "+026-11", "2026-11-01", ""] {
            assert!(Date::parse_month(bad).is_none(), "{bad}");
        }
        for bad in ["2025-02-29", "2026-11-31", "2026-11", "2026-11-26T10:00", "1969-12-31"] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
        for bad in ["2026-W60", "2026W48", "2026-W", "2026-W+1"] {
            assert!(Date::parse_week(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn months_step_over_years() {
        let december = Date::parse_month("2026-12").unwrap();
        assert_eq!(december.next_month().month_text(), "2027-01");
        assert_eq!(december.next_month().previous_month(), december);
        assert_eq!(december.month_title(), "December 2026");
        assert_eq!(Date::new(2026, 11, 26).unwrap().short_title(), "Thu 26 Nov");
        assert_eq!(clock_time(Timestamp::parse_rfc3339("2026-11-26T22:05:00Z").unwrap()), "22:05");
    }
}
