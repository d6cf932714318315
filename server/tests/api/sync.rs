use std::time::Duration;

use crate::helpers::{ALEX, spawn_app_with_workers};

/// Signing in queues the first sync; the server's own workers run it against the fake
/// Gmail, and the mail shows up on the timeline.
#[tokio::test]
async fn after_sign_in_the_mailbox_is_synced_by_the_servers_workers() {
    let app = spawn_app_with_workers(2).await;
    let alex = app.sign_in(ALEX).await;
    let account = app.google_account(ALEX).await;

    let mut state = (String::new(), 0_i64);
    for _ in 0..240 {
        state = sqlx::query_as(
            "select a.status, (select count(*) from activities x where x.account_id = a.id)
             from accounts a where a.id = $1",
        )
        .bind(account)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        let done: bool = sqlx::query_scalar(
            "select exists(select 1 from jobs where kind = 'gmail.sync' and state = 'succeeded')",
        )
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (status, stored) = state;
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
