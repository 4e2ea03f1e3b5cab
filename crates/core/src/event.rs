//! Events: the only way anything changes in Changegate.
//!
//! A command is decided by the core into [`DomainEvent`]s; the store wraps each in an
//! [`EventEnvelope`] (global sequence, stream, actor, time, schema version) and appends it. The
//! envelope's [`EventEnvelope::leaf_bytes`] are what the audit ledger hashes, so their form is
//! fixed and documented here.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::approval::RequiredApproval;
use crate::domain::{
    ApprovalMode, ChangeId, ChangeType, CreatedBy, ImportedOutcome, IncidentId, LinkProvenance, Name, RiskClass, Role,
    Severity, Tier,
};
use crate::time::Timestamp;

/// The version of the event payload schemas this build writes. Readers upgrade older versions.
pub const SCHEMA_VERSION: u32 = 1;

/// The stream an event belongs to: one per aggregate, plus `access` for denials.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StreamId {
    Change(ChangeId),
    Service(Name),
    Team(Name),
    User(Name),
    Incident(IncidentId),
    Access,
    /// The audit ledger's own history: verification results.
    Ledger,
    /// Versions of the approval policy.
    Policy,
    /// One standard-change template.
    Template(Name),
    /// One calendar window (freeze or maintenance).
    Calendar(Name),
    /// The predictive risk models.
    Risk,
    /// One alert rule's definitions.
    AlertRule(Name),
    /// Alert firings and their deliveries.
    Alerts,
    /// Answers to the maturity questionnaire.
    Maturity,
}

impl fmt::Display for StreamId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamId::Change(id) => write!(formatter, "change/{id}"),
            StreamId::Service(name) => write!(formatter, "service/{name}"),
            StreamId::Team(name) => write!(formatter, "team/{name}"),
            StreamId::User(name) => write!(formatter, "user/{name}"),
            StreamId::Incident(id) => write!(formatter, "incident/{id}"),
            StreamId::Access => formatter.write_str("access"),
            StreamId::Ledger => formatter.write_str("ledger"),
            StreamId::Policy => formatter.write_str("policy"),
            StreamId::Template(name) => write!(formatter, "template/{name}"),
            StreamId::Calendar(name) => write!(formatter, "calendar/{name}"),
            StreamId::Risk => formatter.write_str("risk"),
            StreamId::AlertRule(name) => write!(formatter, "alert-rule/{name}"),
            StreamId::Alerts => formatter.write_str("alerts"),
            StreamId::Maturity => formatter.write_str("maturity"),
        }
    }
}

/// The inverse of `Display`: every text `Display` writes parses back to the same stream.
impl std::str::FromStr for StreamId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let name = |rest: &str| Name::parse(rest).map_err(|message| format!("stream `{text}`: {message}"));
        let stream = match text.split_once('/') {
            None => match text {
                "access" => StreamId::Access,
                "ledger" => StreamId::Ledger,
                "policy" => StreamId::Policy,
                "risk" => StreamId::Risk,
                "alerts" => StreamId::Alerts,
                "maturity" => StreamId::Maturity,
                _ => return Err(format!("`{text}` is not a stream")),
            },
            Some(("change", id)) => {
                StreamId::Change(id.parse().map_err(|_| format!("stream `{text}`: `{id}` is not a change id"))?)
            }
            Some(("incident", id)) => {
                StreamId::Incident(id.parse().map_err(|_| format!("stream `{text}`: `{id}` is not an incident id"))?)
            }
            Some(("service", rest)) => StreamId::Service(name(rest)?),
            Some(("team", rest)) => StreamId::Team(name(rest)?),
            Some(("user", rest)) => StreamId::User(name(rest)?),
            Some(("template", rest)) => StreamId::Template(name(rest)?),
            Some(("calendar", rest)) => StreamId::Calendar(name(rest)?),
            Some(("alert-rule", rest)) => StreamId::AlertRule(name(rest)?),
            Some(_) => return Err(format!("`{text}` is not a stream")),
        };
        Ok(stream)
    }
}

impl StreamId {
    /// The change this stream is the history of, if it is a change's.
    pub fn change(&self) -> Option<ChangeId> {
        match self {
            StreamId::Change(id) => Some(*id),
            _ => None,
        }
    }

    /// The incident this stream is the history of, if it is an incident's.
    pub fn incident(&self) -> Option<IncidentId> {
        match self {
            StreamId::Incident(id) => Some(*id),
            _ => None,
        }
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Something that happened. Serialised as `{"type": "...", "data": {...}}`; the store keeps the
/// type and the data in separate columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case", deny_unknown_fields)]
pub enum DomainEvent {
    TeamCreated {
        name: Name,
        #[serde(default)]
        description: String,
    },
    UserCreated {
        name: Name,
        roles: Vec<Role>,
        #[serde(default)]
        team: Option<Name>,
    },
    /// A new API token for `user`. Only the SHA-256 of the token is recorded.
    TokenIssued {
        user: Name,
        token_id: String,
        token_sha256: String,
    },
    ServiceRegistered {
        name: Name,
        team: Name,
        tier: Tier,
        scopes: Vec<Name>,
        depends_on: Vec<Name>,
    },
    ChangeCreated {
        id: ChangeId,
        title: String,
        description: String,
        change_type: ChangeType,
        service: Name,
        environment: Name,
        requester: Name,
        implementation_plan: Option<String>,
        rollback_plan: Option<String>,
        planned_start: Option<Timestamp>,
        planned_end: Option<Timestamp>,
        links: Vec<String>,
        /// Where the test results are (a pipeline run, a report), or a summary.
        #[serde(default)]
        test_evidence: Option<String>,
        /// Security scan results (SAST/SCA/secret scan), as a link or a summary.
        #[serde(default)]
        security_evidence: Option<String>,
        /// Critical findings in the security evidence, when the scan summary says.
        #[serde(default)]
        security_critical_findings: Option<u32>,
        /// The standard-change template the change was made from.
        #[serde(default)]
        template: Option<Name>,
        /// Why an emergency change cannot wait (mandatory for emergencies).
        #[serde(default)]
        justification: Option<String>,
        /// The commit being deployed, and the pipeline run that proposed it.
        #[serde(default)]
        commit: Option<String>,
        #[serde(default)]
        pipeline_url: Option<String>,
        /// Just-in-time code metrics of the commit, when the pipeline computed them.
        #[serde(default)]
        code_metrics: Option<serde_json::Value>,
        /// The team that owned the service when the change was created.
        #[serde(default)]
        team: Option<Name>,
        /// When the first commit of the change was made (the start of its lead time).
        #[serde(default)]
        commit_time: Option<Timestamp>,
    },
    /// A change from another system's history, imported whole with its original times.
    ChangeImported {
        id: ChangeId,
        change: ImportedChange,
    },
    ChangeSubmitted {
        comment: Option<String>,
    },
    /// The assessment on submission: the risk class and the policy's decision. `rule` names
    /// what decided (`policy:<sha256 prefix>`, or `interim-tier-type-v1` for early events);
    /// `policy_sha256` and `input_sha256` let anyone replay the decision.
    ChangeAssessed {
        risk_class: RiskClass,
        /// Total number of approvals required (the sum of `required_approvals`' counts).
        approvals_required: u32,
        rule: String,
        reasons: Vec<String>,
        #[serde(default)]
        required_approvals: Vec<RequiredApproval>,
        #[serde(default)]
        deny: Vec<String>,
        #[serde(default)]
        warn: Vec<String>,
        #[serde(default)]
        policy_sha256: Option<String>,
        #[serde(default)]
        input_sha256: Option<String>,
        /// Set when the policy could not decide (error or time limit): the change then stays
        /// unapproved until a CAB member approves it (fail closed).
        #[serde(default)]
        policy_error: Option<String>,
        /// Whether a service of the change is in a compliance scope (then the implementer may
        /// not approve).
        #[serde(default)]
        scoped: bool,
        /// The risk score 0–100, when the risk assessment computed one.
        #[serde(default)]
        risk_score: Option<u32>,
        /// Scheduled changes whose windows overlap on the same or a dependent service.
        #[serde(default)]
        conflicts: Vec<String>,
        /// The freeze in force over the planned window, if any.
        #[serde(default)]
        freeze: Option<String>,
        /// The explainable risk factors behind `risk_score` (points each).
        #[serde(default)]
        risk_factors: Vec<RiskFactorRecord>,
        /// The predictive model's probability that the change fails, and the model's version.
        #[serde(default)]
        risk_probability: Option<f64>,
        #[serde(default)]
        risk_model: Option<String>,
    },
    /// A high or critical risk change was submitted: the hook for alerts.
    ChangeRiskAlert {
        risk_class: RiskClass,
        risk_score: Option<u32>,
        risk_probability: Option<f64>,
    },
    /// The policy denied the change (it ends rejected).
    ChangeDenied {
        reasons: Vec<String>,
    },
    ChangeAutoApproved {
        rule: String,
    },
    ChangeApproved {
        approver: Name,
        comment: Option<String>,
        retrospective: bool,
        /// The approver's roles and team when they approved (what their approval counted as).
        #[serde(default)]
        roles: Vec<Role>,
        #[serde(default)]
        team: Option<Name>,
    },
    ChangeRejected {
        approver: Name,
        comment: Option<String>,
    },
    ChangeScheduled {
        planned_start: Timestamp,
        planned_end: Option<Timestamp>,
        comment: Option<String>,
    },
    ChangeStarted {
        comment: Option<String>,
        /// Who started the implementation.
        #[serde(default)]
        implementer: Option<Name>,
        /// For an emergency change started without approval: when its retrospective approval
        /// and post-implementation review are due.
        #[serde(default)]
        retrospective_due: Option<Timestamp>,
    },
    ChangeCompleted {
        comment: Option<String>,
    },
    ChangeVerified {
        comment: Option<String>,
    },
    ChangeFailed {
        comment: Option<String>,
    },
    ChangeRolledBack {
        comment: Option<String>,
        /// Rolled back by the service's rollback hook, not by a person.
        #[serde(default)]
        automated: bool,
    },
    /// The service's rollback hook was invoked for this change (once per change).
    RollbackHookInvoked {
        /// What triggered it: `verification_failed` or `incident:<id>`.
        trigger: String,
        /// The webhook URL or command that was run.
        target: String,
        ok: bool,
        detail: String,
    },
    /// A post-implementation review (PIR).
    ChangeReviewed {
        reviewer: Name,
        root_cause: Option<String>,
        comment: Option<String>,
    },
    ChangeClosed {
        comment: Option<String>,
    },
    ChangeCancelled {
        comment: Option<String>,
    },
    /// An emergency change missed its retrospective deadline; `missing` says what is still due.
    EmergencyOverdue {
        due: Timestamp,
        missing: Vec<String>,
    },
    /// An incident was opened; `caused_by`, when given, is an explicit link.
    IncidentOpened {
        id: IncidentId,
        title: String,
        service: Name,
        severity: Severity,
        detected_at: Timestamp,
        caused_by: Option<ChangeId>,
        #[serde(default)]
        downtime_minutes: Option<u32>,
    },
    /// Fields of an open or resolved incident were corrected; absent fields are unchanged.
    IncidentUpdated {
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        severity: Option<Severity>,
        #[serde(default)]
        detected_at: Option<Timestamp>,
        #[serde(default)]
        downtime_minutes: Option<u32>,
        #[serde(default)]
        comment: Option<String>,
    },
    IncidentResolved {
        resolved_at: Timestamp,
        comment: Option<String>,
        #[serde(default)]
        downtime_minutes: Option<u32>,
    },
    /// A person linked the incident to the change that caused it: `explicit`, or `confirmed`
    /// when they accepted the attribution rule's suggestion.
    IncidentLinked {
        change: ChangeId,
        provenance: LinkProvenance,
        #[serde(default)]
        comment: Option<String>,
    },
    /// The attribution rule suggests the change that probably caused the incident.
    IncidentLinkSuggested {
        change: ChangeId,
        /// The rule and its window, e.g. `latest-successful-production-change-within-24h`.
        rule: String,
    },
    /// A person rejected a suggested (or removed an explicit) link.
    IncidentLinkRejected {
        change: ChangeId,
        #[serde(default)]
        comment: Option<String>,
    },
    /// An incident from another system's history, imported with its original times; its
    /// `caused_by` counts as an explicit link.
    IncidentImported {
        id: IncidentId,
        incident: ImportedIncident,
    },
    /// A full verification of the audit ledger ran; `first_bad_index` names the first leaf
    /// that failed, when one did.
    LedgerVerified {
        size: u64,
        ok: bool,
        first_bad_index: Option<u64>,
        checkpoints_checked: u64,
        message: String,
    },
    /// A predictive risk model was trained on the organisation's history; the newest is in use.
    RiskModelTrained {
        /// Short SHA-256 of the model JSON.
        version: String,
        /// The model (`changegate_risk::ChangeModel` JSON).
        model: String,
        /// Measured on the time-ordered validation split.
        auc: Option<f64>,
        brier: f64,
        training_rows: u64,
        validation_rows: u64,
        positive_rate: f64,
        calibration: Value,
    },
    /// A new version of the approval policy is in force.
    PolicySet {
        sha256: String,
        files: Vec<PolicySource>,
        comment: Option<String>,
    },
    /// A standard-change template was defined or redefined.
    TemplateDefined {
        name: Name,
        description: String,
        /// Services the template covers; empty means every service of `teams`.
        services: Vec<Name>,
        /// Teams whose services the template covers; empty with empty `services` means all.
        teams: Vec<Name>,
        /// Environments the template may be used in; empty means all.
        environments: Vec<Name>,
        /// The highest risk class a change from this template may have and still be standard.
        max_risk: RiskClass,
        /// Whether the template is approved for standard (pre-approved) changes.
        approved: bool,
    },
    /// A freeze or maintenance window was defined or redefined. The window is kept as the
    /// calendar crate's JSON (`changegate_calendar::CalendarWindow`).
    CalendarWindowDefined {
        name: Name,
        window: Value,
    },
    CalendarWindowRemoved {
        name: Name,
    },
    /// A service's automated rollback hook was set (or removed with `None`).
    RollbackHookSet {
        service: Name,
        hook: Option<RollbackHook>,
    },
    /// An alert rule was defined or redefined (`rule` is the alert engine's JSON form).
    AlertRuleDefined {
        name: Name,
        rule: Value,
    },
    AlertRuleRemoved {
        name: Name,
    },
    /// An alert rule fired. `subject` names what it is about (`change/CHG-…`, `service/…`,
    /// `ledger`); `key` makes firing idempotent: a rule fires once per key.
    AlertFired {
        rule: Name,
        kind: String,
        subject: String,
        key: String,
        message: String,
        #[serde(default)]
        details: Value,
    },
    /// One delivery attempt of a firing (the firing's ledger sequence) to one target.
    AlertDelivered {
        fired_sequence: u64,
        target: String,
        attempt: u32,
        ok: bool,
        #[serde(default)]
        status: Option<u16>,
        #[serde(default)]
        error: Option<String>,
    },
    /// Answers to maturity questions that data cannot show, by the actor of the event.
    MaturityAnswered {
        answers: std::collections::BTreeMap<String, bool>,
        #[serde(default)]
        comment: Option<String>,
    },
    /// An authenticated user tried something their roles do not allow.
    AccessDenied {
        action: String,
        target: String,
        reason: String,
        /// Identical refusals (same actor, action, target and reason) folded into this one since
        /// the previous one was recorded; absent when none were (so older events keep their bytes).
        #[serde(default, skip_serializing_if = "is_zero")]
        repeats_folded: u64,
    },
}

impl DomainEvent {
    /// Splits the event into its type name and its data, as the store keeps them.
    pub fn to_parts(&self) -> (String, Value) {
        let mut tagged = serde_json::to_value(self).expect("events always serialise");
        let event_type = tagged["type"].as_str().expect("events are tagged").to_owned();
        let data = tagged.get_mut("data").map(Value::take).unwrap_or_else(|| json!({}));
        (event_type, data)
    }

    /// Rebuilds an event from the store's type and data columns.
    pub fn from_parts(event_type: &str, data: &Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(json!({"type": event_type, "data": data}))
    }
}

/// A change from another system's history (one row of `changes.csv`). An absent value is
/// unknown, never a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedChange {
    /// The id in the source system; importing the same id twice creates nothing the second time.
    pub external_id: String,
    pub title: String,
    pub change_type: ChangeType,
    pub service: Name,
    pub team: Name,
    pub environment: Name,
    pub requester: Name,
    pub created_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    pub risk_class: Option<RiskClass>,
    pub risk_score: Option<u32>,
    pub approved_at: Option<Timestamp>,
    pub approvers: Vec<Name>,
    pub approval_mode: Option<ApprovalMode>,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub outcome: Option<ImportedOutcome>,
    pub rollback_plan: Option<bool>,
    pub test_evidence: Option<bool>,
    pub security_evidence: Option<bool>,
    pub created_by: Option<CreatedBy>,
    pub pir_done: Option<bool>,
    pub root_cause: Option<String>,
    pub rollback_automated: Option<bool>,
    pub commit_time: Option<Timestamp>,
}

/// An incident from another system's history (one row of `incidents.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedIncident {
    pub external_id: String,
    pub service: Name,
    pub severity: Severity,
    pub detected_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub downtime_minutes: Option<u32>,
    pub caused_by: Option<ChangeId>,
}

/// What a service's automated rollback runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RollbackTarget {
    /// POST a JSON body describing the change to this URL.
    Webhook { url: String },
    /// Run this program with these arguments (no shell); the change id is in the environment.
    Command { program: String, arguments: Vec<String> },
}

/// A service's automated rollback: what to run, and how long after a deployment a linked
/// severity 1–2 incident still triggers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackHook {
    pub target: RollbackTarget,
    pub incident_window_ms: u64,
}

impl RollbackTarget {
    /// The URL or the command line, for records and pages.
    pub fn describe(&self) -> String {
        match self {
            RollbackTarget::Webhook { url } => url.clone(),
            RollbackTarget::Command { program, arguments } => std::iter::once(program.as_str())
                .chain(arguments.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// One factor's part of a risk score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskFactorRecord {
    pub name: String,
    /// Points added to the score.
    pub contribution: f64,
    pub detail: String,
}

/// One file of a policy version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySource {
    pub name: String,
    pub text: String,
}

/// An event as stored: the decided [`DomainEvent`] plus where and when it was recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Global position, starting at 1. The ledger leaf index is `sequence - 1`.
    pub sequence: u64,
    pub stream: String,
    /// Position within the stream, starting at 1.
    pub stream_version: u64,
    pub event_type: String,
    pub actor: String,
    pub time: Timestamp,
    pub schema_version: u32,
    /// Canonical JSON text of the event data.
    pub payload: String,
}

impl EventEnvelope {
    /// The bytes the audit ledger hashes for this event: canonical JSON (sorted keys, no
    /// whitespace) of `{actor, payload, schema_version, sequence, stream, stream_version, time,
    /// type}`, where `payload` is the event data exactly as stored (canonical JSON text) and
    /// `time` is integer Unix milliseconds. The same event gives the same bytes on every backend.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        // The payload is spliced in verbatim (it is stored in canonical form), so that every
        // stored byte of the event is covered: a change that a JSON parser would forgive, such
        // as added whitespace, still changes the leaf.
        let text = |value: &str| Value::String(value.to_owned()).to_string();
        format!(
            "{{\"actor\":{},\"payload\":{},\"schema_version\":{},\"sequence\":{},\"stream\":{},\"stream_version\":{},\"time\":{},\"type\":{}}}",
            text(&self.actor),
            self.payload,
            self.schema_version,
            self.sequence,
            text(&self.stream),
            self.stream_version,
            self.time.unix_ms(),
            text(&self.event_type),
        )
        .into_bytes()
    }

    /// The stream, typed. The envelope keeps the text exactly as stored because the ledger hashes
    /// those bytes (a tampered row must still verify to a wrong hash, not fail to load); `None`
    /// only for a text the store never writes.
    pub fn stream_id(&self) -> Option<StreamId> {
        self.stream.parse().ok()
    }

    pub fn domain_event(&self) -> Result<DomainEvent, serde_json::Error> {
        let data: Value = serde_json::from_str(&self.payload)?;
        DomainEvent::from_parts(&self.event_type, &data)
    }
}

/// Canonical payload text for an event's data.
pub fn canonical_payload(data: &Value) -> String {
    crate::canonical::to_canonical_string(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stream_parses_back_from_its_text() {
        let name = Name::parse("payments-api").unwrap();
        let streams = [
            StreamId::Change(ChangeId::new(42)),
            StreamId::Service(name.clone()),
            StreamId::Team(name.clone()),
            StreamId::User(name.clone()),
            StreamId::Incident(IncidentId::new(7)),
            StreamId::Access,
            StreamId::Ledger,
            StreamId::Policy,
            StreamId::Template(name.clone()),
            StreamId::Calendar(name.clone()),
            StreamId::Risk,
            StreamId::AlertRule(name),
            StreamId::Alerts,
            StreamId::Maturity,
        ];
        for stream in streams {
            assert_eq!(stream.to_string().parse::<StreamId>(), Ok(stream.clone()), "{stream}");
        }
        assert_eq!(StreamId::Change(ChangeId::new(42)).change(), Some(ChangeId::new(42)));
        assert_eq!(StreamId::Incident(IncidentId::new(7)).change(), None);
        for bad in ["", "change/", "change/INC-000001", "widget/x", "service/Not A Name", "ledger/1"] {
            assert!(bad.parse::<StreamId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parts_round_trip() {
        let event = DomainEvent::ChangeFailed { comment: Some("disk full".into()) };
        let (event_type, data) = event.to_parts();
        assert_eq!(event_type, "change_failed");
        assert_eq!(DomainEvent::from_parts(&event_type, &data).unwrap(), event);
    }

    #[test]
    fn leaf_bytes_are_canonical() {
        let envelope = EventEnvelope {
            sequence: 7,
            stream: "change/CHG-000001".into(),
            stream_version: 2,
            event_type: "change_submitted".into(),
            actor: "alice".into(),
            time: Timestamp::from_unix_ms(1_000),
            schema_version: 1,
            payload: r#"{"comment":null}"#.into(),
        };
        expect_test::expect![[r#"{"actor":"alice","payload":{"comment":null},"schema_version":1,"sequence":7,"stream":"change/CHG-000001","stream_version":2,"time":1000,"type":"change_submitted"}"#]]
            .assert_eq(std::str::from_utf8(&envelope.leaf_bytes()).unwrap());
    }
}
