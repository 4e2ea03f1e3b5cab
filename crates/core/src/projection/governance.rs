//! The governance records: standard-change templates, calendar windows (freeze or maintenance)
//! and the versions of the approval policy.
//!
//! Why a room of its own: these are the rules changes are checked against, each folded from its
//! own stream and changed by administrators only.

use serde::{Deserialize, Serialize};

use crate::domain::{Name, RiskClass};
use crate::event::DomainEvent;
use crate::time::Timestamp;

/// A standard-change template, as last defined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateRecord {
    pub name: Name,
    pub description: String,
    pub services: Vec<Name>,
    pub teams: Vec<Name>,
    pub environments: Vec<Name>,
    pub max_risk: RiskClass,
    pub approved: bool,
    pub defined_by: String,
    pub updated_at: Timestamp,
}

impl TemplateRecord {
    /// The record a `template_defined` event leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::TemplateDefined { name, description, services, teams, environments, max_risk, approved } =
            event
        else {
            return None;
        };
        Some(TemplateRecord {
            name: name.clone(),
            description: description.clone(),
            services: services.clone(),
            teams: teams.clone(),
            environments: environments.clone(),
            max_risk: *max_risk,
            approved: *approved,
            defined_by: actor.to_owned(),
            updated_at: time,
        })
    }

    /// Whether the template may be used for a change to `service` (owned by `team`).
    pub fn covers(&self, service: &Name, team: &Name) -> bool {
        if self.services.is_empty() && self.teams.is_empty() {
            return true;
        }
        self.services.contains(service) || self.teams.contains(team)
    }

    /// Whether the template may be used in `environment`.
    pub fn allows_environment(&self, environment: &Name) -> bool {
        self.environments.is_empty() || self.environments.contains(environment)
    }
}

/// A calendar window (freeze or maintenance), as last defined. `window` is the calendar crate's
/// JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarWindowRecord {
    pub name: Name,
    pub window: serde_json::Value,
    pub defined_by: String,
    pub updated_at: Timestamp,
}

/// One version of the approval policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersionRecord {
    /// The ledger sequence of the `policy_set` event: versions are ordered by it.
    pub sequence: u64,
    pub sha256: String,
    pub files: Vec<crate::event::PolicySource>,
    pub comment: Option<String>,
    pub set_by: String,
    pub set_at: Timestamp,
}

impl PolicyVersionRecord {
    /// The record a `policy_set` event at `sequence` leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, sequence: u64, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::PolicySet { sha256, files, comment } = event else { return None };
        Some(PolicyVersionRecord {
            sequence,
            sha256: sha256.clone(),
            files: files.clone(),
            comment: comment.clone(),
            set_by: actor.to_owned(),
            set_at: time,
        })
    }
}

impl CalendarWindowRecord {
    /// The record a `calendar_window_defined` event leaves; `None` for any other event.
    pub fn from_event(event: &DomainEvent, actor: &str, time: Timestamp) -> Option<Self> {
        let DomainEvent::CalendarWindowDefined { name, window } = event else { return None };
        Some(CalendarWindowRecord {
            name: name.clone(),
            window: window.clone(),
            defined_by: actor.to_owned(),
            updated_at: time,
        })
    }
}
