//! Everything is an event: each action records its kind exactly once, in the same
//! transaction as the change (a refused or rolled-back change records nothing), only
//! live kinds reach the live stream, retention deletes only old rows, and the export is
//! one user's events as JSON Lines.

use chrono::{Duration, TimeZone, Utc};
use domain::ask::Answer;
use domain::ask::history::Question;
use domain::contacts::NewContact;
use domain::crypto::SecretBox;
use domain::events::{
    ContactsTouchedPayload, Event, EventKind, ExportedEvent, LiveCursor, StoredEvent,
};
use domain::google::{GoogleProfile, TokenGrant};
use domain::ingest::{IncomingEmail, IngestFilter, StoredEmail};
use domain::jobs::WorkerId;
use domain::notes::{Author, NewNote, NoteBody};
use domain::processing::{ContactPolicy, Processor, ProcessorOptions};
use domain::{Db, DomainError, UserId};
use uuid::Uuid;

use crate::helpers::{fresh_db, gmail_account, user};

const OWNER: &str = "owner@mycorp.com";

/// Every event of `user`, live or recorded, oldest first.
async fn all_events(db: &Db, user: UserId) -> Vec<StoredEvent> {
    db.for_user(user)
        .events()
        .history_after(0, None, 10_000)
        .await
        .unwrap()
}

/// Every live event of `user`, as a feed that has seen nothing reads them.
async fn live_events(db: &Db, user: UserId) -> Vec<StoredEvent> {
    db.for_user(user)
        .events()
        .live_events(&LiveCursor::after(0))
        .await
        .unwrap()
        .events
}

/// The typed events of one kind.
async fn of_kind(db: &Db, user: UserId, kind: EventKind) -> Vec<Event> {
    all_events(db, user)
        .await
        .into_iter()
        .filter(|e| e.kind == kind.as_str())
        .map(|e| Event::from_parts(&e.kind, e.data).expect("a stored event parses"))
        .collect()
}

fn email(id: &str, day: u32, from: &str, to: &str, body: &str) -> IncomingEmail {
    let date = Utc.with_ymd_and_hms(2025, 3, day, 10, 0, 0).unwrap();
    IncomingEmail {
        external_id: id.to_owned(),
        thread_id: Some(format!("t-{id}")),
        labels: vec![if from.contains(OWNER) { "SENT" } else { "INBOX" }.to_owned()],
        received_at: date,
        content: format!(
            "Date: {}\r\nMessage-ID: <{id}@test>\r\nFrom: {from}\r\nTo: {to}\r\nSubject: s\r\n\r\n{}",
            date.to_rfc2822(),
            body.replace('\n', "\r\n"),
        )
        .into_bytes()
            .into(),
    }
}

/// The owner and their Gmail account, whose correspondents all become contacts.
async fn mailbox(db: &Db) -> (UserId, Uuid) {
    let me = user(db, OWNER).await;
    let account = gmail_account(db, me, OWNER).await;
    db.for_user(me)
        .processing()
        .set_contact_policy(account, ContactPolicy::Everyone)
        .await
        .unwrap();
    (me, account)
}

async fn store(db: &Db, user: UserId, account: Uuid, emails: &[IncomingEmail]) -> Vec<StoredEmail> {
    db.for_user(user)
        .mail()
        .store_emails(account, emails, &IngestFilter::default())
        .await
        .unwrap()
}

async fn process_all(db: &Db) {
    Processor::new(
        db,
        WorkerId::new("events-test"),
        ProcessorOptions::default(),
    )
    .drain()
    .await
    .unwrap();
}

/// A contact the user adds by hand.
async fn add_contact(db: &Db, user: UserId, name: &str, email: &str) -> Uuid {
    db.for_user(user)
        .contacts()
        .create(&NewContact::parse(name, email).unwrap())
        .await
        .unwrap()
}

fn profile(subject: &str, email: &str) -> GoogleProfile {
    GoogleProfile {
        subject: subject.to_owned(),
        email: email.to_owned(),
        email_verified: true,
        name: Some("Alex Owner".to_owned()),
        picture: None,
    }
}

#[tokio::test]
async fn sign_in_and_linking_google_are_recorded_once_each_and_never_live() {
    let db = fresh_db().await;
    let first = db
        .upsert_google_user(&profile("g-1", "alex@example.com"))
        .await
        .unwrap();
    let again = db
        .upsert_google_user(&profile("g-1", "alex@example.com"))
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    let signed_in = of_kind(&db, first.id, EventKind::UserSignedIn).await;
    assert_eq!(signed_in.len(), 2, "one per sign-in");
    let news: Vec<bool> = signed_in
        .iter()
        .map(|e| match e {
            Event::UserSignedIn(p) => p.new_user,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(news, [true, false]);

    // Base64 of 32 zero bytes.
    let secrets = SecretBox::from_base64(&format!("{}=", "A".repeat(43))).unwrap();
    let grant = TokenGrant {
        access_token: "at".into(),
        refresh_token: Some("rt".into()),
        expires_at: Utc::now() + Duration::hours(1),
        scopes: vec!["email".into()],
    };
    let scope = db.for_user(first.id);
    let google = profile("g-1", "Alex@Example.com");
    let account = scope
        .accounts()
        .connect_google(&google, &grant, &secrets)
        .await
        .unwrap();
    scope
        .accounts()
        .connect_google(&google, &grant, &secrets)
        .await
        .unwrap();
    let linked = of_kind(&db, first.id, EventKind::AccountLinked).await;
    let linked: Vec<_> = linked
        .iter()
        .map(|e| match e {
            Event::AccountLinked(p) => (p.account_id, p.address.as_str(), p.relinked),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        linked,
        [
            (account, "alex@example.com", false),
            (account, "alex@example.com", true)
        ]
    );
    assert!(
        live_events(&db, first.id).await.is_empty(),
        "sign-ins and links are history, not live updates"
    );
}

#[tokio::test]
async fn processing_records_mail_contacts_and_enrichment_once_per_change() {
    let db = fresh_db().await;
    let (me, account) = mailbox(&db).await;
    let scope = db.for_user(me);
    let signed = "Hi,\n\nSee you then.\n\nBest regards,\nJane Roe\nHead of Partnerships\nAcme Widgets Ltd\nTel: 020 7946 0958\n";
    store(
        &db,
        me,
        account,
        &[
            email("in1", 1, "Jane <jane@acme.co.uk>", OWNER, "hello"),
            email(
                "out1",
                2,
                OWNER,
                "Jane <jane@acme.co.uk>, bob@acme.co.uk",
                "hi both",
            ),
        ],
    )
    .await;
    process_all(&db).await;

    let received = of_kind(&db, me, EventKind::EmailReceived).await;
    let sent = of_kind(&db, me, EventKind::EmailSent).await;
    assert_eq!((received.len(), sent.len()), (1, 1));
    let Event::EmailSent(out) = &sent[0] else {
        panic!()
    };
    assert_eq!(out.account_id, account);
    assert_eq!(out.addresses, 2);
    assert_eq!(out.contact_ids.len(), 2);
    let created = of_kind(&db, me, EventKind::ContactCreated).await;
    assert_eq!(created.len(), 2, "Jane and Bob, once each: {created:?}");
    assert!(
        of_kind(&db, me, EventKind::ContactEnriched)
            .await
            .is_empty(),
        "a new contact's first values are its creation"
    );

    // Jane's signature fills her title and company: enrichment, with the fields.
    store(
        &db,
        me,
        account,
        &[email("in2", 3, "Jane Roe <jane@acme.co.uk>", OWNER, signed)],
    )
    .await;
    process_all(&db).await;
    let enriched = of_kind(&db, me, EventKind::ContactEnriched).await;
    assert_eq!(enriched.len(), 1, "{enriched:?}");
    let Event::ContactEnriched(jane) = &enriched[0] else {
        panic!()
    };
    for field in ["display_name", "title", "phones"] {
        assert!(
            jane.fields.iter().any(|f| f == field),
            "{field} in {:?}",
            jane.fields
        );
    }
    assert_eq!(of_kind(&db, me, EventKind::EmailReceived).await.len(), 2);

    // Processing everything again (a policy change) records no mail twice.
    scope
        .processing()
        .set_contact_policy(account, ContactPolicy::Sent)
        .await
        .unwrap();
    process_all(&db).await;
    assert_eq!(of_kind(&db, me, EventKind::EmailReceived).await.len(), 2);
    assert_eq!(of_kind(&db, me, EventKind::EmailSent).await.len(), 1);
    assert_eq!(of_kind(&db, me, EventKind::ContactCreated).await.len(), 2);
    let live = live_events(&db, me).await;
    assert!(
        live.iter()
            .all(|e| EventKind::parse(&e.kind).unwrap().is_live()),
        "the live stream carries only live kinds"
    );
    assert!(live.iter().any(|e| e.kind == "activity.state"));
}

#[tokio::test]
async fn a_rolled_back_processing_transaction_records_nothing() {
    let db = fresh_db().await;
    let (me, account) = mailbox(&db).await;
    let scope = db.for_user(me);
    let stored = store(
        &db,
        me,
        account,
        &[email("in1", 1, "Ann <ann@berg.se>", OWNER, "hello")],
    )
    .await;
    let before = all_events(&db, me).await.len();
    let activity = match stored[0].outcome {
        domain::ingest::StoreOutcome::Imported(id) => id,
        ref other => panic!("{other:?}"),
    };
    let mut tx = db.pool().begin().await.unwrap();
    let applied = scope
        .processing()
        .apply_batch(&mut tx, &[activity])
        .await
        .unwrap();
    assert_eq!(applied.touched.len(), 1);
    tx.rollback().await.unwrap();
    assert_eq!(
        all_events(&db, me).await.len(),
        before,
        "rolled back with the change"
    );
}

#[tokio::test]
async fn contacts_created_merged_and_viewed_are_recorded_in_their_transactions() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let scope = db.for_user(me);
    let ada = add_contact(&db, me, "Ada", "ada@example.com").await;
    let ada2 = add_contact(&db, me, "Ada L.", "").await;
    // Refused (the address is taken): no contact, no event.
    assert!(matches!(
        scope
            .contacts()
            .create(&NewContact::parse("Ada", "ada@example.com").unwrap())
            .await,
        Err(DomainError::Conflict(_))
    ));
    let created = of_kind(&db, me, EventKind::ContactCreated).await;
    let ids: Vec<Uuid> = created
        .iter()
        .map(|e| match e {
            Event::ContactCreated(p) => {
                assert_eq!(p.origin, domain::events::ContactOrigin::Manual);
                p.contact_id
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [ada, ada2]);

    let merge = scope.contacts().merge(ada, ada2, None).await.unwrap();
    // Refused (already merged): nothing more.
    assert!(scope.contacts().merge(ada, ada2, None).await.is_err());
    let merged = of_kind(&db, me, EventKind::ContactMerged).await;
    assert_eq!(merged.len(), 1);
    let Event::ContactMerged(p) = &merged[0] else {
        panic!()
    };
    assert_eq!((p.merge_id, p.winner_id, p.loser_id), (merge, ada, ada2));

    assert_eq!(scope.contacts().view(ada).await.unwrap().id, ada);
    scope.contacts().view(ada).await.unwrap();
    let other = user(&db, "other@example.com").await;
    assert!(matches!(
        db.for_user(other).contacts().view(ada).await,
        Err(DomainError::NotFound("contact"))
    ));
    assert_eq!(of_kind(&db, me, EventKind::ContactViewed).await.len(), 2);
    assert!(all_events(&db, other).await.is_empty());
    assert!(
        live_events(&db, me).await.is_empty(),
        "none of these is live"
    );
}

#[tokio::test]
async fn notes_and_questions_are_recorded_once() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let scope = db.for_user(me);
    let ada = add_contact(&db, me, "Ada", "").await;
    let note = scope
        .notes()
        .create(&NewNote {
            contact: ada,
            body: NoteBody::parse("Met at the conference").unwrap(),
            author: Author::user("Me"),
            source_activity: None,
        })
        .await
        .unwrap();
    assert!(matches!(
        scope
            .notes()
            .create(&NewNote {
                contact: Uuid::new_v4(),
                body: NoteBody::parse("nobody").unwrap(),
                author: Author::user("Me"),
                source_activity: None,
            })
            .await,
        Err(DomainError::NotFound("contact"))
    ));
    let notes = of_kind(&db, me, EventKind::NoteCreated).await;
    assert_eq!(notes.len(), 1);
    let Event::NoteCreated(p) = &notes[0] else {
        panic!()
    };
    assert_eq!(
        (p.note_id, p.contact_id, p.author.as_str()),
        (note.id, ada, "user")
    );
    // The live side of the same change, for open contact pages.
    assert_eq!(live_events(&db, me).await.len(), 1);

    let answer = Answer::answered(
        "Three.".into(),
        domain::ask::AnswerValue::Number(3),
        vec!["message_counts".into()],
    );
    let exchange = scope
        .ask()
        .record_exchange(
            &Question::parse("How many?").unwrap(),
            &answer,
            "offline engine",
            12,
            0,
        )
        .await
        .unwrap();
    let asked = of_kind(&db, me, EventKind::AiQueryExecuted).await;
    assert_eq!(asked.len(), 1);
    let Event::AiQueryExecuted(p) = &asked[0] else {
        panic!()
    };
    assert_eq!(p.exchange_id, exchange.view.id);
    assert_eq!(p.question, "How many?");
    assert_eq!(p.tools, ["message_counts"]);
}

async fn backdate(db: &Db, user: UserId, days: i64) -> i64 {
    sqlx::query_scalar(
        "insert into events (user_id, kind, data, live, created_at)
         values ($1, 'contact.viewed', $2, false, now() - make_interval(days => $3::int)) returning id",
    )
    .bind(user.0)
    .bind(serde_json::json!({ "contact_id": Uuid::nil() }))
    .bind(days as i32)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn retention_deletes_only_events_older_than_the_cutoff() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let other = user(&db, "other@example.com").await;
    let old = backdate(&db, me, 400).await;
    let old_other = backdate(&db, other, 366).await;
    let recent = backdate(&db, me, 364).await;
    let today = backdate(&db, other, 0).await;
    let deleted = db
        .delete_events_before(Utc::now() - Duration::days(365))
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    let left: Vec<i64> = sqlx::query_scalar("select id from events order by id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(left, [recent, today]);
    assert!(!left.contains(&old) && !left.contains(&old_other));
    assert_eq!(
        db.delete_events_before(Utc::now() - Duration::days(365))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn export_writes_one_users_events_as_json_lines_since_a_time() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let other = user(&db, "other@example.com").await;
    let old = backdate(&db, me, 10).await;
    let _ = backdate(&db, other, 1).await;
    let ada = add_contact(&db, me, "Ada", "").await;
    add_contact(&db, other, "Secret", "").await;

    let mut out = Vec::new();
    let written = db
        .for_user(me)
        .events()
        .export_events(None, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<ExportedEvent> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(written, 2);
    assert_eq!(lines.len(), 2);
    assert!(text.ends_with('\n'));
    assert!(lines.iter().all(|e| e.user == me.0), "only my events");
    assert_eq!(lines[0].id, old);
    assert_eq!(lines[1].kind, "contact.created");
    assert_eq!(lines[1].data["contact_id"], ada.to_string());
    let mut keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
        text.lines().next().unwrap(),
    )
    .unwrap()
    .keys()
    .cloned()
    .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["at", "data", "id", "kind", "user"],
        "the documented schema"
    );

    let mut out = Vec::new();
    let since = Utc::now() - Duration::days(1);
    db.for_user(me)
        .events()
        .export_events(Some(since), &mut out)
        .await
        .unwrap();
    let recent: Vec<ExportedEvent> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].kind, "contact.created");
    assert!(recent[0].at >= since);
}

/// A live `contacts.touched` event recorded in its own transaction, left open.
async fn open_transaction_with_event(
    db: &Db,
    user: UserId,
) -> (sqlx::Transaction<'static, sqlx::Postgres>, i64) {
    let mut tx = db.pool().begin().await.unwrap();
    let event = Event::ContactsTouched(ContactsTouchedPayload {
        contacts: vec![Uuid::new_v4()],
    });
    let id = domain::events::record(&mut tx, user, &event).await.unwrap();
    (tx, id)
}

#[tokio::test]
async fn a_live_event_committed_after_a_newer_one_still_reaches_the_feed_once() {
    let db = fresh_db().await;
    let me = user(&db, OWNER).await;
    let feed = db.for_user(me).events();
    let mut cursor = LiveCursor::after(0);
    let sent_ids = |events: Vec<StoredEvent>| events.into_iter().map(|e| e.id).collect::<Vec<_>>();

    let (slow, older) = open_transaction_with_event(&db, me).await;
    let (quick, newer) = open_transaction_with_event(&db, me).await;
    assert!(older < newer);
    quick.commit().await.unwrap();
    let read = feed.live_events(&cursor).await.unwrap();
    assert_eq!(sent_ids(cursor.take(read)), [newer]);

    slow.commit().await.unwrap();
    let read = feed.live_events(&cursor).await.unwrap();
    assert_eq!(
        sent_ids(cursor.take(read)),
        [older],
        "the late one, not the newer again"
    );
    let read = feed.live_events(&cursor).await.unwrap();
    assert!(cursor.take(read).is_empty(), "each event is sent once");

    // Everything is settled now: a later event is read above both, and the feed no
    // longer asks again for what it sent.
    let (tx, latest) = open_transaction_with_event(&db, me).await;
    tx.commit().await.unwrap();
    let read = feed.live_events(&cursor).await.unwrap();
    assert_eq!(sent_ids(read.events.clone()), [latest]);
    assert_eq!(sent_ids(cursor.take(read)), [latest]);
}
