//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::AppState;
use changegate_api::HealthView;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthView)))]
pub async fn healthz() -> Json<HealthView> {
    Json(HealthView { status: "ok".to_owned() })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = HealthView), (status = 503, body = HealthView)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<HealthView>) {
    match state.service.ping().await {
        Ok(()) => (StatusCode::OK, Json(HealthView { status: "ok".to_owned() })),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(HealthView { status: "database unavailable".to_owned() }))
        }
    }
}
