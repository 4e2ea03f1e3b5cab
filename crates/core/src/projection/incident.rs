//! The incident record: an incident's state, the change it is linked to and the causes the
//! attribution rule suggests.
//!
//! Why a room of its own: incidents are their own aggregate with their own fold, and the metrics
//! read them apart from changes.

use serde::{Deserialize, Serialize};

use crate::domain::{ChangeId, IncidentId, LinkProvenance, Name, Severity};
use crate::event::DomainEvent;
use crate::time::Timestamp;

/// An incident, optionally caused by a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub id: IncidentId,
    pub title: String,
    pub service: Name,
    pub severity: Severity,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// The change that caused it, by an explicit or a confirmed link: the only links metrics
    /// count. A suggestion stays in `suggested_cause` until a person confirms or rejects it.
    pub caused_by: Option<ChangeId>,
    /// Where `caused_by` comes from (`explicit` or `confirmed`).
    #[serde(default)]
    pub provenance: Option<LinkProvenance>,
    /// The attribution rule's suggestion, waiting for a person.
    #[serde(default)]
    pub suggested_cause: Option<SuggestedCause>,
    /// Changes a person said did not cause it (never suggested again).
    #[serde(default)]
    pub rejected_causes: Vec<ChangeId>,
    #[serde(default)]
    pub downtime_minutes: Option<u32>,
    #[serde(default)]
    pub imported: bool,
    #[serde(default)]
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// Number of events in this incident's stream.
    #[serde(default)]
    pub version: u64,
}

/// A link the attribution rule suggested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuggestedCause {
    pub change: ChangeId,
    pub rule: String,
    pub at: Timestamp,
}

impl IncidentRecord {
    pub fn create(event: &DomainEvent, time: Timestamp) -> Option<Self> {
        match event {
            DomainEvent::IncidentOpened { id, title, service, severity, detected_at, caused_by, downtime_minutes } => {
                Some(IncidentRecord {
                    id: *id,
                    title: title.clone(),
                    service: service.clone(),
                    severity: *severity,
                    detected_at: *detected_at,
                    resolved_at: None,
                    caused_by: *caused_by,
                    provenance: caused_by.map(|_| LinkProvenance::Explicit),
                    suggested_cause: None,
                    rejected_causes: Vec::new(),
                    downtime_minutes: *downtime_minutes,
                    imported: false,
                    external_id: None,
                    created_at: time,
                    updated_at: None,
                    version: 1,
                })
            }
            DomainEvent::IncidentImported { id, incident } => Some(IncidentRecord {
                id: *id,
                title: format!("Imported incident {}", incident.external_id),
                service: incident.service.clone(),
                severity: incident.severity,
                detected_at: incident.detected_at,
                resolved_at: incident.resolved_at,
                caused_by: incident.caused_by,
                provenance: incident.caused_by.map(|_| LinkProvenance::Explicit),
                suggested_cause: None,
                rejected_causes: Vec::new(),
                downtime_minutes: incident.downtime_minutes,
                imported: true,
                external_id: Some(incident.external_id.clone()),
                created_at: time,
                updated_at: None,
                version: 1,
            }),
            _ => None,
        }
    }

    /// Applies one later event of this incident's stream.
    pub fn apply(&mut self, event: &DomainEvent, time: Timestamp) {
        self.version += 1;
        self.updated_at = Some(time);
        match event {
            DomainEvent::IncidentResolved { resolved_at, downtime_minutes, .. } => {
                self.resolved_at = Some(*resolved_at);
                if downtime_minutes.is_some() {
                    self.downtime_minutes = *downtime_minutes;
                }
            }
            DomainEvent::IncidentUpdated { title, severity, detected_at, downtime_minutes, .. } => {
                if let Some(title) = title {
                    self.title.clone_from(title);
                }
                if let Some(severity) = severity {
                    self.severity = *severity;
                }
                if let Some(detected_at) = detected_at {
                    self.detected_at = *detected_at;
                }
                if downtime_minutes.is_some() {
                    self.downtime_minutes = *downtime_minutes;
                }
            }
            DomainEvent::IncidentLinked { change, provenance, .. } => {
                self.caused_by = Some(*change);
                self.provenance = Some(*provenance);
                self.rejected_causes.retain(|rejected| rejected != change);
                if self.suggested_cause.as_ref().is_some_and(|suggested| suggested.change == *change) {
                    self.suggested_cause = None;
                }
            }
            DomainEvent::IncidentLinkSuggested { change, rule } => {
                self.suggested_cause = Some(SuggestedCause { change: *change, rule: rule.clone(), at: time });
            }
            DomainEvent::IncidentLinkRejected { change, .. } => {
                if self.suggested_cause.as_ref().is_some_and(|suggested| suggested.change == *change) {
                    self.suggested_cause = None;
                }
                if self.caused_by == Some(*change) {
                    self.caused_by = None;
                    self.provenance = None;
                }
                if !self.rejected_causes.contains(change) {
                    self.rejected_causes.push(*change);
                }
            }
            _ => {}
        }
    }

    /// The link as people see it: the counted cause with its provenance, else the suggestion.
    pub fn link(&self) -> Option<(ChangeId, LinkProvenance)> {
        match (self.caused_by, self.provenance) {
            (Some(change), provenance) => Some((change, provenance.unwrap_or(LinkProvenance::Explicit))),
            (None, _) => self.suggested_cause.as_ref().map(|suggested| (suggested.change, LinkProvenance::Suggested)),
        }
    }
}
