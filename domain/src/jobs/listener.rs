//! Wakes idle workers when a job is queued, instead of polling the table in a tight loop.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::{CHANNEL, QueueError};

/// A `LISTEN rapport_jobs` connection of one worker.
pub struct WorkListener {
    listener: PgListener,
}

impl WorkListener {
    pub async fn connect(pool: &PgPool) -> Result<Self, QueueError> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Self { listener })
    }

    /// Waits until a job of one of `kinds` is queued or `timeout` passes. Returns
    /// whether a notification arrived. Callers still claim afterwards: a notification
    /// is a hint, and the timeout covers jobs that become due later (retries, `run_at`).
    pub async fn wait_for_work(
        &mut self,
        kinds: &[String],
        timeout: Duration,
    ) -> Result<bool, QueueError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.listener.recv()).await {
                Err(_elapsed) => return Ok(false),
                Ok(notification) => {
                    let notification = notification?;
                    if kinds.iter().any(|k| k == notification.payload()) {
                        return Ok(true);
                    }
                }
            }
        }
    }
}
