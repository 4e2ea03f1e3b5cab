//! Records as the store keeps them: the JSON text of a record, the risk model record a
//! `risk_model_trained` event leaves, and the values of the columns projected beside a record
//! (the ones list filters and indexes read), written and checked from one definition.
//!
//! Why a leaf module: writing keeps these records and reading (the projection check) rebuilds
//! them; with both here, importing neither, reading does not import writing (writing still reads).

use changegate_core::event::EventEnvelope;
use changegate_core::{ChangeRecord, DomainEvent, IncidentRecord, RiskModelRecord, ServiceRecord, Timestamp};

/// A change's projected columns besides `id` and `record`, in the table's order: state, service,
/// requester, change_type, created_at, updated_at, awaits_approval, planned_start, planned_end,
/// failed_at, external_id, deployed_at.
pub(crate) type ChangeColumns =
    (String, String, String, String, i64, i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<String>, Option<i64>);

pub(crate) fn change_columns(record: &ChangeRecord) -> ChangeColumns {
    (
        record.state.as_str().to_owned(),
        record.service.to_string(),
        record.requester.to_string(),
        record.change_type.as_str().to_owned(),
        record.created_at.unix_ms(),
        record.updated_at.unix_ms(),
        i64::from(record.awaits_approval()),
        record.planned_start.map(Timestamp::unix_ms),
        record.planned_end.map(Timestamp::unix_ms),
        record.failed_at.map(Timestamp::unix_ms),
        record.external_id.clone(),
        record.deployed_at().map(Timestamp::unix_ms),
    )
}

/// An incident's projected columns besides `id` and `record`: service, caused_by, detected_at,
/// external_id.
pub(crate) type IncidentColumns = (String, Option<i64>, i64, Option<String>);

pub(crate) fn incident_columns(record: &IncidentRecord) -> IncidentColumns {
    (
        record.service.to_string(),
        record.caused_by.map(|id| id.number() as i64),
        record.detected_at.unix_ms(),
        record.external_id.clone(),
    )
}

/// A service's projected columns besides `name` and `record`: team, tier.
pub(crate) type ServiceColumns = (String, i64);

pub(crate) fn service_columns(record: &ServiceRecord) -> ServiceColumns {
    (record.team.to_string(), i64::from(record.tier.value()))
}

/// The record a `risk_model_trained` event leaves.
pub(crate) fn risk_model_record(envelope: &EventEnvelope, event: &DomainEvent) -> Option<RiskModelRecord> {
    let DomainEvent::RiskModelTrained {
        version,
        model,
        auc,
        brier,
        training_rows,
        validation_rows,
        positive_rate,
        calibration,
    } = event
    else {
        return None;
    };
    Some(RiskModelRecord {
        sequence: envelope.sequence,
        version: version.clone(),
        model: model.clone(),
        auc: *auc,
        brier: *brier,
        training_rows: *training_rows,
        validation_rows: *validation_rows,
        positive_rate: *positive_rate,
        calibration: calibration.clone(),
        trained_by: envelope.actor.clone(),
        trained_at: envelope.time,
    })
}

pub(crate) fn encode<T: serde::Serialize>(record: &T) -> String {
    serde_json::to_string(record).expect("records always serialise")
}
