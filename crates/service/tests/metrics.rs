//! Delivery metrics through the service, on every backend: a small history made through the
//! service (deployments, a failure, a rollback, an incident with an explicit link and one with a
//! suggestion only) gives the numbers docs/metrics.md defines; later events reach the cached index
//! without a rebuild, also in a second service instance over the same store; bad filters are
//! refused with the field named.

use std::sync::Arc;

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ManualClock, Timestamp};
use changegate_service::{
    ActionRequest, Caller, Command, GovernanceSettings, IncidentResolution, MetricsParams, MetricsQuery, NewChange,
    NewIncident, NewService, NewUser, Service, ServiceError, parse_metrics_query,
};
use changegate_store::testing::{TestStore, every_backend};

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
use changegate_core::civil::MINUTE_MS;

struct World {
    service: Service,
    clock: Arc<ManualClock>,
    alice: Caller,
    bob: Caller,
}

async fn world(test_store: &TestStore) -> World {
    let clock = Arc::new(ManualClock::new(START));
    let settings = GovernanceSettings { attribution_window_ms: 24 * 60 * MINUTE_MS, ..GovernanceSettings::default() };
    let service = Service::new(test_store.store.clone(), clock.clone()).with_governance_settings(settings);
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let add = |name: &str, role: &str| NewUser { name: name.into(), roles: vec![role.into()], team: None };
    let alice = service.add_user_locally(&add("alice", "requester")).await.unwrap().caller();
    let bob = service.add_user_locally(&add("bob", "approver")).await.unwrap().caller();
    for (name, team) in [("payments-api", "payments"), ("search", "discovery")] {
        let input = NewService { name: name.into(), team: team.into(), tier: 3, scopes: vec![], depends_on: vec![] };
        service.register_service(&admin, input, None).await.unwrap();
    }
    World { service, clock, alice, bob }
}

/// How a change made by [`change`] ends.
#[derive(Clone, Copy)]
enum Ending {
    /// Completed and verified.
    Verified,
    /// Completed, not verified yet.
    Completed,
    /// Failed while being implemented.
    FailedDuringImplementation,
    /// Completed, failed verification and was rolled back.
    RolledBack,
}

/// A normal change of `service` in `environment`, one minute per step: created, then submitted,
/// approved, scheduled, started and completed five minutes later (or failed at that step).
async fn change(world: &World, service: &str, environment: &str, ending: Ending) -> ChangeId {
    let input = NewChange {
        title: format!("Deploy {service}"),
        change_type: "normal".into(),
        service: service.into(),
        environment: environment.into(),
        rollback_plan: Some("redeploy the previous release".into()),
        test_evidence: Some("pipeline run 1".into()),
        ..NewChange::default()
    };
    let id = world.service.create_change(&world.alice, input, None).await.unwrap().value.id;
    let mut steps = vec![
        (&world.alice, Action::Submit),
        (&world.bob, Action::Approve),
        (&world.alice, Action::Schedule),
        (&world.alice, Action::Start),
    ];
    match ending {
        Ending::Verified => steps.extend([(&world.alice, Action::Complete), (&world.alice, Action::Verify)]),
        Ending::Completed => steps.push((&world.alice, Action::Complete)),
        Ending::FailedDuringImplementation => steps.push((&world.alice, Action::Fail)),
        Ending::RolledBack => steps.extend([
            (&world.alice, Action::Complete),
            (&world.alice, Action::Fail),
            (&world.alice, Action::Rollback),
        ]),
    }
    for (caller, action) in steps {
        world.clock.advance_ms(MINUTE_MS);
        world.service.act(caller, id, action, ActionRequest::default(), None).await.unwrap();
    }
    id
}

fn incident(service: &str, caused_by: Option<ChangeId>, downtime_minutes: u32) -> NewIncident {
    NewIncident {
        title: "Errors".into(),
        service: service.into(),
        severity: "2".into(),
        detected_at: None,
        caused_by: caused_by.map(|id| id.to_string()),
        downtime_minutes: Some(downtime_minutes),
    }
}

fn names(service: Option<&str>, team: Option<&str>) -> MetricsQuery {
    MetricsQuery { service: service.map(Into::into), team: team.map(Into::into), ..MetricsQuery::default() }
}

#[tokio::test]
async fn a_small_history_gives_the_documented_numbers_and_new_events_are_caught_up() {
    for test_store in every_backend().await {
        let backend = test_store.backend();
        // Given five production deployments: two verified and one completed but not verified yet,
        // one failed during implementation, one rolled back; and a staging change
        let world = world(&test_store).await;
        let first = change(&world, "payments-api", "production", Ending::Verified).await;
        let second = change(&world, "payments-api", "production", Ending::Verified).await;
        change(&world, "payments-api", "production", Ending::FailedDuringImplementation).await;
        change(&world, "payments-api", "production", Ending::RolledBack).await;
        let unverified = change(&world, "search", "production", Ending::Completed).await;
        change(&world, "search", "staging", Ending::Verified).await;
        // And an incident explicitly caused by the second deployment, resolved after 30 minutes,
        // and one on search whose cause is only suggested
        world.clock.advance_ms(MINUTE_MS);
        let explicit = world.service.open_incident(&world.alice, incident("payments-api", Some(second), 30), None);
        let explicit = explicit.await.unwrap().value;
        world.clock.advance_ms(30 * MINUTE_MS);
        let resolution = IncidentResolution { downtime_minutes: Some(30), ..IncidentResolution::default() };
        let resolve = Command::ResolveIncident { incident: explicit.id, resolution };
        world.service.incident_command(&world.alice, resolve).await.unwrap();
        let suggested = world.service.open_incident(&world.alice, incident("search", None, 15), None).await;
        let suggested = suggested.unwrap().value;
        assert_eq!(suggested.suggested_cause.as_ref().map(|cause| cause.change), Some(unverified), "{backend:?}");

        // When the metrics are asked for
        let report = world.service.metrics(&world.alice, &MetricsQuery::default()).await.unwrap();

        // Then the staging change is no deployment, the completed one is a success, the failed,
        // rolled-back and incident-causing ones are failures, and only the explicit link counts
        let totals = &report.totals;
        assert_eq!(totals.deployments, 5, "{backend:?}");
        assert_eq!(totals.failed_deployments, 3);
        assert_eq!(totals.change_failure_rate, Some(0.6));
        assert_eq!(totals.change_success_rate, Some(0.4));
        assert_eq!(totals.change_related_incidents, 1);
        assert_eq!(totals.downtime_minutes_from_changes, 30);
        assert_eq!(totals.mttr_hours, Some(0.5));
        assert_eq!(totals.changes_by_type.normal, 5);
        // Lead time (created → completed) is five minutes for the three successful outcomes, and
        // approval (submitted → approved) one minute for all five.
        assert_eq!(totals.lead_time_median_hours, Some(0.083));
        assert_eq!(totals.approval_time_median_hours, Some(0.017));
        let by_service: Vec<(&str, u64)> =
            report.by_service.iter().map(|row| (row.name.as_str(), row.metrics.deployments)).collect();
        assert_eq!(by_service, vec![("payments-api", 4), ("search", 1)]);
        let by_team: Vec<&str> = report.by_team.iter().map(|row| row.name.as_str()).collect();
        assert_eq!(by_team, vec!["discovery", "payments"]);
        assert_eq!(report.mtbf_hours_by_service.get("payments-api"), Some(&None));
        let first_record = test_store.store.change(first).await.unwrap().unwrap();
        let period = report.period.as_ref().unwrap();
        assert!(period.from_ms <= first_record.completed_at.unwrap().unix_ms());
        // Filters by service and by team, and the filter names for forms
        let payments = world.service.metrics(&world.alice, &names(Some("payments-api"), None)).await.unwrap();
        assert_eq!(payments.totals.deployments, 4);
        let discovery = world.service.metrics(&world.alice, &names(None, Some("discovery"))).await.unwrap();
        assert_eq!(discovery.totals.deployments, 1);
        let filters = world.service.metrics_names(&world.alice).await.unwrap();
        assert_eq!(filters.services, vec!["payments-api", "search"]);
        assert!(filters.environments.contains(&"staging".to_owned()));
        let status = world.service.metrics_cache_status(&world.alice).await;
        assert_eq!((status.builds, status.deployments, status.incidents), (1, 5, 2));
        let covered = status.covered_sequence;
        assert_eq!(covered, test_store.store.ledger_head().await.unwrap().size);

        // When another deployment happens and the suggestion is confirmed
        change(&world, "search", "production", Ending::Verified).await;
        let confirm = Command::ConfirmIncidentLink { incident: suggested.id, comment: None };
        world.service.incident_command(&world.alice, confirm).await.unwrap();
        let report = world.service.metrics(&world.alice, &MetricsQuery::default()).await.unwrap();

        // Then both are in the next report, caught up from the new events without a rebuild
        assert_eq!(report.totals.deployments, 6);
        assert_eq!(report.totals.change_related_incidents, 2);
        assert_eq!(report.totals.failed_deployments, 4);
        assert_eq!(report.totals.downtime_minutes_from_changes, 45);
        let status = world.service.metrics_cache_status(&world.alice).await;
        assert_eq!(status.builds, 1, "{backend:?}");
        assert!(status.covered_sequence > covered);
        assert_eq!(status.covered_sequence, test_store.store.ledger_head().await.unwrap().size);
        assert_eq!(status.refreshed_records, 2, "the new change and the incident, once each");

        // And a second instance over the same store (another server on one PostgreSQL) agrees,
        // and follows the first one's later writes
        let other = Service::new(test_store.store.clone(), world.clock.clone());
        assert_eq!(other.metrics(&world.alice, &MetricsQuery::default()).await.unwrap(), report);
        change(&world, "payments-api", "production", Ending::Verified).await;
        let followed = other.metrics(&world.alice, &MetricsQuery::default()).await.unwrap();
        assert_eq!(followed.totals.deployments, 7);
        assert_eq!(other.metrics_cache_status(&world.alice).await.builds, 1);
    }
}

#[tokio::test]
async fn bad_filters_are_refused_with_the_field_named_and_write_nothing() {
    for test_store in every_backend().await {
        // Given a store with one deployment
        let world = world(&test_store).await;
        change(&world, "payments-api", "production", Ending::Verified).await;
        let events = test_store.store.event_count().await.unwrap();

        // When the filters name a service, team or environment this store never heard of
        let cases = [
            (names(Some("billing"), None), "service"),
            (names(None, Some("nobody")), "team"),
            (MetricsQuery { environment: Some("moon".into()), ..MetricsQuery::default() }, "environment"),
        ];
        for (query, field) in cases {
            let refused = world.service.metrics(&world.alice, &query).await;
            // Then each is refused naming its field, rather than answered with an empty report
            let Err(ServiceError::Validation(fields)) = refused else { panic!("{field}: {refused:?}") };
            assert_eq!(fields[0].field, field);
            assert!(fields[0].message.contains("is known here"), "{}", fields[0].message);
        }
        // And a period that ends before it starts is refused before any query
        let reversed =
            MetricsParams { from: Some("2026-02-01".into()), to: Some("2026-01-01".into()), ..Default::default() };
        let refused = parse_metrics_query(&reversed);
        assert!(matches!(refused, Err(ServiceError::Validation(_))), "{refused:?}");
        // And a known name with no deployments in a period is an empty report, not an error
        let query = MetricsQuery { from_ms: Some(0), to_ms: Some(86_400_000), ..names(Some("search"), None) };
        let empty = world.service.metrics(&world.alice, &query).await.unwrap();
        assert_eq!(empty.totals.deployments, 0);
        assert_eq!(empty.totals.change_failure_rate, None);
        assert_eq!(test_store.store.event_count().await.unwrap(), events);
    }
}
