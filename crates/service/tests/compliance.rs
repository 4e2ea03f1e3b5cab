//! Compliance reporting against a real store, on every backend: the report names the change at
//! fault, only auditors, admins and the CAB may read it, bad requests change nothing, the ledger
//! evidence comes from the recorded verification and checkpoints, and a change's bundle evidence
//! proves its events against the checkpoint.

use std::sync::Arc;

use changegate_compliance::{CheckId, Framework, Status};
use changegate_core::lifecycle::Action;
use changegate_core::{ChangeId, ManualClock, Timestamp};
use changegate_ledger::{NoteSigner, verify_inclusion};
use changegate_service::{
    ActionRequest, Caller, ComplianceQuery, NewChange, NewService, NewUser, Service, ServiceError,
};
use changegate_store::testing::every_backend;

const START: Timestamp = Timestamp::from_unix_ms(1_790_000_000_000);
use changegate_core::civil::HOUR_MS;

struct People {
    admin: Caller,
    alice: Caller,
}

/// Users, a tier-2 service, one normal change carried to verified with bob's approval, and one
/// emergency change started without approval and left past its deadline.
async fn history(service: &Service, clock: &ManualClock) -> (People, ChangeId, ChangeId) {
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let user = |name: &str, role: &str| NewUser { name: name.into(), roles: vec![role.into()], team: None };
    let alice = service.add_user_locally(&user("alice", "requester")).await.unwrap().caller();
    let bob = service.add_user_locally(&user("bob", "approver")).await.unwrap().caller();
    let payments =
        NewService { name: "payments-api".into(), team: "payments".into(), tier: 2, ..NewService::default() };
    service.register_service(&admin, payments, None).await.unwrap();
    let new_change = |change_type: &str| NewChange {
        title: format!("A {change_type} change"),
        change_type: change_type.into(),
        service: "payments-api".into(),
        environment: "production".into(),
        rollback_plan: Some("redeploy the previous release".into()),
        test_evidence: Some("https://ci.example/run/7".into()),
        justification: Some("checkout is down".into()),
        ..NewChange::default()
    };
    let normal = service.create_change(&alice, new_change("normal"), None).await.unwrap().value.id;
    for (caller, action) in [
        (&alice, Action::Submit),
        (&bob, Action::Approve),
        (&alice, Action::Schedule),
        (&alice, Action::Start),
        (&alice, Action::Complete),
        (&alice, Action::Verify),
    ] {
        clock.advance_ms(1_000);
        service.act(caller, normal, action, ActionRequest::default(), None).await.unwrap();
    }
    let emergency = service.create_change(&alice, new_change("emergency"), None).await.unwrap().value.id;
    for action in [Action::Submit, Action::Start] {
        clock.advance_ms(1_000);
        service.act(&alice, emergency, action, ActionRequest::default(), None).await.unwrap();
    }
    clock.advance_ms(48 * HOUR_MS);
    (People { admin, alice }, normal, emergency)
}

#[tokio::test]
async fn the_report_names_the_change_at_fault_and_reads_the_ledger_evidence() {
    for test_store in every_backend().await {
        // Given a history with a sound change and an overdue emergency, a verified ledger and a
        // checkpoint,
        let clock = Arc::new(ManualClock::new(START));
        let signer = NoteSigner::from_secret_bytes("changegate-test", &[7; 32]).unwrap();
        let service = Service::new(test_store.store.clone(), clock.clone()).with_signer(signer);
        let (people, normal, emergency) = history(&service, &clock).await;
        service.verify_ledger(&people.admin, &|_, _| {}).await.unwrap();
        service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await.unwrap();
        clock.advance_ms(1_000);
        // when an admin asks for the NIST report of the default period,
        let request = service
            .parse_compliance_query(&ComplianceQuery { framework: Some("nist-800-53".into()), ..Default::default() })
            .unwrap();
        let report = service.compliance_report(&people.admin, &request).await.unwrap();
        // then both changes are in the period, the emergency is at fault, the sound one is not,
        assert_eq!(report.changes_in_period, vec![normal, emergency]);
        let nist = &report.frameworks[0];
        let emergency_check = nist.check(CheckId::EmergencyRetrospective).unwrap();
        assert_eq!(emergency_check.violating_changes(), vec![emergency]);
        let independent = nist.check(CheckId::IndependentApproval).unwrap();
        assert_eq!(independent.violating_changes(), vec![emergency], "the emergency was never approved");
        assert!(!nist.check(CheckId::ApprovalBeforeImplementation).unwrap().violating_changes().contains(&normal));
        // and the ledger evidence is the recorded verification and checkpoint.
        assert_eq!(report.ledger.verified, Some(true));
        assert!(report.ledger.signing_key_present);
        assert_eq!(report.ledger.checkpoints_in_period, 1);
        assert_eq!(report.ledger.oldest_event_at, Some(START), "the earliest event: the first admin");
        let au9 = nist.controls.iter().find(|control| control.id == "au-9").unwrap();
        assert_eq!(au9.status, Status::Satisfied);
        // Alerting sees the same faults, keyed.
        let violations = service.compliance_violations(90).await.unwrap();
        let key = format!("nist-800-53/cm-3/emergency-retrospective/{emergency}/retrospective-approval-missing");
        assert!(violations.iter().any(|violation| violation.key == key), "{key} in {violations:#?}");
        assert!(
            violations.iter().all(|violation| violation.change != Some(normal)),
            "the sound change is never at fault"
        );
    }
}

#[tokio::test]
async fn only_auditors_admins_and_the_cab_read_reports_and_bad_requests_change_nothing() {
    for test_store in every_backend().await {
        let clock = Arc::new(ManualClock::new(START));
        let service = Service::new(test_store.store.clone(), clock.clone());
        let (people, _, _) = history(&service, &clock).await;
        let request = service.parse_compliance_query(&ComplianceQuery::default()).unwrap();
        assert_eq!(request.frameworks.len(), Framework::ALL.len());
        // Given a requester, when they ask, then they are refused and the refusal is recorded.
        let before = test_store.store.event_count().await.unwrap();
        let refused = service.compliance_report(&people.alice, &request).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Forbidden(_)), "{refused:?}");
        assert_eq!(test_store.store.event_count().await.unwrap(), before + 1, "an access_denied event");
        // Given bad input, then each field is named and nothing is written.
        let bad = ComplianceQuery {
            framework: Some("sox".into()),
            from: Some("yesterday".into()),
            to: Some("2026-01-01T00:00:00Z".into()),
        };
        let error = service.parse_compliance_query(&bad).unwrap_err();
        let fields: Vec<&str> = error.fields().iter().map(|field| field.field.as_str()).collect();
        assert_eq!(fields, vec!["framework", "from"]);
        assert_eq!(error.code(), "validation_failed");
        let backwards = ComplianceQuery {
            from: Some("2026-02-01T00:00:00Z".into()),
            to: Some("2026-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        assert_eq!(service.parse_compliance_query(&backwards).unwrap_err().fields()[0].field, "from");
        assert_eq!(test_store.store.event_count().await.unwrap(), before + 1);
    }
}

#[tokio::test]
async fn change_evidence_proves_every_event_against_the_checkpoint() {
    for test_store in every_backend().await {
        // Given a history and a signed checkpoint, and one more event after it,
        let clock = Arc::new(ManualClock::new(START));
        let signer = NoteSigner::from_secret_bytes("changegate-test", &[7; 32]).unwrap();
        let service = Service::new(test_store.store.clone(), clock.clone()).with_signer(signer);
        let (people, normal, _) = history(&service, &clock).await;
        let checkpoint =
            service.checkpoint_now(&service.system_caller(changegate_core::Role::Admin)).await.unwrap().unwrap();
        service.act(&people.alice, normal, Action::Close, ActionRequest::default(), None).await.unwrap();
        // when the change's evidence is gathered for that checkpoint,
        let evidence = service.change_evidence(&people.admin, normal, checkpoint.size).await.unwrap();
        // then every event up to the checkpoint has a proof that leads to its root, and the
        // later close is left out.
        assert_eq!(
            evidence.events.len(),
            8,
            "created, submitted, assessed, approved, scheduled, started, completed, verified"
        );
        assert_eq!(evidence.proofs.len(), 8);
        for (event, proof) in evidence.events.iter().zip(&evidence.proofs) {
            assert_eq!(proof.index, event.sequence - 1);
            let leaf = changegate_ledger::leaf_hash(&event.leaf_bytes());
            verify_inclusion(&leaf, proof.index, checkpoint.size, &proof.hashes, &checkpoint.root).unwrap();
        }
        assert!(matches!(
            service.change_evidence(&people.admin, ChangeId::new(999), checkpoint.size).await,
            Err(ServiceError::NotFound(_))
        ));
    }
}
