//! The `contact-enrichment` job, and the scheduler's sweep that queues one for every
//! contact that is due (created, merged into, or with an expired result).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Enricher;
use crate::Db;
use crate::jobs::{BackgroundJob, Job, JobError, QueueError};

/// Enriches one contact. `force` looks every provider up again (the Refresh button);
/// otherwise only missing and expired answers are asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichContact {
    pub contact_id: Uuid,
    #[serde(default)]
    pub force: bool,
}

impl BackgroundJob for EnrichContact {
    const KIND: &'static str = "contact-enrichment";
    type Context = Enricher;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.contact_id))
    }

    async fn run(&self, enricher: &Enricher, job: &Job) -> Result<(), JobError> {
        let user = job
            .user
            .ok_or_else(|| JobError::Permanent("a contact enrichment needs its user".into()))?;
        let summary = enricher
            .enrich(user, self.contact_id, self.force)
            .await
            .map_err(|e| JobError::Retryable(format!("database error: {e}")))?;
        tracing::info!(
            contact = %self.contact_id,
            lookups = summary.lookups,
            found = summary.found,
            errors = summary.errors,
            "contact enriched"
        );
        Ok(())
    }
}

/// Contacts queued per sweep; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 500;

/// Queues a `contact-enrichment` job for each due contact and moves its due time an
/// hour on, so a job that dies is queued again later rather than on every sweep (a
/// finished job sets the real next time). Returns how many jobs were queued.
pub async fn enqueue_due(db: &Db) -> Result<u64, QueueError> {
    let queued = sqlx::query!(
        r#"with due as (
             update enrichment_due d set due_at = now() + interval '1 hour'
             from (select user_id, contact_id from enrichment_due
                   where due_at <= now() order by due_at limit $2
                   for update skip locked) pick
             where d.user_id = pick.user_id and d.contact_id = pick.contact_id
             returning d.user_id, d.contact_id
           )
           insert into jobs (user_id, kind, payload, unique_key)
           select user_id, $1, jsonb_build_object('contact_id', contact_id, 'force', false),
                  $1 || ':' || contact_id
           from due
           on conflict (unique_key)
             where unique_key is not null and state in ('queued', 'running')
             do nothing"#,
        EnrichContact::KIND,
        SWEEP_BATCH,
    )
    .execute(db.pool())
    .await?;
    Ok(queued.rows_affected())
}
