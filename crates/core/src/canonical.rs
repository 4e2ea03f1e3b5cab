//! Canonical JSON: the one byte form of a JSON value that the ledger hashes.
//!
//! Object keys are sorted by their UTF-8 bytes, there is no insignificant whitespace, strings and
//! numbers are written as serde_json writes them. We write it ourselves instead of trusting the
//! map order of `serde_json::Value`, because a dependency that turns on serde_json's
//! `preserve_order` feature would otherwise change every leaf hash without a compile error.

use serde_json::Value;

/// Writes `value` in canonical form.
pub fn to_canonical_string(value: &Value) -> String {
    // Built as bytes so that strings and numbers are written by serde_json straight into the
    // buffer (no string per value: this runs once per event appended).
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out);
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|left, right| left.0.as_bytes().cmp(right.0.as_bytes()));
            out.push(b'{');
            for (position, (key, item)) in entries.into_iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                write_scalar(key, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        other => write_scalar(other, out),
    }
}

/// A string, number, boolean or null, exactly as serde_json writes it.
fn write_scalar<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    serde_json::to_writer(out, value).expect("writing JSON to memory cannot fail");
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

    #[test]
    fn scalars_are_written_as_serde_json_writes_them() {
        let value = json!(["tab\t, quote \" and \u{1} control", -1.5, 1e300, u64::MAX, false, null, "😀"]);
        assert_eq!(to_canonical_string(&value), value.to_string());
    }
}
