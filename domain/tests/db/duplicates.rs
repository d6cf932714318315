//! Automatic duplicate merges: each rule merges, is logged with its rule and reason and
//! is undone by un-merge; the user's "not the same person" is remembered; weaker
//! evidence stays a suggestion.

use api::contacts::MergeRule;
use chrono::{TimeZone, Utc};
use domain::ingest::{IncomingEmail, IngestFilter};
use domain::jobs::WorkerId;
use domain::processing::{ContactPolicy, Processor, ProcessorOptions};
use domain::{Db, UserId};
use uuid::Uuid;

use crate::helpers::{fresh_db, gmail_account, user};

const OWNER: &str = "owner@mycorp.com";

/// Jane's signature: her name and her office phone.
const SIGNED: &str = "Hi,\n\nSounds good, see you then.\n\nBest regards,\nJane Roe\nHead of Partnerships\nAcme Widgets Ltd\nTel: +44 20 7946 0958\n";

struct Mail<'a> {
    id: &'a str,
    thread: &'a str,
    day: u32,
    from: &'a str,
    to: &'a str,
    cc: Option<&'a str>,
    body: &'a str,
}

fn mail<'a>(id: &'a str, day: u32, from: &'a str, to: &'a str, body: &'a str) -> Mail<'a> {
    Mail {
        id,
        thread: id,
        day,
        from,
        to,
        cc: None,
        body,
    }
}

impl Mail<'_> {
    fn incoming(&self) -> IncomingEmail {
        let date = Utc.with_ymd_and_hms(2025, 3, self.day, 10, 0, 0).unwrap();
        let outbound = self.from.contains(OWNER);
        let cc = self
            .cc
            .map(|cc| format!("Cc: {cc}\r\n"))
            .unwrap_or_default();
        IncomingEmail {
            external_id: self.id.to_owned(),
            thread_id: Some(format!("t-{}", self.thread)),
            labels: vec![if outbound { "SENT" } else { "INBOX" }.to_owned()],
            received_at: date,
            content: format!(
                "Date: {}\r\nMessage-ID: <{}@test>\r\nFrom: {}\r\nTo: {}\r\n{cc}Subject: s\r\n\r\n{}",
                date.to_rfc2822(),
                self.id,
                self.from,
                self.to,
                self.body.replace('\n', "\r\n"),
            )
            .into_bytes()
            .into(),
        }
    }
}

struct Owner {
    db: Db,
    user: UserId,
    account: Uuid,
}

async fn owner(db: &Db) -> Owner {
    let user = user(db, OWNER).await;
    let account = gmail_account(db, user, OWNER).await;
    let o = Owner {
        db: db.clone(),
        user,
        account,
    };
    o.db.for_user(user)
        .processing()
        .set_contact_policy(account, ContactPolicy::Everyone)
        .await
        .unwrap();
    o
}

/// A merge as the log keeps it.
#[derive(Debug)]
struct Logged {
    id: Uuid,
    winner: Uuid,
    loser: Uuid,
    rule: Option<MergeRule>,
    reason: Option<String>,
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
        Processor::new(&self.db, WorkerId::new("test"), ProcessorOptions::default())
            .drain()
            .await
            .unwrap();
    }

    /// The live contact holding `email`.
    async fn contact(&self, email: &str) -> Uuid {
        sqlx::query_scalar(
            r#"select coalesce(c.merged_into, c.id) from contact_identities ci
               join contacts c on c.id = ci.contact_id
               where ci.user_id = $1 and ci.kind = 'email' and ci.value = $2"#,
        )
        .bind(self.user.0)
        .bind(email)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    async fn live_contacts(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from contacts where user_id = $1 and merged_into is null",
        )
        .bind(self.user.0)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    async fn merges(&self, contact: Uuid) -> Vec<Logged> {
        self.db
            .for_user(self.user)
            .contacts()
            .merge_log(contact)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.unmerged_at.is_none())
            .map(|m| Logged {
                id: m.id,
                winner: m.winner_id,
                loser: m.loser_id,
                rule: m.rule,
                reason: m.reason,
            })
            .collect()
    }

    /// `contact_id` of every participation of `address`.
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

    async fn reprocess(&self) {
        self.db
            .for_user(self.user)
            .processing()
            .reprocess_account(self.account)
            .await
            .unwrap();
        Processor::new(
            &self.db,
            WorkerId::new("again"),
            ProcessorOptions::default(),
        )
        .drain()
        .await
        .unwrap();
    }
}

/// The one live merge into `kept` (the older contact), checked to be automatic by
/// `rule`.
async fn automatic_merge(o: &Owner, kept: Uuid, rule: MergeRule) -> Logged {
    let mut log = o.merges(kept).await;
    assert_eq!(log.len(), 1, "one merge: {log:?}");
    let merge = log.remove(0);
    assert_eq!(merge.winner, kept, "the older contact stays");
    assert_eq!(merge.rule, Some(rule));
    assert!(merge.reason.as_deref().is_some_and(|r| !r.is_empty()));
    merge
}

#[tokio::test]
async fn the_same_name_and_signature_phone_from_a_new_address_merges_and_undoes() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    o.store(&[mail("work", 2, "Jane Roe <jane@acme.co.uk>", OWNER, SIGNED)])
        .await;
    let work = o.contact("jane@acme.co.uk").await;
    o.store(&[mail(
        "home",
        5,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        SIGNED,
    )])
    .await;
    assert_eq!(o.contact("jane.roe@gmail.com").await, work);
    assert_eq!(o.live_contacts().await, 1);
    let merge = automatic_merge(&o, work, MergeRule::NameAndPhone).await;
    assert!(merge.reason.unwrap().contains("+442079460958"));
    assert_eq!(o.links("jane.roe@gmail.com").await, [Some(work)]);

    // One click undoes it, and the pair is remembered as two people.
    let contacts = o.db.for_user(o.user).contacts();
    contacts.unmerge(merge.id).await.unwrap();
    assert_eq!(o.live_contacts().await, 2);
    assert_eq!(o.links("jane.roe@gmail.com").await, [Some(merge.loser)]);
    o.store(&[mail(
        "home2",
        9,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        SIGNED,
    )])
    .await;
    o.reprocess().await;
    assert_eq!(o.live_contacts().await, 2, "not merged again");
    assert_eq!(
        o.links("jane.roe@gmail.com").await,
        [Some(merge.loser), Some(merge.loser)],
        "later mail from the address goes to its own contact"
    );
    assert!(
        contacts
            .duplicate_suggestions(work)
            .await
            .unwrap()
            .is_empty(),
        "nor suggested"
    );
}

#[tokio::test]
async fn a_known_second_address_merges_when_its_signature_proves_it() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    o.store(&[mail("work", 2, "Jane Roe <jane@acme.co.uk>", OWNER, SIGNED)])
        .await;
    // Then the owner writes to her personal address: a contact with a name only. (Stored
    // on its own: contacts made in one batch are equally old, and the older one stays.)
    o.store(&[mail(
        "to-home",
        3,
        OWNER,
        "Jane Roe <jane.roe@gmail.com>",
        "Lunch?",
    )])
    .await;
    let work = o.contact("jane@acme.co.uk").await;
    assert_ne!(o.contact("jane.roe@gmail.com").await, work);
    o.store(&[mail(
        "home",
        5,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        SIGNED,
    )])
    .await;
    assert_eq!(o.contact("jane.roe@gmail.com").await, work);
    automatic_merge(&o, work, MergeRule::NameAndPhone).await;
    assert_eq!(
        o.links("jane.roe@gmail.com").await,
        [Some(work), Some(work)],
        "all her mail from both addresses"
    );
}

#[tokio::test]
async fn a_name_alone_or_another_phone_is_only_a_suggestion() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    let other = SIGNED.replace("+44 20 7946 0958", "+44 20 7946 0111");
    o.store(&[
        mail("work", 2, "Jane Roe <jane@acme.co.uk>", OWNER, SIGNED),
        mail(
            "other",
            3,
            "Jane Roe <jroe@elsewhere.example>",
            OWNER,
            &other,
        ),
        mail(
            "plain",
            4,
            "Jane Roe <jane.roe@gmail.com>",
            OWNER,
            "Thanks!\n\nJane",
        ),
    ])
    .await;
    assert_eq!(o.live_contacts().await, 3);
    let work = o.contact("jane@acme.co.uk").await;
    assert!(o.merges(work).await.is_empty());
    let suggested =
        o.db.for_user(o.user)
            .contacts()
            .duplicate_suggestions(work)
            .await
            .unwrap();
    assert_eq!(suggested.len(), 2, "{suggested:?}");
}

#[tokio::test]
async fn a_personal_address_taking_a_work_addresss_place_in_a_thread_merges() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    o.store(&[mail(
        "first",
        2,
        "Jane Roe <jane@acme.co.uk>",
        OWNER,
        "Hello",
    )])
    .await;
    let work = o.contact("jane@acme.co.uk").await;
    let mut reply = mail(
        "reply",
        3,
        "\"Roe, Jane\" <jane.roe@gmail.com>",
        OWNER,
        "Replying from my phone.",
    );
    reply.thread = "first";
    o.store(&[reply]).await;
    assert_eq!(o.contact("jane.roe@gmail.com").await, work);
    automatic_merge(&o, work, MergeRule::ThreadAddresses).await;

    // Two work addresses in one thread are two jobs or two people; two people of one
    // name on one reply-all are two people: neither is merged.
    let mut other = mail("other", 4, "Jane Roe <jane@other.example>", OWNER, "Hi");
    other.thread = "first";
    let mut namesakes = mail(
        "namesakes",
        5,
        "Jane Roe <jane.r@outlook.com>",
        OWNER,
        "Two of us!",
    );
    namesakes.thread = "first";
    namesakes.cc = Some("Jane Roe <jane@acme.co.uk>");
    o.store(&[other, namesakes]).await;
    assert_ne!(o.contact("jane@other.example").await, work);
    assert_ne!(o.contact("jane.r@outlook.com").await, work);
}

#[tokio::test]
async fn a_personal_address_writing_with_the_work_addresss_colleagues_merges() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    // The personal address comes first: the evidence is found when the work address
    // arrives.
    let mut home = mail(
        "home",
        2,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        "Sending this from home.",
    );
    home.cc = Some("Bob Poe <bob@mail.acme.co.uk>");
    o.store(&[home]).await;
    assert_eq!(o.live_contacts().await, 2);
    o.store(&[mail(
        "work",
        3,
        "Jane Roe <jane@acme.co.uk>",
        OWNER,
        "Hello",
    )])
    .await;
    let jane = o.contact("jane.roe@gmail.com").await;
    assert_eq!(o.contact("jane@acme.co.uk").await, jane);
    assert_ne!(o.contact("bob@mail.acme.co.uk").await, jane);
    let merge = automatic_merge(&o, jane, MergeRule::NameAndColleagues).await;
    let reason = merge.reason.unwrap();
    assert!(reason.contains("bob@mail.acme.co.uk"), "{reason}");

    // The same name with nobody from the company, or on one message with the work
    // address (two people), or with a second work contact of the name, is not enough.
    let db = fresh_db().await;
    let o = owner(&db).await;
    let mut both = mail(
        "both",
        3,
        "Jane Roe <jane.r@outlook.com>",
        OWNER,
        "Two of us!",
    );
    both.cc = Some("Jane Roe <jane@acme.co.uk>, Bob Poe <bob@acme.co.uk>");
    o.store(&[
        mail("work", 2, "Jane Roe <jane@acme.co.uk>", OWNER, "Hello"),
        both,
        mail("alone", 4, "Jane Roe <jane.roe@gmail.com>", OWNER, "Hi"),
    ])
    .await;
    assert_eq!(o.live_contacts().await, 4);
    o.store(&[mail(
        "other-job",
        5,
        "Jane Roe <jroe@othercorp.com>",
        OWNER,
        "Hi",
    )])
    .await;
    let mut home = mail(
        "home",
        6,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        "From home",
    );
    home.cc = Some("Bob Poe <bob@acme.co.uk>");
    o.store(&[home]).await;
    assert_eq!(
        o.live_contacts().await,
        5,
        "two work contacts named Jane Roe"
    );
    assert!(
        o.merges(o.contact("jane@acme.co.uk").await)
            .await
            .is_empty()
    );

    // A namesake copied once on a thread with someone from the company, among other
    // mail, is someone else.
    let db = fresh_db().await;
    let o = owner(&db).await;
    let mut copied = mail(
        "copied",
        4,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        "Count me in",
    );
    copied.cc = Some("Bob Poe <bob@acme.co.uk>");
    o.store(&[
        mail("work", 2, "Jane Roe <jane@acme.co.uk>", OWNER, "Hello"),
        mail("own-1", 3, "Jane Roe <jane.roe@gmail.com>", OWNER, "Hi"),
        mail(
            "own-2",
            5,
            "Jane Roe <jane.roe@gmail.com>",
            OWNER,
            "Hi again",
        ),
        copied,
    ])
    .await;
    assert_eq!(o.live_contacts().await, 3);
}

#[tokio::test]
async fn a_new_address_announced_from_the_old_one_merges() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    o.store(&[
        mail("old", 2, "Jane Roe <jane@acme.co.uk>", OWNER, "Hello"),
        mail(
            "new",
            3,
            "Jane <jr@newco.io>",
            OWNER,
            "Hi from the new place",
        ),
    ])
    .await;
    let old = o.contact("jane@acme.co.uk").await;
    assert_ne!(
        o.contact("jr@newco.io").await,
        old,
        "a first name proves nothing"
    );
    o.store(&[mail(
        "notice",
        4,
        "Jane Roe <jane@acme.co.uk>",
        OWNER,
        "Hi,\n\nI'm leaving Acme on Friday. My new email is jr@newco.io.\n\nJane",
    )])
    .await;
    let jane = o.contact("jane@acme.co.uk").await;
    assert_eq!(o.contact("jr@newco.io").await, jane);
    let merge = automatic_merge(&o, jane, MergeRule::NewAddress).await;
    assert!([merge.winner, merge.loser].contains(&old));
}

#[tokio::test]
async fn an_unknown_new_address_joins_the_contact_without_a_merge() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    o.store(&[mail(
        "notice",
        2,
        "Jane Roe <jane@acme.co.uk>",
        OWNER,
        "Please note my new e-mail address: jane.roe@newco.io\n\nJane",
    )])
    .await;
    let jane = o.contact("jane@acme.co.uk").await;
    o.store(&[mail("new", 3, "Jane Roe <jane.roe@newco.io>", OWNER, "Hi")])
        .await;
    assert_eq!(o.contact("jane.roe@newco.io").await, jane);
    assert_eq!(o.live_contacts().await, 1);
}

#[tokio::test]
async fn please_update_your_records_from_a_new_address_merges_with_the_namesake() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    o.store(&[mail("old", 2, "Jane Roe <jane@acme.co.uk>", OWNER, "Hello")])
        .await;
    let old = o.contact("jane@acme.co.uk").await;
    o.store(&[mail(
        "new",
        5,
        "Jane Roe <jane@newco.io>",
        OWNER,
        "Hi all,\n\nI have moved to Newco; please update your records.\n\nJane Roe",
    )])
    .await;
    assert_eq!(o.contact("jane@newco.io").await, old);
    automatic_merge(&o, old, MergeRule::NewAddress).await;
}

#[tokio::test]
async fn not_the_same_person_is_never_merged_nor_suggested() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    o.store(&[
        mail("work", 2, "Jane Roe <jane@acme.co.uk>", OWNER, "Hello"),
        mail("home", 3, "Jane Roe <jane.roe@gmail.com>", OWNER, "Hello"),
    ])
    .await;
    let (work, home) = (
        o.contact("jane@acme.co.uk").await,
        o.contact("jane.roe@gmail.com").await,
    );
    let contacts = o.db.for_user(o.user).contacts();
    assert_eq!(contacts.duplicate_suggestions(work).await.unwrap().len(), 1);
    contacts.not_the_same_person(home, work).await.unwrap();
    contacts.not_the_same_person(work, home).await.unwrap();
    assert!(
        contacts
            .duplicate_suggestions(work)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        contacts
            .duplicate_suggestions(home)
            .await
            .unwrap()
            .is_empty()
    );
    // Evidence that would merge them otherwise.
    o.store(&[mail(
        "home-signed",
        5,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        SIGNED,
    )])
    .await;
    o.store(&[mail(
        "work-signed",
        6,
        "Jane Roe <jane@acme.co.uk>",
        OWNER,
        SIGNED,
    )])
    .await;
    assert_eq!(o.live_contacts().await, 2);
    assert!(o.merges(work).await.is_empty());
    assert!(matches!(
        contacts.not_the_same_person(work, work).await,
        Err(domain::DomainError::Invalid { .. })
    ));
    assert!(matches!(
        contacts.not_the_same_person(work, Uuid::new_v4()).await,
        Err(domain::DomainError::NotFound(_))
    ));
}

#[tokio::test]
async fn between_contacts_made_in_one_batch_the_one_with_the_earliest_mail_stays() {
    let db = fresh_db().await;
    let o = owner(&db).await;
    // One batch: both contacts are equally old. Her personal address was written first.
    o.store(&[
        mail(
            "to-home",
            2,
            OWNER,
            "Jane Roe <jane.roe@gmail.com>",
            "Lunch?",
        ),
        mail("work", 3, "Jane Roe <jane@acme.co.uk>", OWNER, SIGNED),
    ])
    .await;
    let home = o.contact("jane.roe@gmail.com").await;
    let work = o.contact("jane@acme.co.uk").await;
    assert_ne!(home, work);
    o.store(&[mail(
        "home",
        5,
        "Jane Roe <jane.roe@gmail.com>",
        OWNER,
        SIGNED,
    )])
    .await;
    assert_eq!(o.contact("jane@acme.co.uk").await, home, "whatever the ids");
    automatic_merge(&o, home, MergeRule::NameAndPhone).await;
}
