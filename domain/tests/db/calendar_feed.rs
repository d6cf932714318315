//! The user's calendar: the ICS feed (read back by the `icalendar` parser and imported
//! into a real Radicale event by event), its secret token (rotated, revoked, never
//! another user's), and the /calendar range reads.

use api::interactions::{EventStatus, InteractionForm};
use chrono::{Days, Duration, DurationRound, Utc};
use domain::caldav::client::{CalDavApi, CalDavCredentials};
use domain::caldav::{HttpCalDav, Window};
use domain::interactions::LoggedOn;
use domain::zone::UserZone;
use icalendar::parser::{Component, read_calendar, unfold};
use test_servers::radicale::{Radicale, RadicaleUser};

use crate::helpers::{TestUser, fresh_db};

fn form(subject: &str, date: chrono::DateTime<Utc>, minutes: &str) -> InteractionForm {
    InteractionForm {
        kind: "meeting".into(),
        subject: subject.into(),
        date: date.format("%Y-%m-%d").to_string(),
        time: date.format("%H:%M").to_string(),
        duration_minutes: minutes.into(),
        location: "Room 4, 2nd floor; east wing".into(),
        description: "Agenda:\n1. budget, 2. hiring".into(),
        ..Default::default()
    }
}

fn property(event: &Component<'_>, name: &str) -> Option<String> {
    event.find_prop(name).map(|p| p.val.as_str().to_owned())
}

#[tokio::test]
async fn the_feed_is_valid_icalendar_that_radicale_imports_event_by_event() {
    let db = fresh_db().await;
    let me = TestUser::create(&db, "alice@example.com").await;
    let ada = me
        .contact("Lovelace, Ada")
        .email("ada@example.com")
        .insert()
        .await;
    let scope = db.for_user(me.id);
    let soon = Utc::now().duration_trunc(Duration::minutes(1)).unwrap() + Duration::days(3);
    let timed = scope
        .interactions()
        .create(
            LoggedOn::Contact(ada),
            &form("Budget review", soon, "45").parse(&Utc).unwrap(),
        )
        .await
        .unwrap();
    let all_day = scope
        .interactions()
        .create(
            LoggedOn::Contact(ada),
            &form("Offsite", soon + Duration::days(1), "")
                .parse(&Utc)
                .unwrap(),
        )
        .await
        .unwrap();
    let cancelled = scope
        .interactions()
        .create(
            LoggedOn::Contact(ada),
            &form(&"Long subject ".repeat(12), soon, "30")
                .parse(&Utc)
                .unwrap(),
        )
        .await
        .unwrap();
    scope
        .interactions()
        .update(
            timed.id,
            &form("Budget review (moved)", soon, "60")
                .parse(&Utc)
                .unwrap(),
        )
        .await
        .unwrap();
    scope
        .interactions()
        .set_archived(cancelled.id, true)
        .await
        .unwrap();

    let ics = scope.calendar().feed_ics().await.unwrap();
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    assert!(ics.split("\r\n").all(|line| line.len() <= 75), "folded");
    let unfolded = unfold(&ics);
    let calendar = read_calendar(&unfolded).expect("valid iCalendar");
    let events: Vec<&Component> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 3);
    let by_uid = |id: uuid::Uuid| {
        events
            .iter()
            .find(|e| property(e, "UID") == Some(format!("{id}@rapport")))
            .copied()
            .expect("stable UID")
    };
    let moved = by_uid(timed.id);
    assert_eq!(
        property(moved, "SUMMARY").as_deref(),
        Some("Budget review (moved)")
    );
    assert_eq!(
        property(moved, "SEQUENCE").as_deref(),
        Some("1"),
        "changed once"
    );
    assert_eq!(
        property(moved, "DTSTART"),
        Some(soon.format("%Y%m%dT%H%M%SZ").to_string())
    );
    assert_eq!(
        property(moved, "DTEND"),
        Some(
            (soon + Duration::hours(1))
                .format("%Y%m%dT%H%M%SZ")
                .to_string()
        )
    );
    assert_eq!(
        property(moved, "LOCATION").as_deref(),
        Some("Room 4, 2nd floor; east wing"),
        "unescaped by the parser"
    );
    assert!(
        unfolded.contains("ATTENDEE;CN=\"Lovelace, Ada\":mailto:ada@example.com"),
        "{unfolded}"
    );
    let day = by_uid(all_day.id);
    assert_eq!(
        property(day, "DTSTART"),
        Some((soon + Duration::days(1)).format("%Y%m%d").to_string())
    );
    assert_eq!(
        property(by_uid(cancelled.id), "STATUS").as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(property(moved, "STATUS").as_deref(), Some("CONFIRMED"));

    // Radicale (vobject) accepts every event of the feed.
    let alice = RadicaleUser {
        name: "alice".into(),
        password: "feed-password".into(),
    };
    let server = Radicale::start(std::slice::from_ref(&alice))
        .await
        .expect("start Radicale");
    let path = server.make_calendar(&alice, "feed", "Feed").await.unwrap();
    let body = ics
        .split("BEGIN:VEVENT\r\n")
        .skip(1)
        .map(|rest| rest.split("END:VEVENT\r\n").next().unwrap());
    for (n, event) in body.enumerate() {
        let one = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rapport//Interactions//EN\r\nBEGIN:VEVENT\r\n{event}END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        server
            .put_event(&alice, &path, &format!("event-{n}"), &one)
            .await
            .unwrap_or_else(|e| panic!("Radicale refused event {n}: {e}\n{one}"));
    }
    let client = HttpCalDav::new(
        HttpCalDav::default_client(),
        CalDavCredentials::new(&server.url(), "alice", &alice.password).unwrap(),
    );
    let stored = client
        .etags(&path, &Window::around(Utc::now()))
        .await
        .expect("list");
    assert_eq!(stored.len(), 3, "every event imported");
}

#[tokio::test]
async fn feed_tokens_rotate_and_revoke_and_belong_to_one_user() {
    let db = fresh_db().await;
    let me = TestUser::create(&db, "me@example.com").await;
    let other = TestUser::create(&db, "other@example.com").await;
    let scope = db.for_user(me.id).calendar();
    assert_eq!(scope.feed_created_at().await.unwrap(), None);

    let first = scope.rotate_feed().await.unwrap();
    assert!(first.path().starts_with("/calendar/feed/rcf_") && first.path().ends_with(".ics"));
    assert_eq!(
        db.calendar_feed_owner(first.expose()).await.unwrap(),
        Some(me.id)
    );
    let stored: Vec<u8> = sqlx::query_scalar("select token_sha256 from calendar_feeds")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_ne!(
        stored,
        first.expose().as_bytes(),
        "only the digest is stored"
    );

    let second = scope.rotate_feed().await.unwrap();
    assert_ne!(first.expose(), second.expose());
    assert_eq!(
        db.calendar_feed_owner(first.expose()).await.unwrap(),
        None,
        "rotated"
    );
    assert_eq!(
        db.calendar_feed_owner(second.expose()).await.unwrap(),
        Some(me.id)
    );

    let theirs = db
        .for_user(other.id)
        .calendar()
        .rotate_feed()
        .await
        .unwrap();
    assert_eq!(
        db.calendar_feed_owner(theirs.expose()).await.unwrap(),
        Some(other.id)
    );
    assert!(db.for_user(other.id).calendar().revoke_feed().await.is_ok());
    assert_eq!(
        db.calendar_feed_owner(second.expose()).await.unwrap(),
        Some(me.id),
        "mine stays"
    );

    scope.revoke_feed().await.unwrap();
    assert_eq!(db.calendar_feed_owner(second.expose()).await.unwrap(), None);
    assert!(scope.revoke_feed().await.is_err(), "nothing left to revoke");
    assert_eq!(db.calendar_feed_owner("rcf_made-up").await.unwrap(), None);
    assert_eq!(db.calendar_feed_owner("").await.unwrap(), None);
}

#[tokio::test]
async fn the_calendar_page_reads_a_range_with_links_and_statuses() {
    let db = fresh_db().await;
    let me = TestUser::create(&db, "me@example.com").await;
    let acme = me.company("acme.example", Some("Acme")).await;
    let ada = me
        .contact("Ada")
        .email("ada@acme.example")
        .company(acme)
        .insert()
        .await;
    let scope = db.for_user(me.id);
    let start = Utc::now().duration_trunc(Duration::days(1)).unwrap() + Duration::days(2);
    let day = start.date_naive();
    let meeting = scope
        .interactions()
        .create(
            LoggedOn::Contact(ada),
            &form("Kickoff", start + Duration::hours(9), "30")
                .parse(&Utc)
                .unwrap(),
        )
        .await
        .unwrap();
    scope
        .interactions()
        .create(
            LoggedOn::Company(acme),
            &form("Office tour", start + Duration::hours(14), "")
                .parse(&Utc)
                .unwrap(),
        )
        .await
        .unwrap();
    scope
        .interactions()
        .create(
            LoggedOn::Contact(ada),
            &form("Next month", start + Duration::days(40), "")
                .parse(&Utc)
                .unwrap(),
        )
        .await
        .unwrap();
    scope
        .interactions()
        .set_archived(meeting.id, true)
        .await
        .unwrap();

    let items = scope
        .calendar()
        .between(UserZone::UTC, day, day + Days::new(7))
        .await
        .unwrap();
    let shown: Vec<(&str, EventStatus, Option<&str>, Option<&str>)> = items
        .iter()
        .map(|i| {
            (
                i.title.as_str(),
                i.status,
                i.contact.as_ref().map(|c| c.1.as_str()),
                i.company.as_ref().map(|c| c.1.as_str()),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            ("Kickoff", EventStatus::Cancelled, Some("Ada"), Some("Acme")),
            ("Office tour", EventStatus::Scheduled, None, Some("Acme")),
        ]
    );
    assert!(
        db.for_user(TestUser::create(&db, "x@example.com").await.id)
            .calendar()
            .between(UserZone::UTC, day, day + Days::new(7))
            .await
            .unwrap()
            .is_empty(),
        "another user sees nothing"
    );
}
