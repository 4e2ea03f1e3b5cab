//! Five-field cron expressions (`minute hour day-of-month month day-of-week`), translated into
//! RRULEs so that they expand, and meet daylight-saving transitions, exactly like RRULE windows.
//!
//! Why a translation rather than a cron crate: the rrule crate already does the calendar
//! arithmetic, and one expansion path means one DST rule (see [`crate::zone`]). Note that this
//! differs from classic cron daemons at transitions: a time in the spring gap moves forward by
//! the gap (cron daemons run such a job right after the jump) and a repeated autumn time occurs
//! once, at its first occurrence.
//!
//! Syntax: each field is `*` or a comma list of `N`, `N-M`, `*/S`, `N/S` or `N-M/S`; months may
//! be `JAN`..`DEC` and days of the week `SUN`..`SAT` (or `0`..`7`, both 0 and 7 being Sunday).
//! As in Vixie cron, when both the day-of-month and the day-of-week fields are restricted
//! (neither starts with `*`), a day matches if **either** matches; otherwise both must.
//! Not supported (refused): `@daily`-style macros, seconds or year fields, and `L`, `W`, `#`, `?`.

use chrono::{Month, NaiveDate, Weekday};
use rrule::{Frequency, NWeekday, RRule, RRuleSet};

use crate::error::CalendarError;

/// Longest accepted cron expression.
pub const CRON_EXPRESSION_LENGTH_MAX_BYTES: usize = 256;

/// A parsed cron expression: the values each field allows. A day field is `None` when it imposes
/// nothing (`*` alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CronSchedule {
    minutes: Vec<u8>,
    hours: Vec<u8>,
    days_of_month: Option<Vec<i8>>,
    months: Option<Vec<Month>>,
    days_of_week: Option<Vec<Weekday>>,
    /// Both day fields restricted: a day matches if either does (Vixie cron).
    either_day_matches: bool,
}

const MONTH_NAMES: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronSchedule {
    pub(crate) fn parse(expression: &str) -> Result<Self, CalendarError> {
        let invalid = |reason: String| CalendarError::invalid_rule(format!("cron `{}`: {reason}", expression.trim()));
        if expression.len() > CRON_EXPRESSION_LENGTH_MAX_BYTES {
            return Err(invalid(format!("longer than {CRON_EXPRESSION_LENGTH_MAX_BYTES} bytes")));
        }
        let fields: Vec<&str> = expression.split_whitespace().collect();
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            return Err(invalid(format!(
                "has {} fields; expected 5 (minute hour day-of-month month day-of-week)",
                fields.len()
            )));
        };
        let minutes = parse_field(minute, 0, 59, &[]).map_err(&invalid)?;
        let hours = parse_field(hour, 0, 23, &[]).map_err(&invalid)?;
        let days_of_month = parse_field(day_of_month, 1, 31, &[]).map_err(&invalid)?;
        let months = parse_field(month, 1, 12, &MONTH_NAMES).map_err(&invalid)?;
        // 7 is Sunday as well as 0; names count from SUN = 0.
        let days_of_week = parse_field(day_of_week, 0, 7, &WEEKDAY_NAMES).map_err(&invalid)?;

        let either_day_matches = !day_of_month.starts_with('*') && !day_of_week.starts_with('*');
        let to_month = |number: u8| Month::try_from(number).ok();
        let to_weekday = |number: u8| Weekday::try_from((number + 6) % 7).ok(); // chrono: 0 = Monday
        let mut weekdays: Vec<Weekday> = days_of_week.iter().filter_map(|&number| to_weekday(number)).collect();
        weekdays.sort_by_key(|weekday| weekday.num_days_from_monday());
        weekdays.dedup();
        // A field that allows every value imposes nothing, whatever its spelling (`*/1`, `0-7`).
        let mut days_of_month: Option<Vec<i8>> = (days_of_month.len() < 31)
            .then(|| days_of_month.iter().filter_map(|&day| i8::try_from(day).ok()).collect());
        let mut days_of_week = (weekdays.len() < 7).then_some(weekdays);
        // Under "either matches", a day field that allows every day makes every day match.
        if either_day_matches && (days_of_month.is_none() || days_of_week.is_none()) {
            days_of_month = None;
            days_of_week = None;
        }
        Ok(CronSchedule {
            minutes,
            hours,
            days_of_month,
            months: (months.len() < 12).then(|| months.iter().filter_map(|&number| to_month(number)).collect()),
            days_of_week,
            either_day_matches,
        })
    }

    /// The schedule as an RRULE set over wall-clock times (written as UTC, see [`crate::rule`]),
    /// starting at the midnight that begins `first_day`.
    pub(crate) fn wall_clock_set(&self, first_day: NaiveDate) -> Result<RRuleSet, CalendarError> {
        let start = first_day.and_time(chrono::NaiveTime::MIN).and_utc().with_timezone(&rrule::Tz::UTC);
        let mut base =
            RRule::new(Frequency::Daily).by_hour(self.hours.clone()).by_minute(self.minutes.clone()).by_second(vec![0]);
        if let Some(months) = &self.months {
            base = base.by_month(months);
        }
        let every = |weekdays: &[Weekday]| weekdays.iter().copied().map(NWeekday::Every).collect::<Vec<_>>();
        let rules = match (&self.days_of_month, &self.days_of_week) {
            (Some(days), Some(weekdays)) if self.either_day_matches => {
                vec![base.clone().by_month_day(days.clone()), base.by_weekday(every(weekdays))]
            }
            (Some(days), Some(weekdays)) => vec![base.by_month_day(days.clone()).by_weekday(every(weekdays))],
            (Some(days), None) => vec![base.by_month_day(days.clone())],
            (None, Some(weekdays)) => vec![base.by_weekday(every(weekdays))],
            (None, None) => vec![base],
        };
        let validated = rules
            .into_iter()
            .map(|rule| rule.validate(start))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| CalendarError::invalid_rule(format!("cron: {error}")))?;
        Ok(RRuleSet::new(start).set_rrules(validated).limit())
    }
}

/// The sorted values a field allows, each within `minimum..=maximum`.
/// `names[i]` stands for `minimum + i`.
fn parse_field(field: &str, minimum: u8, maximum: u8, names: &[&str]) -> Result<Vec<u8>, String> {
    let value = |text: &str| -> Result<u8, String> {
        let upper = text.to_ascii_uppercase();
        let number = match names.iter().position(|name| *name == upper) {
            Some(index) => minimum.saturating_add(u8::try_from(index).unwrap_or(u8::MAX)),
            None => text.parse::<u8>().map_err(|_| format!("`{text}` is not a number or a name"))?,
        };
        if !(minimum..=maximum).contains(&number) {
            return Err(format!("{number} is outside {minimum}-{maximum}"));
        }
        Ok(number)
    };
    let mut allowed = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step = step.parse::<u8>().ok().filter(|step| *step > 0).ok_or(format!("bad step in `{item}`"))?;
                (range, step)
            }
            None => (item, 1),
        };
        let (low, high) = match range {
            "*" => (minimum, maximum),
            _ => match range.split_once('-') {
                Some((low, high)) => (value(low)?, value(high)?),
                // `N/S` means from N to the end of the field, as in Vixie cron.
                None if item.contains('/') => (value(range)?, maximum),
                None => {
                    let single = value(range)?;
                    (single, single)
                }
            },
        };
        if low > high {
            return Err(format!("range `{range}` runs backwards"));
        }
        allowed.extend((low..=high).step_by(usize::from(step)));
    }
    allowed.sort_unstable();
    allowed.dedup();
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_names_steps_and_lists() {
        let schedule = CronSchedule::parse("0,30 22 * * SAT").unwrap();
        assert_eq!(schedule.minutes, [0, 30]);
        assert_eq!(schedule.hours, [22]);
        assert_eq!(schedule.days_of_month, None);
        assert_eq!(schedule.days_of_week, Some(vec![Weekday::Sat]));
        assert!(!schedule.either_day_matches);

        let schedule = CronSchedule::parse("*/15 9-17/4 1,15 jan-mar 0,7").unwrap();
        assert_eq!(schedule.minutes, [0, 15, 30, 45]);
        assert_eq!(schedule.hours, [9, 13, 17]);
        assert_eq!(schedule.days_of_month, Some(vec![1, 15]));
        assert_eq!(schedule.months, Some(vec![Month::January, Month::February, Month::March]));
        assert_eq!(schedule.days_of_week, Some(vec![Weekday::Sun]));
        assert!(schedule.either_day_matches);

        assert_eq!(CronSchedule::parse("5/20 * * * *").unwrap().minutes, [5, 25, 45]);
        assert_eq!(CronSchedule::parse("0 0 * * 0-7").unwrap().days_of_week, None);
        // Vixie cron: day 1 or any day of the week is every day.
        let every_day = CronSchedule::parse("0 0 1 * 0-7").unwrap();
        assert_eq!((every_day.days_of_month, every_day.days_of_week), (None, None));
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        for expression in [
            "",
            "0 22 * *",
            "0 22 * * SAT 2026",
            "60 * * * *",
            "0 24 * * *",
            "0 0 0 * *",
            "0 0 * 13 *",
            "0 0 * * 8",
            "0 0 L * *",
            "0 0 * * 5#3",
            "0 0 ? * *",
            "*/0 * * * *",
            "30-10 * * * *",
            "@daily",
        ] {
            let error = CronSchedule::parse(expression).unwrap_err();
            assert_eq!(error.code(), "invalid_rule", "{expression:?}");
        }
    }
}
