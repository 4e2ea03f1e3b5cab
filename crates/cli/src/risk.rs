//! `changegate risk …`: the predictive risk model. `benchmark` measures the model on a
//! just-in-time defect-prediction CSV with the literature's protocol (time-ordered split).

use anyhow::Context;
use changegate_risk::jit::load_csv;

use crate::args::RiskCommand;

pub fn run(command: RiskCommand, json: bool) -> anyhow::Result<()> {
    match command {
        RiskCommand::Benchmark { csv, train_fraction } => {
            if !(train_fraction > 0.0 && train_fraction < 1.0) {
                anyhow::bail!("--train-fraction must be between 0 and 1 (exclusive), not {train_fraction}");
            }
            let file = std::fs::File::open(&csv).with_context(|| format!("opening {}", csv.display()))?;
            let dataset =
                load_csv(std::io::BufReader::new(file)).with_context(|| format!("reading {}", csv.display()))?;
            let report = changegate_risk::benchmark(&dataset, train_fraction)
                .with_context(|| format!("benchmarking on {}", csv.display()))?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{}", csv.display());
                println!(
                    "  rows: {} train, {} test (test positive rate {:.3})",
                    report.train_rows, report.test_rows, report.test_positive_rate
                );
                if dataset.skipped_rows > 0 {
                    println!("  skipped: {} rows without a date", dataset.skipped_rows);
                }
                println!("  ROC AUC: {:.4}", report.auc);
                println!("  Brier score: {:.4}", report.brier);
                println!(
                    "  training: {:.2} s; scoring: {:.1} µs per row",
                    report.train_seconds, report.score_micros_per_row
                );
            }
            Ok(())
        }
    }
}
