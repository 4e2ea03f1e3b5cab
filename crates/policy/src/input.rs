//! The policy input: everything a policy may look at, as one JSON document (`input` in Rego).
//!
//! The host gathers these facts; the policy only reads them. Nothing in here is read from a clock
//! or a database by the policy: `now` is passed in as RFC 3339 text, so the same input always
//! gives the same decision and a recorded decision can be replayed.
//!
//! Serialised field names are the Rego names (`input.change.type`, `input.services[_].tier`…).
//! Unknown fields are refused when an input is read from JSON, so a typo in a hand-written input
//! file is an error rather than a silently missing fact.

use serde::{Deserialize, Serialize};

use changegate_core::{ChangeRecord, ChangeType, RiskClass, ServiceRecord, Tier, Timestamp, UserRecord};

use crate::engine::PolicyError;

/// The whole input document of one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// The change being decided.
    pub change: ChangeFacts,
    /// The services the change touches, each with its owner, tier, scopes and dependencies.
    #[serde(default)]
    pub services: Vec<ServiceFacts>,
    /// Calendar facts at `now`: freeze, maintenance window, conflicting changes.
    #[serde(default)]
    pub calendar: CalendarFacts,
    /// The person who asked for the change, with their recent track record.
    pub requester: RequesterFacts,
    /// Approvals already given, with each approver's roles and team.
    #[serde(default)]
    pub approvals_so_far: Vec<ApprovalFacts>,
    /// The evaluation time as RFC 3339 text (`2026-11-26T10:00:00Z`). Policies use it instead of
    /// `time.now_ns()`, which would make decisions impossible to replay.
    pub now: String,
}

/// The change itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeFacts {
    /// `CHG-000123`.
    pub id: String,
    /// `standard`, `normal` or `emergency`.
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub title: String,
    /// Target environment, e.g. `production`.
    pub environment: String,
    /// `low`, `medium`, `high` or `critical`, from the risk assessment.
    pub risk_class: RiskClass,
    /// The assessment's score, 0–100, when there is one.
    #[serde(default)]
    pub risk_score: Option<u32>,
    /// Whether the change carries a rollback plan.
    #[serde(default)]
    pub has_rollback_plan: bool,
    /// A reference to test evidence (a pipeline run, a report), when attached.
    #[serde(default)]
    pub test_evidence: Option<String>,
    /// The security scan summary (SAST/SCA/secret scan), when attached.
    #[serde(default)]
    pub security_evidence: Option<SecurityEvidence>,
    /// The standard-change template the change was created from, if any.
    #[serde(default)]
    pub template: Option<TemplateFacts>,
    /// User name of the requester (the same person as `input.requester.name`).
    pub requester: String,
    /// User name of whoever will implement the change, when known.
    #[serde(default)]
    pub implementer: Option<String>,
    /// Why an emergency change cannot wait.
    #[serde(default)]
    pub justification: Option<String>,
}

/// The summary of the security evidence attached to a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityEvidence {
    /// Whether scan results are attached at all.
    pub present: bool,
    /// Number of critical findings in them.
    #[serde(default)]
    pub critical_findings: u32,
}

/// A standard-change template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFacts {
    pub name: String,
    /// Whether the template is (still) approved for standard changes.
    pub approved: bool,
    /// The highest risk class a change from this template may have and still be standard.
    #[serde(default)]
    pub max_risk_class: RiskClass,
}

/// One service (configuration item) the change touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFacts {
    pub name: String,
    /// The owning team.
    pub team: String,
    /// Criticality tier, 1 (most critical) to 4.
    pub tier: Tier,
    /// Compliance scopes such as `pci`, `hipaa`, `gdpr`, `sox`, `dora-eu`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Names of the services this one depends on.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// Calendar facts at the evaluation time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFacts {
    /// The freeze (blackout) window in force for these services at `now` or over the planned
    /// window, if any. Present means it applies; the host decides that, not the policy.
    #[serde(default)]
    pub freeze: Option<FreezeFacts>,
    /// Whether the planned window lies inside a maintenance window.
    #[serde(default)]
    pub in_maintenance_window: bool,
    /// Ids of scheduled changes whose windows overlap on the same or a dependent service.
    #[serde(default)]
    pub conflicts: Vec<String>,
}

/// A freeze window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeFacts {
    pub name: String,
    /// When the freeze ends, RFC 3339.
    pub ends_at: String,
}

/// The requester and their history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequesterFacts {
    pub name: String,
    /// Roles held: `requester`, `approver`, `security`, `cab`, `auditor`, `admin`.
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub team: Option<String>,
    /// How many of their changes failed in the 90 days before `now`.
    #[serde(default)]
    pub recent_failures_90d: u32,
}

/// One approval already given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalFacts {
    pub approver: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub team: Option<String>,
}

impl ApprovalFacts {
    /// This approval as the approval matcher sees it.
    pub fn approver(&self) -> changegate_core::approval::Approver {
        changegate_core::approval::Approver {
            name: self.approver.clone(),
            roles: self.roles.clone(),
            team: self.team.clone(),
        }
    }
}

impl PolicyInput {
    /// Builds the input for `change` from the core records.
    ///
    /// `services` must contain the change's service (more records are fine: the change's
    /// service is picked by name); an unknown service is an error rather than an input without
    /// services, which would hide its tier and scopes. `users` resolves the requester and the
    /// approvers to their roles and teams (a user missing from it gets no roles and no team).
    ///
    /// Facts the core records do not hold keep safe defaults that the caller should fill in:
    /// `calendar` (no freeze, *not* in a maintenance window, no conflicts), `change.template`
    /// (none), `change.risk_score` and `requester.recent_failures_90d` (0).
    /// `change.security_evidence` is present when the record has evidence, with the critical
    /// findings the pipeline reported (0 when it reported none).
    pub fn for_change(
        change: &ChangeRecord,
        services: &[ServiceRecord],
        users: &[UserRecord],
        risk_class: RiskClass,
        now: Timestamp,
    ) -> Result<PolicyInput, PolicyError> {
        let service = services.iter().find(|service| service.name == change.service).ok_or_else(|| {
            PolicyError::Input(format!(
                "change {} names service `{}`, which is not registered",
                change.id, change.service
            ))
        })?;
        let user = |name: &str| users.iter().find(|user| user.name.as_str() == name);
        let roles_of = |record: Option<&UserRecord>| -> Vec<String> {
            record.map(|user| user.roles.iter().map(|role| role.as_str().to_owned()).collect()).unwrap_or_default()
        };
        let team_of =
            |record: Option<&UserRecord>| record.and_then(|user| user.team.as_ref().map(|team| team.to_string()));
        let requester = user(change.requester.as_str());
        Ok(PolicyInput {
            change: ChangeFacts {
                id: change.id.to_string(),
                change_type: change.change_type,
                title: change.title.clone(),
                environment: change.environment.to_string(),
                risk_class,
                risk_score: None,
                has_rollback_plan: change.rollback_plan.as_deref().is_some_and(|plan| !plan.trim().is_empty()),
                test_evidence: change.test_evidence.clone(),
                security_evidence: change.security_evidence.as_ref().map(|_| SecurityEvidence {
                    present: true,
                    critical_findings: change.security_critical_findings.unwrap_or(0),
                }),
                template: None,
                requester: change.requester.to_string(),
                implementer: change.implementer.as_ref().map(ToString::to_string),
                justification: change.justification.clone(),
            },
            services: vec![ServiceFacts {
                name: service.name.to_string(),
                team: service.team.to_string(),
                tier: service.tier,
                scopes: service.scopes.iter().map(ToString::to_string).collect(),
                depends_on: service.depends_on.iter().map(ToString::to_string).collect(),
            }],
            calendar: CalendarFacts::default(),
            requester: RequesterFacts {
                name: change.requester.to_string(),
                roles: roles_of(requester),
                team: team_of(requester),
                recent_failures_90d: 0,
            },
            approvals_so_far: change
                .approvals
                .iter()
                .map(|approval| {
                    let record = user(approval.approver.as_str());
                    ApprovalFacts {
                        approver: approval.approver.to_string(),
                        roles: roles_of(record),
                        team: team_of(record),
                    }
                })
                .collect(),
            now: now.to_rfc3339(),
        })
    }

    /// Whether any service of the change is in a compliance scope. For such changes separation of
    /// duties also keeps the implementer from approving (see [`crate::approvals_satisfied`]);
    /// every scope counts (pci, hipaa, sox, dora-eu, gdpr…), which is the strict reading.
    pub fn is_scoped(&self) -> bool {
        self.services.iter().any(|service| !service.scopes.is_empty())
    }

    /// Parses an input document, e.g. the file given to `changegate policy eval --input F`.
    pub fn from_json(text: &str) -> Result<PolicyInput, PolicyError> {
        serde_json::from_str(text).map_err(|error| PolicyError::Input(error.to_string()))
    }

    /// The input as a JSON value, exactly as the policy sees it.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("policy input always serialises")
    }

    /// SHA-256 (hex) of the input's canonical JSON (sorted keys, no whitespace): the same facts
    /// give the same hash whatever order they were written in.
    pub fn sha256(&self) -> String {
        crate::decision::sha256_hex(changegate_core::canonical::to_canonical_string(&self.to_json_value()).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use changegate_core::{ChangeId, DomainEvent, Name, Role};

    use super::*;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn change(service: &str) -> ChangeRecord {
        let event = DomainEvent::ChangeCreated {
            id: ChangeId::new(7),
            title: "Rotate keys".into(),
            description: String::new(),
            change_type: ChangeType::Normal,
            service: name(service),
            environment: name("production"),
            requester: name("rita"),
            implementation_plan: None,
            rollback_plan: Some("redeploy the previous release".into()),
            planned_start: None,
            planned_end: None,
            links: vec![],
            test_evidence: Some("run 9".into()),
            security_evidence: Some("scan 3".into()),
            security_critical_findings: None,
            template: None,
            justification: None,
            commit: None,
            pipeline_url: None,
            code_metrics: None,
            team: None,
            commit_time: None,
        };
        ChangeRecord::create(&event, Timestamp::from_unix_ms(0)).unwrap()
    }

    fn records() -> (Vec<ServiceRecord>, Vec<UserRecord>) {
        let services = vec![ServiceRecord {
            name: name("payments"),
            team: name("pay"),
            tier: Tier::new(1).unwrap(),
            scopes: vec![name("pci")],
            depends_on: vec![name("ledger")],
            created_at: Timestamp::from_unix_ms(0),
            rollback_hook: None,
        }];
        let users = vec![UserRecord {
            name: name("rita"),
            roles: vec![Role::Requester],
            team: Some(name("pay")),
            created_at: Timestamp::from_unix_ms(0),
        }];
        (services, users)
    }

    #[test]
    fn builds_from_core_records() {
        let (services, users) = records();
        let now = Timestamp::parse_rfc3339("2026-11-26T10:00:00Z").unwrap();
        let input = PolicyInput::for_change(&change("payments"), &services, &users, RiskClass::High, now).unwrap();
        assert_eq!(input.change.id, "CHG-000007");
        assert!(input.change.has_rollback_plan);
        // Evidence is present; the pipeline reported no critical findings count, so 0.
        assert_eq!(input.change.security_evidence, Some(SecurityEvidence { present: true, critical_findings: 0 }));
        assert_eq!(input.services[0].scopes, vec!["pci".to_owned()]);
        assert_eq!(input.requester.roles, vec!["requester".to_owned()]);
        assert_eq!(input.requester.team.as_deref(), Some("pay"));
        assert_eq!(input.now, "2026-11-26T10:00:00Z");
        assert!(input.is_scoped());
        let json = serde_json::to_string(&input).unwrap();
        assert_eq!(PolicyInput::from_json(&json).unwrap(), input);
    }

    #[test]
    fn an_unknown_service_is_an_error() {
        let (services, users) = records();
        let result =
            PolicyInput::for_change(&change("nope"), &services, &users, RiskClass::Low, Timestamp::from_unix_ms(0));
        assert!(matches!(result, Err(PolicyError::Input(_))));
    }
}
