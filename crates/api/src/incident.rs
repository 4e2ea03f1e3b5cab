//! Incidents on the wire: the requests that open, correct, resolve and link an incident, and an
//! incident as the API shows it (with the provenance of its link to a change).

use changegate_core::IncidentRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::time;

/// `POST /api/v1/incidents`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIncidentRequest {
    pub title: String,
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,63}$")]
    pub service: String,
    /// sev1 (worst) to sev4.
    pub severity: String,
    pub detected_at: Option<String>,
    /// The change that caused it, e.g. `CHG-000042` (an explicit link). Without it the
    /// attribution rule suggests the latest successful production change of the service.
    pub caused_by: Option<String>,
    /// Minutes of downtime the incident caused.
    #[serde(default)]
    pub downtime_minutes: Option<u32>,
}

/// `POST /api/v1/incidents/{id}/resolve`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveIncidentRequest {
    pub resolved_at: Option<String>,
    #[serde(default)]
    pub downtime_minutes: Option<u32>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `PATCH /api/v1/incidents/{id}`: the fields to correct (at least one).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIncidentRequest {
    pub title: Option<String>,
    /// sev1 … sev4 (or 1 … 4).
    pub severity: Option<String>,
    pub detected_at: Option<String>,
    pub downtime_minutes: Option<u32>,
    pub comment: Option<String>,
}

/// `POST /api/v1/incidents/{id}/link`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIncidentRequest {
    /// The change that caused it, e.g. `CHG-000042`.
    pub change: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/v1/incidents/{id}/confirm-link` and `/reject-link` (optional body).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentLinkDecisionRequest {
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub title: String,
    pub service: String,
    pub severity: String,
    pub detected_at: String,
    pub resolved_at: Option<String>,
    /// The change that caused it by an explicit or confirmed link: the only links metrics count.
    pub caused_by: Option<String>,
    /// The link as people see it: `explicit`, `confirmed`, or `suggested` (by the attribution
    /// rule, not counted until a person confirms it).
    pub link: Option<IncidentLinkView>,
    /// Changes a person said did not cause it.
    pub rejected_causes: Vec<String>,
    pub downtime_minutes: Option<u32>,
    /// Imported from another system's history.
    pub imported: bool,
    pub external_id: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentLinkView {
    pub change: String,
    /// explicit, confirmed or suggested.
    pub provenance: String,
    /// Whether metrics count this link (explicit and confirmed only).
    pub counted: bool,
    /// For a suggestion: the rule that made it.
    pub rule: Option<String>,
}

impl From<&IncidentRecord> for IncidentView {
    fn from(incident: &IncidentRecord) -> Self {
        IncidentView {
            id: incident.id.to_string(),
            title: incident.title.clone(),
            service: incident.service.to_string(),
            severity: incident.severity.to_string(),
            detected_at: incident.detected_at.to_rfc3339(),
            resolved_at: time(incident.resolved_at),
            caused_by: incident.caused_by.map(|id| id.to_string()),
            link: incident.link().map(|(change, provenance)| IncidentLinkView {
                change: change.to_string(),
                provenance: provenance.to_string(),
                counted: provenance != changegate_core::LinkProvenance::Suggested,
                rule: (provenance == changegate_core::LinkProvenance::Suggested)
                    .then(|| incident.suggested_cause.as_ref().map(|suggested| suggested.rule.clone()))
                    .flatten(),
            }),
            rejected_causes: incident.rejected_causes.iter().map(ToString::to_string).collect(),
            downtime_minutes: incident.downtime_minutes,
            imported: incident.imported,
            external_id: incident.external_id.clone(),
            created_at: incident.created_at.to_rfc3339(),
        }
    }
}
