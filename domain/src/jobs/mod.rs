//! Background jobs on the `jobs` table, and the lease queue machinery every leased table
//! shares ([`lease`]). Workers claim one job at a time with `FOR UPDATE SKIP LOCKED` and
//! hold it under a lease (owner + expiry) that they renew while working; a worker that
//! dies simply lets its lease run out, and [`LeasedTable::release_expired`] puts the job
//! back. Several workers, in one process or many, can share one database safely: the row
//! lock decides who gets a job, and every later write checks that the lease is still
//! held by the writer.
//!
//! A job type is one struct and one [`BackgroundJob`] impl (its kind, payload and
//! handler together), enqueued with [`JobQueue::enqueue`] (or
//! [`scope.jobs().enqueue`](crate::db::scopes::JobsScope)) and registered once in a [`JobRegistry`] that the
//! [`Worker`]s dispatch with.

mod backoff;
pub mod lease;
mod listener;
mod queue;
mod recent;
mod registry;
mod schedule;
mod worker;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::UserId;

pub use api::JobState;

pub use backoff::Backoff;
pub use lease::{
    Claimed, Disposition, Failed, LeaseConfig, LeaseOptions, LeasedRows, LeasedTable, Leases, Wake,
};
pub use listener::WorkListener;
pub use queue::JobQueue;
pub use registry::{BackgroundJob, JobRegistry};
pub use schedule::enqueue_every;
pub use worker::{Worker, WorkerOptions};

/// The channel `NOTIFY` uses when a job becomes queued (see the jobs_notify migration).
pub const CHANNEL: &str = "rapport_jobs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct JobId(pub Uuid);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Who holds a lease: unique per worker, e.g. `host:pid:n`, so a lease lost to another
/// worker is detected on the next write.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkerId(String);

impl WorkerId {
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// A fresh id for this process: `pid:random`.
    pub fn generate() -> Self {
        Self(format!(
            "{}:{}",
            std::process::id(),
            Uuid::new_v4().simple()
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WorkerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A job as stored. `attempts` counts claims: it is incremented when a worker takes the
/// job, so a job whose worker crashes every time still reaches `max_attempts`.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    /// `None` for system jobs (maintenance, cleanup).
    pub user: Option<UserId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub unique_key: Option<String>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

impl lease::Claimed for Job {
    type Id = JobId;

    fn id(&self) -> JobId {
        self.id
    }

    fn attempts(&self) -> i32 {
        self.attempts
    }
}

/// A job row to insert, made from a [`BackgroundJob`] by [`JobQueue::enqueue`].
#[derive(Debug, Clone, PartialEq)]
struct NewJob {
    kind: &'static str,
    payload: serde_json::Value,
    user: Option<UserId>,
    /// At most one live (queued or running) job per key, e.g. `gmail.sync:<account>`.
    unique_key: Option<String>,
    /// Not before this time; now when `None`.
    run_at: Option<DateTime<Utc>>,
    max_attempts: i32,
}

/// Attempts of a job type that does not say otherwise ([`BackgroundJob::max_attempts`]).
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

/// Result of [`JobQueue::enqueue`]: the new job, or the live job that already had the
/// same unique key (then `created` is false and nothing was inserted).
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueued {
    pub job: Job,
    pub created: bool,
}

/// How a handler failed: the worker retries a [`JobError::Retryable`] failure with
/// backoff and buries a [`JobError::Permanent`] one at once (retrying cannot fix it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Retryable(String),
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Errors of the queue itself.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The job's lease expired or passed to another worker; the caller must stop
    /// working on it, since someone else may already be running it.
    #[error("lease on job {0} was lost")]
    LeaseLost(JobId),
    #[error("invalid job: {0}")]
    Invalid(&'static str),
    #[error("job payload cannot be stored: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
