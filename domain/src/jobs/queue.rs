//! The queue operations. Each is one statement, so a crash between statements never
//! leaves a job half-claimed; lease checks live in the `where` clauses.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::lease::{Disposition, LeaseConfig, LeasedRows, LeasedTable, Wake, config_in_field};
use super::{
    BackgroundJob, Backoff, CHANNEL, DEFAULT_MAX_ATTEMPTS, Enqueued, Job, JobId, JobState, NewJob,
    QueueError, WorkerId,
};
use crate::db::scopes::JobsScope;
use crate::{Db, UserId};

/// Handle to the jobs table. Jobs span users (a worker runs everyone's), so the queue
/// works on the pool directly; user-owned enqueues go through [`JobsScope::enqueue`](crate::db::scopes::JobsScope).
/// As a [`LeasedTable`] it claims the kinds it serves ([`JobQueue::serving`]).
#[derive(Debug, Clone)]
pub struct JobQueue {
    config: LeaseConfig,
    kinds: Arc<[String]>,
}

struct JobRow {
    id: Uuid,
    user_id: Option<Uuid>,
    kind: String,
    payload: serde_json::Value,
    state: JobState,
    unique_key: Option<String>,
    attempts: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    last_error: Option<String>,
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
}

impl From<JobRow> for Job {
    fn from(row: JobRow) -> Self {
        Job {
            id: JobId(row.id),
            user: row.user_id.map(UserId),
            kind: row.kind,
            payload: row.payload,
            state: row.state,
            unique_key: row.unique_key,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at: row.run_at,
            last_error: row.last_error,
            lease_owner: row.lease_owner,
            lease_expires_at: row.lease_expires_at,
        }
    }
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Db {
    pub fn jobs(&self) -> JobQueue {
        JobQueue::new(self.pool())
    }
}

impl JobsScope<'_> {
    /// Enqueues a job owned by this user (deleted with the user).
    pub async fn enqueue<J: BackgroundJob>(self, job: &J) -> Result<Enqueued, QueueError> {
        JobQueue::new(self.pool).enqueue(Some(self.user), job).await
    }
}

impl JobQueue {
    fn new(pool: &PgPool) -> Self {
        Self {
            config: LeaseConfig::new(pool, CHANNEL, Backoff::default(), DEFAULT_MAX_ATTEMPTS),
            kinds: Arc::new([]),
        }
    }

    /// The same queue claiming (as a [`LeasedTable`]) and woken by jobs of `kinds`.
    pub fn serving(mut self, kinds: Vec<String>) -> Self {
        self.kinds = kinds.into();
        self
    }

    /// The one way to queue a job: inserts `job` (owned by `user`, or a system job when
    /// `None`), or returns the live job holding the same unique key. Workers are woken
    /// by the insert trigger's `NOTIFY`.
    pub async fn enqueue<J: BackgroundJob>(
        &self,
        user: Option<UserId>,
        job: &J,
    ) -> Result<Enqueued, QueueError> {
        self.insert(NewJob {
            kind: J::KIND,
            payload: serde_json::to_value(job)?,
            user,
            unique_key: job.unique_key(),
            run_at: job.run_at(),
            max_attempts: job.max_attempts(),
        })
        .await
    }

    async fn insert(&self, job: NewJob) -> Result<Enqueued, QueueError> {
        if job.kind.is_empty() {
            return Err(QueueError::Invalid("kind is empty"));
        }
        if job.max_attempts < 1 {
            return Err(QueueError::Invalid("max_attempts must be at least 1"));
        }
        // The live job can finish between a conflicting insert and the look-up; then
        // the insert is simply tried again.
        for _ in 0..3 {
            let inserted = sqlx::query_as!(
                JobRow,
                r#"insert into jobs (user_id, kind, payload, unique_key, run_at, max_attempts)
                   values ($1, $2, $3, $4, coalesce($5, now()), $6)
                   on conflict (unique_key)
                     where unique_key is not null and state in ('queued', 'running')
                     do nothing
                   returning id, user_id, kind, payload, state as "state: JobState", unique_key, attempts,
                             max_attempts, run_at, last_error, lease_owner, lease_expires_at"#,
                job.user.map(|u| u.0),
                job.kind,
                job.payload,
                job.unique_key,
                job.run_at,
                job.max_attempts,
            )
            .fetch_optional(&self.config.pool)
            .await?;
            if let Some(row) = inserted {
                return Ok(Enqueued {
                    job: row.into(),
                    created: true,
                });
            }
            let existing = sqlx::query_as!(
                JobRow,
                r#"select id, user_id, kind, payload, state as "state: JobState", unique_key, attempts,
                          max_attempts, run_at, last_error, lease_owner, lease_expires_at
                   from jobs
                   where unique_key = $1 and state in ('queued', 'running')"#,
                job.unique_key,
            )
            .fetch_optional(&self.config.pool)
            .await?;
            if let Some(row) = existing {
                return Ok(Enqueued {
                    job: row.into(),
                    created: false,
                });
            }
        }
        Err(QueueError::Invalid(
            "unique key kept changing hands while enqueueing",
        ))
    }

    /// Claims the oldest due job of one of `kinds` for `worker`, leased for `lease`.
    /// Counts an attempt. Concurrent claimers skip rows another claimer has locked, so
    /// no job is handed out twice.
    pub async fn claim_next(
        &self,
        worker: &WorkerId,
        kinds: &[String],
        lease: Duration,
    ) -> Result<Option<Job>, QueueError> {
        let row = sqlx::query_as!(
            JobRow,
            r#"update jobs set state = 'running', attempts = attempts + 1,
                      lease_owner = $1, lease_expires_at = now() + make_interval(secs => $3)
               where id = (
                 select id from jobs
                 where state = 'queued' and run_at <= now() and kind = any($2)
                 order by run_at, id
                 limit 1
                 for update skip locked)
               returning id, user_id, kind, payload, state as "state: JobState", unique_key, attempts,
                         max_attempts, run_at, last_error, lease_owner, lease_expires_at"#,
            worker.as_str(),
            kinds,
            seconds(lease),
        )
        .fetch_optional(&self.config.pool)
        .await?;
        Ok(row.map(Job::from))
    }

    /// Extends the lease. Fails with [`QueueError::LeaseLost`] when the lease expired
    /// or belongs to someone else: the worker must then abandon the job.
    pub async fn heartbeat(
        &self,
        job: JobId,
        worker: &WorkerId,
        lease: Duration,
    ) -> Result<DateTime<Utc>, QueueError> {
        sqlx::query_scalar!(
            r#"update jobs set lease_expires_at = now() + make_interval(secs => $3)
               where id = $1 and state = 'running' and lease_owner = $2
                 and lease_expires_at > now()
               returning lease_expires_at as "lease_expires_at!""#,
            job.0,
            worker.as_str(),
            seconds(lease),
        )
        .fetch_optional(&self.config.pool)
        .await?
        .ok_or(QueueError::LeaseLost(job))
    }

    /// Marks a job done. Only the lease holder may do so.
    pub async fn complete(&self, job: JobId, worker: &WorkerId) -> Result<(), QueueError> {
        let done = sqlx::query!(
            r#"update jobs set state = 'succeeded', finished_at = now(),
                      lease_owner = null, lease_expires_at = null, last_error = null
               where id = $1 and state = 'running' and lease_owner = $2"#,
            job.0,
            worker.as_str(),
        )
        .execute(&self.config.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(QueueError::LeaseLost(job));
        }
        Ok(())
    }

    /// One job by id, for status pages and tests.
    pub async fn get(&self, id: JobId) -> Result<Option<Job>, QueueError> {
        let row = sqlx::query_as!(
            JobRow,
            r#"select id, user_id, kind, payload, state as "state: JobState", unique_key, attempts,
                      max_attempts, run_at, last_error, lease_owner, lease_expires_at
               from jobs where id = $1"#,
            id.0,
        )
        .fetch_optional(&self.config.pool)
        .await?;
        Ok(row.map(Job::from))
    }
}

impl LeasedTable for JobQueue {
    type Item = Job;
    type Error = QueueError;
    const NAME: &'static str = "job";
    const ROWS: LeasedRows = LeasedRows {
        table: "jobs",
        id: "id",
        state: "running",
        owner: "lease_owner",
        due: "run_at",
        waiting: "state = 'queued'",
    };

    config_in_field!();

    /// Only notifications of the kinds this queue serves.
    fn wake(&self) -> Wake<'_> {
        Wake {
            channel: CHANNEL,
            payloads: &self.kinds,
        }
    }

    /// Each job carries its own budget.
    fn max_attempts(&self, job: &Job) -> i32 {
        job.max_attempts
    }

    fn lease_lost(id: JobId) -> QueueError {
        QueueError::LeaseLost(id)
    }

    /// Claims one job at a time (oldest due first), up to `batch`.
    async fn claim(
        &self,
        worker: &WorkerId,
        batch: i64,
        lease: Duration,
    ) -> Result<Vec<Job>, QueueError> {
        let mut claimed = Vec::new();
        while (claimed.len() as i64) < batch {
            match self.claim_next(worker, &self.kinds, lease).await? {
                Some(job) => claimed.push(job),
                None => break,
            }
        }
        Ok(claimed)
    }

    async fn renew(
        &self,
        worker: &WorkerId,
        ids: &[JobId],
        lease: Duration,
    ) -> Result<Vec<JobId>, QueueError> {
        let mut held = Vec::with_capacity(ids.len());
        for &id in ids {
            match self.heartbeat(id, worker, lease).await {
                Ok(_) => held.push(id),
                Err(QueueError::LeaseLost(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(held)
    }

    /// A retry is queued again after its delay; a dead job is finished with its error.
    async fn record_failure(
        &self,
        job: &Job,
        worker: &WorkerId,
        error: &str,
        disposition: Disposition,
    ) -> Result<bool, QueueError> {
        let done = sqlx::query!(
            r#"update jobs set
                 state = case when $3 then 'dead' else 'queued' end,
                 finished_at = case when $3 then now() end,
                 run_at = case when $3 then run_at else now() + make_interval(secs => $5) end,
                 last_error = $4, lease_owner = null, lease_expires_at = null
               where id = $1 and state = 'running' and lease_owner = $2"#,
            job.id.0,
            worker.as_str(),
            disposition.is_dead(),
            error,
            seconds(disposition.delay()),
        )
        .execute(&self.config.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Jobs of every kind: a dead worker may have served kinds this one does not.
    async fn release_expired(&self) -> Result<u64, QueueError> {
        let done = sqlx::query!(
            r#"update jobs set
                 state = case when attempts >= max_attempts then 'dead' else 'queued' end,
                 finished_at = case when attempts >= max_attempts then now() end,
                 last_error = 'lease expired (held by ' || lease_owner || ')',
                 lease_owner = null, lease_expires_at = null
               where state = 'running' and lease_expires_at < now()"#,
        )
        .execute(&self.config.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, QueueError> {
        Ok(sqlx::query_scalar!(
            r#"select min(run_at) from jobs where state = 'queued' and kind = any($1)"#,
            &self.kinds[..],
        )
        .fetch_one(&self.config.pool)
        .await?)
    }
}
