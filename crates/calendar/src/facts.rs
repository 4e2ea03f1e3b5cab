//! What the calendar says about one planned change: the freeze it falls in, if any, and whether
//! it lies inside a maintenance window. These are the calendar facts the approval policy reads.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use changegate_core::time::Timestamp;

use crate::window::{CalendarWindow, WindowKind};

/// What the calendar says about a change planned on `service` (owned by `team`) over
/// `[start, end)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFacts {
    /// An applicable freeze overlapping the planned span: its window name and when that
    /// occurrence ends. With several, the one ending last (ties: the first in name order).
    pub freeze: Option<(String, Timestamp)>,
    /// Whether the whole planned span lies inside one occurrence of an applicable maintenance
    /// window.
    pub in_maintenance_window: bool,
}

/// The calendar facts for a change planned on `service`, owned by `team`, over `[start, end)`.
///
/// An empty span (`end <= start`) is read as the instant `start`, so a change with no duration
/// is still caught by a freeze. Windows that fail to expand are skipped: they were validated on
/// entry, and one broken window must not hide the others. The only error a validated window can
/// still hit is `rule_too_expensive` (see [`crate::SCANNED_OCCURRENCES_MAX`]).
pub fn facts_for(
    windows: &[CalendarWindow],
    service: &str,
    team: &str,
    start: Timestamp,
    end: Timestamp,
) -> CalendarFacts {
    let end = if end <= start { start.plus_ms(1) } else { end };
    let mut facts = CalendarFacts::default();
    for window in windows.iter().filter(|window| window.applies_to(service, team)) {
        match window.kind {
            WindowKind::Freeze => {
                let mut latest_end: Option<Timestamp> = None;
                // The latest end among every overlapping occurrence, not capped by
                // `OCCURRENCES_MAX`: a long change may overlap many occurrences.
                let visited = window.visit_occurrences(start, end, |occurrence| {
                    if occurrence.overlaps(start, end) && latest_end.is_none_or(|latest| occurrence.end > latest) {
                        latest_end = Some(occurrence.end);
                    }
                    ControlFlow::Continue(())
                });
                let (Ok(()), Some(ends_at)) = (visited, latest_end) else { continue };
                let replaces = match &facts.freeze {
                    None => true,
                    Some((name, current)) => ends_at > *current || (ends_at == *current && window.name < *name),
                };
                if replaces {
                    facts.freeze = Some((window.name.clone(), ends_at));
                }
            }
            WindowKind::Maintenance if !facts.in_maintenance_window => {
                // Only occurrences running at `start` can contain the whole span.
                let mut inside = false;
                let _ = window.visit_occurrences(start, start.plus_ms(1), |occurrence| {
                    inside = occurrence.contains_span(start, end);
                    if inside { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                });
                facts.in_maintenance_window = inside;
            }
            WindowKind::Maintenance => {}
        }
    }
    facts
}
