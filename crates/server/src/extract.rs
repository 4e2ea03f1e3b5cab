//! Request extractors that speak the API's error shape: JSON bodies (400 for malformed JSON, 422
//! for unknown fields or wrong types, 413 past the size limit, 415 without a JSON content type),
//! bearer-token authentication, and the `Idempotency-Key` header.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use changegate_service::{Caller, IdempotencyKey};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::{AppState, BODY_SIZE_MAX_BYTES};

/// A JSON body, parsed strictly, with its raw bytes kept for idempotency fingerprints.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    // The state is unused: the body is read directly so that oversized bodies can be drained.
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        if !has_json_content_type(request.headers()) {
            return Err(unsupported_media_type());
        }
        let raw = read_body_bounded(request.into_body()).await?;
        let value = parse_json(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

/// How much of an oversized body is read and thrown away before answering 413. Reading it lets
/// the client receive the answer: closing a socket with unread data resets the connection, and
/// the client would see "connection reset" instead of the error.
const OVERSIZED_BODY_DRAIN_MAX_BYTES: usize = 16 * 1024 * 1024;

/// Reads a body of at most [`BODY_SIZE_MAX_BYTES`]; a larger one is refused with 413.
pub(crate) async fn read_body_bounded(body: axum::body::Body) -> Result<Bytes, ApiError> {
    read_body_up_to(body, BODY_SIZE_MAX_BYTES).await
}

/// Reads a body of at most `size_max_bytes`; a larger one is refused with 413.
pub(crate) async fn read_body_up_to(body: axum::body::Body, size_max_bytes: usize) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut collected = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| ApiError::bad_request("unreadable_body", error.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen <= size_max_bytes {
            collected.extend_from_slice(&data);
        } else if seen > size_max_bytes.saturating_add(OVERSIZED_BODY_DRAIN_MAX_BYTES) {
            break;
        }
    }
    if seen > size_max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {size_max_bytes} bytes"),
        ));
    }
    Ok(Bytes::from(collected))
}

/// A raw body read with the API's limit and error shape (for endpoints whose body is optional).
pub struct BoundedBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for BoundedBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        Ok(BoundedBody(read_body_bounded(request.into_body()).await?))
    }
}

/// Parses a JSON body: 400 `malformed_json` for bad syntax, 422 `validation_failed` for a body
/// that is JSON but not of the expected shape (unknown fields, wrong types, missing fields).
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice::<T>(raw).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            message: format!("the body does not match the schema: {error}"),
            fields: Vec::new(),
        },
        _ => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {error}")),
    })
}

pub(crate) fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().to_ascii_lowercase().starts_with("application/json"))
}

pub(crate) fn unsupported_media_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as JSON with `Content-Type: application/json`",
    )
}

/// An optional JSON body: empty means `T::default()`; otherwise as strict as [`JsonBody`].
pub fn optional_json<T: DeserializeOwned + Default>(
    headers: &axum::http::HeaderMap,
    raw: &[u8],
) -> Result<T, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if !has_json_content_type(headers) {
        return Err(unsupported_media_type());
    }
    parse_json(raw)
}

/// The caller, authenticated by `Authorization: Bearer <token>`.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")));
        let result = match token {
            Some(token) => state.service.authenticate(token).await,
            None => Err(changegate_service::ServiceError::Unauthenticated),
        };
        match result {
            Ok(caller) => Ok(Authenticated(caller)),
            Err(changegate_service::ServiceError::Unauthenticated) => {
                let count = state.count_unauthenticated();
                tracing::info!(path = %parts.uri.path(), unauthenticated_total = count, "unauthenticated request");
                Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "send a valid API token as `Authorization: Bearer <token>`",
                ))
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// The `Idempotency-Key` header, if present (raw; combined with the body into an
/// [`IdempotencyKey`] by the handler).
pub struct IdempotencyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyHeader(None)),
            Some(value) => value
                .to_str()
                .map(|text| IdempotencyHeader(Some(text.to_owned())))
                .map_err(|_| ApiError::invalid("Idempotency-Key", "must be visible ASCII")),
        }
    }
}

impl IdempotencyHeader {
    /// Combines the key with the request it came with (method, path and body).
    pub fn key(&self, method: &str, path: &str, body: &[u8]) -> Result<Option<IdempotencyKey>, ApiError> {
        let Some(key) = &self.0 else { return Ok(None) };
        let mut request = Vec::with_capacity(method.len() + path.len() + body.len() + 2);
        request.extend_from_slice(method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(path.as_bytes());
        request.push(b'\n');
        request.extend_from_slice(body);
        Ok(Some(IdempotencyKey::new(key, &request)?))
    }
}

/// Query parameters, parsed strictly, with errors in the API's shape.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request("invalid_query", rejection.body_text())),
        }
    }
}

/// [`read_whole_body`] for the import endpoint, whose bodies carry whole CSV files.
pub async fn read_whole_import_body(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    read_whole_body_up_to(request, next, crate::api::import::IMPORT_BODY_SIZE_MAX_BYTES).await
}

/// Middleware for the API: reads the whole request body (bounded) before any handler or
/// extractor runs. Whatever the answer (401, 415, 413, …), the body has then been read, so the
/// connection is not reset under a client that is still sending, and the client sees the answer.
pub async fn read_whole_body(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    read_whole_body_up_to(request, next, BODY_SIZE_MAX_BYTES).await
}

async fn read_whole_body_up_to(
    request: Request,
    next: axum::middleware::Next,
    size_max_bytes: usize,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = request.into_parts();
    match read_body_up_to(body, size_max_bytes).await {
        Ok(bytes) => next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Err(error) => error.into_response(),
    }
}
