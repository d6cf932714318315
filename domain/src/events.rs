//! Things the user should see happen live (sync progress, imports): rows in `events`,
//! announced by `NOTIFY rapport_events` carrying the user id. The row is the message and
//! the notification only a wake-up, so a listener that reconnects or falls behind reads
//! what it missed from the table by id instead of losing it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{Db, UserId, UserScope};

/// The channel the server listens on for user-visible events.
pub const EVENTS_CHANNEL: &str = "rapport_events";

/// Most events handed out per read; a client far behind catches up in several reads.
pub const EVENTS_PAGE: i64 = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl UserScope<'_> {
    /// Stores an event inside `tx` and notifies listeners when `tx` commits, so nobody
    /// hears of an event before the data it describes is visible.
    pub(crate) async fn publish_event(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        kind: &str,
        data: serde_json::Value,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            r#"insert into events (user_id, kind, data) values ($1, $2, $3)"#,
            self.user.0,
            kind,
            data,
        )
        .execute(&mut **tx)
        .await?;
        sqlx::query!(
            r#"select pg_notify($1, $2::uuid::text)"#,
            EVENTS_CHANNEL,
            self.user.0,
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// This user's events with an id above `after`, oldest first, at most [`EVENTS_PAGE`].
    pub async fn events_after(&self, after: i64) -> Result<Vec<Event>, sqlx::Error> {
        sqlx::query_as!(
            Event,
            r#"select id, kind, data, created_at from events
               where user_id = $1 and id > $2 order by id limit $3"#,
            self.user.0,
            after,
            EVENTS_PAGE,
        )
        .fetch_all(self.pool)
        .await
    }

    /// The id of this user's newest event (0 when there is none): where a live view
    /// rendered now starts listening, so it misses nothing between render and connect.
    pub async fn last_event_id(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select coalesce(max(id), 0) as "id!" from events where user_id = $1"#,
            self.user.0,
        )
        .fetch_one(self.pool)
        .await
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
