//! Conflicts between planned changes: two changes whose planned spans overlap on the same
//! service, or on services where one depends on the other, directly or through others.
//!
//! "Related" follows dependency edges in one direction at a time: everything the target's
//! service depends on (transitively) and everything that depends on it (transitively). Two
//! services that merely share a dependency (both use the same database) are not related through
//! it: otherwise, in a real graph, nearly everything would conflict with everything.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use changegate_core::time::Timestamp;

/// A change with a planned span `[start, end)` on one service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedChange {
    pub id: String,
    pub service: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Ids of `others` whose planned span overlaps `target`'s (half-open: touching spans do not
/// overlap) on the same service or on a service related to it by dependency (either direction,
/// transitively), sorted and without repeats, excluding `target` itself.
///
/// `depends_on` maps a service to the services it depends on. The walk visits each service once,
/// so cycles are harmless and the cost is linear in the size of the map.
pub fn conflicts(
    target: &PlannedChange,
    others: &[PlannedChange],
    depends_on: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut depended_on_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (service, dependencies) in depends_on {
        for dependency in dependencies {
            depended_on_by.entry(dependency.as_str()).or_default().push(service.as_str());
        }
    }
    let mut related: BTreeSet<&str> = BTreeSet::from([target.service.as_str()]);
    related.extend(reachable(&target.service, |service| {
        depends_on
            .get(service)
            .map(|dependencies| dependencies.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }));
    related.extend(reachable(&target.service, |service| depended_on_by.get(service).cloned().unwrap_or_default()));

    let mut ids: Vec<String> = others
        .iter()
        .filter(|other| other.id != target.id)
        .filter(|other| related.contains(other.service.as_str()))
        .filter(|other| other.start < target.end && target.start < other.end)
        .map(|other| other.id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Every service reachable from `from` along `next` (not including `from` unless on a cycle).
fn reachable<'a>(from: &'a str, next: impl Fn(&str) -> Vec<&'a str>) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut pending = next(from);
    while let Some(service) = pending.pop() {
        if seen.insert(service) {
            pending.extend(next(service));
        }
    }
    seen
}
