//! The risk model record: a trained predictive risk model, its metadata and the model itself.
//!
//! Why a room of its own: the models are written by training and read by assessment; nothing
//! else in the projections refers to them.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A trained risk model (metadata and the model itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskModelRecord {
    /// The ledger sequence of the `risk_model_trained` event.
    pub sequence: u64,
    pub version: String,
    pub model: String,
    pub auc: Option<f64>,
    pub brier: f64,
    pub training_rows: u64,
    pub validation_rows: u64,
    pub positive_rate: f64,
    pub calibration: serde_json::Value,
    pub trained_by: String,
    pub trained_at: Timestamp,
}
