//! The demo-data generator: fills an empty Changegate store with a realistic, deterministic
//! history of an engineering organisation, so that every page, metric, report and the maturity
//! assessment have something true-to-life to show on the first run (`changegate demo`).
//!
//! Why a crate of its own: the generator is a client of the service layer like any other face.
//! It builds commands and runs them through [`Service::run_batch`], so every change passes the
//! same authorization, validation and lifecycle rules as a real one, every event lands in the
//! ledger, and the projections are the ones the product really computes. Nothing here writes to
//! the database directly, reads the clock, or uses randomness other than the seed: the same
//! seed gives the same names, ids, events and times (only API tokens are random).
//!
//! # What it makes
//! - **8 teams** (platform, security, data, identity, payments, search, web, mobile) owning
//!   **39 services** with tiers 1–4 (8 of tier 1), compliance scopes (pci, sox, gdpr, hipaa,
//!   dora-eu) where they plausibly apply, and dependencies that form a DAG (a service depends only
//!   on services registered before it).
//! - **~80 people** (`maria.garcia`-style names drawn by the seed): per team 3–5 engineers
//!   (requester), two leads (approver + requester), a security champion, two CAB members and an
//!   auditor; plus the `admin` who registers everything.
//! - **Changes** (20,000 by default) over the last 18 months up to [`DemoConfig::end`], weekday and
//!   working-hour heavy, with volume growing to about 2.2× over the period. Type mix ≈ 55%
//!   standard, 40% normal, 5% emergency; ≈ 85% production, the rest staging. Titles come from
//!   templates per kind of service ("Bump openssl to 3.0.12 in payments-api", "Rotate TLS
//!   certificates for api-gateway", "Apply database migration 0142_add_currency_column to
//!   ledger-service"…), with descriptions, implementation and rollback plans (mostly present,
//!   less often for emergencies) and links to pull requests, commits, pipelines and tickets.
//! - **Lifecycle**: low-risk standard changes are pre-approved; the others wait a log-normal
//!   time for approval (minutes for low risk, hours to days for high risk) from a lead, a CAB
//!   member or a security champion who is never the requester. ≈ 3% are rejected and ≈ 2%
//!   cancelled. Normal changes are scheduled into working hours or weeknight maintenance windows;
//!   standard ones roll out at once. People approve, review and close mostly in working hours.
//!   About 10% of implemented changes fail (≈ 6% of standard, 13% of normal, 27% of emergency
//!   ones; more on tier 1, for large diffs, on Friday evenings and weekends, fewer in staging),
//!   and about half of the failures are rolled back. Failed changes get a review with a root cause (4% never do: a gap
//!   for the audit to find) and close; most successful ones are verified and closed. Emergency
//!   changes start right after assessment and get a retrospective approval and a
//!   post-implementation review before they close (a quarter get an expedited approval first).
//! - **Incidents**: ≈ 40% of failures cause one (far fewer in staging), detected minutes after
//!   the failure, with a severity mix by tier, resolved minutes to hours later (soon after the
//!   rollback when there is one); plus about one unrelated incident per 160 changes.
//! - **Live work**: every timeline is cut at `end`, so the changes of the last days stay open as
//!   drafts, awaiting approval, scheduled, being implemented or awaiting review. So that this
//!   holds whatever the hour, about a third of the changes of the last three days are held at
//!   one of those stages, and some incidents of the last two days are still open.
//!
//! The first admin is made with [`Service::bootstrap_admin`] at the service clock's time; the
//! organisation is set up 14 days before the history begins. Commands are merged into one
//! chronological list and run in batches of [`BATCH_LENGTH`] commands, each one transaction.

mod dice;
mod history;
mod org;
mod text;

use changegate_core::{IncidentId, Timestamp};
use changegate_service::{Caller, Command, NewService, NewUser, Produced, Service, ServiceError};
use changegate_store::StoreError;
use indicatif::{ProgressBar, ProgressStyle};
use thiserror::Error;

use crate::dice::Dice;
use crate::history::{DAY, MINUTE, MONTH, Planned, Step};

/// Commands per batch (one transaction each).
pub const BATCH_LENGTH: usize = 4_000;
/// Most changes one demo may ask for.
pub const CHANGE_COUNT_MAX: u32 = 1_000_000;
/// Longest history, in months.
pub const MONTHS_MAX: u32 = 120;
/// Name of the admin made on an empty store.
pub const ADMIN_NAME: &str = "admin";
/// Name of the demo admin made when the store already has users (but no changes).
pub const DEMO_ADMIN_NAME: &str = "demo-admin";

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    /// Everything but tokens follows from this seed.
    pub seed: u64,
    /// How many changes to create.
    pub change_count: u32,
    /// How many months of history, ending at `end`.
    pub months: u32,
    /// When the history ends. The generator never reads the clock: callers set this to now
    /// (the default, the Unix epoch, is only a placeholder).
    pub end: Timestamp,
    /// Show a progress bar on standard error.
    pub show_progress: bool,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig { seed: 42, change_count: 20_000, months: 18, end: Timestamp::from_unix_ms(0), show_progress: false }
    }
}

/// What a seed made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoSummary {
    pub teams: usize,
    pub services: usize,
    /// People created, the admin included.
    pub users: usize,
    pub changes: usize,
    pub incidents: usize,
    /// Events appended by the seed.
    pub events: u64,
    /// The admin's API token.
    pub admin_token: String,
    /// Every created user and their API token, the admin first.
    pub tokens: Vec<(String, String)>,
}

/// Why seeding failed.
#[derive(Debug, Error)]
pub enum DemoError {
    #[error("the store already holds {0} changes; the demo seeds an empty store only (use a new data directory)")]
    NotEmpty(u64),
    #[error("invalid demo configuration: {0}")]
    Config(String),
    #[error("seeding the demo failed: {0}")]
    Service(#[from] ServiceError),
    #[error("seeding the demo failed: {0}")]
    Store(#[from] StoreError),
    #[error("the demo generator got an unexpected result: {0}")]
    Unexpected(String),
}

fn check(config: &DemoConfig) -> Result<(), DemoError> {
    if config.change_count > CHANGE_COUNT_MAX {
        return Err(DemoError::Config(format!("change_count must be at most {CHANGE_COUNT_MAX}")));
    }
    if !(1..=MONTHS_MAX).contains(&config.months) {
        return Err(DemoError::Config(format!("months must be 1 to {MONTHS_MAX}")));
    }
    Ok(())
}

/// Seeds an EMPTY store (error if it already has changes) deterministically from the seed.
pub async fn seed(service: &Service, config: &DemoConfig) -> Result<DemoSummary, DemoError> {
    check(config)?;
    let store = service.store();
    let existing: u64 = store.count_changes_by_state().await?.iter().map(|count| count.count).sum();
    if existing > 0 {
        return Err(DemoError::NotEmpty(existing));
    }
    let events_before = store.event_count().await?;
    let admin = if store.users().await?.is_empty() {
        service.bootstrap_admin(ADMIN_NAME).await?
    } else {
        let input = NewUser { name: DEMO_ADMIN_NAME.to_owned(), roles: vec!["admin".to_owned()], team: None };
        service.add_user_locally(&input).await?
    };
    let admin_caller = Caller { user: admin.user.clone() };
    let mut tokens = vec![(admin.user.name.to_string(), admin.token.clone())];

    let end = config.end.unix_ms();
    let start = end - i64::from(config.months) * MONTH;
    let mut dice = Dice::new(config.seed);

    // The organisation, set up two weeks before the history starts.
    let people = org::people(&mut dice);
    let setup_start = start - 14 * DAY;
    let mut setup: Vec<(Caller, Timestamp, Command)> = Vec::new();
    for spec in org::SERVICES {
        let input = NewService {
            name: spec.name.to_owned(),
            team: spec.team.to_owned(),
            tier: i64::from(spec.tier),
            scopes: spec.scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            depends_on: spec.depends_on.iter().map(|name| (*name).to_owned()).collect(),
        };
        let time = Timestamp::from_unix_ms(setup_start + setup.len() as i64 * MINUTE);
        setup.push((admin_caller.clone(), time, Command::RegisterService(input)));
    }
    for person in &people {
        let input = NewUser {
            name: person.name.clone(),
            roles: person.job.roles().iter().map(|role| (*role).to_owned()).collect(),
            team: Some(org::TEAMS[person.team].to_owned()),
        };
        let time = Timestamp::from_unix_ms(setup_start + setup.len() as i64 * MINUTE);
        setup.push((admin_caller.clone(), time, Command::CreateUser(input)));
    }
    let mut callers = Vec::with_capacity(people.len());
    for produced in service.run_batch(&setup).await? {
        if let Produced::User(created) = produced {
            tokens.push((created.user.name.to_string(), created.token));
            callers.push(Caller { user: created.user });
        }
    }
    if callers.len() != people.len() {
        return Err(DemoError::Unexpected(format!("made {} of {} users", callers.len(), people.len())));
    }

    let first_incident = store.incidents(1).await?.first().map_or(0, |incident| incident.id.number()) + 1;
    let plan = history::plan(&mut dice, &people, start, end, config.change_count, 1);
    tracing::info!(
        changes = plan.changes,
        incidents = plan.incidents,
        commands = plan.steps.len(),
        "seeding demo history"
    );

    let progress = if config.show_progress {
        let bar = ProgressBar::new(plan.changes as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:40.cyan/blue}] {pos}/{len} changes ({elapsed}, eta {eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message("seeding demo");
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut incident_ids: Vec<Option<IncidentId>> = vec![None; plan.incident_keys];
    let mut next_incident = first_incident;
    for chunk in plan.steps.chunks(BATCH_LENGTH) {
        let mut commands = Vec::with_capacity(chunk.len());
        for planned in chunk {
            let command = command_of(planned, &mut incident_ids, &mut next_incident)?;
            commands.push((callers[planned.actor].clone(), planned.time, command));
        }
        let produced = service.run_batch(&commands).await?;
        for (planned, produced) in chunk.iter().zip(&produced) {
            check_produced(planned, produced, &incident_ids)?;
        }
        let created = chunk.iter().filter(|planned| matches!(planned.step, Step::CreateChange(_))).count();
        progress.inc(created as u64);
        tracing::debug!(commands = chunk.len(), created, "demo batch committed");
    }
    progress.finish_and_clear();

    let events = store.event_count().await?.saturating_sub(events_before);
    let summary = DemoSummary {
        teams: org::TEAMS.len(),
        services: org::SERVICES.len(),
        users: people.len() + 1,
        changes: plan.changes,
        incidents: plan.incidents,
        events,
        admin_token: admin.token,
        tokens,
    };
    tracing::info!(changes = summary.changes, incidents = summary.incidents, events, "demo seeded");
    Ok(summary)
}

/// The service command for a planned step; incidents get their ids in the order they open.
fn command_of(
    planned: &Planned,
    incident_ids: &mut [Option<IncidentId>],
    next_incident: &mut u64,
) -> Result<Command, DemoError> {
    Ok(match &planned.step {
        Step::CreateChange(input) => Command::CreateChange(input.clone()),
        Step::Act { change, action, request } => {
            Command::Act { change: *change, action: *action, request: request.clone() }
        }
        Step::OpenIncident { key, input } => {
            incident_ids[*key] = Some(IncidentId::new(*next_incident));
            *next_incident += 1;
            Command::OpenIncident(input.clone())
        }
        Step::ResolveIncident { key, resolved_at } => {
            let incident = incident_ids[*key]
                .ok_or_else(|| DemoError::Unexpected(format!("incident {key} resolved before it opened")))?;
            Command::ResolveIncident { incident, resolved_at: Some(resolved_at.to_rfc3339()) }
        }
    })
}

/// Checks that a command produced what the plan predicted: the change id and state, the
/// incident id.
fn check_produced(
    planned: &Planned,
    produced: &Produced,
    incident_ids: &[Option<IncidentId>],
) -> Result<(), DemoError> {
    match (&planned.step, produced) {
        (Step::CreateChange(_) | Step::Act { .. }, Produced::Change(change)) => {
            let Some((id, state)) = planned.expect else {
                return Err(DemoError::Unexpected(format!("no expectation for {}", change.id)));
            };
            if change.id != id || change.state != state {
                return Err(DemoError::Unexpected(format!(
                    "expected {id} to be {state}, the store made {} {}",
                    change.id, change.state
                )));
            }
            Ok(())
        }
        (Step::OpenIncident { key, .. } | Step::ResolveIncident { key, .. }, Produced::Incident(incident)) => {
            if incident_ids[*key] != Some(incident.id) {
                return Err(DemoError::Unexpected(format!("expected incident {key} to be {}", incident.id)));
            }
            Ok(())
        }
        (_, other) => Err(DemoError::Unexpected(format!("a command produced {other:?}"))),
    }
}
