//! Ledger benchmarks:
//! 1. verification speed of the pure core: 1,000,000 leaves of realistic size hashed into the
//!    frontier (what `audit verify` does per event), in bytes/s and seconds;
//! 2. append throughput through the store (events + projections + tree in one transaction per
//!    batch) next to a raw SQLite insert loop of the same rows in the same batch size;
//! 3. full `audit verify` of the store just written (database reads included).
//!
//! Usage: ledger_bench [leaves=1000000] [store_changes=5000]

use std::sync::Arc;
use std::time::Instant;

use changegate_bench::raw_sqlite;
use changegate_core::event::EventEnvelope;
use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, Clock, ManualClock, Timestamp};
use changegate_ledger::{Frontier, leaf_hash};
use changegate_service::{ActionRequest, Command, NewChange, NewService, Service};
use changegate_store::{Store, StoreLocation};

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let leaves: u64 = arguments.get(1).and_then(|text| text.parse().ok()).unwrap_or(1_000_000);
    let changes: u64 = arguments.get(2).and_then(|text| text.parse().ok()).unwrap_or(5_000);

    // 1. Pure verification speed.
    let sample = EventEnvelope {
        sequence: 1,
        stream: "change/CHG-000001".into(),
        stream_version: 1,
        event_type: "change_created".into(),
        actor: "maria.garcia".into(),
        time: Timestamp::from_unix_ms(1_790_000_000_000),
        schema_version: 1,
        payload: r#"{"change_type":"normal","description":"Raise the pool from 20 to 40 connections after the load test","environment":"production","id":"CHG-000001","implementation_plan":"apply config","links":["https://git.example.com/payments/payments-api/pull/1234"],"planned_end":null,"planned_start":null,"requester":"maria.garcia","rollback_plan":"revert","service":"payments-api","title":"Increase connection pool in payments-api"}"#.into(),
    };
    let leaf = sample.leaf_bytes();
    let started = Instant::now();
    let mut frontier = Frontier::new();
    let mut bytes = 0u64;
    for sequence in 1..=leaves {
        let mut event = sample.clone();
        event.sequence = sequence;
        let leaf = event.leaf_bytes();
        bytes += leaf.len() as u64;
        frontier.append(leaf_hash(&leaf));
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "verify (pure): {leaves} leaves of ~{} B in {seconds:.2} s = {:.0} leaves/s, {:.1} MB/s (leaf building included)",
        leaf.len(),
        leaves as f64 / seconds,
        bytes as f64 / seconds / 1e6
    );
    let started = Instant::now();
    let mut frontier = Frontier::new();
    for _ in 0..leaves {
        frontier.append(leaf_hash(&leaf));
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "verify (hashing only): {leaves} leaves in {seconds:.2} s = {:.1} MB/s",
        (leaf.len() as u64 * leaves) as f64 / seconds / 1e6
    );

    // 2. Append through the store versus a raw insert loop.
    let directory = std::env::temp_dir().join(format!("changegate-bench-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Store::open(&StoreLocation::DataDir(directory.join("store"))).await.unwrap();
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_790_000_000_000)));
        let service = Service::new(store.clone(), clock.clone());
        let admin = service.bootstrap_admin("admin").await.unwrap().caller();
        let payments = NewService { name: "payments-api".into(), team: "payments".into(), tier: 3, ..NewService::default() };
        service.register_service(&admin, payments, None).await.unwrap();
        let batch_size = 500u64;
        let before = store.event_count().await.unwrap();
        let started = Instant::now();
        let mut next_id = 1u64;
        while next_id <= changes {
            let mut commands = Vec::new();
            for id in next_id..(next_id + batch_size).min(changes + 1) {
                let input = NewChange { title: format!("Change {id}"), change_type: "standard".into(), service: "payments-api".into(), environment: "production".into(), ..NewChange::default() };
                commands.push((admin.clone(), clock.now(), Command::CreateChange(input)));
                commands.push((admin.clone(), clock.now(), Command::Act { change: ChangeId::new(id), action: Action::Submit, request: ActionRequest::default() }));
            }
            next_id += batch_size;
            service.run_batch(&commands).await.unwrap();
        }
        let seconds = started.elapsed().as_secs_f64();
        let events = store.event_count().await.unwrap() - before;
        let store_rate = events as f64 / seconds;
        println!("append through the store: {events} events in {seconds:.2} s = {store_rate:.0} events/s (batches of {} commands)", batch_size * 2);

        let raw = raw_sqlite(&directory).await;
        let rows = store.events_after(before, events as u32).await.unwrap();
        let started = Instant::now();
        for chunk in rows.chunks((events / (changes / batch_size).max(1)).max(1) as usize) {
            let mut transaction = raw.begin().await.unwrap();
            for row in chunk {
                sqlx::query("INSERT INTO events (sequence, stream, stream_version, event_type, actor, time_ms, schema_version, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(row.sequence as i64).bind(&row.stream).bind(row.stream_version as i64).bind(&row.event_type)
                    .bind(&row.actor).bind(row.time.unix_ms()).bind(i64::from(row.schema_version)).bind(&row.payload)
                    .execute(&mut *transaction).await.unwrap();
            }
            transaction.commit().await.unwrap();
        }
        let seconds = started.elapsed().as_secs_f64();
        let raw_rate = rows.len() as f64 / seconds;
        println!("raw SQLite insert loop of the same rows, same batches: {raw_rate:.0} rows/s");
        println!("ratio (store ÷ raw): {:.0} %", 100.0 * store_rate / raw_rate);

        // 3. Full verification through the store.
        let started = Instant::now();
        let report = service.verify_ledger_quietly(&|_, _| {}).await.unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert!(report.ok, "{report:?}");
        println!("audit verify through the store: {} events in {seconds:.2} s = {:.0} events/s", report.size, report.size as f64 / seconds);
        store.close().await;
    });
    std::fs::remove_dir_all(&directory).ok();
}
