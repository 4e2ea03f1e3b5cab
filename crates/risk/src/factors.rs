//! The explainable risk assessment (the seed's levels 2–3): documented factors, each with a
//! configurable weight, add up to a score from 0 to 100 that maps to low / medium / high /
//! critical. Every factor's contribution is kept so a person sees why.
//!
//! Each factor turns one fact into a severity `s` between 0 and 1; its contribution is
//! `weight × s` points. The score is `min(100, round(Σ contributions))`, so the contributions add
//! up to the score except when the sum passes 100 (then the score is capped and says so). Classes:
//! score < 25 low, < 50 medium, < 75 high, otherwise critical.
//!
//! | factor | severity |
//! |---|---|
//! | `service_tier` | tier 1 → 1, tier 2 → 0.6, tier 3 → 0.25, tier 4 → 0 |
//! | `blast_radius` | services that depend on this one, directly or transitively: `min(1, n / 5)` |
//! | `change_size` | lines added + deleted when known: `min(1, log10(1 + lines) / 3)` (1,000 lines → 1); else files changed `min(1, files / 20)`; unknown → 0.3 |
//! | `security_findings` | critical findings > 0 → 1; no security evidence on a service in compliance scope → 0.7; no evidence elsewhere → 0.2 |
//! | `timing` | inside or within 24 h before a freeze → 1; Friday after 12:00 UTC or the weekend → 0.6; outside 07:00–19:00 UTC → 0.4 |
//! | `rollback_plan` | none → 1 |
//! | `test_evidence` | none → 1 |
//! | `emergency` | an emergency change → 1 |
//! | `requester_failures` | the requester's failed changes in the last 90 days: `min(1, n / 3)` |
//!
//! Pure: the caller passes the facts (and the time as a number), nothing is read here.

use serde::{Deserialize, Serialize};

/// The facts the factors look at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskFacts {
    /// Service tier, 1 (most critical) to 4.
    pub tier: u8,
    /// Services that depend on the changed one, directly or transitively.
    pub dependents: u32,
    /// Lines added plus deleted, when the change carries code metrics.
    pub lines_changed: Option<f64>,
    /// Files changed, when known.
    pub files_changed: Option<f64>,
    pub security_evidence: bool,
    pub critical_findings: u32,
    /// A service of the change is in a compliance scope.
    pub scoped: bool,
    /// The planned window overlaps a freeze or starts within 24 hours before one.
    pub near_freeze: bool,
    /// Hour (0–23, UTC) and ISO weekday (1 = Monday … 7 = Sunday) of the planned start.
    pub hour_utc: u8,
    pub weekday: u8,
    pub has_rollback_plan: bool,
    pub has_test_evidence: bool,
    pub emergency: bool,
    pub requester_failures_90d: u32,
}

/// Points each factor contributes at full severity. Configurable per installation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskWeights {
    pub service_tier: f64,
    pub blast_radius: f64,
    pub change_size: f64,
    pub security_findings: f64,
    pub timing: f64,
    pub rollback_plan: f64,
    pub test_evidence: f64,
    pub emergency: f64,
    pub requester_failures: f64,
}

impl Default for RiskWeights {
    fn default() -> Self {
        RiskWeights {
            service_tier: 30.0,
            blast_radius: 15.0,
            change_size: 15.0,
            security_findings: 25.0,
            timing: 10.0,
            rollback_plan: 15.0,
            test_evidence: 10.0,
            emergency: 20.0,
            requester_failures: 10.0,
        }
    }
}

/// One factor's part of the score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskFactor {
    pub name: String,
    /// Points added to the score.
    pub contribution: f64,
    /// What the factor saw, in words.
    pub detail: String,
}

/// The factor assessment of one change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorAssessment {
    /// 0–100.
    pub score: u32,
    /// `low`, `medium`, `high` or `critical`.
    pub class: String,
    /// Every factor, in the documented order, with its contribution (zero ones included).
    pub factors: Vec<RiskFactor>,
    /// The score was capped at 100 (the contributions add up to more).
    pub capped: bool,
}

/// Score thresholds of the classes: below 25 low, below 50 medium, below 75 high.
pub const CLASS_THRESHOLDS: [u32; 3] = [25, 50, 75];

/// The class of a score.
pub fn class_of(score: u32) -> &'static str {
    match score {
        score if score < CLASS_THRESHOLDS[0] => "low",
        score if score < CLASS_THRESHOLDS[1] => "medium",
        score if score < CLASS_THRESHOLDS[2] => "high",
        _ => "critical",
    }
}

/// Assesses `facts` with `weights`.
pub fn assess(facts: &RiskFacts, weights: &RiskWeights) -> FactorAssessment {
    let mut factors = Vec::with_capacity(9);
    let mut push = |name: &str, weight: f64, severity: f64, detail: String| {
        let severity = severity.clamp(0.0, 1.0);
        factors.push(RiskFactor { name: name.to_owned(), contribution: weight.max(0.0) * severity, detail });
    };
    let tier_severity = match facts.tier {
        1 => 1.0,
        2 => 0.6,
        3 => 0.25,
        _ => 0.0,
    };
    push("service_tier", weights.service_tier, tier_severity, format!("tier {} service", facts.tier));
    push(
        "blast_radius",
        weights.blast_radius,
        f64::from(facts.dependents) / 5.0,
        format!("{} service(s) depend on it", facts.dependents),
    );
    let (size_severity, size_detail) = match (facts.lines_changed, facts.files_changed) {
        (Some(lines), _) => ((1.0 + lines.max(0.0)).log10() / 3.0, format!("{lines:.0} lines changed")),
        (None, Some(files)) => (files / 20.0, format!("{files:.0} files changed")),
        (None, None) => (0.3, "size unknown (no code metrics)".to_owned()),
    };
    push("change_size", weights.change_size, size_severity, size_detail);
    let (security_severity, security_detail) = if facts.critical_findings > 0 {
        (1.0, format!("{} critical security finding(s)", facts.critical_findings))
    } else if !facts.security_evidence && facts.scoped {
        (0.7, "no security evidence for a service in compliance scope".to_owned())
    } else if !facts.security_evidence {
        (0.2, "no security evidence".to_owned())
    } else {
        (0.0, "security evidence without critical findings".to_owned())
    };
    push("security_findings", weights.security_findings, security_severity, security_detail);
    let weekend = facts.weekday >= 6;
    let friday_afternoon = facts.weekday == 5 && facts.hour_utc >= 12;
    let off_hours = facts.hour_utc < 7 || facts.hour_utc >= 19;
    let (timing_severity, timing_detail) = if facts.near_freeze {
        (1.0, "in or within 24 h of a freeze".to_owned())
    } else if weekend || friday_afternoon {
        (0.6, if weekend { "at the weekend" } else { "on a Friday afternoon" }.to_owned())
    } else if off_hours {
        (0.4, format!("off hours ({:02}:00 UTC)", facts.hour_utc))
    } else {
        (0.0, "working hours".to_owned())
    };
    push("timing", weights.timing, timing_severity, timing_detail);
    push(
        "rollback_plan",
        weights.rollback_plan,
        if facts.has_rollback_plan { 0.0 } else { 1.0 },
        if facts.has_rollback_plan { "rollback plan attached" } else { "no rollback plan" }.to_owned(),
    );
    push(
        "test_evidence",
        weights.test_evidence,
        if facts.has_test_evidence { 0.0 } else { 1.0 },
        if facts.has_test_evidence { "test evidence attached" } else { "no test evidence" }.to_owned(),
    );
    push(
        "emergency",
        weights.emergency,
        if facts.emergency { 1.0 } else { 0.0 },
        if facts.emergency { "emergency change" } else { "planned change" }.to_owned(),
    );
    push(
        "requester_failures",
        weights.requester_failures,
        f64::from(facts.requester_failures_90d) / 3.0,
        format!("{} failed change(s) by the requester in 90 days", facts.requester_failures_90d),
    );
    let total: f64 = factors.iter().map(|factor| factor.contribution).sum();
    let score = total.round().clamp(0.0, 100.0) as u32;
    FactorAssessment { score, class: class_of(score).to_owned(), factors, capped: total.round() > 100.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calm() -> RiskFacts {
        RiskFacts {
            tier: 4,
            dependents: 0,
            lines_changed: Some(0.0),
            files_changed: Some(1.0),
            security_evidence: true,
            critical_findings: 0,
            scoped: false,
            near_freeze: false,
            hour_utc: 10,
            weekday: 2,
            has_rollback_plan: true,
            has_test_evidence: true,
            emergency: false,
            requester_failures_90d: 0,
        }
    }

    #[test]
    fn contributions_add_up_to_the_score() {
        let weights = RiskWeights::default();
        for facts in [
            calm(),
            RiskFacts { tier: 2, dependents: 3, lines_changed: Some(250.0), ..calm() },
            RiskFacts { tier: 1, has_rollback_plan: false, hour_utc: 22, ..calm() },
            RiskFacts { lines_changed: None, files_changed: None, security_evidence: false, scoped: true, ..calm() },
        ] {
            let assessment = assess(&facts, &weights);
            let total: f64 = assessment.factors.iter().map(|factor| factor.contribution).sum();
            assert!(!assessment.capped);
            assert_eq!(assessment.score, total.round() as u32, "{assessment:?}");
            assert_eq!(assessment.class, class_of(assessment.score));
            assert_eq!(assessment.factors.len(), 9);
        }
    }

    #[test]
    fn a_calm_change_is_low_and_everything_at_once_is_critical_and_capped() {
        let weights = RiskWeights::default();
        let calm = assess(&calm(), &weights);
        assert_eq!((calm.score, calm.class.as_str()), (0, "low"));
        let worst = RiskFacts {
            tier: 1,
            dependents: 9,
            lines_changed: Some(5_000.0),
            files_changed: None,
            security_evidence: true,
            critical_findings: 2,
            scoped: true,
            near_freeze: true,
            hour_utc: 23,
            weekday: 6,
            has_rollback_plan: false,
            has_test_evidence: false,
            emergency: true,
            requester_failures_90d: 5,
        };
        let worst = assess(&worst, &weights);
        assert_eq!((worst.score, worst.class.as_str()), (100, "critical"));
        assert!(worst.capped);
    }

    #[test]
    fn each_factor_moves_the_score_the_documented_way() {
        let weights = RiskWeights::default();
        let base = assess(&calm(), &weights).score;
        let score = |facts: RiskFacts| assess(&facts, &weights).score;
        assert_eq!(score(RiskFacts { tier: 1, ..calm() }), base + 30);
        assert_eq!(score(RiskFacts { tier: 2, ..calm() }), base + 18);
        assert_eq!(score(RiskFacts { dependents: 10, ..calm() }), base + 15);
        assert_eq!(score(RiskFacts { lines_changed: Some(999.0), ..calm() }), base + 15);
        assert_eq!(score(RiskFacts { critical_findings: 1, ..calm() }), base + 25);
        assert_eq!(score(RiskFacts { near_freeze: true, ..calm() }), base + 10);
        assert_eq!(score(RiskFacts { weekday: 5, hour_utc: 15, ..calm() }), base + 6);
        assert_eq!(score(RiskFacts { hour_utc: 3, ..calm() }), base + 4);
        assert_eq!(score(RiskFacts { has_rollback_plan: false, ..calm() }), base + 15);
        assert_eq!(score(RiskFacts { has_test_evidence: false, ..calm() }), base + 10);
        assert_eq!(score(RiskFacts { emergency: true, ..calm() }), base + 20);
        assert_eq!(score(RiskFacts { requester_failures_90d: 3, ..calm() }), base + 10);
    }

    #[test]
    fn weights_are_configurable_and_zero_switches_a_factor_off() {
        let weights = RiskWeights { service_tier: 0.0, emergency: 60.0, ..RiskWeights::default() };
        let facts = RiskFacts { tier: 1, emergency: true, ..calm() };
        let assessment = assess(&facts, &weights);
        assert_eq!(assessment.score, 60);
        assert_eq!(assessment.class, "high");
        let parsed: RiskWeights = serde_json::from_str(r#"{"emergency": 60, "service_tier": 0}"#).unwrap();
        assert_eq!(parsed, weights);
        assert!(serde_json::from_str::<RiskWeights>(r#"{"tier": 1}"#).is_err(), "typos are refused");
    }
}
