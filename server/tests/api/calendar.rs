//! Calendars over HTTP against a real Radicale: Settings finds the calendars, connecting
//! queues a poll that the workers run (the meeting lands on the timeline), wrong
//! credentials store nothing, and another user can neither see nor act on the account.

use app::components::connect_calendar::{
    ConnectCalendars, FindCalendars, LoadCalendars, PollCalendarNow,
};
use app::pages::settings::DisconnectAccount;
use chrono::{Duration, Utc};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use test_servers::radicale::{Radicale, RadicaleUser};
use uuid::Uuid;

use crate::helpers::{ALEX, BACKGROUND, SAM, spawn_app_with, wait_until};

fn alex_at_radicale() -> RadicaleUser {
    RadicaleUser {
        name: "alex".into(),
        password: "app-password".into(),
    }
}

#[tokio::test]
async fn a_connected_calendar_is_polled_and_stays_its_owners() {
    let radicale = Radicale::start(&[alex_at_radicale()]).await.unwrap();
    let path = radicale
        .make_calendar(&alex_at_radicale(), "work", "Work")
        .await
        .unwrap();
    let start = Utc::now() - Duration::days(1);
    let stamp = |t: chrono::DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:kickoff@test\r\n\
         DTSTAMP:20261101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Kickoff\r\n\
         ORGANIZER:mailto:{ALEX}\r\nATTENDEE;CN=Bea Brown:mailto:bea@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        stamp(start),
        stamp(start + Duration::hours(1)),
    );
    radicale
        .put_event(&alex_at_radicale(), &path, "kickoff", &ics)
        .await
        .unwrap();
    let app = spawn_app_with(1, &[]).await;
    let alex = app.sign_in(ALEX).await;
    let url = radicale.url();

    // Wrong password: a clear message and nothing stored.
    let refused = alex
        .call_server_fn(
            FindCalendars::PATH,
            &[
                ("server_url", &url),
                ("user", "alex"),
                ("password", "wrong"),
            ],
        )
        .await;
    let status = refused.status();
    let body = refused.text().await.unwrap();
    assert!(
        status == 422 && body.contains("refused the user name or app password"),
        "{status}: {body}"
    );
    let refused = alex
        .call_server_fn(
            ConnectCalendars::PATH,
            &[
                ("server_url", &url),
                ("user", "alex"),
                ("password", "wrong"),
                ("hrefs[0]", &path),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let accounts: i64 =
        sqlx::query_scalar("select count(*) from accounts where provider = 'caldav'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(accounts, 0);

    let found = alex
        .call_server_fn(
            FindCalendars::PATH,
            &[
                ("server_url", &url),
                ("user", "alex"),
                ("password", "app-password"),
            ],
        )
        .await;
    assert_eq!(found.status(), 200);
    let found: Value = found.json().await.unwrap();
    assert_eq!(found[0]["href"], path.as_str());
    assert_eq!(found[0]["name"], "Work");
    let connected = alex
        .call_server_fn(
            ConnectCalendars::PATH,
            &[
                ("server_url", &url),
                ("user", "alex"),
                ("password", "app-password"),
                ("hrefs[0]", &path),
            ],
        )
        .await;
    assert_eq!(
        connected.status(),
        200,
        "{}",
        connected.text().await.unwrap()
    );

    // The worker polls at once: the meeting is stored and its attendee becomes a contact.
    let db = app.db.clone();
    wait_until("the meeting to be stored and processed", BACKGROUND, async || {
        let state: Option<String> = sqlx::query_scalar(
            "select state from activities where channel = 'meeting' and external_id = 'kickoff@test'",
        )
        .fetch_optional(db.pool())
        .await
        .unwrap();
        match state.as_deref() {
            Some("completed") => Ok(()),
            other => Err(other.map(str::to_owned)),
        }
    })
    .await;
    let listed: Value = alex
        .call_server_fn(LoadCalendars::PATH, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["events"], 1);
    let calendar = listed[0]["id"].as_str().unwrap().to_owned();
    let account = listed[0]["account_id"].as_str().unwrap().to_owned();
    let bea: Uuid = sqlx::query_scalar(
        "select contact_id from contact_identities where value = 'bea@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let timeline = alex.page(&format!("/contacts/{bea}"), 200, "Kickoff").await;
    assert!(timeline.contains("Kickoff"));

    // Sam sees no calendars and gets 404s for Alex's.
    let sam = app.sign_in(SAM).await;
    let theirs: Value = sam
        .call_server_fn(LoadCalendars::PATH, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs, Value::Array(Vec::new()));
    let poll = sam
        .call_server_fn(PollCalendarNow::PATH, &[("calendar_id", &calendar)])
        .await;
    let status = poll.status();
    let body = poll.text().await.unwrap();
    assert!(
        status == 404 && body.contains("not found"),
        "{status}: {body}"
    );
    let disconnect = sam
        .call_server_fn(DisconnectAccount::PATH, &[("account_id", &account)])
        .await;
    assert_eq!(disconnect.status(), 404);
    let mine = alex
        .call_server_fn(PollCalendarNow::PATH, &[("calendar_id", &calendar)])
        .await;
    assert_eq!(mine.status(), 200);
}
