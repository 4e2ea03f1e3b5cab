//! The benchmark of the literature's protocol: sort by commit date, train on the oldest fraction,
//! test on the rest.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::jit::JitDataset;
use crate::model::{Model, ModelError, TrainConfig, train};

/// What `changegate risk benchmark` prints. JSON keys are the field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkReport {
    /// ROC AUC on the test rows (`NaN` when the test rows hold one class only).
    pub auc: f64,
    /// Brier score on the test rows.
    pub brier: f64,
    /// Rows trained on.
    pub train_rows: usize,
    /// Rows tested on.
    pub test_rows: usize,
    /// Share of failed changes among the test rows.
    pub test_positive_rate: f64,
    /// Wall-clock training time (including the calibration fit).
    pub train_seconds: f64,
    /// Mean wall-clock time to score one change, one call per change.
    pub score_micros_per_row: f64,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchmarkError {
    /// The fraction leaves no training or no test rows.
    #[error("train fraction {fraction} leaves {train} training and {test} test rows; both must be at least 10")]
    Split { fraction: f64, train: usize, test: usize },
    /// Training failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Run the benchmark with the default [`TrainConfig`].
pub fn benchmark(dataset: &JitDataset, train_fraction: f64) -> Result<BenchmarkReport, BenchmarkError> {
    benchmark_with(dataset, train_fraction, &TrainConfig::default()).map(|(report, _)| report)
}

/// Run the benchmark with a given configuration; also returns the trained model (with its
/// evaluation on the test rows filled in).
pub fn benchmark_with(
    dataset: &JitDataset,
    train_fraction: f64,
    config: &TrainConfig,
) -> Result<(BenchmarkReport, Model), BenchmarkError> {
    let rows = dataset.sorted_by_time();
    let n_train = if train_fraction.is_finite() { (rows.len() as f64 * train_fraction).round() as usize } else { 0 };
    let n_train = n_train.min(rows.len());
    if n_train < 10 || rows.len() - n_train < 10 {
        return Err(BenchmarkError::Split { fraction: train_fraction, train: n_train, test: rows.len() - n_train });
    }
    let (train_rows, test_rows) = rows.split_at(n_train);
    let start = Instant::now();
    let mut model = train(train_rows, config)?;
    let train_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut probs = Vec::with_capacity(test_rows.len());
    for r in test_rows {
        probs.push(model.predict(std::hint::black_box(&r.metrics)));
    }
    let score_micros_per_row = start.elapsed().as_secs_f64() * 1e6 / test_rows.len() as f64;

    let evaluation = model.evaluate(test_rows);
    let report = BenchmarkReport {
        auc: evaluation.auc.unwrap_or(f64::NAN),
        brier: evaluation.brier,
        train_rows: train_rows.len(),
        test_rows: test_rows.len(),
        test_positive_rate: evaluation.positive_rate,
        train_seconds,
        score_micros_per_row,
    };
    model.evaluation = Some(evaluation);
    Ok((report, model))
}
