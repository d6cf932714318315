//! Connecting Fastmail (JMAP) through the Settings server functions, against a real
//! Cyrus: a wrong credential is refused with nothing stored; a right one is stored,
//! listed, and synced by the workers; another user can neither poll nor see it.

use std::time::Duration;

use app::components::connect_fastmail::{ConnectFastmail, PollFastmail};
use leptos::server_fn::ServerFn;
use test_servers::cyrus::Cyrus;
use uuid::Uuid;

use crate::helpers::{ALEX, SAM, spawn_app, spawn_app_with_workers, wait_until};

fn message(n: u32) -> Vec<u8> {
    format!(
        "From: Bob Stone <bob@example.com>\r\nTo: Ann <ann@mail.example>\r\nSubject: Hello {n}\r\n\
         Message-ID: <hello-{n}@example.com>\r\nDate: Mon, 1 Dec 2025 10:00:00 +0000\r\n\r\nHi Ann.\r\n"
    )
    .into_bytes()
}

async fn fastmail_accounts(db: &domain::Db) -> Vec<(Uuid, String)> {
    sqlx::query_as("select id, status from accounts where provider = 'fastmail'")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_refused_inline_and_nothing_is_stored() {
    let (app, cyrus) = tokio::join!(spawn_app(), Cyrus::start());
    let cyrus = cyrus.unwrap();
    cyrus.add_user("ann", "right").await.unwrap();
    let browser = app.sign_in(ALEX).await;
    let session_url = cyrus.session_url();
    let refused = browser
        .call_server_fn(
            ConnectFastmail::PATH,
            &[
                ("session_url", session_url.as_str()),
                ("user", "ann"),
                ("password", "wrong"),
            ],
        )
        .await;
    let status = refused.status().as_u16();
    let body = refused.text().await.unwrap();
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("refused"), "{body}");
    let neither = browser
        .call_server_fn(
            ConnectFastmail::PATH,
            &[("session_url", session_url.as_str())],
        )
        .await;
    assert_eq!(neither.status().as_u16(), 422);
    assert!(fastmail_accounts(&app.db).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_account_syncs_and_is_listed_and_only_its_owner_can_poll_it() {
    let (app, cyrus) = tokio::join!(spawn_app_with_workers(1), Cyrus::start());
    let cyrus = cyrus.unwrap();
    let mail = cyrus.add_user("ann", "secret").await.unwrap();
    cyrus
        .append(&mail, "INBOX", &[message(1), message(2), message(3)], &[])
        .await
        .unwrap();
    let ann = app.sign_in(ALEX).await;
    let session_url = cyrus.session_url();
    let connected = ann
        .call_server_fn(
            ConnectFastmail::PATH,
            &[
                ("session_url", session_url.as_str()),
                ("user", "ann"),
                ("password", "secret"),
            ],
        )
        .await;
    assert_eq!(
        connected.status().as_u16(),
        200,
        "{}",
        connected.text().await.unwrap()
    );
    let (account, _) = fastmail_accounts(&app.db).await.remove(0);

    let stored = wait_until(
        "the first Fastmail sync",
        Duration::from_secs(30),
        async || {
            let n: i64 =
                sqlx::query_scalar("select count(*) from activities where account_id = $1")
                    .bind(account)
                    .fetch_one(app.db.pool())
                    .await
                    .unwrap();
            if n == 3 { Ok(n) } else { Err(n) }
        },
    )
    .await;
    assert_eq!(stored, 3);
    let listed = ann
        .page("/settings", 200, &format!("data-account-id=\"{account}\""))
        .await;
    assert!(listed.contains("Fastmail"));

    let id = account.to_string();
    let poll = ann
        .call_server_fn(PollFastmail::PATH, &[("account_id", id.as_str())])
        .await;
    assert_eq!(poll.status().as_u16(), 200);

    // Another user: the account does not exist for them.
    let mallory = app.sign_in(SAM).await;
    let refused = mallory
        .call_server_fn(PollFastmail::PATH, &[("account_id", id.as_str())])
        .await;
    assert_eq!(refused.status().as_u16(), 404);
    let settings = mallory.page("/settings", 200, "Connect Fastmail").await;
    assert!(!settings.contains(&id));
}
