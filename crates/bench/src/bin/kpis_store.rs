//! A large SQLite store for timing the metrics faces (`bench/kpis_page.sh`): an admin, 40
//! services of 8 teams, then CHANGES imported changes and incidents for about 3 % of the
//! deployments, appended as `change_imported` and `incident_imported` events through the store's
//! one write path (ledger leaves and projections included), 5,000 events per transaction.
//!
//! Usage: kpis_store DATA_DIR [CHANGES]   (default 1,000,000; the store must be new)
//!
//! The history is deterministic and shaped like `metrics_bench`'s: 18 months from 2024-01-01,
//! environments production, prod-eu and staging, about 15 % failed or rolled back (likelier at
//! high risk scores), 8 % emergency changes, 80 % of the incidents with an explicit cause. The
//! service layer's import is being built elsewhere; appending the import events directly gives
//! the same records without waiting for it. Prints `{"admin_token": …, "changes": …,
//! "incidents": …, "events": …, "seconds": …}`.

use std::sync::Arc;
use std::time::Instant;

use changegate_core::{
    ApprovalMode, ChangeId, ChangeType, CreatedBy, DomainEvent, ImportedChange, ImportedIncident, ImportedOutcome,
    IncidentId, Name, RiskClass, Severity, StreamId, Timestamp,
};
use changegate_service::{NewService, Service, SystemClock};
use changegate_store::{Store, StoreLocation, WriteTx};
use serde_json::json;

/// Bounds on the arguments.
const CHANGES_MAX: u64 = 5_000_000;
/// Events per transaction.
const BATCH_LENGTH: usize = 5_000;
/// 2024-01-01T00:00:00Z: the generated history starts here and lasts 18 months.
const HISTORY_START_MS: i64 = 1_704_067_200_000;
const HISTORY_DAYS: i64 = 548;
const SERVICES: usize = 40;
const TEAMS: usize = 8;
use changegate_core::civil::DAY_MS;
use changegate_core::civil::HOUR_MS;
use changegate_core::civil::MINUTE_MS;

/// SplitMix64: a tiny deterministic generator, so the store is the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low) as u64) as i64
    }

    fn chance(&mut self, percent: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 10_000.0 < percent
    }
}

fn name(text: &str) -> Name {
    Name::parse(text).expect("generated names are valid")
}

fn time(unix_ms: i64) -> Timestamp {
    Timestamp::from_unix_ms(unix_ms)
}

/// Change `number` of `count` and, for about 3 % of the deployments, an incident.
fn generate(random: &mut Random, number: u64, count: u64) -> (ImportedChange, Option<ImportedIncident>) {
    let service = (random.next() % SERVICES as u64) as usize;
    let environment = match random.next() % 100 {
        0..55 => "production",
        55..70 => "prod-eu",
        _ => "staging",
    };
    let change_type = match random.next() % 100 {
        0..50 => ChangeType::Standard,
        50..92 => ChangeType::Normal,
        _ => ChangeType::Emergency,
    };
    let risk_score = random.chance(90.0).then(|| (random.next() % 101) as u32);
    let failure_percent = 5.0 + 0.2 * f64::from(risk_score.unwrap_or(50));
    let outcome = if random.chance(5.0) {
        if random.chance(70.0) { Some(ImportedOutcome::Cancelled) } else { None }
    } else if random.chance(failure_percent) {
        Some(if random.chance(66.0) { ImportedOutcome::Failed } else { ImportedOutcome::RolledBack })
    } else {
        Some(ImportedOutcome::Success)
    };
    let slot_ms = HISTORY_START_MS + ((number - 1) as i64 * HISTORY_DAYS * DAY_MS) / count as i64;
    let end_ms = (slot_ms + random.between(-2 * HOUR_MS, 2 * HOUR_MS)).max(HISTORY_START_MS);
    let started_ms = end_ms - random.between(5 * MINUTE_MS, 4 * HOUR_MS);
    let approved_ms = started_ms - random.between(0, 2 * DAY_MS);
    let submitted_ms = approved_ms
        - match change_type {
            ChangeType::Standard => random.between(1_000, 60_000),
            _ => random.between(MINUTE_MS, 3 * DAY_MS),
        };
    let created_ms = submitted_ms - random.between(0, DAY_MS);
    let commit_ms = random.chance(70.0).then(|| created_ms - random.between(0, 7 * DAY_MS));
    let cancelled = outcome == Some(ImportedOutcome::Cancelled);
    let change = ImportedChange {
        external_id: format!("BENCH-{number}"),
        title: format!("Bench change {number}"),
        change_type,
        service: name(&format!("service-{service:02}")),
        team: name(&format!("team-{}", service % TEAMS)),
        environment: name(environment),
        requester: name("requester"),
        created_at: time(created_ms),
        submitted_at: Some(time(submitted_ms)),
        risk_class: risk_score.map(RiskClass::of_score),
        risk_score,
        approved_at: (!cancelled).then(|| time(approved_ms)),
        approvers: if change_type == ChangeType::Standard { Vec::new() } else { vec![name("approver")] },
        approval_mode: Some(if change_type == ChangeType::Standard {
            ApprovalMode::Auto
        } else {
            ApprovalMode::Manual
        }),
        started_at: (!cancelled).then(|| time(started_ms)),
        completed_at: (!cancelled && outcome.is_some()).then(|| time(end_ms)),
        outcome,
        rollback_plan: Some(true),
        test_evidence: Some(random.chance(90.0)),
        security_evidence: Some(random.chance(60.0)),
        created_by: Some(if random.chance(60.0) { CreatedBy::Pipeline } else { CreatedBy::Manual }),
        pir_done: None,
        root_cause: None,
        rollback_automated: None,
        commit_time: commit_ms.map(time),
    };
    let deployed =
        matches!(outcome, Some(ImportedOutcome::Success | ImportedOutcome::Failed | ImportedOutcome::RolledBack))
            && environment != "staging";
    let incident = (deployed && random.chance(3.0)).then(|| {
        let detected_ms = end_ms + random.between(MINUTE_MS, 6 * HOUR_MS);
        ImportedIncident {
            external_id: format!("BENCH-INC-{number}"),
            service: change.service.clone(),
            severity: Severity::ALL[(random.next() % 4) as usize],
            detected_at: time(detected_ms),
            resolved_at: random.chance(95.0).then(|| time(detected_ms + random.between(10 * MINUTE_MS, DAY_MS))),
            downtime_minutes: Some(random.between(0, 240) as u32),
            caused_by: random.chance(80.0).then_some(ChangeId::new(number)),
        }
    });
    (change, incident)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let Some(directory) = arguments.first() else {
        return Err("usage: kpis_store DATA_DIR [CHANGES]".into());
    };
    let count: u64 = arguments.get(1).map_or(Ok(1_000_000), |text| text.parse())?;
    if count == 0 || count > CHANGES_MAX {
        return Err(format!("CHANGES must be 1 to {CHANGES_MAX}").into());
    }
    let started = Instant::now();
    let store = Store::open(&StoreLocation::DataDir(directory.into())).await?;
    if store.event_count().await? > 0 {
        return Err(format!("{directory} already holds a store; give a new directory").into());
    }
    let service = Service::new(store.clone(), Arc::new(SystemClock));
    let admin = service.bootstrap_admin("admin").await?;
    let caller = admin.caller();
    for number in 0..SERVICES {
        let input = NewService {
            name: format!("service-{number:02}"),
            team: format!("team-{}", number % TEAMS),
            tier: (number % 4 + 1) as i64,
            scopes: Vec::new(),
            depends_on: Vec::new(),
        };
        service.register_service(&caller, input, None).await?;
    }
    let mut random = Random(20_260_701);
    let mut events: Vec<(StreamId, DomainEvent)> = Vec::with_capacity(BATCH_LENGTH);
    let (mut incidents, mut appended) = (0u64, 0u64);
    let now = service.now();
    let flush = async |events: &mut Vec<(StreamId, DomainEvent)>| -> Result<(), Box<dyn std::error::Error>> {
        let batch = std::mem::take(events);
        store
            .write(async |tx: &mut WriteTx| -> Result<(), changegate_store::StoreError> {
                for (stream, event) in &batch {
                    tx.append(stream, "import", now, event).await?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    };
    for number in 1..=count {
        let (change, incident) = generate(&mut random, number, count);
        let id = ChangeId::new(number);
        events.push((StreamId::Change(id), DomainEvent::ChangeImported { id, change }));
        if let Some(incident) = incident {
            incidents += 1;
            let id = IncidentId::new(incidents);
            events.push((StreamId::Incident(id), DomainEvent::IncidentImported { id, incident }));
        }
        if events.len() >= BATCH_LENGTH {
            appended += events.len() as u64;
            flush(&mut events).await?;
            if number % 100_000 < BATCH_LENGTH as u64 {
                eprintln!("{number} changes, {:.0} s", started.elapsed().as_secs_f64());
            }
        }
    }
    appended += events.len() as u64;
    flush(&mut events).await?;
    store.close().await;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({"admin_token": admin.token, "changes": count, "incidents": incidents, "events": appended, "seconds": seconds})
    );
    Ok(())
}
