//! Rule text comes from people through the API: whatever it says, validating and expanding it
//! returns a result, never panics and never runs away.

use proptest::prelude::*;

use changegate_calendar::{CalendarWindow, Schedule, WindowKind, WindowScope};
use changegate_core::time::Timestamp;

fn rule_part() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(&["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "BIWEEKLY"][..])
            .prop_map(|frequency| format!("FREQ={frequency}")),
        (0u32..70_000).prop_map(|interval| format!("INTERVAL={interval}")),
        (0u32..5000).prop_map(|count| format!("COUNT={count}")),
        (-400i32..400).prop_map(|position| format!("BYSETPOS={position}")),
        (-40i32..40).prop_map(|day| format!("BYMONTHDAY={day}")),
        (-400i32..400).prop_map(|day| format!("BYYEARDAY={day}")),
        (-60i32..60).prop_map(|week| format!("BYWEEKNO={week}")),
        (0u32..14).prop_map(|month| format!("BYMONTH={month}")),
        (-60i32..60, prop::sample::select(&["MO", "TU", "SA", "SU", "XX"][..])).prop_map(|(nth, day)| if nth == 0 {
            format!("BYDAY={day}")
        } else {
            format!("BYDAY={nth}{day}")
        }),
        (0u32..30).prop_map(|hour| format!("BYHOUR={hour}")),
        (0u32..70).prop_map(|minute| format!("BYMINUTE={minute}")),
        (0u32..70).prop_map(|second| format!("BYSECOND={second}")),
        prop::sample::select(
            &["WKST=SU", "WKST=MO", "BYEASTER=0", "UNTIL=20300101T000000Z", "UNTIL=19990101T000000", "X=1", "=", ""][..]
        )
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_rules_are_refused_or_expanded_without_panicking(
        year in prop_oneof![Just(1u32), Just(1969), 1990u32..2040, Just(9999)],
        month in 1u32..=12,
        day in 1u32..=31,
        hour in 0u32..=24,
        parts in prop::collection::vec(rule_part(), 0..5),
        zone in prop::sample::select(&["Europe/Berlin", "America/Santiago", "Pacific/Apia", "UTC"][..]),
        cron in prop::option::of("[0-9*/,\\-A-Z ]{0,24}"),
    ) {
        let rule = match cron {
            Some(expression) => format!("cron:{expression}"),
            None => format!("DTSTART;TZID={zone}:{year:04}{month:02}{day:02}T{hour:02}0000\nRRULE:{}", parts.join(";")),
        };
        let window = CalendarWindow {
            name: "fuzz".to_owned(),
            kind: WindowKind::Freeze,
            scope: WindowScope::Global,
            schedule: Schedule::Recurring { rule, time_zone: zone.to_owned(), duration_minutes: 90 },
            description: String::new(),
        };
        let _ = window.validate();
        let from = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let _ = window.occurrences(from, from.plus_ms(400 * 24 * 3_600_000), 50);
    }
}
