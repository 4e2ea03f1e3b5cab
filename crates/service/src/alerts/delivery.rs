//! Delivery of firings to webhooks: a bounded in-process queue, a worker that posts each job with
//! a time limit and retries with exponential backoff, and a record of every attempt.
//!
//! Why a room of its own: the firing path must never wait for a slow webhook, so delivery is a
//! separate queue with its own limits; keeping it here keeps those limits in one place.

use std::sync::Arc;
use std::time::Duration;

use changegate_core::{AlertFiringRecord, DomainEvent, StreamId};
use changegate_store::WriteTx;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

use crate::outbound::{self};
use crate::telemetry::DeliveryResult;
use crate::{Service, ServiceError};

/// One delivery: a firing to one webhook.
#[derive(Clone, Debug)]
pub(super) struct DeliveryJob {
    pub(super) firing: AlertFiringRecord,
    pub(super) target: String,
}

/// The page a firing's subject is shown on.
fn link_path(subject: &str) -> String {
    if let Some(change) = subject.parse::<StreamId>().ok().and_then(|stream| stream.change()) {
        return format!("/changes/{change}");
    }
    match subject.split('/').next() {
        Some("service") => "/services".to_owned(),
        Some("ledger") => "/ledger".to_owned(),
        _ => "/alerts".to_owned(),
    }
}

/// The JSON posted to a webhook for `firing`: a Slack-compatible one-line `text` and the
/// firing's fields.
pub fn delivery_payload(firing: &AlertFiringRecord, public_url: Option<&str>) -> Value {
    let path = link_path(&firing.subject);
    let link = match public_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => path,
    };
    let mut text = format!("[Changegate] {} (rule {}, {})", firing.message, firing.rule, firing.kind);
    if link.starts_with("http") {
        text.push_str(&format!(" <{link}>"));
    }
    json!({
        "text": text,
        "rule": firing.rule,
        "kind": firing.kind,
        "subject": firing.subject,
        "key": firing.key,
        "message": firing.message,
        "details": firing.details,
        "fired_at": firing.fired_at.to_rfc3339(),
        "sequence": firing.sequence,
        "link": link,
    })
}

impl Service {
    pub(super) async fn enqueue_delivery(&self, job: DeliveryJob) {
        let Some(queue) = self.alerts.queue.get() else {
            tracing::debug!(rule = %job.firing.rule, "no alert delivery worker runs in this process; firing recorded only");
            return;
        };
        match queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job)) => {
                let error =
                    format!("dropped: the delivery queue was full ({} waiting)", self.alerts.settings.queue_depth_max);
                tracing::error!(rule = %job.firing.rule, target = %job.target, "alert delivery {error}");
                self.metrics.record_delivery(DeliveryResult::Dropped);
                self.record_delivery(&job, 0, false, None, Some(error)).await;
            }
        }
    }

    async fn record_delivery(
        &self,
        job: &DeliveryJob,
        attempt: u32,
        ok: bool,
        status: Option<u16>,
        error: Option<String>,
    ) {
        let event = DomainEvent::AlertDelivered {
            fired_sequence: job.firing.sequence,
            target: job.target.clone(),
            attempt,
            ok,
            status,
            error,
        };
        let time = self.now();
        let written = self
            .store()
            .write(async |tx: &mut WriteTx| -> Result<(), ServiceError> {
                tx.append(&StreamId::Alerts, "system", time, &event).await?;
                Ok(())
            })
            .await;
        if let Err(error) = written {
            tracing::error!(%error, sequence = job.firing.sequence, "could not record an alert delivery");
        }
    }

    /// Posts one firing to one webhook, up to `delivery_attempts_max` times with backoff,
    /// recording every attempt.
    async fn deliver(&self, job: DeliveryJob) {
        let settings = &self.alerts.settings;
        let payload = delivery_payload(&job.firing, settings.public_url.as_deref());
        let attempts = settings.delivery_attempts_max.max(1);
        for attempt in 1..=attempts {
            let result = outbound::post_json(&job.target, &payload, settings.attempt_timeout_ms).await;
            let error = (!result.ok).then(|| result.detail.clone());
            self.metrics.record_delivery(if result.ok { DeliveryResult::Ok } else { DeliveryResult::Failed });
            self.record_delivery(&job, attempt, result.ok, result.status, error).await;
            if result.ok {
                tracing::info!(rule = %job.firing.rule, target = %job.target, attempt, "alert delivered");
                return;
            }
            tracing::warn!(rule = %job.firing.rule, target = %job.target, attempt, detail = %result.detail, "alert delivery failed");
            if attempt < attempts {
                tokio::time::sleep(Duration::from_millis(settings.backoff_ms(attempt))).await;
            }
        }
    }

    /// The delivery worker: starts the queue and returns the task that drains it (spawn it once
    /// per process). `None` when a worker was started already.
    pub fn alert_delivery_worker(&self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let (sender, mut receiver) = mpsc::channel(self.alerts.settings.queue_depth_max.max(1));
        self.alerts.queue.set(sender).ok()?;
        let service = self.clone();
        let in_flight = Arc::new(Semaphore::new(self.alerts.settings.deliveries_in_flight_max.max(1)));
        Some(async move {
            while let Some(job) = receiver.recv().await {
                let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
                let service = service.clone();
                tokio::spawn(async move {
                    service.deliver(job).await;
                    drop(permit);
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use changegate_core::{Name, Timestamp};

    use super::*;
    use crate::alerts::AlertSettings;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let settings = AlertSettings { backoff_base_ms: 100, backoff_max_ms: 1_000, ..AlertSettings::default() };
        let waits: Vec<u64> = (1..=6).map(|attempt| settings.backoff_ms(attempt)).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1_000, 1_000]);
        assert_eq!(settings.backoff_ms(200), 1_000);
    }

    #[test]
    fn the_payload_carries_a_slack_text_and_an_absolute_link_when_the_url_is_known() {
        let firing = AlertFiringRecord {
            sequence: 9,
            rule: Name::parse("risky").unwrap(),
            kind: "high_risk_change".into(),
            subject: "change/CHG-000003".into(),
            key: "CHG-000003".into(),
            message: "High-risk change CHG-000003 submitted".into(),
            details: json!({}),
            fired_at: Timestamp::from_unix_ms(0),
            deliveries: Vec::new(),
        };
        let payload = delivery_payload(&firing, Some("https://cg.example.com/"));
        assert_eq!(payload["link"], "https://cg.example.com/changes/CHG-000003");
        assert!(payload["text"].as_str().unwrap().starts_with("[Changegate] High-risk change CHG-000003"));
        assert_eq!(delivery_payload(&firing, None)["link"], "/changes/CHG-000003");
    }
}
