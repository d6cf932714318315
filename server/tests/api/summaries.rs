//! AI summaries end to end: a server configured with an OpenAI-compatible model (the
//! fake, on loopback) summarises a webhook's activity after processing it.

use std::time::{Duration, Instant};

use api::channels::IssuedKey;
use app::pages::channels::CreateChannel;
use fakes::openai::{FakeOpenAi, Reply};
use leptos::server_fn::ServerFn;
use uuid::Uuid;

use crate::helpers::{ALEX, spawn_app_with};

#[tokio::test]
async fn a_webhook_activity_is_summarised_when_a_model_is_configured() {
    // Enough replies for the signed-in user's Gmail import as well: every message the
    // workers process may be summarised.
    let fake = FakeOpenAi::start(vec![
        Reply::text(&["Dana is running ten minutes late."]);
        400
    ])
    .await
    .unwrap();
    let base_url = fake.base_url();
    let app = spawn_app_with(
        1,
        &[
            ("OPENAI_BASE_URL", base_url.as_str()),
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_MODEL", "fake-summary-model"),
        ],
    )
    .await;
    let alex = app.sign_in(ALEX).await;
    let response = alex
        .call_server_fn(
            CreateChannel::PATH,
            &[
                ("name", "CRM"),
                ("provider", "generic"),
                ("default_channel", "sms"),
                ("default_direction", "inbound"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    let channel: IssuedKey = response.json().await.unwrap();
    let text = "Running ten minutes late, see you at the cafe. WEBHOOK-7731";
    let payload = serde_json::json!({
        "external_id": "crm-sms-7731",
        "occurred_at": chrono::Utc::now().to_rfc3339(),
        "from": {"phone": "+1 415 555 2671", "name": "Dana Whitfield"},
        "text": text,
    });
    let stored = reqwest::Client::new()
        .post(format!("{}{}", app.address, channel.endpoint))
        .bearer_auth(&channel.key)
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert!(stored.status().is_success(), "{}", stored.status());
    let activity: Uuid =
        sqlx::query_scalar("select id from activities where external_id like '%crm-sms-7731'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();

    let started = Instant::now();
    let summary = loop {
        let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "select state, summary, model from activity_summaries where activity_id = $1",
        )
        .bind(activity)
        .fetch_optional(app.db.pool())
        .await
        .unwrap();
        if let Some((state, summary, model)) = &row
            && state == "done"
        {
            assert_eq!(model.as_deref(), Some("fake-summary-model"));
            break summary.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no summary yet: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        summary.as_deref(),
        Some("Dana is running ten minutes late.")
    );
    let state: String = sqlx::query_scalar("select state from activities where id = $1")
        .bind(activity)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(state, "completed");
    let asked = fake.requests().iter().any(|request| {
        request["model"] == "fake-summary-model"
            && request["messages"][1]["role"] == "user"
            && request["messages"][1]["content"]
                .as_str()
                .is_some_and(|c| c.contains(text))
    });
    assert!(asked, "the model was sent the webhook's text");
}
