//! Queries: reads for every face. Any authenticated user may read; auditors only read.

use changegate_core::event::EventEnvelope;
use changegate_core::lifecycle::{self, Action};
use changegate_core::{
    ChangeId, ChangeRecord, ChangeState, IncidentRecord, Name, ServiceRecord, StreamId, TeamRecord, UserRecord,
};
use changegate_store::{ChangeFilter, ChangePage, LedgerHead, StateCount};

use crate::identity::Caller;
use crate::{Service, ServiceError};

/// Default page size of list queries.
pub const PAGE_SIZE_DEFAULT: u32 = 50;
/// Largest page size of list queries.
pub const PAGE_SIZE_MAX: u32 = changegate_store::PAGE_SIZE_MAX;

/// A change with its event history and what the caller may do next.
#[derive(Clone, Debug)]
pub struct ChangeDetail {
    pub change: ChangeRecord,
    pub events: Vec<EventEnvelope>,
    pub available_actions: Vec<Action>,
}

/// Raw list parameters, as they come from a query string or flags.
#[derive(Clone, Debug, Default)]
pub struct ChangeQuery {
    pub state: Option<String>,
    pub service: Option<String>,
    pub requester: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// What the dashboard shows.
#[derive(Clone, Debug)]
pub struct Dashboard {
    pub counts: Vec<StateCount>,
    pub total_changes: u64,
    pub awaiting_approval: u64,
    pub recent_events: Vec<EventEnvelope>,
    pub ledger: LedgerHead,
}

impl Service {
    pub async fn change_detail(&self, caller: &Caller, id: ChangeId) -> Result<ChangeDetail, ServiceError> {
        let change = self.store().change(id).await?.ok_or_else(|| ServiceError::NotFound(format!("change {id}")))?;
        let events = self.store().stream_events(&StreamId::Change(id).to_string()).await?;
        let tier = self.store().service(&change.service).await?.map(|service| service.tier);
        let available_actions = match tier {
            Some(tier) => lifecycle::available_actions(&change, &caller.actor(), tier, self.now()),
            None => Vec::new(),
        };
        Ok(ChangeDetail { change, events, available_actions })
    }

    /// Parses the raw query, refusing bad values with field errors.
    pub fn parse_change_query(query: &ChangeQuery) -> Result<ChangeFilter, ServiceError> {
        let mut errors = Vec::new();
        let state = match query.state.as_deref().filter(|text| !text.is_empty()) {
            Some(text) => text.parse::<ChangeState>().map_err(|message| errors.push(("state", message))).ok(),
            None => None,
        };
        let mut name = |field: &'static str, text: Option<&str>| match text.filter(|text| !text.is_empty()) {
            Some(text) => Name::parse(text).map_err(|message| errors.push((field, message))).ok(),
            None => None,
        };
        let service = name("service", query.service.as_deref());
        let requester = name("requester", query.requester.as_deref());
        let before_id = match query.cursor.as_deref().filter(|text| !text.is_empty()) {
            Some(text) => text
                .parse::<ChangeId>()
                .map_err(|_| errors.push(("cursor", format!("`{text}` is not a cursor from a previous page"))))
                .ok(),
            None => None,
        };
        let limit = query.limit.unwrap_or(PAGE_SIZE_DEFAULT);
        if limit == 0 || limit > changegate_store::PAGE_SIZE_MAX {
            errors.push(("limit", format!("must be 1 to {}", changegate_store::PAGE_SIZE_MAX)));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Validation(
                errors.into_iter().map(|(field, message)| changegate_core::FieldError::new(field, message)).collect(),
            ));
        }
        Ok(ChangeFilter { state, service, requester, before_id, limit })
    }

    pub async fn list_changes(&self, _caller: &Caller, query: &ChangeQuery) -> Result<ChangePage, ServiceError> {
        let filter = Self::parse_change_query(query)?;
        Ok(self.store().list_changes(&filter).await?)
    }

    pub async fn services(&self, _caller: &Caller) -> Result<Vec<ServiceRecord>, ServiceError> {
        Ok(self.store().services().await?)
    }

    pub async fn teams(&self, _caller: &Caller) -> Result<Vec<TeamRecord>, ServiceError> {
        Ok(self.store().teams().await?)
    }

    pub async fn users(&self, _caller: &Caller) -> Result<Vec<UserRecord>, ServiceError> {
        Ok(self.store().users().await?)
    }

    /// Changes by lifecycle state.
    pub async fn change_counts_by_state(&self, _caller: &Caller) -> Result<Vec<StateCount>, ServiceError> {
        Ok(self.store().count_changes_by_state().await?)
    }

    /// The newest `limit` incidents (1 to the store's page size).
    pub async fn incidents(&self, _caller: &Caller, limit: u32) -> Result<Vec<IncidentRecord>, ServiceError> {
        if limit == 0 || limit > changegate_store::PAGE_SIZE_MAX {
            return Err(ServiceError::invalid("limit", format!("must be 1 to {}", changegate_store::PAGE_SIZE_MAX)));
        }
        Ok(self.store().incidents(limit).await?)
    }

    pub async fn incident(
        &self,
        _caller: &Caller,
        id: changegate_core::IncidentId,
    ) -> Result<IncidentRecord, ServiceError> {
        self.store().incident(id).await?.ok_or_else(|| ServiceError::NotFound(format!("incident {id}")))
    }

    pub async fn events_after(
        &self,
        _caller: &Caller,
        after: u64,
        limit: u32,
    ) -> Result<Vec<EventEnvelope>, ServiceError> {
        if limit == 0 || limit > 1_000 {
            return Err(ServiceError::invalid("limit", "must be 1 to 1000"));
        }
        // Sequences are stored as signed 64-bit integers: a larger `after` would wrap around and
        // answer from the start of the log.
        if after > i64::MAX as u64 {
            return Err(ServiceError::invalid("after", format!("must be at most {}", i64::MAX)));
        }
        Ok(self.store().events_after(after, limit).await?)
    }

    pub async fn dashboard(&self, _caller: &Caller) -> Result<Dashboard, ServiceError> {
        let counts = self.store().count_changes_by_state().await?;
        let total_changes = counts.iter().map(|count| count.count).sum();
        let awaiting_approval = self.store().count_awaiting_approval().await?;
        let recent_events = self.store().recent_events(20).await?;
        let ledger = self.store().ledger_head().await?;
        Ok(Dashboard { counts, total_changes, awaiting_approval, recent_events, ledger })
    }
}
