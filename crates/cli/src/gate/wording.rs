//! Small pieces of wording the gate's summaries and messages share: plurals, a file's name, a
//! duration in seconds. A leaf, so that the evidence readers and the report need not import each
//! other for them.

use std::path::Path;
use std::time::Duration;

pub(super) fn plural<'a>(count: u64, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

pub(super) fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

pub(super) fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64().round())
}
