//! Canonical JSON: the one byte form of a JSON value that the ledger hashes.
//!
//! Object keys are sorted by their UTF-8 bytes, there is no insignificant whitespace, strings and
//! numbers are written as serde_json writes them. We write it ourselves instead of trusting the
//! map order of `serde_json::Value`, because a dependency that turns on serde_json's
//! `preserve_order` feature would otherwise change every leaf hash without a compile error.

use serde_json::Value;

/// Writes `value` in canonical form.
pub fn to_canonical_string(value: &Value) -> String {
    let mut out = String::with_capacity(128);
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|left, right| left.0.as_bytes().cmp(right.0.as_bytes()));
            out.push('{');
            for (position, (key, item)) in entries.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::String(text) => write_string(text, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push_str(&Value::String(text.to_owned()).to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_depth_and_drops_whitespace() {
        let value = json!({"b": 1, "a": {"z": [1, {"y": "é\"", "x": null}], "c": true}});
        assert_eq!(to_canonical_string(&value), r#"{"a":{"c":true,"z":[1,{"x":null,"y":"é\""}]},"b":1}"#);
    }
}
