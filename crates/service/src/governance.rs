//! Governance: the approval policy in force, the assessment on submit, standard-change templates,
//! the change calendar, the approvals inbox and the emergency-deadline sweep.
//!
//! The assessment gathers every fact the policy may look at (the change, its service, the
//! calendar, conflicting changes, the requester's record, the template), evaluates the policy in
//! force under its time limit, and hands the decision to the core as an
//! [`AssessmentDecision`]. A policy that fails (error or time limit) leaves the change
//! unapproved and waiting for a CAB approval: fail closed.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use changegate_calendar::{CalendarWindow, PlannedChange};
use changegate_core::lifecycle::{self, Action, AssessmentDecision};
use changegate_core::{
    CalendarWindowRecord, ChangeId, ChangeRecord, DomainEvent, Name, PolicySource, PolicyVersionRecord, RiskClass,
    StreamId, TEXT_LENGTH_MAX, TemplateRecord, Timestamp, UserRecord, approval::RequiredApproval,
};
use changegate_policy::{
    CalendarFacts, EvalLimits, FreezeFacts, Policy, PolicyFile, PolicyInput, TemplateFacts, evaluate,
    run_policy_tests_with_limits,
};
use changegate_store::{AWAITING_LIST_MAX, Store, WriteTx};

use crate::Permission;
use crate::identity::Caller;
use crate::{Service, ServiceError};

/// A freeze starting this soon after a change's planned window raises its timing risk.
pub const FREEZE_PROXIMITY_MS: i64 = 24 * 60 * 60 * 1000;
/// A change without a planned end is taken to last this long when looking for overlaps.
pub const PLANNED_DURATION_DEFAULT_MS: i64 = 60 * 60 * 1000;
/// Most files in one policy version, and most bytes in all of them.
pub const POLICY_FILES_MAX: usize = 64;
pub const POLICY_BYTES_MAX: usize = 200_000;
/// Longest span the calendar view expands at once.
pub const CALENDAR_VIEW_DAYS_MAX: i64 = 400;
/// Most occurrences one window contributes to a calendar view.
const OCCURRENCES_PER_WINDOW_MAX: usize = 500;

/// Settings of the governance rules that an installation may change.
#[derive(Clone, Debug, PartialEq)]
pub struct GovernanceSettings {
    /// Weights of the explainable risk factors.
    pub risk_weights: changegate_risk::RiskWeights,
    /// Time limit of one policy evaluation.
    pub policy_time_limit_ms: u64,
    /// How long an emergency change has, from its start, for its retrospective approval and
    /// review.
    pub emergency_deadline_ms: i64,
    /// How far back from an incident's detection the attribution rule looks for the change that
    /// probably caused it.
    pub attribution_window_ms: i64,
}

impl Default for GovernanceSettings {
    fn default() -> Self {
        GovernanceSettings {
            risk_weights: changegate_risk::RiskWeights::default(),
            policy_time_limit_ms: EvalLimits::default().time_limit_ms,
            emergency_deadline_ms: lifecycle::EMERGENCY_DEADLINE_MS_DEFAULT,
            attribution_window_ms: crate::incidents::ATTRIBUTION_WINDOW_MS_DEFAULT,
        }
    }
}

/// The policy in force, prepared once per version. Every process reads the version in force from
/// the store on each use (one indexed row), so a `policy set` through any server takes effect
/// everywhere.
pub(crate) struct PolicyCache {
    current: RwLock<(Option<String>, Arc<Policy>)>,
}

impl PolicyCache {
    pub(crate) fn new() -> Self {
        PolicyCache { current: RwLock::new((None, Arc::new(Policy::default_policy()))) }
    }

    async fn get(&self, store: &Store) -> Result<Arc<Policy>, ServiceError> {
        let stored = store.current_policy_sha256().await?;
        {
            let current = self.current.read().expect("policy cache lock");
            if current.0 == stored {
                return Ok(current.1.clone());
            }
        }
        let policy = match store.current_policy().await? {
            Some(version) => Arc::new(policy_of(&version)?),
            None => Arc::new(Policy::default_policy()),
        };
        *self.current.write().expect("policy cache lock") = (stored, policy.clone());
        Ok(policy)
    }
}

fn policy_of(version: &PolicyVersionRecord) -> Result<Policy, ServiceError> {
    let files = version.files.iter().map(|file| PolicyFile::new(file.name.clone(), file.text.clone())).collect();
    Policy::from_files(files).map_err(|error| {
        ServiceError::Internal(format!("the stored policy version {} does not load: {error}", version.sha256))
    })
}

/// Input for a new standard-change template, as raw text from any face.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewTemplate {
    pub name: String,
    pub description: String,
    pub services: Vec<String>,
    pub teams: Vec<String>,
    pub environments: Vec<String>,
    pub max_risk: String,
    pub approved: bool,
}

/// One change in the approvals inbox, with what the approver needs to decide.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxItem {
    pub change: ChangeRecord,
    /// Approvals still missing.
    pub missing: Vec<RequiredApproval>,
    /// Whether this is a retrospective approval of an emergency change that already started.
    pub retrospective: bool,
}

/// One occurrence of a window, for calendar views.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowOccurrence {
    pub name: String,
    pub kind: String,
    pub scope: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The calendar over a span: window occurrences and the planned changes in it.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarView {
    pub from: Timestamp,
    pub to: Timestamp,
    pub occurrences: Vec<WindowOccurrence>,
    pub changes: Vec<ChangeRecord>,
    pub windows: Vec<CalendarWindowRecord>,
}

/// The planned span of a change for conflicts and the calendar: from its planned start to its
/// planned end, or for [`PLANNED_DURATION_DEFAULT_MS`] when it has no (later) end. `None` when it
/// has no planned start.
pub fn planned_span(change: &ChangeRecord) -> Option<(Timestamp, Timestamp)> {
    change.planned_start.map(|start| (start, planned_end(change, start)))
}

/// The planned span of a change, starting `now` when it has no planned start.
fn planned_span_or_now(change: &ChangeRecord, now: Timestamp) -> (Timestamp, Timestamp) {
    let start = change.planned_start.unwrap_or(now);
    (start, planned_end(change, start))
}

fn planned_end(change: &ChangeRecord, start: Timestamp) -> Timestamp {
    change.planned_end.filter(|end| *end > start).unwrap_or(start.plus_ms(PLANNED_DURATION_DEFAULT_MS))
}

fn windows_of(records: &[CalendarWindowRecord]) -> Vec<CalendarWindow> {
    records.iter().filter_map(|record| serde_json::from_value(record.window.clone()).ok()).collect()
}

fn describe_scope(window: &CalendarWindow) -> String {
    serde_json::to_value(&window.scope)
        .ok()
        .and_then(|value| {
            let kind = value.get("kind")?.as_str()?.to_owned();
            Some(match value.get("name").and_then(|name| name.as_str()) {
                Some(name) => format!("{kind} {name}"),
                None => kind,
            })
        })
        .unwrap_or_else(|| "global".to_owned())
}

fn kind_of(window: &CalendarWindow) -> String {
    serde_json::to_value(window.kind).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Service {
    /// Decides the assessment of `change` on submission (see the module comment). Reads facts
    /// from the transaction where they may have changed in it (the change, its service, the
    /// requester) and from the store for the rest.
    pub(crate) async fn assess_for_submit(
        &self,
        tx: &mut WriteTx,
        change: &ChangeRecord,
        time: Timestamp,
    ) -> Result<AssessmentDecision, ServiceError> {
        let service = tx
            .service(&change.service)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("service {}", change.service)))?;
        let requester = tx.user(&change.requester).await?;
        self.assess_change(change, service, requester, time).await
    }

    /// Decides the assessment of a draft read outside any write transaction, so the policy and
    /// the risk score run without holding the write lock; `act` uses it when the change is still
    /// at the version assessed (else it assesses again inside). `None` when it is not a draft.
    pub(crate) async fn prepare_submit(
        &self,
        id: ChangeId,
        time: Timestamp,
    ) -> Result<Option<PreparedSubmit>, ServiceError> {
        let Some(change) = self.store().change(id).await? else { return Ok(None) };
        if change.state != changegate_core::ChangeState::Draft {
            return Ok(None);
        }
        let Some(service) = self.store().service(&change.service).await? else { return Ok(None) };
        let requester = self.store().user(&change.requester).await?;
        let decision = self.assess_change(&change, service, requester, time).await?;
        Ok(Some(PreparedSubmit { version: change.version, decision }))
    }

    /// The assessment on submit, measured: its latency and result go to the process counters
    /// (`/metrics`). A submission assessed before the write lock and again inside it (the change
    /// moved meanwhile) counts twice.
    async fn assess_change(
        &self,
        change: &ChangeRecord,
        service: changegate_core::ServiceRecord,
        requester: Option<UserRecord>,
        time: Timestamp,
    ) -> Result<AssessmentDecision, ServiceError> {
        let started = std::time::Instant::now();
        let decision = self.assess_change_unmeasured(change, service, requester, time).await?;
        let result = if !decision.deny.is_empty() {
            crate::telemetry::DecisionResult::Denied
        } else if decision.policy_error.is_some() {
            crate::telemetry::DecisionResult::PolicyError
        } else if decision.auto_approve && decision.required_approvals.is_empty() {
            crate::telemetry::DecisionResult::AutoApproved
        } else {
            crate::telemetry::DecisionResult::ApprovalRequired
        };
        let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.metrics.record_decision(result, latency_us);
        Ok(decision)
    }

    async fn assess_change_unmeasured(
        &self,
        change: &ChangeRecord,
        service: changegate_core::ServiceRecord,
        requester: Option<UserRecord>,
        time: Timestamp,
    ) -> Result<AssessmentDecision, ServiceError> {
        let store = self.store();
        let users: Vec<UserRecord> = requester.into_iter().collect();

        let (start, end) = planned_span_or_now(change, time);
        let windows = windows_of(&store.calendar_windows().await?);
        let facts = changegate_calendar::facts_for(&windows, service.name.as_str(), service.team.as_str(), start, end);
        let near = changegate_calendar::facts_for(
            &windows,
            service.name.as_str(),
            service.team.as_str(),
            start,
            end.plus_ms(FREEZE_PROXIMITY_MS),
        );
        let all_services = store.services().await?;
        let scored = self.score_change(change, &service, &all_services, near.freeze.is_some(), time).await?;
        let (factors, prediction) = (scored.factors, scored.prediction);
        let risk_class = crate::risk::class_of(&factors);
        let mut input = PolicyInput::for_change(change, std::slice::from_ref(&service), &users, risk_class, time)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        input.change.risk_score = Some(factors.score);
        let depends_on: BTreeMap<String, Vec<String>> = all_services
            .iter()
            .map(|service| (service.name.to_string(), service.depends_on.iter().map(ToString::to_string).collect()))
            .collect();
        let conflicts = self.conflicts_of(change, start, end, &depends_on).await?;
        input.calendar = CalendarFacts {
            freeze: facts
                .freeze
                .as_ref()
                .map(|(name, ends_at)| FreezeFacts { name: name.clone(), ends_at: ends_at.to_rfc3339() }),
            in_maintenance_window: facts.in_maintenance_window,
            conflicts: conflicts.clone(),
        };
        if let Some(template) = &change.template {
            input.change.template = Some(match store.template(template).await? {
                Some(record) => TemplateFacts {
                    name: record.name.to_string(),
                    approved: record.approved,
                    max_risk_class: record.max_risk,
                },
                None => TemplateFacts { name: template.to_string(), approved: false, max_risk_class: RiskClass::Low },
            });
        }
        // The same 90-day count the risk score used (one read for both).
        input.requester.recent_failures_90d = u32::try_from(scored.history.requester_failures).unwrap_or(u32::MAX);

        let scoped = input.is_scoped();
        let risk_reason = format!(
            "risk {risk_class} (score {}: {})",
            factors.score,
            factors
                .factors
                .iter()
                .filter(|factor| factor.contribution >= 0.5)
                .map(|factor| format!("{} +{:.0}", factor.name, factor.contribution))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let base = AssessmentDecision {
            risk_class,
            risk_score: Some(factors.score),
            risk_factors: factors
                .factors
                .iter()
                .map(|factor| changegate_core::RiskFactorRecord {
                    name: factor.name.clone(),
                    contribution: (factor.contribution * 100.0).round() / 100.0,
                    detail: factor.detail.clone(),
                })
                .collect(),
            risk_probability: prediction.as_ref().map(|(_, probability)| (probability * 10_000.0).round() / 10_000.0),
            risk_model: prediction.map(|(version, _)| version),
            scoped,
            conflicts,
            freeze: facts.freeze.as_ref().map(|(name, _)| name.clone()),
            ..AssessmentDecision::default()
        };
        let policy = self.governance.policy.get(store).await?;
        let limits = EvalLimits::new(self.governance.settings.policy_time_limit_ms);
        let decision = match evaluate(&policy, &input, limits) {
            Ok(decision) => decision,
            Err(error) => {
                tracing::error!(change = %change.id, %error, "policy evaluation failed: the change waits for a CAB approval");
                return Ok(AssessmentDecision {
                    rule: format!("policy:{}", &policy.sha256()[..12]),
                    reasons: vec![risk_reason],
                    required_approvals: vec![RequiredApproval::new("cab", 1)],
                    policy_sha256: Some(policy.sha256().to_owned()),
                    input_sha256: Some(input.sha256()),
                    policy_error: Some(format!(
                        "{error} ({}): the policy could not decide, so the change stays unapproved until a CAB member approves it",
                        error.code()
                    )),
                    ..base
                });
            }
        };
        let mut reasons = vec![risk_reason];
        if decision.auto_approve && decision.deny.is_empty() {
            reasons.push("the policy auto-approves it".to_owned());
        }
        Ok(AssessmentDecision {
            rule: format!("policy:{}", &decision.policy_sha256[..12]),
            reasons,
            auto_approve: decision.auto_approve,
            required_approvals: decision.required_approvals,
            deny: decision.deny,
            warn: decision.warn,
            policy_sha256: Some(decision.policy_sha256),
            input_sha256: Some(decision.input_sha256),
            ..base
        })
    }

    /// Ids of open changes whose planned windows overlap `[start, end)` on `change`'s service or
    /// a service related to it by dependency.
    async fn conflicts_of(
        &self,
        change: &ChangeRecord,
        start: Timestamp,
        end: Timestamp,
        depends_on: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<String>, ServiceError> {
        let candidates = self.store().planned_changes_before(end).await?;
        let others: Vec<PlannedChange> = candidates
            .iter()
            .filter(|other| other.id != change.id)
            .filter_map(|other| {
                let other_start = other.planned_start?;
                let (_, other_end) = planned_span_or_now(other, other_start);
                Some(PlannedChange {
                    id: other.id.to_string(),
                    service: other.service.to_string(),
                    start: other_start,
                    end: other_end,
                })
            })
            .collect();
        let target = PlannedChange { id: change.id.to_string(), service: change.service.to_string(), start, end };
        Ok(changegate_calendar::conflicts(&target, &others, depends_on))
    }

    /// The conflicts of one change now (for its page and the inbox).
    pub async fn change_conflicts(&self, _caller: &Caller, id: ChangeId) -> Result<Vec<String>, ServiceError> {
        let change = self.store().change(id).await?.ok_or_else(|| ServiceError::NotFound(format!("change {id}")))?;
        let (start, end) = planned_span_or_now(&change, self.now());
        let depends_on: BTreeMap<String, Vec<String>> = self
            .store()
            .services()
            .await?
            .iter()
            .map(|service| (service.name.to_string(), service.depends_on.iter().map(ToString::to_string).collect()))
            .collect();
        self.conflicts_of(&change, start, end, &depends_on).await
    }

    // --- policy ---------------------------------------------------------------------------------

    /// The policy version in force (`None`: the default policy shipped in the binary) and its
    /// prepared form.
    pub async fn current_policy(
        &self,
        _caller: &Caller,
    ) -> Result<(Option<PolicyVersionRecord>, Arc<Policy>), ServiceError> {
        let record = self.store().current_policy().await?;
        let policy = self.governance.policy.get(self.store()).await?;
        Ok((record, policy))
    }

    pub async fn policy_versions(&self, _caller: &Caller) -> Result<Vec<PolicyVersionRecord>, ServiceError> {
        Ok(self.store().policy_versions().await?)
    }

    /// Puts a new policy version in force, recorded as a `policy_set` event. The files must parse,
    /// define `data.changegate.decision`, and pass their own `test_*` rules when they have any.
    /// Needs the admin or security role.
    pub async fn set_policy(
        &self,
        caller: &Caller,
        files: Vec<PolicySource>,
        comment: Option<String>,
    ) -> Result<PolicyVersionRecord, ServiceError> {
        if !caller.may(Permission::SetPolicy) {
            let reason = format!("setting the approval policy needs {}", Permission::SetPolicy.roles_text());
            return Err(self.refuse(caller, "set_policy", "policy", reason).await);
        }
        if files.is_empty() || files.len() > POLICY_FILES_MAX {
            return Err(ServiceError::invalid("files", format!("give 1 to {POLICY_FILES_MAX} .rego files")));
        }
        let bytes: usize = files.iter().map(|file| file.text.len()).sum();
        if bytes > POLICY_BYTES_MAX {
            return Err(ServiceError::invalid("files", format!("at most {POLICY_BYTES_MAX} bytes of policy in all")));
        }
        if let Some(comment) = &comment {
            changegate_core::check_text("comment", comment, TEXT_LENGTH_MAX)?;
        }
        let mut sorted = files.clone();
        sorted.sort_by(|left, right| left.name.cmp(&right.name));
        let policy_files: Vec<PolicyFile> =
            sorted.iter().map(|file| PolicyFile::new(file.name.clone(), file.text.clone())).collect();
        let limits = EvalLimits::new(self.governance.settings.policy_time_limit_ms);
        let report = run_policy_tests_with_limits(&policy_files, limits)
            .map_err(|error| ServiceError::invalid("files", error.to_string()))?;
        if !report.failed.is_empty() {
            let failed: Vec<String> =
                report.failed.iter().map(|(name, message)| format!("{name}: {message}")).collect();
            return Err(ServiceError::invalid("files", format!("policy tests fail: {}", failed.join("; "))));
        }
        let policy =
            Policy::from_files(policy_files).map_err(|error| ServiceError::invalid("files", error.to_string()))?;
        let sha256 = policy.sha256().to_owned();
        let time = self.now();
        let event = DomainEvent::PolicySet { sha256: sha256.clone(), files: sorted, comment };
        let sequence = self
            .store()
            .write(async |tx: &mut WriteTx| -> Result<u64, ServiceError> {
                Ok(tx.append(&StreamId::Policy, caller.name().as_str(), time, &event).await?.sequence)
            })
            .await?;
        tracing::info!(actor = %caller.name(), %sha256, sequence, "policy set");
        self.store()
            .current_policy()
            .await?
            .ok_or_else(|| ServiceError::Internal("the policy version just set cannot be read back".into()))
    }

    // --- templates ------------------------------------------------------------------------------

    pub async fn templates(&self, _caller: &Caller) -> Result<Vec<TemplateRecord>, ServiceError> {
        Ok(self.store().templates().await?)
    }

    /// Defines (or redefines) a standard-change template. Needs the admin or cab role.
    pub async fn define_template(&self, caller: &Caller, input: NewTemplate) -> Result<TemplateRecord, ServiceError> {
        if !caller.may(Permission::Govern) {
            let reason = format!("defining a standard-change template needs {}", Permission::Govern.roles_text());
            return Err(self.refuse(caller, "define_template", &format!("template/{}", input.name), reason).await);
        }
        let mut errors = Vec::new();
        let name = Name::parse(&input.name)
            .map_err(|message| errors.push(changegate_core::FieldError::new("name", message)))
            .ok();
        let mut names = |field: &str, texts: &[String]| -> Vec<Name> {
            let mut names: Vec<Name> = texts
                .iter()
                .filter_map(|text| {
                    Name::parse(text.trim())
                        .map_err(|message| errors.push(changegate_core::FieldError::new(field, message)))
                        .ok()
                })
                .collect();
            names.sort();
            names.dedup();
            names
        };
        let services = names("services", &input.services);
        let teams = names("teams", &input.teams);
        let environments = names("environments", &input.environments);
        let max_risk: Option<RiskClass> = if input.max_risk.trim().is_empty() {
            Some(RiskClass::Low)
        } else {
            input
                .max_risk
                .trim()
                .parse()
                .map_err(|message| errors.push(changegate_core::FieldError::new("max_risk", message)))
                .ok()
        };
        if let Err(changegate_core::DomainError::Validation(mut found)) =
            changegate_core::check_text("description", &input.description, TEXT_LENGTH_MAX)
        {
            errors.append(&mut found);
        }
        for service in &services {
            if self.store().service(service).await?.is_none() {
                errors.push(changegate_core::FieldError::new("services", format!("no service named {service}")));
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(errors));
        }
        let (Some(name), Some(max_risk)) = (name, max_risk) else { unreachable!("validated") };
        let event = DomainEvent::TemplateDefined {
            name: name.clone(),
            description: input.description.clone(),
            services,
            teams,
            environments,
            max_risk,
            approved: input.approved,
        };
        let time = self.now();
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Template(name.clone()), caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        self.store().template(&name).await?.ok_or_else(|| ServiceError::NotFound(format!("template {name}")))
    }

    // --- calendar -------------------------------------------------------------------------------

    /// Defines (or redefines) a freeze or maintenance window. Needs the admin or cab role.
    pub async fn define_window(
        &self,
        caller: &Caller,
        window: CalendarWindow,
    ) -> Result<CalendarWindowRecord, ServiceError> {
        if !caller.may(Permission::Govern) {
            let reason = format!("defining a calendar window needs {}", Permission::Govern.roles_text());
            return Err(self.refuse(caller, "define_window", &format!("calendar/{}", window.name), reason).await);
        }
        let name = Name::parse(&window.name).map_err(|message| ServiceError::invalid("name", message))?;
        window.validate().map_err(|error| ServiceError::invalid(error.code(), error.to_string()))?;
        changegate_core::check_text("description", &window.description, TEXT_LENGTH_MAX)?;
        let value =
            serde_json::to_value(&window).map_err(|error| ServiceError::invalid("window", error.to_string()))?;
        let event = DomainEvent::CalendarWindowDefined { name: name.clone(), window: value };
        let time = self.now();
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Calendar(name.clone()), caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        self.store()
            .calendar_windows()
            .await?
            .into_iter()
            .find(|record| record.name == name)
            .ok_or_else(|| ServiceError::NotFound(format!("calendar window {name}")))
    }

    /// Removes a window. Needs the admin or cab role.
    pub async fn remove_window(&self, caller: &Caller, name: &str) -> Result<(), ServiceError> {
        if !caller.may(Permission::Govern) {
            let reason = format!("removing a calendar window needs {}", Permission::Govern.roles_text());
            return Err(self.refuse(caller, "remove_window", &format!("calendar/{name}"), reason).await);
        }
        let name = Name::parse(name).map_err(|message| ServiceError::invalid("name", message))?;
        if !self.store().calendar_windows().await?.iter().any(|record| record.name == name) {
            return Err(ServiceError::NotFound(format!("calendar window {name}")));
        }
        let time = self.now();
        let event = DomainEvent::CalendarWindowRemoved { name: name.clone() };
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Calendar(name.clone()), caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    pub async fn calendar_windows(&self, _caller: &Caller) -> Result<Vec<CalendarWindowRecord>, ServiceError> {
        Ok(self.store().calendar_windows().await?)
    }

    /// The calendar over `[from, to)`: every window's occurrences and the open changes planned in
    /// it. At most [`CALENDAR_VIEW_DAYS_MAX`] days.
    pub async fn calendar_view(
        &self,
        _caller: &Caller,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<CalendarView, ServiceError> {
        if to <= from {
            return Err(ServiceError::invalid("to", "must be after from"));
        }
        if to.since_ms(from) > CALENDAR_VIEW_DAYS_MAX * 24 * 60 * 60 * 1000 {
            return Err(ServiceError::invalid("to", format!("a view spans at most {CALENDAR_VIEW_DAYS_MAX} days")));
        }
        let records = self.store().calendar_windows().await?;
        let mut occurrences = Vec::new();
        for window in windows_of(&records) {
            let found = window.occurrences(from, to, OCCURRENCES_PER_WINDOW_MAX).unwrap_or_default();
            let kind = kind_of(&window);
            let scope = describe_scope(&window);
            occurrences.extend(found.into_iter().map(|occurrence| WindowOccurrence {
                name: window.name.clone(),
                kind: kind.clone(),
                scope: scope.clone(),
                start: occurrence.start,
                end: occurrence.end,
            }));
        }
        occurrences.sort_by_key(|occurrence| (occurrence.start, occurrence.name.clone()));
        let changes: Vec<ChangeRecord> = self
            .store()
            .planned_changes_starting(from.plus_ms(-changegate_store::PLANNED_LOOKBACK_MS), to)
            .await?
            .into_iter()
            .filter(|change| {
                let (start, end) = planned_span_or_now(change, change.planned_start.unwrap_or(from));
                start < to && end > from
            })
            .collect();
        Ok(CalendarView { from, to, occurrences, changes, windows: records })
    }

    // --- approvals inbox ------------------------------------------------------------------------

    /// What `caller` may approve now: changes awaiting approval where their approval would fill a
    /// required approval under separation of duties. Oldest first.
    pub async fn approvals_inbox(&self, caller: &Caller) -> Result<Vec<InboxItem>, ServiceError> {
        let actor = caller.actor();
        let changes = self.store().changes_awaiting_approval(AWAITING_LIST_MAX).await?;
        Ok(changes
            .into_iter()
            .filter(|change| lifecycle::authorize(&actor, Action::Approve, change).is_ok())
            .filter(|change| lifecycle::approval_eligibility(change, &actor, Action::Approve).is_ok())
            .map(|change| {
                let missing = change.approval_status().map(|status| status.missing).unwrap_or_default();
                let retrospective = change.started_at.is_some();
                InboxItem { change, missing, retrospective }
            })
            .collect())
    }

    // --- emergency deadlines --------------------------------------------------------------------

    /// Flags every emergency change whose retrospective approval or review is overdue (an
    /// `emergency_overdue` event each, once). Returns the changes flagged.
    pub async fn flag_overdue_emergencies(&self) -> Result<Vec<ChangeId>, ServiceError> {
        let now = self.now();
        let candidates = self.store().emergency_changes_open().await?;
        let due: Vec<ChangeId> = candidates
            .iter()
            .filter(|change| lifecycle::emergency_overdue(change, now).is_some())
            .map(|change| change.id)
            .collect();
        if due.is_empty() {
            return Ok(due);
        }
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<Vec<ChangeId>, ServiceError> {
                let mut flagged = Vec::new();
                for id in &due {
                    // Re-read inside the transaction: another process may have flagged it.
                    let Some(change) = tx.change(*id).await? else { continue };
                    if let Some(event) = lifecycle::emergency_overdue(&change, now) {
                        tx.append(&StreamId::Change(*id), "system", now, &event).await?;
                        tracing::warn!(change = %id, "emergency change overdue");
                        flagged.push(*id);
                    }
                }
                Ok(flagged)
            })
            .await
    }

    /// How many emergency changes are flagged overdue and still miss their approval or review.
    pub async fn overdue_emergency_count(&self, _caller: &Caller) -> Result<u64, ServiceError> {
        let open = self.store().emergency_changes_open().await?;
        Ok(open
            .iter()
            .filter(|change| change.emergency_overdue && (!change.is_approved() || change.review.is_none()))
            .count() as u64)
    }
}

/// An assessment decided before the write transaction, for the change at `version`.
pub(crate) struct PreparedSubmit {
    pub(crate) version: u64,
    pub(crate) decision: AssessmentDecision,
}

/// The governance state a service carries.
pub(crate) struct Governance {
    pub(crate) policy: PolicyCache,
    pub(crate) settings: GovernanceSettings,
}
