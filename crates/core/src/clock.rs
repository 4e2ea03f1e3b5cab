//! The clock as an injected dependency.
//!
//! The core never asks the operating system for the time: approvals, windows and metrics must be
//! reproducible in tests and in replays. The system clock lives at the edge (the service crate);
//! the [`ManualClock`] here serves tests and the demo generator.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::Timestamp;

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct ManualClock {
    unix_ms: AtomicI64,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock { unix_ms: AtomicI64::new(start.unix_ms()) }
    }

    pub fn set(&self, time: Timestamp) {
        self.unix_ms.store(time.unix_ms(), Ordering::SeqCst);
    }

    pub fn advance_ms(&self, duration_ms: i64) {
        self.unix_ms.fetch_add(duration_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_ms(self.unix_ms.load(Ordering::SeqCst))
    }
}
