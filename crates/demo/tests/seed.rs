//! Seeding real SQLite stores: the history is sound, follows the approval policy, is
//! deterministic, and only goes into an empty store.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use changegate_core::{ChangeRecord, ChangeState, ChangeType, IncidentRecord, ManualClock, RiskClass, Role, Timestamp};
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

/// Every event is a ledger leaf: the ledger's size is the event count.
async fn event_count(service: &Service) -> u64 {
    service.ledger_status(&service.system_caller(Role::Auditor)).await.expect("ledger status").size
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

/// Per service name: whether it is in pci or hipaa scope (security approval and evidence).
async fn sensitive_services(service: &Service, caller: &Caller) -> BTreeMap<String, bool> {
    let services = service.services(caller).await.expect("services");
    services
        .iter()
        .map(|record| {
            let sensitive = record.scopes.iter().any(|scope| matches!(scope.as_str(), "pci" | "hipaa"));
            (record.name.to_string(), sensitive)
        })
        .collect()
}

/// The lifecycle and policy facts every change must satisfy in its current state; `sensitive`
/// says whether its service is in pci or hipaa scope.
fn check_change(change: &ChangeRecord, sensitive: bool) {
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
        S::Rejected => {
            let by_approver = change.rejected_by.is_some();
            let by_policy = !change.denied.is_empty();
            assert!(by_approver != by_policy, "{id}: rejected by nobody, or by an approver and the policy");
        }
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
    if let Some(assessment) = &change.assessment {
        assert!(assessment.rule.starts_with("policy:"), "{id}: assessed by {}", assessment.rule);
        assert!(assessment.policy_error.is_none(), "{id}: {:?}", assessment.policy_error);
        assert_eq!(assessment.deny, change.denied, "{id}: the recorded denial is the policy's");
        let low_standard = change.change_type == ChangeType::Standard && assessment.risk_class == RiskClass::Low;
        let auto = low_standard && change.denied.is_empty() && !sensitive;
        assert_eq!(change.auto_approved, auto, "{id}: auto-approval does not match the policy");
    }
    // Every approval counts: it fills a requirement nobody else fills, and in a compliance scope
    // the implementer never approves (nor does an approver implement).
    if let Some(status) = change.approval_status()
        && !change.approvals.is_empty()
    {
        assert!(status.refused.is_empty(), "{id}: refused approvals {:?}", status.refused);
        assert_eq!(status.assigned.len(), change.approvals.len(), "{id}: an approval that fills nothing");
        let scoped = change.assessment.as_ref().is_some_and(|assessment| assessment.scoped);
        if let (true, Some(implementer)) = (scoped, &change.implementer) {
            assert!(change.approvals.iter().all(|approval| approval.approver != *implementer), "{id}: SoD");
        }
    }
    match change.change_type {
        ChangeType::Standard => assert!(change.template.is_some(), "{id}: a standard change without template"),
        ChangeType::Emergency => assert!(change.justification.is_some(), "{id}: an emergency without justification"),
        ChangeType::Normal => assert!(change.template.is_none(), "{id}: a normal change from a template"),
    }
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
    let sensitive = sensitive_services(&service, &caller).await;
    for (position, change) in changes.iter().enumerate() {
        assert_eq!(change.id.number(), position as u64 + 1);
        check_change(change, sensitive[change.service.as_str()]);
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
    // Routine work is standard where its risk allows; riskier routines are filed as normal.
    let types = |kind: ChangeType| changes.iter().filter(|change| change.change_type == kind).count();
    assert!(types(ChangeType::Standard) * 5 > changes.len(), "{} standard changes", types(ChangeType::Standard));
    assert!(types(ChangeType::Normal) > types(ChangeType::Emergency));
    assert!(types(ChangeType::Standard) > types(ChangeType::Emergency));

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

    assert!(
        service.verify_projections(&service.system_caller(Role::Auditor)).await.expect("projections verify").is_empty()
    );
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

/// A year of history, so that it holds the end-of-year freeze, Black Friday week and payments'
/// quarter-end closes.
fn a_year(seed: u64) -> DemoConfig {
    DemoConfig { seed, change_count: 1_500, months: 12, end: Timestamp::from_unix_ms(END), show_progress: false }
}

/// How many of `changes` needed an approval by a role that `role` accepts and got every
/// approval they needed from people.
fn approved_requiring(changes: &[&ChangeRecord], role: impl Fn(&str) -> bool) -> usize {
    changes
        .iter()
        .filter(|change| !change.auto_approved && change.is_approved())
        .filter(|change| {
            let required = change.assessment.as_ref().map(|assessment| &assessment.required_approvals[..]);
            required.unwrap_or_default().iter().any(|required| role(&required.role))
        })
        .count()
}

#[tokio::test]
async fn the_history_follows_the_approval_policy() {
    let config = a_year(21);
    let (_directory, service, summary, caller) = seeded(&config).await;
    let changes = all_changes(&service, &caller).await;
    assert_eq!(changes.len(), 1_500);
    let sensitive = sensitive_services(&service, &caller).await;
    for change in &changes {
        check_change(change, sensitive[change.service.as_str()]);
    }

    // Templates: a handful per team, one retired; standard changes name them.
    let templates = service.templates(&caller).await.expect("templates");
    assert_eq!(templates.len(), summary.templates);
    assert!(templates.len() >= 4 * summary.teams, "{} templates", templates.len());
    assert_eq!(templates.iter().filter(|template| !template.approved).count(), 1);
    let names: BTreeSet<String> = templates.iter().map(|template| template.name.to_string()).collect();
    for change in changes.iter().filter(|change| change.change_type == ChangeType::Standard) {
        let template = change.template.as_ref().expect("a standard change names its template");
        assert!(names.contains(template.as_str()), "{}: unknown template {template}", change.id);
    }

    // The calendar: a change window per team, global freezes and a team freeze.
    let windows = service.calendar_windows(&caller).await.expect("calendar windows");
    assert_eq!(windows.len(), summary.calendar_windows);
    let kind_and_scope = |record: &changegate_core::CalendarWindowRecord| {
        let kind = record.window["kind"].as_str().unwrap_or_default().to_owned();
        let scope = record.window["scope"]["kind"].as_str().unwrap_or_default().to_owned();
        (kind, scope)
    };
    let count = |kind: &str, scope: &str| {
        windows.iter().filter(|record| kind_and_scope(record) == (kind.to_owned(), scope.to_owned())).count()
    };
    assert_eq!(count("maintenance", "team"), summary.teams);
    assert!(count("freeze", "global") >= 3, "the year-end freeze and Black Friday weeks");
    assert!(count("freeze", "team") >= 1, "a team freeze");

    let assessed: Vec<&ChangeRecord> = changes.iter().filter(|change| change.assessment.is_some()).collect();
    let denied: Vec<&ChangeRecord> = assessed.iter().copied().filter(|change| !change.denied.is_empty()).collect();
    let auto = assessed.iter().filter(|change| change.auto_approved).count();
    assert!(auto * 20 > assessed.len(), "{auto} of {} auto-approved", assessed.len());
    assert!(!denied.is_empty() && denied.len() * 12 < assessed.len(), "{} of {} denied", denied.len(), assessed.len());
    let by_freeze =
        denied.iter().filter(|change| change.denied.iter().any(|reason| reason.starts_with("freeze"))).count();
    assert!(by_freeze >= 1, "no change was denied by a freeze");
    assert!(denied.iter().any(|change| change.denied.iter().any(|reason| reason.contains("rollback plan"))));
    assert!(denied.iter().any(|change| change.denied.iter().any(|reason| reason.contains("security evidence"))));
    let emergencies_in_freeze = assessed
        .iter()
        .filter(|change| change.change_type == ChangeType::Emergency && change.denied.is_empty())
        .filter(|change| change.assessment.as_ref().is_some_and(|assessment| assessment.freeze.is_some()))
        .count();
    assert!(emergencies_in_freeze >= 1, "no emergency change during a freeze");

    // Approvals by role, satisfied.
    assert!(approved_requiring(&assessed, |role| role == "security") >= 10, "few security approvals");
    assert!(approved_requiring(&assessed, |role| role.starts_with("team:")) >= 10, "few owner-team approvals");
    assert!(approved_requiring(&assessed, |role| role == "cab|security") >= 1, "no CAB approval");

    // Most planned changes are planned inside their team's change window.
    let planned: Vec<&&ChangeRecord> =
        assessed.iter().filter(|change| change.change_type != ChangeType::Emergency).collect();
    assert!(planned.iter().all(|change| change.planned_start.is_some()), "a planned change without a window");
    let outside = planned
        .iter()
        .filter(|change| {
            let warnings = &change.assessment.as_ref().expect("assessed").warn;
            warnings.iter().any(|warning| warning == "planned outside a maintenance window")
        })
        .count();
    assert!(outside * 3 < planned.len(), "{outside} of {} planned outside a change window", planned.len());

    // Emergency deadlines: a few were flagged overdue (and some of the last days still wait).
    let flagged = changes.iter().filter(|change| change.emergency_overdue).count();
    assert!(flagged >= 1, "no overdue emergency change");
    assert_eq!(flagged, summary.overdue_emergencies);
    assert!(changes.iter().filter(|change| change.emergency_overdue).all(|change| change.retrospective_due.is_some()));
    let emergencies = changes.iter().filter(|change| change.change_type == ChangeType::Emergency).count();
    assert!(flagged * 5 < emergencies, "{flagged} of {emergencies} emergencies overdue");

    assert!(
        service.verify_projections(&service.system_caller(Role::Auditor)).await.expect("projections verify").is_empty()
    );
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
    let events = event_count(&service).await;
    match seed(&service, &config).await {
        Err(DemoError::NotEmpty(count)) => assert_eq!(count, 30),
        other => panic!("seeding twice must be refused, got {other:?}"),
    }
    assert_eq!(event_count(&service).await, events, "a refusal writes nothing");
}

#[tokio::test]
async fn a_store_with_another_policy_in_force_is_refused() {
    let (_directory, service) = fresh_service().await;
    let admin = service.bootstrap_admin("alice").await.expect("the first admin");
    let caller = admin.caller();
    // The default policy with a local edit: another version, which the plan cannot predict.
    let text = format!("{}\n# local edit: stricter rules to come\n", changegate_policy::engine::DEFAULT_POLICY_REGO);
    let file = changegate_core::PolicySource { name: "changegate.rego".into(), text };
    service.set_policy(&caller, vec![file], None).await.expect("the edited policy is set");
    let events = event_count(&service).await;
    assert!(matches!(seed(&service, &small(1)).await, Err(DemoError::PolicyNotDefault(_))));
    assert_eq!(event_count(&service).await, events, "a refusal writes nothing");
}

#[tokio::test]
async fn bad_configurations_are_refused() {
    let (_directory, service) = fresh_service().await;
    let config = DemoConfig { months: 0, ..small(1) };
    assert!(matches!(seed(&service, &config).await, Err(DemoError::Config(_))));
    assert_eq!(event_count(&service).await, 0);
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
