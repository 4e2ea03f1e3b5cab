//! The records of the organisation: services (configuration items), the teams that own them, and
//! users with their roles.
//!
//! Why a room of its own: these are the catalogue every change and incident refers to, folded
//! from their own small streams.

use serde::{Deserialize, Serialize};

use crate::domain::{Name, Role, Tier};
use crate::event::{DomainEvent, RollbackHook};
use crate::time::Timestamp;

/// A registered service (configuration item).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub name: Name,
    pub team: Name,
    pub tier: Tier,
    pub scopes: Vec<Name>,
    pub depends_on: Vec<Name>,
    pub created_at: Timestamp,
    /// The automated rollback, when one is set.
    #[serde(default)]
    pub rollback_hook: Option<RollbackHook>,
}

impl ServiceRecord {
    /// The record a `service_registered` event leaves; `None` for any other event.
    pub fn registered(event: &DomainEvent, time: Timestamp) -> Option<Self> {
        let DomainEvent::ServiceRegistered { name, team, tier, scopes, depends_on } = event else { return None };
        Some(ServiceRecord {
            name: name.clone(),
            team: team.clone(),
            tier: *tier,
            scopes: scopes.clone(),
            depends_on: depends_on.clone(),
            created_at: time,
            rollback_hook: None,
        })
    }

    /// Applies one later event of this service's stream.
    pub fn apply(&mut self, event: &DomainEvent) {
        if let DomainEvent::RollbackHookSet { hook, .. } = event {
            self.rollback_hook.clone_from(hook);
        }
    }
}

/// A team that owns services.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamRecord {
    pub name: Name,
    pub description: String,
    pub created_at: Timestamp,
}

/// A user and their roles. Tokens are kept apart, by hash only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    pub name: Name,
    pub roles: Vec<Role>,
    pub team: Option<Name>,
    pub created_at: Timestamp,
}

impl UserRecord {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}
