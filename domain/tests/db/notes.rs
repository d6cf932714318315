//! Notes and personal API tokens against a real PostgreSQL: CRUD, edit rules, events,
//! contact lookup by id or email, and one user never reaching another's notes, contacts,
//! activities or tokens.

use chrono::{Duration, Utc};
use domain::api_tokens::TokenName;
use domain::contacts::NewContact;
use domain::events::{EventKind, LiveCursor};
use domain::notes::{ActivityStateFilter, Author, ContactRef, NewNote, NoteBody};
use domain::{Db, DomainError, UserId};
use uuid::Uuid;

use crate::helpers::{TestUser, fresh_db, gmail_account, user};

async fn contact(db: &Db, user: UserId, name: &str, email: &str) -> Uuid {
    db.for_user(user)
        .contacts()
        .create(&NewContact::parse(name, email).unwrap())
        .await
        .expect("create contact")
}

/// An email from `contact` (address `from`) in `state`, `days_ago` days ago.
async fn activity(
    db: &Db,
    user: UserId,
    contact: Uuid,
    from: &str,
    subject: &str,
    state: &str,
    days_ago: i64,
) -> Uuid {
    let owner = TestUser {
        db: db.clone(),
        id: user,
        account: gmail_account(db, user, &format!("{}@me.example", Uuid::new_v4())).await,
    };
    owner
        .email(Utc::now() - Duration::days(days_ago))
        .subject(subject)
        .snippet(&format!("snippet of {subject}"))
        .state(state)
        .from(from, contact)
        .insert()
        .await
}

fn user_note(contact: Uuid, body: &str) -> NewNote {
    NewNote {
        contact,
        body: NoteBody::parse(body).unwrap(),
        author: Author::user("Alex"),
        source_activity: None,
    }
}

fn invalid_field(error: DomainError) -> &'static str {
    match error {
        DomainError::Invalid { field, .. } => field,
        other => panic!("expected a validation error, got {other}"),
    }
}

#[tokio::test]
async fn notes_are_created_listed_newest_first_edited_and_deleted() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let ada = contact(&db, me, "Ada", "ada@example.com").await;
    let source = activity(&db, me, ada, "ada@example.com", "Quote", "completed", 1).await;
    let scope = db.for_user(me);
    let events_before = scope.events().last_event_id().await.unwrap();

    let first = scope
        .notes()
        .create(&user_note(ada, "  Met at the fair  "))
        .await
        .unwrap();
    assert_eq!(first.body, "Met at the fair", "trimmed");
    assert_eq!(first.author, Author::User("Alex".into()));
    assert!(first.editable());
    let agent = scope
        .notes()
        .create(&NewNote {
            contact: ada,
            body: NoteBody::parse("Asked for a quote").unwrap(),
            author: Author::agent("summariser").unwrap(),
            source_activity: Some(source),
        })
        .await
        .unwrap();
    assert!(!agent.editable());
    let linked = agent.source.as_ref().expect("source activity");
    assert_eq!(
        (linked.id, linked.subject.as_deref()),
        (source, Some("Quote"))
    );

    let listed = scope.notes().for_contact(ada).await.unwrap();
    assert_eq!(
        listed.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![agent.id, first.id],
        "newest first"
    );
    assert_eq!(listed[0].author.kind(), api::AuthorKind::Agent);
    assert_eq!(listed[0].author.name(), "summariser");

    let edited = scope
        .notes()
        .edit(
            first.id,
            &NoteBody::parse("Met at the spring fair").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(edited.body, "Met at the spring fair");
    assert!(edited.updated_at >= first.updated_at);

    let refused = scope
        .notes()
        .edit(agent.id, &NoteBody::parse("rewritten").unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        invalid_field(refused),
        "note",
        "agent notes are not editable"
    );

    scope
        .notes()
        .delete(agent.id)
        .await
        .expect("users may delete agent notes");
    scope.notes().delete(first.id).await.unwrap();
    assert!(scope.notes().for_contact(ada).await.unwrap().is_empty());
    assert!(matches!(
        scope.notes().delete(first.id).await,
        Err(DomainError::NotFound("note"))
    ));

    let events = scope
        .events()
        .live_events(&LiveCursor::after(events_before))
        .await
        .unwrap()
        .events;
    let changes: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::NotesChanged.as_str())
        .collect();
    assert_eq!(changes.len(), 5, "create x2, edit, delete x2");
    assert!(
        changes
            .iter()
            .all(|e| e.data["contact_id"] == ada.to_string())
    );
}

#[tokio::test]
async fn a_note_needs_an_existing_contact_and_its_own_users_activity() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let other = user(&db, "other@example.com").await;
    let ada = contact(&db, me, "Ada", "ada@example.com").await;
    let theirs = contact(&db, other, "Ada", "ada@example.com").await;
    let their_activity = activity(
        &db,
        other,
        theirs,
        "ada@example.com",
        "Secret",
        "completed",
        1,
    )
    .await;
    let scope = db.for_user(me);

    assert!(matches!(
        scope.notes().create(&user_note(Uuid::new_v4(), "x")).await,
        Err(DomainError::NotFound("contact"))
    ));
    let mut with_foreign_source = user_note(ada, "x");
    with_foreign_source.source_activity = Some(their_activity);
    assert_eq!(
        invalid_field(
            scope
                .notes()
                .create(&with_foreign_source)
                .await
                .unwrap_err()
        ),
        "source_activity_id"
    );
    assert!(
        scope.notes().for_contact(ada).await.unwrap().is_empty(),
        "nothing half-stored"
    );
}

#[tokio::test]
async fn one_user_never_reaches_another_users_notes_or_contacts() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let other = user(&db, "other@example.com").await;
    let mine = contact(&db, me, "Ada", "ada@example.com").await;
    let theirs = contact(&db, other, "Ada Lovelace", "ada@example.com").await;
    let their_note = db
        .for_user(other)
        .notes()
        .create(&user_note(theirs, "private"))
        .await
        .unwrap();
    let scope = db.for_user(me);

    assert!(scope.notes().for_contact(theirs).await.unwrap().is_empty());
    assert!(matches!(
        scope.notes().get(their_note.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        scope
            .notes()
            .edit(their_note.id, &NoteBody::parse("mine now").unwrap())
            .await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        scope.notes().delete(their_note.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        scope
            .notes()
            .create(&user_note(theirs, "into theirs"))
            .await,
        Err(DomainError::NotFound("contact"))
    ));
    assert_eq!(
        db.for_user(other)
            .notes()
            .for_contact(theirs)
            .await
            .unwrap()
            .len(),
        1,
        "untouched"
    );

    // The same address names each user's own contact; another's id names nothing.
    let by_email = ContactRef::parse("ADA@example.com").unwrap();
    assert_eq!(
        scope.notes().resolve_contact(&by_email).await.unwrap(),
        mine
    );
    assert_eq!(
        db.for_user(other)
            .notes()
            .resolve_contact(&by_email)
            .await
            .unwrap(),
        theirs
    );
    assert!(matches!(
        scope.notes().resolve_contact(&ContactRef::Id(theirs)).await,
        Err(DomainError::NotFound("contact"))
    ));
    assert!(matches!(
        scope
            .notes()
            .resolve_contact(&ContactRef::parse("nobody@example.com").unwrap())
            .await,
        Err(DomainError::NotFound("contact"))
    ));
}

#[tokio::test]
async fn a_contacts_activities_are_filtered_by_state_newest_first() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let other = user(&db, "other@example.com").await;
    let ada = contact(&db, me, "Ada", "ada@example.com").await;
    let bob = contact(&db, me, "Bob", "bob@example.com").await;
    let old = activity(&db, me, ada, "ada@example.com", "Old", "completed", 9).await;
    let new = activity(&db, me, ada, "ada@example.com", "New", "completed", 1).await;
    activity(&db, me, ada, "ada@example.com", "Waiting", "raw", 0).await;
    activity(&db, me, bob, "bob@example.com", "Bob's", "completed", 0).await;
    let theirs = contact(&db, other, "Ada", "ada@example.com").await;
    activity(
        &db,
        other,
        theirs,
        "ada@example.com",
        "Theirs",
        "completed",
        0,
    )
    .await;
    let scope = db.for_user(me);

    let completed = scope
        .notes()
        .contact_activities(
            ada,
            ActivityStateFilter::parse(Some("completed")).unwrap(),
            50,
        )
        .await
        .unwrap();
    assert_eq!(
        completed.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![new, old]
    );
    assert!(completed.iter().all(|a| a.processed_at.is_some()));
    let all = scope
        .notes()
        .contact_activities(ada, ActivityStateFilter::Any, 50)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].subject.as_deref(), Some("Waiting"));
    assert_eq!(
        scope
            .notes()
            .contact_activities(ada, ActivityStateFilter::Any, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        scope
            .notes()
            .contact_activities(theirs, ActivityStateFilter::Any, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn api_tokens_authenticate_until_revoked_and_belong_to_their_user() {
    let db = fresh_db().await;
    let me = user(&db, "me@example.com").await;
    let other = user(&db, "other@example.com").await;
    let scope = db.for_user(me);

    let (summary, token) = scope
        .api_tokens()
        .create(&TokenName::parse("  summariser ").unwrap())
        .await
        .unwrap();
    assert_eq!(summary.name, "summariser");
    assert!(token.expose().starts_with(&summary.display_prefix));
    assert!(summary.last_used_at.is_none());
    let stored: Vec<u8> = sqlx::query_scalar("select token_sha256 from api_tokens where id = $1")
        .bind(summary.id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 32, "only the digest is kept");

    let holder = db
        .authenticate_api_token(token.expose())
        .await
        .unwrap()
        .expect("live token");
    assert_eq!(
        (holder.user, holder.token, holder.name.as_str()),
        (me, summary.id, "summariser")
    );
    assert!(
        scope.api_tokens().list().await.unwrap()[0]
            .last_used_at
            .is_some(),
        "use recorded"
    );
    assert!(
        db.authenticate_api_token("rpt_wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.authenticate_api_token("").await.unwrap().is_none());

    assert!(matches!(
        db.for_user(other).api_tokens().revoke(summary.id).await,
        Err(DomainError::NotFound("token"))
    ));
    assert!(
        db.for_user(other)
            .api_tokens()
            .list()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.authenticate_api_token(token.expose())
            .await
            .unwrap()
            .is_some(),
        "still live"
    );

    scope.api_tokens().revoke(summary.id).await.unwrap();
    scope
        .api_tokens()
        .revoke(summary.id)
        .await
        .expect("revoking twice is harmless");
    assert!(
        db.authenticate_api_token(token.expose())
            .await
            .unwrap()
            .is_none()
    );
    let listed = scope.api_tokens().list().await.unwrap();
    assert!(listed[0].revoked_at.is_some());
}
