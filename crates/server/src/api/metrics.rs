//! The delivery metrics endpoint, `GET /api/v1/metrics`: the period and filters come as query
//! parameters, the answer is the metrics crate's report as is (docs/metrics.md defines every
//! key). Translation only; the service parses, checks the names and computes.

use axum::Json;
use axum::extract::State;
use changegate_service::{MetricsParams, MetricsReport, parse_metrics_query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated};

/// The period and the filters of a metrics query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsQueryParams {
    /// Inclusive start of the period: `2026-01-01` (UTC midnight) or an RFC 3339 time. Deployments
    /// count by when they finished (`completed_at`, or the failure for one that failed before it).
    pub from: Option<String>,
    /// Exclusive end, in the same forms; must be after `from`. Without `from` and `to` the period
    /// runs over the days from the first to the last matching deployment.
    pub to: Option<String>,
    /// Only this service's deployments (a registered service, or one changes were made to).
    pub service: Option<String>,
    /// Only this team's deployments.
    pub team: Option<String>,
    /// Only this environment's deployments (only production environments are measured).
    pub environment: Option<String>,
}

/// The metrics report. Top-level keys: `period`, `deployments`, `deployment_frequency_per_day`,
/// `deployment_days_per_week`, `lead_time_median_hours`, `lead_time_p90_hours`,
/// `change_failure_rate`, `change_success_rate`, `failed_deployments`,
/// `failed_deployment_recovery_median_hours`, `failed_deployments_unrecovered`,
/// `deployment_rework_rate`, `rework_deployments`, `approval_time_median_hours`,
/// `approval_time_p90_hours`, `time_to_implement_median_hours`, `change_related_incidents`,
/// `change_related_incidents_per_deployment`, `change_related_incidents_unresolved`,
/// `mttr_hours`, `downtime_minutes_from_changes`, `changes_by_type`, `bands`,
/// `change_related_incidents_by_severity`, `mtbf_hours_by_service`, `risk_distribution`,
/// `risk_class_distribution`, `by_service`, `by_team`, `by_environment` (each row has the
/// metrics above and `name`) and `weekly`. Undefined values (a rate without deployments, a median
/// without values) are `null`. docs/metrics.md defines every one.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct MetricsReportView(pub MetricsReport);

/// DORA's five delivery metrics and the change-management ones, with DORA's bands, overall, by
/// service, team and environment, and by ISO week.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics", params(MetricsQueryParams),
    responses(
        (status = 200, body = MetricsReportView),
        (status = 400, description = "Unknown query parameter", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "Unreadable or reversed dates, a period over 10,000 days, or a service, team or environment this server does not know", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(actor = %caller.name()))]
pub async fn metrics(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<MetricsQueryParams>,
) -> Result<Json<MetricsReportView>, ApiError> {
    let query = parse_metrics_query(&MetricsParams {
        from: params.from,
        to: params.to,
        service: params.service,
        team: params.team,
        environment: params.environment,
    })?;
    Ok(Json(MetricsReportView(state.service.metrics(&caller, &query).await?)))
}
