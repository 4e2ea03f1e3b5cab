//! Human output: aligned tables and key-value blocks. `--json` bypasses all of this.

/// Prints rows under headers, each column as wide as its widest cell (at most `CELL_WIDTH_MAX`).
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    const CELL_WIDTH_MAX: usize = 60;
    let mut widths: Vec<usize> = headers.iter().map(|header| header.chars().count()).collect();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            widths[column] = widths[column].max(cell.chars().count().min(CELL_WIDTH_MAX));
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(column, cell)| {
                let cell: String = if cell.chars().count() > CELL_WIDTH_MAX {
                    cell.chars().take(CELL_WIDTH_MAX - 1).chain(std::iter::once('…')).collect()
                } else {
                    cell.clone()
                };
                format!("{cell:<width$}", width = widths[column])
            })
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|header| header.to_uppercase()).collect());
    for row in rows {
        line(row.clone());
    }
    if rows.is_empty() {
        println!("(none)");
    }
}

/// Prints `key: value` lines, aligned.
pub fn fields(pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    for (key, value) in pairs {
        println!("{key:>width$}: {value}");
    }
}

/// A JSON value as a table cell.
pub fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "-".to_owned(),
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// An optional value of a typed answer as a table cell: `-` when absent, as [`cell`] shows null.
pub fn optional(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| value.to_string())
}

/// A list of a typed answer as a table cell, comma-separated, as [`cell`] shows an array.
pub fn list(items: &[String]) -> String {
    items.join(",")
}
