//! The jobs of the lease queue: a poll per integration (queued every
//! [`MetaOptions::poll_every`](super::MetaOptions) by the scheduler), and an agent turn
//! per conversation waiting for an answer, queued by the poll after it committed.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{HttpGraph, MetaService};
use crate::Db;
use crate::jobs::{BackgroundJob, Job, JobError, QueueError};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaPollJob {
    pub integration_id: Uuid,
}

impl BackgroundJob for MetaPollJob {
    const KIND: &'static str = "meta.poll";
    type Context = MetaService<HttpGraph>;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.integration_id))
    }

    async fn run(&self, meta: &Self::Context, job: &Job) -> Result<(), JobError> {
        let user = job
            .user
            .ok_or_else(|| JobError::Permanent("Meta poll without a user".to_owned()))?;
        let report =
            meta.poll(user, self.integration_id)
                .await
                .map_err(|e| match e.is_retryable() {
                    true => JobError::Retryable(e.to_string()),
                    false => JobError::Permanent(e.to_string()),
                })?;
        let jobs = meta.db.for_user(user).jobs();
        for conversation in report.to_answer {
            jobs.enqueue(&MetaReplyJob {
                conversation_id: conversation,
            })
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        }
        Ok(())
    }
}

/// One agent turn for a conversation (at most one queued or running per conversation).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaReplyJob {
    pub conversation_id: Uuid,
}

impl BackgroundJob for MetaReplyJob {
    const KIND: &'static str = "meta.reply";
    type Context = MetaService<HttpGraph>;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.conversation_id))
    }

    async fn run(&self, meta: &Self::Context, job: &Job) -> Result<(), JobError> {
        let user = job
            .user
            .ok_or_else(|| JobError::Permanent("agent turn without a user".to_owned()))?;
        match meta.answer(user, self.conversation_id).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_retryable() => Err(JobError::Retryable(e.to_string())),
            Err(e) => Err(JobError::Permanent(e.to_string())),
        }
    }
}

/// Queues a [`MetaPollJob`] for every integration whose Page can be polled and has
/// none queued or running. Returns how many were queued.
pub async fn enqueue_meta_polls(db: &Db) -> Result<u64, QueueError> {
    let queued = sqlx::query!(
        r#"insert into jobs (user_id, kind, payload, unique_key)
           select i.user_id, $1, jsonb_build_object('integration_id', i.id), $1 || ':' || i.id
           from meta_integrations i join accounts a on a.id = i.account_id
           where a.status in ('active', 'syncing', 'error')
           on conflict (unique_key)
             where unique_key is not null and state in ('queued', 'running')
             do nothing"#,
        MetaPollJob::KIND,
    )
    .execute(db.pool())
    .await?;
    Ok(queued.rows_affected())
}
