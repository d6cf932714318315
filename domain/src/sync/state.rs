//! What a Gmail account's `accounts.sync_state` holds for the sync, and the account
//! row updates around a run. Keys are merged into the JSON, never replaced wholesale,
//! because other code keeps its own keys there (`aliases`).

use api::{AccountStatus, Provider};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SyncError;
use super::reconcile::ReconcileReport;
use crate::db::scopes::SyncScope;
use crate::gmail::HistoryId;

/// The sync's part of `accounts.sync_state`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// The incremental cursor: everything up to this history id is stored. Absent until
    /// a full sync has completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_id: Option<HistoryId>,
    /// An unfinished full sync, so a restart resumes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<FullCheckpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<SyncProgress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<ReconcileReport>,
}

/// Where an interrupted full sync stands. Messages stored since `started_at` are not
/// fetched again on resume; the ledger knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullCheckpoint {
    /// The profile's history id, taken before listing: the cursor once the sync is done,
    /// so that changes made during the sync are picked up by the next incremental one.
    pub history_id: HistoryId,
    /// The database's clock when this full sync began.
    pub started_at: DateTime<Utc>,
    /// The `messages.list` page to read next; every page before it is fully stored.
    pub page_token: Option<String>,
    /// Messages stored (or recorded as failed) by this full sync so far.
    pub done: u64,
    pub failed: u64,
    pub total: u64,
}

/// Where a sync is and how far it got: shared with the `sync.progress` event and the UI.
pub use api::events::{Stage, SyncProgress};

/// An account as the sync needs it.
#[derive(Debug, Clone)]
pub struct SyncAccount {
    pub id: Uuid,
    pub provider: Provider,
    pub external_id: String,
    pub status: AccountStatus,
    pub state: SyncState,
}

impl SyncScope<'_> {
    /// The account and its parsed sync state. Unknown keys are ignored; a state that
    /// does not parse (written by an older version) counts as empty, which means a full
    /// sync, the safe choice.
    pub async fn sync_account(self, account: Uuid) -> Result<SyncAccount, SyncError> {
        let row = sqlx::query!(
            r#"select id, provider as "provider: Provider", external_id,
                      status as "status: AccountStatus", sync_state
               from accounts where user_id = $1 and id = $2"#,
            self.user.0,
            account,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(SyncError::AccountNotFound)?;
        Ok(SyncAccount {
            id: row.id,
            provider: row.provider,
            external_id: row.external_id,
            status: row.status,
            state: serde_json::from_value(row.sync_state).unwrap_or_default(),
        })
    }

    /// Merges `set` into the account's sync state after removing the `remove` keys, in
    /// one statement.
    pub(crate) async fn patch_sync_state(
        self,
        account: Uuid,
        set: serde_json::Value,
        remove: &[&str],
    ) -> Result<(), SyncError> {
        let remove: Vec<String> = remove.iter().map(|k| (*k).to_owned()).collect();
        sqlx::query!(
            r#"update accounts set sync_state = (sync_state - $4::text[]) || $3::jsonb
               where user_id = $1 and id = $2"#,
            self.user.0,
            account,
            set,
            &remove,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Sets the account's status. `last_error` replaces the stored one; a successful
    /// run also stamps `last_synced_at`.
    pub(crate) async fn set_account_status(
        self,
        account: Uuid,
        status: AccountStatus,
        last_error: Option<&str>,
        succeeded: bool,
    ) -> Result<(), SyncError> {
        sqlx::query!(
            r#"update accounts set status = $3, last_error = $4,
                 last_synced_at = case when $5 then now() else last_synced_at end
               where user_id = $1 and id = $2"#,
            self.user.0,
            account,
            status.as_str(),
            last_error,
            succeeded,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The database's clock, so that checkpoint times compare with `updated_at`.
    pub(crate) async fn db_now(self) -> Result<DateTime<Utc>, SyncError> {
        Ok(sqlx::query_scalar!(r#"select now() as "now!""#)
            .fetch_one(self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_match_the_stored_state() {
        for stage in [
            Stage::Listing,
            Stage::Fetching,
            Stage::Incremental,
            Stage::Reconciling,
            Stage::Idle,
        ] {
            assert_eq!(serde_json::to_value(stage).unwrap(), stage.as_str());
        }
    }
}
