//! Client commands for governance: the policy in force (`policy current|versions|set`),
//! standard-change templates, the change calendar and the approvals inbox.

use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::args::{CalendarCommand, ClientArgs, TemplateCommand};
use crate::client::Client;
use crate::output::{cell, table};

/// Most bytes read from one window definition file.
const WINDOW_FILE_BYTES_MAX: u64 = 1 << 20;

fn emit(json: bool, value: &Value, human: impl FnOnce()) {
    if json {
        println!("{value}");
    } else {
        human();
    }
}

fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

fn short(hash: &Value) -> String {
    hash.as_str().map(|text| text.chars().take(12).collect()).unwrap_or_else(|| "-".to_owned())
}

/// `changegate policy set --file F…`: puts a new policy version in force on the server.
pub fn set_policy(
    client: &ClientArgs,
    paths: &[std::path::PathBuf],
    comment: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for path in paths {
        for file in crate::policy::read_policy_files(path)? {
            files.push(json!({"name": file.name, "text": file.text}));
        }
    }
    let version = Client::new(client).put("/api/v1/policy", &json!({"files": files, "comment": comment}))?;
    emit(json, &version, || {
        println!(
            "Policy {} is in force (set by {} at {}); every decision from now records this hash.",
            cell(&version["sha256"]),
            cell(&version["set_by"]),
            cell(&version["set_at"])
        )
    });
    Ok(())
}

/// `changegate policy current`: the version in force on the server.
pub fn current_policy(client: &ClientArgs, json: bool) -> anyhow::Result<()> {
    let version = Client::new(client).get("/api/v1/policy")?;
    emit(json, &version, || {
        println!("Policy in force: {} ({})", cell(&version["sha256"]), cell(&version["source"]));
        if version["set_by"].is_string() {
            println!(
                "Set by {} at {}: {}",
                cell(&version["set_by"]),
                cell(&version["set_at"]),
                cell(&version["comment"])
            );
        }
        for file in list(&version["files"]) {
            println!("\n# {}\n{}", cell(&file["name"]), file["text"].as_str().unwrap_or_default());
        }
    });
    Ok(())
}

/// `changegate policy versions`: every version set, oldest first.
pub fn policy_versions(client: &ClientArgs, json: bool) -> anyhow::Result<()> {
    let versions = Client::new(client).get("/api/v1/policy/versions")?;
    emit(json, &versions, || {
        let rows: Vec<Vec<String>> = list(&versions)
            .map(|version| {
                vec![
                    cell(&version["sequence"]),
                    short(&version["sha256"]),
                    cell(&version["set_by"]),
                    cell(&version["set_at"]),
                    cell(&version["comment"]),
                ]
            })
            .collect();
        if rows.is_empty() {
            println!("No policy was set: the default policy shipped in the binary is in force.");
        } else {
            table(&["ledger seq", "sha256", "set by", "set at", "comment"], &rows);
        }
    });
    Ok(())
}

pub fn template(command: TemplateCommand, json: bool) -> anyhow::Result<()> {
    match command {
        TemplateCommand::List { client } => {
            let templates = Client::new(&client).get("/api/v1/templates")?;
            emit(json, &templates, || {
                let rows: Vec<Vec<String>> = list(&templates)
                    .map(|template| {
                        vec![
                            cell(&template["name"]),
                            if template["approved"].as_bool() == Some(true) { "yes" } else { "no" }.to_owned(),
                            cell(&template["max_risk"]),
                            cell(&template["services"]),
                            cell(&template["teams"]),
                            cell(&template["environments"]),
                            cell(&template["description"]),
                        ]
                    })
                    .collect();
                table(&["name", "approved", "max risk", "services", "teams", "environments", "description"], &rows);
            });
        }
        TemplateCommand::Add { client, name, description, services, teams, environments, max_risk, retired } => {
            let body = json!({
                "name": name, "description": description, "services": services, "teams": teams,
                "environments": environments, "max_risk": max_risk, "approved": !retired,
            });
            let template = Client::new(&client).post("/api/v1/templates", &body, None)?;
            emit(json, &template, || {
                println!(
                    "Template {} defined (max risk {}, {}). Use it with `changegate change new --template {}`.",
                    cell(&template["name"]),
                    cell(&template["max_risk"]),
                    if template["approved"].as_bool() == Some(true) { "approved" } else { "retired" },
                    cell(&template["name"])
                )
            });
        }
    }
    Ok(())
}

fn read_window(path: &Path) -> anyhow::Result<Value> {
    let size = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    if size > WINDOW_FILE_BYTES_MAX {
        bail!("{} is larger than {WINDOW_FILE_BYTES_MAX} bytes", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

pub fn calendar(command: CalendarCommand, json: bool) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Show { client, from, to } => {
            let mut query = Vec::new();
            if let Some(from) = from {
                query.push(format!("from={from}"));
            }
            if let Some(to) = to {
                query.push(format!("to={to}"));
            }
            let path = if query.is_empty() {
                "/api/v1/calendar".to_owned()
            } else {
                format!("/api/v1/calendar?{}", query.join("&"))
            };
            let view = Client::new(&client).get(&path)?;
            emit(json, &view, || {
                println!("Calendar from {} to {}\n", cell(&view["from"]), cell(&view["to"]));
                let rows: Vec<Vec<String>> = list(&view["occurrences"])
                    .map(|occurrence| {
                        vec![
                            cell(&occurrence["start"]),
                            cell(&occurrence["end"]),
                            cell(&occurrence["kind"]),
                            cell(&occurrence["name"]),
                            cell(&occurrence["scope"]),
                        ]
                    })
                    .collect();
                table(&["start", "end", "kind", "window", "scope"], &rows);
                let changes: Vec<Vec<String>> = list(&view["changes"])
                    .map(|change| {
                        vec![
                            cell(&change["planned_start"]),
                            cell(&change["planned_end"]),
                            cell(&change["id"]),
                            cell(&change["service"]),
                            cell(&change["state"]),
                            cell(&change["title"]),
                        ]
                    })
                    .collect();
                if !changes.is_empty() {
                    println!("\nPlanned changes:");
                    table(&["start", "end", "change", "service", "state", "title"], &changes);
                }
            });
        }
        CalendarCommand::List { client } => {
            let windows = Client::new(&client).get("/api/v1/calendar/windows")?;
            emit(json, &windows, || {
                let rows: Vec<Vec<String>> = list(&windows)
                    .map(|record| {
                        let window = &record["window"];
                        let schedule = &window["schedule"];
                        let when = match schedule["kind"].as_str() {
                            Some("one_off") => format!("{} → {}", cell(&schedule["start"]), cell(&schedule["end"])),
                            _ => format!(
                                "{} ({}, {} min)",
                                schedule["rule"].as_str().unwrap_or_default().replace('\n', " "),
                                cell(&schedule["time_zone"]),
                                cell(&schedule["duration_minutes"])
                            ),
                        };
                        let scope = &window["scope"];
                        let scope = match scope["name"].as_str() {
                            Some(name) => format!("{} {name}", cell(&scope["kind"])),
                            None => cell(&scope["kind"]),
                        };
                        vec![cell(&record["name"]), cell(&window["kind"]), scope, when, cell(&window["description"])]
                    })
                    .collect();
                table(&["name", "kind", "scope", "when", "description"], &rows);
            });
        }
        CalendarCommand::Add {
            client,
            file,
            name,
            kind,
            team,
            service,
            start,
            end,
            rule,
            time_zone,
            duration_minutes,
            description,
        } => {
            let body = match file {
                Some(path) => read_window(&path)?,
                None => {
                    let Some(name) = name else { bail!("give --name (or --file with the window as JSON)") };
                    let scope = match (team, service) {
                        (Some(_), Some(_)) => bail!("give --team or --service, not both"),
                        (Some(team), None) => json!({"kind": "team", "name": team}),
                        (None, Some(service)) => json!({"kind": "service", "name": service}),
                        (None, None) => json!({"kind": "global"}),
                    };
                    let schedule = match (rule, start, end) {
                        (Some(rule), None, None) => json!({
                            "kind": "recurring", "rule": rule.replace("\\n", "\n"), "time_zone": time_zone,
                            "duration_minutes": duration_minutes,
                        }),
                        (None, Some(start), Some(end)) => json!({"kind": "one_off", "start": start, "end": end}),
                        _ => bail!("give either --rule (with --time-zone and --duration-minutes) or --start and --end"),
                    };
                    json!({"name": name, "kind": kind, "scope": scope, "schedule": schedule, "description": description})
                }
            };
            let window = Client::new(&client).post("/api/v1/calendar/windows", &body, None)?;
            emit(json, &window, || println!("Window {} defined.", cell(&window["name"])));
        }
        CalendarCommand::Remove { client, name } => {
            Client::new(&client).delete(&format!("/api/v1/calendar/windows/{name}"))?;
            emit(json, &json!({"removed": name}), || println!("Window {name} removed."));
        }
    }
    Ok(())
}

/// `changegate approvals`: what the caller may approve now.
pub fn approvals(client: &ClientArgs, json: bool) -> anyhow::Result<()> {
    let inbox = Client::new(client).get("/api/v1/approvals")?;
    emit(json, &inbox, || {
        let rows: Vec<Vec<String>> = list(&inbox)
            .map(|item| {
                let change = &item["change"];
                let assessment = &change["assessment"];
                let missing: Vec<String> = list(&item["missing"])
                    .map(|required| format!("{}×{}", cell(&required["count"]), cell(&required["role"])))
                    .collect();
                let mut notes: Vec<String> = list(&assessment["warn"]).map(cell).collect();
                if item["retrospective"].as_bool() == Some(true) {
                    notes.insert(0, "retrospective".to_owned());
                }
                vec![
                    cell(&change["id"]),
                    cell(&change["type"]),
                    cell(&change["service"]),
                    cell(&assessment["risk_class"]),
                    cell(&change["requester"]),
                    missing.join(", "),
                    cell(&assessment["conflicts"]),
                    cell(&change["title"]),
                    notes.join("; "),
                ]
            })
            .collect();
        if rows.is_empty() {
            println!("Nothing awaits your approval.");
        } else {
            table(&["change", "type", "service", "risk", "requester", "missing", "conflicts", "title", "notes"], &rows);
            println!(
                "\nApprove with `changegate change approve CHG-… -m \"…\"` or reject with `changegate change reject`."
            );
        }
    });
    Ok(())
}
