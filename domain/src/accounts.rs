//! Connected sources (Gmail, webhook channels, uploads, ...). Tokens never leave this
//! layer: reads here return only what a user may see.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{DomainError, UserScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: Uuid,
    pub provider: String,
    pub external_id: String,
    pub display_name: Option<String>,
    pub status: String,
    pub last_error: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

impl UserScope<'_> {
    pub async fn accounts(&self) -> Result<Vec<AccountSummary>, DomainError> {
        let rows = sqlx::query_as!(
            AccountSummary,
            r#"select id, provider, external_id, display_name, status, last_error, last_synced_at
               from accounts where user_id = $1
               order by created_at, id"#,
            self.user.0,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows)
    }
}
