//! Writes a deterministic, realistic history in the import format (`changes.csv` and
//! `incidents.csv`, see docs/import.md) for the import benchmark and for any work that needs a
//! large past: metrics, maturity, risk training.
//!
//! The same seed, count and end give the same bytes. The history spans 18 months before `--end`:
//! a dozen teams and their services, standard changes from pipelines (auto-approved), normal
//! changes approved by one or two people, a few emergencies started before their (retrospective)
//! approval, outcomes whose failure rate rises with the risk score and missing evidence, reviews
//! and root causes after failures, and incidents: most caused by a failed change, some by none.
//! Some optional cells are left empty (unknown), as real exports have them.
//!
//! Usage: history_csv --changes N --out DIR [--seed 7] [--end 2026-01-01T00:00:00Z]

use std::path::PathBuf;

use changegate_core::{RiskClass, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;

use changegate_core::civil::DAY_MS;
use changegate_core::civil::HOUR_MS;
use changegate_core::civil::MINUTE_MS;
/// How far back the history goes.
const HISTORY_MONTHS: i64 = 18;
/// Most changes one run writes (a bound on the file size: about 300 bytes a row).
const CHANGES_MAX: u64 = 10_000_000;

const TEAMS: &[(&str, &[&str])] = &[
    ("payments", &["payments-api", "ledger-service", "fraud-scoring", "card-vault"]),
    ("checkout", &["checkout-web", "cart-service", "pricing-engine"]),
    ("identity", &["auth-gateway", "user-profile", "session-store"]),
    ("search", &["search-api", "indexer", "ranking-model"]),
    ("catalog", &["catalog-service", "media-store", "inventory-sync"]),
    ("platform", &["kubernetes-platform", "service-mesh", "ci-runners", "artifact-registry"]),
    ("data", &["events-pipeline", "warehouse-loader", "feature-store"]),
    ("mobile", &["mobile-bff", "push-notifier"]),
    ("logistics", &["shipping-api", "warehouse-robotics", "route-planner"]),
    ("support", &["helpdesk-portal", "chat-router"]),
    ("observability", &["metrics-stack", "log-shipper", "tracing-collector"]),
    ("security", &["secrets-manager", "waf-edge", "vulnerability-scanner"]),
];

const VERBS: &[&str] =
    &["Upgrade", "Patch", "Roll out", "Tune", "Migrate", "Rotate", "Scale", "Refactor", "Enable", "Disable"];
const OBJECTS: &[&str] = &[
    "the database driver",
    "TLS certificates",
    "the connection pool",
    "the feature flag for the new flow",
    "the base image",
    "the rate limiter",
    "the cache eviction policy",
    "the JVM heap settings",
    "the retry policy",
    "the logging format",
    "the schema (add index)",
    "dependency versions",
];
const ROOT_CAUSES: &[&str] = &[
    "Configuration drift between staging and production",
    "Missing index made a query time out under load",
    "Incompatible client library version",
    "Untested rollback path, data migration not reversible",
    "Certificate chain incomplete on one node pool",
    "Capacity: the new version needs more memory",
    "Race condition only visible under production traffic",
    "Feature flag default was on, not off",
];

struct Arguments {
    changes: u64,
    out: PathBuf,
    seed: u64,
    end: Timestamp,
}

fn arguments() -> Result<Arguments, String> {
    let mut changes = None;
    let mut out = None;
    let mut seed = 7;
    let mut end = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z")?;
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--changes" => changes = Some(value()?.parse::<u64>().map_err(|error| format!("--changes: {error}"))?),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--seed" => seed = value()?.parse().map_err(|error| format!("--seed: {error}"))?,
            "--end" => end = Timestamp::parse_rfc3339(&value()?)?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let changes = changes.ok_or("--changes N is required")?;
    if changes == 0 || changes > CHANGES_MAX {
        return Err(format!("--changes must be 1 to {CHANGES_MAX}"));
    }
    Ok(Arguments { changes, out: out.ok_or("--out DIR is required")?, seed, end })
}

fn main() {
    let arguments = match arguments() {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("history_csv: {message}\nusage: history_csv --changes N --out DIR [--seed 7] [--end RFC3339]");
            std::process::exit(2);
        }
    };
    if let Err(error) = write_history(&arguments) {
        eprintln!("history_csv: {error}");
        std::process::exit(1);
    }
}

/// One change as it goes into the CSV, with what the incidents need.
struct Generated {
    external_id: String,
    service: &'static str,
    failed: bool,
    finished_at: Option<Timestamp>,
}

fn write_history(arguments: &Arguments) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&arguments.out)?;
    let mut rng = ChaCha12Rng::seed_from_u64(arguments.seed);
    let requesters: Vec<String> = (0..200).map(|number| format!("dev{number:03}")).collect();
    let approvers: Vec<String> = (0..40).map(|number| format!("lead{number:02}")).collect();
    let services: Vec<(&str, &str)> =
        TEAMS.iter().flat_map(|(team, services)| services.iter().map(move |service| (*team, *service))).collect();
    let start = arguments.end.plus_ms(-HISTORY_MONTHS * 30 * DAY_MS);
    let spacing_ms = (arguments.end.since_ms(start) - 2 * DAY_MS) / arguments.changes as i64;

    let mut changes = csv::Writer::from_path(arguments.out.join("changes.csv"))?;
    changes.write_record([
        "id",
        "title",
        "type",
        "service",
        "team",
        "environment",
        "requester",
        "created_at",
        "submitted_at",
        "risk_class",
        "risk_score",
        "approved_at",
        "approvers",
        "approval_mode",
        "started_at",
        "completed_at",
        "outcome",
        "rollback_plan",
        "test_evidence",
        "security_evidence",
        "created_by",
        "pir_done",
        "root_cause",
        "rollback_automated",
        "commit_time",
    ])?;
    let mut generated: Vec<Generated> = Vec::new();
    for number in 0..arguments.changes {
        let (team, service) = services[rng.random_range(0..services.len())];
        let created_at = start.plus_ms(number as i64 * spacing_ms + rng.random_range(0..spacing_ms.max(1)));
        let roll = rng.random_range(0..100);
        let change_type = if roll < 45 {
            "standard"
        } else if roll < 93 {
            "normal"
        } else {
            "emergency"
        };
        let pipeline = change_type == "standard" || rng.random_bool(0.6);
        let test_evidence = rng.random_bool(if pipeline { 0.9 } else { 0.6 });
        let security_evidence = rng.random_bool(if pipeline { 0.75 } else { 0.35 });
        let rollback_plan = rng.random_bool(0.85);
        let mut risk_score: u32 = match change_type {
            "standard" => rng.random_range(2..30),
            "normal" => rng.random_range(15..80),
            _ => rng.random_range(40..100),
        };
        if !test_evidence {
            risk_score = (risk_score + 10).min(100);
        }
        let risk_class = if rng.random_bool(0.9) { RiskClass::of_score(risk_score).as_str() } else { "" };
        let submitted_at = created_at.plus_ms(rng.random_range(MINUTE_MS..2 * HOUR_MS));
        let (approval_mode, approver_list, approved_at, started_at) = match change_type {
            "standard" => {
                ("auto", String::new(), Some(submitted_at), submitted_at.plus_ms(rng.random_range(MINUTE_MS..HOUR_MS)))
            }
            "normal" => {
                let count = if risk_score >= 50 { 2 } else { 1 };
                let first = rng.random_range(0..approvers.len());
                let names: Vec<&str> =
                    (0..count).map(|offset| approvers[(first + offset * 7) % approvers.len()].as_str()).collect();
                let approved = submitted_at.plus_ms(rng.random_range(10 * MINUTE_MS..2 * DAY_MS));
                (
                    "manual",
                    names.join(";"),
                    Some(approved),
                    approved.plus_ms(rng.random_range(10 * MINUTE_MS..3 * DAY_MS)),
                )
            }
            _ => {
                let started = created_at.plus_ms(rng.random_range(0..30 * MINUTE_MS));
                let approver = approvers[rng.random_range(0..approvers.len())].as_str();
                // Most emergencies are approved retrospectively, after they started.
                let approved = if rng.random_bool(0.6) {
                    started.plus_ms(rng.random_range(HOUR_MS..DAY_MS))
                } else {
                    submitted_at.plus_ms(rng.random_range(MINUTE_MS..20 * MINUTE_MS))
                }
                .max(submitted_at);
                ("manual", approver.to_owned(), Some(approved), started)
            }
        };
        let failure_probability = 0.02
            + f64::from(risk_score) / 100.0 * 0.14
            + if test_evidence { 0.0 } else { 0.05 }
            + if rollback_plan { 0.0 } else { 0.02 };
        let cancelled = rng.random_bool(0.03);
        let completed_at = started_at.plus_ms(rng.random_range(5 * MINUTE_MS..2 * HOUR_MS));
        let (outcome, failed) = if cancelled {
            ("cancelled", false)
        } else if rng.random_bool(failure_probability.min(0.9)) {
            if rng.random_bool(0.5) { ("rolled_back", true) } else { ("failed", true) }
        } else {
            ("success", false)
        };
        let pir_done = failed && rng.random_bool(0.7);
        let root_cause = if pir_done { ROOT_CAUSES[rng.random_range(0..ROOT_CAUSES.len())] } else { "" };
        let rollback_automated = outcome == "rolled_back" && pipeline && rng.random_bool(0.5);
        let commit_time = pipeline.then(|| created_at.plus_ms(-rng.random_range(10 * MINUTE_MS..3 * DAY_MS)));
        let external_id = format!("SN-CHG-{:07}", number + 1);
        let title = format!(
            "{} {} in {service}",
            VERBS[rng.random_range(0..VERBS.len())],
            OBJECTS[rng.random_range(0..OBJECTS.len())]
        );
        let environment = if rng.random_bool(0.8) { "production" } else { "staging" };
        let time = |time: Option<Timestamp>| time.map(Timestamp::to_rfc3339).unwrap_or_default();
        let flag = |value: bool| if value { "yes" } else { "no" };
        let (started, completed) = if cancelled { (None, None) } else { (Some(started_at), Some(completed_at)) };
        let approved_at = if cancelled && rng.random_bool(0.5) { None } else { approved_at };
        changes.write_record([
            external_id.as_str(),
            &title,
            change_type,
            service,
            team,
            environment,
            &requesters[rng.random_range(0..requesters.len())],
            &created_at.to_rfc3339(),
            &submitted_at.to_rfc3339(),
            risk_class,
            &risk_score.to_string(),
            &time(approved_at),
            if approval_mode == "auto" { "" } else { &approver_list },
            approval_mode,
            &time(started),
            &time(completed),
            outcome,
            flag(rollback_plan),
            flag(test_evidence),
            // An unknown cell now and then, as exports have them.
            if rng.random_bool(0.05) { "" } else { flag(security_evidence) },
            if pipeline { "pipeline" } else { "manual" },
            if failed { flag(pir_done) } else { "" },
            root_cause,
            if outcome == "rolled_back" { flag(rollback_automated) } else { "" },
            &time(commit_time),
        ])?;
        generated.push(Generated { external_id, service, failed, finished_at: completed });
    }
    changes.flush()?;

    let mut incidents = csv::Writer::from_path(arguments.out.join("incidents.csv"))?;
    incidents.write_record([
        "id",
        "service",
        "severity",
        "detected_at",
        "resolved_at",
        "downtime_minutes",
        "caused_by",
    ])?;
    let mut incident_count = 0u64;
    for change in &generated {
        let caused = change.failed && rng.random_bool(0.6);
        // Incidents no change caused, about 3 for every 100 changes.
        let background = !caused && rng.random_bool(0.03);
        if !caused && !background {
            continue;
        }
        incident_count += 1;
        let detected_at = change.finished_at.unwrap_or(start).plus_ms(rng.random_range(MINUTE_MS..6 * HOUR_MS));
        let roll = rng.random_range(0..100);
        let severity = if roll < 5 {
            1
        } else if roll < 25 {
            2
        } else if roll < 70 {
            3
        } else {
            4
        };
        let resolve_ms = rng.random_range(10 * MINUTE_MS..12 * HOUR_MS);
        let resolved = rng.random_bool(0.97).then(|| detected_at.plus_ms(resolve_ms));
        let downtime = (severity <= 2 && resolved.is_some()).then_some(resolve_ms / MINUTE_MS);
        incidents.write_record([
            format!("PD-{incident_count:07}"),
            change.service.to_owned(),
            severity.to_string(),
            detected_at.to_rfc3339(),
            resolved.map(Timestamp::to_rfc3339).unwrap_or_default(),
            downtime.map(|minutes| minutes.to_string()).unwrap_or_default(),
            if caused { change.external_id.clone() } else { String::new() },
        ])?;
    }
    incidents.flush()?;
    eprintln!("wrote {} changes and {incident_count} incidents to {}", arguments.changes, arguments.out.display());
    Ok(())
}
