//! The words of the demo: change titles from templates per kind of service, descriptions, plans,
//! links, comments, root causes and incident titles.

use changegate_core::ChangeType;

use crate::dice::Dice;
use crate::org::{Kind, ServiceSpec, ticket_key};
use crate::templates::Routine;

/// A title template: the kinds of service it fits (empty: any), the title with placeholders, and
/// the reason given in the description.
type Template = (&'static [Kind], &'static str, &'static str);

const APP: &[Kind] = &[Kind::App];
const APP_WEB: &[Kind] = &[Kind::App, Kind::Web];
const DATA: &[Kind] = &[Kind::Data];
const INFRA: &[Kind] = &[Kind::Infra];
const INFRA_DATA: &[Kind] = &[Kind::Infra, Kind::Data];
const MOBILE: &[Kind] = &[Kind::Mobile];
const SERVER: &[Kind] = &[Kind::App, Kind::Web, Kind::Infra, Kind::Data];
const ANY: &[Kind] = &[];

/// A standard-change title: the routine (and so the template) it belongs to, the kinds of
/// service it fits (empty: any), the title with placeholders, and the reason in the description.
type RoutineTitle = (Routine, &'static [Kind], &'static str, &'static str);

/// Routine changes, made from the standard-change templates.
const STANDARD: &[RoutineTitle] = &[
    (
        Routine::Release,
        APP_WEB,
        "Deploy {svc} v{ver}",
        "Regular release train: bug fixes and small features merged since the last release.",
    ),
    (Routine::Release, APP_WEB, "Deploy {svc} v{ver}", "Weekly release with the sprint's merged pull requests."),
    (Routine::Release, APP_WEB, "Deploy {svc} v{ver}", "Release containing the fixes for the bugs triaged this week."),
    (
        Routine::Release,
        MOBILE,
        "Release {svc} {app} to {pct}% phased rollout",
        "App store release with the sprint's fixes; phased rollout.",
    ),
    (
        Routine::DependencyBump,
        SERVER,
        "Bump openssl to 3.0.{ossl} in {svc}",
        "Keep the base image on the latest openssl patch release.",
    ),
    (
        Routine::DependencyBump,
        APP,
        "Upgrade {lib} from {from} to {to} in {svc}",
        "Dependency update proposed by the dependency bot; patch release only.",
    ),
    (
        Routine::DependencyBump,
        SERVER,
        "Update Helm chart of {svc} to {ver}",
        "Chart refresh: resource requests, labels and probe timings.",
    ),
    (
        Routine::DependencyBump,
        MOBILE,
        "Update {svc} SDK dependencies",
        "Routine update of the analytics and crash-reporting SDKs.",
    ),
    (
        Routine::FeatureFlag,
        APP_WEB,
        "Enable feature flag {flag} for {pct}% of traffic on {svc}",
        "Progressive rollout of a feature already tested behind the flag.",
    ),
    (
        Routine::FeatureFlag,
        MOBILE,
        "Enable remote-config flag {flag} for {pct}% of {svc} users",
        "Staged rollout of a feature shipped dark in the last release.",
    ),
    (
        Routine::ScaleOut,
        APP_WEB,
        "Scale {svc} replicas from {a} to {b}",
        "Traffic grew steadily; keep CPU below 60% at peak.",
    ),
    (Routine::ScaleOut, INFRA, "Scale {svc} node pool from {a} to {b} nodes", "Capacity plan for the next quarter."),
    (
        Routine::ScaleOut,
        DATA,
        "Resize {svc} volumes from {a} GiB to {b} GiB",
        "Disk usage above 70%; grow before it becomes urgent.",
    ),
    (
        Routine::RotateCertificate,
        SERVER,
        "Rotate TLS certificates for {svc}",
        "Certificates expire in 21 days; rotation from the standard runbook.",
    ),
    (
        Routine::RotateCertificate,
        APP,
        "Rotate database credentials for {svc}",
        "Quarterly credential rotation required by policy.",
    ),
    (
        Routine::RestartPod,
        SERVER,
        "Rolling restart of {svc} pods",
        "Pick up the rotated secrets and the patched node image.",
    ),
    (
        Routine::RestartPod,
        SERVER,
        "Restart {svc} pods stuck after the node pool upgrade",
        "Some pods kept stale connections after the node upgrade and fail their readiness checks.",
    ),
    (
        Routine::Observability,
        ANY,
        "Update dashboards and alert thresholds for {svc}",
        "Alerting review: reduce noisy alerts and add SLO burn-rate alerts.",
    ),
    (
        Routine::LegacyPatching,
        INFRA_DATA,
        "Patch the VM image of {svc} (legacy runbook)",
        "Monthly OS patches applied by hand, as the old runbook describes.",
    ),
];

/// Changes that go through assessment and approval.
const NORMAL: &[Template] = &[
    (APP_WEB, "Deploy {svc} v{ver}", "Release with a behavioural change that needs an approval window."),
    (
        APP,
        "Apply database migration {mig} to {svc}",
        "Schema change needed by the next release; runs online in batches.",
    ),
    (
        APP,
        "Increase connection pool for {svc} from {a} to {b}",
        "Pool exhaustion during peak traffic caused queueing and timeouts.",
    ),
    (
        APP,
        "Upgrade {lib} from {from} to {to} in {svc}",
        "Minor-version upgrade with deprecations addressed; needed for security support.",
    ),
    (
        APP_WEB,
        "Update rate limits on {svc}",
        "Partner integrations need higher limits; abuse protection stays in place.",
    ),
    (SERVER, "Tune memory limits for {svc} from {a}Mi to {b}Mi", "Pods were OOM-killed under peak load."),
    (
        APP,
        "Change retry and timeout settings in {svc} client",
        "Retries amplified load during the last upstream slowdown.",
    ),
    (INFRA, "Upgrade {svc} to Kubernetes {k8s}", "The current minor version leaves provider support next quarter."),
    (INFRA, "Tighten network policies on {svc}", "Default-deny egress, as required by the segmentation review."),
    (INFRA, "Add DNS records for {region} failover of {svc}", "Disaster recovery plan: a warm standby region."),
    (INFRA, "Update Envoy to 1.{a}.{b} in {svc}", "Fixes for HTTP/2 stream handling and a moderate CVE."),
    (INFRA_DATA, "Update Terraform provider versions for {svc}", "Provider upgrade needed for new instance types."),
    (
        DATA,
        "Upgrade PostgreSQL from 15.{a} to 15.{b} on {svc}",
        "Minor upgrade with replication fixes; rolling, one replica at a time.",
    ),
    (
        DATA,
        "Increase Kafka partitions for topic {topic} from {a} to {b}",
        "Consumer lag grows at peak; more partitions allow more consumers.",
    ),
    (DATA, "Change data retention for {svc} to {days} days", "Retention aligned with the data-protection schedule."),
    (DATA, "Add index on {topic} lookups in {svc}", "Slow queries on the hot path; the index is built concurrently."),
    (APP_WEB, "Update CSP headers on {svc}", "Remove unsafe-inline and add report-uri, per the security review."),
    (APP_WEB, "Migrate {svc} session storage to redis-cache", "Sticky sessions block horizontal scaling."),
    (MOBILE, "Bump minimum supported OS version in {svc}", "Less than 1% of sessions use the dropped versions."),
    (MOBILE, "Release {svc} {app} with new onboarding flow", "Redesigned onboarding, tested with a 5% beta cohort."),
    (ANY, "Move {svc} to the {region} region", "Data residency requirements for EU customers."),
    (ANY, "Patch {cve} in {svc} base image", "Vulnerability rated high by the scanner; the vendor fix is available."),
];

/// Changes made under pressure, implemented before approval.
const EMERGENCY: &[Template] = &[
    (
        APP_WEB,
        "Hotfix: null pointer in {svc} request handler",
        "Production errors for a subset of requests since the last release.",
    ),
    (
        ANY,
        "Emergency patch for {cve} in {svc}",
        "Actively exploited vulnerability; patch before the next business day.",
    ),
    (
        APP_WEB,
        "Revert {svc} v{ver} after error spike",
        "Error rate above SLO after the release; revert to the last good version.",
    ),
    (
        SERVER,
        "Emergency: block abusive traffic on {svc}",
        "Credential-stuffing traffic from a botnet is degrading the service.",
    ),
    (
        SERVER,
        "Hotfix: restore expired TLS certificate on {svc}",
        "A certificate expired and clients fail the TLS handshake.",
    ),
    (
        SERVER,
        "Emergency: scale {svc} from {a} to {b} replicas during traffic spike",
        "Latency above SLO during an unexpected traffic spike.",
    ),
    (
        APP_WEB,
        "Hotfix: disable feature flag {flag} on {svc}",
        "The flag's code path corrupts responses for some customers.",
    ),
    (DATA, "Emergency: free disk space on {svc}", "Disk usage at 95% and growing; writes will stop within hours."),
    (MOBILE, "Hotfix release {svc} {app}: crash on launch", "Crash on launch for users on the previous OS version."),
];

const LIBRARIES: &[(&str, u32, u32)] = &[
    ("spring-boot", 3, 2),
    ("jackson-databind", 2, 17),
    ("log4j-core", 2, 23),
    ("netty", 4, 1),
    ("express", 4, 19),
    ("django", 5, 0),
    ("grpc-go", 1, 64),
    ("tokio", 1, 38),
    ("okhttp", 4, 12),
    ("react", 18, 2),
    ("pgx", 5, 6),
    ("redis-py", 5, 0),
    ("aws-sdk-go-v2", 1, 30),
    ("hibernate-core", 6, 5),
];

const FLAGS: &[&str] = &[
    "new-checkout-flow",
    "async-ledger-writes",
    "risk-score-v2",
    "passkey-login",
    "smart-retry",
    "edge-caching",
    "one-click-refund",
    "search-ranking-v3",
    "dark-mode",
    "batch-payouts",
];

const TOPICS: &[&str] = &[
    "payment-events",
    "user-signups",
    "ledger-entries",
    "search-clicks",
    "audit-log",
    "order-updates",
    "fraud-signals",
];

const REGIONS: &[&str] = &["eu-west-1", "eu-central-1", "us-east-1", "eu-north-1"];

const MIGRATIONS: &[&str] = &[
    "add_index_on_created_at",
    "add_currency_column",
    "split_address_table",
    "backfill_customer_region",
    "drop_legacy_status",
    "add_idempotency_keys",
    "partition_events_by_month",
];

/// Running numbers that make links look real (pull requests, pipelines, tickets).
pub(crate) struct Counters {
    pull_requests: Vec<u64>,
    tickets: Vec<u64>,
    pipeline: u64,
}

impl Counters {
    pub(crate) fn new(dice: &mut Dice, services: usize, teams: usize) -> Self {
        Counters {
            pull_requests: (0..services).map(|_| dice.between(120, 2_400) as u64).collect(),
            tickets: (0..teams).map(|_| dice.between(300, 4_000) as u64).collect(),
            pipeline: dice.between(100_000, 400_000) as u64,
        }
    }
}

/// The text of one change.
pub(crate) struct ChangeText {
    pub title: String,
    pub description: String,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub links: Vec<String>,
    /// For an emergency change: why it cannot wait for approval.
    pub justification: Option<String>,
    /// Lines added plus deleted, and files touched.
    pub lines: i64,
    pub files: i64,
    /// A big diff (more than 800 lines): riskier and slower.
    pub large: bool,
    /// A tiny diff (under 30 lines).
    pub small: bool,
}

/// What the generator knows about the change it is writing.
pub(crate) struct ChangeContext<'a> {
    pub spec: &'a ServiceSpec,
    pub service_index: usize,
    pub team_index: usize,
    pub change_type: ChangeType,
    pub environment: &'a str,
    pub year: i64,
    /// For a standard change: the routine of its template.
    pub routine: Option<Routine>,
    /// Whether the change carries a rollback plan (the generator decides: the policy reads it).
    pub with_rollback_plan: bool,
}

fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut text = template.to_owned();
    for (key, value) in values {
        if text.contains(key) {
            text = text.replace(key, value);
        }
    }
    text
}

fn pick_template(dice: &mut Dice, templates: &'static [Template], kind: Kind) -> &'static Template {
    let fitting: Vec<&'static Template> =
        templates.iter().filter(|(kinds, _, _)| kinds.is_empty() || kinds.contains(&kind)).collect();
    fitting[dice.index(fitting.len())]
}

pub(crate) fn change_text(dice: &mut Dice, counters: &mut Counters, context: &ChangeContext<'_>) -> ChangeText {
    let spec = context.spec;
    let (title_template, why) = match context.change_type {
        ChangeType::Standard => {
            let routine = context.routine.unwrap_or(Routine::Observability);
            let fitting: Vec<&RoutineTitle> = STANDARD
                .iter()
                .filter(|(of, kinds, _, _)| *of == routine && (kinds.is_empty() || kinds.contains(&spec.kind)))
                .collect();
            if fitting.is_empty() {
                ("Update dashboards and alert thresholds for {svc}", "Alerting review.")
            } else {
                let (_, _, title, why) = fitting[dice.index(fitting.len())];
                (*title, *why)
            }
        }
        ChangeType::Normal => {
            let (_, title, why) = pick_template(dice, NORMAL, spec.kind);
            (*title, *why)
        }
        ChangeType::Emergency => {
            let (_, title, why) = pick_template(dice, EMERGENCY, spec.kind);
            (*title, *why)
        }
    };
    let (library, major, minor) = *dice.pick(LIBRARIES);
    let patch = dice.between(0, 12);
    let (a, b) = {
        let base = dice.between(2, 40) * 4;
        (base, base + dice.between(1, 6) * 4)
    };
    let version = format!("{}.{}.{}", dice.between(1, 9), dice.between(0, 40), dice.between(0, 20));
    let app_version = format!("{}.{}.{}", dice.between(4, 7), dice.between(0, 30), dice.between(0, 5));
    let k8s_minor = dice.between(28, 32);
    let values = [
        ("{svc}", spec.name.to_owned()),
        ("{ver}", version.clone()),
        ("{app}", app_version),
        ("{ossl}", dice.between(9, 16).to_string()),
        ("{lib}", library.to_owned()),
        ("{from}", format!("{major}.{minor}.{patch}")),
        ("{to}", format!("{major}.{minor}.{}", patch + dice.between(1, 3))),
        ("{a}", a.to_string()),
        ("{b}", b.to_string()),
        ("{flag}", (*dice.pick(FLAGS)).to_owned()),
        ("{pct}", dice.pick(&[5, 10, 25, 50, 100]).to_string()),
        ("{cve}", format!("CVE-{}-{}", context.year, dice.between(1_000, 49_999))),
        ("{mig}", format!("{:04}_{}", dice.between(40, 400), dice.pick(MIGRATIONS))),
        ("{k8s}", format!("1.{k8s_minor}")),
        ("{topic}", (*dice.pick(TOPICS)).to_owned()),
        ("{region}", (*dice.pick(REGIONS)).to_owned()),
        ("{days}", dice.pick(&[30, 90, 180, 365, 400]).to_string()),
    ];
    let title = fill(title_template, &values);
    let median_lines = match context.change_type {
        ChangeType::Standard => 40.0,
        ChangeType::Normal => 160.0,
        ChangeType::Emergency => 60.0,
    };
    let lines = dice.log_normal_ms(median_lines, 1.3, 1, 20_000);
    let files = (lines / 35 + dice.between(1, 4)).max(1);

    counters.pull_requests[context.service_index] += dice.between(1, 4) as u64;
    counters.pipeline += dice.between(1, 40) as u64;
    counters.tickets[context.team_index] += dice.between(0, 3) as u64;
    let pull_request = counters.pull_requests[context.service_index];
    let pipeline = counters.pipeline;
    let ticket = format!("{}-{}", ticket_key(spec.team), counters.tickets[context.team_index]);

    let scope_line =
        if spec.scopes.is_empty() { String::new() } else { format!(" Compliance scope: {}.", spec.scopes.join(", ")) };
    let tested = match context.change_type {
        ChangeType::Emergency => {
            "Tested: reproduced the problem and checked the fix in staging; full test suite to follow."
        }
        _ => *dice.pick(&[
            "Tested: unit and integration tests green in CI; soaked in staging for a day.",
            "Tested: CI green, load test in staging at 1.5x peak traffic.",
            "Tested: CI green; contract tests against all consumers pass.",
            "Tested: CI green; manual smoke test in staging by the requester.",
        ]),
    };
    let description = format!(
        "{why}\n\nScope: {} in {} (tier {}).{scope_line}\nDiff: {lines} lines across {files} files (PR !{pull_request}, {ticket}).\n{tested}",
        spec.name, context.environment, spec.tier
    );

    let plan_share = match context.change_type {
        ChangeType::Standard => 0.96,
        ChangeType::Normal => 0.93,
        ChangeType::Emergency => 0.5,
    };
    let implementation_plan = dice.chance(plan_share).then(|| implementation_plan(dice, context, pull_request));
    let rollback_plan = context.with_rollback_plan.then(|| rollback_plan(dice, spec, &version));
    let justification =
        (context.change_type == ChangeType::Emergency).then(|| format!("{why} {}", dice.pick(JUSTIFICATIONS)));

    let git = format!("https://git.example.com/{}/{}", spec.team, spec.name);
    let (pr_share, commit_share, pipeline_share, ticket_share) = match context.change_type {
        ChangeType::Standard => (0.95, 0.9, 0.92, 0.3),
        ChangeType::Normal => (0.88, 0.6, 0.6, 0.85),
        ChangeType::Emergency => (0.5, 0.75, 0.5, 0.7),
    };
    let mut links = Vec::new();
    if dice.chance(pr_share) {
        links.push(format!("{git}/pull/{pull_request}"));
    }
    if dice.chance(commit_share) {
        links.push(format!("{git}/commit/{}", dice.hex(40)));
    }
    if dice.chance(pipeline_share) {
        links.push(format!("https://ci.example.com/{}/{}/pipelines/{pipeline}", spec.team, spec.name));
    }
    if dice.chance(ticket_share) {
        links.push(format!("https://jira.example.com/browse/{ticket}"));
    }
    ChangeText {
        title,
        description,
        implementation_plan,
        rollback_plan,
        links,
        justification,
        lines,
        files,
        large: lines > 800,
        small: lines < 30,
    }
}

fn implementation_plan(dice: &mut Dice, context: &ChangeContext<'_>, pull_request: u64) -> String {
    let name = context.spec.name;
    match context.change_type {
        ChangeType::Standard => format!(
            "1. Merge PR !{pull_request} once CI passes.\n2. The pipeline deploys {name} to staging and runs the smoke tests.\n3. Canary to 10% of {} traffic for 15 minutes, watching error rate and p99 latency.\n4. Promote to 100%.",
            context.environment
        ),
        ChangeType::Emergency => format!(
            "Apply the fix to {name} through the pipeline with the canary shortened to 5 minutes; the on-call engineer watches the service dashboard."
        ),
        ChangeType::Normal => match dice.index(3) {
            0 => format!(
                "1. Announce the window in #changes.\n2. Take a snapshot of {name}'s data store.\n3. Apply the change to one instance and watch it for 20 minutes.\n4. Roll out to the remaining instances in batches of 25%.\n5. Confirm dashboards and SLOs are green."
            ),
            1 => format!(
                "1. Merge PR !{pull_request}.\n2. Deploy to staging; run the regression suite.\n3. Deploy to production behind a canary (5%, 25%, 100%) with automated analysis between steps.\n4. Keep the previous release warm for one hour."
            ),
            _ => format!(
                "1. Drain traffic from one zone of {name}.\n2. Apply the change in that zone and verify health checks.\n3. Restore traffic, then repeat zone by zone.\n4. Post the result in the change thread."
            ),
        },
    }
}

fn rollback_plan(dice: &mut Dice, spec: &ServiceSpec, version: &str) -> String {
    match dice.index(4) {
        0 => format!("Revert the PR and redeploy the previous image of {} (the release before v{version}).", spec.name),
        1 => format!("helm rollback {} to the previous revision; no data migration is involved.", spec.name),
        2 => "Restore from the snapshot taken before the change (about 20 minutes), then replay the queued writes."
            .to_owned(),
        _ => "Switch the feature flag off; the old code path stays deployed until the next release.".to_owned(),
    }
}

/// Why an emergency cannot wait, after the reason for the change itself.
const JUSTIFICATIONS: &[&str] = &[
    "Customers are affected now; the approval cycle would take hours.",
    "The on-call incident commander asked for the fix to go out immediately.",
    "Waiting for the CAB would breach the SLO and the contractual availability.",
    "The risk of waiting is higher than the risk of the change; approvals follow retrospectively.",
];

/// What a security scan summary says, given its critical findings.
pub(crate) fn security_evidence(dice: &mut Dice, critical_findings: u32, pipeline: &str) -> String {
    if critical_findings == 0 {
        let summary = *dice.pick(&[
            "SAST: 0 high, SCA: 0 critical, secret scan: clean",
            "SAST: 0 critical, 2 medium (accepted); SCA: 0 critical; secret scan: clean",
            "Container scan: 0 critical, 1 high (fixed upstream, waiver SEC-112); SAST clean",
        ]);
        format!("{summary} ({pipeline})")
    } else {
        let finding = *dice.pick(&[
            "SQL injection in a report query",
            "deserialisation of untrusted input (CVE in a transitive dependency)",
            "hard-coded credential in a test fixture shipped in the image",
            "outdated TLS library with a remotely exploitable CVE",
        ]);
        format!("SAST/SCA: {critical_findings} critical ({finding}); secret scan: clean ({pipeline})")
    }
}

pub(crate) const APPROVE_COMMENTS: &[&str] = &[
    "LGTM, risk understood.",
    "Approved for the agreed window.",
    "Rollback plan reviewed, go ahead.",
    "OK. Please watch the error budget during rollout.",
    "Approved; make sure on-call is aware.",
    "Fine by me, the blast radius is small.",
];

pub(crate) const SECURITY_APPROVE_COMMENTS: &[&str] = &[
    "Security: scan results reviewed, no critical findings. Approved.",
    "Security review done; secrets handling and access scope are fine.",
    "Approved from the security side; PCI evidence attached to the change.",
];

pub(crate) const CAB_APPROVE_COMMENTS: &[&str] = &[
    "CAB: approved for the planned window.",
    "Discussed at the CAB; go ahead, with the rollback plan ready.",
    "CAB approval: blast radius and timing are acceptable.",
];

pub(crate) const RETROSPECTIVE_COMMENTS: &[&str] = &[
    "Retrospective approval: the emergency was justified.",
    "Approved after the fact; PIR to follow.",
    "Retro-approved. Please document the trigger in the review.",
];

pub(crate) const REJECT_COMMENTS: &[&str] = &[
    "Rollback plan does not cover the data migration.",
    "Conflicts with the month-end freeze; resubmit next week.",
    "Needs load-test evidence before touching production.",
    "Too many changes bundled together; split it up.",
    "Missing security review for a PCI-scoped service.",
    "The window overlaps another change on a dependency.",
];

pub(crate) const CANCEL_COMMENTS: &[&str] = &[
    "Superseded by a newer change.",
    "No longer needed: the upstream fix landed.",
    "Postponed to next quarter.",
    "Opened by mistake.",
];

pub(crate) const VERIFY_COMMENTS: &[&str] = &[
    "Error rate and latency within SLO for 30 minutes.",
    "Smoke tests green, dashboards nominal.",
    "Verified by synthetic checks.",
];

pub(crate) const FAIL_DURING_COMMENTS: &[&str] = &[
    "Health checks failed on the canary pods; rollout halted.",
    "Migration locked the table longer than expected; aborted.",
    "Deployment stuck: new pods crash-looping.",
    "Error rate rose to 4% on the canary.",
];

pub(crate) const FAIL_AFTER_COMMENTS: &[&str] = &[
    "Verification failed: p99 latency doubled after rollout.",
    "Customers report errors since the change; verification failed.",
    "Synthetic checks failing in one region after the change.",
    "Memory grows steadily since the rollout; verification failed.",
];

pub(crate) const ROLLBACK_COMMENTS: &[&str] = &[
    "Rolled back to the previous release; service recovered.",
    "Reverted via helm rollback; metrics back to baseline.",
    "Feature flag switched off; errors stopped.",
    "Restored from snapshot; no data lost.",
];

pub(crate) const ROOT_CAUSES: &[&str] = &[
    "Configuration drift between staging and production: a connection limit differed.",
    "The dependency upgrade changed a default timeout from 30 s to 5 s.",
    "The migration took a table lock because the index was not built concurrently.",
    "Insufficient test coverage of the error path that failed in production.",
    "The new version needed more memory than the pod limit allowed.",
    "A downstream service was not ready for the new API version.",
    "The certificate bundle lacked the intermediate certificate.",
    "A race condition under production concurrency, not reproducible in staging.",
    "The canary analysis looked at the wrong metric and promoted a bad build.",
    "A manual step in the runbook was skipped during implementation.",
    "The feature flag default was inverted in the production configuration.",
    "Cache keys changed format and the cold cache overloaded the database.",
];

pub(crate) const REVIEW_COMMENTS: &[&str] = &[
    "PIR: went as planned; no follow-ups.",
    "PIR: fine, but the window was too short. Add 30 minutes next time.",
    "PIR held with the team; two action items filed.",
    "PIR: monitoring gap found and fixed.",
];

pub(crate) const CHANGE_INCIDENT_TITLES: &[&str] = &[
    "Elevated 5xx errors on {svc}",
    "Latency regression on {svc}",
    "{svc} pods crash-looping",
    "Partial outage of {svc}",
    "Failed requests from {svc} to its dependencies",
    "Data inconsistency reported on {svc}",
];

pub(crate) const OTHER_INCIDENT_TITLES: &[&str] = &[
    "Cloud provider network degradation affecting {svc}",
    "Disk pressure on {svc} nodes",
    "Third-party API outage impacting {svc}",
    "Traffic spike saturating {svc}",
    "Expired credentials of an external integration in {svc}",
    "DNS resolution failures for {svc}",
];

pub(crate) fn incident_title(dice: &mut Dice, titles: &[&str], service: &str) -> String {
    dice.pick(titles).replace("{svc}", service)
}
