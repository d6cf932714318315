//! Mail search over HTTP: the `/search` page (server-rendered, marked matches, links to
//! the conversation), its server function and `GET /api/v1/search`; a bad query is a 400
//! with the parser's message on every path (never a 500 or a redirect), and another
//! user's mail is never found.

use api::search::SearchPage;
use api::settings::IssuedApiToken;
use app::pages::api_tokens::CreateApiToken;
use app::pages::search::SearchMail;
use chrono::{Duration, Utc};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{ALEX, Browser, SAM, TestApp, spawn_app};

async fn email(app: &TestApp, owner: &str, subject: &str, body: &str) -> Uuid {
    app.test_user(owner)
        .await
        .email(Utc::now() - Duration::hours(1))
        .subject(subject)
        .body(body)
        .insert()
        .await
}

async fn token(browser: &Browser) -> String {
    let response = browser
        .call_server_fn(CreateApiToken::PATH, &[("name", "search test")])
        .await;
    assert_eq!(response.status(), 200);
    let issued: IssuedApiToken = response.json().await.unwrap();
    issued.token
}

async fn api_search(app: &TestApp, token: &str, q: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/search", app.address))
        .query(&[("q", q)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_page_the_server_function_and_the_api_find_only_the_users_mail() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let mine = email(
        &app,
        ALEX,
        "Pricing <&> terms for the pilot",
        "The contracts are ready",
    )
    .await;
    let theirs = email(&app, SAM, "Pricing secrets", "Other contracts").await;

    // The page: rendered with the hit, the word marked, a link to the conversation.
    let html = alex.page("/search?q=contract", 200, "search-results").await;
    assert!(html.contains(&format!("/mail/{mine}")), "{html}");
    assert!(html.contains("<mark>contracts</mark>"), "{html}");
    assert!(
        html.contains("Pricing &lt;&amp;&gt; terms"),
        "mail text is escaped: {html}"
    );
    assert!(!html.contains(&theirs.to_string()));

    // The server function.
    let response = alex
        .call_server_fn(SearchMail::PATH, &[("q", "pricing"), ("page", "")])
        .await;
    assert_eq!(response.status(), 200);
    let page: SearchPage = response.json().await.unwrap();
    assert_eq!(
        page.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![mine]
    );

    // The API, with each user's token.
    let alex_token = token(&alex).await;
    let (status, body) = api_search(&app, &alex_token, "pricing").await;
    assert_eq!(status, 200, "{body}");
    let hits: Vec<&str> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(hits, vec![mine.to_string()]);
    let (_, body) = api_search(&app, &token(&sam).await, "pilot").await;
    assert_eq!(body["hits"], Value::Array(vec![]));
}

#[tokio::test]
async fn a_bad_query_is_a_400_with_the_reason_everywhere() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;

    let (status, html) = alex.get_html("/search?q=subject:lunch").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("Unknown operator subject:"), "{html}");

    let (status, html) = alex.get_html("/search?q=before:tomorrow").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("needs a date like 2024-05-31"), "{html}");

    let response = alex
        .call_server_fn(SearchMail::PATH, &[("q", "channel:fax"), ("page", "")])
        .await;
    assert_eq!(response.status(), 400);

    let token = token(&alex).await;
    let (status, body) = api_search(&app, &token, "from:").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "bad_request");
    assert_eq!(body["error"]["field"], "q");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs a value, like from:dana@example.com")
    );
    let (status, body) = api_search(&app, &token, "\"unclosed").await;
    assert_eq!(status, 400, "{body}");

    // An empty box is the empty page, not an error.
    alex.page("/search", 200, "Search all mail").await;
    // Signed out: the page sends to sign-in like every page; the API answers 401.
    let stranger = Browser::new(&app.address);
    assert_eq!(
        stranger.redirect_target("/search?q=pricing").await,
        "/login"
    );
    let (status, _) = api_search(&app, "not-a-token", "pricing").await;
    assert_eq!(status, 401);
}
