//! Given/when/then tests of the change lifecycle, and a property test over random action
//! sequences: the lifecycle never reaches an illegal state, and the record always equals the
//! fold of its events.

use changegate_core::lifecycle::{Action, ActionInput, Actor, authorize, decide, handle};
use changegate_core::{
    ChangeId, ChangeRecord, ChangeState, ChangeType, DomainError, DomainEvent, Name, RiskClass, Role, Tier, Timestamp,
};
use proptest::prelude::*;

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn requester() -> Actor {
    Actor { name: name("alice"), roles: vec![Role::Requester], team: None }
}

fn approver() -> Actor {
    Actor { name: name("bob"), roles: vec![Role::Approver], team: None }
}

const T0: Timestamp = Timestamp::from_unix_ms(1_800_000_000_000);

/// A test scenario: the events so far (given), an action (when), the outcome (then).
struct Scenario {
    tier: Tier,
    record: ChangeRecord,
    events: Vec<(DomainEvent, Timestamp)>,
    clock: Timestamp,
}

impl Scenario {
    fn given(change_type: ChangeType, tier: u8) -> Self {
        let created = DomainEvent::ChangeCreated {
            id: ChangeId::new(1),
            title: "Bump openssl".into(),
            description: String::new(),
            change_type,
            service: name("payments-api"),
            environment: name("production"),
            requester: name("alice"),
            implementation_plan: Some("apply".into()),
            rollback_plan: Some("revert".into()),
            planned_start: None,
            planned_end: None,
            links: vec![],
            test_evidence: None,
            security_evidence: None,
            security_critical_findings: None,
            template: None,
            justification: None,
            commit: None,
            pipeline_url: None,
            code_metrics: None,
            team: None,
            commit_time: None,
        };
        let record = ChangeRecord::create(&created, T0).unwrap();
        Scenario { tier: Tier::new(i64::from(tier)).unwrap(), record, events: vec![(created, T0)], clock: T0 }
    }

    fn when(&mut self, actor: &Actor, action: Action, input: ActionInput) -> Result<Vec<DomainEvent>, DomainError> {
        self.clock = self.clock.plus_ms(60_000);
        let events = decide(&self.record, actor, action, &input, self.tier, self.clock)?;
        for event in &events {
            self.record.apply(event, self.clock);
            self.events.push((event.clone(), self.clock));
        }
        Ok(events)
    }

    fn ok(mut self, actor: &Actor, action: Action) -> Self {
        self.when(actor, action, ActionInput::default()).unwrap_or_else(|error| panic!("{action}: {error}"));
        self
    }

    fn ok_with(mut self, actor: &Actor, action: Action, input: ActionInput) -> Self {
        self.when(actor, action, input).unwrap_or_else(|error| panic!("{action}: {error}"));
        self
    }

    fn then_state(self, state: ChangeState) -> Self {
        assert_eq!(self.record.state, state);
        let folded = ChangeRecord::fold(self.events.iter().map(|(event, time)| (event, *time))).unwrap();
        assert_eq!(folded, self.record, "the record is the fold of its events");
        self
    }

    fn then_refused(mut self, actor: &Actor, action: Action) -> Self {
        let before = self.record.clone();
        let error = self.when(actor, action, ActionInput::default()).unwrap_err();
        assert_eq!(error.code(), "illegal_transition", "{action} should be refused, got {error}");
        assert_eq!(self.record, before, "a refusal changes nothing");
        self
    }
}

fn review(root_cause: &str) -> ActionInput {
    ActionInput { root_cause: Some(root_cause.into()), ..ActionInput::default() }
}

#[test]
fn a_normal_change_goes_from_draft_to_closed() {
    let alice = requester();
    let bob = approver();
    let scenario = Scenario::given(ChangeType::Normal, 2)
        .then_state(ChangeState::Draft)
        .ok(&alice, Action::Submit)
        .then_state(ChangeState::Assessed);
    let assessment = scenario.record.assessment.clone().unwrap();
    assert_eq!(assessment.risk_class, RiskClass::Medium);
    assert_eq!(assessment.approvals_required, 1);
    assert!(scenario.record.submitted_at.is_some());
    scenario
        .ok(&bob, Action::Approve)
        .then_state(ChangeState::Approved)
        .ok(&alice, Action::Schedule)
        .then_state(ChangeState::Scheduled)
        .ok(&alice, Action::Start)
        .then_state(ChangeState::Implementing)
        .ok(&alice, Action::Complete)
        .then_state(ChangeState::Implemented)
        .ok(&alice, Action::Verify)
        .then_state(ChangeState::Verified)
        .ok(&alice, Action::Close)
        .then_state(ChangeState::Closed)
        .then_refused(&alice, Action::Cancel);
}

#[test]
fn a_low_risk_standard_change_is_pre_approved() {
    let scenario =
        Scenario::given(ChangeType::Standard, 3).ok(&requester(), Action::Submit).then_state(ChangeState::Approved);
    assert!(scenario.record.auto_approved);
    assert_eq!(scenario.record.assessment.unwrap().risk_class, RiskClass::Low);
}

#[test]
fn a_standard_change_on_tier_one_still_needs_approval() {
    Scenario::given(ChangeType::Standard, 1).ok(&requester(), Action::Submit).then_state(ChangeState::Assessed);
}

#[test]
fn risk_classes_follow_type_and_tier() {
    let cases = [
        (ChangeType::Emergency, 1, RiskClass::Critical),
        (ChangeType::Emergency, 3, RiskClass::High),
        (ChangeType::Normal, 1, RiskClass::High),
        (ChangeType::Normal, 2, RiskClass::Medium),
        (ChangeType::Normal, 4, RiskClass::Low),
        (ChangeType::Standard, 1, RiskClass::Medium),
        (ChangeType::Standard, 4, RiskClass::Low),
    ];
    for (change_type, tier, expected) in cases {
        let scenario = Scenario::given(change_type, tier).ok(&requester(), Action::Submit);
        assert_eq!(scenario.record.assessment.unwrap().risk_class, expected, "{change_type} tier {tier}");
    }
}

#[test]
fn a_failed_change_is_rolled_back_and_needs_a_root_cause_to_close() {
    let alice = requester();
    let scenario = Scenario::given(ChangeType::Normal, 2)
        .ok(&alice, Action::Submit)
        .ok(&approver(), Action::Approve)
        .ok(&alice, Action::Schedule)
        .ok(&alice, Action::Start)
        .ok(&alice, Action::Fail)
        .then_state(ChangeState::Failed)
        .ok(&alice, Action::Rollback)
        .then_state(ChangeState::RolledBack)
        .then_refused(&alice, Action::Close);
    let mut scenario = scenario;
    let error = scenario.when(&alice, Action::Review, ActionInput::default()).unwrap_err();
    assert_eq!(error.code(), "validation_failed", "a review of a failure needs a root cause");
    scenario
        .ok_with(&alice, Action::Review, review("connection pool exhausted"))
        .then_state(ChangeState::RolledBack)
        .ok(&alice, Action::Close)
        .then_state(ChangeState::Closed);
}

#[test]
fn an_emergency_change_starts_before_approval_and_closes_after_retrospective_approval_and_review() {
    let alice = requester();
    let scenario = Scenario::given(ChangeType::Emergency, 1)
        .ok(&alice, Action::Submit)
        .then_state(ChangeState::Assessed)
        .ok(&alice, Action::Start)
        .then_state(ChangeState::Implementing)
        .ok(&alice, Action::Complete)
        .ok(&alice, Action::Verify)
        .then_state(ChangeState::Verified)
        .then_refused(&alice, Action::Close)
        .ok(&approver(), Action::Approve)
        .then_state(ChangeState::Verified);
    assert!(scenario.record.approvals[0].retrospective);
    scenario
        .then_refused(&alice, Action::Close)
        .ok(&alice, Action::Review)
        .ok(&alice, Action::Close)
        .then_state(ChangeState::Closed);
}

#[test]
fn a_normal_change_cannot_start_before_approval() {
    Scenario::given(ChangeType::Normal, 2).ok(&requester(), Action::Submit).then_refused(&requester(), Action::Start);
}

#[test]
fn rejection_is_final() {
    let alice = requester();
    Scenario::given(ChangeType::Normal, 1)
        .ok(&alice, Action::Submit)
        .ok(&approver(), Action::Reject)
        .then_state(ChangeState::Rejected)
        .then_refused(&approver(), Action::Approve)
        .then_refused(&alice, Action::Submit)
        .then_refused(&alice, Action::Cancel);
}

#[test]
fn cancel_works_until_implementation_starts() {
    let alice = requester();
    Scenario::given(ChangeType::Normal, 2).ok(&alice, Action::Cancel).then_state(ChangeState::Cancelled);
    Scenario::given(ChangeType::Normal, 2)
        .ok(&alice, Action::Submit)
        .ok(&alice, Action::Cancel)
        .then_state(ChangeState::Cancelled);
    Scenario::given(ChangeType::Normal, 2)
        .ok(&alice, Action::Submit)
        .ok(&approver(), Action::Approve)
        .ok(&alice, Action::Schedule)
        .ok(&alice, Action::Cancel)
        .then_state(ChangeState::Cancelled);
    Scenario::given(ChangeType::Normal, 2)
        .ok(&alice, Action::Submit)
        .ok(&approver(), Action::Approve)
        .ok(&alice, Action::Schedule)
        .ok(&alice, Action::Start)
        .then_refused(&alice, Action::Cancel);
}

#[test]
fn every_action_out_of_place_in_a_draft_is_refused() {
    for action in Action::ALL {
        if matches!(action, Action::Submit | Action::Cancel) {
            continue;
        }
        let actor = if action.is_decision() { approver() } else { requester() };
        Scenario::given(ChangeType::Normal, 2).then_refused(&actor, action);
    }
}

#[test]
fn separation_of_duties_holds_even_for_admins() {
    let alice_admin =
        Actor { name: name("alice"), roles: vec![Role::Requester, Role::Admin, Role::Approver], team: None };
    let scenario = Scenario::given(ChangeType::Normal, 2).ok(&alice_admin, Action::Submit);
    let refusal = authorize(&alice_admin, Action::Approve, &scenario.record).unwrap_err();
    assert!(refusal.contains("separation of duties"), "{refusal}");
}

#[test]
fn auditors_and_approvers_cannot_do_requester_work() {
    let scenario = Scenario::given(ChangeType::Normal, 2);
    let auditor = Actor { name: name("carol"), roles: vec![Role::Auditor], team: None };
    for action in Action::ALL {
        assert!(authorize(&auditor, action, &scenario.record).is_err(), "auditor may not {action}");
    }
    assert!(authorize(&approver(), Action::Submit, &scenario.record).is_err());
    let other_requester = Actor { name: name("dave"), roles: vec![Role::Requester], team: None };
    assert!(authorize(&other_requester, Action::Cancel, &scenario.record).is_err(), "only its requester cancels");
    assert!(authorize(&other_requester, Action::Start, &scenario.record).is_ok());
}

#[test]
fn handle_refuses_in_the_lifecycle_order_authorization_then_state_then_separation_of_duties() {
    let scenario = Scenario::given(ChangeType::Normal, 2);
    let (tier, now) = (scenario.tier, scenario.clock.plus_ms(60_000));
    let input = ActionInput::default();
    // A draft cannot be approved, but an auditor is refused before the state is even read.
    let auditor = Actor { name: name("carol"), roles: vec![Role::Auditor], team: None };
    let refusal = handle(&scenario.record, &auditor, Action::Approve, &input, tier, now).unwrap_err();
    assert_eq!(refusal.code(), "forbidden", "{refusal}");
    // An approver may approve in general: the draft's state refuses it, nothing to record.
    let refusal = handle(&scenario.record, &approver(), Action::Approve, &input, tier, now).unwrap_err();
    assert_eq!(refusal.code(), "illegal_transition", "{refusal}");
    // Submitted: the requester's own approval is refused by separation of duties.
    let submitted = scenario.ok(&requester(), Action::Submit);
    let alice_approver = Actor { name: name("alice"), roles: vec![Role::Requester, Role::Approver], team: None };
    let refusal = handle(&submitted.record, &alice_approver, Action::Approve, &input, tier, now).unwrap_err();
    assert_eq!(refusal.code(), "forbidden", "{refusal}");
    // And what `handle` accepts is exactly what `decide` records.
    let events = handle(&submitted.record, &approver(), Action::Approve, &input, tier, now).unwrap();
    assert_eq!(events, decide(&submitted.record, &approver(), Action::Approve, &input, tier, now).unwrap());
}

#[test]
fn one_person_approves_once() {
    let mut scenario = Scenario::given(ChangeType::Normal, 2).ok(&requester(), Action::Submit);
    // Simulate a rule that needs two approvals.
    if let Some(assessment) = scenario.record.assessment.as_mut() {
        assessment.approvals_required = 2;
        assessment.required_approvals = vec![changegate_core::approval::RequiredApproval::new("approver", 2)];
    }
    let scenario = scenario.ok(&approver(), Action::Approve);
    assert_eq!(scenario.record.state, ChangeState::Assessed, "one of two approvals is not enough");
    let mut scenario = scenario;
    let error = scenario.when(&approver(), Action::Approve, ActionInput::default()).unwrap_err();
    assert_eq!(error.code(), "conflict");
}

#[test]
fn schedule_refuses_an_end_before_the_start() {
    let alice = requester();
    let mut scenario =
        Scenario::given(ChangeType::Normal, 2).ok(&alice, Action::Submit).ok(&approver(), Action::Approve);
    let input =
        ActionInput { planned_start: Some(T0.plus_ms(10_000_000)), planned_end: Some(T0), ..ActionInput::default() };
    assert_eq!(scenario.when(&alice, Action::Schedule, input).unwrap_err().code(), "validation_failed");
    assert_eq!(scenario.record.state, ChangeState::Approved);
}

/// Which states each state may move to, as the lifecycle documents it.
fn allowed_next(from: ChangeState, to: ChangeState) -> bool {
    use ChangeState as S;
    from == to
        || matches!(
            (from, to),
            (S::Draft, S::Submitted | S::Assessed | S::Approved | S::Cancelled)
                | (S::Submitted, S::Assessed | S::Cancelled)
                | (S::Assessed, S::Approved | S::Rejected | S::Implementing | S::Cancelled)
                | (S::Approved, S::Scheduled | S::Cancelled)
                | (S::Scheduled, S::Implementing | S::Cancelled)
                | (S::Implementing, S::Implemented | S::Failed)
                | (S::Implemented, S::Verified | S::Failed)
                | (S::Verified, S::Closed)
                | (S::Failed, S::RolledBack | S::Closed)
                | (S::RolledBack, S::Closed)
        )
}

fn arbitrary_action() -> impl Strategy<Value = Action> {
    proptest::sample::select(Action::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_action_sequences_stay_legal_and_match_the_fold(
        change_type in proptest::sample::select(vec![ChangeType::Standard, ChangeType::Normal, ChangeType::Emergency]),
        tier in 1u8..=4,
        steps in proptest::collection::vec((arbitrary_action(), any::<bool>(), any::<bool>()), 0..40),
    ) {
        let mut scenario = Scenario::given(change_type, tier);
        for (action, by_approver, with_root_cause) in steps {
            let actor = if by_approver { approver() } else { requester() };
            let before = scenario.record.clone();
            let input = if with_root_cause && action == Action::Review { review("cause") } else { ActionInput::default() };
            match scenario.when(&actor, action, input) {
                Ok(events) => {
                    prop_assert!(!events.is_empty());
                    prop_assert!(allowed_next(before.state, scenario.record.state),
                        "{action} moved {} to {}", before.state, scenario.record.state);
                    prop_assert_ne!(scenario.record.state, ChangeState::Submitted, "submit always assesses at once");
                    if scenario.record.state == ChangeState::Closed {
                        let failed = before.state == ChangeState::Failed || before.state == ChangeState::RolledBack;
                        prop_assert!(!failed || scenario.record.review.as_ref().and_then(|r| r.root_cause.as_ref()).is_some());
                        prop_assert!(change_type != ChangeType::Emergency || scenario.record.is_approved());
                    }
                    if scenario.record.state == ChangeState::Implementing && change_type != ChangeType::Emergency {
                        prop_assert!(scenario.record.is_approved(), "only emergency changes start unapproved");
                    }
                }
                Err(_) => prop_assert_eq!(&scenario.record, &before, "a refusal changes nothing"),
            }
            let folded = ChangeRecord::fold(scenario.events.iter().map(|(event, time)| (event, *time))).unwrap();
            prop_assert_eq!(&folded, &scenario.record);
        }
    }
}

#[test]
fn awaiting_approval_covers_assessed_and_unapproved_started_emergencies() {
    let alice = requester();
    let normal = Scenario::given(ChangeType::Normal, 2).ok(&alice, Action::Submit);
    assert!(normal.record.awaits_approval());
    let normal = normal.ok(&approver(), Action::Approve);
    assert!(!normal.record.awaits_approval());
    let emergency = Scenario::given(ChangeType::Emergency, 2).ok(&alice, Action::Submit).ok(&alice, Action::Start);
    assert!(emergency.record.awaits_approval(), "an emergency change in flight still needs its retrospective approval");
    let emergency = emergency.ok(&approver(), Action::Approve);
    assert!(!emergency.record.awaits_approval());
    let standard = Scenario::given(ChangeType::Standard, 3).ok(&alice, Action::Submit);
    assert!(!standard.record.awaits_approval(), "pre-approved");
}

fn deployed(alice: &Actor) -> Scenario {
    Scenario::given(ChangeType::Normal, 2)
        .ok(alice, Action::Submit)
        .ok(&approver(), Action::Approve)
        .ok(alice, Action::Schedule)
        .ok(alice, Action::Start)
}

fn apply_all(scenario: &mut Scenario, events: &[DomainEvent]) {
    for event in events {
        scenario.record.apply(event, scenario.clock);
    }
}

#[test]
fn an_automated_rollback_of_a_failed_change_records_only_the_rollback() {
    let alice = requester();
    let mut scenario = deployed(&alice).ok(&alice, Action::Fail);
    assert!(changegate_core::lifecycle::rollback_hook_due(&scenario.record));
    let events = changegate_core::lifecycle::automated_rollback(&scenario.record, "verification failed");
    assert_eq!(events.len(), 1);
    apply_all(&mut scenario, &events);
    assert_eq!(scenario.record.state, ChangeState::RolledBack);
    assert!(scenario.record.rollback_automated);
    assert!(!changegate_core::lifecycle::rollback_hook_due(&scenario.record), "rolled back: never again");
}

#[test]
fn an_automated_rollback_of_a_verified_change_after_an_incident_fails_it_first() {
    let alice = requester();
    let mut scenario = deployed(&alice).ok(&alice, Action::Complete).ok(&alice, Action::Verify);
    let events = changegate_core::lifecycle::automated_rollback(&scenario.record, "incident INC-000001 (sev1)");
    assert!(matches!(
        events.as_slice(),
        [DomainEvent::ChangeFailed { .. }, DomainEvent::ChangeRolledBack { automated: true, .. }]
    ));
    apply_all(&mut scenario, &events);
    assert_eq!(scenario.record.state, ChangeState::RolledBack);
    assert_eq!(scenario.record.outcome(), Some(changegate_core::ChangeOutcome::RolledBack));
}

#[test]
fn a_closed_change_keeps_its_state_and_an_undeployed_one_has_no_hook_due() {
    let alice = requester();
    let closed = deployed(&alice).ok(&alice, Action::Complete).ok(&alice, Action::Verify).ok(&alice, Action::Close);
    assert!(changegate_core::lifecycle::automated_rollback(&closed.record, "incident").is_empty());
    let draft = Scenario::given(ChangeType::Normal, 2);
    assert!(!changegate_core::lifecycle::rollback_hook_due(&draft.record));
}
