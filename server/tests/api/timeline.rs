//! The activity timeline's live states: every state change is an `activity.state`
//! event in the owner's feed (replayed from /api/events), Retry puts a failed activity
//! back in line, and a `server worker` killed mid-processing leaves activities that
//! another worker completes exactly once after the lease.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use api::ActivityState;
use app::components::activity_timeline::RetryActivity;
use domain::jobs::WorkerId;
use domain::processing::{Processor, ProcessorOptions};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::files::{timeline, upload};
use crate::helpers::{
    ALEX, BACKGROUND, Browser, CLIENT_ID, CLIENT_SECRET, SAM, TEST_KEY, TestApp, spawn_app,
    wait_until,
};

/// The user's `activity.state` events so far, oldest first: (state, activity ids).
async fn state_events(browser: &Browser) -> Vec<(String, Vec<Uuid>)> {
    let mut response = browser
        .client
        .get(format!("{}/api/events?after=0", browser.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut text = String::new();
    // The replay arrives at once; the stream then stays open for live events.
    while let Ok(Ok(Some(chunk))) =
        tokio::time::timeout(Duration::from_millis(700), response.chunk()).await
    {
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l == "event: activity.state"))
        .filter_map(|block| {
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            let event: Value = serde_json::from_str(data).unwrap();
            let data = &event["data"];
            let ids = data["activity_ids"]
                .as_array()?
                .iter()
                .map(|id| id.as_str().unwrap().parse().unwrap())
                .collect();
            Some((data["state"].as_str()?.to_owned(), ids))
        })
        .collect()
}

/// The states one activity went through, as the feed told them.
fn states_of(events: &[(String, Vec<Uuid>)], id: Uuid) -> Vec<String> {
    events
        .iter()
        .filter(|(_, ids)| ids.contains(&id))
        .map(|(state, _)| state.clone())
        .collect()
}

async fn process_everything(app: &TestApp) {
    Processor::new(&app.db, WorkerId::new("test"), ProcessorOptions::default())
        .drain()
        .await
        .unwrap();
}

async fn uploaded_ids(browser: &Browser, contact: Uuid, names: &[&str]) -> Vec<Uuid> {
    let files: Vec<(&str, &[u8], &str)> = names
        .iter()
        .map(|n| (*n, n.as_bytes(), "text/plain"))
        .collect();
    let response = upload(browser, contact, &files).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["activity_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn state_changes_reach_the_feed_and_retry_requeues_a_failed_activity() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;
    let id = uploaded_ids(&alex, jane, &["brief.txt"]).await[0];
    process_everything(&app).await;
    assert_eq!(
        timeline(&alex, jane, "").await.items[0].state,
        ActivityState::Completed
    );

    // Not failed: nothing to retry.
    let early = alex
        .call_server_fn(RetryActivity::PATH, &[("activity", &id.to_string())])
        .await;
    assert_eq!(early.status(), 422);

    sqlx::query(
        "update activities set state = 'dead', attempts = 6, last_error = 'model timed out'
         where id = $1",
    )
    .bind(id)
    .execute(app.db.pool())
    .await
    .unwrap();
    let shown = timeline(&alex, jane, "").await;
    assert_eq!(shown.items[0].state, ActivityState::Dead);
    assert_eq!(shown.items[0].error.as_deref(), Some("model timed out"));

    let not_sams = sam
        .call_server_fn(RetryActivity::PATH, &[("activity", &id.to_string())])
        .await;
    assert_eq!(not_sams.status(), 404);
    let retried = alex
        .call_server_fn(RetryActivity::PATH, &[("activity", &id.to_string())])
        .await;
    assert_eq!(retried.status(), 200, "{}", retried.text().await.unwrap());
    let (state, attempts, error): (String, i32, Option<String>) =
        sqlx::query_as("select state, attempts, last_error from activities where id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((state.as_str(), attempts, error), ("raw", 0, None));
    process_everything(&app).await;
    assert_eq!(
        timeline(&alex, jane, "").await.items[0].state,
        ActivityState::Completed
    );

    let events = state_events(&alex).await;
    assert_eq!(
        states_of(&events, id),
        [
            "raw",
            "processing",
            "completed",
            "raw",
            "processing",
            "completed"
        ],
        "{events:?}"
    );

    // Sam's feed tells of his own file, and of nothing of Alex's.
    let friend = sam
        .create_contact("Sam's Friend", "friend@sam.example")
        .await;
    let sams = uploaded_ids(&sam, friend, &["mine.txt"]).await[0];
    let sams_events = state_events(&sam).await;
    assert_eq!(states_of(&sams_events, sams), ["raw"], "{sams_events:?}");
    assert!(
        sams_events.iter().all(|(_, ids)| ids == &[sams]),
        "nobody else hears of Alex's activities: {sams_events:?}"
    );
}

#[tokio::test]
async fn a_batch_is_announced_once_per_state_not_once_per_activity() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;
    let names: Vec<String> = (0..30).map(|n| format!("file-{n}.txt")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // Two requests: an upload carries at most RAPPORT_MAX_UPLOAD_FILES (20) files.
    let mut ids = Vec::new();
    for half in names.chunks(15) {
        ids.extend(uploaded_ids(&alex, jane, half).await);
    }
    let processor = Processor::new(
        &app.db,
        WorkerId::new("batch"),
        ProcessorOptions {
            batch: 50,
            ..ProcessorOptions::default()
        },
    );
    let batch = processor.process_batch().await.unwrap();
    assert_eq!(batch.completed, 30);
    let events = state_events(&alex).await;
    let processing: Vec<_> = events.iter().filter(|(s, _)| s == "processing").collect();
    let completed: Vec<_> = events.iter().filter(|(s, _)| s == "completed").collect();
    assert_eq!(processing.len(), 1, "one event for the whole claim");
    assert_eq!(completed.len(), 1, "one event for the whole batch");
    let mut announced = completed[0].1.clone();
    announced.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(announced, expected);
}

fn start_worker(app: &TestApp, pause_ms: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("worker")
        .env("DATABASE_URL", &app.database_url)
        .env("GOOGLE_CLIENT_ID", CLIENT_ID)
        .env("GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
        // The sign-in's Gmail sync is not what this test is about: it fails fast.
        .env("GOOGLE_API_BASE", "http://127.0.0.1:9")
        .env("RAPPORT_ENCRYPTION_KEY", TEST_KEY)
        .env("RAPPORT_WORKERS", "1")
        .env("RAPPORT_PROCESSING_LEASE_SECS", "2")
        .env("RAPPORT_TEST_PROCESSING_PAUSE_MS", pause_ms.to_string())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start `server worker`")
}

async fn states(app: &TestApp, ids: &[Uuid]) -> HashMap<Uuid, (String, i32)> {
    let rows: Vec<(Uuid, String, i32)> =
        sqlx::query_as("select id, state, attempts from activities where id = any($1)")
            .bind(ids)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    rows.into_iter().map(|(id, s, a)| (id, (s, a))).collect()
}

#[tokio::test]
async fn a_worker_killed_mid_processing_is_replaced_and_each_activity_completes_once() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;
    let ids = uploaded_ids(&alex, jane, &["a.txt", "b.txt", "c.txt"]).await;

    // Holds its first activity's transaction open for 30 s: it is mid-processing.
    let mut first = start_worker(&app, 30_000);
    wait_until(
        "the first worker to claim the files",
        BACKGROUND,
        async || {
            let now = states(&app, &ids).await;
            let claimed = now.values().all(|(state, _)| state == "processing");
            claimed.then_some(()).ok_or(now)
        },
    )
    .await;
    // Deliberately lets time pass: the worker gets from its claim into the held
    // transaction of its first activity, so it dies mid-processing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill().await.expect("SIGKILL the worker");
    assert!(
        states(&app, &ids)
            .await
            .values()
            .all(|(s, _)| s == "processing"),
        "nothing it was working on got completed"
    );

    // Deliberately waits for the 2 s lease to run out, so the second worker's first look
    // releases the claims.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let _second = start_worker(&app, 0);
    let done = wait_until(
        "the second worker to complete the files",
        BACKGROUND,
        async || {
            let now = states(&app, &ids).await;
            let completed = now.values().all(|(state, _)| state == "completed");
            if completed { Ok(now) } else { Err(now) }
        },
    )
    .await;
    for id in &ids {
        assert_eq!(
            done[id],
            ("completed".to_owned(), 2),
            "claimed twice (once by each worker), completed by the second"
        );
    }
    let events = state_events(&alex).await;
    for id in &ids {
        let completions = states_of(&events, *id)
            .iter()
            .filter(|s| *s == "completed")
            .count();
        assert_eq!(completions, 1, "completed exactly once: {events:?}");
    }
}
