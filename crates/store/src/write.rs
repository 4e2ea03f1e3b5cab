//! Writing: one transaction that holds the ledger head lock, appends events, and updates the
//! projections and the Merkle tree before it commits.

use std::collections::HashMap;

use changegate_core::event::{EventEnvelope, SCHEMA_VERSION, canonical_payload};
use changegate_core::{
    ChangeId, ChangeRecord, DomainEvent, IncidentId, IncidentRecord, Name, ServiceRecord, StreamId, TeamRecord,
    Timestamp, UserRecord,
};
use changegate_ledger::{Frontier, leaf_hash};
use sqlx::{Any, Row, Transaction};

use crate::read::{decode_record, fetch_change, fetch_incident};
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
    appended: Vec<EventEnvelope>,
    /// Changes loaded or written in this transaction, so several appends to one change apply in
    /// memory and are written back once per append.
    changes: HashMap<ChangeId, ChangeRecord>,
}

impl Store {
    /// Runs `body` in one write transaction. Commits when it returns `Ok`, rolls back on `Err`.
    /// All writers are serialised by the ledger head lock, so what `body` reads is current.
    pub async fn write<T, E>(&self, body: impl AsyncFnOnce(&mut WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let _process_guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        };
        let mut write = self.begin_write().await.map_err(E::from)?;
        let result = body(&mut write).await;
        match result {
            Ok(value) => {
                write.commit().await.map_err(E::from)?;
                Ok(value)
            }
            Err(error) => {
                // Dropping the transaction rolls it back.
                drop(write);
                Err(error)
            }
        }
    }

    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
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
            changes: HashMap::new(),
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

    /// The events appended so far in this transaction.
    pub fn appended(&self) -> &[EventEnvelope] {
        &self.appended
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
        let current_version: Option<i64> = sqlx::query("SELECT MAX(stream_version) FROM events WHERE stream = $1")
            .bind(&stream_text)
            .fetch_one(&mut *self.transaction)
            .await?
            .try_get(0)?;
        let envelope = EventEnvelope {
            sequence: self.frontier.size() + 1,
            stream: stream_text,
            stream_version: current_version.unwrap_or(0) as u64 + 1,
            event_type,
            actor: actor.to_owned(),
            time,
            schema_version: SCHEMA_VERSION,
            payload: canonical_payload(&data),
        };
        self.insert_event(&envelope).await?;
        self.project(stream, &envelope, event).await?;
        self.appended.push(envelope.clone());
        Ok(envelope)
    }

    async fn insert_event(&mut self, envelope: &EventEnvelope) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO events (sequence, stream, stream_version, event_type, actor, time_ms, schema_version, payload)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(envelope.sequence as i64)
        .bind(&envelope.stream)
        .bind(envelope.stream_version as i64)
        .bind(&envelope.event_type)
        .bind(&envelope.actor)
        .bind(envelope.time.unix_ms())
        .bind(i64::from(envelope.schema_version))
        .bind(&envelope.payload)
        .execute(&mut *self.transaction)
        .await?;
        let completed = self.frontier.append(leaf_hash(&envelope.leaf_bytes()));
        debug_assert_eq!(self.frontier.size(), envelope.sequence);
        for (subtree, hash) in completed {
            sqlx::query("INSERT INTO ledger_nodes (level, node_index, hash) VALUES ($1, $2, $3)")
                .bind(i64::from(subtree.level))
                .bind(subtree.index as i64)
                .bind(hash.to_vec())
                .execute(&mut *self.transaction)
                .await?;
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
            (StreamId::Change(id), DomainEvent::ChangeCreated { .. }) => {
                let record = ChangeRecord::create(event, time)
                    .ok_or_else(|| StoreError::Corrupt("change creation did not build a record".into()))?;
                debug_assert_eq!(record.id, *id);
                self.put_change(&record, true).await?;
                self.changes.insert(*id, record);
            }
            (StreamId::Change(id), _) => {
                let mut record = self
                    .change(*id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("event for unknown change {id}")))?;
                record.apply(event, time);
                debug_assert_eq!(record.version, envelope.stream_version);
                self.put_change(&record, false).await?;
                self.changes.insert(*id, record);
            }
            (StreamId::Service(_), DomainEvent::ServiceRegistered { name, team, tier, scopes, depends_on }) => {
                let record = ServiceRecord {
                    name: name.clone(),
                    team: team.clone(),
                    tier: *tier,
                    scopes: scopes.clone(),
                    depends_on: depends_on.clone(),
                    created_at: time,
                };
                sqlx::query("INSERT INTO services (name, team, tier, record) VALUES ($1, $2, $3, $4)")
                    .bind(name.as_str())
                    .bind(team.as_str())
                    .bind(i64::from(tier.value()))
                    .bind(encode(&record))
                    .execute(&mut *self.transaction)
                    .await?;
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
            (StreamId::Incident(_), DomainEvent::IncidentOpened { .. }) => {
                let record = IncidentRecord::create(event, time)
                    .ok_or_else(|| StoreError::Corrupt("incident creation did not build a record".into()))?;
                self.put_incident(&record, true).await?;
            }
            (StreamId::Incident(id), DomainEvent::IncidentResolved { .. }) => {
                let mut record = fetch_incident(&mut *self.transaction, *id)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("event for unknown incident {id}")))?;
                record.apply(event);
                self.put_incident(&record, false).await?;
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

    async fn put_change(&mut self, record: &ChangeRecord, insert: bool) -> Result<(), StoreError> {
        let sql = if insert {
            "INSERT INTO changes (id, state, service, requester, change_type, created_at, updated_at, record)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        } else {
            "UPDATE changes SET state = $2, service = $3, requester = $4, change_type = $5, created_at = $6,
             updated_at = $7, record = $8 WHERE id = $1"
        };
        sqlx::query(sql)
            .bind(record.id.number() as i64)
            .bind(record.state.as_str())
            .bind(record.service.as_str())
            .bind(record.requester.as_str())
            .bind(record.change_type.as_str())
            .bind(record.created_at.unix_ms())
            .bind(record.updated_at.unix_ms())
            .bind(encode(record))
            .execute(&mut *self.transaction)
            .await?;
        Ok(())
    }

    async fn put_incident(&mut self, record: &IncidentRecord, insert: bool) -> Result<(), StoreError> {
        let sql = if insert {
            "INSERT INTO incidents (id, service, caused_by, detected_at, record) VALUES ($1, $2, $3, $4, $5)"
        } else {
            "UPDATE incidents SET service = $2, caused_by = $3, detected_at = $4, record = $5 WHERE id = $1"
        };
        sqlx::query(sql)
            .bind(record.id.number() as i64)
            .bind(record.service.as_str())
            .bind(record.caused_by.map(|id| id.number() as i64))
            .bind(record.detected_at.unix_ms())
            .bind(encode(record))
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
        let row = sqlx::query("SELECT record FROM services WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *self.transaction)
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// Whether a record with this key exists in `table` (`teams`, `users`, `services`).
    pub async fn exists(&mut self, table: KeyedTable, name: &Name) -> Result<bool, StoreError> {
        let sql = match table {
            KeyedTable::Teams => "SELECT COUNT(*) FROM teams WHERE name = $1",
            KeyedTable::Users => "SELECT COUNT(*) FROM users WHERE name = $1",
            KeyedTable::Services => "SELECT COUNT(*) FROM services WHERE name = $1",
        };
        let count: i64 = sqlx::query(sql).bind(name.as_str()).fetch_one(&mut *self.transaction).await?.try_get(0)?;
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
        let maximum: Option<i64> =
            sqlx::query("SELECT MAX(id) FROM changes").fetch_one(&mut *self.transaction).await?.try_get(0)?;
        Ok(ChangeId::new(maximum.unwrap_or(0) as u64 + 1))
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

    async fn commit(self) -> Result<(), StoreError> {
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

/// Tables keyed by a name.
#[derive(Clone, Copy, Debug)]
pub enum KeyedTable {
    Teams,
    Users,
    Services,
}

pub(crate) fn encode<T: serde::Serialize>(record: &T) -> String {
    serde_json::to_string(record).expect("records always serialise")
}
