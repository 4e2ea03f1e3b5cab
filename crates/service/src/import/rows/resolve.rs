//! Resolving incident rows: each `caused_by` to a change of this import or of the store, and each
//! service to one the import or the store knows.
//!
//! Why a room of its own: resolution is the one step that needs what the store holds (given as
//! [`StoredReferences`]), and it runs after both files are read.

use std::collections::{HashMap, HashSet};

use changegate_core::{ChangeId, Name};

use super::{ImportFile, IncidentRow, ParsedChanges, ParsedIncidents, ProblemKind, Problems, RowProblem, quoted};

/// The change an incident row names as its cause, once resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A change of this import's `changes.csv`, by its external id (its Changegate id is known
    /// once it is written, or was imported before).
    InFile(String),
    /// A change already in the store.
    Stored(ChangeId),
}

/// An incident row whose references all resolve.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedIncident {
    pub row: IncidentRow,
    pub cause: Option<Cause>,
}

/// What the store already holds, as far as incident rows refer to it.
#[derive(Clone, Debug, Default)]
pub struct StoredReferences {
    pub services: HashSet<Name>,
    /// Changes imported earlier, by external id.
    pub changes_by_external_id: HashMap<String, ChangeId>,
    /// Changegate ids named by `caused_by` that exist.
    pub change_ids: HashSet<ChangeId>,
}

/// The `caused_by` values that are not ids of `changes.csv`, each once: they are looked up in
/// the store, as external ids of earlier imports and as Changegate ids.
pub fn references_to_look_up(incidents: &ParsedIncidents, changes: &ParsedChanges) -> Vec<String> {
    let in_file: HashSet<&str> = changes.rows.iter().map(|row| row.change.external_id.as_str()).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    incidents
        .rows
        .iter()
        .filter_map(|row| row.caused_by.as_deref())
        .filter(|reference| !in_file.contains(reference) && !changes.bad_ids.contains_key(*reference))
        .filter(|reference| seen.insert(reference))
        .map(str::to_owned)
        .collect()
}

/// Checks each incident's service and `caused_by` against the changes of this import and what
/// the store holds. A `caused_by` is first an id of `changes.csv`, then the id of a change
/// imported earlier, then a Changegate id (`CHG-000123`); a service must be one of this
/// import's good change rows or already registered.
pub fn resolve_incidents(
    incidents: ParsedIncidents,
    changes: &ParsedChanges,
    stored: &StoredReferences,
) -> (Vec<ResolvedIncident>, Problems) {
    let in_file: HashSet<&str> = changes.rows.iter().map(|row| row.change.external_id.as_str()).collect();
    let services_in_file: HashSet<&Name> = changes.rows.iter().map(|row| &row.change.service).collect();
    let mut problems = incidents.problems;
    let mut resolved = Vec::with_capacity(incidents.rows.len());
    for row in incidents.rows {
        let mut row_problems = Vec::new();
        let problem = |column: &str, reason: String| RowProblem {
            file: ImportFile::Incidents,
            line: row.line,
            column: Some(column.to_owned()),
            kind: ProblemKind::UnknownReference,
            reason,
        };
        if !services_in_file.contains(&row.service) && !stored.services.contains(&row.service) {
            row_problems.push(problem(
                "service",
                format!(
                    "no service named {} in changes.csv or in Changegate; an incident's service must be known",
                    row.service
                ),
            ));
        }
        let cause = match row.caused_by.as_deref() {
            None => None,
            Some(reference) if in_file.contains(reference) => Some(Cause::InFile(reference.to_owned())),
            Some(reference) if changes.bad_ids.contains_key(reference) => {
                row_problems.push(problem(
                    "caused_by",
                    format!(
                        "the change `{}` is on line {} of changes.csv, which is bad",
                        quoted(reference),
                        changes.bad_ids[reference]
                    ),
                ));
                None
            }
            Some(reference) => match stored.changes_by_external_id.get(reference) {
                Some(id) => Some(Cause::Stored(*id)),
                None => match reference.parse::<ChangeId>() {
                    Ok(id) if stored.change_ids.contains(&id) => Some(Cause::Stored(id)),
                    _ => {
                        row_problems.push(problem(
                            "caused_by",
                            format!(
                                "no change `{}` in changes.csv, in earlier imports or in Changegate",
                                quoted(reference)
                            ),
                        ));
                        None
                    }
                },
            },
        };
        if row_problems.is_empty() {
            resolved.push(ResolvedIncident { row, cause });
        } else {
            problems.add_row(row_problems);
        }
    }
    (resolved, problems)
}
