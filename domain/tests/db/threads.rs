//! Reading mail against real storage: the three threading rules on ingested mail, the
//! mail frame's HTML, the remote-image choice, and isolation between users.

use api::mail::{MessageBody, RemoteImages, TextBlock};
use chrono::{TimeZone, Utc};
use domain::DomainError;
use domain::ingest::{IncomingEmail, IngestFilter, StoreOutcome};
use uuid::Uuid;

use crate::helpers::{fresh_db, gmail_account, user};

const OWNER: &str = "owner@example.com";

/// One message; `headers` are extra header lines (Message-ID is always set from `id`).
fn email(id: &str, thread: Option<&str>, minute: u32, headers: &str, body: &str) -> IncomingEmail {
    let (content_type, body) = match body.strip_prefix("html:") {
        Some(html) => ("text/html; charset=utf-8", html),
        None => ("text/plain; charset=utf-8", body),
    };
    IncomingEmail {
        external_id: id.to_owned(),
        thread_id: thread.map(str::to_owned),
        labels: vec!["INBOX".to_owned()],
        received_at: Utc.with_ymd_and_hms(2025, 3, 3, 9, minute, 0).unwrap(),
        content: format!(
            "Date: Mon, 3 Mar 2025 09:{minute:02}:00 +0000\r\nMessage-ID: <{id}@x.example>\r\n{headers}Content-Type: {content_type}\r\n\r\n{body}\r\n"
        )
        .into_bytes()
            .into(),
    }
}

async fn store(db: &domain::Db, owner: domain::UserId, emails: &[IncomingEmail]) -> Vec<Uuid> {
    let account = gmail_account(db, owner, OWNER).await;
    db.for_user(owner)
        .mail()
        .store_emails(account, emails, &IngestFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|s| match s.outcome {
            StoreOutcome::Imported(id) => id,
            other => panic!("{}: {other:?}", s.external_id),
        })
        .collect()
}

#[tokio::test]
async fn threads_follow_provider_ids_then_references_then_subject_and_people() {
    let db = fresh_db().await;
    let owner = user(&db, OWNER).await;
    let ann = "From: Ann <ann@x.example>\r\nTo: owner@example.com\r\n";
    let to_ann = "From: owner@example.com\r\nTo: Ann <ann@x.example>\r\n";
    let ids = store(
        &db,
        owner,
        &[
            // References, no provider thread (an mbox import).
            email("r1", None, 0, &format!("{ann}Subject: Lunch\r\n"), "Lunch on Friday?"),
            email(
                "r2",
                None,
                5,
                &format!("{to_ann}Subject: Re: Lunch\r\nIn-Reply-To: <r1@x.example>\r\nReferences: <r1@x.example>\r\n"),
                "Yes!\r\n\r\nOn Mon, 3 Mar 2025, Ann wrote:\r\n> Lunch on Friday?",
            ),
            email(
                "r3",
                None,
                9,
                &format!("{ann}Subject: Re: Lunch\r\nReferences: <r1@x.example> <r2@x.example>\r\n"),
                "Great.",
            ),
            // Same subject and people, but replying elsewhere: another conversation.
            email(
                "other",
                None,
                7,
                &format!("{ann}Subject: Re: Lunch\r\nIn-Reply-To: <old@x.example>\r\n"),
                "About last year's lunch.",
            ),
            // No ids at all: subject and participants decide.
            email("s1", None, 10, &format!("{ann}Subject: Budget\r\n"), "Numbers attached."),
            email("s2", None, 12, &format!("{to_ann}Subject: AW: budget\r\n"), "Thanks."),
            email(
                "s3",
                None,
                13,
                "From: Bob <bob@x.example>\r\nTo: owner@example.com\r\nSubject: Budget\r\n",
                "Bob's budget.",
            ),
            // Gmail's thread id wins even over a changed subject.
            email("g1", Some("T1"), 20, &format!("{ann}Subject: Plans\r\n"), "Plans?"),
            email("g2", Some("T1"), 21, &format!("{to_ann}Subject: New plans\r\n"), "New ones."),
            email("g3", Some("T2"), 22, &format!("{ann}Subject: Re: Plans\r\n"), "Other thread."),
        ],
    )
    .await;
    let [r1, r2, r3, other, s1, s2, s3, g1, g2, g3] = ids[..] else {
        panic!("ten messages")
    };
    let threads = db.for_user(owner).threads();
    let members =
        |thread: api::mail::Thread| thread.messages.iter().map(|m| m.id).collect::<Vec<_>>();

    let lunch = threads.thread_of(r3).await.unwrap();
    assert_eq!(lunch.subject, "Re: Lunch");
    assert_eq!(lunch.opened, r3);
    assert_eq!(
        members(lunch.clone()),
        vec![r1, r2, r3],
        "oldest first, without 'other'"
    );
    let reply = &lunch.messages[1];
    assert_eq!(reply.from[0].address, OWNER);
    assert_eq!(reply.to[0].name.as_deref(), Some("Ann"));
    assert_eq!(
        reply.body,
        MessageBody::Text(vec![
            TextBlock::Said("Yes!".to_owned()),
            TextBlock::Quoted("On Mon, 3 Mar 2025, Ann wrote:\n> Lunch on Friday?".to_owned()),
        ])
    );
    assert_eq!(
        members(threads.thread_of(r1).await.unwrap()),
        vec![r1, r2, r3]
    );
    assert_eq!(
        members(threads.thread_of(other).await.unwrap()),
        vec![other]
    );
    assert_eq!(members(threads.thread_of(s2).await.unwrap()), vec![s1, s2]);
    assert_eq!(members(threads.thread_of(s3).await.unwrap()), vec![s3]);
    let plans = threads.thread_of(g2).await.unwrap();
    assert_eq!(members(plans.clone()), vec![g1, g2]);
    assert_eq!(
        plans.messages[0].gmail_url.as_deref(),
        Some("https://mail.google.com/mail/u/0/#all/T1")
    );
    assert_eq!(members(threads.thread_of(g3).await.unwrap()), vec![g3]);
    assert_eq!(lunch.messages[0].gmail_url, None, "no Gmail thread to open");
}

#[tokio::test]
async fn remote_images_load_only_once_allowed_and_only_for_their_owner() {
    let db = fresh_db().await;
    let owner = user(&db, OWNER).await;
    let stranger = user(&db, "stranger@example.com").await;
    let [news, plain] = store(
        &db,
        owner,
        &[
            email(
                "news",
                Some("N1"),
                0,
                "From: news@paper.example\r\nTo: owner@example.com\r\nSubject: Issue 1\r\n",
                "html:<h1>Issue 1</h1><img src=\"https://paper.example/o/1.gif\" width=\"1\" height=\"1\">",
            ),
            email(
                "plain",
                Some("N2"),
                1,
                "From: ann@x.example\r\nTo: owner@example.com\r\nSubject: Hi\r\n",
                "html:<p>No images here.</p>",
            ),
        ],
    )
    .await[..] else {
        panic!("two messages")
    };
    let threads = db.for_user(owner).threads();
    let remote_images = |thread: api::mail::Thread| match &thread.messages[0].body {
        MessageBody::Html {
            remote_images,
            html_src,
        } => {
            let base = format!("/mail/{}/html", thread.messages[0].id);
            match remote_images {
                RemoteImages::Allowed => assert_eq!(html_src, &format!("{base}?images=allowed")),
                RemoteImages::None | RemoteImages::Blocked => assert_eq!(html_src, &base),
            }
            *remote_images
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        remote_images(threads.thread_of(plain).await.unwrap()),
        RemoteImages::None
    );
    assert_eq!(
        remote_images(threads.thread_of(news).await.unwrap()),
        RemoteImages::Blocked
    );
    let blocked = threads.frame(news).await.unwrap();
    assert!(
        !blocked.html.contains(" src=\"https://"),
        "{}",
        blocked.html
    );
    assert!(blocked.content_security_policy.contains("img-src data:;"));

    // Another user learns nothing: every read and the write answer "not found".
    let theirs = db.for_user(stranger).threads();
    assert!(matches!(
        theirs.thread_of(news).await,
        Err(DomainError::NotFound("email"))
    ));
    assert!(matches!(
        theirs.frame(news).await,
        Err(DomainError::NotFound("email"))
    ));
    assert!(matches!(
        theirs.allow_remote_images(news).await,
        Err(DomainError::NotFound("email"))
    ));
    assert_eq!(
        remote_images(threads.thread_of(news).await.unwrap()),
        RemoteImages::Blocked
    );
    assert!(matches!(
        threads.thread_of(Uuid::new_v4()).await,
        Err(DomainError::NotFound("email"))
    ));

    threads.allow_remote_images(news).await.unwrap();
    assert_eq!(
        remote_images(threads.thread_of(news).await.unwrap()),
        RemoteImages::Allowed
    );
    let allowed = threads.frame(news).await.unwrap();
    assert!(
        allowed
            .html
            .contains(" src=\"https://paper.example/o/1.gif\""),
        "{}",
        allowed.html
    );
    assert!(
        allowed
            .content_security_policy
            .contains("img-src data: https: http:;")
    );
    let other_message = threads.frame(plain).await.unwrap();
    assert!(
        other_message
            .content_security_policy
            .contains("img-src data:;"),
        "per message"
    );
}
