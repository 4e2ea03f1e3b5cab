//! The browser session: a cookie holding the user's API token, the CSRF value derived from it,
//! and the `Origin` check that guards the sign-in form.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use changegate_service::{Caller, ServiceError};
use sha2::{Digest, Sha256};

use super::render;
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "changegate_session";

/// Longest `next` path the sign-in page carries along.
const NEXT_LENGTH_MAX: usize = 1_000;

/// The CSRF value for a session: hex(SHA-256("changegate-csrf:" ‖ token)). Only someone holding
/// the (HttpOnly) token can compute it, and it never changes during a session, so any number of
/// tabs and forms stay valid.
pub fn csrf_token(session_token: &str) -> String {
    hex::encode(Sha256::new().chain_update(b"changegate-csrf:").chain_update(session_token.as_bytes()).finalize())
}

/// A signed-in user.
pub struct Session {
    pub caller: Caller,
    /// The value every POST form of this session must carry in its `csrf` field.
    pub csrf: String,
}

impl Session {
    /// Whether `submitted` is this session's CSRF value (compared in constant time).
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        let (expected, submitted) = (self.csrf.as_bytes(), submitted.as_bytes());
        expected.len() == submitted.len()
            && expected.iter().zip(submitted).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
    }
}

/// The value of the session cookie, if the request carries one.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}"))
        .expect("a validated token is a valid cookie value")
}

/// The `Set-Cookie` value that ends a session.
pub fn cleared_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"))
        .expect("a static cookie is valid")
}

/// Checks the session cookie. `Ok(None)`: no session (or a stale one).
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Session>, Response> {
    let Some(token) = session_token(&parts.headers) else {
        return Ok(None);
    };
    match state.service.authenticate(token).await {
        Ok(caller) => Ok(Some(Session { csrf: csrf_token(token.trim()), caller })),
        Err(ServiceError::Unauthenticated) => Ok(None),
        Err(error) => Err(render::service_error(state, None, error)),
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    /// Without a valid session: a redirect to the sign-in page (which brings the user back to a
    /// page they asked for with GET).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(session) = authenticate(parts, state).await? {
            return Ok(session);
        }
        let count = state.count_unauthenticated();
        tracing::info!(path = %parts.uri.path(), unauthenticated_total = count, "page request without a valid session");
        let next = (parts.method == Method::GET)
            .then(|| parts.uri.path_and_query().map(|path| path.as_str().to_owned()))
            .flatten()
            .filter(|path| path != "/" && safe_next(path).is_some());
        let location = match next {
            Some(next) => format!("/login?next={}", render::url_encode(&next)),
            None => "/login".to_owned(),
        };
        let mut response = Redirect::to(&location).into_response();
        if session_token(&parts.headers).is_some() {
            // A stale cookie (revoked token, or a token of another store): drop it.
            response.headers_mut().insert(header::SET_COOKIE, cleared_cookie(state.config.secure_cookies));
        }
        Err(response)
    }
}

/// A session if there is a valid one; never redirects (for the sign-in and not-found pages).
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        Ok(MaybeSession(authenticate(parts, state).await?))
    }
}

/// The refusal (403, nothing written) of a form whose `csrf` field is missing or wrong; `None`
/// when the value is right.
pub fn csrf_refusal(state: &AppState, session: &Session, submitted: Option<&str>) -> Option<Response> {
    if submitted.is_some_and(|submitted| session.csrf_matches(submitted)) {
        return None;
    }
    tracing::warn!(actor = %session.caller.name(), "form refused: missing or wrong CSRF value");
    Some(render::error_page(
        state,
        Some(session),
        StatusCode::FORBIDDEN,
        "Form expired or forged",
        "This form was not sent from a page of your current session, so nothing was done. \
         Go back, reload the page and try again.",
    ))
}

/// Whether a request's `Origin` header, if present, names this server (the `Host` the browser
/// used, or `X-Forwarded-Host` behind a proxy). A form posted from another site carries that
/// site's origin; `Origin: null` (sandboxed or privacy-redirected requests) is refused too.
pub fn origin_matches_host(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(authority) = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")))
    else {
        return false;
    };
    [header::HOST.as_str(), "x-forwarded-host"]
        .into_iter()
        .filter_map(|name| headers.get(name).and_then(|value| value.to_str().ok()))
        .any(|host| host.trim().eq_ignore_ascii_case(authority))
}

/// `next` if it is a path on this site ("/changes?state=draft"), never another site
/// ("//evil.example", "/\\evil.example", "https://…").
pub fn safe_next(next: &str) -> Option<&str> {
    let mut bytes = next.bytes();
    let local = bytes.next() == Some(b'/')
        && !matches!(bytes.next(), Some(b'/' | b'\\'))
        && next.len() <= NEXT_LENGTH_MAX
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    local.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_sha256_of_the_prefixed_token() {
        // printf 'changegate-csrf:cg_x' | sha256sum
        let expected = hex::encode(Sha256::digest(b"changegate-csrf:cg_x"));
        assert_eq!(csrf_token("cg_x"), expected);
        assert_eq!(csrf_token("cg_x").len(), 64);
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("theme=dark; changegate_session=cg_abc"));
        assert_eq!(session_token(&headers), Some("cg_abc"));
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("changegate_session_x=1"));
        headers.append(header::COOKIE, HeaderValue::from_static("changegate_session="));
        assert_eq!(session_token(&headers), None);
    }

    #[test]
    fn origin_must_name_the_host() {
        let headers = |origin: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
            if !origin.is_empty() {
                headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
            }
            headers
        };
        assert!(origin_matches_host(&headers("")));
        assert!(origin_matches_host(&headers("http://127.0.0.1:8080")));
        assert!(!origin_matches_host(&headers("http://127.0.0.1:9090")));
        assert!(!origin_matches_host(&headers("https://evil.example")));
        assert!(!origin_matches_host(&headers("null")));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/changes?state=draft"), Some("/changes?state=draft"));
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/a b"), None);
        assert_eq!(safe_next(""), None);
    }
}
