//! What a caller may do, written once.
//!
//! Every role-gated action of the service names a [`Permission`]; its roles are listed here and
//! nowhere else. The service checks `caller.may(permission)` before it acts (and records a denial
//! when the answer is no); the faces ask the same question to decide what to show (a "New change"
//! button, the approvals inbox, the admin pages), so a page can never offer what the service would
//! refuse, nor hide what it would allow.
//!
//! Invariant: no face lists roles; a role list appears only in [`Permission::roles`] (and, for the
//! per-change decision rule, in the core's `DECISION_ROLES`, which `DecideChanges` reuses).

use changegate_core::Role;
use changegate_core::lifecycle::DECISION_ROLES;

/// A role-gated action. Reading (changes, incidents, calendar, metrics, the ledger's public
/// parts) needs only a signed-in [`crate::Caller`] and has no permission of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Add users and issue their tokens.
    ManageUsers,
    /// Register a service (name, team, tier, scopes, dependencies).
    RegisterServices,
    /// Create a change (and so carry changes through implementation).
    CreateChanges,
    /// Approve or reject changes (the core adds separation of duties per change).
    DecideChanges,
    /// Open, update, link and resolve incidents.
    EditIncidents,
    /// Put a new approval policy version in force.
    SetPolicy,
    /// Define standard-change templates and calendar windows.
    Govern,
    /// Read compliance reports and evidence bundles.
    ReadCompliance,
    /// Sign checkpoints and run a full ledger verification.
    OperateLedger,
    /// Record answers to the maturity questionnaire.
    AnswerMaturity,
    /// Define and remove alert rules.
    ManageAlerts,
    /// Set a service's rollback hook.
    ManageRollbackHooks,
    /// Train the organisation's risk model.
    TrainRiskModel,
    /// Import change and incident history.
    ImportHistory,
}

impl Permission {
    /// The roles that grant this permission (any one of them).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Permission::ManageUsers
            | Permission::RegisterServices
            | Permission::ManageAlerts
            | Permission::ManageRollbackHooks
            | Permission::TrainRiskModel
            | Permission::ImportHistory => &[Role::Admin],
            Permission::CreateChanges => &[Role::Requester, Role::Admin],
            Permission::DecideChanges => &DECISION_ROLES,
            Permission::EditIncidents => &[Role::Requester, Role::Cab, Role::Admin],
            Permission::SetPolicy => &[Role::Admin, Role::Security],
            Permission::Govern | Permission::AnswerMaturity => &[Role::Admin, Role::Cab],
            Permission::ReadCompliance => &[Role::Auditor, Role::Admin, Role::Cab],
            Permission::OperateLedger => &[Role::Admin, Role::Auditor],
        }
    }

    /// "the admin or cab role": every refusal message names the roles from here, so a message
    /// cannot disagree with the check.
    pub fn roles_text(self) -> String {
        let names: Vec<&str> = self.roles().iter().map(|role| role.as_str()).collect();
        match names.as_slice() {
            [one] => format!("the {one} role"),
            [init @ .., last] => format!("the {} or {last} role", init.join(", ")),
            [] => "no role".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_holds_every_permission() {
        let all = [
            Permission::ManageUsers,
            Permission::RegisterServices,
            Permission::CreateChanges,
            Permission::DecideChanges,
            Permission::EditIncidents,
            Permission::SetPolicy,
            Permission::Govern,
            Permission::ReadCompliance,
            Permission::OperateLedger,
            Permission::AnswerMaturity,
            Permission::ManageAlerts,
            Permission::ManageRollbackHooks,
            Permission::TrainRiskModel,
            Permission::ImportHistory,
        ];
        for permission in all {
            assert!(permission.roles().contains(&Role::Admin), "{permission:?}");
        }
    }

    #[test]
    fn roles_read_as_a_sentence() {
        assert_eq!(Permission::ManageUsers.roles_text(), "the admin role");
        assert_eq!(Permission::Govern.roles_text(), "the admin or cab role");
        assert_eq!(Permission::EditIncidents.roles_text(), "the requester, cab or admin role");
        assert_eq!(Permission::CreateChanges.roles_text(), "the requester or admin role");
        assert_eq!(Permission::ReadCompliance.roles_text(), "the auditor, admin or cab role");
        assert_eq!(Permission::OperateLedger.roles_text(), "the admin or auditor role");
        assert_eq!(Permission::SetPolicy.roles_text(), "the admin or security role");
    }
}
