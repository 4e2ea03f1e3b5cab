//! Client commands: each is one or two API calls and a table (or the raw JSON with `--json`).

use anyhow::bail;
use serde_json::{Value, json};

use crate::args::{ActionArgs, ChangeCommand, Command, IncidentCommand, NewChangeArgs, ServiceCommand, UserCommand};
use crate::client::Client;
use crate::output::{cell, fields, table};

pub fn run(command: Command, json: bool) -> anyhow::Result<()> {
    match command {
        Command::Service(ServiceCommand::Add { client, name, team, tier, scopes, depends_on }) => {
            let body = json!({"name": name, "team": team, "tier": tier, "scopes": scopes, "depends_on": depends_on});
            let service = Client::new(&client).post("/api/v1/services", &body, None)?;
            emit(json, &service, || {
                println!(
                    "Registered {} (team {}, tier {}).",
                    cell(&service["name"]),
                    cell(&service["team"]),
                    cell(&service["tier"])
                )
            });
        }
        Command::Service(ServiceCommand::List { client }) => {
            let answer = Client::new(&client).get("/api/v1/services")?;
            emit(json, &answer, || {
                let rows = items(&answer)
                    .map(|service| {
                        vec![
                            cell(&service["name"]),
                            cell(&service["team"]),
                            cell(&service["tier"]),
                            cell(&service["scopes"]),
                            cell(&service["depends_on"]),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["name", "team", "tier", "scopes", "depends on"], &rows);
            });
        }
        Command::User(UserCommand::List { client }) => {
            let answer = Client::new(&client).get("/api/v1/users")?;
            emit(json, &answer, || {
                let rows = items(&answer)
                    .map(|user| {
                        vec![cell(&user["name"]), cell(&user["roles"]), cell(&user["team"]), cell(&user["created_at"])]
                    })
                    .collect::<Vec<_>>();
                table(&["name", "roles", "team", "created"], &rows);
            });
        }
        Command::Change(command) => change(command, json)?,
        Command::Incident(command) => incident(command, json)?,
        Command::Events { client, after, limit } => {
            let answer = Client::new(&client).get(&format!("/api/v1/events?after={after}&limit={limit}"))?;
            emit(json, &answer, || {
                let rows = items(&answer)
                    .map(|event| {
                        vec![
                            cell(&event["sequence"]),
                            cell(&event["time"]),
                            cell(&event["stream"]),
                            cell(&event["type"]),
                            cell(&event["actor"]),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["seq", "time", "stream", "type", "actor"], &rows);
                if let Some(next) = answer["next_after"].as_u64() {
                    println!("\nNext page: changegate events --after {next}");
                }
            });
        }
        other => bail!("not a client command: {other:?}"),
    }
    Ok(())
}

fn items(answer: &Value) -> impl Iterator<Item = &Value> {
    answer["items"].as_array().into_iter().flatten()
}

/// Prints the JSON as is, or runs the human printer.
fn emit(json: bool, value: &Value, human: impl FnOnce()) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        human();
    }
}

/// Encodes a query-string value (ids, names and states never need it, but free text might).
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn change(command: ChangeCommand, json: bool) -> anyhow::Result<()> {
    let (action, args): (&str, ActionArgs) = match command {
        ChangeCommand::New(args) => return new_change(args, json),
        ChangeCommand::List { client, state, service, requester, limit, cursor } => {
            let mut query = vec![format!("limit={limit}")];
            for (key, value) in [("state", state), ("service", service), ("requester", requester), ("cursor", cursor)] {
                if let Some(value) = value {
                    query.push(format!("{key}={}", encode(&value)));
                }
            }
            let answer = Client::new(&client).get(&format!("/api/v1/changes?{}", query.join("&")))?;
            emit(json, &answer, || {
                let rows = items(&answer)
                    .map(|change| {
                        vec![
                            cell(&change["id"]),
                            cell(&change["state"]),
                            cell(&change["type"]),
                            cell(&change["assessment"]["risk_class"]),
                            cell(&change["service"]),
                            cell(&change["requester"]),
                            cell(&change["title"]),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["id", "state", "type", "risk", "service", "requester", "title"], &rows);
                if let Some(cursor) = answer["next_cursor"].as_str() {
                    println!("\nMore: changegate change list --cursor {cursor}");
                }
            });
            return Ok(());
        }
        ChangeCommand::Show { client, id } => {
            let answer = Client::new(&client).get(&format!("/api/v1/changes/{}", encode(&id)))?;
            emit(json, &answer, || show_change(&answer));
            return Ok(());
        }
        ChangeCommand::Submit(args) => ("submit", args),
        ChangeCommand::Approve(args) => ("approve", args),
        ChangeCommand::Reject(args) => ("reject", args),
        ChangeCommand::Schedule(args) => ("schedule", args),
        ChangeCommand::Start(args) => ("start", args),
        ChangeCommand::Complete(args) => ("complete", args),
        ChangeCommand::Verify(args) => ("verify", args),
        ChangeCommand::Fail(args) => ("fail", args),
        ChangeCommand::Rollback(args) => ("rollback", args),
        ChangeCommand::Review(args) => ("review", args),
        ChangeCommand::Close(args) => ("close", args),
        ChangeCommand::Cancel(args) => ("cancel", args),
    };
    let mut body = serde_json::Map::new();
    for (key, value) in [
        ("comment", &args.comment),
        ("root_cause", &args.root_cause),
        ("planned_start", &args.planned_start),
        ("planned_end", &args.planned_end),
    ] {
        if let Some(value) = value {
            body.insert(key.to_owned(), Value::String(value.clone()));
        }
    }
    let path = format!("/api/v1/changes/{}/actions/{action}", encode(&args.id));
    let change = Client::new(&args.client).post(&path, &Value::Object(body), args.idempotency_key.as_deref())?;
    emit(json, &change, || {
        let risk = change["assessment"]["risk_class"].as_str().map(|risk| format!(", risk {risk}")).unwrap_or_default();
        println!("{} is now {}{risk}.", cell(&change["id"]), cell(&change["state"]));
    });
    Ok(())
}

fn new_change(args: NewChangeArgs, json: bool) -> anyhow::Result<()> {
    let body = json!({
        "title": args.title,
        "type": args.change_type.unwrap_or_default(),
        "service": args.service,
        "environment": args.environment,
        "description": args.description,
        "implementation_plan": args.implementation_plan,
        "rollback_plan": args.rollback_plan,
        "planned_start": args.planned_start,
        "planned_end": args.planned_end,
        "links": args.links,
        "test_evidence": args.test_evidence,
        "security_evidence": args.security_evidence,
        "security_critical_findings": args.security_critical_findings,
        "template": args.template,
        "justification": args.justification,
        "commit": args.commit,
        "pipeline_url": args.pipeline_url,
    });
    let change = Client::new(&args.client).post("/api/v1/changes", &body, args.idempotency_key.as_deref())?;
    emit(json, &change, || {
        println!(
            "Created {} ({}). Submit it with: changegate change submit {}",
            cell(&change["id"]),
            cell(&change["state"]),
            cell(&change["id"])
        );
    });
    Ok(())
}

fn show_change(change: &Value) {
    fields(&[
        ("id", cell(&change["id"])),
        ("title", cell(&change["title"])),
        ("state", cell(&change["state"])),
        ("type", cell(&change["type"])),
        ("service", cell(&change["service"])),
        ("environment", cell(&change["environment"])),
        ("requester", cell(&change["requester"])),
        ("risk", cell(&change["assessment"]["risk_class"])),
        (
            "approvals",
            change["approvals"]
                .as_array()
                .map(|list| list.iter().map(|a| cell(&a["approver"])).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
        ),
        ("planned", format!("{} → {}", cell(&change["planned_start"]), cell(&change["planned_end"]))),
        ("links", cell(&change["links"])),
        ("you may", cell(&change["available_actions"])),
    ]);
    println!();
    let rows = change["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|event| {
            vec![
                cell(&event["sequence"]),
                cell(&event["time"]),
                cell(&event["type"]),
                cell(&event["actor"]),
                cell(&event["data"]["comment"]),
            ]
        })
        .collect::<Vec<_>>();
    table(&["seq", "time", "event", "actor", "comment"], &rows);
}

fn incident(command: IncidentCommand, json: bool) -> anyhow::Result<()> {
    match command {
        IncidentCommand::Open { client, title, service, severity, caused_by, detected_at } => {
            let body = json!({"title": title, "service": service, "severity": severity, "caused_by": caused_by, "detected_at": detected_at});
            let incident = Client::new(&client).post("/api/v1/incidents", &body, None)?;
            emit(json, &incident, || println!("Opened {} on {}.", cell(&incident["id"]), cell(&incident["service"])));
        }
        IncidentCommand::List { client, limit } => {
            let answer = Client::new(&client).get(&format!("/api/v1/incidents?limit={limit}"))?;
            emit(json, &answer, || {
                let rows = items(&answer)
                    .map(|incident| {
                        vec![
                            cell(&incident["id"]),
                            cell(&incident["severity"]),
                            cell(&incident["service"]),
                            cell(&incident["caused_by"]),
                            cell(&incident["detected_at"]),
                            cell(&incident["resolved_at"]),
                            cell(&incident["title"]),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["id", "sev", "service", "caused by", "detected", "resolved", "title"], &rows);
            });
        }
        IncidentCommand::Resolve { client, id, resolved_at } => {
            let body = json!({"resolved_at": resolved_at});
            let incident =
                Client::new(&client).post(&format!("/api/v1/incidents/{}/resolve", encode(&id)), &body, None)?;
            emit(json, &incident, || println!("Resolved {}.", cell(&incident["id"])));
        }
    }
    Ok(())
}
