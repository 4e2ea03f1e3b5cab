//! Calendar windows: what they are (freeze or maintenance), whom they cover (scope), when they
//! happen (schedule), and their occurrences over a range of time.
//!
//! These are the types the rest of the product stores and sends (serde, snake_case, unknown
//! fields refused). A window is validated when it is entered; reading functions still return
//! errors rather than trusting that, because a stored window may predate a rule change.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use changegate_core::time::Timestamp;

use crate::error::CalendarError;
use crate::rule::CompiledRule;

/// Longest window, team or service name.
pub const NAME_LENGTH_MAX_BYTES: usize = 200;
/// Longest window description.
pub const DESCRIPTION_LENGTH_MAX_BYTES: usize = 4000;
/// Longest occurrence of a recurring window: 31 days.
pub const DURATION_MAX_MINUTES: u32 = 31 * 24 * 60;
/// Longest one-off window: a year and a day, so that a whole-year freeze can be entered but a
/// typo in the year cannot make one last a decade.
pub const ONE_OFF_DURATION_MAX_DAYS: i64 = 366;
/// Most occurrences [`CalendarWindow::occurrences`] returns, whatever `limit` asks for.
pub const OCCURRENCES_MAX: usize = 1000;

use changegate_core::civil::DAY_MS;
use changegate_core::civil::MINUTE_MS;

/// What a window means for changes inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// No changes (a blackout): the policy decides what is still allowed (emergencies, say).
    Freeze,
    /// Changes are expected here; a change inside one may need fewer approvals.
    Maintenance,
}

/// Whom a window covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", from = "ScopeOnTheWire")]
pub enum WindowScope {
    /// Every service.
    Global,
    /// The services owned by one team.
    Team { name: String },
    /// One service.
    Service { name: String },
}

/// How a scope is read. serde ignores extra fields next to the tag of a unit variant even under
/// `deny_unknown_fields`, so `{"kind":"global","name":"payments"}` (a scope meant for one team)
/// would silently become global; an empty struct variant refuses it.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum ScopeOnTheWire {
    Global {},
    Team { name: String },
    Service { name: String },
}

impl From<ScopeOnTheWire> for WindowScope {
    fn from(scope: ScopeOnTheWire) -> Self {
        match scope {
            ScopeOnTheWire::Global {} => WindowScope::Global,
            ScopeOnTheWire::Team { name } => WindowScope::Team { name },
            ScopeOnTheWire::Service { name } => WindowScope::Service { name },
        }
    }
}

/// When a window happens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Once, over `[start, end)`: a holiday, a launch-week freeze.
    OneOff { start: Timestamp, end: Timestamp },
    /// Repeatedly: each occurrence starts at the rule's local wall-clock time in `time_zone` and
    /// lasts `duration_minutes` of real (absolute) time, so a 4-hour window over the night the
    /// clocks change still lasts 4 hours. `rule` is an RRULE with its DTSTART
    /// (`DTSTART;TZID=Europe/Berlin:20261107T220000\nRRULE:FREQ=WEEKLY;BYDAY=SA`) or `cron:` and
    /// 5 fields (`cron:0 22 * * SAT`); `docs/calendar.md` gives the exact rules, including what
    /// happens to a local time that does not exist or occurs twice.
    Recurring { rule: String, time_zone: String, duration_minutes: u32 },
}

/// A named freeze or maintenance window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarWindow {
    pub name: String,
    pub kind: WindowKind,
    pub scope: WindowScope,
    pub schedule: Schedule,
    #[serde(default)]
    pub description: String,
}

/// One occurrence of a window: the half-open span `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Occurrence {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Occurrence {
    /// Whether this occurrence and `[start, end)` share an instant (touching spans do not).
    pub fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        self.start < end && start < self.end
    }

    /// Whether `[start, end)` lies wholly inside this occurrence.
    pub fn contains_span(&self, start: Timestamp, end: Timestamp) -> bool {
        self.start <= start && end <= self.end
    }
}

impl CalendarWindow {
    /// Checks every field, parses the rule and the time zone, and checks that the rule occurs at
    /// least once (a rule that never fires would be a freeze that silently never applies).
    pub fn validate(&self) -> Result<(), CalendarError> {
        check_name("window name", &self.name)?;
        if self.description.len() > DESCRIPTION_LENGTH_MAX_BYTES {
            return Err(CalendarError::invalid_window(format!(
                "the description is longer than {DESCRIPTION_LENGTH_MAX_BYTES} bytes"
            )));
        }
        match &self.scope {
            WindowScope::Global => {}
            WindowScope::Team { name } => check_name("team name", name)?,
            WindowScope::Service { name } => check_name("service name", name)?,
        }
        match &self.schedule {
            Schedule::OneOff { start, end } => {
                if end <= start {
                    return Err(CalendarError::invalid_window(format!(
                        "a one-off window must end after it starts ({start} to {end})"
                    )));
                }
                if end.since_ms(*start) > ONE_OFF_DURATION_MAX_DAYS * DAY_MS {
                    return Err(CalendarError::invalid_window(format!(
                        "a one-off window lasts at most {ONE_OFF_DURATION_MAX_DAYS} days ({start} to {end})"
                    )));
                }
            }
            Schedule::Recurring { .. } => {
                let compiled = self.compiled_rule()?;
                if compiled.first_start()?.is_none() {
                    return Err(CalendarError::invalid_rule("the rule never occurs"));
                }
            }
        }
        Ok(())
    }

    /// Whether the window covers a change on `service`, owned by `team`.
    pub fn applies_to(&self, service: &str, team: &str) -> bool {
        match &self.scope {
            WindowScope::Global => true,
            WindowScope::Team { name } => name == team,
            WindowScope::Service { name } => name == service,
        }
    }

    /// The occurrences overlapping `[from, to)`, by start time, at most `limit` of them (and
    /// never more than [`OCCURRENCES_MAX`]). An occurrence that began before `from` and is still
    /// running is included. An empty or reversed range has none.
    pub fn occurrences(&self, from: Timestamp, to: Timestamp, limit: usize) -> Result<Vec<Occurrence>, CalendarError> {
        let limit = limit.min(OCCURRENCES_MAX);
        let mut found: Vec<Occurrence> = Vec::new();
        if limit == 0 || from >= to {
            return Ok(found);
        }
        // Starts arrive in wall-clock order, which can differ from instant order by less than a
        // day around a DST gap. So after `limit` are found, keep going until starts are two days
        // past the latest found, then sort and cut.
        let mut cutoff: Option<Timestamp> = None;
        self.visit_occurrences(from, to, |occurrence| {
            if cutoff.is_some_and(|cutoff| occurrence.start > cutoff) {
                return ControlFlow::Break(());
            }
            if occurrence.overlaps(from, to) {
                found.push(occurrence);
                if found.len() == limit {
                    let latest = found.iter().map(|found| found.start).max().unwrap_or(occurrence.start);
                    cutoff = Some(latest.plus_ms(2 * DAY_MS));
                }
            }
            ControlFlow::Continue(())
        })?;
        found.sort();
        // Two local times can name one instant (a time in a gap and the time the gap moves it to).
        found.dedup();
        found.truncate(limit);
        Ok(found)
    }

    /// The first occurrence overlapping `[start, end)`. For an instant `t`, ask `[t, t + 1 ms)`.
    pub fn overlapping(&self, start: Timestamp, end: Timestamp) -> Result<Option<Occurrence>, CalendarError> {
        Ok(self.occurrences(start, end, 1)?.into_iter().next())
    }

    /// Calls `visit` with occurrences that may overlap `[from, to)` (and a few near it), in
    /// wall-clock order; see [`CompiledRule::scan`].
    pub(crate) fn visit_occurrences(
        &self,
        from: Timestamp,
        to: Timestamp,
        mut visit: impl FnMut(Occurrence) -> ControlFlow<()>,
    ) -> Result<(), CalendarError> {
        match &self.schedule {
            Schedule::OneOff { start, end } => {
                let _ = visit(Occurrence { start: *start, end: *end });
                Ok(())
            }
            Schedule::Recurring { duration_minutes, .. } => {
                check_duration(*duration_minutes)?;
                let duration_ms = i64::from(*duration_minutes) * MINUTE_MS;
                self.compiled_rule()?
                    .scan(duration_ms, from, to, |start| visit(Occurrence { start, end: start.plus_ms(duration_ms) }))
            }
        }
    }

    fn compiled_rule(&self) -> Result<CompiledRule, CalendarError> {
        match &self.schedule {
            Schedule::OneOff { .. } => Err(CalendarError::invalid_rule("a one-off window has no rule")),
            Schedule::Recurring { rule, time_zone, duration_minutes } => {
                check_duration(*duration_minutes)?;
                CompiledRule::parse(rule, time_zone)
            }
        }
    }
}

fn check_duration(duration_minutes: u32) -> Result<(), CalendarError> {
    if (1..=DURATION_MAX_MINUTES).contains(&duration_minutes) {
        Ok(())
    } else {
        Err(CalendarError::InvalidDuration { duration_minutes, maximum_minutes: DURATION_MAX_MINUTES })
    }
}

fn check_name(what: &str, name: &str) -> Result<(), CalendarError> {
    if name.trim().is_empty() {
        return Err(CalendarError::invalid_window(format!("the {what} is empty")));
    }
    if name.len() > NAME_LENGTH_MAX_BYTES {
        return Err(CalendarError::invalid_window(format!("the {what} is longer than {NAME_LENGTH_MAX_BYTES} bytes")));
    }
    Ok(())
}
