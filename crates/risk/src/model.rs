//! The predictive model: gradient-boosted trees (the `forust-ml` crate) on the 14 JIT metrics plus
//! four derived size features, with Platt calibration fitted on the most recent part of the
//! training data, and exact per-feature contributions (TreeSHAP).
//!
//! ## Features
//! The input is the 14 metrics in Kamei's normalised scale (as [`crate::jit`] stores them). The
//! model adds the absolute sizes that this scale divides away — `la_lines = la·lt·nf`,
//! `ld_lines = ld·lt·nf` (`la`, `ld` themselves when `lt` is 0), `lt_lines = lt·nf`, `nuc_total = nuc·nf` — because the absolute number of
//! added lines is, on its own, one of the strongest predictors (LApredict). Trees are invariant to
//! monotone transforms, so no log transform is needed.
//!
//! ## Calibration and the additivity rule
//! Training fits the trees on the older `1 − calibration_fraction` of the (time-ordered) rows,
//! fits Platt scaling `p = σ(a·s + b)` of the raw log-odds `s` on the newest `calibration_fraction`,
//! then refits the trees on all rows and keeps `(a, b)`. An [`Explanation`] satisfies, up to
//! floating-point rounding:
//!
//! `intercept + Σ contributions = logit`, and `probability = 1 / (1 + e^−logit) = predict(x)`,
//!
//! where each contribution is `a` times the feature's exact Shapley value (TreeSHAP) in the raw
//! log-odds and `intercept = a·(expected raw log-odds) + b`.

use forust_ml::Matrix;
use forust_ml::gradientbooster::{ContributionsMethod, GradientBooster};
use forust_ml::objective::ObjectiveType;
use forust_ml::sampler::SampleMethod;
use serde::{Deserialize, Serialize};

use crate::evaluate::{CalibrationBin, brier_score, calibration_table, roc_auc};
use crate::jit::{JitRow, METRIC_NAMES, idx};

/// Version of the stored model format ([`Model::to_json`]).
pub const MODEL_FORMAT_VERSION: u32 = 1;

/// Number of model features: the 14 metrics and 4 derived sizes.
pub const N_FEATURES: usize = 18;

/// Names of the model features, in order.
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
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
    "la_lines",
    "ld_lines",
    "lt_lines",
    "nuc_total",
];

/// A training row: one change with its 14 normalised metrics and its outcome.
pub type TrainingRow = JitRow;

/// Hyper-parameters. The defaults are the ones measured in the crate README.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Boosting rounds (trees).
    pub iterations: usize,
    /// Shrinkage per tree.
    pub learning_rate: f32,
    /// Maximum tree depth.
    pub max_depth: usize,
    /// Minimum hessian sum in a leaf.
    pub min_leaf_weight: f32,
    /// L2 penalty on leaf weights.
    pub l2: f32,
    /// Row subsample per tree (1.0 = all rows).
    pub subsample: f32,
    /// Histogram bins per feature.
    pub nbins: u16,
    /// Newest share of the training rows used to fit the calibration.
    pub calibration_fraction: f64,
    /// After fitting the calibration, refit the trees on all rows (true), or keep the trees fitted
    /// on the older rows (false: one fit instead of two, but the newest rows only calibrate).
    pub refit_on_all_rows: bool,
    /// Seed of the row sampling.
    pub seed: u64,
    /// Train with the threads of the machine (else one thread).
    pub parallel: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            iterations: 200,
            learning_rate: 0.05,
            max_depth: 3,
            min_leaf_weight: 5.0,
            l2: 1.0,
            subsample: 0.5,
            nbins: 128,
            calibration_fraction: 0.2,
            refit_on_all_rows: true,
            seed: 0,
            parallel: true,
        }
    }
}

/// Why a model could not be trained or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Too few rows or a single class.
    #[error("cannot train: {0}")]
    Data(String),
    /// The boosting library refused.
    #[error("gradient boosting failed: {0}")]
    Boosting(String),
    /// Stored JSON is not a model.
    #[error("stored model is not valid JSON for this format: {0}")]
    Json(#[from] serde_json::Error),
    /// Stored model has another format version.
    #[error("stored model has format version {found}; this build reads version {expected}")]
    Version { found: u32, expected: u32 },
}

/// Measured quality of a model on held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEvaluation {
    /// ROC AUC (`None` when the rows hold one class only).
    pub auc: Option<f64>,
    /// Brier score.
    pub brier: f64,
    /// Rows evaluated.
    pub rows: usize,
    /// Share of positives.
    pub positive_rate: f64,
    /// Ten-bin calibration table.
    pub calibration: Vec<CalibrationBin>,
}

/// A trained, calibrated model. Serialise with [`Model::to_json`]; the JSON carries
/// `format_version`.
#[derive(Serialize, Deserialize)]
pub struct Model {
    /// [`MODEL_FORMAT_VERSION`] at training time.
    pub format_version: u32,
    /// Feature names, in order.
    pub feature_names: Vec<String>,
    /// Platt slope `a`.
    pub platt_a: f64,
    /// Platt intercept `b`.
    pub platt_b: f64,
    /// Rows trained on.
    pub training_rows: usize,
    /// Share of positives in the training rows.
    pub training_positive_rate: f64,
    /// The hyper-parameters used.
    pub config: TrainConfig,
    /// Quality measured on held-out rows, if it was measured ([`Model::evaluate`]).
    pub evaluation: Option<ModelEvaluation>,
    booster: GradientBooster,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("format_version", &self.format_version)
            .field("trees", &self.booster.trees.len())
            .field("platt_a", &self.platt_a)
            .field("platt_b", &self.platt_b)
            .field("training_rows", &self.training_rows)
            .field("evaluation", &self.evaluation)
            .finish_non_exhaustive()
    }
}

/// A prediction split into per-feature contributions; see the module docs for the additivity rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Calibrated log-odds of the expected (average) training change.
    pub intercept: f64,
    /// `(feature name, contribution to the calibrated log-odds)`, in [`FEATURE_NAMES`] order.
    pub contributions: Vec<(String, f64)>,
    /// Calibrated log-odds of this change: `intercept + Σ contributions`.
    pub logit: f64,
    /// `σ(logit)`, equal to [`Model::predict`].
    pub probability: f64,
}

/// The model features of one change from its 14 normalised metrics.
pub fn features(m: &[f64; 14]) -> [f64; N_FEATURES] {
    let mut f = [0.0; N_FEATURES];
    f[..14].copy_from_slice(m);
    let nf = m[idx::NF].max(1.0);
    let lt_lines = m[idx::LT] * nf;
    // With `lt` = 0 the normalised file keeps absolute counts in `la`/`ld` (see `jit`).
    let lines = |x: f64| if lt_lines == 0.0 { x } else { x * lt_lines };
    f[14] = lines(m[idx::LA]);
    f[15] = lines(m[idx::LD]);
    f[16] = lt_lines;
    f[17] = m[idx::NUC] * nf;
    f
}

pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Column-major feature matrix as forust expects it.
fn column_major(rows: &[JitRow]) -> Vec<f64> {
    let n = rows.len();
    let mut data = vec![0.0; n * N_FEATURES];
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in features(&r.metrics).into_iter().enumerate() {
            data[j * n + i] = v;
        }
    }
    data
}

fn fit_booster(rows: &[JitRow], config: &TrainConfig) -> Result<GradientBooster, ModelError> {
    let data = column_major(rows);
    let y: Vec<f64> = rows.iter().map(|r| f64::from(u8::from(r.bug))).collect();
    fit_booster_on(&data, rows.len(), N_FEATURES, &y, config)
}

/// Fits the trees on a column-major matrix of `rows` × `columns` with labels 0/1.
pub(crate) fn fit_booster_on(
    data: &[f64],
    rows: usize,
    columns: usize,
    y: &[f64],
    config: &TrainConfig,
) -> Result<GradientBooster, ModelError> {
    let matrix = Matrix::new(data, rows, columns);
    let sample_method = if config.subsample < 1.0 { SampleMethod::Random } else { SampleMethod::None };
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(config.iterations)
        .set_learning_rate(config.learning_rate)
        .set_max_depth(config.max_depth)
        .set_min_leaf_weight(config.min_leaf_weight)
        .set_l2(config.l2)
        .set_nbins(config.nbins)
        .set_subsample(config.subsample)
        .set_sample_method(sample_method)
        .set_seed(config.seed)
        .set_parallel(config.parallel)
        .set_initialize_base_score(true);
    booster.fit_unweighted(&matrix, y, None).map_err(|e| ModelError::Boosting(e.to_string()))?;
    Ok(booster)
}

fn raw_logit(booster: &GradientBooster, m: &[f64; 14]) -> f64 {
    let f = features(m);
    booster.base_score + booster.trees.iter().map(|t| t.predict_row_from_row_slice(&f, &booster.missing)).sum::<f64>()
}

/// Fit `p = σ(a·s + b)` by Newton's method on the log-loss, with Platt's smoothed targets.
pub(crate) fn fit_platt(scores: &[f64], labels: &[bool]) -> (f64, f64) {
    let n_pos = labels.iter().filter(|&&l| l).count() as f64;
    let n_neg = labels.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return (1.0, 0.0);
    }
    let t_pos = (n_pos + 1.0) / (n_pos + 2.0);
    let t_neg = 1.0 / (n_neg + 2.0);
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (&s, &l) in scores.iter().zip(labels) {
            let p = sigmoid(a * s + b);
            let t = if l { t_pos } else { t_neg };
            let d = p - t;
            let w = (p * (1.0 - p)).max(1e-12);
            ga += d * s;
            gb += d;
            haa += w * s * s;
            hab += w * s;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() < 1e-10 && db.abs() < 1e-10 {
            break;
        }
    }
    if a.is_finite() && b.is_finite() && a > 0.0 { (a, b) } else { (1.0, 0.0) }
}

/// Train a calibrated model on time-ordered rows (oldest first; the newest
/// `config.calibration_fraction` fit the calibration). Needs at least 10 rows and both outcomes.
pub fn train(rows: &[TrainingRow], config: &TrainConfig) -> Result<Model, ModelError> {
    let n_pos = rows.iter().filter(|r| r.bug).count();
    if rows.len() < 10 {
        return Err(ModelError::Data(format!("{} rows; at least 10 are needed", rows.len())));
    }
    if n_pos == 0 || n_pos == rows.len() {
        return Err(ModelError::Data("the rows hold only one outcome; both failed and good changes are needed".into()));
    }
    let n_cal = ((rows.len() as f64) * config.calibration_fraction.clamp(0.0, 0.5)).round() as usize;
    let (booster, platt_a, platt_b) = if n_cal >= 10 && rows.len() - n_cal >= 10 {
        let (fit_rows, cal_rows) = rows.split_at(rows.len() - n_cal);
        let early = fit_booster(fit_rows, config)?;
        let scores: Vec<f64> = cal_rows.iter().map(|r| raw_logit(&early, &r.metrics)).collect();
        let labels: Vec<bool> = cal_rows.iter().map(|r| r.bug).collect();
        let (a, b) = fit_platt(&scores, &labels);
        let booster = if config.refit_on_all_rows { fit_booster(rows, config)? } else { early };
        (booster, a, b)
    } else {
        (fit_booster(rows, config)?, 1.0, 0.0)
    };
    Ok(Model {
        format_version: MODEL_FORMAT_VERSION,
        feature_names: FEATURE_NAMES.iter().map(|s| (*s).to_string()).collect(),
        platt_a,
        platt_b,
        training_rows: rows.len(),
        training_positive_rate: n_pos as f64 / rows.len() as f64,
        config: config.clone(),
        evaluation: None,
        booster,
    })
}

impl Model {
    /// Calibrated log-odds that the change fails.
    pub fn logit(&self, metrics: &[f64; 14]) -> f64 {
        self.platt_a * raw_logit(&self.booster, metrics) + self.platt_b
    }

    /// Calibrated probability that the change fails, from its 14 normalised metrics
    /// (use [`crate::jit::normalise_absolute`] for absolute counts).
    pub fn predict(&self, metrics: &[f64; 14]) -> f64 {
        sigmoid(self.logit(metrics))
    }

    /// Per-feature contributions (see the module docs for the additivity rule).
    pub fn explain(&self, metrics: &[f64; 14]) -> Explanation {
        let f = features(metrics);
        let matrix = Matrix::new(&f, 1, N_FEATURES);
        let c = self.booster.predict_contributions(&matrix, ContributionsMethod::Shapley, false);
        let a = self.platt_a;
        let contributions: Vec<(String, f64)> =
            FEATURE_NAMES.iter().zip(&c[..N_FEATURES]).map(|(n, v)| ((*n).to_string(), a * v)).collect();
        let intercept = a * c[N_FEATURES] + self.platt_b;
        let logit = intercept + contributions.iter().map(|(_, v)| v).sum::<f64>();
        Explanation { intercept, contributions, logit, probability: sigmoid(logit) }
    }

    /// Number of trees.
    pub fn trees(&self) -> usize {
        self.booster.trees.len()
    }

    /// Measure AUC, Brier and the calibration table on `rows` (typically newer than the training
    /// rows).
    pub fn evaluate(&self, rows: &[JitRow]) -> ModelEvaluation {
        let probs: Vec<f64> = rows.iter().map(|r| self.predict(&r.metrics)).collect();
        let labels: Vec<bool> = rows.iter().map(|r| r.bug).collect();
        let positives = labels.iter().filter(|&&l| l).count();
        ModelEvaluation {
            auc: roc_auc(&probs, &labels),
            brier: brier_score(&probs, &labels),
            rows: rows.len(),
            positive_rate: positives as f64 / rows.len().max(1) as f64,
            calibration: calibration_table(&probs, &labels, 10),
        }
    }

    /// Serialise to versioned JSON.
    pub fn to_json(&self) -> Result<String, ModelError> {
        Ok(serde_json::to_string(self)?)
    }

    /// Load from JSON written by [`Model::to_json`], refusing another format version.
    pub fn from_json(json: &str) -> Result<Self, ModelError> {
        #[derive(Deserialize)]
        struct Probe {
            format_version: u32,
        }
        let probe: Probe = serde_json::from_str(json)?;
        if probe.format_version != MODEL_FORMAT_VERSION {
            return Err(ModelError::Version { found: probe.format_version, expected: MODEL_FORMAT_VERSION });
        }
        Ok(serde_json::from_str(json)?)
    }
}

/// The metric names, re-exported for callers that label inputs.
pub const INPUT_NAMES: [&str; 14] = METRIC_NAMES;
