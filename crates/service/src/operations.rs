//! What an operator's tooling reads without signing in: readiness, the gauges `/metrics`
//! exports, and closing the store on shutdown.
//!
//! These are the only public service methods without a caller. They reveal counts and sizes, never
//! a record, so a load balancer's probe and a Prometheus scraper need no token; everything else
//! asks for a [`crate::Caller`].

use changegate_store::StateCount;

use crate::{Service, ServiceError};

/// The figures `/metrics` exports from the store.
#[derive(Clone, Debug)]
pub struct OperationalGauges {
    pub changes_by_state: Vec<StateCount>,
    pub ledger_entries: u64,
    /// Tree size of the newest signed checkpoint (0 when none is signed).
    pub checkpoint_size: u64,
}

impl Service {
    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), ServiceError> {
        Ok(self.store().ping().await?)
    }

    pub async fn operational_gauges(&self) -> Result<OperationalGauges, ServiceError> {
        let store = self.store();
        let changes_by_state = store.count_changes_by_state().await?;
        let ledger_entries = store.ledger_head().await?.size;
        let checkpoint_size = store.latest_checkpoint().await?.map_or(0, |checkpoint| checkpoint.size);
        Ok(OperationalGauges { changes_by_state, ledger_entries, checkpoint_size })
    }

    /// Closes the store's connections (the command line, when it is done with a local store).
    pub async fn close(&self) {
        self.store().close().await;
    }
}
