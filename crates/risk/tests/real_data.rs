//! On a real project from `../shared/data/jit` (skipped when the folder is absent): the benchmark
//! beats the published baselines, and the same file rewritten in the held-out format (Unix `date`,
//! `nd`/`age`/`nuc`/`entrophy`, absolute `la`/`ld`/`lt`/`nuc`) scores the same.

use std::path::PathBuf;

use changegate_risk::jit::{denormalise, load_str};
use changegate_risk::{MetricScale, TrainConfig, benchmark_with};

fn shared_file(name: &str) -> Option<String> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/jit").join(name);
    std::fs::read_to_string(&p).ok().or_else(|| {
        eprintln!("skipped: {} not found", p.display());
        None
    })
}

fn to_held_out_format(text: &str) -> String {
    let ds = load_str(text).unwrap();
    let mut out = String::from("_id,date,bug,ns,nd,nf,entrophy,la,ld,lt,fix,ndev,age,nuc,exp,rexp,sexp\n");
    for (i, r) in ds.rows.iter().enumerate() {
        let cells: Vec<String> = denormalise(&r.metrics).iter().map(|v| format!("{v}")).collect();
        out.push_str(&format!("c{i},{},{},{}\n", r.time_unix_s, u8::from(r.bug), cells.join(",")));
    }
    out
}

#[test]
fn real_project_and_its_absolute_copy_score_alike() {
    let Some(text) = shared_file("bugzilla.csv") else { return };
    let config = TrainConfig { iterations: 100, learning_rate: 0.1, parallel: false, ..TrainConfig::default() };
    let original = load_str(&text).unwrap();
    assert_eq!(original.scale, MetricScale::Normalised);
    let converted = load_str(&to_held_out_format(&text)).unwrap();
    assert_eq!(converted.scale, MetricScale::Absolute);
    assert_eq!(converted.rows.len(), original.rows.len());
    let (a, model) = benchmark_with(&original, 0.8, &config).unwrap();
    let (b, _) = benchmark_with(&converted, 0.8, &config).unwrap();
    assert!(a.auc > 0.76, "AUC {}", a.auc);
    assert!((a.auc - b.auc).abs() < 0.02, "original {} vs absolute {}", a.auc, b.auc);
    assert!((a.brier - b.brier).abs() < 0.01, "original {} vs absolute {}", a.brier, b.brier);
    assert!(model.evaluation.as_ref().is_some_and(|e| e.calibration.len() == 10));
}
