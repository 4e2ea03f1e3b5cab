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
//!   working-hour heavy (and quiet over the holidays), with volume growing to about 2.2× over the
//!   period. Requesters mean ≈ 55% of them as standard changes, 40% normal, 5% emergency; a
//!   routine whose risk score is above its template's ceiling is filed as a normal change, so
//!   about 35% end up standard and 60% normal. ≈ 85% production, the rest staging. Titles come
//!   from templates per kind of service ("Bump openssl to 3.0.12 in payments-api", "Rotate TLS
//!   certificates for api-gateway", "Apply database migration 0142_add_currency_column to
//!   ledger-service"…), with descriptions, implementation and rollback plans, test and security
//!   evidence, the diff's size as code metrics, and links to pull requests, commits, pipelines
//!   and tickets.
//! - **Governance**: before the history, a CAB member defines the standard-change templates
//!   (per team a handful of routines: release, dependency bump, feature flag, scale out,
//!   certificate rotation, pod restart, dashboards; and one retired, unapproved template) and the
//!   change calendar: a weekly change window per team (an RRULE in the team's time zone), the
//!   end-of-year freeze every year, Black Friday week as one-off freezes, and payments'
//!   quarter-end close as a team freeze. On every submission the service scores the risk and
//!   the default approval policy decides; the generator predicts both (the same factor score
//!   from `changegate-risk`, the policy mirrored in `policy.rs` and checked against the real one
//!   in its tests) and plans each timeline for that decision. Most changes are planned inside
//!   their team's change window, after the approvals their requester expects, and moved out of
//!   freezes; a few are planned into one and denied. Rollback plans on tier 1–2 and security
//!   evidence in compliance scope are nearly always there; the few without, a few scans with
//!   critical findings and a few changes from the retired template or above their template's
//!   ceiling are denied too (≈ 3% of all).
//! - **Lifecycle**: low-risk standard changes outside pci/hipaa scope and freezes are
//!   auto-approved (≈ 6%: the risk score puts most changes at medium or high); the others wait a
//!   log-normal time (minutes for low risk, hours to days for high risk) for exactly the
//!   approvals the policy asks for: a lead (`approver`), a member of the owner team and a CAB
//!   member or security champion for high risk, a security champion in pci/hipaa scope.
//!   Approvers are never the requester, each fills one requirement, and in a compliance scope
//!   the implementer never approves. ≈ 3.5% are rejected by an approver and ≈ 2% cancelled; a
//!   change approved after its planned start is rescheduled into the next change window.
//!   People approve, review and close mostly in working hours.
//!   About 10% of implemented changes fail (≈ 6% of standard, 13% of normal, 27% of emergency
//!   ones; more on tier 1, for large diffs, on Friday evenings and weekends, fewer in staging),
//!   and about half of the failures are rolled back. Failed changes get a review with a root
//!   cause (4% never do: a gap for the audit to find) and close; most successful ones are
//!   verified and closed. Emergency changes carry a justification, start right after
//!   assessment and get their retrospective approvals and a post-implementation review, mostly
//!   within the deadline (24 h from the start); a quarter get expedited approvals first. The few
//!   late ones are flagged overdue by the hourly sweep ([`Service::flag_overdue_emergencies`],
//!   run at the history's times).
//! - **Incidents**: ≈ 40% of failures cause one (far fewer in staging), detected minutes after
//!   the failure, with a severity mix by tier, resolved minutes to hours later (soon after the
//!   rollback when there is one); plus about one unrelated incident per 160 changes.
//! - **Live work**: every timeline is cut at `end`, so the changes of the last days stay open as
//!   drafts, awaiting approval, scheduled, being implemented or awaiting review. So that this
//!   holds whatever the hour, about a third of the changes of the last three days are held at
//!   one of those stages (emergency changes at their retrospective approval), and some incidents
//!   of the last two days are still open.
//!
//! The first admin is made with [`Service::bootstrap_admin`] at the service clock's time; the
//! organisation is set up 14 days before the history begins. Commands are merged into one
//! chronological list and run in batches (one transaction each) that cover equal slices of the
//! history's time, about [`BATCH_LENGTH`] commands each, cut short where an overdue sweep runs.
//! The plan knows these boundaries: the service reads the requester's recent failures for the
//! risk score outside the batch's transaction, so a submission sees the failures committed
//! before its batch, and the plan counts the same ones.
//! Templates, calendar windows and the overdue sweep are not batch commands: they take their time
//! from the service clock, so the generator runs them through a second [`Service`] on the same
//! store with a [`ManualClock`] set to the history's time (the setup, each sweep, and `end` for
//! the last sweep), which keeps the whole history deterministic for a seed and `end`. The plan
//! predicts the default policy, so a store with another policy in force is refused.

mod calendar;
mod dice;
mod history;
mod org;
mod policy;
mod templates;
mod text;

use std::sync::Arc;

use changegate_core::lifecycle::Action;
use changegate_core::{IncidentId, ManualClock, Role, Timestamp};
use changegate_policy::Policy;
use changegate_service::{Caller, Command, IncidentResolution, NewService, NewUser, Produced, Service, ServiceError};
use changegate_store::StoreError;
use indicatif::{ProgressBar, ProgressStyle};
use thiserror::Error;

use crate::dice::Dice;
use crate::history::{DAY, MINUTE, MONTH, Planned, Setting, Step};

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
    /// Standard-change templates defined (the retired one included).
    pub templates: usize,
    /// Calendar windows defined (change windows and freezes).
    pub calendar_windows: usize,
    /// Emergency changes the overdue sweeps flagged.
    pub overdue_emergencies: usize,
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
    #[error(
        "the store has approval policy {0} in force; the demo plans its history for the default policy (set it back, or use a new data directory)"
    )]
    PolicyNotDefault(String),
    #[error("seeding the demo failed: {0}")]
    Service(#[from] ServiceError),
    #[error("seeding the demo failed: {0}")]
    Store(#[from] StoreError),
    #[error("the demo generator got an unexpected result: {0}")]
    Unexpected(String),
}

/// How much of the history one batch covers: about [`BATCH_LENGTH`] commands (a change takes
/// about 9), between an hour and two weeks. Fixed by the configuration alone, because the plan
/// must know where batches end (see `history::Setting::batch_span`).
pub fn batch_span_ms(config: &DemoConfig) -> i64 {
    let span = i64::from(config.months) * MONTH;
    let changes_per_batch = (BATCH_LENGTH / 9) as i64;
    (span * changes_per_batch / i64::from(config.change_count.max(1))).clamp(history::HOUR, 14 * DAY)
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
    // The demo runs on a store it opened from its files: it reads as the store's owner.
    let owner = service.system_caller(Role::Admin);
    let existing: u64 = service.change_counts_by_state(&owner).await?.iter().map(|count| count.count).sum();
    if existing > 0 {
        return Err(DemoError::NotEmpty(existing));
    }
    // The plan predicts every decision of the default policy; another policy would decide
    // otherwise halfway through the history.
    let (_, policy) = service.current_policy(&owner).await?;
    if policy.sha256() != Policy::default_policy().sha256() {
        return Err(DemoError::PolicyNotDefault(policy.sha256().to_owned()));
    }
    let events_before = service.ledger_status(&owner).await?.size;
    let admin = if service.users(&owner).await?.is_empty() {
        service.bootstrap_admin(ADMIN_NAME).await?
    } else {
        let input = NewUser { name: DEMO_ADMIN_NAME.to_owned(), roles: vec!["admin".to_owned()], team: None };
        service.add_user_locally(&input).await?
    };
    let admin_caller = admin.caller();
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
            callers.push(created.caller());
            tokens.push((created.user.name.to_string(), created.token));
        }
    }
    if callers.len() != people.len() {
        return Err(DemoError::Unexpected(format!("made {} of {} users", callers.len(), people.len())));
    }

    // Templates and the calendar, defined by the first CAB member (the CAB owns both) in the
    // minutes after the organisation. These commands read the service clock, so they run
    // through a service on the same store whose clock the generator sets.
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(setup_start)));
    let settings = service.governance_settings().clone();
    let clocked = service.with_clock(clock.clone()).with_governance_settings(settings.clone());
    let cab_chair = people
        .iter()
        .position(|person| person.job == org::Job::Cab)
        .map_or_else(|| admin_caller.clone(), |index| callers[index].clone());
    let mut governance_time = setup_start + setup.len() as i64 * MINUTE;
    let catalogue = templates::catalogue();
    for template in &catalogue {
        clock.set(Timestamp::from_unix_ms(governance_time));
        clocked.define_template(&cab_chair, template.new_template()).await?;
        governance_time += MINUTE;
    }
    let windows = calendar::windows(start, end);
    for window in &windows {
        clock.set(Timestamp::from_unix_ms(governance_time));
        clocked.define_window(&cab_chair, window.clone()).await?;
        governance_time += MINUTE;
    }
    let calendar = calendar::Calendar::new(&windows, start, end);

    let first_incident = service.incidents(&owner, 1).await?.first().map_or(0, |incident| incident.id.number()) + 1;
    let setting = Setting {
        people: &people,
        calendar: &calendar,
        templates: &catalogue,
        start,
        end,
        emergency_deadline: settings.emergency_deadline_ms,
        risk_weights: &settings.risk_weights,
        batch_span: batch_span_ms(config),
    };
    let plan = history::plan(&mut dice, &setting, config.change_count, 1);
    tracing::info!(
        changes = plan.changes,
        incidents = plan.incidents,
        commands = plan.steps.len(),
        sweeps = plan.sweeps.len(),
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
    let mut runner = Runner {
        service,
        callers: &callers,
        incident_ids: vec![None; plan.incident_keys],
        next_incident: first_incident,
        progress: &progress,
    };
    // One batch per boundary of the plan: the steps up to it, then the sweep when it is one.
    let steps = &plan.steps;
    let mut overdue_emergencies = 0;
    let mut position = 0;
    for boundary in &plan.boundaries {
        let stop = position + steps[position..].partition_point(|planned| planned.time.unix_ms() <= *boundary);
        runner.run(&steps[position..stop]).await?;
        position = stop;
        if plan.sweeps.binary_search(boundary).is_ok() {
            clock.set(Timestamp::from_unix_ms(*boundary));
            overdue_emergencies += clocked.flag_overdue_emergencies().await?.len();
        }
    }
    runner.run(&steps[position..]).await?;
    progress.finish_and_clear();
    // A last sweep at `end`: what a server started then finds.
    clock.set(config.end);
    overdue_emergencies += clocked.flag_overdue_emergencies().await?.len();

    let events = service.ledger_status(&owner).await?.size.saturating_sub(events_before);
    let summary = DemoSummary {
        teams: org::TEAMS.len(),
        services: org::SERVICES.len(),
        users: people.len() + 1,
        changes: plan.changes,
        incidents: plan.incidents,
        templates: catalogue.len(),
        calendar_windows: windows.len(),
        overdue_emergencies,
        events,
        admin_token: admin.token,
        tokens,
    };
    tracing::info!(
        changes = summary.changes,
        incidents = summary.incidents,
        overdue_emergencies,
        events,
        "demo seeded"
    );
    Ok(summary)
}

/// Runs planned steps through the service's batch path and checks what they produced.
struct Runner<'a> {
    service: &'a Service,
    callers: &'a [Caller],
    incident_ids: Vec<Option<IncidentId>>,
    next_incident: u64,
    progress: &'a ProgressBar,
}

impl Runner<'_> {
    /// One batch (one transaction) of `chunk`; nothing for an empty chunk.
    async fn run(&mut self, chunk: &[Planned]) -> Result<(), DemoError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let mut commands = Vec::with_capacity(chunk.len());
        for planned in chunk {
            let command = command_of(planned, &mut self.incident_ids, &mut self.next_incident)?;
            commands.push((self.callers[planned.actor].clone(), planned.time, command));
        }
        let started = std::time::Instant::now();
        let produced = self.service.run_batch(&commands).await?;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        for (planned, produced) in chunk.iter().zip(&produced) {
            check_produced(planned, produced, &self.incident_ids)?;
        }
        let created = chunk.iter().filter(|planned| matches!(planned.step, Step::CreateChange(_))).count();
        let submitted =
            chunk.iter().filter(|planned| matches!(planned.step, Step::Act { action: Action::Submit, .. })).count();
        self.progress.inc(created as u64);
        // Per-batch timings, to see what the submissions (policy, risk score) cost.
        tracing::debug!(commands = chunk.len(), created, submitted, elapsed_ms, "demo batch committed");
        Ok(())
    }
}

/// The service command for a planned step; incidents get their ids in the order they open.
fn command_of(
    planned: &Planned,
    incident_ids: &mut [Option<IncidentId>],
    next_incident: &mut u64,
) -> Result<Command, DemoError> {
    Ok(match &planned.step {
        Step::CreateChange(input) => Command::CreateChange((**input).clone()),
        Step::Act { change, action, request } => {
            Command::Act { change: *change, action: *action, request: request.clone() }
        }
        Step::OpenIncident { key, input } => {
            incident_ids[*key] = Some(IncidentId::new(*next_incident));
            *next_incident += 1;
            Command::OpenIncident(input.clone())
        }
        Step::ResolveIncident { key, resolved_at, downtime_minutes } => {
            let incident = incident_ids[*key]
                .ok_or_else(|| DemoError::Unexpected(format!("incident {key} resolved before it opened")))?;
            let resolution = IncidentResolution {
                resolved_at: Some(resolved_at.to_rfc3339()),
                downtime_minutes: *downtime_minutes,
                comment: None,
            };
            Command::ResolveIncident { incident, resolution }
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
