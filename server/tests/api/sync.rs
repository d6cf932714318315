use app::pages::settings::RequestSync;
use leptos::server_fn::ServerFn;

use crate::helpers::{ALEX, SAM, TestApp, spawn_app_with_workers};

/// Waits until `n` sync jobs have succeeded; returns the account's stored activities.
async fn synced(app: &TestApp, account: uuid::Uuid, n: i64) -> i64 {
    app.wait_for_gmail_syncs(n).await;
    sqlx::query_scalar("select count(*) from activities where account_id = $1")
        .bind(account)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Signing in queues the first sync; the server's own workers run it against the fake
/// Gmail, and the mail shows up on the timeline.
#[tokio::test]
async fn after_sign_in_the_mailbox_is_synced_by_the_servers_workers() {
    let app = spawn_app_with_workers(2).await;
    let alex = app.sign_in(ALEX).await;
    let account = app.google_account(ALEX).await;

    // The job's success first, then the account: read the other way round, the account
    // could still say "syncing" from just before the job finished.
    let stored = synced(&app, account, 1).await;
    let status = app.account_status(account).await;
    assert_eq!(status, "active");
    assert!(
        stored > 50,
        "the 120-message mailbox was stored (got {stored})"
    );
    let missing: i64 = sqlx::query_scalar(
        "select count(*) from sync_ledger where account_id = $1 and outcome in ('failed', 'retrying')",
    )
    .bind(account)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(missing, 0, "nothing failed");

    let (_, timeline) = alex.get_html("/timeline").await;
    assert!(
        timeline.contains("channel-email"),
        "synced mail is on the timeline"
    );
    assert!(!timeline.contains("Nothing captured yet"));
}

#[tokio::test]
async fn settings_show_the_sync_and_full_resync_adds_no_duplicates() {
    let app = spawn_app_with_workers(2).await;
    let alex = app.sign_in(ALEX).await;
    let account = app.google_account(ALEX).await;
    let stored = synced(&app, account, 1).await;
    assert!(stored > 50);

    let (_, settings) = alex.get_html("/settings").await;
    assert!(settings.contains("Up to date"), "the sync reached idle");
    assert!(
        settings.contains("Gmail messages accounted for"),
        "the reconciliation is shown"
    );
    assert!(settings.contains("imported"));

    let full = alex
        .call_server_fn(
            RequestSync::PATH,
            &[("account_id", &account.to_string()), ("full", "true")],
        )
        .await;
    assert_eq!(full.status(), 200);
    assert!(full.text().await.unwrap().contains("Sync queued"));
    let again = synced(&app, account, 2).await;
    assert_eq!(again, stored, "a full resync stores nothing twice");

    // Another user cannot trigger syncs of Alex's account.
    let sam = app.sign_in(SAM).await;
    let refused = sam
        .call_server_fn(RequestSync::PATH, &[("account_id", &account.to_string())])
        .await;
    assert_eq!(refused.status(), 404);
}
