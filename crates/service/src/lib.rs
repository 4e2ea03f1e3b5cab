//! The service layer: every command and query of Changegate, whichever face (CLI, HTTP, web page)
//! it comes from.
//!
//! It authenticates tokens, authorizes the caller (here, not in the handlers, so no face can
//! forget it), records denials, validates raw input into core types, asks the core to decide,
//! and has the store append. It owns the system clock; everything below it gets time passed in.

mod commands;
mod error;
pub mod governance;
mod identity;
pub mod import;
pub mod ledger;
mod queries;
pub mod risk;

use std::sync::Arc;

use changegate_core::{Clock, Timestamp};
use changegate_store::Store;

pub use commands::{
    ActionRequest, BATCH_LENGTH_MAX, Command, CreatedUser, NewChange, NewIncident, NewService, NewUser, Outcome,
    Produced,
};
pub use error::ServiceError;
pub use governance::{CalendarView, GovernanceSettings, InboxItem, NewTemplate, WindowOccurrence};
pub use identity::{Caller, IdempotencyKey, generate_signer, generate_token, token_sha256};
pub use import::{ImportInput, ImportOptions, ImportPhase, ImportProgress, ImportReport};
pub use ledger::{CheckpointPolicy, ConsistencyProof, InclusionProof, LedgerStatus, VerificationReport};
pub use queries::{ChangeDetail, ChangeQuery, Dashboard, PAGE_SIZE_DEFAULT};
pub use risk::RiskReport;

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
        }
    }

    /// Replaces the governance settings (policy time limit, emergency deadline).
    pub fn with_governance_settings(mut self, settings: GovernanceSettings) -> Self {
        self.governance = Arc::new(governance::Governance { policy: governance::PolicyCache::new(), settings });
        self
    }

    pub fn governance_settings(&self) -> &GovernanceSettings {
        &self.governance.settings
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
