//! The audit ledger as a service: signed checkpoints (on demand and by policy), proofs, leaf
//! entries, and full verification of the stored log against its tree and its signatures.

use std::collections::HashMap;
use std::sync::Arc;

use changegate_core::event::EventEnvelope;
use changegate_core::{ChangeId, DomainEvent, StreamId};
use changegate_ledger::{
    Frontier, Hash, NoteSigner, NoteVerifier, consistency_proof, consistency_proof_subtrees, inclusion_proof,
    inclusion_proof_subtrees, leaf_hash, open_checkpoint, root_from_subtrees, root_subtrees,
};
use changegate_store::StoredCheckpoint;

use crate::Permission;
use crate::identity::Caller;
use crate::{Service, ServiceError};

/// Most entries one request may read.
pub const ENTRIES_PER_REQUEST_MAX: u64 = 1_000;
/// Events read per batch while verifying.
const VERIFY_BATCH_SIZE: u32 = 10_000;

/// When to sign a checkpoint automatically: after `every_events` new events, or once
/// `interval_ms` has passed with at least one new event, whichever comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointPolicy {
    pub every_events: u64,
    pub interval_ms: i64,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy { every_events: 1_000, interval_ms: 60_000 }
    }
}

/// An inclusion proof of one leaf in a tree of `tree_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    pub root: Hash,
    pub hashes: Vec<Hash>,
}

/// A consistency proof between two tree sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub from_size: u64,
    pub to_size: u64,
    pub from_root: Hash,
    pub to_root: Hash,
    pub hashes: Vec<Hash>,
}

/// What a full verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationReport {
    pub size: u64,
    pub ok: bool,
    pub first_bad_index: Option<u64>,
    pub checkpoints_checked: u64,
    pub message: String,
}

/// What the ledger page and the status endpoint show.
#[derive(Clone, Debug)]
pub struct LedgerStatus {
    pub size: u64,
    pub root: Hash,
    pub latest_checkpoint: Option<StoredCheckpoint>,
    pub verifier_key: Option<String>,
    pub last_verification: Option<changegate_core::event::EventEnvelope>,
}

impl Service {
    /// Signs checkpoints with this key from now on.
    pub fn with_signer(mut self, signer: NoteSigner) -> Self {
        self.signer = Some(Arc::new(signer));
        self
    }

    pub fn signer(&self) -> Option<&NoteSigner> {
        self.signer.as_deref()
    }

    fn require_signer(&self) -> Result<&NoteSigner, ServiceError> {
        self.signer().ok_or_else(|| {
            ServiceError::Conflict(
                "this server has no ledger signing key; start it with the key from `changegate init`".into(),
            )
        })
    }

    /// The verifier key of this log: the signer's, else the one recorded with its checkpoints.
    pub async fn verifier_key(&self, _caller: &Caller) -> Result<Option<String>, ServiceError> {
        self.log_verifier_key().await
    }

    /// Refuses a signing key other than the one this log's checkpoints are signed with (one log
    /// has one key): a server started with another would accept writes and then fail every
    /// checkpoint. The error names the key the log expects. No key, or a log not signed yet, is
    /// fine.
    pub async fn check_signing_key(&self) -> Result<(), ServiceError> {
        let Some(signer) = self.signer() else { return Ok(()) };
        match self.store().signer_verifier_key().await? {
            Some(recorded) if recorded != signer.verifier_key() => Err(ServiceError::Conflict(format!(
                "this log's checkpoints are signed with the key `{recorded}`, and the key given is `{}`: \
                 start with the log's key (`--signing-key-file` or CHANGEGATE_SIGNING_KEY)",
                signer.verifier_key()
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) async fn log_verifier_key(&self) -> Result<Option<String>, ServiceError> {
        if let Some(signer) = self.signer() {
            return Ok(Some(signer.verifier_key()));
        }
        Ok(self.store().signer_verifier_key().await?)
    }

    /// Signs a checkpoint now (admins and auditors; the local command line acts as the store's
    /// owner with [`Service::system_caller`]).
    pub async fn checkpoint_now(&self, caller: &Caller) -> Result<Option<StoredCheckpoint>, ServiceError> {
        if !caller.may(Permission::OperateLedger) {
            let reason = format!("signing a checkpoint needs {}", Permission::OperateLedger.roles_text());
            return Err(self.refuse(caller, "sign_checkpoint", "ledger", reason).await);
        }
        let signer = self.require_signer()?;
        Ok(self.store().sign_checkpoint(signer, self.now()).await?)
    }

    /// Signs a checkpoint when the policy says one is due; for the server's background task.
    pub async fn checkpoint_if_due(&self, policy: CheckpointPolicy) -> Result<Option<StoredCheckpoint>, ServiceError> {
        let Some(signer) = self.signer() else {
            return Ok(None);
        };
        let head = self.store().ledger_head().await?;
        let latest = self.store().latest_checkpoint().await?;
        let (signed_size, signed_at) =
            latest.map(|checkpoint| (checkpoint.size, Some(checkpoint.signed_at))).unwrap_or((0, None));
        if head.size <= signed_size {
            return Ok(None);
        }
        let enough_events = head.size - signed_size >= policy.every_events;
        let waited_long_enough = signed_at.is_none_or(|at| self.now().since_ms(at) >= policy.interval_ms);
        if !enough_events && !waited_long_enough {
            return Ok(None);
        }
        Ok(self.store().sign_checkpoint(signer, self.now()).await?)
    }

    pub async fn latest_checkpoint(&self, _caller: &Caller) -> Result<Option<StoredCheckpoint>, ServiceError> {
        Ok(self.store().latest_checkpoint().await?)
    }

    /// Every signed checkpoint, oldest first.
    pub async fn checkpoints(&self, _caller: &Caller) -> Result<Vec<StoredCheckpoint>, ServiceError> {
        Ok(self.store().checkpoints().await?)
    }

    /// The newest recorded verification (a `ledger_verified` event), if any.
    pub async fn last_verification(&self, _caller: &Caller) -> Result<Option<EventEnvelope>, ServiceError> {
        Ok(self.store().last_verification().await?)
    }

    /// Checks every projection row against the fold of the events; returns the rows that differ.
    /// Admins and auditors (it reads the whole log).
    pub async fn verify_projections(&self, caller: &Caller) -> Result<Vec<String>, ServiceError> {
        if !caller.may(Permission::OperateLedger) {
            let reason = format!("verifying the projections needs {}", Permission::OperateLedger.roles_text());
            return Err(self.refuse(caller, "verify_projections", "ledger", reason).await);
        }
        Ok(self.store().verify_projections().await?)
    }

    pub async fn ledger_status(&self, _caller: &Caller) -> Result<LedgerStatus, ServiceError> {
        let head = self.store().ledger_head().await?;
        Ok(LedgerStatus {
            size: head.size,
            root: head.root,
            latest_checkpoint: self.store().latest_checkpoint().await?,
            verifier_key: self.log_verifier_key().await?,
            last_verification: self.store().last_verification().await?,
        })
    }

    /// Leaf bytes of entries `[start, end)`.
    pub async fn ledger_entries(
        &self,
        _caller: &Caller,
        start: u64,
        end: u64,
    ) -> Result<Vec<(u64, Vec<u8>)>, ServiceError> {
        let head = self.store().ledger_head().await?;
        if start >= end || end - start > ENTRIES_PER_REQUEST_MAX {
            return Err(ServiceError::invalid(
                "end",
                format!("give 0 <= start < end with at most {ENTRIES_PER_REQUEST_MAX} entries"),
            ));
        }
        if end > head.size {
            return Err(ServiceError::invalid("end", format!("the log has {} entries", head.size)));
        }
        let events = self.store().events_after(start, (end - start) as u32).await?;
        Ok(events.iter().map(|event| (event.sequence - 1, event.leaf_bytes())).collect())
    }

    async fn root_at(&self, size: u64) -> Result<Hash, ServiceError> {
        let head = self.store().ledger_head().await?;
        if size == head.size {
            return Ok(head.root);
        }
        // Every perfect subtree of an earlier size's decomposition is stored.
        let stored = self.store().subtree_hashes(&root_subtrees(size)).await?;
        root_from_subtrees(size, &stored).map_err(|error| {
            ServiceError::Internal(format!("the stored tree cannot give the root of size {size}: {error}"))
        })
    }

    fn check_size(size: u64, head_size: u64, field: &str) -> Result<(), ServiceError> {
        if size > head_size {
            return Err(ServiceError::invalid(field, format!("the log has only {head_size} entries")));
        }
        Ok(())
    }

    pub async fn inclusion_proof(
        &self,
        _caller: &Caller,
        index: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, ServiceError> {
        let head = self.store().ledger_head().await?;
        Self::check_size(tree_size, head.size, "tree_size")?;
        if index >= tree_size {
            return Err(ServiceError::invalid("index", format!("must be below tree_size {tree_size}")));
        }
        let needed = inclusion_proof_subtrees(index, tree_size)
            .map_err(|error| ServiceError::invalid("index", error.to_string()))?;
        let stored: HashMap<_, _> = self.store().subtree_hashes(&needed).await?;
        let hashes =
            inclusion_proof(index, tree_size, &stored).map_err(|error| ServiceError::Internal(error.to_string()))?;
        let leaf = self.store().leaf_node_hashes(index, index + 1).await?;
        let leaf_hash =
            leaf.first().map(|(_, hash)| *hash).ok_or_else(|| ServiceError::NotFound(format!("leaf {index}")))?;
        Ok(InclusionProof { index, tree_size, leaf_hash, root: self.root_at(tree_size).await?, hashes })
    }

    pub async fn consistency_proof(
        &self,
        _caller: &Caller,
        from_size: u64,
        to_size: u64,
    ) -> Result<ConsistencyProof, ServiceError> {
        let head = self.store().ledger_head().await?;
        Self::check_size(to_size, head.size, "to")?;
        if from_size > to_size {
            return Err(ServiceError::invalid("from", "must not be above `to`"));
        }
        let needed = consistency_proof_subtrees(from_size, to_size)
            .map_err(|error| ServiceError::invalid("from", error.to_string()))?;
        let stored: HashMap<_, _> = self.store().subtree_hashes(&needed).await?;
        let hashes = consistency_proof(from_size, to_size, &stored)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        Ok(ConsistencyProof {
            from_size,
            to_size,
            from_root: self.root_at(from_size).await?,
            to_root: self.root_at(to_size).await?,
            hashes,
        })
    }

    /// Inclusion proofs of every event of one change, against the newest checkpoint (or the
    /// current tree when none is signed yet).
    pub async fn change_inclusion_proofs(
        &self,
        caller: &Caller,
        id: ChangeId,
    ) -> Result<(Option<StoredCheckpoint>, Vec<InclusionProof>), ServiceError> {
        let events = self.store().stream_events(&StreamId::Change(id).to_string()).await?;
        if events.is_empty() {
            return Err(ServiceError::NotFound(format!("change {id}")));
        }
        let checkpoint = self.store().latest_checkpoint().await?;
        let tree_size = match &checkpoint {
            Some(checkpoint) => checkpoint.size,
            None => self.store().ledger_head().await?.size,
        };
        let mut proofs = Vec::with_capacity(events.len());
        for event in events.iter().filter(|event| event.sequence <= tree_size) {
            proofs.push(self.inclusion_proof(caller, event.sequence - 1, tree_size).await?);
        }
        Ok((checkpoint, proofs))
    }

    /// Recomputes the whole tree from the stored events and checks it against the stored leaf
    /// hashes, the tree head and every signed checkpoint. Records the result as an event.
    /// `progress(done, total)` is called after every batch.
    pub async fn verify_ledger(
        &self,
        caller: &Caller,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerificationReport, ServiceError> {
        if !caller.may(Permission::OperateLedger) {
            let reason = format!("verifying the ledger needs {}", Permission::OperateLedger.roles_text());
            return Err(self.refuse(caller, "verify_ledger", "ledger", reason).await);
        }
        let report = self.verify_ledger_quietly(progress).await?;
        let actor = caller.name().to_string();
        let event = DomainEvent::LedgerVerified {
            size: report.size,
            ok: report.ok,
            first_bad_index: report.first_bad_index,
            checkpoints_checked: report.checkpoints_checked,
            message: report.message.clone(),
        };
        let time = self.now();
        if !report.ok {
            tracing::error!(first_bad_index = ?report.first_bad_index, message = %report.message, "LEDGER VERIFICATION FAILED");
        }
        self.store().write(async |tx| tx.append(&StreamId::Ledger, &actor, time, &event).await.map(|_| ())).await?;
        Ok(report)
    }

    /// The verification without recording it.
    pub async fn verify_ledger_quietly(
        &self,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<VerificationReport, ServiceError> {
        let store = self.store();
        // The tree head first: the verification covers exactly the `head.size` entries it
        // records. Writers that commit while it runs add entries (and checkpoints) beyond that
        // size; those are left for the next verification instead of being mistaken for tampering.
        let head = store.ledger_head().await?;
        let checkpoints: Vec<StoredCheckpoint> =
            store.checkpoints().await?.into_iter().filter(|checkpoint| checkpoint.size <= head.size).collect();
        let verifier = match self.log_verifier_key().await? {
            Some(key) => {
                Some(NoteVerifier::from_verifier_key(&key).map_err(|error| ServiceError::Internal(error.to_string()))?)
            }
            None => None,
        };
        let total = head.size;
        let mut frontier = Frontier::new();
        let mut checked = 0u64;
        let mut next_checkpoint = checkpoints.iter().peekable();
        let mut last_good_checkpoint_size = 0u64;
        let fail = |index: u64, checked: u64, message: String| VerificationReport {
            size: head.size,
            ok: false,
            first_bad_index: Some(index),
            checkpoints_checked: checked,
            message,
        };
        while frontier.size() < head.size {
            let batch_length = (head.size - frontier.size()).min(u64::from(VERIFY_BATCH_SIZE)) as u32;
            let events = store.events_after(frontier.size(), batch_length).await?;
            if events.is_empty() {
                break;
            }
            let batch_start = frontier.size();
            let stored_leaves = store.leaf_node_hashes(batch_start, batch_start + events.len() as u64 + 1).await?;
            let stored_leaves: HashMap<u64, Hash> = stored_leaves.into_iter().collect();
            for event in &events {
                let index = frontier.size();
                if event.sequence != index + 1 {
                    return Ok(fail(
                        index,
                        checked,
                        format!("entry {index} is missing (the next stored event has sequence {})", event.sequence),
                    ));
                }
                let hash = leaf_hash(&event.leaf_bytes());
                if stored_leaves.get(&index) != Some(&hash) {
                    return Ok(fail(
                        index,
                        checked,
                        format!("entry {index} does not hash to the leaf recorded when it was appended"),
                    ));
                }
                frontier.append(hash);
                while let Some(checkpoint) = next_checkpoint.next_if(|checkpoint| checkpoint.size == frontier.size()) {
                    let signed_root = match &verifier {
                        Some(verifier) => match open_checkpoint(&checkpoint.note, verifier) {
                            Ok(opened) if opened.size == checkpoint.size => opened.root,
                            Ok(_) => {
                                return Ok(fail(
                                    last_good_checkpoint_size,
                                    checked,
                                    format!("checkpoint at size {} signs another size", checkpoint.size),
                                ));
                            }
                            Err(error) => {
                                return Ok(fail(
                                    last_good_checkpoint_size,
                                    checked,
                                    format!("checkpoint at size {}: {error}", checkpoint.size),
                                ));
                            }
                        },
                        None => checkpoint.root,
                    };
                    if signed_root != frontier.root() || checkpoint.root != signed_root {
                        return Ok(fail(
                            last_good_checkpoint_size,
                            checked,
                            format!(
                                "the recomputed root at size {} differs from the signed checkpoint",
                                checkpoint.size
                            ),
                        ));
                    }
                    checked += 1;
                    last_good_checkpoint_size = checkpoint.size;
                }
            }
            progress(frontier.size(), total);
        }
        let size = frontier.size();
        if let Some(checkpoint) = next_checkpoint.next() {
            return Ok(fail(
                size,
                checked,
                format!("the log ends at {size} entries but a checkpoint was signed at size {}", checkpoint.size),
            ));
        }
        if size != head.size {
            return Ok(fail(
                size.min(head.size),
                checked,
                format!("the log has {size} entries but the tree head records {}", head.size),
            ));
        }
        if frontier.root() != head.root {
            return Ok(fail(
                last_good_checkpoint_size,
                checked,
                "the recomputed root differs from the stored tree head".into(),
            ));
        }
        // Entries beyond the head read first are either writes committed since (every commit
        // moves the head with its events, so a head read now covers them) or rows that no tree
        // head covers: appended behind the store's back.
        let events_now = store.event_count().await?;
        let head_now = store.ledger_head().await?;
        if events_now > head_now.size {
            return Ok(fail(
                head_now.size,
                checked,
                format!("the log has {events_now} entries but the tree head records {}", head_now.size),
            ));
        }
        Ok(VerificationReport {
            size,
            ok: true,
            first_bad_index: None,
            checkpoints_checked: checked,
            message: format!("{size} entries and {checked} signed checkpoints verified"),
        })
    }
}
