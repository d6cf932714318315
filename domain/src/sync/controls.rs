//! What the user sees of and does with a Gmail sync: outcome counts from the ledger, and
//! the "Sync now" / "Full resync" requests.

use api::{AccountStatus, LedgerOutcome, Provider};
use uuid::Uuid;

use super::SyncAccount;
use super::jobs::SyncGmail;
use crate::DomainError;
use crate::accounts::AccountSummary;
use crate::db::scopes::SyncScope;
use crate::jobs::BackgroundJob;
use crate::processing::ContactPolicy;

/// One account as the settings page shows it: the account, its sync state, its contact
/// policy and its ledger's outcome counts (see [`SyncScope::ledger_counts`](crate::db::scopes::SyncScope)).
#[derive(Debug, Clone)]
pub struct AccountSettings {
    pub account: AccountSummary,
    pub sync: SyncAccount,
    pub contact_policy: ContactPolicy,
    pub ledger: Vec<(LedgerOutcome, i64)>,
}

/// The answer to a sync request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRequest {
    Queued,
    /// A sync of this account is already queued or running.
    AlreadyRunning,
}

impl SyncScope<'_> {
    /// How many Gmail ids ended in each outcome (imported, filtered, failed, ...).
    pub async fn ledger_counts(
        self,
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

    /// Every account of the user with its sync state, contact policy and ledger counts,
    /// in one query (the settings page), oldest account first.
    pub async fn account_settings(self) -> Result<Vec<AccountSettings>, DomainError> {
        let rows = sqlx::query!(
            r#"select a.id, a.provider as "provider: Provider", a.external_id, a.display_name,
                      a.scopes, a.status as "status: AccountStatus", a.last_error,
                      a.last_synced_at, a.created_at, a.sync_state, a.contact_policy,
                      l.outcome as "outcome?: LedgerOutcome", l.count as "count?"
               from accounts a
               left join (select account_id, outcome, count(*) as count from sync_ledger
                          where user_id = $1 group by account_id, outcome) l
                 on l.account_id = a.id
               where a.user_id = $1 and a.provider <> 'manual'
               order by a.created_at, a.id, l.outcome"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        let mut accounts: Vec<AccountSettings> = Vec::new();
        for row in rows {
            let counted = row.outcome.zip(row.count);
            if let Some(last) = accounts.last_mut()
                && last.account.id == row.id
            {
                last.ledger.extend(counted);
                continue;
            }
            accounts.push(AccountSettings {
                account: AccountSummary {
                    id: row.id,
                    provider: row.provider,
                    external_id: row.external_id.clone(),
                    display_name: row.display_name,
                    scopes: row.scopes,
                    status: row.status,
                    last_error: row.last_error,
                    last_synced_at: row.last_synced_at,
                    created_at: row.created_at,
                },
                sync: SyncAccount {
                    id: row.id,
                    provider: row.provider,
                    external_id: row.external_id,
                    status: row.status,
                    state: serde_json::from_value(row.sync_state).unwrap_or_default(),
                },
                contact_policy: ContactPolicy::parse(&row.contact_policy)?,
                ledger: counted.into_iter().collect(),
            });
        }
        Ok(accounts)
    }

    async fn own_google_account(self, account: Uuid) -> Result<(), DomainError> {
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
    pub async fn request_sync(self, account: Uuid) -> Result<SyncRequest, DomainError> {
        self.own_google_account(account).await?;
        let enqueued = self
            .jobs()
            .enqueue(&SyncGmail {
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
    pub async fn request_full_resync(self, account: Uuid) -> Result<SyncRequest, DomainError> {
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
