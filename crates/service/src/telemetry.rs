//! Process counters for Prometheus: policy decisions on submit and their latency, alert firings
//! and deliveries, rollback hook runs.
//!
//! Why atomics in the service: these are measured where they happen (the assessment, the
//! delivery worker, the hook runner), whichever face caused them, and they must not cost a lock
//! on the submit path. They count this process since it started, as Prometheus counters do; what
//! is durable (every firing, delivery and hook run) is in the event log.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the decision latency histogram's buckets, in microseconds (5 ms to 5 s; the
/// policy's own time limit is 500 ms by default).
pub const DECISION_LATENCY_BUCKETS_US: [u64; 10] =
    [5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000];

/// How the assessment on submit decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionResult {
    AutoApproved,
    ApprovalRequired,
    Denied,
    /// The policy failed (error or time limit): a CAB approval is required (fail closed).
    PolicyError,
}

impl DecisionResult {
    pub const ALL: [DecisionResult; 4] = [
        DecisionResult::AutoApproved,
        DecisionResult::ApprovalRequired,
        DecisionResult::Denied,
        DecisionResult::PolicyError,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DecisionResult::AutoApproved => "auto_approved",
            DecisionResult::ApprovalRequired => "approval_required",
            DecisionResult::Denied => "denied",
            DecisionResult::PolicyError => "policy_error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How one alert delivery attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryResult {
    Ok,
    Failed,
    /// Not attempted: the delivery queue was full.
    Dropped,
}

impl DeliveryResult {
    pub const ALL: [DeliveryResult; 3] = [DeliveryResult::Ok, DeliveryResult::Failed, DeliveryResult::Dropped];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryResult::Ok => "ok",
            DeliveryResult::Failed => "failed",
            DeliveryResult::Dropped => "dropped",
        }
    }
}

/// The counters. One per service (shared by its clones).
#[derive(Debug, Default)]
pub struct ServiceMetrics {
    decisions: [AtomicU64; 4],
    latency_buckets: [AtomicU64; DECISION_LATENCY_BUCKETS_US.len()],
    latency_sum_us: AtomicU64,
    latency_count: AtomicU64,
    alert_firings: AtomicU64,
    alert_deliveries: [AtomicU64; 3],
    rollback_runs_ok: AtomicU64,
    rollback_runs_failed: AtomicU64,
}

/// A copy of the counters at one moment, for rendering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Decisions by result, in the order of [`DecisionResult::ALL`].
    pub decisions: Vec<(DecisionResult, u64)>,
    /// Cumulative counts per bucket bound (µs), as Prometheus histograms report them.
    pub latency_buckets_cumulative: Vec<(u64, u64)>,
    pub latency_sum_us: u64,
    pub latency_count: u64,
    pub alert_firings: u64,
    pub alert_deliveries: Vec<(DeliveryResult, u64)>,
    pub rollback_runs_ok: u64,
    pub rollback_runs_failed: u64,
}

impl ServiceMetrics {
    pub fn record_decision(&self, result: DecisionResult, latency_us: u64) {
        self.decisions[result.index()].fetch_add(1, Ordering::Relaxed);
        if let Some(bucket) = DECISION_LATENCY_BUCKETS_US.iter().position(|bound| latency_us <= *bound) {
            self.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_sum_us.fetch_add(latency_us, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_firing(&self) {
        self.alert_firings.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_delivery(&self, result: DeliveryResult) {
        self.alert_deliveries[result as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_rollback_run(&self, ok: bool) {
        let counter = if ok { &self.rollback_runs_ok } else { &self.rollback_runs_failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut cumulative = 0;
        let latency_buckets_cumulative = DECISION_LATENCY_BUCKETS_US
            .iter()
            .zip(&self.latency_buckets)
            .map(|(bound, counter)| {
                cumulative += load(counter);
                (*bound, cumulative)
            })
            .collect();
        MetricsSnapshot {
            decisions: DecisionResult::ALL
                .iter()
                .map(|result| (*result, load(&self.decisions[result.index()])))
                .collect(),
            latency_buckets_cumulative,
            latency_sum_us: load(&self.latency_sum_us),
            latency_count: load(&self.latency_count),
            alert_firings: load(&self.alert_firings),
            alert_deliveries: DeliveryResult::ALL
                .iter()
                .map(|result| (*result, load(&self.alert_deliveries[*result as usize])))
                .collect(),
            rollback_runs_ok: load(&self.rollback_runs_ok),
            rollback_runs_failed: load(&self.rollback_runs_failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_cumulative_and_the_slowest_only_counts_in_the_sum() {
        // Given three decisions: 3 ms, 40 ms and 9 s (beyond the last bound).
        let metrics = ServiceMetrics::default();
        metrics.record_decision(DecisionResult::AutoApproved, 3_000);
        metrics.record_decision(DecisionResult::Denied, 40_000);
        metrics.record_decision(DecisionResult::Denied, 9_000_000);
        // When they are read
        let snapshot = metrics.snapshot();
        // Then each bucket counts the decisions at or below its bound, and the count all three.
        assert_eq!(snapshot.latency_buckets_cumulative[0], (5_000, 1));
        assert_eq!(snapshot.latency_buckets_cumulative[3], (50_000, 2));
        assert_eq!(snapshot.latency_buckets_cumulative.last(), Some(&(5_000_000, 2)));
        assert_eq!(snapshot.latency_count, 3);
        assert_eq!(snapshot.latency_sum_us, 9_043_000);
        assert_eq!(snapshot.decisions[2], (DecisionResult::Denied, 2));
    }
}
