//! Property test: a history that is better in every respect never scores lower in any dimension.
//!
//! "Better in every respect" is the same organisation (the same changes, outcomes and incidents)
//! doing each thing at least as well: records opened earlier, risk assessed, scored and predicted,
//! policy decisions recorded, changes from the pipeline, more evidence and documentation, root
//! causes and reviews, automated rollbacks, routine changes pre-approved instead of waiting for a
//! person, every approval faster by the same factor, incidents resolved, with their downtime, and
//! suggestions settled; a newer model at least as good, fresher verifications, more checkpoints,
//! alert rules and policy refinements, and questions answered yes. It does not add measurements
//! that did not exist (a submission time where none was recorded): a trend over a different set
//! of approvals is not the same organisation doing better.

use changegate_core::{ChangeRecord, ChangeState, ChangeType, CreatedBy, RiskClass, SuggestedCause, Timestamp};
use proptest::prelude::*;

use crate::input::{AlertRuleEvidence, LedgerVerificationEvidence, RiskModelEvidence};
use crate::rubric::{CriterionKind, RUBRIC};
use crate::testing::{DAY_MS, HOUR_MS, History, START, approve, auto_approve, classify, fail, name, review};

/// A small deterministic generator (SplitMix64), so one seed gives one history.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// True with probability `chance`.
    fn chance(&mut self, chance: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= chance
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// A random organisation whose every practice is followed with probability `quality`.
fn random_history(seed: u64, quality: f64) -> History {
    let mut dice = Dice(seed);
    let mut history = History::new();
    let count = 40 + dice.below(60) as i64;
    let first = START.plus_ms(-180 * DAY_MS);
    let step_hours = (270 * 24) / count;
    for index in 0..count {
        let at = first.plus_ms(index * step_hours * HOUR_MS + dice.below(5) as i64 * HOUR_MS);
        history.deployment_at(at, |change| random_change(change, &mut dice, quality));
    }
    let ids: Vec<_> =
        history.changes.iter().filter(|change| change.failed_at.is_some()).map(|change| change.id).collect();
    for id in ids {
        if dice.chance(0.5) {
            let failed = history.changes.iter().find(|change| change.id == id).and_then(|change| change.failed_at);
            let detected = failed.unwrap_or(START);
            let resolved = dice.chance(quality).then(|| detected.plus_ms(dice.below(240) as i64 * 60_000));
            history.incident(id, detected, resolved);
            if dice.chance(quality) {
                history.incidents.last_mut().unwrap().downtime_minutes = Some(10);
            }
        }
    }
    for days in [10, 40, 70] {
        if dice.chance(0.7) {
            let incident = history.incident(None, START.plus_ms(days * DAY_MS), None);
            if dice.chance(1.0 - quality) {
                let change = history.changes[0].id;
                let suggested = SuggestedCause { change, rule: "latest-24h".into(), at: START };
                history.incidents.iter_mut().find(|record| record.id == incident).unwrap().suggested_cause =
                    Some(suggested);
            }
        }
    }
    let live = &mut history.live;
    let end = START.plus_ms(90 * DAY_MS);
    if dice.chance(quality) {
        let auc = 0.5 + quality * 0.4;
        let trained_at = end.plus_ms(-(dice.below(200) as i64 + 1) * DAY_MS);
        live.risk_models.push(RiskModelEvidence { version: "m1".into(), auc: Some(auc), trained_at });
    }
    if dice.chance(quality) {
        let at = end.plus_ms(-(dice.below(40) as i64 + 1) * DAY_MS);
        live.ledger_verifications.push(LedgerVerificationEvidence { at, ok: dice.chance(0.9) });
    }
    for day in 0..90 {
        if dice.chance(quality) {
            live.checkpoints.push(START.plus_ms(day * DAY_MS + 12 * HOUR_MS));
        }
    }
    for kind in ["high_risk_change", "compliance_violation", "escalation"] {
        if dice.chance(quality) {
            let defined_at = end.plus_ms(-(dice.below(100) as i64) * DAY_MS);
            live.alert_rules.push(AlertRuleEvidence { name: kind.replace('_', "-"), kind: kind.into(), defined_at });
        }
    }
    for days in [30, 130] {
        if dice.chance(quality) {
            live.policy_versions.push(end.plus_ms(-days * DAY_MS));
        }
    }
    if dice.chance(quality) {
        live.rollback_hooks.push("payments-api".into());
    }
    for question in RUBRIC.iter().filter(|criterion| criterion.kind == CriterionKind::Question) {
        if dice.chance(0.7) {
            let yes = dice.chance(quality);
            history.answer(question.id, yes);
        }
    }
    history
}

fn random_change(change: &mut ChangeRecord, dice: &mut Dice, quality: f64) {
    let (blog, standard, emergency) = (dice.chance(0.3), dice.chance(0.2), dice.chance(0.05));
    let (classified, scored, predicted, decided) =
        (dice.chance(quality), dice.chance(quality), dice.chance(quality), dice.chance(quality));
    let (pipeline, tested, secured, planned, described) =
        (dice.chance(quality), dice.chance(quality), dice.chance(quality), dice.chance(quality), dice.chance(quality));
    let (approval, auto) = (dice.below(3), dice.chance(quality));
    let (imported, retro, untimed) = (dice.chance(0.3), !dice.chance(quality), dice.chance(0.1));
    let (fails, rolled_back, automated, reviewed, root_cause) =
        (dice.chance(0.1), dice.chance(0.5), dice.chance(quality), dice.chance(quality), dice.chance(quality));
    let approval_minutes = 5 + dice.below(600) as i64;
    let class = match dice.below(4) {
        0 => RiskClass::Low,
        1 => RiskClass::Medium,
        2 => RiskClass::High,
        _ => RiskClass::Critical,
    };
    if blog {
        change.service = name("blog");
        change.team = Some(name("web"));
    }
    change.change_type = if emergency {
        ChangeType::Emergency
    } else if standard {
        ChangeType::Standard
    } else {
        ChangeType::Normal
    };
    if classified {
        classify(change, class);
        let assessment = change.assessment.as_mut().unwrap();
        assessment.risk_score = scored.then_some(40);
        assessment.risk_probability = predicted.then_some(0.1);
        assessment.policy_sha256 = decided.then(|| "ab".to_owned());
    }
    if pipeline {
        change.created_by = CreatedBy::Pipeline;
    }
    change.test_evidence = tested.then(|| "ci".to_owned());
    change.security_evidence = secured.then(|| "scans".to_owned());
    change.rollback_plan = planned.then(|| "redeploy".to_owned());
    if described {
        change.description = "what and why".into();
    }
    match approval {
        0 => {}
        1 if auto && !matches!(class, RiskClass::High | RiskClass::Critical) => auto_approve(change),
        _ => approve(change, approval_minutes),
    }
    change.imported = imported;
    if retro {
        change.created_at = change.completed_at.unwrap().plus_ms(HOUR_MS);
    }
    if fails {
        fail(change);
        if rolled_back {
            change.rolled_back_at = change.failed_at.map(|failed| failed.plus_ms(dice.below(180) as i64 * 60_000));
            change.state = ChangeState::RolledBack;
            change.rollback_automated = automated;
        }
        if reviewed {
            review(change, root_cause.then_some("cause"));
        }
    } else if emergency && reviewed {
        review(change, None);
    }
    if untimed && !fails {
        change.started_at = None;
        change.completed_at = None;
        change.closed_at = change.verified_at;
        change.state = ChangeState::Closed;
        change.imported = true;
    }
}

/// The same organisation doing better: each practice not yet followed is taken up with
/// probability `uptake`, and every approval is `factor` times as long.
fn improved(history: &History, seed: u64, uptake: f64, factor: f64) -> History {
    let mut dice = Dice(seed ^ 0x5EED);
    let mut better = History { changes: history.changes.clone(), ..History::new() };
    better.incidents = history.incidents.clone();
    better.live = history.live.clone();
    better.answers = history.answers.clone();
    for change in &mut better.changes {
        if let (Some(submitted), Some(approved)) = (change.submitted_at, change.approved_at) {
            let scaled = (approved.since_ms(submitted) as f64 * factor) as i64;
            change.approved_at = Some(submitted.plus_ms(scaled));
        }
        if change.assessment.is_none() && dice.chance(uptake) {
            // Classified at creation as low risk, without inventing a submission time.
            let submitted = change.submitted_at;
            classify(change, RiskClass::Low);
            change.submitted_at = submitted;
        }
        if let Some(assessment) = change.assessment.as_mut() {
            if dice.chance(uptake) {
                assessment.risk_score.get_or_insert(20);
            }
            if dice.chance(uptake) {
                assessment.risk_probability.get_or_insert(0.05);
            }
            if dice.chance(uptake) {
                assessment.policy_sha256.get_or_insert_with(|| "cd".to_owned());
            }
        }
        let high = change
            .assessment
            .as_ref()
            .is_some_and(|assessment| matches!(assessment.risk_class, RiskClass::High | RiskClass::Critical));
        if change.approved_at.is_some() && !change.auto_approved && !high && dice.chance(uptake) {
            change.auto_approved = true;
        }
        if dice.chance(uptake) {
            change.created_by = CreatedBy::Pipeline;
        }
        if dice.chance(uptake) {
            change.test_evidence.get_or_insert_with(|| "ci".to_owned());
        }
        if dice.chance(uptake) {
            change.security_evidence.get_or_insert_with(|| "scans".to_owned());
        }
        if dice.chance(uptake) {
            change.rollback_plan.get_or_insert_with(|| "redeploy".to_owned());
        }
        if change.description.is_empty() && dice.chance(uptake) {
            change.description = "what and why".into();
        }
        if let Some(start) = change.started_at
            && change.created_at > start
            && dice.chance(uptake)
        {
            change.created_at = start.plus_ms(-HOUR_MS);
        }
        let lacks_cause = change.review.as_ref().is_none_or(|review| review.root_cause.is_none());
        if lacks_cause && dice.chance(uptake) {
            review(change, Some("found"));
        }
        if change.rolled_back_at.is_some() && dice.chance(uptake) {
            change.rollback_automated = true;
        }
    }
    for incident in &mut better.incidents {
        if incident.resolved_at.is_none() && dice.chance(uptake) {
            incident.resolved_at = Some(incident.detected_at.plus_ms(30 * 60_000));
        }
        if incident.downtime_minutes.is_none() && dice.chance(uptake) {
            incident.downtime_minutes = Some(5);
        }
        if let Some(suggested) = incident.suggested_cause.take_if(|_| dice.chance(uptake)) {
            incident.rejected_causes.push(suggested.change);
        }
    }
    let end = START.plus_ms(90 * DAY_MS);
    let live = &mut better.live;
    if dice.chance(uptake) {
        let best = live.risk_models.iter().filter_map(|model| model.auc).fold(0.7_f64, f64::max);
        let newest = live.risk_models.iter().map(|model| model.trained_at).max().unwrap_or(Timestamp::from_unix_ms(0));
        let trained_at = newest.max(end.plus_ms(-10 * DAY_MS)).plus_ms(1);
        if trained_at < end {
            live.risk_models.push(RiskModelEvidence { version: "m2".into(), auc: Some(best + 0.05), trained_at });
        }
    }
    if dice.chance(uptake) {
        let newest = live.ledger_verifications.iter().map(|verification| verification.at).max();
        let at = newest.unwrap_or(START).max(end.plus_ms(-DAY_MS)).plus_ms(1);
        if at < end {
            live.ledger_verifications.push(LedgerVerificationEvidence { at, ok: true });
        }
    }
    for day in 0..90 {
        if dice.chance(uptake) {
            live.checkpoints.push(START.plus_ms(day * DAY_MS + 13 * HOUR_MS));
        }
    }
    for kind in ["failure_rate", "compliance_violation", "escalation"] {
        if dice.chance(uptake) {
            live.alert_rules.push(AlertRuleEvidence {
                name: format!("{kind}-2"),
                kind: kind.into(),
                defined_at: START,
            });
        }
    }
    for days in [20, 120] {
        if dice.chance(uptake) {
            live.policy_versions.push(end.plus_ms(-days * DAY_MS));
        }
    }
    if dice.chance(uptake) {
        live.rollback_hooks.push("blog".into());
    }
    for question in RUBRIC.iter().filter(|criterion| criterion.kind == CriterionKind::Question) {
        if dice.chance(uptake) {
            better.answer(question.id, true);
        }
    }
    better
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_history_better_in_every_respect_never_scores_lower(
        seed in any::<u64>(),
        quality in 0.0f64..1.0,
        uptake in 0.0f64..1.0,
        sixteenths in 3u32..=16,
    ) {
        // Given an organisation, and the same organisation doing better.
        let history = random_history(seed, quality);
        // Approval times are whole minutes; scaling them by sixteenths keeps them exact.
        let better = improved(&history, seed, uptake, f64::from(sixteenths) / 16.0);
        // When both are assessed.
        let before = history.assess();
        let after = better.assess();
        // Then no dimension is lower, and no criterion that held stops holding.
        for (was, now) in before.dimensions.iter().zip(&after.dimensions) {
            prop_assert!(now.level >= was.level, "{:?}: {} → {}", was.name, was.level, now.level);
            for (held, holds) in was.criteria.iter().zip(&now.criteria) {
                prop_assert!(!held.met || holds.met, "{} held before: {} / now: {}", held.id, held.evidence.summary, holds.evidence.summary);
            }
        }
        prop_assert!(after.overall_level >= before.overall_level);
    }
}

#[test]
fn the_generator_reaches_beyond_level_1() {
    // The property is only worth something if random organisations reach several levels.
    let mut highest = 0;
    for seed in 0..40 {
        let history = random_history(seed, 0.97);
        let better = improved(&history, seed, 1.0, 0.1);
        highest = highest.max(better.assess().dimensions.iter().map(|dimension| dimension.level).max().unwrap_or(1));
    }
    assert!(highest >= 3, "highest level reached: {highest}");
}
