//! The predictive model of an organisation's own changes (the seed's levels 4–5): the calibrated
//! probability that a change fails (fails, is rolled back, or causes an incident), from facts about
//! the change, its service's and requester's history, timing, evidence and — when the change
//! carries them — the 14 just-in-time code metrics.
//!
//! Same learner as [`crate::model`] (gradient-boosted trees from `forust-ml`, Platt calibration on
//! the newest rows, exact TreeSHAP contributions), over [`CHANGE_FEATURE_NAMES`]. A value that is
//! not known (no code metrics, say) is [`ABSENT`] (every real feature is ≥ 0), so trees split it
//! off like any value; NaN is not used because the TreeSHAP of `forust-ml` 0.8 does not follow the
//! missing-value branch, which would break the additivity of the explanations.
//!
//! Training ([`train_change_model`]) is time-ordered: the rows (oldest first) are split at
//! `1 − validation_fraction`; a model fitted on the older part is measured on the newer part
//! (ROC AUC, Brier score, a ten-bin calibration table), then the model is refitted on every row
//! and keeps those measured figures. The figures therefore describe how the method does on
//! changes it has not seen, which is what a user needs to decide whether to trust it.

use forust_ml::Matrix;
use forust_ml::gradientbooster::{ContributionsMethod, GradientBooster};
use serde::{Deserialize, Serialize};

use crate::evaluate::{brier_score, calibration_table, roc_auc};
use crate::model::{Explanation, ModelError, ModelEvaluation, TrainConfig, fit_booster_on, fit_platt, sigmoid};

/// Version of the stored change-model format.
pub const CHANGE_MODEL_FORMAT_VERSION: u32 = 1;

/// Number of change features.
pub const CHANGE_FEATURES: usize = 34;

/// The features, in order. The last 14 are the JIT code metrics (NaN when absent).
pub const CHANGE_FEATURE_NAMES: [&str; CHANGE_FEATURES] = [
    "tier",
    "production",
    "standard",
    "emergency",
    "has_rollback_plan",
    "has_test_evidence",
    "has_security_evidence",
    "critical_findings",
    "from_template",
    "scoped",
    "dependents",
    "depends_on",
    "hour_utc",
    "weekday",
    "planned_minutes",
    "description_chars",
    "service_changes_90d",
    "service_failure_rate_90d",
    "requester_changes_before",
    "requester_failures_90d",
    "ns",
    "nd",
    "nf",
    "entropy",
    "la",
    "ld",
    "lt",
    "fix",
    "ndev",
    "age",
    "nuc",
    "exp",
    "rexp",
    "sexp",
];

/// The value of a feature that is not known.
pub const ABSENT: f64 = -1.0;

/// Index of the first code metric in the feature vector.
pub const CODE_METRICS_OFFSET: usize = 20;

/// One change as the model sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeExample {
    /// When the change was submitted (orders the rows; Unix ms).
    pub time_ms: i64,
    pub features: Vec<f64>,
    /// It failed, was rolled back, or caused an incident.
    pub failed: bool,
}

/// Most rows one training takes (the newest are kept).
pub const TRAINING_ROWS_MAX: usize = 2_000_000;

/// A trained change model with its measured quality.
#[derive(Serialize, Deserialize)]
pub struct ChangeModel {
    pub format_version: u32,
    pub feature_names: Vec<String>,
    pub platt_a: f64,
    pub platt_b: f64,
    pub training_rows: usize,
    pub training_positive_rate: f64,
    /// Rows in the time-ordered validation split and what was measured on them.
    pub evaluation: ModelEvaluation,
    /// Submission time of the oldest and newest training row (Unix ms).
    pub first_row_ms: i64,
    pub last_row_ms: i64,
    pub config: TrainConfig,
    booster: GradientBooster,
}

impl std::fmt::Debug for ChangeModel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ChangeModel")
            .field("training_rows", &self.training_rows)
            .field("evaluation", &self.evaluation)
            .finish_non_exhaustive()
    }
}

fn column_major(rows: &[&ChangeExample]) -> Vec<f64> {
    let count = rows.len();
    let mut data = vec![ABSENT; count * CHANGE_FEATURES];
    for (row, example) in rows.iter().enumerate() {
        for (column, value) in example.features.iter().take(CHANGE_FEATURES).enumerate() {
            data[column * count + row] = if value.is_finite() { *value } else { ABSENT };
        }
    }
    data
}

fn fit(rows: &[&ChangeExample], config: &TrainConfig) -> Result<GradientBooster, ModelError> {
    let data = column_major(rows);
    let labels: Vec<f64> = rows.iter().map(|row| f64::from(u8::from(row.failed))).collect();
    fit_booster_on(&data, rows.len(), CHANGE_FEATURES, &labels, config)
}

fn raw_logit(booster: &GradientBooster, features: &[f64]) -> f64 {
    booster.base_score
        + booster.trees.iter().map(|tree| tree.predict_row_from_row_slice(features, &booster.missing)).sum::<f64>()
}

/// Fitted trees with their Platt calibration, the newest `calibration_fraction` of `rows` fitting
/// the calibration.
fn fit_calibrated(rows: &[&ChangeExample], config: &TrainConfig) -> Result<(GradientBooster, f64, f64), ModelError> {
    let calibration_rows = ((rows.len() as f64) * config.calibration_fraction.clamp(0.0, 0.5)).round() as usize;
    if calibration_rows < 10 || rows.len() - calibration_rows < 10 {
        return Ok((fit(rows, config)?, 1.0, 0.0));
    }
    let (fit_rows, calibration) = rows.split_at(rows.len() - calibration_rows);
    let early = fit(fit_rows, config)?;
    let scores: Vec<f64> = calibration.iter().map(|row| raw_logit(&early, &padded(&row.features))).collect();
    let labels: Vec<bool> = calibration.iter().map(|row| row.failed).collect();
    let (a, b) = fit_platt(&scores, &labels);
    let booster = if config.refit_on_all_rows { fit(rows, config)? } else { early };
    Ok((booster, a, b))
}

fn padded(features: &[f64]) -> Vec<f64> {
    let mut values: Vec<f64> =
        features.iter().take(CHANGE_FEATURES).map(|value| if value.is_finite() { *value } else { ABSENT }).collect();
    values.resize(CHANGE_FEATURES, ABSENT);
    values
}

/// Trains on `examples` (any order; sorted by time here) with a time-ordered validation split.
/// Needs at least 50 rows and both outcomes in the training and the validation part.
pub fn train_change_model(
    examples: &[ChangeExample],
    validation_fraction: f64,
    config: &TrainConfig,
) -> Result<ChangeModel, ModelError> {
    let mut rows: Vec<&ChangeExample> = examples.iter().collect();
    rows.sort_by_key(|row| row.time_ms);
    if rows.len() > TRAINING_ROWS_MAX {
        rows.drain(..rows.len() - TRAINING_ROWS_MAX);
    }
    if rows.len() < 50 {
        return Err(ModelError::Data(format!("{} finished changes; at least 50 are needed", rows.len())));
    }
    let validation = ((rows.len() as f64) * validation_fraction.clamp(0.05, 0.5)).round() as usize;
    let (older, newer) = rows.split_at(rows.len() - validation);
    for (part, name) in [(older, "training"), (newer, "validation")] {
        let failures = part.iter().filter(|row| row.failed).count();
        if failures == 0 || failures == part.len() {
            return Err(ModelError::Data(format!(
                "the {name} part holds only one outcome; both failed and successful changes are needed"
            )));
        }
    }
    let (early, early_a, early_b) = fit_calibrated(older, config)?;
    let probabilities: Vec<f64> =
        newer.iter().map(|row| sigmoid(early_a * raw_logit(&early, &padded(&row.features)) + early_b)).collect();
    let labels: Vec<bool> = newer.iter().map(|row| row.failed).collect();
    let positives = labels.iter().filter(|label| **label).count();
    let evaluation = ModelEvaluation {
        auc: roc_auc(&probabilities, &labels),
        brier: brier_score(&probabilities, &labels),
        rows: newer.len(),
        positive_rate: positives as f64 / newer.len() as f64,
        calibration: calibration_table(&probabilities, &labels, 10),
    };
    let (booster, platt_a, platt_b) = fit_calibrated(&rows, config)?;
    let failures = rows.iter().filter(|row| row.failed).count();
    Ok(ChangeModel {
        format_version: CHANGE_MODEL_FORMAT_VERSION,
        feature_names: CHANGE_FEATURE_NAMES.iter().map(|name| (*name).to_owned()).collect(),
        platt_a,
        platt_b,
        training_rows: rows.len(),
        training_positive_rate: failures as f64 / rows.len() as f64,
        evaluation,
        first_row_ms: rows.first().map_or(0, |row| row.time_ms),
        last_row_ms: rows.last().map_or(0, |row| row.time_ms),
        config: config.clone(),
        booster,
    })
}

impl ChangeModel {
    /// Calibrated probability that the change fails.
    pub fn predict(&self, features: &[f64]) -> f64 {
        sigmoid(self.platt_a * raw_logit(&self.booster, &padded(features)) + self.platt_b)
    }

    /// Per-feature contributions to the calibrated log-odds: `intercept + Σ contributions = logit`
    /// and `probability = σ(logit) = predict(features)`.
    pub fn explain(&self, features: &[f64]) -> Explanation {
        let values = padded(features);
        let matrix = Matrix::new(&values, 1, CHANGE_FEATURES);
        let shapley = self.booster.predict_contributions(&matrix, ContributionsMethod::Shapley, false);
        let contributions: Vec<(String, f64)> = CHANGE_FEATURE_NAMES
            .iter()
            .zip(&shapley[..CHANGE_FEATURES])
            .map(|(name, value)| ((*name).to_owned(), self.platt_a * value))
            .collect();
        let intercept = self.platt_a * shapley[CHANGE_FEATURES] + self.platt_b;
        let logit = intercept + contributions.iter().map(|(_, value)| value).sum::<f64>();
        Explanation { intercept, contributions, logit, probability: sigmoid(logit) }
    }

    pub fn to_json(&self) -> Result<String, ModelError> {
        Ok(serde_json::to_string(self)?)
    }

    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        #[derive(Deserialize)]
        struct Probe {
            format_version: u32,
        }
        let probe: Probe = serde_json::from_str(json)?;
        if probe.format_version != CHANGE_MODEL_FORMAT_VERSION {
            return Err(ModelError::Version { found: probe.format_version, expected: CHANGE_MODEL_FORMAT_VERSION });
        }
        Ok(serde_json::from_str(json)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence (no dependency needed for a test).
    struct Sequence(u64);

    impl Sequence {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn examples(signal: bool, count: usize) -> Vec<ChangeExample> {
        let mut random = Sequence(7);
        (0..count)
            .map(|index| {
                let mut features = vec![f64::NAN; CHANGE_FEATURES];
                for value in features.iter_mut().take(CODE_METRICS_OFFSET) {
                    *value = random.next();
                }
                // Signal: failures are far likelier without a rollback plan on tier 1.
                let risky = features[4] < 0.3 && features[0] < 0.5;
                let failed = if signal { random.next() < if risky { 0.7 } else { 0.05 } } else { random.next() < 0.2 };
                ChangeExample { time_ms: index as i64, features, failed }
            })
            .collect()
    }

    fn quick() -> TrainConfig {
        TrainConfig { iterations: 60, parallel: false, ..TrainConfig::default() }
    }

    #[test]
    fn a_known_signal_is_found_and_noise_is_not() {
        let model = train_change_model(&examples(true, 3_000), 0.2, &quick()).unwrap();
        let auc = model.evaluation.auc.unwrap();
        assert!(auc > 0.75, "signal AUC {auc}");
        let noise = train_change_model(&examples(false, 3_000), 0.2, &quick()).unwrap();
        let auc = noise.evaluation.auc.unwrap();
        assert!((auc - 0.5).abs() < 0.08, "noise AUC {auc}");
        assert_eq!(model.evaluation.rows, 600);
        assert_eq!(model.evaluation.calibration.len(), 10);
    }

    #[test]
    fn contributions_add_up_to_the_logit_and_survive_a_round_trip() {
        let model = train_change_model(&examples(true, 1_000), 0.2, &quick()).unwrap();
        let features = &examples(true, 5)[3].features;
        let explanation = model.explain(features);
        let sum: f64 = explanation.intercept + explanation.contributions.iter().map(|(_, value)| value).sum::<f64>();
        assert!((sum - explanation.logit).abs() < 1e-9);
        assert!(
            (explanation.probability - model.predict(features)).abs() < 1e-6,
            "{} vs {} (logit {} raw {})",
            explanation.probability,
            model.predict(features),
            explanation.logit,
            raw_logit(&model.booster, &padded(features))
        );
        let again = ChangeModel::from_json(&model.to_json().unwrap()).unwrap();
        assert_eq!(again.predict(features), model.predict(features));
    }

    #[test]
    fn too_little_or_one_sided_history_is_refused() {
        assert!(train_change_model(&examples(true, 20), 0.2, &quick()).is_err());
        let mut all_good = examples(true, 500);
        all_good.iter_mut().for_each(|example| example.failed = false);
        let error = train_change_model(&all_good, 0.2, &quick()).unwrap_err();
        assert!(error.to_string().contains("one outcome"), "{error}");
    }
}
