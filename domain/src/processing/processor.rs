//! The processing loop: claim a batch of one user's activities, apply them together in
//! one transaction (effects, completion and the touched contacts' stats commit
//! together), fall back to one at a time when the batch fails so only the activities
//! that fail alone fail (with backoff), and report which contacts each batch touched.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use api::ActivityState;
use chrono::Utc;
use sqlx::{Postgres, Transaction};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{ActivityQueue, ClaimedActivity, ProcessingError, StateChanges};
use crate::jobs::{Failed, LeaseOptions, Leases, WorkerId};
use crate::{Db, UserId};

/// How long a batch whose user has an earlier batch still to apply waits before it looks
/// again (rare: the earlier batch's worker asks for the user's apply lock within
/// microseconds of its claim, long before a later claim is written).
const EARLIER_BATCH_WAIT: Duration = Duration::from_millis(20);

/// Postgres may abort a batch to break a deadlock or a serialization conflict with
/// another transaction (a user's edit, a merge). That is not the activities' fault: the
/// batch is processed again at once, up to this many times, before it counts as failed.
const CONFLICT_RETRIES: usize = 3;

#[derive(Debug, Clone, Copy)]
pub struct ProcessorOptions {
    /// Activities per claim, all of one user, applied in one transaction: enough to
    /// amortize the per-batch statements and commit, few enough that a dead worker
    /// strands little work until its lease expires (a batch takes about a second). Each
    /// batch recounts the stats of every contact it touched from all their mail, so a
    /// busy correspondent costs once per batch, and an import's recounts grow with the
    /// mailbox: at 20,000 messages, 250 per batch processed 1,050 a second, 1,000
    /// processed 1,600, 2,000 processed 1,800 to 1,860, 4,000 processed 1,860 to 1,890
    /// (bench/RESULTS.md).
    pub batch: i64,
    /// How long a claim lasts; renewed (every third of it) while a batch is worked
    /// through.
    pub lease: Duration,
    /// Longest idle sleep between looks at the table when no notification arrives.
    pub idle_wait: Duration,
    /// Zero except in tests that kill a worker mid-processing: each batch's
    /// transaction is held open this long before it commits.
    pub pause_before_commit: Duration,
}

impl Default for ProcessorOptions {
    fn default() -> Self {
        Self {
            batch: 2000,
            lease: Duration::from_secs(120),
            idle_wait: Duration::from_secs(30),
            pause_before_commit: Duration::ZERO,
        }
    }
}

/// How a batch's transaction ended.
enum Completion {
    /// Committed; the contacts it touched.
    Done(BTreeSet<Uuid>),
    /// Rolled back: these activities' leases passed to another worker.
    Lost(Vec<Uuid>),
}

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub claimed: usize,
    pub completed: usize,
    pub failed: usize,
    /// Given up after their last attempt.
    pub dead: usize,
    /// Lost to another worker after a lease expiry; their effects were rolled back.
    pub lost: usize,
    /// Per user, the contacts created, linked or changed: the stats refresh hook.
    pub touched: BTreeMap<UserId, BTreeSet<Uuid>>,
}

impl BatchOutcome {
    fn absorb(&mut self, other: BatchOutcome) {
        self.claimed += other.claimed;
        self.completed += other.completed;
        self.failed += other.failed;
        self.dead += other.dead;
        self.lost += other.lost;
        for (user, contacts) in other.touched {
            self.touched.entry(user).or_default().extend(contacts);
        }
    }
}

/// Called after every batch that touched contacts, e.g. to refresh their stats.
pub trait ContactsTouched: Send + Sync + 'static {
    fn contacts_touched(
        &self,
        user: UserId,
        contacts: &BTreeSet<Uuid>,
    ) -> impl Future<Output = ()> + Send;
}

pub struct Processor {
    db: Db,
    leases: Leases<ActivityQueue>,
    pause_before_commit: Duration,
}

impl Processor {
    pub fn new(db: &Db, id: WorkerId, options: ProcessorOptions) -> Self {
        Self {
            db: db.clone(),
            leases: Leases::new(
                db.activity_queue(),
                id,
                LeaseOptions {
                    batch: options.batch,
                    lease: options.lease,
                    heartbeat: options.lease / 3,
                    idle_wait: options.idle_wait,
                },
            ),
            pause_before_commit: options.pause_before_commit,
        }
    }

    pub fn with_queue(self, queue: ActivityQueue) -> Self {
        Self {
            leases: Leases::new(queue, self.leases.worker().clone(), *self.leases.options()),
            ..self
        }
    }

    pub fn id(&self) -> &WorkerId {
        self.leases.worker()
    }

    /// Claims and processes one batch; `claimed == 0` when nothing was due. The leases
    /// are renewed while the batch is worked through.
    pub async fn process_batch(&self) -> Result<BatchOutcome, ProcessingError> {
        let claimed = self.leases.claim().await?;
        let ids: Vec<Uuid> = claimed.iter().map(|a| a.id).collect();
        self.leases.hold(&ids, self.work_through(&claimed)).await
    }

    async fn work_through(
        &self,
        claimed: &[ClaimedActivity],
    ) -> Result<BatchOutcome, ProcessingError> {
        let mut outcome = BatchOutcome {
            claimed: claimed.len(),
            ..BatchOutcome::default()
        };
        let mut by_user: BTreeMap<UserId, Vec<ClaimedActivity>> = BTreeMap::new();
        for activity in claimed {
            by_user
                .entry(activity.user)
                .or_default()
                .push(activity.clone());
        }
        let mut failed = StateChanges::default();
        let mut dead = StateChanges::default();
        for (user, activities) in by_user {
            let Some((rest, error)) = self.work_together(user, activities, &mut outcome).await
            else {
                continue;
            };
            if rest.len() == 1 {
                self.fail(&rest[0], &error, &mut outcome, &mut failed, &mut dead)
                    .await?;
                continue;
            }
            // One bad activity must not hold the others back: each alone, so only
            // the ones that fail by themselves fail.
            tracing::info!(%user, activities = rest.len(), %error, "batch failed; processing its activities one at a time");
            for activity in rest {
                if let Some((one, error)) =
                    self.work_together(user, vec![activity], &mut outcome).await
                {
                    self.fail(&one[0], &error, &mut outcome, &mut failed, &mut dead)
                        .await?;
                }
            }
        }
        self.publish_states(&[(failed, ActivityState::Failed), (dead, ActivityState::Dead)])
            .await?;
        Ok(outcome)
    }

    /// Completes `pending` (one user's) together, again at once after a transient
    /// conflict and without any whose lease was lost. `Some` with the activities and
    /// the error when they failed.
    async fn work_together(
        &self,
        user: UserId,
        mut pending: Vec<ClaimedActivity>,
        outcome: &mut BatchOutcome,
    ) -> Option<(Vec<ClaimedActivity>, ProcessingError)> {
        loop {
            if pending.is_empty() {
                return None;
            }
            let mut result = self.complete(user, &pending).await;
            for _ in 0..CONFLICT_RETRIES {
                match &result {
                    Err(e) if e.is_transient_conflict() => {
                        tracing::info!(%user, error = %e, "processing conflicted with another transaction; again");
                        result = self.complete(user, &pending).await;
                    }
                    _ => break,
                }
            }
            match result {
                Ok(Completion::Done(touched)) => {
                    outcome.completed += pending.len();
                    if !touched.is_empty() {
                        outcome.touched.entry(user).or_default().extend(touched);
                    }
                    return None;
                }
                // Their effects were rolled back with the rest; the rest go again.
                Ok(Completion::Lost(lost)) => {
                    for id in &lost {
                        self.leases.lost(*id);
                    }
                    outcome.lost += lost.len();
                    pending.retain(|a| !lost.contains(&a.id));
                }
                Err(error) => return Some((pending, error)),
            }
        }
    }

    async fn fail(
        &self,
        activity: &ClaimedActivity,
        error: &ProcessingError,
        outcome: &mut BatchOutcome,
        failed: &mut StateChanges,
        dead: &mut StateChanges,
    ) -> Result<(), ProcessingError> {
        match self.leases.fail(activity, &error.to_string(), false).await {
            Ok(Failed::Retrying) => {
                outcome.failed += 1;
                failed.add(activity.user, activity.id);
            }
            Ok(Failed::Dead) => {
                outcome.dead += 1;
                dead.add(activity.user, activity.id);
            }
            Err(ProcessingError::LeaseLost(id)) => {
                self.leases.lost(id);
                outcome.lost += 1;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// One transaction for the batch: its effects, its completion, the stats of the
    /// contacts it touched (refreshed once each), and its `activity.state` event.
    async fn complete(
        &self,
        user: UserId,
        batch: &[ClaimedActivity],
    ) -> Result<Completion, ProcessingError> {
        let ids: Vec<Uuid> = batch.iter().map(|a| a.id).collect();
        let mut tx = self.begin_applying(user, batch).await?;
        let applied = self
            .db
            .for_user(user)
            .processing()
            .apply_batch(&mut tx, &ids)
            .await?;
        let done =
            ActivityQueue::mark_batch_completed(&mut tx, self.id(), &applied.processed).await?;
        if done.len() < ids.len() {
            let done: BTreeSet<Uuid> = done.into_iter().collect();
            return Ok(Completion::Lost(
                ids.into_iter().filter(|id| !done.contains(id)).collect(),
            ));
        }
        ActivityQueue::requeue(&mut tx, &applied.requeue).await?;
        let touched: Vec<Uuid> = applied.touched.iter().copied().collect();
        crate::contacts::stats::refresh_or_queue(&mut tx, user, &touched, Utc::now())
            .await
            .map_err(|e| ProcessingError::Invalid(e.to_string()))?;
        let mut completed = StateChanges::default();
        for id in &ids {
            completed.add(user, *id);
        }
        completed.add_contacts(user, touched);
        completed.publish(&mut tx, ActivityState::Completed).await?;
        if !self.pause_before_commit.is_zero() {
            tokio::time::sleep(self.pause_before_commit).await;
        }
        tx.commit().await?;
        Ok(Completion::Done(applied.touched))
    }

    /// A transaction holding `user`'s apply lock, begun once no batch of theirs claimed
    /// earlier by another worker is still to be applied: one user's batches are applied
    /// in the order they were claimed, as one worker would apply them.
    async fn begin_applying(
        &self,
        user: UserId,
        batch: &[ClaimedActivity],
    ) -> Result<Transaction<'static, Postgres>, ProcessingError> {
        let first = batch.iter().map(|a| (a.due, a.id)).min();
        loop {
            let mut tx = self.db.pool().begin().await?;
            super::queue::lock_user_for_applying(&mut tx, user).await?;
            let Some(first) = first else { return Ok(tx) };
            if !super::queue::earlier_claims_pending(&mut tx, user, self.id(), first).await? {
                return Ok(tx);
            }
            // The earlier batch's worker has yet to ask for the lock (or died, and its
            // lease runs out): it goes first.
            tx.rollback().await?;
            tokio::time::sleep(EARLIER_BATCH_WAIT).await;
        }
    }

    /// Announces failures once the batch is done: one event per user and state (not
    /// per activity) keeps a sync of thousands of messages from flooding the live feed.
    async fn publish_states(
        &self,
        outcomes: &[(StateChanges, ActivityState)],
    ) -> Result<(), ProcessingError> {
        if outcomes.iter().all(|(changes, _)| changes.is_empty()) {
            return Ok(());
        }
        let mut tx = self.db.pool().begin().await?;
        for (changes, state) in outcomes {
            changes.publish(&mut tx, *state).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the stats still queued as stale after a failed refresh (see
    /// [`crate::contacts::stats::refresh_or_queue`]), for users no other worker holds.
    /// Processing retries them with the user's next batch; this is for users with no
    /// next batch.
    pub async fn refresh_stale_stats(&self) -> Result<(), ProcessingError> {
        let users = sqlx::query_scalar!("select distinct user_id from contact_stats_stale")
            .fetch_all(self.db.pool())
            .await?;
        for user in users.into_iter().map(UserId) {
            let mut tx = self.db.pool().begin().await?;
            if super::queue::hold_user(&mut tx, self.id(), user, 0).await? {
                super::queue::lock_user_for_applying(&mut tx, user).await?;
                crate::contacts::stats::refresh_or_queue(&mut tx, user, &[], Utc::now())
                    .await
                    .map_err(|e| ProcessingError::Invalid(e.to_string()))?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Processes batches until none is due, then refreshes stale stats; for tools and
    /// tests that want everything processed now (including activities re-queued along
    /// the way).
    pub async fn drain(&self) -> Result<BatchOutcome, ProcessingError> {
        let mut total = BatchOutcome::default();
        loop {
            let batch = self.process_batch().await?;
            if batch.claimed == 0 {
                self.refresh_stale_stats().await?;
                return Ok(total);
            }
            total.absorb(batch);
        }
    }

    /// Runs until `stop` is cancelled (see [`Leases::run`]): processes while work is
    /// due, otherwise sleeps until a `rapport_activities` notification, the next retry,
    /// or `idle_wait`. After every batch the hook hears which contacts it touched.
    pub async fn run(
        self,
        stop: CancellationToken,
        hook: impl ContactsTouched,
    ) -> Result<(), ProcessingError> {
        let (this, hook) = (&self, &hook);
        self.leases
            .run(stop, move || async move {
                let batch = this.process_batch().await?;
                for (user, contacts) in &batch.touched {
                    hook.contacts_touched(*user, contacts).await;
                }
                if batch.claimed == 0 {
                    this.refresh_stale_stats().await?;
                }
                Ok(batch.claimed)
            })
            .await
    }
}
