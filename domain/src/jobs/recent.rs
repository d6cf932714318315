use api::settings::JobRow;

use crate::{DomainError, UserScope};

/// One of the user's recent jobs: the settings page's [`JobRow`], read through `Deref`.
/// Only a wrapper so the pages' `Into` keeps converting; it can give way to `JobRow`
/// itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSummary(pub JobRow);

impl std::ops::Deref for JobSummary {
    type Target = JobRow;

    fn deref(&self) -> &JobRow {
        &self.0
    }
}

impl From<JobSummary> for JobRow {
    fn from(j: JobSummary) -> Self {
        j.0
    }
}

impl UserScope<'_> {
    /// The user's most recent background jobs, newest first.
    pub async fn recent_jobs(&self, limit: i64) -> Result<Vec<JobSummary>, DomainError> {
        let rows = sqlx::query_as!(
            JobRow,
            r#"select kind, state, created_at, last_error from jobs
               where user_id = $1 order by created_at desc, id limit $2"#,
            self.user.0,
            limit,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(JobSummary).collect())
    }
}
