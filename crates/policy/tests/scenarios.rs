//! The default policy on a table of scenarios (snapshot-tested decisions), fail-closed behaviour,
//! `opa test`-style runs, hashing and an end-to-end approval count.

use changegate_core::{ChangeType, RiskClass, Tier};
use changegate_policy::{
    ApprovalFacts, Approver, CalendarFacts, ChangeFacts, EvalLimits, FreezeFacts, Policy, PolicyDecision, PolicyError,
    PolicyFile, PolicyInput, RequesterFacts, SecurityEvidence, ServiceFacts, TemplateFacts, approvals_satisfied,
    evaluate, run_policy_tests, run_policy_tests_with_limits,
};
use expect_test::{Expect, expect};

/// A normal, medium-risk change to a tier-3 service outside any compliance scope, inside a
/// maintenance window, with a rollback plan and test and security evidence.
fn base() -> PolicyInput {
    PolicyInput {
        change: ChangeFacts {
            id: "CHG-000001".into(),
            change_type: ChangeType::Normal,
            title: "Bump the cache size".into(),
            environment: "production".into(),
            risk_class: RiskClass::Medium,
            risk_score: Some(40),
            has_rollback_plan: true,
            test_evidence: Some("pipeline run 42".into()),
            security_evidence: Some(SecurityEvidence { present: true, critical_findings: 0 }),
            template: None,
            requester: "rita".into(),
            implementer: Some("ivan".into()),
            justification: None,
        },
        services: vec![service("catalog", "shop", 3, &[])],
        calendar: CalendarFacts { freeze: None, in_maintenance_window: true, conflicts: vec![] },
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

fn service(name: &str, team: &str, tier: i64, scopes: &[&str]) -> ServiceFacts {
    ServiceFacts {
        name: name.into(),
        team: team.into(),
        tier: Tier::new(tier).unwrap(),
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        depends_on: vec![],
    }
}

fn standard(input: &mut PolicyInput) {
    input.change.change_type = ChangeType::Standard;
    input.change.risk_class = RiskClass::Low;
    input.change.template =
        Some(TemplateFacts { name: "restart-pod".into(), approved: true, max_risk_class: RiskClass::Low });
}

fn freeze(input: &mut PolicyInput) {
    input.calendar.freeze = Some(FreezeFacts { name: "black-friday".into(), ends_at: "2026-11-30T00:00:00Z".into() });
}

fn render(decision: &PolicyDecision) -> String {
    let mut out = format!("auto_approve: {}\n", decision.auto_approve);
    let required: Vec<String> =
        decision.required_approvals.iter().map(|required| format!("{} x{}", required.role, required.count)).collect();
    out.push_str(&format!("required: [{}]\n", required.join(", ")));
    for reason in &decision.deny {
        out.push_str(&format!("deny: {reason}\n"));
    }
    for note in &decision.warn {
        out.push_str(&format!("warn: {note}\n"));
    }
    out
}

fn decide(input: &PolicyInput) -> PolicyDecision {
    evaluate(&Policy::default_policy(), input, EvalLimits::default()).expect("the default policy decides")
}

#[test]
fn default_policy_scenarios() {
    type Scenario = (&'static str, fn(&mut PolicyInput), Expect);
    let scenarios: Vec<Scenario> = vec![
        (
            "standard change, low risk, approved template: auto-approved",
            |input| standard(input),
            expect![[r#"
                # standard change, low risk, approved template: auto-approved
                auto_approve: true
                required: []
            "#]],
        ),
        (
            "standard change during a freeze: denied",
            |input| {
                standard(input);
                freeze(input);
            },
            expect![[r#"
                # standard change during a freeze: denied
                auto_approve: false
                required: [approver x1]
                deny: freeze `black-friday` is in force until 2026-11-30T00:00:00Z: only emergency changes may proceed
            "#]],
        ),
        (
            "standard change, medium risk: not auto-approved, one peer approver",
            |input| {
                standard(input);
                input.change.risk_class = RiskClass::Medium;
            },
            expect![[r#"
                # standard change, medium risk: not auto-approved, one peer approver
                auto_approve: false
                required: [approver x1]
                deny: risk medium exceeds the template `restart-pod`'s maximum (low): submit it as a normal change
            "#]],
        ),
        (
            "standard change from an unapproved template: denied",
            |input| {
                standard(input);
                input.change.template =
                    Some(TemplateFacts { name: "restart-pod".into(), approved: false, max_risk_class: RiskClass::Low });
            },
            expect![[r#"
                # standard change from an unapproved template: denied
                auto_approve: false
                required: [approver x1]
                deny: a standard change must come from an approved template: submit it as a normal change
            "#]],
        ),
        (
            "standard change without a template: denied",
            |input| {
                standard(input);
                input.change.template = None;
            },
            expect![[r#"
                # standard change without a template: denied
                auto_approve: false
                required: [approver x1]
                deny: a standard change must come from an approved template: submit it as a normal change
            "#]],
        ),
        (
            "standard low-risk change to a pci service: no auto-approval, peer and security",
            |input| {
                standard(input);
                input.services = vec![service("payments", "pay", 3, &["pci"])];
            },
            expect![[r#"
                # standard low-risk change to a pci service: no auto-approval, peer and security
                auto_approve: false
                required: [approver x1, security x1]
            "#]],
        ),
        (
            "normal change: one peer approver",
            |_| {},
            expect![[r#"
            # normal change: one peer approver
            auto_approve: false
            required: [approver x1]
        "#]],
        ),
        (
            "normal change during a freeze: denied",
            |input| freeze(input),
            expect![[r#"
                # normal change during a freeze: denied
                auto_approve: false
                required: [approver x1]
                deny: freeze `black-friday` is in force until 2026-11-30T00:00:00Z: only emergency changes may proceed
            "#]],
        ),
        (
            "high risk: the owner's team plus security or CAB",
            |input| input.change.risk_class = RiskClass::High,
            expect![[r#"
                # high risk: the owner's team plus security or CAB
                auto_approve: false
                required: [cab|security x1, team:shop x1]
            "#]],
        ),
        (
            "critical risk on two services: each owner team plus security or CAB",
            |input| {
                input.change.risk_class = RiskClass::Critical;
                input.services = vec![service("catalog", "shop", 3, &[]), service("search", "find", 3, &[])];
            },
            expect![[r#"
                # critical risk on two services: each owner team plus security or CAB
                auto_approve: false
                required: [cab|security x1, team:find x1, team:shop x1]
            "#]],
        ),
        (
            "pci scope with clean evidence: peer and security approval",
            |input| input.services = vec![service("payments", "pay", 3, &["pci", "sox"])],
            expect![[r#"
                # pci scope with clean evidence: peer and security approval
                auto_approve: false
                required: [approver x1, security x1]
            "#]],
        ),
        (
            "pci scope without security evidence: denied",
            |input| {
                input.services = vec![service("payments", "pay", 3, &["pci"])];
                input.change.security_evidence = None;
            },
            expect![[r#"
                # pci scope without security evidence: denied
                auto_approve: false
                required: [approver x1, security x1]
                deny: services in pci scope (payments) need security evidence (SAST/SCA/secret scan)
            "#]],
        ),
        (
            "pci scope with critical findings: denied",
            |input| {
                input.services = vec![service("payments", "pay", 3, &["pci"])];
                input.change.security_evidence = Some(SecurityEvidence { present: true, critical_findings: 2 });
            },
            expect![[r#"
                # pci scope with critical findings: denied
                auto_approve: false
                required: [approver x1, security x1]
                deny: security evidence has 2 critical finding(s): services in pci scope (payments) may not change with critical findings
            "#]],
        ),
        (
            "hipaa scope, high risk: the owner's team and security (security covers security-or-CAB)",
            |input| {
                input.services = vec![service("records", "care", 3, &["hipaa"])];
                input.change.risk_class = RiskClass::High;
            },
            expect![[r#"
                # hipaa scope, high risk: the owner's team and security (security covers security-or-CAB)
                auto_approve: false
                required: [security x1, team:care x1]
            "#]],
        ),
        (
            "out-of-scope critical findings: only a warning",
            |input| input.change.security_evidence = Some(SecurityEvidence { present: true, critical_findings: 1 }),
            expect![[r#"
                # out-of-scope critical findings: only a warning
                auto_approve: false
                required: [approver x1]
                warn: security evidence has 1 critical finding(s)
            "#]],
        ),
        (
            "tier 1 without a rollback plan: denied",
            |input| {
                input.services = vec![service("checkout", "shop", 1, &[])];
                input.change.has_rollback_plan = false;
            },
            expect![[r#"
                # tier 1 without a rollback plan: denied
                auto_approve: false
                required: [approver x1]
                deny: tier 1-2 services (checkout) need a rollback plan
            "#]],
        ),
        (
            "tier 2 with a rollback plan: one peer approver",
            |input| input.services = vec![service("checkout", "shop", 2, &[])],
            expect![[r#"
                # tier 2 with a rollback plan: one peer approver
                auto_approve: false
                required: [approver x1]
            "#]],
        ),
        (
            "tier 3 without a rollback plan: allowed",
            |input| input.change.has_rollback_plan = false,
            expect![[r#"
                # tier 3 without a rollback plan: allowed
                auto_approve: false
                required: [approver x1]
            "#]],
        ),
        (
            "emergency change during a freeze: allowed, with a warning",
            |input| {
                input.change.change_type = ChangeType::Emergency;
                input.change.justification = Some("payments are failing for every customer".into());
                freeze(input);
            },
            expect![[r#"
                # emergency change during a freeze: allowed, with a warning
                auto_approve: false
                required: [approver x1]
                warn: emergency change during freeze `black-friday` (until 2026-11-30T00:00:00Z): allowed, with retrospective approval and a post-implementation review
            "#]],
        ),
        (
            "emergency change, no freeze: retrospective approval warning",
            |input| {
                input.change.change_type = ChangeType::Emergency;
                input.change.justification = Some("payments are failing for every customer".into());
                input.calendar.in_maintenance_window = false;
            },
            expect![[r#"
                # emergency change, no freeze: retrospective approval warning
                auto_approve: false
                required: [approver x1]
                warn: emergency change: it may start before approval; the approvals are then due retrospectively, with a post-implementation review
            "#]],
        ),
        (
            "emergency change without a justification: denied",
            |input| {
                input.change.change_type = ChangeType::Emergency;
                input.change.justification = Some("   ".into());
            },
            expect![[r#"
                # emergency change without a justification: denied
                auto_approve: false
                required: [approver x1]
                deny: an emergency change needs a justification: why it cannot wait for approval
                warn: emergency change: it may start before approval; the approvals are then due retrospectively, with a post-implementation review
            "#]],
        ),
        (
            "standard change above its template's maximum risk: denied",
            |input| {
                standard(input);
                input.change.risk_class = RiskClass::High;
            },
            expect![[r#"
                # standard change above its template's maximum risk: denied
                auto_approve: false
                required: [cab|security x1, team:shop x1]
                deny: risk high exceeds the template `restart-pod`'s maximum (low): submit it as a normal change
            "#]],
        ),
        (
            "standard change at medium risk within its template's maximum: one peer approver",
            |input| {
                standard(input);
                input.change.risk_class = RiskClass::Medium;
                input.change.template =
                    Some(TemplateFacts { name: "scale-out".into(), approved: true, max_risk_class: RiskClass::Medium });
            },
            expect![[r#"
                # standard change at medium risk within its template's maximum: one peer approver
                auto_approve: false
                required: [approver x1]
            "#]],
        ),
        (
            "no service named: denied",
            |input| input.services.clear(),
            expect![[r#"
                # no service named: denied
                auto_approve: false
                required: [approver x1]
                deny: the change names no service: tier and compliance scope cannot be checked
            "#]],
        ),
        (
            "conflicts, outside a window, no test evidence, a requester with failures: warnings",
            |input| {
                input.calendar.conflicts = vec!["CHG-000009".into(), "CHG-000007".into()];
                input.calendar.in_maintenance_window = false;
                input.change.test_evidence = None;
                input.requester.recent_failures_90d = 4;
            },
            expect![[r#"
                # conflicts, outside a window, no test evidence, a requester with failures: warnings
                auto_approve: false
                required: [approver x1]
                warn: no test evidence attached
                warn: overlaps with CHG-000007, CHG-000009 on the same or a dependent service
                warn: planned outside a maintenance window
                warn: the requester had 4 failed changes in the last 90 days
            "#]],
        ),
    ];
    assert!(scenarios.len() >= 15);
    for (name, adjust, expected) in scenarios {
        let mut input = base();
        adjust(&mut input);
        let decision = decide(&input);
        expected.assert_eq(&format!("# {name}\n{}", render(&decision)));
    }
}

#[test]
fn decisions_replay_and_carry_both_hashes() {
    let policy = Policy::default_policy();
    let input = base();
    let first = evaluate(&policy, &input, EvalLimits::default()).unwrap();
    let second = evaluate(&policy, &input, EvalLimits::default()).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.policy_sha256, policy.sha256());
    assert_eq!(first.input_sha256, input.sha256());
    assert_eq!(first.policy_sha256.len(), 64);
}

#[test]
fn input_hash_is_stable_and_ignores_key_order() {
    let input = base();
    assert_eq!(input.sha256(), base().sha256());
    // The same facts written with keys in another order (and defaults left out) hash the same.
    let text = r#"{
        "now": "2026-11-26T10:00:00Z",
        "requester": {"recent_failures_90d": 0, "team": "shop", "roles": ["requester"], "name": "rita"},
        "services": [{"tier": 3, "team": "shop", "name": "catalog"}],
        "calendar": {"in_maintenance_window": true},
        "change": {
            "implementer": "ivan", "requester": "rita",
            "security_evidence": {"critical_findings": 0, "present": true},
            "test_evidence": "pipeline run 42", "has_rollback_plan": true, "risk_score": 40,
            "risk_class": "medium", "environment": "production", "title": "Bump the cache size",
            "type": "normal", "id": "CHG-000001"
        }
    }"#;
    let reordered = PolicyInput::from_json(text).unwrap();
    assert_eq!(reordered, input);
    assert_eq!(reordered.sha256(), input.sha256());
    let mut changed = base();
    changed.change.risk_score = Some(41);
    assert_ne!(changed.sha256(), input.sha256());
}

#[test]
fn input_files_with_unknown_fields_or_bad_values_are_refused() {
    let unknown = r#"{"change": {"id": "CHG-000001", "type": "normal", "title": "t", "environment": "p",
        "risk_class": "low", "requester": "r", "rollback": true}, "requester": {"name": "r"}, "now": "2026-11-26T10:00:00Z"}"#;
    assert!(matches!(PolicyInput::from_json(unknown), Err(PolicyError::Input(_))));
    let bad_type = r#"{"change": {"id": "CHG-000001", "type": "urgent", "title": "t", "environment": "p",
        "risk_class": "low", "requester": "r"}, "requester": {"name": "r"}, "now": "2026-11-26T10:00:00Z"}"#;
    assert!(matches!(PolicyInput::from_json(bad_type), Err(PolicyError::Input(_))));
}

#[test]
fn policy_hash_depends_on_content_not_file_order() {
    let a = PolicyFile::new(
        "a.rego",
        "package changegate\n\ndecision := {\"auto_approve\": true, \"required_approvals\": [], \"deny\": [], \"warn\": []}\n",
    );
    let b = PolicyFile::new("b.rego", "package helpers\n\nx := 1\n");
    let one = Policy::from_files(vec![a.clone(), b.clone()]).unwrap();
    let two = Policy::from_files(vec![b.clone(), a.clone()]).unwrap();
    assert_eq!(one.sha256(), two.sha256());
    let edited = PolicyFile::new("b.rego", "package helpers\n\nx := 2\n");
    assert_ne!(Policy::from_files(vec![a, edited]).unwrap().sha256(), one.sha256());
    assert_ne!(Policy::default_policy().sha256(), one.sha256());
}

fn policy_of(body: &str) -> Result<Policy, PolicyError> {
    Policy::from_files(vec![PolicyFile::new("policy.rego", format!("package changegate\n\n{body}\n"))])
}

#[test]
fn fail_closed_on_syntax_error() {
    let error = policy_of("decision := {\"auto_approve\": true,").unwrap_err();
    assert!(matches!(error, PolicyError::Parse { ref file, .. } if file == "policy.rego"), "{error}");
    assert_eq!(error.code(), "policy_parse_error");
}

#[test]
fn fail_closed_without_entry_point() {
    let error = policy_of("allow := true").unwrap_err();
    expect!["invalid policy: no file declares the rule `decision` in `package changegate`: Changegate evaluates data.changegate.decision"].assert_eq(&error.to_string());
    let other_package = Policy::from_files(vec![PolicyFile::new(
        "p.rego",
        "package other\n\ndecision := {\"auto_approve\": true, \"required_approvals\": [], \"deny\": [], \"warn\": []}\n",
    )]);
    assert!(matches!(other_package, Err(PolicyError::Invalid(_))));
    assert!(matches!(Policy::from_files(vec![]), Err(PolicyError::Invalid(_))));
}

#[test]
fn fail_closed_on_slow_policy() {
    // 8 × 10⁹ iterations: only the time limit ends it.
    let policy = policy_of(
        "n := numbers.range(1, 2000)\n\
         slow := count([1 | some a in n; some b in n; some c in n; a + b + c < 0])\n\
         decision := {\"auto_approve\": slow == 0, \"required_approvals\": [], \"deny\": [], \"warn\": []}",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let error = evaluate(&policy, &base(), EvalLimits::new(100)).unwrap_err();
    assert_eq!(error, PolicyError::TimeLimit { limit_ms: 100 });
    assert_eq!(error.to_string(), "policy evaluation exceeded its time limit of 100 ms");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
}

#[test]
fn fail_closed_on_wrong_output_type() {
    let policy =
        policy_of("decision := {\"auto_approve\": \"yes\", \"required_approvals\": [], \"deny\": [], \"warn\": []}")
            .unwrap();
    let error = evaluate(&policy, &base(), EvalLimits::default()).unwrap_err();
    expect![[r#"policy output is not a valid decision: `auto_approve` must be a boolean, not "yes""#]]
        .assert_eq(&error.to_string());
    let policy = policy_of("decision := {\"auto_approve\": false, \"required_approvals\": [{\"role\": \"approver\"}], \"deny\": [], \"warn\": []}").unwrap();
    assert!(matches!(evaluate(&policy, &base(), EvalLimits::default()), Err(PolicyError::Output(_))));
    let policy = policy_of("decision := 42").unwrap();
    assert!(matches!(evaluate(&policy, &base(), EvalLimits::default()), Err(PolicyError::Output(_))));
}

#[test]
fn fail_closed_on_undefined_decision() {
    let policy = policy_of(
        "decision := {\"auto_approve\": true, \"required_approvals\": [], \"deny\": [], \"warn\": []} if input.change.magic",
    )
    .unwrap();
    let error = evaluate(&policy, &base(), EvalLimits::default()).unwrap_err();
    expect!["policy output is not a valid decision: data.changegate.decision is undefined for this input"]
        .assert_eq(&error.to_string());
}

#[test]
fn fail_closed_on_runtime_error() {
    // Two complete definitions with different values: a conflict Rego reports at evaluation.
    let policy = policy_of(
        "level := 1 if input.change.id\n\
         level := 2 if input.change.title\n\
         decision := {\"auto_approve\": level == 1, \"required_approvals\": [], \"deny\": [], \"warn\": []}",
    )
    .unwrap();
    let error = evaluate(&policy, &base(), EvalLimits::default()).unwrap_err();
    assert!(matches!(error, PolicyError::Evaluation(_)), "{error}");
}

#[test]
fn fail_closed_on_bad_now() {
    let mut input = base();
    input.now = "yesterday".into();
    let error = evaluate(&Policy::default_policy(), &input, EvalLimits::default()).unwrap_err();
    assert!(matches!(error, PolicyError::Input(_)), "{error}");
}

#[test]
fn default_policy_tests_pass() {
    let report = run_policy_tests(&Policy::default_files_with_tests()).unwrap();
    assert!(report.is_success(), "{report:#?}");
    assert_eq!(report.total(), 11, "{report:#?}");
}

/// A user's policy directory, in memory: a Friday freeze using `input.now`, and its tests.
fn user_policy_directory() -> Vec<PolicyFile> {
    let policy = r#"package changegate

friday if time.weekday(time.parse_rfc3339_ns(input.now)) == "Friday"

deny contains "no deploys on Fridays" if {
	friday
	input.change.type != "emergency"
}

decision := {
	"auto_approve": false,
	"required_approvals": [{"role": "approver", "count": 2}],
	"deny": deny,
	"warn": [],
}
"#;
    let tests = r#"package changegate_test

import data.changegate

test_friday_is_denied if {
	d := changegate.decision with input as {"now": "2026-11-27T10:00:00Z", "change": {"type": "normal"}}
	d.deny == {"no deploys on Fridays"}
}

test_thursday_needs_two_approvers if {
	d := changegate.decision with input as {"now": "2026-11-26T10:00:00Z", "change": {"type": "normal"}}
	d.required_approvals == [{"role": "approver", "count": 1}]
}

test_helper_function(x) if x
"#;
    vec![PolicyFile::new("friday.rego", policy), PolicyFile::new("friday_test.rego", tests)]
}

#[test]
fn user_policy_tests_report_passes_and_failures() {
    let files = user_policy_directory();
    let report = run_policy_tests(&files).unwrap();
    expect![[r#"
        TestReport {
            passed: [
                "data.changegate_test.test_friday_is_denied",
            ],
            failed: [
                (
                    "data.changegate_test.test_thursday_needs_two_approvers",
                    "undefined: a condition in its body did not hold",
                ),
            ],
        }
    "#]]
    .assert_debug_eq(&report);
    assert!(!report.is_success());
    // The same files are a valid policy (tests included).
    let policy = Policy::from_files(files).unwrap();
    let mut input = base();
    input.now = "2026-11-27T09:00:00+01:00".into();
    let decision = evaluate(&policy, &input, EvalLimits::default()).unwrap();
    assert_eq!(decision.deny, vec!["no deploys on Fridays".to_owned()]);
}

#[test]
fn policy_tests_fail_on_errors_and_time_limits_and_need_a_test() {
    let files = vec![PolicyFile::new(
        "t.rego",
        "package t\n\ntest_undefined if input.missing\n\ntest_number := 3\n\n\
         n := numbers.range(1, 2000)\n\
         test_slow if count([1 | some a in n; some b in n; some c in n; a + b + c < 0]) == 0\n",
    )];
    let report = run_policy_tests_with_limits(&files, EvalLimits::new(50)).unwrap();
    expect![[r#"
        TestReport {
            passed: [],
            failed: [
                (
                    "data.t.test_number",
                    "evaluated to 3, not true",
                ),
                (
                    "data.t.test_slow",
                    "policy evaluation exceeded its time limit of 50 ms",
                ),
                (
                    "data.t.test_undefined",
                    "undefined: a condition in its body did not hold",
                ),
            ],
        }
    "#]]
    .assert_debug_eq(&report);
    let no_tests = run_policy_tests(&[PolicyFile::new("x.rego", "package x\n\nallow := true\n")]).unwrap();
    assert_eq!(no_tests.total(), 0);
    assert!(!no_tests.is_success());
    assert!(matches!(
        run_policy_tests(&[PolicyFile::new("x.rego", "package x\n\nallow := \n")]),
        Err(PolicyError::Parse { .. })
    ));
}

#[test]
fn end_to_end_scoped_change_refuses_requester_and_implementer() {
    let mut input = base();
    input.services = vec![service("payments", "pay", 3, &["pci"])];
    input.approvals_so_far = vec![
        ApprovalFacts { approver: "rita".into(), roles: vec!["approver".into()], team: Some("shop".into()) },
        ApprovalFacts { approver: "ivan".into(), roles: vec!["security".into()], team: Some("pay".into()) },
        ApprovalFacts { approver: "sam".into(), roles: vec!["security".into(), "approver".into()], team: None },
    ];
    let decision = decide(&input);
    let approvers: Vec<Approver> = input.approvals_so_far.iter().map(ApprovalFacts::approver).collect();
    let status = approvals_satisfied(
        &decision.required_approvals,
        &approvers,
        &input.change.requester,
        input.change.implementer.as_deref(),
        input.is_scoped(),
    );
    expect![[r#"
        ApprovalStatus {
            satisfied: false,
            missing: [
                RequiredApproval {
                    role: "security",
                    count: 1,
                },
            ],
            refused: [
                (
                    "rita",
                    "the requester never approves their own change",
                ),
                (
                    "ivan",
                    "the implementer does not approve a change to a service in compliance scope (DORA RTS 2024/1774 Art. 17(1)(b), PCI DSS 6.5.4)",
                ),
            ],
            assigned: [
                (
                    "sam",
                    "approver",
                ),
            ],
        }
    "#]].assert_debug_eq(&status);
}

/// The example in docs/policy.md decides as the document says.
#[test]
fn documented_example_decides_as_documented() {
    let docs = include_str!("../../../docs/policy.md");
    let start = docs.find("```json\n{\n  \"change\"").expect("the input example") + "```json\n".len();
    let end = start + docs[start..].find("```").expect("end of the example");
    let input = PolicyInput::from_json(&docs[start..end]).unwrap();
    let decision = decide(&input);
    expect![[r#"
        auto_approve: false
        required: [security x1, team:pay x1]
    "#]]
    .assert_eq(&render(&decision));
}

/// Rego cannot loop forever: mutually recursive rules are an error, not a hang or a crash.
#[test]
fn fail_closed_on_recursive_policy() {
    let policy = policy_of(
        "a if b\n\
         b if a\n\
         decision := {\"auto_approve\": a, \"required_approvals\": [], \"deny\": [], \"warn\": []}",
    );
    let error = match policy {
        Err(error) => error,
        Ok(policy) => evaluate(&policy, &base(), EvalLimits::default()).unwrap_err(),
    };
    assert!(matches!(error, PolicyError::Evaluation(_)), "{error}");
    assert!(error.to_string().contains("recursion detected"), "{error}");
}

/// Every separation-of-duties rule on a table of approval sets, snapshot-tested: what counts, who
/// fills which requirement, what is still missing and why an approval does not count.
#[test]
fn separation_of_duties_scenarios() {
    fn required(pairs: &[(&str, u32)]) -> Vec<changegate_policy::RequiredApproval> {
        pairs.iter().map(|(role, count)| changegate_policy::RequiredApproval::new(*role, *count)).collect()
    }
    let rita = || Approver::new("rita", &["requester", "approver", "security"], Some("shop"));
    let ivan = || Approver::new("ivan", &["approver", "security"], Some("ops"));
    let sam = || Approver::new("sam", &["approver"], Some("shop"));
    let dual = || Approver::new("dual", &["approver", "security"], Some("ops"));
    let sec = || Approver::new("sec", &["security"], None);
    let carla = || Approver::new("carla", &["cab"], None);
    type Scenario = (&'static str, Vec<changegate_policy::RequiredApproval>, Vec<Approver>, bool, Expect);
    let scenarios: Vec<Scenario> = vec![
        (
            "the requester never approves, whatever roles she holds",
            required(&[("approver", 1)]),
            vec![rita()],
            false,
            expect![[r#"
                # the requester never approves, whatever roles she holds
                satisfied: false
                missing: approver x1
                refused: rita: the requester never approves their own change
            "#]],
        ),
        (
            "the implementer approves an unscoped change",
            required(&[("approver", 1)]),
            vec![ivan()],
            false,
            expect![[r#"
                # the implementer approves an unscoped change
                satisfied: true
                assigned: ivan -> approver
            "#]],
        ),
        (
            "the implementer does not approve a scoped change",
            required(&[("security", 1)]),
            vec![ivan()],
            true,
            expect![[r#"
                # the implementer does not approve a scoped change
                satisfied: false
                missing: security x1
                refused: ivan: the implementer does not approve a change to a service in compliance scope (DORA RTS 2024/1774 Art. 17(1)(b), PCI DSS 6.5.4)
            "#]],
        ),
        (
            "one person fills at most one requirement",
            required(&[("approver", 1), ("security", 1)]),
            vec![dual()],
            false,
            expect![[r#"
                # one person fills at most one requirement
                satisfied: false
                assigned: dual -> approver
                missing: security x1
            "#]],
        ),
        (
            "two people fill two requirements, whatever the order",
            required(&[("security", 1), ("approver", 1)]),
            vec![sam(), dual()],
            false,
            expect![[r#"
                # two people fill two requirements, whatever the order
                satisfied: true
                assigned: dual -> security
                assigned: sam -> approver
            "#]],
        ),
        (
            "the same person twice counts once",
            required(&[("approver", 2)]),
            vec![sam(), sam()],
            false,
            expect![[r#"
                # the same person twice counts once
                satisfied: false
                assigned: sam -> approver
                missing: approver x1
            "#]],
        ),
        (
            "the owner team and security or CAB",
            required(&[("team:shop", 1), ("cab|security", 1)]),
            vec![carla(), sec(), sam()],
            false,
            expect![[r#"
                # the owner team and security or CAB
                satisfied: true
                assigned: carla -> cab|security
                assigned: sam -> team:shop
            "#]],
        ),
    ];
    for (name, required, approvals, scoped, expected) in scenarios {
        let status = approvals_satisfied(&required, &approvals, "rita", Some("ivan"), scoped);
        let mut text = format!("# {name}\nsatisfied: {}\n", status.satisfied);
        for (person, role) in &status.assigned {
            text.push_str(&format!("assigned: {person} -> {role}\n"));
        }
        for missing in &status.missing {
            text.push_str(&format!("missing: {} x{}\n", missing.role, missing.count));
        }
        for (person, reason) in &status.refused {
            text.push_str(&format!("refused: {person}: {reason}\n"));
        }
        expected.assert_eq(&text);
    }
}
