//! The processing loop: claim a small batch, process each activity in its own
//! transaction (effects and completion commit together), fail with backoff what
//! errs, and report which contacts each batch touched so their stats can be refreshed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use api::ActivityState;
use chrono::Utc;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::apply::AccountContext;
use super::plan::plan_activity;
use super::queue::FailedState;
use super::{ActivityQueue, CHANNEL, ClaimedActivity, ProcessingError, StateChanges};
use crate::jobs::WorkerId;
use crate::{Db, UserId};

/// Two processors handling mail from the same people (a new company, a shared contact)
/// can deadlock, and Postgres aborts one of them. That is not the activity's fault: it
/// is processed again at once, up to this many times, before it counts as failed.
const CONFLICT_RETRIES: usize = 3;

#[derive(Debug, Clone, Copy)]
pub struct ProcessorOptions {
    /// Activities per claim: enough to amortize the claim, few enough that a dead
    /// worker strands little work until its lease expires.
    pub batch: i64,
    /// How long a claim lasts; renewed while a batch is worked through.
    pub lease: Duration,
    /// Longest idle sleep between looks at the table when no notification arrives.
    pub idle_wait: Duration,
    /// Zero except in tests that kill a worker mid-processing: each activity's
    /// transaction is held open this long before it commits.
    pub pause_before_commit: Duration,
}

impl Default for ProcessorOptions {
    fn default() -> Self {
        Self {
            batch: 25,
            lease: Duration::from_secs(120),
            idle_wait: Duration::from_secs(30),
            pause_before_commit: Duration::ZERO,
        }
    }
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
    queue: ActivityQueue,
    id: WorkerId,
    options: ProcessorOptions,
}

impl Processor {
    pub fn new(db: &Db, id: WorkerId, options: ProcessorOptions) -> Self {
        Self {
            db: db.clone(),
            queue: db.activity_queue(),
            id,
            options,
        }
    }

    pub fn with_queue(mut self, queue: ActivityQueue) -> Self {
        self.queue = queue;
        self
    }

    pub fn id(&self) -> &WorkerId {
        &self.id
    }

    /// Claims and processes one batch; `claimed == 0` when nothing was due.
    pub async fn process_batch(&self) -> Result<BatchOutcome, ProcessingError> {
        let claimed = self
            .queue
            .claim_next(&self.id, self.options.batch, self.options.lease)
            .await?;
        let mut outcome = BatchOutcome {
            claimed: claimed.len(),
            ..BatchOutcome::default()
        };
        let mut contexts: HashMap<Uuid, AccountContext> = HashMap::new();
        let mut completed = StateChanges::default();
        let mut failed = StateChanges::default();
        let mut dead = StateChanges::default();
        let mut renewed = Instant::now();
        for (n, activity) in claimed.iter().enumerate() {
            if renewed.elapsed() > self.options.lease / 3 {
                let rest: Vec<Uuid> = claimed[n..].iter().map(|a| a.id).collect();
                self.queue
                    .renew(&self.id, &rest, self.options.lease)
                    .await?;
                renewed = Instant::now();
            }
            let mut result = self.process_one(activity, &mut contexts).await;
            for _ in 0..CONFLICT_RETRIES {
                match &result {
                    Err(e) if e.is_transient_conflict() => {
                        tracing::info!(activity = %activity.id, error = %e, "processing conflicted with another transaction; again");
                        result = self.process_one(activity, &mut contexts).await;
                    }
                    _ => break,
                }
            }
            match result {
                Ok(touched) => {
                    outcome.completed += 1;
                    completed.add(activity.user, activity.id);
                    if !touched.is_empty() {
                        outcome
                            .touched
                            .entry(activity.user)
                            .or_default()
                            .extend(touched);
                    }
                }
                Err(ProcessingError::LeaseLost(id)) => {
                    tracing::warn!(activity = %id, worker = %self.id, "lease lost; effects rolled back");
                    outcome.lost += 1;
                }
                Err(error) => {
                    tracing::info!(activity = %activity.id, %error, "processing an activity failed");
                    match self
                        .queue
                        .mark_failed(activity, &self.id, &error.to_string())
                        .await
                    {
                        Ok(FailedState::Failed) => {
                            outcome.failed += 1;
                            failed.add(activity.user, activity.id);
                        }
                        Ok(FailedState::Dead) => {
                            outcome.dead += 1;
                            dead.add(activity.user, activity.id);
                        }
                        Err(ProcessingError::LeaseLost(_)) => outcome.lost += 1,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        for (user, contacts) in &outcome.touched {
            completed.add_contacts(*user, contacts.iter().copied());
        }
        self.publish_states(&[
            (completed, ActivityState::Completed),
            (failed, ActivityState::Failed),
            (dead, ActivityState::Dead),
        ])
        .await?;
        Ok(outcome)
    }

    /// Announces a batch's outcomes once it is done: each activity committed in its own
    /// transaction, and one event per user and state (not per activity) keeps a sync of
    /// thousands of messages from flooding the live feed.
    async fn publish_states(
        &self,
        outcomes: &[(StateChanges, ActivityState)],
    ) -> Result<(), ProcessingError> {
        if outcomes.iter().all(|(changes, _)| changes.is_empty()) {
            return Ok(());
        }
        let mut tx = self.db.pool().begin().await?;
        for (changes, state) in outcomes {
            changes.publish(&mut tx, state.as_str()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Processes batches until none is due; for tools and tests that want everything
    /// processed now (including activities re-queued along the way).
    pub async fn drain(&self) -> Result<BatchOutcome, ProcessingError> {
        let mut total = BatchOutcome::default();
        loop {
            let batch = self.process_batch().await?;
            if batch.claimed == 0 {
                return Ok(total);
            }
            total.absorb(batch);
        }
    }

    async fn process_one(
        &self,
        activity: &ClaimedActivity,
        contexts: &mut HashMap<Uuid, AccountContext>,
    ) -> Result<BTreeSet<Uuid>, ProcessingError> {
        let scope = self.db.for_user(activity.user);
        let context = match contexts.get(&activity.account_id) {
            Some(context) => context.clone(),
            None => {
                let context = scope.processing_context(activity.account_id).await?;
                contexts.insert(activity.account_id, context.clone());
                context
            }
        };
        let facts = scope.activity_facts(activity.id).await?;
        let plan = plan_activity(&facts, &context.owner);
        let mut tx = self.db.pool().begin().await?;
        let applied = scope.apply_plan(&mut tx, &plan, context.policy).await?;
        ActivityQueue::mark_completed(&mut tx, activity.id, &self.id, &applied.processed).await?;
        if !self.options.pause_before_commit.is_zero() {
            tokio::time::sleep(self.options.pause_before_commit).await;
        }
        tx.commit().await?;
        Ok(applied.touched)
    }

    /// Runs until `stop` is cancelled: processes while work is due, otherwise sleeps
    /// until a `rapport_activities` notification, the next retry, or `idle_wait`.
    /// Expired leases of dead workers are released before every batch.
    pub async fn run(
        self,
        stop: CancellationToken,
        hook: impl ContactsTouched,
    ) -> Result<(), ProcessingError> {
        let mut listener = PgListener::connect_with(self.db.pool()).await?;
        listener.listen(CHANNEL).await?;
        while !stop.is_cancelled() {
            // Also under constant load, so a dead worker's claims never wait for an idle
            // moment.
            if let Err(e) = self.queue.release_expired().await {
                tracing::warn!(worker = %self.id, error = %e, "releasing expired leases failed");
            }
            match self.process_batch().await {
                Ok(batch) => {
                    for (user, contacts) in &batch.touched {
                        hook.contacts_touched(*user, contacts).await;
                    }
                    if batch.claimed > 0 {
                        continue;
                    }
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "activity processing error")
                }
            }
            let wait = match self.queue.next_due().await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .clamp(Duration::from_millis(100), self.options.idle_wait),
                _ => self.options.idle_wait,
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                woke = tokio::time::timeout(wait, listener.recv()) => {
                    if let Ok(Err(e)) = woke {
                        tracing::warn!(worker = %self.id, error = %e, "activity listener failed");
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Ok(())
    }
}
