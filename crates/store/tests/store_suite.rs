//! The store suite: the same tests on SQLite and (when reachable) PostgreSQL.

use std::collections::HashMap;
use std::sync::Arc;

use changegate_core::lifecycle::Action;
use changegate_core::{ChangeState, DomainEvent, ManualClock, Name, StreamId, Timestamp};
use changegate_ledger::{
    SubtreeId, inclusion_proof, inclusion_proof_subtrees, leaf_hash, root_from_leaf_hashes, verify_inclusion,
};
use changegate_service::{ActionRequest, Caller, NewChange, NewService, NewUser, Service, ServiceError};
use changegate_store::testing::{TestStore, every_backend};
use changegate_store::{Backend, ChangeFilter, Store, StoreError};

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);

struct World {
    service: Service,
    clock: Arc<ManualClock>,
    admin: Caller,
    alice: Caller,
    bob: Caller,
}

async fn world(test_store: &TestStore) -> World {
    let clock = Arc::new(ManualClock::new(START));
    let service = Service::new(test_store.store.clone(), clock.clone());
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let add = |name: &str, role: &str| NewUser { name: name.into(), roles: vec![role.into()], team: None };
    let alice = service.add_user_locally(&add("alice", "requester")).await.unwrap().caller();
    let bob = service.add_user_locally(&add("bob", "approver")).await.unwrap().caller();
    let new_service = |name: &str, tier: i64| NewService {
        name: name.into(),
        team: "payments".into(),
        tier,
        // No compliance scope: these tests are about the store, not the approval policy.
        scopes: vec![],
        depends_on: vec![],
    };
    service.register_service(&admin, new_service("payments-api", 2), None).await.unwrap();
    service.register_service(&admin, new_service("ledger-db", 1), None).await.unwrap();
    World { service, clock, admin, alice, bob }
}

fn new_change(title: &str, service: &str) -> NewChange {
    NewChange {
        title: title.into(),
        change_type: "normal".into(),
        service: service.into(),
        environment: "production".into(),
        rollback_plan: Some("redeploy the previous release".into()),
        test_evidence: Some("pipeline run 1".into()),
        ..NewChange::default()
    }
}

async fn run_lifecycle(world: &World, title: &str) -> changegate_core::ChangeId {
    let change =
        world.service.create_change(&world.alice, new_change(title, "payments-api"), None).await.unwrap().value;
    for (caller, action) in [
        (&world.alice, Action::Submit),
        (&world.bob, Action::Approve),
        (&world.alice, Action::Schedule),
        (&world.alice, Action::Start),
        (&world.alice, Action::Complete),
        (&world.alice, Action::Verify),
        (&world.alice, Action::Close),
    ] {
        world.clock.advance_ms(60_000);
        world.service.act(caller, change.id, action, ActionRequest::default(), None).await.unwrap();
    }
    change.id
}

#[tokio::test]
async fn opening_twice_migrates_once() {
    for test_store in every_backend().await {
        let again = Store::open(&test_store.location).await.unwrap();
        assert_eq!(again.event_count().await.unwrap(), 0, "{:?}", test_store.backend());
        again.close().await;
    }
}

#[tokio::test]
async fn events_are_contiguous_and_projections_follow() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let id = run_lifecycle(&world, "Bump openssl").await;
        let store = &test_store.store;
        let change = store.change(id).await.unwrap().unwrap();
        assert_eq!(change.state, ChangeState::Closed);
        let events = store.events_after(0, 10_000).await.unwrap();
        for (position, event) in events.iter().enumerate() {
            assert_eq!(event.sequence, position as u64 + 1, "gap-free sequence");
        }
        let stream = store.stream_events(&format!("change/{id}")).await.unwrap();
        let versions: Vec<u64> = stream.iter().map(|event| event.stream_version).collect();
        assert_eq!(versions, (1..=stream.len() as u64).collect::<Vec<_>>());
        assert_eq!(change.version, stream.len() as u64);
        assert!(store.verify_projections().await.unwrap().is_empty(), "{:?}", test_store.backend());
    }
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_events() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        run_lifecycle(&world, "Rotate certificates").await;
        let store = &test_store.store;
        let count = store.event_count().await.unwrap();
        let pool = raw_pool(&test_store).await;
        let update = sqlx::query("UPDATE events SET actor = 'mallory' WHERE sequence = 1").execute(&pool).await;
        assert!(update.is_err(), "UPDATE must be refused on {:?}", test_store.backend());
        let delete = sqlx::query("DELETE FROM events WHERE sequence = 2").execute(&pool).await;
        assert!(delete.is_err(), "DELETE must be refused on {:?}", test_store.backend());
        let node_delete = sqlx::query("DELETE FROM ledger_nodes").execute(&pool).await;
        assert!(node_delete.is_err(), "ledger nodes are append-only on {:?}", test_store.backend());
        if test_store.backend() == Backend::Postgres {
            assert!(sqlx::query("TRUNCATE events").execute(&pool).await.is_err(), "TRUNCATE must be refused");
        }
        assert_eq!(store.event_count().await.unwrap(), count);
        assert_eq!(store.events_after(0, 1).await.unwrap()[0].actor, "system");
    }
}

async fn raw_pool(test_store: &TestStore) -> sqlx::AnyPool {
    let url = match &test_store.location {
        changegate_store::StoreLocation::DataDir(dir) => {
            format!("sqlite://{}", dir.join("changegate.db").display())
        }
        changegate_store::StoreLocation::Postgres(url) => url.clone(),
    };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

#[tokio::test]
async fn a_failed_write_leaves_nothing_behind() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let store = &test_store.store;
        let count = store.event_count().await.unwrap();
        let head = store.ledger_head().await.unwrap();
        let result: Result<(), StoreError> = store
            .write(async |tx| {
                let event =
                    DomainEvent::TeamCreated { name: Name::parse("ghosts").unwrap(), description: String::new() };
                tx.append(&StreamId::Team(Name::parse("ghosts").unwrap()), "admin", START, &event).await?;
                Err(StoreError::Conflict("the body changed its mind".into()))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(store.event_count().await.unwrap(), count);
        assert_eq!(store.ledger_head().await.unwrap(), head);
        assert!(store.teams().await.unwrap().iter().all(|team| team.name.as_str() != "ghosts"));
        // And the store still works afterwards.
        run_lifecycle(&world, "After a rollback").await;
    }
}

#[tokio::test]
async fn the_ledger_root_covers_every_event_and_proofs_verify() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        for number in 0..5 {
            run_lifecycle(&world, &format!("Change {number}")).await;
        }
        let store = &test_store.store;
        let events = store.events_after(0, 10_000).await.unwrap();
        let leaves: Vec<_> = events.iter().map(|event| leaf_hash(&event.leaf_bytes())).collect();
        let head = store.ledger_head().await.unwrap();
        assert_eq!(head.size, events.len() as u64);
        assert_eq!(head.root, root_from_leaf_hashes(&leaves), "{:?}", test_store.backend());
        for index in [0, 1, head.size / 2, head.size - 1] {
            let needed: Vec<SubtreeId> = inclusion_proof_subtrees(index, head.size).unwrap();
            let hashes: HashMap<_, _> = store.subtree_hashes(&needed).await.unwrap();
            let proof = inclusion_proof(index, head.size, &hashes).unwrap();
            verify_inclusion(&leaves[index as usize], index, head.size, &proof, &head.root).unwrap();
        }
    }
}

#[tokio::test]
async fn listing_filters_and_pages() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        for number in 0..7 {
            let service = if number % 2 == 0 { "payments-api" } else { "ledger-db" };
            world
                .service
                .create_change(&world.alice, new_change(&format!("Change {number}"), service), None)
                .await
                .unwrap();
        }
        let store = &test_store.store;
        let mut filter = ChangeFilter { limit: 3, ..ChangeFilter::default() };
        let mut seen = Vec::new();
        loop {
            let page = store.list_changes(&filter).await.unwrap();
            seen.extend(page.changes.iter().map(|change| change.id.number()));
            match page.next_before_id {
                Some(cursor) => filter.before_id = Some(cursor),
                None => break,
            }
        }
        assert_eq!(seen, vec![7, 6, 5, 4, 3, 2, 1], "newest first, every change once");
        let payments =
            ChangeFilter { service: Some(Name::parse("payments-api").unwrap()), limit: 50, ..ChangeFilter::default() };
        assert_eq!(store.list_changes(&payments).await.unwrap().changes.len(), 4);
        let drafts = ChangeFilter { state: Some(ChangeState::Draft), limit: 50, ..ChangeFilter::default() };
        assert_eq!(store.list_changes(&drafts).await.unwrap().changes.len(), 7);
        let counts = store.count_changes_by_state().await.unwrap();
        assert_eq!(counts.len(), 1);
        assert_eq!(counts[0].count, 7);
    }
}

#[tokio::test]
async fn concurrent_writers_never_fork_the_log() {
    for test_store in every_backend().await {
        let world = Arc::new(world(&test_store).await);
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let world = world.clone();
            tasks.push(tokio::spawn(async move {
                for number in 0..5 {
                    let change = new_change(&format!("Worker {worker} change {number}"), "payments-api");
                    let created = world.service.create_change(&world.alice, change, None).await.unwrap().value;
                    world
                        .service
                        .act(&world.alice, created.id, Action::Submit, ActionRequest::default(), None)
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let store = &test_store.store;
        let events = store.events_after(0, 10_000).await.unwrap();
        assert!(events.iter().enumerate().all(|(position, event)| event.sequence == position as u64 + 1));
        let ids: Vec<u64> = store
            .list_changes(&ChangeFilter { limit: 500, ..ChangeFilter::default() })
            .await
            .unwrap()
            .changes
            .iter()
            .map(|change| change.id.number())
            .collect();
        assert_eq!(ids, (1..=40).rev().collect::<Vec<_>>(), "change ids are unique and contiguous");
        let leaves: Vec<_> = events.iter().map(|event| leaf_hash(&event.leaf_bytes())).collect();
        assert_eq!(store.ledger_head().await.unwrap().root, root_from_leaf_hashes(&leaves));
        assert!(store.verify_projections().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn denials_are_recorded_and_refusals_write_nothing_else() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let store = &test_store.store;
        let change =
            world.service.create_change(&world.alice, new_change("Mine", "payments-api"), None).await.unwrap().value;
        world.service.act(&world.alice, change.id, Action::Submit, ActionRequest::default(), None).await.unwrap();
        let before = store.event_count().await.unwrap();
        let error = world
            .service
            .act(&world.alice, change.id, Action::Approve, ActionRequest::default(), None)
            .await
            .unwrap_err();
        assert!(matches!(error, ServiceError::Forbidden(_)), "{error}");
        let events = store.events_after(before, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "access_denied");
        assert_eq!(events[0].actor, "alice");
        // An illegal transition writes nothing at all.
        let error = world
            .service
            .act(&world.alice, change.id, Action::Close, ActionRequest::default(), None)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "illegal_transition");
        assert_eq!(store.event_count().await.unwrap(), before + 1);
        assert_eq!(store.change(change.id).await.unwrap().unwrap().state, ChangeState::Assessed);
        let _ = &world.admin;
    }
}

#[tokio::test]
async fn idempotency_keys_replay_and_refuse_reuse() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let store = &test_store.store;
        let key = changegate_service::IdempotencyKey::new("pipeline-run-42", b"body one").unwrap();
        let first =
            world.service.create_change(&world.alice, new_change("Once", "payments-api"), Some(&key)).await.unwrap();
        let count = store.event_count().await.unwrap();
        let second =
            world.service.create_change(&world.alice, new_change("Once", "payments-api"), Some(&key)).await.unwrap();
        assert!(!first.replayed);
        assert!(second.replayed);
        assert_eq!(first.value.id, second.value.id);
        assert_eq!(store.event_count().await.unwrap(), count, "a replay writes nothing");
        let other = changegate_service::IdempotencyKey::new("pipeline-run-42", b"body two").unwrap();
        let error = world
            .service
            .create_change(&world.alice, new_change("Other", "payments-api"), Some(&other))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "idempotency_key_reused");
        assert_eq!(store.event_count().await.unwrap(), count);
    }
}

#[tokio::test]
async fn a_failing_writer_in_a_group_loses_only_its_own_writes() {
    for test_store in every_backend().await {
        let store = test_store.store.clone();
        let before = store.event_count().await.unwrap();
        let mut tasks = Vec::new();
        for number in 0..24u32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let name = Name::parse(&format!("team-{number}")).unwrap();
                let result: Result<(), StoreError> = store
                    .write(async |tx| {
                        let event = DomainEvent::TeamCreated { name: name.clone(), description: String::new() };
                        tx.append(&StreamId::Team(name.clone()), "admin", START, &event).await?;
                        tokio::task::yield_now().await;
                        if number % 3 == 0 { Err(StoreError::Conflict("this writer fails".into())) } else { Ok(()) }
                    })
                    .await;
                (number, result.is_ok())
            }));
        }
        let mut kept = Vec::new();
        for task in tasks {
            let (number, ok) = task.await.unwrap();
            assert_eq!(ok, number % 3 != 0, "writer {number}");
            if ok {
                kept.push(format!("team-{number}"));
            }
        }
        let mut teams: Vec<String> = store.teams().await.unwrap().iter().map(|team| team.name.to_string()).collect();
        teams.sort();
        kept.sort();
        assert_eq!(teams, kept, "{:?}: exactly the successful writers' teams", test_store.backend());
        let events = store.events_after(0, 10_000).await.unwrap();
        assert_eq!(events.len() as u64, before + kept.len() as u64);
        assert!(events.iter().enumerate().all(|(position, event)| event.sequence == position as u64 + 1), "gap-free");
        let leaves: Vec<_> = events.iter().map(|event| leaf_hash(&event.leaf_bytes())).collect();
        assert_eq!(store.ledger_head().await.unwrap().root, root_from_leaf_hashes(&leaves));
    }
}

#[tokio::test]
async fn a_writer_cancelled_mid_transaction_leaves_nothing_behind() {
    for test_store in every_backend().await {
        let store = test_store.store.clone();
        let before = store.event_count().await.unwrap();
        let slow = store.clone();
        let cancelled = tokio::spawn(async move {
            let _: Result<(), StoreError> = slow
                .write(async |tx| {
                    let name = Name::parse("abandoned").unwrap();
                    let event = DomainEvent::TeamCreated { name: name.clone(), description: String::new() };
                    tx.append(&StreamId::Team(name), "admin", START, &event).await?;
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    Ok(())
                })
                .await;
        });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        cancelled.abort();
        let _ = cancelled.await;
        let name = Name::parse("kept").unwrap();
        store
            .write(async |tx| {
                let event = DomainEvent::TeamCreated { name: name.clone(), description: String::new() };
                tx.append(&StreamId::Team(name.clone()), "admin", START, &event).await.map(|_| ())
            })
            .await
            .unwrap();
        let teams: Vec<String> = store.teams().await.unwrap().iter().map(|team| team.name.to_string()).collect();
        assert_eq!(teams, ["kept"], "{:?}", test_store.backend());
        assert_eq!(store.event_count().await.unwrap(), before + 1);
    }
}

/// A change carried through its lifecycle and an incident linked to it (CHG-000001 and
/// INC-000001), with every projection checked to be the fold of the events before a test doctors
/// one.
async fn projected_history(test_store: &TestStore, title: &str) {
    let world = world(test_store).await;
    run_lifecycle(&world, title).await;
    let incident = changegate_service::NewIncident {
        title: "Errors".into(),
        service: "payments-api".into(),
        severity: "sev3".into(),
        detected_at: None,
        caused_by: Some("CHG-000001".into()),
        downtime_minutes: None,
    };
    world.service.open_incident(&world.alice, incident, None).await.unwrap();
    assert_eq!(
        test_store.store.verify_projections().await.unwrap(),
        Vec::<String>::new(),
        "{:?}",
        test_store.backend()
    );
}

#[tokio::test]
async fn every_projection_is_the_fold_of_the_events_and_a_doctored_row_is_found() {
    for test_store in every_backend().await {
        projected_history(&test_store, "Folded").await;
        let store = &test_store.store;
        // Projections are not append-only (they are derived); a doctored one is found.
        let pool = raw_pool(&test_store).await;
        sqlx::query(
            "UPDATE services SET record = replace(record, '\"tier\":2', '\"tier\":4') WHERE name = 'payments-api'",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("DELETE FROM tokens WHERE user_name = 'bob'").execute(&pool).await.unwrap();
        let differing = store.verify_projections().await.unwrap();
        assert_eq!(differing.len(), 2, "{differing:?}");
        assert_eq!(differing[0], "service/payments-api");
        assert!(differing[1].starts_with("token/tok_"));
    }
}

/// Regression: only the record column was checked, so `UPDATE changes SET state = 'approved'`
/// passed `audit verify` while list filters and `/metrics` counted the change as approved.
#[tokio::test]
async fn a_doctored_filter_column_is_found_beside_its_record() {
    for test_store in every_backend().await {
        projected_history(&test_store, "Columns").await;
        let store = &test_store.store;
        let pool = raw_pool(&test_store).await;
        for doctor in [
            "UPDATE changes SET state = 'approved' WHERE id = 1",
            "UPDATE incidents SET caused_by = NULL WHERE id = 1",
            "UPDATE services SET tier = 1 WHERE name = 'payments-api'",
        ] {
            sqlx::query(doctor).execute(&pool).await.unwrap();
        }
        let differing = store.verify_projections().await.unwrap();
        assert_eq!(
            differing,
            ["change-columns/CHG-000001", "incident-columns/INC-000001", "service-columns/payments-api"],
            "{:?}",
            test_store.backend()
        );
        pool.close().await;
    }
}

fn imported_change(external_id: &str) -> changegate_core::ImportedChange {
    let name = |text: &str| Name::parse(text).unwrap();
    changegate_core::ImportedChange {
        external_id: external_id.into(),
        title: "Imported upgrade".into(),
        change_type: changegate_core::ChangeType::Normal,
        service: name("payments-api"),
        team: name("payments"),
        environment: name("production"),
        requester: name("alice"),
        created_at: Timestamp::from_unix_ms(1_700_000_000_000),
        submitted_at: Some(Timestamp::from_unix_ms(1_700_000_060_000)),
        risk_class: None,
        risk_score: Some(61),
        approved_at: Some(Timestamp::from_unix_ms(1_700_000_600_000)),
        approvers: vec![name("bob")],
        approval_mode: Some(changegate_core::ApprovalMode::Manual),
        started_at: Some(Timestamp::from_unix_ms(1_700_001_000_000)),
        completed_at: Some(Timestamp::from_unix_ms(1_700_001_600_000)),
        outcome: Some(changegate_core::ImportedOutcome::RolledBack),
        rollback_plan: Some(true),
        test_evidence: Some(false),
        security_evidence: None,
        created_by: Some(changegate_core::CreatedBy::Pipeline),
        pir_done: Some(true),
        root_cause: Some("schema drift".into()),
        rollback_automated: Some(true),
        commit_time: Some(Timestamp::from_unix_ms(1_699_990_000_000)),
    }
}

#[tokio::test]
async fn imports_incident_links_alerts_and_hooks_are_projected_as_their_fold() {
    use changegate_core::{ChangeId, IncidentId, LinkProvenance, Severity};
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let store = &test_store.store;
        let at = START;
        let (change_id, incident_id) = (ChangeId::new(900), IncidentId::new(90));
        let name = |text: &str| Name::parse(text).unwrap();
        store
            .write(async |tx| {
                tx.append(
                    &StreamId::Change(change_id),
                    "importer",
                    at,
                    &DomainEvent::ChangeImported { id: change_id, change: imported_change("SNOW-1") },
                )
                .await?;
                let incident = changegate_core::ImportedIncident {
                    external_id: "PD-7".into(),
                    service: name("payments-api"),
                    severity: Severity::Sev2,
                    detected_at: Timestamp::from_unix_ms(1_700_001_700_000),
                    resolved_at: None,
                    downtime_minutes: Some(12),
                    caused_by: None,
                };
                let stream = StreamId::Incident(incident_id);
                tx.append(&stream, "importer", at, &DomainEvent::IncidentImported { id: incident_id, incident })
                    .await?;
                let suggested = DomainEvent::IncidentLinkSuggested { change: change_id, rule: "latest-24h".into() };
                tx.append(&stream, "system", at, &suggested).await?;
                let confirmed = DomainEvent::IncidentLinked {
                    change: change_id,
                    provenance: LinkProvenance::Confirmed,
                    comment: None,
                };
                tx.append(&stream, "alice", at, &confirmed).await?;
                let hook = changegate_core::RollbackHook {
                    target: changegate_core::RollbackTarget::Webhook { url: "http://127.0.0.1:9/rollback".into() },
                    incident_window_ms: 3_600_000,
                };
                let set = DomainEvent::RollbackHookSet { service: name("payments-api"), hook: Some(hook) };
                tx.append(&StreamId::Service(name("payments-api")), "admin", at, &set).await?;
                let rule =
                    DomainEvent::AlertRuleDefined { name: name("high-risk"), rule: serde_json::json!({"kind": "x"}) };
                tx.append(&StreamId::AlertRule(name("high-risk")), "admin", at, &rule).await?;
                let fired = DomainEvent::AlertFired {
                    rule: name("high-risk"),
                    kind: "high_risk_change".into(),
                    subject: format!("change/{change_id}"),
                    key: change_id.to_string(),
                    message: "high risk".into(),
                    details: serde_json::json!({}),
                };
                let firing = tx.append(&StreamId::Alerts, "system", at, &fired).await?;
                let delivered = DomainEvent::AlertDelivered {
                    fired_sequence: firing.sequence,
                    target: "http://127.0.0.1:9/hook".into(),
                    attempt: 1,
                    ok: false,
                    status: Some(503),
                    error: None,
                };
                tx.append(&StreamId::Alerts, "system", at, &delivered).await?;
                let answers = DomainEvent::MaturityAnswered {
                    answers: [("process.roles-published".to_owned(), true)].into(),
                    comment: None,
                };
                tx.append(&StreamId::Maturity, "alice", at, &answers).await?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        let change = store.change(change_id).await.unwrap().unwrap();
        assert_eq!(change.state, ChangeState::RolledBack);
        assert!(change.imported && change.rollback_automated);
        assert_eq!(change.external_id.as_deref(), Some("SNOW-1"));
        assert_eq!(change.assessment.as_ref().unwrap().risk_class, changegate_core::RiskClass::High);
        assert_eq!(change.created_at, Timestamp::from_unix_ms(1_700_000_000_000), "the original time is kept");
        assert_eq!(change.outcome(), Some(changegate_core::ChangeOutcome::RolledBack));
        assert!(change.test_evidence.is_none() && change.rollback_plan.is_some());
        let incident = store.incident(incident_id).await.unwrap().unwrap();
        assert_eq!(incident.caused_by, Some(change_id));
        assert_eq!(incident.provenance, Some(LinkProvenance::Confirmed));
        assert!(incident.suggested_cause.is_none());
        assert!(store.service(&name("payments-api")).await.unwrap().unwrap().rollback_hook.is_some());
        assert_eq!(store.verify_projections().await.unwrap(), Vec::<String>::new(), "{:?}", test_store.backend());
        // The same external id cannot be imported twice: the database refuses it too.
        let again = store
            .write(async |tx| {
                let id = ChangeId::new(901);
                let event = DomainEvent::ChangeImported { id, change: imported_change("SNOW-1") };
                tx.append(&StreamId::Change(id), "importer", at, &event).await?;
                Ok::<_, StoreError>(())
            })
            .await;
        assert!(again.is_err(), "a duplicate external id must be refused on {:?}", test_store.backend());
        drop(world);
    }
}
