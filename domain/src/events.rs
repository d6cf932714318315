//! Everything that happens is an event: a row in `events` with its kind's name and
//! payload ([`api::events`] defines both), written by [`record`] in the same transaction
//! as the change it describes, so a rolled-back change leaves no event behind.
//!
//! Live kinds (sync progress, activity states, ...) are also announced by
//! `NOTIFY rapport_events` carrying the user id. The row is the message and the
//! notification only a wake-up, so a listener that reconnects or falls behind reads what
//! it missed from the table by id instead of losing it. Recorded-only kinds (sign-ins,
//! mail, contacts, questions) are history: exported, never sent to browsers.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use api::events::*;
pub use feed::{FeedRead, LiveCursor};

use crate::db::scopes::EventsScope;
use crate::{Db, UserId};

mod feed;

/// The channel the server listens on for user-visible events.
pub const EVENTS_CHANNEL: &str = "rapport_events";

/// Most events handed out per read; a client far behind catches up in several reads.
pub const EVENTS_PAGE: i64 = 200;

/// Rows deleted per statement by [`Db::delete_events_before`], so retention never
/// holds a long lock.
const RETENTION_BATCH: i64 = 5_000;

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Records `event` for `user` on `conn`: the transaction making the change the event
/// describes, so both commit or neither does. A live kind also notifies listeners, who
/// hear of it when the transaction commits. Returns the event's id.
pub async fn record(
    conn: &mut PgConnection,
    user: UserId,
    event: &Event,
) -> Result<i64, sqlx::Error> {
    let kind = event.kind();
    let data = event.data().map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let id = sqlx::query_scalar!(
        r#"insert into events (user_id, kind, data, live) values ($1, $2, $3, $4) returning id"#,
        user.0,
        kind.as_str(),
        data,
        kind.is_live(),
    )
    .fetch_one(&mut *conn)
    .await?;
    if kind.is_live() {
        sqlx::query!(
            r#"select pg_notify($1, $2::uuid::text)"#,
            EVENTS_CHANNEL,
            user.0,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// One line of `server export-events`: an event with its id, time, kind and owner.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExportedEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub user: Uuid,
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("could not write the events: {0}")]
    Write(#[from] std::io::Error),
}

impl EventsScope<'_> {
    /// Records `event` for this user on `conn` (see [`record`]).
    pub(crate) async fn record(
        self,
        conn: &mut PgConnection,
        event: &Event,
    ) -> Result<i64, sqlx::Error> {
        record(conn, self.user, event).await
    }

    /// This user's events of every kind, live or recorded, with an id above `after` and
    /// created at or after `since`, oldest first, at most `limit`.
    pub async fn history_after(
        self,
        after: i64,
        since: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        sqlx::query_as!(
            StoredEvent,
            r#"select id, kind, data, created_at from events
               where user_id = $1 and id > $2 and ($3::timestamptz is null or created_at >= $3)
               order by id limit $4"#,
            self.user.0,
            after,
            since,
            limit,
        )
        .fetch_all(self.pool)
        .await
    }

    /// The id of this user's newest live event (0 when there is none): where a live
    /// view rendered now starts listening, so it misses nothing between render and
    /// connect.
    pub async fn last_event_id(self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select coalesce(max(id), 0) as "id!" from events where user_id = $1 and live"#,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await
    }

    /// Writes this user's events (every kind) created at or after `since` to `out` as
    /// JSON Lines, one [`ExportedEvent`] per line, oldest first. Returns how many.
    pub async fn export_events(
        self,
        since: Option<DateTime<Utc>>,
        out: &mut impl std::io::Write,
    ) -> Result<u64, ExportError> {
        let (mut after, mut written) = (0, 0);
        loop {
            let page = self.history_after(after, since, 1_000).await?;
            let Some(last) = page.last() else {
                return Ok(written);
            };
            after = last.id;
            for event in page {
                let line = ExportedEvent {
                    id: event.id,
                    at: event.created_at,
                    kind: event.kind,
                    user: self.user.0,
                    data: event.data,
                };
                serde_json::to_writer(&mut *out, &line).map_err(std::io::Error::from)?;
                writeln!(out)?;
                written += 1;
            }
        }
    }
}

impl Db {
    /// Deletes every user's events created before `cutoff` (retention), in batches.
    /// Returns how many were deleted.
    pub async fn delete_events_before(&self, cutoff: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let mut deleted = 0;
        loop {
            let n = sqlx::query!(
                r#"delete from events where id in (
                     select id from events where created_at < $1 limit $2)"#,
                cutoff,
                RETENTION_BATCH,
            )
            .execute(self.pool())
            .await?
            .rows_affected();
            deleted += n;
            if n < RETENTION_BATCH as u64 {
                return Ok(deleted);
            }
        }
    }
}

/// Who should look for new events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    User(UserId),
    /// Notifications may have been missed (the listener reconnected or a subscriber
    /// fell behind): everyone re-reads.
    Everyone,
}

impl Wake {
    pub fn concerns(self, user: UserId) -> bool {
        match self {
            Self::User(u) => u == user,
            Self::Everyone => true,
        }
    }
}

/// One `LISTEN rapport_events` connection per process, fanned out to every open live
/// view through a broadcast channel.
#[derive(Clone, Debug)]
pub struct EventHub {
    wakes: broadcast::Sender<Wake>,
    stop: CancellationToken,
}

impl EventHub {
    /// Starts listening; the task ends when `stop` is cancelled.
    pub fn start(db: &Db, stop: CancellationToken) -> Self {
        let (wakes, _) = broadcast::channel(1024);
        tokio::spawn(listen(db.clone(), wakes.clone(), stop.clone()));
        Self { wakes, stop }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.wakes.subscribe()
    }

    /// Cancelled at shutdown, so open streams end and the server can stop.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }
}

async fn listen(db: Db, wakes: broadcast::Sender<Wake>, stop: CancellationToken) {
    let mut retry = Duration::from_millis(250);
    while !stop.is_cancelled() {
        let mut listener = match connect(&db).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "could not listen for events; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(retry) => {}
                }
                retry = (retry * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        retry = Duration::from_millis(250);
        // Anything sent while we were not listening is in the table.
        let _ = wakes.send(Wake::Everyone);
        loop {
            let notification = tokio::select! {
                _ = stop.cancelled() => return,
                n = listener.recv() => n,
            };
            match notification {
                Ok(n) => {
                    if let Ok(user) = n.payload().parse::<Uuid>() {
                        let _ = wakes.send(Wake::User(UserId(user)));
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "event listener lost its connection");
                    break;
                }
            }
        }
    }
}

async fn connect(db: &Db) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(db.pool()).await?;
    listener.listen(EVENTS_CHANNEL).await?;
    Ok(listener)
}
