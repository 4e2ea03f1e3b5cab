//! Scenario tests: five synthetic organisations built to match the seed's description of each
//! level, from chaotic (level 1) to optimising (level 5), are assessed at that level in every
//! dimension; and the trend shows a level move when the organisation changes.
//!
//! Each organisation deploys every 14 hours for nine months (the last 90 days are the period;
//! the quarters before feed the approval-time trend). What differs is how it works:
//! - level 1, assessed from an export: most changes documented after the fact or without times,
//!   no approvals, no risk evaluation, no tests, no documentation;
//! - level 2, assessed from an export: changes recorded and mostly approved, critical changes
//!   risk-evaluated, some tests, basic documentation; no incidents recorded;
//! - level 3, live: one procedure for every team (emergencies reviewed), every change classified
//!   before it starts, security and test evidence, routine changes auto-approved, changes from the
//!   pipeline, full documentation, incidents linked; no risk scores, no root causes;
//! - level 4: root causes, policy decisions, scores and a measured model, recovery and downtime
//!   measured, almost everything from the pipeline, automated rollbacks, alerts, the ledger
//!   verified monthly; recovery takes hours and the model is old;
//! - level 5: refinements every quarter, predictions on every change, a fresh model, risk and
//!   compliance alerts, recovery within minutes, most changes flowing through without a person,
//!   checkpoints every day and weekly verification, the feedback loop and proactive reporting.

use changegate_core::{ChangeRecord, ChangeState, ChangeType, CreatedBy, RiskClass, Timestamp};

use crate::input::{AlertRuleEvidence, LedgerVerificationEvidence, RiskModelEvidence};
use crate::rubric::Dimension;
use crate::testing::{DAY_MS, HOUR_MS, History, START, approve, auto_approve, classify, fail, name, review};

/// Hours between two deployments of the synthetic organisations.
const CADENCE_HOURS: i64 = 14;
/// The history starts this many days before the period.
const HISTORY_BEFORE_DAYS: i64 = 182;

fn minutes(count: i64) -> i64 {
    count * 60 * 1000
}

/// The period's end minus `days`.
fn before_end(history: &History, days: i64) -> Timestamp {
    history.to.plus_ms(-days * DAY_MS)
}

/// Moves the start after the approval (for changes approved before they start).
fn start_after_approval(change: &mut ChangeRecord) {
    if let Some(approved) = change.approved_at {
        let started = approved.plus_ms(minutes(30)).max(change.started_at.unwrap_or(approved));
        change.started_at = Some(started);
        change.completed_at = Some(started.plus_ms(HOUR_MS));
        change.verified_at = change.completed_at;
    }
}

/// The risk class the organisation's scale gives deployment `index`.
fn class_of(index: i64, change_type: ChangeType) -> RiskClass {
    if change_type == ChangeType::Standard {
        RiskClass::Low
    } else if index % 7 == 3 {
        RiskClass::High
    } else if index % 2 == 0 {
        RiskClass::Low
    } else {
        RiskClass::Medium
    }
}

/// A synthetic organisation at `level` in every dimension.
pub(crate) fn organisation(level: u8) -> History {
    let mut history = History::new();
    let first = START.plus_ms(-HISTORY_BEFORE_DAYS * DAY_MS);
    let count = (HISTORY_BEFORE_DAYS + 88) * 24 / CADENCE_HOURS;
    for index in 0..count {
        let at = first.plus_ms(index * CADENCE_HOURS * HOUR_MS);
        let id = history.deployment_at(at, |change| shape(change, index, level));
        let change = history.changes.last().expect("just added").clone();
        if let Some(failed) = change.failed_at.filter(|_| level >= 3) {
            // The failure caused an incident, linked to the change.
            let resolved = failed.plus_ms(if level >= 5 { minutes(25) } else { minutes(120) });
            history.incident(id, failed, Some(resolved));
            if level >= 4 {
                history.incidents.last_mut().expect("just added").downtime_minutes = Some(15);
            }
        }
    }
    if level >= 3 {
        // Incidents that no change caused are recorded too.
        for days in [20, 50, 80] {
            history.incident(None, START.plus_ms(days * DAY_MS), Some(START.plus_ms(days * DAY_MS + HOUR_MS)));
        }
        history.answer("process.documented", true);
        history.answer("process.roles-published", true);
    }
    if level >= 4 {
        history.answer("process.kpis-reviewed", true);
        history.answer("audit.compliance-monitored", true);
        history.live.alert_rules.push(AlertRuleEvidence {
            name: "escalate-overdue".into(),
            kind: "escalation".into(),
            defined_at: before_end(&history, 200),
        });
        history.live.policy_versions.push(before_end(&history, 40));
        history.live.rollback_hooks = vec!["payments-api".into(), "blog".into()];
    }
    let (model_age_days, model_auc, verification_age_days) = if level >= 5 { (30, 0.82, 2) } else { (150, 0.75, 20) };
    if level >= 4 {
        history.live.risk_models.push(RiskModelEvidence {
            version: "model-a".into(),
            auc: Some(model_auc),
            trained_at: before_end(&history, model_age_days),
        });
        history
            .live
            .ledger_verifications
            .push(LedgerVerificationEvidence { at: before_end(&history, verification_age_days), ok: true });
    }
    if level >= 5 {
        history.answer("process.feedback-loop", true);
        history.answer("audit.proactive-reporting", true);
        history.live.policy_versions.push(before_end(&history, 120));
        for kind in ["high_risk_change", "compliance_violation"] {
            history.live.alert_rules.push(AlertRuleEvidence {
                name: kind.replace('_', "-"),
                kind: kind.into(),
                defined_at: before_end(&history, 100),
            });
        }
        for day in 0..(HISTORY_BEFORE_DAYS + 90) {
            history.live.checkpoints.push(first.plus_ms(day * DAY_MS + 23 * HOUR_MS));
        }
    }
    history
}

/// Shapes deployment `index` the way an organisation at `level` works.
fn shape(change: &mut ChangeRecord, index: i64, level: u8) {
    if index % 3 == 2 {
        change.service = name("blog");
        change.team = Some(name("web"));
    }
    change.change_type = match index {
        _ if index % 10 == 0 => ChangeType::Standard,
        _ if index % 50 == 7 => ChangeType::Emergency,
        _ => ChangeType::Normal,
    };
    let fails = index % 17 == 5;
    match level {
        1 => chaotic(change, index),
        2 => managed(change, index),
        _ => defined_and_above(change, index, level),
    }
    if fails {
        fail(change);
        if level >= 3 {
            let delay = if level >= 5 { minutes(20) } else { minutes(120) };
            change.rolled_back_at = change.failed_at.map(|failed| failed.plus_ms(delay));
            change.state = ChangeState::RolledBack;
            change.rollback_automated = level >= 4;
            // Reviewed at every level from 3; the root cause is named from level 4.
            review(change, (level >= 4).then_some("a migration locked a hot table"));
        }
    }
}

/// An imported change closed without its deployment times.
fn untimed(change: &mut ChangeRecord) {
    change.started_at = None;
    change.completed_at = None;
    change.closed_at = change.verified_at;
    change.state = ChangeState::Closed;
}

/// Level 1: changes made on the fly, documented afterwards if at all.
fn chaotic(change: &mut ChangeRecord, index: i64) {
    change.imported = true;
    match index % 10 {
        0..6 => untimed(change),
        6..9 => change.created_at = change.completed_at.expect("timed").plus_ms(DAY_MS),
        _ => {}
    }
}

/// Level 2: a basic request and approval process, tracked but not consistently.
fn managed(change: &mut ChangeRecord, index: i64) {
    change.imported = true;
    let significant = index % 3 != 2 || change.change_type == ChangeType::Emergency;
    if significant && index % 10 != 1 {
        classify(change, class_of(index, change.change_type));
    }
    if index % 4 != 0 {
        approve(change, 120);
        start_after_approval(change);
    }
    if index % 5 < 2 {
        change.test_evidence = Some("imported: yes".into());
    }
    if index % 10 < 7 {
        change.description = "What, why and how.".into();
    }
    match index % 10 {
        9 => untimed(change),
        0 => change.created_at = change.completed_at.expect("timed").plus_ms(HOUR_MS),
        _ => {}
    }
}

/// Levels 3 to 5: one defined procedure, measured from level 4, optimised at level 5.
fn defined_and_above(change: &mut ChangeRecord, index: i64, level: u8) {
    let class = class_of(index, change.change_type);
    classify(change, class);
    let assessment = change.assessment.as_mut().expect("classified");
    if level >= 4 {
        assessment.risk_score = Some(match class {
            RiskClass::Low => 12,
            RiskClass::Medium => 37,
            RiskClass::High => 61,
            RiskClass::Critical => 88,
        });
        assessment.policy_sha256 = Some("5f0c…".into());
        assessment.input_sha256 = Some("a1b2…".into());
    }
    if level >= 5 {
        assessment.risk_probability = Some(0.03);
        assessment.risk_model = Some("model-a".into());
    }
    let pipeline_share_percent = if level >= 4 { 95 } else { 60 };
    if (index * 37) % 100 < pipeline_share_percent {
        change.created_by = CreatedBy::Pipeline;
        change.pipeline_url = Some(format!("https://ci.example/runs/{index}"));
    }
    change.description = "What, why and how.".into();
    change.rollback_plan = Some("redeploy the previous release".into());
    if index % 10 != 1 {
        change.test_evidence = Some("ci: all tests passed".into());
    }
    if index % 10 != 2 {
        change.security_evidence = Some("sast, sca, secrets: clean".into());
    }
    let pre_approved = change.change_type == ChangeType::Standard
        || (level >= 5 && change.change_type == ChangeType::Normal && class != RiskClass::High);
    match change.change_type {
        ChangeType::Emergency => {
            // Started at once, approved the next day, reviewed afterwards.
            approve(change, 24 * 60);
            review(change, None);
        }
        _ if pre_approved => {
            auto_approve(change);
            start_after_approval(change);
        }
        _ => {
            approve(change, 20 + (index % 5) * 30);
            start_after_approval(change);
        }
    }
}

fn levels(history: &History) -> Vec<(Dimension, u8)> {
    history.assess().dimensions.iter().map(|dimension| (dimension.name, dimension.level)).collect()
}

/// The criteria that failed, for a readable assertion message.
fn unmet(history: &History) -> Vec<String> {
    history
        .assess()
        .dimensions
        .iter()
        .flat_map(|dimension| dimension.criteria.iter())
        .filter(|criterion| !criterion.met)
        .map(|criterion| format!("{} (L{}): {}", criterion.id, criterion.level, criterion.evidence.summary))
        .collect()
}

fn assert_at_level(level: u8) {
    // Given an organisation built to match the seed's description of `level`.
    let history = organisation(level);
    // When it is assessed.
    let assessment = history.assess();
    // Then every dimension, and so the whole, is at that level.
    let expected: Vec<(Dimension, u8)> = Dimension::ALL.iter().map(|dimension| (*dimension, level)).collect();
    assert_eq!(levels(&history), expected, "unmet criteria:\n{}", unmet(&history).join("\n"));
    assert_eq!(assessment.overall_level, level);
    assert!(assessment.deployments > 50, "{} deployments", assessment.deployments);
    // And the roadmap leads from each dimension to the next level.
    for step in &assessment.roadmap {
        assert_eq!((step.from_level, step.to_level), (level, level + 1), "{step:?}");
    }
    if level < 5 {
        for dimension in Dimension::ALL {
            assert!(
                assessment.roadmap.iter().any(|step| step.dimension == dimension),
                "no roadmap step for {dimension:?}"
            );
        }
    } else {
        assert!(assessment.roadmap.is_empty());
    }
}

#[test]
fn a_chaotic_organisation_is_at_level_1_everywhere() {
    assert_at_level(1);
}

#[test]
fn a_managed_organisation_is_at_level_2_everywhere() {
    assert_at_level(2);
}

#[test]
fn a_defined_organisation_is_at_level_3_everywhere() {
    assert_at_level(3);
}

#[test]
fn a_quantitatively_managed_organisation_is_at_level_4_everywhere() {
    assert_at_level(4);
}

#[test]
fn an_optimising_organisation_is_at_level_5_everywhere() {
    assert_at_level(5);
}

#[test]
fn the_level_1_organisation_is_assessed_from_imported_records() {
    let assessment = organisation(1).assess();
    assert!(assessment.deployments > 0);
    assert_eq!(assessment.imported_deployments, assessment.deployments);
}

#[test]
fn the_trend_shows_the_risk_level_rise_when_a_model_is_trained() {
    // Given the level-4 organisation, whose model was trained 150 days before the period's end.
    let history = organisation(4);
    // When its trend over the last seven months is computed.
    let points = crate::trend::trend(&history.input(), 7).unwrap();
    // Then the months assessed before the model existed are at risk level 3, those after at 4.
    let risk = |point: &crate::TrendPoint| {
        point.dimensions.iter().find(|dimension| dimension.name == Dimension::RiskManagement).unwrap().level
    };
    assert_eq!(points.len(), 7);
    assert_eq!(points.last().unwrap().to, history.to);
    assert_eq!(points.last().unwrap().month, "2026-03");
    let trained = before_end(&history, 150);
    for point in &points {
        let expected = if point.to > trained { 4 } else { 3 };
        assert_eq!(risk(point), expected, "{}", point.month);
    }
    assert_eq!(points.iter().map(risk).min(), Some(3));
    assert_eq!(points.last().unwrap().overall_level, 4);
}
