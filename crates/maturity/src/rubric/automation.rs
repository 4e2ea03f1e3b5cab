//! The automation criteria: pipelines that record, approve, deploy and roll back changes.
//!
//! Why a file of its own: the rubric is a long table; one file per dimension keeps each column
//! of the seed's maturity table readable on its own. Rows are in level order; [`super::RUBRIC`]
//! joins the dimensions in the table's order.

use super::data;
use crate::checks;
use crate::criterion::Dimension::Automation;
use crate::criterion::{Criterion, CriterionKind, DEPLOYMENTS_MIN, Unit};

/// The criteria of this dimension, by level.
pub(super) const CRITERIA: &[Criterion] = &[
    data(
        "automation.some-test-evidence",
        Automation,
        2,
        "Some testing is automated",
        "Share of the period's production deployments that carry test evidence.",
        0.25,
        DEPLOYMENTS_MIN,
        "Limited automation - Change requests logged manually - Some testing automation may be in place.",
        "Run automated tests in the pipeline and attach the result to the change.",
        "test evidence on changes (`changegate gate --junit`)",
        checks::some_test_evidence,
    ),
    data(
        "automation.routine-auto-approved",
        Automation,
        3,
        "Routine changes are approved automatically",
        "Share of the period's routine (standard) production deployments pre-approved by the policy.",
        0.8,
        5,
        "Automation for routine changes (e.g., automated approvals and testing).",
        "Turn routine changes into standard-change templates that the policy pre-approves.",
        "standard-change templates and policy auto-approval",
        checks::routine_auto_approved,
    ),
    data(
        "automation.tested",
        Automation,
        3,
        "Changes are tested automatically",
        "Share of the period's production deployments that carry test evidence.",
        0.8,
        DEPLOYMENTS_MIN,
        "Automation for routine changes (e.g., automated approvals and testing).",
        "Make a passing test run part of every change: the pipeline attaches it, the policy asks for it.",
        "test evidence from the pipeline (`changegate gate --junit`)",
        checks::tested,
    ),
    data(
        "automation.pipeline-created",
        Automation,
        3,
        "Changes come from the CI/CD pipeline",
        "Share of the period's production deployments whose change was raised by a CI/CD pipeline.",
        0.5,
        DEPLOYMENTS_MIN,
        "CI/CD pipeline integration for change deployment.",
        "Raise the change from the deployment pipeline instead of by hand.",
        "`changegate gate` in CI/CD",
        checks::pipeline_created,
    ),
    data(
        "automation.pipeline-most",
        Automation,
        4,
        "Almost every change comes from the pipeline",
        "Share of the period's production deployments whose change was raised by a CI/CD pipeline.",
        0.9,
        DEPLOYMENTS_MIN,
        "High level of automation - Fully automated CI/CD pipeline.",
        "Move the remaining hand-made deployments into the pipeline.",
        "`changegate gate` in CI/CD",
        checks::pipeline_most,
    ),
    Criterion {
        kind: CriterionKind::Live,
        ..data(
            "automation.rollbacks-automated",
            Automation,
            4,
            "Rollbacks are automated",
            "Share of the period's rolled-back production deployments rolled back by automation; when none was rolled back, the share of the services deployed to that have an automated rollback hook.",
            0.8,
            1,
            "Automated rollbacks and alerts.",
            "Give every service an automated rollback and let it run when a deployment fails or causes a severe incident.",
            "service rollback hooks (webhook or command)",
            checks::rollbacks_automated,
        )
    },
    Criterion {
        kind: CriterionKind::Live,
        unit: Unit::Count,
        ..data(
            "automation.alerts",
            Automation,
            4,
            "Alerts are automated",
            "Number of alert rules defined at the period's end.",
            1.0,
            1,
            "Automated rollbacks and alerts.",
            "Define alert rules for what needs a person's attention, delivered where people work.",
            "alert rules with webhook delivery",
            checks::alerts,
        )
    },
    data(
        "automation.end-to-end",
        Automation,
        5,
        "The lifecycle runs without manual steps",
        "Share of the period's production deployments raised by a pipeline and pre-approved by the policy: no person between request and deployment.",
        0.5,
        DEPLOYMENTS_MIN,
        "Fully automated process - Full change lifecycle automated, from request to deployment.",
        "Let the pipeline carry low-risk changes from request to deployment with policy approval only.",
        "`changegate gate` with policy auto-approval",
        checks::end_to_end,
    ),
    Criterion {
        kind: CriterionKind::Live,
        ..data(
            "automation.model-validated-approval",
            Automation,
            5,
            "Approval is validated by the model",
            "Share of the period's production deployments pre-approved by the policy with the predictive model's probability in the assessment.",
            0.5,
            DEPLOYMENTS_MIN,
            "AI-driven change validation and approval.",
            "Let the policy use the model's probability to pre-approve changes it predicts safe.",
            "the predictive model's probability in the policy input",
            checks::model_validated_approval,
        )
    },
];
