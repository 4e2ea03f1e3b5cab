//! Client commands for alerts and automated rollback: `changegate alerts rules|list|set|remove|
//! firings` and `changegate service rollback-hook`, over the API.

use anyhow::{Context, bail};
use changegate_service::AlertKind;
use serde_json::{Value, json};

use crate::args::{AlertsCommand, ClientArgs};
use crate::client::Client;
use crate::output::{cell, table};

/// Most bytes read from one rule file.
const RULE_FILE_BYTES_MAX: u64 = 1 << 20;

fn emit(json: bool, value: &Value, human: impl FnOnce()) {
    if json {
        println!("{value}");
    } else {
        human();
    }
}

/// A rule's parameters as `name=value` text (everything but `kind` and `webhooks`).
fn parameters(rule: &Value) -> String {
    rule.as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| !matches!(key.as_str(), "kind" | "webhooks") && !value.is_null())
        .map(|(key, value)| format!("{key}={}", cell(value)))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn run(command: AlertsCommand, json: bool) -> anyhow::Result<()> {
    match command {
        AlertsCommand::Rules => {
            let kinds: Vec<Value> = AlertKind::ALL
                .iter()
                .map(|kind| json!({"kind": kind.as_str(), "description": kind.description()}))
                .collect();
            emit(json, &Value::Array(kinds), || {
                let rows: Vec<Vec<String>> = AlertKind::ALL
                    .iter()
                    .map(|kind| vec![kind.as_str().to_owned(), kind.description().to_owned()])
                    .collect();
                table(&["kind", "fires when"], &rows);
                println!("\nEvery rule takes `webhooks`: up to 8 http(s) URLs. See docs/alerts.md.");
            });
        }
        AlertsCommand::List { client } => {
            let rules = Client::new(&client).get("/api/v1/alert-rules")?;
            emit(json, &rules, || {
                let rows: Vec<Vec<String>> = rules
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|rule| {
                        vec![
                            cell(&rule["name"]),
                            cell(&rule["kind"]),
                            parameters(&rule["rule"]),
                            cell(&rule["webhooks"]),
                            cell(&rule["defined_by"]),
                        ]
                    })
                    .collect();
                table(&["name", "kind", "parameters", "webhooks", "defined by"], &rows);
            });
        }
        AlertsCommand::Set { client, name, file } => {
            let size = std::fs::metadata(&file).with_context(|| format!("reading {}", file.display()))?.len();
            if size > RULE_FILE_BYTES_MAX {
                bail!("{} is larger than {RULE_FILE_BYTES_MAX} bytes", file.display());
            }
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let rule: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
            let path = format!("/api/v1/alert-rules/{name}");
            let stored = Client::new(&client).put(&path, &rule)?;
            emit(json, &stored, || {
                println!("Alert rule {} ({}) defined.", cell(&stored["name"]), cell(&stored["kind"]));
            });
        }
        AlertsCommand::Remove { client, name } => {
            Client::new(&client).delete(&format!("/api/v1/alert-rules/{name}"))?;
            emit(json, &json!({"removed": name}), || println!("Alert rule {name} removed."));
        }
        AlertsCommand::Firings { client, limit } => {
            let firings = Client::new(&client).get(&format!("/api/v1/alert-firings?limit={limit}"))?;
            emit(json, &firings, || {
                let rows: Vec<Vec<String>> = firings
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|firing| {
                        let attempts = firing["deliveries"].as_array().map(Vec::len).unwrap_or(0);
                        let delivery = match (firing["delivered"].as_bool(), attempts) {
                            (_, 0) => "-".to_owned(),
                            (Some(true), _) => format!("delivered ({attempts} attempts)"),
                            _ => format!("failed ({attempts} attempts)"),
                        };
                        vec![
                            cell(&firing["fired_at"]),
                            cell(&firing["rule"]),
                            cell(&firing["subject"]),
                            delivery,
                            cell(&firing["message"]),
                        ]
                    })
                    .collect();
                table(&["fired", "rule", "about", "delivery", "message"], &rows);
            });
        }
    }
    Ok(())
}

/// `changegate service rollback-hook SERVICE (--webhook URL | --command PROGRAM [ARG...] | --remove)`.
pub fn rollback_hook(
    client: &ClientArgs,
    service: &str,
    webhook: Option<String>,
    command: Option<Vec<String>>,
    remove: bool,
    incident_window_hours: u32,
    json: bool,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/services/{service}/rollback-hook");
    let client = Client::new(client);
    let answer = if remove {
        client.delete(&path)?
    } else {
        let target = match (webhook, command) {
            (Some(url), None) => json!({"kind": "webhook", "url": url}),
            (None, Some(mut words)) if !words.is_empty() => {
                let program = words.remove(0);
                json!({"kind": "command", "program": program, "arguments": words})
            }
            _ => bail!("give one of --webhook URL, --command PROGRAM [ARG...] or --remove"),
        };
        client.put(&path, &json!({"target": target, "incident_window_hours": incident_window_hours}))?
    };
    emit(json, &answer, || {
        let hook = &answer["rollback_hook"];
        if hook.is_null() {
            println!("Service {service} has no rollback hook now.");
        } else {
            println!(
                "Rollback hook of {service}: {} {} {} (incident window {} h).",
                cell(&hook["kind"]),
                cell(&hook["target"]),
                hook["arguments"].as_array().into_iter().flatten().map(cell).collect::<Vec<_>>().join(" "),
                cell(&hook["incident_window_hours"])
            );
        }
    });
    Ok(())
}
