//! The processing loop: claim a small batch, process each activity in its own
//! transaction (effects and completion commit together), fail with backoff what
//! errs, and report which contacts each batch touched so their stats can be refreshed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use api::ActivityState;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::apply::AccountContext;
use super::plan::plan_activity;
use super::{ActivityQueue, ClaimedActivity, ProcessingError, StateChanges};
use crate::jobs::{Failed, LeaseOptions, Leases, WorkerId};
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
    /// How long a claim lasts; renewed (every third of it) while a batch is worked
    /// through.
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
        let mut contexts: HashMap<Uuid, AccountContext> = HashMap::new();
        let mut completed = StateChanges::default();
        let mut failed = StateChanges::default();
        let mut dead = StateChanges::default();
        for activity in claimed {
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
                // Its effects were rolled back with the completion.
                Err(ProcessingError::LeaseLost(id)) => {
                    self.leases.lost(id);
                    outcome.lost += 1;
                }
                Err(error) => match self.leases.fail(activity, &error.to_string(), false).await {
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
                },
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
            changes.publish(&mut tx, *state).await?;
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
                let context = scope
                    .processing()
                    .processing_context(activity.account_id)
                    .await?;
                contexts.insert(activity.account_id, context.clone());
                context
            }
        };
        let facts = scope.processing().activity_facts(activity.id).await?;
        let plan = plan_activity(&facts, &context.owner);
        let mut tx = self.db.pool().begin().await?;
        let applied = scope
            .processing()
            .apply_plan(&mut tx, &plan, context.policy)
            .await?;
        ActivityQueue::mark_completed(&mut tx, activity.id, self.id(), &applied.processed).await?;
        if !self.pause_before_commit.is_zero() {
            tokio::time::sleep(self.pause_before_commit).await;
        }
        tx.commit().await?;
        Ok(applied.touched)
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
                Ok(batch.claimed)
            })
            .await
    }
}
