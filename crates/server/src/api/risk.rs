//! Handlers for risk: one change's risk explained, and the trained models with their measured
//! quality. Translation only; the service computes.

use axum::Json;
use axum::extract::{Path, State};
use changegate_core::RiskModelRecord;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Authenticated;

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskFactorView {
    pub name: String,
    /// Points this factor adds to the score.
    pub contribution: f64,
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FactorScoreView {
    /// 0–100: the sum of the contributions, capped at 100.
    pub score: u32,
    /// low (< 25), medium (< 50), high (< 75) or critical.
    pub class: String,
    pub capped: bool,
    pub factors: Vec<RiskFactorView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeatureContributionView {
    pub feature: String,
    /// Contribution to the calibrated log-odds of failure.
    pub contribution: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PredictionView {
    /// The model version.
    pub model: String,
    /// Calibrated probability that the change fails (fails, is rolled back, or causes an incident).
    pub probability: f64,
    /// `intercept + Σ contributions = logit`; `probability = 1 / (1 + e^−logit)`.
    pub intercept: f64,
    pub logit: f64,
    /// Largest first (by absolute value).
    pub contributions: Vec<FeatureContributionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskReportView {
    pub change: String,
    pub factors: FactorScoreView,
    /// Absent until a model is trained (`changegate risk train`).
    pub prediction: Option<PredictionView>,
}

/// One change's risk now: the factor score and the model's explained prediction.
#[utoipa::path(get, path = "/api/v1/changes/{id}/risk", tag = "risk",
    params(("id" = String, Path, description = "e.g. CHG-000001")),
    responses((status = 200, body = RiskReportView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_risk(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<RiskReportView>, ApiError> {
    let id = id.parse().map_err(|_| ApiError::not_found(format!("no change {id}: ids look like CHG-000001")))?;
    let report = state.service.explain_risk(&caller, id).await?;
    let prediction = report.prediction.map(|(model, explanation)| {
        let mut contributions: Vec<FeatureContributionView> = explanation
            .contributions
            .iter()
            .map(|(feature, contribution)| FeatureContributionView {
                feature: feature.clone(),
                contribution: *contribution,
            })
            .collect();
        contributions.sort_by(|left, right| right.contribution.abs().total_cmp(&left.contribution.abs()));
        PredictionView {
            model,
            probability: explanation.probability,
            intercept: explanation.intercept,
            logit: explanation.logit,
            contributions,
        }
    });
    Ok(Json(RiskReportView {
        change: report.change.to_string(),
        factors: FactorScoreView {
            score: report.factors.score,
            class: report.factors.class.clone(),
            capped: report.factors.capped,
            factors: report
                .factors
                .factors
                .iter()
                .map(|factor| RiskFactorView {
                    name: factor.name.clone(),
                    contribution: factor.contribution,
                    detail: factor.detail.clone(),
                })
                .collect(),
        },
        prediction,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskModelView {
    pub version: String,
    pub trained_by: String,
    pub trained_at: String,
    pub training_rows: u64,
    /// Rows of the time-ordered validation split (the newest changes) the figures come from.
    pub validation_rows: u64,
    pub auc: Option<f64>,
    pub brier: f64,
    pub positive_rate: f64,
    /// Ten bins: `{lower, upper, count, mean_predicted, observed_rate}`.
    #[schema(value_type = Object)]
    pub calibration: serde_json::Value,
    /// Ledger sequence of the `risk_model_trained` event.
    pub sequence: u64,
}

impl From<&RiskModelRecord> for RiskModelView {
    fn from(record: &RiskModelRecord) -> Self {
        RiskModelView {
            version: record.version.clone(),
            trained_by: record.trained_by.clone(),
            trained_at: record.trained_at.to_rfc3339(),
            training_rows: record.training_rows,
            validation_rows: record.validation_rows,
            auc: record.auc,
            brier: record.brier,
            positive_rate: record.positive_rate,
            calibration: record.calibration.clone(),
            sequence: record.sequence,
        }
    }
}

/// Every risk model trained, oldest first (the newest is in use).
#[utoipa::path(get, path = "/api/v1/risk/models", tag = "risk",
    responses((status = 200, body = [RiskModelView]), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn risk_models(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<RiskModelView>>, ApiError> {
    Ok(Json(state.service.risk_models(&caller).await?.iter().map(RiskModelView::from).collect()))
}
