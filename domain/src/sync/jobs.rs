//! Sync work on the job queue: [`SyncGmail`] (`gmail.sync`: full or incremental,
//! decided by the cursor; one live job per account), [`ImportMbox`] (`mbox.import`, an
//! uploaded Takeout file), and a scheduler that queues incremental syncs for active
//! Google accounts. Reconciliation runs inside every full sync, so it has no job of its
//! own.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{GmailSync, SyncError};
use crate::gmail::GmailApi;
use crate::jobs::{BackgroundJob, Job, JobError, JobRegistry, QueueError};
use crate::{Db, UserId};

/// A sync of one Gmail account; at most one is queued or running per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGmail {
    pub account_id: Uuid,
}

/// What a [`SyncGmail`] job runs: the sync engine, whichever Gmail client it talks to
/// (Google's or a fake).
pub trait SyncsGmail: Send + Sync {
    fn sync(
        &self,
        user: UserId,
        account: Uuid,
    ) -> Pin<Box<dyn Future<Output = Result<(), SyncError>> + Send + '_>>;
}

impl<A: GmailApi> SyncsGmail for GmailSync<A> {
    fn sync(
        &self,
        user: UserId,
        account: Uuid,
    ) -> Pin<Box<dyn Future<Output = Result<(), SyncError>> + Send + '_>> {
        Box::pin(async move { self.sync_account(user, account).await.map(drop) })
    }
}

impl BackgroundJob for SyncGmail {
    const KIND: &'static str = "gmail.sync";
    type Context = dyn SyncsGmail;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.account_id))
    }

    async fn run(&self, sync: &Self::Context, job: &Job) -> Result<(), JobError> {
        sync.sync(owner(job)?, self.account_id)
            .await
            .map_err(job_error)
    }
}

/// An uploaded mbox file waiting to be imported into the mbox account `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportMbox {
    pub path: PathBuf,
    pub name: String,
    /// The reader's limits, from the server's settings when the job was queued.
    #[serde(default)]
    pub limits: crate::mail::mbox::MboxLimits,
}

impl BackgroundJob for ImportMbox {
    const KIND: &'static str = "mbox.import";
    type Context = Db;

    /// Imports the file, announces the result, and deletes the upload. A retry after a
    /// crash re-reads the file: ids come from Message-IDs, so nothing doubles.
    async fn run(&self, db: &Self::Context, job: &Job) -> Result<(), JobError> {
        if !self.path.exists() {
            return Err(JobError::Permanent(format!(
                "the uploaded file {} is gone",
                self.path.display()
            )));
        }
        let scope = db.for_user(owner(job)?);
        let report = scope
            .sync()
            .import_mbox(&self.path, &self.name, self.limits)
            .await
            .map_err(job_error)?;
        scope
            .sync()
            .announce_mbox_import(&self.name, &report)
            .await
            .map_err(job_error)?;
        if let Err(error) = std::fs::remove_file(&self.path) {
            tracing::warn!(%error, path = %self.path.display(), "could not delete an imported upload");
        }
        Ok(())
    }
}

/// Registers the sync job types: Gmail syncs with `sync`, mbox imports on its database.
pub fn register_sync_jobs<A: GmailApi>(
    registry: JobRegistry,
    sync: Arc<GmailSync<A>>,
) -> JobRegistry {
    let db = Arc::new(sync.db().clone());
    registry
        .register::<SyncGmail>(sync)
        .register::<ImportMbox>(db)
}

fn owner(job: &Job) -> Result<UserId, JobError> {
    job.user
        .ok_or_else(|| JobError::Permanent("sync job without a user".to_owned()))
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

/// Queues a [`SyncGmail`] for every active Google account that has none queued or
/// running, in one statement (the payload and unique key are [`SyncGmail`]'s). Returns
/// how many were queued.
pub async fn enqueue_incremental_syncs(db: &Db) -> Result<u64, QueueError> {
    let queued = sqlx::query!(
        r#"insert into jobs (user_id, kind, payload, unique_key)
           select a.user_id, $1, jsonb_build_object('account_id', a.id), $1 || ':' || a.id
           from accounts a
           where a.provider = 'google' and a.status = 'active'
           on conflict (unique_key)
             where unique_key is not null and state in ('queued', 'running')
             do nothing"#,
        SyncGmail::KIND,
    )
    .execute(db.pool())
    .await?;
    Ok(queued.rows_affected())
}
