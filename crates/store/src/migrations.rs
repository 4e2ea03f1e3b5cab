//! The one migration path for both backends.
//!
//! Each migration is a list of statements written once in portable SQL. Two placeholders stand
//! for the only type names that differ: `{blob}` (BLOB / BYTEA) and `{int}` (INTEGER / BIGINT).
//! Statements that truly differ per dialect (the append-only triggers) are given twice.
//! Applied versions are recorded in `schema_migrations`; on PostgreSQL an advisory lock keeps two
//! instances starting together from migrating at once.

use sqlx::{Acquire, Row};

use crate::{Backend, Store, StoreError};

/// A statement: portable, or for one dialect only.
enum Statement {
    Portable(&'static str),
    Sqlite(&'static str),
    Postgres(&'static str),
}

struct Migration {
    version: i64,
    name: &'static str,
    statements: &'static [Statement],
}

use Statement::{Portable, Postgres, Sqlite};

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "events, projections and ledger tree",
        statements: &[
            Portable(
                "CREATE TABLE events (
                sequence {int} PRIMARY KEY,
                stream TEXT NOT NULL,
                stream_version {int} NOT NULL,
                event_type TEXT NOT NULL,
                actor TEXT NOT NULL,
                time_ms {int} NOT NULL,
                schema_version {int} NOT NULL,
                payload TEXT NOT NULL,
                UNIQUE (stream, stream_version)
            )",
            ),
            Portable("CREATE INDEX events_by_type ON events (event_type, sequence)"),
            Portable(
                "CREATE TABLE changes (
                id {int} PRIMARY KEY,
                state TEXT NOT NULL,
                service TEXT NOT NULL,
                requester TEXT NOT NULL,
                change_type TEXT NOT NULL,
                created_at {int} NOT NULL,
                updated_at {int} NOT NULL,
                awaits_approval {int} NOT NULL,
                record TEXT NOT NULL
            )",
            ),
            Portable("CREATE INDEX changes_by_state ON changes (state, id)"),
            Portable("CREATE INDEX changes_by_service ON changes (service, id)"),
            Portable("CREATE INDEX changes_by_requester ON changes (requester, id)"),
            Portable(
                "CREATE TABLE services (name TEXT PRIMARY KEY, team TEXT NOT NULL, tier {int} NOT NULL, record TEXT NOT NULL)",
            ),
            Portable("CREATE TABLE teams (name TEXT PRIMARY KEY, record TEXT NOT NULL)"),
            Portable("CREATE TABLE users (name TEXT PRIMARY KEY, record TEXT NOT NULL)"),
            Portable(
                "CREATE TABLE tokens (
                token_sha256 TEXT PRIMARY KEY,
                token_id TEXT NOT NULL UNIQUE,
                user_name TEXT NOT NULL,
                created_at {int} NOT NULL
            )",
            ),
            Portable(
                "CREATE TABLE incidents (
                id {int} PRIMARY KEY,
                service TEXT NOT NULL,
                caused_by {int},
                detected_at {int} NOT NULL,
                record TEXT NOT NULL
            )",
            ),
            Portable(
                "CREATE TABLE idempotency_keys (
                actor TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                resource TEXT NOT NULL,
                created_at {int} NOT NULL,
                PRIMARY KEY (actor, idempotency_key)
            )",
            ),
            Portable("CREATE TABLE ledger_head (id {int} PRIMARY KEY, size {int} NOT NULL, frontier {blob} NOT NULL)"),
            // The empty frontier is the 8-byte big-endian size 0.
            Sqlite("INSERT INTO ledger_head (id, size, frontier) VALUES (1, 0, X'0000000000000000')"),
            Postgres("INSERT INTO ledger_head (id, size, frontier) VALUES (1, 0, decode('0000000000000000', 'hex'))"),
            Portable(
                "CREATE TABLE ledger_nodes (
                level {int} NOT NULL,
                node_index {int} NOT NULL,
                hash {blob} NOT NULL,
                PRIMARY KEY (level, node_index)
            )",
            ),
            // Signed checkpoints: one per tree size, never two roots for one size.
            Portable(
                "CREATE TABLE ledger_checkpoints (
                size {int} PRIMARY KEY,
                root {blob} NOT NULL,
                note TEXT NOT NULL,
                key_id TEXT NOT NULL,
                signed_at {int} NOT NULL
            )",
            ),
            // The verifier key that signs this log's checkpoints; a second key is refused.
            Portable("CREATE TABLE ledger_signer (id {int} PRIMARY KEY, verifier_key TEXT NOT NULL)"),
            // Append-only, enforced by the database itself: the dialects truly differ here.
            Sqlite(
                "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END",
            ),
            Sqlite(
                "CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END",
            ),
            Sqlite(
                "CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes BEGIN SELECT RAISE(ABORT, 'ledger nodes are append-only: UPDATE refused'); END",
            ),
            Sqlite(
                "CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused'); END",
            ),
            Sqlite(
                "CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused'); END",
            ),
            Sqlite(
                "CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes BEGIN SELECT RAISE(ABORT, 'ledger nodes are append-only: DELETE refused'); END",
            ),
            Postgres(
                "CREATE OR REPLACE FUNCTION changegate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'append-only: % refused on %', TG_OP, TG_TABLE_NAME; END $$",
            ),
            Postgres(
                "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION changegate_append_only()",
            ),
            Postgres(
                "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION changegate_append_only()",
            ),
            Postgres(
                "CREATE TRIGGER ledger_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_nodes FOR EACH ROW EXECUTE FUNCTION changegate_append_only()",
            ),
            Postgres(
                "CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints FOR EACH ROW EXECUTE FUNCTION changegate_append_only()",
            ),
            Postgres(
                "CREATE TRIGGER ledger_nodes_no_truncate BEFORE TRUNCATE ON ledger_nodes FOR EACH STATEMENT EXECUTE FUNCTION changegate_append_only()",
            ),
        ],
    },
    Migration {
        version: 2,
        name: "policy versions, templates, calendar windows, planned windows of changes",
        statements: &[
            Portable(
                "CREATE TABLE policy_versions (sequence {int} PRIMARY KEY, sha256 TEXT NOT NULL, record TEXT NOT NULL)",
            ),
            Portable("CREATE TABLE templates (name TEXT PRIMARY KEY, record TEXT NOT NULL)"),
            Portable("CREATE TABLE calendar_windows (name TEXT PRIMARY KEY, record TEXT NOT NULL)"),
            // Planned windows, for conflict detection; rows written before this migration are
            // filled in by `backfill_planned_windows`.
            Portable("ALTER TABLE changes ADD COLUMN planned_start {int}"),
            Portable("ALTER TABLE changes ADD COLUMN planned_end {int}"),
            Portable("CREATE INDEX changes_by_planned_start ON changes (planned_start)"),
        ],
    },
    Migration {
        version: 3,
        name: "risk models",
        statements: &[
            Portable(
                "CREATE TABLE risk_models (sequence {int} PRIMARY KEY, version TEXT NOT NULL, record TEXT NOT NULL)",
            ),
            // When a change failed, for history features (filled for older rows by the backfill).
            Portable("ALTER TABLE changes ADD COLUMN failed_at {int}"),
            // Covering indexes for the history counts of every submit (`Store::history_counts`).
            Portable("CREATE INDEX changes_by_service_created ON changes (service, created_at, failed_at)"),
            Portable("CREATE INDEX changes_by_requester_created ON changes (requester, created_at)"),
            Portable("CREATE INDEX changes_by_requester_failed ON changes (requester, failed_at)"),
        ],
    },
    Migration {
        version: 4,
        name: "imports, deployments, alerts",
        statements: &[
            // The source system's id of an imported change or incident: a re-import finds it.
            Portable("ALTER TABLE changes ADD COLUMN external_id TEXT"),
            Portable("CREATE UNIQUE INDEX changes_by_external_id ON changes (external_id)"),
            Portable("ALTER TABLE incidents ADD COLUMN external_id TEXT"),
            Portable("CREATE UNIQUE INDEX incidents_by_external_id ON incidents (external_id)"),
            // When the deployment finished (`ChangeRecord::deployed_at`): metrics and the
            // attribution rule read deployments in this order.
            Portable("ALTER TABLE changes ADD COLUMN deployed_at {int}"),
            Portable("CREATE INDEX changes_by_deployed ON changes (deployed_at, service)"),
            Portable("CREATE INDEX incidents_by_service_detected ON incidents (service, detected_at)"),
            Portable("CREATE TABLE alert_rules (name TEXT PRIMARY KEY, record TEXT NOT NULL)"),
            Portable(
                "CREATE TABLE alert_firings (
                sequence {int} PRIMARY KEY,
                rule TEXT NOT NULL,
                firing_key TEXT NOT NULL,
                fired_at {int} NOT NULL,
                record TEXT NOT NULL,
                UNIQUE (rule, firing_key)
            )",
            ),
            Portable("CREATE INDEX alert_firings_by_time ON alert_firings (fired_at)"),
        ],
    },
];

/// The statement's text for `backend`, or `None` when it is for the other dialect.
fn render(statement: &Statement, backend: Backend) -> Option<String> {
    let text = match (statement, backend) {
        (Portable(text), _) | (Sqlite(text), Backend::Sqlite) | (Postgres(text), Backend::Postgres) => *text,
        _ => return None,
    };
    let (blob, int) = match backend {
        Backend::Sqlite => ("BLOB", "INTEGER"),
        Backend::Postgres => ("BYTEA", "BIGINT"),
    };
    Some(text.replace("{blob}", blob).replace("{int}", int))
}

/// An advisory lock key for migrations on PostgreSQL ("cgmg" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6367_6d67;

pub(crate) async fn migrate(store: &Store) -> Result<(), StoreError> {
    let mut connection = store.pool().acquire().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK_KEY).execute(&mut *connection).await?;
    }
    let result = migrate_locked(store.backend(), &mut connection).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK_KEY).execute(&mut *connection).await?;
    }
    result
}

async fn migrate_locked(backend: Backend, connection: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let create = render(
        &Portable("CREATE TABLE IF NOT EXISTS schema_migrations (version {int} PRIMARY KEY, name TEXT NOT NULL)"),
        backend,
    )
    .expect("portable statements render on every backend");
    sqlx::query(sqlx::AssertSqlSafe(create)).execute(&mut *connection).await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *connection)
        .await?
        .iter()
        .map(|row| row.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    for migration in MIGRATIONS {
        if applied.contains(&migration.version) {
            continue;
        }
        tracing::info!(version = migration.version, name = migration.name, "applying migration");
        let mut transaction = connection.begin().await?;
        for text in migration.statements.iter().filter_map(|statement| render(statement, backend)) {
            sqlx::query(sqlx::AssertSqlSafe(text)).execute(&mut *transaction).await?;
        }
        if migration.version == 2 {
            backfill_planned_windows(&mut transaction).await?;
        }
        if migration.version == 3 {
            backfill_failed_at(&mut transaction).await?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(migration.name)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
    }
    Ok(())
}

/// Copies the planned window of every existing change from its record into the columns that
/// migration 2 added.
async fn backfill_planned_windows(connection: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT id, record FROM changes").fetch_all(&mut *connection).await?;
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let record: changegate_core::ChangeRecord = crate::read::decode_record(&row)?;
        sqlx::query("UPDATE changes SET planned_start = $2, planned_end = $3 WHERE id = $1")
            .bind(id)
            .bind(record.planned_start.map(|time| time.unix_ms()))
            .bind(record.planned_end.map(|time| time.unix_ms()))
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// Copies when each existing change failed into the column migration 3 added.
async fn backfill_failed_at(connection: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT id, record FROM changes").fetch_all(&mut *connection).await?;
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let record: changegate_core::ChangeRecord = crate::read::decode_record(&row)?;
        if let Some(failed_at) = record.failed_at {
            sqlx::query("UPDATE changes SET failed_at = $2 WHERE id = $1")
                .bind(id)
                .bind(failed_at.unix_ms())
                .execute(&mut *connection)
                .await?;
        }
    }
    Ok(())
}
