//! Automated rollback: a service's rollback hook (a webhook or a command), set by an admin, and
//! its invocation when a change of the service fails, or when a severity 1–2 incident is linked
//! to a change deployed within the hook's window before the incident was detected.
//!
//! At most one invocation per change, across instances: the hook runs inside a write
//! transaction, which holds the ledger head lock (the row lock on PostgreSQL, the write lock on
//! SQLite). The transaction re-reads the change, runs the hook only if it never ran for it
//! (`lifecycle::rollback_hook_due`), and appends `rollback_hook_invoked` before it commits, so a
//! second trigger, here or on another instance, waits for the lock and then finds the run. The
//! price: every other write waits while a hook runs, at most `rollback_timeout_ms` (10 s by
//! default), so a hook should start a rollback (trigger a pipeline) and return, not perform it.
//! If the commit itself fails after the hook ran, the run is not recorded and a later trigger may
//! run it again; that is the one gap, and it needs a failing database.
//!
//! When the hook succeeds, the change is rolled back as the actor `system`
//! (`lifecycle::automated_rollback`): its page says "rolled back automatically".

use changegate_core::lifecycle;
use changegate_core::{
    ChangeId, ChangeRecord, DomainEvent, IncidentId, Name, RollbackHook, RollbackTarget, ServiceRecord, StreamId,
};
use changegate_store::WriteTx;
use serde_json::json;

use crate::Permission;
use crate::identity::Caller;
use crate::outbound::{self, CallResult, valid_http_url};
use crate::{Service, ServiceError};

/// Hours after a deployment during which a linked severity 1–2 incident triggers the hook, by
/// default…
pub const ROLLBACK_WINDOW_HOURS_DEFAULT: u32 = 24;
/// …and at most.
pub const ROLLBACK_WINDOW_HOURS_MAX: u32 = 24 * 30;
/// Longest webhook URL or program path.
pub const ROLLBACK_TARGET_LENGTH_MAX: usize = 2_000;
/// Most arguments of a rollback command, and the longest one.
pub const ROLLBACK_ARGUMENTS_MAX: usize = 64;
pub const ROLLBACK_ARGUMENT_LENGTH_MAX: usize = 2_000;
/// The worst incident severity that triggers a rollback (1 and 2 do).
pub const ROLLBACK_SEVERITY_LEVEL_MAX: u8 = 2;

use changegate_core::civil::HOUR_MS;

/// What triggered a run: a failed change, or an incident.
pub const TRIGGER_VERIFICATION_FAILED: &str = "verification_failed";

/// Input for a service's rollback hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollbackHookRequest {
    pub target: RollbackTarget,
    /// Default [`ROLLBACK_WINDOW_HOURS_DEFAULT`].
    pub incident_window_hours: Option<u32>,
}

fn validate(request: &RollbackHookRequest) -> Result<RollbackHook, ServiceError> {
    let mut errors = Vec::new();
    let mut push = |field: &str, message: String| errors.push(changegate_core::FieldError::new(field, message));
    match &request.target {
        RollbackTarget::Webhook { url } => {
            if let Err(message) = valid_http_url(url, ROLLBACK_TARGET_LENGTH_MAX) {
                push("url", message);
            }
        }
        RollbackTarget::Command { program, arguments } => {
            if program.trim().is_empty() || program.len() > ROLLBACK_TARGET_LENGTH_MAX {
                push("program", format!("1 to {ROLLBACK_TARGET_LENGTH_MAX} characters"));
            }
            if arguments.len() > ROLLBACK_ARGUMENTS_MAX {
                push("arguments", format!("at most {ROLLBACK_ARGUMENTS_MAX} arguments"));
            }
            if arguments.iter().any(|argument| argument.len() > ROLLBACK_ARGUMENT_LENGTH_MAX) {
                push("arguments", format!("each at most {ROLLBACK_ARGUMENT_LENGTH_MAX} characters"));
            }
            if std::iter::once(program).chain(arguments).any(|text| text.contains('\0')) {
                push("arguments", "must not contain NUL characters".to_owned());
            }
        }
    }
    let hours = request.incident_window_hours.unwrap_or(ROLLBACK_WINDOW_HOURS_DEFAULT);
    if hours == 0 || hours > ROLLBACK_WINDOW_HOURS_MAX {
        push("incident_window_hours", format!("must be 1 to {ROLLBACK_WINDOW_HOURS_MAX}"));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    Ok(RollbackHook { target: request.target.clone(), incident_window_ms: u64::from(hours) * HOUR_MS as u64 })
}

/// The JSON a rollback webhook receives.
fn webhook_body(change: &ChangeRecord, trigger: &str, reason: &str, public_url: Option<&str>) -> serde_json::Value {
    let path = format!("/changes/{}", change.id);
    let link = public_url.map(|base| format!("{}{path}", base.trim_end_matches('/'))).unwrap_or(path);
    json!({
        "text": format!("[Changegate] Rolling back {} on {}: {reason}", change.id, change.service),
        "change": change.id,
        "title": change.title,
        "service": change.service,
        "environment": change.environment,
        "commit": change.commit,
        "trigger": trigger,
        "reason": reason,
        "link": link,
    })
}

impl Service {
    /// Sets (or with `None` removes) the rollback hook of `service` (admin). Recorded as
    /// `rollback_hook_set` on the service's stream.
    pub async fn set_rollback_hook(
        &self,
        caller: &Caller,
        service: &str,
        request: Option<RollbackHookRequest>,
    ) -> Result<ServiceRecord, ServiceError> {
        if !caller.may(Permission::ManageRollbackHooks) {
            let reason = format!("setting a rollback hook needs {}", Permission::ManageRollbackHooks.roles_text());
            return Err(self.refuse(caller, "set_rollback_hook", &format!("service/{service}"), reason).await);
        }
        let name = Name::parse(service).map_err(|message| ServiceError::invalid("service", message))?;
        let hook = request.as_ref().map(validate).transpose()?;
        let record =
            self.store().service(&name).await?.ok_or_else(|| ServiceError::NotFound(format!("service {name}")))?;
        if hook.is_none() && record.rollback_hook.is_none() {
            return Err(ServiceError::NotFound(format!("a rollback hook on service {name}")));
        }
        let event = DomainEvent::RollbackHookSet { service: name.clone(), hook };
        let time = self.now();
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Service(name.clone()), caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        tracing::info!(actor = %caller.name(), service = %name, "rollback hook set");
        self.store().service(&name).await?.ok_or_else(|| ServiceError::NotFound(format!("service {name}")))
    }

    /// A change failed: run its service's hook, if there is one and it is due.
    pub(crate) async fn rollback_on_failure(&self, change: ChangeId) -> Result<(), ServiceError> {
        self.run_rollback_hook(change, TRIGGER_VERIFICATION_FAILED.to_owned(), "the change failed".to_owned()).await?;
        Ok(())
    }

    /// An incident was linked to `change`: run the hook when the incident is severity 1–2 and
    /// was detected within the hook's window after the change deployed (or, for a change still
    /// deploying, after it started).
    pub(crate) async fn rollback_on_incident(
        &self,
        incident: IncidentId,
        change: ChangeId,
    ) -> Result<(), ServiceError> {
        let Some(incident) = self.store().incident(incident).await? else { return Ok(()) };
        if incident.severity.level() > ROLLBACK_SEVERITY_LEVEL_MAX {
            return Ok(());
        }
        let Some(record) = self.store().change(change).await? else { return Ok(()) };
        let Some(service) = self.store().service(&record.service).await? else { return Ok(()) };
        let Some(hook) = service.rollback_hook else { return Ok(()) };
        let Some(deployed) = record.deployed_at().or(record.started_at) else { return Ok(()) };
        let after_ms = incident.detected_at.since_ms(deployed);
        if after_ms < 0 || after_ms as u64 > hook.incident_window_ms {
            return Ok(());
        }
        let reason = format!(
            "incident {} ({}) detected {} min after the deployment",
            incident.id,
            incident.severity,
            after_ms / 60_000
        );
        self.run_rollback_hook(change, format!("incident:{}", incident.id), reason).await?;
        Ok(())
    }

    /// Runs the hook for `change` if it is due, in a write transaction (see the module comment),
    /// and records the run and, on success, the rollback. Returns the run's result, `None` when
    /// nothing ran.
    async fn run_rollback_hook(
        &self,
        change: ChangeId,
        trigger: String,
        reason: String,
    ) -> Result<Option<CallResult>, ServiceError> {
        // A cheap look first, so changes of services without a hook never take the write lock.
        let Some(record) = self.store().change(change).await? else { return Ok(None) };
        if !lifecycle::rollback_hook_due(&record) {
            return Ok(None);
        }
        let has_hook =
            self.store().service(&record.service).await?.is_some_and(|service| service.rollback_hook.is_some());
        if !has_hook {
            return Ok(None);
        }
        let settings = self.alerts.settings.clone();
        let time = self.now();
        let result = self
            .store()
            .write(async |tx: &mut WriteTx| -> Result<Option<CallResult>, ServiceError> {
                let Some(record) = tx.change(change).await? else { return Ok(None) };
                if !lifecycle::rollback_hook_due(&record) {
                    return Ok(None);
                }
                let Some(hook) = tx.service(&record.service).await?.and_then(|service| service.rollback_hook) else {
                    return Ok(None);
                };
                let result = match &hook.target {
                    RollbackTarget::Webhook { url } => {
                        let body = webhook_body(&record, &trigger, &reason, settings.public_url.as_deref());
                        outbound::post_json(url, &body, settings.rollback_timeout_ms).await
                    }
                    RollbackTarget::Command { program, arguments } => {
                        let environment = [
                            ("CHANGEGATE_CHANGE_ID", record.id.to_string()),
                            ("CHANGEGATE_SERVICE", record.service.to_string()),
                            ("CHANGEGATE_ENVIRONMENT", record.environment.to_string()),
                            ("CHANGEGATE_TRIGGER", trigger.clone()),
                        ];
                        outbound::run_command(program, arguments, &environment, settings.rollback_timeout_ms).await
                    }
                };
                let stream = StreamId::Change(change);
                let invoked = DomainEvent::RollbackHookInvoked {
                    trigger: trigger.clone(),
                    target: hook.target.describe(),
                    ok: result.ok,
                    detail: result.detail.clone(),
                };
                tx.append(&stream, "system", time, &invoked).await?;
                if result.ok {
                    for event in lifecycle::automated_rollback(&record, &reason) {
                        tx.append(&stream, "system", time, &event).await?;
                    }
                }
                Ok(Some(result))
            })
            .await?;
        if let Some(result) = &result {
            self.metrics.record_rollback_run(result.ok);
            if result.ok {
                tracing::warn!(%change, %trigger, "rollback hook ran; change rolled back automatically");
            } else {
                tracing::error!(%change, %trigger, detail = %result.detail, "rollback hook failed");
            }
        }
        Ok(result)
    }
}
