//! Commands that open the store themselves: `init`, `serve`, `demo` and `user add`.

use std::sync::Arc;

use anyhow::{Context, bail};
use changegate_server::{Application, ServerConfig};
use changegate_service::{CheckpointPolicy, NewUser, Service, SystemClock};
use changegate_store::StoreLocation;
use serde_json::json;

use crate::args::{Command, KeyArgs, StoreArgs, UserCommand};
use crate::client::Client;
use crate::setup::{LogFormat, describe, init_logging, init_logging_as, open_store, runtime};
use crate::{keys, output};

/// Most bytes read from the alert rules file.
const ALERT_RULES_FILE_BYTES_MAX: u64 = 1 << 20;

/// The alert rules file: `{"rules": {"NAME": RULE, …}}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertRulesFile {
    rules: std::collections::BTreeMap<String, serde_json::Value>,
}

fn read_alert_rules(path: &std::path::Path) -> anyhow::Result<std::collections::BTreeMap<String, serde_json::Value>> {
    let size = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    if size > ALERT_RULES_FILE_BYTES_MAX {
        bail!("{} is larger than {ALERT_RULES_FILE_BYTES_MAX} bytes", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: AlertRulesFile = serde_json::from_str(&text).with_context(|| {
        format!("{}: alert rules are JSON: {{\"rules\": {{\"NAME\": {{\"kind\": …}}}}}}", path.display())
    })?;
    Ok(file.rules)
}

/// The alert settings from `serve`'s flags.
fn alert_settings(args: &crate::args::AlertArgs) -> anyhow::Result<changegate_service::AlertSettings> {
    if args.alert_delivery_attempts == 0 || args.alert_delivery_attempts > 20 {
        bail!("--alert-delivery-attempts must be 1 to 20");
    }
    if args.alert_timeout_s == 0 || args.rollback_timeout_s == 0 || args.rollback_timeout_s > 300 {
        bail!("--alert-timeout-s must be at least 1, and --rollback-timeout-s 1 to 300");
    }
    if let Some(url) = &args.public_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!("--public-url must start with http:// or https://");
    }
    Ok(changegate_service::AlertSettings {
        delivery_attempts_max: args.alert_delivery_attempts,
        backoff_base_ms: args.alert_backoff_ms,
        attempt_timeout_ms: args.alert_timeout_s * 1_000,
        rollback_timeout_ms: args.rollback_timeout_s * 1_000,
        public_url: args.public_url.clone(),
        ..changegate_service::AlertSettings::default()
    })
}

pub fn run(command: Command, json: bool) -> anyhow::Result<()> {
    match command {
        Command::Init { store, keys, admin } => {
            init_logging("warn");
            runtime()?.block_on(init(&store, &keys, &admin, json))
        }
        Command::Serve {
            store,
            keys,
            listen,
            secure_cookies,
            checkpoint_every_events,
            checkpoint_interval_s,
            risk_weights,
            emergency_deadline_hours,
            attribution_window_hours,
            alerts,
            log_format,
        } => {
            let format = if log_format == "json" { LogFormat::Json } else { LogFormat::Text };
            init_logging_as("info", format);
            let governance =
                governance_settings(risk_weights.as_deref(), emergency_deadline_hours, attribution_window_hours)?;
            let policy = CheckpointPolicy {
                every_events: checkpoint_every_events.max(1),
                interval_ms: (checkpoint_interval_s.max(1) * 1_000) as i64,
            };
            let settings = ServeSettings {
                governance,
                alerts: alert_settings(&alerts)?,
                alert_rules: alerts.alert_rules.as_deref().map(read_alert_rules).transpose()?,
            };
            runtime()?.block_on(serve(&store, &keys, ServerConfig { listen, secure_cookies }, policy, settings))
        }
        Command::Audit(command) => {
            init_logging("warn");
            runtime()?.block_on(crate::audit::run(command, json))
        }
        Command::Demo { data_dir, listen, seed, changes, no_serve, end } => {
            init_logging("warn");
            let end = end
                .map(|text| {
                    changegate_core::Timestamp::parse_rfc3339(&text)
                        .map_err(|message| anyhow::anyhow!("--end: {message}"))
                })
                .transpose()?;
            let options = DemoOptions { data_dir, listen, seed, changes, no_serve, end };
            runtime()?.block_on(demo(options, json))
        }
        Command::User(UserCommand::Add { store, name, roles, team, server, token }) => {
            init_logging("warn");
            let input = NewUser { name, roles, team };
            match server {
                Some(server) => add_user_remotely(&server, token, &input, json),
                None => runtime()?.block_on(add_user_locally(&store, &input, json)),
            }
        }
        other => bail!("not a local command: {other:?}"),
    }
}

async fn init(store_args: &StoreArgs, keys_args: &KeyArgs, admin: &str, json: bool) -> anyhow::Result<()> {
    // What can be refused is checked before the admin is written (its token would otherwise be
    // lost): the signing key first (an existing one must load; a new one is written), then the
    // store, whose admin is written in one transaction. A key file made here goes again when the
    // store refuses, so a second `init` starts from the same place.
    let (signer, key_created) = keys::load_or_create(keys_args, &store_args.data_dir)?;
    let verifier_key = signer.verifier_key();
    let bootstrapped = async {
        let store = open_store(store_args).await?;
        let service = Service::new(store.clone(), Arc::new(SystemClock)).with_signer(signer);
        let checked = service.check_signing_key().await;
        let created = match checked {
            Ok(()) => service.bootstrap_admin(admin).await,
            Err(error) => Err(error),
        };
        store.close().await;
        anyhow::Ok(created?)
    };
    let created = match bootstrapped.await {
        Ok(created) => created,
        Err(error) => {
            if key_created {
                keys::remove_created(keys_args, &store_args.data_dir)?;
            }
            return Err(error);
        }
    };
    if json {
        println!(
            "{}",
            json!({"admin": created.user.name.as_str(), "admin_token": created.token, "token_id": created.token_id,
                   "ledger_public_key": verifier_key})
        );
    } else {
        let location = StoreLocation::from_options(&store_args.data_dir, store_args.database_url.as_deref())?;
        println!("Created the store ({}) and the admin `{}`.", describe(&location), created.user.name);
        println!();
        println!("Admin token (shown once; keep it safe):");
        println!("  {}", created.token);
        println!();
        println!("Ledger public key (give it to your auditors):");
        println!("  {verifier_key}");
        println!();
        println!("Next:");
        println!("  changegate serve");
        println!("  export CHANGEGATE_TOKEN={}", created.token);
        println!("  changegate service add --name payments-api --team payments --tier 1");
    }
    Ok(())
}

/// The governance settings from `serve`'s flags: risk weights from a JSON file (unknown factor
/// names refused), the emergency deadline, the incident attribution window.
fn governance_settings(
    risk_weights: Option<&std::path::Path>,
    emergency_deadline_hours: u32,
    attribution_window_hours: u32,
) -> anyhow::Result<changegate_service::GovernanceSettings> {
    let mut settings = changegate_service::GovernanceSettings::default();
    if let Some(path) = risk_weights {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        settings.risk_weights = serde_json::from_str(&text).with_context(|| {
            format!("{}: risk weights are a JSON object of factor names and points", path.display())
        })?;
    }
    if emergency_deadline_hours == 0 {
        anyhow::bail!("--emergency-deadline-hours must be at least 1");
    }
    settings.emergency_deadline_ms = i64::from(emergency_deadline_hours) * 60 * 60 * 1000;
    if !(1..=ATTRIBUTION_WINDOW_HOURS_MAX).contains(&attribution_window_hours) {
        anyhow::bail!("--attribution-window-hours must be 1 to {ATTRIBUTION_WINDOW_HOURS_MAX}");
    }
    settings.attribution_window_ms = i64::from(attribution_window_hours) * 60 * 60 * 1000;
    Ok(settings)
}

/// The longest attribution window `serve` accepts: 30 days (a cause further back is a guess).
const ATTRIBUTION_WINDOW_HOURS_MAX: u32 = 720;

/// What `serve` runs with besides the store, keys and address.
struct ServeSettings {
    governance: changegate_service::GovernanceSettings,
    alerts: changegate_service::AlertSettings,
    /// Rules from `--alert-rules`, defined at start when they differ from the stored ones.
    alert_rules: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

async fn serve(
    store_args: &StoreArgs,
    keys_args: &KeyArgs,
    config: ServerConfig,
    policy: CheckpointPolicy,
    settings: ServeSettings,
) -> anyhow::Result<()> {
    let store = open_store(store_args).await?;
    let mut service = Service::new(store.clone(), Arc::new(SystemClock))
        .with_governance_settings(settings.governance)
        .with_alert_settings(settings.alerts);
    if let Some(rules) = &settings.alert_rules {
        let written = service.load_alert_rules(rules).await.context("the --alert-rules file")?;
        tracing::info!(rules = rules.len(), written = written.len(), "alert rules loaded");
    }
    match keys::load(keys_args, &store_args.data_dir)? {
        Some(signer) => service = service.with_signer(signer),
        None => tracing::warn!("no ledger signing key found: checkpoints will not be signed (see `changegate init`)"),
    }
    // Several instances may share one PostgreSQL: one with another key would accept writes and
    // then fail every checkpoint, so it does not start.
    service.check_signing_key().await.context("the ledger signing key")?;
    let application = Application::build(service, config.clone())
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?
        .with_checkpoints(policy);
    let address = application.local_addr();
    tracing::info!(%address, "serving");
    eprintln!("Changegate is listening on http://{address} (API docs: http://{address}/api/openapi.json)");
    application.run_until_stopped().await.context("serving")?;
    store.close().await;
    Ok(())
}

async fn add_user_locally(store_args: &StoreArgs, input: &NewUser, json: bool) -> anyhow::Result<()> {
    let store = open_store(store_args).await?;
    let service = Service::new(store.clone(), Arc::new(SystemClock));
    let created = service.add_user_locally(input).await?;
    store.close().await;
    let roles: Vec<String> = created.user.roles.iter().map(ToString::to_string).collect();
    print_created_user(created.user.name.as_str(), &roles, &created.token, &created.token_id, json);
    Ok(())
}

fn add_user_remotely(server: &str, token: Option<String>, input: &NewUser, json: bool) -> anyhow::Result<()> {
    let client = Client::new(&crate::args::ClientArgs { server: server.to_owned(), token });
    let body = json!({"name": input.name, "roles": input.roles, "team": input.team});
    let answer = client.post("/api/v1/users", &body, None)?;
    let roles: Vec<String> = answer["user"]["roles"].as_array().into_iter().flatten().map(output::cell).collect();
    print_created_user(
        answer["user"]["name"].as_str().unwrap_or(""),
        &roles,
        answer["token"].as_str().unwrap_or(""),
        answer["token_id"].as_str().unwrap_or(""),
        json,
    );
    Ok(())
}

fn print_created_user(name: &str, roles: &[String], token: &str, token_id: &str, json: bool) {
    if json {
        println!("{}", json!({"user": name, "roles": roles, "token": token, "token_id": token_id}));
    } else {
        println!("Added {name} ({}). Token (shown once):", roles.join(", "));
        println!("  {token}");
    }
}

/// What `changegate demo` was asked for.
pub(crate) struct DemoOptions {
    pub data_dir: std::path::PathBuf,
    pub listen: std::net::SocketAddr,
    pub seed: u64,
    pub changes: u32,
    pub no_serve: bool,
    /// End of the history; now when absent.
    pub end: Option<changegate_core::Timestamp>,
}

pub(crate) async fn demo(options: DemoOptions, json: bool) -> anyhow::Result<()> {
    let DemoOptions { data_dir, listen, seed, changes, no_serve, end } = options;
    let store = open_store(&StoreArgs { data_dir: data_dir.clone(), database_url: None }).await?;
    let key_args = KeyArgs { signing_key_file: None, signing_key: None };
    let (signer, _) = keys::load_or_create(&key_args, &data_dir)?;
    let service = Service::new(store.clone(), Arc::new(SystemClock)).with_signer(signer);
    let admin_token = if store.users().await?.is_empty() {
        let config = changegate_demo::DemoConfig {
            seed,
            change_count: changes,
            months: 18,
            end: end.unwrap_or_else(|| service.now()),
            show_progress: !json,
        };
        let started = std::time::Instant::now();
        let summary = changegate_demo::seed(&service, &config).await.context("seeding the demo")?;
        if !json {
            eprintln!(
                "Seeded {} teams, {} services, {} users, {} changes, {} incidents ({} events) in {:.1} s.",
                summary.teams,
                summary.services,
                summary.users,
                summary.changes,
                summary.incidents,
                summary.events,
                started.elapsed().as_secs_f64()
            );
        }
        summary.admin_token
    } else {
        if !json {
            eprintln!("The store in {} already has data; not seeding again.", data_dir.display());
        }
        service.issue_token_locally("admin").await?.token
    };
    if json {
        println!("{}", json!({"url": format!("http://{listen}"), "admin_token": admin_token, "data_dir": data_dir}));
    } else {
        println!("Open http://{listen} and sign in with the admin token:");
        println!("  {admin_token}");
        println!("CLI: export CHANGEGATE_SERVER=http://{listen} CHANGEGATE_TOKEN={admin_token}");
    }
    service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await?;
    if no_serve {
        store.close().await;
        return Ok(());
    }
    let application = Application::build(service, ServerConfig { listen, secure_cookies: false })
        .await
        .with_context(|| format!("cannot listen on {listen}"))?
        .with_checkpoints(CheckpointPolicy::default());
    application.run_until_stopped().await.context("serving")?;
    store.close().await;
    Ok(())
}
