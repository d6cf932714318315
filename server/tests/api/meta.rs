//! `server worker` killed with SIGKILL while the AI sales agent sends its reply: after
//! the model answered and before the Send API delivered, or after it delivered but
//! before the answer was stored. The job's lease runs out, a new worker process takes
//! the turn over, and exactly one message reaches the fake Graph API.

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use domain::crypto::SecretBox;
use domain::meta::{HttpGraph, MetaConnect, MetaPollJob};
use domain::{Db, UserId};
use fakes::meta::{FakeMeta, Page, Platform};
use fakes::openai::{FakeOpenAi, Reply};
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::fixtures::user;
use crate::helpers::{
    BACKGROUND, CLIENT_ID, CLIENT_SECRET, TEST_KEY, TestApp, spawn_app_with, wait_until,
};

const PAGE: &str = "1001";
const TOKEN: &str = "EAAB-page-token";
const REPLY: &str = "It ships today!";

fn start_worker(app: &TestApp, openai: &FakeOpenAi) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("worker")
        .env("DATABASE_URL", &app.database_url)
        .env("GOOGLE_CLIENT_ID", CLIENT_ID)
        .env("GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
        .env("GOOGLE_API_BASE", app.google.base_url())
        .env("RAPPORT_ENCRYPTION_KEY", TEST_KEY)
        .env("OPENAI_BASE_URL", openai.base_url())
        .env("RAPPORT_WORKERS", "1")
        .env("RAPPORT_JOB_LEASE_SECS", "3")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start `server worker`")
}

struct Shop {
    app: TestApp,
    meta: FakeMeta,
    openai: FakeOpenAi,
    owner: UserId,
    integration: Uuid,
}

/// A connected Page whose first poll (by a worker) imported one old conversation, now
/// with the agent on; the worker is returned still running.
async fn shop() -> (Shop, Child) {
    let app = spawn_app_with(0, &[]).await;
    let page = Page::new(PAGE, "Shop", TOKEN);
    let meta = FakeMeta::start(vec![page], 0).await.unwrap();
    let openai = FakeOpenAi::start(vec![Reply::text(&[REPLY])])
        .await
        .unwrap();
    let owner = user(&app.db, "shop@example.com").await;
    let form = MetaConnect::parse(PAGE, TOKEN, "", &meta.graph_url()).unwrap();
    let secrets = SecretBox::from_base64(TEST_KEY).unwrap();
    let integration = app
        .db
        .for_user(owner)
        .meta()
        .connect(&HttpGraph::default(), &form, &secrets)
        .await
        .unwrap();
    meta.customer_writes(
        PAGE,
        Platform::Messenger,
        ("psid-1", "Ana"),
        "hi, do you ship to Lisbon?",
        Utc::now() - chrono::Duration::hours(1),
    )
    .unwrap();
    let worker = start_worker(&app, &openai);
    let conversation = wait_until("the history import", BACKGROUND, async || {
        conversation(&app.db).await.ok_or("no conversation yet")
    })
    .await;
    app.db
        .for_user(owner)
        .meta()
        .set_ai_enabled(conversation, true, true)
        .await
        .unwrap();
    let shop = Shop {
        app,
        meta,
        openai,
        owner,
        integration,
    };
    (shop, worker)
}

async fn conversation(db: &Db) -> Option<Uuid> {
    sqlx::query_scalar("select id from meta_conversations")
        .fetch_optional(db.pool())
        .await
        .unwrap()
}

impl Shop {
    /// The customer writes; a poll is queued at once rather than in 10 s.
    async fn customer_writes(&self, text: &str) {
        self.meta
            .customer_writes(
                PAGE,
                Platform::Messenger,
                ("psid-1", "Ana"),
                text,
                Utc::now(),
            )
            .unwrap();
        self.app
            .db
            .for_user(self.owner)
            .jobs()
            .enqueue(&MetaPollJob {
                integration_id: self.integration,
            })
            .await
            .unwrap();
    }

    async fn wait_for_replied_turn(&self) {
        wait_until("the agent's turn to be replied", BACKGROUND, async || {
            let outcome: Option<String> =
                sqlx::query_scalar("select outcome from agent_turns limit 1")
                    .fetch_optional(self.app.db.pool())
                    .await
                    .unwrap();
            (outcome.as_deref() == Some("replied"))
                .then_some(())
                .ok_or(outcome)
        })
        .await;
    }

    async fn agent_messages(&self) -> i64 {
        sqlx::query_scalar("select count(*) from meta_messages where sender = 'agent'")
            .fetch_one(self.app.db.pool())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_worker_killed_after_the_model_answered_and_before_the_send_sends_once() {
    let (shop, mut worker) = shop().await;
    shop.meta
        .delay_sends(Duration::from_secs(120), Duration::ZERO);
    shop.customer_writes("when does it ship?").await;
    wait_until("the send to start", BACKGROUND, async || {
        let requests = shop.meta.requests();
        requests
            .iter()
            .any(|r| r.ends_with("(received)"))
            .then_some(())
            .ok_or(requests.len())
    })
    .await;
    worker.kill().await.expect("SIGKILL the worker");
    assert!(shop.meta.sent().is_empty(), "killed before Graph delivered");
    shop.meta.delay_sends(Duration::ZERO, Duration::ZERO);

    let mut replacement = start_worker(&shop.app, &shop.openai);
    shop.wait_for_replied_turn().await;
    let sent = shop.meta.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].text, REPLY);
    assert_eq!(
        shop.openai.requests().len(),
        1,
        "the recorded reply was reused"
    );
    assert_eq!(shop.agent_messages().await, 1);
    replacement.kill().await.unwrap();
}

#[tokio::test]
async fn a_worker_killed_after_graph_delivered_but_before_it_heard_sends_once() {
    let (shop, mut worker) = shop().await;
    shop.meta
        .delay_sends(Duration::ZERO, Duration::from_secs(120));
    shop.customer_writes("when does it ship?").await;
    wait_until("Graph to deliver", BACKGROUND, async || {
        let sent = shop.meta.sent().len();
        (sent == 1).then_some(()).ok_or(sent)
    })
    .await;
    worker.kill().await.expect("SIGKILL the worker");
    shop.meta.delay_sends(Duration::ZERO, Duration::ZERO);

    let mut replacement = start_worker(&shop.app, &shop.openai);
    shop.wait_for_replied_turn().await;
    assert_eq!(shop.meta.sent().len(), 1);
    assert_eq!(shop.agent_messages().await, 1);
    let employee: i64 =
        sqlx::query_scalar("select count(*) from meta_messages where sender = 'employee'")
            .fetch_one(shop.app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        employee, 0,
        "Rapport's own reply is not taken for a person's"
    );
    replacement.kill().await.unwrap();
}
