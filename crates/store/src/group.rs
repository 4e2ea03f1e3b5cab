//! Group commit: writers that arrive while another is writing share its transaction, and one
//! commit (one fsync, one ledger head update) makes all of them durable.
//!
//! Why: every write holds the ledger head lock and ends in a durable commit, so writers queue
//! behind each other and each pays a full commit. Here the writers still run one at a time (the
//! group mutex), but each runs inside a savepoint of one open transaction: a writer whose body
//! fails rolls back only its savepoint (and the in-memory state it touched). The writer that finds
//! nobody waiting behind it — or the one that fills the group — commits, and every member learns
//! the outcome. A writer is answered only after the commit that contains its events, so
//! "acknowledged means durable" still holds.
//!
//! Cancellation: a writer dropped in the middle of its body (a client that hung up) abandons the
//! whole open group: the transaction rolls back and the members that already ran are told their
//! write failed. The commit itself runs in a spawned task, so it is never cut in half.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::write::WriteTx;
use crate::{Store, StoreError};

/// Most writers that share one transaction.
pub const GROUP_SIZE_MAX: usize = 64;
/// How long a member waits for the group's commit before checking whether it must commit it.
const GROUP_IDLE_CHECK_MS: u64 = 20;

/// The shared state: the open transaction (if a group is open) and who waits on it.
#[derive(Default)]
pub(crate) struct GroupSlot {
    tx: Option<WriteTx>,
    generation: u64,
    members: usize,
    followers: Vec<oneshot::Sender<Result<(), String>>>,
}

/// The group machinery of one store.
#[derive(Clone, Default)]
pub(crate) struct Group {
    slot: Arc<Mutex<GroupSlot>>,
    waiting: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Group").field("waiting", &self.waiting.load(Ordering::Relaxed)).finish()
    }
}

/// Counts a writer as waiting for the group mutex until dropped (also when cancelled).
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Waiting(counter.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A writer's hold on the open group. Dropped unsettled (the writer was cancelled mid-body), it
/// abandons the group.
struct Membership {
    guard: Option<OwnedMutexGuard<GroupSlot>>,
}

impl Membership {
    fn slot(&mut self) -> &mut GroupSlot {
        self.guard.as_mut().expect("a membership holds the slot until settled")
    }

    fn settle(mut self) -> OwnedMutexGuard<GroupSlot> {
        self.guard.take().expect("settled once")
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            abandon(&mut guard, "a writer of this group was cancelled before it finished");
        }
    }
}

/// Rolls back the open transaction and tells every waiting member.
fn abandon(slot: &mut GroupSlot, reason: &str) {
    tracing::warn!(reason, members = slot.members, "abandoning a group of writes");
    slot.tx = None;
    slot.generation += 1;
    slot.members = 0;
    for follower in slot.followers.drain(..) {
        let _ = follower.send(Err(reason.to_owned()));
    }
}

/// Commits the open group in a task of its own (so it cannot be cancelled half-way), tells every
/// follower, and returns the outcome. The slot stays locked until the commit is done.
async fn commit_group(mut guard: OwnedMutexGuard<GroupSlot>) -> Result<(), StoreError> {
    let Some(tx) = guard.tx.take() else { return Ok(()) };
    guard.generation += 1;
    guard.members = 0;
    let followers = std::mem::take(&mut guard.followers);
    let task = tokio::spawn(async move {
        let outcome = tx.commit().await;
        for follower in followers {
            let _ = follower.send(outcome.as_ref().map(|_| ()).map_err(ToString::to_string));
        }
        drop(guard);
        outcome
    });
    task.await.unwrap_or_else(|error| Err(StoreError::GroupCommit(format!("the commit task failed: {error}"))))
}

impl Store {
    /// Runs `body` in a write transaction shared with the writers queued behind it. Its changes
    /// are durable when this returns `Ok`; on `Err` none of them were kept.
    pub async fn write<T, E>(&self, body: impl AsyncFnOnce(&mut WriteTx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let group = &self.group;
        let waiting = Waiting::new(&group.waiting);
        let guard = group.slot.clone().lock_owned().await;
        drop(waiting);
        let mut membership = Membership { guard: Some(guard) };
        if membership.slot().tx.is_none() {
            let tx = self.begin_write().await.map_err(E::from)?;
            membership.slot().tx = Some(tx);
        }
        membership.slot().members += 1;
        let tx = membership.slot().tx.as_mut().expect("the group is open");
        let snapshot = match tx.begin_member().await {
            Ok(snapshot) => snapshot,
            Err(error) => {
                abandon(&mut membership.settle(), "a savepoint could not be taken");
                return Err(E::from(error));
            }
        };
        let result = body(tx).await;
        if let Err(error) = tx.end_member(result.is_ok(), snapshot).await {
            abandon(&mut membership.settle(), "a savepoint could not be released or rolled back");
            return Err(E::from(error));
        }
        let mut guard = membership.settle();
        let last = group.waiting.load(Ordering::SeqCst) == 0 || guard.members >= GROUP_SIZE_MAX;
        if last {
            let committed = commit_group(guard).await;
            return match (result, committed) {
                (Ok(value), Ok(())) => Ok(value),
                (Ok(_), Err(error)) => Err(E::from(error)),
                (Err(error), _) => Err(error),
            };
        }
        let value = match result {
            Ok(value) => value,
            // Nothing of this writer is kept; the group goes on without it.
            Err(error) => return Err(error),
        };
        let (sender, mut receiver) = oneshot::channel();
        guard.followers.push(sender);
        let generation = guard.generation;
        drop(guard);
        let outcome = loop {
            match tokio::time::timeout(Duration::from_millis(GROUP_IDLE_CHECK_MS), &mut receiver).await {
                Ok(Ok(outcome)) => break outcome,
                Ok(Err(_)) => break Err("the group's transaction was abandoned".to_owned()),
                Err(_elapsed) => {
                    // A writer that was counted as waiting may have been cancelled before it
                    // joined; then nobody is left to commit, so commit the group ourselves.
                    let guard = group.slot.clone().lock_owned().await;
                    if guard.generation == generation && guard.tx.is_some() && group.waiting.load(Ordering::SeqCst) == 0
                    {
                        // Our own sender is among the followers: the outcome arrives below.
                        let _ = commit_group(guard).await;
                    }
                }
            }
        };
        match outcome {
            Ok(()) => Ok(value),
            Err(message) => Err(E::from(StoreError::GroupCommit(message))),
        }
    }
}
