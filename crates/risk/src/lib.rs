//! Changegate's predictive change-risk model.
//!
//! - [`jit`]: loader for just-in-time defect-prediction CSV files (every public spelling).
//! - [`model`]: calibrated gradient-boosted trees with exact per-feature contributions.
//! - [`evaluate`]: ROC AUC (midranks), Brier score, calibration table.
//! - [`benchmark`](mod@benchmark): the time-ordered train/test benchmark.
//!
//! Pure: no file or network I/O (the loader reads any `impl Read`), no clock except the timings
//! of [`benchmark::benchmark`].

pub mod benchmark;
pub mod evaluate;
pub mod jit;
pub mod model;

pub use benchmark::{BenchmarkError, BenchmarkReport, benchmark, benchmark_with};
pub use evaluate::{CalibrationBin, brier_score, calibration_table, roc_auc};
pub use jit::{JitDataset, JitRow, LoadError, METRIC_NAMES, MetricScale, load_csv, load_str};
pub use model::{Explanation, FEATURE_NAMES, Model, ModelError, ModelEvaluation, TrainConfig, TrainingRow, train};
