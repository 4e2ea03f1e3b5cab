//! The organisation on the wire: services (with their rollback hooks) and users, the requests that
//! register them and the views the API answers with.

use changegate_core::{ServiceRecord, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /api/v1/services`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceRequest {
    #[schema(example = "payments-api", pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub name: String,
    #[schema(example = "payments", pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub team: String,
    /// Criticality: 1 (most critical) to 4.
    #[schema(example = 1, minimum = 1, maximum = 4)]
    pub tier: i64,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceView {
    pub name: String,
    pub team: String,
    pub tier: u8,
    pub scopes: Vec<String>,
    pub depends_on: Vec<String>,
    pub created_at: String,
    /// The automated rollback, when one is set.
    pub rollback_hook: Option<RollbackHookView>,
}

impl From<&ServiceRecord> for ServiceView {
    fn from(service: &ServiceRecord) -> Self {
        ServiceView {
            name: service.name.to_string(),
            team: service.team.to_string(),
            tier: service.tier.value(),
            scopes: service.scopes.iter().map(ToString::to_string).collect(),
            depends_on: service.depends_on.iter().map(ToString::to_string).collect(),
            created_at: service.created_at.to_rfc3339(),
            rollback_hook: service.rollback_hook.as_ref().map(RollbackHookView::from),
        }
    }
}

/// A service's rollback hook.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RollbackHookView {
    /// `webhook` or `command`.
    pub kind: String,
    /// The webhook URL, or the program.
    pub target: String,
    /// A command's arguments.
    pub arguments: Vec<String>,
    /// A linked severity 1–2 incident detected this long after a deployment still triggers it.
    pub incident_window_hours: u64,
}

impl From<&changegate_core::RollbackHook> for RollbackHookView {
    fn from(hook: &changegate_core::RollbackHook) -> Self {
        let (kind, target, arguments) = match &hook.target {
            changegate_core::RollbackTarget::Webhook { url } => ("webhook", url.clone(), Vec::new()),
            changegate_core::RollbackTarget::Command { program, arguments } => {
                ("command", program.clone(), arguments.clone())
            }
        };
        RollbackHookView {
            kind: kind.to_owned(),
            target,
            arguments,
            incident_window_hours: hook.incident_window_ms / (60 * 60 * 1000),
        }
    }
}

/// `POST /api/v1/users`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(example = "maria.garcia", pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub name: String,
    /// Any of requester, approver, security, cab, auditor, admin.
    #[schema(inline, value_type = Vec<RoleName>)]
    pub roles: Vec<String>,
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub team: Option<String>,
}

/// A role's name, as the API takes it.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RoleName {
    Requester,
    Approver,
    Security,
    Cab,
    Auditor,
    Admin,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub name: String,
    pub roles: Vec<String>,
    pub team: Option<String>,
    pub created_at: String,
}

impl From<&UserRecord> for UserView {
    fn from(user: &UserRecord) -> Self {
        UserView {
            name: user.name.to_string(),
            roles: user.roles.iter().map(ToString::to_string).collect(),
            team: user.team.as_ref().map(ToString::to_string),
            created_at: user.created_at.to_rfc3339(),
        }
    }
}

/// A new user and their API token. The token is shown only here, once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedUserView {
    pub user: UserView,
    pub token: String,
    pub token_id: String,
}
