//! Service errors, each with a stable code that every face shows as is.

use changegate_core::{DomainError, FieldError};
use changegate_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("a valid API token is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    IllegalTransition(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the Idempotency-Key `{0}` was already used for a different request")]
    IdempotencyKeyReused(String),
    /// Bad rows in an import's files: nothing was written. The report lists them.
    #[error("{}", .0.refusal())]
    BadRows(Box<crate::ImportReport>),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A fault of the server, not of the request (stored data that does not load, no randomness,
    /// an invariant broken): the faces answer 500 and log the message instead of showing it.
    #[error("internal fault: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The stable, machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Validation(_) => "validation_failed",
            ServiceError::IllegalTransition(_) => "illegal_transition",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::IdempotencyKeyReused(_) => "idempotency_key_reused",
            ServiceError::BadRows(_) => "bad_rows",
            ServiceError::Store(_) | ServiceError::Internal(_) => "internal",
        }
    }

    /// Whether this is a fault of the server (500) rather than of the request.
    pub fn is_internal(&self) -> bool {
        matches!(self, ServiceError::Store(_) | ServiceError::Internal(_))
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation(vec![FieldError::new(field, message)])
    }

    /// Field errors, for validation failures.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            ServiceError::Validation(fields) => fields,
            _ => &[],
        }
    }
}

impl From<DomainError> for ServiceError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Validation(fields) => ServiceError::Validation(fields),
            error @ DomainError::IllegalTransition { .. } => ServiceError::IllegalTransition(error.to_string()),
            DomainError::Forbidden(message) => ServiceError::Forbidden(message),
            DomainError::Conflict(message) => ServiceError::Conflict(message),
        }
    }
}
