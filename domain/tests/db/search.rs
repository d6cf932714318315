//! Mail search: operators, phrases, stemming, ranking, user scoping, and an activity
//! found the moment its transaction commits (the index is kept by triggers).

use api::Channel;
use api::search::{SearchPage, plain};
use chrono::{DateTime, TimeZone, Utc};
use domain::ingest::{IncomingEmail, IngestFilter, StoreOutcome};
use domain::search::SearchQuery;
use uuid::Uuid;

use crate::fixtures::TestUser;
use crate::helpers::{documents_the_triggers_build, fresh_db, search_documents};

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, d, 12, 0, 0).unwrap()
}

/// A raw message as Gmail would deliver it.
fn email(id: &str, date: &str, from: &str, to: &str, subject: &str, body: &str) -> IncomingEmail {
    IncomingEmail {
        external_id: id.to_owned(),
        thread_id: Some(format!("t-{id}")),
        labels: vec!["INBOX".into()],
        received_at: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
        content: format!(
            "Date: {date}\r\nMessage-ID: <{id}@example.com>\r\nFrom: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
        .into_bytes()
        .into(),
    }
}

/// A message with one attachment named `filename`.
fn with_attachment(id: &str, from: &str, subject: &str, filename: &str) -> IncomingEmail {
    IncomingEmail {
        external_id: id.to_owned(),
        thread_id: None,
        labels: vec!["INBOX".into()],
        received_at: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
        content: format!(
            "Date: Sat, 1 Mar 2025 09:00:00 +0000\r\nMessage-ID: <{id}@example.com>\r\nFrom: {from}\r\nTo: owner@example.com\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"{filename}\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
        )
        .into_bytes()
        .into(),
    }
}

async fn store(user: &TestUser, emails: &[IncomingEmail]) -> Vec<Uuid> {
    user.db
        .for_user(user.id)
        .mail()
        .store_emails(user.account, emails, &IngestFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|s| match s.outcome {
            StoreOutcome::Imported(id) => id,
            other => panic!("not stored: {other:?}"),
        })
        .collect()
}

async fn search(user: &TestUser, q: &str) -> SearchPage {
    let query = SearchQuery::parse(q).unwrap();
    user.db
        .for_user(user.id)
        .search()
        .page(&query, 1)
        .await
        .unwrap()
}

async fn ids(user: &TestUser, q: &str) -> Vec<Uuid> {
    search(user, q).await.hits.iter().map(|h| h.id).collect()
}

#[tokio::test]
async fn words_are_stemmed_and_names_match_as_typed() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let renewal = owner
        .email(day(1))
        .subject("Renewing the contracts")
        .body("We renewed both agreements yesterday.")
        .insert()
        .await;
    let german = owner
        .email(day(2))
        .subject("Verträge für Müller")
        .body("Die Unterlagen kommen morgen.")
        .insert()
        .await;
    let other = owner
        .email(day(3))
        .subject("Lunch")
        .body("Pizza?")
        .insert()
        .await;

    // "contract" finds "contracts", "renew" finds "Renewing" and "renewed".
    assert_eq!(ids(&owner, "contract").await, vec![renewal]);
    assert_eq!(ids(&owner, "renewals").await, vec![renewal]);
    assert_eq!(ids(&owner, "AGREEMENT").await, vec![renewal]);
    // Words the English stemmer does not know still match as typed.
    assert_eq!(ids(&owner, "Unterlagen").await, vec![german]);
    assert_eq!(ids(&owner, "müller").await, vec![german]);
    // A stop word alone matches nothing; beside a real word it is left out.
    assert!(ids(&owner, "the").await.is_empty());
    assert_eq!(ids(&owner, "the pizza").await, vec![other]);
    // Every word must match.
    assert!(ids(&owner, "contract pizza").await.is_empty());
}

/// A word or phrase is searched in its English and its as-typed form, once when the two
/// are the same: twice, Postgres estimates the same lexeme as two independent words,
/// expects twice the matches, and picks the slow plan for a mid-frequency word.
#[tokio::test]
async fn a_word_spelled_like_its_stem_is_searched_once() {
    let db = fresh_db().await;
    let tsquery = |words: &[&str], phrases: &[&str]| {
        let (words, phrases): (Vec<String>, Vec<String>) = (
            words.iter().map(|w| w.to_string()).collect(),
            phrases.iter().map(|p| p.to_string()).collect(),
        );
        let pool = db.pool().clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "select search_tsquery($1, $2, '{}', '{}', '{}', false)::text",
            )
            .bind(words)
            .bind(phrases)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(tsquery(&["Pilot"], &[]).await, "'pilot'");
    assert_eq!(tsquery(&["proposals"], &[]).await, "'propos' | 'proposals'");
    assert_eq!(
        tsquery(&["lisbon", "invoices"], &[]).await,
        "'lisbon' & ( 'invoic' | 'invoices' )"
    );
    assert_eq!(tsquery(&[], &["action plan"]).await, "'action' <-> 'plan'");
    assert_eq!(
        tsquery(&[], &["speaking slot"]).await,
        "'speak' <-> 'slot' | 'speaking' <-> 'slot'"
    );
}

#[tokio::test]
async fn phrases_need_their_words_in_order() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let exact = owner
        .email(day(1))
        .subject("Notes")
        .body("Please send the signed contract by Friday.")
        .insert()
        .await;
    let scrambled = owner
        .email(day(2))
        .subject("Notes")
        .body("The contract was signed on Friday.")
        .insert()
        .await;

    assert_eq!(ids(&owner, "\"signed contract\"").await, vec![exact]);
    assert_eq!(ids(&owner, "\"signing contracts\"").await, vec![exact]);
    let mut both = ids(&owner, "signed contract").await;
    both.sort();
    let mut expected = vec![exact, scrambled];
    expected.sort();
    assert_eq!(both, expected);
}

#[tokio::test]
async fn operators_narrow_by_sender_recipient_channel_date_and_attachment() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let stored = store(
        &owner,
        &[
            email(
                "dana-1",
                "Mon, 3 Mar 2025 10:00:00 +0000",
                "Dana Whitfield <dana@acme.com>",
                "owner@example.com",
                "Contract draft",
                "Here is the contract.",
            ),
            email(
                "bob-1",
                "Mon, 10 Mar 2025 10:00:00 +0000",
                "Bob Stone <bob@globex.com>",
                "Dana Whitfield <dana@acme.com>",
                "Re: Contract draft",
                "Comments on the contract.",
            ),
            with_attachment(
                "dana-2",
                "Dana Whitfield <dana@acme.com>",
                "Signed",
                "Signed Contract Q1.pdf",
            ),
        ],
    )
    .await;
    let (dana, bob, attached) = (stored[0], stored[1], stored[2]);
    let sms = owner.email(day(5)).subject("contract ping").insert().await;
    sqlx::query("update activities set channel = 'sms' where id = $1")
        .bind(sms)
        .execute(db.pool())
        .await
        .unwrap();

    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    assert_eq!(ids(&owner, "from:dana draft").await, vec![dana]);
    // The attachment name counts too.
    assert_eq!(
        sorted(ids(&owner, "from:dana contract").await),
        sorted(vec![dana, attached])
    );
    assert_eq!(
        sorted(ids(&owner, "from:dana@acme.com").await),
        sorted(vec![dana, attached])
    );
    assert_eq!(
        sorted(ids(&owner, "from:\"Dana Whitfield\"").await),
        sorted(vec![dana, attached])
    );
    assert_eq!(ids(&owner, "from:acme.com draft").await, vec![dana]);
    assert_eq!(ids(&owner, "to:dana").await, vec![bob]);
    assert_eq!(ids(&owner, "from:bob").await, vec![bob]);
    // A participant's name is also plain text.
    assert_eq!(
        sorted(ids(&owner, "whitfield draft").await),
        sorted(vec![dana, bob])
    );
    assert_eq!(ids(&owner, "contract channel:sms").await, vec![sms]);
    assert!(!ids(&owner, "contract channel:email").await.contains(&sms));
    let late = search(&owner, "contract after:2025-03-08").await;
    assert_eq!(
        late.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![bob],
        "{:?}",
        late.hits
            .iter()
            .map(|h| (plain(&h.headline), h.occurred_at))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        ids(&owner, "draft before:2025-03-04 from:dana").await,
        vec![dana]
    );
    assert_eq!(
        ids(&owner, "after:2025-03-09 before:2025-03-11").await,
        vec![bob],
        "a date range alone is a query"
    );
    assert_eq!(ids(&owner, "has:attachment").await, vec![attached]);
    // Attachment names are searchable, by word and whole.
    assert_eq!(ids(&owner, "q1").await, vec![attached]);
    assert_eq!(
        ids(&owner, "\"Signed Contract Q1.pdf\"").await,
        vec![attached]
    );

    let channel = search(&owner, "channel:sms").await.hits[0].channel;
    assert_eq!(channel, Channel::Sms);
}

#[tokio::test]
async fn subject_matches_rank_first_then_newest_first() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let old_body = owner
        .email(day(1))
        .subject("Weekly update")
        .body("Also: the invoice is late.")
        .insert()
        .await;
    let new_body = owner
        .email(day(4))
        .subject("Monthly update")
        .body("The invoice is attached.")
        .insert()
        .await;
    let old_subject = owner
        .email(day(2))
        .subject("Invoice 42")
        .body("Hello")
        .insert()
        .await;
    let new_subject = owner
        .email(day(3))
        .subject("Invoice 43")
        .body("Hello")
        .insert()
        .await;

    assert_eq!(
        ids(&owner, "invoice").await,
        vec![new_subject, old_subject, new_body, old_body]
    );

    // The match is marked in the headline and in the snippet; markup stays text.
    let page = search(&owner, "invoice").await;
    let hit = &page.hits[0];
    assert_eq!(plain(&hit.headline), "Invoice 43");
    assert!(
        hit.headline
            .iter()
            .any(|f| f.matched && f.text == "Invoice")
    );
    let body_hit = &page.hits[2];
    assert!(
        body_hit
            .snippet
            .iter()
            .any(|f| f.matched && f.text == "invoice")
    );
    assert_eq!(hit.href, format!("/mail/{new_subject}"));
}

#[tokio::test]
async fn html_in_mail_comes_back_as_text() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    owner
        .email(day(1))
        .subject("<script>alert(1)</script> offer")
        .body("a <b>bold</b> offer \u{E000}sneaky\u{E001}")
        .insert()
        .await;
    let hit = &search(&owner, "offer").await.hits[0];
    assert_eq!(plain(&hit.headline), "<script>alert(1)</script> offer");
    // Our markers cannot be smuggled in by the mail itself.
    assert!(hit.snippet.iter().all(|f| !f.matched || f.text == "offer"));
    assert!(plain(&hit.snippet).contains("sneaky"));
}

#[tokio::test]
async fn another_users_mail_is_never_found() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let stranger = TestUser::create(&db, "stranger@example.com").await;
    let mine = owner
        .email(day(1))
        .subject("Quarterly figures")
        .insert()
        .await;
    stranger
        .email(day(2))
        .subject("Quarterly figures")
        .insert()
        .await;
    store(
        &stranger,
        &[email(
            "s-1",
            "Mon, 3 Mar 2025 10:00:00 +0000",
            "Dana <dana@acme.com>",
            "stranger@example.com",
            "Quarterly figures",
            "secret",
        )],
    )
    .await;

    assert_eq!(ids(&owner, "quarterly").await, vec![mine]);
    assert!(ids(&owner, "secret").await.is_empty());
    assert!(ids(&owner, "from:dana").await.is_empty());
    assert_eq!(ids(&stranger, "quarterly").await.len(), 2);
}

#[tokio::test]
async fn stored_mail_is_found_once_committed_and_hidden_mail_is_not() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    assert!(ids(&owner, "zeppelin").await.is_empty());

    let stored = store(
        &owner,
        &[email(
            "z-1",
            "Mon, 3 Mar 2025 10:00:00 +0000",
            "Zoe Quill <zoe@example.net>",
            "owner@example.com",
            "Zeppelin tickets",
            "Two seats.",
        )],
    )
    .await;
    // No job ran: the transaction that stored it indexed it.
    assert_eq!(ids(&owner, "zeppelin from:zoe").await, stored);

    // Deleted at the source, or dismissed: gone from search; undone: back.
    sqlx::query("update activities set deleted_at = now() where id = $1")
        .bind(stored[0])
        .execute(db.pool())
        .await
        .unwrap();
    assert!(ids(&owner, "zeppelin").await.is_empty());
    sqlx::query("update activities set deleted_at = null, dismissed_at = now() where id = $1")
        .bind(stored[0])
        .execute(db.pool())
        .await
        .unwrap();
    assert!(ids(&owner, "zeppelin").await.is_empty());
    sqlx::query("update activities set dismissed_at = null where id = $1")
        .bind(stored[0])
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(ids(&owner, "zeppelin from:zoe").await, stored);

    // An edited subject (a CalDAV event changed at the source) is searched as edited.
    sqlx::query("update activities set subject = 'Airship tickets' where id = $1")
        .bind(stored[0])
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(ids(&owner, "airship from:zoe").await, stored);
}

#[tokio::test]
async fn pages_follow_each_other_without_overlap() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    for d in 0..25 {
        owner
            .email(day(1) + chrono::Duration::hours(d))
            .subject("Standup notes")
            .insert()
            .await;
    }
    let scope = db.for_user(owner.id);
    let query = SearchQuery::parse("standup").unwrap();
    let first = scope.search().page(&query, 1).await.unwrap();
    let second = scope.search().page(&query, 2).await.unwrap();
    assert_eq!(first.hits.len(), api::search::PAGE_SIZE);
    assert!(first.more);
    assert_eq!(second.hits.len(), 25 - api::search::PAGE_SIZE);
    assert!(!second.more);
    assert!(first.hits.iter().all(|h| !second.hits.contains(h)));
    assert!(first.hits[0].occurred_at > second.hits[0].occurred_at);
}

#[tokio::test]
async fn ask_cites_what_someone_said_about_a_topic() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    let dana = owner
        .contact("Dana Ito")
        .email("dana@acme.example")
        .insert()
        .await;
    let sam = owner
        .contact("Sam Lee")
        .email("sam@acme.example")
        .insert()
        .await;
    let said = owner
        .email(day(2))
        .subject("Re: next steps")
        .body("The contracts are signed on our side.")
        .from("dana@acme.example", dana)
        .insert()
        .await;
    let elsewhere = owner
        .email(day(3))
        .subject("Contract question")
        .from("sam@acme.example", sam)
        .insert()
        .await;
    owner
        .email(day(4))
        .subject("Lunch?")
        .from("dana@acme.example", dana)
        .insert()
        .await;

    let answer = domain::ask::offline::answer(
        db.for_user(owner.id),
        "What did Dana say about the contract?",
        day(20),
    )
    .await
    .unwrap();
    assert!(!answer.refused, "{}", answer.text);
    assert!(
        answer
            .text
            .contains(&format!("/contacts/{dana}#activity-{said}")),
        "{}",
        answer.text
    );
    assert!(
        !answer.text.contains(&elsewhere.to_string()),
        "{}",
        answer.text
    );
    assert!(!answer.text.contains("Lunch"), "{}", answer.text);
}

/// The documents mail writes with its activities equal the ones the triggers build for
/// every other writer (rebuilt here by hiding and showing each message again): the same
/// lexemes with the same weights, as often. Only word positions may differ, by the
/// order the participants are read in.
#[tokio::test]
async fn mail_search_documents_match_the_ones_the_triggers_build() {
    let db = fresh_db().await;
    let owner = TestUser::create(&db, "owner@example.com").await;
    // Names with non-ASCII letters, two recipients, a copy, one address twice.
    let many = IncomingEmail {
        content: "Date: Mon, 3 Mar 2025 10:00:00 +0000\r\nMessage-ID: <d-1@example.com>\r\n\
                  From: =?utf-8?q?Zo=C3=AB_Quill-=C3=85ngstr=C3=B6m?= <zoe.quill@example.net>\r\n\
                  To: Owner <owner@example.com>, Bo <bo@example.org>\r\n\
                  Cc: Carl <carl@example.com>, bo@example.org\r\n\
                  Subject: Quarterly figures\r\n\r\nRevenue grew; see the appendix.\r\n"
            .as_bytes()
            .to_vec()
            .into(),
        ..email("d-1", "", "", "", "", "")
    };
    let stored = store(
        &owner,
        &[
            many,
            with_attachment(
                "d-2",
                "Ann <ann@example.com>",
                "Contract",
                "contract-v2.pdf",
            ),
            email(
                "d-3",
                "Tue, 4 Mar 2025 10:00:00 +0000",
                "owner@example.com",
                "dan@example.com",
                "",
                "Short note without a subject.",
            ),
        ],
    )
    .await;

    let written = search_documents(&db, &stored).await;
    assert!(written.iter().any(|l| l.contains(" f:zoe ")), "{written:?}");
    assert!(
        written.iter().any(|l| l.contains(" t:carl ")),
        "{written:?}"
    );
    assert!(
        written.iter().any(|l| l.contains(" has:attachment ")),
        "{written:?}"
    );

    assert_eq!(written, documents_the_triggers_build(&db, &stored).await);
}
