//! The exit codes of `changegate gate` and the error that means bad usage. Every room of the gate
//! may find bad usage (a flag, an evidence file, input the server refuses), and only `run` picks
//! the exit code, so the error type lives in this leaf that everyone imports and that imports no
//! one.

use crate::args::ClientArgs;

/// The exit codes of `changegate gate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Exit {
    Approved = 0,
    Failure = 1,
    Usage = 2,
    Rejected = 3,
    Waiting = 4,
}

/// Bad usage found after parsing (exit 2).
#[derive(Debug)]
pub(super) struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub(super) fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Both doors (gate and `--finish`) need a token before they talk to the server; without one it
/// is bad usage (exit 2), not a refused request.
pub(super) fn require_token(client: &ClientArgs) -> anyhow::Result<()> {
    if client.token.as_deref().is_none_or(str::is_empty) {
        return Err(usage("no API token: pass --token or set CHANGEGATE_TOKEN"));
    }
    Ok(())
}
