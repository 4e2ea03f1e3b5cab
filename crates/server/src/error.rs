//! The API's error shape: `{"error": {"code": "...", "message": "...", "fields": [...]}}` with the
//! status that fits, the same for every endpoint.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use changegate_core::FieldError;
use changegate_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error as the API returns it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
}

/// The JSON body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `illegal_transition`, `validation_failed`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Field-by-field problems, for `validation_failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: Vec::new() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_failed",
            message: format!("invalid input: {field}: {message}"),
            fields: vec![FieldError::new(field, message)],
        }
    }
}

/// The HTTP status of a service error, the same for the API and the pages.
pub(crate) fn status_of(error: &ServiceError) -> StatusCode {
    match error {
        ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Validation(_) | ServiceError::IdempotencyKeyReused(_) | ServiceError::BadRows(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::IllegalTransition(_) | ServiceError::Conflict(_) => StatusCode::CONFLICT,
        ServiceError::Store(_) | ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = status_of(&error);
        let message = if error.is_internal() {
            tracing::error!(%error, "internal fault");
            "internal error; the operator can find details in the server log".to_owned()
        } else {
            error.to_string()
        };
        ApiError { status, code: error.code(), message, fields: error.fields().to_vec() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                fields: self
                    .fields
                    .into_iter()
                    .map(|field| FieldErrorBody { field: field.field, message: field.message })
                    .collect(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_fault_is_a_500_whose_message_stays_in_the_log() {
        let error = ApiError::from(ServiceError::Internal("stored risk model v3 does not load: eof".into()));
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.code, "internal");
        assert!(!error.message.contains("risk model"), "{}", error.message);
    }

    #[test]
    fn a_conflict_of_the_request_stays_a_409_with_its_message() {
        let error = ApiError::from(ServiceError::Conflict("a user named rita already exists".into()));
        assert_eq!(error.status, StatusCode::CONFLICT);
        assert_eq!(error.code, "conflict");
        assert_eq!(error.message, "a user named rita already exists");
    }
}
