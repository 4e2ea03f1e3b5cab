//! History import: another system's changes and incidents become ordinary Changegate events.
//!
//! Why it exists: an organisation's metrics, risk model and maturity need its past, not only
//! what happened since Changegate was installed. Each row becomes one `change_imported` or
//! `incident_imported` event carrying the original times, so metrics, the ledger, risk training
//! and the maturity assessment treat it like live data.
//!
//! The flow: read and check every row of both files first (`rows.rs`, pure), check incidents'
//! references against the store, and only then write, in transactions of
//! [`IMPORT_ROWS_PER_TRANSACTION`] rows. One bad row stops the import before anything is
//! written unless `skip_bad` is set. A row whose id was imported before is skipped, so importing
//! the same file twice creates nothing the second time. `docs/import.md` is the user's guide.

mod rows;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use changegate_core::{ChangeId, DomainEvent, ImportedChange, ImportedIncident, Name, StreamId, Tier, Timestamp};
use changegate_store::{KeyedTable, WriteTx};
use serde::Serialize;

pub use rows::{
    Cause, ChangeRow, DOWNTIME_MINUTES_MAX, EXTERNAL_ID_LENGTH_MAX, IMPORT_ROWS_MAX, ImportFile, IncidentRow,
    PROBLEMS_LISTED_MAX, ParsedChanges, ParsedIncidents, ProblemKind, Problems, ROOT_CAUSE_LENGTH_MAX,
    ResolvedIncident, RowProblem, StoredReferences, change_columns, incident_columns, parse_changes, parse_incidents,
    references_to_look_up, resolve_incidents,
};

use crate::Permission;
use crate::{Caller, Service, ServiceError};

/// Rows written per transaction: large enough that a commit's fsync is shared by many rows,
/// small enough that other writers wait only a moment behind the import.
pub const IMPORT_ROWS_PER_TRANSACTION: usize = 2_000;
/// Most rows one transaction may be given (the option is clamped to it).
pub const IMPORT_ROWS_PER_TRANSACTION_MAX: usize = 20_000;
/// The tier of a service the import registers: 3, neither critical nor negligible, until an
/// admin says otherwise.
pub const IMPORTED_SERVICE_TIER: u8 = 3;
/// Most names of new teams or services a report lists (all are counted).
pub const CREATED_NAMES_LISTED_MAX: usize = 1_000;
/// The actor recorded for an import run from the command line on the store itself.
pub const LOCAL_IMPORT_ACTOR: &str = "system";

/// The CSV texts to import. At least one must be given.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportInput<'a> {
    pub changes_csv: Option<&'a [u8]>,
    pub incidents_csv: Option<&'a [u8]>,
}

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Import the good rows even when some are bad (the bad ones are reported, not written).
    pub skip_bad: bool,
    /// Rows per write transaction (1 to [`IMPORT_ROWS_PER_TRANSACTION_MAX`]).
    pub rows_per_transaction: usize,
    /// The tier of services the import registers.
    pub new_service_tier: Tier,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            skip_bad: false,
            rows_per_transaction: IMPORT_ROWS_PER_TRANSACTION,
            new_service_tier: Tier::new(i64::from(IMPORTED_SERVICE_TIER)).expect("a valid tier"),
        }
    }
}

/// Where an import is, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportProgress {
    pub phase: ImportPhase,
    /// Rows done in this phase, of `rows_total`.
    pub rows_done: u64,
    pub rows_total: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportPhase {
    /// Reading and checking the files (nothing written yet).
    Checking,
    /// Writing the good rows.
    Writing,
}

/// What an import did (or, when `rejected`, would have had to refuse).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Bad rows stopped the import: nothing was written.
    pub rejected: bool,
    pub skip_bad: bool,
    /// Data rows read from changes.csv and incidents.csv (good and bad).
    pub change_rows: u64,
    pub incident_rows: u64,
    pub changes_created: u64,
    pub incidents_created: u64,
    /// Good rows whose id an earlier import already brought in (nothing written for them).
    pub skipped_existing: u64,
    /// Rows with at least one problem.
    pub bad_rows: u64,
    /// Problems found (a row may have several); the first [`PROBLEMS_LISTED_MAX`] are listed.
    pub problems_total: u64,
    pub problems: Vec<RowProblem>,
    pub teams_created: u64,
    pub services_created: u64,
    /// Names of the new teams and services (at most [`CREATED_NAMES_LISTED_MAX`] each).
    pub new_teams: Vec<Name>,
    pub new_services: Vec<Name>,
    /// Ledger events appended: changes, incidents, teams and services created.
    pub events_appended: u64,
    pub transactions: u64,
    /// Wall time from the first byte read to the last commit.
    pub elapsed_ms: u64,
    /// Data rows (both files) per second of `elapsed_ms`.
    pub rows_per_second: f64,
}

impl ImportReport {
    pub fn rows_read(&self) -> u64 {
        self.change_rows + self.incident_rows
    }

    /// One sentence on why the import was refused.
    pub fn refusal(&self) -> String {
        let first = self.problems.first().map(|problem| format!(" (first: {problem})")).unwrap_or_default();
        if self.skip_bad || self.bad_rows == 0 {
            return format!("the files cannot be imported{first}; nothing was imported");
        }
        let rows = if self.bad_rows == 1 { "1 bad row".to_owned() } else { format!("{} bad rows", self.bad_rows) };
        format!("{rows}{first}; nothing was imported: fix them, or import the good rows with skip_bad (--skip-bad)")
    }
}

/// The files read and checked, ready to write.
struct Checked {
    changes: Vec<ChangeRow>,
    incidents: Vec<ResolvedIncident>,
    report: ImportReport,
}

impl Service {
    /// Imports history as `caller`, who must be an admin (a refusal is recorded in the ledger).
    /// Bad rows give [`ServiceError::BadRows`] with nothing written, unless `options.skip_bad`.
    pub async fn import_history(
        &self,
        caller: &Caller,
        input: ImportInput<'_>,
        options: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportReport, ServiceError> {
        if !caller.may(Permission::ImportHistory) {
            let reason = format!("importing history needs {}", Permission::ImportHistory.roles_text());
            return Err(self.refuse(caller, "import_history", "import", reason).await);
        }
        self.import_as(caller.name().as_str(), input, options, progress).await
    }

    /// Imports history from the command line on the store itself (`changegate import`), which
    /// has the database in hand and so acts as the system, like `changegate user add`.
    pub async fn import_history_locally(
        &self,
        input: ImportInput<'_>,
        options: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportReport, ServiceError> {
        self.import_as(LOCAL_IMPORT_ACTOR, input, options, progress).await
    }

    async fn import_as(
        &self,
        actor: &str,
        input: ImportInput<'_>,
        options: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportReport, ServiceError> {
        let started = Instant::now();
        if input.changes_csv.is_none() && input.incidents_csv.is_none() {
            return Err(ServiceError::invalid("changes_csv", "give changes.csv, incidents.csv or both"));
        }
        let mut checked = self.check(input, options, progress).await?;
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "import files checked");
        if checked.report.rejected {
            checked.report.elapsed_ms = started.elapsed().as_millis() as u64;
            return Err(ServiceError::BadRows(Box::new(checked.report)));
        }
        let Checked { changes, incidents, mut report } = checked;
        let rows_per_transaction = options.rows_per_transaction.clamp(1, IMPORT_ROWS_PER_TRANSACTION_MAX);
        let rows_total = (changes.len() + incidents.len()) as u64;
        let mut writer = Writer {
            actor,
            tier: options.new_service_tier,
            known_teams: HashSet::new(),
            known_services: HashSet::new(),
            change_ids: HashMap::new(),
        };
        let mut rows_done = 0u64;
        progress(ImportProgress { phase: ImportPhase::Writing, rows_done, rows_total });
        for chunk in changes.chunks(rows_per_transaction) {
            let time = self.now();
            let written = self
                .store()
                .write(async |tx: &mut WriteTx| -> Result<Written, ServiceError> {
                    writer.changes(tx, chunk, time).await
                })
                .await?;
            writer.absorb(&written, &mut report);
            rows_done += chunk.len() as u64;
            progress(ImportProgress { phase: ImportPhase::Writing, rows_done, rows_total });
        }
        for chunk in incidents.chunks(rows_per_transaction) {
            let time = self.now();
            let written = self
                .store()
                .write(async |tx: &mut WriteTx| -> Result<Written, ServiceError> {
                    writer.incidents(tx, chunk, time).await
                })
                .await?;
            writer.absorb(&written, &mut report);
            rows_done += chunk.len() as u64;
            progress(ImportProgress { phase: ImportPhase::Writing, rows_done, rows_total });
        }
        let elapsed = started.elapsed();
        report.elapsed_ms = elapsed.as_millis() as u64;
        report.rows_per_second = report.rows_read() as f64 / elapsed.as_secs_f64().max(1e-9);
        tracing::info!(
            actor,
            changes = report.changes_created,
            incidents = report.incidents_created,
            skipped_existing = report.skipped_existing,
            bad_rows = report.bad_rows,
            elapsed_ms = report.elapsed_ms,
            "history imported"
        );
        Ok(report)
    }

    /// Reads and checks both files, and the incidents' references against the store. Writes
    /// nothing.
    async fn check(
        &self,
        input: ImportInput<'_>,
        options: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<Checked, ServiceError> {
        let changes = input.changes_csv.map(parse_changes).unwrap_or_default();
        progress(ImportProgress { phase: ImportPhase::Checking, rows_done: changes.rows_read, rows_total: 0 });
        let incidents = input.incidents_csv.map(parse_incidents).unwrap_or_default();
        let (change_rows, incident_rows) = (changes.rows_read, incidents.rows_read);
        progress(ImportProgress {
            phase: ImportPhase::Checking,
            rows_done: change_rows + incident_rows,
            rows_total: change_rows + incident_rows,
        });
        let stored = if incidents.rows.is_empty() {
            StoredReferences::default()
        } else {
            self.stored_references(&incidents, &changes).await?
        };
        let mut problems = changes.problems.clone();
        let (resolved, incident_problems) = resolve_incidents(incidents, &changes, &stored);
        problems.merge(incident_problems);
        problems.listed.sort_by_key(|problem| (problem.file, problem.line));
        let rejected = problems.fatal || (!problems.is_empty() && !options.skip_bad);
        let report = ImportReport {
            rejected,
            skip_bad: options.skip_bad,
            change_rows,
            incident_rows,
            bad_rows: problems.bad_rows,
            problems_total: problems.total,
            problems: problems.listed,
            ..ImportReport::default()
        };
        Ok(Checked { changes: changes.rows, incidents: resolved, report })
    }

    /// The services and changes in the store that incident rows name.
    async fn stored_references(
        &self,
        incidents: &ParsedIncidents,
        changes: &ParsedChanges,
    ) -> Result<StoredReferences, ServiceError> {
        let external_ids = references_to_look_up(incidents, changes);
        let external: Vec<&str> = external_ids.iter().map(String::as_str).collect();
        let changes_by_external_id = self.store().change_ids_by_external_ids(&external).await?;
        let mut change_ids = HashSet::new();
        for reference in &external_ids {
            if changes_by_external_id.contains_key(reference) {
                continue;
            }
            if let Ok(id) = reference.parse::<ChangeId>()
                && self.store().change(id).await?.is_some()
            {
                change_ids.insert(id);
            }
        }
        let services = self.store().services().await?.into_iter().map(|service| service.name).collect();
        Ok(StoredReferences { services, changes_by_external_id, change_ids })
    }
}

/// What one transaction wrote.
#[derive(Default)]
struct Written {
    changes_created: u64,
    incidents_created: u64,
    skipped_existing: u64,
    events_appended: u64,
    new_teams: Vec<Name>,
    new_services: Vec<Name>,
    /// Changegate ids of this chunk's changes, new or imported before, by external id.
    change_ids: Vec<(String, ChangeId)>,
}

/// The state an import carries from one transaction to the next. It changes only after a
/// transaction committed (`absorb`), so a failed transaction leaves it as it was.
struct Writer<'a> {
    actor: &'a str,
    tier: Tier,
    /// Teams and services known to exist (no need to look again).
    known_teams: HashSet<Name>,
    known_services: HashSet<Name>,
    /// Changegate ids of the changes of `changes.csv`, by external id (for `caused_by`).
    change_ids: HashMap<String, ChangeId>,
}

impl Writer<'_> {
    /// Takes in what a committed transaction wrote.
    fn absorb(&mut self, written: &Written, report: &mut ImportReport) {
        report.changes_created += written.changes_created;
        report.incidents_created += written.incidents_created;
        report.skipped_existing += written.skipped_existing;
        report.events_appended += written.events_appended;
        report.transactions += 1;
        report.teams_created += written.new_teams.len() as u64;
        report.services_created += written.new_services.len() as u64;
        for team in &written.new_teams {
            if report.new_teams.len() < CREATED_NAMES_LISTED_MAX {
                report.new_teams.push(team.clone());
            }
            self.known_teams.insert(team.clone());
        }
        for service in &written.new_services {
            if report.new_services.len() < CREATED_NAMES_LISTED_MAX {
                report.new_services.push(service.clone());
            }
            self.known_services.insert(service.clone());
        }
        self.change_ids.extend(written.change_ids.iter().cloned());
    }

    /// Makes sure `team` exists, creating it in this transaction when new.
    async fn team(
        &self,
        tx: &mut WriteTx,
        team: &Name,
        time: Timestamp,
        written: &mut Written,
    ) -> Result<(), ServiceError> {
        if self.known_teams.contains(team) || written.new_teams.contains(team) {
            return Ok(());
        }
        if !tx.exists(KeyedTable::Teams, team).await? {
            let event = DomainEvent::TeamCreated { name: team.clone(), description: String::new() };
            tx.append(&StreamId::Team(team.clone()), self.actor, time, &event).await?;
            written.events_appended += 1;
            written.new_teams.push(team.clone());
        }
        Ok(())
    }

    /// Makes sure `service` exists, registering it (owned by `team`) when new.
    async fn service(
        &self,
        tx: &mut WriteTx,
        change: &ImportedChange,
        time: Timestamp,
        written: &mut Written,
    ) -> Result<(), ServiceError> {
        let service = &change.service;
        if self.known_services.contains(service) || written.new_services.contains(service) {
            return Ok(());
        }
        if !tx.exists(KeyedTable::Services, service).await? {
            self.team(tx, &change.team, time, written).await?;
            let event = DomainEvent::ServiceRegistered {
                name: service.clone(),
                team: change.team.clone(),
                tier: self.tier,
                scopes: Vec::new(),
                depends_on: Vec::new(),
            };
            tx.append(&StreamId::Service(service.clone()), self.actor, time, &event).await?;
            written.events_appended += 1;
            written.new_services.push(service.clone());
        }
        Ok(())
    }

    async fn changes(&self, tx: &mut WriteTx, rows: &[ChangeRow], time: Timestamp) -> Result<Written, ServiceError> {
        let mut written = Written::default();
        let external_ids: Vec<&str> = rows.iter().map(|row| row.change.external_id.as_str()).collect();
        let existing = tx.change_ids_by_external_ids(&external_ids).await?;
        for row in rows {
            let change = &row.change;
            if let Some(id) = existing.get(&change.external_id) {
                written.skipped_existing += 1;
                written.change_ids.push((change.external_id.clone(), *id));
                continue;
            }
            self.team(tx, &change.team, time, &mut written).await?;
            self.service(tx, change, time, &mut written).await?;
            let id = tx.next_change_id().await?;
            let event = DomainEvent::ChangeImported { id, change: change.clone() };
            tx.append(&StreamId::Change(id), self.actor, time, &event).await?;
            written.events_appended += 1;
            written.changes_created += 1;
            written.change_ids.push((change.external_id.clone(), id));
        }
        Ok(written)
    }

    async fn incidents(
        &self,
        tx: &mut WriteTx,
        rows: &[ResolvedIncident],
        time: Timestamp,
    ) -> Result<Written, ServiceError> {
        let mut written = Written::default();
        let external_ids: Vec<&str> = rows.iter().map(|resolved| resolved.row.external_id.as_str()).collect();
        let existing = tx.incident_ids_by_external_ids(&external_ids).await?;
        for ResolvedIncident { row, cause } in rows {
            if existing.contains_key(&row.external_id) {
                written.skipped_existing += 1;
                continue;
            }
            let caused_by = match cause {
                None => None,
                Some(Cause::Stored(id)) => Some(*id),
                Some(Cause::InFile(external_id)) => Some(*self.change_ids.get(external_id).ok_or_else(|| {
                    ServiceError::Internal(format!(
                        "incidents.csv line {}: the change {external_id} was not written",
                        row.line
                    ))
                })?),
            };
            let id = tx.next_incident_id().await?;
            let incident = ImportedIncident {
                external_id: row.external_id.clone(),
                service: row.service.clone(),
                severity: row.severity,
                detected_at: row.detected_at,
                resolved_at: row.resolved_at,
                downtime_minutes: row.downtime_minutes,
                caused_by,
            };
            tx.append(&StreamId::Incident(id), self.actor, time, &DomainEvent::IncidentImported { id, incident })
                .await?;
            written.events_appended += 1;
            written.incidents_created += 1;
        }
        Ok(written)
    }
}
