//! Incidents and attribution, on every backend: the rule suggests the latest successful
//! production change of the service inside the window; a person confirms or rejects; only
//! explicit and confirmed links are counted causes.

use std::sync::Arc;

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, LinkProvenance, ManualClock, Timestamp};
use changegate_service::{
    ActionRequest, Caller, Command, GovernanceSettings, IncidentResolution, IncidentUpdate, NewChange, NewIncident,
    NewService, NewUser, Service, ServiceError,
};
use changegate_store::testing::{TestStore, every_backend};

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
use changegate_core::civil::HOUR_MS;

struct World {
    service: Service,
    clock: Arc<ManualClock>,
    alice: Caller,
    bob: Caller,
    auditor: Caller,
}

async fn world(test_store: &TestStore, window_ms: i64) -> World {
    let clock = Arc::new(ManualClock::new(START));
    let settings = GovernanceSettings { attribution_window_ms: window_ms, ..GovernanceSettings::default() };
    let service = Service::new(test_store.store.clone(), clock.clone()).with_governance_settings(settings);
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let add = |name: &str, role: &str| NewUser { name: name.into(), roles: vec![role.into()], team: None };
    let alice = service.add_user_locally(&add("alice", "requester")).await.unwrap().caller();
    let bob = service.add_user_locally(&add("bob", "approver")).await.unwrap().caller();
    let auditor = service.add_user_locally(&add("audrey", "auditor")).await.unwrap().caller();
    for name in ["payments-api", "search"] {
        let input =
            NewService { name: name.into(), team: "payments".into(), tier: 3, scopes: vec![], depends_on: vec![] };
        service.register_service(&admin, input, None).await.unwrap();
    }
    World { service, clock, alice, bob, auditor }
}

/// A change of `service` in `environment` taken through to `completed` (and failed when asked).
async fn deploy(world: &World, service: &str, environment: &str, fail: bool) -> ChangeId {
    let input = NewChange {
        title: format!("Deploy {service}"),
        change_type: "normal".into(),
        service: service.into(),
        environment: environment.into(),
        rollback_plan: Some("redeploy the previous release".into()),
        test_evidence: Some("pipeline run 1".into()),
        ..NewChange::default()
    };
    let change = world.service.create_change(&world.alice, input, None).await.unwrap().value;
    let mut steps = vec![
        (&world.alice, Action::Submit),
        (&world.bob, Action::Approve),
        (&world.alice, Action::Schedule),
        (&world.alice, Action::Start),
    ];
    steps.push((&world.alice, if fail { Action::Fail } else { Action::Complete }));
    for (caller, action) in steps {
        world.clock.advance_ms(60_000);
        world.service.act(caller, change.id, action, ActionRequest::default(), None).await.unwrap();
    }
    change.id
}

fn incident(service: &str, detected_at: Option<Timestamp>, caused_by: Option<ChangeId>) -> NewIncident {
    NewIncident {
        title: "Checkout errors".into(),
        service: service.into(),
        severity: "2".into(),
        detected_at: detected_at.map(Timestamp::to_rfc3339),
        caused_by: caused_by.map(|id| id.to_string()),
        downtime_minutes: Some(15),
    }
}

#[tokio::test]
async fn the_rule_suggests_the_latest_successful_production_change_inside_the_window() {
    for test_store in every_backend().await {
        // Given two successful production deployments of payments-api, a later failed one, one on
        // staging and one on another service, with a 2 h window
        let world = world(&test_store, 2 * HOUR_MS).await;
        let _older = deploy(&world, "payments-api", "production", false).await;
        let latest_good = deploy(&world, "payments-api", "production", false).await;
        let _failed = deploy(&world, "payments-api", "production", true).await;
        let _staging = deploy(&world, "payments-api", "staging", false).await;
        let _other = deploy(&world, "search", "production", false).await;
        world.clock.advance_ms(10 * 60_000);
        // When an incident of payments-api is opened without a cause
        let opened = world.service.open_incident(&world.alice, incident("payments-api", None, None), None).await;
        let record = opened.unwrap().value;
        // Then the latest successful production change is suggested, and it is not a counted cause
        let suggested = record.suggested_cause.as_ref().expect("a suggestion");
        assert_eq!(suggested.change, latest_good, "{:?}", test_store.backend());
        assert!(suggested.rule.contains("within 2 h"), "{}", suggested.rule);
        assert_eq!(record.caused_by, None);
        assert_eq!(record.link(), Some((latest_good, LinkProvenance::Suggested)));
        assert_eq!(record.downtime_minutes, Some(15));

        // Given an incident detected after the window has passed
        world.clock.advance_ms(3 * HOUR_MS);
        let late = world.service.open_incident(&world.alice, incident("payments-api", None, None), None).await;
        // Then nothing is suggested
        assert_eq!(late.unwrap().value.suggested_cause, None);
        assert_eq!(test_store.store.verify_projections().await.unwrap(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn confirming_counts_the_link_and_rejecting_moves_to_the_next_candidate() {
    for test_store in every_backend().await {
        let world = world(&test_store, 24 * HOUR_MS).await;
        let first = deploy(&world, "payments-api", "production", false).await;
        let second = deploy(&world, "payments-api", "production", false).await;
        world.clock.advance_ms(60_000);
        let opened = world.service.open_incident(&world.alice, incident("payments-api", None, None), None).await;
        let id = opened.unwrap().value.id;

        // When the suggestion (the second change) is rejected
        let reject = Command::RejectIncidentLink { incident: id, comment: Some("config only".into()) };
        let record = world.service.incident_command(&world.alice, reject).await.unwrap();
        // Then the first change is suggested instead, and the second is remembered as rejected
        assert_eq!(record.rejected_causes, vec![second]);
        assert_eq!(record.suggested_cause.as_ref().map(|suggested| suggested.change), Some(first));

        // When that suggestion is confirmed
        let confirm = Command::ConfirmIncidentLink { incident: id, comment: None };
        let record = world.service.incident_command(&world.bob, confirm).await;
        // Then an approver without an incident role is refused and nothing changes
        assert!(matches!(record, Err(ServiceError::Forbidden(_))), "{record:?}");
        let confirm = Command::ConfirmIncidentLink { incident: id, comment: None };
        let record = world.service.incident_command(&world.alice, confirm).await.unwrap();
        assert_eq!(record.caused_by, Some(first));
        assert_eq!(record.provenance, Some(LinkProvenance::Confirmed));
        assert_eq!(record.suggested_cause, None);

        // And confirming again is a conflict that writes nothing
        let count = test_store.store.event_count().await.unwrap();
        let again =
            world.service.incident_command(&world.alice, Command::ConfirmIncidentLink { incident: id, comment: None });
        assert!(matches!(again.await, Err(ServiceError::Conflict(_))));
        assert_eq!(test_store.store.event_count().await.unwrap(), count);
        assert_eq!(test_store.store.verify_projections().await.unwrap(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn explicit_links_updates_and_resolution() {
    for test_store in every_backend().await {
        let world = world(&test_store, 24 * HOUR_MS).await;
        let change = deploy(&world, "payments-api", "production", false).await;
        let other = deploy(&world, "search", "production", false).await;
        world.clock.advance_ms(60_000);
        // Given an incident opened with an explicit cause: nothing is suggested
        let detected = Timestamp::from_unix_ms(changegate_core::Clock::now(world.clock.as_ref()).unix_ms() - 120_000);
        let opened = world
            .service
            .open_incident(&world.alice, incident("payments-api", Some(detected), Some(change)), None)
            .await;
        let record = opened.unwrap().value;
        assert_eq!(record.link(), Some((change, LinkProvenance::Explicit)));
        assert_eq!(record.suggested_cause, None);

        // When it is relinked explicitly to another change, updated and resolved with downtime
        let link = Command::LinkIncident { incident: record.id, change: other.to_string(), comment: None };
        let record = world.service.incident_command(&world.alice, link).await.unwrap();
        assert_eq!(record.link(), Some((other, LinkProvenance::Explicit)));
        let update =
            IncidentUpdate { severity: Some("sev1".into()), title: Some("Outage".into()), ..Default::default() };
        let record =
            world.service.incident_command(&world.alice, Command::UpdateIncident { incident: record.id, update }).await;
        let record = record.unwrap();
        assert_eq!((record.severity.level(), record.title.as_str()), (1, "Outage"));
        world.clock.advance_ms(60_000);
        let resolution = IncidentResolution {
            downtime_minutes: Some(42),
            comment: Some("rolled back".into()),
            ..Default::default()
        };
        let record = world
            .service
            .incident_command(&world.alice, Command::ResolveIncident { incident: record.id, resolution })
            .await
            .unwrap();
        assert_eq!(record.downtime_minutes, Some(42));
        assert!(record.resolved_at.is_some());

        // Then bad input is refused with the field named, and writes nothing
        let count = test_store.store.event_count().await.unwrap();
        let bad = [
            Command::LinkIncident { incident: record.id, change: "CHG-999999".into(), comment: None },
            Command::LinkIncident { incident: record.id, change: "nonsense".into(), comment: None },
            Command::UpdateIncident { incident: record.id, update: IncidentUpdate::default() },
            Command::UpdateIncident {
                incident: record.id,
                update: IncidentUpdate { severity: Some("5".into()), ..Default::default() },
            },
            Command::UpdateIncident {
                incident: record.id,
                update: IncidentUpdate { downtime_minutes: Some(10_000_000), ..Default::default() },
            },
        ];
        for command in bad {
            let result = world.service.incident_command(&world.alice, command).await;
            assert!(matches!(result, Err(ServiceError::Validation(_))), "{result:?}");
        }
        let refused = world
            .service
            .incident_command(&world.auditor, Command::RejectIncidentLink { incident: record.id, comment: None })
            .await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))));
        // The refusal itself is recorded (access_denied), nothing else.
        assert_eq!(test_store.store.event_count().await.unwrap(), count + 1);
        assert_eq!(test_store.store.verify_projections().await.unwrap(), Vec::<String>::new());
    }
}
