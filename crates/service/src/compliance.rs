//! Compliance reporting as a service: gathers the checks' input from the store (every change,
//! incident and service; the ledger's verification and checkpoints) and computes the report with
//! the compliance crate, for every face. Also the violations alerting fires on, and each change's
//! evidence (events and inclusion proofs) for the auditor's bundle.
//!
//! Why here: the report reads the whole history and the ledger state, which only the service may
//! reach; the checks themselves stay pure in `changegate-compliance`.

use changegate_compliance::{
    ComplianceInput, ComplianceReport, ComplianceSettings, ControlViolation, DAY_MS, Framework, LedgerEvidence,
    control_violations, evaluate, parse_frameworks,
};
use changegate_core::event::EventEnvelope;
use changegate_core::{ChangeId, ChangeRecord, StreamId, Timestamp};

use crate::Permission;
use crate::identity::Caller;
use crate::ledger::InclusionProof;
use crate::{Service, ServiceError};

/// The period a report covers when none is given: the last 90 days.
pub const PERIOD_DAYS_DEFAULT: i64 = 90;

/// A report request as it comes from a query string or flags: all optional text.
#[derive(Clone, Debug, Default)]
pub struct ComplianceQuery {
    /// A framework id or `all` (default all).
    pub framework: Option<String>,
    /// RFC 3339 start (default: 90 days before `to`).
    pub from: Option<String>,
    /// RFC 3339 end, exclusive (default: now).
    pub to: Option<String>,
}

/// A validated report request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComplianceRequest {
    pub frameworks: Vec<Framework>,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// One change's evidence for the bundle: the record, every event of its stream, and an inclusion
/// proof of each event in the tree of `tree_size` leaves.
#[derive(Clone, Debug)]
pub struct ChangeEvidence {
    pub change: ChangeRecord,
    pub events: Vec<EventEnvelope>,
    pub proofs: Vec<InclusionProof>,
}

impl Service {
    /// Parses the raw request, refusing bad values with field errors (and changing nothing).
    pub fn parse_compliance_query(&self, query: &ComplianceQuery) -> Result<ComplianceRequest, ServiceError> {
        let mut errors = Vec::new();
        let frameworks = parse_frameworks(query.framework.as_deref().unwrap_or("all"))
            .map_err(|error| errors.push(("framework", error.to_string())))
            .unwrap_or_default();
        let mut time =
            |field: &'static str, text: Option<&str>| match text.map(str::trim).filter(|text| !text.is_empty()) {
                Some(text) => Timestamp::parse_rfc3339(text).map_err(|message| errors.push((field, message))).ok(),
                None => None,
            };
        let to = time("to", query.to.as_deref());
        let from = time("from", query.from.as_deref());
        let to = to.unwrap_or_else(|| self.now());
        let from = from.unwrap_or(to.plus_ms(-PERIOD_DAYS_DEFAULT * DAY_MS));
        if errors.is_empty()
            && let Err(error) = changegate_compliance::report::check_period(from, to)
        {
            errors.push((error.field(), error.to_string()));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(
                errors.into_iter().map(|(field, message)| changegate_core::FieldError::new(field, message)).collect(),
            ));
        }
        Ok(ComplianceRequest { frameworks, from, to })
    }

    /// The thresholds the checks use: the defaults, with this server's emergency deadline.
    pub fn compliance_settings(&self) -> ComplianceSettings {
        ComplianceSettings {
            emergency_deadline_ms: self.governance_settings().emergency_deadline_ms,
            ..ComplianceSettings::default()
        }
    }

    /// What the ledger shows for the period: the newest verification, checkpoints, key, oldest
    /// event.
    pub(crate) async fn ledger_evidence(&self, from: Timestamp, to: Timestamp) -> Result<LedgerEvidence, ServiceError> {
        let store = self.store();
        let head = store.ledger_head().await?;
        let checkpoints = store.checkpoints().await?;
        let latest = checkpoints.iter().max_by_key(|checkpoint| checkpoint.size);
        let mut evidence = LedgerEvidence {
            size: head.size,
            checkpoints_in_period: checkpoints
                .iter()
                .filter(|checkpoint| from <= checkpoint.signed_at && checkpoint.signed_at < to)
                .count() as u64,
            latest_checkpoint_at: latest.map(|checkpoint| checkpoint.signed_at),
            latest_checkpoint_size: latest.map(|checkpoint| checkpoint.size),
            signing_key_present: self.log_verifier_key().await?.is_some(),
            oldest_event_at: store.earliest_event_time().await?,
            ..LedgerEvidence::default()
        };
        if let Some(event) = store.last_verification().await? {
            let data: serde_json::Value = serde_json::from_str(&event.payload).map_err(|error| {
                ServiceError::Internal(format!("the ledger_verified event does not parse: {error}"))
            })?;
            evidence.verified = data["ok"].as_bool();
            evidence.verified_at = Some(event.time);
            evidence.verified_size = data["size"].as_u64();
            evidence.first_bad_index = data["first_bad_index"].as_u64();
            evidence.verification_message = data["message"].as_str().map(str::to_owned);
        }
        Ok(evidence)
    }

    /// The compliance report (auditors, admins and the CAB; the local command line as the store's
    /// owner).
    pub async fn compliance_report(
        &self,
        caller: &Caller,
        request: &ComplianceRequest,
    ) -> Result<ComplianceReport, ServiceError> {
        if !caller.may(Permission::ReadCompliance) {
            let reason = format!("compliance reports need {}", Permission::ReadCompliance.roles_text());
            return Err(self.refuse(caller, "read_compliance", "compliance", reason).await);
        }
        self.evaluate_compliance(request).await
    }

    async fn evaluate_compliance(&self, request: &ComplianceRequest) -> Result<ComplianceReport, ServiceError> {
        let store = self.store();
        let changes = store.all_changes().await?;
        let incidents = store.all_incidents().await?;
        let services = store.services().await?;
        let ledger = self.ledger_evidence(request.from, request.to).await?;
        let input = ComplianceInput {
            from: request.from,
            to: request.to,
            now: self.now(),
            changes: &changes,
            incidents: &incidents,
            services: &services,
            ledger: &ledger,
            settings: self.compliance_settings(),
        };
        evaluate(&input, &request.frameworks).map_err(|error| ServiceError::invalid(error.field(), error.to_string()))
    }

    /// Every (framework, control, change, reason) violated over the last `window_days` days, for
    /// every framework, ordered by key. Alerting calls this and fires once per new
    /// `ControlViolation::key` (the key stays the same while the fault does). No caller: it runs
    /// as the system.
    pub async fn compliance_violations(&self, window_days: u32) -> Result<Vec<ControlViolation>, ServiceError> {
        let to = self.now();
        let days = i64::from(window_days.clamp(1, changegate_compliance::PERIOD_DAYS_MAX as u32));
        let request = ComplianceRequest { frameworks: Framework::ALL.to_vec(), from: to.plus_ms(-days * DAY_MS), to };
        Ok(control_violations(&self.evaluate_compliance(&request).await?))
    }

    /// A change's record, events and an inclusion proof of each event in the tree of
    /// `tree_size` leaves (events after it are left out: the bundle's checkpoint does not cover
    /// them).
    pub async fn change_evidence(
        &self,
        caller: &Caller,
        id: ChangeId,
        tree_size: u64,
    ) -> Result<ChangeEvidence, ServiceError> {
        let change = self.store().change(id).await?.ok_or_else(|| ServiceError::NotFound(format!("change {id}")))?;
        let events: Vec<EventEnvelope> = self
            .store()
            .stream_events(&StreamId::Change(id).to_string())
            .await?
            .into_iter()
            .filter(|event| event.sequence <= tree_size)
            .collect();
        let mut proofs = Vec::with_capacity(events.len());
        for event in &events {
            proofs.push(self.inclusion_proof(caller, event.sequence - 1, tree_size).await?);
        }
        Ok(ChangeEvidence { change, events, proofs })
    }
}
