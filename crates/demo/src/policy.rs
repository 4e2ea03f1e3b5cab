//! What the default approval policy (`crates/policy/policies/changegate.rego`) decides for a demo
//! change, computed in the generator.
//!
//! Why a mirror instead of asking the policy: the generator plans every timeline before the first
//! command runs, so it must know on creation whether a change will be denied, auto-approved or
//! need approvals, and from whom; the service then evaluates the real policy on submit and the
//! seed checks that each change reached the state the plan predicted. Only the facts that move a
//! decision are modelled (warnings do not). A unit test evaluates the real default policy on every
//! combination of these facts and compares, so the two cannot drift apart silently.

use changegate_core::{ChangeType, RiskClass};

/// One required approval, as the policy names it (`approver`, `team:<owner>`, `cab|security`,
/// `security`); every requirement asks for one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Requirement {
    /// `approver`: a peer approver (a lead).
    Approver,
    /// `team:<owner team>`: a member of the service owner's team with a decision role.
    OwnerTeam,
    /// `cab|security`: one person holding either role.
    CabOrSecurity,
    /// `security`: a security champion.
    Security,
}

/// Why the policy blocks a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Denial {
    Freeze,
    NoApprovedTemplate,
    TemplateRiskExceeded,
    NoJustification,
    NoRollbackPlan,
    NoSecurityEvidence,
    CriticalFindings,
}

/// The standard-change template a change names, as the policy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TemplateFacts {
    pub approved: bool,
    pub max_risk: RiskClass,
}

/// The facts of one change that decide the default policy's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ChangeFacts {
    pub change_type: ChangeType,
    pub risk: RiskClass,
    pub template: Option<TemplateFacts>,
    /// A freeze overlaps the planned window (or the hour after submission).
    pub in_freeze: bool,
    pub tier: u8,
    /// The service is in a `pci` or `hipaa` scope: security approval and evidence.
    pub sensitive: bool,
    pub has_rollback_plan: bool,
    pub has_justification: bool,
    /// Critical findings of the attached security evidence; `None` without evidence.
    pub security_findings: Option<u32>,
}

/// The default policy's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decision {
    pub auto_approve: bool,
    /// Sorted; each requirement asks for one person.
    pub required: Vec<Requirement>,
    /// Sorted.
    pub deny: Vec<Denial>,
}

impl Decision {
    /// Whether the change stops at submission, rejected by the policy.
    pub(crate) fn denied(&self) -> bool {
        !self.deny.is_empty()
    }

    /// Whether the change is approved on submission (deny wins, as in the core).
    pub(crate) fn auto_approved(&self) -> bool {
        self.auto_approve && self.deny.is_empty() && self.required.is_empty()
    }
}

/// The compliance scopes that ask for a security approval and clean security evidence.
pub(crate) fn is_sensitive(scopes: &[&str]) -> bool {
    scopes.iter().any(|scope| matches!(*scope, "pci" | "hipaa"))
}

/// The default policy's decision for `facts` (see `changegate.rego`, rule by rule).
pub(crate) fn decide(facts: &ChangeFacts) -> Decision {
    let emergency = facts.change_type == ChangeType::Emergency;
    let standard = facts.change_type == ChangeType::Standard;
    let high_risk = matches!(facts.risk, RiskClass::High | RiskClass::Critical);
    let approved_template = facts.template.is_some_and(|template| template.approved && facts.risk <= template.max_risk);
    let mut deny = Vec::new();
    if facts.in_freeze && !emergency {
        deny.push(Denial::Freeze);
    }
    if standard {
        match facts.template {
            Some(template) if template.approved => {
                if !approved_template {
                    deny.push(Denial::TemplateRiskExceeded);
                }
            }
            _ => deny.push(Denial::NoApprovedTemplate),
        }
    }
    if emergency && !facts.has_justification {
        deny.push(Denial::NoJustification);
    }
    if facts.tier <= 2 && !facts.has_rollback_plan {
        deny.push(Denial::NoRollbackPlan);
    }
    if facts.sensitive {
        match facts.security_findings {
            None => deny.push(Denial::NoSecurityEvidence),
            Some(findings) if findings > 0 => deny.push(Denial::CriticalFindings),
            Some(_) => {}
        }
    }
    let auto_approve = standard
        && approved_template
        && facts.risk == RiskClass::Low
        && !facts.in_freeze
        && !facts.sensitive
        && deny.is_empty();
    let mut required = Vec::new();
    if !auto_approve && !high_risk {
        required.push(Requirement::Approver);
    }
    if high_risk {
        required.push(Requirement::OwnerTeam);
        if !facts.sensitive {
            required.push(Requirement::CabOrSecurity);
        }
    }
    if facts.sensitive {
        required.push(Requirement::Security);
    }
    required.sort();
    deny.sort();
    Decision { auto_approve, required, deny }
}

#[cfg(test)]
mod tests {
    use changegate_core::Tier;
    use changegate_policy::{
        CalendarFacts, EvalLimits, FreezeFacts, Policy, PolicyInput, RequesterFacts, SecurityEvidence, ServiceFacts,
        evaluate,
    };

    use super::*;

    /// The real policy's input for `facts`, on a service of team `shop`.
    fn input_of(facts: &ChangeFacts) -> PolicyInput {
        let scopes: Vec<String> = if facts.sensitive { vec!["pci".into()] } else { vec!["sox".into()] };
        PolicyInput {
            change: changegate_policy::ChangeFacts {
                id: "CHG-000001".into(),
                change_type: facts.change_type,
                title: "Demo change".into(),
                environment: "production".into(),
                risk_class: facts.risk,
                risk_score: None,
                has_rollback_plan: facts.has_rollback_plan,
                test_evidence: Some("pipeline 1".into()),
                security_evidence: facts
                    .security_findings
                    .map(|critical_findings| SecurityEvidence { present: true, critical_findings }),
                template: facts.template.map(|template| changegate_policy::TemplateFacts {
                    name: "shop-restart-pod".into(),
                    approved: template.approved,
                    max_risk_class: template.max_risk,
                }),
                requester: "rita".into(),
                implementer: None,
                justification: facts.has_justification.then(|| "the site is down".to_owned()),
            },
            services: vec![ServiceFacts {
                name: "catalog".into(),
                team: "shop".into(),
                tier: Tier::new(i64::from(facts.tier)).expect("tiers 1 to 4"),
                scopes,
                depends_on: vec![],
            }],
            calendar: CalendarFacts {
                freeze: facts
                    .in_freeze
                    .then(|| FreezeFacts { name: "year-end".into(), ends_at: "2027-01-02T00:00:00Z".into() }),
                in_maintenance_window: true,
                conflicts: vec![],
            },
            requester: RequesterFacts {
                name: "rita".into(),
                roles: vec!["requester".into()],
                team: Some("shop".into()),
                recent_failures_90d: 0,
            },
            approvals_so_far: vec![],
            now: "2026-11-26T10:00:00Z".into(),
        }
    }

    fn denial_of(reason: &str) -> Denial {
        let keys = [
            ("freeze `", Denial::Freeze),
            ("must come from an approved template", Denial::NoApprovedTemplate),
            ("exceeds the template", Denial::TemplateRiskExceeded),
            ("needs a justification", Denial::NoJustification),
            ("need a rollback plan", Denial::NoRollbackPlan),
            ("need security evidence", Denial::NoSecurityEvidence),
            ("critical finding", Denial::CriticalFindings),
        ];
        keys.iter()
            .find(|(key, _)| reason.contains(key))
            .map(|(_, denial)| *denial)
            .unwrap_or_else(|| panic!("a denial the mirror does not know: {reason}"))
    }

    fn requirement_of(role: &str) -> Requirement {
        match role {
            "approver" => Requirement::Approver,
            "team:shop" => Requirement::OwnerTeam,
            "cab|security" => Requirement::CabOrSecurity,
            "security" => Requirement::Security,
            other => panic!("a requirement the mirror does not know: {other}"),
        }
    }

    #[test]
    fn the_mirror_decides_as_the_default_policy_on_every_combination_of_facts() {
        let policy = Policy::default_policy();
        let templates = [
            None,
            Some(TemplateFacts { approved: true, max_risk: RiskClass::Low }),
            Some(TemplateFacts { approved: true, max_risk: RiskClass::Medium }),
            Some(TemplateFacts { approved: false, max_risk: RiskClass::Low }),
        ];
        let mut compared = 0;
        for change_type in [ChangeType::Standard, ChangeType::Normal, ChangeType::Emergency] {
            for risk in [RiskClass::Low, RiskClass::Medium, RiskClass::High, RiskClass::Critical] {
                for template in templates {
                    for tier in [1, 3] {
                        for bits in 0..32u32 {
                            let security_findings = match bits >> 3 {
                                0 => None,
                                1 => Some(0),
                                2 => Some(2),
                                _ => continue,
                            };
                            let facts = ChangeFacts {
                                change_type,
                                risk,
                                template,
                                in_freeze: bits & 1 != 0,
                                tier,
                                sensitive: bits & 2 != 0,
                                has_rollback_plan: bits & 4 != 0,
                                has_justification: change_type == ChangeType::Emergency,
                                security_findings,
                            };
                            let real = evaluate(&policy, &input_of(&facts), EvalLimits::default())
                                .expect("the default policy decides");
                            let mirror = decide(&facts);
                            let mut deny: Vec<Denial> = real.deny.iter().map(|reason| denial_of(reason)).collect();
                            deny.sort();
                            let mut required: Vec<Requirement> = Vec::new();
                            for approval in &real.required_approvals {
                                assert_eq!(approval.count, 1, "{facts:?}");
                                required.push(requirement_of(&approval.role));
                            }
                            required.sort();
                            assert_eq!(mirror.deny, deny, "deny for {facts:?}");
                            assert_eq!(mirror.required, required, "required approvals for {facts:?}");
                            assert_eq!(mirror.auto_approve, real.auto_approve, "auto-approval for {facts:?}");
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 3 * 4 * 4 * 2 * 24);
    }

    #[test]
    fn an_emergency_without_justification_is_denied() {
        let facts = ChangeFacts {
            change_type: ChangeType::Emergency,
            risk: RiskClass::High,
            template: None,
            in_freeze: true,
            tier: 3,
            sensitive: false,
            has_rollback_plan: true,
            has_justification: false,
            security_findings: None,
        };
        assert_eq!(decide(&facts).deny, vec![Denial::NoJustification]);
        let real = evaluate(&Policy::default_policy(), &input_of(&facts), EvalLimits::default()).expect("decides");
        assert_eq!(real.deny.len(), 1);
        assert_eq!(denial_of(&real.deny[0]), Denial::NoJustification);
    }
}
