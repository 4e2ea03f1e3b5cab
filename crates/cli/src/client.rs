//! The HTTP client the CLI's remote commands use: bearer token, JSON in and out, and the API's
//! error shape turned into a readable error.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::args::ClientArgs;

/// Longest any request may take.
const REQUEST_TIMEOUT_MS: u64 = 30_000;

/// An error the server answered with, kept apart so `main` can pick the exit code.
#[derive(Debug)]
pub struct ApiFailure {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} ({}, HTTP {})", self.message, self.code, self.status)
    }
}

impl std::error::Error for ApiFailure {}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
}

impl Client {
    pub fn new(args: &ClientArgs) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_millis(REQUEST_TIMEOUT_MS)))
            .build()
            .into();
        Client { agent, base: args.server.trim_end_matches('/').to_owned(), token: args.token.clone() }
    }

    fn token(&self) -> anyhow::Result<&str> {
        self.token
            .as_deref()
            .ok_or_else(|| anyhow!("no API token: pass --token or set CHANGEGATE_TOKEN (from `changegate init`)"))
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let response =
            self.agent.get(&url).header("Authorization", &format!("Bearer {}", self.token()?)).call().with_context(
                || format!("cannot reach the server at {} (is `changegate serve` running?)", self.base),
            )?;
        read(response)
    }

    pub fn post(&self, path: &str, body: &impl Serialize, idempotency_key: Option<&str>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.agent.post(&url).header("Authorization", &format!("Bearer {}", self.token()?));
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request
            .send_json(body)
            .with_context(|| format!("cannot reach the server at {} (is `changegate serve` running?)", self.base))?;
        read(response)
    }
}

impl Client {
    pub fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self
            .agent
            .put(&url)
            .header("Authorization", &format!("Bearer {}", self.token()?))
            .send_json(body)
            .with_context(|| format!("cannot reach the server at {} (is `changegate serve` running?)", self.base))?;
        read(response)
    }

    pub fn patch(&self, path: &str, body: &impl Serialize) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self
            .agent
            .patch(&url)
            .header("Authorization", &format!("Bearer {}", self.token()?))
            .send_json(body)
            .with_context(|| format!("cannot reach the server at {} (is `changegate serve` running?)", self.base))?;
        read(response)
    }

    pub fn delete(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let response =
            self.agent.delete(&url).header("Authorization", &format!("Bearer {}", self.token()?)).call().with_context(
                || format!("cannot reach the server at {} (is `changegate serve` running?)", self.base),
            )?;
        read(response)
    }
}

/// Reads an answer as one of the API's types (`changegate_api`), for the commands that look into
/// it; `what` names it in the error when the answer is not one.
pub fn typed<T: DeserializeOwned>(answer: &Value, what: &str) -> anyhow::Result<T> {
    T::deserialize(answer).with_context(|| format!("the server's answer is not {what}"))
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> anyhow::Result<Value> {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().context("reading the server's answer")?;
    let value: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("the server answered HTTP {status} with non-JSON"))?
    };
    if (200..300).contains(&status) {
        return Ok(value);
    }
    let code = value["error"]["code"].as_str().unwrap_or("http_error").to_owned();
    let mut message = value["error"]["message"].as_str().unwrap_or("the server refused the request").to_owned();
    if let Some(fields) = value["error"]["fields"].as_array() {
        for field in fields {
            message.push_str(&format!(
                "\n  {}: {}",
                field["field"].as_str().unwrap_or("?"),
                field["message"].as_str().unwrap_or("?")
            ));
        }
    }
    if status == 0 {
        bail!("no answer");
    }
    Err(ApiFailure { status, code, message }.into())
}
