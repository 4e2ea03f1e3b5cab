//! The request and response types of Changegate's HTTP API (`/api/v1`), with their OpenAPI
//! schemas. The server answers with these and the CLI reads them back (and sends the requests), so
//! the two faces cannot drift apart: a field renamed here changes both, or neither compiles. Core
//! types stay free of HTTP and schema concerns; these mirror them for the wire, and the
//! `From<&Record>` conversions turn the core's records into their views.
//!
//! This crate depends on the core, serde and utoipa only: never on the service, the store or the
//! server, so a client can use it without the server's dependencies.

pub mod change;
pub mod event;
pub mod incident;
pub mod organisation;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use change::*;
pub use event::*;
pub use incident::*;
pub use organisation::*;

/// A timestamp as the API writes it (RFC 3339), absent when there is none.
pub(crate) fn time(value: Option<changegate_core::Timestamp>) -> Option<String> {
    value.map(|time| time.to_rfc3339())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListView<T: ToSchema> {
    pub items: Vec<T>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok` when healthy.
    pub status: String,
}
