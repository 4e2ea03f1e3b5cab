//! The store's side of the audit ledger: signed checkpoints, leaf entries and stored node hashes.
//! The tree itself is updated by `WriteTx::append`; the proofs and verification live in the
//! service, over these reads.

use changegate_core::Timestamp;
use changegate_core::event::EventEnvelope;
use changegate_ledger::{Checkpoint, Hash, NoteSigner};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError, WriteTx};

/// A signed checkpoint as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    /// The C2SP signed note.
    pub note: String,
    pub key_id: String,
    pub signed_at: Timestamp,
}

fn checkpoint_from_row(row: &AnyRow) -> Result<StoredCheckpoint, StoreError> {
    let root: Vec<u8> = row.try_get("root")?;
    Ok(StoredCheckpoint {
        size: row.try_get::<i64, _>("size")? as u64,
        root: root.try_into().map_err(|_| StoreError::Corrupt("checkpoint root is not 32 bytes".into()))?,
        note: row.try_get("note")?,
        key_id: row.try_get("key_id")?,
        signed_at: Timestamp::from_unix_ms(row.try_get("signed_at")?),
    })
}

impl Store {
    /// Signs a checkpoint of the current tree, unless the newest checkpoint already covers it.
    /// Runs under the ledger head lock, so two instances never sign two roots for one size and
    /// never sign a size below the last one.
    pub async fn sign_checkpoint(
        &self,
        signer: &NoteSigner,
        time: Timestamp,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.write(async |tx: &mut WriteTx| tx.sign_checkpoint(signer, time).await).await
    }

    pub async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row = sqlx::query(
            "SELECT size, root, note, key_id, signed_at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    /// Every stored checkpoint, smallest size first.
    pub async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows = sqlx::query("SELECT size, root, note, key_id, signed_at FROM ledger_checkpoints ORDER BY size")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(checkpoint_from_row).collect()
    }

    /// The first checkpoint signed on each UTC day of `[from, to)`, oldest first. The maturity
    /// assessment asks whether checkpoints are signed at least daily; the server signs one a
    /// minute while events arrive, so reading them all would be hundreds of thousands of rows.
    pub async fn checkpoint_days(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Timestamp>, StoreError> {
        use changegate_core::civil::DAY_MS;
        let sql = format!(
            "SELECT MIN(signed_at) FROM ledger_checkpoints WHERE signed_at >= $1 AND signed_at < $2 \
             GROUP BY signed_at / {DAY_MS} ORDER BY 1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from.unix_ms())
            .bind(to.unix_ms())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| Ok(Timestamp::from_unix_ms(row.try_get::<i64, _>(0)?))).collect()
    }

    /// The verifier key recorded for this log, once a checkpoint was signed.
    pub async fn signer_verifier_key(&self) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT verifier_key FROM ledger_signer WHERE id = 1").fetch_optional(self.pool()).await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    /// The stored leaf hashes (level-0 nodes) of leaves `[start, end)`, in order.
    pub async fn leaf_node_hashes(&self, start: u64, end: u64) -> Result<Vec<(u64, Hash)>, StoreError> {
        let rows = sqlx::query(
            "SELECT node_index, hash FROM ledger_nodes WHERE level = 0 AND node_index >= $1 AND node_index < $2 ORDER BY node_index",
        )
        .bind(start as i64)
        .bind(end as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let index: i64 = row.try_get(0)?;
                let bytes: Vec<u8> = row.try_get(1)?;
                let hash: Hash =
                    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("leaf node {index} is not 32 bytes")))?;
                Ok((index as u64, hash))
            })
            .collect()
    }

    /// The newest `ledger_verified` event, if a verification ever ran.
    pub async fn last_verification(&self) -> Result<Option<EventEnvelope>, StoreError> {
        let sequence: Option<i64> =
            sqlx::query("SELECT MAX(sequence) FROM events WHERE event_type = 'ledger_verified'")
                .fetch_one(self.pool())
                .await?
                .try_get(0)?;
        match sequence {
            Some(sequence) => Ok(self.events_after(sequence as u64 - 1, 1).await?.into_iter().next()),
            None => Ok(None),
        }
    }
}

impl WriteTx {
    pub async fn sign_checkpoint(
        &mut self,
        signer: &NoteSigner,
        time: Timestamp,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        let verifier_key = signer.verifier_key();
        let recorded: Option<String> = sqlx::query("SELECT verifier_key FROM ledger_signer WHERE id = 1")
            .fetch_optional(self.connection())
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        match recorded {
            Some(recorded) if recorded != verifier_key => {
                return Err(StoreError::Conflict(format!(
                    "this log's checkpoints are signed by {recorded}, but this instance holds {verifier_key}; give every instance the same key"
                )));
            }
            Some(_) => {}
            None => {
                sqlx::query("INSERT INTO ledger_signer (id, verifier_key) VALUES (1, $1)")
                    .bind(&verifier_key)
                    .execute(self.connection())
                    .await?;
            }
        }
        let size = self.ledger_size();
        let latest: Option<i64> =
            sqlx::query("SELECT MAX(size) FROM ledger_checkpoints").fetch_one(self.connection()).await?.try_get(0)?;
        if size == 0 || latest.is_some_and(|latest| latest as u64 >= size) {
            return Ok(None);
        }
        let checkpoint = Checkpoint { origin: signer.name().to_owned(), size, root: self.ledger_root() };
        let note = signer.sign(&checkpoint.to_body())?;
        let key_id: String = signer.key_id().iter().map(|byte| format!("{byte:02x}")).collect();
        sqlx::query("INSERT INTO ledger_checkpoints (size, root, note, key_id, signed_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(size as i64)
            .bind(checkpoint.root.to_vec())
            .bind(&note)
            .bind(&key_id)
            .bind(time.unix_ms())
            .execute(self.connection())
            .await?;
        Ok(Some(StoredCheckpoint { size, root: checkpoint.root, note, key_id, signed_at: time }))
    }
}
