//! Delivery metrics over this store: the conversion of change and incident records into the
//! metrics crate's facts, the `MetricsCache` that keeps a `MetricsIndex` current as events arrive,
//! and the query every face (CLI, API, page) runs.
//!
//! Why a cache that follows the event log instead of a rebuild per query: building the index
//! reads and decodes every change (seconds at a million), while a query of a built index takes
//! milliseconds. The first query builds it and remembers the ledger sequence it covers; every
//! later query reads the events after that sequence and re-reads only the changes and incidents
//! those events touched. The events table is shared, so each of several server instances on one
//! PostgreSQL database follows every other instance's writes the same way, and writers are
//! serialised by the ledger head lock, so no sequence below the head can still appear later.
//!
//! Which changes count as successful: a change that completed and has not failed or been rolled
//! back, whether or not it is verified yet (see `docs/metrics.md`, "Vocabulary"). A deployment is
//! in production from the moment it completes; waiting for verification would hold deployment
//! frequency and lead time back by however long verification takes, and leave out changes nobody
//! verifies. When verification fails, the change's next fact is a failed deployment at the same
//! completion time and replaces the successful one.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use changegate_core::{ChangeId, ChangeRecord, FieldError, IncidentRecord, Name, StreamId, Timestamp};
use changegate_metrics::{
    ChangeFact, ChangeOutcome, IncidentFact, MetricsConfig, MetricsError, MetricsIndex, PERIOD_LENGTH_MAX_DAYS,
    TIME_MAX_MS, TIME_MIN_MS,
};
use changegate_store::{CHANGES_PAGE_LENGTH_MAX, Store};
use serde::Serialize;
use tokio::sync::{RwLock, RwLockReadGuard};

pub use changegate_metrics::{MetricsQuery, MetricsReport};

use crate::identity::Caller;
use crate::{Service, ServiceError};

/// Most events one catch-up read returns.
pub const CATCH_UP_BATCH_LENGTH_MAX: u32 = 5_000;
/// Most events the cache catches up on; a longer backlog (a bulk import by another instance)
/// rebuilds the index instead, which reads each record once rather than once per event.
pub const CATCH_UP_EVENTS_MAX: u64 = 200_000;
/// The team of a change whose record names none and whose service is not registered.
pub const TEAM_UNKNOWN: &str = "unknown";

use changegate_core::civil::DAY_MS;

/// Raw metrics parameters, as they come from a query string or flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsParams {
    /// `YYYY-MM-DD` (UTC midnight) or RFC 3339; inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (UTC midnight) or RFC 3339; exclusive.
    pub to: Option<String>,
    pub service: Option<String>,
    pub team: Option<String>,
    pub environment: Option<String>,
}

/// The names a metrics query may filter on: registered services and teams, and the services,
/// teams and environments changes were made in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetricsNames {
    pub services: Vec<String>,
    pub teams: Vec<String>,
    pub environments: Vec<String>,
}

/// What the cache has done, for tests, logs and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetricsCacheStatus {
    /// The ledger sequence up to which every event is reflected (0 before the first query).
    pub covered_sequence: u64,
    /// Full builds of the index so far.
    pub builds: u64,
    /// Events read while catching up.
    pub caught_up_events: u64,
    /// Change and incident records re-read while catching up.
    pub refreshed_records: u64,
    /// Records whose facts broke a metrics limit and were left out (logged as warnings).
    pub skipped_facts: u64,
    /// Milliseconds the last full build took.
    pub last_build_ms: u64,
    pub deployments: usize,
    pub incidents: usize,
}

/// The metrics crate's outcome of a change (see the module docs for completed, unverified ones).
pub fn change_outcome(change: &ChangeRecord) -> ChangeOutcome {
    use changegate_core::ChangeOutcome as Ended;
    match change.outcome() {
        Some(Ended::RolledBack) => ChangeOutcome::RolledBack,
        Some(Ended::Failed) => ChangeOutcome::Failed,
        Some(Ended::Successful) => ChangeOutcome::Success,
        Some(Ended::Rejected) => ChangeOutcome::Rejected,
        Some(Ended::Cancelled) => ChangeOutcome::Cancelled,
        None if change.completed_at.is_some() => ChangeOutcome::Success,
        None => ChangeOutcome::Open,
    }
}

/// The fact of `change`, owned by `team`, with its names interned in `index`.
pub fn change_fact(index: &mut MetricsIndex, change: &ChangeRecord, team: &str) -> Result<ChangeFact, MetricsError> {
    let assessment = change.assessment.as_ref();
    Ok(ChangeFact {
        number: change.id.number(),
        service: index.intern(change.service.as_str())?,
        team: index.intern(team)?,
        environment: index.intern(change.environment.as_str())?,
        change_type: change.change_type,
        created_at_ms: change.created_at.unix_ms(),
        submitted_at_ms: change.submitted_at.map(Timestamp::unix_ms),
        approved_at_ms: change.approved_at.map(Timestamp::unix_ms),
        started_at_ms: change.started_at.map(Timestamp::unix_ms),
        // A change that failed while being implemented has no completion: its failure is its
        // deployment's time.
        completed_at_ms: change.deployed_at().map(Timestamp::unix_ms),
        outcome: change_outcome(change),
        first_commit_at_ms: change.commit_time.map(Timestamp::unix_ms),
        // Scores above the top of the scale (never produced) count as its top.
        risk_score: assessment
            .and_then(|assessment| assessment.risk_score)
            .map(|score| u8::try_from(score.min(u32::from(changegate_metrics::RISK_SCORE_MAX))).unwrap_or(u8::MAX)),
        risk_class: assessment.map(|assessment| assessment.risk_class),
    })
}

/// The fact of `incident`: its counted cause is `caused_by` (explicit or confirmed links only); a
/// suggestion never counts.
pub fn incident_fact(index: &mut MetricsIndex, incident: &IncidentRecord) -> Result<IncidentFact, MetricsError> {
    Ok(IncidentFact {
        number: incident.id.number(),
        service: index.intern(incident.service.as_str())?,
        severity: incident.severity,
        detected_at_ms: incident.detected_at.unix_ms(),
        resolved_at_ms: incident.resolved_at.map(Timestamp::unix_ms),
        downtime_minutes: incident.downtime_minutes,
        counted_cause: incident.caused_by.map(ChangeId::number),
    })
}

/// The index and what it covers.
struct Loaded {
    index: MetricsIndex,
    covered_sequence: u64,
    team_by_service: HashMap<String, String>,
    services: BTreeSet<String>,
    teams: BTreeSet<String>,
    environments: BTreeSet<String>,
}

impl Loaded {
    fn team_of(&self, change: &ChangeRecord) -> String {
        match &change.team {
            Some(team) => team.to_string(),
            // Changes recorded before changes carried their team: the service's team.
            None => self.team_by_service.get(change.service.as_str()).cloned().unwrap_or_else(|| TEAM_UNKNOWN.into()),
        }
    }

    /// Re-reads the registered services and teams (their names are filters; a service's team is
    /// the team of its old changes).
    async fn load_registry(&mut self, store: &Store) -> Result<(), ServiceError> {
        for service in store.services().await? {
            self.services.insert(service.name.to_string());
            self.teams.insert(service.team.to_string());
            self.team_by_service.insert(service.name.to_string(), service.team.to_string());
        }
        for team in store.teams().await? {
            self.teams.insert(team.name.to_string());
        }
        Ok(())
    }

    /// Turns `change` into its fact and records its names; `None` (logged) when it breaks a limit.
    fn fact_of(&mut self, change: &ChangeRecord, skipped: &AtomicU64) -> Option<ChangeFact> {
        let team = self.team_of(change);
        self.services.insert(change.service.to_string());
        self.environments.insert(change.environment.to_string());
        match change_fact(&mut self.index, change, &team) {
            Ok(fact) => {
                self.teams.insert(team);
                Some(fact)
            }
            Err(error) => {
                skip(skipped, &change.id.to_string(), &error);
                None
            }
        }
    }

    fn upsert_change(&mut self, change: &ChangeRecord, skipped: &AtomicU64) {
        if let Some(fact) = self.fact_of(change, skipped)
            && let Err(error) = self.index.upsert_change(&fact)
        {
            skip(skipped, &change.id.to_string(), &error);
        }
    }

    fn upsert_incident(&mut self, incident: &IncidentRecord, skipped: &AtomicU64) {
        let result = incident_fact(&mut self.index, incident).and_then(|fact| self.index.upsert_incident(&fact));
        if let Err(error) = result {
            skip(skipped, &incident.id.to_string(), &error);
        }
    }
}

fn skip(skipped: &AtomicU64, record: &str, error: &MetricsError) {
    skipped.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(record, %error, "a record breaks a metrics limit and is left out of the metrics");
}

/// The metrics index of one `Service`, kept current with the event log (see the module docs).
pub(crate) struct MetricsCache {
    config: MetricsConfig,
    loaded: RwLock<Option<Loaded>>,
    builds: AtomicU64,
    caught_up_events: AtomicU64,
    refreshed_records: AtomicU64,
    skipped_facts: AtomicU64,
    last_build_ms: AtomicU64,
}

impl MetricsCache {
    pub fn new(config: MetricsConfig) -> Self {
        MetricsCache {
            config,
            loaded: RwLock::new(None),
            builds: AtomicU64::new(0),
            caught_up_events: AtomicU64::new(0),
            refreshed_records: AtomicU64::new(0),
            skipped_facts: AtomicU64::new(0),
            last_build_ms: AtomicU64::new(0),
        }
    }

    /// The index, brought up to the ledger head as of this call.
    async fn current(&self, store: &Store) -> Result<RwLockReadGuard<'_, Option<Loaded>>, ServiceError> {
        let head = store.ledger_head().await?.size;
        {
            let loaded = self.loaded.read().await;
            if loaded.as_ref().is_some_and(|loaded| loaded.covered_sequence >= head) {
                return Ok(loaded);
            }
        }
        let mut loaded = self.loaded.write().await;
        // Another query may have caught up while this one waited for the lock.
        match loaded.as_mut() {
            Some(current) if current.covered_sequence >= head => {}
            Some(current) if head - current.covered_sequence <= CATCH_UP_EVENTS_MAX => {
                self.catch_up(store, current, head).await?;
            }
            _ => *loaded = Some(self.build(store).await?),
        }
        Ok(loaded.downgrade())
    }

    /// Builds the index from every change and incident. The head is read first: whatever the
    /// records show beyond it is seen again, harmlessly, when the events after it are caught up.
    async fn build(&self, store: &Store) -> Result<Loaded, ServiceError> {
        let started = std::time::Instant::now();
        let head = store.ledger_head().await?.size;
        let index = MetricsIndex::new(self.config.clone())
            .map_err(|error| ServiceError::invalid("production_environments", error.to_string()))?;
        let mut loaded = Loaded {
            index,
            covered_sequence: head,
            team_by_service: HashMap::new(),
            services: BTreeSet::new(),
            teams: BTreeSet::new(),
            environments: self.config.production_environments.iter().cloned().collect(),
        };
        loaded.load_registry(store).await?;
        let mut facts = Vec::new();
        let mut after = 0;
        loop {
            let page = store.changes_after(after, CHANGES_PAGE_LENGTH_MAX).await?;
            let Some(last) = page.last() else { break };
            after = last.id.number();
            facts.extend(page.iter().filter_map(|change| loaded.fact_of(change, &self.skipped_facts)));
        }
        // In deployment order, each fact lands at the end of its sorted runs: appends, not moves.
        facts.sort_unstable_by_key(|fact| (fact.completed_at_ms, fact.number));
        for fact in &facts {
            if let Err(error) = loaded.index.upsert_change(fact) {
                skip(&self.skipped_facts, &ChangeId::new(fact.number).to_string(), &error);
            }
        }
        drop(facts);
        for incident in store.all_incidents().await? {
            loaded.upsert_incident(&incident, &self.skipped_facts);
        }
        self.builds.fetch_add(1, Ordering::Relaxed);
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_build_ms.store(elapsed_ms, Ordering::Relaxed);
        tracing::info!(
            deployments = loaded.index.deployments(),
            incidents = loaded.index.incidents(),
            covered_sequence = head,
            elapsed_ms,
            "metrics index built"
        );
        Ok(loaded)
    }

    /// Applies the events after the covered sequence up to `head`, batch by batch. The covered
    /// sequence moves only after a batch's records are in, so a failure part way redoes that batch
    /// (upserting the same record again changes nothing).
    async fn catch_up(&self, store: &Store, loaded: &mut Loaded, head: u64) -> Result<(), ServiceError> {
        while loaded.covered_sequence < head {
            let events = store.events_after(loaded.covered_sequence, CATCH_UP_BATCH_LENGTH_MAX).await?;
            let Some(last) = events.last() else { break };
            let last_sequence = last.sequence;
            let mut changes = HashSet::new();
            let mut incidents = HashSet::new();
            let mut registry_changed = false;
            for event in &events {
                match event.stream_id() {
                    Some(StreamId::Change(id)) => {
                        changes.insert(id);
                    }
                    Some(StreamId::Incident(id)) => {
                        incidents.insert(id);
                    }
                    Some(StreamId::Service(_) | StreamId::Team(_)) => registry_changed = true,
                    _ => {}
                }
            }
            if registry_changed {
                loaded.load_registry(store).await?;
            }
            let mut changes: Vec<ChangeId> = changes.into_iter().collect();
            changes.sort_unstable();
            for id in &changes {
                if let Some(change) = store.change(*id).await? {
                    loaded.upsert_change(&change, &self.skipped_facts);
                }
            }
            for id in &incidents {
                if let Some(incident) = store.incident(*id).await? {
                    loaded.upsert_incident(&incident, &self.skipped_facts);
                }
            }
            self.caught_up_events.fetch_add(events.len() as u64, Ordering::Relaxed);
            self.refreshed_records.fetch_add((changes.len() + incidents.len()) as u64, Ordering::Relaxed);
            loaded.covered_sequence = last_sequence;
        }
        Ok(())
    }

    async fn status(&self) -> MetricsCacheStatus {
        let loaded = self.loaded.read().await;
        MetricsCacheStatus {
            covered_sequence: loaded.as_ref().map_or(0, |loaded| loaded.covered_sequence),
            builds: self.builds.load(Ordering::Relaxed),
            caught_up_events: self.caught_up_events.load(Ordering::Relaxed),
            refreshed_records: self.refreshed_records.load(Ordering::Relaxed),
            skipped_facts: self.skipped_facts.load(Ordering::Relaxed),
            last_build_ms: self.last_build_ms.load(Ordering::Relaxed),
            deployments: loaded.as_ref().map_or(0, |loaded| loaded.index.deployments()),
            incidents: loaded.as_ref().map_or(0, |loaded| loaded.index.incidents()),
        }
    }
}

/// An instant given as `YYYY-MM-DD` (UTC midnight) or RFC 3339, in Unix milliseconds.
fn parse_instant(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let is_date = text.len() == 10 && text.bytes().all(|byte| byte.is_ascii_digit() || byte == b'-');
    let unix_ms = if is_date {
        Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z"))
            .map_err(|_| format!("`{text}` is not a calendar date (YYYY-MM-DD)"))?
            .unix_ms()
    } else {
        Timestamp::parse_rfc3339(text)
            .map_err(|_| format!("`{text}` is neither a date (YYYY-MM-DD, UTC midnight) nor an RFC 3339 time"))?
            .unix_ms()
    };
    if !(TIME_MIN_MS..=TIME_MAX_MS).contains(&unix_ms) {
        return Err(format!("`{text}` is outside 1970-01-01 to 9999-12-31"));
    }
    Ok(unix_ms)
}

fn non_blank(value: Option<&String>) -> Option<&str> {
    value.map(|text| text.trim()).filter(|text| !text.is_empty())
}

/// Parses raw parameters into a query, refusing bad values with field errors: unreadable dates,
/// `from` not before `to`, a period longer than the limit, names that cannot be names. Blank
/// values are absent (an empty form field).
pub fn parse_metrics_query(params: &MetricsParams) -> Result<MetricsQuery, ServiceError> {
    let mut errors = Vec::new();
    let mut instant = |field: &str, value: Option<&String>| match non_blank(value) {
        Some(text) => parse_instant(text).map_err(|message| errors.push(FieldError::new(field, message))).ok(),
        None => None,
    };
    let from_ms = instant("from", params.from.as_ref());
    let to_ms = instant("to", params.to.as_ref());
    if let (Some(from_ms), Some(to_ms)) = (from_ms, to_ms) {
        if from_ms >= to_ms {
            errors.push(FieldError::new("to", "must be after `from` (from is inclusive, to exclusive)"));
        } else if to_ms - from_ms > PERIOD_LENGTH_MAX_DAYS * DAY_MS {
            errors.push(FieldError::new("to", format!("the period may span at most {PERIOD_LENGTH_MAX_DAYS} days")));
        }
    }
    let mut name = |field: &str, value: Option<&String>| match non_blank(value) {
        Some(text) => Name::parse(text)
            .map(|name| name.to_string())
            .map_err(|message| errors.push(FieldError::new(field, message)))
            .ok(),
        None => None,
    };
    let service = name("service", params.service.as_ref());
    let team = name("team", params.team.as_ref());
    let environment = name("environment", params.environment.as_ref());
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    Ok(MetricsQuery { from_ms, to_ms, service, team, environment })
}

/// A filter name that names nothing this store knows, as a field error.
fn unknown_names(loaded: &Loaded, query: &MetricsQuery) -> Vec<FieldError> {
    let checks = [
        ("service", &query.service, &loaded.services, "no service"),
        ("team", &query.team, &loaded.teams, "no team"),
        ("environment", &query.environment, &loaded.environments, "no change was made in environment"),
    ];
    checks
        .into_iter()
        .filter_map(|(field, value, known, what)| {
            let value = value.as_ref()?;
            (!known.contains(value)).then(|| FieldError::new(field, format!("{what} `{value}` is known here")))
        })
        .collect()
}

fn query_error(error: MetricsError) -> ServiceError {
    match error {
        MetricsError::PeriodReversed { .. } | MetricsError::PeriodTooLong => {
            ServiceError::invalid("to", error.to_string())
        }
        MetricsError::TimeOutOfRange { field, .. } => {
            ServiceError::invalid(field.trim_end_matches("_ms"), error.to_string())
        }
        other => ServiceError::invalid("query", other.to_string()),
    }
}

impl Service {
    /// The delivery metrics for `query`, from the index brought up to the ledger head. Any
    /// signed-in user may read them. A service, team or environment this store has never heard of
    /// is refused (an empty report would read as "no deployments"); a period without deployments
    /// is not an error.
    pub async fn metrics(&self, _caller: &Caller, query: &MetricsQuery) -> Result<MetricsReport, ServiceError> {
        let loaded = self.metrics_cache.current(self.store()).await?;
        let loaded = loaded.as_ref().ok_or_else(|| ServiceError::Internal("the metrics index is not built".into()))?;
        let unknown = unknown_names(loaded, query);
        if !unknown.is_empty() {
            return Err(ServiceError::Validation(unknown));
        }
        loaded.index.query(query).map_err(query_error)
    }

    /// The names metrics may be filtered by, for forms.
    pub async fn metrics_names(&self, _caller: &Caller) -> Result<MetricsNames, ServiceError> {
        let loaded = self.metrics_cache.current(self.store()).await?;
        let loaded = loaded.as_ref().ok_or_else(|| ServiceError::Internal("the metrics index is not built".into()))?;
        let list = |names: &BTreeSet<String>| names.iter().cloned().collect();
        Ok(MetricsNames {
            services: list(&loaded.services),
            teams: list(&loaded.teams),
            environments: list(&loaded.environments),
        })
    }

    /// What the metrics cache has done so far (reads no store).
    pub async fn metrics_cache_status(&self, _caller: &Caller) -> MetricsCacheStatus {
        self.metrics_cache.status().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: &str, to: &str) -> MetricsParams {
        MetricsParams { from: Some(from.into()), to: Some(to.into()), ..MetricsParams::default() }
    }

    #[test]
    fn dates_and_times_parse_and_bad_ones_are_named() {
        // Given a date, an RFC 3339 time, and blank values
        let query = parse_metrics_query(&params("2026-01-01", "2026-02-01T12:00:00Z")).unwrap();
        // Then a date is UTC midnight and blank values are absent
        assert_eq!(query.from_ms, Some(1_767_225_600_000));
        assert_eq!(query.to_ms, Some(1_767_225_600_000 + 31 * DAY_MS + 12 * 3_600_000));
        let blank = parse_metrics_query(&params(" ", "")).unwrap();
        assert_eq!(blank, MetricsQuery::default());

        // When the input is bad, every bad field is named
        let cases = [
            (params("2026-13-01", "2026-02-01"), "from"),
            (params("2026-02-01", "yesterday"), "to"),
            (params("2026-02-01", "2026-02-01"), "to"),
            (params("2026-03-01", "2026-02-01"), "to"),
            (params("1969-12-31", "2026-02-01"), "from"),
            (params("2000-01-01", "2030-01-01"), "to"),
            (MetricsParams { service: Some("Not A Name".into()), ..MetricsParams::default() }, "service"),
        ];
        for (params, field) in cases {
            let error = parse_metrics_query(&params).unwrap_err();
            assert_eq!(error.fields().iter().map(|error| error.field.as_str()).collect::<Vec<_>>(), vec![field]);
        }
    }
}
