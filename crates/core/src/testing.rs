//! Builders of records for tests, shared by the crates whose tests start from change records or
//! imported changes (maturity, service, and the faces' tests) instead of each keeping its own
//! copy. Compiled for the core's own tests and, in other crates, through the `testing` feature
//! their `[dev-dependencies]` enable; never part of a release build.

use crate::domain::{ApprovalMode, ChangeId, ChangeState, ChangeType, CreatedBy, ImportedOutcome, Name};
use crate::event::ImportedChange;
use crate::projection::ChangeRecord;
use crate::time::Timestamp;

use crate::civil::HOUR_MS;

/// A name that is known to be valid.
pub fn name(text: &str) -> Name {
    Name::parse(text).expect("a valid test name")
}

/// A bare production deployment of `payments-api` made at `at`: created then, started an hour
/// later, completed and verified two hours later, with nothing else (no risk class, approval,
/// evidence or pipeline); tests add what they check.
pub fn bare_deployment(id: u64, at: Timestamp) -> ChangeRecord {
    let started = at.plus_ms(HOUR_MS);
    let completed = at.plus_ms(2 * HOUR_MS);
    ChangeRecord {
        id: ChangeId::new(id),
        title: format!("Change {id}"),
        description: String::new(),
        change_type: ChangeType::Normal,
        service: name("payments-api"),
        environment: name("production"),
        requester: name("alice"),
        state: ChangeState::Verified,
        implementation_plan: None,
        rollback_plan: None,
        planned_start: None,
        planned_end: None,
        links: Vec::new(),
        test_evidence: None,
        security_evidence: None,
        security_critical_findings: None,
        template: None,
        justification: None,
        commit: None,
        pipeline_url: None,
        code_metrics: None,
        assessment: None,
        auto_approved: false,
        approvals: Vec::new(),
        rejected_by: None,
        denied: Vec::new(),
        implementer: None,
        retrospective_due: None,
        emergency_overdue: false,
        review: None,
        team: Some(name("payments")),
        commit_time: None,
        created_by: CreatedBy::Manual,
        imported: false,
        external_id: None,
        rollback_automated: false,
        rollback_hook_runs: Vec::new(),
        created_at: at,
        updated_at: completed,
        submitted_at: None,
        approved_at: None,
        started_at: Some(started),
        completed_at: Some(completed),
        verified_at: Some(completed),
        failed_at: None,
        rolled_back_at: None,
        closed_at: None,
        version: 6,
    }
}

/// A change imported from another system (`SNOW-{number}`), a successful normal change to
/// `payments-api` requested by alice and approved by bob: created at `created`, submitted an
/// hour later, approved after two, started after three, completed after four, with a rollback
/// plan. What tests vary (risk class, test evidence, how it was created) is left unknown; set it
/// with `ImportedChange { risk_class: …, ..imported_change(number, created) }`.
pub fn imported_change(number: u32, created: Timestamp) -> ImportedChange {
    ImportedChange {
        external_id: format!("SNOW-{number}"),
        title: format!("Imported change {number}"),
        change_type: ChangeType::Normal,
        service: name("payments-api"),
        team: name("payments"),
        environment: name("production"),
        requester: name("alice"),
        created_at: created,
        submitted_at: Some(created.plus_ms(HOUR_MS)),
        risk_class: None,
        risk_score: None,
        approved_at: Some(created.plus_ms(2 * HOUR_MS)),
        approvers: vec![name("bob")],
        approval_mode: Some(ApprovalMode::Manual),
        started_at: Some(created.plus_ms(3 * HOUR_MS)),
        completed_at: Some(created.plus_ms(4 * HOUR_MS)),
        outcome: Some(ImportedOutcome::Success),
        rollback_plan: Some(true),
        test_evidence: None,
        security_evidence: None,
        created_by: None,
        pir_done: None,
        root_cause: None,
        rollback_automated: None,
        commit_time: None,
    }
}
