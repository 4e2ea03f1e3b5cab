//! Client commands: each is one or two API calls and a table (or the raw JSON with `--json`).
//! Changes, incidents, services, users and events are read as the API's own types
//! (`changegate_api`), and the create requests are sent as them; `--json` prints the server's
//! answer as it came. The metrics report is still read as JSON.

use anyhow::bail;
use changegate_api::{
    ActionBody, ChangeDetailView, ChangePageView, ChangeView, CreateChangeRequest, CreateIncidentRequest,
    CreateServiceRequest, EventPageView, IncidentLinkDecisionRequest, IncidentView, LinkIncidentRequest, ListView,
    ResolveIncidentRequest, ServiceView, UpdateIncidentRequest, UserView,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::args::{ActionArgs, ChangeCommand, Command, IncidentCommand, NewChangeArgs, ServiceCommand, UserCommand};
use crate::client::{Client, typed};
use crate::output::{cell, fields, list, optional, table};

pub fn run(command: Command, json: bool) -> anyhow::Result<()> {
    match command {
        Command::Service(ServiceCommand::Add { client, name, team, tier, scopes, depends_on }) => {
            let body = CreateServiceRequest { name, team, tier, scopes, depends_on };
            let answer = Client::new(&client).post("/api/v1/services", &body, None)?;
            emit_as(json, &answer, "a service", |service: ServiceView| {
                println!("Registered {} (team {}, tier {}).", service.name, service.team, service.tier)
            })?;
        }
        Command::Service(ServiceCommand::List { client }) => {
            let answer = Client::new(&client).get("/api/v1/services")?;
            emit_as(json, &answer, "a list of services", |services: ListView<ServiceView>| {
                let rows = services
                    .items
                    .iter()
                    .map(|service| {
                        vec![
                            service.name.clone(),
                            service.team.clone(),
                            service.tier.to_string(),
                            list(&service.scopes),
                            list(&service.depends_on),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["name", "team", "tier", "scopes", "depends on"], &rows);
            })?;
        }
        Command::User(UserCommand::List { client }) => {
            let answer = Client::new(&client).get("/api/v1/users")?;
            emit_as(json, &answer, "a list of users", |users: ListView<UserView>| {
                let rows = users
                    .items
                    .iter()
                    .map(|user| {
                        vec![
                            user.name.clone(),
                            list(&user.roles),
                            optional(user.team.as_ref()),
                            user.created_at.clone(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["name", "roles", "team", "created"], &rows);
            })?;
        }
        Command::Change(command) => change(command, json)?,
        Command::Incident(command) => incident(command, json)?,
        Command::Events { client, after, limit } => {
            let answer = Client::new(&client).get(&format!("/api/v1/events?after={after}&limit={limit}"))?;
            emit_as(json, &answer, "a page of events", |page: EventPageView| {
                let rows = page
                    .items
                    .iter()
                    .map(|event| {
                        vec![
                            event.sequence.to_string(),
                            event.time.clone(),
                            event.stream.clone(),
                            event.event_type.clone(),
                            event.actor.clone(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["seq", "time", "stream", "type", "actor"], &rows);
                if let Some(next) = page.next_after {
                    println!("\nNext page: changegate events --after {next}");
                }
            })?;
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

/// Prints the JSON as is, or runs the human printer.
fn emit(json: bool, value: &Value, human: impl FnOnce()) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        human();
    }
}

/// Prints the JSON as is (the server's answer, never re-serialised), or reads it as the API's
/// type `T` (`what` names it in the error when it is not one) and runs the human printer on it.
fn emit_as<T: DeserializeOwned>(json: bool, value: &Value, what: &str, human: impl FnOnce(T)) -> anyhow::Result<()> {
    if json {
        emit(json, value, || {});
    } else {
        human(typed(value, what)?);
    }
    Ok(())
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
            return emit_as(json, &answer, "a page of changes", |page: ChangePageView| {
                let rows = page
                    .items
                    .iter()
                    .map(|change| {
                        vec![
                            change.id.clone(),
                            change.state.clone(),
                            change.change_type.clone(),
                            risk_class(change),
                            change.service.clone(),
                            change.requester.clone(),
                            change.title.clone(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["id", "state", "type", "risk", "service", "requester", "title"], &rows);
                if let Some(cursor) = &page.next_cursor {
                    println!("\nMore: changegate change list --cursor {cursor}");
                }
            });
        }
        ChangeCommand::Show { client, id } => {
            let answer = Client::new(&client).get(&format!("/api/v1/changes/{}", encode(&id)))?;
            return emit_as(json, &answer, "a change", |change: ChangeDetailView| show_change(&change));
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
    let body = ActionBody {
        comment: args.comment,
        root_cause: args.root_cause,
        planned_start: args.planned_start,
        planned_end: args.planned_end,
    };
    let path = format!("/api/v1/changes/{}/actions/{action}", encode(&args.id));
    let answer = Client::new(&args.client).post(&path, &body, args.idempotency_key.as_deref())?;
    emit_as(json, &answer, "a change", |change: ChangeView| {
        let risk = change.assessment.as_ref().map(|assessment| format!(", risk {}", assessment.risk_class));
        println!("{} is now {}{}.", change.id, change.state, risk.unwrap_or_default());
    })
}

fn new_change(args: NewChangeArgs, json: bool) -> anyhow::Result<()> {
    let body = CreateChangeRequest {
        title: args.title,
        description: args.description,
        change_type: args.change_type.unwrap_or_default(),
        service: args.service,
        environment: args.environment,
        implementation_plan: args.implementation_plan,
        rollback_plan: args.rollback_plan,
        planned_start: args.planned_start,
        planned_end: args.planned_end,
        links: args.links,
        test_evidence: args.test_evidence,
        security_evidence: args.security_evidence,
        security_critical_findings: args.security_critical_findings,
        template: args.template,
        justification: args.justification,
        commit: args.commit,
        pipeline_url: args.pipeline_url,
        code_metrics: None,
        commit_time: None,
    };
    let answer = Client::new(&args.client).post("/api/v1/changes", &body, args.idempotency_key.as_deref())?;
    emit_as(json, &answer, "a change", |change: ChangeView| {
        println!("Created {} ({}). Submit it with: changegate change submit {}", change.id, change.state, change.id);
    })
}

/// The change's risk class, `-` before it is assessed.
fn risk_class(change: &ChangeView) -> String {
    optional(change.assessment.as_ref().map(|assessment| &assessment.risk_class))
}

fn show_change(detail: &ChangeDetailView) {
    let change = &detail.change;
    fields(&[
        ("id", change.id.clone()),
        ("title", change.title.clone()),
        ("state", change.state.clone()),
        ("type", change.change_type.clone()),
        ("service", change.service.clone()),
        ("environment", change.environment.clone()),
        ("requester", change.requester.clone()),
        ("risk", risk_class(change)),
        (
            "approvals",
            change.approvals.iter().map(|approval| approval.approver.as_str()).collect::<Vec<_>>().join(", "),
        ),
        ("planned", format!("{} → {}", optional(change.planned_start.as_ref()), optional(change.planned_end.as_ref()))),
        ("links", list(&change.links)),
        ("you may", list(&detail.available_actions)),
    ]);
    println!();
    let rows = detail
        .events
        .iter()
        .map(|event| {
            vec![
                event.sequence.to_string(),
                event.time.clone(),
                event.event_type.clone(),
                event.actor.clone(),
                cell(&event.data["comment"]),
            ]
        })
        .collect::<Vec<_>>();
    table(&["seq", "time", "event", "actor", "comment"], &rows);
}

fn incident(command: IncidentCommand, json: bool) -> anyhow::Result<()> {
    let link_text = |incident: &IncidentView| -> String {
        match &incident.link {
            Some(link) => format!("{} ({})", link.change, link.provenance),
            None => "-".to_owned(),
        }
    };
    let show = |verb: &'static str| {
        move |incident: IncidentView| {
            println!("{verb} {} on {} ({}): {}", incident.id, incident.service, incident.severity, incident.title);
            println!("  link: {}", link_text(&incident));
            if let Some(rule) = incident.link.as_ref().and_then(|link| link.rule.as_ref()) {
                println!("  suggested by: {rule} (not counted until confirmed: `changegate incident confirm|reject`)");
            }
            println!(
                "  detected {}, resolved {}, downtime {} min",
                incident.detected_at,
                optional(incident.resolved_at.as_ref()),
                optional(incident.downtime_minutes)
            );
        }
    };
    match command {
        IncidentCommand::Open { client, title, service, severity, caused_by, detected_at, downtime_minutes } => {
            let body = CreateIncidentRequest { title, service, severity, detected_at, caused_by, downtime_minutes };
            let answer = Client::new(&client).post("/api/v1/incidents", &body, None)?;
            emit_as(json, &answer, "an incident", show("Opened"))?;
        }
        IncidentCommand::List { client, limit } => {
            let answer = Client::new(&client).get(&format!("/api/v1/incidents?limit={limit}"))?;
            emit_as(json, &answer, "a list of incidents", |incidents: ListView<IncidentView>| {
                let rows = incidents
                    .items
                    .iter()
                    .map(|incident| {
                        vec![
                            incident.id.clone(),
                            incident.severity.clone(),
                            incident.service.clone(),
                            link_text(incident),
                            incident.detected_at.clone(),
                            optional(incident.resolved_at.as_ref()),
                            optional(incident.downtime_minutes),
                            incident.title.clone(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["id", "sev", "service", "link", "detected", "resolved", "downtime", "title"], &rows);
            })?;
        }
        IncidentCommand::Show { client, id } => {
            let answer = Client::new(&client).get(&format!("/api/v1/incidents/{}", encode(&id)))?;
            emit_as(json, &answer, "an incident", show("Incident"))?;
        }
        IncidentCommand::Update { client, id, title, severity, detected_at, downtime_minutes, comment } => {
            let body = UpdateIncidentRequest { title, severity, detected_at, downtime_minutes, comment };
            let answer = Client::new(&client).patch(&format!("/api/v1/incidents/{}", encode(&id)), &body)?;
            emit_as(json, &answer, "an incident", show("Updated"))?;
        }
        IncidentCommand::Resolve { client, id, resolved_at, downtime_minutes, comment } => {
            let body = ResolveIncidentRequest { resolved_at, downtime_minutes, comment };
            let answer =
                Client::new(&client).post(&format!("/api/v1/incidents/{}/resolve", encode(&id)), &body, None)?;
            emit_as(json, &answer, "an incident", show("Resolved"))?;
        }
        IncidentCommand::Link { client, id, change, comment } => {
            let body = LinkIncidentRequest { change, comment };
            let answer = Client::new(&client).post(&format!("/api/v1/incidents/{}/link", encode(&id)), &body, None)?;
            emit_as(json, &answer, "an incident", show("Linked"))?;
        }
        IncidentCommand::Confirm { client, id, comment } => {
            let body = IncidentLinkDecisionRequest { comment };
            let path = format!("/api/v1/incidents/{}/confirm-link", encode(&id));
            let answer = Client::new(&client).post(&path, &body, None)?;
            emit_as(json, &answer, "an incident", show("Confirmed the link of"))?;
        }
        IncidentCommand::Reject { client, id, comment } => {
            let body = IncidentLinkDecisionRequest { comment };
            let path = format!("/api/v1/incidents/{}/reject-link", encode(&id));
            let answer = Client::new(&client).post(&path, &body, None)?;
            emit_as(json, &answer, "an incident", show("Rejected the link of"))?;
        }
    }
    Ok(())
}
