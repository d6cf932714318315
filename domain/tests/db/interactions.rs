//! Logged interactions against a real PostgreSQL: CRUD through the user scope, the
//! timeline activity and stats, and every calendar sync rule with its log rows.

use api::interactions::{EventStatus, InteractionDraft, InteractionForm, SyncAction};
use api::{Channel, Direction};
use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::interactions::{LoggedOn, SyncOutcome};
use domain::timeline::TimelineQuery;
use domain::{Db, DomainError, UserId};
use uuid::Uuid;

use crate::helpers::{TestUser, fresh_db};

fn draft(subject: &str, at: Option<DateTime<Utc>>, minutes: Option<u32>) -> InteractionDraft {
    InteractionForm {
        kind: "meeting".into(),
        subject: subject.into(),
        date: at
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        time: at
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default(),
        duration_minutes: minutes.map(|m| m.to_string()).unwrap_or_default(),
        location: "Cafe Nero".into(),
        description: "Talked about the Q1 plan".into(),
        private_notes: "Seemed tired".into(),
        ..Default::default()
    }
    .parse(&Utc)
    .unwrap()
}

/// Now, to the minute (the form's precision).
fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::minutes(1)).unwrap()
}

struct World {
    db: Db,
    me: TestUser,
    ada: Uuid,
    acme: Uuid,
}

async fn world() -> World {
    let db = fresh_db().await;
    let me = TestUser::create(&db, "me@example.com").await;
    let acme = me.company("acme.example", Some("Acme")).await;
    let ada = me
        .contact("Ada Lovelace")
        .email("ada@acme.example")
        .company(acme)
        .insert()
        .await;
    World { db, me, ada, acme }
}

#[derive(Debug, PartialEq)]
struct Event {
    id: Uuid,
    title: String,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    all_day: bool,
    status: String,
    sequence: i32,
    participants: serde_json::Value,
    synced_from: String,
}

async fn event_of(db: &Db, interaction: Uuid) -> Option<Event> {
    sqlx::query_as::<_, (Uuid, String, DateTime<Utc>, Option<DateTime<Utc>>, bool, String, i32, serde_json::Value, String)>(
        "select id, title, start_time, end_time, all_day, status, sequence, participants, synced_from
         from calendar_events where related_table = 'interactions' and related_id = $1",
    )
    .bind(interaction)
    .fetch_optional(db.pool())
    .await
    .unwrap()
    .map(|(id, title, start, end, all_day, status, sequence, participants, synced_from)| Event {
        id,
        title,
        start,
        end,
        all_day,
        status,
        sequence,
        participants,
        synced_from,
    })
}

async fn log_of(db: &Db, interaction: Uuid) -> Vec<(String, String, Option<Uuid>)> {
    sqlx::query_as(
        "select action, status, event_id from calendar_sync_log where interaction_id = $1 order by id",
    )
    .bind(interaction)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn logging_an_interaction_puts_it_on_the_calendar_timeline_and_stats() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id);
    let at = now() - Duration::days(2);
    let logged = scope
        .interactions()
        .create(
            LoggedOn::Contact(w.ada),
            &draft("Quarterly review", Some(at), Some(90)),
        )
        .await
        .unwrap();
    assert_eq!(logged.contact_id, Some(w.ada));
    assert_eq!(
        logged.company_id,
        Some(w.acme),
        "the contact's company is linked"
    );
    assert_eq!(logged.draft.private_notes.as_deref(), Some("Seemed tired"));

    let event = event_of(&w.db, logged.id).await.expect("an event");
    assert_eq!(event.title, "Quarterly review");
    assert_eq!(event.start, at);
    assert_eq!(
        event.end,
        Some(at + Duration::minutes(90)),
        "end = start + duration"
    );
    assert!(!event.all_day);
    assert_eq!(event.status, "completed", "it is over");
    assert_eq!(event.synced_from, "interaction");
    assert_eq!(
        event.participants,
        serde_json::json!([
            {"name": "Ada Lovelace", "emails": ["ada@acme.example"]},
            {"name": "Acme", "domain": "acme.example"}
        ])
    );
    assert_eq!(
        logged.event.as_ref().map(|e| (e.id, e.status)),
        Some((event.id, EventStatus::Completed))
    );
    assert_eq!(
        log_of(&w.db, logged.id).await,
        vec![("create".into(), "success".into(), Some(event.id))]
    );

    // On the timeline as an already processed meeting, and in the stats.
    let timeline = scope
        .timeline()
        .for_contact(w.ada, &TimelineQuery::new(None, 50).unwrap())
        .await
        .unwrap();
    assert_eq!(timeline.entries.len(), 1);
    let entry = &timeline.entries[0];
    assert_eq!(entry.channel, Channel::Meeting);
    assert_eq!(entry.subject.as_deref(), Some("Quarterly review"));
    assert_eq!(entry.occurred_at, at);
    assert_eq!(entry.state, api::ActivityState::Completed);
    let stats = scope.contacts().stats(w.ada).await.unwrap();
    assert_eq!(stats.last_interaction_at, Some(at));
    assert_eq!(stats.sent_count, 1, "an outbound meeting counts as sent");

    // Not in the inbox, and the manual account is not a source in Settings.
    let inbox: i64 = sqlx::query_scalar(
        "select count(*) from activities where user_id = $1 and done_at is null",
    )
    .bind(w.me.id.0)
    .fetch_one(w.db.pool())
    .await
    .unwrap();
    assert_eq!(inbox, 0);
    let accounts = scope.sync().account_settings().await.unwrap();
    assert!(
        accounts
            .iter()
            .all(|a| a.account.provider != api::Provider::Manual)
    );
}

#[tokio::test]
async fn a_call_is_a_call_and_inbound_counts_as_received() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id);
    let mut call = draft(
        "She called about the invoice",
        Some(now() - Duration::hours(3)),
        Some(10),
    );
    call.kind = api::interactions::InteractionKind::Phone;
    call.medium = api::interactions::Medium::Phone;
    call.direction = Direction::Inbound;
    scope
        .interactions()
        .create(LoggedOn::Contact(w.ada), &call)
        .await
        .unwrap();
    let timeline = scope
        .timeline()
        .for_contact(w.ada, &TimelineQuery::new(None, 50).unwrap())
        .await
        .unwrap();
    assert_eq!(timeline.entries[0].channel, Channel::Call);
    assert_eq!(timeline.entries[0].direction, Some(Direction::Inbound));
    let stats = scope.contacts().stats(w.ada).await.unwrap();
    assert_eq!((stats.sent_count, stats.received_count), (0, 1));
}

#[tokio::test]
async fn updates_update_the_event_and_bump_its_sequence_and_unchanged_ones_do_nothing() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id).interactions();
    let at = now() + Duration::days(4);
    let logged = scope
        .create(LoggedOn::Contact(w.ada), &draft("Lunch", Some(at), None))
        .await
        .unwrap();
    let first = event_of(&w.db, logged.id).await.unwrap();
    assert!(first.all_day, "no duration: all day");
    assert_eq!(first.end, None);
    assert_eq!(first.status, "scheduled");

    let moved = draft("Lunch at Nero", Some(at + Duration::hours(2)), Some(60));
    scope.update(logged.id, &moved).await.unwrap();
    let second = event_of(&w.db, logged.id).await.unwrap();
    assert_eq!(second.id, first.id, "the same event");
    assert_eq!(second.title, "Lunch at Nero");
    assert_eq!(second.sequence, first.sequence + 1);
    assert!(!second.all_day);

    // The same values again: nothing written, no log row.
    let before = scope.get(logged.id).await.unwrap();
    let again = scope.update(logged.id, &moved).await.unwrap();
    assert_eq!(again.updated_at, before.updated_at);
    assert_eq!(
        scope.sync_calendar(logged.id).await.unwrap(),
        SyncOutcome::Unchanged
    );
    assert_eq!(
        event_of(&w.db, logged.id).await.unwrap().sequence,
        second.sequence
    );
    assert_eq!(
        log_of(&w.db, logged.id)
            .await
            .into_iter()
            .map(|(action, _, _)| action)
            .collect::<Vec<_>>(),
        vec!["create", "update"]
    );
}

#[tokio::test]
async fn an_update_creates_the_event_when_it_is_missing() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id).interactions();
    let logged = scope
        .create(
            LoggedOn::Contact(w.ada),
            &draft("Visit", Some(now()), Some(30)),
        )
        .await
        .unwrap();
    sqlx::query("delete from calendar_events where related_id = $1")
        .bind(logged.id)
        .execute(w.db.pool())
        .await
        .unwrap();
    scope
        .update(logged.id, &draft("Site visit", Some(now()), Some(30)))
        .await
        .unwrap();
    let event = event_of(&w.db, logged.id).await.expect("created again");
    assert_eq!(event.title, "Site visit");
    let log = log_of(&w.db, logged.id).await;
    assert_eq!(log.last().unwrap().0, "create");
}

#[tokio::test]
async fn archiving_cancels_the_event_and_deleting_deletes_it() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id);
    let logged = scope
        .interactions()
        .create(
            LoggedOn::Contact(w.ada),
            &draft("Demo", Some(now() + Duration::days(1)), Some(45)),
        )
        .await
        .unwrap();
    let archived = scope
        .interactions()
        .set_archived(logged.id, true)
        .await
        .unwrap();
    assert!(archived.archived_at.is_some());
    let event = event_of(&w.db, logged.id).await.expect("kept");
    assert_eq!(event.status, "cancelled");
    assert_eq!(
        archived.event.map(|e| e.status),
        Some(EventStatus::Cancelled)
    );
    let timeline = scope
        .timeline()
        .for_contact(w.ada, &TimelineQuery::new(None, 50).unwrap())
        .await
        .unwrap();
    assert!(timeline.entries.is_empty(), "archived: off the timeline");
    assert!(
        scope
            .interactions()
            .for_contact(w.ada, false)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        scope
            .interactions()
            .for_contact(w.ada, true)
            .await
            .unwrap()
            .len(),
        1
    );

    // Restored: back on the calendar.
    scope
        .interactions()
        .set_archived(logged.id, false)
        .await
        .unwrap();
    assert_eq!(
        event_of(&w.db, logged.id).await.unwrap().status,
        "scheduled"
    );

    scope.interactions().delete(logged.id).await.unwrap();
    assert!(event_of(&w.db, logged.id).await.is_none());
    assert!(matches!(
        scope.interactions().get(logged.id).await,
        Err(DomainError::NotFound("interaction"))
    ));
    let activities: i64 = sqlx::query_scalar(
        "select count(*) from activities where external_id = 'interaction:' || $1::text",
    )
    .bind(logged.id)
    .fetch_one(w.db.pool())
    .await
    .unwrap();
    assert_eq!(activities, 0);
    let actions: Vec<String> = log_of(&w.db, logged.id)
        .await
        .into_iter()
        .map(|(action, status, _)| format!("{action}:{status}"))
        .collect();
    assert_eq!(
        actions,
        vec![
            "create:success",
            "cancel:success",
            "update:success",
            "delete:success"
        ]
    );
}

#[tokio::test]
async fn old_undated_or_subjectless_interactions_stay_off_the_calendar() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id).interactions();
    let old = scope
        .create(
            LoggedOn::Contact(w.ada),
            &draft("Old", Some(now() - Duration::days(31)), None),
        )
        .await
        .unwrap();
    let undated = scope
        .create(LoggedOn::Contact(w.ada), &draft("Undated", None, None))
        .await
        .unwrap();
    let untitled = scope
        .create(LoggedOn::Contact(w.ada), &draft("", Some(now()), Some(15)))
        .await
        .unwrap();
    let recent = scope
        .create(
            LoggedOn::Contact(w.ada),
            &draft("Recent", Some(now() - Duration::days(29)), None),
        )
        .await
        .unwrap();
    for id in [old.id, undated.id, untitled.id] {
        assert!(event_of(&w.db, id).await.is_none());
        assert_eq!(
            log_of(&w.db, id).await,
            vec![("skip".into(), "skipped".into(), None)]
        );
    }
    assert!(event_of(&w.db, recent.id).await.is_some());

    // Giving the untitled one a subject puts it on; taking it away cancels it.
    scope
        .update(untitled.id, &draft("Now titled", Some(now()), Some(15)))
        .await
        .unwrap();
    assert_eq!(
        event_of(&w.db, untitled.id).await.unwrap().status,
        "scheduled"
    );
    scope
        .update(untitled.id, &draft("", Some(now()), Some(15)))
        .await
        .unwrap();
    assert_eq!(
        event_of(&w.db, untitled.id).await.unwrap().status,
        "cancelled"
    );
    assert_eq!(
        scope
            .get(untitled.id)
            .await
            .unwrap()
            .event
            .map(|e| e.status),
        Some(EventStatus::Cancelled)
    );
    let last = log_of(&w.db, untitled.id).await.pop().unwrap();
    assert_eq!(last.0, SyncAction::Cancel.as_str());
}

#[tokio::test]
async fn a_company_interaction_names_the_company() {
    let w = world().await;
    let scope = w.db.for_user(w.me.id).interactions();
    let logged = scope
        .create(
            LoggedOn::Company(w.acme),
            &draft("Office visit", Some(now()), Some(60)),
        )
        .await
        .unwrap();
    assert_eq!((logged.contact_id, logged.company_id), (None, Some(w.acme)));
    assert_eq!(
        event_of(&w.db, logged.id).await.unwrap().participants,
        serde_json::json!([{"name": "Acme", "domain": "acme.example"}])
    );
    assert_eq!(scope.for_company(w.acme, false).await.unwrap().len(), 1);
}

#[tokio::test]
async fn another_users_contacts_and_interactions_are_not_found() {
    let w = world().await;
    let other = TestUser::create(&w.db, "other@example.com").await;
    let theirs: UserId = other.id;
    let mine =
        w.db.for_user(w.me.id)
            .interactions()
            .create(LoggedOn::Contact(w.ada), &draft("Mine", Some(now()), None))
            .await
            .unwrap();
    let scope = w.db.for_user(theirs).interactions();
    let d = draft("Theirs", Some(now()), None);
    assert!(matches!(
        scope.create(LoggedOn::Contact(w.ada), &d).await,
        Err(DomainError::NotFound("contact"))
    ));
    assert!(matches!(
        scope.create(LoggedOn::Company(w.acme), &d).await,
        Err(DomainError::NotFound("company"))
    ));
    assert!(matches!(
        scope.get(mine.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        scope.update(mine.id, &d).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        scope.set_archived(mine.id, true).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        scope.delete(mine.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(scope.for_contact(w.ada, true).await.unwrap().is_empty());
    assert_eq!(
        event_of(&w.db, mine.id).await.unwrap().title,
        "Mine",
        "untouched"
    );
}

#[tokio::test]
async fn deleting_the_contact_takes_its_interactions_events_along() {
    let w = world().await;
    let logged =
        w.db.for_user(w.me.id)
            .interactions()
            .create(
                LoggedOn::Contact(w.ada),
                &draft("Soon gone", Some(now()), Some(30)),
            )
            .await
            .unwrap();
    assert!(event_of(&w.db, logged.id).await.is_some());
    sqlx::query("delete from contacts where id = $1")
        .bind(w.ada)
        .execute(w.db.pool())
        .await
        .unwrap();
    assert!(event_of(&w.db, logged.id).await.is_none());
}
