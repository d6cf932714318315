//! The fake Graph API over HTTP: paging to the end, the 20-message detail limit, the
//! Send API and its 24-hour window, Graph's error shape and the usage headers.

use chrono::{Duration, Utc};
use fakes::meta::{DETAILED_MESSAGES, FakeMeta, FaultTarget, GraphError, Page, Platform};
use serde_json::Value;

fn page() -> Page {
    Page::new("1001", "Shop", "EAAB-page-token").with_instagram("17841400000000001", "shop.ig")
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

#[tokio::test]
async fn paging_reaches_every_message_and_only_the_newest_have_details() {
    let meta = FakeMeta::start(vec![page()], 0).await.unwrap();
    let start = Utc::now() - Duration::hours(2);
    for n in 0..45 {
        meta.customer_writes(
            "1001",
            Platform::Messenger,
            ("psid-1", "Ana"),
            &format!("hello {n}"),
            start + Duration::seconds(n),
        )
        .unwrap();
    }
    let (status, headers, list) = get(&format!(
        "{}/1001/conversations?platform=messenger&fields=id,updated_time,participants&access_token=EAAB-page-token",
        meta.graph_url()
    ))
    .await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-app-usage"));
    assert!(headers.contains_key("x-business-use-case-usage"));
    let conversation = list["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list["data"][0]["participants"]["data"][0]["id"], "psid-1");

    let mut url = Some(format!(
        "{}/{conversation}/messages?fields=id,created_time,from,message&limit=10&access_token=EAAB-page-token",
        meta.graph_url()
    ));
    let mut seen = Vec::new();
    while let Some(next) = url {
        let (_, _, page) = get(&next).await;
        assert!(page["paging"]["cursors"]["after"].is_string());
        seen.extend(page["data"].as_array().unwrap().clone());
        url = page["paging"]["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 45);
    assert_eq!(seen[0]["message"], "hello 44", "newest first");
    let detailed = seen.iter().filter(|m| m.get("message").is_some()).count();
    assert_eq!(detailed, DETAILED_MESSAGES);
    assert!(seen[44].get("from").is_none() && seen[44]["created_time"].is_string());
}

#[tokio::test]
async fn the_send_api_answers_with_ids_and_refuses_outside_the_window() {
    let meta = FakeMeta::start(vec![page()], 0).await.unwrap();
    meta.customer_writes(
        "1001",
        Platform::Messenger,
        ("recent", "R"),
        "hi",
        Utc::now(),
    )
    .unwrap();
    meta.customer_writes(
        "1001",
        Platform::Messenger,
        ("old", "O"),
        "hi",
        Utc::now() - Duration::hours(30),
    )
    .unwrap();
    let client = reqwest::Client::new();
    let send = |to: &'static str| {
        client
            .post(format!(
                "{}/1001/messages?access_token=EAAB-page-token",
                meta.graph_url()
            ))
            .json(
                &serde_json::json!({"recipient": {"id": to}, "messaging_type": "RESPONSE",
                                      "message": {"text": "Thanks!"}}),
            )
            .send()
    };
    let ok: Value = send("recent").await.unwrap().json().await.unwrap();
    assert_eq!(ok["recipient_id"], "recent");
    assert!(ok["message_id"].as_str().unwrap().starts_with("m_"));
    let refused = send("old").await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], 10);
    assert_eq!(body["error"]["error_subcode"], 2_018_278);
    assert!(body["error"]["fbtrace_id"].is_string());
    assert_eq!(meta.sent().len(), 1);

    meta.inject(FaultTarget::Conversations, GraphError::rate_limited(613), 1);
    let url = format!(
        "{}/1001/conversations?access_token=EAAB-page-token",
        meta.graph_url()
    );
    let (status, _, body) = get(&url).await;
    assert_eq!((status, body["error"]["code"].as_u64()), (400, Some(613)));
    assert_eq!(get(&url).await.0, 200, "the fault was used up");
    meta.expire_token("1001");
    let (_, _, body) = get(&url).await;
    assert_eq!(body["error"]["code"], 190);
    assert_eq!(body["error"]["error_subcode"], 463);
}
