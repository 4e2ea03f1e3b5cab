//! The demo's change calendar: a weekly change window per team (an RRULE in the team's time
//! zone), global freezes (the end-of-year holidays every year, Black Friday week as one-off dates
//! per year) and a team freeze (payments' quarter-end close), plus the lookups the planner needs:
//! the next change-window occurrence and the freeze a planned window falls in.
//!
//! Freezes are looked up with [`changegate_calendar::facts_for`], the function the service calls
//! on submit, over the same windows, so the planner knows exactly which changes the policy will
//! deny for a freeze.

use changegate_calendar::{CalendarWindow, OCCURRENCES_MAX, Occurrence, Schedule, WindowKind, WindowScope, facts_for};
use changegate_core::Timestamp;

use crate::history::{DAY, HOUR};
use crate::org::TEAMS;

/// Each team's time zone and change window: the weekdays and local start hour, and how long it
/// lasts. Teams sit in European offices; their windows avoid Fridays, when nobody wants to be
/// paged over the weekend.
const CHANGE_WINDOWS: [(&str, &str, u32, u32); 8] = [
    ("Europe/Berlin", "MO,TU,WE,TH", 8, 12 * 60),
    ("Europe/Berlin", "MO,TU,WE,TH", 9, 10 * 60),
    ("Europe/Amsterdam", "TU,WE,TH", 8, 12 * 60),
    ("Europe/Dublin", "MO,TU,WE,TH", 8, 12 * 60),
    ("Europe/London", "MO,TU,WE,TH", 7, 13 * 60),
    ("Europe/Stockholm", "MO,TU,WE,TH", 8, 11 * 60),
    ("Europe/Lisbon", "MO,TU,WE,TH", 8, 12 * 60),
    ("Europe/Warsaw", "MO,TU,WE,TH", 8, 12 * 60),
];

/// The end-of-year freeze: 20 December to 2 January, Berlin time (the company's head office).
const YEAR_END_DAYS: u32 = 13;
/// Payments' quarter-end close lasts from the quarter's last day for three days.
const QUARTER_CLOSE_DAYS: u32 = 3;
/// How far past the end of the history change-window occurrences are listed (held changes are
/// planned into the coming weeks).
const LOOKAHEAD: i64 = 120 * DAY;

pub(crate) use changegate_core::civil::{civil_from_days, days_from_civil};

/// `YYYYMMDD` of the UTC date of `time`, for a DTSTART.
fn basic_date(time: i64) -> String {
    let (year, month, day) = civil_from_days(time.div_euclid(DAY));
    format!("{year:04}{month:02}{day:02}")
}

fn year_of(time: i64) -> i64 {
    civil_from_days(time.div_euclid(DAY)).0
}

/// The Monday before US Thanksgiving (the fourth Thursday of November) of `year`, as days.
fn black_friday_monday(year: i64) -> i64 {
    let first = days_from_civil(year, 11, 1);
    let weekday = (first + 3).rem_euclid(7); // 0 = Monday; 1970-01-01 was a Thursday
    let first_thursday = first + (3 - weekday).rem_euclid(7);
    first_thursday + 21 - 3
}

/// Name of the change window of a team.
pub(crate) fn change_window_name(team: &str) -> String {
    format!("{team}-change-window")
}

/// Every window of the demo calendar for a history over `[start, end)`. Recurring rules start
/// three weeks before the history (the calendar expands a rule from its DTSTART, so a recent one
/// keeps every lookup short).
pub(crate) fn windows(start: i64, end: i64) -> Vec<CalendarWindow> {
    let anchor = start - 21 * DAY;
    let mut windows = Vec::new();
    for (team, (zone, days, hour, minutes)) in TEAMS.iter().zip(CHANGE_WINDOWS) {
        let until = hour * 60 + minutes;
        windows.push(CalendarWindow {
            name: change_window_name(team),
            kind: WindowKind::Maintenance,
            scope: WindowScope::Team { name: (*team).to_owned() },
            schedule: Schedule::Recurring {
                rule: format!("DTSTART;TZID={zone}:{}T{hour:02}0000\nRRULE:FREQ=WEEKLY;BYDAY={days}", basic_date(anchor)),
                time_zone: zone.to_owned(),
                duration_minutes: minutes,
            },
            description: format!(
                "The {team} team's change window: {days} from {hour:02}:00 to {:02}:{:02} {zone} time. Changes are planned here, with the team at hand; not on Fridays.",
                until / 60,
                until % 60
            ),
        });
    }
    let first_year = year_of(anchor) - 1;
    windows.push(CalendarWindow {
        name: "year-end-freeze".to_owned(),
        kind: WindowKind::Freeze,
        scope: WindowScope::Global,
        schedule: Schedule::Recurring {
            rule: format!(
                "DTSTART;TZID=Europe/Berlin:{first_year:04}1220T000000\nRRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=20"
            ),
            time_zone: "Europe/Berlin".to_owned(),
            duration_minutes: YEAR_END_DAYS * 24 * 60,
        },
        description: "End-of-year holidays, 20 December to 2 January: skeleton crews, no changes but emergencies."
            .to_owned(),
    });
    for year in year_of(anchor)..=year_of(end) + 1 {
        // Midnight in New York (EST, UTC-5, all of late November) from the Monday before
        // Thanksgiving to the Tuesday after Cyber Monday.
        let monday = black_friday_monday(year) * DAY + 5 * HOUR;
        windows.push(CalendarWindow {
            name: format!("black-friday-{year}"),
            kind: WindowKind::Freeze,
            scope: WindowScope::Global,
            schedule: Schedule::OneOff {
                start: Timestamp::from_unix_ms(monday),
                end: Timestamp::from_unix_ms(monday + 8 * DAY),
            },
            description: format!("Black Friday to Cyber Monday {year}: peak traffic, no changes but emergencies."),
        });
    }
    windows.push(CalendarWindow {
        name: "payments-quarter-close".to_owned(),
        kind: WindowKind::Freeze,
        scope: WindowScope::Team { name: "payments".to_owned() },
        schedule: Schedule::Recurring {
            rule: format!(
                "DTSTART;TZID=Europe/London:{first_year:04}1231T000000\nRRULE:FREQ=MONTHLY;BYMONTH=3,6,9,12;BYMONTHDAY=-1"
            ),
            time_zone: "Europe/London".to_owned(),
            duration_minutes: QUARTER_CLOSE_DAYS * 24 * 60,
        },
        description: "Quarter-end close: finance reconciles the ledgers, so payments services do not change.".to_owned(),
    });
    windows
}

/// The calendar as the planner reads it.
pub(crate) struct Calendar {
    freezes: Vec<CalendarWindow>,
    /// Per team, the change-window occurrences from before the history to past its end, by start.
    change_windows: Vec<Vec<Occurrence>>,
    /// Global freeze spans, for the quiet holidays.
    global_freezes: Vec<Occurrence>,
}

impl Calendar {
    pub(crate) fn new(windows: &[CalendarWindow], start: i64, end: i64) -> Self {
        let from = start - 30 * DAY;
        let to = end + LOOKAHEAD;
        let occurrences = |window: &CalendarWindow| -> Vec<Occurrence> {
            // In slices, because one call returns at most `OCCURRENCES_MAX` occurrences.
            let mut found: Vec<Occurrence> = Vec::new();
            let mut slice_start = from;
            while slice_start < to {
                let slice_end = (slice_start + 180 * DAY).min(to);
                let slice = window
                    .occurrences(
                        Timestamp::from_unix_ms(slice_start),
                        Timestamp::from_unix_ms(slice_end),
                        OCCURRENCES_MAX,
                    )
                    .unwrap_or_default();
                let last = found.last().copied();
                found.extend(slice.into_iter().filter(|occurrence| last.is_none_or(|last| *occurrence > last)));
                slice_start = slice_end;
            }
            found
        };
        let change_windows = TEAMS
            .iter()
            .map(|team| {
                let name = change_window_name(team);
                windows.iter().find(|window| window.name == name).map(&occurrences).unwrap_or_default()
            })
            .collect();
        let freezes: Vec<CalendarWindow> =
            windows.iter().filter(|window| window.kind == WindowKind::Freeze).cloned().collect();
        let mut global_freezes: Vec<Occurrence> =
            freezes.iter().filter(|window| window.scope == WindowScope::Global).flat_map(&occurrences).collect();
        global_freezes.sort();
        Calendar { freezes, change_windows, global_freezes }
    }

    /// The freeze the policy will see for a change on `service` (owned by `team`) planned over
    /// `[start, end)`: its name and when it ends.
    pub(crate) fn freeze(&self, service: &str, team: &str, start: i64, end: i64) -> Option<(String, i64)> {
        let facts =
            facts_for(&self.freezes, service, team, Timestamp::from_unix_ms(start), Timestamp::from_unix_ms(end));
        facts.freeze.map(|(name, ends_at)| (name, ends_at.unix_ms()))
    }

    /// Whether `time` lies in a global freeze (the holidays: fewer changes are made).
    pub(crate) fn in_global_freeze(&self, time: i64) -> bool {
        let time = Timestamp::from_unix_ms(time);
        self.global_freezes.iter().any(|occurrence| occurrence.start <= time && time < occurrence.end)
    }

    /// The change-window occurrence of `team` running at `time`, if any.
    pub(crate) fn change_window_at(&self, team: usize, time: i64) -> Option<(i64, i64)> {
        let time = Timestamp::from_unix_ms(time);
        let occurrences = &self.change_windows[team];
        let after = occurrences.partition_point(|occurrence| occurrence.start <= time);
        after
            .checked_sub(1)
            .map(|index| occurrences[index])
            .filter(|occurrence| time < occurrence.end)
            .map(|occurrence| (occurrence.start.unix_ms(), occurrence.end.unix_ms()))
    }

    /// The first change-window occurrence of `team` that ends after `time` with at least
    /// `length` left from `time` on (or the next one that starts after `time`).
    pub(crate) fn next_change_window(&self, team: usize, time: i64, length: i64) -> Option<(i64, i64)> {
        let occurrences = &self.change_windows[team];
        let first = occurrences.partition_point(|occurrence| occurrence.end.unix_ms() <= time);
        occurrences[first..]
            .iter()
            .map(|occurrence| (occurrence.start.unix_ms(), occurrence.end.unix_ms()))
            .find(|(start, end)| end - (*start).max(time) >= length.min(end - start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 11, 26), 1_795_687_200_000 / DAY);
        for days in [-1_000, 0, 59, 365, 10_957, 20_000, 20_783] {
            let (year, month, day) = civil_from_days(days);
            assert_eq!(days_from_civil(year, month, day), days);
        }
        // Thanksgiving 2026 is Thursday 26 November, 2025's Thursday 27 November.
        assert_eq!(civil_from_days(black_friday_monday(2026)), (2026, 11, 23));
        assert_eq!(civil_from_days(black_friday_monday(2025)), (2025, 11, 24));
    }

    #[test]
    fn the_windows_are_valid_and_the_lookups_find_them() {
        let end = 1_795_687_200_000; // 2026-11-26T10:00:00Z, a Thursday
        let start = end - 18 * crate::history::MONTH;
        let windows = windows(start, end);
        for window in &windows {
            window.validate().unwrap_or_else(|error| panic!("{}: {error}", window.name));
        }
        let calendar = Calendar::new(&windows, start, end);
        let payments = TEAMS.iter().position(|team| *team == "payments").expect("a payments team");
        // Thursday 10:00Z is inside every team's window; Saturday is in none.
        assert!(calendar.change_window_at(payments, end).is_some());
        assert!(calendar.change_window_at(payments, end + 2 * DAY).is_none());
        let (next_start, _) = calendar.next_change_window(payments, end + 2 * DAY, HOUR).expect("a next window");
        assert_eq!((next_start.div_euclid(DAY) + 3).rem_euclid(7), 0, "the next window opens on Monday");
        // Black Friday week 2026 and the year-end freeze are global; the quarter close is payments'.
        assert_eq!(
            calendar.freeze("search-api", "search", end, end + HOUR).map(|(name, _)| name).as_deref(),
            Some("black-friday-2026")
        );
        let christmas = days_from_civil(2025, 12, 24) * DAY;
        assert_eq!(
            calendar.freeze("search-api", "search", christmas, christmas + HOUR).map(|(name, _)| name).as_deref(),
            Some("year-end-freeze")
        );
        assert!(calendar.in_global_freeze(christmas));
        let quarter_end = days_from_civil(2026, 9, 30) * DAY + 12 * HOUR;
        assert_eq!(
            calendar
                .freeze("ledger-service", "payments", quarter_end, quarter_end + HOUR)
                .map(|(name, _)| name)
                .as_deref(),
            Some("payments-quarter-close")
        );
        assert!(calendar.freeze("search-api", "search", quarter_end, quarter_end + HOUR).is_none());
    }
}
