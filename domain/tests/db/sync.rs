//! Gmail sync end to end: the real HTTP client against the fake Google, storing into a
//! real PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use domain::gmail::{HttpGmail, Limiters, QuotaConfig, StaticTokens};
use domain::jobs::{JobRegistry, JobState, Worker, WorkerId, WorkerOptions};
use domain::sync::jobs::{SyncGmail, enqueue_incremental_syncs, register_sync_jobs};
use domain::sync::{GmailSync, SyncOptions, SyncState, Throughput};
use domain::{Db, UserId};
use fakes::google::sign_in::{self, OAuthClient};
use fakes::google::{FakeGoogle, FakeGoogleConfig, FaultConfig, NewMessage, RunningFakeGoogle};
use fakes::mailbox::{Mailbox, MailboxSpec};
use uuid::Uuid;

use crate::helpers::{fresh_db, gmail_account, user};

type Sync = GmailSync<HttpGmail<StaticTokens>>;

struct Env {
    google: RunningFakeGoogle,
    db: Db,
    user: UserId,
    account: Uuid,
    email: String,
    spec: MailboxSpec,
    tokens: Arc<StaticTokens>,
    sync: Arc<Sync>,
}

fn fast_options() -> SyncOptions {
    let mut options = SyncOptions::default();
    options.retry.backoff.base = Duration::from_millis(20);
    options.retry.backoff.max = Duration::from_millis(200);
    options
}

async fn env(messages: usize, quota: bool, configure: impl FnOnce(&mut FakeGoogleConfig)) -> Env {
    let spec = MailboxSpec::demo(messages);
    let mut config = FakeGoogleConfig::with_mailbox(spec.clone());
    config.quota = quota;
    configure(&mut config);
    let google = FakeGoogle::start(config).await.expect("fake google starts");
    let db = fresh_db().await;
    let owner = user(&db, &spec.owner_email).await;
    let account = gmail_account(&db, owner, &spec.owner_email).await;
    let tokens = Arc::new(StaticTokens::new());
    tokens.set(
        account,
        access_token(google.base_url(), &spec.owner_email).await,
    );
    let limiter = if quota {
        QuotaConfig::default()
    } else {
        QuotaConfig::unlimited(32)
    };
    let sync = Arc::new(sync_engine(&db, &google, &tokens, limiter));
    Env {
        email: spec.owner_email.clone(),
        google,
        db,
        user: owner,
        account,
        spec,
        tokens,
        sync,
    }
}

fn sync_engine(
    db: &Db,
    google: &RunningFakeGoogle,
    tokens: &Arc<StaticTokens>,
    quota: QuotaConfig,
) -> Sync {
    let api = HttpGmail::new(
        HttpGmail::<StaticTokens>::default_client(),
        google.base_url(),
        Arc::clone(tokens),
    );
    GmailSync::new(
        db.clone(),
        Arc::new(api),
        Arc::new(Limiters::new(quota)),
        fast_options(),
    )
}

/// A token for `email` from the fake's consent and code exchange.
async fn access_token(base: &str, email: &str) -> String {
    let client = OAuthClient {
        client_id: "rapport-demo-client",
        client_secret: "rapport-demo-secret",
    };
    sign_in::access_token(base, &client, email)
        .await
        .expect("sign in to the fake")
}

/// Ids Gmail lists for the generated mailbox: all but SPAM and TRASH.
fn listed_ids(spec: &MailboxSpec) -> BTreeSet<String> {
    Mailbox::generate(spec)
        .messages()
        .filter(|m| !m.label_ids.iter().any(|l| l == "SPAM" || l == "TRASH"))
        .map(|m| m.id)
        .collect()
}

impl Env {
    /// Ids with a live (not deleted) activity.
    async fn stored_ids(&self) -> BTreeSet<String> {
        sqlx::query_scalar::<_, String>(
            "select external_id from activities where account_id = $1 and deleted_at is null",
        )
        .bind(self.account)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
        .into_iter()
        .collect()
    }

    /// Ids Gmail lists and the ledger says imported or filtered (drafts).
    async fn ledger_ids(&self, outcome: &str) -> BTreeSet<String> {
        sqlx::query_scalar::<_, String>(
            "select external_id from sync_ledger where account_id = $1 and outcome = $2",
        )
        .bind(self.account)
        .bind(outcome)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
        .into_iter()
        .collect()
    }

    async fn state(&self) -> SyncState {
        self.db
            .for_user(self.user)
            .sync()
            .sync_account(self.account)
            .await
            .unwrap()
            .state
    }

    async fn status(&self) -> (String, Option<String>) {
        sqlx::query_as("select status, last_error from accounts where id = $1")
            .bind(self.account)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    async fn activity_rows(&self) -> i64 {
        sqlx::query_scalar("select count(*) from activities where account_id = $1")
            .bind(self.account)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// Everything Gmail lists is stored (imported, or filtered as a draft), nothing else.
    async fn assert_matches_gmail(&self, expected: &BTreeSet<String>) {
        let imported = self.ledger_ids("imported").await;
        let filtered = self.ledger_ids("filtered").await;
        let accounted: BTreeSet<String> = imported.union(&filtered).cloned().collect();
        assert_eq!(&accounted, expected, "ledger covers exactly Gmail's ids");
        assert_eq!(
            self.stored_ids().await,
            imported,
            "live activities = imported"
        );
        assert!(self.ledger_ids("failed").await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_stores_exactly_gmails_messages() {
    let env = env(1_000, false, |_| {}).await;
    let report = env.sync.sync_account(env.user, env.account).await.unwrap();
    let expected = listed_ids(&env.spec);
    assert!(report.full);
    env.assert_matches_gmail(&expected).await;
    assert_eq!(
        env.activity_rows().await as usize,
        env.ledger_ids("imported").await.len()
    );
    let reconcile = report.reconcile.expect("a full sync reconciles");
    assert!(reconcile.is_clean(), "{reconcile:?}");
    assert_eq!(reconcile.gmail_messages as usize, expected.len());

    let state = env.state().await;
    assert!(state.full.is_none(), "no unfinished full sync left");
    assert!(state.history_id.is_some());
    let progress = state.progress.unwrap();
    assert_eq!(progress.stage, domain::sync::Stage::Idle);
    assert!(progress.last_success_at.is_some());
    assert_eq!(env.status().await, ("active".to_owned(), None));
    let events: i64 =
        sqlx::query_scalar("select count(*) from events where kind = 'sync.progress'")
            .fetch_one(env.db.pool())
            .await
            .unwrap();
    assert!(events >= 3, "progress was reported ({events} events)");

    // A second run is incremental and changes nothing.
    let again = env.sync.sync_account(env.user, env.account).await.unwrap();
    assert!(!again.full);
    assert_eq!(again.stored, 0);
    env.assert_matches_gmail(&expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_applies_adds_deletes_and_label_changes() {
    let env = env(300, true, |_| {}).await;
    env.sync.sync_account(env.user, env.account).await.unwrap();
    let control = env.google.control();
    let mut expected = listed_ids(&env.spec);
    let some: Vec<String> = expected.iter().take(3).cloned().collect();

    let added = control
        .append(
            &env.email,
            NewMessage::Generated {
                reply_to: Some(some[0].clone()),
            },
            &["INBOX", "UNREAD"],
        )
        .unwrap();
    control.delete(&env.email, &some[1]).unwrap();
    control
        .modify_labels(&env.email, &some[2], &["STARRED", "Label_Work"], &["INBOX"])
        .unwrap();
    control
        .modify_labels(&env.email, &some[0], &["TRASH"], &[])
        .unwrap();

    let report = env.sync.sync_account(env.user, env.account).await.unwrap();
    assert!(!report.full);
    assert_eq!(report.stored, 1);
    assert_eq!(report.deleted, 2, "one deleted, one trashed");
    expected.insert(added.id.clone());
    expected.remove(&some[1]);
    expected.remove(&some[0]);

    let scope = env.db.for_user(env.user);
    let new = scope
        .mail()
        .email_activity(env.account, &added.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.labels, ["INBOX", "UNREAD"]);
    for gone in &some[..2] {
        let row = scope
            .mail()
            .email_activity(env.account, gone)
            .await
            .unwrap()
            .unwrap();
        assert!(row.deleted_at.is_some(), "{gone} marked deleted");
    }
    let relabeled = scope
        .mail()
        .email_activity(env.account, &some[2])
        .await
        .unwrap()
        .unwrap();
    assert!(relabeled.labels.contains(&"STARRED".to_owned()));
    assert!(!relabeled.labels.contains(&"INBOX".to_owned()));
    assert_eq!(env.stored_ids().await, env.ledger_ids("imported").await);
    assert!(env.stored_ids().await.is_subset(&expected));

    // Untrashing brings the message back.
    control
        .modify_labels(&env.email, &some[0], &[], &["TRASH"])
        .unwrap();
    env.sync.sync_account(env.user, env.account).await.unwrap();
    let back = scope
        .mail()
        .email_activity(env.account, &some[0])
        .await
        .unwrap()
        .unwrap();
    assert!(back.deleted_at.is_none());
    let report = env.sync.reconcile(env.user, env.account).await.unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_history_triggers_a_clean_full_resync() {
    let env = env(400, false, |_| {}).await;
    env.sync.sync_account(env.user, env.account).await.unwrap();
    let control = env.google.control();
    let mut expected = listed_ids(&env.spec);
    let victim = expected.iter().nth(5).cloned().unwrap();
    let relabel = expected.iter().nth(6).cloned().unwrap();
    control.delete(&env.email, &victim).unwrap();
    control
        .modify_labels(&env.email, &relabel, &["IMPORTANT"], &[])
        .unwrap();
    let added = control
        .append(
            &env.email,
            NewMessage::Generated { reply_to: None },
            &["INBOX"],
        )
        .unwrap();
    control.expire_history(&env.email).unwrap();
    let rows_before = env.activity_rows().await;

    let report = env.sync.sync_account(env.user, env.account).await.unwrap();
    assert!(report.full, "the expired cursor forced a full sync");
    expected.remove(&victim);
    expected.insert(added.id.clone());
    env.assert_matches_gmail(&expected).await;
    assert_eq!(env.activity_rows().await, rows_before + 1, "no duplicates");
    let scope = env.db.for_user(env.user);
    let gone = scope
        .mail()
        .email_activity(env.account, &victim)
        .await
        .unwrap()
        .unwrap();
    assert!(gone.deleted_at.is_some());
    let relabeled = scope
        .mail()
        .email_activity(env.account, &relabel)
        .await
        .unwrap()
        .unwrap();
    assert!(relabeled.labels.contains(&"IMPORTANT".to_owned()));
    assert!(report.reconcile.unwrap().is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_full_sync_resumes_without_refetching() {
    let env = env(1_000, false, |_| {}).await;
    let sync = Arc::clone(&env.sync);
    let (user, account) = (env.user, env.account);
    let task = tokio::spawn(async move { sync.sync_account(user, account).await });
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if env.ledger_ids("imported").await.len() >= 300 {
            break;
        }
    }
    task.abort();
    let _ = task.await;
    let state = env.state().await;
    let checkpoint = state.full.expect("a checkpoint was left");
    // The abort may fall between a batch's commit and its checkpoint write, so the
    // checkpoint can lag the ledger; it must exist and show progress.
    assert!(
        checkpoint.done > 0 && state.history_id.is_none(),
        "{checkpoint:?}"
    );
    let stored_before = env.ledger_ids("imported").await.len() as u64;
    let gets_before = env.google.control().stats().requests["users.messages.get"];

    let report = env.sync.sync_account(env.user, env.account).await.unwrap();
    assert!(report.full);
    let expected = listed_ids(&env.spec);
    env.assert_matches_gmail(&expected).await;
    assert_eq!(
        env.activity_rows().await as usize,
        env.ledger_ids("imported").await.len()
    );
    let gets = env.google.control().stats().requests["users.messages.get"];
    assert!(
        gets - gets_before <= expected.len() as u64 - stored_before + 64,
        "resumed: {} gets after the crash for {} remaining",
        gets - gets_before,
        expected.len() as u64 - stored_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_quota_pressure_lose_nothing() {
    let env = env(600, true, |c| {
        c.faults = FaultConfig {
            error_rate: 0.05,
            ..FaultConfig::default()
        };
    })
    .await;
    // A limiter that overshoots the quota, so the fake answers 429s.
    let greedy = sync_engine(
        &env.db,
        &env.google,
        &env.tokens,
        QuotaConfig {
            units_per_second: Some(400.0),
            burst: 100.0,
            concurrency: 32,
        },
    );
    let report = greedy.sync_account(env.user, env.account).await.unwrap();
    let stats = env.google.control().stats();
    assert!(stats.injected_errors > 10, "{stats:?}");
    assert!(stats.rate_limited > 0, "{stats:?}");
    let reconcile = report.reconcile.unwrap();
    assert_eq!(reconcile.missing, 0, "{reconcile:?}");
    assert_eq!(reconcile.extra, 0, "{reconcile:?}");
    env.assert_matches_gmail(&listed_ids(&env.spec)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_stops_the_job_until_reconnect_then_resumes() {
    let env = env(2_000, true, |_| {}).await;
    let queue = env.db.jobs();
    let enqueued = env
        .db
        .for_user(env.user)
        .jobs()
        .enqueue(&SyncGmail {
            account_id: env.account,
        })
        .await
        .unwrap();
    let worker = Worker::new(
        queue.clone(),
        WorkerId::generate(),
        register_sync_jobs(JobRegistry::new(), Arc::clone(&env.sync)),
        WorkerOptions::default(),
    );
    let control = env.google.control();
    let email = env.email.clone();
    let ledger = {
        let db = env.db.clone();
        let account = env.account;
        move || {
            let db = db.clone();
            async move {
                sqlx::query_scalar::<_, i64>(
                    "select count(*) from sync_ledger where account_id = $1",
                )
                .bind(account)
                .fetch_one(db.pool())
                .await
                .unwrap()
            }
        }
    };
    let revoker = tokio::spawn(async move {
        while ledger().await < 100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        control.revoke_tokens(&email).unwrap();
    });
    assert!(worker.run_one().await.unwrap());
    revoker.await.unwrap();
    let job = queue.get(enqueued.job.id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Dead, "not retried");
    assert_eq!(job.attempts, 1);
    let (status, error) = env.status().await;
    assert_eq!(status, "needs_reconnect");
    assert!(error.unwrap().contains("Reconnect"));
    assert!(
        env.state().await.full.is_some(),
        "the checkpoint waits for reconnection"
    );
    assert_eq!(
        enqueue_incremental_syncs(&env.db).await.unwrap(),
        0,
        "not scheduled"
    );
    let before_reconnect = env.ledger_ids("imported").await.len();

    // Reconnecting grants a new token and reactivates the account (as the sign-in
    // callback does); the next sync resumes from the checkpoint and completes.
    env.tokens.set(
        env.account,
        access_token(env.google.base_url(), &env.email).await,
    );
    sqlx::query("update accounts set status = 'active', last_error = null where id = $1")
        .bind(env.account)
        .execute(env.db.pool())
        .await
        .unwrap();
    env.google.control().reset_stats();
    env.sync.sync_account(env.user, env.account).await.unwrap();
    env.assert_matches_gmail(&listed_ids(&env.spec)).await;
    // Admitted calls, not requests: a fetch the fake refused with 429 is retried.
    let fetched = env.google.control().stats().admitted["users.messages.get"] as usize;
    assert!(
        fetched <= listed_ids(&env.spec).len() - before_reconnect,
        "resumed: {fetched} fetched after reconnect, {before_reconnect} were already stored"
    );
    assert_eq!(env.status().await.0, "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_jobs_sync_active_accounts() {
    let env = env(100, false, |_| {}).await;
    sqlx::query("update accounts set status = 'active' where id = $1")
        .bind(env.account)
        .execute(env.db.pool())
        .await
        .unwrap();
    assert_eq!(enqueue_incremental_syncs(&env.db).await.unwrap(), 1);
    assert_eq!(
        enqueue_incremental_syncs(&env.db).await.unwrap(),
        0,
        "one per account"
    );
    let worker = Worker::new(
        env.db.jobs(),
        WorkerId::generate(),
        register_sync_jobs(JobRegistry::new(), Arc::clone(&env.sync)),
        WorkerOptions::default(),
    );
    assert!(worker.run_one().await.unwrap());
    env.assert_matches_gmail(&listed_ids(&env.spec)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbox_import_skips_mail_already_synced_from_gmail() {
    let env = env(200, false, |_| {}).await;
    env.sync.sync_account(env.user, env.account).await.unwrap();
    let mailbox = Mailbox::generate(&env.spec);
    let synced: Vec<_> = mailbox
        .messages()
        .take(50)
        .filter(|m| !m.label_ids.iter().any(|l| l == "SPAM" || l == "TRASH"))
        .collect();
    let mut mbox = Vec::new();
    for m in &synced {
        mbox.extend_from_slice(b"From 1@xxx Thu Jan 02 03:04:05 +0000 2025\n");
        mbox.extend_from_slice(&m.raw);
        mbox.extend_from_slice(b"\n");
    }
    let fresh = "From: Kim <kim@example.org>\r\nTo: alex.morgan@brightwater-labs.com\r\nSubject: only in takeout\r\nMessage-ID: <takeout-only@example.org>\r\nDate: Thu, 2 Jan 2025 03:04:05 +0000\r\nX-Gmail-Labels: Inbox\r\n\r\nHi.\r\n";
    mbox.extend_from_slice(b"From 2@xxx Thu Jan 02 03:04:05 +0000 2025\n");
    mbox.extend_from_slice(fresh.as_bytes());
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &mbox).unwrap();

    let scope = env.db.for_user(env.user);
    let report = scope
        .sync()
        .import_mbox(file.path(), "takeout.mbox", Default::default())
        .await
        .unwrap();
    let with_id = synced
        .iter()
        .filter(|m| {
            domain::mail::parse_email(&m.raw, m.internal_date)
                .message_id
                .is_some()
        })
        .count() as u64;
    assert_eq!(report.read, synced.len() as u64 + 1);
    assert_eq!(report.duplicates, with_id, "{report:?}");
    assert_eq!(
        report.imported + report.filtered + report.failed,
        synced.len() as u64 + 1 - with_id
    );
    let ledger = scope.mail().sync_ledger(report.account).await.unwrap();
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e.rule.as_deref() == Some("duplicate-message-id"))
            .count() as u64,
        with_id
    );
    assert!(
        scope
            .mail()
            .email_activity(report.account, "takeout-only@example.org")
            .await
            .unwrap()
            .is_some()
    );

    let again = scope
        .sync()
        .import_mbox(file.path(), "takeout.mbox", Default::default())
        .await
        .unwrap();
    assert_eq!(again.imported, 0, "re-import adds nothing");
}

/// Throughput of a full sync against the fake; for the benchmark, not a timed test.
/// `RAPPORT_SYNC_BENCH=<messages>` runs it at that size with quota on and off.
pub async fn measure(messages: usize, quota: bool) -> Throughput {
    let env = env(messages, quota, |_| {}).await;
    env.sync
        .measure_full_sync(env.user, env.account)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_measurement() {
    let messages = std::env::var("RAPPORT_SYNC_BENCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    for quota in [false, true] {
        let t = measure(messages, quota).await;
        println!(
            "full sync, quota {}: {} messages in {:.2?}: {:.0} messages/minute ({:.0}/s), {:.1}% of the 3,000/min ceiling",
            if quota { "on" } else { "off" },
            t.messages,
            t.elapsed,
            t.per_minute,
            t.per_second,
            t.per_minute / 30.0
        );
        assert!(t.messages as usize >= messages * 9 / 10);
    }
}

/// The settings page's accounts come in one query with what `ledger_counts`,
/// `contact_policy` and `sync_account` read one account at a time, and only the user's.
#[tokio::test]
async fn account_settings_reads_every_account_at_once() {
    use api::{LedgerOutcome, Provider};
    use domain::processing::ContactPolicy;

    let db = fresh_db().await;
    let alex = user(&db, "alex@example.com").await;
    let sam = user(&db, "sam@example.com").await;
    let gmail = gmail_account(&db, alex, "alex@example.com").await;
    let mbox: Uuid = sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'mbox', 'old mail') returning id",
    )
    .bind(alex.0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let empty: Uuid = sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'upload', 'files') returning id",
    )
    .bind(alex.0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let other = gmail_account(&db, sam, "sam@example.com").await;
    let ledger = [
        (alex, gmail, "g1", "imported"),
        (alex, gmail, "g2", "imported"),
        (alex, gmail, "g3", "seen"),
        (alex, mbox, "m1", "imported"),
        (sam, other, "s1", "imported"),
    ];
    for (owner, account, id, outcome) in ledger {
        sqlx::query(
            "insert into sync_ledger (user_id, account_id, external_id, outcome) values ($1, $2, $3, $4)",
        )
        .bind(owner.0)
        .bind(account)
        .bind(id)
        .bind(outcome)
        .execute(db.pool())
        .await
        .unwrap();
    }
    sqlx::query("update accounts set contact_policy = 'everyone', sync_state = '{\"history_id\": \"42\"}' where id = $1")
        .bind(gmail)
        .execute(db.pool())
        .await
        .unwrap();

    let scope = db.for_user(alex);
    let accounts = scope.sync().account_settings().await.unwrap();
    let ids: Vec<Uuid> = accounts.iter().map(|a| a.account.id).collect();
    assert_eq!(
        ids,
        vec![gmail, mbox, empty],
        "the user's accounts, oldest first"
    );
    assert_eq!(accounts[0].account.provider, Provider::Google);
    assert_eq!(accounts[1].account.provider, Provider::Mbox);
    assert_eq!(
        accounts[0].ledger,
        vec![(LedgerOutcome::Imported, 2), (LedgerOutcome::Seen, 1)]
    );
    for account in &accounts {
        let id = account.account.id;
        assert_eq!(
            account.ledger,
            scope.sync().ledger_counts(id).await.unwrap()
        );
        assert_eq!(
            account.contact_policy,
            scope.processing().contact_policy(id).await.unwrap()
        );
        assert_eq!(
            account.sync.state,
            scope.sync().sync_account(id).await.unwrap().state
        );
    }
    assert_eq!(accounts[0].contact_policy, ContactPolicy::Everyone);
    assert!(accounts[0].sync.state.history_id.is_some());
    assert!(accounts[2].ledger.is_empty(), "an account with no ledger");

    let sams = db.for_user(sam).sync().account_settings().await.unwrap();
    assert_eq!(sams.len(), 1);
    assert_eq!(sams[0].ledger, vec![(LedgerOutcome::Imported, 1)]);
}
