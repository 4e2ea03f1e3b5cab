//! The maturity assessment through the service, on every backend: answers recorded as events with
//! who answered (and refused, recording nothing, for the wrong role or an unknown question), an
//! answers file used for one run only, an imported history assessed without any live history,
//! live evidence (a verified ledger, signed checkpoints) counted, and the trend.

use std::collections::BTreeMap;
use std::sync::Arc;

use changegate_core::testing;
use changegate_core::{ChangeId, CreatedBy, DomainEvent, ImportedChange, ManualClock, RiskClass, StreamId, Timestamp};
use changegate_ledger::NoteSigner;
use changegate_service::{Caller, MaturityPeriod, NewService, NewUser, Service, ServiceError};
use changegate_store::testing::{TestStore, every_backend};

/// 2026-06-01T00:00:00Z.
const NOW: Timestamp = Timestamp::from_unix_ms(1_780_272_000_000);
use changegate_core::civil::DAY_MS;

struct World {
    service: Service,
    admin: Caller,
    /// Holds the cab role: may answer.
    carol: Caller,
    /// A requester: may not answer.
    rita: Caller,
}

async fn world(test_store: &TestStore) -> World {
    let clock = Arc::new(ManualClock::new(NOW));
    let signer = NoteSigner::from_secret_bytes("changegate-test", &[7; 32]).unwrap();
    let service = Service::new(test_store.store.clone(), clock).with_signer(signer);
    let admin = service.bootstrap_admin("admin").await.unwrap().caller();
    let add = async |name: &str, role: &str| {
        service
            .add_user_locally(&NewUser { name: name.into(), roles: vec![role.into()], team: None })
            .await
            .unwrap()
            .caller()
    };
    let carol = add("carol", "cab").await;
    let rita = add("rita", "requester").await;
    let payments = NewService {
        name: "payments-api".into(),
        team: "payments".into(),
        tier: 1,
        scopes: vec![],
        depends_on: vec![],
    };
    service.register_service(&admin, payments, None).await.unwrap();
    World { service, admin, carol, rita }
}

fn answers(pairs: &[(&str, bool)]) -> BTreeMap<String, bool> {
    pairs.iter().map(|(id, yes)| ((*id).to_owned(), *yes)).collect()
}

async fn event_count(service: &Service) -> u64 {
    // Every event is a leaf: the ledger's size is the event count.
    service.ledger_status(&service.system_caller(changegate_core::Role::Auditor)).await.unwrap().size
}

fn criterion<'a>(
    assessment: &'a changegate_maturity::Assessment,
    id: &str,
) -> &'a changegate_maturity::CriterionResult {
    assessment
        .dimensions
        .iter()
        .flat_map(|dimension| dimension.criteria.iter())
        .find(|criterion| criterion.id == id)
        .unwrap_or_else(|| panic!("no criterion {id}"))
}

/// A change imported from another system, deployed `days_ago` days before now.
fn imported(number: u32, days_ago: i64) -> ImportedChange {
    ImportedChange {
        risk_class: Some(if number.is_multiple_of(2) { RiskClass::Low } else { RiskClass::Medium }),
        test_evidence: Some(!number.is_multiple_of(3)),
        created_by: Some(if number.is_multiple_of(2) { CreatedBy::Pipeline } else { CreatedBy::Manual }),
        ..testing::imported_change(number, NOW.plus_ms(-days_ago * DAY_MS))
    }
}

/// Appends `count` imported changes, one every two days, as `changegate import` would.
async fn import_history(store: &changegate_store::Store, count: u32) {
    store
        .write(async |tx| -> Result<(), changegate_store::StoreError> {
            for number in 0..count {
                let id: ChangeId = tx.next_change_id().await?;
                let event = DomainEvent::ChangeImported { id, change: imported(number, 2 + i64::from(number) * 2) };
                tx.append(&StreamId::Change(id), "importer", NOW.plus_ms(-DAY_MS), &event).await?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn answers_are_recorded_with_who_answered_and_refused_without_writing() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let service = &world.service;
        // Given a requester, when they answer, then they are refused and the refusal is recorded.
        let before = event_count(service).await;
        let refused = service.answer_maturity(&world.rita, answers(&[("process.documented", true)]), None).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
        assert_eq!(event_count(service).await, before + 1, "an access_denied event");
        assert!(service.maturity_answers(&world.rita).await.unwrap().is_empty());
        // When an unknown question is answered, then nothing is recorded.
        let before = event_count(service).await;
        let unknown = service.answer_maturity(&world.carol, answers(&[("process.vibes", true)]), None).await;
        let error = unknown.unwrap_err();
        assert_eq!(error.code(), "validation_failed");
        assert_eq!(error.fields()[0].field, "answers");
        let empty = service.answer_maturity(&world.carol, BTreeMap::new(), None).await;
        assert_eq!(empty.unwrap_err().code(), "validation_failed");
        assert_eq!(event_count(service).await, before);
        // When the cab member answers two questions, then one event records them, by carol.
        let recorded = service
            .answer_maturity(
                &world.carol,
                answers(&[("process.documented", true), ("process.roles-published", false)]),
                Some("reviewed with the CAB".into()),
            )
            .await
            .unwrap();
        assert_eq!(recorded.len(), 2);
        assert!(recorded.iter().all(|answer| answer.answered_by == "carol" && answer.answered_at == NOW));
        let events = test_store.store.stream_events("maturity").await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].actor, "carol");
        assert_eq!(events[0].event_type, "maturity_answered");
        // When the admin later answers one of them again, then the latest answer is in force.
        service.answer_maturity(&world.admin, answers(&[("process.roles-published", true)]), None).await.unwrap();
        let in_force = service.maturity_answers(&world.rita).await.unwrap();
        let roles = in_force.iter().find(|answer| answer.id == "process.roles-published").unwrap();
        assert!(roles.yes);
        assert_eq!(roles.answered_by, "admin");
        // And the assessment shows who answered.
        let assessment =
            service.maturity_assessment(&world.rita, MaturityPeriod::default(), &BTreeMap::new()).await.unwrap();
        let documented = criterion(&assessment, "process.documented");
        assert!(documented.met);
        assert!(documented.evidence.summary.contains("by carol"), "{}", documented.evidence.summary);
        assert!(!assessment.unanswered_questions.contains(&"process.documented".to_owned()));
        assert!(assessment.unanswered_questions.contains(&"process.feedback-loop".to_owned()));
        // When an answers file is given for one run, then it overrides the recorded answer for
        // that run and nothing is recorded.
        let before = event_count(service).await;
        let file = answers(&[("process.documented", false)]);
        let what_if = service.maturity_assessment(&world.rita, MaturityPeriod::default(), &file).await.unwrap();
        let documented = criterion(&what_if, "process.documented");
        assert!(!documented.met);
        assert!(documented.evidence.summary.contains("not recorded"));
        assert_eq!(event_count(service).await, before);
        let bad_file = answers(&[("risk.formal-class-share", true)]);
        let refused = service.maturity_assessment(&world.rita, MaturityPeriod::default(), &bad_file).await;
        assert_eq!(refused.unwrap_err().code(), "validation_failed");
    }
}

#[tokio::test]
async fn an_imported_history_is_assessed_without_a_live_history() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let service = &world.service;
        // Given 40 changes imported from another system over the last 80 days.
        import_history(&test_store.store, 40).await;
        // When the last 90 days are assessed.
        let assessment =
            service.maturity_assessment(&world.rita, MaturityPeriod::default(), &BTreeMap::new()).await.unwrap();
        // Then every deployment is an imported one, and the records speak for themselves.
        assert_eq!(assessment.deployments, 40);
        assert_eq!(assessment.imported_deployments, 40);
        assert_eq!(assessment.to, NOW);
        assert_eq!(assessment.from, NOW.plus_ms(-90 * DAY_MS));
        assert!(criterion(&assessment, "risk.formal-class-share").met);
        assert!(criterion(&assessment, "process.approved-before-start").met);
        assert!(criterion(&assessment, "audit.full-documentation").met);
        let pipeline = criterion(&assessment, "automation.pipeline-created");
        assert_eq!(pipeline.value, Some(0.5));
        // And what only a live installation has is unmet, saying so.
        let model = criterion(&assessment, "risk.model-in-use");
        assert!(!model.met);
        assert!(model.evidence.summary.contains("changegate risk train"), "{}", model.evidence.summary);
        assert_eq!(assessment.dimension(changegate_maturity::Dimension::RiskManagement).unwrap().level, 2);
        // And the trend covers each month, the latest ending now.
        let trend = service.maturity_trend(&world.rita, None, 4).await.unwrap();
        assert_eq!(trend.len(), 4);
        assert_eq!(trend.last().unwrap().to, NOW);
        assert_eq!(trend.last().unwrap().deployments, 40);
        assert!(trend[0].deployments < 40);
        // A period that ends before it starts is refused.
        let backwards = MaturityPeriod { from: Some(NOW), to: Some(NOW.plus_ms(-DAY_MS)) };
        let error = service.maturity_assessment(&world.rita, backwards, &BTreeMap::new()).await.unwrap_err();
        assert_eq!(error.code(), "validation_failed");
        assert_eq!(error.fields()[0].field, "from");
        let error = service.maturity_trend(&world.rita, None, 0).await.unwrap_err();
        assert_eq!(error.fields()[0].field, "months");
    }
}

#[tokio::test]
async fn a_verified_ledger_and_its_checkpoints_count_as_live_evidence() {
    for test_store in every_backend().await {
        let world = world(&test_store).await;
        let service = &world.service;
        import_history(&test_store.store, 12).await;
        let before =
            service.maturity_assessment(&world.rita, MaturityPeriod::default(), &BTreeMap::new()).await.unwrap();
        assert!(!criterion(&before, "audit.ledger-verified").met);
        // Given a signed checkpoint and a passing verification.
        service.checkpoint_now(&world.admin).await.unwrap();
        service.verify_ledger(&world.admin, &|_, _| {}).await.unwrap();
        // When assessed over a period ending a second later.
        let period = MaturityPeriod { from: None, to: Some(NOW.plus_ms(1000)) };
        let after = service.maturity_assessment(&world.rita, period, &BTreeMap::new()).await.unwrap();
        // Then the verification counts, and the checkpoint is read.
        let verified = criterion(&after, "audit.ledger-verified");
        assert!(verified.met, "{}", verified.evidence.summary);
        assert_eq!(verified.value, Some(0.0));
        let days = test_store.store.checkpoint_days(NOW.plus_ms(-DAY_MS), NOW.plus_ms(DAY_MS)).await.unwrap();
        assert_eq!(days, vec![NOW]);
    }
}
