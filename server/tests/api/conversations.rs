//! The conversation pages and their server functions over HTTP: the owner sees the
//! list and the thread, another user gets a 404 for the page and every call; a reply
//! from the reply box goes out through the (fake) Send API as a person's and pauses the
//! agent; the toggle wants a model; changes are live `conversation.changed` events.

use app::pages::conversations::{
    ListConversations, LoadConversation, ReplyToConversation, SetConversationAi,
    SetConversationStatus,
};
use chrono::Utc;
use domain::crypto::SecretBox;
use domain::meta::{HttpGraph, MetaConnect, MetaOptions, MetaService};
use fakes::meta::{FakeMeta, Page, Platform};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{ALEX, Browser, SAM, TEST_KEY, TestApp, spawn_app, spawn_app_with};

const PAGE: &str = "1001";
const TOKEN: &str = "EAAB-page-token";

/// Alex's Page with one imported conversation (Ana, on Messenger); Sam is signed in
/// too and owns nothing.
async fn shop(app: &TestApp) -> (FakeMeta, Browser, Browser, Uuid) {
    let page = Page::new(PAGE, "Shop", TOKEN);
    let meta = FakeMeta::start(vec![page], 0).await.unwrap();
    let (alex, sam) = (app.sign_in(ALEX).await, app.sign_in(SAM).await);
    let owner = app.user_id(ALEX).await;
    let secrets = SecretBox::from_base64(TEST_KEY).unwrap();
    let form = MetaConnect::parse(PAGE, TOKEN, "", &meta.graph_url()).unwrap();
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
        "¿Hacen envíos a Lisboa?",
        Utc::now() - chrono::Duration::hours(1),
    )
    .unwrap();
    let service = MetaService::new(
        app.db.clone(),
        HttpGraph::default(),
        secrets,
        None,
        MetaOptions::default(),
    );
    service.poll(owner, integration).await.unwrap();
    let conversation = sqlx::query_scalar("select id from meta_conversations")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    (meta, alex, sam, conversation)
}

async fn events(app: &TestApp, email: &str) -> i64 {
    let user = app.user_id(email).await;
    sqlx::query_scalar(
        "select count(*) from events where user_id = $1 and kind = 'conversation.changed' and live",
    )
    .bind(user.0)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn only_the_owner_sees_a_conversation_and_a_reply_goes_out_as_a_person() {
    let app = spawn_app_with(0, &[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]).await;
    let (meta, alex, sam, conversation) = shop(&app).await;
    let id = conversation.to_string();
    let path = format!("/conversations/{id}");

    alex.page("/conversations", 200, "Ana").await;
    let html = alex.page(&path, 200, "¿Hacen envíos a Lisboa?").await;
    assert!(html.contains(r#"dir="auto""#), "message text has dir=auto");
    let listed = alex
        .call_server_fn(
            ListConversations::PATH,
            &[("platform", "messenger"), ("status", "new"), ("cursor", "")],
        )
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    assert!(listed.text().await.unwrap().contains("Ana"));

    // Sam: a 404 page, and every call is a 404 that changes nothing.
    let (status, html) = sam.get_html(&path).await;
    assert_eq!(status, 404, "{html}");
    assert!(!html.contains("Lisboa"));
    sam.page("/conversations", 200, "No conversations yet")
        .await;
    for (fn_path, form) in [
        (LoadConversation::PATH, vec![("id", id.as_str())]),
        (
            ReplyToConversation::PATH,
            vec![("id", id.as_str()), ("text", "not mine")],
        ),
        (
            SetConversationAi::PATH,
            vec![("id", id.as_str()), ("on", "true")],
        ),
        (
            SetConversationStatus::PATH,
            vec![("id", id.as_str()), ("status", "closed")],
        ),
    ] {
        let response = sam.call_server_fn(fn_path, &form).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{fn_path}");
    }
    assert!(meta.sent().is_empty(), "Sam's reply never reached Graph");
    assert_eq!(events(&app, SAM).await, 0);

    // Alex replies from the reply box: sent as a person's message.
    let before = events(&app, ALEX).await;
    let reply = alex
        .call_server_fn(
            ReplyToConversation::PATH,
            &[("id", id.as_str()), ("text", "Sí, enviamos a Lisboa.")],
        )
        .await;
    assert_eq!(reply.status(), StatusCode::OK);
    let sent = meta.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].recipient_id.as_str(), sent[0].text.as_str()),
        ("psid-1", "Sí, enviamos a Lisboa.")
    );
    let (sender, paused, answered): (String, bool, bool) = sqlx::query_as(
        r#"select m.sender, c.paused_until > now(),
                  (select bool_and(reply_sent) from meta_messages where sender = 'customer')
           from meta_messages m join meta_conversations c on c.id = m.conversation_id
           where m.text = 'Sí, enviamos a Lisboa.'"#,
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(sender, "employee");
    assert!(paused, "a person's reply pauses the agent");
    assert!(answered, "the customer's message is answered");
    assert!(
        events(&app, ALEX).await > before,
        "the reply is a live conversation.changed event"
    );
    alex.page(&path, 200, "Sí, enviamos a Lisboa.").await;

    // The toggle (a model is configured) and the status.
    for (fn_path, form) in [
        (
            SetConversationAi::PATH,
            [("id", id.as_str()), ("on", "true")],
        ),
        (
            SetConversationStatus::PATH,
            [("id", id.as_str()), ("status", "pending")],
        ),
    ] {
        let response = alex.call_server_fn(fn_path, &form).await;
        assert_eq!(response.status(), StatusCode::OK, "{fn_path}");
    }
    let (ai, status): (bool, String) =
        sqlx::query_as("select ai_enabled, status from meta_conversations")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(ai);
    assert_eq!(status, "pending");
}

#[tokio::test]
async fn without_a_model_the_toggle_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let (_meta, alex, _sam, conversation) = shop(&app).await;
    let id = conversation.to_string();
    let html = alex
        .page(
            &format!("/conversations/{id}"),
            200,
            "No model is configured",
        )
        .await;
    assert!(html.contains("disabled"), "the toggle is disabled");
    let response = alex
        .call_server_fn(
            SetConversationAi::PATH,
            &[("id", id.as_str()), ("on", "true")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("no model is configured")
    );
    let ai: bool = sqlx::query_scalar("select ai_enabled from meta_conversations")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(!ai);
}
