//! Recurrence rules: parsing the `rule` text of a recurring window and expanding it into
//! occurrence start instants.
//!
//! Why the expansion runs over wall-clock times: a window "every Saturday at 02:30 in Berlin"
//! is defined on the local calendar, so the rrule crate expands it with the local times written
//! as if they were UTC (a zone without transitions, where every local time exists exactly once),
//! and each local time is then turned into an instant by [`instant_of_local`], the crate's one
//! DST rule. Letting rrule resolve zones itself would read the machine's zone for a DTSTART
//! without TZID, refuse a DTSTART inside a gap and silently drop an occurrence on a day whose
//! midnight does not exist.
//!
//! Accepted text, one property per line:
//! - `DTSTART;TZID=<the window's time_zone>:YYYYMMDDTHHMMSS`, or `DTSTART:YYYYMMDDTHHMMSS` (a
//!   floating local time, read in the window's zone); a UTC `...Z` start only when the window's
//!   zone is `UTC`/`Etc/UTC`. A TZID naming another zone is refused rather than converted, so a
//!   rule never means something other than what it says.
//! - exactly one `RRULE:` with FREQ of HOURLY or coarser (windows last whole minutes, and a
//!   finer rule would make every expansion long). UNTIL must be a date-time: `...Z` is an
//!   instant; without `Z` it is a local time in the window's zone.
//! - optionally `EXDATE` and `RDATE` lines of local date-times, under the same TZID rule.
//! - or, instead of all that, `cron:` and a 5-field cron expression (see [`crate::cron`]).

use std::borrow::Cow;
use std::ops::ControlFlow;

use chrono::NaiveDateTime;
use chrono_tz::Tz;
use rrule::{RRule, RRuleSet, Unvalidated};

use changegate_core::time::Timestamp;

use crate::cron::CronSchedule;
use crate::error::CalendarError;
use crate::zone::{instant_of_local, parse_time_zone};

/// Longest accepted rule text.
pub const RULE_LENGTH_MAX_BYTES: usize = 4096;
/// Most EXDATE plus RDATE values in one rule.
pub const RULE_DATES_MAX: usize = 400;
/// Most occurrences one expansion may step through, counting those before the asked range
/// (expansion always starts at DTSTART, because COUNT, INTERVAL and BYSETPOS depend on it).
/// An hourly rule reaches about 114 years past its DTSTART; a daily one, millennia.
pub const SCANNED_OCCURRENCES_MAX: u32 = 1_000_000;

/// How far a local wall-clock time can be from the instant it names: UTC offsets are within
/// -12h..+14h (historic local mean times a little more), so two days is a safe bound. Used to
/// decide, on wall-clock times alone, where an expansion may start and stop.
const WALL_CLOCK_MARGIN_MS: i64 = 2 * 24 * 60 * 60 * 1000;

/// 2000-01-01T00:00:00Z. A cron schedule is never expanded from before this: it has no start of
/// its own, and an expansion from far in the past would only hit [`SCANNED_OCCURRENCES_MAX`].
const CRON_EARLIEST_START_UNIX_MS: i64 = 946_684_800_000;

/// A parsed rule with its zone, ready to expand.
#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    zone: Tz,
    expansion: Expansion,
}

#[derive(Clone, Debug)]
enum Expansion {
    /// An RRULE set over wall-clock times, and its UNTIL as an instant (a local UNTIL resolved in
    /// the window's zone). UNTIL is applied after local times become instants: rrule would
    /// compare it with wall-clock times.
    Rrule { set: RRuleSet, until: Option<Timestamp> },
    /// A cron schedule has no start: it is expanded from just before each asked range.
    Cron(CronSchedule),
}

impl CompiledRule {
    /// Parses `rule` for a window in `time_zone`.
    pub(crate) fn parse(rule: &str, time_zone: &str) -> Result<Self, CalendarError> {
        let zone = parse_time_zone(time_zone)?;
        if rule.len() > RULE_LENGTH_MAX_BYTES {
            return Err(CalendarError::invalid_rule(format!(
                "the rule is {} bytes long; at most {RULE_LENGTH_MAX_BYTES} are allowed",
                rule.len()
            )));
        }
        let expansion = match rule.trim().strip_prefix("cron:") {
            Some(expression) => Expansion::Cron(CronSchedule::parse(expression)?),
            None => parse_rrule_text(rule, zone, time_zone)?,
        };
        Ok(CompiledRule { zone, expansion })
    }

    /// The start of the first occurrence, if the rule ever occurs. A cron schedule has no start,
    /// so it is asked from 2000-01-01: one that occurs at all occurs within four years of any date.
    pub(crate) fn first_start(&self) -> Result<Option<Timestamp>, CalendarError> {
        let from = match self.expansion {
            Expansion::Rrule { .. } => Timestamp::from_unix_ms(i64::MIN),
            Expansion::Cron(_) => Timestamp::from_unix_ms(CRON_EARLIEST_START_UNIX_MS),
        };
        let mut first = None;
        self.scan(0, from, Timestamp::from_unix_ms(i64::MAX), |start| {
            first = Some(start);
            ControlFlow::Break(())
        })?;
        Ok(first)
    }

    /// Calls `visit` with the start of every occurrence whose span `[start, start + duration_ms)`
    /// may overlap `[from, to)`, in wall-clock order. Starts may come a little out of order (by
    /// less than [`WALL_CLOCK_MARGIN_MS`], only around a DST gap) and a few just outside the
    /// range: callers filter and sort.
    pub(crate) fn scan(
        &self,
        duration_ms: i64,
        from: Timestamp,
        to: Timestamp,
        mut visit: impl FnMut(Timestamp) -> ControlFlow<()>,
    ) -> Result<(), CalendarError> {
        // Wall-clock times before this cannot start an occurrence that reaches `from`.
        let earliest_local_ms = from.unix_ms().saturating_sub(duration_ms).saturating_sub(WALL_CLOCK_MARGIN_MS);
        let latest_local_ms = to.unix_ms().saturating_add(WALL_CLOCK_MARGIN_MS);
        let (set, until) = match &self.expansion {
            Expansion::Rrule { set, until } => (Cow::Borrowed(set), *until),
            Expansion::Cron(schedule) => {
                let Some(first) =
                    chrono::DateTime::from_timestamp_millis(earliest_local_ms.max(CRON_EARLIEST_START_UNIX_MS))
                else {
                    // Beyond chrono's calendar (year 262143): nothing can occur there.
                    return Ok(());
                };
                let first_day = first.date_naive();
                (Cow::Owned(schedule.wall_clock_set(first_day)?), None)
            }
        };
        let latest_local_ms = until
            .map_or(latest_local_ms, |until| latest_local_ms.min(until.unix_ms().saturating_add(WALL_CLOCK_MARGIN_MS)));
        let mut scanned: u32 = 0;
        let mut previous: Option<NaiveDateTime> = None;
        for wall_clock in set.as_ref() {
            scanned += 1;
            if scanned > SCANNED_OCCURRENCES_MAX {
                return Err(CalendarError::RuleTooExpensive { scanned_maximum: SCANNED_OCCURRENCES_MAX });
            }
            let local = wall_clock.naive_utc();
            // Two rules of one set (cron's day-of-month or day-of-week) may yield the same time.
            if previous == Some(local) {
                continue;
            }
            previous = Some(local);
            let local_ms = local.and_utc().timestamp_millis();
            if local_ms >= latest_local_ms {
                break;
            }
            if local_ms < earliest_local_ms {
                continue;
            }
            let start = instant_of_local(self.zone, local);
            if until.is_some_and(|until| start > until) {
                continue;
            }
            if visit(start).is_break() {
                break;
            }
        }
        Ok(())
    }
}

fn parse_rrule_text(rule: &str, zone: Tz, time_zone: &str) -> Result<Expansion, CalendarError> {
    let mut start: Option<NaiveDateTime> = None;
    let mut recurrence: Option<&str> = None;
    let mut exception_dates = Vec::new();
    let mut extra_dates = Vec::new();
    for line in rule.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let Some((name_and_parameters, value)) = line.split_once(':') else {
            return Err(CalendarError::invalid_rule(format!("line `{line}` has no `:`")));
        };
        let mut parts = name_and_parameters.split(';');
        let property = parts.next().unwrap_or_default().to_ascii_uppercase();
        let parameters: Vec<&str> = parts.collect();
        match property.as_str() {
            "DTSTART" if start.is_some() => return Err(CalendarError::invalid_rule("more than one DTSTART")),
            "DTSTART" => start = Some(parse_local_date_time(value, &parameters, time_zone, "DTSTART")?),
            "RRULE" if recurrence.is_some() => {
                return Err(CalendarError::invalid_rule("more than one RRULE (write one rule per window)"));
            }
            "RRULE" if !parameters.is_empty() => {
                return Err(CalendarError::invalid_rule("RRULE takes no parameters"));
            }
            "RRULE" => recurrence = Some(value),
            "EXDATE" | "RDATE" => {
                let dates = if property == "EXDATE" { &mut exception_dates } else { &mut extra_dates };
                for item in value.split(',') {
                    dates.push(parse_local_date_time(item, &parameters, time_zone, &property)?);
                }
                if exception_dates.len() + extra_dates.len() > RULE_DATES_MAX {
                    return Err(CalendarError::invalid_rule(format!(
                        "more than {RULE_DATES_MAX} EXDATE and RDATE values"
                    )));
                }
            }
            _ => {
                return Err(CalendarError::invalid_rule(format!(
                    "unsupported property `{property}` (a rule has DTSTART, one RRULE, and optionally EXDATE and RDATE)"
                )));
            }
        }
    }
    let start = start.ok_or_else(|| CalendarError::invalid_rule("no DTSTART line"))?;
    let recurrence = recurrence.ok_or_else(|| CalendarError::invalid_rule("no RRULE line"))?;

    // UNTIL is taken out and applied to resolved instants; the rest is rrule's to parse.
    let mut kept_parts = Vec::new();
    let mut until = None;
    for part in recurrence.split(';').filter(|part| !part.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        match key.to_ascii_uppercase().as_str() {
            "UNTIL" => until = Some(parse_until(value, zone, time_zone)?),
            "FREQ" if matches!(value.to_ascii_uppercase().as_str(), "SECONDLY" | "MINUTELY") => {
                return Err(CalendarError::invalid_rule(format!(
                    "FREQ={value} is too frequent for a window; use HOURLY or coarser (BYMINUTE can list minutes)"
                )));
            }
            _ => kept_parts.push(part),
        }
    }
    let wall_clock_start = start.and_utc().with_timezone(&rrule::Tz::UTC);
    let parsed: RRule<Unvalidated> = kept_parts
        .join(";")
        .parse()
        .map_err(|error: rrule::RRuleError| CalendarError::invalid_rule(format!("RRULE: {error}")))?;
    let validated =
        parsed.validate(wall_clock_start).map_err(|error| CalendarError::invalid_rule(format!("RRULE: {error}")))?;
    let as_wall_clock = |local: NaiveDateTime| local.and_utc().with_timezone(&rrule::Tz::UTC);
    let set = RRuleSet::new(wall_clock_start)
        .rrule(validated)
        .set_exdates(exception_dates.into_iter().map(as_wall_clock).collect())
        .set_rdates(extra_dates.into_iter().map(as_wall_clock).collect())
        // Stop a rule that can never occur (FEB 30) after rrule's loop limit instead of forever.
        .limit();
    Ok(Expansion::Rrule { set, until })
}

/// Parses `YYYYMMDDTHHMMSS` (a local time in the window's zone, optionally with
/// `TZID=<that zone>` and `VALUE=DATE-TIME`), or `...Z` when the window's zone is UTC.
fn parse_local_date_time(
    value: &str,
    parameters: &[&str],
    time_zone: &str,
    property: &str,
) -> Result<NaiveDateTime, CalendarError> {
    for parameter in parameters {
        let (key, parameter_value) = parameter.split_once('=').unwrap_or((parameter, ""));
        match key.to_ascii_uppercase().as_str() {
            "TZID" if parameter_value == time_zone => {}
            "TZID" => {
                return Err(CalendarError::invalid_rule(format!(
                    "{property} has TZID={parameter_value} but the window's time_zone is {time_zone}; \
                     write the local time in {time_zone}"
                )));
            }
            "VALUE" if parameter_value.eq_ignore_ascii_case("DATE-TIME") => {}
            _ => {
                return Err(CalendarError::invalid_rule(format!(
                    "{property}: unsupported parameter `{parameter}` (only TZID and VALUE=DATE-TIME)"
                )));
            }
        }
    }
    let value = value.trim();
    let local_text = match value.strip_suffix('Z') {
        Some(text) if matches!(time_zone, "UTC" | "Etc/UTC") && parameters.is_empty() => text,
        Some(_) => {
            return Err(CalendarError::invalid_rule(format!(
                "{property} `{value}` is in UTC; write the local time in {time_zone} \
                 (`{property};TZID={time_zone}:YYYYMMDDTHHMMSS`)"
            )));
        }
        None => value,
    };
    parse_compact_date_time(local_text)
        .ok_or_else(|| CalendarError::invalid_rule(format!("{property} `{value}` is not a date-time YYYYMMDDTHHMMSS")))
}

/// UNTIL: `...Z` is an instant; a local date-time is read in the window's zone. A bare date is
/// refused: RFC 5545 wants UNTIL to have the type of DTSTART, which here is always a date-time.
fn parse_until(value: &str, zone: Tz, time_zone: &str) -> Result<Timestamp, CalendarError> {
    let invalid = || {
        CalendarError::invalid_rule(format!(
            "UNTIL `{value}` is not a date-time (YYYYMMDDTHHMMSSZ in UTC, or YYYYMMDDTHHMMSS in {time_zone})"
        ))
    };
    match value.strip_suffix('Z') {
        Some(text) => {
            let instant = parse_compact_date_time(text).ok_or_else(invalid)?;
            Ok(Timestamp::from_unix_ms(instant.and_utc().timestamp_millis()))
        }
        None => Ok(instant_of_local(zone, parse_compact_date_time(value).ok_or_else(invalid)?)),
    }
}

/// `YYYYMMDDTHHMMSS`, strictly (chrono's `%Y` alone would accept other widths and signs).
fn parse_compact_date_time(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 15
        && bytes[8] == b'T'
        && bytes.iter().enumerate().all(|(index, byte)| index == 8 || byte.is_ascii_digit());
    if !well_formed {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S").ok()
}
