//! The service layer: every command and query of Changegate, whichever face (CLI, HTTP, web page)
//! it comes from.
//!
//! It authenticates tokens, authorizes the caller (here, not in the handlers, so no face can
//! forget it), records denials, validates raw input into core types, asks the core to decide,
//! and has the store append. It owns the system clock; everything below it gets time passed in.

pub mod alerts;
mod calendar_input;
mod command_shared;
mod commands;
pub mod compliance;
mod denials;
mod error;
pub mod governance;
mod identity;
pub mod import;
mod incidents;
pub mod ledger;
pub mod maturity;
pub mod metrics;
mod operations;
mod outbound;
mod permission;
mod queries;
pub mod risk;
pub mod rollback;
pub mod telemetry;

use std::sync::Arc;

use changegate_core::{Clock, Timestamp};
use changegate_store::Store;

pub use alerts::{AlertCondition, AlertKind, AlertRule, AlertSettings};
pub use calendar_input::NewWindow;
/// Store types that service reads hand out as they are.
pub use changegate_store::{StateCount, StoredCheckpoint};
pub use commands::{
    ActionRequest, BATCH_LENGTH_MAX, Command, CreatedUser, IncidentResolution, IncidentUpdate, NewChange, NewIncident,
    NewService, NewUser, Outcome, Produced,
};
pub use compliance::{ChangeEvidence, ComplianceQuery, ComplianceRequest};
pub use denials::{DENIAL_KEYS_MAX, DENIAL_WINDOW_MS};
pub use error::ServiceError;
pub use governance::{CalendarView, GovernanceSettings, InboxItem, NewTemplate, WindowOccurrence};
pub use identity::{Caller, IdempotencyKey, SYSTEM_ACTOR, generate_signer, generate_token, token_sha256};
pub use import::{ImportInput, ImportOptions, ImportPhase, ImportProgress, ImportReport};
pub use incidents::{ATTRIBUTION_WINDOW_MS_DEFAULT, DOWNTIME_MINUTES_MAX};
pub use ledger::{CheckpointPolicy, ConsistencyProof, InclusionProof, LedgerStatus, VerificationReport};
pub use maturity::{MaturityPeriod, RecordedAnswer, TREND_MONTHS_DEFAULT};
pub use metrics::{
    CATCH_UP_BATCH_LENGTH_MAX, CATCH_UP_EVENTS_MAX, MetricsCacheStatus, MetricsNames, MetricsParams, MetricsQuery,
    MetricsReport, TEAM_UNKNOWN, parse_metrics_query,
};
pub use operations::OperationalGauges;
pub use permission::Permission;
pub use queries::{ChangeDetail, ChangeQuery, Dashboard, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
pub use risk::RiskReport;
pub use rollback::RollbackHookRequest;
pub use telemetry::{DecisionResult, DeliveryResult, MetricsSnapshot};

/// The operating system's clock: the one place Changegate reads real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_unix_ms(since_epoch.as_millis() as i64)
    }
}

/// Commands and queries over one store. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    store: Store,
    clock: Arc<dyn Clock>,
    signer: Option<Arc<changegate_ledger::NoteSigner>>,
    governance: Arc<governance::Governance>,
    risk: Arc<risk::ModelCache>,
    alerts: Arc<alerts::AlertRuntime>,
    metrics: Arc<telemetry::ServiceMetrics>,
    metrics_cache: Arc<metrics::MetricsCache>,
    denials: Arc<denials::DenialThrottle>,
}

impl Service {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Service {
            store,
            clock,
            signer: None,
            governance: Arc::new(governance::Governance {
                policy: governance::PolicyCache::new(),
                settings: GovernanceSettings::default(),
            }),
            risk: Arc::new(risk::ModelCache::new()),
            alerts: Arc::new(alerts::AlertRuntime::new(AlertSettings::default())),
            metrics: Arc::new(telemetry::ServiceMetrics::default()),
            metrics_cache: Arc::new(metrics::MetricsCache::new(changegate_metrics::MetricsConfig::default())),
            denials: Arc::new(denials::DenialThrottle::default()),
        }
    }

    /// A new service over the same store with another clock (the demo generator sets the time as
    /// it replays history). Caches start empty; they catch up from the events as always.
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Service {
        Service::new(self.store.clone(), clock)
    }

    /// Replaces the governance settings (policy time limit, emergency deadline).
    pub fn with_governance_settings(mut self, settings: GovernanceSettings) -> Self {
        self.governance = Arc::new(governance::Governance { policy: governance::PolicyCache::new(), settings });
        self
    }

    pub fn governance_settings(&self) -> &GovernanceSettings {
        &self.governance.settings
    }

    /// Crate-private: the faces read through service methods, never the store itself.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// This process's counters (decisions and their latency, alert firings and deliveries,
    /// rollback hook runs), for `/metrics`.
    pub fn process_metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }
}
