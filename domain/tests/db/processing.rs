//! Building contacts from stored mail: the activity queue's guarantees, the contact
//! policy, names, signatures, companies, provenance and user scoping.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use domain::contacts::NewContact;
use domain::ingest::{IncomingEmail, IngestFilter};
use domain::jobs::{Backoff, Failed, LeasedTable, WorkerId};
use domain::processing::{
    ActivityQueue, ContactPolicy, ProcessingError, Processor, ProcessorOptions,
};
use domain::{Db, UserId};
use uuid::Uuid;

use crate::helpers::{fresh_db, gmail_account, user};

const OWNER: &str = "owner@mycorp.com";

struct Mail<'a> {
    id: &'a str,
    day: u32,
    from: &'a str,
    to: &'a str,
    headers: &'a str,
    body: &'a str,
}

impl Mail<'_> {
    fn incoming(&self) -> IncomingEmail {
        let date = Utc.with_ymd_and_hms(2025, 3, self.day, 10, 0, 0).unwrap();
        let outbound = self.from.contains(OWNER);
        IncomingEmail {
            external_id: self.id.to_owned(),
            thread_id: Some(format!("t-{}", self.id)),
            labels: vec![if outbound { "SENT" } else { "INBOX" }.to_owned()],
            received_at: date,
            content: format!(
                "Date: {}\r\nMessage-ID: <{}@test>\r\nFrom: {}\r\nTo: {}\r\n{}Subject: s\r\n\r\n{}",
                date.to_rfc2822(),
                self.id,
                self.from,
                self.to,
                self.headers,
                self.body.replace('\n', "\r\n"),
            )
            .into_bytes()
            .into(),
        }
    }
}

fn mail<'a>(id: &'a str, day: u32, from: &'a str, to: &'a str, body: &'a str) -> Mail<'a> {
    Mail {
        id,
        day,
        from,
        to,
        headers: "",
        body,
    }
}

struct Owner {
    db: Db,
    user: UserId,
    account: Uuid,
}

async fn owner(db: &Db, email: &str) -> Owner {
    let user = user(db, email).await;
    let account = gmail_account(db, user, email).await;
    Owner {
        db: db.clone(),
        user,
        account,
    }
}

impl Owner {
    async fn store(&self, mails: &[Mail<'_>]) {
        let emails: Vec<IncomingEmail> = mails.iter().map(Mail::incoming).collect();
        self.db
            .for_user(self.user)
            .mail()
            .store_emails(self.account, &emails, &IngestFilter::default())
            .await
            .unwrap();
    }

    async fn policy(&self, policy: ContactPolicy) -> u64 {
        self.db
            .for_user(self.user)
            .processing()
            .set_contact_policy(self.account, policy)
            .await
            .unwrap()
    }

    /// The contact holding `email` as an identity: (id, name, title, company, company
    /// name source, links, field_sources).
    async fn contact(&self, email: &str) -> Option<ContactView> {
        sqlx::query_as::<_, ContactView>(
            r#"select c.id, c.display_name, c.title, co.name as company, co.domain as company_domain,
                      co.name_source, c.links, c.field_sources
               from contact_identities ci
               join contacts c on c.id = ci.contact_id
               left join companies co on co.id = c.company_id
               where ci.user_id = $1 and ci.kind = 'email' and ci.value = $2"#,
        )
        .bind(self.user.0)
        .bind(email)
        .fetch_optional(self.db.pool())
        .await
        .unwrap()
    }

    async fn contact_count(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from contacts where user_id = $1 and merged_into is null",
        )
        .bind(self.user.0)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    /// `contact_id` of every participation of `address`, oldest message first.
    async fn links(&self, address: &str) -> Vec<Option<Uuid>> {
        sqlx::query_scalar(
            "select contact_id from activity_participants where user_id = $1 and address = $2 order by occurred_at",
        )
        .bind(self.user.0)
        .bind(address)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    async fn phones(&self, contact: Uuid) -> Vec<(String, String)> {
        sqlx::query_as(
            "select value, source from contact_identities where contact_id = $1 and kind = 'phone' order by value",
        )
        .bind(contact)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ContactView {
    id: Uuid,
    display_name: Option<String>,
    title: Option<String>,
    company: Option<String>,
    company_domain: Option<String>,
    name_source: Option<String>,
    links: serde_json::Value,
    field_sources: serde_json::Value,
}

async fn process_all(db: &Db) -> domain::processing::BatchOutcome {
    Processor::new(db, WorkerId::new("test"), ProcessorOptions::default())
        .drain()
        .await
        .unwrap()
}

const SIGNED: &str = "Hi,\n\nSounds good, see you then.\n\nBest regards,\nJane Roe\nHead of Partnerships\nAcme Widgets Ltd\nTel: 020 7946 0958\nlinkedin.com/in/janeroe/\nwww.acme.co.uk\n";

// ---- the queue ----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_processors_never_complete_the_same_activity() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    let ids: Vec<String> = (0..120).map(|i| format!("m{i}")).collect();
    let senders: Vec<String> = (0..120).map(|i| format!("p{}@acme.com", i % 7)).collect();
    let mails: Vec<Mail> = ids
        .iter()
        .zip(&senders)
        .map(|(id, from)| mail(id, 1 + (id.len() as u32 % 20), from, OWNER, "hello"))
        .collect();
    o.store(&mails).await;
    o.policy(ContactPolicy::Everyone).await;

    let completions = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|n| {
            let queue = db.activity_queue();
            let db = db.clone();
            let completions = Arc::clone(&completions);
            tokio::spawn(async move {
                let worker = WorkerId::new(format!("w{n}"));
                loop {
                    let claimed = queue
                        .claim(&worker, 5, Duration::from_secs(60))
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        break;
                    }
                    for a in claimed {
                        let mut tx = db.pool().begin().await.unwrap();
                        ActivityQueue::mark_completed(
                            &mut tx,
                            a.id,
                            &worker,
                            &serde_json::json!({}),
                        )
                        .await
                        .unwrap();
                        tx.commit().await.unwrap();
                        completions.lock().unwrap().push(a.id);
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let completions = completions.lock().unwrap().clone();
    let unique: HashSet<Uuid> = completions.iter().copied().collect();
    assert_eq!(completions.len(), 120, "every activity completed once");
    assert_eq!(unique.len(), 120, "no activity completed twice");

    // The real processors, concurrently over re-queued mail: one contact per sender.
    o.db.for_user(o.user)
        .processing()
        .reprocess_account(o.account)
        .await
        .unwrap();
    let first = Processor::new(&db, WorkerId::new("a"), ProcessorOptions::default());
    let second = Processor::new(&db, WorkerId::new("b"), ProcessorOptions::default());
    let (a, b) = tokio::join!(first.drain(), second.drain());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.completed + b.completed, 120);
    assert_eq!(o.contact_count().await, 7);
    let states: Vec<(String, i64)> =
        sqlx::query_as("select state, count(*) from activities group by state")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(states, [("completed".to_owned(), 120)]);
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_holder_cannot_complete() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.store(&[mail("m1", 1, "jane@acme.com", OWNER, "hi")])
        .await;
    let queue = db.activity_queue();
    let dead = WorkerId::new("dead");
    let claimed = queue
        .claim(&dead, 10, Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let other = WorkerId::new("other");
    assert!(
        queue
            .claim(&other, 10, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );

    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(queue.release_expired().await.unwrap(), 1);
    let taken = queue
        .claim(&other, 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].id, claimed[0].id);
    assert_eq!(taken[0].attempts, 2);

    let mut tx = db.pool().begin().await.unwrap();
    let late =
        ActivityQueue::mark_completed(&mut tx, claimed[0].id, &dead, &serde_json::json!({})).await;
    assert!(
        matches!(late, Err(ProcessingError::LeaseLost(_))),
        "{late:?}"
    );
    drop(tx);
    let mut tx = db.pool().begin().await.unwrap();
    ActivityQueue::mark_completed(
        &mut tx,
        taken[0].id,
        &other,
        &serde_json::json!({"ok": true}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (state, processed): (String, serde_json::Value) =
        sqlx::query_as("select state, processed from activities where id = $1")
            .bind(taken[0].id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), processed),
        ("completed", serde_json::json!({"ok": true}))
    );
}

#[tokio::test]
async fn failures_back_off_then_the_activity_is_dead_with_its_error() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.store(&[mail("m1", 1, "jane@acme.com", OWNER, "hi")])
        .await;
    let queue = db
        .activity_queue()
        .with_max_attempts(3)
        .with_backoff(Backoff {
            base: Duration::from_secs(60),
            max: Duration::from_secs(600),
        });
    let worker = WorkerId::new("w");
    let mut delays = Vec::new();
    for attempt in 1..=3 {
        let claimed = queue
            .claim(&worker, 1, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt} is claimable");
        assert_eq!(claimed[0].attempts, attempt);
        let state = queue
            .fail(&claimed[0], &worker, &format!("boom {attempt}"), false)
            .await
            .unwrap();
        let (next, error): (chrono::DateTime<Utc>, Option<String>) =
            sqlx::query_as("select next_attempt_at, last_error from activities where id = $1")
                .bind(claimed[0].id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(error.as_deref(), Some(format!("boom {attempt}").as_str()));
        if attempt < 3 {
            assert_eq!(state, Failed::Retrying);
            assert!(
                queue
                    .claim(&worker, 1, Duration::from_secs(60))
                    .await
                    .unwrap()
                    .is_empty(),
                "backing off"
            );
            delays.push((next - Utc::now()).num_seconds());
            sqlx::query("update activities set next_attempt_at = now()")
                .execute(db.pool())
                .await
                .unwrap();
        } else {
            assert_eq!(state, Failed::Dead);
        }
    }
    // 60s then 120s, each jittered into [50%, 100%].
    assert!((25..=60).contains(&delays[0]), "{delays:?}");
    assert!((55..=120).contains(&delays[1]), "{delays:?}");
    assert!(
        queue
            .claim(&worker, 1, Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Postgres breaks a deadlock between two processors by aborting one: that activity is
/// processed again at once, not failed. A test-only trigger aborts the first attempt
/// to commit with the deadlock's error code; a unique violation (a real fault) still
/// fails.
#[tokio::test]
async fn a_deadlock_abort_is_processed_again_at_once() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.store(&[mail("m1", 1, "jane@acme.com", OWNER, "hi")])
        .await;
    for sql in [
        // A sequence, not a table: the count must survive the aborted transaction.
        "create sequence completions_tried",
        "create table aborts (code text not null)",
        "insert into aborts values ('40P01')",
        "create function abort_once() returns trigger language plpgsql as $$
         declare c text;
         begin
           if nextval('completions_tried') = 1 then
             select code into c from aborts;
             raise exception 'simulated abort' using errcode = c;
           end if;
           return null;
         end $$",
        "create trigger abort_once after update on activities
         for each row when (new.state = 'completed') execute function abort_once()",
    ] {
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    }
    let outcome = process_all(&db).await;
    assert_eq!((outcome.completed, outcome.failed), (1, 0));
    let (state, attempts): (String, i32) = sqlx::query_as("select state, attempts from activities")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!((state.as_str(), attempts), ("completed", 1));
    let tried: i64 = sqlx::query_scalar("select last_value from completions_tried")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(tried, 2, "aborted once, then completed");

    // A constraint violation is the activity's own problem: it fails and backs off.
    o.store(&[mail("m2", 2, "joe@acme.com", OWNER, "hi")]).await;
    for sql in [
        "update aborts set code = '23505'",
        "alter sequence completions_tried restart",
    ] {
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    }
    let outcome = process_all(&db).await;
    assert_eq!((outcome.completed, outcome.failed), (0, 1));
}

// ---- policy -------------------------------------------------------------------------

#[tokio::test]
async fn policy_sent_creates_people_the_owner_wrote_to_in_any_processing_order() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    // Jane writes first and is processed before the owner's reply even exists.
    o.store(&[
        mail("in1", 2, "Jane Roe <jane@acme.co.uk>", OWNER, SIGNED),
        mail(
            "in2",
            3,
            "Stranger <stranger@other.com>",
            OWNER,
            "buy my stuff",
        ),
    ])
    .await;
    process_all(&db).await;
    assert_eq!(o.contact_count().await, 0);

    o.store(&[mail(
        "out1",
        4,
        OWNER,
        "Jane Roe <jane@acme.co.uk>, Bob <bob@bobs.io>",
        "Thanks!",
    )])
    .await;
    process_all(&db).await;
    let jane = o
        .contact("jane@acme.co.uk")
        .await
        .expect("Jane, written to");
    assert!(o.contact("bob@bobs.io").await.is_some(), "Bob, written to");
    assert!(
        o.contact("stranger@other.com").await.is_none(),
        "never written to"
    );
    assert!(o.contact(OWNER).await.is_none(), "never the owner");
    assert_eq!(
        o.links("jane@acme.co.uk").await,
        [Some(jane.id), Some(jane.id)]
    );
    // The earlier message's signature counted once the contact existed.
    assert_eq!(jane.title.as_deref(), Some("Head of Partnerships"));
    assert_eq!(o.links("stranger@other.com").await, [None]);
}

#[tokio::test]
async fn policy_everyone_and_nobody() {
    let db = fresh_db().await;
    let everyone = owner(&db, OWNER).await;
    everyone.policy(ContactPolicy::Everyone).await;
    everyone
        .store(&[mail(
            "in1",
            2,
            "Stranger <stranger@other.com>",
            OWNER,
            "hello",
        )])
        .await;

    let nobody = owner(&db, "nobody@elsewhere.org").await;
    nobody.policy(ContactPolicy::Nobody).await;
    let known = db
        .for_user(nobody.user)
        .contacts()
        .create(&NewContact::parse("Known Person", "known@acme.com").unwrap())
        .await
        .unwrap();
    nobody
        .store(&[
            mail(
                "n1",
                2,
                "nobody@elsewhere.org",
                "Pat <pat@pats.io>, known@acme.com",
                "hi",
            ),
            mail(
                "n2",
                3,
                "Known Person <known@acme.com>",
                "nobody@elsewhere.org",
                "hi back",
            ),
        ])
        .await;
    process_all(&db).await;

    assert!(everyone.contact("stranger@other.com").await.is_some());
    assert_eq!(
        nobody.contact_count().await,
        1,
        "no contact created under nobody"
    );
    assert_eq!(
        nobody.links("known@acme.com").await,
        [Some(known), Some(known)],
        "known contacts still link"
    );
    assert_eq!(nobody.links("pat@pats.io").await, [None]);
}

#[tokio::test]
async fn bulk_and_machine_senders_are_never_created_but_link_when_known() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.policy(ContactPolicy::Everyone).await;
    let known = db
        .for_user(o.user)
        .contacts()
        .create(&NewContact::parse("", "news@acme.com").unwrap())
        .await
        .unwrap();
    o.store(&[
        Mail {
            headers: "List-Unsubscribe: <mailto:unsub@acme.com>\r\n",
            ..mail("b1", 1, "Jane Roe <jane@acme.com>", OWNER, "Our newsletter")
        },
        Mail {
            headers: "Precedence: bulk\r\n",
            ..mail("b2", 2, "Acme News <news@acme.com>", OWNER, "Weekly")
        },
        Mail {
            headers: "Auto-Submitted: auto-replied\r\n",
            ..mail("b3", 3, "Out Of Office <ooo@acme.com>", OWNER, "I am away")
        },
        mail(
            "n1",
            4,
            "GitHub <noreply@github.com>",
            OWNER,
            "build failed",
        ),
        mail("g1", 5, "Acme Support <support@acme.com>", OWNER, "ticket"),
    ])
    .await;
    process_all(&db).await;
    for address in [
        "jane@acme.com",
        "ooo@acme.com",
        "noreply@github.com",
        "support@acme.com",
    ] {
        assert!(
            o.contact(address).await.is_none(),
            "{address} must not be a contact"
        );
    }
    assert_eq!(o.contact_count().await, 1);
    assert_eq!(o.links("news@acme.com").await, [Some(known)]);
    let processed: serde_json::Value =
        sqlx::query_scalar("select processed from activities where external_id = 'n1'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(processed["people"][0]["skipped"], "automated");
}

#[tokio::test]
async fn changing_the_policy_relinks_past_mail() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.store(&[
        mail("in1", 1, "Ann Berg <ann@berg.se>", OWNER, "hello"),
        mail("in2", 2, "Ann Berg <ann@berg.se>", OWNER, "again"),
    ])
    .await;
    process_all(&db).await;
    assert_eq!(o.links("ann@berg.se").await, [None, None]);

    assert_eq!(
        o.policy(ContactPolicy::Everyone).await,
        2,
        "past mail queued again"
    );
    assert_eq!(
        o.policy(ContactPolicy::Everyone).await,
        0,
        "no change, nothing queued"
    );
    process_all(&db).await;
    let ann = o
        .contact("ann@berg.se")
        .await
        .expect("created under everyone");
    assert_eq!(ann.display_name.as_deref(), Some("Ann Berg"));
    assert_eq!(o.links("ann@berg.se").await, [Some(ann.id), Some(ann.id)]);
    let policy = db
        .for_user(o.user)
        .processing()
        .contact_policy(o.account)
        .await
        .unwrap();
    assert_eq!(policy, ContactPolicy::Everyone);
}

// ---- fields -------------------------------------------------------------------------

#[tokio::test]
async fn signature_fields_with_provenance_and_the_newest_signature_wins() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.policy(ContactPolicy::Everyone).await;
    let newer = "Thanks,\nJane Roe\nChief Operating Officer\nAcme Widgets Ltd\nTel: 020 7946 0958\nMobile: 07911 123456\nTwitter: @janeroe\n";
    o.store(&[
        mail(
            "new",
            20,
            "\"Roe, Jane\" <jane@mail.acme.co.uk>",
            OWNER,
            newer,
        ),
        mail("old", 2, "Jane <jane@mail.acme.co.uk>", OWNER, SIGNED),
    ])
    .await;
    process_all(&db).await;
    let jane = o.contact("jane@mail.acme.co.uk").await.expect("Jane");
    assert_eq!(jane.display_name.as_deref(), Some("Jane Roe"));
    assert_eq!(
        jane.title.as_deref(),
        Some("Chief Operating Officer"),
        "newest signature"
    );
    assert_eq!(
        jane.links["linkedin"],
        "https://www.linkedin.com/in/janeroe"
    );
    assert_eq!(jane.links["website"], "https://www.acme.co.uk");
    assert_eq!(jane.links["twitter"], "https://x.com/janeroe");
    let new_id: Uuid = sqlx::query_scalar("select id from activities where external_id = 'new'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let title = &jane.field_sources["title"];
    assert_eq!(title["source"], "signature");
    assert_eq!(title["activity_id"], new_id.to_string());
    assert_eq!(jane.field_sources["linkedin"]["source"], "signature");
    assert_eq!(
        o.phones(jane.id).await,
        [
            ("+442079460958".to_owned(), "signature".to_owned()),
            ("+447911123456".to_owned(), "signature".to_owned())
        ]
    );
    assert_eq!(jane.company.as_deref(), Some("Acme Widgets Ltd"));
    assert_eq!(
        jane.company_domain.as_deref(),
        Some("acme.co.uk"),
        "multi-level TLD"
    );
    assert_eq!(jane.name_source.as_deref(), Some("signature"));
}

/// One person writing from a second address is one contact when their signature
/// proves it (the same name and a phone the contact already has: an automatic merge,
/// see `duplicates.rs`); the same name alone, without a matching signature, is
/// someone else until the user merges.
#[tokio::test]
async fn a_second_address_with_the_same_signature_joins_the_contact() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.policy(ContactPolicy::Everyone).await;
    o.store(&[
        mail("work", 2, "Jane Roe <jane@mail.acme.co.uk>", OWNER, SIGNED),
        mail("home", 5, "Jane Roe <jane.roe@gmail.com>", OWNER, SIGNED),
        mail(
            "namesake",
            6,
            "Jane Roe <jroe@elsewhere.example>",
            OWNER,
            "Hi,\n\nSee you Tuesday.\n\nJane\n",
        ),
    ])
    .await;
    process_all(&db).await;
    let work = o.contact("jane@mail.acme.co.uk").await.expect("Jane");
    let home = o.contact("jane.roe@gmail.com").await.expect("Jane at home");
    assert_eq!(work.id, home.id, "one contact for both addresses");
    assert_eq!(home.display_name.as_deref(), Some("Jane Roe"));
    let namesake = o
        .contact("jroe@elsewhere.example")
        .await
        .expect("the other Jane");
    assert_ne!(namesake.id, work.id, "a name alone does not join");
    assert_eq!(o.contact_count().await, 2);
    assert_eq!(
        o.links("jane.roe@gmail.com").await,
        [Some(work.id)],
        "the mail from the second address is linked"
    );
}

#[tokio::test]
async fn a_users_edit_survives_reprocessing() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.policy(ContactPolicy::Everyone).await;
    o.store(&[mail("in1", 2, "Jane Roe <jane@acme.co.uk>", OWNER, SIGNED)])
        .await;
    process_all(&db).await;
    let jane = o.contact("jane@acme.co.uk").await.unwrap();
    sqlx::query(
        r#"update contacts set display_name = 'Janey', title = 'Boss',
                  field_sources = field_sources || '{"display_name": {"source": "user"}, "title": {"source": "user"}}'
           where id = $1"#,
    )
    .bind(jane.id)
    .execute(db.pool())
    .await
    .unwrap();
    db.for_user(o.user)
        .processing()
        .reprocess_account(o.account)
        .await
        .unwrap();
    o.store(&[mail("in2", 9, "Jane Roe <jane@acme.co.uk>", OWNER, SIGNED)])
        .await;
    process_all(&db).await;
    let jane = o.contact("jane@acme.co.uk").await.unwrap();
    assert_eq!(jane.display_name.as_deref(), Some("Janey"));
    assert_eq!(jane.title.as_deref(), Some("Boss"));
    assert_eq!(jane.field_sources["title"]["source"], "user");
}

#[tokio::test]
async fn companies_never_from_free_mail_or_the_owners_domain() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.policy(ContactPolicy::Everyone).await;
    o.store(&[
        mail("f1", 1, "Kim Lee <kim.lee@gmail.com>", OWNER, "hi"),
        mail(
            "c1",
            2,
            "Colleague Person <colleague@mycorp.com>",
            OWNER,
            "hi",
        ),
        mail("d1", 3, "Tom Bell <tom@eu.globex.com.au>", OWNER, "hi"),
    ])
    .await;
    process_all(&db).await;
    assert_eq!(o.contact("kim.lee@gmail.com").await.unwrap().company, None);
    let colleague = o.contact("colleague@mycorp.com").await.unwrap();
    assert_eq!(colleague.company_domain, None);
    let tom = o.contact("tom@eu.globex.com.au").await.unwrap();
    assert_eq!(tom.company_domain.as_deref(), Some("globex.com.au"));
    assert_eq!(tom.company.as_deref(), Some("Globex"));
    assert_eq!(tom.name_source.as_deref(), Some("domain"));
    let companies: i64 = sqlx::query_scalar("select count(*) from companies")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(companies, 1);
}

#[tokio::test]
async fn one_users_processing_never_touches_another_users_contacts() {
    let db = fresh_db().await;
    let a = owner(&db, OWNER).await;
    let b = owner(&db, "b@bcorp.org").await;
    a.policy(ContactPolicy::Everyone).await;
    b.policy(ContactPolicy::Everyone).await;
    let a_jane = db
        .for_user(a.user)
        .contacts()
        .create(&NewContact::parse("Jane (A's edit)", "jane@acme.co.uk").unwrap())
        .await
        .unwrap();
    sqlx::query(r#"update contacts set field_sources = '{"display_name": {"source": "user"}}' where id = $1"#)
        .bind(a_jane)
        .execute(db.pool())
        .await
        .unwrap();
    b.store(&[mail(
        "b1",
        2,
        "Jane Roe <jane@acme.co.uk>",
        "b@bcorp.org",
        SIGNED,
    )])
    .await;
    let outcome = process_all(&db).await;

    let b_jane = b
        .contact("jane@acme.co.uk")
        .await
        .expect("B gets their own Jane");
    assert_ne!(b_jane.id, a_jane);
    assert_eq!(b_jane.title.as_deref(), Some("Head of Partnerships"));
    let a_view = a.contact("jane@acme.co.uk").await.unwrap();
    assert_eq!(a_view.display_name.as_deref(), Some("Jane (A's edit)"));
    assert_eq!(a_view.title, None, "B's mail says nothing to A");
    assert_eq!(a.contact_count().await, 1);
    assert_eq!(b.links("jane@acme.co.uk").await, [Some(b_jane.id)]);
    assert!(!outcome.touched.contains_key(&a.user));
    assert_eq!(
        outcome.touched[&b.user].iter().copied().collect::<Vec<_>>(),
        [b_jane.id]
    );
}

#[tokio::test]
async fn a_contacts_name_only_gets_better_and_a_users_name_stays() {
    let db = fresh_db().await;
    let o = owner(&db, OWNER).await;
    o.policy(ContactPolicy::Everyone).await;
    let name = |c: &ContactView| {
        (
            c.display_name.clone(),
            c.field_sources["display_name"]["source"].clone(),
        )
    };
    // First seen as a bare "jw@": no name to give.
    o.store(&[mail("n1", 2, "jw@whitlock.co", OWNER, "See you Tuesday.\n")])
        .await;
    process_all(&db).await;
    let jw = o.contact("jw@whitlock.co").await.unwrap();
    assert_eq!(jw.display_name, None);
    // Then an Outlook directory name.
    o.store(&[mail(
        "n2",
        3,
        "\"Whitlock, Jordan\" <jw@whitlock.co>",
        OWNER,
        "Thanks!\n",
    )])
    .await;
    process_all(&db).await;
    let jw = o.contact("jw@whitlock.co").await.unwrap();
    assert_eq!(
        name(&jw),
        (
            Some("Jordan Whitlock".to_owned()),
            serde_json::json!("header")
        )
    );
    // Shouting, initials and a role name from later mail do not make it worse.
    o.store(&[
        mail("n3", 4, "JORDAN WHITLOCK <jw@whitlock.co>", OWNER, "Ok.\n"),
        mail("n4", 5, "\"J. Whitlock\" <jw@whitlock.co>", OWNER, "Ok.\n"),
        mail("n5", 6, "\"Sales Team\" <jw@whitlock.co>", OWNER, "Ok.\n"),
        mail("n6", 7, "JW <jw@whitlock.co>", OWNER, "Ok.\n"),
    ])
    .await;
    process_all(&db).await;
    let after = o.contact("jw@whitlock.co").await.unwrap();
    assert_eq!(after.display_name.as_deref(), Some("Jordan Whitlock"));
    assert_eq!(
        after.field_sources["display_name"], jw.field_sources["display_name"],
        "still the name of the second message"
    );
    // An address that spells a name gives one, which any written name then replaces.
    o.store(&[mail(
        "m1",
        2,
        "anais_moreau@everbright.fr",
        OWNER,
        "Bonjour.\n",
    )])
    .await;
    process_all(&db).await;
    let anais = o.contact("anais_moreau@everbright.fr").await.unwrap();
    assert_eq!(
        name(&anais),
        (
            Some("Anais Moreau".to_owned()),
            serde_json::json!("address")
        )
    );
    o.store(&[mail(
        "m2",
        3,
        OWNER,
        "anais_moreau@everbright.fr",
        "Merci.\n\nOn Sun, Mar 2, 2025 at 10:00 AM Anaïs Moreau <anais_moreau@everbright.fr> wrote:\n> Bonjour.\n",
    )])
    .await;
    process_all(&db).await;
    let anais = o.contact("anais_moreau@everbright.fr").await.unwrap();
    assert_eq!(
        name(&anais),
        (Some("Anaïs Moreau".to_owned()), serde_json::json!("header"))
    );
    // A name the user typed is never replaced, not even by a signature's full name.
    sqlx::query(
        r#"update contacts set display_name = 'Jordy',
                  field_sources = field_sources || '{"display_name": {"source": "user"}}'
           where id = $1"#,
    )
    .bind(jw.id)
    .execute(db.pool())
    .await
    .unwrap();
    o.store(&[mail(
        "n7",
        9,
        "Jordan Whitlock <jw@whitlock.co>",
        OWNER,
        "Hi,\n\nDone.\n\nBest regards,\nJordan M. Whitlock\nPartner\nWhitlock & Co\nTel: +44 20 7946 0111\n",
    )])
    .await;
    process_all(&db).await;
    let jw = o.contact("jw@whitlock.co").await.unwrap();
    assert_eq!(jw.display_name.as_deref(), Some("Jordy"));
    assert_eq!(jw.title.as_deref(), Some("Partner"));
}
