//! Calls and chats over real HTTP: Twilio credentials saved through the channel's
//! settings, a call and its recording callback posted to the channel, the recording
//! downloaded from a fake Twilio by a worker and served back with range requests (to its
//! owner only), and a chat message opening its conversation.

use std::collections::HashMap;
use std::time::Duration;

use api::calls::{CallView, ChatThread, RecordingSettingsView};
use api::channels::IssuedKey;
use app::components::call_recording::CallDetails as CallDetailsFn;
use app::components::recording_settings::SaveRecordingCredentials;
use app::pages::chat::LoadChat;
use fakes::calls::{FakeTwilioMedia, MediaAccount};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::fixtures::wait_until;
use crate::helpers::{ALEX, Browser, SAM, TestApp, spawn_app, spawn_app_with};

const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
const AUTH_TOKEN: &str = "twilio-auth-token-1";
const CALL: &str = "CA0000000000000000000000000000000a";
const RECORDING: &str = "RE0000000000000000000000000000000a";

async fn post(app: &TestApp, channel: &IssuedKey, content_type: &str, body: String) {
    let response = reqwest::Client::new()
        .post(format!("{}{}", app.address, channel.endpoint))
        .header("content-type", content_type)
        .bearer_auth(&channel.key)
        .body(body)
        .send()
        .await
        .expect("POST webhook");
    assert!(
        response.status().is_success(),
        "{}: {}",
        response.status(),
        response.text().await.unwrap()
    );
}

async fn server_fn<T: serde::de::DeserializeOwned>(
    browser: &Browser,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Option<T>) {
    let response = browser.call_server_fn(path, form).await;
    let status = response.status();
    (status, response.json().await.ok())
}

#[tokio::test]
async fn a_recording_is_downloaded_and_served_with_ranges_to_its_owner_only() {
    let audio: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let media = FakeTwilioMedia::start(vec![MediaAccount {
        account_sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
        recordings: HashMap::from([(RECORDING.to_owned(), audio.clone())]),
    }])
    .await
    .unwrap();
    let app = spawn_app_with(1, &[("RAPPORT_TWILIO_API_BASE", media.base_url())]).await;
    let alex = app.sign_in(ALEX).await;
    let channel = alex.create_channel("twilio", "call").await;
    let (status, settings) = server_fn::<RecordingSettingsView>(
        &alex,
        SaveRecordingCredentials::PATH,
        &[
            ("channel_id", &channel.channel_id.to_string()),
            ("account_sid", ACCOUNT_SID),
            ("auth_token", AUTH_TOKEN),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(settings.unwrap().has_auth_token);
    let (status, _) = server_fn::<serde_json::Value>(
        &alex,
        SaveRecordingCredentials::PATH,
        &[
            ("channel_id", &channel.channel_id.to_string()),
            ("account_sid", "not-a-sid"),
            ("auth_token", AUTH_TOKEN),
        ],
    )
    .await;
    assert_eq!(status, 422, "a bad SID is refused with its field");

    let form = "application/x-www-form-urlencoded";
    post(&app, &channel, form, format!(
        "AccountSid={ACCOUNT_SID}&CallSid={CALL}&RecordingSid={RECORDING}&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F{ACCOUNT_SID}%2FRecordings%2F{RECORDING}&RecordingStatus=completed&RecordingDuration=12"
    )).await;
    post(&app, &channel, form, format!(
        "CallSid={CALL}&From=%2B14155552671&To=%2B14155550100&CallStatus=completed&CallDuration=13&Direction=outbound-dial"
    )).await;
    let (recording, activity): (Uuid, Uuid) = wait_until(
        "the recording to be downloaded",
        Duration::from_secs(20),
        async || {
            sqlx::query_as::<_, (Uuid, Uuid)>(
                "select id, activity_id from call_recordings where download_state = 'stored'",
            )
            .fetch_optional(app.db.pool())
            .await
            .unwrap()
            .ok_or("not yet")
        },
    )
    .await;

    let (status, call) = server_fn::<CallView>(
        &alex,
        CallDetailsFn::PATH,
        &[("activity", &activity.to_string())],
    )
    .await;
    assert_eq!(status, 200);
    let call = call.unwrap();
    assert_eq!(call.direction, Some(api::Direction::Outbound));
    assert_eq!(call.duration_secs, Some(13));
    let url = call.recordings[0].audio_url.clone().unwrap();
    assert_eq!(url, format!("/recordings/{recording}"));

    let whole = alex.get(&url).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/mpeg");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["cache-control"], "private, no-store");
    assert_eq!(whole.bytes().await.unwrap().to_vec(), audio);

    let part = alex
        .client
        .get(format!("{}{url}", app.address))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 100-199/1000");
    assert_eq!(part.headers()["content-type"], "audio/mpeg");
    assert_eq!(
        part.bytes().await.unwrap().to_vec(),
        audio[100..200].to_vec()
    );
    let tail = alex
        .client
        .get(format!("{}{url}", app.address))
        .header("range", "bytes=990-")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap().to_vec(), audio[990..].to_vec());
    let outside = alex
        .client
        .get(format!("{}{url}", app.address))
        .header("range", "bytes=5000-6000")
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 416);

    // Sam gets a 404 for Alex's recording, as for an unknown one.
    let sam = app.sign_in(SAM).await;
    assert_eq!(sam.get(&url).await.status(), 404);
    assert_eq!(
        sam.get(&format!("/recordings/{}", Uuid::new_v4()))
            .await
            .status(),
        404
    );
    assert_eq!(sam.get("/recordings/not-a-uuid").await.status(), 404);
    let (status, _) = server_fn::<serde_json::Value>(
        &sam,
        CallDetailsFn::PATH,
        &[("activity", &activity.to_string())],
    )
    .await;
    assert_eq!(status, 404);
    assert!(!app.anonymous.get(&url).await.status().is_success());
}

fn message(
    id: &str,
    direction: &str,
    from: (&str, &str),
    to: &str,
    text: &str,
    minute: u32,
) -> String {
    serde_json::json!({
        "external_id": id, "channel": "whatsapp", "direction": direction,
        "occurred_at": format!("2026-11-20T09:{minute:02}:00Z"),
        "from": {"phone": from.0, "name": from.1}, "to": [{"phone": to}],
        "thread_id": "group-7", "text": text,
        "attachments": if minute == 3 {
            serde_json::json!([{"url": "https://files.example/plan.pdf", "filename": "plan.pdf", "content_type": "application/pdf"}])
        } else {
            serde_json::json!([])
        },
    })
    .to_string()
}

#[tokio::test]
async fn a_chat_message_opens_its_conversation() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let whatsapp = alex.create_channel("generic", "whatsapp").await;
    let json = "application/json";
    let me = "+14155550100";
    for body in [
        message(
            "w1",
            "inbound",
            ("+14155552671", "Dana Ito"),
            me,
            "Lunch on Friday?",
            1,
        ),
        message(
            "w2",
            "outbound",
            (me, "Alex"),
            "+14155552671",
            "Yes, 12:30 works",
            2,
        ),
        message(
            "w3",
            "inbound",
            ("+14155552672", "Lee Park"),
            me,
            "Count me in, here's the plan",
            3,
        ),
    ] {
        post(&app, &whatsapp, json, body).await;
    }
    let other_thread = serde_json::json!({
        "external_id": "w4", "channel": "whatsapp", "from": {"phone": "+14155552671"},
        "thread_id": "dana-1to1", "text": "Different chat",
    });
    post(&app, &whatsapp, json, other_thread.to_string()).await;
    let opened: Uuid = sqlx::query_scalar("select id from activities where external_id = 'w2'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let (status, chat) =
        server_fn::<ChatThread>(&alex, LoadChat::PATH, &[("activity", &opened.to_string())]).await;
    assert_eq!(status, 200);
    let chat = chat.unwrap();
    assert!(chat.group, "two people wrote in it");
    assert_eq!(chat.opened, opened);
    let lines: Vec<(&str, &str)> = chat
        .messages
        .iter()
        .map(|m| (m.sender.as_str(), m.text.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("Dana Ito", "Lunch on Friday?"),
            ("You", "Yes, 12:30 works"),
            ("Lee Park", "Count me in, here's the plan"),
        ]
    );
    assert_eq!(
        chat.messages[2].attachments[0].name.as_deref(),
        Some("plan.pdf")
    );
    let html = alex
        .page(
            &format!("/chats/{opened}"),
            200,
            "Count me in, here's the plan",
        )
        .await;
    assert!(html.contains("Lee Park"), "{html}");

    // SMS from Twilio has no thread: the two numbers make it.
    let sms = alex.create_channel("twilio", "sms").await;
    let form = "application/x-www-form-urlencoded";
    for (sid, from, to, direction, body) in [
        (
            "SM1",
            "%2B14155552671",
            "%2B14155550100",
            "inbound",
            "Are you around?",
        ),
        (
            "SM2",
            "%2B14155550100",
            "%2B14155552671",
            "outbound-api",
            "Yes, call me",
        ),
        (
            "SM3",
            "%2B14155559999",
            "%2B14155550100",
            "inbound",
            "Someone else",
        ),
    ] {
        post(
            &app,
            &sms,
            form,
            format!("MessageSid={sid}&From={from}&To={to}&Direction={direction}&Body={body}"),
        )
        .await;
    }
    let first: Uuid = sqlx::query_scalar("select id from activities where external_id = 'SM1'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let (_, chat) =
        server_fn::<ChatThread>(&alex, LoadChat::PATH, &[("activity", &first.to_string())]).await;
    let chat = chat.unwrap();
    assert!(!chat.group);
    let texts: Vec<_> = chat
        .messages
        .iter()
        .filter_map(|m| m.text.clone())
        .collect();
    assert_eq!(texts, vec!["Are you around?", "Yes, call me"]);

    // Another user's chat is not found.
    let sam = app.sign_in(SAM).await;
    let (status, _) =
        server_fn::<serde_json::Value>(&sam, LoadChat::PATH, &[("activity", &opened.to_string())])
            .await;
    assert_eq!(status, 404);
}
