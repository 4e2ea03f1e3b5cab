//! Incidents: opening, correcting, resolving, and linking each to the change that caused it.
//!
//! Metrics blame a change for an incident only on a link a person stands behind: `explicit`
//! (given when opening or later) or `confirmed` (a suggestion a person accepted). The attribution
//! rule only suggests: the latest successful production deployment of the incident's service
//! within the window before detection (24 h by default). DevLake and fourkeys attribute
//! automatically and their users complain that incidents are blamed on the wrong deployment;
//! here the guess is visible as `suggested` and counts for nothing until confirmed. A rejected
//! change is never suggested again for that incident; the rule moves on to the next candidate.

use changegate_core::{
    ChangeId, ChangeRecord, DomainEvent, IncidentId, IncidentRecord, LinkProvenance, Severity, StreamId,
    TEXT_LENGTH_MAX, TITLE_LENGTH_MAX, Timestamp, is_production,
};
use changegate_store::{KeyedTable, WriteTx};

use crate::Permission;
use crate::command_shared::{Denied, Fields, IncidentResolution, IncidentUpdate, NewIncident, denial};
use crate::identity::Caller;
use crate::{Service, ServiceError};

/// The attribution rule's default window: 24 hours before detection.
pub const ATTRIBUTION_WINDOW_MS_DEFAULT: i64 = 24 * 3_600_000;
/// Downtime above a year is a typo, not an incident.
pub const DOWNTIME_MINUTES_MAX: u32 = 525_600;
/// How many recent deployments the rule considers before giving up (rejected ones are skipped).
const CANDIDATES_MAX: u32 = 50;

/// The refusal of `action` when `caller` may not edit incidents.
fn authorize(caller: &Caller, action: &str, target: &str) -> Option<Denied> {
    if caller.may(Permission::EditIncidents) {
        return None;
    }
    let reason = format!("{} an incident needs {}", action.replace('_', " "), Permission::EditIncidents.roles_text());
    Some(denial(action, target, reason))
}

/// A severity given as `sev1`…`sev4` or `1`…`4`.
fn parse_severity(fields: &mut Fields, text: &str) -> Option<Severity> {
    if let Ok(level) = text.trim().parse::<i64>() {
        return Severity::from_level(level).map_err(|message| fields.push("severity", message)).ok();
    }
    fields.parse("severity", text.trim())
}

fn check_downtime(fields: &mut Fields, downtime_minutes: Option<u32>) {
    if downtime_minutes.is_some_and(|minutes| minutes > DOWNTIME_MINUTES_MAX) {
        fields.push("downtime_minutes", format!("must be at most {DOWNTIME_MINUTES_MAX} (a year)"));
    }
}

fn check_comment(fields: &mut Fields, comment: Option<&str>) {
    if let Some(comment) = comment {
        fields.text("comment", comment, TEXT_LENGTH_MAX);
    }
}

async fn existing(tx: &mut WriteTx, id: IncidentId) -> Result<IncidentRecord, ServiceError> {
    tx.incident(id).await?.ok_or_else(|| ServiceError::NotFound(format!("incident {id}")))
}

async fn append(
    tx: &mut WriteTx,
    caller: &Caller,
    mut record: IncidentRecord,
    event: DomainEvent,
    time: Timestamp,
) -> Result<IncidentRecord, ServiceError> {
    tx.append(&StreamId::Incident(record.id), caller.name().as_str(), time, &event).await?;
    record.apply(&event, time);
    Ok(record)
}

/// Whether a deployment may have caused an incident detected at `detected_at`: a production
/// change of the service that deployed successfully (not failed, not rolled back) before it.
fn is_candidate(change: &ChangeRecord, detected_at: Timestamp, rejected: &[ChangeId]) -> bool {
    is_production(change.environment.as_str())
        && change.completed_at.is_some_and(|completed| completed <= detected_at)
        && change.failed_at.is_none()
        && change.rolled_back_at.is_none()
        && !rejected.contains(&change.id)
}

/// The attribution rule: appends a suggestion when a candidate exists.
async fn suggest(
    service: &Service,
    tx: &mut WriteTx,
    record: IncidentRecord,
    time: Timestamp,
) -> Result<IncidentRecord, ServiceError> {
    let window_ms = service.governance_settings().attribution_window_ms;
    let from = Timestamp::from_unix_ms(record.detected_at.unix_ms().saturating_sub(window_ms));
    let deployments = tx.deployments_of_service(&record.service, from, record.detected_at, CANDIDATES_MAX).await?;
    let Some(candidate) =
        deployments.iter().find(|change| is_candidate(change, record.detected_at, &record.rejected_causes))
    else {
        return Ok(record);
    };
    let hours = window_ms as f64 / 3_600_000.0;
    let rule = format!("latest successful production change of {} within {hours} h before detection", record.service);
    let event = DomainEvent::IncidentLinkSuggested { change: candidate.id, rule };
    tx.append(&StreamId::Incident(record.id), "system", time, &event).await?;
    let mut record = record;
    record.apply(&event, time);
    Ok(record)
}

pub(crate) async fn open_incident(
    service: &Service,
    tx: &mut WriteTx,
    caller: &Caller,
    input: &NewIncident,
    time: Timestamp,
) -> Result<Result<IncidentRecord, Denied>, ServiceError> {
    if let Some(denied) = authorize(caller, "open_incident", "incident") {
        return Ok(Err(denied));
    }
    let mut fields = Fields::default();
    let title = input.title.trim();
    if title.is_empty() {
        fields.push("title", "must not be empty");
    }
    fields.text("title", title, TITLE_LENGTH_MAX);
    let service_name = fields.name("service", &input.service);
    let severity = parse_severity(&mut fields, &input.severity);
    let detected_at = fields.time("detected_at", input.detected_at.as_deref()).unwrap_or(time);
    let caused_by: Option<ChangeId> = input.caused_by.as_deref().and_then(|text| fields.parse("caused_by", text));
    check_downtime(&mut fields, input.downtime_minutes);
    if detected_at > time {
        fields.push("detected_at", "must not be in the future");
    }
    if let Some(name) = &service_name
        && !tx.exists(KeyedTable::Services, name).await?
    {
        fields.push("service", format!("no service named {name}"));
    }
    if let Some(change) = caused_by
        && tx.change(change).await?.is_none()
    {
        fields.push("caused_by", format!("no change {change}"));
    }
    fields.finish()?;
    let id = tx.next_incident_id().await?;
    let event = DomainEvent::IncidentOpened {
        id,
        title: title.to_owned(),
        service: service_name.expect("validated"),
        severity: severity.expect("validated"),
        detected_at,
        caused_by,
        downtime_minutes: input.downtime_minutes,
    };
    tx.append(&StreamId::Incident(id), caller.name().as_str(), time, &event).await?;
    let record = IncidentRecord::create(&event, time).expect("an opening event creates an incident");
    if record.caused_by.is_some() {
        return Ok(Ok(record));
    }
    Ok(Ok(suggest(service, tx, record, time).await?))
}

pub(crate) async fn update_incident(
    tx: &mut WriteTx,
    caller: &Caller,
    id: IncidentId,
    update: &IncidentUpdate,
    time: Timestamp,
) -> Result<Result<IncidentRecord, Denied>, ServiceError> {
    if let Some(denied) = authorize(caller, "update_incident", &format!("incident/{id}")) {
        return Ok(Err(denied));
    }
    let mut fields = Fields::default();
    let title = update.title.as_deref().map(str::trim);
    if let Some(title) = title {
        if title.is_empty() {
            fields.push("title", "must not be empty");
        }
        fields.text("title", title, TITLE_LENGTH_MAX);
    }
    let severity = update.severity.as_deref().and_then(|text| parse_severity(&mut fields, text));
    let detected_at = fields.time("detected_at", update.detected_at.as_deref());
    check_downtime(&mut fields, update.downtime_minutes);
    check_comment(&mut fields, update.comment.as_deref());
    if title.is_none() && update.severity.is_none() && detected_at.is_none() && update.downtime_minutes.is_none() {
        fields.push("update", "name at least one of title, severity, detected_at, downtime_minutes");
    }
    fields.finish()?;
    let record = existing(tx, id).await?;
    if let Some(detected_at) = detected_at {
        if detected_at > time {
            return Err(ServiceError::invalid("detected_at", "must not be in the future"));
        }
        if record.resolved_at.is_some_and(|resolved| resolved < detected_at) {
            return Err(ServiceError::invalid("detected_at", "must not be after the resolution"));
        }
    }
    let event = DomainEvent::IncidentUpdated {
        title: title.map(str::to_owned),
        severity,
        detected_at,
        downtime_minutes: update.downtime_minutes,
        comment: update.comment.clone(),
    };
    Ok(Ok(append(tx, caller, record, event, time).await?))
}

pub(crate) async fn resolve_incident(
    tx: &mut WriteTx,
    caller: &Caller,
    id: IncidentId,
    resolution: &IncidentResolution,
    time: Timestamp,
) -> Result<Result<IncidentRecord, Denied>, ServiceError> {
    if let Some(denied) = authorize(caller, "resolve_incident", &format!("incident/{id}")) {
        return Ok(Err(denied));
    }
    let mut fields = Fields::default();
    let resolved_at = fields.time("resolved_at", resolution.resolved_at.as_deref()).unwrap_or(time);
    check_downtime(&mut fields, resolution.downtime_minutes);
    check_comment(&mut fields, resolution.comment.as_deref());
    fields.finish()?;
    let record = existing(tx, id).await?;
    if record.resolved_at.is_some() {
        return Err(ServiceError::Conflict(format!("incident {id} is already resolved")));
    }
    if resolved_at < record.detected_at {
        return Err(ServiceError::invalid("resolved_at", "must not be before the incident was detected"));
    }
    if resolved_at > time {
        return Err(ServiceError::invalid("resolved_at", "must not be in the future"));
    }
    let event = DomainEvent::IncidentResolved {
        resolved_at,
        comment: resolution.comment.clone(),
        downtime_minutes: resolution.downtime_minutes,
    };
    Ok(Ok(append(tx, caller, record, event, time).await?))
}

pub(crate) async fn link_incident(
    tx: &mut WriteTx,
    caller: &Caller,
    id: IncidentId,
    change: &str,
    comment: Option<&str>,
    time: Timestamp,
) -> Result<Result<IncidentRecord, Denied>, ServiceError> {
    if let Some(denied) = authorize(caller, "link_incident", &format!("incident/{id}")) {
        return Ok(Err(denied));
    }
    let mut fields = Fields::default();
    let change: Option<ChangeId> = fields.parse("change", change.trim());
    check_comment(&mut fields, comment);
    fields.finish()?;
    let change = change.expect("validated");
    if tx.change(change).await?.is_none() {
        return Err(ServiceError::invalid("change", format!("no change {change}")));
    }
    let record = existing(tx, id).await?;
    Ok(Ok(link_to(tx, caller, record, change, comment, time).await?))
}

/// Records the link to `change`: `confirmed` when it is the rule's suggestion, else `explicit`.
async fn link_to(
    tx: &mut WriteTx,
    caller: &Caller,
    record: IncidentRecord,
    change: ChangeId,
    comment: Option<&str>,
    time: Timestamp,
) -> Result<IncidentRecord, ServiceError> {
    if record.caused_by == Some(change) {
        return Err(ServiceError::Conflict(format!("incident {} is already linked to {change}", record.id)));
    }
    let provenance = if record.suggested_cause.as_ref().is_some_and(|suggested| suggested.change == change) {
        LinkProvenance::Confirmed
    } else {
        LinkProvenance::Explicit
    };
    let event = DomainEvent::IncidentLinked { change, provenance, comment: comment.map(str::to_owned) };
    append(tx, caller, record, event, time).await
}

/// The start of a decision on a link (confirm, reject): authorize, check the comment, load the
/// incident.
async fn link_decision(
    tx: &mut WriteTx,
    caller: &Caller,
    id: IncidentId,
    action: &str,
    comment: Option<&str>,
) -> Result<Result<IncidentRecord, Denied>, ServiceError> {
    if let Some(denied) = authorize(caller, action, &format!("incident/{id}")) {
        return Ok(Err(denied));
    }
    let mut fields = Fields::default();
    check_comment(&mut fields, comment);
    fields.finish()?;
    Ok(Ok(existing(tx, id).await?))
}

pub(crate) async fn confirm_link(
    tx: &mut WriteTx,
    caller: &Caller,
    id: IncidentId,
    comment: Option<&str>,
    time: Timestamp,
) -> Result<Result<IncidentRecord, Denied>, ServiceError> {
    let record = match link_decision(tx, caller, id, "confirm_incident_link", comment).await? {
        Ok(record) => record,
        Err(denied) => return Ok(Err(denied)),
    };
    let Some(suggested) = record.suggested_cause.as_ref().map(|suggested| suggested.change) else {
        return Err(ServiceError::Conflict(format!("incident {id} has no suggested link to confirm")));
    };
    Ok(Ok(link_to(tx, caller, record, suggested, comment, time).await?))
}

pub(crate) async fn reject_link(
    service: &Service,
    tx: &mut WriteTx,
    caller: &Caller,
    id: IncidentId,
    comment: Option<&str>,
    time: Timestamp,
) -> Result<Result<IncidentRecord, Denied>, ServiceError> {
    let record = match link_decision(tx, caller, id, "reject_incident_link", comment).await? {
        Ok(record) => record,
        Err(denied) => return Ok(Err(denied)),
    };
    let Some(change) = record.suggested_cause.as_ref().map(|suggested| suggested.change).or(record.caused_by) else {
        return Err(ServiceError::Conflict(format!("incident {id} has no link to reject")));
    };
    let event = DomainEvent::IncidentLinkRejected { change, comment: comment.map(str::to_owned) };
    let record = append(tx, caller, record, event, time).await?;
    if record.caused_by.is_some() {
        return Ok(Ok(record));
    }
    Ok(Ok(suggest(service, tx, record, time).await?))
}
