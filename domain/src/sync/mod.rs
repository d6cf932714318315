//! Gmail sync: a full sync when an account has no cursor, incremental syncs from the
//! history cursor afterwards, reconciliation against Gmail's id set, and the mbox
//! (Google Takeout) import. Everything goes through the ingest layer, whose ledger
//! records the outcome of every item, so nothing is lost silently.
//!
//! Resumability rests on two rules: a full sync checkpoints the next page to list only
//! once every earlier page is stored, and the history cursor moves only after the
//! changes it covers are committed. Re-running any step is harmless because storing is
//! idempotent.

pub mod controls;
mod full;
mod incremental;
pub mod jobs;
mod ledger;
pub mod mbox_import;
mod measure;
mod progress;
pub mod reconcile;
mod state;

use std::sync::Arc;
use std::time::Duration;

use api::Provider;
use uuid::Uuid;

use crate::gmail::{GmailApi, GmailError, Limiters, QuotaClient, RetryPolicy};
use crate::ingest::{IngestError, IngestFilter};
use crate::{Db, UserId};

pub use api::AccountStatus;
pub use measure::Throughput;
pub use reconcile::ReconcileReport;
pub use state::{FullCheckpoint, Stage, SyncAccount, SyncProgress, SyncState};

/// Labels Gmail's list leaves out; a message carrying one counts as gone.
const HIDDEN_LABELS: [&str; 2] = ["SPAM", "TRASH"];

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Gmail(#[from] GmailError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("account not found")]
    AccountNotFound,
    #[error("not a Gmail account")]
    NotGmail,
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not encode sync state: {0}")]
    Encode(String),
    #[error("a sync task stopped unexpectedly: {0}")]
    Task(String),
}

impl SyncError {
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Self::Gmail(e) if e.needs_reconnect())
    }

    /// A later attempt may succeed (Gmail or the database was unavailable).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Gmail(e) => {
                e.is_transient()
                    || matches!(e, GmailError::RateLimited { .. } | GmailError::Decode(_))
            }
            Self::Ingest(_) | Self::Database(_) | Self::Task(_) | Self::Io(_) => true,
            Self::AccountNotFound | Self::NotGmail | Self::Encode(_) => false,
        }
    }

    /// For the account page: what happened and what to do, without internals.
    fn plain_words(&self) -> String {
        match self {
            e if e.needs_reconnect() => {
                "Google no longer accepts Rapport's access. Reconnect the account.".to_owned()
            }
            Self::Gmail(GmailError::RateLimited { .. }) => {
                "Gmail asked us to slow down; the sync will continue shortly.".to_owned()
            }
            Self::Gmail(GmailError::Server(_) | GmailError::Transport(_)) => {
                "Gmail could not be reached; the sync will try again.".to_owned()
            }
            Self::Gmail(e) => format!("Gmail returned an unexpected answer ({e})."),
            Self::Database(_) | Self::Ingest(_) | Self::Task(_) => {
                "Rapport could not save the mail; the sync will try again.".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// Tuning of a sync. The defaults suit Gmail.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub retry: RetryPolicy,
    /// Messages stored per transaction.
    pub batch_size: usize,
    /// A partial batch is stored after this much quiet, so progress keeps moving.
    pub flush_after: Duration,
    /// Minimum time between progress events.
    pub progress_interval: Duration,
    pub filter: IngestFilter,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            retry: RetryPolicy::default(),
            batch_size: 200,
            flush_after: Duration::from_millis(250),
            progress_interval: Duration::from_millis(500),
            filter: IngestFilter {
                skip_labels: ["SPAM", "DRAFT", "TRASH"].map(str::to_owned).to_vec(),
                skip_duplicates: false,
            },
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// A full sync ran (first sync, resumed, or after the history expired).
    pub full: bool,
    /// Messages fetched and stored (imported, updated or filtered).
    pub stored: u64,
    /// Messages recorded as failed in the ledger.
    pub failed: u64,
    pub deleted: u64,
    pub label_changes: u64,
    pub reconcile: Option<ReconcileReport>,
}

/// The Gmail sync engine. One per process; cheap to share.
pub struct GmailSync<A> {
    db: Db,
    api: Arc<A>,
    limiters: Arc<Limiters>,
    options: SyncOptions,
}

impl<A: GmailApi> GmailSync<A> {
    pub fn new(db: Db, api: Arc<A>, limiters: Arc<Limiters>, options: SyncOptions) -> Self {
        Self {
            db,
            api,
            limiters,
            options,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn client(&self, account: Uuid) -> Arc<QuotaClient<A>> {
        Arc::new(QuotaClient::new(
            Arc::clone(&self.api),
            account,
            self.limiters.for_account(account),
            self.options.retry,
        ))
    }

    /// Brings one account up to date: a full sync (then reconciliation) when it has no
    /// cursor, the history expired, or a full sync was interrupted; otherwise an
    /// incremental one. Keeps the account's status and progress current, and maps a
    /// revoked grant to `needs_reconnect`.
    pub async fn sync_account(&self, user: UserId, account: Uuid) -> Result<SyncReport, SyncError> {
        let scope = self.db.for_user(user);
        let found = scope.sync().sync_account(account).await?;
        if found.provider != Provider::Google {
            return Err(SyncError::NotGmail);
        }
        let last_success = found
            .state
            .progress
            .as_ref()
            .and_then(|p| p.last_success_at);
        let mut reporter = progress::Reporter::new(
            self.db.clone(),
            user,
            account,
            self.options.progress_interval,
            last_success,
        );
        scope
            .sync()
            .set_account_status(account, AccountStatus::Syncing, None, false)
            .await?;
        let client = self.client(account);
        let result = self
            .run(user, account, found.state, &client, &mut reporter)
            .await;
        match &result {
            Ok(_) => {
                reporter.progress.last_success_at = Some(chrono::Utc::now());
                reporter.progress.last_error = None;
                reporter.stage(Stage::Idle).await?;
                scope
                    .sync()
                    .set_account_status(account, AccountStatus::Active, None, true)
                    .await?;
            }
            Err(e) => {
                let words = e.plain_words();
                tracing::warn!(%account, error = %e, "Gmail sync failed");
                let status = if e.needs_reconnect() {
                    AccountStatus::NeedsReconnect
                } else {
                    AccountStatus::Error
                };
                reporter.progress.last_error = Some(words.clone());
                reporter.stage(Stage::Idle).await?;
                scope
                    .sync()
                    .set_account_status(account, status, Some(&words), false)
                    .await?;
            }
        }
        result
    }

    async fn run(
        &self,
        user: UserId,
        account: Uuid,
        state: SyncState,
        client: &Arc<QuotaClient<A>>,
        reporter: &mut progress::Reporter,
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let cursor = match (state.history_id, state.full) {
            (Some(cursor), None) => cursor,
            (_, checkpoint) => {
                report.full = true;
                self.full(user, client, checkpoint, reporter, &mut report)
                    .await?
            }
        };
        match self
            .incremental(user, client, cursor, reporter, &mut report)
            .await
        {
            Err(SyncError::Gmail(GmailError::HistoryExpired)) => {
                tracing::info!(%account, %cursor, "Gmail history expired; running a full sync");
                report.full = true;
                let cursor = self.full(user, client, None, reporter, &mut report).await?;
                self.incremental(user, client, cursor, reporter, &mut report)
                    .await?;
            }
            other => {
                other?;
            }
        }
        if report.full {
            report.reconcile = Some(self.reconcile_with(user, client, reporter).await?);
        }
        Ok(report)
    }

    /// Compares Gmail's id set with the ledger; see [`reconcile`].
    pub async fn reconcile(
        &self,
        user: UserId,
        account: Uuid,
    ) -> Result<ReconcileReport, SyncError> {
        let scope = self.db.for_user(user);
        let found = scope.sync().sync_account(account).await?;
        if found.provider != Provider::Google {
            return Err(SyncError::NotGmail);
        }
        let mut reporter = progress::Reporter::new(
            self.db.clone(),
            user,
            account,
            self.options.progress_interval,
            found.state.progress.and_then(|p| p.last_success_at),
        );
        let client = self.client(account);
        let report = self.reconcile_with(user, &client, &mut reporter).await?;
        reporter.stage(Stage::Idle).await?;
        Ok(report)
    }
}
