//! Windows as data: validation and its error codes, scoping, one-off dates (holidays), the
//! calendar facts for a planned change, and the JSON shapes the rest of the product stores.

use changegate_calendar::{
    CalendarError, CalendarFacts, CalendarWindow, DURATION_MAX_MINUTES, Occurrence, RULE_LENGTH_MAX_BYTES, Schedule,
    WindowKind, WindowScope, facts_for,
};
use changegate_core::time::Timestamp;

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn one_off(name: &str, kind: WindowKind, scope: WindowScope, start: &str, end: &str) -> CalendarWindow {
    CalendarWindow {
        name: name.to_owned(),
        kind,
        scope,
        schedule: Schedule::OneOff { start: at(start), end: at(end) },
        description: String::new(),
    }
}

fn recurring(
    name: &str,
    kind: WindowKind,
    scope: WindowScope,
    rule: &str,
    time_zone: &str,
    minutes: u32,
) -> CalendarWindow {
    CalendarWindow {
        name: name.to_owned(),
        kind,
        scope,
        schedule: Schedule::Recurring {
            rule: rule.to_owned(),
            time_zone: time_zone.to_owned(),
            duration_minutes: minutes,
        },
        description: String::new(),
    }
}

fn team(name: &str) -> WindowScope {
    WindowScope::Team { name: name.to_owned() }
}

fn service(name: &str) -> WindowScope {
    WindowScope::Service { name: name.to_owned() }
}

const SATURDAY_NIGHTS: &str = "DTSTART;TZID=Europe/Berlin:20261107T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA";

fn error_code(window: &CalendarWindow) -> &'static str {
    match window.validate() {
        Ok(()) => "ok",
        Err(error) => error.code(),
    }
}

#[test]
fn holidays_are_one_off_windows_scoped_to_whom_they_cover() {
    let christmas =
        one_off("christmas", WindowKind::Freeze, WindowScope::Global, "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z");
    let payments_close = one_off(
        "payments year-end close",
        WindowKind::Freeze,
        team("payments"),
        "2026-12-30T00:00:00Z",
        "2027-01-03T00:00:00Z",
    );
    let checkout_launch = one_off(
        "checkout launch",
        WindowKind::Freeze,
        service("checkout"),
        "2026-11-26T00:00:00Z",
        "2026-11-30T00:00:00Z",
    );
    for window in [&christmas, &payments_close, &checkout_launch] {
        window.validate().unwrap();
    }

    assert!(christmas.applies_to("checkout", "payments"));
    assert!(christmas.applies_to("search", "discovery"));
    assert!(payments_close.applies_to("ledger", "payments"));
    assert!(!payments_close.applies_to("search", "discovery"));
    assert!(checkout_launch.applies_to("checkout", "web"));
    assert!(!checkout_launch.applies_to("cart", "web"));
    // A team name is not a service name, and names match exactly.
    assert!(!payments_close.applies_to("payments", "billing"));
    assert!(!checkout_launch.applies_to("Checkout", "web"));

    assert_eq!(
        christmas.occurrences(at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), 10).unwrap(),
        [Occurrence { start: at("2026-12-24T00:00:00Z"), end: at("2026-12-27T00:00:00Z") }]
    );
    // The end is exclusive: the 27th at midnight is already free.
    assert_eq!(christmas.overlapping(at("2026-12-27T00:00:00Z"), at("2026-12-27T00:00:00.001Z")).unwrap(), None);
    assert!(christmas.overlapping(at("2026-12-26T23:59:59Z"), at("2026-12-27T00:00:00Z")).unwrap().is_some());
    assert_eq!(christmas.occurrences(at("2027-01-01T00:00:00Z"), at("2027-02-01T00:00:00Z"), 10).unwrap(), []);
}

#[test]
fn facts_report_the_freeze_ending_last_among_those_that_apply() {
    let windows = [
        one_off("christmas", WindowKind::Freeze, WindowScope::Global, "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z"),
        one_off(
            "payments year-end",
            WindowKind::Freeze,
            team("payments"),
            "2026-12-20T00:00:00Z",
            "2027-01-04T00:00:00Z",
        ),
        // Ends even later, but covers another service.
        one_off(
            "search reindex",
            WindowKind::Freeze,
            service("search"),
            "2026-12-01T00:00:00Z",
            "2027-02-01T00:00:00Z",
        ),
    ];
    let facts = facts_for(&windows, "ledger", "payments", at("2026-12-25T10:00:00Z"), at("2026-12-25T11:00:00Z"));
    assert_eq!(
        facts,
        CalendarFacts {
            freeze: Some(("payments year-end".to_owned(), at("2027-01-04T00:00:00Z"))),
            in_maintenance_window: false
        }
    );
    // Another team only sees the global freeze.
    let facts = facts_for(&windows, "cart", "web", at("2026-12-25T10:00:00Z"), at("2026-12-25T11:00:00Z"));
    assert_eq!(facts.freeze, Some(("christmas".to_owned(), at("2026-12-27T00:00:00Z"))));
    // A change that ends exactly when the freeze starts is not in it (half-open spans).
    let facts = facts_for(&windows, "cart", "web", at("2026-12-23T22:00:00Z"), at("2026-12-24T00:00:00Z"));
    assert_eq!(facts.freeze, None);
    // A change with no duration is read as an instant.
    let instant = at("2026-12-24T00:00:00Z");
    assert_eq!(
        facts_for(&windows, "cart", "web", instant, instant).freeze.map(|(name, _)| name).as_deref(),
        Some("christmas")
    );
}

#[test]
fn a_recurring_freeze_reports_the_end_of_the_occurrence_the_change_overlaps() {
    let windows =
        [recurring("weekend freeze", WindowKind::Freeze, WindowScope::Global, SATURDAY_NIGHTS, "Europe/Berlin", 600)];
    // Saturday 2026-11-14 22:00 CET (21:00Z) for 10 hours.
    let facts = facts_for(&windows, "checkout", "web", at("2026-11-15T02:00:00Z"), at("2026-11-15T03:00:00Z"));
    assert_eq!(facts.freeze, Some(("weekend freeze".to_owned(), at("2026-11-15T07:00:00Z"))));
    // A change spanning two weekends reports the later end.
    let facts = facts_for(&windows, "checkout", "web", at("2026-11-14T00:00:00Z"), at("2026-11-22T00:00:00Z"));
    assert_eq!(facts.freeze, Some(("weekend freeze".to_owned(), at("2026-11-22T07:00:00Z"))));
    let facts = facts_for(&windows, "checkout", "web", at("2026-11-17T10:00:00Z"), at("2026-11-17T11:00:00Z"));
    assert_eq!(facts, CalendarFacts::default());
}

#[test]
fn a_change_is_in_a_maintenance_window_only_if_it_lies_wholly_inside_one_occurrence() {
    let windows = [
        // Saturday 22:00 Berlin for 4 hours: 2026-11-14T21:00Z to 2026-11-15T01:00Z.
        recurring("payments weekly", WindowKind::Maintenance, team("payments"), SATURDAY_NIGHTS, "Europe/Berlin", 240),
        one_off(
            "search migration",
            WindowKind::Maintenance,
            service("search"),
            "2026-11-14T00:00:00Z",
            "2026-11-16T00:00:00Z",
        ),
    ];
    let inside = |service: &str, team: &str, start: &str, end: &str| {
        facts_for(&windows, service, team, at(start), at(end)).in_maintenance_window
    };
    assert!(inside("ledger", "payments", "2026-11-14T21:00:00Z", "2026-11-15T01:00:00Z"));
    assert!(inside("ledger", "payments", "2026-11-14T22:00:00Z", "2026-11-14T23:00:00Z"));
    assert!(!inside("ledger", "payments", "2026-11-14T20:59:00Z", "2026-11-14T23:00:00Z")); // starts before
    assert!(!inside("ledger", "payments", "2026-11-14T22:00:00Z", "2026-11-15T01:00:00.001Z")); // ends after
    assert!(!inside("cart", "web", "2026-11-14T22:00:00Z", "2026-11-14T23:00:00Z")); // another team's window
    assert!(inside("search", "discovery", "2026-11-14T22:00:00Z", "2026-11-15T23:00:00Z"));
    assert!(!inside("ledger", "payments", "2026-11-17T22:00:00Z", "2026-11-17T23:00:00Z")); // a Tuesday
}

#[test]
fn facts_skip_windows_that_do_not_validate() {
    let windows = [
        recurring("broken", WindowKind::Freeze, WindowScope::Global, "RRULE:FREQ=WEEKLY", "Europe/Berlin", 60),
        recurring("nowhere", WindowKind::Freeze, WindowScope::Global, SATURDAY_NIGHTS, "Mars/Olympus_Mons", 60),
        one_off("christmas", WindowKind::Freeze, WindowScope::Global, "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z"),
    ];
    let facts = facts_for(&windows, "cart", "web", at("2026-12-25T10:00:00Z"), at("2026-12-25T11:00:00Z"));
    assert_eq!(facts.freeze.map(|(name, _)| name).as_deref(), Some("christmas"));
}

#[test]
fn validation_names_what_is_wrong_with_a_stable_code() {
    let valid = recurring("weekly", WindowKind::Maintenance, WindowScope::Global, SATURDAY_NIGHTS, "Europe/Berlin", 60);
    assert_eq!(error_code(&valid), "ok");
    let with_rule = |rule: &str| CalendarWindow {
        schedule: Schedule::Recurring {
            rule: rule.to_owned(),
            time_zone: "Europe/Berlin".to_owned(),
            duration_minutes: 60,
        },
        ..valid.clone()
    };
    let with_duration = |duration_minutes: u32| CalendarWindow {
        schedule: Schedule::Recurring {
            rule: SATURDAY_NIGHTS.to_owned(),
            time_zone: "Europe/Berlin".to_owned(),
            duration_minutes,
        },
        ..valid.clone()
    };

    // Window fields.
    assert_eq!(error_code(&CalendarWindow { name: String::new(), ..valid.clone() }), "invalid_window");
    assert_eq!(error_code(&CalendarWindow { name: "  ".to_owned(), ..valid.clone() }), "invalid_window");
    assert_eq!(error_code(&CalendarWindow { name: "x".repeat(201), ..valid.clone() }), "invalid_window");
    assert_eq!(error_code(&CalendarWindow { description: "x".repeat(4001), ..valid.clone() }), "invalid_window");
    assert_eq!(error_code(&CalendarWindow { scope: team(""), ..valid.clone() }), "invalid_window");
    assert_eq!(error_code(&CalendarWindow { scope: service(""), ..valid.clone() }), "invalid_window");
    let instant = "2026-12-24T00:00:00Z";
    assert_eq!(
        error_code(&one_off("empty", WindowKind::Freeze, WindowScope::Global, instant, instant)),
        "invalid_window"
    );
    assert_eq!(
        error_code(&one_off("backwards", WindowKind::Freeze, WindowScope::Global, "2026-12-27T00:00:00Z", instant)),
        "invalid_window"
    );
    assert_eq!(
        error_code(&one_off("decade", WindowKind::Freeze, WindowScope::Global, instant, "2036-12-24T00:00:00Z")),
        "invalid_window"
    );

    // Durations: 1 minute to 31 days.
    assert_eq!(DURATION_MAX_MINUTES, 44_640);
    assert_eq!(error_code(&with_duration(0)), "invalid_duration");
    assert_eq!(error_code(&with_duration(1)), "ok");
    assert_eq!(error_code(&with_duration(44_640)), "ok");
    assert_eq!(error_code(&with_duration(44_641)), "invalid_duration");

    // Time zones.
    let zone = |time_zone: &str| CalendarWindow {
        schedule: Schedule::Recurring {
            rule: "cron:0 22 * * SAT".to_owned(),
            time_zone: time_zone.to_owned(),
            duration_minutes: 60,
        },
        ..valid.clone()
    };
    assert_eq!(error_code(&zone("Europe/Berlin")), "ok");
    assert_eq!(error_code(&zone("Europe/Atlantis")), "unknown_time_zone");
    assert_eq!(error_code(&zone("CEST")), "unknown_time_zone");
    assert_eq!(error_code(&zone("")), "unknown_time_zone");

    // Rules.
    for (rule, why) in [
        ("", "empty"),
        ("RRULE:FREQ=WEEKLY;BYDAY=SA", "no DTSTART"),
        ("DTSTART;TZID=Europe/Berlin:20261107T220000", "no RRULE"),
        ("DTSTART;TZID=Europe/Berlin:20261107T220000\nRRULE:FREQ=FORTNIGHTLY", "unknown frequency"),
        ("DTSTART;TZID=Europe/Berlin:20261107T220000\nRRULE:FREQ=WEEKLY;BYDAY=XX", "unknown weekday"),
        ("DTSTART;TZID=Europe/Berlin:20261107T220000\nRRULE:FREQ=MINUTELY", "too frequent"),
        ("DTSTART;TZID=Europe/Berlin:20261107T220000\nRRULE:FREQ=SECONDLY", "too frequent"),
        ("DTSTART;TZID=America/New_York:20261107T220000\nRRULE:FREQ=DAILY", "TZID is not the window's zone"),
        ("DTSTART:20261107T210000Z\nRRULE:FREQ=DAILY", "UTC start in a non-UTC window"),
        ("DTSTART;VALUE=DATE:20261107\nRRULE:FREQ=DAILY", "date-only start"),
        ("DTSTART:2026-11-07T22:00:00\nRRULE:FREQ=DAILY", "not the compact format"),
        ("DTSTART:20261107T220000\nRRULE:FREQ=DAILY;UNTIL=20261231", "date-only UNTIL"),
        ("DTSTART:20261107T220000\nRRULE:FREQ=DAILY;UNTIL=20251231T000000Z", "UNTIL before the start: never occurs"),
        ("DTSTART:20261107T220000\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "February 30th: never occurs"),
        ("DTSTART:20261107T220000\nRRULE:FREQ=DAILY\nRRULE:FREQ=WEEKLY", "two RRULEs"),
        ("DTSTART:20261107T220000\nDTSTART:20261108T220000\nRRULE:FREQ=DAILY", "two DTSTARTs"),
        ("DTSTART:20261107T220000\nRRULE:FREQ=DAILY\nEXRULE:FREQ=WEEKLY", "unsupported property"),
        ("DTSTART:20261107T220000\nRRULE:FREQ=DAILY\nEXDATE:20261108", "date-only EXDATE"),
        ("cron:0 22 * *", "four cron fields"),
        ("cron:0 22 30 2 *", "February 30th in cron: never occurs"),
    ] {
        assert_eq!(error_code(&with_rule(rule)), "invalid_rule", "{why}: {rule:?}");
    }
    let too_long = format!("{SATURDAY_NIGHTS}\nEXDATE:{}", vec!["20261114T220000"; 300].join(","));
    assert!(too_long.len() > RULE_LENGTH_MAX_BYTES);
    assert_eq!(error_code(&with_rule(&too_long)), "invalid_rule");
    // Accepted spellings.
    for rule in [
        "DTSTART:20261107T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA",
        "DTSTART;VALUE=DATE-TIME;TZID=Europe/Berlin:20261107T220000\r\nRRULE:FREQ=WEEKLY;BYDAY=SA;WKST=MO\r\n",
        "DTSTART;TZID=Europe/Berlin:20260329T023000\nRRULE:FREQ=YEARLY", // a DTSTART in the gap is fine
        "DTSTART:20261107T220000\nRRULE:FREQ=HOURLY;BYHOUR=22,23;BYMINUTE=0,30",
        "cron:*/30 22-23 * * 6",
    ] {
        assert_eq!(error_code(&with_rule(rule)), "ok", "{rule:?}");
    }
    // A UTC DTSTART is accepted in a UTC window.
    let utc = CalendarWindow {
        schedule: Schedule::Recurring {
            rule: "DTSTART:20261107T210000Z\nRRULE:FREQ=DAILY".to_owned(),
            time_zone: "UTC".to_owned(),
            duration_minutes: 60,
        },
        ..valid.clone()
    };
    assert_eq!(error_code(&utc), "ok");

    // Messages say what to fix.
    let error = with_rule("DTSTART;TZID=America/New_York:20261107T220000\nRRULE:FREQ=DAILY").validate().unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid rule: DTSTART has TZID=America/New_York but the window's time_zone is Europe/Berlin; write the local time in Europe/Berlin"
    );
    assert_eq!(
        with_duration(0).validate().unwrap_err(),
        CalendarError::InvalidDuration { duration_minutes: 0, maximum_minutes: 44_640 }
    );
    // Reading an invalid window reports the same error rather than guessing.
    assert_eq!(
        with_duration(0).occurrences(at(instant), at("2027-01-01T00:00:00Z"), 10).unwrap_err().code(),
        "invalid_duration"
    );
}

#[test]
fn windows_serialise_as_snake_case_json_with_kind_tags() {
    let window =
        recurring("payments weekly", WindowKind::Maintenance, team("payments"), SATURDAY_NIGHTS, "Europe/Berlin", 240);
    let json = serde_json::to_string(&window).unwrap();
    assert_eq!(
        json,
        r#"{"name":"payments weekly","kind":"maintenance","scope":{"kind":"team","name":"payments"},"schedule":{"kind":"recurring","rule":"DTSTART;TZID=Europe/Berlin:20261107T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA","time_zone":"Europe/Berlin","duration_minutes":240},"description":""}"#
    );
    assert_eq!(serde_json::from_str::<CalendarWindow>(&json).unwrap(), window);

    let holiday =
        one_off("christmas", WindowKind::Freeze, WindowScope::Global, "2026-12-24T00:00:00Z", "2026-12-27T00:00:00Z");
    let json = serde_json::to_string(&holiday).unwrap();
    assert_eq!(
        json,
        r#"{"name":"christmas","kind":"freeze","scope":{"kind":"global"},"schedule":{"kind":"one_off","start":"2026-12-24T00:00:00Z","end":"2026-12-27T00:00:00Z"},"description":""}"#
    );
    assert_eq!(serde_json::from_str::<CalendarWindow>(&json).unwrap(), holiday);
    assert_eq!(serde_json::to_string(&service("checkout")).unwrap(), r#"{"kind":"service","name":"checkout"}"#);

    // Unknown fields are refused rather than ignored; the description may be left out.
    assert!(serde_json::from_str::<WindowScope>(r#"{"kind":"global","name":"x"}"#).is_err());
    assert!(
        serde_json::from_str::<CalendarWindow>(&json.replace(r#""description":"""#, r#""descripton":"""#)).is_err()
    );
    let without_description = json.replace(r#","description":"""#, "");
    assert_eq!(serde_json::from_str::<CalendarWindow>(&without_description).unwrap(), holiday);

    let facts = CalendarFacts {
        freeze: Some(("christmas".to_owned(), at("2026-12-27T00:00:00Z"))),
        in_maintenance_window: false,
    };
    assert_eq!(
        serde_json::to_string(&facts).unwrap(),
        r#"{"freeze":["christmas","2026-12-27T00:00:00Z"],"in_maintenance_window":false}"#
    );
}
