//! C2SP `tlog-checkpoint` bodies: the log origin, tree size and root hash that the log signs
//! as a signed note, plus [`open_checkpoint`] to verify and parse one in a single step.
//!
//! The body is exactly three lines: `origin\nsize\nbase64(root)\n`. Extension lines are
//! optional in the specification but we never emit them and [`Checkpoint`] cannot carry them,
//! so parsing rejects them instead of silently dropping signed content.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::LedgerError;
use crate::hashing::Hash;
use crate::note::NoteVerifier;

/// A log's commitment to its tree at one size.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// Unique identity of the log (conventionally a schema-less URL); one non-empty line.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root of the tree of `size` leaves.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body `origin\nsize\nbase64(root)\n`.
    ///
    /// `origin` must be a single non-empty line without control characters, otherwise the
    /// body will not parse back.
    pub fn to_body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root))
    }

    /// Parses a checkpoint body: a non-empty origin line, the size in decimal without leading
    /// zeros, the standard-base64 32-byte root, each ending in a newline, and nothing else.
    pub fn parse_body(body: &str) -> Result<Self, LedgerError> {
        let malformed = |reason: &str| LedgerError::MalformedCheckpoint(reason.to_owned());
        let lines = body.strip_suffix('\n').ok_or_else(|| malformed("body does not end with a newline"))?;
        let mut lines = lines.split('\n');
        let (Some(origin), Some(size_line), Some(root_line)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(malformed("body needs origin, size and root lines"));
        };
        if lines.next().is_some() {
            return Err(malformed("extension lines are not supported"));
        }

        if origin.is_empty() {
            return Err(malformed("origin is empty"));
        }
        if origin.chars().any(char::is_control) {
            return Err(malformed("origin contains a control character"));
        }

        let canonical_decimal = !size_line.is_empty()
            && size_line.bytes().all(|byte| byte.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        if !canonical_decimal {
            return Err(malformed("size is not a decimal number without leading zeros"));
        }
        let size = size_line.parse::<u64>().map_err(|_| malformed("size does not fit in 64 bits"))?;

        let root_bytes = BASE64.decode(root_line).map_err(|_| malformed("root is not standard base64"))?;
        let root: Hash = root_bytes.as_slice().try_into().map_err(|_| malformed("root is not 32 bytes"))?;

        Ok(Self { origin: origin.to_owned(), size, root })
    }
}

/// Verifies a signed checkpoint note with `verifier` and parses its body.
///
/// This does not compare the origin with the verifier's key name; callers that know which log
/// they expect should check `origin` themselves.
pub fn open_checkpoint(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, LedgerError> {
    let body = verifier.verify(note)?;
    Checkpoint::parse_body(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips() {
        let checkpoint = Checkpoint { origin: "example.com/log".to_owned(), size: 20852163, root: [0xab; 32] };
        let body = checkpoint.to_body();
        assert_eq!(Checkpoint::parse_body(&body), Ok(checkpoint));
    }

    #[test]
    fn parses_the_specification_example() {
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let checkpoint = Checkpoint::parse_body(body).expect("valid body");
        assert_eq!(checkpoint.origin, "example.com/behind-the-sofa");
        assert_eq!(checkpoint.size, 20852163);
        assert_eq!(checkpoint.to_body(), body);
    }

    #[test]
    fn rejects_malformed_bodies() {
        let root = BASE64.encode([0u8; 32]);
        for body in [
            String::new(),
            "origin\n1\n".to_owned(),
            format!("origin\n1\n{root}"),
            format!("\n1\n{root}\n"),
            format!("origin\n01\n{root}\n"),
            format!("origin\n+1\n{root}\n"),
            format!("origin\n-1\n{root}\n"),
            format!("origin\n\n{root}\n"),
            format!("origin\n18446744073709551616\n{root}\n"),
            "origin\n1\nAAAA\n".to_owned(),
            "origin\n1\nnot base64!\n".to_owned(),
            format!("origin\n1\n{root}\nextension\n"),
            format!("origin\r\n1\n{root}\n"),
        ] {
            assert!(
                matches!(Checkpoint::parse_body(&body), Err(LedgerError::MalformedCheckpoint(_))),
                "{body:?} should be rejected"
            );
        }
        assert!(Checkpoint::parse_body(&format!("origin\n0\n{root}\n")).is_ok());
        assert!(Checkpoint::parse_body(&format!("origin\n18446744073709551615\n{root}\n")).is_ok());
    }
}
