//! Points in time as milliseconds since the Unix epoch.
//!
//! Stored as an integer so that events hash the same on SQLite and PostgreSQL; shown and parsed as
//! RFC 3339 text at the edges.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_ms(unix_ms: i64) -> Self {
        Timestamp(unix_ms)
    }

    pub const fn unix_ms(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 text such as `2026-11-26T10:00:00Z`.
    pub fn parse_rfc3339(text: &str) -> Result<Self, String> {
        let timestamp: jiff::Timestamp =
            text.trim().parse().map_err(|error| format!("`{text}` is not an RFC 3339 time ({error})"))?;
        Ok(Timestamp(timestamp.as_millisecond()))
    }

    pub fn to_rfc3339(self) -> String {
        match jiff::Timestamp::from_millisecond(self.0) {
            // Whole seconds print without a fraction; otherwise milliseconds, so text round-trips.
            Ok(timestamp) if self.0.rem_euclid(1000) == 0 => format!("{timestamp:.0}"),
            Ok(timestamp) => format!("{timestamp:.3}"),
            Err(_) => format!("@{}ms", self.0),
        }
    }

    pub const fn plus_ms(self, duration_ms: i64) -> Self {
        Timestamp(self.0.saturating_add(duration_ms))
    }

    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn since_ms(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_rfc3339() {
        let time = Timestamp::parse_rfc3339("2026-11-26T10:00:00.250Z").unwrap();
        assert_eq!(time.unix_ms(), 1_795_687_200_250);
        assert_eq!(Timestamp::parse_rfc3339(&time.to_rfc3339()).unwrap(), time);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
    }
}
