//! The summariser's work items in `activity_summaries`. A claim takes failed summaries
//! past their backoff (`FOR UPDATE SKIP LOCKED`) and then the newest completed
//! activities that have no summary row yet (inserted under this worker's lease; a
//! concurrent claim of the same activity loses on the primary key and skips it). Every
//! write checks the lease, so a worker that stalled past it finds out and stores nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use uuid::Uuid;

use super::SummaryError;
use crate::events::{ActivitySummarisedPayload, EVENTS_CHANNEL, Event};
use crate::jobs::lease::{claimed_row, config_in_field};
use crate::jobs::{Backoff, LeaseConfig, LeasedRows, LeasedTable, WorkerId};
use crate::{Db, UserId};

/// Claims after which a failing summary is given up as `dead` (its error is kept).
pub const MAX_SUMMARY_ATTEMPTS: i32 = 5;

/// An activity whose summary this worker holds the lease on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedSummary {
    pub activity_id: Uuid,
    pub user: UserId,
    /// Claims so far, this one included.
    pub attempts: i32,
}

claimed_row!(ClaimedSummary, activity_id: Uuid);

#[derive(Debug, Clone)]
pub struct SummaryQueue {
    config: LeaseConfig,
}

/// Waits between failed attempts: a minute doubling to 2 h.
const BACKOFF: Backoff = Backoff::new(Duration::from_secs(60), Duration::from_secs(2 * 60 * 60));

impl Db {
    /// Woken on the live feed's channel, where processing announces completed activities.
    pub fn summary_queue(&self) -> SummaryQueue {
        let config = LeaseConfig::new(self.pool(), EVENTS_CHANNEL, BACKOFF, MAX_SUMMARY_ATTEMPTS);
        SummaryQueue { config }
    }
}

impl SummaryQueue {
    /// Stores a summary `worker` still holds the lease on.
    pub async fn mark_done(
        &self,
        claim: &ClaimedSummary,
        worker: &WorkerId,
        summary: &str,
        model: &str,
        tokens: u32,
    ) -> Result<(), SummaryError> {
        let done = sqlx::query!(
            r#"update activity_summaries
               set state = 'done', summary = $4, model = $5, tokens = $6, summarised_at = now(),
                   last_error = null, claimed_by = null, lease_expires_at = null
               where activity_id = $1 and user_id = $2 and state = 'summarising' and claimed_by = $3"#,
            claim.activity_id,
            claim.user.0,
            worker.as_str(),
            summary,
            model,
            i32::try_from(tokens).unwrap_or(i32::MAX),
        )
        .execute(&self.config.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(SummaryError::LeaseLost(claim.activity_id));
        }
        Ok(())
    }

    /// Tells each user's open tabs which of their activities got a summary: one event
    /// per user, however many summaries a batch stored.
    pub async fn announce(
        &self,
        summarised: &BTreeMap<UserId, BTreeSet<Uuid>>,
    ) -> Result<(), SummaryError> {
        if summarised.is_empty() {
            return Ok(());
        }
        let mut tx = self.config.pool.begin().await?;
        for (user, activities) in summarised {
            let activity_ids = activities.iter().copied().collect();
            let event = Event::ActivitySummarised(ActivitySummarisedPayload { activity_ids });
            crate::events::record(&mut tx, *user, &event).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl LeasedTable for SummaryQueue {
    type Item = ClaimedSummary;
    type Error = SummaryError;
    /// Only retries wait in line; new work is announced by processing.
    const ROWS: LeasedRows = LeasedRows::claimed_by(
        "activity_summaries",
        "activity_id",
        "summarising",
        "state = 'failed'",
    );
    config_in_field!();

    const NAME: &'static str = "summary";

    /// Claims up to `batch` retries that are due, then fills the batch with the newest
    /// summarisable activities not yet taken on: completed email, SMS, WhatsApp, call
    /// and file activities with text that are not bulk mail.
    async fn claim(
        &self,
        worker: &WorkerId,
        batch: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedSummary>, SummaryError> {
        let retries = sqlx::query!(
            r#"update activity_summaries s
               set state = 'summarising', claimed_by = $1, attempts = s.attempts + 1,
                   lease_expires_at = now() + make_interval(secs => $2)
               from (select activity_id from activity_summaries
                     where state = 'failed' and next_attempt_at <= now()
                     order by next_attempt_at, activity_id
                     limit $3
                     for update skip locked) due
               where s.activity_id = due.activity_id
               returning s.activity_id, s.user_id, s.attempts"#,
            worker.as_str(),
            lease.as_secs_f64(),
            batch,
        )
        .fetch_all(&self.config.pool)
        .await?;
        let mut claimed: Vec<ClaimedSummary> = retries
            .into_iter()
            .map(|r| ClaimedSummary {
                activity_id: r.activity_id,
                user: UserId(r.user_id),
                attempts: r.attempts,
            })
            .collect();
        let room = batch - claimed.len() as i64;
        if room > 0 {
            let fresh = sqlx::query!(
                r#"insert into activity_summaries
                     (user_id, activity_id, state, attempts, claimed_by, lease_expires_at)
                   select a.user_id, a.id, 'summarising', 1, $1, now() + make_interval(secs => $2)
                   from activities a
                   where a.state = 'completed' and a.deleted_at is null
                     and a.channel in ('email', 'sms', 'whatsapp', 'call', 'file')
                     and a.processed ->> 'bulk' is null
                     and a.body_text is not null and a.body_text <> ''
                     and not exists (select 1 from activity_summaries s where s.activity_id = a.id)
                   order by a.occurred_at desc
                   limit $3
                   on conflict do nothing
                   returning activity_id, user_id, attempts"#,
                worker.as_str(),
                lease.as_secs_f64(),
                room,
            )
            .fetch_all(&self.config.pool)
            .await?;
            claimed.extend(fresh.into_iter().map(|r| ClaimedSummary {
                activity_id: r.activity_id,
                user: UserId(r.user_id),
                attempts: r.attempts,
            }));
        }
        Ok(claimed)
    }

    fn lease_lost(id: Uuid) -> SummaryError {
        SummaryError::LeaseLost(id)
    }
}
