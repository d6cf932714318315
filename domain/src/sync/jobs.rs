//! Sync work on the job queue: `gmail.sync` (full or incremental, decided by the
//! cursor) and `gmail.reconcile`, one live job of each per account (unique keys),
//! `mbox.import` for uploaded Takeout files, and a scheduler that queues incremental
//! syncs for active Google accounts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{GmailSync, SyncError};
use crate::Db;
use crate::gmail::GmailApi;
use crate::jobs::{Job, JobError, JobHandler, NewJob, QueueError};

pub const SYNC_KIND: &str = "gmail.sync";
pub const RECONCILE_KIND: &str = "gmail.reconcile";
pub const MBOX_IMPORT_KIND: &str = "mbox.import";

/// An uploaded mbox file waiting to be imported into the mbox account `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MboxImportPayload {
    pub path: PathBuf,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPayload {
    pub account_id: Uuid,
}

/// A sync of one account; at most one is queued or running per account.
pub fn sync_job(account: Uuid) -> NewJob {
    NewJob::new(
        SYNC_KIND,
        serde_json::json!(AccountPayload {
            account_id: account
        }),
    )
    .with_unique_key(format!("{SYNC_KIND}:{account}"))
}

pub fn reconcile_job(account: Uuid) -> NewJob {
    NewJob::new(
        RECONCILE_KIND,
        serde_json::json!(AccountPayload {
            account_id: account
        }),
    )
    .with_unique_key(format!("{RECONCILE_KIND}:{account}"))
}

/// Runs both job kinds with one sync engine.
pub struct GmailJobs<A> {
    sync: Arc<GmailSync<A>>,
}

impl<A> GmailJobs<A> {
    pub fn new(sync: Arc<GmailSync<A>>) -> Self {
        Self { sync }
    }
}

impl<A: GmailApi> JobHandler for GmailJobs<A> {
    fn kinds(&self) -> Vec<String> {
        vec![
            SYNC_KIND.to_owned(),
            RECONCILE_KIND.to_owned(),
            MBOX_IMPORT_KIND.to_owned(),
        ]
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let user = job
            .user
            .ok_or_else(|| JobError::Permanent("sync job without a user".to_owned()))?;
        if job.kind == MBOX_IMPORT_KIND {
            return import_uploaded_mbox(&self.sync.db, user, job).await;
        }
        let payload: AccountPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let result = match job.kind.as_str() {
            SYNC_KIND => self
                .sync
                .sync_account(user, payload.account_id)
                .await
                .map(drop),
            RECONCILE_KIND => self
                .sync
                .reconcile(user, payload.account_id)
                .await
                .map(drop),
            other => return Err(JobError::Permanent(format!("unknown job kind {other}"))),
        };
        result.map_err(job_error)
    }
}

/// Imports an uploaded file, announces the result, and deletes the upload. A retry
/// after a crash re-reads the file: ids come from Message-IDs, so nothing doubles.
async fn import_uploaded_mbox(db: &Db, user: crate::UserId, job: &Job) -> Result<(), JobError> {
    let payload: MboxImportPayload = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    if !payload.path.exists() {
        return Err(JobError::Permanent(format!(
            "the uploaded file {} is gone",
            payload.path.display()
        )));
    }
    let scope = db.for_user(user);
    let report = scope
        .import_mbox(&payload.path, &payload.name)
        .await
        .map_err(job_error)?;
    scope
        .announce_mbox_import(&payload.name, &report)
        .await
        .map_err(job_error)?;
    if let Err(error) = std::fs::remove_file(&payload.path) {
        tracing::warn!(%error, path = %payload.path.display(), "could not delete an imported upload");
    }
    Ok(())
}

/// Revoked access stops the job at once (only the user can fix it, and the account
/// says `needs_reconnect`); transient failures are retried by the queue.
fn job_error(e: SyncError) -> JobError {
    if e.is_retryable() && !e.needs_reconnect() {
        JobError::Retryable(e.to_string())
    } else {
        JobError::Permanent(e.to_string())
    }
}

/// Queues a sync for every active Google account that has none queued or running.
/// Returns how many were queued.
pub async fn enqueue_incremental_syncs(db: &Db) -> Result<u64, QueueError> {
    let queued = sqlx::query!(
        r#"insert into jobs (user_id, kind, payload, unique_key)
           select a.user_id, $1, jsonb_build_object('account_id', a.id), $1 || ':' || a.id
           from accounts a
           where a.provider = 'google' and a.status = 'active'
           on conflict (unique_key)
             where unique_key is not null and state in ('queued', 'running')
             do nothing"#,
        SYNC_KIND,
    )
    .execute(db.pool())
    .await?;
    Ok(queued.rows_affected())
}

/// Queues incremental syncs every `every` (60 s is a good default) until `stop`.
pub async fn run_scheduler(db: Db, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                if let Err(e) = enqueue_incremental_syncs(&db).await {
                    tracing::warn!(error = %e, "could not schedule Gmail syncs");
                }
            }
        }
    }
}

impl crate::UserScope<'_> {
    /// Queues a sync of one of this user's accounts (or returns the live one).
    pub async fn enqueue_gmail_sync(
        &self,
        account: Uuid,
    ) -> Result<crate::jobs::Enqueued, QueueError> {
        self.enqueue_job(sync_job(account)).await
    }

    /// Queues the import of an uploaded mbox file (which the job deletes when done).
    pub async fn enqueue_mbox_import(
        &self,
        payload: &MboxImportPayload,
    ) -> Result<crate::jobs::Enqueued, QueueError> {
        self.enqueue_job(NewJob::new(MBOX_IMPORT_KIND, serde_json::json!(payload)))
            .await
    }

    pub async fn enqueue_gmail_reconcile(
        &self,
        account: Uuid,
    ) -> Result<crate::jobs::Enqueued, QueueError> {
        self.enqueue_job(reconcile_job(account)).await
    }
}
