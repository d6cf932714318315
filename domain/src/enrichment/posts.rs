//! A contact's recent X posts, as stored by the X provider: the About section and Ask
//! ("what has Dana been posting about?") read them here.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::db::scopes::ContactsScope;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentPost {
    pub handle: String,
    pub text: String,
    pub posted_at: DateTime<Utc>,
}

impl ContactsScope<'_> {
    /// The contact's newest stored posts, newest first.
    pub async fn recent_posts(
        self,
        contact: Uuid,
        limit: i64,
    ) -> Result<Vec<RecentPost>, DomainError> {
        let rows = sqlx::query!(
            r#"select handle, text, posted_at from enrichment_posts
               where user_id = $1 and contact_id = $2
               order by posted_at desc limit $3"#,
            self.user.0,
            contact,
            limit.clamp(1, 100),
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RecentPost {
                handle: r.handle,
                text: r.text,
                posted_at: r.posted_at,
            })
            .collect())
    }
}
