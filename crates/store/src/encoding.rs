//! Records as the store keeps them: the JSON text of a record, and the risk model record a
//! `risk_model_trained` event leaves.
//!
//! Why a leaf module: writing keeps these records and reading (the projection check) rebuilds
//! them; with both here, importing neither, reading does not import writing (writing still reads).

use changegate_core::event::EventEnvelope;
use changegate_core::{DomainEvent, RiskModelRecord};

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
