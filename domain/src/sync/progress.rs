//! Progress reports: the account's `sync_state.progress`, a `sync.progress` event and a
//! `NOTIFY rapport_events` carrying the user id, so the server can push progress over
//! SSE. Throttled, since a fast sync would otherwise write an event per message.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::SyncError;
use super::state::{Stage, SyncProgress};
use crate::db::scopes::SyncScope;
use crate::events::{Event, SyncProgressPayload};
use crate::{Db, UserId};

pub(super) struct Reporter {
    db: Db,
    user: UserId,
    account: Uuid,
    interval: Duration,
    last_emit: Option<Instant>,
    clock: Instant,
    pub(super) progress: SyncProgress,
    /// `done` when the rate clock started, so resumed work is not counted as speed.
    done_at_start: u64,
}

impl Reporter {
    pub(super) fn new(
        db: Db,
        user: UserId,
        account: Uuid,
        interval: Duration,
        last_success_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            db,
            user,
            account,
            interval,
            last_emit: None,
            clock: Instant::now(),
            progress: SyncProgress {
                stage: Stage::Listing,
                done: 0,
                total: None,
                failed: 0,
                rate: 0.0,
                started_at: Some(Utc::now()),
                last_success_at,
                last_error: None,
                people_seen: 0,
            },
            done_at_start: 0,
        }
    }

    /// Starts counting speed from the current `done` (after a resume or a stage change).
    pub(super) fn restart_rate(&mut self) {
        self.clock = Instant::now();
        self.done_at_start = self.progress.done;
    }

    pub(super) async fn stage(&mut self, stage: Stage) -> Result<(), SyncError> {
        self.progress.stage = stage;
        self.emit(true).await
    }

    /// Writes the progress if the last write is older than the interval, or if `force`.
    pub(super) async fn emit(&mut self, force: bool) -> Result<(), SyncError> {
        if !force && self.last_emit.is_some_and(|t| t.elapsed() < self.interval) {
            return Ok(());
        }
        let elapsed = self.clock.elapsed().as_secs_f64();
        if elapsed > 0.0 {
            let done = self.progress.done.saturating_sub(self.done_at_start) as f64;
            self.progress.rate = (done * 60.0 / elapsed * 10.0).round() / 10.0;
        }
        self.last_emit = Some(Instant::now());
        let scope = self.db.for_user(self.user);
        self.progress.people_seen = scope.sync().people_seen().await?;
        scope
            .sync()
            .record_sync_progress(self.account, &self.progress)
            .await
    }
}

impl SyncScope<'_> {
    /// How many other people (distinct email addresses that are not one of the user's
    /// accounts) appear in the user's stored mail.
    pub(crate) async fn people_seen(self) -> Result<u64, SyncError> {
        let n = sqlx::query_scalar!(
            r#"select count(distinct p.address) as "n!" from activity_participants p
               where p.user_id = $1 and p.address_kind = 'email'
                 and p.address not in (select lower(external_id) from accounts where user_id = $1)"#,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// One progress write: the state, the event and the notification, atomically.
    pub(crate) async fn record_sync_progress(
        self,
        account: Uuid,
        progress: &SyncProgress,
    ) -> Result<(), SyncError> {
        let value = serde_json::to_value(progress).map_err(|e| SyncError::Encode(e.to_string()))?;
        let event = Event::SyncProgress(SyncProgressPayload {
            account_id: account,
            progress: progress.clone(),
        });
        self.store_sync_state_and_publish(account, "progress", value, &event)
            .await
    }

    /// Sets one key of the account's `sync_state` and publishes an event about it in the
    /// same transaction, so a listener never sees an event before the state it describes.
    pub(crate) async fn store_sync_state_and_publish(
        self,
        account: Uuid,
        key: &str,
        value: serde_json::Value,
        event: &Event,
    ) -> Result<(), SyncError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query!(
            r#"update accounts set sync_state = jsonb_set(sync_state, array[$4::text], $3::jsonb)
               where user_id = $1 and id = $2"#,
            self.user.0,
            account,
            value,
            key,
        )
        .execute(&mut *tx)
        .await?;
        self.events().record(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }
}
