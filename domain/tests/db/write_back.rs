//! Writing the user's calendar events back to their CalDAV calendar, against a real
//! Radicale: create, update (If-Match), cancel, delete; an ETag conflict; and a server
//! that fails twice (503) before it works: two failures with a growing
//! `next_retry_at`, then resolved.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use api::interactions::InteractionForm;
use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::caldav::client::{CalDavApi, CalDavCredentials};
use domain::caldav::jobs::CalDavContext;
use domain::caldav::{HttpCalDav, Window};
use domain::calendar::write_back::{WriteBackEvent, WriteBackOutcome, write_back};
use domain::crypto::SecretBox;
use domain::interactions::LoggedOn;
use test_servers::radicale::{Radicale, RadicaleUser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::helpers::{TestUser, fresh_db};

fn alice() -> RadicaleUser {
    RadicaleUser {
        name: "alice".into(),
        password: "write-back-1".into(),
    }
}

fn secrets() -> SecretBox {
    SecretBox::from_base64(&format!("{}=", "A".repeat(43))).unwrap()
}

/// A TCP proxy in front of Radicale that answers 503 to the next `fail` connections.
struct Flaky {
    url: String,
    fail: Arc<AtomicUsize>,
}

async fn flaky(upstream: std::net::SocketAddr) -> Flaky {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let fail = Arc::new(AtomicUsize::new(0));
    let failing = fail.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let failing = failing.clone();
            tokio::spawn(async move {
                let left = failing.load(Ordering::SeqCst);
                if left > 0 {
                    failing.store(left - 1, Ordering::SeqCst);
                    let mut buf = [0u8; 8192];
                    let _ = client.read(&mut buf).await;
                    let _ = client
                        .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    return;
                }
                if let Ok(mut server) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    Flaky { url, fail }
}

struct World {
    db: domain::Db,
    me: TestUser,
    ada: Uuid,
    ctx: CalDavContext,
    radicale: HttpCalDav,
    path: String,
    proxy: Flaky,
    _server: Radicale,
}

async fn world() -> World {
    let server = Radicale::start(&[alice()]).await.expect("start Radicale");
    let path = server
        .make_calendar(&alice(), "work", "Work")
        .await
        .unwrap();
    let upstream: std::net::SocketAddr = server
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let proxy = flaky(upstream).await;
    let db = fresh_db().await;
    let me = TestUser::create(&db, "alice@example.com").await;
    let ada = me.contact("Ada").email("ada@example.com").insert().await;
    // Connected through the proxy, so the proxy can fail the writes.
    let credentials = CalDavCredentials::new(&proxy.url, "alice", &alice().password).unwrap();
    let client = HttpCalDav::new(HttpCalDav::default_client(), credentials);
    db.for_user(me.id)
        .accounts()
        .connect_caldav(
            &client,
            &client_credentials(&proxy.url),
            std::slice::from_ref(&path),
            &secrets(),
        )
        .await
        .expect("connect");
    let radicale = HttpCalDav::new(
        HttpCalDav::default_client(),
        CalDavCredentials::new(&server.url(), "alice", &alice().password).unwrap(),
    );
    World {
        ctx: CalDavContext {
            db: db.clone(),
            secrets: secrets(),
            http: HttpCalDav::default_client(),
        },
        db,
        me,
        ada,
        radicale,
        path,
        proxy,
        _server: server,
    }
}

fn client_credentials(url: &str) -> CalDavCredentials {
    CalDavCredentials::new(url, "alice", &alice().password).unwrap()
}

fn draft(subject: &str, at: DateTime<Utc>) -> api::interactions::InteractionDraft {
    InteractionForm {
        kind: "meeting".into(),
        subject: subject.into(),
        date: at.format("%Y-%m-%d").to_string(),
        time: at.format("%H:%M").to_string(),
        duration_minutes: "30".into(),
        ..Default::default()
    }
    .parse(&Utc)
    .unwrap()
}

/// The queued write-back jobs' payloads, oldest first.
async fn queued(db: &domain::Db) -> Vec<(WriteBackEvent, DateTime<Utc>)> {
    let rows: Vec<(serde_json::Value, DateTime<Utc>)> = sqlx::query_as(
        "select payload, run_at from jobs where kind = 'calendar.write_back' and state = 'queued' order by created_at, run_at",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(p, at)| (serde_json::from_value(p).unwrap(), at))
        .collect()
}

async fn clear_jobs(db: &domain::Db) {
    sqlx::query("delete from jobs where kind = 'calendar.write_back'")
        .execute(db.pool())
        .await
        .unwrap();
}

/// Runs the queued write-backs once each (as a worker would), then clears them.
async fn run_queued(w: &World) -> Vec<WriteBackOutcome> {
    let jobs = queued(&w.db).await;
    clear_jobs(&w.db).await;
    let mut outcomes = Vec::new();
    for (job, _) in jobs {
        outcomes.push(write_back(&w.ctx, w.me.id, &job).await.unwrap());
    }
    outcomes
}

async fn remote(w: &World) -> Vec<String> {
    let hrefs: Vec<String> = w
        .radicale
        .etags(&w.path, &Window::around(Utc::now()))
        .await
        .unwrap()
        .into_iter()
        .map(|(href, _)| href)
        .collect();
    let objects = w.radicale.multiget(&w.path, &hrefs).await.unwrap();
    objects.into_iter().map(|o| o.data).collect()
}

#[tokio::test]
async fn events_are_created_updated_cancelled_and_deleted_on_the_connected_calendar() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id).interactions();
    let at = Utc::now().duration_trunc(Duration::minutes(1)).unwrap() + Duration::days(2);
    let logged = scope
        .create(LoggedOn::Contact(w.ada), &draft("Kickoff", at))
        .await
        .unwrap();
    assert_eq!(run_queued(&w).await, vec![WriteBackOutcome::Written]);
    let data = remote(&w).await;
    assert_eq!(data.len(), 1);
    assert!(
        data[0].contains("SUMMARY:Kickoff")
            && data[0].contains(&format!("UID:{}@rapport", logged.id))
    );
    let etag: Option<String> = sqlx::query_scalar("select caldav_etag from calendar_events")
        .fetch_one(w.db.pool())
        .await
        .unwrap();
    assert!(etag.is_some(), "the ETag is kept for If-Match");

    scope
        .update(logged.id, &draft("Kickoff v2", at))
        .await
        .unwrap();
    assert_eq!(run_queued(&w).await, vec![WriteBackOutcome::Written]);
    let data = remote(&w).await;
    assert_eq!(data.len(), 1, "replaced in place");
    assert!(data[0].contains("SUMMARY:Kickoff v2") && data[0].contains("SEQUENCE:1"));

    // Changed on the server meanwhile: the ETag no longer matches; the event wins.
    let href: String = sqlx::query_scalar("select caldav_href from calendar_events")
        .fetch_one(w.db.pool())
        .await
        .unwrap();
    let edited = data[0].replace("Kickoff v2", "Edited elsewhere");
    w.radicale
        .put_object(&href, &edited, None)
        .await
        .unwrap_err();
    let current = w.radicale.current_etag(&href).await.unwrap();
    w.radicale
        .put_object(&href, &edited, current.as_deref())
        .await
        .unwrap();
    scope.set_archived(logged.id, true).await.unwrap();
    assert_eq!(run_queued(&w).await, vec![WriteBackOutcome::Written]);
    let data = remote(&w).await;
    assert!(
        data[0].contains("STATUS:CANCELLED") && data[0].contains("SUMMARY:Kickoff v2"),
        "{}",
        data[0]
    );

    scope.delete(logged.id).await.unwrap();
    assert_eq!(run_queued(&w).await, vec![WriteBackOutcome::Written]);
    assert!(remote(&w).await.is_empty(), "deleted there too");
    let log: Vec<(String, String)> = sqlx::query_as(
        "select action, status from calendar_sync_log where interaction_id = $1 order by id",
    )
    .bind(logged.id)
    .fetch_all(w.db.pool())
    .await
    .unwrap();
    assert!(log.contains(&("cancel".into(), "success".into())));
    assert_eq!(
        log.last().unwrap(),
        &("delete".to_owned(), "success".to_owned())
    );
}

#[tokio::test]
async fn a_server_that_fails_twice_is_retried_with_growing_waits_until_resolved() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id).interactions();
    let at = Utc::now().duration_trunc(Duration::minutes(1)).unwrap() + Duration::days(1);
    w.proxy.fail.store(2, Ordering::SeqCst);
    let logged = scope
        .create(LoggedOn::Contact(w.ada), &draft("Flaky", at))
        .await
        .unwrap();

    let failure = async || -> (i32, DateTime<Utc>, Option<DateTime<Utc>>, String) {
        sqlx::query_as(
            "select retry_count, next_retry_at, resolved_at, error from calendar_sync_failures where interaction_id = $1",
        )
        .bind(logged.id)
        .fetch_one(w.db.pool())
        .await
        .unwrap()
    };
    let mut waits = Vec::new();
    for attempt in 1..=2 {
        let jobs = queued(&w.db).await;
        assert_eq!(jobs.len(), 1, "attempt {attempt}: one job");
        let (job, run_at) = jobs[0].clone();
        clear_jobs(&w.db).await;
        let before = Utc::now();
        let outcome = write_back(&w.ctx, w.me.id, &job).await.unwrap();
        let WriteBackOutcome::Failed {
            error,
            next_retry_at,
        } = outcome
        else {
            panic!("attempt {attempt} should fail: {outcome:?}");
        };
        assert!(error.contains("503"), "{error}");
        let (count, next, resolved, stored_error) = failure().await;
        assert_eq!(count, attempt);
        assert_eq!(next_retry_at, Some(next));
        assert!(resolved.is_none());
        assert!(stored_error.contains("503"));
        waits.push(next - before);
        let retry = queued(&w.db).await;
        assert_eq!(retry.len(), 1, "a retry is queued");
        assert_eq!(retry[0].1, next, "for next_retry_at");
        assert!(retry[0].1 > run_at);
        // The contact page says why it is not on the calendar yet.
        let shown = scope.get(logged.id).await.unwrap().event.unwrap();
        assert!(shown.write_back_error.unwrap().contains("503"));
    }
    assert!(waits[1] > waits[0], "the wait grows: {waits:?}");
    assert!(remote(&w).await.is_empty());

    assert_eq!(run_queued(&w).await, vec![WriteBackOutcome::Written]);
    let (count, _, resolved, _) = failure().await;
    assert_eq!(count, 2);
    assert!(resolved.is_some(), "resolved");
    assert_eq!(remote(&w).await.len(), 1);
    assert!(
        scope
            .get(logged.id)
            .await
            .unwrap()
            .event
            .unwrap()
            .write_back_error
            .is_none()
    );
    let statuses: Vec<String> = sqlx::query_scalar(
        "select status from calendar_sync_log where interaction_id = $1 and action = 'create' order by id",
    )
    .bind(logged.id)
    .fetch_all(w.db.pool())
    .await
    .unwrap();
    assert_eq!(statuses, vec!["success", "failed", "failed", "success"]);
}

#[tokio::test]
async fn without_a_connected_calendar_nothing_is_queued() {
    let db = fresh_db().await;
    let me = TestUser::create(&db, "me@example.com").await;
    let ada = me.contact("Ada").email("ada@example.com").insert().await;
    db.for_user(me.id)
        .interactions()
        .create(LoggedOn::Contact(ada), &draft("Local only", Utc::now()))
        .await
        .unwrap();
    assert!(queued(&db).await.is_empty());
}
