//! Changegate's HTTP faces over the service layer: the JSON API under `/api/v1` (described by the
//! OpenAPI document at `/api/openapi.json`), the server-rendered web pages at `/`, and the
//! health probes.
//!
//! Handlers only translate: they parse HTTP into service inputs and service results into HTTP.
//! Authorization, validation and every decision happen in the service and the core.

pub mod api;
mod error;
mod extract;
mod metrics;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use changegate_service::{CheckpointPolicy, Service};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, ErrorBody};

/// Largest API request body accepted, in bytes. A change may carry three texts of 20,000
/// characters, up to 3 bytes each in UTF-8, so this is a little above 180 KB.
pub const BODY_SIZE_MAX_BYTES: usize = 256 * 1024;

/// How the server is set up.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Mark the session cookie `Secure` (set when served over HTTPS behind a proxy).
    pub secure_cookies: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: SocketAddr::from(([127, 0, 0, 1], 8080)), secure_cookies: false }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub config: ServerConfig,
    /// Requests refused for lack of a valid token. Counted, never written as events, so that
    /// nobody can grow the store without a token.
    pub unauthenticated_requests: Arc<AtomicU64>,
    pub templates: Arc<minijinja::Environment<'static>>,
}

impl AppState {
    pub fn new(service: Service, config: ServerConfig) -> Self {
        AppState { service, config, unauthenticated_requests: Arc::default(), templates: Arc::new(web::templates()) }
    }

    pub fn count_unauthenticated(&self) -> u64 {
        self.unauthenticated_requests.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(metrics::metrics))
        .nest("/api", api::routes())
        .merge(web::routes())
        .layer(DefaultBodyLimit::max(BODY_SIZE_MAX_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    service: Service,
    checkpoint_policy: Option<CheckpointPolicy>,
}

impl Application {
    /// Binds the listen address (port 0 picks a free port).
    pub async fn build(service: Service, config: ServerConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        let router = router(AppState::new(service.clone(), config));
        Ok(Application { listener, router, service, checkpoint_policy: None })
    }

    /// Signs ledger checkpoints in the background by this policy while serving.
    pub fn with_checkpoints(mut self, policy: CheckpointPolicy) -> Self {
        self.checkpoint_policy = Some(policy);
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let checkpoints =
            self.checkpoint_policy.map(|policy| tokio::spawn(sign_checkpoints(self.service.clone(), policy)));
        let overdue = tokio::spawn(flag_overdue_emergencies(self.service.clone()));
        // Alerts and automated rollbacks react to events from the log's head on; deliveries
        // drain a bounded queue (see `changegate_service::alerts`).
        let deliveries = self.service.alert_delivery_worker().map(tokio::spawn);
        let alerts = tokio::spawn(self.service.clone().run_alert_engine());
        let result = axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await;
        if let Some(task) = checkpoints {
            task.abort();
        }
        overdue.abort();
        alerts.abort();
        if let Some(task) = deliveries {
            task.abort();
        }
        result
    }

    /// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// How often the background task looks whether a checkpoint is due.
const CHECKPOINT_POLL_INTERVAL_MS: u64 = 1_000;

async fn sign_checkpoints(service: Service, policy: CheckpointPolicy) {
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(CHECKPOINT_POLL_INTERVAL_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match service.checkpoint_if_due(policy).await {
            Ok(Some(checkpoint)) => {
                tracing::info!(size = checkpoint.size, "signed a ledger checkpoint")
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "could not sign a ledger checkpoint"),
        }
    }
}

/// How often the background task looks for emergency changes past their retrospective deadline.
const OVERDUE_POLL_INTERVAL_MS: u64 = 60_000;

async fn flag_overdue_emergencies(service: Service) {
    let mut interval = tokio::time::interval(std::time::Duration::from_millis(OVERDUE_POLL_INTERVAL_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match service.flag_overdue_emergencies().await {
            Ok(flagged) if !flagged.is_empty() => {
                tracing::warn!(
                    count = flagged.len(),
                    "flagged emergency changes overdue for retrospective approval or review"
                )
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "could not look for overdue emergency changes"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
