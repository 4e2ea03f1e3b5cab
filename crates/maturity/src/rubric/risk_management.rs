//! The risk management criteria: risk evaluated, classified, predicted and acted on.
//!
//! Why a file of its own: the rubric is a long table; one file per dimension keeps each column
//! of the seed's maturity table readable on its own. Rows are in level order; [`super::RUBRIC`]
//! joins the dimensions in the table's order.

use super::data;
use crate::checks;
use crate::criterion::Dimension::RiskManagement;
use crate::criterion::{Comparison, Criterion, CriterionKind, DEPLOYMENTS_MIN, Unit};

/// The criteria of this dimension, by level.
pub(super) const CRITERIA: &[Criterion] = &[
    data(
        "risk.significant-assessed",
        RiskManagement,
        2,
        "Significant changes get a risk evaluation",
        "Share of the period's significant production deployments (to a tier-1 or tier-2 service, or emergency changes; an unknown service counts as significant) with a risk class.",
        0.8,
        5,
        "Basic risk evaluation for significant changes.",
        "Evaluate the risk of every change to a critical service and every emergency change before it starts.",
        "the explainable risk score on every submitted change",
        checks::significant_assessed,
    ),
    data(
        "risk.formal-class-share",
        RiskManagement,
        3,
        "Every change has a formal risk class",
        "Share of the period's production deployments with a risk class (low, medium, high, critical) recorded before they started.",
        0.95,
        DEPLOYMENTS_MIN,
        "Formal risk assessment part of the process - Risk levels categorized for changes (e.g., low, medium, high).",
        "Assess every change when it is submitted, not only the big ones; the class decides the approvals.",
        "the assessment on submit (risk class from the factor score)",
        checks::formal_class_share,
    ),
    Criterion {
        unit: Unit::Count,
        ..data(
            "risk.classes-used",
            RiskManagement,
            3,
            "Risk levels tell changes apart",
            "Number of distinct risk classes among the period's production deployments (a scale where every change lands in one class does not categorise).",
            2.0,
            DEPLOYMENTS_MIN,
            "Risk levels categorized for changes (e.g., low, medium, high).",
            "Use a risk scale that separates routine changes from dangerous ones; calibrate the factor weights to your services.",
            "the factor score with configurable weights (`serve --risk-weights`)",
            checks::classes_used,
        )
    },
    data(
        "risk.high-risk-reviewed",
        RiskManagement,
        3,
        "High-risk changes are reviewed by people",
        "Share of the period's high- and critical-risk production deployments approved by a person rather than pre-approved.",
        0.95,
        1,
        "Formal risk assessment part of the process.",
        "Make the risk class decide the approval path: high and critical changes always need a person's approval.",
        "the default policy (CAB or service-owner approval by risk class)",
        checks::high_risk_reviewed,
    ),
    data(
        "risk.security-evidence",
        RiskManagement,
        3,
        "Security is checked before production",
        "Share of the period's production deployments with security scan evidence (SAST, SCA, secret scan).",
        0.8,
        DEPLOYMENTS_MIN,
        "Integrate security reviews early, during the planning and testing phases of change implementation, ensuring that all changes are secure before they reach production.",
        "Attach the pipeline's security scan results to every change and let the policy deny critical findings.",
        "security evidence on changes (`changegate gate --sarif`) and the policy's security rules",
        checks::security_evidence,
    ),
    data(
        "risk.scored-before-start",
        RiskManagement,
        4,
        "Risk is scored from data before changes",
        "Share of the period's production deployments with a numeric risk score recorded before they started.",
        0.9,
        DEPLOYMENTS_MIN,
        "Data-driven risk modeling used to assess potential impact before changes.",
        "Score every change from its data (service tier, blast radius, size, evidence, timing, history) at submission.",
        "the explainable factor score (0–100) with per-factor contributions",
        checks::scored_before_start,
    ),
    Criterion {
        kind: CriterionKind::Live,
        unit: Unit::Auc,
        ..data(
            "risk.model-in-use",
            RiskManagement,
            4,
            "A predictive model with measured quality is in use",
            "ROC AUC, measured on a time-ordered validation split, of the predictive risk model in use at the period's end.",
            0.7,
            1,
            "Risk management is predictive and proactive.",
            "Train the failure-prediction model on your own history and keep it only if it discriminates (ROC AUC ≥ 0.7).",
            "`changegate risk train` and the risk page",
            checks::model_in_use,
        )
    },
    data(
        "risk.predictions-recorded",
        RiskManagement,
        5,
        "Predictive risk is part of every assessment",
        "Share of the period's production deployments whose assessment recorded the model's probability of failure.",
        0.9,
        DEPLOYMENTS_MIN,
        "Predictive risk management fully integrated. AI/ML tools used for predictive analytics in risk management.",
        "Score every change with the model at submission so approvers and the policy see its probability of failure.",
        "the model's calibrated probability on every assessment",
        checks::predictions_recorded,
    ),
    Criterion {
        kind: CriterionKind::Live,
        unit: Unit::Days,
        comparison: Comparison::AtMost,
        ..data(
            "risk.model-current",
            RiskManagement,
            5,
            "The model is kept current",
            "Days between the training of the model in use and the period's end.",
            90.0,
            1,
            "Predictive risk management fully integrated.",
            "Retrain the model at least once a quarter so it learns from the latest changes.",
            "`changegate risk train` (every version kept in the ledger)",
            checks::model_current,
        )
    },
    Criterion {
        kind: CriterionKind::Live,
        unit: Unit::Count,
        ..data(
            "risk.risk-alerts",
            RiskManagement,
            5,
            "Automatic alerts on potential risks",
            "Number of alert rules watching risk (a high-risk change, a failure rate over a threshold, a failed verification) defined at the period's end.",
            1.0,
            1,
            "Continuous monitoring and automatic alerts on potential risks.",
            "Define alert rules on high-risk changes and on failure rates, delivered to the people who act.",
            "alert rules with webhook delivery",
            checks::risk_alerts,
        )
    },
];
