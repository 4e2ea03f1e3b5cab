//! Seeding real SQLite stores: the history is sound, deterministic, and only goes into an empty
//! store.

use std::collections::BTreeMap;
use std::sync::Arc;

use changegate_core::{ChangeRecord, ChangeState, ChangeType, IncidentRecord, ManualClock, RiskClass, Timestamp};
use changegate_demo::{DemoConfig, DemoError, DemoSummary, seed};
use changegate_service::{Caller, ChangeQuery, Service};
use changegate_store::{Store, StoreLocation};

/// 2026-11-26T10:00:00Z, a Thursday.
const END: i64 = 1_795_687_200_000;

async fn fresh_service() -> (tempfile::TempDir, Service) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(&StoreLocation::DataDir(directory.path().to_path_buf())).await.expect("the store opens");
    let service = Service::new(store, Arc::new(ManualClock::new(Timestamp::from_unix_ms(END))));
    (directory, service)
}

fn small(seed: u64) -> DemoConfig {
    DemoConfig { seed, change_count: 400, months: 3, end: Timestamp::from_unix_ms(END), show_progress: false }
}

async fn all_changes(service: &Service, caller: &Caller) -> Vec<ChangeRecord> {
    let mut changes = Vec::new();
    let mut cursor = None;
    loop {
        let query = ChangeQuery { limit: Some(500), cursor: cursor.clone(), ..ChangeQuery::default() };
        let page = service.list_changes(caller, &query).await.expect("changes list");
        changes.extend(page.changes);
        match page.next_before_id {
            Some(id) => cursor = Some(id.to_string()),
            None => break,
        }
    }
    changes.reverse();
    changes
}

async fn seeded(config: &DemoConfig) -> (tempfile::TempDir, Service, DemoSummary, Caller) {
    let (directory, service) = fresh_service().await;
    let summary = seed(&service, config).await.expect("the demo seeds");
    let caller = service.authenticate(&summary.admin_token).await.expect("the admin token works");
    (directory, service, summary, caller)
}

/// The lifecycle facts every change must satisfy in its current state.
fn check_change(change: &ChangeRecord) {
    use ChangeState as S;
    let id = change.id;
    for approval in &change.approvals {
        assert_ne!(approval.approver, change.requester, "{id}: approved by its own requester");
    }
    if let Some(rejecter) = &change.rejected_by {
        assert_ne!(*rejecter, change.requester, "{id}: rejected by its own requester");
    }
    let submitted = !matches!(change.state, S::Draft) && change.submitted_at.is_some();
    match change.state {
        S::Draft => assert!(change.submitted_at.is_none(), "{id}: a draft was submitted"),
        S::Cancelled => assert!(change.started_at.is_none(), "{id}: cancelled after it started"),
        S::Assessed => assert!(change.assessment.is_some() && !change.is_approved(), "{id}: assessed but approved"),
        S::Rejected => assert!(change.rejected_by.is_some(), "{id}: rejected by nobody"),
        S::Approved | S::Scheduled => assert!(change.is_approved(), "{id}: {} without approval", change.state),
        S::Implementing | S::Implemented | S::Verified | S::Failed | S::RolledBack | S::Closed => {
            assert!(submitted && change.started_at.is_some(), "{id}: {} but never started", change.state);
            if change.change_type != ChangeType::Emergency {
                assert!(change.is_approved(), "{id}: started without approval");
            }
        }
        S::Submitted => panic!("{id}: submitted changes are assessed at once"),
    }
    if change.state == S::RolledBack {
        assert!(change.failed_at.is_some(), "{id}: rolled back without failing");
    }
    if change.state == S::Closed {
        if change.failed_at.is_some() {
            let root_cause = change.review.as_ref().and_then(|review| review.root_cause.as_ref());
            assert!(root_cause.is_some(), "{id}: a failed change closed without a root cause");
        } else {
            assert!(change.verified_at.is_some(), "{id}: closed without verification");
        }
        if change.change_type == ChangeType::Emergency {
            assert!(change.is_approved() && change.review.is_some(), "{id}: emergency closed without approval + PIR");
        }
    }
    let low_standard = change.change_type == ChangeType::Standard
        && change.assessment.as_ref().is_some_and(|assessment| assessment.risk_class == RiskClass::Low);
    assert_eq!(change.auto_approved, low_standard, "{id}: auto-approval does not match the rule");
    assert!(change.created_at.unix_ms() <= END && change.updated_at.unix_ms() <= END, "{id}: in the future");
    assert!(change.created_at <= change.updated_at, "{id}: updated before it was created");
}

#[tokio::test]
async fn a_small_seed_builds_a_sound_history() {
    let config = small(7);
    let (_directory, service, summary, caller) = seeded(&config).await;

    assert!(summary.teams >= 6, "{} teams", summary.teams);
    assert!(summary.services >= 30, "{} services", summary.services);
    assert_eq!(summary.changes, 400);
    assert_eq!(summary.tokens.len(), summary.users);
    assert_eq!(summary.tokens[0].1, summary.admin_token);
    assert_eq!(service.teams(&caller).await.expect("teams").len(), summary.teams);
    let services = service.services(&caller).await.expect("services");
    assert_eq!(services.len(), summary.services);
    assert!(services.iter().any(|service| service.tier.value() == 1) && services.iter().any(|s| s.tier.value() == 4));
    assert_eq!(service.users(&caller).await.expect("users").len(), summary.users);

    let changes = all_changes(&service, &caller).await;
    assert_eq!(changes.len(), 400);
    for (position, change) in changes.iter().enumerate() {
        assert_eq!(change.id.number(), position as u64 + 1);
        check_change(change);
    }
    assert!(changes.windows(2).all(|pair| pair[0].created_at <= pair[1].created_at), "ids follow creation order");
    let mut by_state: BTreeMap<ChangeState, usize> = BTreeMap::new();
    for change in &changes {
        *by_state.entry(change.state).or_default() += 1;
    }
    for state in [ChangeState::Closed, ChangeState::Verified, ChangeState::Rejected] {
        assert!(by_state.contains_key(&state), "no {state} change: {by_state:?}");
    }
    let open = [
        ChangeState::Draft,
        ChangeState::Assessed,
        ChangeState::Approved,
        ChangeState::Scheduled,
        ChangeState::Implementing,
    ];
    assert!(open.iter().any(|state| by_state.contains_key(state)), "no live work: {by_state:?}");
    let failed = changes.iter().filter(|change| change.failed_at.is_some()).count();
    let started = changes.iter().filter(|change| change.started_at.is_some()).count();
    assert!(failed * 100 > started * 4 && failed * 100 < started * 25, "{failed} of {started} failed");
    let types = |kind: ChangeType| changes.iter().filter(|change| change.change_type == kind).count();
    assert!(types(ChangeType::Standard) > types(ChangeType::Normal));
    assert!(types(ChangeType::Normal) > types(ChangeType::Emergency));

    let incidents = service.incidents(&caller, 500).await.expect("incidents");
    assert_eq!(incidents.len(), summary.incidents);
    for incident in &incidents {
        if let Some(cause) = incident.caused_by {
            let change = &changes[cause.number() as usize - 1];
            let failed_at = change.failed_at.expect("an incident's change failed");
            assert!(incident.detected_at >= failed_at, "{} detected before {cause} failed", incident.id);
        }
        if let Some(resolved_at) = incident.resolved_at {
            assert!(resolved_at >= incident.detected_at);
        }
    }

    assert!(service.store().verify_projections().await.expect("projections verify").is_empty());
    let dashboard = service.dashboard(&caller).await.expect("dashboard");
    assert_eq!(dashboard.total_changes, 400);
    assert_eq!(dashboard.ledger.size, summary.events, "the summary counts every event, the admin's too");

    // After the organisation is set up, the event log reads chronologically.
    let mut after = 0;
    let mut last = Timestamp::from_unix_ms(i64::MIN);
    let mut change_events = 0;
    loop {
        let events = service.events_after(&caller, after, 1_000).await.expect("events");
        let Some(tail) = events.last() else { break };
        after = tail.sequence;
        for event in events.iter().filter(|event| event.stream.starts_with("change/")) {
            assert!(event.time >= last, "event {} goes back in time", event.sequence);
            last = event.time;
            change_events += 1;
        }
    }
    assert!(change_events > 400 * 3);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_history_and_another_seed_another() {
    let config = small(11);
    let (_first_directory, first, _, first_caller) = seeded(&config).await;
    let (_second_directory, second, _, second_caller) = seeded(&config).await;
    let (_other_directory, other, _, other_caller) = seeded(&DemoConfig { seed: 12, ..config.clone() }).await;

    let json = |changes: &[ChangeRecord]| serde_json::to_string(changes).expect("changes serialise");
    let incidents_json = |incidents: &[IncidentRecord]| serde_json::to_string(incidents).expect("incidents serialise");
    let first_changes = json(&all_changes(&first, &first_caller).await);
    assert_eq!(first_changes, json(&all_changes(&second, &second_caller).await));
    assert_ne!(first_changes, json(&all_changes(&other, &other_caller).await));
    assert_eq!(
        incidents_json(&first.incidents(&first_caller, 500).await.expect("incidents")),
        incidents_json(&second.incidents(&second_caller, 500).await.expect("incidents"))
    );
    let users = |users: Vec<changegate_core::UserRecord>| serde_json::to_string(&users).expect("users serialise");
    let first_users = users(first.users(&first_caller).await.expect("users"));
    assert_eq!(first_users, users(second.users(&second_caller).await.expect("users")));
    assert_ne!(first_users, users(other.users(&other_caller).await.expect("users")));
}

#[tokio::test]
async fn a_store_with_changes_is_refused() {
    let config = DemoConfig { change_count: 30, months: 1, ..small(3) };
    let (_directory, service, summary, _) = seeded(&config).await;
    assert_eq!(summary.changes, 30);
    let events = service.store().event_count().await.expect("event count");
    match seed(&service, &config).await {
        Err(DemoError::NotEmpty(count)) => assert_eq!(count, 30),
        other => panic!("seeding twice must be refused, got {other:?}"),
    }
    assert_eq!(service.store().event_count().await.expect("event count"), events, "a refusal writes nothing");
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let (_directory, service) = fresh_service().await;
    let config = DemoConfig { months: 0, ..small(1) };
    assert!(matches!(seed(&service, &config).await, Err(DemoError::Config(_))));
    assert_eq!(service.store().event_count().await.expect("event count"), 0);
}

#[tokio::test]
async fn a_store_with_users_but_no_changes_gets_a_demo_admin_and_live_work_at_any_hour() {
    let (_directory, service) = fresh_service().await;
    service.bootstrap_admin("alice").await.expect("the first admin");
    // 2026-11-29T03:00:00Z, a Sunday night: nobody works, yet the dashboard has live work.
    let end = Timestamp::from_unix_ms(END + 3 * 86_400_000 - 7 * 3_600_000);
    let config = DemoConfig { end, ..small(5) };
    let summary = seed(&service, &config).await.expect("the demo seeds next to an existing admin");
    assert_eq!(summary.tokens[0].0, changegate_demo::DEMO_ADMIN_NAME);
    let caller = service.authenticate(&summary.admin_token).await.expect("the demo admin token works");
    let changes = all_changes(&service, &caller).await;
    let live = changes.iter().filter(|change| {
        matches!(
            change.state,
            ChangeState::Draft | ChangeState::Assessed | ChangeState::Scheduled | ChangeState::Implementing
        )
    });
    assert!(live.count() >= 3, "too little live work at a quiet hour");
    assert!(changes.iter().all(|change| change.updated_at <= end));
}
