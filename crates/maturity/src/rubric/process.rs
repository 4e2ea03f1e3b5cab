//! The process criteria: changes recorded, approved and following one defined procedure.
//!
//! Why a file of its own: the rubric is a long table; one file per dimension keeps each column
//! of the seed's maturity table readable on its own. Rows are in level order; [`super::RUBRIC`]
//! joins the dimensions in the table's order.

use super::{data, question};
use crate::checks;
use crate::criterion::Dimension::Process;
use crate::criterion::{Criterion, CriterionKind, DEPLOYMENTS_MIN, Unit};

/// The criteria of this dimension, by level.
pub(super) const CRITERIA: &[Criterion] = &[
    data(
        "process.recorded-before-deployment",
        Process,
        2,
        "Changes are recorded before they are deployed",
        "Share of the period's production deployments whose change record was created before the deployment started.",
        0.5,
        DEPLOYMENTS_MIN,
        "Level 2: Processes are planned, documented, and tracked but not standardized across the organization. \
         (To move to Level 2, organizations should introduce basic Change Management processes, such as documenting all changes.)",
        "Open a change record before every production deployment, from the pipeline or by hand, instead of documenting it afterwards.",
        "`changegate gate` in the pipeline, or the New change page",
        checks::recorded_before_deployment,
    ),
    data(
        "process.approved-before-start",
        Process,
        2,
        "Changes are approved before implementation",
        "Share of the period's production deployments approved (by a person, or pre-approved by the policy) before they started.",
        0.5,
        DEPLOYMENTS_MIN,
        "Basic change request and approval process. (… ensuring they are reviewed and approved before implementation.)",
        "Require an approval before a change starts: submit every change and start it only once approved.",
        "the approval policy and the approvals inbox",
        checks::approved_before_start,
    ),
    data(
        "process.procedure-followed",
        Process,
        3,
        "Every change follows the defined procedure",
        "Share of the period's production deployments that followed the procedure: approved before they started, or emergency changes with their retrospective approval and post-implementation review.",
        0.95,
        DEPLOYMENTS_MIN,
        "Formal Change Management process defined - Standardized workflows - Teams follow consistent procedures.",
        "Make the lifecycle the only path to production: no start before approval, and every emergency change gets its retrospective approval and review.",
        "the change lifecycle (state machine) and the overdue-emergency sweep",
        checks::procedure_followed,
    ),
    data(
        "process.every-team",
        Process,
        3,
        "Every team follows the same procedure",
        "The lowest share of procedure-following deployments among the teams with at least 5 production deployments in the period.",
        0.9,
        1,
        "Processes are standardized and implemented consistently across all teams. (To reach Level 3, organizations must \
         standardize their Change Management processes across all teams and projects.)",
        "Bring the team that lags behind onto the shared workflow: same templates, same policy, same lifecycle.",
        "one policy for every team, standard-change templates per team",
        checks::every_team,
    ),
    question(
        "process.documented",
        Process,
        3,
        "The process is written down and communicated",
        "Is the change management process (how changes are submitted, approved, tested and deployed, and how emergency changes are handled) written down and communicated to every team?",
        "This means having clear policies and procedures for change submissions, approvals, testing, and deployment.",
        "Write the procedure down once for everyone and publish it where every team works; the policy in force is its enforceable part.",
        "the policy page (the procedure as code, versioned in the ledger)",
    ),
    question(
        "process.roles-published",
        Process,
        3,
        "Roles and responsibilities are defined and published",
        "Are roles and responsibilities for requesting, approving and implementing changes defined and published?",
        "Define clear roles, responsibilities, and workflows for submitting, approving, and implementing changes.",
        "Name who requests, who approves which kind of change and who implements; publish it and give the roles in Changegate to match.",
        "user roles (requester, approver, security, cab, auditor, admin) and separation of duties",
    ),
    data(
        "process.root-cause-analysis",
        Process,
        4,
        "Failed changes get a root cause analysis",
        "Share of the period's failed production deployments (failed, rolled back, or causing an incident) with a review that names a root cause.",
        0.8,
        1,
        "Detailed root cause analysis for change failures.",
        "Review every failed change and record its root cause; follow up on the causes that repeat.",
        "post-implementation reviews with a root cause (`changegate change review --root-cause`)",
        checks::root_cause_analysis,
    ),
    Criterion {
        kind: CriterionKind::Live,
        ..data(
            "process.policy-decisions",
            Process,
            4,
            "Approval decisions are made by policy on data",
            "Share of the period's production deployments whose approval decision was made by a versioned policy over the change's data (the decision records the policy's SHA-256).",
            0.9,
            DEPLOYMENTS_MIN,
            "Data-driven decision-making.",
            "Let the approval policy decide what each change needs from its risk, service, calendar and history, and record every decision.",
            "approval policies as code (Rego), every decision recorded with its policy version",
            checks::policy_decisions,
        )
    },
    question(
        "process.kpis-reviewed",
        Process,
        4,
        "KPIs are used to improve the process",
        "Are change KPIs (success rate, approval time, change-related incidents) reviewed on a fixed schedule, and do those reviews lead to recorded changes in the process?",
        "KPIs and performance metrics actively used for process improvement.",
        "Hold a fixed KPI review (monthly, say) and record what it changes in the process.",
        "the metrics pages and this assessment's trend",
    ),
    Criterion {
        kind: CriterionKind::Live,
        unit: Unit::Count,
        threshold: 2.0,
        ..data(
            "process.refined-regularly",
            Process,
            5,
            "The process is refined regularly",
            "Of the two quarters (91 days each) before the period's end, how many saw the process as code refined: a new approval policy version or a standard-change template defined.",
            2.0,
            1,
            "Regular process refinements and innovations based on performance data.",
            "Refine the policy and the templates at least once a quarter from what the metrics and reviews show.",
            "policy versions and standard-change templates, both recorded in the ledger",
            checks::refined_regularly,
        )
    },
    question(
        "process.feedback-loop",
        Process,
        5,
        "A continuous feedback loop",
        "Do teams and stakeholders give regular feedback on the change process (retrospectives, surveys), and is the process changed because of it?",
        "Continuous feedback loop from teams and stakeholders. (Encourage teams to continuously provide feedback on the Change Management process.)",
        "Collect feedback on the process from every team at a fixed rhythm and act on it visibly.",
        "reviews on failed and emergency changes; policy versions carry the reason for each refinement",
    ),
];
