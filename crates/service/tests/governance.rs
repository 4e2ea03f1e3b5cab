//! Governance through the service, on every backend: the policy decides on submit and its decision
//! is recorded with both hashes; separation of duties on approve, reject and start; a failing
//! policy fails closed; policy versions are ledger events; templates, freezes, conflicts through
//! dependencies, and the emergency deadline.

use std::sync::Arc;

use changegate_calendar::{CalendarWindow, Schedule, WindowKind, WindowScope};
use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ChangeRecord, ChangeState, ManualClock, PolicySource, Timestamp};
use changegate_service::{
    ActionRequest, Caller, GovernanceSettings, NewChange, NewService, NewTemplate, NewUser, Service, ServiceError,
};
use changegate_store::Store;
use changegate_store::testing::{TestStore, every_backend};

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
use changegate_core::civil::HOUR_MS;

struct World {
    service: Service,
    /// The store under the service, for checks the service does not offer.
    store: Store,
    clock: Arc<ManualClock>,
    admin: Caller,
    /// Requester on the shop team.
    rita: Caller,
    /// Approver on the shop team.
    sam: Caller,
    /// Approver on another team.
    olga: Caller,
    /// Security, on no team.
    sec: Caller,
    /// Holds approver and security: may fill either, never both.
    dual: Caller,
    /// Requester who implements (an SRE).
    ivan: Caller,
}

/// The usual world, with a generous policy time limit: production's 500 ms is far above an
/// ordinary decision, but a debug build on a loaded 2-core machine has exceeded it, failing closed
/// and making unrelated tests flaky. The test of the limit itself runs with the default.
async fn world(test_store: &TestStore) -> World {
    let settings = GovernanceSettings { policy_time_limit_ms: 5_000, ..GovernanceSettings::default() };
    world_with(test_store, settings).await
}

async fn world_with(test_store: &TestStore, settings: GovernanceSettings) -> World {
    let clock = Arc::new(ManualClock::new(START));
    let service = Service::new(test_store.store.clone(), clock.clone()).with_governance_settings(settings);
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let add = async |name: &str, roles: &[&str], team: Option<&str>| add_user(&service, name, roles, team).await;
    let rita = add("rita", &["requester"], Some("shop")).await;
    let sam = add("sam", &["approver"], Some("shop")).await;
    let olga = add("olga", &["approver"], Some("ops")).await;
    let sec = add("sec", &["security"], None).await;
    let dual = add("dual", &["approver", "security"], Some("ops")).await;
    let ivan = add("ivan", &["requester"], Some("ops")).await;
    for (name, team, tier, scopes, depends_on) in [
        ("database", "ops", 1, vec![], vec![]),
        ("catalog", "shop", 3, vec![], vec!["database".to_owned()]),
        ("checkout", "shop", 1, vec!["pci".to_owned()], vec!["catalog".to_owned()]),
        ("blog", "web", 4, vec![], vec![]),
    ] {
        let input = NewService { name: name.into(), team: team.into(), tier, scopes, depends_on };
        service.register_service(&admin, input, None).await.unwrap();
    }
    World { service, store: test_store.store.clone(), clock, admin, rita, sam, olga, sec, dual, ivan }
}

async fn add_user(service: &Service, name: &str, roles: &[&str], team: Option<&str>) -> Caller {
    let input = NewUser {
        name: name.into(),
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        team: team.map(str::to_owned),
    };
    service.add_user_locally(&input).await.unwrap().caller()
}

fn change(service: &str, change_type: &str) -> NewChange {
    NewChange {
        title: format!("A {change_type} change to {service}"),
        change_type: change_type.into(),
        service: service.into(),
        environment: "production".into(),
        rollback_plan: Some("redeploy the previous release".into()),
        test_evidence: Some("pipeline run 7: 812 tests passed".into()),
        ..NewChange::default()
    }
}

/// Makes a change large (1,700 lines in 30 files) and without test evidence: higher risk.
fn large_untested(input: NewChange) -> NewChange {
    NewChange { test_evidence: None, code_metrics: Some(serde_json::json!({"la": 1500, "ld": 200, "nf": 30})), ..input }
}

impl World {
    async fn add_user(&self, name: &str, roles: &[&str], team: Option<&str>) -> Caller {
        add_user(&self.service, name, roles, team).await
    }

    async fn create(&self, caller: &Caller, input: NewChange) -> ChangeRecord {
        self.service.create_change(caller, input, None).await.unwrap().value
    }

    async fn act(&self, caller: &Caller, id: ChangeId, action: Action) -> Result<ChangeRecord, ServiceError> {
        self.clock.advance_ms(1_000);
        self.service.act(caller, id, action, ActionRequest::default(), None).await.map(|outcome| outcome.value)
    }

    async fn submitted(&self, caller: &Caller, input: NewChange) -> ChangeRecord {
        let created = self.create(caller, input).await;
        self.act(caller, created.id, Action::Submit).await.unwrap()
    }

    async fn denials(&self) -> usize {
        let events = self.store.events_after(0, 100_000).await.unwrap();
        events.iter().filter(|event| event.event_type == "access_denied").count()
    }
}

fn forbidden(result: Result<ChangeRecord, ServiceError>) -> String {
    match result {
        Err(ServiceError::Forbidden(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_normal_change_needs_one_peer_and_the_decision_is_recorded_with_both_hashes() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        // Given a normal change to a tier-3 service, when it is submitted,
        let change = world.submitted(&world.rita, change("catalog", "normal")).await;
        // then the policy asks for one approver and records what decided.
        assert_eq!(change.state, ChangeState::Assessed);
        let assessment = change.assessment.as_ref().unwrap();
        assert_eq!(assessment.required_approvals.len(), 1);
        assert_eq!(assessment.required_approvals[0].role, "approver");
        assert_eq!(assessment.policy_sha256.as_deref().map(str::len), Some(64));
        assert_eq!(assessment.input_sha256.as_deref().map(str::len), Some(64));
        assert!(assessment.rule.starts_with("policy:"));
        // The requester cannot approve; an approver can.
        forbidden(world.act(&world.rita, change.id, Action::Approve).await);
        let approved = world.act(&world.olga, change.id, Action::Approve).await.unwrap();
        assert_eq!(approved.state, ChangeState::Approved);
        assert_eq!(approved.approvals[0].team.as_ref().map(|team| team.as_str()), Some("ops"));
    }
}

#[tokio::test]
async fn separation_of_duties_holds_for_scoped_high_risk_changes() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        // Given a large normal change without test evidence to checkout (tier 1, pci scope): high
        // risk, so the owner team (shop) plus security are required, and pci needs security
        // evidence.
        let mut input = large_untested(change("checkout", "normal"));
        input.security_evidence = Some("SAST clean".into());
        input.security_critical_findings = Some(0);
        let change = world.submitted(&world.rita, input).await;
        assert_eq!(change.state, ChangeState::Assessed, "{:?}", change.denied);
        assert_eq!(change.assessment.as_ref().unwrap().risk_class, changegate_core::RiskClass::High);
        let roles: Vec<&str> = change
            .assessment
            .as_ref()
            .unwrap()
            .required_approvals
            .iter()
            .map(|required| required.role.as_str())
            .collect();
        assert!(roles.contains(&"team:shop") && roles.contains(&"security"), "{roles:?}");

        // An approver outside the owner team fills nothing: refused and recorded.
        let denials = world.denials().await;
        let reason = forbidden(world.act(&world.olga, change.id, Action::Approve).await);
        assert!(reason.contains("holds none"), "{reason}");
        assert_eq!(world.denials().await, denials + 1);

        // One person fills at most one requirement: `dual` (approver + security, team ops) fills
        // security; sam (team shop) fills the team; a second security person adds nothing.
        let after_dual = world.act(&world.dual, change.id, Action::Approve).await.unwrap();
        assert_eq!(after_dual.state, ChangeState::Assessed);
        let reason = forbidden(world.act(&world.sec, change.id, Action::Approve).await);
        assert!(reason.contains("one person fills at most one"), "{reason}");
        // The team's approval comes from someone who is both an approver and a requester (so
        // could implement changes in general).
        let sami = world.add_user("sami", &["approver", "requester"], Some("shop")).await;
        let approved = world.act(&sami, change.id, Action::Approve).await.unwrap();
        assert_eq!(approved.state, ChangeState::Approved);

        // Whoever approved a scoped change does not implement it.
        world.act(&world.rita, change.id, Action::Schedule).await.unwrap();
        let reason = forbidden(world.act(&sami, change.id, Action::Start).await);
        assert!(reason.contains("cannot implement"), "{reason}");
        let started = world.act(&world.ivan, change.id, Action::Start).await.unwrap();
        assert_eq!(started.implementer.as_ref().map(|name| name.as_str()), Some("ivan"));
    }
}

#[tokio::test]
async fn the_implementer_of_a_scoped_emergency_does_not_approve_it_retrospectively() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let mut input = change("checkout", "emergency");
        input.justification = Some("card payments fail for every customer".into());
        input.security_evidence = Some("SAST clean".into());
        let change = world.submitted(&world.rita, input).await;
        assert_eq!(change.state, ChangeState::Assessed, "{:?}", change.denied);
        // An SRE who is also a security person implements it...
        let sre = world.add_user("ivy", &["requester", "security"], Some("ops")).await;
        let started = world.act(&sre, change.id, Action::Start).await.unwrap();
        assert!(started.retrospective_due.is_some());
        // ...and may not approve it afterwards.
        let reason = forbidden(world.act(&sre, change.id, Action::Approve).await);
        assert!(reason.contains("implements"), "{reason}");
    }
}

/// Regression: every refusal appended an `access_denied` event, unthrottled (one fuzzing pass
/// added 5,773). Identical refusals in a window are folded and counted in the next one recorded.
#[tokio::test]
async fn repeated_identical_refusals_are_folded_and_counted() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let denials = world.denials().await;
        let input = || NewService { name: "sneaky".into(), team: "shop".into(), tier: 3, ..NewService::default() };
        for _ in 0..10 {
            let error = world.service.register_service(&world.rita, input(), None).await.unwrap_err();
            assert!(matches!(error, ServiceError::Forbidden(_)), "{error}");
        }
        assert_eq!(world.denials().await, denials + 1, "ten identical refusals, one event");
        // Another refusal is recorded at once.
        world.service.register_service(&world.sam, input(), None).await.unwrap_err();
        assert_eq!(world.denials().await, denials + 2);
        // After the window, the next identical refusal is recorded and says what it stands for.
        world.clock.advance_ms(changegate_service::DENIAL_WINDOW_MS);
        world.service.register_service(&world.rita, input(), None).await.unwrap_err();
        assert_eq!(world.denials().await, denials + 3);
        let events = world.store.events_after(0, 100_000).await.unwrap();
        let last = events.iter().rev().find(|event| event.event_type == "access_denied").unwrap();
        assert_eq!(last.actor, "rita");
        assert!(last.payload.contains("\"repeats_folded\":9"), "{}", last.payload);
        let first = events.iter().find(|event| event.event_type == "access_denied").unwrap();
        assert!(!first.payload.contains("repeats_folded"), "nothing folded, no field: {}", first.payload);
    }
}

/// Regression: `javascript:` and `data:` links were stored, and control characters were accepted
/// in links and code metrics while refused everywhere else.
#[tokio::test]
async fn scripted_links_and_control_characters_are_refused_and_write_nothing() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let events = world.store.event_count().await.unwrap();
        for (field, input) in [
            ("links", NewChange { links: vec!["javascript:alert(1)".into()], ..change("catalog", "normal") }),
            ("links", NewChange { links: vec!["DATA:text/html,<b>x</b>".into()], ..change("catalog", "normal") }),
            ("links", NewChange { links: vec!["https://x/\u{0}".into()], ..change("catalog", "normal") }),
            ("pipeline_url", NewChange { pipeline_url: Some("javascript:x".into()), ..change("catalog", "normal") }),
            (
                "code_metrics",
                NewChange { code_metrics: Some(serde_json::json!({"la": "\u{7}"})), ..change("catalog", "normal") },
            ),
        ] {
            let error = world.service.create_change(&world.rita, input, None).await.unwrap_err();
            assert!(error.fields().iter().any(|error| error.field == field), "{field}: {error}");
        }
        assert_eq!(world.store.event_count().await.unwrap(), events, "refusals write nothing");
        let fine = NewChange {
            links: vec!["https://ci.example.com/runs/1".into(), "PROJ-7".into()],
            ..change("catalog", "normal")
        };
        world.service.create_change(&world.rita, fine, None).await.unwrap();
    }
}

#[tokio::test]
async fn an_emergency_without_justification_is_refused_and_an_overdue_one_is_flagged_once() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let error = world.service.create_change(&world.rita, change("catalog", "emergency"), None).await.unwrap_err();
        assert!(error.fields().iter().any(|field| field.field == "justification"), "{error}");

        let mut input = change("catalog", "emergency");
        input.justification = Some("the catalog returns 500 for every request".into());
        let change = world.submitted(&world.rita, input).await;
        world.act(&world.rita, change.id, Action::Start).await.unwrap();
        assert!(world.service.flag_overdue_emergencies().await.unwrap().is_empty(), "not due yet");
        world.clock.advance_ms(25 * HOUR_MS);
        assert_eq!(world.service.flag_overdue_emergencies().await.unwrap(), vec![change.id]);
        assert!(world.service.flag_overdue_emergencies().await.unwrap().is_empty(), "flagged once");
        assert_eq!(world.service.overdue_emergency_count(&world.admin).await.unwrap(), 1);
        let record = world.store.change(change.id).await.unwrap().unwrap();
        assert!(record.emergency_overdue);
        // A late retrospective approval still counts; the review is still missing.
        let approved = world.act(&world.olga, change.id, Action::Approve).await.unwrap();
        assert!(approved.is_approved());
        assert_eq!(world.service.overdue_emergency_count(&world.admin).await.unwrap(), 1);
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_failing_policy_fails_closed_and_waits_for_the_cab() {
    for test_store in every_backend().await {
        let world = world_with(&test_store, GovernanceSettings::default()).await;
        let slow = PolicySource {
            name: "slow.rego".into(),
            text: "package changegate\n\nnumbers := numbers.range(1, 100000000)\n\ndecision := {\"auto_approve\": count([n | some n in numbers; n % 7 == 0]) > 0, \"required_approvals\": [], \"deny\": [], \"warn\": []}\n".into(),
        };
        world
            .service
            .set_policy(&world.admin, vec![slow], Some("a policy too slow for its limit".into()))
            .await
            .unwrap();
        let change = world.submitted(&world.rita, change("blog", "normal")).await;
        assert_eq!(change.state, ChangeState::Assessed);
        let assessment = change.assessment.as_ref().unwrap();
        assert!(assessment.policy_error.as_deref().unwrap_or_default().contains("time"), "{assessment:?}");
        assert!(!change.auto_approved);
        // An approver does not count; a CAB member does.
        let reason = forbidden(world.act(&world.olga, change.id, Action::Approve).await);
        assert!(reason.contains("cab"), "{reason}");
        let cab = world.add_user("carla", &["cab"], None).await;
        assert_eq!(world.act(&cab, change.id, Action::Approve).await.unwrap().state, ChangeState::Approved);
    }
}

#[tokio::test]
async fn policy_versions_are_ledger_events_and_bad_versions_change_nothing() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let (none, default_policy) = world.service.current_policy(&world.admin).await.unwrap();
        assert!(none.is_none());
        let events_before = world.store.event_count().await.unwrap();

        // Not allowed for a requester: refused and recorded.
        let files = vec![PolicySource { name: "p.rego".into(), text: "package changegate\n".into() }];
        assert!(matches!(
            world.service.set_policy(&world.rita, files.clone(), None).await,
            Err(ServiceError::Forbidden(_))
        ));
        // Without the entry point, or with a failing test: a validation error, nothing written.
        assert!(matches!(world.service.set_policy(&world.admin, files, None).await, Err(ServiceError::Validation(_))));
        let failing = vec![PolicySource {
            name: "p.rego".into(),
            text: "package changegate\n\ndecision := {\"auto_approve\": false, \"required_approvals\": [{\"role\": \"cab\", \"count\": 1}], \"deny\": [], \"warn\": []}\n\ntest_always_fails if { false }\n".into(),
        }];
        let error = world.service.set_policy(&world.admin, failing, None).await.unwrap_err();
        assert!(error.to_string().contains("test_always_fails"), "{error}");
        assert_eq!(world.store.event_count().await.unwrap(), events_before + 1, "only the denial");

        // A CAB-for-everything policy: in force at once, recorded with who and why.
        let cab_only = vec![PolicySource {
            name: "cab.rego".into(),
            text: "package changegate\n\ndecision := {\"auto_approve\": false, \"required_approvals\": [{\"role\": \"cab\", \"count\": 1}], \"deny\": [], \"warn\": []}\n".into(),
        }];
        let version = world
            .service
            .set_policy(&world.admin, cab_only, Some("CAB reviews everything this week".into()))
            .await
            .unwrap();
        assert_ne!(version.sha256, default_policy.sha256());
        assert_eq!(version.set_by, "admin");
        let change = world.submitted(&world.rita, change("blog", "normal")).await;
        let assessment = change.assessment.as_ref().unwrap();
        assert_eq!(assessment.policy_sha256.as_deref(), Some(version.sha256.as_str()));
        assert_eq!(assessment.required_approvals[0].role, "cab");
        let events = world.store.events_after(0, 100_000).await.unwrap();
        assert!(events.iter().any(|event| event.event_type == "policy_set" && event.actor == "admin"));
        assert_eq!(world.service.policy_versions(&world.admin).await.unwrap().len(), 1);
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

fn freeze(name: &str, start: Timestamp, end: Timestamp, scope: WindowScope) -> CalendarWindow {
    CalendarWindow {
        name: name.into(),
        kind: WindowKind::Freeze,
        scope,
        schedule: Schedule::OneOff { start, end },
        description: "no changes".into(),
    }
}

#[tokio::test]
async fn templates_auto_approve_standard_changes_until_a_freeze() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let template = NewTemplate {
            name: "restart-pod".into(),
            description: "Restart one pod of a stateless service".into(),
            services: vec!["catalog".into(), "blog".into()],
            environments: vec!["production".into(), "staging".into()],
            max_risk: "low".into(),
            approved: true,
            ..NewTemplate::default()
        };
        // Only admin or cab define templates.
        assert!(matches!(
            world.service.define_template(&world.rita, template.clone()).await,
            Err(ServiceError::Forbidden(_))
        ));
        world.service.define_template(&world.admin, template).await.unwrap();

        let from_template = |service: &str| NewChange {
            template: Some("restart-pod".into()),
            change_type: String::new(),
            ..change(service, "standard")
        };
        // The template fixes the type and is checked against the service and environment.
        let error = world.service.create_change(&world.rita, from_template("checkout"), None).await.unwrap_err();
        assert!(error.fields().iter().any(|field| field.field == "template"), "{error}");
        let error = world
            .service
            .create_change(&world.rita, NewChange { environment: "lab".into(), ..from_template("catalog") }, None)
            .await
            .unwrap_err();
        assert!(error.fields().iter().any(|field| field.field == "environment"), "{error}");

        let standard = world.submitted(&world.rita, from_template("catalog")).await;
        assert_eq!(standard.state, ChangeState::Approved);
        assert!(standard.auto_approved);

        // A global freeze over now: the same change is denied, with the freeze named.
        let now = changegate_core::Clock::now(&*world.clock);
        world
            .service
            .define_window(&world.admin, freeze("year-end", now, now.plus_ms(48 * HOUR_MS), WindowScope::Global))
            .await
            .unwrap();
        let denied = world.submitted(&world.rita, from_template("catalog")).await;
        assert_eq!(denied.state, ChangeState::Rejected);
        assert!(denied.denied.iter().any(|reason| reason.contains("year-end")), "{:?}", denied.denied);
        assert_eq!(denied.assessment.as_ref().unwrap().freeze.as_deref(), Some("year-end"));
        // An emergency may still go, with a warning.
        let mut emergency = change("catalog", "emergency");
        emergency.justification = Some("data corruption in progress".into());
        let allowed = world.submitted(&world.rita, emergency).await;
        assert_eq!(allowed.state, ChangeState::Assessed);
        assert!(allowed.assessment.as_ref().unwrap().warn.iter().any(|warning| warning.contains("year-end")));
        // Removing the freeze lifts it.
        world.service.remove_window(&world.admin, "year-end").await.unwrap();
        assert_eq!(world.submitted(&world.rita, from_template("blog")).await.state, ChangeState::Approved);
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_team_freeze_applies_to_its_services_only() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let now = changegate_core::Clock::now(&*world.clock);
        let scope = WindowScope::Team { name: "web".into() };
        world
            .service
            .define_window(&world.admin, freeze("web-launch", now, now.plus_ms(HOUR_MS * 5), scope))
            .await
            .unwrap();
        assert_eq!(world.submitted(&world.rita, change("blog", "normal")).await.state, ChangeState::Rejected);
        assert_eq!(world.submitted(&world.rita, change("catalog", "normal")).await.state, ChangeState::Assessed);
    }
}

#[tokio::test]
async fn overlapping_planned_windows_conflict_through_dependencies() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let window = |start_hours: i64| {
            let start = START.plus_ms(start_hours * HOUR_MS);
            (Some(start.to_rfc3339()), Some(start.plus_ms(2 * HOUR_MS).to_rfc3339()))
        };
        let planned = |service: &str, start_hours: i64| {
            let (planned_start, planned_end) = window(start_hours);
            NewChange { planned_start, planned_end, ..change(service, "normal") }
        };
        // database at +10h..+12h; catalog depends on database; checkout depends on catalog.
        let database = world.submitted(&world.ivan, planned("database", 10)).await;
        let catalog = world.submitted(&world.rita, planned("catalog", 11)).await;
        assert_eq!(catalog.assessment.as_ref().unwrap().conflicts, vec![database.id.to_string()]);
        // Transitively related, overlapping: conflicts with both.
        let mut checkout_input = planned("checkout", 11);
        checkout_input.security_evidence = Some("clean".into());
        let checkout = world.submitted(&world.rita, checkout_input).await;
        assert_eq!(
            checkout.assessment.as_ref().unwrap().conflicts,
            vec![database.id.to_string(), catalog.id.to_string()]
        );
        // Unrelated service, or no overlap: none.
        assert!(world.submitted(&world.rita, planned("blog", 11)).await.assessment.unwrap().conflicts.is_empty());
        // Touching spans do not overlap: catalog at +12h meets the database change's end.
        let touching = world.submitted(&world.rita, planned("catalog", 12)).await;
        assert_eq!(touching.assessment.unwrap().conflicts, vec![catalog.id.to_string(), checkout.id.to_string()]);
        assert!(world.submitted(&world.rita, planned("catalog", 20)).await.assessment.unwrap().conflicts.is_empty());
        // The conflict warning reached the approver.
        assert!(catalog.assessment.as_ref().unwrap().warn.iter().any(|warning| warning.contains("overlaps")));
        // The live view agrees.
        assert_eq!(
            world.service.change_conflicts(&world.admin, catalog.id).await.unwrap().len(),
            3,
            "database, checkout and the later catalog change"
        );
    }
}

#[tokio::test]
async fn the_inbox_lists_what_each_person_may_approve() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let normal = world.submitted(&world.rita, change("catalog", "normal")).await;
        let mut scoped_input = large_untested(change("checkout", "normal"));
        scoped_input.security_evidence = Some("clean".into());
        let scoped = world.submitted(&world.rita, scoped_input).await;
        let ids = async |caller: &Caller| -> Vec<ChangeId> {
            world.service.approvals_inbox(caller).await.unwrap().iter().map(|item| item.change.id).collect()
        };
        assert_eq!(ids(&world.olga).await, vec![normal.id], "olga is no shop member and no security");
        assert_eq!(ids(&world.sam).await, vec![normal.id, scoped.id]);
        assert_eq!(ids(&world.sec).await, vec![scoped.id]);
        assert!(ids(&world.rita).await.is_empty(), "the requester approves nothing of her own");
        world.act(&world.sec, scoped.id, Action::Approve).await.unwrap();
        assert!(ids(&world.sec).await.is_empty(), "filled");
        assert!(ids(&world.dual).await.contains(&normal.id));
        let _ = &world.admin;
    }
}

#[tokio::test]
async fn a_model_trained_on_the_history_scores_and_explains_new_changes() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        // Given a history where changes without a rollback plan fail and the others succeed,
        for number in 0..90 {
            let risky = number % 3 == 0;
            let input =
                NewChange { rollback_plan: (!risky).then(|| "redeploy".to_owned()), ..change("blog", "normal") };
            let created = world.submitted(&world.rita, input).await;
            world.act(&world.olga, created.id, Action::Approve).await.unwrap();
            for action in [Action::Schedule, Action::Start, Action::Complete] {
                world.act(&world.rita, created.id, action).await.unwrap();
            }
            let last = if risky { Action::Fail } else { Action::Verify };
            world.act(&world.rita, created.id, last).await.unwrap();
            world.clock.advance_ms(HOUR_MS);
        }
        // only an admin trains,
        // (A small history: smaller leaves and every row in every tree.)
        let config = changegate_risk::TrainConfig {
            iterations: 40,
            min_leaf_weight: 1.0,
            subsample: 1.0,
            parallel: false,
            ..Default::default()
        };
        assert!(matches!(world.service.train_risk_model(&world.rita, &config).await, Err(ServiceError::Forbidden(_))));
        let model = world.service.train_risk_model(&world.admin, &config).await.unwrap();
        // and the measured quality comes from the newest 20 % of the history.
        assert_eq!((model.training_rows, model.validation_rows), (90, 18));
        assert!(model.auc.unwrap() > 0.9, "{:?}", model.auc);
        assert_eq!(world.service.risk_models(&world.admin).await.unwrap().len(), 1);

        // A new change records the model's probability and version with its factors,
        let risky = world.submitted(&world.rita, NewChange { rollback_plan: None, ..change("blog", "normal") }).await;
        let safe = world.submitted(&world.rita, change("blog", "normal")).await;
        let probability = |change: &ChangeRecord| change.assessment.as_ref().unwrap().risk_probability.unwrap();
        assert!(probability(&risky) > probability(&safe), "{} vs {}", probability(&risky), probability(&safe));
        let assessment = risky.assessment.as_ref().unwrap();
        assert_eq!(assessment.risk_model.as_deref(), Some(model.version.as_str()));
        let points: f64 = assessment.risk_factors.iter().map(|factor| factor.contribution).sum();
        assert_eq!(assessment.risk_score, Some(points.round() as u32));
        assert!(
            assessment.risk_factors.iter().any(|factor| factor.name == "rollback_plan" && factor.contribution > 0.0)
        );
        // and the explanation adds up to the prediction.
        let report = world.service.explain_risk(&world.admin, risky.id).await.unwrap();
        let (version, explanation) = report.prediction.unwrap();
        assert_eq!(version, model.version);
        let logit = explanation.intercept + explanation.contributions.iter().map(|(_, value)| value).sum::<f64>();
        assert!((logit - explanation.logit).abs() < 1e-6);
        let top =
            explanation.contributions.iter().max_by(|left, right| left.1.abs().total_cmp(&right.1.abs())).unwrap();
        assert_eq!(top.0, "has_rollback_plan", "{:?}", explanation.contributions);
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

/// Regression: approving a change that already has every approval it needs is an illegal
/// transition (409, nothing written), not a separation-of-duties denial.
#[tokio::test]
async fn approving_an_approved_change_is_illegal_and_writes_nothing() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let change = world.submitted(&world.rita, change("catalog", "normal")).await;
        world.act(&world.olga, change.id, Action::Approve).await.unwrap();
        let events = world.store.event_count().await.unwrap();
        let error = world.act(&world.sam, change.id, Action::Approve).await.unwrap_err();
        assert_eq!(error.code(), "illegal_transition", "{error}");
        assert_eq!(world.store.event_count().await.unwrap(), events);
    }
}
