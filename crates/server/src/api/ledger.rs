//! The audit ledger over HTTP: checkpoints, entries, proofs, the public key, status and
//! verification. Hashes and leaves are base64 (standard alphabet), as in C2SP formats.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use changegate_core::ChangeId;
use changegate_service::StoredCheckpoint;
use changegate_service::{InclusionProof, VerificationReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Authenticated};

fn text(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The newest signed checkpoint (C2SP tlog-checkpoint in a signed note).
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, description = "The signed note", body = String, content_type = "text/plain"),
        (status = 401, body = ErrorBody), (status = 404, description = "No checkpoint signed yet", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn checkpoint(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Response, ApiError> {
    match state.service.latest_checkpoint(&caller).await? {
        Some(checkpoint) => Ok(text(checkpoint.note)),
        None => Err(ApiError::not_found("no checkpoint has been signed yet")),
    }
}

/// A checkpoint as JSON.
#[derive(Serialize, ToSchema)]
pub struct CheckpointView {
    pub size: u64,
    /// base64 root hash.
    pub root: String,
    pub key_id: String,
    pub signed_at: String,
    /// The signed note.
    pub note: String,
}

impl From<&StoredCheckpoint> for CheckpointView {
    fn from(checkpoint: &StoredCheckpoint) -> Self {
        CheckpointView {
            size: checkpoint.size,
            root: base64(&checkpoint.root),
            key_id: checkpoint.key_id.clone(),
            signed_at: checkpoint.signed_at.to_rfc3339(),
            note: checkpoint.note.clone(),
        }
    }
}

/// Sign a checkpoint now (admin or auditor). 200 with the new checkpoint, or with the newest
/// one when it already covers the whole log.
#[utoipa::path(post, path = "/api/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, body = CheckpointView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "The log is empty", body = ErrorBody), (status = 409, description = "No signing key", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sign_checkpoint(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<CheckpointView>, ApiError> {
    state.service.checkpoint_now(&caller).await?;
    match state.service.latest_checkpoint(&caller).await? {
        Some(checkpoint) => Ok(Json(CheckpointView::from(&checkpoint))),
        None => Err(ApiError::not_found("the log is empty: nothing to sign")),
    }
}

/// The verifier key in note format: `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`.
#[utoipa::path(get, path = "/api/v1/ledger/public-key", tag = "ledger",
    responses((status = 200, body = String, content_type = "text/plain"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn public_key(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Response, ApiError> {
    match state.service.verifier_key(&caller).await? {
        Some(key) => Ok(text(format!("{key}\n"))),
        None => Err(ApiError::not_found("this log has no signing key yet")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntriesParams {
    /// First index (from 0).
    pub start: u64,
    /// One past the last index; at most 1000 entries per request.
    pub end: u64,
}

#[derive(Serialize, ToSchema)]
pub struct EntryView {
    pub index: u64,
    /// base64 of the leaf bytes (canonical JSON of the event, see docs/ledger.md).
    pub leaf: String,
}

/// Leaf entries `[start, end)`.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", params(EntriesParams),
    responses((status = 200, body = Vec<EntryView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn entries(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<EntriesParams>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    let entries = state.service.ledger_entries(&caller, params.start, params.end).await?;
    Ok(Json(entries.into_iter().map(|(index, leaf)| EntryView { index, leaf: base64(&leaf) }).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionParams {
    pub index: u64,
    pub tree_size: u64,
}

#[derive(Serialize, ToSchema)]
pub struct InclusionProofView {
    pub index: u64,
    pub tree_size: u64,
    /// base64 leaf hash.
    pub leaf_hash: String,
    /// base64 root of the tree of `tree_size` leaves.
    pub root: String,
    /// base64 proof hashes, leaf to root.
    pub hashes: Vec<String>,
}

impl From<&InclusionProof> for InclusionProofView {
    fn from(proof: &InclusionProof) -> Self {
        InclusionProofView {
            index: proof.index,
            tree_size: proof.tree_size,
            leaf_hash: base64(&proof.leaf_hash),
            root: base64(&proof.root),
            hashes: proof.hashes.iter().map(|hash| base64(hash)).collect(),
        }
    }
}

/// Inclusion proof of leaf `index` in the tree of `tree_size` leaves.
#[utoipa::path(get, path = "/api/v1/ledger/proof/inclusion", tag = "ledger", params(InclusionParams),
    responses((status = 200, body = InclusionProofView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn inclusion(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<InclusionParams>,
) -> Result<Json<InclusionProofView>, ApiError> {
    let proof = state.service.inclusion_proof(&caller, params.index, params.tree_size).await?;
    Ok(Json(InclusionProofView::from(&proof)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    pub from: u64,
    pub to: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ConsistencyProofView {
    pub from: u64,
    pub to: u64,
    pub from_root: String,
    pub to_root: String,
    pub hashes: Vec<String>,
}

/// Consistency proof from tree size `from` to `to`. From 0 the proof is empty (any tree extends
/// the empty one; see docs/ledger.md).
#[utoipa::path(get, path = "/api/v1/ledger/proof/consistency", tag = "ledger", params(ConsistencyParams),
    responses((status = 200, body = ConsistencyProofView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn consistency(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(params): ApiQuery<ConsistencyParams>,
) -> Result<Json<ConsistencyProofView>, ApiError> {
    let proof = state.service.consistency_proof(&caller, params.from, params.to).await?;
    Ok(Json(ConsistencyProofView {
        from: proof.from_size,
        to: proof.to_size,
        from_root: base64(&proof.from_root),
        to_root: base64(&proof.to_root),
        hashes: proof.hashes.iter().map(|hash| base64(hash)).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct VerificationView {
    pub size: u64,
    pub ok: bool,
    pub first_bad_index: Option<u64>,
    pub checkpoints_checked: u64,
    pub message: String,
}

impl From<&VerificationReport> for VerificationView {
    fn from(report: &VerificationReport) -> Self {
        VerificationView {
            size: report.size,
            ok: report.ok,
            first_bad_index: report.first_bad_index,
            checkpoints_checked: report.checkpoints_checked,
            message: report.message.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LedgerStatusView {
    pub size: u64,
    pub root: String,
    pub latest_checkpoint: Option<CheckpointView>,
    pub verifier_key: Option<String>,
    /// The newest verification: its event data and time.
    #[schema(value_type = Option<Object>)]
    pub last_verification: Option<serde_json::Value>,
}

/// Size, root, newest checkpoint, public key and the last verification.
#[utoipa::path(get, path = "/api/v1/ledger/status", tag = "ledger",
    responses((status = 200, body = LedgerStatusView), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
pub async fn status(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<LedgerStatusView>, ApiError> {
    let status = state.service.ledger_status(&caller).await?;
    Ok(Json(LedgerStatusView {
        size: status.size,
        root: base64(&status.root),
        latest_checkpoint: status.latest_checkpoint.as_ref().map(CheckpointView::from),
        verifier_key: status.verifier_key,
        last_verification: status.last_verification.map(|event| {
            let mut data: serde_json::Value = serde_json::from_str(&event.payload).unwrap_or_default();
            data["time"] = serde_json::Value::String(event.time.to_rfc3339());
            data["actor"] = serde_json::Value::String(event.actor);
            data
        }),
    }))
}

/// Recompute the whole tree from the stored events and check every checkpoint (admin or
/// auditor). The result is recorded as an event.
#[utoipa::path(post, path = "/api/v1/ledger/verify", tag = "ledger",
    responses((status = 200, body = VerificationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<VerificationView>, ApiError> {
    let report = state.service.verify_ledger(&caller, &|_, _| {}).await?;
    Ok(Json(VerificationView::from(&report)))
}

/// Everything needed to prove a change's events are in the log, offline.
#[derive(Serialize, ToSchema)]
pub struct ChangeProofView {
    pub change: String,
    /// The signed checkpoint the proofs lead to (absent before the first checkpoint: then the
    /// proofs lead to the current, unsigned root).
    pub checkpoint: Option<String>,
    pub verifier_key: Option<String>,
    pub entries: Vec<EntryView>,
    pub proofs: Vec<InclusionProofView>,
}

/// Inclusion proofs of all of a change's events, with their leaves and the checkpoint.
#[utoipa::path(get, path = "/api/v1/changes/{id}/proof", tag = "ledger",
    params(("id" = String, Path, description = "e.g. CHG-000001")),
    responses((status = 200, body = ChangeProofView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_proof(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let change: ChangeId = id.parse().map_err(|_| ApiError::not_found(format!("no change {id}")))?;
    let body = change_proof_body(&state.service, &caller, change).await?;
    Ok(proof_download(change, &body))
}

/// The proof as a JSON download named after the change (for the API and the change page).
pub fn proof_download(change: ChangeId, body: &ChangeProofView) -> Response {
    let mut response = Json(body).into_response();
    let disposition = format!("attachment; filename=\"{change}-proof.json\"");
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Inclusion proofs of a change's events with their leaves, the checkpoint and the key.
pub async fn change_proof_body(
    service: &changegate_service::Service,
    caller: &changegate_service::Caller,
    change: ChangeId,
) -> Result<ChangeProofView, changegate_service::ServiceError> {
    let (checkpoint, proofs) = service.change_inclusion_proofs(caller, change).await?;
    let mut entries = Vec::with_capacity(proofs.len());
    for proof in &proofs {
        let leaf = service.ledger_entries(caller, proof.index, proof.index + 1).await?;
        entries.extend(leaf.into_iter().map(|(index, leaf)| EntryView { index, leaf: base64(&leaf) }));
    }
    Ok(ChangeProofView {
        change: change.to_string(),
        checkpoint: checkpoint.map(|checkpoint| checkpoint.note),
        verifier_key: service.verifier_key(caller).await?,
        entries,
        proofs: proofs.iter().map(InclusionProofView::from).collect(),
    })
}
