//! UTC days and ISO weeks as integers, the two calendar units the metrics group by.
//!
//! A day is `unix_ms.div_euclid(DAY_MS)`; a week is numbered so that week 0 starts on Monday
//! 1969-12-29 (the Unix epoch was a Thursday), which makes every week start on a Monday at 00:00
//! UTC as ISO 8601 says. Integers keep the hot paths free of calendar libraries; jiff only
//! formats the labels people read.

use jiff::civil::Date;

/// Milliseconds in a UTC day (no leap seconds in Unix time).
pub const DAY_MS: i64 = 86_400_000;
/// Milliseconds in a week.
pub const WEEK_MS: i64 = 7 * DAY_MS;
/// Milliseconds in an hour.
pub const HOUR_MS: i64 = 3_600_000;

/// The UTC day of an instant, counted from 1970-01-01.
pub const fn day_of(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(DAY_MS)
}

/// The ISO week of an instant (week 0 starts on Monday 1969-12-29).
pub const fn week_of(unix_ms: i64) -> i64 {
    (day_of(unix_ms) + 3).div_euclid(7)
}

/// Monday 00:00 UTC of `week`.
pub const fn week_start_ms(week: i64) -> i64 {
    (week * 7 - 3) * DAY_MS
}

/// 0 for Monday … 6 for Sunday.
pub const fn weekday_of(unix_ms: i64) -> usize {
    (day_of(unix_ms) + 3).rem_euclid(7) as usize
}

fn date_of_day(day: i64) -> Option<Date> {
    let timestamp = jiff::Timestamp::from_millisecond(day.checked_mul(DAY_MS)?).ok()?;
    Some(timestamp.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
}

/// `2025-W03`: the ISO year and week number of `week`.
pub fn iso_week_label(week: i64) -> String {
    match date_of_day(week * 7 - 3) {
        Some(monday) => {
            let iso = monday.iso_week_date();
            format!("{:04}-W{:02}", iso.year(), iso.week())
        }
        None => format!("week {week}"),
    }
}

/// `2025-01-13`: the civil date of a UTC day.
pub fn date_label(day: i64) -> String {
    match date_of_day(day) {
        Some(date) => date.to_string(),
        None => format!("day {day}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
