//! Seeds a fresh SQLite store in a temporary directory and reports how long it took and the mix
//! it produced. Run it in release mode:
//!
//! ```text
//! cargo run --release -p changegate-demo --example seed_timing [CHANGE_COUNT]
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use changegate_core::{ChangeState, ChangeType, Clock, ManualClock};
use changegate_demo::{DemoConfig, seed};
use changegate_service::{ChangeQuery, Service, SystemClock};
use changegate_store::{Store, StoreLocation};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let change_count: u32 = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => 20_000,
    };
    let end = SystemClock.now();
    let directory = tempfile::tempdir()?;
    let store = Store::open(&StoreLocation::DataDir(directory.path().to_path_buf())).await?;
    let service = Service::new(store, Arc::new(ManualClock::new(end)));
    let config = DemoConfig { change_count, end, show_progress: true, ..DemoConfig::default() };

    let started = Instant::now();
    let summary = seed(&service, &config).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "seeded {} changes, {} incidents, {} events, {} users, {} services, {} teams in {seconds:.2} s",
        summary.changes, summary.incidents, summary.events, summary.users, summary.services, summary.teams
    );

    let caller = service.authenticate(&summary.admin_token).await?;
    let mut changes = Vec::new();
    let mut cursor = None;
    loop {
        let query = ChangeQuery { limit: Some(500), cursor: cursor.clone(), ..ChangeQuery::default() };
        let page = service.list_changes(&caller, &query).await?;
        changes.extend(page.changes);
        match page.next_before_id {
            Some(id) => cursor = Some(id.to_string()),
            None => break,
        }
    }
    let total = changes.len() as f64;
    let share = |count: usize| format!("{count} ({:.1}%)", 100.0 * count as f64 / total);
    let mut states: BTreeMap<ChangeState, usize> = BTreeMap::new();
    let mut types: BTreeMap<ChangeType, usize> = BTreeMap::new();
    for change in &changes {
        *states.entry(change.state).or_default() += 1;
        *types.entry(change.change_type).or_default() += 1;
    }
    println!("by state:");
    for (state, count) in &states {
        println!("  {state:<12} {}", share(*count));
    }
    println!("by type:");
    for (kind, count) in &types {
        let of_kind: Vec<_> = changes.iter().filter(|change| change.change_type == *kind).collect();
        let started = of_kind.iter().filter(|change| change.started_at.is_some()).count();
        let failed = of_kind.iter().filter(|change| change.failed_at.is_some()).count();
        println!("  {kind:<10} {}  failure rate {:.1}%", share(*count), 100.0 * failed as f64 / started.max(1) as f64);
    }
    let production = changes.iter().filter(|change| change.environment.as_str() == "production").count();
    let started = changes.iter().filter(|change| change.started_at.is_some()).count();
    let failed: Vec<_> = changes.iter().filter(|change| change.failed_at.is_some()).collect();
    let rolled_back = failed.iter().filter(|change| change.rolled_back_at.is_some()).count();
    let reviewed =
        failed.iter().filter(|change| change.review.as_ref().is_some_and(|r| r.root_cause.is_some())).count();
    println!("production: {}", share(production));
    println!(
        "change failure rate: {} of {started} started = {:.1}%; rolled back {rolled_back} ({:.0}% of failures); reviewed with root cause {reviewed}",
        failed.len(),
        100.0 * failed.len() as f64 / started.max(1) as f64,
        100.0 * rolled_back as f64 / failed.len().max(1) as f64
    );
    let incidents = service.incidents(&service.system_caller(changegate_core::Role::Auditor), 500).await?;
    let mut incidents_all = Vec::new();
    // The store lists at most 500 incidents; count the rest from the summary.
    incidents_all.extend(incidents.iter());
    let caused = failed.len();
    println!(
        "incidents: {} (listed {} newest, of which {} caused by a change; {} failures in all)",
        summary.incidents,
        incidents_all.len(),
        incidents_all.iter().filter(|incident| incident.caused_by.is_some()).count(),
        caused
    );
    let open = incidents_all.iter().filter(|incident| incident.resolved_at.is_none()).count();
    println!("open incidents among the newest: {open}");
    for kind in [ChangeType::Standard, ChangeType::Normal, ChangeType::Emergency] {
        if let Some(sample) =
            changes.iter().rev().find(|change| change.change_type == kind && change.failed_at.is_some())
        {
            println!("a failed {kind} change:\n{}", serde_json::to_string_pretty(sample)?);
        }
    }
    let assessed: Vec<_> = changes.iter().filter(|change| change.assessment.is_some()).collect();
    let denied = assessed.iter().filter(|change| !change.denied.is_empty()).count();
    let by_freeze =
        assessed.iter().filter(|change| change.denied.iter().any(|reason| reason.starts_with("freeze"))).count();
    let auto_approved = assessed.iter().filter(|change| change.auto_approved).count();
    let mut risks: BTreeMap<String, usize> = BTreeMap::new();
    for change in &assessed {
        let risk = change.assessment.as_ref().map(|assessment| assessment.risk_class.to_string()).unwrap_or_default();
        *risks.entry(risk).or_default() += 1;
    }
    println!(
        "policy: {} assessed, auto-approved {}, denied {} ({by_freeze} by a freeze), risk classes {risks:?}",
        assessed.len(),
        share(auto_approved),
        share(denied)
    );
    println!(
        "templates {}, calendar windows {}, emergency changes flagged overdue {}",
        summary.templates, summary.calendar_windows, summary.overdue_emergencies
    );
    let mut by_week: BTreeMap<i64, usize> = BTreeMap::new();
    for change in &changes {
        *by_week.entry((end.unix_ms() - change.created_at.unix_ms()) / (30 * 86_400_000)).or_default() += 1;
    }
    println!("changes per 30 days, newest first: {:?}", by_week.values().collect::<Vec<_>>());
    Ok(())
}
