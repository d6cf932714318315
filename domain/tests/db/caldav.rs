//! CalDAV calendars against a real Radicale: what the server holds is what is stored,
//! an unchanged calendar costs one request, recurrences expand in their own zone, a
//! dismissed event never returns, and meetings count for their attendees.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::Db;
use domain::caldav::client::{
    CalDavApi, CalDavCredentials, CalendarInfo, CalendarObject, CalendarState,
};
use domain::caldav::connect::ConnectError;
use domain::caldav::{CalDavError, HttpCalDav, PollOutcome, Window, poll_calendar};
use domain::crypto::SecretBox;
use domain::processing::Processor;
use domain::timeline::TimelineQuery;
use test_servers::radicale::{Radicale, RadicaleUser};
use uuid::Uuid;

use crate::helpers::{TestUser, fresh_db};

fn alice() -> RadicaleUser {
    RadicaleUser {
        name: "alice".into(),
        password: "app-password-1".into(),
    }
}

fn secrets() -> SecretBox {
    SecretBox::from_base64(&format!("{}=", "A".repeat(43))).unwrap()
}

/// A client that counts the requests it makes (discovery counts three).
struct Counting {
    inner: HttpCalDav,
    requests: AtomicUsize,
}

impl Counting {
    fn new(inner: HttpCalDav) -> Self {
        Self {
            inner,
            requests: AtomicUsize::new(0),
        }
    }

    fn take(&self) -> usize {
        self.requests.swap(0, Ordering::SeqCst)
    }
}

impl CalDavApi for Counting {
    async fn discover(&self) -> Result<Vec<CalendarInfo>, CalDavError> {
        self.requests.fetch_add(3, Ordering::SeqCst);
        self.inner.discover().await
    }

    async fn calendar_state(&self, calendar: &str) -> Result<CalendarState, CalDavError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.calendar_state(calendar).await
    }

    async fn etags(
        &self,
        calendar: &str,
        window: &Window,
    ) -> Result<Vec<(String, String)>, CalDavError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.etags(calendar, window).await
    }

    async fn multiget(
        &self,
        calendar: &str,
        hrefs: &[String],
    ) -> Result<Vec<CalendarObject>, CalDavError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.multiget(calendar, hrefs).await
    }
}

/// Radicale with alice's calendar "work", and a Rapport user alice@example.com who
/// connected it.
struct Setup {
    db: Db,
    server: Radicale,
    user: TestUser,
    calendar_path: String,
    calendar: Uuid,
    client: Counting,
}

impl Setup {
    async fn new() -> Self {
        let server = Radicale::start(&[alice()]).await.expect("start Radicale");
        let calendar_path = server
            .make_calendar(&alice(), "work", "Work")
            .await
            .expect("mkcalendar");
        let db = fresh_db().await;
        let user = TestUser::create(&db, "alice@example.com").await;
        let credentials =
            CalDavCredentials::new(&server.url(), "alice", &alice().password).unwrap();
        let client = Counting::new(HttpCalDav::new(
            HttpCalDav::default_client(),
            credentials.clone(),
        ));
        db.for_user(user.id)
            .accounts()
            .connect_caldav(
                &client,
                &credentials,
                std::slice::from_ref(&calendar_path),
                &secrets(),
            )
            .await
            .expect("connect");
        let calendars = db.for_user(user.id).calendars().list().await.unwrap();
        assert_eq!(calendars.len(), 1);
        assert_eq!(calendars[0].display_name.as_deref(), Some("Work"));
        client.take();
        Self {
            db,
            server,
            calendar: calendars[0].id,
            calendar_path,
            user,
            client,
        }
    }

    async fn put(&self, name: &str, ics: &str) -> String {
        self.server
            .put_event(&alice(), &self.calendar_path, name, ics)
            .await
            .expect("put event")
    }

    async fn delete(&self, name: &str) {
        self.server
            .delete_event(&alice(), &self.calendar_path, name)
            .await
            .expect("delete event");
    }

    async fn poll(&self, now: DateTime<Utc>) -> PollOutcome {
        poll_calendar(
            self.db.for_user(self.user.id).calendars(),
            &self.client,
            self.calendar,
            now,
        )
        .await
        .expect("poll")
    }

    /// `(external_id, subject, occurred_at, status)` of the stored meetings.
    async fn meetings(&self) -> Vec<(String, Option<String>, DateTime<Utc>, String)> {
        sqlx::query_as(
            r#"select a.external_id, a.subject, a.occurred_at, e.status
               from activities a join caldav_instances e on e.activity_id = a.id
               where a.user_id = $1 and a.channel = 'meeting'
               order by a.occurred_at, a.external_id"#,
        )
        .bind(self.user.id.0)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    async fn subjects(&self) -> Vec<String> {
        self.meetings()
            .await
            .into_iter()
            .map(|m| m.1.unwrap_or_default())
            .collect()
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// One event at `start` (an hour), organized by alice with bob invited.
fn event(uid: &str, start: DateTime<Utc>, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\nBEGIN:VEVENT\r\n\
         UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{summary}\r\n\
         ORGANIZER;CN=Alice:mailto:alice@example.com\r\n\
         ATTENDEE;CN=Bob Builder;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n",
        stamp(start),
        stamp(start + Duration::hours(1)),
    )
}

fn hour(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp() / 3600 * 3600, 0).unwrap()
}

#[tokio::test]
async fn stored_meetings_follow_the_server() {
    let s = Setup::new().await;
    let now = hour(Utc::now());
    let soon = now + Duration::days(2);
    let past = now - Duration::days(10);
    s.put("a", &event("a@test", soon, "Planning", "")).await;
    s.put("p", &event("p@test", past, "Retro", "")).await;
    s.put("d", &event("d@test", soon, "Never", "STATUS:CANCELLED\r\n"))
        .await;
    s.poll(now).await;
    assert_eq!(
        s.subjects().await,
        ["Retro", "Planning"],
        "the cancelled one is not stored"
    );

    // Changed on the server: a new ETag, the new summary.
    let etag = s
        .put("a", &event("a@test", soon, "Planning v2", "SEQUENCE:1\r\n"))
        .await;
    s.poll(now).await;
    assert_eq!(s.subjects().await, ["Retro", "Planning v2"]);
    let stored_etag: String =
        sqlx::query_scalar("select etag from caldav_instances where uid = 'a@test'")
            .fetch_one(s.db.pool())
            .await
            .unwrap();
    assert_eq!(stored_etag, etag);

    // Cancelled: kept and shown as cancelled.
    s.put(
        "a",
        &event(
            "a@test",
            soon,
            "Planning v2",
            "SEQUENCE:2\r\nSTATUS:CANCELLED\r\n",
        ),
    )
    .await;
    s.poll(now).await;
    let meetings = s.meetings().await;
    assert_eq!(meetings[1].1.as_deref(), Some("Cancelled: Planning v2"));
    assert_eq!(meetings[1].3, "cancelled");

    // Moved out of the window, and deleted: future ones go, the past one stays.
    s.put("b", &event("b@test", soon, "Moves away", "")).await;
    s.put(
        "c",
        &event("c@test", soon + Duration::hours(3), "Deleted", ""),
    )
    .await;
    s.poll(now).await;
    assert_eq!(s.meetings().await.len(), 4);
    s.put(
        "b",
        &event(
            "b@test",
            now + Duration::days(800),
            "Moves away",
            "SEQUENCE:1\r\n",
        ),
    )
    .await;
    s.delete("c").await;
    s.delete("p").await;
    s.poll(now).await;
    let left: Vec<String> = s.meetings().await.into_iter().map(|m| m.0).collect();
    assert_eq!(left, ["p@test", "a@test"]);
}

#[tokio::test]
async fn an_unchanged_calendar_costs_one_request() {
    let s = Setup::new().await;
    let now = hour(Utc::now());
    s.put(
        "a",
        &event("a@test", now + Duration::days(1), "Planning", ""),
    )
    .await;
    assert!(matches!(
        s.poll(now).await,
        PollOutcome::Synced { fetched: 1, .. }
    ));
    assert_eq!(s.client.take(), 3, "state, etags, multiget");
    assert_eq!(
        s.poll(now + Duration::minutes(1)).await,
        PollOutcome::Unchanged
    );
    assert_eq!(s.client.take(), 1);
    // A change elsewhere fetches only the changed object.
    s.put("b", &event("b@test", now + Duration::days(1), "Other", ""))
        .await;
    assert!(matches!(
        s.poll(now).await,
        PollOutcome::Synced { fetched: 1, .. }
    ));
    assert_eq!(s.client.take(), 3);
}

#[tokio::test]
async fn a_weekly_rule_in_berlin_expands_across_the_dst_change() {
    let s = Setup::new().await;
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rapport tests//EN\r\n\
        BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
        TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
        BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
        BEGIN:VEVENT\r\nUID:weekly@test\r\nDTSTAMP:20261001T000000Z\r\n\
        DTSTART;TZID=Europe/Berlin:20261012T100000\r\nDTEND;TZID=Europe/Berlin:20261012T110000\r\n\
        SUMMARY:Standup\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\nEXDATE;TZID=Europe/Berlin:20261019T100000\r\n\
        ATTENDEE:mailto:bob@example.org\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:weekly@test\r\nDTSTAMP:20261001T000000Z\r\n\
        RECURRENCE-ID;TZID=Europe/Berlin:20261102T100000\r\n\
        DTSTART;TZID=Europe/Berlin:20261103T140000\r\nDTEND;TZID=Europe/Berlin:20261103T150000\r\n\
        SUMMARY:Standup (moved)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    s.put("weekly", ics).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    s.poll(now).await;
    let at = |d, h| {
        Utc.with_ymd_and_hms(
            2026,
            if d > 31 { 11 } else { 10 },
            if d > 31 { d - 31 } else { d },
            h,
            0,
            0,
        )
        .unwrap()
    };
    let meetings = s.meetings().await;
    let got: Vec<(String, DateTime<Utc>)> = meetings.iter().map(|m| (m.0.clone(), m.2)).collect();
    assert_eq!(
        got,
        [
            ("weekly@test/20261012T080000Z".to_owned(), at(12, 8)),
            ("weekly@test/20261026T090000Z".to_owned(), at(26, 9)),
            ("weekly@test/20261102T090000Z".to_owned(), at(34, 13)),
            ("weekly@test/20261109T090000Z".to_owned(), at(40, 9)),
        ]
    );
    assert_eq!(meetings[2].1.as_deref(), Some("Standup (moved)"));
}

#[tokio::test]
async fn a_dismissed_event_never_returns() {
    let s = Setup::new().await;
    let now = hour(Utc::now());
    let soon = now + Duration::days(3);
    s.put("a", &event("a@test", soon, "Pitch", "")).await;
    s.poll(now).await;
    let dismissed: Uuid = sqlx::query_scalar(
        "update activities set dismissed_at = now() where user_id = $1 and external_id = 'a@test' returning id",
    )
    .bind(s.user.id.0)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    let still_dismissed = async || -> Vec<(Uuid, bool)> {
        sqlx::query_as("select id, dismissed_at is not null from activities where user_id = $1 and channel = 'meeting'")
            .bind(s.user.id.0)
            .fetch_all(s.db.pool())
            .await
            .unwrap()
    };
    s.put(
        "a",
        &event(
            "a@test",
            soon + Duration::hours(1),
            "Pitch (later)",
            "SEQUENCE:1\r\n",
        ),
    )
    .await;
    s.poll(now).await;
    assert_eq!(
        still_dismissed().await,
        [(dismissed, true)],
        "changed on the server"
    );
    s.delete("a").await;
    s.poll(now).await;
    s.put("a", &event("a@test", soon, "Pitch", "SEQUENCE:2\r\n"))
        .await;
    s.poll(now).await;
    assert_eq!(
        still_dismissed().await,
        [(dismissed, true)],
        "deleted and put back"
    );
}

#[tokio::test]
async fn wrong_credentials_or_a_wrong_address_store_nothing() {
    let server = Radicale::start(&[alice()]).await.unwrap();
    let path = server
        .make_calendar(&alice(), "work", "Work")
        .await
        .unwrap();
    let db = fresh_db().await;
    let user = crate::helpers::user(&db, "alice@example.com").await;
    let connect = async |url: &str, password: &str| {
        let credentials = CalDavCredentials::new(url, "alice", password).unwrap();
        let client = HttpCalDav::new(HttpCalDav::default_client(), credentials.clone());
        db.for_user(user)
            .accounts()
            .connect_caldav(
                &client,
                &credentials,
                std::slice::from_ref(&path),
                &secrets(),
            )
            .await
    };
    let wrong = connect(&server.url(), "not-the-password")
        .await
        .unwrap_err();
    assert!(
        matches!(wrong, ConnectError::CalDav(CalDavError::Unauthorized)),
        "{wrong:?}"
    );
    assert!(
        wrong
            .to_string()
            .contains("refused the user name or app password"),
        "{wrong}"
    );

    // Something that answers HTTP but not WebDAV.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let web = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let page = "<!doctype html><html><body>Hello</body></html>";
            let _ = socket
                .write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len()).as_bytes())
                .await;
        }
    });
    let not_dav = connect(&web, &alice().password).await.unwrap_err();
    assert!(
        matches!(not_dav, ConnectError::CalDav(CalDavError::NotCalDav(_))),
        "{not_dav:?}"
    );
    assert!(
        not_dav.to_string().contains("not a CalDAV server"),
        "{not_dav}"
    );

    let stored: i64 = sqlx::query_scalar("select count(*) from accounts where user_id = $1")
        .bind(user.0)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn meetings_count_for_their_attendees() {
    let s = Setup::new().await;
    let bob = s
        .user
        .contact("Bob Builder")
        .email("bob@example.org")
        .insert()
        .await;
    let now = hour(Utc::now());
    let met = now - Duration::days(2);
    s.put(
        "a",
        &event(
            "a@test",
            met,
            "Kickoff",
            "ATTENDEE;CN=Carol New:mailto:carol@example.net\r\n",
        ),
    )
    .await;
    s.put("b", &event("b@test", now + Duration::days(5), "Next", ""))
        .await;
    s.put(
        "c",
        &event(
            "c@test",
            now - Duration::days(1),
            "Called off",
            "STATUS:CANCELLED\r\n",
        ),
    )
    .await;
    s.poll(now).await;
    Processor::new(
        &s.db,
        domain::jobs::WorkerId::new("test"),
        Default::default(),
    )
    .drain()
    .await
    .unwrap();
    let scope = s.db.for_user(s.user.id);
    let timeline = scope
        .timeline()
        .for_contact(bob, &TimelineQuery::new(Some("meeting"), 50).unwrap())
        .await
        .unwrap();
    let subjects: Vec<_> = timeline
        .entries
        .iter()
        .filter_map(|e| e.subject.clone())
        .collect();
    assert_eq!(subjects, ["Next", "Kickoff"]);
    domain::contacts::stats::refresh_as_of(
        &mut s.db.pool().acquire().await.unwrap(),
        s.user.id,
        &[bob],
        now,
    )
    .await
    .unwrap();
    let (sent, last): (i32, Option<DateTime<Utc>>) = sqlx::query_as(
        "select sent_count, last_interaction_at from contact_stats where contact_id = $1",
    )
    .bind(bob)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (sent, last),
        (1, Some(met)),
        "the past meeting counts; the future one does not yet"
    );
    // Carol was invited by the user to a meeting the user organized: a new contact.
    let carol: i64 = sqlx::query_scalar(
        "select count(*) from contact_identities where user_id = $1 and value = 'carol@example.net'",
    )
    .bind(s.user.id.0)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(carol, 1);
}
