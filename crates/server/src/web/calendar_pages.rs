//! The change calendar page: a month grid by default (`?month=2026-11`) or a week
//! (`?week=2026-W48`, or `?view=week&date=2026-11-26`) of freeze and maintenance windows and the
//! open changes planned in them, the windows' definitions, and for admin and cab users the forms
//! to define and remove windows.
//!
//! Everything is shown in UTC (the page says so; a recurring window names its own zone). The grid
//! is a plain table built on the server from one `calendar_view` read: no query per day or row.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use changegate_calendar::{CalendarWindow, Schedule, WindowKind, WindowScope};
use changegate_core::{CalendarWindowRecord, ChangeRecord, FieldError, Timestamp};
use changegate_service::governance::planned_span;
use changegate_service::{CalendarView, NewWindow, ServiceError};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::civil::{CalendarDate, DAY_MS, Date, WEEKDAY_NAMES, clock_time};
use super::forms::{
    CsrfField, CsrfForm, bad_form, checked_form, datetime_local_to_rfc3339, errors_by_field, non_blank,
};
use super::governance_pages::may_govern;
use super::render::{Flash, layout, render, service_error, to_value};
use super::session::Session;
use crate::AppState;

/// Planned changes listed in one day of the month grid; the rest are counted, and the week view
/// lists them.
const MONTH_CHANGES_PER_DAY_MAX: usize = 4;
/// Planned changes listed in one day of the week view, so a crowded day still renders quickly.
const WEEK_CHANGES_PER_DAY_MAX: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CalendarParams {
    /// `2026-11`.
    month: String,
    /// `2026-W48`.
    week: String,
    /// `month` or `week`, with `date`.
    view: String,
    /// `2026-11-26`: the day whose month or week to show.
    date: String,
    done: String,
}

/// What the calendar shows: a month (its first day) or a week (its Monday).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    Month(Date),
    Week(Date),
}

impl Span {
    /// The span a query asks for; the month of `today` when it names none.
    fn of(params: &CalendarParams, today: Date) -> Result<Span, String> {
        if let Some(week) = non_blank(&params.week) {
            return Date::parse_week(&week)
                .map(Span::Week)
                .ok_or_else(|| format!("`{week}` is not an ISO week such as 2026-W48"));
        }
        if let Some(month) = non_blank(&params.month) {
            return Date::parse_month(&month)
                .map(Span::Month)
                .ok_or_else(|| format!("`{month}` is not a month such as 2026-11"));
        }
        let date = match non_blank(&params.date) {
            Some(text) => Date::parse(&text).ok_or_else(|| format!("`{text}` is not a date such as 2026-11-26"))?,
            None => today,
        };
        match params.view.trim() {
            "week" => Ok(Span::Week(date.monday())),
            "" | "month" => Ok(Span::Month(date.first_of_month())),
            other => Err(format!("`{other}` is not a view: month or week")),
        }
    }

    /// The days the grid shows: whole weeks, Monday first.
    fn grid(self) -> (Date, i64) {
        match self {
            Span::Week(monday) => (monday, 7),
            Span::Month(first) => {
                let start = first.monday();
                let end = first.next_month().plus_days(-1).monday().plus_days(7);
                (start, end.days() - start.days())
            }
        }
    }
}

/// A window occurrence on one day of the grid.
#[derive(Serialize)]
struct WindowEntry {
    name: String,
    kind: String,
    scope: String,
    /// `22:00–23:30`, `from 22:00`, `until 02:00` or `all day` (UTC).
    span: String,
    start: String,
    end: String,
}

/// A planned change on one day of the grid.
#[derive(Serialize)]
struct ChangeEntry {
    id: String,
    title: String,
    service: String,
    state: &'static str,
    change_type: &'static str,
    span: String,
}

#[derive(Serialize)]
struct DayCell {
    date: String,
    day: u32,
    title: String,
    /// In the month shown (days of the neighbouring months fill the first and last weeks).
    in_span: bool,
    today: bool,
    freeze: bool,
    windows: Vec<WindowEntry>,
    changes: Vec<ChangeEntry>,
    /// Changes planned that day but not listed in this cell.
    hidden_changes: usize,
}

/// How `[start, end)` covers the UTC day starting at `day_start`.
fn span_on_day(start: Timestamp, end: Timestamp, day_start: Timestamp) -> String {
    let day_end = day_start.plus_ms(DAY_MS);
    match (start <= day_start, end >= day_end) {
        (true, true) => "all day".to_owned(),
        (true, false) => format!("until {}", clock_time(end)),
        (false, true) => format!("from {}", clock_time(start)),
        (false, false) => format!("{}–{}", clock_time(start), clock_time(end)),
    }
}

/// The grid's days with what happens on each. One pass over the view per day: at most 42 days,
/// each against the occurrences and changes the service already read (no query per day).
fn day_cells(span: Span, today: Date, view: &CalendarView) -> Vec<DayCell> {
    let (first, days) = span.grid();
    let mut changes: Vec<(Timestamp, Timestamp, &ChangeRecord)> = view
        .changes
        .iter()
        .filter_map(|change| planned_span(change).map(|(start, end)| (start, end, change)))
        .collect();
    changes.sort_by_key(|(start, _, change)| (*start, change.id));
    let shown_max = match span {
        Span::Month(_) => MONTH_CHANGES_PER_DAY_MAX,
        Span::Week(_) => WEEK_CHANGES_PER_DAY_MAX,
    };
    (0..days)
        .map(|offset| {
            let date = first.plus_days(offset);
            let day_start = date.start();
            let day_end = day_start.plus_ms(DAY_MS);
            let windows: Vec<WindowEntry> = view
                .occurrences
                .iter()
                .filter(|occurrence| occurrence.start < day_end && occurrence.end > day_start)
                .map(|occurrence| WindowEntry {
                    name: occurrence.name.clone(),
                    kind: occurrence.kind.clone(),
                    scope: occurrence.scope.clone(),
                    span: span_on_day(occurrence.start, occurrence.end, day_start),
                    start: occurrence.start.to_rfc3339(),
                    end: occurrence.end.to_rfc3339(),
                })
                .collect();
            let on_day: Vec<&(Timestamp, Timestamp, &ChangeRecord)> =
                changes.iter().filter(|(start, end, _)| *start < day_end && *end > day_start).collect();
            let listed: Vec<ChangeEntry> = on_day
                .iter()
                .take(shown_max)
                .map(|(start, end, change)| ChangeEntry {
                    id: change.id.to_string(),
                    title: change.title.clone(),
                    service: change.service.to_string(),
                    state: change.state.as_str(),
                    change_type: change.change_type.as_str(),
                    span: span_on_day(*start, *end, day_start),
                })
                .collect();
            DayCell {
                date: date.to_string(),
                day: date.day,
                title: date.short_title(),
                in_span: match span {
                    Span::Month(month) => date.month == month.month && date.year == month.year,
                    Span::Week(_) => true,
                },
                today: date == today,
                freeze: windows.iter().any(|window| window.kind == "freeze"),
                hidden_changes: on_day.len() - listed.len(),
                windows,
                changes: listed,
            }
        })
        .collect()
}

/// A window's definition as the list shows it.
#[derive(Serialize)]
struct WindowDefinition {
    name: String,
    /// Whether the stored JSON still reads as a window (else only `raw` is shown).
    readable: bool,
    kind: String,
    scope: String,
    schedule: String,
    rule: Option<String>,
    time_zone: Option<String>,
    start: Option<String>,
    end: Option<String>,
    description: String,
    raw: String,
    defined_by: String,
    updated_at: String,
}

fn scope_text(scope: &WindowScope) -> String {
    match scope {
        WindowScope::Global => "every service".to_owned(),
        WindowScope::Team { name } => format!("services of team {name}"),
        WindowScope::Service { name } => format!("service {name}"),
    }
}

fn window_definition(record: &CalendarWindowRecord) -> WindowDefinition {
    let mut definition = WindowDefinition {
        name: record.name.to_string(),
        readable: false,
        kind: String::new(),
        scope: String::new(),
        schedule: String::new(),
        rule: None,
        time_zone: None,
        start: None,
        end: None,
        description: String::new(),
        raw: record.window.to_string(),
        defined_by: record.defined_by.clone(),
        updated_at: record.updated_at.to_rfc3339(),
    };
    let Ok(window) = serde_json::from_value::<CalendarWindow>(record.window.clone()) else {
        return definition;
    };
    definition.readable = true;
    definition.kind = match window.kind {
        WindowKind::Freeze => "freeze",
        WindowKind::Maintenance => "maintenance",
    }
    .to_owned();
    definition.scope = scope_text(&window.scope);
    definition.description = window.description;
    match window.schedule {
        Schedule::OneOff { start, end } => {
            definition.schedule = "once".to_owned();
            definition.start = Some(start.to_rfc3339());
            definition.end = Some(end.to_rfc3339());
        }
        Schedule::Recurring { rule, time_zone, duration_minutes } => {
            definition.schedule = format!("recurring, {duration_minutes} minutes each, local times in {time_zone}");
            definition.rule = Some(rule);
            definition.time_zone = Some(time_zone);
        }
    }
    definition
}

/// A link in the calendar's navigation.
#[derive(Serialize)]
struct CalendarLink {
    label: String,
    href: String,
}

/// The calendar's heading and navigation links for `span`.
fn calendar_navigation(span: Span, today: Date) -> (String, Vec<CalendarLink>, CalendarLink) {
    let link = |label: &str, href: String| CalendarLink { label: label.to_owned(), href };
    match span {
        Span::Month(first) => {
            let title = first.month_title();
            let links = vec![
                link("← Previous month", format!("/calendar?month={}", first.previous_month().month_text())),
                link("This month", format!("/calendar?month={}", today.month_text())),
                link("Next month →", format!("/calendar?month={}", first.next_month().month_text())),
            ];
            let in_month = today.first_of_month() == first;
            let week_of = if in_month { today } else { first };
            (title, links, link("Week view", format!("/calendar?week={}", week_of.week_text())))
        }
        Span::Week(monday) => {
            let sunday = monday.plus_days(6);
            let (year, week) = monday.iso_week();
            let title = format!("Week {week} of {year}: {} to {}", monday.short_title(), sunday.short_title());
            let links = vec![
                link("← Previous week", format!("/calendar?week={}", monday.plus_days(-7).week_text())),
                link("This week", format!("/calendar?week={}", today.week_text())),
                link("Next week →", format!("/calendar?week={}", monday.plus_days(7).week_text())),
            ];
            // The week's Thursday decides its month, as it decides its ISO year.
            let month = monday.plus_days(3).month_text();
            (title, links, link("Month view", format!("/calendar?month={month}")))
        }
    }
}

#[derive(Deserialize, Serialize, Clone)]
#[serde(default)]
pub struct WindowForm {
    #[serde(skip_serializing)]
    csrf: Option<String>,
    name: String,
    kind: String,
    scope_kind: String,
    scope_name: String,
    schedule_kind: String,
    start: String,
    end: String,
    rule: String,
    time_zone: String,
    duration_minutes: String,
    description: String,
}

impl Default for WindowForm {
    fn default() -> Self {
        WindowForm {
            csrf: None,
            name: String::new(),
            kind: "freeze".to_owned(),
            scope_kind: "global".to_owned(),
            scope_name: String::new(),
            schedule_kind: "one_off".to_owned(),
            start: String::new(),
            end: String::new(),
            rule: String::new(),
            time_zone: "UTC".to_owned(),
            duration_minutes: String::new(),
            description: String::new(),
        }
    }
}

impl CsrfField for WindowForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// The window a form describes, as the service reads raw window fields (`datetime-local` times
/// become RFC 3339 first; the service parses and checks the rest).
fn window_from_form(form: &WindowForm) -> Result<CalendarWindow, Vec<FieldError>> {
    let input = NewWindow {
        name: form.name.clone(),
        kind: form.kind.clone(),
        scope_kind: form.scope_kind.clone(),
        scope_name: form.scope_name.clone(),
        schedule_kind: form.schedule_kind.clone(),
        start: datetime_local_to_rfc3339(&form.start).unwrap_or_default(),
        end: datetime_local_to_rfc3339(&form.end).unwrap_or_default(),
        rule: form.rule.clone(),
        time_zone: form.time_zone.clone(),
        duration_minutes: form.duration_minutes.clone(),
        description: form.description.clone(),
    };
    input.parse()
}

/// The service names a window's validation failure by its code; the form shows it beside the
/// input it is about (`window`: above the form).
fn window_error_field(code: &str) -> &str {
    match code {
        "invalid_rule" | "rule_too_expensive" => "rule",
        "unknown_time_zone" => "time_zone",
        "invalid_duration" => "duration_minutes",
        "invalid_window" => "window",
        other => other,
    }
}

/// Everything the calendar page shows.
struct CalendarPage<'a> {
    status: StatusCode,
    span: Span,
    form: &'a WindowForm,
    errors: &'a [FieldError],
    flash: Option<Flash>,
}

async fn calendar_page(state: &AppState, session: &Session, page: CalendarPage<'_>) -> Response {
    let now = state.service.now();
    let today = Date::of(now);
    let (first, days) = page.span.grid();
    let view = match state.service.calendar_view(&session.caller, first.start(), first.plus_days(days).start()).await {
        Ok(view) => view,
        Err(error) => return service_error(state, Some(session), error),
    };
    let cells = day_cells(page.span, today, &view);
    let weeks: Vec<&[DayCell]> = cells.chunks(7).collect();
    let (title, links, switch) = calendar_navigation(page.span, today);
    let definitions: Vec<WindowDefinition> = view.windows.iter().map(window_definition).collect();
    let context = context! {
        view => match page.span { Span::Month(_) => "month", Span::Week(_) => "week" },
        title => title,
        links => to_value(&links),
        switch => to_value(&switch),
        weekdays => WEEKDAY_NAMES.to_vec(),
        weeks => to_value(&weeks),
        windows => to_value(&definitions),
        can_manage => may_govern(session),
        form => to_value(page.form),
        errors => to_value(errors_by_field(page.errors)),
        ..layout(Some(session), "calendar", page.flash)
    };
    render(state, page.status, "calendar.html", context)
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn calendar(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<CalendarParams>, QueryRejection>,
) -> Response {
    let Query(params) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_form(&state, Some(&session), rejection.status(), rejection.body_text()),
    };
    let today = Date::of(state.service.now());
    let (status, span, mut flash) = match Span::of(&params, today) {
        Ok(span) => (StatusCode::OK, span, None),
        Err(message) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Span::Month(today.first_of_month()),
            Some(Flash::error(format!("{message}; showing this month instead."))),
        ),
    };
    if flash.is_none() {
        flash = match params.done.as_str() {
            "window-defined" => Some(Flash::success("Window saved.")),
            "window-removed" => Some(Flash::success("Window removed.")),
            _ => None,
        };
    }
    let form = WindowForm::default();
    calendar_page(&state, &session, CalendarPage { status, span, form: &form, errors: &[], flash }).await
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name()))]
pub async fn define_window(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<WindowForm>, FormRejection>,
) -> Response {
    let form = match checked_form(&state, &session, form) {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let today = Date::of(state.service.now());
    let refused = |errors: Vec<FieldError>| {
        let span = Span::Month(today.first_of_month());
        let flash = Some(Flash::error("The window was not saved. Correct the fields marked below."));
        (errors, span, flash)
    };
    let (errors, span, flash) = match window_from_form(&form) {
        Err(errors) => refused(errors),
        Ok(window) => {
            // Show the month the window starts in when it happens once; else this month.
            let month = match &window.schedule {
                Schedule::OneOff { start, .. } => Date::of(*start).month_text(),
                Schedule::Recurring { .. } => today.month_text(),
            };
            match state.service.define_window(&session.caller, window).await {
                Ok(record) => {
                    tracing::info!(window = %record.name, "calendar window defined from the web page");
                    return Redirect::to(&format!("/calendar?month={month}&done=window-defined")).into_response();
                }
                Err(ServiceError::Validation(fields)) => refused(
                    fields
                        .into_iter()
                        .map(|field| FieldError::new(window_error_field(&field.field), field.message))
                        .collect(),
                ),
                Err(error) => return service_error(&state, Some(&session), error),
            }
        }
    };
    let page = CalendarPage { status: StatusCode::UNPROCESSABLE_ENTITY, span, form: &form, errors: &errors, flash };
    calendar_page(&state, &session, page).await
}

#[tracing::instrument(skip_all, fields(user = %session.caller.name(), window = %name))]
pub async fn remove_window(
    State(state): State<AppState>,
    session: Session,
    Path(name): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(refusal) = checked_form(&state, &session, form) {
        return refusal;
    }
    match state.service.remove_window(&session.caller, &name).await {
        Ok(()) => Redirect::to("/calendar?done=window-removed").into_response(),
        Err(error) => service_error(&state, Some(&session), error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn spans_read_in_the_query() {
        let today = Date::new(2026, 11, 26).unwrap();
        let params = |month: &str, week: &str, view: &str, date: &str| CalendarParams {
            month: month.into(),
            week: week.into(),
            view: view.into(),
            date: date.into(),
            done: String::new(),
        };
        assert_eq!(Span::of(&params("", "", "", ""), today), Ok(Span::Month(Date::new(2026, 11, 1).unwrap())));
        assert_eq!(Span::of(&params("2026-12", "", "", ""), today), Ok(Span::Month(Date::new(2026, 12, 1).unwrap())));
        assert_eq!(Span::of(&params("", "2026-W48", "", ""), today), Ok(Span::Week(Date::new(2026, 11, 23).unwrap())));
        assert_eq!(
            Span::of(&params("", "", "week", "2026-12-31"), today),
            Ok(Span::Week(Date::new(2026, 12, 28).unwrap()))
        );
        assert_eq!(Span::of(&params("", "", "week", ""), today), Ok(Span::Week(Date::new(2026, 11, 23).unwrap())));
        assert!(Span::of(&params("2026-13", "", "", ""), today).is_err());
        assert!(Span::of(&params("", "", "year", ""), today).is_err());
    }

    #[test]
    fn a_month_grid_is_whole_weeks() {
        // November 2026 starts on a Sunday and ends on a Monday: six rows.
        let (first, days) = Span::Month(Date::new(2026, 11, 1).unwrap()).grid();
        assert_eq!(first.to_string(), "2026-10-26");
        assert_eq!(days, 42);
        // February 2027 starts on a Monday and has 28 days: exactly four rows.
        let (first, days) = Span::Month(Date::new(2027, 2, 1).unwrap()).grid();
        assert_eq!(first.to_string(), "2027-02-01");
        assert_eq!(days, 28);
    }

    #[test]
    fn spans_on_a_day_name_their_edges() {
        let day = time("2026-11-26T00:00:00Z");
        assert_eq!(span_on_day(time("2026-11-25T22:00:00Z"), time("2026-11-27T00:00:00Z"), day), "all day");
        assert_eq!(span_on_day(time("2026-11-25T22:00:00Z"), time("2026-11-26T02:00:00Z"), day), "until 02:00");
        assert_eq!(span_on_day(time("2026-11-26T22:00:00Z"), time("2026-11-27T02:00:00Z"), day), "from 22:00");
        assert_eq!(span_on_day(time("2026-11-26T10:00:00Z"), time("2026-11-26T11:30:00Z"), day), "10:00–11:30");
    }

    #[test]
    fn window_forms_become_windows() {
        let form = WindowForm {
            name: "black-friday".into(),
            start: "2026-11-27T00:00".into(),
            end: "2026-11-30T00:00".into(),
            ..WindowForm::default()
        };
        let window = window_from_form(&form).unwrap();
        assert_eq!(window.scope, WindowScope::Global);
        assert_eq!(
            window.schedule,
            Schedule::OneOff { start: time("2026-11-27T00:00:00Z"), end: time("2026-11-30T00:00:00Z") }
        );
        let form = WindowForm {
            name: "saturday-nights".into(),
            kind: "maintenance".into(),
            scope_kind: "team".into(),
            scope_name: "payments".into(),
            schedule_kind: "recurring".into(),
            rule: "cron:0 22 * * SAT".into(),
            time_zone: "Europe/Berlin".into(),
            duration_minutes: "240".into(),
            ..WindowForm::default()
        };
        let window = window_from_form(&form).unwrap();
        assert_eq!(window.scope, WindowScope::Team { name: "payments".into() });
        assert!(matches!(window.schedule, Schedule::Recurring { duration_minutes: 240, .. }));

        let form = WindowForm { scope_kind: "team".into(), schedule_kind: "recurring".into(), ..WindowForm::default() };
        let fields: Vec<String> = window_from_form(&form).unwrap_err().into_iter().map(|error| error.field).collect();
        assert_eq!(fields, ["name", "scope_name", "rule", "duration_minutes"]);
    }
}
