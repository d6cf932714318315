//! A user's "Retry" on a failed or dead activity.
//!
//! Semantics: the activity goes back to `raw`, due now, with its attempts reset to 0 and
//! its error cleared. Resetting gives it the full attempt budget again: a retry is asked
//! for after the cause was fixed (a configuration, a provider outage), and keeping the
//! count would kill a dead activity again on its first new failure. The previous error
//! stays in the logs; the next outcome (completed, or a new error) replaces it.

use api::ActivityState;
use uuid::Uuid;

use super::queue::notify_claimable;
use super::state_events::StateChanges;
use crate::DomainError;
use crate::db::scopes::ProcessingScope;

impl ProcessingScope<'_> {
    /// Queues one of this user's failed or dead activities for processing again now.
    /// `NotFound` for someone else's activity; `Conflict` when it has not failed.
    pub async fn retry(self, activity: Uuid) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let state = sqlx::query_scalar!(
            r#"select state as "state: ActivityState" from activities
               where user_id = $1 and id = $2 for update"#,
            self.user.0,
            activity,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("activity"))?;
        if !matches!(state, ActivityState::Failed | ActivityState::Dead) {
            return Err(DomainError::invalid(
                "activity",
                "only a failed activity can be retried",
            ));
        }
        sqlx::query!(
            r#"update activities
               set state = 'raw', attempts = 0, last_error = null, next_attempt_at = now()
               where user_id = $1 and id = $2"#,
            self.user.0,
            activity,
        )
        .execute(&mut *tx)
        .await?;
        let mut raw = StateChanges::default();
        raw.add(self.user, activity);
        raw.publish(&mut tx, ActivityState::Raw).await?;
        notify_claimable(&mut *tx)
            .await
            .map_err(DomainError::from)?;
        tx.commit().await?;
        Ok(())
    }
}
