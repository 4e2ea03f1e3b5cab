//! Conflicts between planned changes: same service, dependencies in either direction and
//! transitively, and what does not conflict.

use std::collections::BTreeMap;

use changegate_calendar::{PlannedChange, conflicts};
use changegate_core::time::Timestamp;

fn change(id: &str, service: &str, start_hour: i64, end_hour: i64) -> PlannedChange {
    let hour = |hour: i64| Timestamp::parse_rfc3339("2026-11-16T00:00:00Z").unwrap().plus_ms(hour * 3_600_000);
    PlannedChange { id: id.to_owned(), service: service.to_owned(), start: hour(start_hour), end: hour(end_hour) }
}

/// checkout → payments → ledger → postgres; search → postgres; web → checkout.
fn graph() -> BTreeMap<String, Vec<String>> {
    [
        ("web", vec!["checkout"]),
        ("checkout", vec!["payments", "cart"]),
        ("payments", vec!["ledger"]),
        ("ledger", vec!["postgres"]),
        ("search", vec!["postgres"]),
    ]
    .into_iter()
    .map(|(service, dependencies)| (service.to_owned(), dependencies.into_iter().map(str::to_owned).collect()))
    .collect()
}

#[test]
fn overlapping_changes_on_the_same_service_conflict() {
    let target = change("CHG-1", "payments", 10, 12);
    let others =
        [change("CHG-3", "payments", 11, 13), change("CHG-2", "payments", 9, 11), change("CHG-4", "payments", 12, 14)];
    // Sorted; CHG-4 starts when CHG-1 ends, which is not an overlap.
    assert_eq!(conflicts(&target, &others, &BTreeMap::new()), ["CHG-2", "CHG-3"]);
}

#[test]
fn a_direct_dependency_conflicts_in_either_direction() {
    let graph = graph();
    let target = change("CHG-1", "payments", 10, 12);
    // checkout depends on payments; payments depends on ledger.
    let others = [change("CHG-2", "checkout", 11, 12), change("CHG-3", "ledger", 10, 11)];
    assert_eq!(conflicts(&target, &others, &graph), ["CHG-2", "CHG-3"]);
}

#[test]
fn a_transitive_dependency_conflicts_in_either_direction() {
    let graph = graph();
    // web → checkout → payments → ledger → postgres.
    let target = change("CHG-1", "web", 10, 12);
    assert_eq!(conflicts(&target, &[change("CHG-2", "postgres", 11, 15)], &graph), ["CHG-2"]);
    let target = change("CHG-1", "postgres", 10, 12);
    assert_eq!(
        conflicts(&target, &[change("CHG-2", "web", 11, 15), change("CHG-3", "search", 9, 10)], &graph),
        ["CHG-2"]
    );
}

#[test]
fn unrelated_services_and_separate_spans_do_not_conflict() {
    let graph = graph();
    let target = change("CHG-1", "payments", 10, 12);
    let others = [
        change("CHG-2", "recommendations", 10, 12), // not in the graph
        change("CHG-3", "search", 10, 12),          // shares only postgres with payments
        change("CHG-4", "cart", 10, 12),            // shares only checkout, a dependant
        change("CHG-5", "ledger", 12, 14),          // related, but starts when the target ends
        change("CHG-6", "checkout", 6, 10),         // related, but ends when the target starts
        change("CHG-7", "ledger", 13, 14),          // related, later
        change("CHG-1", "payments", 10, 12),        // the target itself
    ];
    assert_eq!(conflicts(&target, &others, &graph), Vec::<String>::new());
}

#[test]
fn cycles_and_repeats_are_harmless() {
    let graph: BTreeMap<String, Vec<String>> = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a", "a"])]
        .into_iter()
        .map(|(service, dependencies)| (service.to_owned(), dependencies.into_iter().map(str::to_owned).collect()))
        .collect();
    let target = change("CHG-1", "a", 10, 12);
    let others = [change("CHG-2", "c", 11, 12), change("CHG-2", "c", 11, 12), change("CHG-3", "b", 10, 11)];
    assert_eq!(conflicts(&target, &others, &graph), ["CHG-2", "CHG-3"]);
}
