//! Recurring windows: RRULE and cron expansion, time zones and daylight-saving transitions,
//! UNTIL/COUNT/EXDATE, and the occurrence limits.

use changegate_calendar::{
    CalendarWindow, OCCURRENCES_MAX, Occurrence, SCANNED_OCCURRENCES_MAX, Schedule, WindowKind, WindowScope,
};
use changegate_core::time::Timestamp;

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn recurring(rule: &str, time_zone: &str, duration_minutes: u32) -> CalendarWindow {
    CalendarWindow {
        name: "window".to_owned(),
        kind: WindowKind::Maintenance,
        scope: WindowScope::Global,
        schedule: Schedule::Recurring { rule: rule.to_owned(), time_zone: time_zone.to_owned(), duration_minutes },
        description: String::new(),
    }
}

/// Occurrences as `start/end` RFC 3339 text (UTC), for readable assertions.
fn spans(window: &CalendarWindow, from: &str, to: &str) -> Vec<String> {
    window.validate().unwrap();
    let occurrences = window.occurrences(at(from), at(to), OCCURRENCES_MAX).unwrap();
    occurrences.iter().map(|Occurrence { start, end }| format!("{start}/{end}")).collect()
}

#[test]
fn weekly_saturday_night_in_berlin_keeps_its_local_time_across_both_transitions() {
    // 22:00 local every Saturday for 4 hours. Berlin is UTC+1 in winter and UTC+2 in summer;
    // the clocks change early on Sunday 2026-03-29 and Sunday 2026-10-25, inside the windows of
    // the Saturday nights before.
    let window =
        recurring("DTSTART;TZID=Europe/Berlin:20260307T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA", "Europe/Berlin", 240);
    assert_eq!(
        spans(&window, "2026-03-20T00:00:00Z", "2026-04-05T00:00:00Z"),
        [
            "2026-03-21T21:00:00Z/2026-03-22T01:00:00Z", // 22:00 CET to 02:00 CET
            // 22:00 CET; four real hours later it is 03:00 CEST, not 02:00.
            "2026-03-28T21:00:00Z/2026-03-29T01:00:00Z",
            "2026-04-04T20:00:00Z/2026-04-05T00:00:00Z", // 22:00 CEST: one hour earlier in UTC
        ]
    );
    assert_eq!(
        spans(&window, "2026-10-16T00:00:00Z", "2026-11-01T00:00:00Z"),
        [
            "2026-10-17T20:00:00Z/2026-10-18T00:00:00Z", // 22:00 CEST
            "2026-10-24T20:00:00Z/2026-10-25T00:00:00Z", // 22:00 CEST; ends 01:00 CET local
            "2026-10-31T21:00:00Z/2026-11-01T01:00:00Z", // 22:00 CET
        ]
    );
}

#[test]
fn a_local_time_that_does_not_exist_moves_forward_by_the_gap() {
    // Sunday 02:30 in Berlin: on 2026-03-29 the clocks jump from 02:00 to 03:00, so 02:30 does
    // not exist; it is read with the offset before the gap (RFC 5545), i.e. 03:30 CEST.
    let window =
        recurring("DTSTART;TZID=Europe/Berlin:20260301T023000\nRRULE:FREQ=WEEKLY;BYDAY=SU", "Europe/Berlin", 60);
    assert_eq!(
        spans(&window, "2026-03-21T00:00:00Z", "2026-04-06T00:00:00Z"),
        [
            "2026-03-22T01:30:00Z/2026-03-22T02:30:00Z", // 02:30 CET
            "2026-03-29T01:30:00Z/2026-03-29T02:30:00Z", // 03:30 CEST (02:30 does not exist)
            "2026-04-05T00:30:00Z/2026-04-05T01:30:00Z", // 02:30 CEST
        ]
    );
}

#[test]
fn a_local_time_that_occurs_twice_is_its_first_occurrence() {
    // On 2026-10-25 Berlin goes from 03:00 CEST back to 02:00 CET, so 02:30 happens twice; the
    // window starts at the first, 02:30 CEST, and lasts 60 real minutes: until the second 02:30.
    let window =
        recurring("DTSTART;TZID=Europe/Berlin:20261004T023000\nRRULE:FREQ=WEEKLY;BYDAY=SU", "Europe/Berlin", 60);
    assert_eq!(
        spans(&window, "2026-10-17T00:00:00Z", "2026-11-02T00:00:00Z"),
        [
            "2026-10-18T00:30:00Z/2026-10-18T01:30:00Z", // 02:30 CEST
            "2026-10-25T00:30:00Z/2026-10-25T01:30:00Z", // the first 02:30 (CEST), once only
            "2026-11-01T01:30:00Z/2026-11-01T02:30:00Z", // 02:30 CET
        ]
    );
}

#[test]
fn a_daily_new_york_window_keeps_its_local_start_so_its_utc_start_shifts_an_hour() {
    let window = recurring("DTSTART;TZID=America/New_York:20260301T090000\nRRULE:FREQ=DAILY", "America/New_York", 30);
    // Clocks go forward on Sunday 2026-03-08 at 02:00.
    assert_eq!(
        spans(&window, "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z"),
        [
            "2026-03-07T14:00:00Z/2026-03-07T14:30:00Z", // 09:00 EST (UTC-5)
            "2026-03-08T13:00:00Z/2026-03-08T13:30:00Z", // 09:00 EDT (UTC-4)
            "2026-03-09T13:00:00Z/2026-03-09T13:30:00Z",
        ]
    );
    // And back on Sunday 2026-11-01 at 02:00.
    assert_eq!(
        spans(&window, "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z"),
        [
            "2026-10-31T13:00:00Z/2026-10-31T13:30:00Z", // 09:00 EDT
            "2026-11-01T14:00:00Z/2026-11-01T14:30:00Z", // 09:00 EST
            "2026-11-02T14:00:00Z/2026-11-02T14:30:00Z",
        ]
    );
}

#[test]
fn new_york_night_window_across_the_gap_and_the_repeated_hour() {
    let window = recurring("DTSTART;TZID=America/New_York:20260301T013000\nRRULE:FREQ=DAILY", "America/New_York", 60);
    // 01:30 exists on 2026-03-08 (the gap is 02:00-03:00), so nothing moves.
    assert_eq!(
        spans(&window, "2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z"),
        ["2026-03-08T06:30:00Z/2026-03-08T07:30:00Z"] // 01:30 EST; ends 03:30 EDT
    );
    // 01:30 happens twice on 2026-11-01: the first (EDT) is taken, once.
    assert_eq!(
        spans(&window, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
        ["2026-11-01T05:30:00Z/2026-11-01T06:30:00Z"] // 01:30 EDT to 01:30 EST
    );
}

#[test]
fn the_same_rule_in_different_time_zones_names_different_instants() {
    // A floating DTSTART (no TZID) is read in the window's own zone.
    let rule = "DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2";
    let first =
        |time_zone: &str| spans(&recurring(rule, time_zone, 60), "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");
    assert_eq!(
        first("Europe/Berlin"),
        ["2026-01-05T08:00:00Z/2026-01-05T09:00:00Z", "2026-01-12T08:00:00Z/2026-01-12T09:00:00Z"]
    );
    assert_eq!(
        first("America/New_York"),
        ["2026-01-05T14:00:00Z/2026-01-05T15:00:00Z", "2026-01-12T14:00:00Z/2026-01-12T15:00:00Z"]
    );
    assert_eq!(
        first("Asia/Kolkata"),
        ["2026-01-05T03:30:00Z/2026-01-05T04:30:00Z", "2026-01-12T03:30:00Z/2026-01-12T04:30:00Z"]
    );
    assert_eq!(
        first("UTC"),
        ["2026-01-05T09:00:00Z/2026-01-05T10:00:00Z", "2026-01-12T09:00:00Z/2026-01-12T10:00:00Z"]
    );
}

#[test]
fn southern_hemisphere_transitions_run_the_other_way() {
    // Sydney leaves daylight time on Sunday 2026-04-05 (UTC+11 to UTC+10) and enters it on
    // Sunday 2026-10-04 (02:00 becomes 03:00).
    let window =
        recurring("DTSTART;TZID=Australia/Sydney:20260301T023000\nRRULE:FREQ=WEEKLY;BYDAY=SU", "Australia/Sydney", 30);
    assert_eq!(
        spans(&window, "2026-03-28T00:00:00Z", "2026-04-06T00:00:00Z"),
        [
            "2026-03-28T15:30:00Z/2026-03-28T16:00:00Z", // Sun 03-29 02:30 AEDT
            "2026-04-04T15:30:00Z/2026-04-04T16:00:00Z", // Sun 04-05 02:30 happens twice: first, AEDT
        ]
    );
    assert_eq!(
        spans(&window, "2026-10-03T00:00:00Z", "2026-10-12T00:00:00Z"),
        [
            "2026-10-03T16:30:00Z/2026-10-03T17:00:00Z", // Sun 10-04 02:30 does not exist: 03:30 AEDT
            "2026-10-10T15:30:00Z/2026-10-10T16:00:00Z", // Sun 10-11 02:30 AEDT
        ]
    );
}

#[test]
fn cron_expressions_expand_like_the_equivalent_rrule() {
    let cron = recurring("cron:0 22 * * SAT", "Europe/Berlin", 240);
    let rrule =
        recurring("DTSTART;TZID=Europe/Berlin:20260103T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA", "Europe/Berlin", 240);
    for (from, to) in
        [("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z"), ("2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z")]
    {
        assert_eq!(spans(&cron, from, to), spans(&rrule, from, to));
    }
    // An occurrence that began before the range and is still running is included.
    assert_eq!(
        spans(&cron, "2026-03-28T23:00:00Z", "2026-03-28T23:30:00Z"),
        ["2026-03-28T21:00:00Z/2026-03-29T01:00:00Z"]
    );
}

#[test]
fn cron_day_fields_follow_vixie_cron() {
    // Both day fields restricted: the 1st of the month OR a Monday.
    let either = recurring("cron:30 6 1 * MON", "UTC", 10);
    assert_eq!(
        spans(&either, "2026-06-01T00:00:00Z", "2026-06-16T00:00:00Z"),
        [
            "2026-06-01T06:30:00Z/2026-06-01T06:40:00Z", // the 1st, also a Monday: once
            "2026-06-08T06:30:00Z/2026-06-08T06:40:00Z",
            "2026-06-15T06:30:00Z/2026-06-15T06:40:00Z",
        ]
    );
    // A `*`-prefixed day field: both must match (odd days that are Mondays).
    let both = recurring("cron:30 6 */2 * MON", "UTC", 10);
    assert_eq!(
        spans(&both, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"),
        [
            "2026-06-01T06:30:00Z/2026-06-01T06:40:00Z",
            "2026-06-15T06:30:00Z/2026-06-15T06:40:00Z",
            "2026-06-29T06:30:00Z/2026-06-29T06:40:00Z"
        ]
    );
    // Month names and a step over hours, in a zone with DST: local times stay put.
    let quarterly = recurring("cron:0 */12 1 JAN,JUL *", "America/New_York", 60);
    assert_eq!(
        spans(&quarterly, "2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z"),
        [
            "2026-01-01T05:00:00Z/2026-01-01T06:00:00Z",
            "2026-01-01T17:00:00Z/2026-01-01T18:00:00Z",
            "2026-07-01T04:00:00Z/2026-07-01T05:00:00Z",
            "2026-07-01T16:00:00Z/2026-07-01T17:00:00Z",
        ]
    );
}

#[test]
fn until_count_and_exdate_bound_the_rule() {
    // UNTIL in UTC is an instant; inclusive, as in RFC 5545.
    let until_utc = recurring(
        "DTSTART;TZID=Europe/Berlin:20260601T100000\nRRULE:FREQ=DAILY;UNTIL=20260603T080000Z",
        "Europe/Berlin",
        30,
    );
    assert_eq!(
        spans(&until_utc, "2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z"),
        [
            "2026-06-01T08:00:00Z/2026-06-01T08:30:00Z",
            "2026-06-02T08:00:00Z/2026-06-02T08:30:00Z",
            "2026-06-03T08:00:00Z/2026-06-03T08:30:00Z"
        ]
    );
    // UNTIL without Z is a local time in the window's zone.
    let until_local = recurring("DTSTART:20260601T100000\nRRULE:FREQ=DAILY;UNTIL=20260602T100000", "Europe/Berlin", 30);
    assert_eq!(spans(&until_local, "2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z").len(), 2);
    let count = recurring("DTSTART:20260601T100000\nRRULE:FREQ=WEEKLY;COUNT=3", "Europe/Berlin", 30);
    assert_eq!(spans(&count, "2026-05-01T00:00:00Z", "2027-01-01T00:00:00Z").len(), 3);
    // EXDATE removes one local date-time (here: skip the maintenance on a holiday).
    let skipping = recurring(
        "DTSTART;TZID=Europe/Berlin:20261201T100000\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE;TZID=Europe/Berlin:20261202T100000",
        "Europe/Berlin",
        30,
    );
    assert_eq!(
        spans(&skipping, "2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ["2026-12-01T09:00:00Z/2026-12-01T09:30:00Z", "2026-12-03T09:00:00Z/2026-12-03T09:30:00Z"]
    );
}

#[test]
fn dtstart_counts_only_when_it_matches_the_rule() {
    // 2026-11-06 is a Friday; the first Saturday after it is the first occurrence.
    let window =
        recurring("DTSTART;TZID=Europe/Berlin:20261106T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA", "Europe/Berlin", 60);
    assert_eq!(
        window.overlapping(at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z")).unwrap(),
        Some(Occurrence { start: at("2026-11-07T21:00:00Z"), end: at("2026-11-07T22:00:00Z") })
    );
}

#[test]
fn overlapping_finds_the_first_occurrence_and_treats_spans_as_half_open() {
    let window = recurring("DTSTART:20260101T020000\nRRULE:FREQ=DAILY", "UTC", 120);
    let occurrence = Occurrence { start: at("2026-05-10T02:00:00Z"), end: at("2026-05-10T04:00:00Z") };
    // An instant is [t, t + 1 ms).
    let instant = at("2026-05-10T03:59:59.999Z");
    assert_eq!(window.overlapping(instant, instant.plus_ms(1)).unwrap(), Some(occurrence));
    // The end is exclusive, the start inclusive.
    let end = at("2026-05-10T04:00:00Z");
    assert_eq!(window.overlapping(end, end.plus_ms(1)).unwrap(), None);
    assert_eq!(window.overlapping(at("2026-05-10T01:00:00Z"), at("2026-05-10T02:00:00Z")).unwrap(), None);
    assert_eq!(
        window.overlapping(at("2026-05-10T01:00:00Z"), at("2026-05-10T02:00:00.001Z")).unwrap(),
        Some(occurrence)
    );
    // An empty or reversed range has no occurrences.
    assert_eq!(window.occurrences(instant, instant, 10).unwrap(), []);
    assert_eq!(window.occurrences(end, instant, 10).unwrap(), []);
}

#[test]
fn occurrences_stop_at_the_limit_and_at_the_hard_cap() {
    let hourly = recurring("DTSTART:20260101T000000\nRRULE:FREQ=HOURLY;BYMINUTE=0", "Europe/Berlin", 30);
    let from = at("2026-01-01T00:00:00Z");
    let to = at("2027-01-01T00:00:00Z"); // 8760 occurrences in range
    let five = hourly.occurrences(from, to, 5).unwrap();
    assert_eq!(five.len(), 5);
    assert_eq!(five[0].start, at("2026-01-01T00:00:00Z")); // 01:00 CET
    assert_eq!(five[4].start, at("2026-01-01T04:00:00Z"));
    assert_eq!(hourly.occurrences(from, to, usize::MAX).unwrap().len(), OCCURRENCES_MAX);
    assert_eq!(hourly.occurrences(from, to, 0).unwrap(), []);
    // A one-off window has at most one occurrence.
    let one_off = CalendarWindow {
        schedule: Schedule::OneOff { start: at("2026-12-24T00:00:00Z"), end: at("2026-12-27T00:00:00Z") },
        ..hourly.clone()
    };
    assert_eq!(one_off.occurrences(from, to, 5).unwrap().len(), 1);
    assert_eq!(one_off.occurrences(from, to, 0).unwrap(), []);
}

#[test]
fn an_expansion_that_would_scan_too_far_is_refused_not_run() {
    // Hourly since 1900: more than SCANNED_OCCURRENCES_MAX occurrences before 2026.
    let window = recurring("DTSTART:19000101T000000\nRRULE:FREQ=HOURLY;BYMINUTE=0", "UTC", 30);
    window.validate().unwrap();
    let error = window.occurrences(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"), 10).unwrap_err();
    assert_eq!(error.code(), "rule_too_expensive");
    assert!(error.to_string().contains(&SCANNED_OCCURRENCES_MAX.to_string()));
    // The same rule starting in 2020 is fine.
    let recent = recurring("DTSTART:20200101T000000\nRRULE:FREQ=HOURLY;BYMINUTE=0", "UTC", 30);
    assert_eq!(recent.occurrences(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"), 100).unwrap().len(), 24);
}
