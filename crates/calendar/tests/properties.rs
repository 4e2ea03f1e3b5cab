//! Properties of expansion over random daily and weekly rules in zones with unusual transitions
//! (half-hour shifts, transitions at midnight, southern hemisphere): occurrences are sorted,
//! disjoint, inside the asked range, within the limit, consistent when the range is split, and
//! start at the rule's local time unless that time does not exist that day.

use chrono::{DateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use proptest::prelude::*;

use changegate_calendar::{CalendarWindow, OCCURRENCES_MAX, Occurrence, Schedule, WindowKind, WindowScope};
use changegate_core::time::Timestamp;

const ZONES: [&str; 9] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe", // 30-minute shifts
    "America/Santiago",    // transitions at midnight
    "America/Havana",      // transitions at midnight
    "Pacific/Chatham",     // +12:45 / +13:45
    "Asia/Kolkata",        // no DST
    "UTC",
];

use changegate_core::civil::DAY_MS;
/// 2024-01-01T00:00:00Z.
const BASE_UNIX_MS: i64 = 1_704_067_200_000;

prop_compose! {
    /// A daily or weekly rule at a random local time, with a duration shorter than the shortest
    /// gap between two of its occurrences (23 hours, on the day the clocks go forward).
    fn daily_or_weekly_window()(
        zone in prop::sample::select(&ZONES[..]),
        weekly in any::<bool>(),
        start_day in 0i64..(3 * 365),
        hour in 0u32..24,
        minute in prop::sample::select(&[0u32, 15, 30, 45][..]),
        duration_minutes in 1u32..=(22 * 60),
    ) -> (CalendarWindow, NaiveTime) {
        let start = DateTime::from_timestamp_millis(BASE_UNIX_MS + start_day * DAY_MS).unwrap().date_naive();
        let frequency = if weekly { "WEEKLY" } else { "DAILY" };
        let rule = format!("DTSTART;TZID={zone}:{}T{hour:02}{minute:02}00\nRRULE:FREQ={frequency}", start.format("%Y%m%d"));
        let window = CalendarWindow {
            name: "property".to_owned(),
            kind: WindowKind::Maintenance,
            scope: WindowScope::Global,
            schedule: Schedule::Recurring { rule, time_zone: zone.to_owned(), duration_minutes },
            description: String::new(),
        };
        (window, NaiveTime::from_hms_opt(hour, minute, 0).unwrap())
    }
}

fn zone_of(window: &CalendarWindow) -> Tz {
    let Schedule::Recurring { time_zone, .. } = &window.schedule else { unreachable!() };
    time_zone.parse().unwrap()
}

proptest! {
    #[test]
    fn occurrences_are_sorted_disjoint_in_range_and_at_the_rules_local_time(
        (window, local_time) in daily_or_weekly_window(),
        from_day in 0i64..(4 * 365),
        range_hours in 1i64..(60 * 24),
        limit in 1usize..80,
    ) {
        window.validate().unwrap();
        let from = Timestamp::from_unix_ms(BASE_UNIX_MS + from_day * DAY_MS);
        let to = from.plus_ms(range_hours * 3_600_000);
        let all = window.occurrences(from, to, OCCURRENCES_MAX).unwrap();
        let Schedule::Recurring { duration_minutes, .. } = window.schedule else { unreachable!() };

        for occurrence in &all {
            prop_assert!(occurrence.overlaps(from, to), "{occurrence:?} outside {from}..{to}");
            prop_assert_eq!(occurrence.end.since_ms(occurrence.start), i64::from(duration_minutes) * 60_000);
            // The start is at the rule's local time, or later if that time does not exist.
            let zone = zone_of(&window);
            let local = DateTime::from_timestamp_millis(occurrence.start.unix_ms()).unwrap().with_timezone(&zone).naive_local();
            let intended = local.date().and_time(local_time);
            match zone.from_local_datetime(&intended).earliest() {
                Some(instant) => prop_assert_eq!(instant.timestamp_millis(), occurrence.start.unix_ms()),
                None => prop_assert!(local > intended && local.signed_duration_since(intended).num_hours() < 3),
            }
        }
        for pair in all.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "{:?} overlaps {:?}", pair[0], pair[1]);
        }

        // A smaller limit gives a prefix.
        let limited = window.occurrences(from, to, limit).unwrap();
        prop_assert_eq!(&limited[..], &all[..limit.min(all.len())]);

        // Splitting the range gives the same occurrences (one straddling the split comes twice).
        let middle = from.plus_ms(range_hours * 3_600_000 / 2);
        let mut joined: Vec<Occurrence> = window.occurrences(from, middle, OCCURRENCES_MAX).unwrap();
        joined.extend(window.occurrences(middle, to, OCCURRENCES_MAX).unwrap());
        joined.dedup();
        prop_assert_eq!(joined, all);
    }
}
