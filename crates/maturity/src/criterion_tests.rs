//! One test per rubric criterion: a history that meets it and one that does not (and, for the
//! shares, one too small to tell, which never meets it).

use changegate_core::{ChangeType, CreatedBy, RiskClass, RollbackHookRun, SuggestedCause};

use crate::input::{AlertRuleEvidence, LedgerVerificationEvidence, RiskModelEvidence};
use crate::rubric::{CriterionKind, RUBRIC};
use crate::testing::{DAY_MS, HOUR_MS, History, START, approve, auto_approve, classify, fail, hours, name, review};

fn met(history: &History, id: &str) -> bool {
    history.check(id).met
}

/// `count` bare deployments, the first `with` of them edited by `edit`.
fn history_where(count: usize, with: usize, edit: impl Fn(&mut changegate_core::ChangeRecord)) -> History {
    let mut history = History::new();
    history.deployments(count, |number, change| {
        if number < with {
            edit(change);
        }
    });
    history
}

fn day(days_before_end: i64) -> changegate_core::Timestamp {
    START.plus_ms((90 - days_before_end) * DAY_MS)
}

#[test]
fn every_criterion_has_a_test_here() {
    let source = include_str!("criterion_tests.rs");
    for criterion in RUBRIC {
        let tested = source.contains(&format!("\"{}\"", criterion.id));
        assert!(tested, "no test names {}", criterion.id);
    }
}

// --- process -----------------------------------------------------------------------------------

#[test]
fn recorded_before_deployment() {
    // Given deployments recorded before they started, then met; recorded afterwards, unmet.
    let id = "process.recorded-before-deployment";
    assert!(met(&history_where(10, 0, |_| {}), id));
    let late = history_where(10, 6, |change| change.created_at = change.completed_at.unwrap().plus_ms(HOUR_MS));
    let measurement = late.check(id);
    assert!(!measurement.met);
    assert_eq!(measurement.value, Some(0.4));
    assert_eq!(measurement.evidence.sample_change_ids.len(), 5);
    // When there are too few deployments, then it is never met.
    let few = history_where(9, 0, |_| {});
    assert!(!few.check(id).met);
    assert!(few.check(id).evidence.summary.contains("at least 10"));
}

#[test]
fn approved_before_start() {
    let id = "process.approved-before-start";
    assert!(met(&history_where(10, 5, |change| approve(change, 10)), id));
    assert!(!met(&history_where(10, 4, |change| approve(change, 10)), id));
    // An approval after the start (retrospective) does not count here.
    assert!(!met(&history_where(10, 10, |change| approve(change, 24 * 60)), id));
}

#[test]
fn procedure_followed() {
    let id = "process.procedure-followed";
    let emergency = |reviewed: bool| {
        move |change: &mut changegate_core::ChangeRecord| {
            change.change_type = ChangeType::Emergency;
            approve(change, 24 * 60);
            if reviewed {
                review(change, None);
            }
        }
    };
    let mut followed = history_where(19, 19, |change| approve(change, 10));
    followed.deployment(emergency(true));
    assert!(met(&followed, id));
    let mut unreviewed = history_where(10, 10, |change| approve(change, 10));
    unreviewed.deployment(emergency(false));
    assert!(!met(&unreviewed, id));
}

#[test]
fn every_team() {
    let id = "process.every-team";
    let to_blog = |change: &mut changegate_core::ChangeRecord| {
        change.service = name("blog");
        change.team = Some(name("web"));
    };
    let mut both = History::new();
    both.deployments(5, |_, change| approve(change, 10));
    both.deployments(5, |_, change| {
        to_blog(change);
        approve(change, 10);
    });
    assert!(met(&both, id));
    let mut lagging = History::new();
    lagging.deployments(5, |_, change| approve(change, 10));
    lagging.deployments(5, |number, change| {
        to_blog(change);
        if number >= 2 {
            approve(change, 10);
        }
    });
    let measurement = lagging.check(id);
    assert!(!measurement.met);
    assert_eq!(measurement.value, Some(0.6));
    assert!(measurement.evidence.summary.contains("team web"), "{}", measurement.evidence.summary);
    // A team without five deployments is not judged; with no team judged, nothing can be told.
    assert!(!met(&history_where(4, 4, |change| approve(change, 10)), id));
}

#[test]
fn root_cause_analysis() {
    let id = "process.root-cause-analysis";
    let mut analysed = history_where(10, 2, |change| {
        fail(change);
        review(change, Some("schema drift"));
    });
    assert!(met(&analysed, id));
    // A deployment that caused an incident counts as failed too.
    let caused = analysed.changes[5].id;
    analysed.incident(caused, hours(100), Some(hours(101)));
    assert!(!met(&analysed, id));
    let unanalysed = history_where(10, 2, |change| {
        fail(change);
        review(change, None);
    });
    assert!(!met(&unanalysed, id));
    // Enough deployments and none failed: nothing needed a root cause.
    let clean = history_where(10, 0, |_| {});
    assert!(clean.check(id).met);
    assert_eq!(clean.check(id).value, None);
    assert!(!met(&history_where(9, 0, |_| {}), id));
}

#[test]
fn policy_decisions() {
    let id = "process.policy-decisions";
    let decided = |change: &mut changegate_core::ChangeRecord| {
        classify(change, RiskClass::Low);
        change.assessment.as_mut().unwrap().policy_sha256 = Some("ab12".into());
    };
    assert!(met(&history_where(10, 9, decided), id));
    assert!(!met(&history_where(10, 8, decided), id));
}

#[test]
fn refined_regularly() {
    let id = "process.refined-regularly";
    let mut refined = History::new();
    refined.live.policy_versions.push(day(10));
    refined.live.template_definitions.push(day(120));
    assert!(met(&refined, id));
    let mut once = History::new();
    once.live.policy_versions.push(day(10));
    once.live.policy_versions.push(day(20));
    assert!(!met(&once, id));
    assert_eq!(once.check(id).value, Some(1.0));
}

/// A question criterion: met when answered yes, unmet when answered no or not answered.
fn assert_question(id: &str) {
    let criterion = crate::rubric::criterion(id).unwrap();
    assert_eq!(criterion.kind, CriterionKind::Question);
    let mut history = History::new();
    let unanswered = history.check(id);
    assert!(!unanswered.met);
    assert!(unanswered.evidence.summary.contains("not answered"));
    history.answer(id, false);
    assert!(!met(&history, id));
    history.answer(id, true);
    let answered = history.check(id);
    assert!(answered.met);
    assert!(answered.evidence.summary.contains("by alice"), "{}", answered.evidence.summary);
    history.answers.insert(id.to_owned(), crate::Answer::from_file(true));
    assert!(history.check(id).evidence.summary.contains("not recorded"));
}

#[test]
fn process_documented() {
    assert_question("process.documented");
}

#[test]
fn process_roles_published() {
    assert_question("process.roles-published");
}

#[test]
fn process_kpis_reviewed() {
    assert_question("process.kpis-reviewed");
}

#[test]
fn process_feedback_loop() {
    assert_question("process.feedback-loop");
}

#[test]
fn audit_compliance_monitored() {
    assert_question("audit.compliance-monitored");
}

#[test]
fn audit_proactive_reporting() {
    assert_question("audit.proactive-reporting");
}

// --- risk management ---------------------------------------------------------------------------

#[test]
fn significant_assessed() {
    let id = "risk.significant-assessed";
    // Given five tier-1 deployments classified and five tier-4 ones not, then met: tier 4 is not
    // significant.
    let mut history = History::new();
    history.deployments(5, |_, change| classify(change, RiskClass::Medium));
    history.deployments(5, |_, change| change.service = name("blog"));
    assert!(met(&history, id));
    let unassessed = history_where(5, 3, |change| classify(change, RiskClass::Medium));
    assert!(!met(&unassessed, id));
    // An emergency to a tier-4 service is significant.
    let mut emergency = History::new();
    emergency.deployments(5, |_, change| {
        change.service = name("blog");
        change.change_type = ChangeType::Emergency;
    });
    assert!(!met(&emergency, id));
}

#[test]
fn formal_class_share() {
    let id = "risk.formal-class-share";
    assert!(met(&history_where(20, 19, |change| classify(change, RiskClass::Low)), id));
    assert!(!met(&history_where(20, 18, |change| classify(change, RiskClass::Low)), id));
    // A class recorded after the change started is not part of the process.
    let late = history_where(10, 10, |change| {
        classify(change, RiskClass::Low);
        change.assessment.as_mut().unwrap().at = change.completed_at.unwrap();
    });
    assert!(!met(&late, id));
}

#[test]
fn classes_used() {
    let id = "risk.classes-used";
    let mut spread = History::new();
    spread.deployments(10, |number, change| {
        classify(change, if number < 7 { RiskClass::Low } else { RiskClass::High });
    });
    assert!(met(&spread, id));
    assert_eq!(spread.check(id).value, Some(2.0));
    assert!(!met(&history_where(10, 10, |change| classify(change, RiskClass::Medium)), id));
    assert!(!met(&history_where(10, 9, |change| classify(change, RiskClass::Medium)), id), "too few classified");
}

#[test]
fn high_risk_reviewed() {
    let id = "risk.high-risk-reviewed";
    let reviewed = history_where(10, 2, |change| {
        classify(change, RiskClass::High);
        approve(change, 30);
    });
    assert!(met(&reviewed, id));
    let waved_through = history_where(10, 1, |change| {
        classify(change, RiskClass::Critical);
        auto_approve(change);
    });
    assert!(!met(&waved_through, id));
    // No high-risk change among enough deployments: nothing needed a person.
    assert!(met(&history_where(10, 10, |change| classify(change, RiskClass::Low)), id));
}

#[test]
fn security_evidence() {
    let id = "risk.security-evidence";
    assert!(met(&history_where(10, 8, |change| change.security_evidence = Some("scans clean".into())), id));
    assert!(!met(&history_where(10, 7, |change| change.security_evidence = Some("scans clean".into())), id));
}

#[test]
fn scored_before_start() {
    let id = "risk.scored-before-start";
    let scored = |change: &mut changegate_core::ChangeRecord| {
        classify(change, RiskClass::Low);
        change.assessment.as_mut().unwrap().risk_score = Some(12);
    };
    assert!(met(&history_where(10, 9, scored), id));
    assert!(!met(&history_where(10, 10, |change| classify(change, RiskClass::Low)), id));
}

fn model(auc: Option<f64>, days_before_end: i64) -> RiskModelEvidence {
    RiskModelEvidence { version: format!("m{days_before_end}"), auc, trained_at: day(days_before_end) }
}

#[test]
fn model_in_use() {
    let id = "risk.model-in-use";
    let mut history = History::new();
    assert!(!met(&history, id));
    assert!(history.check(id).evidence.summary.contains("no predictive risk model"));
    history.live.risk_models.push(model(Some(0.62), 40));
    assert!(!met(&history, id));
    history.live.risk_models.push(model(Some(0.78), 20));
    assert!(met(&history, id));
    // A model trained after the period's end was not in use during it.
    history.live.risk_models.push(model(Some(0.5), -5));
    assert!(met(&history, id));
    history.live.risk_models.push(model(None, 1));
    assert!(!met(&history, id));
}

#[test]
fn predictions_recorded() {
    let id = "risk.predictions-recorded";
    let predicted = |change: &mut changegate_core::ChangeRecord| {
        classify(change, RiskClass::Low);
        change.assessment.as_mut().unwrap().risk_probability = Some(0.04);
    };
    assert!(met(&history_where(10, 9, predicted), id));
    assert!(!met(&history_where(10, 8, predicted), id));
}

#[test]
fn model_current() {
    let id = "risk.model-current";
    let mut history = History::new();
    history.live.risk_models.push(model(Some(0.8), 120));
    assert!(!met(&history, id));
    history.live.risk_models.push(model(Some(0.8), 30));
    assert!(met(&history, id));
    assert_eq!(history.check(id).value, Some(30.0));
}

fn rule(kind: &str, days_before_end: i64) -> AlertRuleEvidence {
    AlertRuleEvidence { name: format!("{kind}-rule"), kind: kind.into(), defined_at: day(days_before_end) }
}

#[test]
fn risk_alerts() {
    let id = "risk.risk-alerts";
    let mut history = History::new();
    history.live.alert_rules.push(rule("compliance_violation", 10));
    history.live.alert_rules.push(rule("failure_rate", -1));
    assert!(!met(&history, id), "a compliance rule does not watch risk; a rule defined later does not count");
    history.live.alert_rules.push(rule("high_risk_change", 10));
    assert!(met(&history, id));
}

// --- metrics -----------------------------------------------------------------------------------

#[test]
fn change_count() {
    let id = "metrics.change-count";
    assert!(met(&history_where(10, 0, |_| {}), id));
    assert!(!met(&history_where(9, 0, |_| {}), id));
    // Open changes are not counted: they have not finished.
    let open = history_where(10, 1, |change| {
        change.verified_at = None;
        change.state = changegate_core::ChangeState::Implemented;
    });
    assert!(!met(&open, id));
}

#[test]
fn deployment_times() {
    let id = "metrics.deployment-times";
    // Given imported changes that finished without a deployment time.
    let untimed = |change: &mut changegate_core::ChangeRecord| {
        change.imported = true;
        change.started_at = None;
        change.completed_at = None;
        change.closed_at = change.verified_at;
        change.state = changegate_core::ChangeState::Closed;
    };
    assert!(met(&history_where(10, 2, untimed), id));
    let measurement = history_where(10, 3, untimed).check(id);
    assert!(!measurement.met);
    assert_eq!(measurement.evidence.population, Some(10));
}

#[test]
fn success_rate_tracked() {
    let id = "metrics.success-rate-tracked";
    let unverified = |change: &mut changegate_core::ChangeRecord| {
        change.verified_at = None;
        change.state = changegate_core::ChangeState::Implemented;
    };
    assert!(met(&history_where(10, 1, unverified), id));
    let measurement = history_where(10, 2, unverified).check(id);
    assert!(!measurement.met);
    assert!(measurement.evidence.summary.contains("success rate 100.0%"), "{}", measurement.evidence.summary);
}

#[test]
fn approval_time_tracked() {
    let id = "metrics.approval-time-tracked";
    let mut history = history_where(10, 10, |change| approve(change, 45));
    assert!(met(&history, id));
    assert!(history.check(id).evidence.summary.contains("median 45 min"));
    for change in history.changes.iter_mut().take(2) {
        change.submitted_at = None;
    }
    assert!(!met(&history, id));
}

#[test]
fn change_incidents_monitored() {
    let id = "metrics.change-incidents-monitored";
    let mut history = history_where(10, 0, |_| {});
    assert!(!met(&history, id), "no incident recorded: monitoring cannot be seen");
    let caused = history.changes[0].id;
    history.incident(caused, hours(10), Some(hours(11)));
    assert!(met(&history, id));
    let waiting = history.incident(None, hours(20), None);
    history.incidents[1].suggested_cause =
        Some(SuggestedCause { change: caused, rule: "latest-24h".into(), at: hours(20) });
    let measurement = history.check(id);
    assert!(!measurement.met);
    assert_eq!(measurement.evidence.sample_incident_ids, vec![waiting.to_string()]);
}

#[test]
fn recovery_time_measured() {
    let id = "metrics.recovery-time-measured";
    let rolled_back = |change: &mut changegate_core::ChangeRecord| {
        fail(change);
        change.rolled_back_at = change.failed_at.map(|failed| failed.plus_ms(20 * 60 * 1000));
    };
    assert!(met(&history_where(10, 2, rolled_back), id));
    // A failure never rolled back, without an incident and without a later success on its service.
    let mut unknown = History::new();
    unknown.deployments(10, |number, change| {
        if number == 9 {
            fail(change);
        }
    });
    assert!(!met(&unknown, id));
    assert!(met(&history_where(10, 0, |_| {}), id), "nothing failed");
}

#[test]
fn change_downtime_recorded() {
    let id = "metrics.change-downtime-recorded";
    let mut history = history_where(10, 0, |_| {});
    assert!(met(&history, id), "no change caused an incident");
    let caused = history.changes[0].id;
    history.incident(caused, hours(10), Some(hours(11)));
    assert!(!met(&history, id));
    history.incidents[0].downtime_minutes = Some(25);
    assert!(met(&history, id));
}

#[test]
fn recovery_within_hour() {
    let id = "metrics.recovery-within-hour";
    let rolled_back_after = |minutes: i64| {
        move |change: &mut changegate_core::ChangeRecord| {
            fail(change);
            change.rolled_back_at = change.failed_at.map(|failed| failed.plus_ms(minutes * 60 * 1000));
        }
    };
    let fast = history_where(10, 2, rolled_back_after(30));
    let measurement = fast.check(id);
    assert!(measurement.met);
    assert!(measurement.evidence.summary.contains("MTTR 30 min"), "{}", measurement.evidence.summary);
    assert!(!met(&history_where(10, 2, rolled_back_after(180)), id));
}

#[test]
fn approval_time_falling() {
    let id = "metrics.approval-time-falling";
    // Given five approvals in each of the last three quarters taking `minutes[quarter]`.
    let quarters = |minutes: [i64; 3]| {
        let mut history = History::new();
        for (quarter, minutes) in minutes.into_iter().enumerate() {
            let quarter_start = history.to.plus_ms(-(3 - quarter as i64) * 91 * DAY_MS);
            for number in 0..5 {
                history.deployment_at(quarter_start.plus_ms((number + 1) * 3 * DAY_MS), |change| {
                    approve(change, minutes);
                    // Started after the approval, so the approval comes first.
                    change.started_at = change.approved_at.map(|approved| approved.plus_ms(HOUR_MS));
                    change.completed_at = change.started_at.map(|started| started.plus_ms(HOUR_MS));
                    change.verified_at = change.completed_at;
                });
            }
        }
        history
    };
    assert!(met(&quarters([600, 400, 200]), id));
    assert!(!met(&quarters([200, 400, 600]), id));
    assert!(!met(&quarters([600, 700, 200]), id), "a quarter rose by more than 10 %");
    assert!(!met(&quarters([600, 590, 580]), id), "flat is not falling");
    assert!(met(&quarters([30, 40, 45]), id), "under an hour there is nothing left to cut");
    let mut short = quarters([600, 400, 200]);
    short.changes.remove(0);
    assert!(!met(&short, id), "four approvals in a quarter are too few");
}

// --- automation --------------------------------------------------------------------------------

#[test]
fn some_test_evidence() {
    let id = "automation.some-test-evidence";
    assert!(met(&history_where(12, 3, |change| change.test_evidence = Some("ci".into())), id));
    assert!(!met(&history_where(12, 2, |change| change.test_evidence = Some("ci".into())), id));
}

#[test]
fn routine_auto_approved() {
    let id = "automation.routine-auto-approved";
    let standard = |auto: bool| {
        move |change: &mut changegate_core::ChangeRecord| {
            change.change_type = ChangeType::Standard;
            if auto {
                auto_approve(change);
            } else {
                approve(change, 30);
            }
        }
    };
    assert!(met(&history_where(5, 5, standard(true)), id));
    assert!(!met(&history_where(5, 5, standard(false)), id));
    assert!(!met(&history_where(4, 4, standard(true)), id), "four routine changes are too few");
}

#[test]
fn tested() {
    let id = "automation.tested";
    assert!(met(&history_where(10, 8, |change| change.test_evidence = Some("ci".into())), id));
    assert!(!met(&history_where(10, 7, |change| change.test_evidence = Some("ci".into())), id));
}

#[test]
fn pipeline_created() {
    let id = "automation.pipeline-created";
    assert!(met(&history_where(10, 5, |change| change.created_by = CreatedBy::Pipeline), id));
    assert!(!met(&history_where(10, 4, |change| change.created_by = CreatedBy::Pipeline), id));
}

#[test]
fn pipeline_most() {
    let id = "automation.pipeline-most";
    assert!(met(&history_where(10, 9, |change| change.created_by = CreatedBy::Pipeline), id));
    assert!(!met(&history_where(10, 8, |change| change.created_by = CreatedBy::Pipeline), id));
}

#[test]
fn rollbacks_automated() {
    let id = "automation.rollbacks-automated";
    let rolled_back = |by_hook: bool| {
        move |change: &mut changegate_core::ChangeRecord| {
            fail(change);
            change.rolled_back_at = change.failed_at;
            if by_hook {
                change.rollback_hook_runs.push(RollbackHookRun {
                    trigger: "failed".into(),
                    target: "https://deploy.example/rollback".into(),
                    ok: true,
                    detail: "202".into(),
                    at: change.failed_at.unwrap(),
                });
            }
        }
    };
    assert!(met(&history_where(10, 1, rolled_back(true)), id));
    assert!(!met(&history_where(10, 1, rolled_back(false)), id));
    // Without any rollback in the period, the services' hooks tell.
    let mut hooked = history_where(10, 0, |_| {});
    assert!(!met(&hooked, id));
    hooked.live.rollback_hooks.push("payments-api".into());
    assert!(met(&hooked, id));
}

#[test]
fn alerts() {
    let id = "automation.alerts";
    let mut history = History::new();
    assert!(!met(&history, id));
    history.live.alert_rules.push(rule("deployment_failed", 3));
    assert!(met(&history, id));
}

#[test]
fn end_to_end() {
    let id = "automation.end-to-end";
    let automated = |change: &mut changegate_core::ChangeRecord| {
        change.created_by = CreatedBy::Pipeline;
        auto_approve(change);
    };
    assert!(met(&history_where(10, 5, automated), id));
    assert!(!met(&history_where(10, 10, |change| change.created_by = CreatedBy::Pipeline), id));
}

#[test]
fn model_validated_approval() {
    let id = "automation.model-validated-approval";
    let validated = |with_model: bool| {
        move |change: &mut changegate_core::ChangeRecord| {
            classify(change, RiskClass::Low);
            auto_approve(change);
            if with_model {
                change.assessment.as_mut().unwrap().risk_probability = Some(0.02);
            }
        }
    };
    assert!(met(&history_where(10, 5, validated(true)), id));
    assert!(!met(&history_where(10, 10, validated(false)), id));
}

// --- audit and compliance ----------------------------------------------------------------------

#[test]
fn basic_documentation() {
    let id = "audit.basic-documentation";
    assert!(met(&history_where(10, 5, |change| change.description = "Bump the TLS library".into()), id));
    assert!(!met(&history_where(10, 4, |change| change.rollback_plan = Some("redeploy".into())), id));
}

#[test]
fn full_documentation() {
    let id = "audit.full-documentation";
    let documented = |change: &mut changegate_core::ChangeRecord| {
        classify(change, RiskClass::Low);
        approve(change, 10);
        change.rollback_plan = Some("redeploy the previous release".into());
    };
    assert!(met(&history_where(10, 9, documented), id));
    let without_plans = history_where(10, 10, |change| {
        classify(change, RiskClass::Low);
        approve(change, 10);
    });
    assert!(!met(&without_plans, id));
}

#[test]
fn emergency_reviewed() {
    let id = "audit.emergency-reviewed";
    let emergency = |reviewed: bool| {
        move |change: &mut changegate_core::ChangeRecord| {
            change.change_type = ChangeType::Emergency;
            if reviewed {
                review(change, None);
            }
        }
    };
    assert!(met(&history_where(10, 2, emergency(true)), id));
    assert!(!met(&history_where(10, 2, emergency(false)), id));
    assert!(met(&history_where(10, 0, |_| {}), id), "no emergency needed a review");
}

fn verification(days_before_end: i64, ok: bool) -> LedgerVerificationEvidence {
    LedgerVerificationEvidence { at: day(days_before_end), ok }
}

#[test]
fn ledger_verified() {
    let id = "audit.ledger-verified";
    let mut history = History::new();
    assert!(!met(&history, id));
    history.live.ledger_verifications.push(verification(40, true));
    assert!(!met(&history, id), "too old");
    history.live.ledger_verifications.push(verification(10, true));
    assert!(met(&history, id));
    history.live.ledger_verifications.push(verification(5, false));
    let measurement = history.check(id);
    assert!(!measurement.met);
    assert!(measurement.evidence.summary.contains("failed"));
}

#[test]
fn self_auditing() {
    let id = "audit.self-auditing";
    // Given deployments every seven hours over the period, a checkpoint signed every day and a
    // verification three days before the end.
    let daily_history = || {
        let mut history = History::new();
        history.deployments(300, |_, _| {});
        for days in 0..90 {
            history.live.checkpoints.push(START.plus_ms(days * DAY_MS + 3 * HOUR_MS));
        }
        history.live.ledger_verifications.push(verification(3, true));
        history
    };
    // When it runs every day, then met.
    assert!(met(&daily_history(), id));
    // When a day with deployments has no checkpoint that day or the next, then unmet.
    let mut gap = daily_history();
    gap.live.checkpoints.retain(|time| {
        let day_number = time.since_ms(START) / DAY_MS;
        day_number != 80 && day_number != 81
    });
    let measurement = gap.check(id);
    assert!(!measurement.met);
    assert!(measurement.evidence.summary.contains("none near 2026-03-22"), "{}", measurement.evidence.summary);
    // When the newest verification is too old, then unmet.
    let mut stale = daily_history();
    stale.live.ledger_verifications = vec![verification(10, true)];
    assert!(!met(&stale, id));
}

#[test]
fn real_time_compliance() {
    let id = "audit.real-time-compliance";
    let mut history = History::new();
    history.live.alert_rules.push(rule("high_risk_change", 3));
    assert!(!met(&history, id));
    history.live.alert_rules.push(rule("compliance_violation", 3));
    assert!(met(&history, id));
}
