use api::JobState;
use api::settings::JobRow;

use crate::DomainError;
use crate::db::scopes::JobsScope;

impl JobsScope<'_> {
    /// The user's most recent background jobs, newest first.
    pub async fn recent(self, limit: i64) -> Result<Vec<JobRow>, DomainError> {
        let rows = sqlx::query_as!(
            JobRow,
            r#"select kind, state as "state: JobState", created_at, last_error from jobs
               where user_id = $1 order by created_at desc, id limit $2"#,
            self.user.0,
            limit,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows)
    }
}
