//! Civil dates in UTC for the calendar page: parsing `2026-11`, `2026-W48` and `2026-11-26`, ISO
//! 8601 weeks, and day arithmetic.
//!
//! The server has no date library of its own and the calendar crate works in instants; these few
//! proleptic-Gregorian formulas (Howard Hinnant's days-from-civil) are all the page needs.

use changegate_core::Timestamp;

/// Milliseconds in a UTC day (no leap seconds in Unix time).
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Earliest and latest year the calendar page accepts: far enough for any plan, near enough
/// that a typo in the year is refused rather than rendered.
const YEAR_MIN: i32 = 1970;
const YEAR_MAX: i32 = 9999;

/// A day of the proleptic Gregorian calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        _ => 28,
    }
}

impl Date {
    /// The date, if it exists and its year is in the accepted range.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (YEAR_MIN..=YEAR_MAX).contains(&year)
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day);
        valid.then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted - era * 146_097;
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
        let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date { year: year as i32, month, day }
    }

    /// The UTC date of an instant.
    pub fn of(time: Timestamp) -> Date {
        Date::from_days(time.unix_ms().div_euclid(DAY_MS))
    }

    /// Midnight UTC at the start of the day.
    pub fn start(self) -> Timestamp {
        Timestamp::from_unix_ms(self.days() * DAY_MS)
    }

    pub fn plus_days(self, days: i64) -> Date {
        Date::from_days(self.days() + days)
    }

    /// ISO weekday: 1 is Monday, 7 is Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        ((self.days() + 3).rem_euclid(7) + 1) as u32
    }

    /// The Monday of the ISO week this day is in.
    pub fn monday(self) -> Date {
        self.plus_days(1 - i64::from(self.weekday()))
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

    /// `2026-11-26`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().splitn(3, '-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        Date::new(number(year)?, number(month)?, number(day)?)
    }

    /// The first day of `2026-11`.
    pub fn parse_month(text: &str) -> Option<Date> {
        let (year, month) = text.trim().split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        Date::new(number(year)?, number(month)?, 1)
    }

    /// The Monday of `2026-W48`.
    pub fn parse_week(text: &str) -> Option<Date> {
        let (year, week) = text.trim().split_once("-W").or_else(|| text.trim().split_once("-w"))?;
        if year.len() != 4 || !(1..=2).contains(&week.len()) {
            return None;
        }
        Date::from_iso_week(number(year)?, number(week)?)
    }

    /// The first day of the month this day is in.
    pub fn first_of_month(self) -> Date {
        Date { day: 1, ..self }
    }

    /// The first day of the next month.
    pub fn next_month(self) -> Date {
        if self.month == 12 {
            Date { year: self.year + 1, month: 1, day: 1 }
        } else {
            Date { month: self.month + 1, day: 1, ..self }
        }
    }

    /// The first day of the previous month.
    pub fn previous_month(self) -> Date {
        if self.month == 1 {
            Date { year: self.year - 1, month: 12, day: 1 }
        } else {
            Date { month: self.month - 1, day: 1, ..self }
        }
    }

    /// `2026-11`.
    pub fn month_text(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `2026-W48`.
    pub fn week_text(self) -> String {
        let (year, week) = self.iso_week();
        format!("{year:04}-W{week:02}")
    }

    /// `November 2026`.
    pub fn month_title(self) -> String {
        format!("{} {}", MONTH_NAMES[(self.month - 1) as usize], self.year)
    }

    /// `Thu 26 Nov`.
    pub fn short_title(self) -> String {
        let month = &MONTH_NAMES[(self.month - 1) as usize][..3];
        format!("{} {} {month}", WEEKDAY_NAMES[(self.weekday() - 1) as usize], self.day)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
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
