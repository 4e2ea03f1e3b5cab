//! The check of every criterion: a measurement over the period's facts, compared with the
//! criterion's threshold, with the evidence behind it (the measured value, how many items were
//! measured, and sample ids of the records that do not meet the check: the ones to fix).
//!
//! Shares are over a population with a minimum sample, so an empty or tiny period is never
//! "met". Criteria about failures (root causes, recovery, downtime, emergencies) are the
//! exception that is stated on each: when the period had enough deployments and none of them
//! failed, there is nothing to analyse and the criterion holds, saying so; demanding failures to
//! prove maturity would reward failing.

use std::collections::{BTreeMap, BTreeSet};

use changegate_core::{ChangeOutcome, ChangeRecord, ChangeType, CreatedBy, IncidentRecord, RiskClass, Timestamp};

use crate::civil::{DAY_MS, date_text, day_of};
use crate::criterion::{Comparison, Criterion, DEPLOYMENTS_MIN, Evidence, Measurement, TEAM_DEPLOYMENTS_MIN};
use crate::facts::{
    Facts, approval_minutes, approved_by_person, followed_procedure, is_approved_before_start, median, start_of,
    was_approved,
};
use crate::input::{AlertRuleEvidence, RiskModelEvidence};

/// Sample ids listed per criterion: enough to start fixing, few enough to read.
pub(crate) const SAMPLES_MAX: usize = 5;
/// Length of a quarter in the trend criteria.
const QUARTER_MS: i64 = 91 * DAY_MS;
/// Recovery counted as fast at this many minutes or fewer.
const RECOVERY_FAST_MINUTES: f64 = 60.0;
/// A median approval time this short has nothing left to cut.
const APPROVAL_FAST_MINUTES: f64 = 60.0;
/// How much a quarter's median approval time may rise over the one before and still count as
/// falling (noise in small samples).
const APPROVAL_RISE_TOLERANCE: f64 = 1.1;
/// The newest ledger verification counts for self-auditing when at most this old.
const SELF_AUDIT_VERIFICATION_DAYS_MAX: f64 = 7.0;
/// The window of days with deployments that need a checkpoint.
const SELF_AUDIT_WINDOW_DAYS: i64 = 30;
/// Tolerance of float comparisons with thresholds.
const EPSILON: f64 = 1e-9;

/// `0.847` → `84.7%`.
pub(crate) fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Minutes for people: `45 min`, `5.2 h`, `3.1 days`.
pub(crate) fn duration_text(minutes: f64) -> String {
    if minutes < 90.0 {
        format!("{minutes:.0} min")
    } else if minutes < 48.0 * 60.0 {
        format!("{:.1} h", minutes / 60.0)
    } else {
        format!("{:.1} days", minutes / (24.0 * 60.0))
    }
}

/// Whether `value` meets the criterion's threshold.
fn meets(criterion: &Criterion, value: f64) -> bool {
    match criterion.comparison {
        Comparison::AtLeast => value + EPSILON >= criterion.threshold,
        Comparison::AtMost => value <= criterion.threshold + EPSILON,
    }
}

/// A record that can be named as a sample.
pub(crate) trait Sampled {
    fn add_to(&self, evidence: &mut Evidence);
}

impl Sampled for &ChangeRecord {
    fn add_to(&self, evidence: &mut Evidence) {
        if evidence.sample_change_ids.len() < SAMPLES_MAX {
            evidence.sample_change_ids.push(self.id.to_string());
        }
    }
}

impl Sampled for &IncidentRecord {
    fn add_to(&self, evidence: &mut Evidence) {
        if evidence.sample_incident_ids.len() < SAMPLES_MAX {
            evidence.sample_incident_ids.push(self.id.to_string());
        }
    }
}

/// What a share is measured over.
struct Population<'p, T> {
    items: &'p [T],
    /// Plural noun for the items: "production deployments".
    noun: &'p str,
    /// For criteria about failures: why an empty population means there was nothing to do.
    when_none: Option<&'p str>,
}

/// The share of `population` that `passes`, against the criterion's threshold and sample.
fn share<T: Sampled>(
    facts: &Facts<'_>,
    criterion: &Criterion,
    population: Population<'_, T>,
    passes: impl Fn(&T) -> bool,
) -> Measurement {
    let Population { items, noun, when_none } = population;
    let total = items.len() as u64;
    let mut evidence = Evidence { population: Some(total), ..Evidence::default() };
    let mut matching = 0u64;
    for item in items {
        if passes(item) {
            matching += 1;
        } else {
            item.add_to(&mut evidence);
        }
    }
    evidence.matching = Some(matching);
    let deployments = facts.deployments.len() as u64;
    if total == 0
        && let Some(reason) = when_none
    {
        let enough = deployments >= u64::from(DEPLOYMENTS_MIN);
        evidence.summary = if enough {
            format!("no {noun} among the period's {deployments} production deployments: {reason}")
        } else {
            format!(
                "no {noun}, and only {deployments} production deployments in the period: at least {DEPLOYMENTS_MIN} are needed to tell"
            )
        };
        let shortfall = u64::from(DEPLOYMENTS_MIN).saturating_sub(deployments);
        return Measurement { met: enough, value: None, evidence, shortfall };
    }
    let value = (total > 0).then(|| matching as f64 / total as f64);
    if total < u64::from(criterion.sample_min) {
        evidence.summary = format!(
            "only {total} {noun} in the period: at least {} are needed to tell{}",
            criterion.sample_min,
            value.map(|value| format!(" ({matching} of {total}, {})", percent(value))).unwrap_or_default()
        );
        return Measurement { met: false, value, evidence, shortfall: u64::from(criterion.sample_min) - total };
    }
    let value = value.unwrap_or(0.0);
    let needed = ((criterion.threshold * total as f64) - EPSILON).ceil().max(0.0) as u64;
    evidence.summary = format!("{matching} of {total} {noun} ({})", percent(value));
    Measurement {
        met: meets(criterion, value),
        value: Some(value),
        evidence,
        shortfall: needed.saturating_sub(matching),
    }
}

/// A measurement about the installation as a whole (live evidence, answers, counts).
fn whole(facts: &Facts<'_>, criterion: &Criterion, value: Option<f64>, summary: String) -> Measurement {
    let met = value.is_some_and(|value| meets(criterion, value));
    let shortfall = if met { 0 } else { (facts.deployments.len() as u64).max(1) };
    Measurement { met, value, evidence: Evidence { summary, ..Evidence::default() }, shortfall }
}

fn deployments_noun() -> &'static str {
    "production deployments"
}

// --- questions ---------------------------------------------------------------------------------

pub(crate) fn answered_yes(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let Some(answer) = facts.answers.get(criterion.id) else {
        return whole(
            facts,
            criterion,
            None,
            "not answered: an unanswered question counts as no (answer it with `changegate assess --interactive`, \
             on the maturity page, or in an answers file)"
                .to_owned(),
        );
    };
    let said = if answer.yes { "yes" } else { "no" };
    let summary = match (&answer.answered_by, answer.answered_at) {
        (Some(by), Some(at)) => format!("answered {said} by {by} on {}", date_text(at)),
        (Some(by), None) => format!("answered {said} by {by}"),
        (None, _) => format!("answered {said} in the answers file given for this run (not recorded)"),
    };
    whole(facts, criterion, Some(if answer.yes { 1.0 } else { 0.0 }), summary)
}

// --- process -----------------------------------------------------------------------------------

pub(crate) fn recorded_before_deployment(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| start_of(change).is_none_or(|start| change.created_at <= start))
}

pub(crate) fn approved_before_start(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| is_approved_before_start(change))
}

pub(crate) fn procedure_followed(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| followed_procedure(change))
}

pub(crate) fn every_team(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let mut teams: BTreeMap<String, Vec<&ChangeRecord>> = BTreeMap::new();
    for change in &facts.deployments {
        teams.entry(facts.team_of(change)).or_default().push(change);
    }
    let judged: Vec<(&String, &Vec<&ChangeRecord>)> =
        teams.iter().filter(|(_, changes)| changes.len() >= TEAM_DEPLOYMENTS_MIN as usize).collect();
    let not_judged = teams.len() - judged.len();
    let share_of = |changes: &[&ChangeRecord]| {
        changes.iter().filter(|change| followed_procedure(change)).count() as f64 / changes.len() as f64
    };
    let Some((worst_team, worst_changes)) =
        judged.iter().min_by(|left, right| share_of(left.1).total_cmp(&share_of(right.1)).then(left.0.cmp(right.0)))
    else {
        let summary = format!(
            "no team had {TEAM_DEPLOYMENTS_MIN} production deployments in the period ({} teams deployed): too few to tell",
            teams.len()
        );
        return Measurement {
            met: false,
            value: None,
            evidence: Evidence { summary, population: Some(0), ..Evidence::default() },
            shortfall: u64::from(TEAM_DEPLOYMENTS_MIN),
        };
    };
    let population = Population { items: worst_changes.as_slice(), noun: "deployments", when_none: None };
    let mut measurement = share(facts, criterion, population, |change| followed_procedure(change));
    measurement.evidence.summary = format!(
        "lowest: team {worst_team}, {}; {} teams judged{}",
        measurement.evidence.summary,
        judged.len(),
        if not_judged > 0 {
            format!(", {not_judged} with fewer than {TEAM_DEPLOYMENTS_MIN} deployments not judged")
        } else {
            String::new()
        }
    );
    measurement
}

pub(crate) fn root_cause_analysis(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population {
        items: &facts.failed,
        noun: "failed production deployments",
        when_none: Some("nothing needed a root cause"),
    };
    share(facts, criterion, population, |change| {
        change
            .review
            .as_ref()
            .and_then(|review| review.root_cause.as_deref())
            .is_some_and(|cause| !cause.trim().is_empty())
    })
}

pub(crate) fn policy_decisions(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| {
        change.assessment.as_ref().is_some_and(|assessment| assessment.policy_sha256.is_some())
    })
}

pub(crate) fn refined_regularly(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let live = facts.live;
    let refinements: Vec<Timestamp> = live
        .policy_versions
        .iter()
        .chain(&live.template_definitions)
        .copied()
        .filter(|time| *time < facts.to)
        .collect();
    let quarter_has = |quarter: i64| {
        let end = facts.to.plus_ms(-quarter * QUARTER_MS);
        let start = end.plus_ms(-QUARTER_MS);
        refinements.iter().any(|time| start <= *time && *time < end)
    };
    let latest = quarter_has(0);
    let before = quarter_has(1);
    let count = u32::from(latest) + u32::from(before);
    let summary = format!(
        "{} policy versions and template definitions before the period's end; the last quarter {}, the quarter before {}",
        refinements.len(),
        if latest { "had one" } else { "had none" },
        if before { "had one" } else { "had none" }
    );
    whole(facts, criterion, Some(f64::from(count)), summary)
}

// --- risk management ---------------------------------------------------------------------------

/// A change whose risk matters most: to a tier-1 or tier-2 service (or an unknown one), or an
/// emergency.
fn significant(facts: &Facts<'_>, change: &ChangeRecord) -> bool {
    change.change_type == ChangeType::Emergency
        || facts.service(change.service.as_str()).is_none_or(|service| service.tier.value() <= 2)
}

/// Whether the change's risk class was recorded before it started.
fn classified_before_start(change: &ChangeRecord) -> bool {
    let Some(assessment) = &change.assessment else { return false };
    start_of(change).is_none_or(|start| assessment.at <= start)
}

pub(crate) fn significant_assessed(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let significant: Vec<&ChangeRecord> =
        facts.deployments.iter().copied().filter(|change| significant(facts, change)).collect();
    let population = Population { items: &significant, noun: "significant production deployments", when_none: None };
    share(facts, criterion, population, |change| change.assessment.is_some())
}

pub(crate) fn formal_class_share(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| classified_before_start(change))
}

pub(crate) fn classes_used(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let classified: Vec<&ChangeRecord> =
        facts.deployments.iter().copied().filter(|change| change.assessment.is_some()).collect();
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for change in &classified {
        if let Some(assessment) = &change.assessment {
            *counts.entry(assessment.risk_class.as_str()).or_default() += 1;
        }
    }
    let distribution = counts.iter().map(|(class, count)| format!("{class} {count}")).collect::<Vec<_>>().join(", ");
    if (classified.len() as u64) < u64::from(criterion.sample_min) {
        let summary = format!(
            "only {} classified production deployments in the period: at least {} are needed to tell",
            classified.len(),
            criterion.sample_min
        );
        let mut measurement = whole(facts, criterion, None, summary);
        measurement.shortfall = u64::from(criterion.sample_min) - classified.len() as u64;
        return measurement;
    }
    let summary =
        format!("{} classes among {} classified deployments ({distribution})", counts.len(), classified.len());
    whole(facts, criterion, Some(counts.len() as f64), summary)
}

pub(crate) fn high_risk_reviewed(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let high: Vec<&ChangeRecord> = facts
        .deployments
        .iter()
        .copied()
        .filter(|change| {
            change
                .assessment
                .as_ref()
                .is_some_and(|assessment| matches!(assessment.risk_class, RiskClass::High | RiskClass::Critical))
        })
        .collect();
    let population = Population {
        items: &high,
        noun: "high- or critical-risk production deployments",
        when_none: Some("no high-risk change needed a person's review"),
    };
    share(facts, criterion, population, |change| approved_by_person(change))
}

pub(crate) fn security_evidence(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| change.security_evidence.is_some())
}

pub(crate) fn scored_before_start(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| {
        classified_before_start(change)
            && change.assessment.as_ref().is_some_and(|assessment| assessment.risk_score.is_some())
    })
}

/// The model in use at the period's end: the newest trained before it.
fn model_at<'a>(facts: &Facts<'a>) -> Option<&'a RiskModelEvidence> {
    facts.live.risk_models.iter().filter(|model| model.trained_at < facts.to).max_by_key(|model| model.trained_at)
}

const NO_MODEL: &str = "no predictive risk model trained before the period's end (train one on the history, \
                        imported or live, with `changegate risk train`)";

pub(crate) fn model_in_use(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let Some(model) = model_at(facts) else {
        return whole(facts, criterion, None, NO_MODEL.to_owned());
    };
    let summary = match model.auc {
        Some(auc) => format!("model {} trained {}: ROC AUC {auc:.3}", model.version, date_text(model.trained_at)),
        None => format!(
            "model {} trained {}: ROC AUC not measurable (its validation changes all had one outcome)",
            model.version,
            date_text(model.trained_at)
        ),
    };
    whole(facts, criterion, model.auc.filter(|auc| auc.is_finite()), summary)
}

pub(crate) fn predictions_recorded(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| {
        change.assessment.as_ref().is_some_and(|assessment| assessment.risk_probability.is_some())
    })
}

/// Whole days (to a tenth) from `time` to the period's end.
fn days_before_end(facts: &Facts<'_>, time: Timestamp) -> f64 {
    (facts.to.since_ms(time) as f64 / DAY_MS as f64 * 10.0).round() / 10.0
}

pub(crate) fn model_current(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let Some(model) = model_at(facts) else {
        return whole(facts, criterion, None, NO_MODEL.to_owned());
    };
    let days = days_before_end(facts, model.trained_at);
    let summary = format!(
        "model {} was trained {} ({days} days before the period's end)",
        model.version,
        date_text(model.trained_at)
    );
    whole(facts, criterion, Some(days), summary)
}

/// Alert rules defined by the period's end whose kind passes `watches`.
fn rules_watching<'a>(facts: &Facts<'a>, watches: impl Fn(&str) -> bool) -> Vec<&'a AlertRuleEvidence> {
    facts
        .live
        .alert_rules
        .iter()
        .filter(|rule| rule.defined_at < facts.to && watches(&rule.kind.to_ascii_lowercase()))
        .collect()
}

/// Kinds of alert rule that watch risk: high-risk changes, failure rates, failed verifications.
fn watches_risk(kind: &str) -> bool {
    kind.contains("risk") || kind.contains("failure") || kind.contains("verification")
}

/// Kinds of alert rule that watch compliance.
fn watches_compliance(kind: &str) -> bool {
    kind.contains("compliance") || kind.contains("violation")
}

fn rules_summary(rules: &[&AlertRuleEvidence], what: &str) -> String {
    if rules.is_empty() {
        return format!("no alert rule watching {what} defined before the period's end");
    }
    let names: Vec<String> =
        rules.iter().take(SAMPLES_MAX).map(|rule| format!("{} ({})", rule.name, rule.kind)).collect();
    format!("{} alert rules watching {what}: {}", rules.len(), names.join(", "))
}

pub(crate) fn risk_alerts(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let rules = rules_watching(facts, watches_risk);
    whole(facts, criterion, Some(rules.len() as f64), rules_summary(&rules, "risk"))
}

// --- metrics -----------------------------------------------------------------------------------

pub(crate) fn change_count(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let count = facts.finished.len() as u64;
    let summary = format!("{count} production changes finished in the period");
    let mut measurement = whole(facts, criterion, Some(count as f64), summary);
    measurement.shortfall = (criterion.threshold as u64).saturating_sub(count);
    measurement.evidence.population = Some(count);
    measurement
}

pub(crate) fn deployment_times(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.finished, noun: "finished production changes", when_none: None };
    share(facts, criterion, population, |change| change.deployed_at().is_some())
}

pub(crate) fn success_rate_tracked(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    let mut measurement =
        share(facts, criterion, population, |change| change.outcome().is_some_and(ChangeOutcome::was_deployed));
    let known: Vec<&&ChangeRecord> = facts.deployments.iter().filter(|change| change.outcome().is_some()).collect();
    let successful = known.iter().filter(|change| change.outcome() == Some(ChangeOutcome::Successful)).count();
    if !known.is_empty() {
        measurement.evidence.summary.push_str(&format!(
            " have a known outcome; success rate {}",
            percent(successful as f64 / known.len() as f64)
        ));
    }
    measurement
}

pub(crate) fn approval_time_tracked(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let approved: Vec<&ChangeRecord> =
        facts.deployments.iter().copied().filter(|change| was_approved(change)).collect();
    let population = Population { items: &approved, noun: "approved production deployments", when_none: None };
    let mut measurement = share(facts, criterion, population, |change| approval_minutes(change).is_some());
    let mut minutes: Vec<f64> = approved.iter().filter_map(|change| approval_minutes(change)).collect();
    if let Some(median) = median(&mut minutes) {
        measurement
            .evidence
            .summary
            .push_str(&format!(" have a measurable approval time; median {}", duration_text(median)));
    }
    measurement
}

pub(crate) fn change_incidents_monitored(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.incidents, noun: "incidents", when_none: None };
    let mut measurement = share(facts, criterion, population, |incident| {
        incident.caused_by.is_some() || incident.suggested_cause.is_none()
    });
    let linked = facts.incidents.iter().filter(|incident| incident.caused_by.is_some()).count();
    if !facts.incidents.is_empty() {
        measurement
            .evidence
            .summary
            .push_str(&format!(" have a settled cause; {linked} are linked to the change that caused them"));
    }
    measurement
}

pub(crate) fn recovery_time_measured(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population {
        items: &facts.failed,
        noun: "failed production deployments",
        when_none: Some("nothing needed recovering"),
    };
    share(facts, criterion, population, |change| facts.recovery_minutes(change).is_some())
}

pub(crate) fn change_downtime_recorded(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let caused: Vec<&IncidentRecord> =
        facts.incidents.iter().copied().filter(|incident| incident.caused_by.is_some()).collect();
    let population = Population {
        items: &caused,
        noun: "incidents caused by changes",
        when_none: Some("no change caused downtime to record"),
    };
    share(facts, criterion, population, |incident| incident.downtime_minutes.is_some())
}

pub(crate) fn recovery_within_hour(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population {
        items: &facts.failed,
        noun: "failed production deployments",
        when_none: Some("nothing needed recovering"),
    };
    let mut measurement = share(facts, criterion, population, |change| {
        facts.recovery_minutes(change).is_some_and(|minutes| minutes <= RECOVERY_FAST_MINUTES)
    });
    let recoveries: Vec<f64> = facts.failed.iter().filter_map(|change| facts.recovery_minutes(change)).collect();
    if !recoveries.is_empty() {
        let mean = recoveries.iter().sum::<f64>() / recoveries.len() as f64;
        let period_minutes = facts.to.since_ms(facts.from) as f64 / 60_000.0;
        let between = period_minutes / facts.failed.len() as f64;
        measurement.evidence.summary.push_str(&format!(
            " recovered within an hour; MTTR {} over {} measured recoveries, MTBF {}",
            duration_text(mean),
            recoveries.len(),
            duration_text(between)
        ));
    }
    measurement
}

pub(crate) fn approval_time_falling(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    // Quarter 0 is the oldest of the three, quarter 2 the one ending at the period's end.
    let mut quarters: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let earliest = facts.to.plus_ms(-3 * QUARTER_MS);
    for change in facts.changes.iter().filter(|change| crate::facts::is_production(change)) {
        let Some(deployed) = change.deployed_at().filter(|deployed| earliest <= *deployed && *deployed < facts.to)
        else {
            continue;
        };
        if let Some(minutes) = approval_minutes(change) {
            let index = (deployed.since_ms(earliest) / QUARTER_MS).clamp(0, 2) as usize;
            quarters[index].push(minutes);
        }
    }
    let counts: Vec<usize> = quarters.iter().map(Vec::len).collect();
    let medians: Vec<Option<f64>> = quarters.iter_mut().map(|minutes| median(minutes)).collect();
    let text = medians
        .iter()
        .zip(&counts)
        .map(|(median, count)| match median {
            Some(median) => format!("{} ({count})", duration_text(*median)),
            None => "none".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" → ");
    let sample_min = criterion.sample_min as usize;
    let latest = medians[2].filter(|_| counts[2] >= sample_min);
    if let Some(latest) = latest.filter(|latest| *latest <= APPROVAL_FAST_MINUTES) {
        let summary = format!(
            "median approval time by quarter (approvals): {text}; the latest is under an hour, nothing left to cut"
        );
        let ratio = medians[0].filter(|first| *first > 0.0).map(|first| latest / first);
        return Measurement {
            met: true,
            value: ratio.or(Some(0.0)),
            evidence: Evidence { summary, ..Evidence::default() },
            shortfall: 0,
        };
    }
    let short: Vec<usize> = (0..3).filter(|index| counts[*index] < sample_min).collect();
    if !short.is_empty() {
        let summary = format!(
            "median approval time by quarter (approvals): {text}; at least {sample_min} approvals per quarter are needed to see a trend"
        );
        let mut measurement = whole(facts, criterion, None, summary);
        measurement.shortfall = short.iter().map(|index| (sample_min - counts[*index]) as u64).sum();
        return measurement;
    }
    let [first, middle, last] = [medians[0].unwrap_or(0.0), medians[1].unwrap_or(0.0), medians[2].unwrap_or(0.0)];
    // Compared as ratios, so the verdict does not change when every approval time is scaled.
    let rose =
        |previous: f64, next: f64| if previous > 0.0 { next / previous > APPROVAL_RISE_TOLERANCE } else { next > 0.0 };
    let steady = !rose(first, middle) && !rose(middle, last);
    let ratio = if first > 0.0 { last / first } else { 1.0 };
    let summary = format!(
        "median approval time by quarter (approvals): {text}; latest over first {ratio:.2}{}",
        if steady { "" } else { ", and a quarter rose more than 10 % over the one before" }
    );
    let mut measurement = whole(facts, criterion, Some(ratio), summary);
    measurement.met = measurement.met && steady;
    if !measurement.met {
        measurement.shortfall = facts.deployments.len().max(1) as u64;
    }
    measurement
}

// --- automation --------------------------------------------------------------------------------

pub(crate) fn some_test_evidence(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| change.test_evidence.is_some())
}

pub(crate) fn routine_auto_approved(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let routine: Vec<&ChangeRecord> =
        facts.deployments.iter().copied().filter(|change| change.change_type == ChangeType::Standard).collect();
    let population = Population { items: &routine, noun: "routine (standard) production deployments", when_none: None };
    share(facts, criterion, population, |change| change.auto_approved)
}

pub(crate) fn tested(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    some_test_evidence(facts, criterion)
}

pub(crate) fn pipeline_created(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| change.created_by == CreatedBy::Pipeline)
}

pub(crate) fn pipeline_most(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    pipeline_created(facts, criterion)
}

pub(crate) fn rollbacks_automated(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let rolled_back: Vec<&ChangeRecord> = facts
        .deployments
        .iter()
        .copied()
        .filter(|change| change.outcome() == Some(ChangeOutcome::RolledBack))
        .collect();
    if !rolled_back.is_empty() {
        let population =
            Population { items: &rolled_back, noun: "rolled-back production deployments", when_none: None };
        let mut measurement = share(facts, criterion, population, |change| {
            change.rollback_automated || change.rollback_hook_runs.iter().any(|run| run.ok)
        });
        measurement.evidence.summary.push_str(" were rolled back by automation");
        return measurement;
    }
    let services: BTreeSet<&str> = facts.deployments.iter().map(|change| change.service.as_str()).collect();
    let hooked: BTreeSet<&str> = facts.live.rollback_hooks.iter().map(String::as_str).collect();
    let without: Vec<&str> = services.iter().copied().filter(|service| !hooked.contains(service)).collect();
    if services.is_empty() {
        return whole(facts, criterion, None, "no production deployments in the period".to_owned());
    }
    let value = (services.len() - without.len()) as f64 / services.len() as f64;
    let summary = format!(
        "no rollback in the period; {} of {} services deployed to have an automated rollback hook ({}){}",
        services.len() - without.len(),
        services.len(),
        percent(value),
        if without.is_empty() {
            String::new()
        } else {
            format!("; without: {}", without.iter().take(SAMPLES_MAX).copied().collect::<Vec<_>>().join(", "))
        }
    );
    let mut measurement = whole(facts, criterion, Some(value), summary);
    measurement.evidence.population = Some(services.len() as u64);
    measurement.evidence.matching = Some((services.len() - without.len()) as u64);
    measurement
}

pub(crate) fn alerts(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let rules = rules_watching(facts, |_| true);
    whole(facts, criterion, Some(rules.len() as f64), rules_summary(&rules, "anything"))
}

pub(crate) fn end_to_end(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| change.created_by == CreatedBy::Pipeline && change.auto_approved)
}

pub(crate) fn model_validated_approval(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| {
        change.auto_approved
            && change.assessment.as_ref().is_some_and(|assessment| assessment.risk_probability.is_some())
    })
}

// --- audit and compliance ----------------------------------------------------------------------

pub(crate) fn basic_documentation(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| {
        !change.description.trim().is_empty()
            || change.implementation_plan.is_some()
            || change.rollback_plan.is_some()
            || change.test_evidence.is_some()
    })
}

pub(crate) fn full_documentation(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let population = Population { items: &facts.deployments, noun: deployments_noun(), when_none: None };
    share(facts, criterion, population, |change| {
        (change.auto_approved || change.approved_at.is_some())
            && change.assessment.is_some()
            && change.rollback_plan.is_some()
    })
}

pub(crate) fn emergency_reviewed(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let emergencies: Vec<&ChangeRecord> =
        facts.deployments.iter().copied().filter(|change| change.change_type == ChangeType::Emergency).collect();
    let population = Population {
        items: &emergencies,
        noun: "emergency production deployments",
        when_none: Some("no emergency change needed a review"),
    };
    share(facts, criterion, population, |change| change.review.is_some())
}

pub(crate) fn ledger_verified(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let newest =
        facts.live.ledger_verifications.iter().filter(|verification| verification.at < facts.to).max_by_key(|v| v.at);
    let Some(newest) = newest else {
        return whole(
            facts,
            criterion,
            None,
            "no full verification of the audit ledger before the period's end; run `changegate audit verify`"
                .to_owned(),
        );
    };
    let days = days_before_end(facts, newest.at);
    if !newest.ok {
        return whole(
            facts,
            criterion,
            None,
            format!("the newest verification, {}, failed: the audit trail does not verify", date_text(newest.at)),
        );
    }
    whole(
        facts,
        criterion,
        Some(days),
        format!("the newest verification, {}, passed ({days} days before the period's end)", date_text(newest.at)),
    )
}

pub(crate) fn self_auditing(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let window_start = facts.to.plus_ms(-SELF_AUDIT_WINDOW_DAYS * DAY_MS).max(facts.from);
    let active: BTreeSet<i64> = facts
        .deployments
        .iter()
        .filter_map(|change| change.deployed_at())
        .filter(|deployed| *deployed >= window_start)
        .map(day_of)
        .collect();
    let signed: BTreeSet<i64> = facts.live.checkpoints.iter().map(|time| day_of(*time)).collect();
    let missing: Vec<i64> =
        active.iter().copied().filter(|day| !signed.contains(day) && !signed.contains(&(day + 1))).collect();
    let covered = active.len() - missing.len();
    let verification =
        facts.live.ledger_verifications.iter().filter(|verification| verification.at < facts.to).max_by_key(|v| v.at);
    let verification_text = match verification {
        None => "the ledger was never verified".to_owned(),
        Some(verification) => format!(
            "the newest verification, {}, {} ({} days before the period's end)",
            date_text(verification.at),
            if verification.ok { "passed" } else { "failed" },
            days_before_end(facts, verification.at)
        ),
    };
    let verified = verification.is_some_and(|verification| {
        verification.ok && days_before_end(facts, verification.at) <= SELF_AUDIT_VERIFICATION_DAYS_MAX
    });
    let value = if active.is_empty() { 1.0 } else { covered as f64 / active.len() as f64 };
    let missing_text = if missing.is_empty() {
        String::new()
    } else {
        let days: Vec<String> =
            missing.iter().take(SAMPLES_MAX).map(|day| date_text(Timestamp::from_unix_ms(day * DAY_MS))).collect();
        format!(" (none near {})", days.join(", "))
    };
    let summary = format!(
        "checkpoints signed on {covered} of {} days with production deployments in the last {SELF_AUDIT_WINDOW_DAYS} days{missing_text}; {verification_text}",
        active.len()
    );
    let mut measurement = whole(facts, criterion, Some(value), summary);
    measurement.met = measurement.met && verified;
    if !measurement.met {
        measurement.shortfall = (facts.deployments.len() as u64).max(1);
    }
    measurement
}

pub(crate) fn real_time_compliance(facts: &Facts<'_>, criterion: &Criterion) -> Measurement {
    let rules = rules_watching(facts, watches_compliance);
    whole(facts, criterion, Some(rules.len() as f64), rules_summary(&rules, "compliance"))
}
