//! The summarising loop: claim a small batch, call the model for a few of them at a
//! time (outside any transaction), store each summary or record its failure, and
//! announce the new summaries to the users' open tabs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::prompt::{MAX_SUMMARY_TOKENS, SYSTEM_PROMPT, clean_summary, user_message};
use super::{ClaimedSummary, SummaryError, SummaryQueue};
use crate::ask::model::{self, ModelConfig, ModelError};
use crate::jobs::{Failed, LeaseOptions, Leases, WorkerId};
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
    /// call, so a live worker keeps its lease even if a renewal fails.
    fn lease_options(&self) -> LeaseOptions {
        let rounds = (self.batch.max(1) as u32).div_ceil(self.concurrency.max(1) as u32);
        let lease = self.timeout * (rounds + 1);
        LeaseOptions {
            batch: self.batch,
            lease,
            heartbeat: lease / 3,
            idle_wait: self.idle_wait,
        }
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
    leases: Leases<SummaryQueue>,
    model: ModelConfig,
    options: SummariserOptions,
}

impl Summariser {
    pub fn new(db: &Db, model: ModelConfig, id: WorkerId, options: SummariserOptions) -> Self {
        Self {
            db: db.clone(),
            leases: Leases::new(db.summary_queue(), id, options.lease_options()),
            model,
            options,
        }
    }

    pub fn with_queue(self, queue: SummaryQueue) -> Self {
        Self {
            leases: Leases::new(
                queue,
                self.leases.worker().clone(),
                self.options.lease_options(),
            ),
            ..self
        }
    }

    /// Claims and summarises one batch; `claimed == 0` when nothing was due.
    pub async fn summarise_batch(&self) -> Result<SummariesOutcome, SummaryError> {
        let claimed = self.leases.claim().await?;
        let ids: Vec<Uuid> = claimed.iter().map(|c| c.activity_id).collect();
        let results: Vec<(ClaimedSummary, Result<(), SummaryError>)> = self
            .leases
            .hold(
                &ids,
                futures::stream::iter(claimed)
                    .map(|claim| async move {
                        let result = self.summarise_one(&claim).await;
                        (claim, result)
                    })
                    .buffer_unordered(self.options.concurrency.max(1))
                    .collect(),
            )
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
                Err(SummaryError::LeaseLost(id)) => {
                    self.leases.lost(id);
                    outcome.lost += 1;
                }
                Err(SummaryError::Database(e)) => return Err(SummaryError::Database(e)),
                Err(error) => {
                    let permanent = matches!(error, SummaryError::NoText);
                    match self
                        .leases
                        .fail(&claim, &error.to_string(), permanent)
                        .await
                    {
                        Ok(Failed::Retrying) => outcome.failed += 1,
                        Ok(Failed::Dead) => outcome.dead += 1,
                        Err(SummaryError::LeaseLost(id)) => {
                            self.leases.lost(id);
                            outcome.lost += 1;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        self.leases.table().announce(&summarised).await?;
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
            .processing()
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
        self.leases
            .table()
            .mark_done(
                claim,
                self.leases.worker(),
                &summary,
                &self.model.model,
                completion.tokens,
            )
            .await
    }

    /// Runs until `stop` is cancelled (see [`Leases::run`]): summarises while work is
    /// due, otherwise sleeps until a live-feed notification (processing announces
    /// completed activities there), the next retry, or `idle_wait`.
    pub async fn run(self, stop: CancellationToken) -> Result<(), SummaryError> {
        let this = &self;
        self.leases
            .run(stop, move || async move {
                Ok(this.summarise_batch().await?.claimed)
            })
            .await
    }
}
