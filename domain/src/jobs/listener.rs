//! Wakes idle workers when work arrives, instead of polling a table in a tight loop.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// A `LISTEN` connection of one worker on one channel.
pub struct WorkListener {
    listener: PgListener,
}

impl WorkListener {
    pub async fn connect(pool: &PgPool, channel: &str) -> Result<Self, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel).await?;
        Ok(Self { listener })
    }

    /// Waits until a notification with one of `payloads` (any payload when empty)
    /// arrives or `timeout` passes. Returns whether a notification arrived. Callers still
    /// claim afterwards: a notification is a hint, and the timeout covers work that
    /// becomes due later (retries, `run_at`).
    pub async fn wait_for_work(
        &mut self,
        payloads: &[String],
        timeout: Duration,
    ) -> Result<bool, sqlx::Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.listener.recv()).await {
                Err(_elapsed) => return Ok(false),
                Ok(notification) => {
                    let notification = notification?;
                    if payloads.is_empty() || payloads.iter().any(|p| p == notification.payload()) {
                        return Ok(true);
                    }
                }
            }
        }
    }
}
