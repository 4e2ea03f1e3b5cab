//! `changegate import`: brings another system's history into the local store, with a progress
//! bar. The service checks and writes; this only reads the files and shows the outcome.
//!
//! Exit codes: 0 imported, 2 bad rows (nothing imported, the rows are listed), 1 anything else.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use changegate_service::import::RowProblem;
use changegate_service::{
    ImportInput, ImportOptions, ImportPhase, ImportProgress, ImportReport, Service, ServiceError, SystemClock,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::ImportArgs;
use crate::setup;

/// Largest CSV file read (the service refuses more rows than fit in it anyway).
const IMPORT_FILE_SIZE_MAX_BYTES: u64 = 1024 * 1024 * 1024;
/// Problems printed for people (the JSON report lists up to the service's limit).
const PROBLEMS_PRINTED_MAX: usize = 50;
/// The exit code for bad rows.
const EXIT_BAD_ROWS: u8 = 2;

pub fn run(arguments: &ImportArgs, json: bool) -> ExitCode {
    setup::init_logging("warn");
    let outcome = setup::runtime().and_then(|runtime| runtime.block_on(import(arguments, json)));
    match outcome {
        Ok(report) => {
            print_report(arguments, &report, json);
            ExitCode::SUCCESS
        }
        Err(error) => match error.downcast::<ServiceError>() {
            Ok(ServiceError::BadRows(report)) => {
                print_refusal(arguments, &report, json);
                ExitCode::from(EXIT_BAD_ROWS)
            }
            Ok(other) => fail(&anyhow::Error::new(other), json),
            Err(error) => fail(&error, json),
        },
    }
}

fn fail(error: &anyhow::Error, json: bool) -> ExitCode {
    if json {
        let code = error.downcast_ref::<ServiceError>().map_or("cli_error", ServiceError::code);
        eprintln!("{}", serde_json::json!({"error": {"code": code, "message": format!("{error:#}")}}));
    } else {
        eprintln!("error: {error:#}");
    }
    ExitCode::FAILURE
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    if size > IMPORT_FILE_SIZE_MAX_BYTES {
        anyhow::bail!(
            "{} is {size} bytes; at most {IMPORT_FILE_SIZE_MAX_BYTES} are read at once: split the history",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

async fn import(arguments: &ImportArgs, json: bool) -> anyhow::Result<ImportReport> {
    let changes = read_file(&arguments.changes)?;
    let incidents = arguments.incidents.as_deref().map(read_file).transpose()?;
    let store = setup::open_store(&arguments.store).await?;
    let service = Service::new(store.clone(), Arc::new(SystemClock));
    let input = ImportInput { changes_csv: Some(&changes), incidents_csv: incidents.as_deref() };
    let options = ImportOptions { skip_bad: arguments.skip_bad, ..ImportOptions::default() };
    let bar = progress_bar(json);
    let mut show = |progress: ImportProgress| show_progress(&bar, progress);
    let result = service.import_history_locally(input, &options, &mut show).await;
    bar.finish_and_clear();
    store.close().await;
    Ok(result?)
}

fn progress_bar(json: bool) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message("checking the rows");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn show_progress(bar: &ProgressBar, progress: ImportProgress) {
    match progress.phase {
        ImportPhase::Checking => bar.set_message(format!("checked {} rows", progress.rows_done)),
        ImportPhase::Writing => {
            if bar.length() != Some(progress.rows_total) {
                bar.set_style(
                    ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)")
                        .expect("a valid template")
                        .progress_chars("=> "),
                );
                bar.set_message("writing");
                bar.set_length(progress.rows_total);
            }
            bar.set_position(progress.rows_done);
        }
    }
}

/// `changes.csv` in a problem is the file given as `--changes`; show that file's path, in the
/// `path:line:` form editors jump to.
fn located(arguments: &ImportArgs, problem: &RowProblem) -> String {
    let path = match problem.file {
        changegate_service::import::ImportFile::Changes => arguments.changes.display().to_string(),
        changegate_service::import::ImportFile::Incidents => {
            arguments.incidents.as_deref().map(|path| path.display().to_string()).unwrap_or_default()
        }
    };
    match &problem.column {
        Some(column) => format!("{path}:{}: column {column}: {} [{}]", problem.line, problem.reason, problem.kind),
        None => format!("{path}:{}: {} [{}]", problem.line, problem.reason, problem.kind),
    }
}

fn print_problems(arguments: &ImportArgs, report: &ImportReport) {
    for problem in report.problems.iter().take(PROBLEMS_PRINTED_MAX) {
        eprintln!("  {}", located(arguments, problem));
    }
    let printed = report.problems.len().min(PROBLEMS_PRINTED_MAX) as u64;
    if report.problems_total > printed {
        eprintln!("  … and {} more (all of them are in --json)", report.problems_total - printed);
    }
}

fn print_refusal(arguments: &ImportArgs, report: &ImportReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).expect("a report serialises"));
        return;
    }
    eprintln!("error: {}", report.refusal());
    print_problems(arguments, report);
}

fn print_report(arguments: &ImportArgs, report: &ImportReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).expect("a report serialises"));
        return;
    }
    println!(
        "Imported {} changes and {} incidents in {:.1} s ({:.0} rows/s).",
        report.changes_created,
        report.incidents_created,
        report.elapsed_ms as f64 / 1000.0,
        report.rows_per_second
    );
    println!(
        "Read {} change rows and {} incident rows; {} were imported before and skipped.",
        report.change_rows, report.incident_rows, report.skipped_existing
    );
    let names = |names: &[changegate_core::Name]| names.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    if report.teams_created > 0 {
        println!("New teams ({}): {}", report.teams_created, names(&report.new_teams));
    }
    if report.services_created > 0 {
        println!(
            "New services ({}, tier {} until you change it): {}",
            report.services_created,
            changegate_service::import::IMPORTED_SERVICE_TIER,
            names(&report.new_services)
        );
    }
    println!("{} events appended to the ledger.", report.events_appended);
    if report.bad_rows > 0 {
        eprintln!("Left out {} bad rows (--skip-bad):", report.bad_rows);
        print_problems(arguments, report);
    }
}
