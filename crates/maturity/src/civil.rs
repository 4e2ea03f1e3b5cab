//! UTC calendar arithmetic for the trend's months and the ledger criterion's days: the proleptic
//! Gregorian calendar by day numbers (Howard Hinnant's `days_from_civil`), enough for month starts
//! without a time-zone library. Months are UTC months, the same on every machine.

use changegate_core::Timestamp;

pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The UTC day number (days since 1970-01-01) of an instant.
pub(crate) fn day_of(time: Timestamp) -> i64 {
    time.unix_ms().div_euclid(DAY_MS)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil (year, month, day) of a day number.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A UTC month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Month {
    pub year: i64,
    pub month: u32,
}

impl Month {
    /// The month an instant falls in.
    pub fn of(time: Timestamp) -> Month {
        let (year, month, _) = civil_from_days(day_of(time));
        Month { year, month }
    }

    pub fn start(self) -> Timestamp {
        Timestamp::from_unix_ms(days_from_civil(self.year, self.month, 1) * DAY_MS)
    }

    pub fn previous(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { month: self.month - 1, ..self } }
    }

    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { month: self.month + 1, ..self } }
    }

    /// `2026-03`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// `2026-03-14` of an instant, for evidence texts.
pub(crate) fn date_text(time: Timestamp) -> String {
    let (year, month, day) = civil_from_days(day_of(time));
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_across_leap_years_and_eras() {
        for days in (-800_000..800_000).step_by(97) {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days, "{year}-{month}-{day}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    #[test]
    fn months_start_at_midnight_utc_and_step_over_years() {
        let time = Timestamp::parse_rfc3339("2026-01-15T12:00:00Z").unwrap();
        let month = Month::of(time);
        assert_eq!(month.label(), "2026-01");
        assert_eq!(month.start(), Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap());
        assert_eq!(month.previous().label(), "2025-12");
        assert_eq!(month.previous().next(), month);
        assert_eq!(date_text(time), "2026-01-15");
    }
}
