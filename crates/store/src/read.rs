//! Reading: projections, events and ledger nodes. Reads never take the write lock.

use std::collections::{BTreeMap, HashMap};

use changegate_core::event::EventEnvelope;
use changegate_core::{
    AlertFiringRecord, AlertRuleRecord, CalendarWindowRecord, ChangeId, ChangeRecord, ChangeState, ChangeType,
    DomainEvent, IncidentId, IncidentRecord, Name, PolicyVersionRecord, RiskModelRecord, ServiceRecord, StreamId,
    TeamRecord, TemplateRecord, Timestamp, UserRecord,
};
use changegate_ledger::{Hash, SubtreeId};
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::encoding::{
    ChangeColumns, IncidentColumns, ServiceColumns, change_columns, encode, incident_columns, risk_model_record,
    service_columns,
};
use crate::{Backend, PAGE_SIZE_MAX, Store, StoreError};

/// Most changes the approvals inbox and the overdue sweep look at in one read.
pub const AWAITING_LIST_MAX: u32 = 5_000;
/// How far back from a window's end conflict candidates are looked for (planned windows are
/// hours, rarely days).
pub const PLANNED_LOOKBACK_MS: i64 = 14 * 24 * 60 * 60 * 1000;
/// Most planned changes a conflict check compares against.
pub const PLANNED_CANDIDATES_MAX: u32 = 2_000;
/// Most changes one `changes_after` page holds.
pub const CHANGES_PAGE_LENGTH_MAX: u32 = 5_000;

/// Counts behind the history features of a change (see [`Store::history_counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistoryCounts {
    pub service_changes: u64,
    pub service_failures: u64,
    pub requester_changes: u64,
    pub requester_failures: u64,
}

/// Filters for listing changes, newest first.
#[derive(Clone, Debug, Default)]
pub struct ChangeFilter {
    pub state: Option<ChangeState>,
    pub service: Option<Name>,
    pub requester: Option<Name>,
    /// Only changes with an id below this one (the cursor of the previous page).
    pub before_id: Option<ChangeId>,
    pub limit: u32,
}

/// One page of changes and the cursor of the next page, if there is one.
#[derive(Clone, Debug)]
pub struct ChangePage {
    pub changes: Vec<ChangeRecord>,
    pub next_before_id: Option<ChangeId>,
}

/// How many changes are in one state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateCount {
    pub state: ChangeState,
    pub count: u64,
}

/// The ledger's current size and root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerHead {
    pub size: u64,
    pub root: Hash,
}

pub(crate) fn decode_record<T: DeserializeOwned>(row: &AnyRow) -> Result<T, StoreError> {
    let text: String = row.try_get("record")?;
    serde_json::from_str(&text).map_err(|error| StoreError::Corrupt(format!("unreadable record: {error}")))
}

pub(crate) async fn fetch_change<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: ChangeId,
) -> Result<Option<ChangeRecord>, StoreError> {
    let row = sqlx::query("SELECT record FROM changes WHERE id = $1")
        .bind(id.number() as i64)
        .fetch_optional(executor)
        .await?;
    row.map(|row| decode_record(&row)).transpose()
}

pub(crate) async fn fetch_incident<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    id: IncidentId,
) -> Result<Option<IncidentRecord>, StoreError> {
    let row = sqlx::query("SELECT record FROM incidents WHERE id = $1")
        .bind(id.number() as i64)
        .fetch_optional(executor)
        .await?;
    row.map(|row| decode_record(&row)).transpose()
}

fn event_from_row(row: &AnyRow) -> Result<EventEnvelope, StoreError> {
    Ok(EventEnvelope {
        sequence: row.try_get::<i64, _>("sequence")? as u64,
        stream: row.try_get("stream")?,
        stream_version: row.try_get::<i64, _>("stream_version")? as u64,
        event_type: row.try_get("event_type")?,
        actor: row.try_get("actor")?,
        time: Timestamp::from_unix_ms(row.try_get("time_ms")?),
        schema_version: row.try_get::<i64, _>("schema_version")? as u32,
        payload: row.try_get("payload")?,
    })
}

/// Most external ids looked up in one query (well below both databases' parameter limits).
pub const EXTERNAL_IDS_PER_QUERY: usize = 500;

/// The tables whose rows carry an `external_id` (imported history).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ExternalTable {
    Changes,
    Incidents,
}

/// The ids of the rows of `table` imported with these external ids, by external id.
pub(crate) async fn ids_by_external_ids(
    connection: &mut sqlx::AnyConnection,
    backend: Backend,
    table: ExternalTable,
    external_ids: &[&str],
) -> Result<HashMap<String, u64>, StoreError> {
    let table = match table {
        ExternalTable::Changes => "changes",
        ExternalTable::Incidents => "incidents",
    };
    let mut found = HashMap::new();
    for chunk in external_ids.chunks(EXTERNAL_IDS_PER_QUERY) {
        // Anonymous `?` on SQLite for the reason `values_rows` gives (named parameters cost the
        // square of their count there); `$N` on PostgreSQL.
        let placeholders: Vec<String> = (1..=chunk.len())
            .map(|position| match backend {
                Backend::Sqlite => "?".to_owned(),
                Backend::Postgres => format!("${position}"),
            })
            .collect();
        let sql = format!("SELECT external_id, id FROM {table} WHERE external_id IN ({})", placeholders.join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for external_id in chunk {
            query = query.bind(*external_id);
        }
        for row in query.fetch_all(&mut *connection).await? {
            let external_id: String = row.try_get(0)?;
            let id: i64 = row.try_get(1)?;
            found.insert(external_id, id as u64);
        }
    }
    Ok(found)
}

const EVENT_COLUMNS: &str = "sequence, stream, stream_version, event_type, actor, time_ms, schema_version, payload";

impl Store {
    pub async fn change(&self, id: ChangeId) -> Result<Option<ChangeRecord>, StoreError> {
        fetch_change(self.pool(), id).await
    }

    pub async fn incident(&self, id: IncidentId) -> Result<Option<IncidentRecord>, StoreError> {
        fetch_incident(self.pool(), id).await
    }

    /// A page of changes, newest first.
    pub async fn list_changes(&self, filter: &ChangeFilter) -> Result<ChangePage, StoreError> {
        let limit = filter.limit.clamp(1, PAGE_SIZE_MAX);
        let mut conditions: Vec<String> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        if let Some(state) = filter.state {
            texts.push(state.as_str().to_owned());
            conditions.push(format!("state = ${}", texts.len()));
        }
        if let Some(service) = &filter.service {
            texts.push(service.as_str().to_owned());
            conditions.push(format!("service = ${}", texts.len()));
        }
        if let Some(requester) = &filter.requester {
            texts.push(requester.as_str().to_owned());
            conditions.push(format!("requester = ${}", texts.len()));
        }
        if let Some(before) = filter.before_id {
            conditions.push(format!("id < {}", before.number()));
        }
        let where_clause =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        // The limit is a clamped integer and the id a parsed number: neither can carry SQL.
        let sql = format!("SELECT record FROM changes {where_clause} ORDER BY id DESC LIMIT {}", limit + 1);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for text in texts {
            query = query.bind(text);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let mut changes: Vec<ChangeRecord> = rows.iter().map(decode_record).collect::<Result<_, _>>()?;
        let next_before_id = if changes.len() > limit as usize {
            changes.truncate(limit as usize);
            changes.last().map(|change| change.id)
        } else {
            None
        };
        Ok(ChangePage { changes, next_before_id })
    }

    /// How many changes are in each state (states with none are left out).
    pub async fn count_changes_by_state(&self) -> Result<Vec<StateCount>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM changes GROUP BY state").fetch_all(self.pool()).await?;
        let mut counts = Vec::with_capacity(rows.len());
        for row in rows {
            let state: String = row.try_get(0)?;
            let count: i64 = row.try_get(1)?;
            let state = state.parse().map_err(StoreError::Corrupt)?;
            counts.push(StateCount { state, count: count as u64 });
        }
        counts.sort_by_key(|count| count.state);
        Ok(counts)
    }

    /// How many changes wait for an approval (see `ChangeRecord::awaits_approval`).
    pub async fn count_awaiting_approval(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM changes WHERE awaits_approval = 1")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(count as u64)
    }

    /// Changes that wait for an approval, oldest first, at most `limit` (for the approvals inbox).
    pub async fn changes_awaiting_approval(&self, limit: u32) -> Result<Vec<ChangeRecord>, StoreError> {
        let limit = limit.clamp(1, AWAITING_LIST_MAX);
        let sql = format!("SELECT record FROM changes WHERE awaits_approval = 1 ORDER BY id LIMIT {limit}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// Open changes whose planned window starts in `[end − PLANNED_LOOKBACK_MS, end)`: the
    /// candidates for a calendar conflict with a window ending at `end` (a planned window longer
    /// than the lookback is only found while it starts inside it). At most
    /// [`PLANNED_CANDIDATES_MAX`], nearest first; answered from the `planned_start` index.
    pub async fn planned_changes_before(&self, end: Timestamp) -> Result<Vec<ChangeRecord>, StoreError> {
        self.planned_changes_starting(end.plus_ms(-PLANNED_LOOKBACK_MS), end).await
    }

    /// Open changes whose planned window starts in `[from, to)`, nearest to `to` first, at most
    /// [`PLANNED_CANDIDATES_MAX`].
    pub async fn planned_changes_starting(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        // Only the planned_start range in SQL, so the planner takes that index (with a state
        // condition SQLite prefers `changes_by_state` and reads every open change); finished
        // changes are dropped here.
        let sql = format!(
            "SELECT record FROM changes WHERE planned_start >= $1 AND planned_start < $2
             ORDER BY planned_start DESC LIMIT {}",
            PLANNED_CANDIDATES_MAX * 4
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from.unix_ms())
            .bind(to.unix_ms())
            .fetch_all(self.pool())
            .await?;
        let mut changes = Vec::new();
        for row in &rows {
            let change: ChangeRecord = decode_record(row)?;
            let open = matches!(
                change.state,
                ChangeState::Submitted
                    | ChangeState::Assessed
                    | ChangeState::Approved
                    | ChangeState::Scheduled
                    | ChangeState::Implementing
            );
            if open {
                changes.push(change);
            }
            if changes.len() == PLANNED_CANDIDATES_MAX as usize {
                break;
            }
        }
        Ok(changes)
    }

    /// Emergency changes started without approval whose retrospective work is not flagged yet:
    /// the candidates for the overdue sweep.
    pub async fn emergency_changes_open(&self) -> Result<Vec<ChangeRecord>, StoreError> {
        let sql = format!(
            "SELECT record FROM changes WHERE change_type = '{}' AND state NOT IN ('closed', 'cancelled', 'rejected', 'draft')
             ORDER BY id LIMIT {AWAITING_LIST_MAX}",
            ChangeType::Emergency.as_str()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        let changes: Vec<ChangeRecord> = rows.iter().map(decode_record).collect::<Result<_, _>>()?;
        Ok(changes.into_iter().filter(|change| change.retrospective_due.is_some()).collect())
    }

    /// History of a service and a requester before `until`, for risk features: the service's
    /// changes created in `[since, until)` and how many of them had failed by `until`; the
    /// requester's changes created before `until` and their failures in `[since, until)`.
    pub async fn history_counts(
        &self,
        service: &Name,
        requester: &Name,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<HistoryCounts, StoreError> {
        let service_row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN failed_at IS NOT NULL AND failed_at < $3 THEN 1 ELSE 0 END), 0)
             FROM changes WHERE service = $1 AND created_at >= $2 AND created_at < $3",
        )
        .bind(service.as_str())
        .bind(since.unix_ms())
        .bind(until.unix_ms())
        .fetch_one(self.pool())
        .await?;
        // Two queries, each answered from one index alone.
        let requester_changes: i64 =
            sqlx::query("SELECT COUNT(*) FROM changes WHERE requester = $1 AND created_at < $2")
                .bind(requester.as_str())
                .bind(until.unix_ms())
                .fetch_one(self.pool())
                .await?
                .try_get(0)?;
        let requester_failures: i64 =
            sqlx::query("SELECT COUNT(*) FROM changes WHERE requester = $1 AND failed_at >= $2 AND failed_at < $3")
                .bind(requester.as_str())
                .bind(since.unix_ms())
                .bind(until.unix_ms())
                .fetch_one(self.pool())
                .await?
                .try_get(0)?;
        Ok(HistoryCounts {
            service_changes: service_row.try_get::<i64, _>(0)? as u64,
            service_failures: service_row.try_get::<i64, _>(1)? as u64,
            requester_changes: requester_changes as u64,
            requester_failures: requester_failures as u64,
        })
    }

    /// The newest risk model, if one was trained.
    pub async fn latest_risk_model(&self) -> Result<Option<RiskModelRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM risk_models ORDER BY sequence DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// The version of the newest risk model (cheap: for cache checks).
    pub async fn latest_risk_model_version(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT version FROM risk_models ORDER BY sequence DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| row.try_get::<String, _>(0)).transpose().map_err(Into::into)
    }

    /// Every risk model trained, oldest first (older ones are kept for audit).
    pub async fn risk_models(&self) -> Result<Vec<RiskModelRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM risk_models ORDER BY sequence").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// Every change, oldest first, read in pages (for training).
    pub async fn all_changes(&self) -> Result<Vec<ChangeRecord>, StoreError> {
        let mut changes = Vec::new();
        let mut after = 0;
        loop {
            let page = self.changes_after(after, CHANGES_PAGE_LENGTH_MAX).await?;
            let Some(last) = page.last() else { break };
            after = last.id.number();
            changes.extend(page);
        }
        Ok(changes)
    }

    /// Up to `limit` changes numbered above `after`, in number order: every change one page at a
    /// time, for readers that must not hold them all at once (the metrics index at a million).
    pub async fn changes_after(&self, after: u64, limit: u32) -> Result<Vec<ChangeRecord>, StoreError> {
        let limit = limit.clamp(1, CHANGES_PAGE_LENGTH_MAX);
        let sql = format!("SELECT record FROM changes WHERE id > $1 ORDER BY id LIMIT {limit}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after as i64).fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// Every incident, oldest first.
    pub async fn all_incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM incidents ORDER BY id").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// The change imported with this source-system id, if any.
    pub async fn change_by_external_id(&self, external_id: &str) -> Result<Option<ChangeRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM changes WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// The ids of the changes imported with these source-system ids, by external id; ids not
    /// imported are absent.
    pub async fn change_ids_by_external_ids(
        &self,
        external_ids: &[&str],
    ) -> Result<HashMap<String, ChangeId>, StoreError> {
        let mut connection = self.pool().acquire().await?;
        let found = ids_by_external_ids(&mut connection, self.backend(), ExternalTable::Changes, external_ids).await?;
        Ok(found.into_iter().map(|(external_id, id)| (external_id, ChangeId::new(id))).collect())
    }

    /// The incident imported with this source-system id, if any.
    pub async fn incident_by_external_id(&self, external_id: &str) -> Result<Option<IncidentRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM incidents WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// Changes of `service` whose deployment finished in `[from, to]`, latest first, at most
    /// `limit` (the incident attribution rule reads the latest one).
    pub async fn deployments_of_service(
        &self,
        service: &Name,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        let limit = limit.clamp(1, PAGE_SIZE_MAX);
        let sql = format!(
            "SELECT record FROM changes WHERE service = $1 AND deployed_at >= $2 AND deployed_at <= $3 ORDER BY deployed_at DESC, id DESC LIMIT {limit}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(service.as_str())
            .bind(from.unix_ms())
            .bind(to.unix_ms())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(decode_record).collect()
    }

    /// Which of `changes` an incident is linked to as its cause (explicit or confirmed links
    /// only). At most [`PAGE_SIZE_MAX`] ids are looked at.
    pub async fn changes_that_caused_incidents(&self, changes: &[ChangeId]) -> Result<Vec<ChangeId>, StoreError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        // The ids are numbers, so the list cannot carry SQL.
        let ids: Vec<String> = changes.iter().take(PAGE_SIZE_MAX as usize).map(|id| id.number().to_string()).collect();
        let sql = format!("SELECT DISTINCT caused_by FROM incidents WHERE caused_by IN ({})", ids.join(", "));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        rows.iter().map(|row| Ok(ChangeId::new(row.try_get::<i64, _>(0)? as u64))).collect()
    }

    /// Every alert rule, by name.
    pub async fn alert_rules(&self) -> Result<Vec<AlertRuleRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM alert_rules ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// Alert firings with their deliveries, newest first.
    pub async fn alert_firings(&self, limit: u32) -> Result<Vec<AlertFiringRecord>, StoreError> {
        let limit = limit.clamp(1, PAGE_SIZE_MAX);
        let sql = format!("SELECT record FROM alert_firings ORDER BY sequence DESC LIMIT {limit}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// The firing of `rule` for `key`, if it fired (a rule fires once per key).
    pub async fn alert_firing(&self, rule: &Name, key: &str) -> Result<Option<AlertFiringRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM alert_firings WHERE rule = $1 AND firing_key = $2")
            .bind(rule.as_str())
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// Events of one type, newest first, at most `limit` (e.g. `maturity_answered`).
    pub async fn events_of_type(&self, event_type: &str, limit: u32) -> Result<Vec<EventEnvelope>, StoreError> {
        let limit = limit.clamp(1, PAGE_SIZE_MAX);
        let sql = format!(
            "SELECT sequence, stream, stream_version, event_type, actor, time_ms, schema_version, payload FROM events WHERE event_type = $1 ORDER BY sequence DESC LIMIT {limit}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(event_type).fetch_all(self.pool()).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Every standard-change template, by name.
    pub async fn templates(&self) -> Result<Vec<TemplateRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM templates ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    pub async fn template(&self, name: &Name) -> Result<Option<TemplateRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM templates WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// Every calendar window, by name.
    pub async fn calendar_windows(&self) -> Result<Vec<CalendarWindowRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM calendar_windows ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// Every policy version, oldest first.
    pub async fn policy_versions(&self) -> Result<Vec<PolicyVersionRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM policy_versions ORDER BY sequence").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// The policy version in force (the last one set), if any was set.
    pub async fn current_policy(&self) -> Result<Option<PolicyVersionRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM policy_versions ORDER BY sequence DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// The SHA-256 of the policy version in force, if any was set (cheap: for cache checks).
    pub async fn current_policy_sha256(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT sha256 FROM policy_versions ORDER BY sequence DESC LIMIT 1")
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| row.try_get::<String, _>(0)).transpose().map_err(Into::into)
    }

    /// The events of one stream, in order.
    pub async fn stream_events(&self, stream: &str) -> Result<Vec<EventEnvelope>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE stream = $1 ORDER BY stream_version");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(stream).fetch_all(self.pool()).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Up to `limit` events with a sequence above `after`, in order.
    pub async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<EventEnvelope>, StoreError> {
        let limit = limit.clamp(1, 10_000);
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE sequence > $1 ORDER BY sequence LIMIT {limit}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after as i64).fetch_all(self.pool()).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The most recent events, newest first.
    pub async fn recent_events(&self, limit: u32) -> Result<Vec<EventEnvelope>, StoreError> {
        let limit = limit.clamp(1, PAGE_SIZE_MAX);
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY sequence DESC LIMIT {limit}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        rows.iter().map(event_from_row).collect()
    }

    pub async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM services ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    pub async fn service(&self, name: &Name) -> Result<Option<ServiceRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM services WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    pub async fn teams(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM teams ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query("SELECT record FROM users ORDER BY name").fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    pub async fn user(&self, name: &Name) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query("SELECT record FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|row| decode_record(&row)).transpose()
    }

    /// The user a token (by its SHA-256, hex) belongs to.
    pub async fn user_by_token_sha256(&self, token_sha256: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT users.record FROM tokens JOIN users ON users.name = tokens.user_name WHERE tokens.token_sha256 = $1",
        )
        .bind(token_sha256)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            let text: String = row.try_get(0)?;
            serde_json::from_str(&text).map_err(|error| StoreError::Corrupt(format!("unreadable user: {error}")))
        })
        .transpose()
    }

    /// Incidents, newest first.
    pub async fn incidents(&self, limit: u32) -> Result<Vec<IncidentRecord>, StoreError> {
        let limit = limit.clamp(1, PAGE_SIZE_MAX);
        let sql = format!("SELECT record FROM incidents ORDER BY id DESC LIMIT {limit}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await?;
        rows.iter().map(decode_record).collect()
    }

    /// Number of events (= ledger size).
    pub async fn event_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query("SELECT COUNT(*) FROM events").fetch_one(self.pool()).await?.try_get(0)?;
        Ok(count as u64)
    }

    /// The earliest time of any event, `None` for an empty log. Not the first sequence's time:
    /// imports and seeded history carry their original, earlier times.
    pub async fn earliest_event_time(&self) -> Result<Option<Timestamp>, StoreError> {
        let earliest: Option<i64> =
            sqlx::query("SELECT MIN(time_ms) FROM events").fetch_one(self.pool()).await?.try_get(0)?;
        Ok(earliest.map(Timestamp::from_unix_ms))
    }

    /// The committed ledger head.
    pub async fn ledger_head(&self) -> Result<LedgerHead, StoreError> {
        let row = sqlx::query("SELECT size, frontier FROM ledger_head WHERE id = 1").fetch_one(self.pool()).await?;
        let frontier_bytes: Vec<u8> = row.try_get(1)?;
        let frontier = changegate_ledger::Frontier::from_bytes(&frontier_bytes)?;
        Ok(LedgerHead { size: frontier.size(), root: frontier.root() })
    }

    /// Stored hashes of the given perfect subtrees.
    pub async fn subtree_hashes(&self, subtrees: &[SubtreeId]) -> Result<HashMap<SubtreeId, Hash>, StoreError> {
        let mut hashes = HashMap::with_capacity(subtrees.len());
        for subtree in subtrees {
            let row = sqlx::query("SELECT hash FROM ledger_nodes WHERE level = $1 AND node_index = $2")
                .bind(i64::from(subtree.level))
                .bind(subtree.index as i64)
                .fetch_optional(self.pool())
                .await?;
            if let Some(row) = row {
                let bytes: Vec<u8> = row.try_get(0)?;
                let hash: Hash = bytes
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("ledger node {subtree:?} is not 32 bytes")))?;
                hashes.insert(*subtree, hash);
            }
        }
        Ok(hashes)
    }

    /// Rebuilds every projection (changes, services, teams, users, tokens, incidents) from the
    /// events and returns the keys whose stored row differs from the fold, or exists on one side
    /// only, such as `change/CHG-000001` or `token/tok_…` (empty when the projections are sound).
    pub async fn verify_projections(&self) -> Result<Vec<String>, StoreError> {
        let mut folded: BTreeMap<String, String> = BTreeMap::new();
        let mut changes: HashMap<ChangeId, ChangeRecord> = HashMap::new();
        let mut incidents: HashMap<IncidentId, IncidentRecord> = HashMap::new();
        let mut services: BTreeMap<String, ServiceRecord> = BTreeMap::new();
        let mut firings: BTreeMap<u64, AlertFiringRecord> = BTreeMap::new();
        let mut after = 0;
        loop {
            let events = self.events_after(after, 5_000).await?;
            let Some(last) = events.last() else { break };
            after = last.sequence;
            for envelope in &events {
                let event: DomainEvent = envelope
                    .domain_event()
                    .map_err(|error| StoreError::Corrupt(format!("event {}: {error}", envelope.sequence)))?;
                let time = envelope.time;
                match &event {
                    DomainEvent::ChangeCreated { id, .. } | DomainEvent::ChangeImported { id, .. } => {
                        let record = ChangeRecord::create(&event, time)
                            .ok_or_else(|| StoreError::Corrupt(format!("change {id} has no creation")))?;
                        changes.insert(*id, record);
                    }
                    DomainEvent::ServiceRegistered { name, .. } => {
                        let record = ServiceRecord::registered(&event, time)
                            .ok_or_else(|| StoreError::Corrupt(format!("service {name} did not fold")))?;
                        services.insert(name.to_string(), record);
                    }
                    DomainEvent::RollbackHookSet { service, .. } => {
                        let record = services.get_mut(service.as_str()).ok_or_else(|| {
                            StoreError::Corrupt(format!("rollback hook for unknown service {service}"))
                        })?;
                        record.apply(&event);
                    }
                    DomainEvent::AlertRuleDefined { name, .. } => {
                        let record = AlertRuleRecord::from_event(&event, &envelope.actor, time)
                            .ok_or_else(|| StoreError::Corrupt(format!("alert rule {name} did not fold")))?;
                        folded.insert(format!("alert-rule/{name}"), encode(&record));
                    }
                    DomainEvent::AlertRuleRemoved { name } => {
                        folded.remove(&format!("alert-rule/{name}"));
                    }
                    DomainEvent::AlertFired { .. } => {
                        let record = AlertFiringRecord::from_event(&event, envelope.sequence, time)
                            .ok_or_else(|| StoreError::Corrupt("alert firing did not fold".into()))?;
                        firings.insert(envelope.sequence, record);
                    }
                    DomainEvent::AlertDelivered { fired_sequence, .. } => {
                        let record = firings.get_mut(fired_sequence).ok_or_else(|| {
                            StoreError::Corrupt(format!("delivery of unknown firing {fired_sequence}"))
                        })?;
                        record.apply(&event, time);
                    }
                    DomainEvent::TeamCreated { name, description } => {
                        let record =
                            TeamRecord { name: name.clone(), description: description.clone(), created_at: time };
                        folded.insert(format!("team/{name}"), encode(&record));
                    }
                    DomainEvent::UserCreated { name, roles, team } => {
                        let record = UserRecord {
                            name: name.clone(),
                            roles: roles.clone(),
                            team: team.clone(),
                            created_at: time,
                        };
                        folded.insert(format!("user/{name}"), encode(&record));
                    }
                    DomainEvent::TokenIssued { user, token_id, token_sha256 } => {
                        folded.insert(format!("token/{token_id}"), format!("{user} {token_sha256} {}", time.unix_ms()));
                    }
                    DomainEvent::TemplateDefined { name, .. } => {
                        let record = TemplateRecord::from_event(&event, &envelope.actor, time)
                            .ok_or_else(|| StoreError::Corrupt(format!("template {name} did not fold")))?;
                        folded.insert(format!("template/{name}"), encode(&record));
                    }
                    DomainEvent::CalendarWindowDefined { name, .. } => {
                        let record = CalendarWindowRecord::from_event(&event, &envelope.actor, time)
                            .ok_or_else(|| StoreError::Corrupt(format!("calendar window {name} did not fold")))?;
                        folded.insert(format!("calendar/{name}"), encode(&record));
                    }
                    DomainEvent::CalendarWindowRemoved { name } => {
                        folded.remove(&format!("calendar/{name}"));
                    }
                    DomainEvent::RiskModelTrained { .. } => {
                        let record = risk_model_record(envelope, &event)
                            .ok_or_else(|| StoreError::Corrupt("risk model did not fold".into()))?;
                        folded.insert(format!("risk/{}", envelope.sequence), encode(&record));
                    }
                    DomainEvent::PolicySet { .. } => {
                        let record = PolicyVersionRecord::from_event(&event, envelope.sequence, &envelope.actor, time)
                            .ok_or_else(|| StoreError::Corrupt("policy version did not fold".into()))?;
                        folded.insert(format!("policy/{}", envelope.sequence), encode(&record));
                    }
                    DomainEvent::IncidentOpened { id, .. } | DomainEvent::IncidentImported { id, .. } => {
                        let record = IncidentRecord::create(&event, time)
                            .ok_or_else(|| StoreError::Corrupt(format!("incident {id} has no opening")))?;
                        incidents.insert(*id, record);
                    }
                    DomainEvent::IncidentResolved { .. }
                    | DomainEvent::IncidentUpdated { .. }
                    | DomainEvent::IncidentLinked { .. }
                    | DomainEvent::IncidentLinkSuggested { .. }
                    | DomainEvent::IncidentLinkRejected { .. } => {
                        let id = envelope.stream_id().and_then(|stream| stream.incident());
                        let record = id.and_then(|id| incidents.get_mut(&id)).ok_or_else(|| {
                            StoreError::Corrupt(format!("{} does not start with its opening", envelope.stream))
                        })?;
                        record.apply(&event, time);
                    }
                    _ => {
                        if envelope.stream.starts_with("change/") {
                            let stream: StreamId = envelope.stream.parse().map_err(StoreError::Corrupt)?;
                            let id = stream.change().expect("a change stream names its change");
                            match changes.get_mut(&id) {
                                Some(record) => record.apply(&event, time),
                                None => {
                                    return Err(StoreError::Corrupt(format!(
                                        "change {id} does not start with its creation"
                                    )));
                                }
                            }
                        }
                    }
                }
            }
        }
        folded.extend(changes.iter().map(|(id, record)| (format!("change/{id}"), encode(record))));
        folded.extend(incidents.iter().map(|(id, record)| (format!("incident/{id}"), encode(record))));
        folded.extend(services.iter().map(|(name, record)| (format!("service/{name}"), encode(record))));
        // The columns beside each record (what list filters, indexes and the metrics read) are
        // checked too: a doctored `state` column would otherwise pass while lists count it.
        folded.extend(
            changes
                .iter()
                .map(|(id, record)| (format!("change-columns/{id}"), format!("{:?}", change_columns(record)))),
        );
        folded.extend(
            incidents
                .iter()
                .map(|(id, record)| (format!("incident-columns/{id}"), format!("{:?}", incident_columns(record)))),
        );
        folded.extend(
            services
                .iter()
                .map(|(name, record)| (format!("service-columns/{name}"), format!("{:?}", service_columns(record)))),
        );
        folded.extend(firings.iter().map(|(sequence, record)| (format!("alert-firing/{sequence}"), encode(record))));

        let mut stored: BTreeMap<String, String> = BTreeMap::new();
        let tables = [
            ("change", "SELECT id, record FROM changes"),
            ("service", "SELECT name, record FROM services"),
            ("team", "SELECT name, record FROM teams"),
            ("user", "SELECT name, record FROM users"),
            ("incident", "SELECT id, record FROM incidents"),
            ("template", "SELECT name, record FROM templates"),
            ("calendar", "SELECT name, record FROM calendar_windows"),
            ("policy", "SELECT sequence, record FROM policy_versions"),
            ("risk", "SELECT sequence, record FROM risk_models"),
            ("alert-rule", "SELECT name, record FROM alert_rules"),
            ("alert-firing", "SELECT sequence, record FROM alert_firings"),
        ];
        for (kind, sql) in tables {
            for row in sqlx::query(sql).fetch_all(self.pool()).await? {
                let key = match kind {
                    "change" => ChangeId::new(row.try_get::<i64, _>(0)? as u64).to_string(),
                    "incident" => IncidentId::new(row.try_get::<i64, _>(0)? as u64).to_string(),
                    "policy" | "risk" | "alert-firing" => row.try_get::<i64, _>(0)?.to_string(),
                    _ => row.try_get::<String, _>(0)?,
                };
                // Compare decoded records, re-encoded, so the comparison does not depend on how
                // a backend returns the JSON text.
                let record: serde_json::Value = serde_json::from_str(&row.try_get::<String, _>(1)?)
                    .map_err(|error| StoreError::Corrupt(format!("unreadable {kind} {key}: {error}")))?;
                stored.insert(format!("{kind}/{key}"), record.to_string());
            }
        }
        let change_columns_sql =
            "SELECT id, state, service, requester, change_type, created_at, updated_at, awaits_approval,
             planned_start, planned_end, failed_at, external_id, deployed_at FROM changes";
        for row in sqlx::query(change_columns_sql).fetch_all(self.pool()).await? {
            let id = ChangeId::new(row.try_get::<i64, _>(0)? as u64);
            let columns: ChangeColumns = (
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
                row.try_get(6)?,
                row.try_get(7)?,
                row.try_get(8)?,
                row.try_get(9)?,
                row.try_get(10)?,
                row.try_get(11)?,
                row.try_get(12)?,
            );
            stored.insert(format!("change-columns/{id}"), format!("{columns:?}"));
        }
        for row in sqlx::query("SELECT id, service, caused_by, detected_at, external_id FROM incidents")
            .fetch_all(self.pool())
            .await?
        {
            let id = IncidentId::new(row.try_get::<i64, _>(0)? as u64);
            let columns: IncidentColumns = (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            stored.insert(format!("incident-columns/{id}"), format!("{columns:?}"));
        }
        for row in sqlx::query("SELECT name, team, tier FROM services").fetch_all(self.pool()).await? {
            let name: String = row.try_get(0)?;
            let columns: ServiceColumns = (row.try_get(1)?, row.try_get(2)?);
            stored.insert(format!("service-columns/{name}"), format!("{columns:?}"));
        }
        for row in sqlx::query("SELECT token_id, user_name, token_sha256, created_at FROM tokens")
            .fetch_all(self.pool())
            .await?
        {
            let token_id: String = row.try_get(0)?;
            let value = format!(
                "{} {} {}",
                row.try_get::<String, _>(1)?,
                row.try_get::<String, _>(2)?,
                row.try_get::<i64, _>(3)?
            );
            stored.insert(format!("token/{token_id}"), value);
        }
        let normalise = |text: &String| -> String {
            serde_json::from_str::<serde_json::Value>(text)
                .map(|value| value.to_string())
                .unwrap_or_else(|_| text.clone())
        };
        let mut differing: Vec<String> = folded
            .iter()
            .filter(|(key, value)| stored.get(*key).map(normalise) != Some(normalise(value)))
            .map(|(key, _)| key.clone())
            .collect();
        differing.extend(stored.keys().filter(|key| !folded.contains_key(*key)).cloned());
        differing.sort();
        Ok(differing)
    }
}
