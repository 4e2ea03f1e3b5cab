//! The rubric, as data: five dimensions (the seed table's columns) and, for levels 2 to 5 of each,
//! the criteria a level requires. Level 1 (Initial, ad hoc) has none: it is where everyone starts.
//!
//! Each criterion names what it measures, its threshold and minimum sample, the sentence of the
//! seed it comes from, the roadmap step that meets it and the Changegate feature that helps, and
//! its check (in `checks.rs`). `docs/maturity-rubric.md` is this table for people; a test keeps
//! the two in step. Change [`RUBRIC_VERSION`] whenever a criterion, threshold or gate changes:
//! assessments record it, so levels measured under different rubrics are never compared silently.

use serde::{Deserialize, Serialize};

use crate::checks::{self, Measurement};
use crate::facts::Facts;

/// The version of the rubric below (criteria, thresholds, samples, gates).
pub const RUBRIC_VERSION: &str = "1.0";
/// The highest level.
pub const LEVEL_MAX: u8 = 5;

/// A column of the seed's maturity table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// "Process description" and "Key characteristics".
    Process,
    RiskManagement,
    /// "Metrics & KPIs".
    Metrics,
    Automation,
    /// "Audit/compliance".
    AuditCompliance,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Process,
        Dimension::RiskManagement,
        Dimension::Metrics,
        Dimension::Automation,
        Dimension::AuditCompliance,
    ];

    /// The name in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Process => "process",
            Dimension::RiskManagement => "risk_management",
            Dimension::Metrics => "metrics",
            Dimension::Automation => "automation",
            Dimension::AuditCompliance => "audit_compliance",
        }
    }

    /// The name for people.
    pub fn title(self) -> &'static str {
        match self {
            Dimension::Process => "Process",
            Dimension::RiskManagement => "Risk management",
            Dimension::Metrics => "Metrics & KPIs",
            Dimension::Automation => "Automation",
            Dimension::AuditCompliance => "Audit & compliance",
        }
    }
}

/// The name of a level, as the seed's table gives it.
pub fn level_name(level: u8) -> &'static str {
    match level {
        0 | 1 => "Initial (ad hoc)",
        2 => "Managed",
        3 => "Defined",
        4 => "Quantitatively managed",
        _ => "Optimizing",
    }
}

/// The seed's guidance for moving from `level` to the next ("Moving up the CMMI ladder").
pub fn ladder_guidance(level: u8) -> &'static str {
    match level {
        0 | 1 => {
            "From level 1 to level 2, implementing basic structure: document all changes and ensure they are \
             reviewed and approved before implementation."
        }
        2 => {
            "From level 2 to level 3, standardizing across the organization: clear policies and procedures for \
             change submissions, approvals, testing, and deployment, the same for every team."
        }
        3 => {
            "From level 3 to level 4, measuring performance: track the percentage of successful changes, \
             change-related incidents and approval time, and use the data to refine the process."
        }
        _ => {
            "From level 4 to level 5, continuous improvement: feedback loops and innovation, metrics that predict \
             and prevent issues, and automation that implements and approves changes faster and more securely."
        }
    }
}

/// Where a criterion's evidence comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// The change and incident records, live or imported.
    Data,
    /// Evidence only a live installation has: policy versions, alert rules, the risk model, the
    /// ledger, rollback hooks, and what the live decision records carry (policy hashes, the
    /// model's prediction).
    Live,
    /// A question, for what data cannot show. Not answering counts as "no".
    Question,
}

/// How a measured value is compared with the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtLeast,
    AtMost,
}

/// The unit of a measured value and its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A share between 0 and 1.
    Share,
    Count,
    Days,
    /// ROC AUC, between 0 and 1.
    Auc,
    /// A ratio of two durations.
    Ratio,
    /// 1 for yes, 0 for no.
    Answer,
}

/// One criterion of one level.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Criterion {
    /// `dimension.name`, stable: answers, links and documents refer to it.
    pub id: &'static str,
    pub dimension: Dimension,
    pub level: u8,
    pub kind: CriterionKind,
    pub title: &'static str,
    /// What is measured, in one sentence.
    pub measures: &'static str,
    pub threshold: f64,
    pub comparison: Comparison,
    pub unit: Unit,
    /// The fewest items the measure needs; below it the criterion is unmet ("too few to tell").
    pub sample_min: u32,
    /// The sentence of the seed the criterion comes from.
    pub seed: &'static str,
    /// The roadmap step that meets it.
    pub step: &'static str,
    /// The Changegate feature that helps.
    pub feature: &'static str,
    /// The question asked, for [`CriterionKind::Question`].
    pub question: Option<&'static str>,
    #[serde(skip)]
    pub(crate) check: fn(&Facts<'_>, &Criterion) -> Measurement,
}

/// A question of the questionnaire, as `changegate assess --questions --json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The id of the criterion it answers.
    pub id: String,
    pub dimension: Dimension,
    pub level: u8,
    pub text: String,
}

/// The questionnaire: one question per question criterion, in rubric order.
pub fn questions() -> Vec<Question> {
    RUBRIC
        .iter()
        .filter_map(|criterion| {
            criterion.question.map(|text| Question {
                id: criterion.id.to_owned(),
                dimension: criterion.dimension,
                level: criterion.level,
                text: text.to_owned(),
            })
        })
        .collect()
}

/// The criterion with this id.
pub fn criterion(id: &str) -> Option<&'static Criterion> {
    RUBRIC.iter().find(|criterion| criterion.id == id)
}

/// Production deployments a share over deployments needs: fewer in 90 days tells nothing.
pub(crate) const DEPLOYMENTS_MIN: u32 = 10;
/// Deployments a team needs in the period to be judged on its own.
pub(crate) const TEAM_DEPLOYMENTS_MIN: u32 = 5;

// A row of the rubric table: positional like the table it reads as.
#[allow(clippy::too_many_arguments)]
const fn data(
    id: &'static str,
    dimension: Dimension,
    level: u8,
    title: &'static str,
    measures: &'static str,
    threshold: f64,
    sample_min: u32,
    seed: &'static str,
    step: &'static str,
    feature: &'static str,
    check: fn(&Facts<'_>, &Criterion) -> Measurement,
) -> Criterion {
    Criterion {
        id,
        dimension,
        level,
        kind: CriterionKind::Data,
        title,
        measures,
        threshold,
        comparison: Comparison::AtLeast,
        unit: Unit::Share,
        sample_min,
        seed,
        step,
        feature,
        question: None,
        check,
    }
}

#[allow(clippy::too_many_arguments)]
const fn question(
    id: &'static str,
    dimension: Dimension,
    level: u8,
    title: &'static str,
    text: &'static str,
    seed: &'static str,
    step: &'static str,
    feature: &'static str,
) -> Criterion {
    Criterion {
        id,
        dimension,
        level,
        kind: CriterionKind::Question,
        title,
        measures: "The answer to the question (not answering counts as no).",
        threshold: 1.0,
        comparison: Comparison::AtLeast,
        unit: Unit::Answer,
        sample_min: 1,
        seed,
        step,
        feature,
        question: Some(text),
        check: checks::answered_yes,
    }
}

use Dimension::{AuditCompliance, Automation, Metrics, Process, RiskManagement};

/// Every criterion, by dimension and level.
pub static RUBRIC: &[Criterion] = &[
    // --- Process ----------------------------------------------------------------------------
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
    // --- Risk management --------------------------------------------------------------------
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
    // --- Metrics & KPIs ---------------------------------------------------------------------
    Criterion {
        unit: Unit::Count,
        ..data(
            "metrics.change-count",
            Metrics,
            2,
            "The number of changes is tracked",
            "Number of production changes that finished (successful, failed or rolled back) in the period.",
            10.0,
            1,
            "Basic metrics (e.g., number of changes).",
            "Record every production change with its outcome so that change volume can be counted.",
            "the change list and the dashboard",
            checks::change_count,
        )
    },
    data(
        "metrics.deployment-times",
        Metrics,
        2,
        "Changes carry their deployment time",
        "Share of the period's finished production changes that record when they were deployed.",
        0.8,
        DEPLOYMENTS_MIN,
        "Basic metrics (e.g., number of changes). (Processes are planned, documented, and tracked.)",
        "Record when each change was deployed (start and completion), so changes can be counted per period.",
        "lifecycle events with their times (start, complete)",
        checks::deployment_times,
    ),
    data(
        "metrics.success-rate-tracked",
        Metrics,
        3,
        "The change success rate is tracked",
        "Share of the period's production deployments with a known outcome (verified successful, failed, or rolled back; not left unverified).",
        0.9,
        DEPLOYMENTS_MIN,
        "Metrics tracked include change success rates and approval times.",
        "Close every deployed change with its outcome: verify it, or mark it failed or rolled back.",
        "verify / fail / rollback actions, and `changegate gate --finish` from the pipeline",
        checks::success_rate_tracked,
    ),
    data(
        "metrics.approval-time-tracked",
        Metrics,
        3,
        "Approval time is tracked",
        "Share of the period's approved production deployments whose approval time (submission to approval) can be measured.",
        0.9,
        DEPLOYMENTS_MIN,
        "Metrics tracked include change success rates and approval times.",
        "Submit changes for approval in the tool so that submission and approval times are both recorded.",
        "submit and approve through Changegate (API, CLI, inbox)",
        checks::approval_time_tracked,
    ),
    data(
        "metrics.change-incidents-monitored",
        Metrics,
        3,
        "Change-related incidents are monitored",
        "Share of the period's incidents whose link to a change is settled (none waits for a person to confirm a suggested cause); at least one incident must be recorded.",
        0.9,
        1,
        "Change-related incidents monitored.",
        "Record incidents in Changegate (or import them) and confirm or reject each suggested causing change.",
        "incidents with change attribution (explicit, suggested, confirmed, rejected)",
        checks::change_incidents_monitored,
    ),
    data(
        "metrics.recovery-time-measured",
        Metrics,
        4,
        "Time to recover from failed changes is measured",
        "Share of the period's failed production deployments whose recovery time can be measured (the incident resolved, a rollback recorded live, or the next successful deployment).",
        0.8,
        1,
        "Advanced metrics include time-to-recover from failed changes, change risk scores, and downtime related to changes.",
        "Record how each failure ended: roll back through Changegate, resolve the linked incident, or deploy the fix as a change.",
        "rollback actions and hooks, incident resolution times",
        checks::recovery_time_measured,
    ),
    data(
        "metrics.change-downtime-recorded",
        Metrics,
        4,
        "Downtime caused by changes is recorded",
        "Share of the period's incidents caused by a change that record their downtime.",
        0.8,
        1,
        "Advanced metrics include time-to-recover from failed changes, change risk scores, and downtime related to changes.",
        "Record the downtime of every incident a change caused.",
        "incident downtime minutes",
        checks::change_downtime_recorded,
    ),
    data(
        "metrics.recovery-within-hour",
        Metrics,
        5,
        "Failed changes are recovered within an hour",
        "Share of the period's failed production deployments recovered within 60 minutes (an unmeasurable recovery counts as slower); MTTR and MTBF are reported with it.",
        0.8,
        1,
        "Metrics used for real-time process improvement (e.g., Mean Time to Recovery (MTTR), Mean Time Between Failures (MTBF)).",
        "Watch MTTR and MTBF continuously and cut recovery time: automated rollbacks, alerts on failure.",
        "rollback hooks and alert rules; the metrics pages",
        checks::recovery_within_hour,
    ),
    Criterion {
        unit: Unit::Ratio,
        comparison: Comparison::AtMost,
        ..data(
            "metrics.approval-time-falling",
            Metrics,
            5,
            "Approval time keeps falling",
            "Median approval time of the latest quarter over that of three quarters ago (91-day quarters ending at the period's end), with no quarter rising more than 10 % over the one before; met outright once the latest median is under an hour.",
            0.9,
            5,
            "Change approval time continuously reduced.",
            "Remove approval waits quarter by quarter: more standard templates, policy auto-approval of low-risk changes, approvers notified at once.",
            "standard-change templates, policy auto-approval, the approvals inbox",
            checks::approval_time_falling,
        )
    },
    // --- Automation -------------------------------------------------------------------------
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
    // --- Audit & compliance -----------------------------------------------------------------
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_name_their_dimension() {
        let mut seen = BTreeSet::new();
        for criterion in RUBRIC {
            assert!(seen.insert(criterion.id), "{} twice", criterion.id);
            let prefix = match criterion.dimension {
                Dimension::Process => "process.",
                Dimension::RiskManagement => "risk.",
                Dimension::Metrics => "metrics.",
                Dimension::Automation => "automation.",
                Dimension::AuditCompliance => "audit.",
            };
            assert!(criterion.id.starts_with(prefix), "{}", criterion.id);
            assert!((2..=LEVEL_MAX).contains(&criterion.level), "{}", criterion.id);
            assert_eq!(criterion.question.is_some(), criterion.kind == CriterionKind::Question, "{}", criterion.id);
        }
    }

    #[test]
    fn every_level_of_every_dimension_has_criteria() {
        for dimension in Dimension::ALL {
            for level in 2..=LEVEL_MAX {
                let count = RUBRIC.iter().filter(|c| c.dimension == dimension && c.level == level).count();
                assert!(count > 0, "{dimension:?} level {level} has no criterion");
            }
        }
    }

    #[test]
    fn the_questionnaire_asks_only_what_data_cannot_show() {
        // Given the rubric, when the questionnaire is listed, then it is small and each question is
        // tied to a criterion at a level.
        let questions = questions();
        assert_eq!(questions.len(), 6);
        for question in &questions {
            let criterion = criterion(&question.id).unwrap();
            assert_eq!(criterion.kind, CriterionKind::Question);
            assert_eq!(criterion.level, question.level);
            assert!(question.text.ends_with('?'));
        }
    }

    /// The per-criterion part of `docs/maturity-rubric.md`, generated from the rubric.
    fn criteria_section() -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for dimension in Dimension::ALL {
            let _ = writeln!(out, "### {}\n", dimension.title());
            for level in 2..=LEVEL_MAX {
                let _ = writeln!(out, "#### Level {level}: {}\n", level_name(level));
                for criterion in RUBRIC.iter().filter(|c| c.dimension == dimension && c.level == level) {
                    let sign = match criterion.comparison {
                        Comparison::AtLeast => "≥",
                        Comparison::AtMost => "≤",
                    };
                    let threshold = if criterion.unit == Unit::Answer {
                        "yes".to_owned()
                    } else {
                        format!("{sign} {}", crate::report::value_text(criterion.unit, Some(criterion.threshold)))
                    };
                    let kind = match criterion.kind {
                        CriterionKind::Data => "records (live or imported)",
                        CriterionKind::Live => "a live installation",
                        CriterionKind::Question => "the questionnaire",
                    };
                    let _ = writeln!(out, "- **`{}`: {}**", criterion.id, criterion.title);
                    match criterion.question {
                        Some(question) => {
                            let _ = writeln!(out, "  - Question: {question}");
                        }
                        None => {
                            let _ = writeln!(out, "  - Measures: {}", criterion.measures);
                        }
                    }
                    let _ = writeln!(
                        out,
                        "  - Threshold: {threshold}; minimum sample: {}; evidence from {kind}.",
                        criterion.sample_min
                    );
                    let _ = writeln!(out, "  - Seed: “{}”", criterion.seed);
                    let _ = writeln!(out, "  - Roadmap step: {} Changegate: {}.", criterion.step, criterion.feature);
                }
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn the_document_explains_every_criterion() {
        // The criteria section of the document is generated from the rubric; run the test with
        // UPDATE_DOCS=1 to rewrite it after changing a criterion.
        const BEGIN: &str = "<!-- criteria: generated from crates/maturity/src/rubric.rs -->\n";
        const END: &str = "<!-- end of criteria -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/maturity-rubric.md");
        let document = std::fs::read_to_string(path).expect("docs/maturity-rubric.md");
        let (Some(begin), Some(end)) = (document.find(BEGIN), document.find(END)) else {
            panic!("docs/maturity-rubric.md lacks the criteria markers");
        };
        let generated = criteria_section();
        let current = &document[begin + BEGIN.len()..end];
        if current != generated {
            if std::env::var_os("UPDATE_DOCS").is_some() {
                let updated = format!("{}{generated}{}", &document[..begin + BEGIN.len()], &document[end..]);
                std::fs::write(path, updated).expect("docs/maturity-rubric.md is writable");
            } else {
                panic!("docs/maturity-rubric.md is out of date with the rubric: run the test with UPDATE_DOCS=1");
            }
        }
        assert!(document.contains(&format!("Rubric version {RUBRIC_VERSION}")), "the document names the version");
        for question in questions() {
            assert!(document.contains(&question.text), "the document misses the question of {}", question.id);
        }
    }
}
