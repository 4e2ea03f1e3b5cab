//! The problems an import finds: which file, line and column, of what kind and why, and the
//! tally of a whole import (listed up to a limit, all counted).
//!
//! Why a room of its own: problems are the import's report to people and the stable kinds are
//! part of its contract (`docs/import.md`); reading rows and resolving references both add to them.

use std::fmt;

use serde::Serialize;

use super::PROBLEMS_LISTED_MAX;

/// Which of the two files a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ImportFile {
    #[serde(rename = "changes.csv")]
    Changes,
    #[serde(rename = "incidents.csv")]
    Incidents,
}

impl ImportFile {
    pub const fn as_str(self) -> &'static str {
        match self {
            ImportFile::Changes => "changes.csv",
            ImportFile::Incidents => "incidents.csv",
        }
    }
}

impl fmt::Display for ImportFile {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What is wrong, as a stable word for scripts (the reason says it for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The file has no header row.
    EmptyFile,
    /// A header names a column the format does not have.
    UnknownColumn,
    /// A required column is not in the header.
    MissingColumn,
    /// A header names a column twice.
    DuplicateColumn,
    /// The file has more than [`IMPORT_ROWS_MAX`] data rows.
    TooManyRows,
    /// The CSV itself cannot be read here (not UTF-8, broken quoting).
    UnreadableRow,
    /// A row has more or fewer cells than the header.
    WrongColumnCount,
    /// A required cell is empty.
    MissingValue,
    /// Not an RFC 3339 time.
    BadTime,
    /// Not one of the words the column allows.
    BadValue,
    /// Not a whole number.
    BadNumber,
    /// A number outside the column's range.
    OutOfRange,
    /// Not a valid name (lowercase slug).
    BadName,
    /// Text with control characters.
    BadText,
    /// Longer than the column allows.
    TooLong,
    /// The same id on an earlier row of the file.
    DuplicateId,
    /// Times or values that contradict each other.
    Inconsistent,
    /// A `caused_by` or service that names nothing known.
    UnknownReference,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::EmptyFile => "empty_file",
            ProblemKind::UnknownColumn => "unknown_column",
            ProblemKind::MissingColumn => "missing_column",
            ProblemKind::DuplicateColumn => "duplicate_column",
            ProblemKind::TooManyRows => "too_many_rows",
            ProblemKind::UnreadableRow => "unreadable_row",
            ProblemKind::WrongColumnCount => "wrong_column_count",
            ProblemKind::MissingValue => "missing_value",
            ProblemKind::BadTime => "bad_time",
            ProblemKind::BadValue => "bad_value",
            ProblemKind::BadNumber => "bad_number",
            ProblemKind::OutOfRange => "out_of_range",
            ProblemKind::BadName => "bad_name",
            ProblemKind::BadText => "bad_text",
            ProblemKind::TooLong => "too_long",
            ProblemKind::DuplicateId => "duplicate_id",
            ProblemKind::Inconsistent => "inconsistent",
            ProblemKind::UnknownReference => "unknown_reference",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One thing wrong with one row (a row with two problems has two entries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub file: ImportFile,
    /// 1-based line of the file where the row starts; the header is line 1.
    pub line: u64,
    /// The column, when the problem is in one.
    pub column: Option<String>,
    pub kind: ProblemKind,
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(formatter, "{} line {}, column {}: {}", self.file, self.line, column, self.reason),
            None => write!(formatter, "{} line {}: {}", self.file, self.line, self.reason),
        }
    }
}

/// The problems found so far: the first [`PROBLEMS_LISTED_MAX`] listed, all counted, and the
/// rows they are on counted once each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems {
    pub listed: Vec<RowProblem>,
    pub total: u64,
    pub bad_rows: u64,
    /// A problem no `--skip-bad` can skip: the header, the row limit, unreadable CSV.
    pub fatal: bool,
}

impl Problems {
    /// Records the problems of one row (nothing when there are none).
    pub fn add_row(&mut self, problems: Vec<RowProblem>) {
        if problems.is_empty() {
            return;
        }
        self.bad_rows += 1;
        for problem in problems {
            self.total += 1;
            if self.listed.len() < PROBLEMS_LISTED_MAX {
                self.listed.push(problem);
            }
        }
    }

    /// Records a problem of the file as a whole; nothing of the file can be imported.
    pub(super) fn add_fatal(&mut self, problem: RowProblem) {
        self.fatal = true;
        self.total += 1;
        if self.listed.len() < PROBLEMS_LISTED_MAX {
            self.listed.push(problem);
        }
    }

    /// Adds another file's problems after these.
    pub fn merge(&mut self, other: Problems) {
        self.fatal |= other.fatal;
        self.total += other.total;
        self.bad_rows += other.bad_rows;
        let room = PROBLEMS_LISTED_MAX.saturating_sub(self.listed.len());
        self.listed.extend(other.listed.into_iter().take(room));
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}
