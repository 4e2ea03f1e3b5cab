//! Gate decision latency: `pipelines` concurrent CI pipelines each run the decision path of
//! `changegate gate` over and over for `seconds`: `POST /api/v1/changes` (a standard change from
//! an approved template, with a rollback plan and evidence, so that it is low risk) then
//! `POST …/actions/submit`, where the risk score and the policy decide and auto-approve it. Each
//! pipeline deploys its own tier-3 service; all of them use one CI user, as a CI system does. The
//! server runs in-process on a fresh SQLite store in a temp dir, or on PostgreSQL with
//! `--database-url` (an empty database). The load generator shares the machine's cores with the
//! server, so the figures are a floor.
//!
//! Usage: gate_bench [--pipelines 32] [--seconds 20] [--database-url postgres://…]
//!
//! Prints the decision latency (create + submit round trips) and its two halves, decisions per
//! second (each submit is one policy evaluation), the latency by quarter of the run (the store
//! grows as it runs), then where a submit's time goes: the submit and create commands and each
//! read of the assessment, timed one at a time in-process on the store the run filled; and the
//! raw SQLite single-row commit rate on the same disk as the baseline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use changegate_bench::{percentile, raw_commit_rate, raw_sqlite};
use changegate_core::{Action, Name};
use changegate_server::{Application, ServerConfig};
use changegate_service::{ActionRequest, Caller, NewChange, NewService, NewTemplate, NewUser, Service, SystemClock};
use changegate_store::{Store, StoreLocation};
use serde_json::{Value, json};

/// Requests that start in this first stretch warm caches and connections and are not counted.
const WARM_UP_MS: u64 = 2_000;
/// Bounds on the arguments.
const PIPELINES_MAX: usize = 1_024;
const SECONDS_MAX: u64 = 3_600;
/// Sequential rounds of each in-process timing.
const ATTRIBUTION_ROUNDS: u32 = 200;

struct Arguments {
    pipelines: usize,
    seconds: u64,
    database_url: Option<String>,
}

fn arguments() -> Result<Arguments, String> {
    let mut parsed = Arguments { pipelines: 32, seconds: 20, database_url: None };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("{word} needs a value"));
        match word.as_str() {
            "--pipelines" => parsed.pipelines = value()?.parse().map_err(|_| "--pipelines takes a number")?,
            "--seconds" => parsed.seconds = value()?.parse().map_err(|_| "--seconds takes a number")?,
            "--database-url" => parsed.database_url = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: gate_bench [--pipelines 32] [--seconds 20] [--database-url URL]"
                ));
            }
        }
    }
    if parsed.pipelines == 0 || parsed.pipelines > PIPELINES_MAX {
        return Err(format!("--pipelines must be 1 to {PIPELINES_MAX}"));
    }
    if parsed.seconds == 0 || parsed.seconds > SECONDS_MAX {
        return Err(format!("--seconds must be 1 to {SECONDS_MAX}"));
    }
    Ok(parsed)
}

/// One decision: when it began, and its two round trips.
struct Sample {
    began: Instant,
    create: Duration,
    submit: Duration,
}

fn main() {
    let arguments = match arguments() {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("gate_bench: {message}");
            std::process::exit(2);
        }
    };
    let directory = std::env::temp_dir().join(format!("changegate-bench-gate-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let (location, backend) = match &arguments.database_url {
        Some(url) => (StoreLocation::Postgres(url.clone()), "PostgreSQL"),
        None => (StoreLocation::DataDir(directory.join("store")), "SQLite (WAL, synchronous=FULL)"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (base, token, store, service, pipeline_caller) = runtime.block_on(async {
        let store = Store::open(&location).await.expect("opening the store");
        let service = Service::new(store.clone(), Arc::new(SystemClock));
        let admin = service
            .bootstrap_admin("admin")
            .await
            .expect("bootstrapping the admin (with --database-url, give an empty database)");
        let caller = admin.caller();
        for pipeline in 0..arguments.pipelines {
            let name = service_name(pipeline);
            let input = NewService { name, team: "platform".into(), tier: 3, ..NewService::default() };
            service.register_service(&caller, input, None).await.unwrap();
        }
        let template = NewTemplate {
            name: "dependency-bump".into(),
            description: "Bump a dependency through the pipeline".into(),
            services: Vec::new(),
            teams: Vec::new(),
            environments: vec!["production".into()],
            max_risk: "low".into(),
            approved: true,
        };
        service.define_template(&caller, template).await.unwrap();
        let pipeline = NewUser { name: "pipeline".into(), roles: vec!["requester".into()], team: None };
        let pipeline = service.create_user(&caller, pipeline).await.unwrap();
        let config = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), secure_cookies: false };
        let application = Application::build(service.clone(), config).await.unwrap();
        let base = format!("http://{}", application.local_addr());
        tokio::spawn(application.run_until(std::future::pending()));
        (base, pipeline.token.clone(), store, service, pipeline.caller())
    });

    println!("in-process, one call at a time, {ATTRIBUTION_ROUNDS} rounds each, on the fresh store:");
    runtime.block_on(attribution(&store, &service, &pipeline_caller, false));

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let counted_from = started + Duration::from_millis(WARM_UP_MS);
    let workers: Vec<_> = (0..arguments.pipelines)
        .map(|pipeline| {
            let base = base.clone();
            let token = token.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                let authorization = format!("Bearer {token}");
                let mut samples = Vec::new();
                let mut number = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body = json!({
                        "title": format!("pipeline {pipeline} run {number}: bump serde"),
                        "type": "standard",
                        "template": "dependency-bump",
                        "service": service_name(pipeline),
                        "environment": "production",
                        "rollback_plan": "revert the commit and redeploy",
                        "commit": "0123456789abcdef0123456789abcdef01234567",
                        "pipeline_url": format!("https://ci.example.com/pipelines/{pipeline}/runs/{number}"),
                        "test_evidence": "JUnit: 812 tests, 0 failures (junit.xml)",
                        "security_evidence": "SARIF: 3 results, 0 critical (level error, security-severity ≥ 9.0); 3 note; Trivy (trivy.sarif)",
                        "security_critical_findings": 0,
                    });
                    let began = Instant::now();
                    let mut response = agent
                        .post(format!("{base}/api/v1/changes"))
                        .header("Authorization", &authorization)
                        .send_json(&body)
                        .unwrap();
                    let create = began.elapsed();
                    let change: Value = response.body_mut().read_json().unwrap();
                    assert_eq!(response.status(), 201, "{change}");
                    let id = change["id"].as_str().unwrap().to_owned();
                    let submitted = Instant::now();
                    let mut response = agent
                        .post(format!("{base}/api/v1/changes/{id}/actions/submit"))
                        .header("Authorization", &authorization)
                        .send_empty()
                        .unwrap();
                    let submit = submitted.elapsed();
                    let change: Value = response.body_mut().read_json().unwrap();
                    assert_eq!(response.status(), 200, "{change}");
                    assert_eq!(change["state"], "approved", "the gate's decision: {change}");
                    assert_eq!(change["auto_approved"], true, "{change}");
                    samples.push(Sample { began, create, submit });
                    number += 1;
                }
                samples
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(WARM_UP_MS) + Duration::from_secs(arguments.seconds));
    stop.store(true, Ordering::Relaxed);
    let ended = Instant::now();
    let samples: Vec<Sample> = workers
        .into_iter()
        .flat_map(|worker| worker.join().unwrap())
        .filter(|sample| sample.began >= counted_from)
        .collect();
    let elapsed = ended.duration_since(counted_from).as_secs_f64();

    let sorted = |pick: &dyn Fn(&Sample) -> Duration| {
        let mut durations: Vec<Duration> = samples.iter().map(pick).collect();
        durations.sort();
        durations
    };
    let decisions = sorted(&|sample| sample.create + sample.submit);
    let creates = sorted(&|sample| sample.create);
    let submits = sorted(&|sample| sample.submit);
    let decisions_per_second = decisions.len() as f64 / elapsed;
    println!(
        "backend: {backend}; pipelines: {}; measured: {elapsed:.1} s after {WARM_UP_MS} ms of warm-up; decisions: {}",
        arguments.pipelines,
        decisions.len()
    );
    println!("decisions/s (create + submit, auto-approved): {decisions_per_second:.0}");
    println!("policy evaluations/s in the server (one per submit): {decisions_per_second:.0}");
    println!("write requests/s: {:.0}", 2.0 * decisions_per_second);
    for (name, durations) in [("decision (create+submit)", &decisions), ("create", &creates), ("submit", &submits)] {
        println!(
            "{name:<25} p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms",
            milliseconds(percentile(durations, 50.0)),
            milliseconds(percentile(durations, 90.0)),
            milliseconds(percentile(durations, 99.0)),
            milliseconds(durations.last().copied().unwrap_or_default()),
        );
    }
    let quarter = ended.duration_since(counted_from) / 4;
    for part in 0..4u32 {
        let from = counted_from + quarter * part;
        let mut durations: Vec<Duration> = samples
            .iter()
            .filter(|sample| sample.began >= from && sample.began < from + quarter)
            .map(|sample| sample.create + sample.submit)
            .collect();
        durations.sort();
        println!(
            "quarter {} of the run: {:>5} decisions, p50 {:>6.2} ms, p99 {:>6.2} ms",
            part + 1,
            durations.len(),
            milliseconds(percentile(&durations, 50.0)),
            milliseconds(percentile(&durations, 99.0)),
        );
    }
    let counts = runtime.block_on(store.count_changes_by_state()).expect("counting changes");
    let changes: u64 = counts.iter().map(|count| count.count).sum();
    println!(
        "in-process, one call at a time, {ATTRIBUTION_ROUNDS} rounds each, on the store the run filled ({changes} changes):"
    );
    runtime.block_on(attribution(&store, &service, &pipeline_caller, true));
    let raw = runtime.block_on(async {
        let pool = raw_sqlite(&directory).await;
        raw_commit_rate(&pool, 2_000, 1).await
    });
    println!("baseline, same run: raw SQLite single-row commits/s (WAL, synchronous=FULL) on this disk: {raw:.0}");
    std::fs::remove_dir_all(&directory).ok();
}

fn service_name(pipeline: usize) -> String {
    format!("service-{pipeline:03}")
}

/// Times `rounds` sequential calls of `call` and prints the mean and percentiles.
async fn time<T, E: std::fmt::Debug>(name: &str, mut call: impl AsyncFnMut(u32) -> Result<T, E>) {
    let mut durations = Vec::with_capacity(ATTRIBUTION_ROUNDS as usize);
    for round in 0..ATTRIBUTION_ROUNDS {
        let began = Instant::now();
        call(round).await.unwrap_or_else(|error| panic!("{name}: {error:?}"));
        durations.push(began.elapsed());
    }
    let mean = durations.iter().sum::<Duration>() / ATTRIBUTION_ROUNDS;
    durations.sort();
    println!(
        "  {name:<58} mean {:>7.3} ms  p50 {:>7.3} ms  p99 {:>7.3} ms",
        milliseconds(mean),
        milliseconds(percentile(&durations, 50.0)),
        milliseconds(percentile(&durations, 99.0)),
    );
}

/// Where a submit's time goes, one call at a time, in-process (no HTTP) on the filled store.
/// With `reads`, also times each read of the assessment on `store` (the service's own store, read
/// directly: the benchmark measures the reads the service makes).
async fn attribution(store: &Store, service: &Service, pipeline: &Caller, reads: bool) {
    let requester = pipeline.name().clone();
    let service_zero = Name::parse(&service_name(0)).unwrap();
    let template = Name::parse("dependency-bump").unwrap();
    let now = service.now();
    let since = now.plus_ms(-90 * 24 * 60 * 60 * 1000);
    let mut drafts = Vec::with_capacity(ATTRIBUTION_ROUNDS as usize);
    time("create_change (one write transaction)", async |round| {
        let input = NewChange {
            title: format!("attribution {round}"),
            change_type: "standard".into(),
            template: Some("dependency-bump".into()),
            service: service_name(0),
            environment: "production".into(),
            rollback_plan: Some("revert the commit and redeploy".into()),
            test_evidence: Some("JUnit: 812 tests, 0 failures (junit.xml)".into()),
            security_evidence: Some("SARIF: 0 results, 0 critical".into()),
            security_critical_findings: Some(0),
            ..NewChange::default()
        };
        let outcome = service.create_change(pipeline, input, None).await?;
        drafts.push(outcome.value.id);
        Ok::<_, changegate_service::ServiceError>(())
    })
    .await;
    time("submit (assessment, risk, policy and append, in the write lock)", async |round| {
        let id = drafts[round as usize];
        let outcome = service.act(pipeline, id, Action::Submit, ActionRequest::default(), None).await?;
        assert!(outcome.value.auto_approved, "auto-approved");
        Ok::<_, changegate_service::ServiceError>(())
    })
    .await;
    if !reads {
        return;
    }
    println!("  of which the assessment's reads (each on the read pool):");
    time("history_counts (service and requester history)", async |_| {
        store.history_counts(&service_zero, &requester, since, now).await
    })
    .await;
    time("planned_changes_before (conflict candidates)", async |_| {
        store.planned_changes_before(now.plus_ms(3_600_000)).await
    })
    .await;
    time("services (all, for dependents and dependencies)", async |_| store.services().await).await;
    time("calendar_windows", async |_| store.calendar_windows().await).await;
    time("template", async |_| store.template(&template).await).await;
    time("latest_risk_model_version", async |_| store.latest_risk_model_version().await).await;
    time("current_policy_sha256 (the policy cache's check)", async |_| store.current_policy_sha256().await).await;
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
