//! Delivery metrics over a million changes: the index's build time, memory and query latency,
//! next to DuckDB computing the same numbers from the same rows (`bench/metrics_duckdb.sh`).
//!
//! Usage: metrics_bench DIRECTORY [CHANGES]   (default 1,000,000 changes)
//!
//! Deterministically generates CHANGES changes over 18 months (40 services each owned by one of
//! 8 teams; environments production, prod-eu and staging, the first two production; about 15 %
//! failed or rolled back, failures likelier at high risk scores, 8 % emergency changes) and
//! incidents for about 3 % of the deployments, 80 % of them with a counted cause. Writes them to
//! DIRECTORY/changes.csv and DIRECTORY/incidents.csv (Unix milliseconds, empty for null), builds
//! the index by upserting every fact (timed), times 20,000 replacing upserts, then times four
//! queries (whole range; one service; one month; one team over 90 days), each repeated, and
//! writes each report to DIRECTORY/report-<query>.json. Prints a table and one JSON line per
//! query (`RESULT {...}`) that the DuckDB script reads.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use changegate_core::{ChangeType, RiskClass, Severity};
use changegate_metrics::{
    ChangeFact, ChangeOutcome, DAY_MS, HOUR_MS, IncidentFact, MetricsConfig, MetricsIndex, MetricsQuery, NameId,
};
use serde_json::{Value, json};

/// Bounds on the arguments.
const CHANGES_MAX: u64 = 20_000_000;
/// Timed repetitions of each query.
const QUERY_REPETITIONS: usize = 15;
/// Changes replaced (then put back) to time incremental upserts.
const REPLACED_CHANGES: u64 = 10_000;
/// 2024-01-01T00:00:00Z: the generated history starts here and lasts 18 months.
const HISTORY_START_MS: i64 = 1_704_067_200_000;
const HISTORY_DAYS: i64 = 548;
const SERVICES: usize = 40;
const TEAMS: usize = 8;
use changegate_core::civil::MINUTE_MS;

/// SplitMix64: a tiny deterministic generator, so the data is the same on every run and machine.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// Uniform in `low..high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low) as u64) as i64
    }

    /// True with probability `percent` / 100 (fractions allowed).
    fn chance(&mut self, percent: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 10_000.0 < percent
    }
}

struct Names {
    services: Vec<NameId>,
    teams: Vec<NameId>,
    environments: Vec<NameId>,
}

fn generate(count: u64, names: &Names) -> (Vec<ChangeFact>, Vec<IncidentFact>) {
    let mut random = Random(20_260_701);
    let span_ms = HISTORY_DAYS * DAY_MS;
    let mut changes = Vec::with_capacity(count as usize);
    let mut incidents = Vec::new();
    for index in 0..count {
        let number = index + 1;
        let service = (random.next() % SERVICES as u64) as usize;
        let team = service % TEAMS;
        let environment = match random.next() % 100 {
            0..55 => 0,
            55..70 => 1,
            _ => 2,
        };
        let change_type = match random.next() % 100 {
            0..50 => ChangeType::Standard,
            50..92 => ChangeType::Normal,
            _ => ChangeType::Emergency,
        };
        let risk_score = random.chance(90.0).then(|| (random.next() % 101) as u8);
        let risk_class = risk_score.map(|score| match score {
            0..25 => RiskClass::Low,
            25..50 => RiskClass::Medium,
            50..75 => RiskClass::High,
            _ => RiskClass::Critical,
        });
        // About 15 % fail: 5 % at score 0 up to 25 % at 100, two thirds failed, a third rolled back.
        let failure_percent = 5.0 + 0.2 * f64::from(risk_score.unwrap_or(50));
        let outcome = if random.chance(5.0) {
            match random.next() % 5 {
                0 | 1 => ChangeOutcome::Cancelled,
                2 | 3 => ChangeOutcome::Rejected,
                _ => ChangeOutcome::Open,
            }
        } else if random.chance(failure_percent) {
            if random.chance(66.0) { ChangeOutcome::Failed } else { ChangeOutcome::RolledBack }
        } else {
            ChangeOutcome::Success
        };
        // Numbers follow time; each change finishes within a few hours of its slot.
        let slot_ms = HISTORY_START_MS + (index as i64 * span_ms) / count as i64;
        let end_ms = (slot_ms + random.between(-2 * HOUR_MS, 2 * HOUR_MS)).max(HISTORY_START_MS);
        let started_at_ms = end_ms - random.between(5 * MINUTE_MS, 4 * HOUR_MS);
        let approved_before_start_ms = started_at_ms - random.between(0, 2 * DAY_MS);
        let submitted_at_ms = approved_before_start_ms
            - match change_type {
                ChangeType::Standard => random.between(1_000, 60_000),
                _ => random.between(MINUTE_MS, 3 * DAY_MS),
            };
        let created_at_ms = submitted_at_ms - random.between(0, DAY_MS);
        let first_commit_at_ms = random.chance(70.0).then(|| created_at_ms - random.between(0, 7 * DAY_MS));
        // Emergency changes are often approved after the fact.
        let approved_at_ms = if change_type == ChangeType::Emergency && random.chance(40.0) {
            end_ms + random.between(HOUR_MS, 2 * DAY_MS)
        } else {
            approved_before_start_ms
        };
        let deployed = outcome.is_deployed();
        let (approved_at_ms, started_at_ms) = match outcome {
            ChangeOutcome::Rejected | ChangeOutcome::Cancelled => (None, None),
            _ if random.chance(3.0) => (None, Some(started_at_ms)),
            _ => (Some(approved_at_ms), Some(started_at_ms)),
        };
        let fact = ChangeFact {
            number,
            service: names.services[service],
            team: names.teams[team],
            environment: names.environments[environment],
            change_type,
            created_at_ms,
            submitted_at_ms: random.chance(97.0).then_some(submitted_at_ms),
            approved_at_ms,
            started_at_ms,
            completed_at_ms: deployed.then_some(end_ms),
            outcome,
            first_commit_at_ms,
            risk_score,
            risk_class,
        };
        if deployed && environment != 2 && random.chance(3.0) {
            let detected_at_ms = end_ms + random.between(10 * MINUTE_MS, 3 * DAY_MS);
            incidents.push(IncidentFact {
                number: incidents.len() as u64 + 1,
                service: names.services[service],
                severity: match random.next() % 100 {
                    0..10 => Severity::Sev1,
                    10..35 => Severity::Sev2,
                    35..75 => Severity::Sev3,
                    _ => Severity::Sev4,
                },
                detected_at_ms,
                resolved_at_ms: random
                    .chance(97.0)
                    .then(|| detected_at_ms + random.between(10 * MINUTE_MS, 2 * DAY_MS)),
                downtime_minutes: random.chance(70.0).then(|| random.between(0, 600) as u32),
                counted_cause: random.chance(80.0).then_some(number),
            });
        }
        changes.push(fact);
    }
    (changes, incidents)
}

fn optional(value: Option<impl ToString>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn outcome_text(outcome: ChangeOutcome) -> &'static str {
    match outcome {
        ChangeOutcome::Success => "success",
        ChangeOutcome::Failed => "failed",
        ChangeOutcome::RolledBack => "rolled_back",
        ChangeOutcome::Cancelled => "cancelled",
        ChangeOutcome::Rejected => "rejected",
        ChangeOutcome::Open => "open",
    }
}

fn write_csv(
    directory: &Path,
    index: &MetricsIndex,
    changes: &[ChangeFact],
    incidents: &[IncidentFact],
) -> std::io::Result<()> {
    let name = |id: NameId| index.names().text(id).unwrap_or("");
    let mut file = BufWriter::new(fs::File::create(directory.join("changes.csv"))?);
    writeln!(
        file,
        "number,service,team,environment,change_type,created_at_ms,submitted_at_ms,approved_at_ms,started_at_ms,\
         completed_at_ms,outcome,first_commit_at_ms,risk_score,risk_class"
    )?;
    for change in changes {
        writeln!(
            file,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            change.number,
            name(change.service),
            name(change.team),
            name(change.environment),
            change.change_type,
            change.created_at_ms,
            optional(change.submitted_at_ms),
            optional(change.approved_at_ms),
            optional(change.started_at_ms),
            optional(change.completed_at_ms),
            outcome_text(change.outcome),
            optional(change.first_commit_at_ms),
            optional(change.risk_score),
            optional(change.risk_class),
        )?;
    }
    file.flush()?;
    let mut file = BufWriter::new(fs::File::create(directory.join("incidents.csv"))?);
    writeln!(file, "number,service,severity,detected_at_ms,resolved_at_ms,downtime_minutes,counted_cause")?;
    for incident in incidents {
        writeln!(
            file,
            "{},{},{},{},{},{},{}",
            incident.number,
            name(incident.service),
            incident.severity,
            incident.detected_at_ms,
            optional(incident.resolved_at_ms),
            optional(incident.downtime_minutes),
            optional(incident.counted_cause),
        )?;
    }
    file.flush()
}

/// Resident memory of this process, from /proc (Linux); 0 elsewhere.
fn resident_bytes() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kilobytes| kilobytes * 1024)
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// The top-level values the DuckDB script compares.
const COMPARED_KEYS: [&str; 24] = [
    "deployments",
    "deployment_frequency_per_day",
    "deployment_days_per_week",
    "lead_time_median_hours",
    "lead_time_p90_hours",
    "change_failure_rate",
    "change_success_rate",
    "failed_deployments",
    "failed_deployment_recovery_median_hours",
    "failed_deployments_unrecovered",
    "deployment_rework_rate",
    "rework_deployments",
    "approval_time_median_hours",
    "approval_time_p90_hours",
    "time_to_implement_median_hours",
    "change_related_incidents",
    "change_related_incidents_per_deployment",
    "change_related_incidents_unresolved",
    "mttr_hours",
    "downtime_minutes_from_changes",
    "changes_by_type",
    "change_related_incidents_by_severity",
    "bands",
    "period",
];

fn run() -> Result<(), String> {
    let mut arguments = std::env::args().skip(1);
    let directory = PathBuf::from(arguments.next().ok_or("usage: metrics_bench DIRECTORY [CHANGES]")?);
    let count: u64 = match arguments.next() {
        Some(text) => text.parse().map_err(|_| "CHANGES must be a number")?,
        None => 1_000_000,
    };
    if count == 0 || count > CHANGES_MAX {
        return Err(format!("CHANGES must be 1 to {CHANGES_MAX}"));
    }
    fs::create_dir_all(&directory).map_err(|error| error.to_string())?;

    let config = MetricsConfig {
        production_environments: vec!["production".to_owned(), "prod".to_owned(), "prod-eu".to_owned()],
    };
    let mut index = MetricsIndex::new(config).map_err(|error| error.to_string())?;
    let mut intern = |text: String| index.intern(&text).map_err(|error| error.to_string());
    let names = Names {
        services: (0..SERVICES).map(|service| intern(format!("svc-{service:02}"))).collect::<Result<_, _>>()?,
        teams: (0..TEAMS).map(|team| intern(format!("team-{team}"))).collect::<Result<_, _>>()?,
        environments: ["production", "prod-eu", "staging"]
            .iter()
            .map(|environment| intern((*environment).to_owned()))
            .collect::<Result<_, _>>()?,
    };
    let started = Instant::now();
    let (changes, incidents) = generate(count, &names);
    println!(
        "generated {} changes and {} incidents in {:.1} s",
        changes.len(),
        incidents.len(),
        started.elapsed().as_secs_f64()
    );
    write_csv(&directory, &index, &changes, &incidents).map_err(|error| error.to_string())?;

    let resident_before = resident_bytes();
    let started = Instant::now();
    for change in &changes {
        index.upsert_change(change).map_err(|error| error.to_string())?;
    }
    let changes_elapsed = started.elapsed();
    let started = Instant::now();
    for incident in &incidents {
        index.upsert_incident(incident).map_err(|error| error.to_string())?;
    }
    let incidents_elapsed = started.elapsed();
    let index_bytes = resident_bytes().saturating_sub(resident_before);
    println!(
        "index build: {:.2} s for {} changes ({} deployments) + {:.2} s for {} incidents; \
         resident memory +{:.0} MiB = {:.0} bytes per change, {:.0} per deployment",
        changes_elapsed.as_secs_f64(),
        changes.len(),
        index.deployments(),
        incidents_elapsed.as_secs_f64(),
        incidents.len(),
        index_bytes as f64 / (1024.0 * 1024.0),
        index_bytes as f64 / changes.len() as f64,
        index_bytes as f64 / index.deployments().max(1) as f64,
    );

    // Replacing upserts: a change's state moves on (here: success ↔ failed), then back, so the
    // index ends up holding exactly the facts in the CSV files.
    let mut random = Random(7);
    let replaced: Vec<usize> =
        (0..REPLACED_CHANGES.min(count)).map(|_| (random.next() % changes.len() as u64) as usize).collect();
    let started = Instant::now();
    for position in &replaced {
        let mut moved_on = changes[*position].clone();
        moved_on.outcome = match moved_on.outcome {
            ChangeOutcome::Success => ChangeOutcome::Failed,
            _ => ChangeOutcome::Success,
        };
        if moved_on.completed_at_ms.is_none() {
            moved_on.completed_at_ms = Some(moved_on.created_at_ms + DAY_MS);
        }
        index.upsert_change(&moved_on).map_err(|error| error.to_string())?;
    }
    for position in &replaced {
        index.upsert_change(&changes[*position]).map_err(|error| error.to_string())?;
    }
    let upsert_elapsed = started.elapsed();
    println!(
        "replacing upserts: {} in {:.1} ms = {:.1} µs each",
        2 * replaced.len(),
        milliseconds(upsert_elapsed),
        upsert_elapsed.as_secs_f64() * 1e6 / (2 * replaced.len()).max(1) as f64
    );

    let month_from_ms = 1_740_787_200_000; // 2025-03-01
    let month_to_ms = 1_743_465_600_000; // 2025-04-01
    let quarter_from_ms = 1_735_689_600_000; // 2025-01-01, 90 days to 2025-04-01
    let queries = [
        ("whole_range", MetricsQuery::default()),
        ("one_service", MetricsQuery { service: Some("svc-07".to_owned()), ..MetricsQuery::default() }),
        (
            "one_month",
            MetricsQuery { from_ms: Some(month_from_ms), to_ms: Some(month_to_ms), ..MetricsQuery::default() },
        ),
        (
            "team_90_days",
            MetricsQuery {
                from_ms: Some(quarter_from_ms),
                to_ms: Some(month_to_ms),
                team: Some("team-3".to_owned()),
                ..MetricsQuery::default()
            },
        ),
    ];
    let mut table = String::new();
    writeln!(table, "| query | ours min | ours median |").ok();
    writeln!(table, "|---|---:|---:|").ok();
    for (label, query) in &queries {
        let mut timings = Vec::with_capacity(QUERY_REPETITIONS);
        let mut report = None;
        for _ in 0..QUERY_REPETITIONS {
            let started = Instant::now();
            let answer = index.query(query).map_err(|error| error.to_string())?;
            timings.push(started.elapsed());
            report = Some(answer);
        }
        timings.sort();
        let report = serde_json::to_value(report.ok_or("no repetitions")?).map_err(|error| error.to_string())?;
        fs::write(
            directory.join(format!("report-{label}.json")),
            serde_json::to_string_pretty(&report).map_err(|error| error.to_string())?,
        )
        .map_err(|error| error.to_string())?;
        let (minimum, median) = (milliseconds(timings[0]), milliseconds(timings[timings.len() / 2]));
        writeln!(table, "| {label} | {minimum:.2} ms | {median:.2} ms |").ok();
        let values: serde_json::Map<String, Value> =
            COMPARED_KEYS.iter().map(|key| ((*key).to_owned(), report[*key].clone())).collect();
        let line = json!({
            "query": label,
            "filter": query,
            "ours_ms_min": minimum,
            "ours_ms_median": median,
            "values": values,
        });
        println!("RESULT {line}");
    }
    print!("{table}");
    Ok(())
}

fn main() {
    if let Err(error) = run() {
        eprintln!("metrics_bench: {error}");
        std::process::exit(2);
    }
}
