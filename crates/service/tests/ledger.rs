//! The audit ledger against a real store, on every backend: checkpoints, proofs, and tampering
//! (with the append-only triggers dropped, as an attacker with database access would) that
//! verification must catch and locate.

use std::sync::Arc;

use changegate_core::lifecycle::Action;
use changegate_core::{ManualClock, Timestamp};
use changegate_ledger::{NoteSigner, leaf_hash, open_checkpoint, verify_consistency, verify_inclusion};
use changegate_service::{ActionRequest, CheckpointPolicy, NewChange, NewService, NewUser, Service};
use changegate_store::testing::{TestStore, every_backend};
use changegate_store::{Backend, StoreLocation};

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);

fn signer(seed: u8) -> NoteSigner {
    NoteSigner::from_secret_bytes("changegate-test", &[seed; 32]).unwrap()
}

/// A store with some history: users, a service and `changes` changes carried to closed.
async fn history(test_store: &TestStore, changes: usize) -> (Service, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START));
    let service = Service::new(test_store.store.clone(), clock.clone()).with_signer(signer(7));
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let user = |name: &str, role: &str| NewUser { name: name.into(), roles: vec![role.into()], team: None };
    let alice = service.add_user_locally(&user("alice", "requester")).await.unwrap().caller();
    let bob = service.add_user_locally(&user("bob", "approver")).await.unwrap().caller();
    let payments =
        NewService { name: "payments-api".into(), team: "payments".into(), tier: 2, ..NewService::default() };
    service.register_service(&admin, payments, None).await.unwrap();
    for number in 0..changes {
        let input = NewChange {
            title: format!("Change {number}"),
            change_type: "normal".into(),
            service: "payments-api".into(),
            environment: "production".into(),
            rollback_plan: Some("redeploy the previous release".into()),
            ..NewChange::default()
        };
        let change = service.create_change(&alice, input, None).await.unwrap().value;
        for (caller, action) in [(&alice, Action::Submit), (&bob, Action::Approve), (&alice, Action::Schedule)] {
            clock.advance_ms(1_000);
            service.act(caller, change.id, action, ActionRequest::default(), None).await.unwrap();
        }
    }
    (service, clock)
}

async fn raw(test_store: &TestStore, sql: &str) {
    let url = match &test_store.location {
        StoreLocation::DataDir(dir) => format!("sqlite://{}", dir.join("changegate.db").display()),
        StoreLocation::Postgres(url) => url.clone(),
    };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    pool.close().await;
}

async fn drop_triggers(test_store: &TestStore) {
    match test_store.backend() {
        Backend::Sqlite => raw(test_store, "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;").await,
        Backend::Postgres => {
            raw(test_store, "DROP TRIGGER events_append_only ON events; DROP TRIGGER events_no_truncate ON events;")
                .await
        }
    }
}

#[tokio::test]
async fn a_sound_log_verifies_with_its_checkpoints() {
    for test_store in every_backend().await {
        let (service, clock) = history(&test_store, 5).await;
        let first = service
            .checkpoint_now(&service.system_caller(changegate_core::Role::Admin))
            .await
            .unwrap()
            .expect("a first checkpoint");
        assert!(
            service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await.unwrap().is_none(),
            "nothing new: no second checkpoint"
        );
        history_more(&service, &clock).await;
        let second = service
            .checkpoint_now(&service.system_caller(changegate_core::Role::Admin))
            .await
            .unwrap()
            .expect("a second checkpoint");
        assert!(second.size > first.size);
        let verifier = signer(7).verifier();
        let opened = open_checkpoint(&second.note, &verifier).unwrap();
        assert_eq!((opened.size, opened.root), (second.size, second.root));
        let consistency = service
            .consistency_proof(&service.system_caller(changegate_core::Role::Auditor), first.size, second.size)
            .await
            .unwrap();
        verify_consistency(first.size, second.size, &consistency.hashes, &first.root, &second.root).unwrap();
        let entries =
            service.ledger_entries(&service.system_caller(changegate_core::Role::Auditor), 3, 4).await.unwrap();
        let proof = service
            .inclusion_proof(&service.system_caller(changegate_core::Role::Auditor), 3, second.size)
            .await
            .unwrap();
        verify_inclusion(&leaf_hash(&entries[0].1), 3, second.size, &proof.hashes, &second.root).unwrap();
        let report =
            service.verify_ledger(&service.system_caller(changegate_core::Role::Admin), &|_, _| {}).await.unwrap();
        assert!(report.ok, "{report:?}");
        assert_eq!(report.checkpoints_checked, 2);
        let status = service.ledger_status(&service.system_caller(changegate_core::Role::Auditor)).await.unwrap();
        assert_eq!(status.last_verification.unwrap().event_type, "ledger_verified");
    }
}

async fn history_more(service: &Service, clock: &ManualClock) {
    clock.advance_ms(60_000);
    let admin = service.local_caller_as(&changegate_core::Name::parse("admin").unwrap()).await.unwrap().unwrap();
    let extra = NewService { name: "ledger-db".into(), team: "platform".into(), tier: 1, ..NewService::default() };
    service.register_service(&admin, extra, None).await.unwrap();
}

#[tokio::test]
async fn a_second_key_cannot_sign_the_same_log() {
    for test_store in every_backend().await {
        let (service, clock) = history(&test_store, 1).await;
        service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await.unwrap();
        history_more(&service, &clock).await;
        let impostor = Service::new(test_store.store.clone(), clock.clone()).with_signer(signer(9));
        let error = impostor.checkpoint_now(&impostor.system_caller(changegate_core::Role::Admin)).await.unwrap_err();
        assert!(error.to_string().contains("same key"), "{error}");
    }
}

#[tokio::test]
async fn the_policy_signs_after_enough_events_or_time() {
    for test_store in every_backend().await {
        let (service, clock) = history(&test_store, 2).await;
        let policy = CheckpointPolicy { every_events: 1_000, interval_ms: 60_000 };
        assert!(service.checkpoint_if_due(policy).await.unwrap().is_some(), "the first checkpoint is due at once");
        history_more_named(&service, "ledger-db").await;
        assert!(service.checkpoint_if_due(policy).await.unwrap().is_none(), "one event, no time: not yet");
        clock.advance_ms(60_000);
        assert!(service.checkpoint_if_due(policy).await.unwrap().is_some(), "after the interval");
        history_more_named(&service, "search-api").await;
        let eager = CheckpointPolicy { every_events: 1, interval_ms: 3_600_000 };
        assert!(service.checkpoint_if_due(eager).await.unwrap().is_some(), "after N events");
    }
}

#[tokio::test]
async fn a_server_with_another_key_is_refused_before_it_starts() {
    for test_store in every_backend().await {
        let (service, clock) = history(&test_store, 1).await;
        assert!(service.check_signing_key().await.is_ok(), "nothing signed yet: any key");
        service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await.unwrap();
        assert!(service.check_signing_key().await.is_ok(), "the log's own key");
        let impostor = Service::new(test_store.store.clone(), clock.clone()).with_signer(signer(9));
        let refusal = impostor.check_signing_key().await.unwrap_err().to_string();
        assert!(refusal.contains(&signer(7).verifier_key()), "{:?}: {refusal}", test_store.backend());
        let unsigned = Service::new(test_store.store.clone(), clock.clone());
        assert!(unsigned.check_signing_key().await.is_ok(), "no key: checkpoints are simply not signed");
    }
}

async fn history_more_named(service: &Service, name: &str) {
    let admin = service.local_caller_as(&changegate_core::Name::parse("admin").unwrap()).await.unwrap().unwrap();
    let extra = NewService { name: name.into(), team: "platform".into(), tier: 3, ..NewService::default() };
    service.register_service(&admin, extra, None).await.unwrap();
}

/// Runs `tamper` on a fresh history and returns the index verification names.
async fn tampered(tamper: &str) -> Vec<(Backend, Option<u64>, String)> {
    let mut results = Vec::new();
    for test_store in every_backend().await {
        let (service, _clock) = history(&test_store, 4).await;
        service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await.unwrap();
        drop_triggers(&test_store).await;
        raw(&test_store, tamper).await;
        let report = service.verify_ledger_quietly(&|_, _| {}).await.unwrap();
        assert!(!report.ok, "tampering with `{tamper}` went unnoticed on {:?}", test_store.backend());
        results.push((test_store.backend(), report.first_bad_index, report.message));
    }
    results
}

#[tokio::test]
async fn an_altered_byte_is_found_and_named() {
    for (backend, index, message) in
        tampered("UPDATE events SET payload = replace(payload, 'Change 1', 'Change X') WHERE sequence = 14").await
    {
        assert_eq!(index, Some(13), "{backend:?}: {message}");
    }
    // Even a change a JSON parser would forgive (a space) is caught.
    for (backend, index, message) in tampered("UPDATE events SET payload = payload || ' ' WHERE sequence = 3").await {
        assert_eq!(index, Some(2), "{backend:?}: {message}");
    }
}

#[tokio::test]
async fn a_deleted_row_is_found_and_named() {
    for (backend, index, message) in tampered("DELETE FROM events WHERE sequence = 9").await {
        assert_eq!(index, Some(8), "{backend:?}: {message}");
    }
}

#[tokio::test]
async fn swapped_rows_are_found_and_named() {
    let swap = "UPDATE events SET sequence = -1 WHERE sequence = 10;
                UPDATE events SET sequence = 10 WHERE sequence = 11;
                UPDATE events SET sequence = 11 WHERE sequence = -1;";
    for (backend, index, message) in tampered(swap).await {
        assert_eq!(index, Some(9), "{backend:?}: {message}");
    }
}

#[tokio::test]
async fn a_truncated_log_is_found_and_named() {
    for (backend, index, message) in tampered("DELETE FROM events WHERE sequence > 20").await {
        assert_eq!(index, Some(20), "{backend:?}: {message}");
    }
}

#[tokio::test]
async fn a_rewritten_history_that_fixes_its_own_leaf_hashes_still_fails_the_checkpoint() {
    for test_store in every_backend().await {
        let (service, _clock) = history(&test_store, 3).await;
        service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await.unwrap();
        drop_triggers(&test_store).await;
        let drop_nodes = match test_store.backend() {
            Backend::Sqlite => "DROP TRIGGER ledger_nodes_no_update; DROP TRIGGER ledger_nodes_no_delete;",
            Backend::Postgres => "DROP TRIGGER ledger_nodes_append_only ON ledger_nodes;",
        };
        raw(&test_store, drop_nodes).await;
        // Alter event 6 and recompute its stored leaf hash, as a careful attacker would.
        raw(&test_store, "UPDATE events SET actor = 'mallory' WHERE sequence = 6").await;
        let event = test_store.store.events_after(5, 1).await.unwrap().remove(0);
        let hash = leaf_hash(&event.leaf_bytes());
        let hex: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
        let literal = match test_store.backend() {
            Backend::Sqlite => format!("X'{hex}'"),
            Backend::Postgres => format!("decode('{hex}', 'hex')"),
        };
        raw(&test_store, &format!("UPDATE ledger_nodes SET hash = {literal} WHERE level = 0 AND node_index = 5")).await;
        let report = service.verify_ledger_quietly(&|_, _| {}).await.unwrap();
        assert!(!report.ok);
        assert!(report.message.contains("signed checkpoint"), "{}", report.message);
        assert_eq!(report.first_bad_index, Some(0), "no earlier checkpoint vouches for anything");
    }
}

#[tokio::test]
async fn an_entry_appended_behind_the_stores_back_is_found_after_the_tree_head() {
    let append = "INSERT INTO events (sequence, stream, stream_version, event_type, actor, time_ms, schema_version, payload)
                  SELECT sequence + 1, stream, stream_version + 1, event_type, 'mallory', time_ms, schema_version, payload
                  FROM events WHERE sequence = (SELECT MAX(sequence) FROM events)";
    for test_store in every_backend().await {
        let (service, _clock) = history(&test_store, 4).await;
        let size = service.verify_ledger_quietly(&|_, _| {}).await.unwrap().size;
        drop_triggers(&test_store).await;
        raw(&test_store, append).await;
        let report = service.verify_ledger_quietly(&|_, _| {}).await.unwrap();
        let backend = test_store.backend();
        assert!(!report.ok, "{backend:?}: an entry in no tree head went unnoticed");
        assert_eq!(report.first_bad_index, Some(size), "{backend:?}: {}", report.message);
        assert!(report.message.contains(&format!("{} entries", size + 1)), "{backend:?}: {}", report.message);
    }
}

/// Regression: verification read the tree head first and then every event there was by the time
/// it got there, so a write landing meanwhile made it report `ok: false` ("the log has N entries
/// but the tree head records M"), recorded forever and alerted on. It now covers the head's size
/// and checks only that nothing lies beyond a head read at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_under_concurrent_writers_never_cries_wolf() {
    const WRITERS: usize = 3;
    const WRITES_PER_WRITER: usize = 25;
    const VERIFIES_MIN: usize = 12;
    for test_store in every_backend().await {
        let backend = test_store.backend();
        let (service, _clock) = history(&test_store, 2).await;
        // The writers' team exists first, so that each of their writes is exactly one event.
        history_more_named(&service, "warm-up").await;
        let initial = service.verify_ledger_quietly(&|_, _| {}).await.unwrap().size;
        let auditor = service.system_caller(changegate_core::Role::Auditor);
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let service = service.clone();
                tokio::spawn(async move {
                    for write in 0..WRITES_PER_WRITER {
                        history_more_named(&service, &format!("service-{writer}-{write}")).await;
                    }
                })
            })
            .collect();
        let mut reports = Vec::new();
        // Two verifications at a time, recorded as events (themselves writes), until the writers
        // are done and at least `VERIFIES_MIN` ran.
        while reports.len() < VERIFIES_MIN || writers.iter().any(|writer| !writer.is_finished()) {
            let (first, second) =
                tokio::join!(service.verify_ledger(&auditor, &|_, _| {}), service.verify_ledger(&auditor, &|_, _| {}));
            reports.push(first.unwrap());
            reports.push(second.unwrap());
        }
        for writer in writers {
            writer.await.unwrap();
        }
        for report in &reports {
            assert!(report.ok, "{backend:?}: a verification under writes failed: {}", report.message);
        }
        let quiet = service.verify_ledger_quietly(&|_, _| {}).await.unwrap();
        assert!(quiet.ok, "{backend:?}: {}", quiet.message);
        let written = (WRITERS * WRITES_PER_WRITER + reports.len()) as u64;
        assert_eq!(quiet.size, initial + written, "{backend:?}: every write and every verification is one entry");
    }
}

/// Regression: `after` above `i64::MAX` wrapped around in the store and answered from the start.
#[tokio::test]
async fn an_event_cursor_beyond_the_sequence_range_is_refused() {
    for test_store in every_backend().await {
        let (service, _clock) = history(&test_store, 1).await;
        let reader = service.system_caller(changegate_core::Role::Auditor);
        let error = service.events_after(&reader, 9_223_372_036_854_775_808, 10).await.unwrap_err();
        assert_eq!(error.fields().first().map(|field| field.field.as_str()), Some("after"), "{error}");
        assert!(service.events_after(&reader, i64::MAX as u64, 10).await.unwrap().is_empty());
    }
}
