//! Fastmail / JMAP sync against a real Cyrus IMAP (started per test, see
//! `test-servers`): what the server has in Inbox and Sent is stored once and stamped,
//! blocked senders are moved aside, duplicates and crashes change nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use api::{AccountStatus, LedgerOutcome};
use domain::DomainError;
use domain::crypto::SecretBox;
use domain::jmap::{
    Credential, Email, EmailPatch, EmailQuery, Endpoint, FastmailConnect, HttpJmap, JmapApi,
    JmapError, JmapSync, JmapSyncOptions, Listing, Mailbox, SKIP_DOMAIN, SKIP_EMAIL, Session,
    SetOutcome,
};
use domain::{Db, UserId};
use test_servers::cyrus::{Cyrus, CyrusUser};
use uuid::Uuid;

use crate::helpers::{fresh_db, gmail_account, user};

fn secrets() -> SecretBox {
    SecretBox::from_base64(&format!("{}=", "A".repeat(43))).unwrap()
}

/// A message from `from` with a unique Message-ID and subject.
fn message(n: u32, from: &str, to: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Note {n}\r\nMessage-ID: <note-{n}@example.com>\r\n\
         Date: Mon, 1 Dec 2025 10:{:02}:00 +0000\r\nContent-Type: text/plain\r\n\r\nBody of note {n}.\r\n",
        n % 60
    )
    .into_bytes()
}

struct Setup {
    cyrus: Cyrus,
    mail: CyrusUser,
    db: Db,
    owner: UserId,
    account: Uuid,
}

async fn connect(db: &Db, owner: UserId, cyrus: &Cyrus, mail: &CyrusUser) -> Uuid {
    let form =
        FastmailConnect::parse(&cyrus.session_url(), "", &mail.name, &mail.password).unwrap();
    db.for_user(owner)
        .accounts()
        .connect_fastmail(&HttpJmap::default(), &form, &secrets())
        .await
        .unwrap()
}

async fn setup() -> Setup {
    let (cyrus, db) = tokio::join!(Cyrus::start(), fresh_db());
    let cyrus = cyrus.unwrap();
    let mail = cyrus.add_user("ann", "ann-password").await.unwrap();
    let owner = user(&db, "ann@mail.example").await;
    let account = connect(&db, owner, &cyrus, &mail).await;
    Setup {
        cyrus,
        mail,
        db,
        owner,
        account,
    }
}

fn sync<A: JmapApi>(db: &Db, api: A) -> JmapSync<A> {
    JmapSync::new(
        db.clone(),
        Arc::new(api),
        secrets(),
        JmapSyncOptions::default(),
    )
}

/// Windows of `window` messages, fetched in rounds of two pages of 50.
fn sync_in_windows_of<A: JmapApi>(db: &Db, api: A, window: usize) -> JmapSync<A> {
    let options = JmapSyncOptions {
        in_flight: 2,
        window,
    };
    JmapSync::new(db.clone(), Arc::new(api), secrets(), options)
}

/// The account holds `count` messages, each stored once and stamped `$crm_done`.
async fn assert_stored_and_stamped(s: &Setup, count: usize) {
    assert_eq!(stored_ids(&s.db, s.account).await.len(), count);
    let view = server_view(&s.cyrus, &s.mail).await;
    assert_eq!(view.len(), count);
    assert!(
        view.iter()
            .all(|(_, _, k)| k.contains(&"$crm_done".to_owned()))
    );
}

async fn stored_ids(db: &Db, account: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "select external_id from activities where account_id = $1 order by external_id",
    )
    .bind(account)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

/// Every email of the user's mailbox with its mailbox names and keywords, via JMAP.
async fn server_view(cyrus: &Cyrus, user: &CyrusUser) -> Vec<(String, Vec<String>, Vec<String>)> {
    let body = format!(
        r##"{{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],"methodCalls":[
            ["Mailbox/get",{{"accountId":"{a}","properties":["name"]}},"m"],
            ["Email/query",{{"accountId":"{a}","limit":1000}},"q"],
            ["Email/get",{{"accountId":"{a}","#ids":{{"resultOf":"q","name":"Email/query","path":"/ids"}},
              "properties":["subject","mailboxIds","keywords"]}},"g"]]}}"##,
        a = user.name
    );
    let response = cyrus.jmap_post(user, &body).await.unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&response[response.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    let names: std::collections::HashMap<String, String> = json["methodResponses"][0][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut emails: Vec<(String, Vec<String>, Vec<String>)> = json["methodResponses"][2][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut boxes: Vec<String> = e["mailboxIds"]
                .as_object()
                .unwrap()
                .keys()
                .map(|id| names[id].clone())
                .collect();
            boxes.sort();
            let mut keywords: Vec<String> =
                e["keywords"].as_object().unwrap().keys().cloned().collect();
            keywords.sort();
            (e["subject"].as_str().unwrap().to_owned(), boxes, keywords)
        })
        .collect();
    emails.sort();
    emails
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_stores_inbox_and_sent_once_and_stamps_everything() {
    let s = setup().await;
    let inbox: Vec<Vec<u8>> = (0..120)
        .map(|n| message(n, "Bob Stone <bob@example.com>", "Ann <ann@mail.example>"))
        .collect();
    let sent: Vec<Vec<u8>> = (1000..1030)
        .map(|n| message(n, "Ann <ann@mail.example>", "Bob Stone <bob@example.com>"))
        .collect();
    s.cyrus
        .append(&s.mail, "INBOX", &inbox, &["\\Seen"])
        .await
        .unwrap();
    s.cyrus
        .append(&s.mail, "Sent", &sent, &["\\Seen"])
        .await
        .unwrap();
    // Another mailbox is not synced.
    s.cyrus
        .create_mailbox(&s.mail, "Archive", None)
        .await
        .unwrap();
    s.cyrus
        .append(
            &s.mail,
            "Archive",
            &[message(5000, "x@example.com", "Ann <ann@mail.example>")],
            &[],
        )
        .await
        .unwrap();

    let engine = sync(&s.db, HttpJmap::default());
    let report = engine.poll(s.owner, s.account).await.unwrap();
    assert_eq!(
        (report.fetched, report.stored, report.stamped),
        (150, 150, 150)
    );
    assert_eq!(stored_ids(&s.db, s.account).await.len(), 150);

    let view = server_view(&s.cyrus, &s.mail).await;
    let unstamped: Vec<_> = view
        .iter()
        .filter(|(_, boxes, keywords)| {
            boxes != &["Archive"] && !keywords.contains(&"$crm_done".to_owned())
        })
        .collect();
    assert!(unstamped.is_empty(), "{unstamped:?}");

    // Sent mail is outbound and labelled like Gmail's; the inbox mail inbound.
    let rows: Vec<(String, Vec<String>, String)> = sqlx::query_as(
        "select subject, labels, direction from activities where account_id = $1 and subject in ('Note 1', 'Note 1001')
         order by subject",
    )
    .bind(s.account)
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (
                "Note 1".to_owned(),
                vec!["INBOX".to_owned()],
                "inbound".to_owned()
            ),
            (
                "Note 1001".to_owned(),
                vec!["SENT".to_owned()],
                "outbound".to_owned()
            ),
        ]
    );
    let account = s.db.for_user(s.owner).accounts().list().await.unwrap();
    assert_eq!(account[0].status, AccountStatus::Active);
    assert!(account[0].last_synced_at.is_some());

    // A second poll fetches nothing.
    let again = engine.poll(s.owner, s.account).await.unwrap();
    assert_eq!(again.fetched, 0);

    // A message added later arrives once, unread and starred as the server says.
    s.cyrus
        .append(
            &s.mail,
            "INBOX",
            &[message(
                200,
                "Cy <cy@example.com>",
                "Ann <ann@mail.example>",
            )],
            &["\\Flagged"],
        )
        .await
        .unwrap();
    let later = engine.poll(s.owner, s.account).await.unwrap();
    assert_eq!((later.fetched, later.stored), (1, 1));
    assert_eq!(stored_ids(&s.db, s.account).await.len(), 151);
    let labels: Vec<String> = sqlx::query_scalar(
        "select unnest(labels) from activities where account_id = $1 and subject = 'Note 200' order by 1",
    )
    .bind(s.account)
    .fetch_all(s.db.pool())
    .await
    .unwrap();
    assert_eq!(labels, ["INBOX", "STARRED", "UNREAD"]);
    assert_eq!(engine.poll(s.owner, s.account).await.unwrap().fetched, 0);
}

/// The real client, except for one stamp (the `at`-th `Email/set`, from 1).
struct StampFault {
    inner: HttpJmap,
    at: usize,
    fault: Fault,
    calls: AtomicUsize,
}

enum Fault {
    /// The request fails: a crash after the commit and before the stamp.
    Crash,
    /// The server refuses to update the first message of the call (`notUpdated`).
    RefuseFirst,
}

impl StampFault {
    /// Counts a stamp: is it the one that fails?
    fn faulty_now(&self) -> bool {
        self.calls.fetch_add(1, Ordering::SeqCst) + 1 == self.at
    }

    fn new(at: usize, fault: Fault) -> Self {
        Self {
            inner: HttpJmap::default(),
            at,
            fault,
            calls: AtomicUsize::new(0),
        }
    }
}

impl JmapApi for StampFault {
    async fn session(&self, endpoint: &Endpoint) -> Result<Session, JmapError> {
        self.inner.session(endpoint).await
    }
    async fn mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
    ) -> Result<Vec<Mailbox>, JmapError> {
        self.inner.mailboxes(endpoint, session).await
    }
    async fn create_mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        names: &[&str],
    ) -> Result<Vec<String>, JmapError> {
        self.inner.create_mailboxes(endpoint, session, names).await
    }
    async fn list_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        query: &EmailQuery,
    ) -> Result<Listing, JmapError> {
        self.inner.list_emails(endpoint, session, query).await
    }
    async fn get_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        ids: &[String],
    ) -> Result<Vec<Email>, JmapError> {
        self.inner.get_emails(endpoint, session, ids).await
    }
    async fn update_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        patches: &[(String, EmailPatch)],
    ) -> Result<SetOutcome, JmapError> {
        if patches.is_empty() || !self.faulty_now() {
            return self.inner.update_emails(endpoint, session, patches).await;
        }
        match self.fault {
            Fault::Crash => Err(killed()),
            Fault::RefuseFirst => {
                let (refused, rest) = patches.split_first().expect("a round has messages");
                let mut outcome = self.inner.update_emails(endpoint, session, rest).await?;
                outcome
                    .not_updated
                    .push((refused.0.clone(), "serverFail".to_owned()));
                Ok(outcome)
            }
        }
    }
}

fn killed() -> JmapError {
    JmapError::Transport("killed before the stamp".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_stamp_duplicates_nothing() {
    let s = setup().await;
    let inbox: Vec<Vec<u8>> = (0..30)
        .map(|n| message(n, "Bob <bob@example.com>", "Ann <ann@mail.example>"))
        .collect();
    s.cyrus.append(&s.mail, "INBOX", &inbox, &[]).await.unwrap();

    let crashing = sync(&s.db, StampFault::new(1, Fault::Crash));
    let error = crashing.poll(s.owner, s.account).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    // Committed, not stamped.
    assert_eq!(stored_ids(&s.db, s.account).await.len(), 30);
    assert!(
        server_view(&s.cyrus, &s.mail)
            .await
            .iter()
            .all(|(_, _, k)| !k.contains(&"$crm_done".to_owned()))
    );
    let before: Vec<(Uuid, String)> =
        sqlx::query_as("select id, external_id from activities where account_id = $1 order by id")
            .bind(s.account)
            .fetch_all(s.db.pool())
            .await
            .unwrap();

    // The retry fetches the same messages again and changes nothing but the stamps.
    let report = crashing.poll(s.owner, s.account).await.unwrap();
    assert_eq!((report.fetched, report.stamped), (30, 30));
    let after: Vec<(Uuid, String)> =
        sqlx::query_as("select id, external_id from activities where account_id = $1 order by id")
            .bind(s.account)
            .fetch_all(s.db.pool())
            .await
            .unwrap();
    assert_eq!(before, after);
    let participants: i64 = sqlx::query_scalar(
        "select count(*) from activity_participants p join activities a on a.id = p.activity_id
         where a.account_id = $1",
    )
    .bind(s.account)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(participants, 60);
    let ledger =
        s.db.for_user(s.owner)
            .mail()
            .sync_ledger(s.account)
            .await
            .unwrap();
    assert_eq!(ledger.len(), 30);
    assert!(ledger.iter().all(|l| l.outcome == LedgerOutcome::Imported));
    assert_eq!(crashing.poll(s.owner, s.account).await.unwrap().fetched, 0);
}

/// Many rounds in several windows go through the pipeline (rounds stored while the next
/// are fetched and the ones before stamped): each message is fetched, stored and
/// stamped exactly once, and a refused stamp ends its mailbox's listing for the poll with
/// the checkpoint before it, so the next poll picks it up with everything after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_rounds_are_stored_once_and_a_refused_stamp_is_picked_up_next_poll() {
    let s = setup().await;
    let first: Vec<Vec<u8>> = (0..430)
        .map(|n| message(n, "Bob <bob@example.com>", "Ann <ann@mail.example>"))
        .collect();
    s.cyrus.append(&s.mail, "INBOX", &first, &[]).await.unwrap();
    let engine = sync_in_windows_of(&s.db, HttpJmap::default(), 250);
    let report = engine.poll(s.owner, s.account).await.unwrap();
    assert_eq!(
        (report.fetched, report.stored, report.stamped),
        (430, 430, 430)
    );

    let second: Vec<Vec<u8>> = (1000..1330)
        .map(|n| message(n, "Cy <cy@example.com>", "Ann <ann@mail.example>"))
        .collect();
    s.cyrus
        .append(&s.mail, "INBOX", &second, &[])
        .await
        .unwrap();
    let refusing = sync_in_windows_of(&s.db, StampFault::new(1, Fault::RefuseFirst), 250);
    let refused = refusing.poll(s.owner, s.account).await.unwrap();
    assert_eq!(refused.not_stamped, 1, "{refused:?}");
    assert_eq!(refused.stamped + 1, refused.fetched, "{refused:?}");
    let rest = refusing.poll(s.owner, s.account).await.unwrap();
    assert_eq!(rest.not_stamped, 0);
    // The refused message comes again (stored again, changing nothing); nothing else does.
    assert_eq!(
        refused.stamped + rest.fetched,
        330,
        "{refused:?} then {rest:?}"
    );
    assert_stored_and_stamped(&s, 760).await;
    assert_eq!(refusing.poll(s.owner, s.account).await.unwrap().fetched, 0);
}

/// Small windows, so later windows are listed while earlier ones are being stamped: each
/// listing skips the listed messages not yet stamped and misses none of the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_listed_while_earlier_ones_are_stamped_miss_nothing_and_repeat_nothing() {
    let s = setup().await;
    let inbox: Vec<Vec<u8>> = (0..430)
        .map(|n| message(n, "Bob <bob@example.com>", "Ann <ann@mail.example>"))
        .collect();
    let sent: Vec<Vec<u8>> = (1000..1070)
        .map(|n| message(n, "Ann <ann@mail.example>", "Bob <bob@example.com>"))
        .collect();
    s.cyrus.append(&s.mail, "INBOX", &inbox, &[]).await.unwrap();
    s.cyrus.append(&s.mail, "Sent", &sent, &[]).await.unwrap();
    let engine = sync_in_windows_of(&s.db, HttpJmap::default(), 30);
    let report = engine.poll(s.owner, s.account).await.unwrap();
    assert_eq!(
        (
            report.fetched,
            report.stored,
            report.stamped,
            report.not_stamped
        ),
        (500, 500, 500, 0),
        "{report:?}"
    );
    assert_stored_and_stamped(&s, 500).await;
    assert_eq!(engine.poll(s.owner, s.account).await.unwrap().fetched, 0);
}

/// The real client behind a session that allows `limit` concurrent requests, counting
/// the most that were ever in progress at once.
struct Concurrency {
    inner: HttpJmap,
    limit: u64,
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Concurrency {
    async fn counted<T>(&self, request: impl std::future::Future<Output = T>) -> T {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let answer = request.await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        answer
    }
}

impl JmapApi for Concurrency {
    async fn session(&self, endpoint: &Endpoint) -> Result<Session, JmapError> {
        let mut session = self.inner.session(endpoint).await?;
        session
            .capabilities
            .get_mut("urn:ietf:params:jmap:core")
            .and_then(|core| core.as_object_mut())
            .expect("a core capability")
            .insert("maxConcurrentRequests".to_owned(), self.limit.into());
        Ok(session)
    }
    async fn mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
    ) -> Result<Vec<Mailbox>, JmapError> {
        self.counted(self.inner.mailboxes(endpoint, session)).await
    }
    async fn create_mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        names: &[&str],
    ) -> Result<Vec<String>, JmapError> {
        self.counted(self.inner.create_mailboxes(endpoint, session, names))
            .await
    }
    async fn list_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        query: &EmailQuery,
    ) -> Result<Listing, JmapError> {
        self.counted(self.inner.list_emails(endpoint, session, query))
            .await
    }
    async fn get_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        ids: &[String],
    ) -> Result<Vec<Email>, JmapError> {
        self.counted(self.inner.get_emails(endpoint, session, ids))
            .await
    }
    async fn update_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        patches: &[(String, EmailPatch)],
    ) -> Result<SetOutcome, JmapError> {
        self.counted(self.inner.update_emails(endpoint, session, patches))
            .await
    }
}

/// A server that allows few requests at once (Stalwart and James say 4 by default) is
/// never sent more, pages and stamps together, and still gets everything stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_progress_stay_within_the_servers_limit() {
    let s = setup().await;
    let inbox: Vec<Vec<u8>> = (0..430)
        .map(|n| message(n, "Bob <bob@example.com>", "Ann <ann@mail.example>"))
        .collect();
    s.cyrus.append(&s.mail, "INBOX", &inbox, &[]).await.unwrap();
    let api = Arc::new(Concurrency {
        inner: HttpJmap::default(),
        limit: 3,
        now: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    });
    let engine = JmapSync::new(
        s.db.clone(),
        api.clone(),
        secrets(),
        JmapSyncOptions::default(),
    );
    let report = engine.poll(s.owner, s.account).await.unwrap();
    assert_eq!((report.stored, report.stamped), (430, 430), "{report:?}");
    let peak = api.peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "{peak} requests at once");
    assert_stored_and_stamped(&s, 430).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_senders_are_moved_aside_marked_seen_counted_and_never_stored() {
    let s = setup().await;
    let channels = s.db.for_user(s.owner).channels();
    let exact = domain::channels::BlockEntry::parse("pest@annoying.example").unwrap();
    let domain_entry = domain::channels::BlockEntry::parse("*@spam.example").unwrap();
    channels.add_to_blocklist(&exact).await.unwrap();
    channels.add_to_blocklist(&domain_entry).await.unwrap();
    s.cyrus
        .append(
            &s.mail,
            "INBOX",
            &[
                message(1, "Pest <pest@annoying.example>", "Ann <ann@mail.example>"),
                message(2, "Offers <deals@spam.example>", "Ann <ann@mail.example>"),
                message(
                    3,
                    "Weekly Newsletter <hello@shop.example>",
                    "Ann <ann@mail.example>",
                ),
                message(4, "Bob <bob@example.com>", "Ann <ann@mail.example>"),
            ],
            &[],
        )
        .await
        .unwrap();

    let report = sync(&s.db, HttpJmap::default())
        .poll(s.owner, s.account)
        .await
        .unwrap();
    assert_eq!((report.fetched, report.filtered, report.stored), (4, 3, 1));
    assert_eq!(stored_ids(&s.db, s.account).await.len(), 1);

    let view = server_view(&s.cyrus, &s.mail).await;
    let crm_done = "$crm_done".to_owned();
    let seen = "$seen".to_owned();
    assert_eq!(
        view,
        [
            (
                "Note 1".to_owned(),
                vec![SKIP_EMAIL.to_owned()],
                vec![crm_done.clone(), seen.clone()]
            ),
            (
                "Note 2".to_owned(),
                vec![SKIP_DOMAIN.to_owned()],
                vec![crm_done.clone(), seen.clone()]
            ),
            (
                "Note 3".to_owned(),
                vec![SKIP_EMAIL.to_owned()],
                vec![crm_done.clone(), seen]
            ),
            (
                "Note 4".to_owned(),
                vec!["Inbox".to_owned()],
                vec![crm_done]
            ),
        ]
    );

    // Each entry counted its hit (the newsletter by the seeded name pattern); the ledger
    // says which rule filtered each.
    let hits: Vec<(String, i64)> = channels
        .blocklist()
        .await
        .unwrap()
        .into_iter()
        .filter(|b| b.hits > 0)
        .map(|b| (b.entry.display(), b.hits))
        .collect();
    assert_eq!(
        hits,
        [
            ("*@spam.example".to_owned(), 1),
            ("pest@annoying.example".to_owned(), 1),
            ("name:newsletter".to_owned(), 1),
        ]
    );
    let mut rules: Vec<String> =
        s.db.for_user(s.owner)
            .mail()
            .sync_ledger(s.account)
            .await
            .unwrap()
            .into_iter()
            .filter(|l| l.outcome == LedgerOutcome::Filtered)
            .filter_map(|l| l.rule)
            .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "blocklist:*@spam.example",
            "blocklist:name:newsletter",
            "blocklist:pest@annoying.example"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_user_has_from_another_account_is_not_stored_twice() {
    let s = setup().await;
    // The same message came in through the user's Gmail account first.
    let gmail = gmail_account(&s.db, s.owner, "ann@gmail.example").await;
    let shared = message(1, "Bob <bob@example.com>", "Ann <ann@mail.example>");
    let stored =
        s.db.for_user(s.owner)
            .mail()
            .store_email(
                gmail,
                &domain::ingest::IncomingEmail {
                    external_id: "gmail-1".to_owned(),
                    thread_id: None,
                    labels: vec!["INBOX".to_owned()],
                    received_at: chrono::Utc::now(),
                    content: shared.clone().into(),
                },
                &domain::ingest::IngestFilter::default(),
            )
            .await
            .unwrap();
    let domain::ingest::StoreOutcome::Imported(original) = stored.outcome else {
        panic!("{stored:?}");
    };
    s.cyrus
        .append(
            &s.mail,
            "INBOX",
            &[
                shared,
                message(2, "Bob <bob@example.com>", "Ann <ann@mail.example>"),
            ],
            &[],
        )
        .await
        .unwrap();

    let report = sync(&s.db, HttpJmap::default())
        .poll(s.owner, s.account)
        .await
        .unwrap();
    assert_eq!(
        (report.stored, report.duplicates, report.stamped),
        (1, 1, 2)
    );
    let copies: i64 = sqlx::query_scalar(
        "select count(*) from activities where user_id = $1 and headers ->> 'message_id' = 'note-1@example.com'",
    )
    .bind(s.owner.0)
    .fetch_one(s.db.pool())
    .await
    .unwrap();
    assert_eq!(copies, 1);
    let ledger =
        s.db.for_user(s.owner)
            .mail()
            .sync_ledger(s.account)
            .await
            .unwrap();
    let duplicate: Vec<_> = ledger
        .iter()
        .filter(|l| l.outcome == LedgerOutcome::Duplicate)
        .collect();
    assert_eq!(duplicate.len(), 1);
    assert_eq!(duplicate[0].activity_id, Some(original));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_a_clear_error_and_nothing_is_stored() {
    let (cyrus, db) = tokio::join!(Cyrus::start(), fresh_db());
    let cyrus = cyrus.unwrap();
    let mail = cyrus.add_user("ann", "right").await.unwrap();
    let owner = user(&db, "ann@mail.example").await;
    let form = FastmailConnect::parse(&cyrus.session_url(), "", &mail.name, "wrong").unwrap();
    let error = db
        .for_user(owner)
        .accounts()
        .connect_fastmail(&HttpJmap::default(), &form, &secrets())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DomainError::Invalid { field: "credentials", message } if message.contains("refused")),
        "{error:?}"
    );
    let bearer = FastmailConnect {
        session_url: cyrus.session_url(),
        credential: Credential::Bearer {
            token: "not-a-token".to_owned(),
        },
    };
    assert!(
        db.for_user(owner)
            .accounts()
            .connect_fastmail(&HttpJmap::default(), &bearer, &secrets())
            .await
            .is_err()
    );
    assert!(
        db.for_user(owner)
            .accounts()
            .list()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_during_sync_marks_the_account_needs_reconnect() {
    let s = setup().await;
    s.cyrus.set_password(&s.mail, "changed").unwrap();
    let engine = sync(&s.db, HttpJmap::default());
    let error = engine.poll(s.owner, s.account).await.unwrap_err();
    assert!(error.needs_reconnect(), "{error}");
    let account =
        s.db.for_user(s.owner)
            .accounts()
            .list()
            .await
            .unwrap()
            .remove(0);
    assert_eq!(account.status, AccountStatus::NeedsReconnect);
    assert!(
        account
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("Reconnect Fastmail"),
        "{:?}",
        account.last_error
    );
    // Reconnecting with the new password makes it active again, same account.
    let mail = CyrusUser {
        password: "changed".to_owned(),
        ..s.mail.clone()
    };
    assert_eq!(connect(&s.db, s.owner, &s.cyrus, &mail).await, s.account);
    engine.poll(s.owner, s.account).await.unwrap();
    let account =
        s.db.for_user(s.owner)
            .accounts()
            .list()
            .await
            .unwrap()
            .remove(0);
    assert_eq!(account.status, AccountStatus::Active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_cannot_poll_or_read_the_account() {
    let s = setup().await;
    let mallory = user(&s.db, "mallory@example.com").await;
    let error = sync(&s.db, HttpJmap::default())
        .poll(mallory, s.account)
        .await
        .unwrap_err();
    assert!(!error.is_retryable() && !error.needs_reconnect(), "{error}");
    assert!(
        s.db.for_user(mallory)
            .accounts()
            .list()
            .await
            .unwrap()
            .is_empty()
    );
}

/// Stamps beyond the server's limits go out as several `Email/set` calls of at most
/// `maxObjectsInSet`, in several requests of at most `maxCallsInRequest` (the demo
/// Fastmail enforces both, as RFC 8620 says): every message is stamped, every unknown
/// id is reported, nothing is refused for its size.
#[tokio::test]
async fn stamps_beyond_the_servers_limits_are_split_into_calls_and_requests() {
    use fakes::demo_providers::{self, FASTMAIL_TOKEN};
    use fakes::mailbox::{Mailbox as Generated, MailboxSpec};

    let truth = Generated::generate(&MailboxSpec::demo(50)).truth();
    let server = demo_providers::start(&truth, chrono::Utc::now(), 0)
        .await
        .unwrap();
    let api = HttpJmap::default();
    let endpoint = Endpoint {
        session_url: format!("{}/jmap/session", server.base_url()),
        credential: Credential::Bearer {
            token: FASTMAIL_TOKEN.to_owned(),
        },
    };
    let session = api.session(&endpoint).await.unwrap();
    let per_request =
        session.core_limit("maxObjectsInSet", 0) * session.core_limit("maxCallsInRequest", 0);
    assert!(per_request > 0, "the demo server advertises both limits");
    let inbox = api
        .mailboxes(&endpoint, &session)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.role.as_deref() == Some("inbox"))
        .unwrap();
    let unstamped = |position| EmailQuery {
        mailbox_id: inbox.id.clone(),
        after: None,
        position,
        limit: 50,
    };
    let held = api
        .list_emails(&endpoint, &session, &unstamped(0))
        .await
        .unwrap()
        .ids;
    assert!(!held.is_empty());

    let patches: Vec<(String, EmailPatch)> = held
        .iter()
        .cloned()
        .chain((0..per_request).map(|i| format!("unknown-{i}")))
        .map(|id| (id, EmailPatch::done()))
        .collect();
    let outcome = api
        .update_emails(&endpoint, &session, &patches)
        .await
        .unwrap();
    let mut updated = outcome.updated.clone();
    updated.sort();
    let mut expected = held.clone();
    expected.sort();
    assert_eq!(updated, expected);
    assert_eq!(outcome.not_updated.len(), per_request);
    assert!(
        outcome
            .not_updated
            .iter()
            .all(|(_, kind)| kind == "notFound")
    );
    let still = api
        .list_emails(&endpoint, &session, &unstamped(0))
        .await
        .unwrap()
        .ids;
    assert!(
        still.iter().all(|id| !held.contains(id)),
        "the held ones are stamped"
    );
}
