//! Loader for just-in-time (JIT) defect-prediction CSV files.
//!
//! A JIT file has one row per commit with the 14 change metrics of Kamei et al. (2013) and a `bug`
//! label. Public data sets spell the columns differently; all of these are accepted
//! (case-insensitive, surrounding quotes and blanks ignored):
//!
//! | metric | accepted headers |
//! | --- | --- |
//! | subsystems, directories, files | `ns`; `nd` or `nm`; `nf` |
//! | spread | `entropy` or `entrophy` |
//! | size | `la`, `ld`, `lt` |
//! | purpose, history | `fix`, `ndev`, `age` or `pd`, `nuc` or `npt` |
//! | experience | `exp`, `rexp`, `sexp` |
//! | label | `bug` (`0`/`1` or `true`/`false`) |
//! | time | `date` (Unix seconds) or `commitdate` (`YYYY/MM/DD HH:MM`, `YYYY-MM-DD HH:MM:SS`) |
//!
//! An id column (`_id`, `transactionid`, `commit_id`, `commit_hash`), a leading row-number column
//! (an empty header) and any other extra column are ignored.
//!
//! ## Two scales, one canonical form
//! Kamei's published data divide `la` and `ld` by `lt`, and `lt` and `npt` by `nf` ("normalised"
//! scale); other sets store absolute line counts. The loader detects the scale of a file from its
//! data — in normalised files `la` and `ld` are at most 1 for almost every row (at most 7 % of the
//! rows exceed 1 in the 21 development files), in absolute files most changes add more than one line
//! — and stores every row in the **normalised** form, so the model sees the same numbers for the same
//! change whichever way the file was written. [`JitDataset::scale`] records what the file had;
//! [`normalise_absolute`] converts one absolute metric vector.
//!
//! Missing values (`NA`, `NaN`, empty) in a metric are kept as `NaN` (the model treats them as
//! missing). A row whose date is missing is skipped and counted in [`JitDataset::skipped_rows`]:
//! it cannot be placed in time. Any other unparsable value is an error naming the line and column.

use changegate_core::civil::days_from_civil;
use std::io::Read;

use serde::{Deserialize, Serialize};

/// The 14 metrics, in the order of [`JitRow::metrics`], with their canonical names.
pub const METRIC_NAMES: [&str; 14] =
    ["ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc", "exp", "rexp", "sexp"];

/// Index of each metric in [`JitRow::metrics`].
pub mod idx {
    pub const NS: usize = 0;
    pub const ND: usize = 1;
    pub const NF: usize = 2;
    pub const ENTROPY: usize = 3;
    pub const LA: usize = 4;
    pub const LD: usize = 5;
    pub const LT: usize = 6;
    pub const FIX: usize = 7;
    pub const NDEV: usize = 8;
    pub const AGE: usize = 9;
    pub const NUC: usize = 10;
    pub const EXP: usize = 11;
    pub const REXP: usize = 12;
    pub const SEXP: usize = 13;
}

/// Accepted header spellings of each metric, in the order of [`METRIC_NAMES`].
const METRIC_ALIASES: [&[&str]; 14] = [
    &["ns"],
    &["nd", "nm"],
    &["nf"],
    &["entropy", "entrophy"],
    &["la"],
    &["ld"],
    &["lt"],
    &["fix"],
    &["ndev"],
    &["age", "pd"],
    &["nuc", "npt"],
    &["exp"],
    &["rexp"],
    &["sexp"],
];

/// Share of rows with `la > 1` or `ld > 1` above which a file is taken to hold absolute line counts.
const ABSOLUTE_SHARE: f64 = 0.2;

/// One change (commit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JitRow {
    /// Commit time, Unix seconds (UTC).
    pub time_unix_s: i64,
    /// The 14 metrics in the order of [`METRIC_NAMES`], in the normalised scale (see the module
    /// docs). `NaN` marks a missing value.
    pub metrics: [f64; 14],
    /// Whether the change later turned out to introduce a defect (the change "failed").
    pub bug: bool,
}

/// The scale a file stored `la`, `ld`, `lt` and `nuc` in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricScale {
    /// Kamei et al.: `la`, `ld` divided by `lt`; `lt`, `nuc` divided by `nf`.
    Normalised,
    /// Absolute line counts; converted to the normalised scale on load.
    Absolute,
}

/// A loaded JIT file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JitDataset {
    /// The rows in file order (not sorted), metrics in the normalised scale.
    pub rows: Vec<JitRow>,
    /// What the file stored.
    pub scale: MetricScale,
    /// Rows skipped because their date was missing.
    pub skipped_rows: usize,
}

impl JitDataset {
    /// The rows sorted by time (stable: equal times keep file order).
    pub fn sorted_by_time(&self) -> Vec<JitRow> {
        let mut rows = self.rows.clone();
        rows.sort_by_key(|r| r.time_unix_s);
        rows
    }
}

/// Why a JIT file could not be loaded. Lines are 1-based and count the header as line 1.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No header line at all.
    #[error("empty file: expected a header line with the 14 JIT metrics, `bug` and a date column")]
    Empty,
    /// A header but no data row.
    #[error("no data rows after the header")]
    NoRows,
    /// A required column is absent.
    #[error("missing column `{column}` (accepted spellings: {accepted}); header was: {header}")]
    MissingColumn { column: &'static str, accepted: String, header: String },
    /// A metric cell is not a number.
    #[error("line {line}, column `{column}`: `{value}` is not a number")]
    NotANumber { line: u64, column: String, value: String },
    /// The label is not 0/1/true/false.
    #[error("line {line}, column `bug`: `{value}` is not a label (expected 0, 1, true or false)")]
    BadLabel { line: u64, value: String },
    /// The date cell is neither Unix seconds nor a supported date-time.
    #[error(
        "line {line}, column `{column}`: `{value}` is not a date (expected Unix seconds, `YYYY-MM-DD HH:MM[:SS]` or `YYYY/MM/DD HH:MM[:SS]`)"
    )]
    BadDate { line: u64, column: String, value: String },
    /// A row with fewer cells than the header, or malformed CSV.
    #[error("line {line}: malformed CSV: {message}")]
    Csv { line: u64, message: String },
}

/// Load a JIT CSV from a reader. See the module docs for the accepted formats.
pub fn load_csv(reader: impl Read) -> Result<JitDataset, LoadError> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(reader);
    let mut records = rdr.records();
    let header = match records.next() {
        None => return Err(LoadError::Empty),
        Some(Err(e)) => return Err(csv_error(e, 1)),
        Some(Ok(h)) => h,
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().trim_matches('"').to_ascii_lowercase()).collect();
    if names.iter().all(String::is_empty) {
        return Err(LoadError::Empty);
    }
    let header_text = names.join(",");
    let find = |aliases: &[&str]| names.iter().position(|n| aliases.contains(&n.as_str()));
    let mut metric_cols = [0usize; 14];
    for (i, aliases) in METRIC_ALIASES.iter().enumerate() {
        metric_cols[i] = find(aliases).ok_or_else(|| LoadError::MissingColumn {
            column: METRIC_NAMES[i],
            accepted: aliases.join(" or "),
            header: header_text.clone(),
        })?;
    }
    let bug_col = find(&["bug"]).ok_or_else(|| LoadError::MissingColumn {
        column: "bug",
        accepted: "bug".into(),
        header: header_text.clone(),
    })?;
    let (date_col, date_name) = match (find(&["date"]), find(&["commitdate"])) {
        (Some(c), _) => (c, "date"),
        (None, Some(c)) => (c, "commitdate"),
        (None, None) => {
            return Err(LoadError::MissingColumn {
                column: "date",
                accepted: "date (Unix seconds) or commitdate".into(),
                header: header_text,
            });
        }
    };

    let mut rows = Vec::new();
    let mut skipped_rows = 0;
    for (i, rec) in records.enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| csv_error(e, line))?;
        if rec.iter().all(|c| c.is_empty()) {
            continue; // blank line
        }
        if rec.len() < names.len() {
            return Err(LoadError::Csv {
                line,
                message: format!("{} fields, the header has {}", rec.len(), names.len()),
            });
        }
        let Some(time_unix_s) = parse_date(&rec[date_col]).map_err(|()| LoadError::BadDate {
            line,
            column: date_name.into(),
            value: rec[date_col].to_string(),
        })?
        else {
            skipped_rows += 1;
            continue;
        };
        let mut metrics = [0.0; 14];
        for (m, &col) in metrics.iter_mut().zip(&metric_cols) {
            *m = parse_metric(&rec[col]).ok_or_else(|| LoadError::NotANumber {
                line,
                column: names[col].clone(),
                value: rec[col].to_string(),
            })?;
        }
        let bug =
            parse_label(&rec[bug_col]).ok_or_else(|| LoadError::BadLabel { line, value: rec[bug_col].to_string() })?;
        rows.push(JitRow { time_unix_s, metrics, bug });
    }
    if rows.is_empty() {
        return Err(LoadError::NoRows);
    }
    let scale = detect_scale(&rows);
    if scale == MetricScale::Absolute {
        for r in &mut rows {
            r.metrics = normalise_absolute(&r.metrics);
        }
    }
    Ok(JitDataset { rows, scale, skipped_rows })
}

/// Load a JIT CSV from a string.
pub fn load_str(text: &str) -> Result<JitDataset, LoadError> {
    load_csv(text.as_bytes())
}

/// Detect whether the rows carry absolute line counts (see the module docs).
pub fn detect_scale(rows: &[JitRow]) -> MetricScale {
    let big = rows.iter().filter(|r| r.metrics[idx::LA] > 1.0 || r.metrics[idx::LD] > 1.0).count();
    if (big as f64) > ABSOLUTE_SHARE * rows.len() as f64 { MetricScale::Absolute } else { MetricScale::Normalised }
}

/// Convert one metric vector from absolute counts to Kamei's normalised scale:
/// `la/lt`, `ld/lt`, `lt/nf`, `nuc/nf` (`nf` at least 1). When `lt` is 0 (only new files) the ratio
/// is undefined and, as in Kamei's original files, `la` and `ld` keep their absolute counts.
pub fn normalise_absolute(m: &[f64; 14]) -> [f64; 14] {
    let mut out = *m;
    let nf = m[idx::NF].max(1.0);
    let lt = m[idx::LT];
    let per_lt = |x: f64| if lt == 0.0 { x } else { x / lt };
    out[idx::LA] = per_lt(m[idx::LA]);
    out[idx::LD] = per_lt(m[idx::LD]);
    out[idx::LT] = lt / nf;
    out[idx::NUC] = m[idx::NUC] / nf;
    out
}

/// The inverse of [`normalise_absolute`]: absolute `la`, `ld`, `lt`, `nuc`.
pub fn denormalise(m: &[f64; 14]) -> [f64; 14] {
    let mut out = *m;
    let nf = m[idx::NF].max(1.0);
    let lt_abs = m[idx::LT] * nf;
    let times_lt = |x: f64| if lt_abs == 0.0 { x } else { x * lt_abs };
    out[idx::LT] = lt_abs;
    out[idx::LA] = times_lt(m[idx::LA]);
    out[idx::LD] = times_lt(m[idx::LD]);
    out[idx::NUC] = m[idx::NUC] * nf;
    out
}

fn csv_error(e: csv::Error, line: u64) -> LoadError {
    let line = e.position().map_or(line, |p| p.line());
    LoadError::Csv { line, message: e.to_string() }
}

fn is_missing(s: &str) -> bool {
    s.is_empty() || s.eq_ignore_ascii_case("na") || s.eq_ignore_ascii_case("nan") || s.eq_ignore_ascii_case("null")
}

fn parse_metric(s: &str) -> Option<f64> {
    let s = s.trim_matches('"');
    if is_missing(s) {
        return Some(f64::NAN);
    }
    if s.eq_ignore_ascii_case("true") {
        return Some(1.0);
    }
    if s.eq_ignore_ascii_case("false") {
        return Some(0.0);
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn parse_label(s: &str) -> Option<bool> {
    let s = s.trim_matches('"');
    if s.eq_ignore_ascii_case("true") {
        return Some(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Some(false);
    }
    let v = s.parse::<f64>().ok()?;
    if v == 0.0 {
        Some(false)
    } else if v == 1.0 {
        Some(true)
    } else {
        None
    }
}

/// `Ok(None)` for a missing date, `Err(())` for an unparsable one.
fn parse_date(s: &str) -> Result<Option<i64>, ()> {
    let s = s.trim_matches('"').trim();
    if is_missing(s) {
        return Ok(None);
    }
    if let Ok(v) = s.parse::<i64>() {
        return Ok(Some(v));
    }
    if let Ok(v) = s.parse::<f64>() {
        return if v.is_finite() { Ok(Some(v as i64)) } else { Err(()) };
    }
    parse_datetime(s).map(Some).ok_or(())
}

/// `YYYY-MM-DD[ HH:MM[:SS]]` or with `/` separators, taken as UTC.
fn parse_datetime(s: &str) -> Option<i64> {
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, t.trim()),
        None => (s, ""),
    };
    let mut d = date.split(['-', '/']);
    let y: i64 = d.next()?.parse().ok()?;
    let mo: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&day) {
        return None;
    }
    let time = time.trim_end_matches('Z');
    let (mut h, mut mi, mut sec) = (0i64, 0i64, 0i64);
    if !time.is_empty() {
        let mut t = time.split(':');
        h = t.next()?.parse().ok()?;
        mi = t.next()?.parse().ok()?;
        if let Some(x) = t.next() {
            sec = x.split('.').next()?.parse().ok()?;
        }
        if t.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
    }
    Some(days_from_civil(y, u32::try_from(mo).ok()?, u32::try_from(day).ok()?) * 86_400 + h * 3600 + mi * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_datetime("2001/12/12 17:41"), Some(1_008_178_860));
        assert_eq!(parse_datetime("2010-07-26 09:52:17"), Some(1_280_137_937));
        assert_eq!(parse_datetime("2010-13-26 09:52:17"), None);
    }
}
