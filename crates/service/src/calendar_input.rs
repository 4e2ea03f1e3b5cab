//! A calendar window from raw text fields (a web form, a command line): the one place that reads
//! a window's kind, scope and schedule from text and names every field that is wrong.

use changegate_calendar::{CalendarWindow, Schedule, WindowKind, WindowScope};
use changegate_core::{FieldError, Timestamp};

/// A window as text fields. `start` and `end` are RFC 3339 (one-off windows); `rule`,
/// `time_zone` (default UTC) and `duration_minutes` describe a recurring one.
#[derive(Clone, Debug, Default)]
pub struct NewWindow {
    pub name: String,
    /// `freeze` or `maintenance`.
    pub kind: String,
    /// `global`, `team` or `service`.
    pub scope_kind: String,
    /// The team's or service's name; empty for a global window.
    pub scope_name: String,
    /// `one_off` or `recurring`.
    pub schedule_kind: String,
    pub start: String,
    pub end: String,
    pub rule: String,
    pub time_zone: String,
    pub duration_minutes: String,
    pub description: String,
}

/// An RFC 3339 time, or a field error.
fn time(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
        return None;
    }
    Timestamp::parse_rfc3339(text).map_err(|message| errors.push(FieldError::new(field, message))).ok()
}

impl NewWindow {
    /// The window these fields describe, or every field error at once. The rule, the time zone
    /// and the spans are checked when the window is defined ([`crate::Service::define_window`]).
    pub fn parse(&self) -> Result<CalendarWindow, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            errors.push(FieldError::new("name", "must not be empty"));
        }
        let kind = match self.kind.as_str() {
            "freeze" => Some(WindowKind::Freeze),
            "maintenance" => Some(WindowKind::Maintenance),
            other => {
                errors.push(FieldError::new("kind", format!("`{other}` is not one of: freeze, maintenance")));
                None
            }
        };
        let scope_name = self.scope_name.trim().to_owned();
        let scope = match self.scope_kind.as_str() {
            "global" if scope_name.is_empty() => Some(WindowScope::Global),
            "global" => {
                errors
                    .push(FieldError::new("scope_name", "a global window covers every service: leave the name empty"));
                None
            }
            "team" | "service" if scope_name.is_empty() => {
                errors.push(FieldError::new("scope_name", format!("name the {}", self.scope_kind)));
                None
            }
            "team" => Some(WindowScope::Team { name: scope_name }),
            "service" => Some(WindowScope::Service { name: scope_name }),
            other => {
                errors.push(FieldError::new("scope_kind", format!("`{other}` is not one of: global, team, service")));
                None
            }
        };
        let schedule = match self.schedule_kind.as_str() {
            "one_off" => {
                let start = time("start", &self.start, &mut errors);
                let end = time("end", &self.end, &mut errors);
                start.zip(end).map(|(start, end)| Schedule::OneOff { start, end })
            }
            "recurring" => {
                let rule = self.rule.trim().to_owned();
                if rule.is_empty() {
                    errors.push(FieldError::new("rule", "give an RRULE with its DTSTART, or cron: and 5 fields"));
                }
                let time_zone = Some(self.time_zone.trim()).filter(|zone| !zone.is_empty()).unwrap_or("UTC").to_owned();
                let duration_minutes = match self.duration_minutes.trim().parse::<u32>() {
                    Ok(minutes) => Some(minutes),
                    Err(_) => {
                        errors.push(FieldError::new("duration_minutes", "must be a whole number of minutes"));
                        None
                    }
                };
                duration_minutes.filter(|_| !rule.is_empty()).map(|duration_minutes| Schedule::Recurring {
                    rule,
                    time_zone,
                    duration_minutes,
                })
            }
            other => {
                errors.push(FieldError::new("schedule_kind", format!("`{other}` is not one of: one_off, recurring")));
                None
            }
        };
        match (kind, scope, schedule) {
            (Some(kind), Some(scope), Some(schedule)) if errors.is_empty() => {
                Ok(CalendarWindow { name, kind, scope, schedule, description: self.description.clone() })
            }
            _ => Err(errors),
        }
    }
}
