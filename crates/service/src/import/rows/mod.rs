//! Reading and checking the history-import CSV files, with no I/O and no store: bytes in, typed
//! rows and row problems out.
//!
//! Kept apart from the writing (`import.rs`) so that every rule a row must pass can be tested on
//! its own, and so that the whole input is checked before anything is written: by default one
//! bad row stops the import. The rules are listed in `docs/import.md`; each problem names the
//! file, the line (1-based, the header is line 1), the column and the reason, with a stable kind.
//!
//! The problem report is in `problems`; resolving incidents' references (to changes and services
//! of this import or of the store) is in `resolve`.

use std::collections::HashMap;

use changegate_core::{
    ApprovalMode, ChangeType, CreatedBy, ImportedChange, ImportedOutcome, LIST_LENGTH_MAX, NAME_LENGTH_MAX, Name,
    RiskClass, Severity, TEXT_LENGTH_MAX, TITLE_LENGTH_MAX, Timestamp,
};

mod problems;
mod resolve;

pub use problems::{ImportFile, ProblemKind, Problems, RowProblem};
pub use resolve::{Cause, ResolvedIncident, StoredReferences, references_to_look_up, resolve_incidents};

/// Most data rows one file may have; a larger history is imported in several files.
pub const IMPORT_ROWS_MAX: u64 = 2_000_000;
/// Longest id from the source system (changes, incidents and `caused_by`).
pub const EXTERNAL_ID_LENGTH_MAX: usize = 128;
/// Longest root cause.
pub const ROOT_CAUSE_LENGTH_MAX: usize = TEXT_LENGTH_MAX;
/// Most downtime one incident may record: a leap year, in minutes.
pub const DOWNTIME_MINUTES_MAX: u32 = 366 * 24 * 60;
/// Most problems a report lists (all are counted).
pub const PROBLEMS_LISTED_MAX: usize = 1_000;
/// Longest piece of a cell quoted back in a problem's reason.
const QUOTED_CELL_LENGTH_MAX: usize = 60;

/// A column of one of the two files.
trait Column: Copy + 'static {
    const ALL: &'static [Self];
    const FILE: ImportFile;
    fn name(self) -> &'static str;
    fn required(self) -> bool;
    fn index(self) -> usize;
}

/// Defines a file's columns: their header names and which are required.
macro_rules! columns {
    ($type_name:ident, $file:expr, { $($variant:ident => $text:literal, $required:literal),+ $(,)? }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum $type_name { $($variant),+ }

        impl Column for $type_name {
            const ALL: &'static [Self] = &[$($type_name::$variant),+];
            const FILE: ImportFile = $file;

            fn name(self) -> &'static str {
                match self { $($type_name::$variant => $text),+ }
            }

            fn required(self) -> bool {
                match self { $($type_name::$variant => $required),+ }
            }

            fn index(self) -> usize {
                self as usize
            }
        }
    };
}

columns!(ChangeColumn, ImportFile::Changes, {
    Id => "id", true,
    Title => "title", true,
    Type => "type", true,
    Service => "service", true,
    Team => "team", true,
    Environment => "environment", true,
    Requester => "requester", true,
    CreatedAt => "created_at", true,
    SubmittedAt => "submitted_at", false,
    RiskClass => "risk_class", false,
    RiskScore => "risk_score", false,
    ApprovedAt => "approved_at", false,
    Approvers => "approvers", false,
    ApprovalMode => "approval_mode", false,
    StartedAt => "started_at", false,
    CompletedAt => "completed_at", false,
    Outcome => "outcome", false,
    RollbackPlan => "rollback_plan", false,
    TestEvidence => "test_evidence", false,
    SecurityEvidence => "security_evidence", false,
    CreatedBy => "created_by", false,
    PirDone => "pir_done", false,
    RootCause => "root_cause", false,
    RollbackAutomated => "rollback_automated", false,
    CommitTime => "commit_time", false,
});

columns!(IncidentColumn, ImportFile::Incidents, {
    Id => "id", true,
    Service => "service", true,
    Severity => "severity", true,
    DetectedAt => "detected_at", true,
    ResolvedAt => "resolved_at", false,
    DowntimeMinutes => "downtime_minutes", false,
    CausedBy => "caused_by", false,
});

/// The columns of `changes.csv`, required ones first, in the documented order.
pub fn change_columns() -> Vec<&'static str> {
    ChangeColumn::ALL.iter().map(|column| column.name()).collect()
}

/// The columns of `incidents.csv`.
pub fn incident_columns() -> Vec<&'static str> {
    IncidentColumn::ALL.iter().map(|column| column.name()).collect()
}

/// A change row that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRow {
    pub line: u64,
    pub change: ImportedChange,
}

/// An incident row that passed the checks of its own file (`caused_by` still unresolved).
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentRow {
    pub line: u64,
    pub external_id: String,
    pub service: Name,
    pub severity: Severity,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub downtime_minutes: Option<u32>,
    /// A change id of `changes.csv` or of an earlier import, or a Changegate id `CHG-000123`.
    pub caused_by: Option<String>,
}

/// What reading `changes.csv` gave.
#[derive(Clone, Debug, Default)]
pub struct ParsedChanges {
    pub rows: Vec<ChangeRow>,
    /// Data rows read, good and bad.
    pub rows_read: u64,
    pub problems: Problems,
    /// Ids of the bad rows and their lines: an incident caused by one of them is bad too.
    pub bad_ids: HashMap<String, u64>,
}

/// What reading `incidents.csv` gave.
#[derive(Clone, Debug, Default)]
pub struct ParsedIncidents {
    pub rows: Vec<IncidentRow>,
    pub rows_read: u64,
    pub problems: Problems,
}

/// Where the header put each column (`None`: the column is absent, so every value is unknown).
struct Header<C: Column> {
    positions: Vec<Option<usize>>,
    width: usize,
    _column: std::marker::PhantomData<C>,
}

/// Reads and checks the header row; `Err` holds the problems that make the file unusable.
fn read_header<C: Column>(record: &csv::StringRecord) -> Result<Header<C>, Vec<RowProblem>> {
    let mut positions: Vec<Option<usize>> = vec![None; C::ALL.len()];
    let mut problems = Vec::new();
    let problem = |column: &str, kind, reason: String| RowProblem {
        file: C::FILE,
        line: 1,
        column: Some(column.to_owned()),
        kind,
        reason,
    };
    for (position, cell) in record.iter().enumerate() {
        // Header names are matched without regard to case, as spreadsheets like to capitalise.
        let name = cell.trim().to_ascii_lowercase();
        match C::ALL.iter().find(|column| column.name() == name) {
            Some(column) if positions[column.index()].is_some() => {
                problems.push(problem(&name, ProblemKind::DuplicateColumn, format!("the header names `{name}` twice")))
            }
            Some(column) => positions[column.index()] = Some(position),
            None => problems.push(problem(
                &quoted(cell),
                ProblemKind::UnknownColumn,
                format!(
                    "unknown column `{}`; {} has the columns {}",
                    quoted(cell),
                    C::FILE,
                    C::ALL.iter().map(|column| column.name()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
    for column in C::ALL {
        if column.required() && positions[column.index()].is_none() {
            problems.push(problem(
                column.name(),
                ProblemKind::MissingColumn,
                format!("the required column `{}` is not in the header", column.name()),
            ));
        }
    }
    if problems.is_empty() {
        Ok(Header { positions, width: record.len(), _column: std::marker::PhantomData })
    } else {
        Err(problems)
    }
}

/// `text`, cut to a length fit to quote back in a reason.
fn quoted(text: &str) -> String {
    if text.chars().count() <= QUOTED_CELL_LENGTH_MAX {
        text.to_owned()
    } else {
        text.chars().take(QUOTED_CELL_LENGTH_MAX - 1).chain(std::iter::once('…')).collect()
    }
}

/// One data row being read: typed cells, and the problems found in it.
struct Cells<'r, C: Column> {
    record: &'r csv::StringRecord,
    header: &'r Header<C>,
    line: u64,
    problems: Vec<RowProblem>,
}

impl<'r, C: Column> Cells<'r, C> {
    /// The cell's text; `None` when the column is absent or the cell empty (unknown).
    fn cell(&self, column: C) -> Option<&'r str> {
        let position = self.header.positions[column.index()]?;
        self.record.get(position).filter(|text| !text.is_empty())
    }

    fn problem(&mut self, column: C, kind: ProblemKind, reason: impl Into<String>) {
        self.problems.push(RowProblem {
            file: C::FILE,
            line: self.line,
            column: Some(column.name().to_owned()),
            kind,
            reason: reason.into(),
        });
    }

    /// The cell, or a `missing_value` problem when the column is required and the cell empty.
    fn value(&mut self, column: C) -> Option<&'r str> {
        let cell = self.cell(column);
        if cell.is_none() && column.required() {
            self.problem(column, ProblemKind::MissingValue, format!("`{}` is required", column.name()));
        }
        cell
    }

    /// Free text of at most `length_max` characters, without control characters other than
    /// newlines and tabs.
    fn text(&mut self, column: C, length_max: usize) -> Option<String> {
        let text = self.value(column)?;
        let length = text.chars().count();
        if length > length_max {
            self.problem(
                column,
                ProblemKind::TooLong,
                format!("{length} characters; at most {length_max} are allowed"),
            );
            return None;
        }
        if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
            self.problem(column, ProblemKind::BadText, "must not contain control characters");
            return None;
        }
        Some(text.to_owned())
    }

    /// An id from the source system: at most [`EXTERNAL_ID_LENGTH_MAX`] characters, one line.
    fn external_id(&mut self, column: C) -> Option<String> {
        let text = self.text(column, EXTERNAL_ID_LENGTH_MAX)?;
        if text.chars().any(char::is_control) {
            self.problem(column, ProblemKind::BadText, "an id is one line without control characters");
            return None;
        }
        Some(text)
    }

    fn name(&mut self, column: C) -> Option<Name> {
        let text = self.value(column)?;
        self.parse_name(column, text)
    }

    /// A name, lowercased first (`Payments-API` becomes `payments-api`).
    fn parse_name(&mut self, column: C, text: &str) -> Option<Name> {
        if text.chars().count() > NAME_LENGTH_MAX {
            self.problem(
                column,
                ProblemKind::TooLong,
                format!("the name `{}` is longer than {NAME_LENGTH_MAX} characters", quoted(text)),
            );
            return None;
        }
        match Name::parse(&text.to_ascii_lowercase()) {
            Ok(name) => Some(name),
            Err(_) => {
                self.problem(
                    column,
                    ProblemKind::BadName,
                    format!(
                        "`{}` is not a valid name: names are lowercase slugs of letters, digits, '-', '_' and '.', \
                         starting with a letter or digit (capitals are lowered on import)",
                        quoted(text)
                    ),
                );
                None
            }
        }
    }

    fn time(&mut self, column: C) -> Option<Timestamp> {
        let text = self.value(column)?;
        match Timestamp::parse_rfc3339(text) {
            Ok(time) => Some(time),
            Err(_) => {
                self.problem(
                    column,
                    ProblemKind::BadTime,
                    format!("`{}` is not an RFC 3339 time such as 2025-03-01T14:30:00Z", quoted(text)),
                );
                None
            }
        }
    }

    /// One of a closed set of words, matched without regard to case.
    fn word<T: std::str::FromStr<Err = String>>(&mut self, column: C, allowed: &str) -> Option<T> {
        let text = self.value(column)?;
        match text.to_ascii_lowercase().parse() {
            Ok(value) => Some(value),
            Err(_) => {
                self.problem(column, ProblemKind::BadValue, format!("`{}` is not one of: {allowed}", quoted(text)));
                None
            }
        }
    }

    fn flag(&mut self, column: C) -> Option<bool> {
        let text = self.value(column)?;
        match text.to_ascii_lowercase().as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                self.problem(column, ProblemKind::BadValue, format!("`{}` is not yes or no", quoted(text)));
                None
            }
        }
    }

    /// A whole number in `minimum..=maximum`.
    fn number(&mut self, column: C, minimum: i64, maximum: i64) -> Option<i64> {
        let text = self.value(column)?;
        match text.parse::<i64>() {
            Ok(number) if (minimum..=maximum).contains(&number) => Some(number),
            Ok(number) => {
                self.problem(column, ProblemKind::OutOfRange, format!("{number} is outside {minimum}–{maximum}"));
                None
            }
            Err(_) => {
                self.problem(
                    column,
                    ProblemKind::BadNumber,
                    format!("`{}` is not a whole number ({minimum}–{maximum})", quoted(text)),
                );
                None
            }
        }
    }

    /// `later` must not be before `earlier` (each with its column, when both are known).
    fn not_before(&mut self, later: (C, Option<Timestamp>), earlier: (C, Option<Timestamp>)) {
        if let ((later_column, Some(later_time)), (earlier_column, Some(earlier_time))) = (later, earlier)
            && later_time < earlier_time
        {
            self.problem(
                later_column,
                ProblemKind::Inconsistent,
                format!("{} {later_time} is before {} {earlier_time}", later_column.name(), earlier_column.name()),
            );
        }
    }
}

/// Reads CSV rows from `input`, checking the header and the shape of each row; `read_row` turns
/// a well-shaped row into a value or problems. Returns the good values and the problems.
fn read_file<C: Column, T>(
    input: &[u8],
    mut read_row: impl FnMut(&mut Cells<'_, C>) -> Option<T>,
) -> (Vec<T>, u64, Problems) {
    let mut problems = Problems::default();
    let fatal =
        |line: u64, kind: ProblemKind, reason: String| RowProblem { file: C::FILE, line, column: None, kind, reason };
    // A byte order mark, which spreadsheets write, is not part of the first column's name.
    let input = input.strip_prefix("\u{feff}".as_bytes()).unwrap_or(input);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(input);
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            problems.add_fatal(fatal(1, ProblemKind::EmptyFile, "the file is empty: it needs a header row".to_owned()));
            return (Vec::new(), 0, problems);
        }
        Some(Err(error)) => {
            problems.add_fatal(fatal(1, ProblemKind::UnreadableRow, format!("the header cannot be read: {error}")));
            return (Vec::new(), 0, problems);
        }
        Some(Ok(record)) => match read_header::<C>(&record) {
            Ok(header) => header,
            Err(header_problems) => {
                for problem in header_problems {
                    problems.add_fatal(problem);
                }
                return (Vec::new(), 0, problems);
            }
        },
    };
    let mut values = Vec::new();
    let mut rows_read = 0u64;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map(|position| position.line());
                rows_read += 1;
                match line {
                    // A row that is not UTF-8 is bad on its own; reading goes on after it.
                    Some(line) if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) => {
                        problems.add_row(vec![fatal(
                            line,
                            ProblemKind::UnreadableRow,
                            "the row is not valid UTF-8 text".to_owned(),
                        )]);
                        continue;
                    }
                    _ => {
                        let line = line.unwrap_or(rows_read + 1);
                        problems.add_fatal(fatal(line, ProblemKind::UnreadableRow, format!("unreadable CSV: {error}")));
                        break;
                    }
                }
            }
        };
        rows_read += 1;
        let line = record.position().map_or(rows_read + 1, csv::Position::line);
        if rows_read > IMPORT_ROWS_MAX {
            problems.add_fatal(fatal(
                line,
                ProblemKind::TooManyRows,
                format!("more than {IMPORT_ROWS_MAX} rows; split the history into several files"),
            ));
            break;
        }
        if record.len() != header.width {
            problems.add_row(vec![fatal(
                line,
                ProblemKind::WrongColumnCount,
                format!("the row has {} cells but the header has {} columns", record.len(), header.width),
            )]);
            continue;
        }
        let mut cells = Cells { record: &record, header: &header, line, problems: Vec::new() };
        let value = read_row(&mut cells);
        match value {
            Some(value) if cells.problems.is_empty() => values.push(value),
            _ => problems.add_row(cells.problems),
        }
    }
    (values, rows_read, problems)
}

/// Reads `changes.csv`: every row checked (columns, types, ranges, times in order, duplicate
/// ids), good rows kept, bad ones reported.
pub fn parse_changes(input: &[u8]) -> ParsedChanges {
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let mut bad_ids: HashMap<String, u64> = HashMap::new();
    let (rows, rows_read, problems) = read_file::<ChangeColumn, ChangeRow>(input, |cells| {
        let row = read_change(cells);
        let external_id = row.as_ref().map(|row| row.change.external_id.clone()).or_else(|| {
            // The id of a row that is bad for another reason still counts for duplicates and
            // for incidents that name it.
            cells.cell(ChangeColumn::Id).filter(|id| id.chars().count() <= EXTERNAL_ID_LENGTH_MAX).map(str::to_owned)
        });
        if let Some(external_id) = external_id {
            match first_line_of.get(&external_id) {
                Some(first) => {
                    let reason = format!("the id `{}` is already on line {first}", quoted(&external_id));
                    cells.problem(ChangeColumn::Id, ProblemKind::DuplicateId, reason);
                }
                None => {
                    first_line_of.insert(external_id.clone(), cells.line);
                }
            }
            if !cells.problems.is_empty() {
                bad_ids.entry(external_id).or_insert(cells.line);
            }
        }
        row
    });
    ParsedChanges { rows, rows_read, problems, bad_ids }
}

fn read_change(cells: &mut Cells<'_, ChangeColumn>) -> Option<ChangeRow> {
    use ChangeColumn as Column;
    let external_id = cells.external_id(Column::Id);
    let title = cells.text(Column::Title, TITLE_LENGTH_MAX);
    let change_type: Option<ChangeType> = cells.word(Column::Type, "standard, normal, emergency");
    let service = cells.name(Column::Service);
    let team = cells.name(Column::Team);
    let environment = cells.name(Column::Environment);
    let requester = cells.name(Column::Requester);
    let created_at = cells.time(Column::CreatedAt);
    let submitted_at = cells.time(Column::SubmittedAt);
    let risk_class: Option<RiskClass> = cells.word(Column::RiskClass, "low, medium, high, critical");
    let risk_score = cells.number(Column::RiskScore, 0, 100).map(|score| score as u32);
    let approved_at = cells.time(Column::ApprovedAt);
    let approvers = read_approvers(cells);
    let approval_mode: Option<ApprovalMode> = cells.word(Column::ApprovalMode, "auto, manual, none");
    let started_at = cells.time(Column::StartedAt);
    let completed_at = cells.time(Column::CompletedAt);
    let outcome: Option<ImportedOutcome> = cells.word(Column::Outcome, "success, failed, rolled_back, cancelled");
    let rollback_plan = cells.flag(Column::RollbackPlan);
    let test_evidence = cells.flag(Column::TestEvidence);
    let security_evidence = cells.flag(Column::SecurityEvidence);
    let created_by: Option<CreatedBy> = cells.word(Column::CreatedBy, "pipeline, manual");
    let pir_done = cells.flag(Column::PirDone);
    let root_cause = cells.text(Column::RootCause, ROOT_CAUSE_LENGTH_MAX);
    let rollback_automated = cells.flag(Column::RollbackAutomated);
    let commit_time = cells.time(Column::CommitTime);

    let emergency = change_type == Some(ChangeType::Emergency);
    cells.not_before((Column::SubmittedAt, submitted_at), (Column::CreatedAt, created_at));
    let approval_floor =
        submitted_at.map(|time| (Column::SubmittedAt, time)).or(created_at.map(|t| (Column::CreatedAt, t)));
    if let Some((column, time)) = approval_floor {
        cells.not_before((Column::ApprovedAt, approved_at), (column, Some(time)));
    }
    // An emergency change may be implemented first and recorded, submitted and approved later.
    if !emergency {
        let start_floor = approved_at
            .map(|time| (Column::ApprovedAt, time))
            .or(submitted_at.map(|time| (Column::SubmittedAt, time)))
            .or(created_at.map(|time| (Column::CreatedAt, time)));
        if let Some((column, time)) = start_floor {
            cells.not_before((Column::StartedAt, started_at), (column, Some(time)));
        }
    }
    cells.not_before((Column::CompletedAt, completed_at), (Column::StartedAt, started_at));
    cells.not_before((Column::CompletedAt, completed_at), (Column::CommitTime, commit_time));
    match outcome {
        Some(ImportedOutcome::Success) if completed_at.is_none() => cells.problem(
            Column::CompletedAt,
            ProblemKind::Inconsistent,
            "a successful change needs completed_at: when it was deployed",
        ),
        Some(ImportedOutcome::Failed | ImportedOutcome::RolledBack)
            if started_at.is_none() && completed_at.is_none() =>
        {
            cells.problem(
                Column::StartedAt,
                ProblemKind::Inconsistent,
                "a failed or rolled back change needs started_at or completed_at: when it was deployed",
            )
        }
        Some(ImportedOutcome::Cancelled) if completed_at.is_some() => cells.problem(
            Column::CompletedAt,
            ProblemKind::Inconsistent,
            "a cancelled change was not completed: leave completed_at empty",
        ),
        _ => {}
    }
    if rollback_automated == Some(true) && outcome.is_some_and(|outcome| outcome != ImportedOutcome::RolledBack) {
        cells.problem(
            Column::RollbackAutomated,
            ProblemKind::Inconsistent,
            "rollback_automated is yes but the outcome is not rolled_back",
        );
    }
    match approval_mode {
        Some(ApprovalMode::None) if !approvers.as_ref().is_none_or(Vec::is_empty) || approved_at.is_some() => cells
            .problem(
                Column::ApprovalMode,
                ProblemKind::Inconsistent,
                "approval_mode is none but approvers or approved_at are given",
            ),
        Some(ApprovalMode::Auto) if !approvers.as_ref().is_none_or(Vec::is_empty) => cells.problem(
            Column::ApprovalMode,
            ProblemKind::Inconsistent,
            "approval_mode is auto (approved by a rule) but approvers are given",
        ),
        _ => {}
    }
    Some(ChangeRow {
        line: cells.line,
        change: ImportedChange {
            external_id: external_id?,
            title: title?,
            change_type: change_type?,
            service: service?,
            team: team?,
            environment: environment?,
            requester: requester?,
            created_at: created_at?,
            submitted_at,
            risk_class,
            risk_score,
            approved_at,
            approvers: approvers?,
            approval_mode,
            started_at,
            completed_at,
            outcome,
            rollback_plan,
            test_evidence,
            security_evidence,
            created_by,
            pir_done,
            root_cause,
            rollback_automated,
            commit_time,
        },
    })
}

/// `alice; bob` → `[alice, bob]`: names separated by `;`, blanks ignored, repeats dropped.
/// `None` when one is bad.
fn read_approvers(cells: &mut Cells<'_, ChangeColumn>) -> Option<Vec<Name>> {
    let Some(text) = cells.value(ChangeColumn::Approvers) else { return Some(Vec::new()) };
    let parts: Vec<&str> = text.split(';').map(str::trim).filter(|part| !part.is_empty()).collect();
    if parts.len() > LIST_LENGTH_MAX {
        cells.problem(
            ChangeColumn::Approvers,
            ProblemKind::TooLong,
            format!("{} approvers; at most {LIST_LENGTH_MAX} are allowed", parts.len()),
        );
        return None;
    }
    let mut approvers: Vec<Name> = Vec::with_capacity(parts.len());
    let mut all_good = true;
    for part in parts {
        match cells.parse_name(ChangeColumn::Approvers, part) {
            Some(name) if !approvers.contains(&name) => approvers.push(name),
            Some(_) => {}
            None => all_good = false,
        }
    }
    all_good.then_some(approvers)
}

/// Reads `incidents.csv`: every row checked on its own; `caused_by` and the service are checked
/// against the changes and the store afterwards ([`resolve_incidents`]).
pub fn parse_incidents(input: &[u8]) -> ParsedIncidents {
    let mut first_line_of: HashMap<String, u64> = HashMap::new();
    let (rows, rows_read, problems) = read_file::<IncidentColumn, IncidentRow>(input, |cells| {
        let row = read_incident(cells);
        if let Some(external_id) = cells.cell(IncidentColumn::Id) {
            match first_line_of.get(external_id) {
                Some(first) => {
                    let reason = format!("the id `{}` is already on line {first}", quoted(external_id));
                    cells.problem(IncidentColumn::Id, ProblemKind::DuplicateId, reason);
                }
                None => {
                    first_line_of.insert(external_id.to_owned(), cells.line);
                }
            }
        }
        row
    });
    ParsedIncidents { rows, rows_read, problems }
}

fn read_incident(cells: &mut Cells<'_, IncidentColumn>) -> Option<IncidentRow> {
    use IncidentColumn as Column;
    let external_id = cells.external_id(Column::Id);
    let service = cells.name(Column::Service);
    let severity = read_severity(cells);
    let detected_at = cells.time(Column::DetectedAt);
    let resolved_at = cells.time(Column::ResolvedAt);
    let downtime_minutes =
        cells.number(Column::DowntimeMinutes, 0, i64::from(DOWNTIME_MINUTES_MAX)).map(|minutes| minutes as u32);
    let caused_by = cells.external_id(Column::CausedBy);
    cells.not_before((Column::ResolvedAt, resolved_at), (Column::DetectedAt, detected_at));
    Some(IncidentRow {
        line: cells.line,
        external_id: external_id?,
        service: service?,
        severity: severity?,
        detected_at: detected_at?,
        resolved_at,
        downtime_minutes,
        caused_by,
    })
}

/// `1`–`4` (1 is the worst); `sev1`–`sev4` are accepted too.
fn read_severity(cells: &mut Cells<'_, IncidentColumn>) -> Option<Severity> {
    let text = cells.value(IncidentColumn::Severity)?;
    let lowered = text.to_ascii_lowercase();
    let digits = lowered.strip_prefix("sev").unwrap_or(&lowered);
    match digits.parse::<i64>() {
        Ok(level) => match Severity::from_level(level) {
            Ok(severity) => Some(severity),
            Err(_) => {
                cells.problem(
                    IncidentColumn::Severity,
                    ProblemKind::OutOfRange,
                    format!("severity {level} is outside 1–4 (1 is the worst)"),
                );
                None
            }
        },
        Err(_) => {
            cells.problem(
                IncidentColumn::Severity,
                ProblemKind::BadNumber,
                format!("`{}` is not a severity: 1, 2, 3 or 4 (1 is the worst)", quoted(text)),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,title,type,service,team,environment,requester,created_at";

    #[test]
    fn a_minimal_row_has_everything_else_unknown() {
        // Given the required columns only
        let input =
            format!("{HEADER}\nX-1,Upgrade,Normal,Payments-API,payments,production,alice,2025-01-02T10:00:00Z\n");
        // When it is read
        let parsed = parse_changes(input.as_bytes());
        // Then names and words are lowered, and everything else is unknown
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let change = &parsed.rows[0].change;
        assert_eq!(change.service.as_str(), "payments-api");
        assert_eq!(change.change_type, ChangeType::Normal);
        assert_eq!((change.submitted_at, change.outcome, change.test_evidence), (None, None, None));
        assert_eq!(parsed.rows[0].line, 2);
    }

    #[test]
    fn the_header_is_line_one_and_a_quoted_newline_keeps_the_row_start() {
        // Given a title with a newline inside quotes, then a bad row
        let input = format!(
            "{HEADER}\nX-1,\"two\nlines\",normal,a,b,c,d,2025-01-02T10:00:00Z\nX-2,t,normal,a,b,c,d,yesterday\n"
        );
        // When it is read
        let parsed = parse_changes(input.as_bytes());
        // Then the bad row is reported on the line where it starts
        assert_eq!(parsed.problems.listed[0].line, 4);
        assert_eq!(parsed.problems.listed[0].kind, ProblemKind::BadTime);
    }

    #[test]
    fn a_byte_order_mark_and_capitalised_headers_are_accepted() {
        let input = format!("\u{feff}{}\nX-1,t,normal,a,b,c,d,2025-01-02T10:00:00Z\n", HEADER.to_uppercase());
        let parsed = parse_changes(input.as_bytes());
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.rows.len(), 1);
    }

    #[test]
    fn an_emergency_may_start_before_approval_but_a_normal_change_may_not() {
        let header = format!("{HEADER},approved_at,started_at");
        let row = |change_type: &str| {
            format!(
                "{header}\nX-1,t,{change_type},a,b,c,d,2025-01-02T10:00:00Z,2025-01-02T12:00:00Z,2025-01-02T11:00:00Z\n"
            )
        };
        assert!(parse_changes(row("emergency").as_bytes()).problems.is_empty());
        let normal = parse_changes(row("normal").as_bytes());
        assert_eq!(normal.problems.listed[0].kind, ProblemKind::Inconsistent);
        assert_eq!(normal.problems.listed[0].column.as_deref(), Some("started_at"));
    }

    #[test]
    fn problems_beyond_the_list_limit_are_counted() {
        let mut input = format!("{HEADER}\n");
        for number in 0..(PROBLEMS_LISTED_MAX + 5) {
            input.push_str(&format!("X-{number},t,bogus,a,b,c,d,2025-01-02T10:00:00Z\n"));
        }
        let parsed = parse_changes(input.as_bytes());
        assert_eq!(parsed.problems.listed.len(), PROBLEMS_LISTED_MAX);
        assert_eq!(parsed.problems.total, (PROBLEMS_LISTED_MAX + 5) as u64);
        assert_eq!(parsed.problems.bad_rows, (PROBLEMS_LISTED_MAX + 5) as u64);
    }

    #[test]
    fn severities_read_as_numbers_or_sev_words() {
        let input = "id,service,severity,detected_at\nP-1,a,sev2,2025-01-02T10:00:00Z\nP-2,a,5,2025-01-02T10:00:00Z\nP-3,a,high,2025-01-02T10:00:00Z\n";
        let parsed = parse_incidents(input.as_bytes());
        assert_eq!(parsed.rows[0].severity, Severity::Sev2);
        let kinds: Vec<_> = parsed.problems.listed.iter().map(|problem| (problem.line, problem.kind)).collect();
        assert_eq!(kinds, vec![(3, ProblemKind::OutOfRange), (4, ProblemKind::BadNumber)]);
    }
}
