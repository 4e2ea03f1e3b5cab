//! Changegate's predictive change-risk model.
//!
//! - [`jit`]: loader for just-in-time defect-prediction CSV files (every public spelling).
//! - [`model`]: calibrated gradient-boosted trees with exact per-feature contributions.
//! - [`evaluate`]: ROC AUC (midranks), Brier score, calibration table.
//! - [`benchmark`](mod@benchmark): the time-ordered train/test benchmark.
//! - [`factors`]: the explainable factor score (0–100, low/medium/high/critical).
//! - [`change_model`]: the model of an organisation's own change history.
//!
//! Pure: no file or network I/O (the loader reads any `impl Read`), no clock except the timings
//! of [`benchmark::benchmark`].

pub mod benchmark;
pub mod change_model;
pub mod evaluate;
pub mod factors;
pub mod jit;
pub mod model;

pub use benchmark::{BenchmarkError, BenchmarkReport, benchmark, benchmark_with};
pub use change_model::{
    CHANGE_FEATURE_NAMES, CHANGE_FEATURES, CODE_METRICS_OFFSET, ChangeExample, ChangeModel, train_change_model,
};
pub use evaluate::{CalibrationBin, brier_score, calibration_table, roc_auc};
pub use factors::{FactorAssessment, RiskFactor, RiskFacts, RiskWeights};
pub use jit::{JitDataset, JitRow, LoadError, METRIC_NAMES, MetricScale, load_csv, load_str};
pub use model::{Explanation, FEATURE_NAMES, Model, ModelError, ModelEvaluation, TrainConfig, TrainingRow, train};
