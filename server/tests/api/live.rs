//! The live import view: the first sign-in lands on /welcome, and /api/events streams
//! the signed-in user's sync progress (and nobody else's) as Server-Sent Events.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{
    ALEX, Browser, SAM, spawn_app, spawn_app_with, spawn_app_with_workers, wait_until,
};

#[derive(Debug, Clone)]
struct SseEvent {
    id: i64,
    kind: String,
    data: Value,
}

/// An open event stream, read chunk by chunk.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn open(browser: &Browser, path: &str, last_event_id: Option<i64>) -> Self {
        let mut request = browser.client.get(format!("{}{path}", browser.address));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.expect("open the event stream");
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (keep-alive comments skipped), or None after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse(&block) {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("read the event stream")?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Events until one whose progress says the sync is idle after a success.
    async fn until_synced(&mut self) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        while let Some(event) = self.next(Duration::from_secs(60)).await {
            let progress = &event.data["data"]["progress"];
            let finished = event.kind == "sync.progress"
                && progress["stage"] == "idle"
                && !progress["last_success_at"].is_null();
            seen.push(event);
            if finished {
                return seen;
            }
        }
        panic!("the sync did not finish; saw {seen:#?}");
    }
}

fn parse(block: &str) -> Option<SseEvent> {
    let (mut id, mut kind, mut data) = (None, None, String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            kind = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    Some(SseEvent {
        id: id?,
        kind: kind?,
        data: serde_json::from_str(&data).expect("event data is JSON"),
    })
}

#[tokio::test]
async fn the_event_stream_needs_a_session() {
    let app = spawn_app().await;
    let response = app.anonymous.get("/api/events").await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_first_sign_in_shows_the_import_live_and_only_to_its_owner() {
    let app = spawn_app_with_workers(2).await;
    let (alex, landing) = app.sign_in_landing(ALEX).await;
    assert_eq!(landing, "/welcome", "a new user lands on the live import");
    let (sam, _) = app.sign_in_landing(SAM).await;
    let alex_account = app.google_account(ALEX).await.to_string();
    let sam_account = app.google_account(SAM).await.to_string();

    // From the start (after=0): everything since sign-in is replayed, each event once
    // (one committed after a newer one comes late, not never).
    let mut stream = EventStream::open(&alex, "/api/events?after=0", None).await;
    let all_events = stream.until_synced().await;
    let mut ids: Vec<i64> = all_events.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "no event twice");
    // Sync progress, and the processing of the imported mail (activity states, contacts).
    let (events, processing): (Vec<SseEvent>, Vec<SseEvent>) = all_events
        .iter()
        .cloned()
        .partition(|e| e.kind.starts_with("sync."));
    assert!(
        processing
            .iter()
            .all(|e| ["activity.state", "contacts.touched"].contains(&e.kind.as_str())),
        "{processing:#?}"
    );
    let announced: Vec<uuid::Uuid> = processing
        .iter()
        .filter(|e| e.kind == "activity.state")
        .flat_map(|e| {
            e.data["data"]["activity_ids"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|id| id.as_str().unwrap().parse().unwrap())
        .collect();
    assert!(!announced.is_empty(), "new activities are announced");
    let not_alexs: i64 = sqlx::query_scalar(
        "select count(*) from activities a join users u on u.id = a.user_id
         where a.id = any($1) and u.email <> $2",
    )
    .bind(&announced)
    .bind(ALEX)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        not_alexs, 0,
        "Alex's stream announces only Alex's activities"
    );
    let reconciled = events.iter().find(|e| e.kind == "sync.reconcile");
    let reconciled = reconciled.expect("the full sync ends with a reconciliation");
    assert_eq!(
        reconciled.data["data"]["report"]["missing"], 0,
        "{reconciled:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e.data["data"]["account_id"] == alex_account.as_str()),
        "Alex's stream carries only Alex's account"
    );
    let fetching: Vec<&Value> = events
        .iter()
        .map(|e| &e.data["data"]["progress"])
        .filter(|p| p["stage"] == "fetching")
        .collect();
    assert!(!fetching.is_empty(), "progress while fetching: {events:#?}");
    let last = &events.last().unwrap().data["data"]["progress"];
    assert_eq!(last["total"], 120, "Gmail's messagesTotal");
    assert!(last["done"].as_u64().unwrap() > 100, "{last}");
    assert!(last["people_seen"].as_u64().unwrap() > 5, "{last}");

    // A reconnecting browser sends Last-Event-ID and gets what follows it, nothing older.
    // The import's processing may still be announcing: an event that committed after the
    // first stream stopped listening can sit between `middle` and the next id it saw, so
    // the first one resumed is at most that next id, not necessarily it.
    let middle = ids[ids.len() / 2];
    let next_seen = ids[ids.len() / 2 + 1];
    let mut resumed = EventStream::open(&alex, "/api/events", Some(middle)).await;
    let first = resumed.next(Duration::from_secs(10)).await.unwrap();
    assert!(
        middle < first.id && first.id <= next_seen,
        "the first one after {middle} is {}, not above it or past {next_seen}",
        first.id
    );

    // Sam's replay holds his own sync and none of Alex's.
    let mut sams = EventStream::open(&sam, "/api/events?after=0", None).await;
    let sam_events = sams.until_synced().await;
    assert!(
        sam_events
            .iter()
            .filter(|e| e.kind.starts_with("sync."))
            .all(|e| e.data["data"]["account_id"] == sam_account.as_str())
    );

    // The page itself, once done: the count is the ledger's.
    let imported: i64 = sqlx::query_scalar(
        "select count(*) from sync_ledger l join accounts a on a.id = l.account_id
         where a.display_name = $1 and l.outcome = 'imported'",
    )
    .bind(ALEX)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let (status, html) = alex.get_html("/welcome").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("Done: {imported} messages imported")),
        "{html}"
    );
    assert!(html.contains("data-state=\"done\""));
    assert!(html.contains("aria-valuenow=\"100\""));

    // Signing in again once imported goes straight to the contacts.
    let (_, landing) = app.sign_in_landing(ALEX).await;
    assert_eq!(landing, "/contacts");
}

#[tokio::test]
async fn the_welcome_page_shows_a_waiting_import_before_workers_start() {
    let app = spawn_app().await;
    let (alex, _) = app.sign_in_landing(ALEX).await;
    let (status, html) = alex.get_html("/welcome").await;
    assert_eq!(status, 200);
    assert!(html.contains("Waiting to start"), "{html}");
    assert!(html.contains("data-state=\"running\""));
    assert!(html.contains(ALEX));
    assert!(
        html.contains("href=\"/contacts\""),
        "the app is usable meanwhile"
    );
}

/// Opens `/api/events`, returning the response (held open) or the refusal.
async fn open_events(browser: &Browser) -> reqwest::Response {
    browser
        .client
        .get(format!("{}/api/events", browser.address))
        .send()
        .await
        .expect("GET /api/events")
}

fn refused_with_retry_after(response: &reqwest::Response, why: &str) {
    assert_eq!(response.status(), 429, "{why}");
    let seconds: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(seconds >= 1, "{why}");
}

#[tokio::test]
async fn open_streams_are_capped_per_user_and_in_total() {
    let app = spawn_app_with(
        0,
        &[
            ("RAPPORT_MAX_STREAMS_PER_USER", "2"),
            ("RAPPORT_MAX_STREAMS", "3"),
        ],
    )
    .await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let first = open_events(&alex).await;
    let second = open_events(&alex).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open_events(&alex).await;
    refused_with_retry_after(&third, "a third stream for one user");
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");

    let sams = open_events(&sam).await;
    assert_eq!(sams.status(), 200, "another user has streams of their own");
    refused_with_retry_after(&open_events(&sam).await, "the total is reached");

    // Closing a stream frees its place.
    drop(first);
    let reopened = wait_until(
        "a closed stream frees its place",
        Duration::from_secs(30),
        async || {
            let response = open_events(&alex).await;
            if response.status() == 200 {
                Ok(response)
            } else {
                Err(response.status())
            }
        },
    )
    .await;
    drop((second, sams, reopened));
}
