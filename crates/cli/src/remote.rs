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
        Command::Metrics { client, from, to, service, team, environment } => {
            let query: Vec<String> =
                [("from", from), ("to", to), ("service", service), ("team", team), ("environment", environment)]
                    .into_iter()
                    .filter_map(|(key, value)| value.map(|value| format!("{key}={}", encode(&value))))
                    .collect();
            let path = if query.is_empty() {
                "/api/v1/metrics".to_owned()
            } else {
                format!("/api/v1/metrics?{}", query.join("&"))
            };
            let report = Client::new(&client).get(&path)?;
            emit(json, &report, || show_metrics(&report));
        }
        other => bail!("not a client command: {other:?}"),
    }
    Ok(())
}

/// Hours for people: minutes below an hour, days from two days on; `-` when undefined.
fn duration(hours: &Value) -> String {
    match hours.as_f64() {
        Some(hours) if hours.abs() >= 48.0 => format!("{:.1} d", hours / 24.0),
        Some(hours) if hours.abs() >= 1.0 => format!("{hours:.1} h"),
        Some(hours) => format!("{:.0} min", hours * 60.0),
        None => "-".to_owned(),
    }
}

/// A rate as a percentage; `-` when undefined.
fn percent(rate: &Value) -> String {
    rate.as_f64().map_or_else(|| "-".to_owned(), |rate| format!("{:.1}%", rate * 100.0))
}

/// The headline numbers with their DORA bands, then one row per service.
fn show_metrics(report: &Value) {
    match report["period"].as_object() {
        Some(period) => println!(
            "Period {} to {} (end exclusive, {} days)\n",
            cell(&period["from"]),
            cell(&period["to"]),
            cell(&period["days"])
        ),
        None => println!("No deployment matches, so there is no period.\n"),
    }
    let bands = &report["bands"];
    let frequency = report["deployment_frequency_per_day"]
        .as_f64()
        .map_or_else(|| "-".to_owned(), |value| format!("{value:.2}/day"));
    let rows = vec![
        vec!["deployments".to_owned(), cell(&report["deployments"]), "-".to_owned()],
        vec!["deployment frequency".to_owned(), frequency, cell(&bands["deployment_frequency"])],
        vec!["lead time (median)".to_owned(), duration(&report["lead_time_median_hours"]), cell(&bands["lead_time"])],
        vec![
            "change failure rate".to_owned(),
            percent(&report["change_failure_rate"]),
            cell(&bands["change_failure_rate"]),
        ],
        vec![
            "failed deployment recovery (median)".to_owned(),
            duration(&report["failed_deployment_recovery_median_hours"]),
            cell(&bands["recovery_time"]),
        ],
        vec!["deployment rework rate".to_owned(), percent(&report["deployment_rework_rate"]), "-".to_owned()],
        vec!["approval time (median)".to_owned(), duration(&report["approval_time_median_hours"]), "-".to_owned()],
        vec!["MTTR".to_owned(), duration(&report["mttr_hours"]), "-".to_owned()],
        vec!["change-related incidents".to_owned(), cell(&report["change_related_incidents"]), "-".to_owned()],
        vec![
            "downtime from changes".to_owned(),
            format!("{} min", cell(&report["downtime_minutes_from_changes"])),
            "-".to_owned(),
        ],
    ];
    table(&["metric", "value", "dora band"], &rows);
    println!();
    let services = report["by_service"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let name = row["name"].as_str().unwrap_or_default();
            vec![
                cell(&row["name"]),
                cell(&row["deployments"]),
                duration(&row["lead_time_median_hours"]),
                percent(&row["change_failure_rate"]),
                duration(&row["failed_deployment_recovery_median_hours"]),
                cell(&row["change_related_incidents"]),
                duration(&row["mttr_hours"]),
                duration(&report["mtbf_hours_by_service"][name]),
            ]
        })
        .collect::<Vec<_>>();
    table(&["service", "deployments", "lead time", "failure rate", "recovery", "incidents", "mttr", "mtbf"], &services);
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
    let link_text = |incident: &Value| -> String {
        match incident["link"].as_object() {
            Some(link) => format!("{} ({})", cell(&link["change"]), cell(&link["provenance"])),
            None => "-".to_owned(),
        }
    };
    let show = |incident: &Value, verb: &str| {
        println!(
            "{verb} {} on {} ({}): {}",
            cell(&incident["id"]),
            cell(&incident["service"]),
            cell(&incident["severity"]),
            cell(&incident["title"])
        );
        println!("  link: {}", link_text(incident));
        if let Some(rule) = incident["link"]["rule"].as_str() {
            println!("  suggested by: {rule} (not counted until confirmed: `changegate incident confirm|reject`)");
        }
        println!(
            "  detected {}, resolved {}, downtime {} min",
            cell(&incident["detected_at"]),
            cell(&incident["resolved_at"]),
            cell(&incident["downtime_minutes"])
        );
    };
    match command {
        IncidentCommand::Open { client, title, service, severity, caused_by, detected_at, downtime_minutes } => {
            let body = json!({"title": title, "service": service, "severity": severity, "caused_by": caused_by,
                "detected_at": detected_at, "downtime_minutes": downtime_minutes});
            let incident = Client::new(&client).post("/api/v1/incidents", &body, None)?;
            emit(json, &incident, || show(&incident, "Opened"));
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
                            link_text(incident),
                            cell(&incident["detected_at"]),
                            cell(&incident["resolved_at"]),
                            cell(&incident["downtime_minutes"]),
                            cell(&incident["title"]),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["id", "sev", "service", "link", "detected", "resolved", "downtime", "title"], &rows);
            });
        }
        IncidentCommand::Show { client, id } => {
            let incident = Client::new(&client).get(&format!("/api/v1/incidents/{}", encode(&id)))?;
            emit(json, &incident, || show(&incident, "Incident"));
        }
        IncidentCommand::Update { client, id, title, severity, detected_at, downtime_minutes, comment } => {
            let body = json!({"title": title, "severity": severity, "detected_at": detected_at,
                "downtime_minutes": downtime_minutes, "comment": comment});
            let incident = Client::new(&client).patch(&format!("/api/v1/incidents/{}", encode(&id)), &body)?;
            emit(json, &incident, || show(&incident, "Updated"));
        }
        IncidentCommand::Resolve { client, id, resolved_at, downtime_minutes, comment } => {
            let body = json!({"resolved_at": resolved_at, "downtime_minutes": downtime_minutes, "comment": comment});
            let incident =
                Client::new(&client).post(&format!("/api/v1/incidents/{}/resolve", encode(&id)), &body, None)?;
            emit(json, &incident, || show(&incident, "Resolved"));
        }
        IncidentCommand::Link { client, id, change, comment } => {
            let body = json!({"change": change, "comment": comment});
            let incident =
                Client::new(&client).post(&format!("/api/v1/incidents/{}/link", encode(&id)), &body, None)?;
            emit(json, &incident, || show(&incident, "Linked"));
        }
        IncidentCommand::Confirm { client, id, comment } => {
            let body = json!({"comment": comment});
            let path = format!("/api/v1/incidents/{}/confirm-link", encode(&id));
            let incident = Client::new(&client).post(&path, &body, None)?;
            emit(json, &incident, || show(&incident, "Confirmed the link of"));
        }
        IncidentCommand::Reject { client, id, comment } => {
            let body = json!({"comment": comment});
            let path = format!("/api/v1/incidents/{}/reject-link", encode(&id));
            let incident = Client::new(&client).post(&path, &body, None)?;
            emit(json, &incident, || show(&incident, "Rejected the link of"));
        }
    }
    Ok(())
}
