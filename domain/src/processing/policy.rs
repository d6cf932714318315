//! Reading and changing an account's contact policy. A change sends the account's past
//! activities back through processing, which creates the contacts the new policy
//! allows and links every participation to them.

use uuid::Uuid;

use super::queue::notify_claimable;
use super::{ContactPolicy, ProcessingError};
use crate::db::scopes::ProcessingScope;

impl ProcessingScope<'_> {
    pub async fn contact_policy(self, account: Uuid) -> Result<ContactPolicy, ProcessingError> {
        let value = sqlx::query_scalar!(
            "select contact_policy from accounts where user_id = $1 and id = $2",
            self.user.0,
            account,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(ProcessingError::AccountNotFound)?;
        ContactPolicy::parse(&value).map_err(|e| ProcessingError::Invalid(e.to_string()))
    }

    /// Sets the policy; when it changed, queues the account's activities for
    /// re-processing and returns how many were queued. Contacts made under the old policy
    /// stay: they may carry the user's notes and edits.
    pub async fn set_contact_policy(
        self,
        account: Uuid,
        policy: ContactPolicy,
    ) -> Result<u64, ProcessingError> {
        let mut tx = self.pool.begin().await?;
        let previous = sqlx::query_scalar!(
            r#"update accounts a set contact_policy = $3
               from accounts old
               where old.id = a.id and a.user_id = $1 and a.id = $2
               returning old.contact_policy"#,
            self.user.0,
            account,
            policy.as_str(),
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ProcessingError::AccountNotFound)?;
        if previous == policy.as_str() {
            tx.commit().await?;
            return Ok(0);
        }
        let queued = self.reprocess_account_in(&mut tx, account).await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Queues every finished activity of the account (completed, failed or dead) for
    /// processing again. Activities being processed right now keep their lease.
    pub async fn reprocess_account(self, account: Uuid) -> Result<u64, ProcessingError> {
        let mut tx = self.pool.begin().await?;
        let queued = self.reprocess_account_in(&mut tx, account).await?;
        tx.commit().await?;
        Ok(queued)
    }

    async fn reprocess_account_in(
        self,
        tx: &mut sqlx::PgConnection,
        account: Uuid,
    ) -> Result<u64, ProcessingError> {
        let queued = sqlx::query!(
            r#"update activities
               set state = 'raw', attempts = 0, next_attempt_at = now(), last_error = null
               where user_id = $1 and account_id = $2
                 and state in ('completed', 'failed', 'dead')"#,
            self.user.0,
            account,
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if queued > 0 {
            notify_claimable(&mut *tx).await?;
        }
        Ok(queued)
    }
}
