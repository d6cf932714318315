use std::time::Instant;

use api::{Direction, LedgerOutcome};
use chrono::{TimeZone, Utc};
use domain::ingest::{IncomingEmail, IngestError, IngestFilter, LabelChange, StoreOutcome};
use fakes::mailbox::{Mailbox, MailboxSpec, MessageKind};

use crate::helpers::{fresh_db, gmail_account, user};

fn plain(id: &str, labels: &[&str], from: &str) -> IncomingEmail {
    IncomingEmail {
        external_id: id.to_owned(),
        thread_id: Some(format!("t-{id}")),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        received_at: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
        content: format!(
            "Date: Thu, 2 Jan 2025 03:04:05 +0000\r\nMessage-ID: <{id}@example.com>\r\nFrom: {from}\r\nTo: =?UTF-8?B?SsO2cmcgQsOkY2tlcg==?= <Owner@Example.com>, Pat <pat@example.org>\r\nCc: pat@example.org\r\nSubject: Hello {id}\r\n\r\nHi there.\r\n"
        )
        .into_bytes()
            .into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_a_generated_mailbox_quickly() {
    let db = fresh_db().await;
    let spec = MailboxSpec::demo(2_000);
    let mailbox = Mailbox::generate(&spec);
    let owner = user(&db, &spec.owner_email).await;
    let account = gmail_account(&db, owner, &spec.owner_email).await;
    let messages: Vec<_> = mailbox.messages().collect();
    let emails: Vec<IncomingEmail> = messages.iter().cloned().map(IncomingEmail::from).collect();
    let scope = db.for_user(owner);
    let filter = IngestFilter::default();

    let started = Instant::now();
    let mut stored = Vec::new();
    for batch in emails.chunks(500) {
        stored.extend(
            scope
                .mail()
                .store_emails(account, batch, &filter)
                .await
                .unwrap(),
        );
    }
    let elapsed = started.elapsed();
    let rate = emails.len() as f64 / elapsed.as_secs_f64();
    println!(
        "stored {} messages in {elapsed:.2?}: {rate:.0} messages/second",
        emails.len()
    );
    assert!(
        rate > 50.0,
        "{rate:.0} messages/second is far below the sync's needs"
    );

    for (message, result) in messages.iter().zip(&stored) {
        match (&result.outcome, message.kind) {
            (StoreOutcome::Filtered { rule }, MessageKind::Spam) => assert_eq!(rule, "label:SPAM"),
            (StoreOutcome::Imported(_), kind) => assert_ne!(kind, MessageKind::Spam),
            (other, kind) => panic!("{}: {kind:?} gave {other:?}", message.id),
        }
    }
    let ledger = scope.mail().sync_ledger(account).await.unwrap();
    assert_eq!(ledger.len(), 2_000);

    for message in &messages {
        let Some(activity) = scope
            .mail()
            .email_activity(account, &message.id)
            .await
            .unwrap()
        else {
            assert_eq!(message.kind, MessageKind::Spam);
            continue;
        };
        let expected = if message.from_owner {
            Direction::Outbound
        } else {
            Direction::Inbound
        };
        assert_eq!(activity.direction, Some(expected), "{}", message.id);
        if message.kind == MessageKind::Malformed {
            assert!(
                !activity.parse_problems.is_empty(),
                "{} flagged",
                message.id
            );
        }
        if message.kind == MessageKind::Personal {
            assert!(activity.participants >= 2);
        }
    }
}

#[tokio::test]
async fn storing_twice_keeps_one_row_and_refreshes_labels() {
    let db = fresh_db().await;
    let owner = user(&db, "owner@example.com").await;
    let account = gmail_account(&db, owner, "owner@example.com").await;
    let scope = db.for_user(owner);
    let filter = IngestFilter::default();
    let first = plain("m1", &["INBOX", "UNREAD"], "Dana <dana@example.net>");

    let a = scope
        .mail()
        .store_email(account, &first, &filter)
        .await
        .unwrap();
    let StoreOutcome::Imported(id) = a.outcome else {
        panic!("{a:?}")
    };
    let mut again = first.clone();
    again.labels = vec!["INBOX".into()];
    let b = scope
        .mail()
        .store_emails(account, &[again.clone(), again], &filter)
        .await
        .unwrap();
    assert_eq!(b[0].outcome, StoreOutcome::Updated(id));

    let count: i64 = sqlx::query_scalar("select count(*) from activities")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
    let stored = scope
        .mail()
        .email_activity(account, "m1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.labels, ["INBOX"]);
    assert_eq!(stored.direction, Some(Direction::Inbound));
    assert_eq!(stored.participants, 4, "from, two to, one cc");
    let people: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select role, address, display_name from activity_participants order by role, address",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        people,
        [
            ("cc".into(), "pat@example.org".into(), None),
            (
                "from".into(),
                "dana@example.net".into(),
                Some("Dana".into())
            ),
            (
                "to".into(),
                "owner@example.com".into(),
                Some("Jörg Bäcker".into())
            ),
            ("to".into(), "pat@example.org".into(), Some("Pat".into())),
        ]
    );
}

#[tokio::test]
async fn mail_from_the_owner_is_outbound_even_without_a_sent_label() {
    let db = fresh_db().await;
    let owner = user(&db, "owner@example.com").await;
    let account = gmail_account(&db, owner, "owner@example.com").await;
    sqlx::query("update accounts set sync_state = '{\"aliases\": [\"alias@example.com\"]}'")
        .execute(db.pool())
        .await
        .unwrap();
    let scope = db.for_user(owner);
    let emails = [
        plain("own", &[], "Me <OWNER@example.com>"),
        plain("alias", &[], "alias@example.com"),
        plain("sent", &["SENT"], "someone@example.net"),
        plain("in", &["INBOX"], "someone@example.net"),
    ];
    scope
        .mail()
        .store_emails(account, &emails, &IngestFilter::default())
        .await
        .unwrap();
    for (id, direction) in [
        ("own", Direction::Outbound),
        ("alias", Direction::Outbound),
        ("sent", Direction::Outbound),
        ("in", Direction::Inbound),
    ] {
        let a = scope
            .mail()
            .email_activity(account, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.direction, Some(direction), "{id}");
    }
}

#[tokio::test]
async fn deletions_are_marked_not_dropped() {
    let db = fresh_db().await;
    let owner = user(&db, "owner@example.com").await;
    let account = gmail_account(&db, owner, "owner@example.com").await;
    let scope = db.for_user(owner);
    let filter = IngestFilter::default();
    let emails = [
        plain("keep", &["INBOX"], "a@example.net"),
        plain("gone", &["INBOX"], "b@example.net"),
    ];
    scope
        .mail()
        .store_emails(account, &emails, &filter)
        .await
        .unwrap();

    let marked = scope
        .mail()
        .mark_emails_deleted(account, &["gone".into(), "never-seen".into()])
        .await
        .unwrap();
    assert_eq!(marked, 1);
    let gone = scope
        .mail()
        .email_activity(account, "gone")
        .await
        .unwrap()
        .unwrap();
    assert!(gone.deleted_at.is_some(), "the row stays, marked");
    let recent = scope.timeline().recent(10).await.unwrap();
    assert_eq!(recent.len(), 1, "deleted mail leaves the timeline");
    let ledger = scope.mail().sync_ledger(account).await.unwrap();
    let outcome = |id: &str| {
        ledger
            .iter()
            .find(|e| e.external_id == id)
            .map(|e| e.outcome)
    };
    assert_eq!(outcome("gone"), Some(LedgerOutcome::Deleted));
    assert_eq!(outcome("keep"), Some(LedgerOutcome::Imported));

    scope
        .mail()
        .store_emails(account, &emails[1..], &filter)
        .await
        .unwrap();
    let back = scope
        .mail()
        .email_activity(account, "gone")
        .await
        .unwrap()
        .unwrap();
    assert!(back.deleted_at.is_none(), "shown again by the provider");
}

#[tokio::test]
async fn label_changes_add_and_remove() {
    let db = fresh_db().await;
    let owner = user(&db, "owner@example.com").await;
    let account = gmail_account(&db, owner, "owner@example.com").await;
    let scope = db.for_user(owner);
    let emails = [
        plain("a", &["INBOX", "UNREAD"], "a@example.net"),
        plain("b", &["INBOX"], "b@example.net"),
    ];
    scope
        .mail()
        .store_emails(account, &emails, &IngestFilter::default())
        .await
        .unwrap();
    let changed = scope
        .mail()
        .apply_label_changes(
            account,
            &[
                LabelChange {
                    external_id: "a".into(),
                    added: vec!["STARRED".into()],
                    removed: vec!["UNREAD".into()],
                },
                LabelChange {
                    external_id: "b".into(),
                    added: vec!["INBOX".into()],
                    removed: vec!["INBOX".into(), "ABSENT".into()],
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(changed, 2);
    let labels = |id: &'static str| {
        let scope = db.for_user(owner);
        async move {
            scope
                .mail()
                .email_activity(account, id)
                .await
                .unwrap()
                .unwrap()
                .labels
        }
    };
    assert_eq!(labels("a").await, ["INBOX", "STARRED"]);
    assert!(labels("b").await.is_empty(), "removal wins over re-adding");
}

#[tokio::test]
async fn the_ledger_records_every_outcome() {
    let db = fresh_db().await;
    let owner = user(&db, "owner@example.com").await;
    let account = gmail_account(&db, owner, "owner@example.com").await;
    let scope = db.for_user(owner);
    let broken = IncomingEmail {
        content: Vec::new().into(),
        ..plain("broken", &["INBOX"], "x@example.net")
    };
    let emails = [
        plain("ok", &["INBOX"], "a@example.net"),
        plain("junk", &["SPAM"], "spam@example.net"),
        plain("draft", &["DRAFT"], "owner@example.com"),
        broken.clone(),
    ];
    let stored = scope
        .mail()
        .store_emails(account, &emails, &IngestFilter::default())
        .await
        .unwrap();
    assert!(matches!(stored[0].outcome, StoreOutcome::Imported(_)));
    assert!(matches!(stored[3].outcome, StoreOutcome::Failed { .. }));
    scope
        .mail()
        .store_email(account, &broken, &IngestFilter::default())
        .await
        .unwrap();

    let ledger = scope.mail().sync_ledger(account).await.unwrap();
    let summary: Vec<(&str, &str, Option<&str>, i32)> = ledger
        .iter()
        .map(|e| {
            (
                e.external_id.as_str(),
                e.outcome.as_str(),
                e.rule.as_deref().or(e.error.as_deref()),
                e.attempts,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("broken", "failed", Some("not a readable message"), 2),
            ("draft", "filtered", Some("label:DRAFT"), 0),
            ("junk", "filtered", Some("label:SPAM"), 0),
            ("ok", "imported", None, 0),
        ]
    );
    assert!(ledger[3].activity_id.is_some());
}

#[tokio::test]
async fn another_user_sees_none_of_it() {
    let db = fresh_db().await;
    let owner = user(&db, "owner@example.com").await;
    let account = gmail_account(&db, owner, "owner@example.com").await;
    let other = user(&db, "other@example.com").await;
    let other_account = gmail_account(&db, other, "other@example.com").await;
    let filter = IngestFilter::default();
    let email = plain("secret", &["INBOX"], "a@example.net");
    db.for_user(owner)
        .mail()
        .store_email(account, &email, &filter)
        .await
        .unwrap();

    let theirs = db.for_user(other);
    assert!(
        theirs
            .mail()
            .email_activity(account, "secret")
            .await
            .unwrap()
            .is_none()
    );
    assert!(theirs.mail().sync_ledger(account).await.unwrap().is_empty());
    assert!(theirs.timeline().recent(10).await.unwrap().is_empty());
    assert!(matches!(
        theirs.mail().store_email(account, &email, &filter).await,
        Err(IngestError::AccountNotFound)
    ));
    assert_eq!(
        theirs
            .mail()
            .mark_emails_deleted(account, &["secret".into()])
            .await
            .unwrap(),
        0
    );
    let change = LabelChange {
        external_id: "secret".into(),
        added: vec!["X".into()],
        removed: vec![],
    };
    assert_eq!(
        theirs
            .mail()
            .apply_label_changes(account, &[change])
            .await
            .unwrap(),
        0
    );
    // The same provider id in their own account is a different message.
    assert!(matches!(
        theirs
            .mail()
            .store_email(other_account, &email, &filter)
            .await
            .unwrap()
            .outcome,
        StoreOutcome::Imported(_)
    ));
    let mine = db
        .for_user(owner)
        .mail()
        .email_activity(account, "secret")
        .await
        .unwrap()
        .unwrap();
    assert!(mine.deleted_at.is_none() && mine.labels == ["INBOX"]);
}
