//! Webhook ingestion over real HTTP: channels made through the Settings server functions,
//! payloads from each provider's fixtures, key handling, limits, retries, the
//! blocklist, and one user's channel never touching another's data.

use api::channels::IssuedKey;
use app::pages::channels::{AddBlocklistEntry, RotateChannelKey, SetChannelEnabled};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;

use crate::helpers::{ALEX, SAM, TestApp, spawn_app, spawn_app_with};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../domain/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture exists")
}

async fn post(
    app: &TestApp,
    channel: &IssuedKey,
    key: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}{}", app.address, channel.endpoint))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.expect("POST webhook")
}

/// A generic SMS (`id`, from `from`) to `channel`, with `key`.
async fn post_sms(
    app: &TestApp,
    channel: &IssuedKey,
    key: Option<&str>,
    id: &str,
    from: &str,
) -> reqwest::Response {
    post(app, channel, key, JSON, sms(id, from)).await
}

async fn error_of(response: reqwest::Response) -> String {
    let body: serde_json::Value = response.json().await.expect("JSON error");
    body["error"].as_str().expect("an error message").to_owned()
}

async fn activities(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from activities")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

fn sms(id: &str, from: &str) -> Vec<u8> {
    serde_json::json!({"external_id": id, "from": {"phone": from}, "text": "hi"})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn every_provider_fixture_is_stored_as_a_raw_activity() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let cases = [
        ("generic", JSON, "generic_sms.json", "sms", "+14155552671"),
        (
            "generic",
            JSON,
            "generic_email.json",
            "email",
            "owner@example.com",
        ),
        ("twilio", FORM, "twilio_sms.form", "sms", "+14155552671"),
        (
            "twilio",
            FORM,
            "twilio_whatsapp_mms.form",
            "whatsapp",
            "+447700900123",
        ),
        (
            "twilio",
            FORM,
            "twilio_call_completed.form",
            "call",
            "+14155550100",
        ),
        (
            "postmark",
            JSON,
            "postmark_inbound.json",
            "email",
            "marta@kowalska-design.example",
        ),
        (
            "timelinesai",
            JSON,
            "timelinesai_received.json",
            "whatsapp",
            "+46701234567",
        ),
        (
            "timelinesai",
            JSON,
            "timelinesai_sent.json",
            "whatsapp",
            "+14155550100",
        ),
    ];
    for (provider, content_type, file, kind, sender) in cases {
        let channel = alex.create_channel(provider, "sms").await;
        let response = post(
            &app,
            &channel,
            Some(&channel.key),
            content_type,
            fixture(file),
        )
        .await;
        assert!(
            response.status().is_success(),
            "{file}: {}",
            response.status()
        );
        let row: (String, String, serde_json::Value, String) = sqlx::query_as(
            "select a.state, a.channel, a.raw_payload, p.address
             from activities a join ingestion_channels c on c.account_id = a.account_id
             join activity_participants p on p.activity_id = a.id and p.role = 'from'
             where c.id = $1",
        )
        .bind(channel.channel_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap_or_else(|e| panic!("{file} stored: {e}"));
        assert_eq!(
            (row.0.as_str(), row.1.as_str(), row.3.as_str()),
            ("raw", kind, sender),
            "{file}"
        );
        assert!(row.2.is_object(), "{file}: raw payload kept");
    }
    assert_eq!(activities(&app).await, 8);
}

#[tokio::test]
async fn keys_are_checked_from_headers_only() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let channel = alex.create_channel("generic", "sms").await;

    let missing = post_sms(&app, &channel, None, "m-1", "+14155552671").await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(error_of(missing).await.contains("key"));
    let wrong = post_sms(
        &app,
        &channel,
        Some("rk_not-the-key"),
        "m-1",
        "+14155552671",
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let in_url = reqwest::Client::new()
        .post(format!(
            "{}{}?key={}",
            app.address, channel.endpoint, channel.key
        ))
        .header("content-type", JSON)
        .body(sms("m-1", "+14155552671"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        in_url.status(),
        StatusCode::UNAUTHORIZED,
        "never from the URL"
    );
    let unknown = reqwest::Client::new()
        .post(format!("{}/ingest/{}", app.address, uuid::Uuid::new_v4()))
        .bearer_auth(&channel.key)
        .header("content-type", JSON)
        .body(sms("m-1", "+14155552671"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(activities(&app).await, 0);

    let custom_header = reqwest::Client::new()
        .post(format!("{}{}", app.address, channel.endpoint))
        .header("x-ingestion-key", &channel.key)
        .header("content-type", "application/json; charset=utf-8")
        // A browser-like Origin does not matter: the key is the credential.
        .header("origin", "https://elsewhere.example")
        .body(sms("m-1", "+14155552671"))
        .send()
        .await
        .unwrap();
    assert_eq!(custom_header.status(), StatusCode::ACCEPTED);
    let body: serde_json::Value = custom_header.json().await.unwrap();
    assert_eq!(body["status"], "stored");
    assert_eq!(activities(&app).await, 1);
}

#[tokio::test]
async fn disabled_channels_and_rotated_keys() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let channel = alex.create_channel("generic", "sms").await;
    let id = channel.channel_id.to_string();
    // Used a moment ago: the server has the channel at hand, and the changes below must
    // still take effect at once.
    let used = post_sms(&app, &channel, Some(&channel.key), "m-0", "+14155552671").await;
    assert_eq!(used.status(), StatusCode::ACCEPTED);

    let off = alex
        .call_server_fn(
            SetChannelEnabled::PATH,
            &[("channel_id", &id), ("enabled", "false")],
        )
        .await;
    assert_eq!(off.status(), 200);
    let disabled = post_sms(&app, &channel, Some(&channel.key), "m-1", "+14155552671").await;
    assert_eq!(disabled.status(), StatusCode::FORBIDDEN);
    assert!(error_of(disabled).await.contains("disabled"));
    alex.call_server_fn(
        SetChannelEnabled::PATH,
        &[("channel_id", &id), ("enabled", "true")],
    )
    .await;

    let rotated = alex
        .call_server_fn(RotateChannelKey::PATH, &[("channel_id", &id)])
        .await;
    assert_eq!(rotated.status(), 200);
    let rotated: IssuedKey = rotated.json().await.unwrap();
    assert_ne!(rotated.key, channel.key);
    let old = post_sms(&app, &channel, Some(&channel.key), "m-1", "+14155552671").await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = post_sms(&app, &channel, Some(&rotated.key), "m-1", "+14155552671").await;
    assert_eq!(new.status(), StatusCode::ACCEPTED);
    assert_eq!(activities(&app).await, 2);
}

#[tokio::test]
async fn retries_are_idempotent_on_the_provider_id() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let twilio = alex.create_channel("twilio", "sms").await;
    for _ in 0..3 {
        let response = post(
            &app,
            &twilio,
            Some(&twilio.key),
            FORM,
            fixture("twilio_sms.form"),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert!(
            response.text().await.unwrap().contains("<Response>"),
            "TwiML for Twilio"
        );
    }
    let postmark = alex.create_channel("postmark", "email").await;
    let inbound = || {
        let email = fixture("postmark_inbound.json");
        post(&app, &postmark, Some(&postmark.key), JSON, email)
    };
    let first = inbound().await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: serde_json::Value = first.json().await.unwrap();
    let retry = inbound().await;
    assert_eq!(retry.status(), StatusCode::OK);
    let retry: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(
        (retry["status"].as_str(), &retry["activity_id"]),
        (Some("duplicate"), &first["activity_id"])
    );
    assert_eq!(activities(&app).await, 2);
}

#[tokio::test]
async fn oversize_malformed_and_mistyped_payloads_store_nothing() {
    let app = spawn_app_with(0, &[("RAPPORT_MAX_WEBHOOK_BYTES", "4096")]).await;
    let alex = app.sign_in(ALEX).await;
    let channel = alex.create_channel("generic", "sms").await;
    let key = Some(channel.key.as_str());

    let big = serde_json::json!({"external_id": "big", "from": {"phone": "+14155552671"},
                                 "text": "x".repeat(5000)})
    .to_string()
    .into_bytes();
    let oversize = post(&app, &channel, key, JSON, big).await;
    assert_eq!(oversize.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_of(oversize).await.contains("4096"));

    let wrong_type = post(
        &app,
        &channel,
        key,
        "text/plain",
        sms("m-1", "+14155552671"),
    )
    .await;
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(error_of(wrong_type).await.contains("application/json"));

    let not_json = post(&app, &channel, key, JSON, b"{\"external_id\": ".to_vec()).await;
    assert_eq!(not_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_of(not_json).await.contains("body"));

    let bad_field = serde_json::json!({"external_id": "m-2", "from": {"phone": "+14155552671"},
                                       "to": [{"email": "not-an-address"}]});
    let invalid = post(
        &app,
        &channel,
        key,
        JSON,
        bad_field.to_string().into_bytes(),
    )
    .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = error_of(invalid).await;
    assert!(message.contains("to[0].email"), "{message}");

    let twilio = alex.create_channel("twilio", "sms").await;
    let json_to_twilio = post_sms(&app, &twilio, Some(&twilio.key), "m-3", "+14155552671").await;
    assert_eq!(json_to_twilio.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(activities(&app).await, 0);
    let touched: i64 = sqlx::query_scalar(
        "select count(*) from activity_participants union all select count(*) from sync_ledger",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(touched, 0, "nothing half-stored");
}

#[tokio::test]
async fn blocklisted_senders_are_dropped_and_the_count_is_shown() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let channel = alex.create_channel("generic", "sms").await;
    for entry in ["+1 415 555 2671", "*@spam.example"] {
        let added = alex
            .call_server_fn(AddBlocklistEntry::PATH, &[("entry", entry)])
            .await;
        assert_eq!(added.status(), 200, "{entry}");
    }
    let bad = alex
        .call_server_fn(AddBlocklistEntry::PATH, &[("entry", "nobody")])
        .await;
    assert_eq!(bad.status(), 422);

    let dropped = post_sms(&app, &channel, Some(&channel.key), "m-1", "+14155552671").await;
    assert_eq!(dropped.status(), StatusCode::OK);
    let body: serde_json::Value = dropped.json().await.unwrap();
    assert_eq!(body["status"], "dropped");
    let kept = post_sms(&app, &channel, Some(&channel.key), "m-2", "+14155550199").await;
    assert_eq!(kept.status(), StatusCode::ACCEPTED);
    assert_eq!(activities(&app).await, 1);

    let (status, html) = alex.get_html("/settings/channels").await;
    assert_eq!(status, 200);
    let dropped_cell = html
        .split("class=\"channel-dropped\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("dropped count shown");
    assert_eq!(dropped_cell, "1");
    assert!(
        html.contains("+14155552671") && html.contains("*@spam.example"),
        "blocklist listed"
    );
    assert!(!html.contains(&channel.key), "the key is never shown again");
}

#[tokio::test]
async fn one_users_channel_never_reaches_another_user() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let channel = alex.create_channel("generic", "sms").await;
    let id = channel.channel_id.to_string();
    let sams = sam.create_channel("generic", "sms").await;

    let rotate = sam
        .call_server_fn(RotateChannelKey::PATH, &[("channel_id", &id)])
        .await;
    assert_eq!(rotate.status(), 404);
    let disable = sam
        .call_server_fn(
            SetChannelEnabled::PATH,
            &[("channel_id", &id), ("enabled", "false")],
        )
        .await;
    assert_eq!(disable.status(), 404);
    let sams_page = sam
        .page("/settings/channels", 200, &sams.channel_id.to_string())
        .await;
    assert!(!sams_page.contains(&id), "Sam does not see Alex's channel");
    alex.page("/settings/channels", 200, &id).await;

    // Sam's key on Alex's channel is refused; Alex's key writes only for Alex.
    let crossed = post_sms(&app, &channel, Some(&sams.key), "m-1", "+14155552671").await;
    assert_eq!(crossed.status(), StatusCode::UNAUTHORIZED);
    let stored = post_sms(&app, &channel, Some(&channel.key), "m-1", "+14155552671").await;
    assert_eq!(stored.status(), StatusCode::ACCEPTED);
    let owners: Vec<uuid::Uuid> = sqlx::query_scalar("select user_id from activities")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(owners, vec![app.user_id(ALEX).await.0]);
}

#[tokio::test]
async fn a_noisy_channel_is_limited_without_starving_others_or_losing_accepted_payloads() {
    let app = spawn_app_with(0, &[("RAPPORT_WEBHOOKS_PER_MINUTE", "3")]).await;
    let alex = app.sign_in(ALEX).await;
    let noisy = alex.create_channel("generic", "sms").await;
    let quiet = alex.create_channel("generic", "sms").await;

    for i in 0..3 {
        let response = post_sms(
            &app,
            &noisy,
            Some(&noisy.key),
            &format!("n{i}"),
            "+14155552671",
        )
        .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let refused = post_sms(&app, &noisy, Some(&noisy.key), "n3", "+14155552671").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let seconds: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds), "Retry-After {seconds}");
    assert!(error_of(refused).await.contains("Too many"));

    // Another channel is not held up by the noisy one.
    let other = post_sms(&app, &quiet, Some(&quiet.key), "q0", "+14155552672").await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);

    // What was accepted is stored; the refused payload was not taken (the sender retries).
    assert_eq!(activities(&app).await, 4);
    // A wrong key does not spend the channel's budget, nor is it told about the limit.
    let wrong = post_sms(&app, &quiet, Some("wrong"), "q1", "+14155552672").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}
