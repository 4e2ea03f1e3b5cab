//! The audit and compliance criteria: evidence kept, verified and reported.
//!
//! Why a file of its own: the rubric is a long table; one file per dimension keeps each column
//! of the seed's maturity table readable on its own. Rows are in level order; [`super::RUBRIC`]
//! joins the dimensions in the table's order.

use super::{data, question};
use crate::checks;
use crate::criterion::Dimension::AuditCompliance;
use crate::criterion::{Comparison, Criterion, CriterionKind, DEPLOYMENTS_MIN, Unit};

/// The criteria of this dimension, by level.
pub(super) const CRITERIA: &[Criterion] = &[
    data(
        "audit.basic-documentation",
        AuditCompliance,
        2,
        "Changes carry basic documentation",
        "Share of the period's production deployments documented beyond a title: a description, an implementation plan, a rollback plan or test evidence.",
        0.5,
        DEPLOYMENTS_MIN,
        "Basic documentation - Audit trails may be incomplete or inconsistently applied.",
        "Describe every change: what, why and how, on the change record itself.",
        "the change record (description, plans, evidence)",
        checks::basic_documentation,
    ),
    data(
        "audit.full-documentation",
        AuditCompliance,
        3,
        "Changes are documented in full",
        "Share of the period's production deployments with an approval (by a person or the policy), a risk assessment and a rollback plan.",
        0.9,
        DEPLOYMENTS_MIN,
        "Comprehensive audit trail - Full documentation of changes, including approvals, risk assessments, and rollback procedures.",
        "Require a rollback plan, a risk assessment and an approval on every change; let the policy refuse changes without them.",
        "the policy's evidence rules; the change page shows what is missing",
        checks::full_documentation,
    ),
    data(
        "audit.emergency-reviewed",
        AuditCompliance,
        3,
        "Emergency changes are reviewed afterwards",
        "Share of the period's emergency production deployments with a post-implementation review.",
        0.9,
        1,
        "Audit and Documentation: Keeping a record of every change for compliance, traceability, and learning purposes.",
        "Review every emergency change after the fact, within its deadline.",
        "the emergency deadline and the overdue-emergency sweep",
        checks::emergency_reviewed,
    ),
    Criterion {
        kind: CriterionKind::Live,
        unit: Unit::Days,
        comparison: Comparison::AtMost,
        ..data(
            "audit.ledger-verified",
            AuditCompliance,
            4,
            "The audit trail is verified",
            "Days between the newest full verification of the audit ledger (which must have passed) and the period's end.",
            30.0,
            1,
            "Audit processes fully integrated - Automated audit trail generation and change log reporting.",
            "Verify the ledger on a schedule (at least monthly) and keep its signed checkpoints.",
            "the tamper-evident ledger (`changegate audit verify`, the ledger page)",
            checks::ledger_verified,
        )
    },
    question(
        "audit.compliance-monitored",
        AuditCompliance,
        4,
        "Compliance metrics are monitored",
        "Are compliance metrics (the share of changes with approvals, evidence and reviews, per framework) reviewed by the process owner or the compliance team at least monthly?",
        "Compliance metrics actively monitored.",
        "Review the compliance findings every month and assign the changes at fault.",
        "the compliance reports (`changegate comply`)",
    ),
    Criterion {
        kind: CriterionKind::Live,
        ..data(
            "audit.self-auditing",
            AuditCompliance,
            5,
            "The system audits itself",
            "Share of the days with production deployments in the period's last 30 days on which (or the day after) a ledger checkpoint was signed; the newest ledger verification must be at most 7 days old and have passed.",
            1.0,
            1,
            "Automated and self-auditing systems.",
            "Let the server sign checkpoints continuously and verify the ledger weekly, automatically.",
            "`changegate serve` (checkpoints every minute) and scheduled `changegate audit verify`",
            checks::self_auditing,
        )
    },
    Criterion {
        kind: CriterionKind::Live,
        unit: Unit::Count,
        ..data(
            "audit.real-time-compliance",
            AuditCompliance,
            5,
            "Compliance is monitored in real time",
            "Number of alert rules watching compliance (a compliance or policy violation) defined at the period's end.",
            1.0,
            1,
            "Real-time compliance monitoring.",
            "Alert on every compliance violation as it happens, not at the next audit.",
            "alert rules on compliance violations",
            checks::real_time_compliance,
        )
    },
    question(
        "audit.proactive-reporting",
        AuditCompliance,
        5,
        "Auditors get reports before they ask",
        "Are compliance reports or evidence bundles sent to auditors and regulators on a schedule, before they ask?",
        "Proactive reporting for auditors and regulatory bodies.",
        "Send auditors the evidence bundle and compliance reports on a schedule.",
        "the auditor's evidence bundle (`changegate audit export`) and compliance reports",
    ),
];
