//! Risk: the facts and features of a change, the factor score on submit, training the predictive
//! model on the organisation's own history, and explaining a change's prediction.
//!
//! The same feature function serves training and scoring: history features (the service's changes
//! and failures in the 90 days before the change, the requester's changes before it and failures
//! in those 90 days) are counted as of the change's submission, from failures already recorded
//! then, so training never sees the future.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use changegate_core::{
    ChangeId, ChangeRecord, ChangeType, DomainEvent, RiskClass, RiskModelRecord, ServiceRecord, StreamId, Timestamp,
};
use changegate_risk::{
    CHANGE_FEATURES, CODE_METRICS_OFFSET, ChangeExample, ChangeModel, Explanation, FactorAssessment, RiskFacts,
    TrainConfig, factors, train_change_model,
};
use changegate_store::{HistoryCounts, WriteTx};

use crate::Permission;
use crate::identity::Caller;
use crate::{Service, ServiceError};

use changegate_core::civil::DAY_MS;
/// The window of the history features.
pub const HISTORY_WINDOW_MS: i64 = 90 * DAY_MS;
/// Share of the newest finished changes kept aside to measure a trained model.
pub const VALIDATION_FRACTION: f64 = 0.2;
/// The JIT metric names a change's `code_metrics` may carry, in the model's order.
const CODE_METRIC_NAMES: [&str; 14] =
    ["ns", "nd", "nf", "entropy", "la", "ld", "lt", "fix", "ndev", "age", "nuc", "exp", "rexp", "sexp"];

/// ISO weekday (1 = Monday … 7 = Sunday) and UTC hour of an instant.
fn weekday_and_hour(time: Timestamp) -> (u8, u8) {
    let days = time.unix_ms().div_euclid(DAY_MS);
    let weekday = ((days + 3).rem_euclid(7) + 1) as u8; // 1970-01-01 was a Thursday.
    let hour = (time.unix_ms().rem_euclid(DAY_MS) / (60 * 60 * 1000)) as u8;
    (weekday, hour)
}

/// Services that depend on each service, directly or transitively.
pub(crate) fn dependents(services: &[ServiceRecord]) -> HashMap<String, u32> {
    let mut reverse: HashMap<&str, Vec<&str>> = HashMap::new();
    for service in services {
        for dependency in &service.depends_on {
            reverse.entry(dependency.as_str()).or_default().push(service.name.as_str());
        }
    }
    services
        .iter()
        .map(|service| {
            let mut seen: HashSet<&str> = HashSet::new();
            let mut stack = vec![service.name.as_str()];
            while let Some(current) = stack.pop() {
                for dependent in reverse.get(current).into_iter().flatten() {
                    if *dependent != service.name.as_str() && seen.insert(dependent) {
                        stack.push(dependent);
                    }
                }
            }
            (service.name.to_string(), seen.len() as u32)
        })
        .collect()
}

fn code_metric(change: &ChangeRecord, name: &str) -> Option<f64> {
    change.code_metrics.as_ref()?.get(name)?.as_f64()
}

/// What the factor score looks at for `change` planned to start at `start`.
pub(crate) fn risk_facts(
    change: &ChangeRecord,
    service: &ServiceRecord,
    dependents: u32,
    near_freeze: bool,
    start: Timestamp,
    requester_failures_90d: u32,
) -> RiskFacts {
    let (weekday, hour) = weekday_and_hour(start);
    let lines = match (code_metric(change, "la"), code_metric(change, "ld")) {
        (None, None) => None,
        (added, deleted) => Some(added.unwrap_or(0.0) + deleted.unwrap_or(0.0)),
    };
    RiskFacts {
        tier: service.tier.value(),
        dependents,
        lines_changed: lines,
        files_changed: code_metric(change, "nf"),
        security_evidence: change.security_evidence.is_some(),
        critical_findings: change.security_critical_findings.unwrap_or(0),
        scoped: !service.scopes.is_empty(),
        near_freeze,
        hour_utc: hour,
        weekday,
        has_rollback_plan: change.rollback_plan.is_some(),
        has_test_evidence: change.test_evidence.is_some(),
        emergency: change.change_type == ChangeType::Emergency,
        requester_failures_90d,
    }
}

/// The model features of `change` submitted at `at` (see [`changegate_risk::CHANGE_FEATURE_NAMES`]).
pub(crate) fn change_features(
    change: &ChangeRecord,
    service: &ServiceRecord,
    dependents: u32,
    at: Timestamp,
    history: &HistoryCounts,
) -> Vec<f64> {
    let start = change.planned_start.unwrap_or(at);
    let (weekday, hour) = weekday_and_hour(start);
    let flag = |value: bool| f64::from(u8::from(value));
    let planned_minutes = match (change.planned_start, change.planned_end) {
        (Some(start), Some(end)) => end.since_ms(start) as f64 / 60_000.0,
        _ => changegate_risk::change_model::ABSENT,
    };
    let mut features = vec![
        f64::from(service.tier.value()),
        flag(change.environment.as_str() == "production"),
        flag(change.change_type == ChangeType::Standard),
        flag(change.change_type == ChangeType::Emergency),
        flag(change.rollback_plan.is_some()),
        flag(change.test_evidence.is_some()),
        flag(change.security_evidence.is_some()),
        f64::from(change.security_critical_findings.unwrap_or(0)),
        flag(change.template.is_some()),
        flag(!service.scopes.is_empty()),
        f64::from(dependents),
        service.depends_on.len() as f64,
        f64::from(hour),
        f64::from(weekday),
        planned_minutes,
        change.description.chars().count() as f64,
        history.service_changes as f64,
        if history.service_changes == 0 {
            0.0
        } else {
            history.service_failures as f64 / history.service_changes as f64
        },
        history.requester_changes as f64,
        history.requester_failures as f64,
    ];
    debug_assert_eq!(features.len(), CODE_METRICS_OFFSET);
    features.extend(
        CODE_METRIC_NAMES.iter().map(|name| code_metric(change, name).unwrap_or(changegate_risk::change_model::ABSENT)),
    );
    debug_assert_eq!(features.len(), CHANGE_FEATURES);
    features
}

/// Whether a finished change counts as failed for the model: it failed, was rolled back, or
/// caused an incident. `None` while its outcome is not known (open, cancelled, rejected).
fn outcome(change: &ChangeRecord, caused_incident: bool) -> Option<bool> {
    if change.failed_at.is_some() || change.rolled_back_at.is_some() {
        return Some(true);
    }
    if change.completed_at.is_some() || change.verified_at.is_some() {
        return Some(caused_incident);
    }
    None
}

/// Training rows from a whole history: every change with a known outcome, with its features as
/// of its submission.
pub fn training_examples(
    changes: &[ChangeRecord],
    services: &[ServiceRecord],
    incident_causes: &HashSet<ChangeId>,
) -> Vec<ChangeExample> {
    let by_name: HashMap<&str, &ServiceRecord> =
        services.iter().map(|service| (service.name.as_str(), service)).collect();
    let dependents = dependents(services);
    // Per service and per requester: creation times (sorted) with failure times, for counting.
    let mut by_service: BTreeMap<&str, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    let mut by_requester: BTreeMap<&str, Vec<(i64, Option<i64>)>> = BTreeMap::new();
    for change in changes {
        let entry = (change.created_at.unix_ms(), change.failed_at.map(Timestamp::unix_ms));
        by_service.entry(change.service.as_str()).or_default().push(entry);
        by_requester.entry(change.requester.as_str()).or_default().push(entry);
    }
    for list in by_service.values_mut().chain(by_requester.values_mut()) {
        list.sort_unstable();
    }
    changes
        .iter()
        .filter_map(|change| {
            let failed = outcome(change, incident_causes.contains(&change.id))?;
            let at = change.submitted_at?;
            let service = by_name.get(change.service.as_str())?;
            let (since, until) = (at.unix_ms() - HISTORY_WINDOW_MS, at.unix_ms());
            let service_list = &by_service[change.service.as_str()];
            let lower = service_list.partition_point(|(created, _)| *created < since);
            let upper = service_list.partition_point(|(created, _)| *created < until);
            let window = &service_list[lower..upper];
            let requester_list = &by_requester[change.requester.as_str()];
            let before = requester_list.partition_point(|(created, _)| *created < until);
            let history = HistoryCounts {
                service_changes: window.len() as u64,
                service_failures: window.iter().filter(|(_, failed)| failed.is_some_and(|time| time < until)).count()
                    as u64,
                requester_changes: before as u64,
                requester_failures: requester_list[..before]
                    .iter()
                    .filter(|(_, failed)| failed.is_some_and(|time| time >= since && time < until))
                    .count() as u64,
            };
            let dependents = dependents.get(change.service.as_str()).copied().unwrap_or(0);
            Some(ChangeExample {
                time_ms: at.unix_ms(),
                features: change_features(change, service, dependents, at, &history),
                failed,
            })
        })
        .collect()
}

/// The model in use, loaded once per version.
pub(crate) struct ModelCache {
    current: RwLock<Option<(String, Arc<ChangeModel>)>>,
}

impl ModelCache {
    pub(crate) fn new() -> Self {
        ModelCache { current: RwLock::new(None) }
    }
}

/// A change scored: the factor assessment, the model's prediction (version, probability) when a
/// model is trained, the model features, and the history counts they came from.
pub(crate) struct ScoredChange {
    pub(crate) factors: FactorAssessment,
    pub(crate) prediction: Option<(String, f64)>,
    pub(crate) features: Vec<f64>,
    pub(crate) history: HistoryCounts,
}

/// A change's risk, explained.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskReport {
    pub change: ChangeId,
    /// The factor score now (recomputed; the one recorded at submission is on the change).
    pub factors: FactorAssessment,
    /// The model's explanation, when a model is trained: contributions to the log-odds.
    pub prediction: Option<(String, Explanation)>,
}

impl Service {
    /// The newest trained model, if any (cached per version).
    pub(crate) async fn risk_model(&self) -> Result<Option<(String, Arc<ChangeModel>)>, ServiceError> {
        let Some(version) = self.store().latest_risk_model_version().await? else { return Ok(None) };
        if let Some((cached, model)) = self.risk.current.read().expect("model cache lock").as_ref()
            && *cached == version
        {
            return Ok(Some((version, model.clone())));
        }
        let Some(record) = self.store().latest_risk_model().await? else { return Ok(None) };
        let model = Arc::new(ChangeModel::from_json(&record.model).map_err(|error| {
            ServiceError::Internal(format!("stored risk model {} does not load: {error}", record.version))
        })?);
        *self.risk.current.write().expect("model cache lock") = Some((record.version.clone(), model.clone()));
        Ok(Some((record.version, model)))
    }

    /// The factor score, and the model's probability when a model is trained, of `change` as if
    /// submitted at `at`.
    pub(crate) async fn score_change(
        &self,
        change: &ChangeRecord,
        service: &ServiceRecord,
        services: &[ServiceRecord],
        near_freeze: bool,
        at: Timestamp,
    ) -> Result<ScoredChange, ServiceError> {
        let dependents = dependents(services).get(service.name.as_str()).copied().unwrap_or(0);
        let since = at.plus_ms(-HISTORY_WINDOW_MS);
        let history = self.store().history_counts(&change.service, &change.requester, since, at).await?;
        let start = change.planned_start.unwrap_or(at);
        let facts = risk_facts(change, service, dependents, near_freeze, start, history.requester_failures as u32);
        let assessment = factors::assess(&facts, &self.governance.settings.risk_weights);
        let features = change_features(change, service, dependents, at, &history);
        let prediction = self.risk_model().await?.map(|(version, model)| (version, model.predict(&features)));
        Ok(ScoredChange { factors: assessment, prediction, features, history })
    }

    /// Trains a model on every finished change and records it as the model in use (older ones are
    /// kept). Admin only. CPU-bound for seconds on large histories: callers on an async runtime
    /// should run it where blocking is fine (the CLI runs it locally).
    pub async fn train_risk_model(
        &self,
        caller: &Caller,
        config: &TrainConfig,
    ) -> Result<RiskModelRecord, ServiceError> {
        if !caller.may(Permission::TrainRiskModel) {
            let reason = format!("training the risk model needs {}", Permission::TrainRiskModel.roles_text());
            return Err(self.refuse(caller, "train_risk_model", "risk", reason).await);
        }
        let changes = self.store().all_changes().await?;
        let services = self.store().services().await?;
        let causes: HashSet<ChangeId> =
            self.store().all_incidents().await?.iter().filter_map(|incident| incident.caused_by).collect();
        let examples = training_examples(&changes, &services, &causes);
        let model = train_change_model(&examples, VALIDATION_FRACTION, config)
            .map_err(|error| ServiceError::invalid("history", error.to_string()))?;
        let json = model.to_json().map_err(|error| ServiceError::Internal(error.to_string()))?;
        let version = short_sha256(&json);
        let event = DomainEvent::RiskModelTrained {
            version: version.clone(),
            model: json,
            auc: model.evaluation.auc,
            brier: model.evaluation.brier,
            training_rows: model.training_rows as u64,
            validation_rows: model.evaluation.rows as u64,
            positive_rate: model.training_positive_rate,
            calibration: serde_json::to_value(&model.evaluation.calibration).unwrap_or_default(),
        };
        let time = self.now();
        self.store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Risk, caller.name().as_str(), time, &event).await?;
                Ok(())
            })
            .await?;
        tracing::info!(%version, rows = model.training_rows, auc = ?model.evaluation.auc, "risk model trained");
        self.store().latest_risk_model().await?.ok_or_else(|| ServiceError::NotFound("the model just trained".into()))
    }

    /// Every model trained, oldest first, without the model bodies.
    /// The version of the newest trained model (the one scoring submits), if any.
    pub async fn risk_model_in_use(&self, _caller: &Caller) -> Result<Option<String>, ServiceError> {
        Ok(self.store().latest_risk_model_version().await?)
    }

    pub async fn risk_models(&self, _caller: &Caller) -> Result<Vec<RiskModelRecord>, ServiceError> {
        Ok(self
            .store()
            .risk_models()
            .await?
            .into_iter()
            .map(|record| RiskModelRecord { model: String::new(), ..record })
            .collect())
    }

    /// Explains the risk of one change now: its factors and the model's per-feature contributions.
    pub async fn explain_risk(&self, _caller: &Caller, id: ChangeId) -> Result<RiskReport, ServiceError> {
        let change = self.store().change(id).await?.ok_or_else(|| ServiceError::NotFound(format!("change {id}")))?;
        let service = self
            .store()
            .service(&change.service)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("service {}", change.service)))?;
        let at = change.submitted_at.unwrap_or_else(|| self.now());
        let near_freeze = change.assessment.as_ref().is_some_and(|assessment| assessment.freeze.is_some());
        let services = self.store().services().await?;
        let scored = self.score_change(&change, &service, &services, near_freeze, at).await?;
        let prediction = self.risk_model().await?.map(|(version, model)| (version, model.explain(&scored.features)));
        Ok(RiskReport { change: id, factors: scored.factors, prediction })
    }
}

/// Short SHA-256 (16 hex digits) of a model's JSON: its version.
fn short_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))[..16].to_owned()
}

/// The class a factor assessment names, as the core type.
pub(crate) fn class_of(assessment: &FactorAssessment) -> RiskClass {
    assessment.class.parse().unwrap_or(RiskClass::Critical)
}
