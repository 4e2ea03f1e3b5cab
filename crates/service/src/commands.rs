//! Commands: everything that appends events.
//!
//! Each command is a [`Command`] executed by [`execute`] inside one store write transaction:
//! authorize (a refusal appends an `access_denied` event and commits it), validate, let the core
//! decide, append. The public one-command methods and the batch used by the demo generator and
//! history import share that one path.

use changegate_core::creation::{NewChangeFacts, creation_errors};
use changegate_core::lifecycle::{self, Action, ActionInput};
use changegate_core::{
    ChangeId, ChangeRecord, ChangeType, DomainError, DomainEvent, IncidentId, IncidentRecord, LIST_LENGTH_MAX, Name,
    Role, ServiceRecord, StreamId, TEXT_LENGTH_MAX, TITLE_LENGTH_MAX, Tier, Timestamp, UserRecord,
};
use changegate_store::{IdempotencyRecord, KeyedTable, WriteTx};

use crate::Permission;
use crate::command_shared::{Denied, Fields, denial, record_denial};
pub use crate::command_shared::{IncidentResolution, IncidentUpdate, NewIncident};
use crate::identity::{Caller, IdempotencyKey, generate_token, token_sha256};
use crate::{Service, ServiceError, incidents};

/// Largest JSON of code metrics on a change.
pub const CODE_METRICS_BYTES_MAX: usize = 4_096;
/// Most commands in one batch.
pub const BATCH_LENGTH_MAX: usize = 100_000;

/// Input for a new change, as raw text from any face; validated by the service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewChange {
    pub title: String,
    pub description: String,
    pub change_type: String,
    pub service: String,
    pub environment: String,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    pub links: Vec<String>,
    pub test_evidence: Option<String>,
    pub security_evidence: Option<String>,
    /// Critical findings in the security evidence, when the scan summary says.
    pub security_critical_findings: Option<u32>,
    /// A standard-change template: the change must fit it (service, environment) and is standard.
    pub template: Option<String>,
    /// Why an emergency change cannot wait (mandatory for emergencies).
    pub justification: Option<String>,
    pub commit: Option<String>,
    pub pipeline_url: Option<String>,
    /// Just-in-time code metrics of the commit (`changegate risk features`), as JSON.
    pub code_metrics: Option<serde_json::Value>,
    /// When the first commit of the change was made (RFC 3339): where its lead time starts.
    pub commit_time: Option<String>,
}

/// Input for a lifecycle action.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionRequest {
    pub comment: Option<String>,
    pub root_cause: Option<String>,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
}

/// Input for a new service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewService {
    pub name: String,
    pub team: String,
    pub tier: i64,
    pub scopes: Vec<String>,
    pub depends_on: Vec<String>,
}

/// Input for a new user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub roles: Vec<String>,
    pub team: Option<String>,
}

/// A user just created, with their token (shown once). Made only by the service, so the caller it
/// carries is as good as one authenticated with the token.
/// `non_exhaustive`: no other crate can build one, which is what lets it hand out a caller.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CreatedUser {
    pub user: UserRecord,
    pub token: String,
    pub token_id: String,
}

impl CreatedUser {
    fn new(user: UserRecord, token: String, token_id: String) -> Self {
        CreatedUser { user, token, token_id }
    }

    /// The new user as a caller, as if they had signed in with [`CreatedUser::token`].
    pub fn caller(&self) -> Caller {
        Caller::new(self.user.clone())
    }
}

/// A command's result and whether it was replayed from an earlier request with the same
/// idempotency key (then nothing new was written).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome<T> {
    pub value: T,
    pub replayed: bool,
}

/// One command, for batches. Short-lived, so the size difference between variants costs
/// nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Command {
    RegisterService(NewService),
    CreateUser(NewUser),
    CreateChange(NewChange),
    Act {
        change: ChangeId,
        action: Action,
        request: ActionRequest,
    },
    OpenIncident(NewIncident),
    ResolveIncident {
        incident: IncidentId,
        resolution: IncidentResolution,
    },
    UpdateIncident {
        incident: IncidentId,
        update: IncidentUpdate,
    },
    /// Link an incident to the change that caused it (explicit).
    LinkIncident {
        incident: IncidentId,
        change: String,
        comment: Option<String>,
    },
    /// Accept the attribution rule's suggestion (the link becomes `confirmed`).
    ConfirmIncidentLink {
        incident: IncidentId,
        comment: Option<String>,
    },
    /// Reject the suggestion (or remove the link); the rule then suggests the next candidate.
    RejectIncidentLink {
        incident: IncidentId,
        comment: Option<String>,
    },
}

/// What a command produced. Short-lived (returned, then turned into a response), so the size
/// difference between its variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Produced {
    Service(ServiceRecord),
    User(CreatedUser),
    Change(ChangeRecord),
    Incident(IncidentRecord),
}

fn stream_of(change: ChangeId) -> StreamId {
    StreamId::Change(change)
}

async fn register_service(
    tx: &mut WriteTx,
    caller: &Caller,
    input: &NewService,
    time: Timestamp,
) -> Result<Result<ServiceRecord, Denied>, ServiceError> {
    if !caller.may(Permission::RegisterServices) {
        let reason = format!("registering a service needs {}", Permission::RegisterServices.roles_text());
        return Ok(Err(denial("register_service", &format!("service/{}", input.name), reason)));
    }
    let mut fields = Fields::default();
    let name = fields.name("name", &input.name);
    let team = fields.name("team", &input.team);
    let tier = Tier::new(input.tier).map_err(|message| fields.push("tier", message)).ok();
    let scopes = fields.names("scopes", &input.scopes);
    let depends_on = fields.names("depends_on", &input.depends_on);
    if let Some(name) = &name {
        if tx.exists(KeyedTable::Services, name).await? {
            return Err(ServiceError::Conflict(format!("a service named {name} already exists")));
        }
        if depends_on.contains(name) {
            fields.push("depends_on", "a service cannot depend on itself");
        }
    }
    for dependency in &depends_on {
        if !tx.exists(KeyedTable::Services, dependency).await? {
            fields.push("depends_on", format!("no service named {dependency}; register it first"));
        }
    }
    fields.finish()?;
    let (Some(name), Some(team), Some(tier)) = (name, team, tier) else {
        unreachable!("fields without errors are all parsed")
    };
    if !tx.exists(KeyedTable::Teams, &team).await? {
        let event = DomainEvent::TeamCreated { name: team.clone(), description: String::new() };
        tx.append(&StreamId::Team(team.clone()), caller.name().as_str(), time, &event).await?;
    }
    let event = DomainEvent::ServiceRegistered { name: name.clone(), team, tier, scopes, depends_on };
    tx.append(&StreamId::Service(name.clone()), caller.name().as_str(), time, &event).await?;
    let record = tx.service(&name).await?.ok_or_else(|| ServiceError::NotFound(format!("service {name}")))?;
    Ok(Ok(record))
}

fn parse_roles(fields: &mut Fields, roles: &[String]) -> Vec<Role> {
    if roles.is_empty() {
        fields.push("roles", "give at least one role: requester, approver, security, cab, auditor or admin");
    }
    let mut parsed: Vec<Role> = roles.iter().filter_map(|role| fields.parse("roles", role.trim())).collect();
    parsed.sort();
    parsed.dedup();
    parsed
}

async fn add_user(
    tx: &mut WriteTx,
    actor: &str,
    input: &NewUser,
    time: Timestamp,
) -> Result<CreatedUser, ServiceError> {
    let mut fields = Fields::default();
    let name = fields.name("name", &input.name);
    let roles = parse_roles(&mut fields, &input.roles);
    let team = input.team.as_deref().and_then(|team| fields.name("team", team));
    fields.finish()?;
    let name = name.expect("validated");
    if tx.exists(KeyedTable::Users, &name).await? {
        return Err(ServiceError::Conflict(format!("a user named {name} already exists")));
    }
    let (token, token_id) = generate_token()?;
    let stream = StreamId::User(name.clone());
    let created = DomainEvent::UserCreated { name: name.clone(), roles: roles.clone(), team: team.clone() };
    tx.append(&stream, actor, time, &created).await?;
    let issued =
        DomainEvent::TokenIssued { user: name.clone(), token_id: token_id.clone(), token_sha256: token_sha256(&token) };
    tx.append(&stream, actor, time, &issued).await?;
    Ok(CreatedUser::new(UserRecord { name, roles, team, created_at: time }, token, token_id))
}

async fn create_user(
    tx: &mut WriteTx,
    caller: &Caller,
    input: &NewUser,
    time: Timestamp,
) -> Result<Result<CreatedUser, Denied>, ServiceError> {
    if !caller.may(Permission::ManageUsers) {
        let reason = format!("adding a user needs {}", Permission::ManageUsers.roles_text());
        return Ok(Err(denial("create_user", &format!("user/{}", input.name), reason)));
    }
    Ok(Ok(add_user(tx, caller.name().as_str(), input, time).await?))
}

async fn create_change(
    service_context: &Service,
    tx: &mut WriteTx,
    caller: &Caller,
    input: &NewChange,
    time: Timestamp,
) -> Result<Result<ChangeRecord, Denied>, ServiceError> {
    if !caller.may(Permission::CreateChanges) {
        let reason = format!("creating a change needs {}", Permission::CreateChanges.roles_text());
        return Ok(Err(denial("create_change", "change", reason)));
    }
    let mut fields = Fields::default();
    let title = input.title.trim();
    if title.is_empty() {
        fields.push("title", "must not be empty");
    }
    fields.text("title", title, TITLE_LENGTH_MAX);
    fields.text("description", &input.description, TEXT_LENGTH_MAX);
    let change_type: Option<ChangeType> = if input.change_type.trim().is_empty() && input.template.is_some() {
        Some(ChangeType::Standard)
    } else {
        fields.parse("type", &input.change_type)
    };
    let service = fields.name("service", &input.service);
    let environment = fields.name("environment", &input.environment);
    for (field, plan) in [
        ("implementation_plan", &input.implementation_plan),
        ("rollback_plan", &input.rollback_plan),
        ("test_evidence", &input.test_evidence),
        ("security_evidence", &input.security_evidence),
    ] {
        if let Some(plan) = plan {
            fields.text(field, plan, TEXT_LENGTH_MAX);
        }
    }
    let planned_start = fields.time("planned_start", input.planned_start.as_deref());
    let commit_time = fields.time("commit_time", input.commit_time.as_deref());
    let planned_end = fields.time("planned_end", input.planned_end.as_deref());
    if let (Some(start), Some(end)) = (planned_start, planned_end)
        && end < start
    {
        fields.push("planned_end", "must not be before planned_start");
    }
    if input.links.len() > LIST_LENGTH_MAX {
        fields.push("links", format!("at most {LIST_LENGTH_MAX} links"));
    }
    if let Some(message) = input.links.iter().find_map(|link| changegate_core::check_link(link).err()) {
        fields.push("links", format!("each link: {message}"));
    }
    let mut service_record = None;
    if let Some(service) = &service {
        service_record = tx.service(service).await?;
        if service_record.is_none() {
            fields.push("service", format!("no service named {service}; register it first"));
        }
    }
    let justification = input.justification.clone().filter(|text| !text.trim().is_empty());
    if let Some(text) = &justification {
        fields.text("justification", text, TEXT_LENGTH_MAX);
    }
    for (field, text) in [("commit", &input.commit), ("pipeline_url", &input.pipeline_url)] {
        if let Some(Err(message)) = text.as_deref().map(changegate_core::check_link) {
            fields.push(field, message);
        }
    }
    if let Some(metrics) = &input.code_metrics {
        if !metrics.is_object() || metrics.to_string().len() > CODE_METRICS_BYTES_MAX {
            fields.push("code_metrics", format!("a JSON object of at most {CODE_METRICS_BYTES_MAX} bytes"));
        } else if changegate_core::json_has_control_characters(metrics) {
            fields.push("code_metrics", "must not contain control characters");
        }
    }
    let template_record = match input.template.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => match Name::parse(text) {
            Err(message) => {
                fields.push("template", message);
                None
            }
            Ok(name) => {
                let record = service_context.store().template(&name).await?;
                if record.is_none() {
                    fields.push("template", format!("no template named {name}; see `changegate template list`"));
                }
                record
            }
        },
    };
    let facts = NewChangeFacts {
        change_type,
        service: service.as_ref(),
        service_team: service_record.as_ref().map(|record| &record.team),
        environment: environment.as_ref(),
        justification: justification.as_deref(),
        template: template_record.as_ref(),
    };
    fields.extend(creation_errors(&facts));
    let template = template_record.map(|record| record.name);
    fields.finish()?;
    let id = tx.next_change_id().await?;
    let event = DomainEvent::ChangeCreated {
        id,
        title: title.to_owned(),
        description: input.description.clone(),
        change_type: change_type.expect("validated"),
        service: service.expect("validated"),
        environment: environment.expect("validated"),
        requester: caller.name().clone(),
        implementation_plan: input.implementation_plan.clone().filter(|plan| !plan.trim().is_empty()),
        rollback_plan: input.rollback_plan.clone().filter(|plan| !plan.trim().is_empty()),
        planned_start,
        planned_end,
        links: input.links.clone(),
        test_evidence: input.test_evidence.clone().filter(|text| !text.trim().is_empty()),
        security_evidence: input.security_evidence.clone().filter(|text| !text.trim().is_empty()),
        security_critical_findings: input.security_critical_findings,
        template,
        justification,
        commit: input.commit.clone(),
        pipeline_url: input.pipeline_url.clone(),
        code_metrics: input.code_metrics.clone(),
        team: service_record.map(|record| record.team),
        commit_time,
    };
    tx.append(&stream_of(id), caller.name().as_str(), time, &event).await?;
    let record = tx.change(id).await?.ok_or_else(|| ServiceError::NotFound(format!("change {id}")))?;
    Ok(Ok(record))
}

#[allow(clippy::too_many_arguments)]
async fn act(
    service_context: &Service,
    tx: &mut WriteTx,
    prepared: Option<&crate::governance::PreparedSubmit>,
    caller: &Caller,
    id: ChangeId,
    action: Action,
    request: &ActionRequest,
    time: Timestamp,
) -> Result<Result<ChangeRecord, Denied>, ServiceError> {
    let change = tx.change(id).await?.ok_or_else(|| ServiceError::NotFound(format!("change {id}")))?;
    let actor = caller.actor();
    // Checked again by `lifecycle::handle`; asked first so that a refused caller costs no
    // assessment.
    if let Err(reason) = lifecycle::authorize(&actor, action, &change) {
        return Ok(Err(denial(action.as_str(), &StreamId::Change(id).to_string(), reason)));
    }
    let mut fields = Fields::default();
    let mut input = ActionInput {
        comment: request.comment.clone().filter(|comment| !comment.trim().is_empty()),
        root_cause: request.root_cause.clone(),
        planned_start: fields.time("planned_start", request.planned_start.as_deref()),
        planned_end: fields.time("planned_end", request.planned_end.as_deref()),
        assessment: None,
        emergency_deadline_ms: Some(service_context.governance_settings().emergency_deadline_ms),
    };
    fields.finish()?;
    if action == Action::Submit && change.state == changegate_core::ChangeState::Draft {
        input.assessment = Some(match prepared {
            Some(prepared) if prepared.version == change.version => prepared.decision.clone(),
            _ => service_context.assess_for_submit(tx, &change, time).await?,
        });
    }
    let service = tx
        .service(&change.service)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("service {}", change.service)))?;
    // The core decides, refusals in its order: a `Forbidden` answer is a denial (recorded), any
    // other refusal (an illegal transition, invalid input) writes nothing.
    let events = match lifecycle::handle(&change, &actor, action, &input, service.tier, time) {
        Ok(events) => events,
        Err(DomainError::Forbidden(reason)) => {
            return Ok(Err(denial(action.as_str(), &StreamId::Change(id).to_string(), reason)));
        }
        Err(refusal) => return Err(refusal.into()),
    };
    for event in &events {
        tx.append(&stream_of(id), caller.name().as_str(), time, event).await?;
    }
    let record = tx.change(id).await?.ok_or_else(|| ServiceError::NotFound(format!("change {id}")))?;
    Ok(Ok(record))
}

/// Runs one command in an open transaction; a refusal is recorded in it (see `record_denial`).
async fn execute(
    service: &Service,
    tx: &mut WriteTx,
    prepared: Option<&crate::governance::PreparedSubmit>,
    caller: &Caller,
    command: &Command,
    time: Timestamp,
) -> Result<Result<Produced, Denied>, ServiceError> {
    let result = execute_command(service, tx, prepared, caller, command, time).await?;
    if let Err(denied) = &result {
        record_denial(&service.denials, tx, caller, time, denied).await?;
    }
    Ok(result)
}

async fn execute_command(
    service: &Service,
    tx: &mut WriteTx,
    prepared: Option<&crate::governance::PreparedSubmit>,
    caller: &Caller,
    command: &Command,
    time: Timestamp,
) -> Result<Result<Produced, Denied>, ServiceError> {
    Ok(match command {
        Command::RegisterService(input) => register_service(tx, caller, input, time).await?.map(Produced::Service),
        Command::CreateUser(input) => create_user(tx, caller, input, time).await?.map(Produced::User),
        Command::CreateChange(input) => create_change(service, tx, caller, input, time).await?.map(Produced::Change),
        Command::Act { change, action, request } => {
            act(service, tx, prepared, caller, *change, *action, request, time).await?.map(Produced::Change)
        }
        Command::OpenIncident(input) => {
            incidents::open_incident(service, tx, caller, input, time).await?.map(Produced::Incident)
        }
        Command::ResolveIncident { incident, resolution } => {
            incidents::resolve_incident(tx, caller, *incident, resolution, time).await?.map(Produced::Incident)
        }
        Command::UpdateIncident { incident, update } => {
            incidents::update_incident(tx, caller, *incident, update, time).await?.map(Produced::Incident)
        }
        Command::LinkIncident { incident, change, comment } => {
            incidents::link_incident(tx, caller, *incident, change, comment.as_deref(), time)
                .await?
                .map(Produced::Incident)
        }
        Command::ConfirmIncidentLink { incident, comment } => {
            incidents::confirm_link(tx, caller, *incident, comment.as_deref(), time).await?.map(Produced::Incident)
        }
        Command::RejectIncidentLink { incident, comment } => {
            incidents::reject_link(service, tx, caller, *incident, comment.as_deref(), time)
                .await?
                .map(Produced::Incident)
        }
    })
}

/// The resource a produced value is, for idempotency records ("change/CHG-000001").
fn resource_of(produced: &Produced) -> String {
    match produced {
        Produced::Service(service) => StreamId::Service(service.name.clone()),
        Produced::User(created) => StreamId::User(created.user.name.clone()),
        Produced::Change(change) => StreamId::Change(change.id),
        Produced::Incident(incident) => StreamId::Incident(incident.id),
    }
    .to_string()
}

impl Service {
    /// Runs one command now, in its own transaction, honouring an idempotency key.
    pub async fn run(
        &self,
        caller: &Caller,
        command: Command,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Outcome<Produced>, ServiceError> {
        let time = self.now();
        // A submission's assessment (store reads, risk score, policy) runs before the write lock
        // is taken; inside, it is used only if the change did not move meanwhile.
        let prepared = match &command {
            Command::Act { change, action: Action::Submit, .. } => self.prepare_submit(*change, time).await?,
            _ => None,
        };
        let result = self
            .store()
            .write(async |tx: &mut WriteTx| -> Result<Result<Outcome<Produced>, Denied>, ServiceError> {
                let actor = caller.name().as_str();
                if let Some(key) = idempotency
                    && let Some(earlier) = tx.idempotency(actor, &key.key).await?
                {
                    if earlier.fingerprint != key.fingerprint {
                        return Err(ServiceError::IdempotencyKeyReused(key.key.clone()));
                    }
                    let value = replay(tx, &earlier.resource).await?;
                    return Ok(Ok(Outcome { value, replayed: true }));
                }
                let produced = match execute(self, tx, prepared.as_ref(), caller, &command, time).await? {
                    Ok(produced) => produced,
                    Err(denied) => return Ok(Err(denied)),
                };
                if let Some(key) = idempotency {
                    let record =
                        IdempotencyRecord { fingerprint: key.fingerprint.clone(), resource: resource_of(&produced) };
                    tx.remember_idempotency(actor, &key.key, &record, time).await?;
                }
                Ok(Ok(Outcome { value: produced, replayed: false }))
            })
            .await?;
        result.map_err(|denied| ServiceError::Forbidden(denied.reason))
    }

    /// Runs many commands, each as its caller at its own time, in one transaction: all or none.
    /// For seeding and importing history; every command goes through the same checks as `run`.
    pub async fn run_batch(&self, commands: &[(Caller, Timestamp, Command)]) -> Result<Vec<Produced>, ServiceError> {
        if commands.len() > BATCH_LENGTH_MAX {
            return Err(ServiceError::invalid("commands", format!("at most {BATCH_LENGTH_MAX} commands in one batch")));
        }
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<Vec<Produced>, ServiceError> {
                let mut produced = Vec::with_capacity(commands.len());
                for (position, (caller, time, command)) in commands.iter().enumerate() {
                    match execute(self, tx, None, caller, command, *time).await? {
                        Ok(value) => produced.push(value),
                        Err(denied) => {
                            let reason = denied.reason;
                            return Err(ServiceError::Forbidden(format!("command {position} of the batch: {reason}")));
                        }
                    }
                }
                Ok(produced)
            })
            .await
    }

    /// Records that `caller` was refused `action` on `target` (an `access_denied` event in a
    /// transaction of its own) and returns the refusal to hand back.
    pub(crate) async fn refuse(&self, caller: &Caller, action: &str, target: &str, reason: String) -> ServiceError {
        let time = self.now();
        let written = self
            .store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                record_denial(&self.denials, tx, caller, time, &denial(action, target, reason.clone())).await
            })
            .await;
        match written {
            Ok(()) => ServiceError::Forbidden(reason),
            Err(error) => error,
        }
    }

    /// Creates the first admin of an empty store, with a token. Refused once any user exists.
    pub async fn bootstrap_admin(&self, name: &str) -> Result<CreatedUser, ServiceError> {
        let time = self.now();
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<CreatedUser, ServiceError> {
                if tx.user_count().await? > 0 {
                    return Err(ServiceError::Conflict(
                        "the store already has users; ask an admin to add you with `changegate user add`".to_owned(),
                    ));
                }
                let input = NewUser { name: name.to_owned(), roles: vec!["admin".to_owned()], team: None };
                add_user(tx, "system", &input, time).await
            })
            .await
    }

    /// Adds a user from the local command line (`changegate user add`), which has direct access
    /// to the store and so acts as the system.
    pub async fn add_user_locally(&self, input: &NewUser) -> Result<CreatedUser, ServiceError> {
        let time = self.now();
        self.store().write(async |tx: &mut WriteTx| add_user(tx, "system", input, time).await).await
    }

    /// Issues a new token for an existing user from the local command line (the old tokens stay
    /// valid). Used by `changegate demo` to hand out an admin token for an existing store.
    pub async fn issue_token_locally(&self, user: &str) -> Result<CreatedUser, ServiceError> {
        let time = self.now();
        let name = Name::parse(user).map_err(|message| ServiceError::invalid("name", message))?;
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<CreatedUser, ServiceError> {
                let record = tx.user(&name).await?.ok_or_else(|| ServiceError::NotFound(format!("user {name}")))?;
                let (token, token_id) = generate_token()?;
                let issued = DomainEvent::TokenIssued {
                    user: name.clone(),
                    token_id: token_id.clone(),
                    token_sha256: token_sha256(&token),
                };
                tx.append(&StreamId::User(name.clone()), "system", time, &issued).await?;
                Ok(CreatedUser::new(record, token, token_id))
            })
            .await
    }

    pub async fn create_change(
        &self,
        caller: &Caller,
        input: NewChange,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Outcome<ChangeRecord>, ServiceError> {
        let outcome = self.run(caller, Command::CreateChange(input), idempotency).await?;
        expect_change(outcome)
    }

    pub async fn act(
        &self,
        caller: &Caller,
        change: ChangeId,
        action: Action,
        request: ActionRequest,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Outcome<ChangeRecord>, ServiceError> {
        let outcome = self.run(caller, Command::Act { change, action, request }, idempotency).await?;
        expect_change(outcome)
    }

    pub async fn register_service(
        &self,
        caller: &Caller,
        input: NewService,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Outcome<ServiceRecord>, ServiceError> {
        let outcome = self.run(caller, Command::RegisterService(input), idempotency).await?;
        match outcome.value {
            Produced::Service(service) => Ok(Outcome { value: service, replayed: outcome.replayed }),
            other => Err(ServiceError::Internal(format!("idempotency key names {}", resource_of(&other)))),
        }
    }

    pub async fn create_user(&self, caller: &Caller, input: NewUser) -> Result<CreatedUser, ServiceError> {
        // No idempotency here: a replay could not show the token again.
        match self.run(caller, Command::CreateUser(input), None).await?.value {
            Produced::User(created) => Ok(created),
            other => Err(ServiceError::Internal(format!("unexpected result {}", resource_of(&other)))),
        }
    }

    pub async fn open_incident(
        &self,
        caller: &Caller,
        input: NewIncident,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Outcome<IncidentRecord>, ServiceError> {
        let outcome = self.run(caller, Command::OpenIncident(input), idempotency).await?;
        expect_incident(outcome)
    }

    pub async fn resolve_incident(
        &self,
        caller: &Caller,
        incident: IncidentId,
        resolved_at: Option<String>,
    ) -> Result<IncidentRecord, ServiceError> {
        let resolution = IncidentResolution { resolved_at, ..IncidentResolution::default() };
        self.incident_command(caller, Command::ResolveIncident { incident, resolution }).await
    }

    /// Runs one of the incident commands (resolve, update, link, confirm, reject).
    pub async fn incident_command(&self, caller: &Caller, command: Command) -> Result<IncidentRecord, ServiceError> {
        let outcome = self.run(caller, command, None).await?;
        Ok(expect_incident(outcome)?.value)
    }
}

/// Reads back the resource an earlier idempotent request produced.
async fn replay(tx: &mut WriteTx, resource: &str) -> Result<Produced, ServiceError> {
    let missing = || ServiceError::Internal(format!("idempotency record names unknown resource {resource}"));
    match resource.parse::<StreamId>().map_err(|_| missing())? {
        StreamId::Change(id) => tx.change(id).await?.map(Produced::Change).ok_or_else(missing),
        StreamId::Service(name) => tx.service(&name).await?.map(Produced::Service).ok_or_else(missing),
        StreamId::Incident(id) => tx.incident(id).await?.map(Produced::Incident).ok_or_else(missing),
        _ => Err(missing()),
    }
}

fn expect_change(outcome: Outcome<Produced>) -> Result<Outcome<ChangeRecord>, ServiceError> {
    match outcome.value {
        Produced::Change(change) => Ok(Outcome { value: change, replayed: outcome.replayed }),
        other => Err(ServiceError::IdempotencyKeyReused(format!("(it made {})", resource_of(&other)))),
    }
}

fn expect_incident(outcome: Outcome<Produced>) -> Result<Outcome<IncidentRecord>, ServiceError> {
    match outcome.value {
        Produced::Incident(incident) => Ok(Outcome { value: incident, replayed: outcome.replayed }),
        other => Err(ServiceError::IdempotencyKeyReused(format!("(it made {})", resource_of(&other)))),
    }
}
