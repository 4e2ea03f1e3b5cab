//! Outbound calls: POSTing JSON to a webhook and running a rollback command, each with a time
//! limit. The only places the service talks to anything but its store.
//!
//! Why blocking calls on the blocking pool: ureq (already in the workspace for the CLI) is a
//! small blocking client, and these calls are rare (alerts, rollbacks), so a thread each while
//! they run is cheaper than another HTTP stack. Commands run without a shell: the program and its
//! arguments are passed as they are, so nothing in them is interpreted.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest response body read from a webhook (only its start is kept, for the record).
const RESPONSE_BYTES_MAX: u64 = 4_096;
/// Longest text of a webhook's answer or an error kept in a record.
pub const DETAIL_LENGTH_MAX: usize = 500;
/// How often a running command is checked for its exit.
const COMMAND_POLL_INTERVAL_MS: u64 = 20;

/// What one outbound call came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallResult {
    pub ok: bool,
    /// The HTTP status, for webhooks that answered.
    pub status: Option<u16>,
    /// What happened, for records and logs (the answer's start, the exit status, the error).
    pub detail: String,
}

fn shorten(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() <= DETAIL_LENGTH_MAX {
        return trimmed.to_owned();
    }
    trimmed.chars().take(DETAIL_LENGTH_MAX - 1).chain(std::iter::once('…')).collect()
}

/// Whether `url` is an absolute http(s) URL without spaces, at most `length_max` bytes.
pub fn valid_http_url(url: &str, length_max: usize) -> Result<(), String> {
    if url.len() > length_max {
        return Err(format!("must be at most {length_max} characters"));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !url.chars().any(char::is_whitespace) => Ok(()),
        _ => Err(format!("`{url}` is not an http:// or https:// URL")),
    }
}

/// POSTs `body` as JSON to `url`; a 2xx answer within `timeout_ms` is a success.
pub async fn post_json(url: &str, body: &serde_json::Value, timeout_ms: u64) -> CallResult {
    let url = url.to_owned();
    let text = body.to_string();
    let joined = tokio::task::spawn_blocking(move || post_blocking(&url, &text, timeout_ms)).await;
    joined.unwrap_or_else(|error| CallResult { ok: false, status: None, detail: format!("the call failed: {error}") })
}

fn post_blocking(url: &str, body: &str, timeout_ms: u64) -> CallResult {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_millis(timeout_ms)))
        .build()
        .into();
    let response = agent.post(url).header("Content-Type", "application/json").send(body);
    match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let answer = response
                .body_mut()
                .with_config()
                .limit(RESPONSE_BYTES_MAX)
                .read_to_string()
                .unwrap_or_else(|_| String::new());
            let detail = if answer.trim().is_empty() {
                format!("HTTP {status}")
            } else {
                shorten(&format!("HTTP {status}: {answer}"))
            };
            CallResult { ok: (200..300).contains(&status), status: Some(status), detail }
        }
        Err(error) => CallResult { ok: false, status: None, detail: shorten(&error.to_string()) },
    }
}

/// Runs `program` with `arguments` and `environment` (no shell, no standard input or output),
/// killing it after `timeout_ms`; exit status 0 is a success.
pub async fn run_command(
    program: &str,
    arguments: &[String],
    environment: &[(&'static str, String)],
    timeout_ms: u64,
) -> CallResult {
    let mut command = Command::new(program);
    command.args(arguments).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    for (key, value) in environment {
        command.env(key, value);
    }
    let program = program.to_owned();
    let joined = tokio::task::spawn_blocking(move || run_blocking(command, &program, timeout_ms)).await;
    joined.unwrap_or_else(|error| CallResult { ok: false, status: None, detail: format!("the run failed: {error}") })
}

fn run_blocking(mut command: Command, program: &str, timeout_ms: u64) -> CallResult {
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return CallResult { ok: false, status: None, detail: shorten(&format!("cannot run {program}: {error}")) };
        }
    };
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let detail = match status.code() {
                    Some(code) => format!("exit status {code}"),
                    None => "killed by a signal".to_owned(),
                };
                return CallResult { ok: status.success(), status: None, detail };
            }
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return CallResult {
                    ok: false,
                    status: None,
                    detail: format!("timed out after {timeout_ms} ms; killed"),
                };
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(COMMAND_POLL_INTERVAL_MS)),
            Err(error) => {
                return CallResult {
                    ok: false,
                    status: None,
                    detail: shorten(&format!("waiting for {program}: {error}")),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_are_targets() {
        assert!(valid_http_url("https://hooks.slack.com/services/T0/B0/x", 2_000).is_ok());
        assert!(valid_http_url("http://127.0.0.1:9000/hook", 2_000).is_ok());
        assert!(valid_http_url("ftp://example.com", 2_000).is_err());
        assert!(valid_http_url("https://", 2_000).is_err());
        assert!(valid_http_url("https://a b", 2_000).is_err());
        assert!(valid_http_url("https://example.com/long", 10).is_err());
    }

    #[tokio::test]
    async fn a_command_that_outlives_its_time_limit_is_killed() {
        // Given a command that sleeps for ten seconds, when it may run for 200 ms
        let result = run_command("/bin/sleep", &["10".to_owned()], &[], 200).await;
        // Then it is reported as timed out, not as a success.
        assert!(!result.ok);
        assert!(result.detail.contains("timed out"), "{}", result.detail);
    }
}
