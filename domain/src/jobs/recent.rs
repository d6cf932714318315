use chrono::{DateTime, Utc};

use crate::{DomainError, UserScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSummary {
    pub kind: String,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

impl UserScope<'_> {
    /// The user's most recent background jobs, newest first.
    pub async fn recent_jobs(&self, limit: i64) -> Result<Vec<JobSummary>, DomainError> {
        let rows = sqlx::query_as!(
            JobSummary,
            r#"select kind, state, created_at, last_error from jobs
               where user_id = $1 order by created_at desc, id limit $2"#,
            self.user.0,
            limit,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows)
    }
}
