//! Writing: one transaction that holds the ledger head lock, appends events, and updates the
//! projections and the Merkle tree before it commits.

use std::collections::HashMap;

use changegate_core::event::{EventEnvelope, SCHEMA_VERSION, canonical_payload};
use changegate_core::{
    AlertFiringRecord, AlertRuleRecord, CalendarWindowRecord, ChangeId, ChangeRecord, DomainEvent, IncidentId,
    IncidentRecord, Name, PolicyVersionRecord, ServiceRecord, StreamId, TeamRecord, TemplateRecord, Timestamp,
    UserRecord,
};
use changegate_ledger::{Frontier, leaf_hash};
use sqlx::{Any, Row, Transaction};

use crate::encoding::{change_columns, encode, incident_columns, risk_model_record, service_columns};
use crate::read::{ExternalTable, decode_record, fetch_change, fetch_incident, ids_by_external_ids};
use crate::{Backend, Store, StoreError};

/// What an idempotency key recorded: which request (by fingerprint) made which resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    pub resource: String,
}

/// An open write transaction. Only [`WriteTx::append`] adds events.
pub struct WriteTx {
    transaction: Transaction<'static, Any>,
    backend: Backend,
    frontier: Frontier,
    size_at_start: u64,
    /// Events appended in this transaction; inserted in multi-row statements at commit.
    appended: Vec<EventEnvelope>,
    /// Completed perfect subtrees of this transaction's appends; inserted at commit.
    pending_nodes: Vec<(changegate_ledger::SubtreeId, changegate_ledger::Hash)>,
    /// The last version of every stream touched in this transaction.
    stream_versions: HashMap<String, u64>,
    /// Changes loaded or written in this transaction. Appends apply to these in memory; the
    /// changed ones (with whether they are new) are written once, at commit.
    changes: HashMap<ChangeId, ChangeRecord>,
    dirty_changes: std::collections::BTreeMap<ChangeId, bool>,
    /// Services read in this transaction (they are looked up for every change and action).
    services: HashMap<Name, ServiceRecord>,
    /// The highest change id created in this transaction (not yet in the `changes` table).
    created_change_id_max: u64,
    /// The highest change id in the `changes` table when this transaction began, once read.
    stored_change_id_max: Option<u64>,
}

/// Rows per multi-row INSERT (at most 12 columns: 1,536 parameters, far below both databases'
/// limits).
const ROWS_PER_INSERT: usize = 128;

/// `(…), (…)` placeholders for `rows` rows of `columns` values. The dialects differ here on
/// purpose: SQLite gets anonymous `?`, because sqlx resolves a named `$N` through
/// `sqlite3_bind_parameter_name`, which scans all of the statement's names, so binding a
/// statement with many `$N` costs the square of its parameters (measured: half of the demo
/// seed's time at 256 rows per statement). PostgreSQL needs `$N`.
fn values_rows(backend: Backend, rows: usize, columns: usize) -> String {
    let mut text = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..columns {
            if column > 0 {
                text.push_str(", ");
            }
            match backend {
                Backend::Sqlite => text.push('?'),
                Backend::Postgres => {
                    text.push('$');
                    text.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        text.push(')');
    }
    text
}

impl Store {
    pub(crate) async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let mut transaction = self.pool.begin().await?;
        // The ledger head lock. The dialects differ: PostgreSQL locks the row with FOR UPDATE
        // (as Tessera's PostgreSQL driver does); SQLite has no FOR UPDATE, so a no-op UPDATE
        // takes the database write lock at once instead of upgrading a read lock later.
        let row = match self.backend {
            Backend::Postgres => {
                sqlx::query("SELECT size, frontier FROM ledger_head WHERE id = 1 FOR UPDATE")
                    .fetch_one(&mut *transaction)
                    .await?
            }
            Backend::Sqlite => {
                sqlx::query("UPDATE ledger_head SET size = size WHERE id = 1").execute(&mut *transaction).await?;
                sqlx::query("SELECT size, frontier FROM ledger_head WHERE id = 1").fetch_one(&mut *transaction).await?
            }
        };
        let size: i64 = row.try_get(0)?;
        let frontier_bytes: Vec<u8> = row.try_get(1)?;
        let frontier = Frontier::from_bytes(&frontier_bytes)?;
        if frontier.size() != size as u64 {
            return Err(StoreError::Corrupt(format!(
                "ledger head says size {size} but its frontier has {}",
                frontier.size()
            )));
        }
        Ok(WriteTx {
            transaction,
            backend: self.backend,
            frontier,
            size_at_start: size as u64,
            appended: Vec::new(),
            pending_nodes: Vec::new(),
            stream_versions: HashMap::new(),
            changes: HashMap::new(),
            dirty_changes: std::collections::BTreeMap::new(),
            services: HashMap::new(),
            created_change_id_max: 0,
            stored_change_id_max: None,
        })
    }
}

impl WriteTx {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn connection(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.transaction
    }

    /// The tree size including this transaction's appends.
    pub fn ledger_size(&self) -> u64 {
        self.frontier.size()
    }

    /// The tree root including this transaction's appends.
    pub fn ledger_root(&self) -> changegate_ledger::Hash {
        self.frontier.root()
    }

    /// Appends one event to `stream`: gives it the next global sequence and stream version,
    /// adds it to the Merkle tree and updates the projections.
    pub async fn append(
        &mut self,
        stream: &StreamId,
        actor: &str,
        time: Timestamp,
        event: &DomainEvent,
    ) -> Result<EventEnvelope, StoreError> {
        let stream_text = stream.to_string();
        let (event_type, data) = event.to_parts();
        let current_version = match self.stream_versions.get(&stream_text) {
            Some(version) => *version,
            // A change or incident is created by its stream's first event, so its version is 1
            // and there is nothing to look up (one query less per imported row). Were the stream
            // not new, the events table's UNIQUE (stream, stream_version) would refuse the row
            // and the transaction would fail: the log cannot fork here.
            None if starts_its_stream(event) => 0,
            None => {
                let stored: Option<i64> = sqlx::query("SELECT MAX(stream_version) FROM events WHERE stream = $1")
                    .bind(&stream_text)
                    .fetch_one(&mut *self.transaction)
                    .await?
                    .try_get(0)?;
                stored.unwrap_or(0) as u64
            }
        };
        self.stream_versions.insert(stream_text.clone(), current_version + 1);
        let envelope = EventEnvelope {
            sequence: self.frontier.size() + 1,
            stream: stream_text,
            stream_version: current_version + 1,
            event_type,
            actor: actor.to_owned(),
            time,
            schema_version: SCHEMA_VERSION,
            payload: canonical_payload(&data),
        };
        let completed = self.frontier.append(leaf_hash(&envelope.leaf_bytes()));
        debug_assert_eq!(self.frontier.size(), envelope.sequence);
        self.pending_nodes.extend(completed);
        self.project(stream, &envelope, event).await?;
        self.appended.push(envelope.clone());
        Ok(envelope)
    }

    /// Starts one writer's part of a shared transaction: a savepoint, and a copy of the
    /// in-memory state to restore if the writer fails.
    pub(crate) async fn begin_member(&mut self) -> Result<MemberSnapshot, StoreError> {
        sqlx::query("SAVEPOINT member").execute(&mut *self.transaction).await?;
        Ok(MemberSnapshot {
            frontier: self.frontier.clone(),
            appended: self.appended.len(),
            pending_nodes: self.pending_nodes.len(),
            stream_versions: self.stream_versions.clone(),
            changes: self.changes.clone(),
            dirty_changes: self.dirty_changes.clone(),
            services: self.services.clone(),
            created_change_id_max: self.created_change_id_max,
        })
    }

    /// Ends one writer's part: keeps it, or rolls the database and the memory back to the
    /// savepoint.
    pub(crate) async fn end_member(&mut self, keep: bool, snapshot: MemberSnapshot) -> Result<(), StoreError> {
        if !keep {
            sqlx::query("ROLLBACK TO SAVEPOINT member").execute(&mut *self.transaction).await?;
            self.frontier = snapshot.frontier;
            self.appended.truncate(snapshot.appended);
            self.pending_nodes.truncate(snapshot.pending_nodes);
            self.stream_versions = snapshot.stream_versions;
            self.changes = snapshot.changes;
            self.dirty_changes = snapshot.dirty_changes;
            self.services = snapshot.services;
            self.created_change_id_max = snapshot.created_change_id_max;
        }
        sqlx::query("RELEASE SAVEPOINT member").execute(&mut *self.transaction).await?;
        Ok(())
    }

    /// Writes what this transaction kept in memory: events, tree nodes and changed changes.
    async fn flush(&mut self) -> Result<(), StoreError> {
        let events = std::mem::take(&mut self.appended);
        for chunk in events.chunks(ROWS_PER_INSERT) {
            let rows = values_rows(self.backend, chunk.len(), 8);
            let sql = format!(
                "INSERT INTO events (sequence, stream, stream_version, event_type, actor, time_ms, schema_version, payload) VALUES {rows}"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for envelope in chunk {
                query = query
                    .bind(envelope.sequence as i64)
                    .bind(envelope.stream.clone())
                    .bind(envelope.stream_version as i64)
                    .bind(envelope.event_type.clone())
                    .bind(envelope.actor.clone())
                    .bind(envelope.time.unix_ms())
                    .bind(i64::from(envelope.schema_version))
                    .bind(envelope.payload.clone());
            }
            query.execute(&mut *self.transaction).await?;
        }
        self.appended = events;
        let nodes = std::mem::take(&mut self.pending_nodes);
        for chunk in nodes.chunks(ROWS_PER_INSERT) {
            let rows = values_rows(self.backend, chunk.len(), 3);
            let sql = format!("INSERT INTO ledger_nodes (level, node_index, hash) VALUES {rows}");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (subtree, hash) in chunk {
                query = query.bind(i64::from(subtree.level)).bind(subtree.index as i64).bind(hash.to_vec());
            }
            query.execute(&mut *self.transaction).await?;
        }
        let dirty = std::mem::take(&mut self.dirty_changes);
        let mut created = Vec::new();
        for (id, is_new) in dirty {
            // Taken, not copied: the transaction ends with this flush.
            let record =
                self.changes.remove(&id).ok_or_else(|| StoreError::Corrupt(format!("dirty change {id} not loaded")))?;
            if is_new {
                created.push(record);
            } else {
                self.update_change(&record).await?;
            }
        }
        for chunk in created.chunks(ROWS_PER_INSERT) {
            let rows = values_rows(self.backend, chunk.len(), 14);
            let sql = format!(
                "INSERT INTO changes (id, state, service, requester, change_type, created_at, updated_at, record, awaits_approval, planned_start, planned_end, failed_at, external_id, deployed_at) VALUES {rows}"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for record in chunk {
                query = bind_change_columns(query, record);
            }
            query.execute(&mut *self.transaction).await?;
        }
        Ok(())
    }

    /// Updates the projection this event touches. The one place where events become state.
    async fn project(
        &mut self,
        stream: &StreamId,
        envelope: &EventEnvelope,
        event: &DomainEvent,
    ) -> Result<(), StoreError> {
        let time = envelope.time;
        match (stream, event) {
            (StreamId::Change(id), DomainEvent::ChangeCreated { .. } | DomainEvent::ChangeImported { .. }) => {
                let record = ChangeRecord::create(event, time)
                    .ok_or_else(|| StoreError::Corrupt("change creation did not build a record".into()))?;
                debug_assert_eq!(record.id, *id);
                self.created_change_id_max = self.created_change_id_max.max(id.number());
                self.dirty_changes.insert(*id, true);
                self.changes.insert(*id, record);
            }
            (StreamId::Change(id), _) => {
                let mut record = self
                    .change(*id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("event for unknown change {id}")))?;
                record.apply(event, time);
                debug_assert_eq!(record.version, envelope.stream_version);
                self.dirty_changes.entry(*id).or_insert(false);
                self.changes.insert(*id, record);
            }
            (StreamId::Service(_), DomainEvent::ServiceRegistered { name, .. }) => {
                let record = ServiceRecord::registered(event, time)
                    .ok_or_else(|| StoreError::Corrupt("service registration did not build a record".into()))?;
                let (team, tier) = service_columns(&record);
                sqlx::query("INSERT INTO services (name, team, tier, record) VALUES ($1, $2, $3, $4)")
                    .bind(name.as_str())
                    .bind(team)
                    .bind(tier)
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::Service(_), DomainEvent::RollbackHookSet { service, .. }) => {
                let mut record = self
                    .service(service)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("rollback hook for unknown service {service}")))?;
                record.apply(event);
                sqlx::query("UPDATE services SET record = $2 WHERE name = $1")
                    .bind(service.as_str())
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
                self.services.insert(service.clone(), record);
            }
            (StreamId::Team(_), DomainEvent::TeamCreated { name, description }) => {
                let record = TeamRecord { name: name.clone(), description: description.clone(), created_at: time };
                sqlx::query("INSERT INTO teams (name, record) VALUES ($1, $2)")
                    .bind(name.as_str())
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::User(_), DomainEvent::UserCreated { name, roles, team }) => {
                let record =
                    UserRecord { name: name.clone(), roles: roles.clone(), team: team.clone(), created_at: time };
                sqlx::query("INSERT INTO users (name, record) VALUES ($1, $2)")
                    .bind(name.as_str())
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::User(_), DomainEvent::TokenIssued { user, token_id, token_sha256 }) => {
                sqlx::query(
                    "INSERT INTO tokens (token_sha256, token_id, user_name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_sha256)
                .bind(token_id)
                .bind(user.as_str())
                .bind(time.unix_ms())
                .execute(&mut *self.transaction)
                .await?;
            }
            (StreamId::Incident(_), DomainEvent::IncidentOpened { .. } | DomainEvent::IncidentImported { .. }) => {
                let record = IncidentRecord::create(event, time)
                    .ok_or_else(|| StoreError::Corrupt("incident creation did not build a record".into()))?;
                self.put_incident(&record, true).await?;
            }
            (
                StreamId::Incident(id),
                DomainEvent::IncidentResolved { .. }
                | DomainEvent::IncidentUpdated { .. }
                | DomainEvent::IncidentLinked { .. }
                | DomainEvent::IncidentLinkSuggested { .. }
                | DomainEvent::IncidentLinkRejected { .. },
            ) => {
                let mut record = fetch_incident(&mut *self.transaction, *id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("event for unknown incident {id}")))?;
                record.apply(event, time);
                debug_assert_eq!(record.version, envelope.stream_version);
                self.put_incident(&record, false).await?;
            }
            (StreamId::AlertRule(_), DomainEvent::AlertRuleDefined { name, .. }) => {
                let record = AlertRuleRecord::from_event(event, &envelope.actor, time)
                    .ok_or_else(|| StoreError::Corrupt("alert rule did not build a record".into()))?;
                self.upsert("alert_rules", name, &encode(&record)).await?;
            }
            (StreamId::AlertRule(_), DomainEvent::AlertRuleRemoved { name }) => {
                sqlx::query("DELETE FROM alert_rules WHERE name = $1")
                    .bind(name.as_str())
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::Alerts, DomainEvent::AlertFired { rule, key, .. }) => {
                let record = AlertFiringRecord::from_event(event, envelope.sequence, time)
                    .ok_or_else(|| StoreError::Corrupt("alert firing did not build a record".into()))?;
                sqlx::query(
                    "INSERT INTO alert_firings (sequence, rule, firing_key, fired_at, record) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(envelope.sequence as i64)
                .bind(rule.as_str())
                .bind(key)
                .bind(time.unix_ms())
                .bind(encode(&record))
                .execute(&mut *self.transaction)
                .await?;
            }
            (StreamId::Alerts, DomainEvent::AlertDelivered { fired_sequence, .. }) => {
                let row = sqlx::query("SELECT record FROM alert_firings WHERE sequence = $1")
                    .bind(*fired_sequence as i64)
                    .fetch_optional(&mut *self.transaction)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("delivery of unknown firing {fired_sequence}")))?;
                let mut record: AlertFiringRecord = decode_record(&row)?;
                record.apply(event, time);
                sqlx::query("UPDATE alert_firings SET record = $2 WHERE sequence = $1")
                    .bind(*fired_sequence as i64)
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::Maturity, DomainEvent::MaturityAnswered { .. }) => {}
            (StreamId::Policy, DomainEvent::PolicySet { sha256, .. }) => {
                let record = PolicyVersionRecord::from_event(event, envelope.sequence, &envelope.actor, time)
                    .ok_or_else(|| StoreError::Corrupt("policy event did not build a record".into()))?;
                sqlx::query("INSERT INTO policy_versions (sequence, sha256, record) VALUES ($1, $2, $3)")
                    .bind(envelope.sequence as i64)
                    .bind(sha256)
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::Risk, DomainEvent::RiskModelTrained { .. }) => {
                let record = risk_model_record(envelope, event)
                    .ok_or_else(|| StoreError::Corrupt("risk model event did not build a record".into()))?;
                sqlx::query("INSERT INTO risk_models (sequence, version, record) VALUES ($1, $2, $3)")
                    .bind(envelope.sequence as i64)
                    .bind(&record.version)
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::Template(_), DomainEvent::TemplateDefined { name, .. }) => {
                let record = TemplateRecord::from_event(event, &envelope.actor, time)
                    .ok_or_else(|| StoreError::Corrupt("template definition did not build a record".into()))?;
                self.upsert("templates", name, &encode(&record)).await?;
            }
            (StreamId::Calendar(_), DomainEvent::CalendarWindowDefined { name, .. }) => {
                let record = CalendarWindowRecord::from_event(event, &envelope.actor, time)
                    .ok_or_else(|| StoreError::Corrupt("calendar event did not build a record".into()))?;
                self.upsert("calendar_windows", name, &encode(&record)).await?;
            }
            (StreamId::Calendar(_), DomainEvent::CalendarWindowRemoved { name }) => {
                sqlx::query("DELETE FROM calendar_windows WHERE name = $1")
                    .bind(name.as_str())
                    .execute(&mut *self.transaction)
                    .await?;
            }
            (StreamId::Access, DomainEvent::AccessDenied { .. }) => {}
            (StreamId::Ledger, DomainEvent::LedgerVerified { .. }) => {}
            (stream, event) => {
                return Err(StoreError::Corrupt(format!(
                    "event {} does not belong on stream {stream}",
                    event.to_parts().0
                )));
            }
        }
        Ok(())
    }

    /// Inserts or replaces the record `name` of a keyed projection table (`templates`,
    /// `calendar_windows`).
    async fn upsert(&mut self, table: &'static str, name: &Name, record: &str) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO {table} (name, record) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET record = excluded.record"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name.as_str()).bind(record).execute(&mut *self.transaction).await?;
        Ok(())
    }

    async fn update_change(&mut self, record: &ChangeRecord) -> Result<(), StoreError> {
        let sql = "UPDATE changes SET state = $2, service = $3, requester = $4, change_type = $5, created_at = $6,
             updated_at = $7, record = $8, awaits_approval = $9, planned_start = $10, planned_end = $11,
             failed_at = $12, external_id = $13, deployed_at = $14 WHERE id = $1";
        bind_change_columns(sqlx::query(sql), record).execute(&mut *self.transaction).await?;
        Ok(())
    }

    async fn put_incident(&mut self, record: &IncidentRecord, insert: bool) -> Result<(), StoreError> {
        let sql = if insert {
            "INSERT INTO incidents (id, service, caused_by, detected_at, record, external_id) VALUES ($1, $2, $3, $4, $5, $6)"
        } else {
            "UPDATE incidents SET service = $2, caused_by = $3, detected_at = $4, record = $5, external_id = $6 WHERE id = $1"
        };
        let (service, caused_by, detected_at, external_id) = incident_columns(record);
        sqlx::query(sql)
            .bind(record.id.number() as i64)
            .bind(service)
            .bind(caused_by)
            .bind(detected_at)
            .bind(encode(record))
            .bind(external_id)
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    /// The current record of a change, as of this transaction.
    pub async fn change(&mut self, id: ChangeId) -> Result<Option<ChangeRecord>, StoreError> {
        if let Some(record) = self.changes.get(&id) {
            return Ok(Some(record.clone()));
        }
        fetch_change(&mut *self.transaction, id).await
    }

    pub async fn service(&mut self, name: &Name) -> Result<Option<ServiceRecord>, StoreError> {
        if let Some(record) = self.services.get(name) {
            return Ok(Some(record.clone()));
        }
        let row = sqlx::query("SELECT record FROM services WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *self.transaction)
            .await?;
        let record: Option<ServiceRecord> = row.map(|row| decode_record(&row)).transpose()?;
        if let Some(record) = &record {
            self.services.insert(name.clone(), record.clone());
        }
        Ok(record)
    }

    /// Whether a record with this key exists in `table` (`teams`, `users`, `services`).
    pub async fn exists(&mut self, table: KeyedTable, name: &Name) -> Result<bool, StoreError> {
        if matches!(table, KeyedTable::Services) {
            return Ok(self.service(name).await?.is_some());
        }
        let sql = match table {
            KeyedTable::Teams => "SELECT COUNT(*) FROM teams WHERE name = $1",
            KeyedTable::Users => "SELECT COUNT(*) FROM users WHERE name = $1",
            KeyedTable::Services => "SELECT COUNT(*) FROM services WHERE name = $1",
        };
        let count: i64 = sqlx::query(sql).bind(name.as_str()).fetch_one(&mut *self.transaction).await?.try_get(0)?;
        Ok(count > 0)
    }

    /// Whether `rule` already fired for `key`, as of this transaction (a rule fires once per key;
    /// the head lock makes this check and the append that follows it atomic across instances).
    pub async fn alert_fired(&mut self, rule: &Name, key: &str) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM alert_firings WHERE rule = $1 AND firing_key = $2")
            .bind(rule.as_str())
            .bind(key)
            .fetch_one(&mut *self.transaction)
            .await?
            .try_get(0)?;
        Ok(count > 0)
    }

    pub async fn incident(&mut self, id: IncidentId) -> Result<Option<IncidentRecord>, StoreError> {
        fetch_incident(&mut *self.transaction, id).await
    }

    pub async fn user(&mut self, name: &Name) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *self.transaction)
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    pub async fn user_count(&mut self) -> Result<u64, StoreError> {
        let count: i64 =
            sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&mut *self.transaction).await?.try_get(0)?;
        Ok(count as u64)
    }

    /// The id the next change will get.
    pub async fn next_change_id(&mut self) -> Result<ChangeId, StoreError> {
        // Read the stored maximum once per transaction: the head lock keeps others out, and the
        // ids this transaction creates are tracked in memory.
        let stored = match self.stored_change_id_max {
            Some(stored) => stored,
            None => {
                let maximum: Option<i64> =
                    sqlx::query("SELECT MAX(id) FROM changes").fetch_one(&mut *self.transaction).await?.try_get(0)?;
                let stored = maximum.unwrap_or(0) as u64;
                self.stored_change_id_max = Some(stored);
                stored
            }
        };
        Ok(ChangeId::new(stored.max(self.created_change_id_max) + 1))
    }

    /// The id of the change imported with this source-system id, if any (as of this transaction).
    pub async fn change_id_by_external_id(&mut self, external_id: &str) -> Result<Option<ChangeId>, StoreError> {
        if let Some(record) = self.changes.values().find(|record| record.external_id.as_deref() == Some(external_id)) {
            return Ok(Some(record.id));
        }
        let id: Option<i64> = sqlx::query("SELECT id FROM changes WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(&mut *self.transaction)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        Ok(id.map(|id| ChangeId::new(id as u64)))
    }

    /// The ids of the changes imported with these source-system ids (as of this transaction),
    /// by external id; ids not imported yet are absent. One query per
    /// [`crate::EXTERNAL_IDS_PER_QUERY`] ids, for imports that check thousands at a time.
    pub async fn change_ids_by_external_ids(
        &mut self,
        external_ids: &[&str],
    ) -> Result<HashMap<String, ChangeId>, StoreError> {
        let mut found =
            ids_by_external_ids(&mut self.transaction, self.backend, ExternalTable::Changes, external_ids).await?;
        // Changes created in this transaction are not in the table until it commits.
        if !self.dirty_changes.is_empty() {
            let wanted: std::collections::HashSet<&str> = external_ids.iter().copied().collect();
            for record in self.changes.values() {
                if let Some(external_id) = record.external_id.as_deref().filter(|id| wanted.contains(id)) {
                    found.insert(external_id.to_owned(), record.id.number());
                }
            }
        }
        Ok(found.into_iter().map(|(external_id, id)| (external_id, ChangeId::new(id))).collect())
    }

    /// The ids of the incidents imported with these source-system ids, by external id.
    pub async fn incident_ids_by_external_ids(
        &mut self,
        external_ids: &[&str],
    ) -> Result<HashMap<String, IncidentId>, StoreError> {
        let found =
            ids_by_external_ids(&mut self.transaction, self.backend, ExternalTable::Incidents, external_ids).await?;
        Ok(found.into_iter().map(|(external_id, id)| (external_id, IncidentId::new(id))).collect())
    }

    /// The id of the incident imported with this source-system id, if any.
    pub async fn incident_id_by_external_id(&mut self, external_id: &str) -> Result<Option<IncidentId>, StoreError> {
        let id: Option<i64> = sqlx::query("SELECT id FROM incidents WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(&mut *self.transaction)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        Ok(id.map(|id| IncidentId::new(id as u64)))
    }

    /// Changes of `service` whose deployment finished in `[from, to]`, latest first, at most
    /// `limit`, as committed before this transaction (the attribution rule's candidates).
    pub async fn deployments_of_service(
        &mut self,
        service: &Name,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let limit = limit.clamp(1, crate::PAGE_SIZE_MAX);
        let sql = format!(
            "SELECT record FROM changes WHERE service = $1 AND deployed_at >= $2 AND deployed_at <= $3 ORDER BY deployed_at DESC, id DESC LIMIT {limit}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(service.as_str())
            .bind(from.unix_ms())
            .bind(to.unix_ms())
            .fetch_all(&mut *self.transaction)
            .await?;
        rows.iter().map(decode_record).collect()
    }

    /// The id the next incident will get.
    pub async fn next_incident_id(&mut self) -> Result<IncidentId, StoreError> {
        let maximum: Option<i64> =
            sqlx::query("SELECT MAX(id) FROM incidents").fetch_one(&mut *self.transaction).await?.try_get(0)?;
        Ok(IncidentId::new(maximum.unwrap_or(0) as u64 + 1))
    }

    /// What an earlier request with this idempotency key made, if any.
    pub async fn idempotency(&mut self, actor: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row =
            sqlx::query("SELECT fingerprint, resource FROM idempotency_keys WHERE actor = $1 AND idempotency_key = $2")
                .bind(actor)
                .bind(key)
                .fetch_optional(&mut *self.transaction)
                .await?;
        row.map(|row| Ok(IdempotencyRecord { fingerprint: row.try_get(0)?, resource: row.try_get(1)? })).transpose()
    }

    /// Remembers which resource this request made, in the same transaction as the events.
    pub async fn remember_idempotency(
        &mut self,
        actor: &str,
        key: &str,
        record: &IdempotencyRecord,
        time: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency_keys (actor, idempotency_key, fingerprint, resource, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(actor)
        .bind(key)
        .bind(&record.fingerprint)
        .bind(&record.resource)
        .bind(time.unix_ms())
        .execute(&mut *self.transaction)
        .await?;
        Ok(())
    }

    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        self.flush().await?;
        let WriteTx { mut transaction, frontier, size_at_start, .. } = self;
        if frontier.size() != size_at_start {
            let updated = sqlx::query("UPDATE ledger_head SET size = $1, frontier = $2 WHERE id = 1 AND size = $3")
                .bind(frontier.size() as i64)
                .bind(frontier.to_bytes())
                .bind(size_at_start as i64)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            // The head lock makes this impossible; if it happens the log would fork, so refuse.
            if updated != 1 {
                return Err(StoreError::Conflict(format!(
                    "ledger head moved from size {size_at_start} during the transaction"
                )));
            }
        }
        transaction.commit().await?;
        Ok(())
    }
}

/// Whether `event` creates the change or incident of its stream (and so is its first event).
fn starts_its_stream(event: &DomainEvent) -> bool {
    matches!(
        event,
        DomainEvent::ChangeCreated { .. }
            | DomainEvent::ChangeImported { .. }
            | DomainEvent::IncidentOpened { .. }
            | DomainEvent::IncidentImported { .. }
    )
}

/// What a writer's savepoint restores in memory when the writer fails.
pub(crate) struct MemberSnapshot {
    frontier: Frontier,
    appended: usize,
    pending_nodes: usize,
    stream_versions: HashMap<String, u64>,
    changes: HashMap<ChangeId, ChangeRecord>,
    dirty_changes: std::collections::BTreeMap<ChangeId, bool>,
    services: HashMap<Name, ServiceRecord>,
    created_change_id_max: u64,
}

/// Tables keyed by a name.
#[derive(Clone, Copy, Debug)]
pub enum KeyedTable {
    Teams,
    Users,
    Services,
}

/// Binds a change's row in the column order of the `changes` table's INSERT and UPDATE: id,
/// state, service, requester, change_type, created_at, updated_at, record, awaits_approval,
/// planned_start, planned_end, failed_at, external_id, deployed_at (values from
/// [`change_columns`], which the projection check reads too).
fn bind_change_columns<'q>(
    query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    record: &ChangeRecord,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    let (
        state,
        service,
        requester,
        change_type,
        created_at,
        updated_at,
        awaits_approval,
        planned_start,
        planned_end,
        failed_at,
        external_id,
        deployed_at,
    ) = change_columns(record);
    query
        .bind(record.id.number() as i64)
        .bind(state)
        .bind(service)
        .bind(requester)
        .bind(change_type)
        .bind(created_at)
        .bind(updated_at)
        .bind(encode(record))
        .bind(awaits_approval)
        .bind(planned_start)
        .bind(planned_end)
        .bind(failed_at)
        .bind(external_id)
        .bind(deployed_at)
}
