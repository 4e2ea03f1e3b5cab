//! Alerts and automated rollback through the service, on every backend: rules are validated and
//! a bad one writes nothing; a rules file is written only when it differs; every rule kind fires
//! on its trigger and once per key; a delivery to a local receiver is retried after a 503 and
//! every attempt is recorded; a service's rollback hook (webhook or command) runs once per change
//! however often it is triggered, and the change ends rolled back automatically.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use changegate_core::lifecycle::Action;
use changegate_core::{
    AlertFiringRecord, ChangeId, ChangeRecord, ChangeState, DomainEvent, LinkProvenance, ManualClock, RollbackTarget,
    StreamId, Timestamp,
};
use changegate_service::{
    ActionRequest, AlertKind, AlertSettings, Caller, NewChange, NewIncident, NewService, NewUser, RollbackHookRequest,
    Service, ServiceError,
};
use changegate_store::Store;
use changegate_store::WriteTx;
use changegate_store::testing::{TestStore, every_backend};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
use changegate_core::civil::HOUR_MS;

/// A local webhook receiver: answers each request with the next status of its script (the last
/// one repeats) and keeps every JSON body it received.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

async fn receiver(statuses: &[u16]) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let script = statuses.to_vec();
    let kept = bodies.clone();
    tokio::spawn(async move {
        let mut served = 0usize;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let status = script[served.min(script.len() - 1)];
            served += 1;
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Read the head, then as many body bytes as Content-Length says.
            let body = loop {
                let read = socket.read(&mut buffer).await.unwrap_or(0);
                if read == 0 {
                    break Vec::new();
                }
                request.extend_from_slice(&buffer[..read]);
                let Some(end) = request.windows(4).position(|window| window == b"\r\n\r\n") else { continue };
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse().ok())
                    .unwrap_or(0);
                while request.len() < end + 4 + length {
                    let read = socket.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..read]);
                }
                break request[end + 4..].to_vec();
            };
            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                kept.lock().unwrap().push(value);
            }
            let answer = format!("HTTP/1.1 {status} Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    Receiver { url, bodies }
}

impl Receiver {
    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

struct World {
    service: Service,
    /// The store under the service, for checks the service does not offer.
    store: Store,
    clock: Arc<ManualClock>,
    admin: Caller,
    rita: Caller,
}

async fn world(test_store: &TestStore) -> World {
    let clock = Arc::new(ManualClock::new(START));
    let settings = AlertSettings {
        backoff_base_ms: 20,
        backoff_max_ms: 200,
        attempt_timeout_ms: 5_000,
        ..AlertSettings::default()
    };
    let service = Service::new(test_store.store.clone(), clock.clone()).with_alert_settings(settings);
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let rita = service
        .add_user_locally(&NewUser { name: "rita".into(), roles: vec!["requester".into()], team: Some("shop".into()) })
        .await
        .unwrap()
        .caller();
    for (name, tier, scopes) in [("catalog", 3, vec![]), ("checkout", 1, vec!["pci".to_owned()])] {
        let input = NewService { name: name.into(), team: "shop".into(), tier, scopes, depends_on: vec![] };
        service.register_service(&admin, input, None).await.unwrap();
    }
    World { service, store: test_store.store.clone(), clock, admin, rita }
}

fn change(service: &str, change_type: &str) -> NewChange {
    NewChange {
        title: format!("A {change_type} change to {service}"),
        change_type: change_type.into(),
        service: service.into(),
        environment: "production".into(),
        rollback_plan: Some("redeploy the previous release".into()),
        test_evidence: Some("pipeline run 7: 812 tests passed".into()),
        justification: (change_type == "emergency").then(|| "the catalog returns 500 for every request".into()),
        ..NewChange::default()
    }
}

impl World {
    async fn act(&self, id: ChangeId, action: Action) -> ChangeRecord {
        self.clock.advance_ms(1_000);
        self.service.act(&self.rita, id, action, ActionRequest::default(), None).await.unwrap().value
    }

    /// A large normal change without test evidence to checkout (tier 1): assessed high risk.
    async fn high_risk_change(&self) -> ChangeRecord {
        let mut input = change("checkout", "normal");
        input.test_evidence = None;
        input.code_metrics = Some(json!({"la": 1500, "ld": 200, "nf": 30}));
        input.security_evidence = Some("SAST clean".into());
        input.security_critical_findings = Some(0);
        let created = self.service.create_change(&self.rita, input, None).await.unwrap().value;
        self.act(created.id, Action::Submit).await
    }

    /// An emergency change to catalog, started (emergencies may start once assessed).
    async fn started_emergency(&self) -> ChangeRecord {
        let created = self.service.create_change(&self.rita, change("catalog", "emergency"), None).await.unwrap().value;
        self.act(created.id, Action::Submit).await;
        self.act(created.id, Action::Start).await
    }

    async fn define(&self, name: &str, rule: Value) {
        self.service
            .define_alert_rule(&self.admin, name, &rule)
            .await
            .unwrap_or_else(|error| panic!("{name}: {error}"));
    }

    async fn head(&self) -> u64 {
        self.store.ledger_head().await.unwrap().size
    }

    async fn react(&self, cursor: u64) -> u64 {
        let mut cursor = cursor;
        loop {
            let next = self.service.react_to_events(cursor).await.unwrap();
            if next == cursor {
                return cursor;
            }
            cursor = next;
        }
    }

    async fn firings(&self) -> Vec<AlertFiringRecord> {
        self.service.alert_firings(&self.admin, 500).await.unwrap()
    }

    async fn count(&self, event_type: &str) -> usize {
        let events = self.store.events_after(0, 10_000).await.unwrap();
        events.iter().filter(|event| event.event_type == event_type).count()
    }

    async fn open_incident(&self, severity: &str, caused_by: ChangeId) {
        let input = NewIncident {
            title: "checkout errors".into(),
            service: "catalog".into(),
            severity: severity.into(),
            detected_at: None,
            caused_by: Some(caused_by.to_string()),
            downtime_minutes: None,
        };
        self.service.open_incident(&self.rita, input, None).await.unwrap();
    }
}

/// Waits until `done` holds for the firing of `rule` (deliveries run in the background).
async fn wait_for_firing(world: &World, rule: &str, done: impl Fn(&AlertFiringRecord) -> bool) -> AlertFiringRecord {
    for _ in 0..500 {
        if let Some(firing) = world.firings().await.into_iter().find(|firing| firing.rule.as_str() == rule)
            && done(&firing)
        {
            return firing;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the firing of {rule} never reached the expected state: {:?}", world.firings().await);
}

#[tokio::test]
async fn a_delivery_is_retried_after_a_503_and_every_attempt_is_recorded() {
    for test_store in every_backend().await {
        // Given a receiver that answers 503 and then 200, and a rule posting to it
        let hook = receiver(&[503, 200]).await;
        let world = world(&test_store).await;
        tokio::spawn(world.service.alert_delivery_worker().expect("the first worker starts"));
        assert!(world.service.alert_delivery_worker().is_none(), "one worker per service");
        world.define("risky", json!({"kind": "high_risk_change", "webhooks": [hook.url]})).await;
        let cursor = world.head().await;
        // When a high-risk change is submitted and the engine reacts
        let change = world.high_risk_change().await;
        let cursor = world.react(cursor).await;
        // Then it fired once, and its delivery failed once and then succeeded
        let firing = wait_for_firing(&world, "risky", |firing| firing.delivered()).await;
        assert_eq!(firing.key, change.id.to_string());
        assert_eq!(firing.subject, format!("change/{}", change.id));
        let attempts: Vec<(u32, bool, Option<u16>)> =
            firing.deliveries.iter().map(|delivery| (delivery.attempt, delivery.ok, delivery.status)).collect();
        assert_eq!(attempts, vec![(1, false, Some(503)), (2, true, Some(200))]);
        assert_eq!(world.count("alert_fired").await, 1);
        assert_eq!(world.count("alert_delivered").await, 2);
        // And each attempt posted the payload with a Slack-compatible text
        let bodies = hook.bodies();
        assert_eq!(bodies.len(), 2);
        for body in &bodies {
            assert!(body["text"].as_str().unwrap().contains(&change.id.to_string()), "{body}");
            assert_eq!(body["rule"], "risky");
            assert_eq!(body["kind"], "high_risk_change");
            assert_eq!(body["sequence"], firing.sequence);
            assert_eq!(body["link"], format!("/changes/{}", change.id));
            assert!(body["fired_at"].is_string() && body["details"]["risk_class"].is_string(), "{body}");
        }
        // And reacting to the same events again fires nothing new
        world.react(0).await;
        world.react(cursor).await;
        assert_eq!(world.count("alert_fired").await, 1);
        let metrics = world.service.process_metrics();
        assert_eq!(metrics.alert_firings, 1);
        assert!(metrics.decisions.iter().map(|(_, count)| count).sum::<u64>() >= 1);
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn every_rule_kind_fires_on_its_trigger_and_once_per_key() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        world.define("risky", json!({"kind": "high_risk_change", "min_class": "high"})).await;
        world.define("only-critical", json!({"kind": "high_risk_change", "min_class": "critical"})).await;
        world.define("slow", json!({"kind": "approval_overdue", "after_hours": 4})).await;
        world.define("late", json!({"kind": "emergency_retrospective_overdue"})).await;
        world.define("ledger", json!({"kind": "ledger_verification_failed"})).await;
        world.define("rate", json!({"kind": "change_failure_rate", "threshold": 0.4, "window_hours": 24})).await;
        world
            .define(
                "rate-checkout",
                json!({"kind": "change_failure_rate", "service": "checkout", "threshold": 0.1, "window_hours": 24}),
            )
            .await;
        world.define("dora", json!({"kind": "compliance_violation", "frameworks": ["eu-dora"]})).await;
        let mut cursor = world.head().await;
        let fired = |firings: &[AlertFiringRecord], rule: &str| {
            firings.iter().filter(|firing| firing.rule.as_str() == rule).count()
        };

        // A high-risk change: `risky` fires, `only-critical` does not.
        let risky = world.high_risk_change().await;
        assert_eq!(risky.state, ChangeState::Assessed);
        cursor = world.react(cursor).await;
        let firings = world.firings().await;
        assert_eq!((fired(&firings, "risky"), fired(&firings, "only-critical")), (1, 0));

        // It waits for approval: after 5 hours the sweep fires `slow`, once. (The sweep also runs
        // the compliance checks for `dora`, once per interval: the never-verified ledger fires
        // it now; counted apart.)
        let compliance_firings = world.service.sweep_alerts().await.unwrap();
        assert_eq!(fired(&world.firings().await, "slow"), 0, "not overdue yet");
        assert_eq!(fired(&world.firings().await, "dora"), compliance_firings);
        world.clock.advance_ms(5 * HOUR_MS);
        assert_eq!(world.service.sweep_alerts().await.unwrap(), 1);
        assert_eq!(world.service.sweep_alerts().await.unwrap(), 0, "once per change");

        // An emergency change misses its retrospective deadline: `late` fires.
        let emergency = world.started_emergency().await;
        world.clock.advance_ms(25 * HOUR_MS);
        world.service.flag_overdue_emergencies().await.unwrap();
        cursor = world.react(cursor).await;
        let firings = world.firings().await;
        let late: Vec<_> = firings.iter().filter(|firing| firing.rule.as_str() == "late").collect();
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].key, emergency.id.to_string());

        // It fails: one failed deployment of catalog in the window is a rate of 100 % > 40 %.
        world.act(emergency.id, Action::Fail).await;
        cursor = world.react(cursor).await;
        let firings = world.firings().await;
        assert_eq!(
            (fired(&firings, "rate"), fired(&firings, "rate-checkout")),
            (1, 0),
            "only the rule covering catalog"
        );
        let rate = firings.iter().find(|firing| firing.rule.as_str() == "rate").unwrap();
        assert_eq!(rate.subject, "service/catalog");
        assert_eq!(rate.details["failures"], 1);
        // A rollback of the same change re-evaluates within the same window: no second firing.
        world.act(emergency.id, Action::Rollback).await;
        cursor = world.react(cursor).await;
        assert_eq!(fired(&world.firings().await, "rate"), 1);

        // A failed ledger verification fires `ledger`.
        let time = world.service.now();
        world
            .store
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                let event = DomainEvent::LedgerVerified {
                    size: 3,
                    ok: false,
                    first_bad_index: Some(2),
                    checkpoints_checked: 0,
                    message: "leaf 2 differs".into(),
                };
                tx.append(&StreamId::Ledger, "system", time, &event).await?;
                Ok(())
            })
            .await
            .unwrap();
        cursor = world.react(cursor).await;
        assert_eq!(fired(&world.firings().await, "ledger"), 1);

        // A compliance violation fires the rules of its framework, once per key.
        let details = json!({"framework": "eu-dora", "control": "art-17"});
        let first = world
            .service
            .fire_alert(
                AlertKind::ComplianceViolation,
                "change/CHG-000001",
                "dora/CHG-000001",
                "no test evidence",
                details.clone(),
            )
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        let again = world
            .service
            .fire_alert(
                AlertKind::ComplianceViolation,
                "change/CHG-000001",
                "dora/CHG-000001",
                "no test evidence",
                details,
            )
            .await
            .unwrap();
        assert!(again.is_empty(), "once per key");
        let other = world
            .service
            .fire_alert(
                AlertKind::ComplianceViolation,
                "change/CHG-000001",
                "pci/CHG-000001",
                "x",
                json!({"framework": "pci-dss"}),
            )
            .await
            .unwrap();
        assert!(other.is_empty(), "dora's rule does not fire for pci-dss");
        let bad = world.service.fire_alert(AlertKind::ComplianceViolation, "", "k", "x", json!([])).await.unwrap_err();
        assert_eq!(bad.code(), "validation_failed");

        // Reacting to the whole log again fires nothing new.
        let before = world.count("alert_fired").await;
        world.react(0).await;
        world.react(cursor).await;
        assert_eq!(world.count("alert_fired").await, before);
        assert_eq!(before, 6 + compliance_firings);
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_bad_rule_is_refused_with_its_field_and_writes_nothing() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let before = world.head().await;
        for (rule, field) in [
            (json!({"kind": "approval_overdue", "after_hours": 0}), "after_hours"),
            (json!({"kind": "high_risk_change", "webhooks": ["not a url"]}), "webhooks"),
            (json!({"kind": "sometimes"}), "rule"),
        ] {
            let error = world.service.define_alert_rule(&world.admin, "bad", &rule).await.unwrap_err();
            assert_eq!(error.code(), "validation_failed");
            assert_eq!(error.fields()[0].field, field, "{rule}");
        }
        let error = world
            .service
            .define_alert_rule(&world.admin, "Bad Name", &json!({"kind": "ledger_verification_failed"}))
            .await
            .unwrap_err();
        assert_eq!(error.fields()[0].field, "name");
        assert_eq!(world.head().await, before, "nothing written");
        // A requester may not define rules; the refusal is recorded.
        let error = world
            .service
            .define_alert_rule(&world.rita, "mine", &json!({"kind": "ledger_verification_failed"}))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "forbidden");
        assert_eq!(world.count("access_denied").await, 1);
        // Removing an unknown rule is not found; a known one goes.
        assert_eq!(world.service.remove_alert_rule(&world.admin, "ghost").await.unwrap_err().code(), "not_found");
        world.define("ledger", json!({"kind": "ledger_verification_failed"})).await;
        world.service.remove_alert_rule(&world.admin, "ledger").await.unwrap();
        assert!(world.service.alert_rules(&world.admin).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn rules_from_a_file_are_written_only_when_they_differ() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let mut rules = BTreeMap::new();
        rules.insert("risky".to_owned(), json!({"kind": "high_risk_change"}));
        rules.insert(
            "ledger".to_owned(),
            json!({"kind": "ledger_verification_failed", "webhooks": ["https://example.com/h"]}),
        );
        // When the file is loaded twice, the second load writes nothing (a restart adds no events).
        assert_eq!(world.service.load_alert_rules(&rules).await.unwrap().len(), 2);
        let head = world.head().await;
        assert!(world.service.load_alert_rules(&rules).await.unwrap().is_empty());
        assert_eq!(world.head().await, head);
        // A changed rule is written again; the stored form has its defaults written out.
        rules.insert("risky".to_owned(), json!({"kind": "high_risk_change", "min_class": "critical"}));
        let written = world.service.load_alert_rules(&rules).await.unwrap();
        assert_eq!(written.iter().map(ToString::to_string).collect::<Vec<_>>(), vec!["risky"]);
        let stored = world.service.alert_rules(&world.admin).await.unwrap();
        assert_eq!(stored.iter().find(|rule| rule.name.as_str() == "risky").unwrap().rule["min_class"], "critical");
        assert_eq!(stored[0].defined_by, "system");
        // A bad rule anywhere in the file writes nothing and names the rule.
        rules.insert("broken".to_owned(), json!({"kind": "approval_overdue"}));
        let head = world.head().await;
        let error = world.service.load_alert_rules(&rules).await.unwrap_err();
        assert!(error.fields()[0].field.starts_with("broken"), "{error}");
        assert_eq!(world.head().await, head);
    }
}

#[tokio::test]
async fn a_rollback_webhook_runs_once_and_the_change_ends_rolled_back_automatically() {
    for test_store in every_backend().await {
        let hook = receiver(&[200]).await;
        let world = world(&test_store).await;
        let request = RollbackHookRequest {
            target: RollbackTarget::Webhook { url: hook.url.clone() },
            incident_window_hours: None,
        };
        let service = world.service.set_rollback_hook(&world.admin, "catalog", Some(request)).await.unwrap();
        assert_eq!(service.rollback_hook.unwrap().incident_window_ms, 24 * HOUR_MS as u64);
        let cursor = world.head().await;
        // Given a change of catalog that fails, and then a sev1 incident linked to it
        let change = world.started_emergency().await;
        world.act(change.id, Action::Fail).await;
        world.open_incident("sev1", change.id).await;
        // When two engines react to the same events at once
        let (first, second) = tokio::join!(world.react(cursor), world.react(cursor));
        assert_eq!(first, second);
        // Then the hook ran once, with the change in its body, and the change rolled back
        let bodies = hook.bodies();
        assert_eq!(bodies.len(), 1, "{bodies:?}");
        assert_eq!(bodies[0]["change"], change.id.to_string());
        assert_eq!(bodies[0]["trigger"], "verification_failed");
        let record = world.store.change(change.id).await.unwrap().unwrap();
        assert_eq!(record.state, ChangeState::RolledBack);
        assert!(record.rollback_automated);
        assert_eq!(record.rollback_hook_runs.len(), 1);
        assert!(record.rollback_hook_runs[0].ok);
        assert_eq!(world.count("rollback_hook_invoked").await, 1);
        let events = world.store.stream_events(&format!("change/{}", change.id)).await.unwrap();
        let rolled_back = events.iter().find(|event| event.event_type == "change_rolled_back").unwrap();
        assert_eq!(rolled_back.actor, "system");
        assert_eq!(world.service.process_metrics().rollback_runs_ok, 1);
        // Only an admin sets hooks; a bad one writes nothing.
        assert_eq!(
            world.service.set_rollback_hook(&world.rita, "catalog", None).await.unwrap_err().code(),
            "forbidden"
        );
        let head = world.head().await;
        let bad = RollbackHookRequest {
            target: RollbackTarget::Webhook { url: "nope".into() },
            incident_window_hours: Some(0),
        };
        let error = world.service.set_rollback_hook(&world.admin, "catalog", Some(bad)).await.unwrap_err();
        assert_eq!(error.fields().len(), 2, "{error}");
        assert_eq!(world.head().await, head);
        // Removing it records the removal.
        let removed = world.service.set_rollback_hook(&world.admin, "catalog", None).await.unwrap();
        assert!(removed.rollback_hook.is_none());
        assert_eq!(
            world.service.set_rollback_hook(&world.admin, "catalog", None).await.unwrap_err().code(),
            "not_found"
        );
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_rollback_command_runs_for_a_severe_incident_inside_the_window_only() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let directory = tempfile::tempdir().unwrap();
        let file = directory.path().join("rolled-back");
        let script =
            format!("echo \"$CHANGEGATE_CHANGE_ID $CHANGEGATE_SERVICE $CHANGEGATE_TRIGGER\" >> '{}'", file.display());
        let target = RollbackTarget::Command { program: "/bin/sh".into(), arguments: vec!["-c".into(), script] };
        let request = RollbackHookRequest { target, incident_window_hours: Some(6) };
        world.service.set_rollback_hook(&world.admin, "catalog", Some(request)).await.unwrap();
        let mut cursor = world.head().await;

        // Given a deployed (completed and verified) change
        let change = world.started_emergency().await;
        world.act(change.id, Action::Complete).await;
        world.act(change.id, Action::Verify).await;
        // When a sev3 incident is linked to it, nothing runs
        world.open_incident("sev3", change.id).await;
        cursor = world.react(cursor).await;
        assert!(!file.exists());
        // When a sev2 incident is linked (by a person, after the fact) within the window
        let incident = world.store.incidents(10).await.unwrap()[0].id;
        let time = world.service.now();
        world
            .store
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                let update = DomainEvent::IncidentUpdated {
                    title: None,
                    severity: Some(changegate_core::Severity::Sev2),
                    detected_at: None,
                    downtime_minutes: None,
                    comment: None,
                };
                tx.append(&StreamId::Incident(incident), "rita", time, &update).await?;
                let linked = DomainEvent::IncidentLinked {
                    change: change.id,
                    provenance: LinkProvenance::Confirmed,
                    comment: None,
                };
                tx.append(&StreamId::Incident(incident), "rita", time, &linked).await?;
                Ok(())
            })
            .await
            .unwrap();
        cursor = world.react(cursor).await;
        // Then the command ran once with the change in its environment, and the verified change
        // failed and rolled back
        let written = std::fs::read_to_string(&file).unwrap();
        assert_eq!(written.trim(), format!("{} catalog incident:{incident}", change.id));
        let record = world.store.change(change.id).await.unwrap().unwrap();
        assert_eq!(record.state, ChangeState::RolledBack);
        assert!(record.rollback_automated);
        assert_eq!(record.rollback_hook_runs[0].trigger, format!("incident:{incident}"));
        assert!(record.rollback_hook_runs[0].target.starts_with("/bin/sh -c echo"));
        // The change_failed it recorded triggers nothing more.
        cursor = world.react(cursor).await;
        assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 1);

        // Given another deployed change, when a sev1 incident comes after the 6-hour window
        let later = world.started_emergency().await;
        world.act(later.id, Action::Complete).await;
        world.clock.advance_ms(7 * HOUR_MS);
        world.open_incident("sev1", later.id).await;
        world.react(cursor).await;
        // Then nothing runs.
        assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 1);
        let record = world.store.change(later.id).await.unwrap().unwrap();
        assert!(record.rollback_hook_runs.is_empty());
        assert!(world.store.verify_projections().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_failing_rollback_command_is_recorded_and_the_change_stays_failed() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let target = RollbackTarget::Command { program: "/bin/false".into(), arguments: vec![] };
        world
            .service
            .set_rollback_hook(
                &world.admin,
                "catalog",
                Some(RollbackHookRequest { target, incident_window_hours: None }),
            )
            .await
            .unwrap();
        let cursor = world.head().await;
        let change = world.started_emergency().await;
        world.act(change.id, Action::Fail).await;
        world.react(cursor).await;
        let record = world.store.change(change.id).await.unwrap().unwrap();
        assert_eq!(record.state, ChangeState::Failed);
        assert!(!record.rollback_automated);
        assert_eq!(record.rollback_hook_runs.len(), 1);
        assert!(!record.rollback_hook_runs[0].ok);
        assert_eq!(record.rollback_hook_runs[0].detail, "exit status 1");
        // People still roll it back by hand, and the hook does not run again.
        world.act(change.id, Action::Rollback).await;
        world.react(cursor).await;
        assert_eq!(world.count("rollback_hook_invoked").await, 1);
        assert_eq!(world.service.process_metrics().rollback_runs_failed, 1);
    }
}

#[tokio::test]
async fn a_compliance_violation_fires_once_per_violation_and_the_checks_are_throttled() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        // Given a compliance rule for EU DORA and GDPR, and a production change that started
        // while the ledger was never verified (a ledger-integrity violation)
        world.define("compliance", json!({"kind": "compliance_violation", "frameworks": ["eu-dora", "gdpr"]})).await;
        world.started_emergency().await;
        world.clock.advance_ms(60_000);
        // When the sweep runs
        let fired = world.service.sweep_compliance().await.unwrap();
        // Then the violations fire, each once, for the named frameworks only
        assert!(fired >= 1, "{:?}", test_store.backend());
        let firings = world.firings().await;
        assert_eq!(firings.len(), fired);
        assert!(firings.iter().all(|firing| firing.kind == "compliance_violation"));
        assert!(
            firings.iter().all(|firing| ["eu-dora", "gdpr"].contains(&firing.details["framework"].as_str().unwrap()))
        );
        assert!(firings.iter().any(|firing| firing.subject == "ledger"), "{firings:?}");
        // And the checks are not run again within the interval, nor fire twice after it
        assert_eq!(world.service.sweep_compliance().await.unwrap(), 0);
        world.clock.advance_ms(changegate_service::alerts::COMPLIANCE_SWEEP_INTERVAL_MS + 1);
        assert_eq!(world.service.sweep_compliance().await.unwrap(), 0, "once per violation key");
        // A rule naming an unknown framework is refused
        let error = world
            .service
            .define_alert_rule(
                &world.admin,
                "bad-framework",
                &json!({"kind": "compliance_violation", "frameworks": ["dora"]}),
            )
            .await
            .unwrap_err();
        assert!(error.to_string().contains("eu-dora"), "{error}");
    }
}
