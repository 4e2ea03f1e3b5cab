//! Runs the benchmark on every JIT file of a folder and prints per-project and mean AUC and Brier.
//!
//! `cargo run --release -p changegate-risk --example jit_all -- [DIR] [--absolute] [--train-fraction F]`
//!
//! `--absolute` converts each file to absolute `la`/`ld`/`lt`/`nuc` (the held-out format: Unix
//! `date`, `nd`/`age`/`nuc`/`entrophy`) before loading it, to check the model sees the same changes.
//! `--time-csv FILE` instead trains once on FILE with the default configuration and prints the rows
//! and the training seconds (used by bench/risk_benchmark.sh and bench/risk_training.sh). The
//! `RISK_*` variables of `config_from_env` override the configuration in both modes.

use std::time::Instant;

use changegate_risk::jit::{denormalise, load_str};
use changegate_risk::{TrainConfig, benchmark_with, train};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = "../shared/data/jit".to_string();
    let mut absolute = false;
    let mut fraction = 0.8;
    let mut time_csv = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--absolute" => absolute = true,
            "--train-fraction" => {
                i += 1;
                fraction = args[i].parse().expect("fraction");
            }
            "--time-csv" => {
                i += 1;
                time_csv = Some(args[i].clone());
            }
            other => dir = other.to_string(),
        }
        i += 1;
    }
    if let Some(path) = time_csv {
        let text = std::fs::read_to_string(&path).expect("read csv");
        let ds = load_str(&text).expect("load");
        let rows = ds.sorted_by_time();
        // Fastest of three runs each: the full calibrated training, and one boosting fit alone (no
        // calibration split), the like-for-like figure against sklearn.
        let config = config_from_env();
        let single = TrainConfig { calibration_fraction: 0.0, ..config.clone() };
        let (mut secs, mut secs1) = (f64::MAX, f64::MAX);
        let mut model = None;
        for _ in 0..3 {
            let start = Instant::now();
            model = Some(train(&rows, &config).expect("train"));
            secs = secs.min(start.elapsed().as_secs_f64());
            let start = Instant::now();
            train(&rows, &single).expect("train");
            secs1 = secs1.min(start.elapsed().as_secs_f64());
        }
        let model = model.expect("trained");
        let start = Instant::now();
        let mut sum = 0.0;
        for r in &rows {
            sum += model.predict(std::hint::black_box(&r.metrics));
        }
        let micros = start.elapsed().as_secs_f64() * 1e6 / rows.len() as f64;
        println!(
            "{{\"rows\": {}, \"train_seconds_calibrated\": {secs:.3}, \"train_seconds_single_fit\": {secs1:.3}, \"trees\": {}, \"score_micros_per_row\": {micros:.2}, \"mean_p\": {:.4}}}",
            rows.len(),
            model.trees(),
            sum / rows.len() as f64
        );
        return;
    }
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    paths.sort();
    println!("| project | rows | test pos. rate | AUC | Brier | train s | µs/row |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let (mut aucs, mut briers) = (Vec::new(), Vec::new());
    for p in &paths {
        let mut text = std::fs::read_to_string(p).expect("read");
        if absolute {
            text = to_absolute_csv(&text);
        }
        let ds = load_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let (r, _) = benchmark_with(&ds, fraction, &config_from_env()).expect("benchmark");
        let name = p.file_stem().unwrap().to_string_lossy();
        println!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.2} | {:.1} |",
            r.train_rows + r.test_rows,
            r.test_positive_rate,
            r.auc,
            r.brier,
            r.train_seconds,
            r.score_micros_per_row
        );
        aucs.push(r.auc);
        briers.push(r.brier);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!("| **mean** ({} projects) | | | **{:.3}** | **{:.3}** | | |", aucs.len(), mean(&aucs), mean(&briers));
}

/// The default configuration, with `RISK_ITERATIONS`, `RISK_LEARNING_RATE`, `RISK_MAX_DEPTH`,
/// `RISK_SUBSAMPLE`, `RISK_NBINS`, `RISK_CALIBRATION_FRACTION`, `RISK_REFIT` and `RISK_PARALLEL`
/// overriding it (for experiments).
fn config_from_env() -> TrainConfig {
    fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    }
    let d = TrainConfig::default();
    TrainConfig {
        iterations: var("RISK_ITERATIONS", d.iterations),
        learning_rate: var("RISK_LEARNING_RATE", d.learning_rate),
        max_depth: var("RISK_MAX_DEPTH", d.max_depth),
        subsample: var("RISK_SUBSAMPLE", d.subsample),
        nbins: var("RISK_NBINS", d.nbins),
        calibration_fraction: var("RISK_CALIBRATION_FRACTION", d.calibration_fraction),
        refit_on_all_rows: var("RISK_REFIT", d.refit_on_all_rows),
        parallel: var("RISK_PARALLEL", d.parallel),
        ..d
    }
}

/// Rewrite a development file in the held-out format: Unix `date`, spellings `nd`, `age`, `nuc`,
/// `entrophy`, `_id`, and absolute `la`, `ld`, `lt`, `nuc`.
fn to_absolute_csv(text: &str) -> String {
    let ds = load_str(text).expect("load");
    let mut out = String::from("_id,date,bug,ns,nd,nf,entrophy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp\n");
    for (i, r) in ds.rows.iter().enumerate() {
        let m = denormalise(&r.metrics);
        let cells: Vec<String> = m.iter().map(|v| if v.is_nan() { "NA".into() } else { format!("{v}") }).collect();
        out.push_str(&format!("c{i},{},{},{}\n", r.time_unix_s, u8::from(r.bug), cells.join(",")));
    }
    out
}
