//! Reading the text of one of a user's activities for its summary.

use api::{Channel, Direction};
use uuid::Uuid;

use super::{SummaryError, SummarySource};
use crate::db::scopes::ProcessingScope;

impl ProcessingScope<'_> {
    /// The text to summarise of this user's `activity`; `NoText` when it has none (or
    /// was deleted since it was claimed).
    pub async fn summary_source(self, activity: Uuid) -> Result<SummarySource, SummaryError> {
        let row = sqlx::query!(
            r#"select channel as "channel: Channel", direction as "direction: Direction", subject, body_text
               from activities where user_id = $1 and id = $2 and deleted_at is null"#,
            self.user.0,
            activity,
        )
        .fetch_optional(self.pool)
        .await?;
        let row = row.ok_or(SummaryError::NoText)?;
        let body_text = row
            .body_text
            .filter(|t| !t.trim().is_empty())
            .ok_or(SummaryError::NoText)?;
        Ok(SummarySource {
            channel: row.channel,
            direction: row.direction,
            subject: row.subject,
            body_text,
        })
    }
}
