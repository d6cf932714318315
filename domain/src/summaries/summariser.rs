//! The summarising loop: claim a small batch, call the model for a few of them at a
//! time (outside any transaction), store each summary or record its failure, and
//! announce the new summaries to the users' open tabs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::prompt::{MAX_SUMMARY_TOKENS, SYSTEM_PROMPT, clean_summary, user_message};
use super::{ClaimedSummary, SummaryError, SummaryFailed, SummaryQueue};
use crate::ask::model::{self, ModelConfig, ModelError};
use crate::events::EVENTS_CHANNEL;
use crate::jobs::WorkerId;
use crate::{Db, UserId};

#[derive(Debug, Clone, Copy)]
pub struct SummariserOptions {
    /// Summaries per claim.
    pub batch: i64,
    /// Model calls in flight at once.
    pub concurrency: usize,
    /// Longest wait for one summary; a slower call counts as a failure.
    pub timeout: Duration,
    /// Longest idle sleep when no notification arrives.
    pub idle_wait: Duration,
}

impl SummariserOptions {
    /// How long a claim lasts: long enough for the whole batch to time out call by
    /// call, so a live worker never loses its lease (no renewal needed).
    fn lease(&self) -> Duration {
        let rounds = (self.batch.max(1) as u32).div_ceil(self.concurrency.max(1) as u32);
        self.timeout * (rounds + 1)
    }
}

impl Default for SummariserOptions {
    fn default() -> Self {
        Self {
            batch: 8,
            concurrency: 4,
            timeout: Duration::from_secs(45),
            idle_wait: Duration::from_secs(30),
        }
    }
}

/// What one batch (or a drain) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummariesOutcome {
    pub claimed: usize,
    pub summarised: usize,
    /// Failed and retried later.
    pub failed: usize,
    /// Given up.
    pub dead: usize,
    pub lost: usize,
}

impl SummariesOutcome {
    fn absorb(&mut self, other: SummariesOutcome) {
        self.claimed += other.claimed;
        self.summarised += other.summarised;
        self.failed += other.failed;
        self.dead += other.dead;
        self.lost += other.lost;
    }
}

pub struct Summariser {
    db: Db,
    queue: SummaryQueue,
    model: ModelConfig,
    id: WorkerId,
    options: SummariserOptions,
}

impl Summariser {
    pub fn new(db: &Db, model: ModelConfig, id: WorkerId, options: SummariserOptions) -> Self {
        Self {
            db: db.clone(),
            queue: db.summary_queue(),
            model,
            id,
            options,
        }
    }

    pub fn with_queue(mut self, queue: SummaryQueue) -> Self {
        self.queue = queue;
        self
    }

    /// Claims and summarises one batch; `claimed == 0` when nothing was due.
    pub async fn summarise_batch(&self) -> Result<SummariesOutcome, SummaryError> {
        let claimed = self
            .queue
            .claim_next(&self.id, self.options.batch, self.options.lease())
            .await?;
        let results: Vec<(ClaimedSummary, Result<(), SummaryError>)> =
            futures::stream::iter(claimed)
                .map(|claim| async move {
                    let result = self.summarise_one(&claim).await;
                    (claim, result)
                })
                .buffer_unordered(self.options.concurrency.max(1))
                .collect()
                .await;
        let mut outcome = SummariesOutcome {
            claimed: results.len(),
            ..SummariesOutcome::default()
        };
        let mut summarised: BTreeMap<UserId, BTreeSet<Uuid>> = BTreeMap::new();
        for (claim, result) in results {
            match result {
                Ok(()) => {
                    outcome.summarised += 1;
                    summarised
                        .entry(claim.user)
                        .or_default()
                        .insert(claim.activity_id);
                }
                Err(SummaryError::LeaseLost(_)) => outcome.lost += 1,
                Err(SummaryError::Database(e)) => return Err(SummaryError::Database(e)),
                Err(error) => {
                    tracing::info!(activity = %claim.activity_id, %error, "summarising an activity failed");
                    let permanent = matches!(error, SummaryError::NoText);
                    match self
                        .queue
                        .mark_failed(&claim, &self.id, &error.to_string(), permanent)
                        .await
                    {
                        Ok(SummaryFailed::Retrying) => outcome.failed += 1,
                        Ok(SummaryFailed::Dead) => outcome.dead += 1,
                        Err(SummaryError::LeaseLost(_)) => outcome.lost += 1,
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        self.queue.announce(&summarised).await?;
        Ok(outcome)
    }

    /// Summarises batches until none is due; for tools and tests.
    pub async fn drain(&self) -> Result<SummariesOutcome, SummaryError> {
        let mut total = SummariesOutcome::default();
        loop {
            let batch = self.summarise_batch().await?;
            if batch.claimed == 0 {
                return Ok(total);
            }
            total.absorb(batch);
        }
    }

    async fn summarise_one(&self, claim: &ClaimedSummary) -> Result<(), SummaryError> {
        let source = self
            .db
            .for_user(claim.user)
            .summary_source(claim.activity_id)
            .await?;
        let completion = tokio::time::timeout(
            self.options.timeout,
            model::complete(
                &self.model,
                SYSTEM_PROMPT,
                &user_message(&source),
                MAX_SUMMARY_TOKENS,
            ),
        )
        .await
        .map_err(|_| ModelError::Timeout(self.options.timeout))??;
        let summary = clean_summary(&completion.text).ok_or(SummaryError::EmptyReply)?;
        self.queue
            .mark_done(
                claim,
                &self.id,
                &summary,
                &self.model.model,
                completion.tokens,
            )
            .await
    }

    /// Runs until `stop` is cancelled: summarises while work is due, otherwise sleeps
    /// until a live-feed notification (processing announces completed activities there),
    /// the next retry, or `idle_wait`. Expired leases are released before every batch.
    pub async fn run(self, stop: CancellationToken) -> Result<(), SummaryError> {
        let mut listener = PgListener::connect_with(self.db.pool()).await?;
        listener.listen(EVENTS_CHANNEL).await?;
        while !stop.is_cancelled() {
            if let Err(e) = self.queue.release_expired().await {
                tracing::warn!(worker = %self.id, error = %e, "releasing expired summary leases failed");
            }
            match self.summarise_batch().await {
                Ok(batch) if batch.claimed > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(worker = %self.id, error = %e, "summarising error"),
            }
            let wait = match self.queue.next_retry().await {
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
                        tracing::warn!(worker = %self.id, error = %e, "summariser listener failed");
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        Ok(())
    }
}
