//! Events on the wire: one stored event of the log, and a page of them. Kept apart from changes
//! because the event log is read on its own (`GET /api/v1/events`) as well as inside a change.

use changegate_core::event::EventEnvelope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One stored event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Global position, from 1; the ledger leaf index is `sequence - 1`.
    pub sequence: u64,
    pub stream: String,
    pub stream_version: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub actor: String,
    pub time: String,
    pub schema_version: u32,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<&EventEnvelope> for EventView {
    fn from(event: &EventEnvelope) -> Self {
        EventView {
            sequence: event.sequence,
            stream: event.stream.clone(),
            stream_version: event.stream_version,
            event_type: event.event_type.clone(),
            actor: event.actor.clone(),
            time: event.time.to_rfc3339(),
            schema_version: event.schema_version,
            data: serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventPageView {
    pub items: Vec<EventView>,
    /// Pass as `after` to continue; absent when there were no events.
    pub next_after: Option<u64>,
}
