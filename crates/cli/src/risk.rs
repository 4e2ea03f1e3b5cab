//! `changegate risk …`: the predictive risk model. `benchmark` measures the model on a
//! just-in-time defect-prediction CSV with the literature's protocol (time-ordered split);
//! `features` (in `risk/features.rs`) computes the JIT metrics of a git range.

mod features;

use anyhow::Context;
use changegate_risk::jit::load_csv;

use crate::args::RiskCommand;

pub fn run(command: RiskCommand, json: bool) -> anyhow::Result<()> {
    match command {
        RiskCommand::Features { repo, range, csv } => features::run(&repo, &range, json, csv),
        RiskCommand::Train { store, iterations } => crate::setup::runtime()?.block_on(train(&store, iterations, json)),
        RiskCommand::Score { client, id } => score(&client, &id, json),
        RiskCommand::Models { client } => models(&client, json),
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

async fn train(store: &crate::args::StoreArgs, iterations: usize, json: bool) -> anyhow::Result<()> {
    let opened = crate::setup::open_store(store).await?;
    let service = changegate_service::Service::new(opened, std::sync::Arc::new(changegate_service::SystemClock));
    let system = service.system_caller(changegate_core::Role::Admin);
    let config = changegate_risk::TrainConfig { iterations, ..changegate_risk::TrainConfig::default() };
    let started = std::time::Instant::now();
    let model = service.train_risk_model(&system, &config).await?;
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let calibration = &model.calibration;
        println!(
            "{}",
            serde_json::json!({
                "version": model.version, "auc": model.auc, "brier": model.brier,
                "training_rows": model.training_rows, "validation_rows": model.validation_rows,
                "positive_rate": model.positive_rate, "calibration": calibration, "train_seconds": seconds,
            })
        );
    } else {
        println!("Model {} trained on {} changes in {seconds:.1} s.", model.version, model.training_rows);
        println!(
            "Measured on the newest {} changes: ROC AUC {}, Brier score {:.4} (failure rate {:.3}).",
            model.validation_rows,
            model.auc.map_or_else(|| "n/a".to_owned(), |auc| format!("{auc:.3}")),
            model.brier,
            model.positive_rate
        );
        println!("It is now used for every assessment; `changegate risk models` lists every version.");
    }
    Ok(())
}

fn score(client: &crate::args::ClientArgs, id: &str, json: bool) -> anyhow::Result<()> {
    let report = crate::client::Client::new(client).get(&format!("/api/v1/changes/{id}/risk"))?;
    if json {
        println!("{report}");
        return Ok(());
    }
    let factors = &report["factors"];
    println!(
        "{id}: risk {} (score {})",
        crate::output::cell(&factors["class"]),
        crate::output::cell(&factors["score"])
    );
    for factor in factors["factors"].as_array().into_iter().flatten() {
        println!(
            "  {:>6.1}  {:<20} {}",
            factor["contribution"].as_f64().unwrap_or(0.0),
            factor["name"].as_str().unwrap_or_default(),
            factor["detail"].as_str().unwrap_or_default()
        );
    }
    match report["prediction"].as_object() {
        None => println!("No predictive model yet: train one with `changegate risk train`."),
        Some(prediction) => {
            println!(
                "Model {}: probability of failure {:.1} % (log-odds {:.3} = base {:.3} + contributions)",
                prediction["model"].as_str().unwrap_or_default(),
                prediction["probability"].as_f64().unwrap_or(0.0) * 100.0,
                prediction["logit"].as_f64().unwrap_or(0.0),
                prediction["intercept"].as_f64().unwrap_or(0.0)
            );
            for contribution in prediction["contributions"].as_array().into_iter().flatten().take(10) {
                println!(
                    "  {:>+8.3}  {}",
                    contribution["contribution"].as_f64().unwrap_or(0.0),
                    contribution["feature"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn models(client: &crate::args::ClientArgs, json: bool) -> anyhow::Result<()> {
    let models = crate::client::Client::new(client).get("/api/v1/risk/models")?;
    if json {
        println!("{models}");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = models
        .as_array()
        .into_iter()
        .flatten()
        .map(|model| {
            ["version", "trained_at", "training_rows", "validation_rows", "auc", "brier"]
                .iter()
                .map(|key| crate::output::cell(&model[*key]))
                .collect()
        })
        .collect();
    if rows.is_empty() {
        println!("No model trained yet: `changegate risk train` trains one on this installation's history.");
    } else {
        crate::output::table(&["version", "trained at", "rows", "validation rows", "AUC", "Brier"], &rows);
    }
    Ok(())
}
