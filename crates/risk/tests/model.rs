//! Model tests: known signal vs noise, explanation additivity, storage, calibration.

use changegate_risk::jit::JitRow;
use changegate_risk::model::{ModelError, N_FEATURES, features};
use changegate_risk::{JitDataset, MetricScale, Model, TrainConfig, benchmark, roc_auc, train};

/// xorshift64*: a tiny deterministic generator for synthetic data.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows whose failure probability rises with `la` (and `fix`) when `signal`, else pure noise.
fn synthetic(n: usize, signal: bool, seed: u64) -> Vec<JitRow> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let mut m = [0.0; 14];
            for v in &mut m {
                *v = (rng.next_f64() * 100.0).floor();
            }
            m[2] = 1.0 + (rng.next_f64() * 5.0).floor(); // nf
            m[4] = rng.next_f64(); // la (normalised)
            m[7] = f64::from(u8::from(rng.next_f64() < 0.3)); // fix
            let p = if signal { 1.0 / (1.0 + (3.0 - 6.0 * m[4] - 1.5 * m[7]).exp()) } else { 0.3 };
            JitRow { time_unix_s: i as i64, metrics: m, bug: rng.next_f64() < p }
        })
        .collect()
}

fn small_config() -> TrainConfig {
    TrainConfig { iterations: 60, parallel: false, ..TrainConfig::default() }
}

fn auc_on(model: &Model, rows: &[JitRow]) -> f64 {
    let p: Vec<f64> = rows.iter().map(|r| model.predict(&r.metrics)).collect();
    let l: Vec<bool> = rows.iter().map(|r| r.bug).collect();
    roc_auc(&p, &l).unwrap()
}

#[test]
fn learns_a_known_signal() {
    let rows = synthetic(3000, true, 7);
    let model = train(&rows[..2000], &small_config()).unwrap();
    let auc = auc_on(&model, &rows[2000..]);
    assert!(auc > 0.75, "AUC {auc}");
}

#[test]
fn pure_noise_gives_chance_auc() {
    let rows = synthetic(3000, false, 11);
    let model = train(&rows[..2000], &small_config()).unwrap();
    let auc = auc_on(&model, &rows[2000..]);
    assert!((auc - 0.5).abs() < 0.07, "AUC {auc}");
}

#[test]
fn calibrated_probabilities_match_the_rate() {
    let rows = synthetic(3000, true, 3);
    let model = train(&rows[..2000], &small_config()).unwrap();
    let test = &rows[2000..];
    let mean_p = test.iter().map(|r| model.predict(&r.metrics)).sum::<f64>() / test.len() as f64;
    let rate = test.iter().filter(|r| r.bug).count() as f64 / test.len() as f64;
    assert!((mean_p - rate).abs() < 0.05, "mean prediction {mean_p} vs rate {rate}");
    let eval = model.evaluate(test);
    assert_eq!(eval.calibration.len(), 10);
    assert_eq!(eval.calibration.iter().map(|b| b.count).sum::<usize>(), test.len());
    assert!(eval.brier < rate * (1.0 - rate), "Brier {} is no better than a constant", eval.brier);
}

#[test]
fn contributions_add_up_to_the_logit() {
    let rows = synthetic(1500, true, 5);
    let model = train(&rows, &small_config()).unwrap();
    for r in rows.iter().take(50) {
        let e = model.explain(&r.metrics);
        assert_eq!(e.contributions.len(), N_FEATURES);
        let sum = e.intercept + e.contributions.iter().map(|(_, c)| c).sum::<f64>();
        assert!((sum - e.logit).abs() < 1e-9);
        assert!((e.logit - model.logit(&r.metrics)).abs() < 1e-6, "{} vs {}", e.logit, model.logit(&r.metrics));
        assert!((e.probability - model.predict(&r.metrics)).abs() < 1e-6);
    }
    // The informative feature dominates the explanation of an extreme change.
    let mut m = rows[0].metrics;
    m[4] = 0.99;
    let e = model.explain(&m);
    let (top, _) = e.contributions.iter().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap();
    assert!(top == "la" || top == "la_lines", "top feature {top}");
}

#[test]
fn stored_model_round_trips_and_checks_its_version() {
    let rows = synthetic(800, true, 9);
    let model = train(&rows, &small_config()).unwrap();
    let json = model.to_json().unwrap();
    let back = Model::from_json(&json).unwrap();
    for r in rows.iter().take(20) {
        assert_eq!(model.predict(&r.metrics), back.predict(&r.metrics));
    }
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["format_version"] = 99.into();
    assert!(matches!(Model::from_json(&v.to_string()), Err(ModelError::Version { found: 99, expected: 1 })));
}

#[test]
fn refuses_single_class_and_tiny_data() {
    let mut rows = synthetic(100, true, 1);
    rows.iter_mut().for_each(|r| r.bug = false);
    assert!(train(&rows, &small_config()).unwrap_err().to_string().contains("only one outcome"));
    assert!(train(&rows[..3], &small_config()).is_err());
}

#[test]
fn derived_features_recover_absolute_sizes() {
    // la = 0.1 of lt, lt = 200 lines per file, 3 files → 600 lines, 60 added.
    let mut m = [0.0; 14];
    m[2] = 3.0;
    m[4] = 0.1;
    m[6] = 200.0;
    let f = features(&m);
    assert!((f[14] - 60.0).abs() < 1e-9 && (f[16] - 600.0).abs() < 1e-9);
}

#[test]
fn benchmark_sorts_and_splits_by_time() {
    let mut rows = synthetic(2000, true, 21);
    rows.reverse(); // file order is not time order
    let ds = JitDataset { rows, scale: MetricScale::Normalised, skipped_rows: 0 };
    let r = benchmark(&ds, 0.8).unwrap();
    assert_eq!((r.train_rows, r.test_rows), (1600, 400));
    assert!(r.auc > 0.7, "AUC {}", r.auc);
    assert!(r.brier > 0.0 && r.brier < 0.25);
    assert!(r.score_micros_per_row > 0.0 && r.train_seconds > 0.0);
    let json = serde_json::to_value(&r).unwrap();
    for key in
        ["auc", "brier", "train_rows", "test_rows", "test_positive_rate", "train_seconds", "score_micros_per_row"]
    {
        assert!(json.get(key).is_some(), "{key}");
    }
    let err = benchmark(&ds, 1.0).unwrap_err().to_string();
    assert!(err.contains("train fraction"), "{err}");
}
