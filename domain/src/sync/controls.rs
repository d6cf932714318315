//! What the user sees of and does with a Gmail sync: outcome counts from the ledger, and
//! the "Sync now" / "Full resync" requests.

use api::LedgerOutcome;
use uuid::Uuid;

use super::jobs::SyncGmail;
use crate::jobs::BackgroundJob;
use crate::{DomainError, UserScope};

/// The answer to a sync request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRequest {
    Queued,
    /// A sync of this account is already queued or running.
    AlreadyRunning,
}

impl UserScope<'_> {
    /// How many Gmail ids ended in each outcome (imported, filtered, failed, ...).
    pub async fn ledger_counts(
        &self,
        account: Uuid,
    ) -> Result<Vec<(LedgerOutcome, i64)>, DomainError> {
        let rows = sqlx::query!(
            r#"select outcome as "outcome: LedgerOutcome", count(*) as "count!" from sync_ledger
               where user_id = $1 and account_id = $2
               group by outcome order by outcome"#,
            self.user.0,
            account,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.outcome, r.count)).collect())
    }

    async fn own_google_account(&self, account: Uuid) -> Result<(), DomainError> {
        let found = sqlx::query_scalar!(
            r#"select exists(select 1 from accounts where id = $1 and user_id = $2 and provider = 'google') as "found!""#,
            account,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await?;
        if found {
            Ok(())
        } else {
            Err(DomainError::NotFound("account"))
        }
    }

    /// "Sync now": an incremental sync (or the full one, when there is no cursor yet).
    pub async fn request_sync(&self, account: Uuid) -> Result<SyncRequest, DomainError> {
        self.own_google_account(account).await?;
        let enqueued = self
            .enqueue_job(&SyncGmail {
                account_id: account,
            })
            .await
            .map_err(|e| DomainError::invalid("sync", e.to_string()))?;
        Ok(if enqueued.created {
            SyncRequest::Queued
        } else {
            SyncRequest::AlreadyRunning
        })
    }

    /// "Full resync": forget the history cursor and checkpoint, then sync. Refused while
    /// a sync runs, so the running one cannot write its cursor back afterwards. Storage
    /// is idempotent per Gmail id, so nothing is duplicated.
    pub async fn request_full_resync(&self, account: Uuid) -> Result<SyncRequest, DomainError> {
        self.own_google_account(account).await?;
        let busy = sqlx::query_scalar!(
            r#"select exists(select 1 from jobs where user_id = $1 and kind = $2 and unique_key = $3
                              and state in ('queued', 'running')) as "busy!""#,
            self.user.0,
            SyncGmail::KIND,
            SyncGmail {
                account_id: account
            }
            .unique_key(),
        )
        .fetch_one(self.pool)
        .await?;
        if busy {
            return Ok(SyncRequest::AlreadyRunning);
        }
        sqlx::query!(
            r#"update accounts set sync_state = sync_state - 'history_id' - 'full'
               where id = $1 and user_id = $2"#,
            account,
            self.user.0,
        )
        .execute(self.pool)
        .await?;
        self.request_sync(account).await
    }
}
