//! `GET /api/events`: the signed-in user's live events (sync progress, activity states,
//! imports; see [`domain::events::Delivery`]) as Server-Sent Events: the SSE `event` is
//! the kind's name and the `data` an [`domain::events::LiveMessage`]. Recorded-only kinds
//! (sign-ins, views, ...) are never sent. Each SSE id is the event row's id, so a browser
//! that reconnects (`Last-Event-ID`) or a page that says where it rendered from
//! (`?after=`) gets what it has not seen. Events go out in id order, except one whose
//! transaction committed after a newer one's: it follows as soon as it commits (see
//! [`LiveCursor`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use app::AppError;
use app::ssr::CurrentUser;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use domain::events::{LiveCursor, LiveMessage, StoredEvent, Wake};
use domain::limits::StreamSlot;
use domain::{Db, UserId};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::startup::AppState;

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// The newest event id the page already reflects.
    after: Option<i64>,
}

pub async fn events(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, AppError> {
    // A place among the user's (and the server's) open streams, held by the feed and
    // given back when the stream is dropped (the browser left, or shutdown).
    let slot = state.limits.streams.acquire(user.id)?;
    // Subscribe before the first read, so nothing committed in between goes unheard.
    let wakes = state.events.subscribe();
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let seen = match resume.or(query.after) {
        Some(id) => id.max(0),
        None => state
            .db
            .for_user(user.id)
            .events()
            .last_event_id()
            .await
            .unwrap_or_default(),
    };
    let feed = Feed {
        db: state.db.clone(),
        user: user.id,
        cursor: LiveCursor::after(seen),
        wakes,
        pending: VecDeque::new(),
        stop: state.events.stopping(),
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(to_sse(event)), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn to_sse(event: StoredEvent) -> SseEvent {
    let message = LiveMessage {
        data: event.data,
        at: event.created_at,
    };
    SseEvent::default()
        .id(event.id.to_string())
        .event(event.kind)
        .data(serde_json::to_string(&message).unwrap_or_default())
}

struct Feed {
    db: Db,
    user: UserId,
    cursor: LiveCursor,
    wakes: broadcast::Receiver<Wake>,
    pending: VecDeque<StoredEvent>,
    stop: CancellationToken,
    _slot: StreamSlot,
}

impl Feed {
    /// The next unseen event, waiting for one; `None` when the server shuts down.
    async fn next(&mut self) -> Option<StoredEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            match self
                .db
                .for_user(self.user)
                .events()
                .live_events(&self.cursor)
                .await
            {
                Ok(read) => {
                    self.pending.extend(self.cursor.take(read));
                    if !self.pending.is_empty() {
                        continue;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not read events for a live view");
                    tokio::select! {
                        _ = self.stop.cancelled() => return None,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            }
            self.wait_for_wake().await?;
        }
    }

    async fn wait_for_wake(&mut self) -> Option<()> {
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => return None,
                wake = self.wakes.recv() => match wake {
                    Ok(wake) if wake.concerns(self.user) => return Some(()),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return Some(()),
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }
}
