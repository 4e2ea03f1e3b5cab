//! Rendering: template filters, the shared layout context, error pages, and the small view
//! helpers pages share.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use changegate_core::ChangeState;
use changegate_core::event::EventEnvelope;
use changegate_service::Permission;
use changegate_service::ServiceError;
use minijinja::value::Value;
use minijinja::{Environment, context};
use serde::Serialize;
use serde_json::Value as Json;

use super::ASSET_VERSION;
use super::session::Session;
use crate::AppState;

/// Longest value shown in an event summary before it is cut.
const SUMMARY_VALUE_LENGTH_MAX: usize = 80;
/// Longest event summary.
const SUMMARY_LENGTH_MAX: usize = 240;
/// Event data fields left out of summaries: long texts shown elsewhere, or noise.
const SUMMARY_SKIPPED_FIELDS: &[&str] = &[
    "description",
    "implementation_plan",
    "rollback_plan",
    "token_sha256",
    "justification",
    "test_evidence",
    "security_evidence",
    "code_metrics",
    "risk_factors",
];
/// Event data fields that lead a summary, in this order: what the event is about comes before
/// the alphabetical rest, so a long summary is cut in its details, not in its subject.
const SUMMARY_LEADING_FIELDS: &[&str] = &["title", "name"];

/// Any serialisable value as a template value.
pub fn to_value<T: Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

pub fn register_filters(environment: &mut Environment<'static>) {
    environment.add_filter("datetime", datetime);
    environment.add_filter("humanize", humanize);
    environment.add_filter("approval_role", approval_role);
    environment.add_filter("short_hash", short_hash);
    environment.add_filter("shorten", |value: Value, length_max: usize| {
        value.as_str().map(|text| shorten(text, length_max)).unwrap_or_default()
    });
    environment.add_test("web_url", is_web_url);
}

/// `2026-01-02T10:00:00Z` → `2026-01-02 10:00 UTC`; nothing → `—`.
fn datetime(value: Value) -> String {
    match value.as_str() {
        Some(text) if text.len() >= 16 && text.is_char_boundary(16) => {
            format!("{} UTC", text[..16].replacen('T', " ", 1))
        }
        Some(text) if !text.is_empty() => text.to_owned(),
        _ => "—".to_owned(),
    }
}

/// `rolled_back` → `rolled back`.
fn humanize(value: Value) -> String {
    value.as_str().map(|text| text.replace('_', " ")).unwrap_or_else(|| value.to_string())
}

/// A required approval's role for people: `cab|security` → `cab or security`, `team:payments` →
/// `team payments`.
fn approval_role(value: Value) -> String {
    let Some(role) = value.as_str() else {
        return value.to_string();
    };
    role.split('|')
        .map(|alternative| match alternative.trim().strip_prefix("team:") {
            Some(team) => format!("team {team}"),
            None => alternative.trim().to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The first 12 characters of a hex digest, enough to tell versions apart on a page (the full
/// value goes in a `title`).
fn short_hash(value: Value) -> String {
    value.as_str().map(|text| text.chars().take(12).collect()).unwrap_or_default()
}

/// Whether a link may become an `href`: only http(s), never `javascript:` or `data:`.
fn is_web_url(value: Value) -> bool {
    value.as_str().is_some_and(|text| {
        let lower = text.to_ascii_lowercase();
        lower.starts_with("https://") || lower.starts_with("http://")
    })
}

/// A message shown above a page's content.
#[derive(Clone, Debug, Serialize)]
pub struct Flash {
    /// `error` or `success`.
    pub kind: &'static str,
    pub message: String,
}

impl Flash {
    pub fn error(message: impl Into<String>) -> Self {
        Flash { kind: "error", message: message.into() }
    }

    pub fn success(message: impl Into<String>) -> Self {
        Flash { kind: "success", message: message.into() }
    }
}

/// The signed-in user as the layout shows them.
#[derive(Serialize)]
struct UserView<'a> {
    name: &'a str,
    roles: Vec<&'static str>,
    can_create: bool,
    /// Holds a role that may approve (the inbox is theirs).
    can_approve: bool,
    /// Holds a role that may read compliance reports.
    can_audit: bool,
    /// May import history: sees the admin pages.
    is_admin: bool,
}

/// What the base layout needs: the user, the CSRF value for the sign-out form, the active nav
/// entry and an optional flash message.
pub fn layout(session: Option<&Session>, active: &str, flash: Option<Flash>) -> Value {
    let user = session.map(|session| {
        to_value(UserView {
            name: session.caller.name().as_str(),
            roles: session.caller.roles().iter().map(|role| role.as_str()).collect(),
            can_create: session.caller.may(Permission::CreateChanges),
            can_approve: session.caller.may(Permission::DecideChanges),
            can_audit: session.caller.may(Permission::ReadCompliance),
            is_admin: session.caller.may(Permission::ImportHistory),
        })
    });
    context! {
        user => user,
        csrf => session.map(|session| session.csrf.clone()),
        active => active,
        flash => flash.map(to_value),
        asset_version => ASSET_VERSION.as_str(),
    }
}

/// Renders a template with `status`; a template failure is logged and becomes a plain 500.
pub fn render(state: &AppState, status: StatusCode, name: &str, context: Value) -> Response {
    match state.templates.get_template(name).and_then(|template| template.render(context)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(template = name, error = format!("{error:#}"), "page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error: the page failed to render; the server log has details")
                .into_response()
        }
    }
}

/// A page that explains what went wrong.
pub fn error_page(
    state: &AppState,
    session: Option<&Session>,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    let context = context! {
        status => status.as_u16(),
        title => title,
        message => message,
        ..layout(session, "", None)
    };
    render(state, status, "error.html", context)
}

pub(crate) use crate::error::status_of;

/// A message for people; store failures are logged, not shown.
pub fn message_of(error: &ServiceError) -> String {
    if error.is_internal() {
        tracing::error!(%error, "internal fault");
        return "Something went wrong on the server; the operator can find details in the server log.".to_owned();
    }
    error.to_string()
}

/// `text` with its first letter capitalised, to stand as a sentence of its own.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The page for a service error: the sign-in page when the session is gone, else an error page
/// with the status that fits (403, 404, 409, 422, 500).
pub fn service_error(state: &AppState, session: Option<&Session>, error: ServiceError) -> Response {
    let status = status_of(&error);
    let title = match &error {
        ServiceError::Unauthenticated => return Redirect::to("/login").into_response(),
        ServiceError::Forbidden(_) => "Not allowed",
        ServiceError::NotFound(_) => "Not found",
        ServiceError::Validation(_) | ServiceError::IdempotencyKeyReused(_) => "Invalid input",
        ServiceError::BadRows(_) => "Bad rows",
        ServiceError::IllegalTransition(_) => "Not possible now",
        ServiceError::Conflict(_) => "Conflict",
        ServiceError::Store(_) | ServiceError::Internal(_) => "Server error",
    };
    error_page(state, session, status, title, &sentence(&message_of(&error)))
}

/// Percent-encodes a query-string component (everything but unreserved characters).
pub fn url_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// An event as the timeline and the activity feed show it.
#[derive(Serialize)]
pub struct EventView {
    pub sequence: u64,
    pub time: String,
    pub event_type: String,
    pub actor: String,
    pub stream: String,
    /// The change the event concerns, for a link.
    pub change_id: Option<String>,
    pub summary: String,
}

impl From<&EventEnvelope> for EventView {
    fn from(event: &EventEnvelope) -> Self {
        EventView {
            sequence: event.sequence,
            time: event.time.to_rfc3339(),
            event_type: event.event_type.clone(),
            actor: event.actor.clone(),
            stream: event.stream.clone(),
            change_id: event.stream_id().and_then(|stream| stream.change()).map(|id| id.to_string()),
            summary: summarize(&event.payload),
        }
    }
}

/// A one-line summary of an event's data: `title: Rotate keys · risk_class: high`, leaving out
/// empty values and long texts shown elsewhere.
pub fn summarize(payload: &str) -> String {
    let Ok(Json::Object(fields)) = serde_json::from_str::<Json>(payload) else {
        return shorten(payload, SUMMARY_LENGTH_MAX);
    };
    let leading = SUMMARY_LEADING_FIELDS.iter().filter_map(|key| fields.get_key_value(*key));
    let rest = fields.iter().filter(|(key, _)| !SUMMARY_LEADING_FIELDS.contains(&key.as_str()));
    let parts: Vec<String> = leading
        .chain(rest)
        .filter(|(key, _)| !SUMMARY_SKIPPED_FIELDS.contains(&key.as_str()))
        .filter_map(|(key, value)| {
            let text = match value {
                Json::Null | Json::Bool(false) => return None,
                Json::String(text) if text.is_empty() => return None,
                Json::Array(items) if items.is_empty() => return None,
                Json::String(text) => text.clone(),
                Json::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            Some(format!("{}: {}", key.replace('_', " "), shorten(&text, SUMMARY_VALUE_LENGTH_MAX)))
        })
        .collect();
    shorten(&parts.join(" · "), SUMMARY_LENGTH_MAX)
}

/// `text` cut to at most `length_max` characters (with an ellipsis), on one line.
fn shorten(text: &str, length_max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= length_max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(length_max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A state with its count, for the dashboard's bar and tiles.
#[derive(Serialize)]
pub struct StateSlice {
    pub state: &'static str,
    pub count: u64,
    /// Position and width in the bar, in thousandths of its length.
    pub offset: f64,
    pub width: f64,
}

/// Every state in lifecycle order with its count and share of the total.
pub fn state_slices(counts: &[(ChangeState, u64)]) -> Vec<StateSlice> {
    let total: u64 = counts.iter().map(|(_, count)| count).sum();
    let mut offset = 0.0;
    ChangeState::ALL
        .iter()
        .map(|state| {
            let count = counts.iter().find(|(counted, _)| counted == state).map_or(0, |(_, count)| *count);
            let width = if total == 0 { 0.0 } else { count as f64 * 1000.0 / total as f64 };
            let slice = StateSlice { state: state.as_str(), count, offset, width };
            offset += width;
            slice
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_skip_empty_and_long_fields() {
        let payload = r#"{"comment":null,"description":"long","links":[],"reasons":["a","b"],"retrospective":false,"risk_class":"high","title":"Rotate"}"#;
        assert_eq!(summarize(payload), "title: Rotate · reasons: a, b · risk class: high");
        assert_eq!(summarize("{}"), "");
        let long = format!(r#"{{"title":"{}"}}"#, "x".repeat(200));
        assert!(summarize(&long).chars().count() <= SUMMARY_VALUE_LENGTH_MAX + "title: ".len());
    }

    #[test]
    fn approval_roles_read_as_words() {
        assert_eq!(approval_role(Value::from("cab|security")), "cab or security");
        assert_eq!(approval_role(Value::from("team:payments")), "team payments");
        assert_eq!(approval_role(Value::from("approver")), "approver");
        assert_eq!(short_hash(Value::from("0123456789abcdef")), "0123456789ab");
    }

    #[test]
    fn datetimes_are_short() {
        assert_eq!(datetime(Value::from("2026-01-02T10:00:00Z")), "2026-01-02 10:00 UTC");
        assert_eq!(datetime(Value::from(())), "—");
    }

    #[test]
    fn state_slices_add_up() {
        let slices = state_slices(&[(ChangeState::Draft, 1), (ChangeState::Approved, 3)]);
        assert_eq!(slices.len(), ChangeState::ALL.len());
        let total: f64 = slices.iter().map(|slice| slice.width).sum();
        assert!((total - 1000.0).abs() < 1e-9);
        assert_eq!(slices[0].count, 1);
    }

    #[test]
    fn url_encoding_keeps_only_unreserved() {
        assert_eq!(url_encode("/changes?state=draft&x=a b"), "%2Fchanges%3Fstate%3Ddraft%26x%3Da%20b");
    }
}
