//! Background jobs on the `jobs` table. Workers claim one job at a time with
//! `FOR UPDATE SKIP LOCKED` and hold it under a lease (owner + expiry) that they renew
//! while working; a worker that dies simply lets its lease run out, and
//! [`JobQueue::reclaim_expired`] puts the job back. Several workers, in one process or
//! many, can share one database safely: the row lock decides who gets a job, and every
//! later write checks that the lease is still held by the writer.

mod backoff;
mod listener;
mod queue;
mod recent;
mod worker;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::UserId;

pub use backoff::Backoff;
pub use listener::WorkListener;
pub use queue::JobQueue;
pub use recent::JobSummary;
pub use worker::{JobHandler, Worker, WorkerOptions};

/// The channel `NOTIFY` uses when a job becomes queued (see the jobs_notify migration).
pub const CHANNEL: &str = "rapport_jobs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Dead,
}

impl JobState {
    fn parse(state: &str) -> Result<Self, QueueError> {
        match state {
            "queued" => Ok(Self::Queued),
            "running" => Ok(Self::Running),
            "succeeded" => Ok(Self::Succeeded),
            "dead" => Ok(Self::Dead),
            other => Err(QueueError::UnknownState(other.to_owned())),
        }
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

/// What to enqueue. Build with [`NewJob::new`] and the `with_*` methods.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub user: Option<UserId>,
    /// At most one live (queued or running) job per key, e.g. `sync:<account>`.
    pub unique_key: Option<String>,
    /// Not before this time; now when `None`.
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: i32,
}

impl NewJob {
    pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            payload,
            user: None,
            unique_key: None,
            run_at: None,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn with_user(mut self, user: UserId) -> Self {
        self.user = Some(user);
        self
    }

    pub fn with_unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn with_run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    pub fn with_max_attempts(mut self, attempts: i32) -> Self {
        self.max_attempts = attempts;
        self
    }
}

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

/// Errors of the queue itself.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The job's lease expired or passed to another worker; the caller must stop
    /// working on it, since someone else may already be running it.
    #[error("lease on job {0} was lost")]
    LeaseLost(JobId),
    #[error("invalid job: {0}")]
    Invalid(&'static str),
    #[error("job row has unknown state {0:?}")]
    UnknownState(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
