//! `changegate assess`: the CMMI maturity assessment of change management, its questionnaire and
//! its reports.
//!
//! It opens the store directly by default (`--data-dir`, `--database-url`), so an organisation can
//! assess a history imported with `changegate import` without running a server; with `--server`
//! it asks a running server's API instead. Output: a table, `--json` (the assessment as the API
//! gives it), `--markdown`, or `--html FILE` (one self-contained page).
//!
//! Answers: `--interactive` asks the unanswered questions and records the answers; `--answers
//! FILE` (`{"<id>": true|false}`) is used for this run only, or recorded with `--record`. Recorded
//! answers are ledger events by who answered: the token's user through a server, or the store user
//! named with `--answered-by` locally.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use changegate_core::{Name, Role, Timestamp};
use changegate_maturity::{Assessment, Question, TrendPoint};
use changegate_service::{MaturityPeriod, Service, SystemClock, TREND_MONTHS_DEFAULT};
use serde_json::json;

use crate::args::{AssessArgs, ClientArgs};
use crate::client::Client;

/// Largest answers file read.
const ANSWERS_FILE_SIZE_MAX_BYTES: u64 = 64 * 1024;
/// Times an interactive question is asked again after an answer that is not y, n or empty.
const PROMPT_ATTEMPTS_MAX: u32 = 3;

pub fn run(arguments: AssessArgs, json: bool) -> anyhow::Result<()> {
    if json && arguments.markdown {
        bail!("--json and --markdown both print to standard output: choose one");
    }
    if arguments.record && arguments.answers.is_none() {
        bail!("--record records the answers of an --answers FILE: give the file");
    }
    let from = parse_time("--from", arguments.from.as_deref())?;
    let to = parse_time("--to", arguments.to.as_deref())?;
    let file_answers = arguments.answers.as_deref().map(read_answers).transpose()?;
    match arguments.server.clone() {
        Some(server) => {
            let client = Client::new(&ClientArgs { server, token: arguments.token.clone() });
            remote(&client, &arguments, json, (from, to), file_answers)
        }
        None => crate::setup::runtime()?.block_on(local(&arguments, json, (from, to), file_answers)),
    }
}

/// A date (`2026-03-01`, midnight UTC) or an RFC 3339 time.
fn parse_time(flag: &str, text: Option<&str>) -> anyhow::Result<Option<Timestamp>> {
    let Some(text) = text else { return Ok(None) };
    let full = if text.trim().len() == 10 { format!("{}T00:00:00Z", text.trim()) } else { text.to_owned() };
    Timestamp::parse_rfc3339(&full)
        .map(Some)
        .map_err(|_| anyhow!("{flag} `{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time"))
}

/// Reads `{"<question id>": true|false}`.
fn read_answers(path: &Path) -> anyhow::Result<BTreeMap<String, bool>> {
    let size = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    if size > ANSWERS_FILE_SIZE_MAX_BYTES {
        bail!("{} is larger than {ANSWERS_FILE_SIZE_MAX_BYTES} bytes: it cannot be an answers file", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not an answers file: it must be a JSON object of question ids and true or false, like \
             {{\"process.roles-published\": true}} (`changegate assess --questions` lists the ids)",
            path.display()
        )
    })
}

/// Asks each question on standard error and reads y or n from standard input; an empty line
/// leaves it unanswered.
fn ask(questions: &[Question]) -> anyhow::Result<BTreeMap<String, bool>> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut answers = BTreeMap::new();
    eprintln!("{} unanswered questions; answer y or n, or press Enter to skip.", questions.len());
    'questions: for question in questions {
        for _ in 0..PROMPT_ATTEMPTS_MAX {
            eprint!("[{} level {}] {} [y/n] ", question.dimension.title(), question.level, question.text);
            std::io::stderr().flush().ok();
            let Some(line) = lines.next() else { break 'questions };
            match line.context("reading an answer")?.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => {
                    answers.insert(question.id.clone(), true);
                    continue 'questions;
                }
                "n" | "no" => {
                    answers.insert(question.id.clone(), false);
                    continue 'questions;
                }
                "" => continue 'questions,
                _ => eprintln!("Answer y or n, or press Enter to skip."),
            }
        }
    }
    Ok(answers)
}

fn print_questions(questions: &[Question], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(questions)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = questions
        .iter()
        .map(|question| {
            vec![
                question.id.clone(),
                question.dimension.as_str().to_owned(),
                question.level.to_string(),
                question.text.clone(),
            ]
        })
        .collect();
    crate::output::table(&["id", "dimension", "level", "question"], &rows);
    Ok(())
}

async fn local(
    arguments: &AssessArgs,
    json: bool,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
    file_answers: Option<BTreeMap<String, bool>>,
) -> anyhow::Result<()> {
    let store = crate::setup::open_store(&arguments.store).await?;
    let service = Service::new(store, std::sync::Arc::new(SystemClock));
    if arguments.questions {
        return print_questions(&service.maturity_questions(), json);
    }
    // Reading needs no particular role; the store's operator reads as `system`.
    let reader = service.system_caller(Role::Auditor);
    let recording = arguments.interactive || arguments.record;
    let answerer = match (&arguments.answered_by, recording) {
        (Some(name), true) => {
            let name = Name::parse(name).map_err(|message| anyhow!("--answered-by: {message}"))?;
            let user = service
                .local_caller_as(&name)
                .await?
                .ok_or_else(|| anyhow!("--answered-by: there is no user {name} in this store"))?;
            Some(user)
        }
        (None, true) => bail!(
            "recording answers locally needs --answered-by USER (a user of this store with the admin or cab role): \
             answers are recorded with who gave them"
        ),
        (Some(_), false) => bail!("--answered-by names who records answers: use it with --interactive or --record"),
        (None, false) => None,
    };
    let mut one_run = BTreeMap::new();
    if let Some(answers) = file_answers {
        match &answerer {
            Some(caller) if arguments.record => {
                service.answer_maturity(caller, answers, Some("recorded from an answers file".into())).await?;
            }
            _ => one_run = answers,
        }
    }
    if let (true, Some(caller)) = (arguments.interactive, &answerer) {
        let answered = service.maturity_answers(&reader).await?;
        let unanswered: Vec<Question> = service
            .maturity_questions()
            .into_iter()
            .filter(|question| {
                !answered.iter().any(|answer| answer.id == question.id) && !one_run.contains_key(&question.id)
            })
            .collect();
        let given = ask(&unanswered)?;
        if given.is_empty() {
            eprintln!("Nothing answered; nothing recorded.");
        } else {
            service.answer_maturity(caller, given, Some("answered at the command line".into())).await?;
            eprintln!("Answers recorded in the ledger as {}.", caller.name());
        }
    }
    let months = wanted_months(arguments, json).unwrap_or(0);
    let (assessment, trend) = service.maturity_report(&reader, MaturityPeriod { from, to }, &one_run, months).await?;
    report(arguments, json, &assessment, &trend)
}

/// Months of trend to show: asked for with `--months`, else the default for the reports and the
/// table; none for plain `--json` (the assessment alone, as the API gives it).
fn wanted_months(arguments: &AssessArgs, json: bool) -> Option<u32> {
    match arguments.months {
        Some(months) => Some(months),
        None if json => None,
        None => Some(TREND_MONTHS_DEFAULT),
    }
}

fn remote(
    client: &Client,
    arguments: &AssessArgs,
    json: bool,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
    file_answers: Option<BTreeMap<String, bool>>,
) -> anyhow::Result<()> {
    if arguments.answered_by.is_some() {
        bail!("--answered-by is for local mode: through a server, answers are recorded as the token's user");
    }
    let questions: Vec<Question> =
        serde_json::from_value(client.get("/api/v1/maturity/questions")?).context("reading the server's questions")?;
    if arguments.questions {
        return print_questions(&questions, json);
    }
    if let Some(answers) = file_answers {
        if !arguments.record {
            bail!(
                "through a server, an answers file is recorded (add --record) or not used; to use it for one run \
                 without recording it, assess the store locally with --data-dir or --database-url"
            );
        }
        client.post(
            "/api/v1/maturity/answers",
            &json!({"answers": answers, "comment": "recorded from an answers file"}),
            None,
        )?;
    }
    if arguments.interactive {
        let answered = client.get("/api/v1/maturity/answers")?;
        let answered_ids: Vec<&str> =
            answered.as_array().into_iter().flatten().filter_map(|answer| answer["id"].as_str()).collect();
        let unanswered: Vec<Question> =
            questions.into_iter().filter(|question| !answered_ids.contains(&question.id.as_str())).collect();
        let given = ask(&unanswered)?;
        if given.is_empty() {
            eprintln!("Nothing answered; nothing recorded.");
        } else {
            client.post(
                "/api/v1/maturity/answers",
                &json!({"answers": given, "comment": "answered at the command line"}),
                None,
            )?;
            eprintln!("Answers recorded in the ledger.");
        }
    }
    let mut query = Vec::new();
    if let Some(from) = from {
        query.push(format!("from={}", crate::remote::encode(&from.to_rfc3339())));
    }
    if let Some(to) = to {
        query.push(format!("to={}", crate::remote::encode(&to.to_rfc3339())));
    }
    let path =
        if query.is_empty() { "/api/v1/maturity".to_owned() } else { format!("/api/v1/maturity?{}", query.join("&")) };
    let body = client.get(&path)?;
    let assessment: Assessment = serde_json::from_value(body).context("reading the server's assessment")?;
    let trend: Vec<TrendPoint> = match wanted_months(arguments, json) {
        Some(months) => {
            let path = format!(
                "/api/v1/maturity/trend?months={months}&to={}",
                crate::remote::encode(&assessment.to.to_rfc3339())
            );
            serde_json::from_value(client.get(&path)?).context("reading the server's trend")?
        }
        None => Vec::new(),
    };
    report(arguments, json, &assessment, &trend)
}

fn report(arguments: &AssessArgs, json: bool, assessment: &Assessment, trend: &[TrendPoint]) -> anyhow::Result<()> {
    if let Some(path) = &arguments.html {
        std::fs::write(path, changegate_maturity::report::html(assessment, trend))
            .with_context(|| format!("writing {}", path.display()))?;
        if !json {
            eprintln!("Wrote the report to {}.", path.display());
        }
    }
    if json {
        let mut value = serde_json::to_value(assessment)?;
        if arguments.months.is_some() {
            value["trend"] = serde_json::to_value(trend)?;
        }
        println!("{value}");
        return Ok(());
    }
    if arguments.markdown {
        print!("{}", changegate_maturity::report::markdown(assessment, trend));
        return Ok(());
    }
    if arguments.html.is_some() {
        return Ok(());
    }
    print_table(assessment, trend);
    Ok(())
}

fn print_table(assessment: &Assessment, trend: &[TrendPoint]) {
    use changegate_maturity::report::{threshold_text, value_text};
    let day = |time: Timestamp| time.to_rfc3339().chars().take(10).collect::<String>();
    println!(
        "Overall level {} ({}): the lowest dimension. Period {} to {}, {} production deployments ({} imported), rubric {}.",
        assessment.overall_level,
        assessment.overall_level_name,
        day(assessment.from),
        day(assessment.to),
        assessment.deployments,
        assessment.imported_deployments,
        assessment.rubric_version
    );
    println!();
    let rows: Vec<Vec<String>> = assessment
        .dimensions
        .iter()
        .map(|dimension| {
            let next = if dimension.level >= changegate_maturity::LEVEL_MAX {
                "-".to_owned()
            } else {
                format!("{:.0}% of level {}", dimension.progress * 100.0, dimension.level + 1)
            };
            vec![dimension.name.as_str().to_owned(), format!("{} {}", dimension.level, dimension.level_name), next]
        })
        .collect();
    crate::output::table(&["dimension", "level", "next level met"], &rows);
    for dimension in &assessment.dimensions {
        println!("\n{}: level {} ({})", dimension.title, dimension.level, dimension.level_name);
        for criterion in &dimension.criteria {
            println!(
                "  {} L{} {:<38} {:>10}  need {:<12} {}",
                if criterion.met { "✓" } else { "✗" },
                criterion.level,
                criterion.id,
                value_text(criterion.unit, criterion.value),
                threshold_text(criterion),
                criterion.evidence.summary
            );
        }
    }
    println!("\nRoadmap");
    if assessment.roadmap.is_empty() {
        println!("  Every dimension is at level 5: keep the feedback loop going.");
    }
    for (index, step) in assessment.roadmap.iter().enumerate() {
        println!(
            "  {}. {} {} → {}: {} ({}, impact {})\n     {} Changegate: {}.",
            index + 1,
            step.dimension.title(),
            step.from_level,
            step.to_level,
            step.title,
            step.criterion,
            step.impact,
            step.step,
            step.feature
        );
    }
    if !trend.is_empty() {
        println!("\nTrend (each month over the 90 days before its end)");
        let rows: Vec<Vec<String>> = trend
            .iter()
            .map(|point| {
                let mut row = vec![point.month.clone(), point.overall_level.to_string()];
                row.extend(point.dimensions.iter().map(|dimension| dimension.level.to_string()));
                row.push(point.deployments.to_string());
                row
            })
            .collect();
        crate::output::table(
            &["month", "overall", "process", "risk", "metrics", "automation", "audit", "deployments"],
            &rows,
        );
    }
    if !assessment.unanswered_questions.is_empty() {
        println!(
            "\n{} questions are unanswered and count as no: `changegate assess --interactive` asks them.",
            assessment.unanswered_questions.len()
        );
    }
}
