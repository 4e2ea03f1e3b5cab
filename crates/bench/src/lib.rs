//! Shared pieces of the benchmarks: latency statistics and the raw SQLite baselines they are
//! compared with. Run them with `bench/run.sh` (release builds); figures go to BENCHMARKS.md.

use std::path::Path;
use std::time::{Duration, Instant};

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

/// Percentile (0–100) of sorted durations.
pub fn percentile(sorted: &[Duration], percent: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((percent / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Opens a bare SQLite database with the store's own durability settings (WAL, synchronous=FULL).
pub async fn raw_sqlite(directory: &Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rwc", directory.join("raw.db").display());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(|connection, _| {
            Box::pin(async move {
                connection.execute("PRAGMA journal_mode = WAL").await?;
                connection.execute("PRAGMA synchronous = FULL").await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .expect("opening the raw SQLite database");
    sqlx::query("CREATE TABLE IF NOT EXISTS events (sequence INTEGER PRIMARY KEY, stream TEXT, stream_version INTEGER, event_type TEXT, actor TEXT, time_ms INTEGER, schema_version INTEGER, payload TEXT)")
        .execute(&pool)
        .await
        .expect("creating the raw table");
    pool
}

/// Single-row commits per second: one INSERT per transaction, `count` times.
pub async fn raw_commit_rate(pool: &sqlx::AnyPool, count: u64, first_sequence: i64) -> f64 {
    let started = Instant::now();
    for offset in 0..count as i64 {
        let mut transaction = pool.begin().await.expect("begin");
        sqlx::query("INSERT INTO events (sequence, stream, stream_version, event_type, actor, time_ms, schema_version, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(first_sequence + offset)
            .bind("change/CHG-000001")
            .bind(offset + 1)
            .bind("change_created")
            .bind("alice")
            .bind(1_790_000_000_000i64)
            .bind(1i64)
            .bind(r#"{"title":"Bump openssl to 3.0.15 in payments-api","type":"normal"}"#)
            .execute(&mut *transaction)
            .await
            .expect("insert");
        transaction.commit().await.expect("commit");
    }
    count as f64 / started.elapsed().as_secs_f64()
}
