//! `server worker` killed with SIGKILL in the middle of a full sync: its job's lease
//! runs out, a new worker process takes the job over, resumes from the checkpoint, and
//! the mailbox ends up complete with nothing stored twice.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use fakes::google::{DemoAccount, FakeGoogle, FakeGoogleConfig, RunningFakeGoogle};
use fakes::mailbox::{Mailbox, MailboxSpec};
use tokio::process::{Child, Command};

use crate::helpers::{ALEX, CLIENT_ID, CLIENT_SECRET, TEST_KEY, TestApp, spawn_app_with};

const MESSAGES: usize = 700;

/// Alex's mailbox behind Gmail's real quota, so a full sync takes ~15 s: time to kill it.
async fn slow_google() -> RunningFakeGoogle {
    FakeGoogle::start(FakeGoogleConfig {
        accounts: vec![DemoAccount::generated(MailboxSpec::demo(MESSAGES))],
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        quota: true,
        ..FakeGoogleConfig::demo()
    })
    .await
    .expect("start the fake Google")
}

fn start_worker(app: &TestApp, google: &RunningFakeGoogle) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("worker")
        .env("DATABASE_URL", &app.database_url)
        .env("GOOGLE_CLIENT_ID", CLIENT_ID)
        .env("GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
        .env("GOOGLE_API_BASE", google.base_url())
        .env("RAPPORT_ENCRYPTION_KEY", TEST_KEY)
        .env("RAPPORT_WORKERS", "1")
        .env("RAPPORT_JOB_LEASE_SECS", "3")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start `server worker`")
}

async fn imported(app: &TestApp, account: uuid::Uuid) -> i64 {
    sqlx::query_scalar(
        "select count(*) from sync_ledger where account_id = $1 and outcome = 'imported'",
    )
    .bind(account)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_worker_killed_mid_sync_is_replaced_and_the_mailbox_ends_complete() {
    let google = slow_google().await;
    let app = spawn_app_with(0, &[("GOOGLE_API_BASE", google.base_url())]).await;
    app.sign_in(ALEX).await;
    let account = app.google_account(ALEX).await;

    let mut first = start_worker(&app, &google);
    let mut at_kill = 0;
    for _ in 0..240 {
        at_kill = imported(&app, account).await;
        if at_kill >= 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        at_kill >= 100,
        "the first worker was syncing ({at_kill} stored)"
    );
    first.kill().await.expect("SIGKILL the worker");
    assert!(
        (imported(&app, account).await as usize) < MESSAGES / 2,
        "killed mid-sync, well before the end"
    );

    let _second = start_worker(&app, &google);
    let mut job = (String::new(), 0_i32);
    for _ in 0..600 {
        job = sqlx::query_as("select state, attempts from jobs where kind = 'gmail.sync'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        if job.0 == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(job.0, "succeeded", "the second worker finished the sync");
    assert_eq!(job.1, 2, "the job was claimed twice: once by each worker");

    let expected: BTreeSet<String> = Mailbox::generate(&MailboxSpec::demo(MESSAGES))
        .messages()
        .filter(|m| !m.label_ids.iter().any(|l| l == "SPAM" || l == "TRASH"))
        .map(|m| m.id)
        .collect();
    let rows: Vec<String> =
        sqlx::query_scalar("select external_id from activities where account_id = $1")
            .bind(account)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let stored: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), stored.len(), "no message stored twice");
    assert_eq!(stored, expected, "exactly Gmail's messages");
    let missing: i64 = sqlx::query_scalar(
        "select (sync_state -> 'reconcile' ->> 'missing')::bigint from accounts where id = $1",
    )
    .bind(account)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(missing, 0, "reconciliation agrees");
    let gets = google
        .control()
        .stats()
        .requests
        .get("users.messages.get")
        .copied()
        .unwrap_or_default();
    assert!(
        (gets as usize) < expected.len() + at_kill as usize,
        "the second worker resumed instead of starting over ({gets} fetches)"
    );
}
