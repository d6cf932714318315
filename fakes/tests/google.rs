//! Fake Google over real HTTP: OAuth with PKCE, quota, pagination, history,
//! message formats and fault injection.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use fakes::google::{FakeGoogle, FakeGoogleConfig, FaultConfig, NewMessage, RunningFakeGoogle};
use fakes::mailbox::{Mailbox, MailboxSpec};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CLIENT: &str = "rapport-demo-client";
const SECRET: &str = "rapport-demo-secret";
const REDIRECT: &str = "http://localhost:3000/oauth/callback";
const OWNER: &str = "alex.morgan@brightwater-labs.com";
const SCOPES: &str = "openid email profile https://www.googleapis.com/auth/gmail.readonly";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start(config: FakeGoogleConfig) -> RunningFakeGoogle {
    FakeGoogle::start(config).await.expect("fake google starts")
}

async fn start_with(messages: usize) -> RunningFakeGoogle {
    start(FakeGoogleConfig::with_mailbox(MailboxSpec::demo(messages))).await
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            let mut out = Vec::new();
            let b = v.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        })
    })
}

/// Consent page → choose `account` → the redirect's code.
async fn authorize(base: &str, account: &str, verifier: &str, offline: bool) -> String {
    let mut form = vec![
        ("client_id", CLIENT.to_string()),
        ("redirect_uri", REDIRECT.to_string()),
        ("response_type", "code".to_string()),
        ("scope", SCOPES.to_string()),
        ("state", "xyz 123".to_string()),
        ("code_challenge", challenge(verifier)),
        ("code_challenge_method", "S256".to_string()),
        ("account", account.to_string()),
    ];
    if offline {
        form.push(("access_type", "offline".to_string()));
    }
    let response = http()
        .post(format!("{base}/o/oauth2/v2/auth"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz 123"));
    assert_eq!(query_param(&location, "scope").as_deref(), Some(SCOPES));
    query_param(&location, "code").expect("code in redirect")
}

async fn exchange(base: &str, code: &str, verifier: &str, redirect: &str) -> (StatusCode, Value) {
    let response = http()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn refresh(base: &str, refresh_token: &str) -> (StatusCode, Value) {
    let response = http()
        .post(format!("{base}/token"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Signs in as the owner and returns an access token.
async fn token(base: &str) -> String {
    let code = authorize(
        base,
        OWNER,
        "verifier-verifier-verifier-verifier-verifier",
        false,
    )
    .await;
    let (status, body) = exchange(
        base,
        &code,
        "verifier-verifier-verifier-verifier-verifier",
        REDIRECT,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn api(base: &str, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{base}/gmail/v1/users/me/{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn api_json(base: &str, token: &str, path: &str) -> Value {
    let response = api(base, token, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn invalid_grant() -> Value {
    serde_json::json!({"error": "invalid_grant", "error_description": "Bad Request"})
}

#[tokio::test]
async fn oauth_code_flow_with_pkce_refresh_and_revoke() {
    let google = start(FakeGoogleConfig::demo()).await;
    let base = google.base_url();
    let client = http();

    // The consent page lists both demo accounts and the scopes in words.
    let page = client
        .get(format!("{base}/o/oauth2/v2/auth"))
        .query(&[
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", SCOPES),
            ("state", "s"),
            ("code_challenge", &challenge("v")),
            ("code_challenge_method", "S256"),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("login_hint", "sam.rivera@gmail.com"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Fake Google (demo) — choose an account"));
    assert!(html.contains(OWNER) && html.contains("sam.rivera@gmail.com"));
    assert!(html.contains("View your email messages and settings"));
    assert!(
        html.find("sam.rivera@gmail.com") < html.find(OWNER),
        "login_hint first"
    );

    // Bad authorization requests get Google's error page.
    for (params, status, marker) in [
        (
            vec![
                ("client_id", "nope"),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "email"),
            ],
            401,
            "Error 401: invalid_client",
        ),
        (
            vec![
                ("client_id", CLIENT),
                ("response_type", "code"),
                ("scope", "email"),
            ],
            400,
            "Error 400: invalid_request",
        ),
        (
            vec![
                ("client_id", CLIENT),
                ("redirect_uri", REDIRECT),
                ("response_type", "token"),
                ("scope", "email"),
            ],
            400,
            "Error 400: invalid_request",
        ),
        (
            vec![
                ("client_id", CLIENT),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "email"),
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
            400,
            "Error 400: invalid_request",
        ),
    ] {
        let r = client
            .get(format!("{base}/o/oauth2/v2/auth"))
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert!(r.text().await.unwrap().contains(marker));
    }

    // Deny → access_denied with state.
    let denied = client
        .post(format!("{base}/o/oauth2/v2/auth"))
        .form(&[
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "email"),
            ("state", "s1"),
            ("deny", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        denied.headers()["location"].to_str().unwrap(),
        format!("{REDIRECT}?error=access_denied&state=s1")
    );

    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // Wrong verifier, wrong redirect_uri → invalid_grant; the code survives both.
    let code = authorize(base, OWNER, verifier, true).await;
    assert_eq!(
        exchange(base, &code, "wrong-verifier", REDIRECT).await,
        (StatusCode::BAD_REQUEST, invalid_grant())
    );
    assert_eq!(
        exchange(base, &code, verifier, "http://localhost:9/other").await,
        (StatusCode::BAD_REQUEST, invalid_grant())
    );
    let (status, tokens) = exchange(base, &code, verifier, REDIRECT).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], SCOPES);
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("offline → refresh token")
        .to_string();
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["email"], OWNER);
    assert_eq!(claims["aud"], CLIENT);

    // Reusing the code fails and revokes what it issued.
    assert_eq!(
        exchange(base, &code, verifier, REDIRECT).await,
        (StatusCode::BAD_REQUEST, invalid_grant())
    );
    assert_eq!(
        api(base, &access, "profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(base, &refresh_token).await,
        (StatusCode::BAD_REQUEST, invalid_grant())
    );

    // A fresh grant: userinfo, refresh (no refresh_token in the answer), revoke.
    let code = authorize(base, OWNER, verifier, true).await;
    let (_, tokens) = exchange(base, &code, verifier, REDIRECT).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let info: Value = client
        .get(format!("{base}/v1/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], OWNER);
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["given_name"], "Alex");
    assert_eq!(info["family_name"], "Morgan");
    assert_eq!(info["sub"].as_str().unwrap().len(), 21);
    let info3: Value = client
        .get(format!("{base}/oauth2/v3/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info, info3);

    let (status, refreshed) = refresh(base, &refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(refreshed.get("refresh_token").is_none());
    let access2 = refreshed["access_token"].as_str().unwrap().to_string();
    assert_ne!(access, access2);
    assert_eq!(
        api_json(base, &access2, "profile").await["emailAddress"],
        OWNER
    );

    // Client errors.
    let r = client
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("client_id", "other"),
            ("client_secret", SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"error": "invalid_client", "error_description": "The OAuth client was not found."})
    );
    let r = client
        .post(format!("{base}/token"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let r = client
        .post(format!("{base}/token"))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    // Revoking the refresh token kills its access tokens too.
    let r = client
        .post(format!("{base}/revoke"))
        .query(&[("token", &refresh_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({}));
    assert_eq!(
        refresh(base, &refresh_token).await,
        (StatusCode::BAD_REQUEST, invalid_grant())
    );
    let denied = api(base, &access2, "profile").await;
    assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
    assert!(
        denied.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let body: Value = denied.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(body["error"]["errors"][0]["reason"], "authError");
    let r = client
        .post(format!("{base}/revoke"))
        .form(&[("token", &refresh_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        serde_json::json!({"error": "invalid_token", "error_description": "Token expired or revoked"})
    );

    // Control API revocation.
    let access3 = token(base).await;
    assert_eq!(google.control().revoke_tokens(OWNER).unwrap(), 1);
    assert_eq!(
        api(base, &access3, "profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
    google.stop().await;
}

#[tokio::test]
async fn access_tokens_expire_after_their_ttl() {
    let mut config = FakeGoogleConfig::with_mailbox(MailboxSpec::demo(50));
    config.access_token_ttl = Duration::from_secs(1);
    let google = start(config).await;
    let base = google.base_url();
    let access = token(base).await;
    assert_eq!(api(base, &access, "profile").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = api(base, &access, "profile").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], 401);
}

#[tokio::test]
async fn quota_burst_is_refused_with_retry_after_and_paced_calls_never_are() {
    let google = start_with(200).await;
    let base = google.base_url();
    let access = token(base).await;

    // 60 × messages.list (5 units) in a burst = 300 units > 250.
    let mut refused = None;
    let mut ok = 0;
    for _ in 0..60 {
        let r = api(base, &access, "messages?maxResults=1").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            refused = Some((retry, r.json::<Value>().await.unwrap()));
            break;
        }
        assert_eq!(r.status(), StatusCode::OK);
        ok += 1;
    }
    let (retry, body) = refused.expect("a burst over 250 units/s is refused");
    assert_eq!(ok, 50, "exactly 250 units are admitted");
    assert!((1..=1).contains(&retry));
    let e = &body["error"];
    assert_eq!(e["code"], 429);
    assert_eq!(e["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(e["errors"][0]["reason"], "userRateLimitExceeded");
    assert_eq!(e["errors"][0]["domain"], "usageLimits");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("User-rate limit exceeded.  Retry after 20")
    );
    assert!(google.control().stats().rate_limited >= 1);

    // Paced at 200 units/s for two seconds: never refused.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(25));
    for _ in 0..80 {
        tick.tick().await;
        let r = api(base, &access, "messages?maxResults=1").await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "paced call refused after {:?}",
            started.elapsed()
        );
    }

    // With quota off (benchmarks) even a burst passes.
    google.control().set_quota(false);
    for _ in 0..80 {
        assert_eq!(api(base, &access, "labels").await.status(), StatusCode::OK);
    }
}

/// Expected list order: newest first, optionally without SPAM/TRASH.
fn expected_ids(mailbox: &Mailbox, include_spam_trash: bool) -> Vec<String> {
    let mut all: Vec<_> = mailbox
        .messages()
        .filter(|m| include_spam_trash || !m.label_ids.iter().any(|l| l == "SPAM" || l == "TRASH"))
        .map(|m| m.id)
        .collect();
    all.reverse();
    all
}

async fn list_all(base: &str, token: &str, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut page_token: Option<String> = None;
    loop {
        let path = match &page_token {
            Some(t) => format!("messages?{query}&pageToken={t}"),
            None => format!("messages?{query}"),
        };
        let body = api_json(base, token, &path).await;
        if let Some(messages) = body["messages"].as_array() {
            ids.extend(
                messages
                    .iter()
                    .map(|m| m["id"].as_str().unwrap().to_string()),
            );
        }
        match body["nextPageToken"].as_str() {
            Some(t) => page_token = Some(t.to_string()),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn pagination_returns_every_message_once_newest_first() {
    let spec = MailboxSpec::demo(1234);
    let mailbox = Mailbox::generate(&spec);
    let mut config = FakeGoogleConfig::with_mailbox(spec);
    config.quota = false;
    let google = start(config).await;
    let base = google.base_url();
    let access = token(base).await;

    let visible = expected_ids(&mailbox, false);
    let everything = expected_ids(&mailbox, true);
    assert!(
        visible.len() < everything.len(),
        "the demo mailbox has spam or trash"
    );
    for max in [100, 500] {
        assert_eq!(
            list_all(base, &access, &format!("maxResults={max}")).await,
            visible
        );
        assert_eq!(
            list_all(
                base,
                &access,
                &format!("maxResults={max}&includeSpamTrash=true")
            )
            .await,
            everything
        );
    }
    let first = api_json(base, &access, "messages").await;
    assert_eq!(first["messages"].as_array().unwrap().len(), 100);
    assert_eq!(first["resultSizeEstimate"], visible.len());

    // Label and query filters.
    let mut newest_first: Vec<_> = mailbox.messages().collect();
    newest_first.reverse();
    let inbox: Vec<String> = newest_first
        .iter()
        .filter(|m| m.label_ids.iter().any(|l| l == "INBOX"))
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        list_all(base, &access, "maxResults=500&labelIds=INBOX").await,
        inbox
    );
    assert_eq!(
        list_all(base, &access, "maxResults=500&q=in:inbox").await,
        inbox
    );
    let spam: Vec<String> = newest_first
        .iter()
        .filter(|m| m.label_ids.iter().any(|l| l == "SPAM"))
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        list_all(base, &access, "maxResults=500&q=in:spam").await,
        spam
    );
    assert_eq!(
        list_all(
            base,
            &access,
            "q=in:anywhere%20-in:spam%20-in:trash&maxResults=500"
        )
        .await,
        visible
    );
    let cutoff = mailbox.message(600).internal_date;
    let after: Vec<String> = newest_first
        .iter()
        .filter(|m| {
            m.internal_date.timestamp() >= cutoff.timestamp()
                && !m.label_ids.iter().any(|l| l == "SPAM" || l == "TRASH")
        })
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        list_all(
            base,
            &access,
            &format!("maxResults=500&q=after:{}", cutoff.timestamp())
        )
        .await,
        after
    );
    let day = cutoff.format("%Y/%m/%d").to_string();
    let before: Vec<String> = newest_first
        .iter()
        .filter(|m| {
            m.internal_date.date_naive() < cutoff.date_naive()
                && !m.label_ids.iter().any(|l| l == "SPAM" || l == "TRASH")
        })
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        list_all(base, &access, &format!("maxResults=500&q=before:{day}")).await,
        before
    );
    let empty = api_json(base, &access, "messages?q=label:no-such-label").await;
    assert!(empty.get("messages").is_none());
    assert_eq!(empty["resultSizeEstimate"], 0);
    assert_eq!(
        api(base, &access, "messages?q=hello").await.status(),
        StatusCode::BAD_REQUEST
    );

    // Stability: mail arriving and mail deleted mid-pagination.
    let page1 = api_json(base, &access, "messages?maxResults=100").await;
    let mut seen: Vec<String> = page1["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    let control = google.control();
    for _ in 0..3 {
        control
            .append(
                OWNER,
                NewMessage::Generated { reply_to: None },
                &["INBOX", "UNREAD"],
            )
            .unwrap();
    }
    let doomed = visible[700].clone();
    control.delete(OWNER, &doomed).unwrap();
    let mut next = page1["nextPageToken"].as_str().map(str::to_string);
    while let Some(t) = next {
        let body = api_json(
            base,
            &access,
            &format!("messages?maxResults=100&pageToken={t}"),
        )
        .await;
        seen.extend(
            body["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string()),
        );
        next = body["nextPageToken"].as_str().map(str::to_string);
    }
    let expected: Vec<String> = visible
        .iter()
        .filter(|id| **id != doomed)
        .cloned()
        .collect();
    assert_eq!(seen, expected);
    let bogus = api(base, &access, "messages?pageToken=00000000zzzz").await;
    assert_eq!(bogus.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn history_reports_every_change_in_order_and_404s_when_expired() {
    let google = start_with(300).await;
    let base = google.base_url();
    let access = token(base).await;
    let control = google.control();

    let start_id: u64 = api_json(base, &access, "profile").await["historyId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let unchanged = api_json(base, &access, &format!("history?startHistoryId={start_id}")).await;
    assert!(unchanged.get("history").is_none());
    assert_eq!(unchanged["historyId"], start_id.to_string());

    let newest = api_json(base, &access, "messages?maxResults=1").await["messages"][0].clone();
    let parent = newest["id"].as_str().unwrap().to_string();
    let reply = control
        .append(
            OWNER,
            NewMessage::Generated {
                reply_to: Some(parent.clone()),
            },
            &["INBOX", "UNREAD"],
        )
        .unwrap();
    assert_eq!(
        reply.thread_id,
        newest["threadId"].as_str().unwrap(),
        "a reply joins its thread"
    );
    let fresh = control
        .append(
            OWNER,
            NewMessage::Generated { reply_to: None },
            &["INBOX", "Clients"],
        )
        .unwrap();
    assert_eq!(fresh.thread_id, fresh.id, "unrelated mail starts a thread");
    control
        .modify_labels(OWNER, &reply.id, &["STARRED"], &["UNREAD"])
        .unwrap();
    control
        .modify_labels(OWNER, &reply.id, &["STARRED"], &[])
        .unwrap(); // no-op: no record
    control.delete(OWNER, &parent).unwrap();

    let body = api_json(base, &access, &format!("history?startHistoryId={start_id}")).await;
    let history = body["history"].as_array().unwrap();
    let kinds: Vec<&str> = history
        .iter()
        .map(|h| {
            [
                "messagesAdded",
                "labelsAdded",
                "labelsRemoved",
                "messagesDeleted",
            ]
            .into_iter()
            .find(|k| h.get(*k).is_some())
            .unwrap()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "messagesAdded",
            "messagesAdded",
            "labelsAdded",
            "labelsRemoved",
            "messagesDeleted"
        ]
    );
    let ids: Vec<u64> = history
        .iter()
        .map(|h| h["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]) && ids[0] > start_id);
    assert_eq!(body["historyId"], ids.last().unwrap().to_string());
    assert_eq!(history[0]["messagesAdded"][0]["message"]["id"], reply.id);
    assert_eq!(
        history[0]["messagesAdded"][0]["message"]["labelIds"],
        serde_json::json!(["INBOX", "UNREAD"])
    );
    assert_eq!(
        history[1]["messagesAdded"][0]["message"]["labelIds"],
        serde_json::json!(["INBOX", "Label_1"])
    );
    assert_eq!(
        history[2]["labelsAdded"][0]["labelIds"],
        serde_json::json!(["STARRED"])
    );
    assert_eq!(
        history[3]["labelsRemoved"][0]["labelIds"],
        serde_json::json!(["UNREAD"])
    );
    assert_eq!(history[4]["messagesDeleted"][0]["message"]["id"], parent);
    let profile = api_json(base, &access, "profile").await;
    assert_eq!(profile["messagesTotal"], 301);
    assert_eq!(profile["historyId"], body["historyId"]);

    // The deleted message is gone; the label list has the new user label.
    assert_eq!(
        api(base, &access, &format!("messages/{parent}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let labels = api_json(base, &access, "labels").await;
    assert!(
        labels["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == "Label_1" && l["name"] == "Clients" && l["type"] == "user")
    );

    // Filters and paging.
    let added = api_json(
        base,
        &access,
        &format!("history?startHistoryId={start_id}&historyTypes=messageAdded"),
    )
    .await;
    assert_eq!(added["history"].as_array().unwrap().len(), 2);
    let starred = api_json(
        base,
        &access,
        &format!("history?startHistoryId={start_id}&labelId=STARRED"),
    )
    .await;
    assert_eq!(starred["history"].as_array().unwrap().len(), 2);
    let mut paged = Vec::new();
    let mut path = format!("history?startHistoryId={start_id}&maxResults=2");
    loop {
        let page = api_json(base, &access, &path).await;
        paged.extend(
            page["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["id"].clone()),
        );
        match page["nextPageToken"].as_str() {
            Some(t) => {
                path = format!("history?startHistoryId={start_id}&maxResults=2&pageToken={t}")
            }
            None => break,
        }
    }
    assert_eq!(
        paged,
        history.iter().map(|h| h["id"].clone()).collect::<Vec<_>>()
    );
    let middle = ids[2];
    let tail = api_json(base, &access, &format!("history?startHistoryId={middle}")).await;
    assert_eq!(tail["history"].as_array().unwrap().len(), 2);

    // Too old (before the server started) and forced expiry → 404 notFound.
    let r = api(
        base,
        &access,
        &format!("history?startHistoryId={}", start_id - 1),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    control.expire_history(OWNER).unwrap();
    let r = api(base, &access, &format!("history?startHistoryId={start_id}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["errors"][0]["reason"], "notFound");
    assert_eq!(body["error"]["status"], "NOT_FOUND");
    let current = control.history_id(OWNER).unwrap();
    let ok = api_json(base, &access, &format!("history?startHistoryId={current}")).await;
    assert!(ok.get("history").is_none());
    assert_eq!(
        api(base, &access, "history").await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn message_formats_match_the_generated_bytes() {
    let spec = MailboxSpec::demo(400);
    let mailbox = Mailbox::generate(&spec);
    let mut config = FakeGoogleConfig::with_mailbox(spec);
    config.quota = false;
    let google = start(config).await;
    let base = google.base_url();
    let access = token(base).await;

    for i in (0..mailbox.len()).step_by(13) {
        let m = mailbox.message(i);
        let body = api_json(base, &access, &format!("messages/{}?format=raw", m.id)).await;
        let raw = body["raw"].as_str().unwrap();
        assert!(
            !raw.contains('+') && !raw.contains('/'),
            "URL-safe alphabet"
        );
        assert_eq!(
            URL_SAFE.decode(raw).unwrap(),
            m.raw,
            "message {i} round-trips"
        );
        assert_eq!(body["threadId"], m.thread_id);
        assert_eq!(
            body["internalDate"],
            m.internal_date.timestamp_millis().to_string()
        );
        let labels: BTreeSet<&str> = body["labelIds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(
            labels,
            m.label_ids.iter().map(String::as_str).collect(),
            "labels of {i}"
        );
        assert_eq!(body["sizeEstimate"], m.raw.len());
        assert!(body.get("payload").is_none());
    }

    // A multipart message with an attachment: the part tree is consistent.
    let invite = mailbox
        .messages()
        .find(|m| m.kind == fakes::mailbox::MessageKind::CalendarInvite)
        .expect("the demo mailbox has invites");
    let full = api_json(
        base,
        &access,
        &format!("messages/{}?format=full", invite.id),
    )
    .await;
    let payload = &full["payload"];
    assert_eq!(payload["partId"], "");
    assert!(
        payload["mimeType"]
            .as_str()
            .unwrap()
            .starts_with("multipart/")
    );
    let mut attachments = Vec::new();
    fn walk(part: &Value, prefix: &str, attachments: &mut Vec<String>) {
        let parts = part["parts"].as_array().cloned().unwrap_or_default();
        if parts.is_empty() {
            let body = &part["body"];
            if let Some(id) = body["attachmentId"].as_str() {
                assert!(!part["filename"].as_str().unwrap().is_empty());
                attachments.push(id.to_string());
            } else if let Some(data) = body["data"].as_str() {
                assert_eq!(
                    URL_SAFE.decode(data).unwrap().len() as u64,
                    body["size"].as_u64().unwrap()
                );
            }
        } else {
            assert_eq!(part["body"]["size"], 0);
            assert!(part["mimeType"].as_str().unwrap().starts_with("multipart/"));
        }
        for (i, child) in parts.iter().enumerate() {
            let expected = if prefix.is_empty() {
                i.to_string()
            } else {
                format!("{prefix}.{i}")
            };
            assert_eq!(child["partId"], expected);
            walk(child, &expected, attachments);
        }
    }
    walk(payload, "", &mut attachments);
    assert!(!attachments.is_empty(), "the .ics is an attachment");
    let attachment = api_json(
        base,
        &access,
        &format!("messages/{}/attachments/{}", invite.id, attachments[0]),
    )
    .await;
    let ics = URL_SAFE
        .decode(attachment["data"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8_lossy(&ics).contains("BEGIN:VCALENDAR"));
    assert!(!full["snippet"].as_str().unwrap().is_empty());

    // metadata keeps only the requested headers; minimal has no payload.
    let meta = api_json(
        base,
        &access,
        &format!(
            "messages/{}?format=metadata&metadataHeaders=Subject&metadataHeaders=from",
            invite.id
        ),
    )
    .await;
    let names: BTreeSet<String> = meta["payload"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_ascii_lowercase())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["from".to_string(), "subject".to_string()])
    );
    let all_headers = api_json(
        base,
        &access,
        &format!("messages/{}?format=metadata", invite.id),
    )
    .await;
    assert!(all_headers["payload"]["headers"].as_array().unwrap().len() > 2);
    let minimal = api_json(
        base,
        &access,
        &format!("messages/{}?format=minimal", invite.id),
    )
    .await;
    assert!(minimal.get("payload").is_none() && minimal.get("raw").is_none());

    // Errors: unknown id, malformed id, another user's mailbox.
    let r = api(base, &access, "messages/0000000000000001").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["message"],
        "Requested entity was not found."
    );
    assert_eq!(
        api(base, &access, "messages/not-an-id").await.status(),
        StatusCode::BAD_REQUEST
    );
    let r = http()
        .get(format!("{base}/gmail/v1/users/someone@else.com/profile"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let by_email = http()
        .get(format!("{base}/gmail/v1/users/{OWNER}/profile"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(by_email.status(), StatusCode::OK);
}

#[tokio::test]
async fn injected_failures_match_the_configured_rate_deterministically() {
    let mut config = FakeGoogleConfig::with_mailbox(MailboxSpec::demo(50));
    config.quota = false;
    let google = start(config).await;
    let base = google.base_url();
    let access = token(base).await;
    let control = google.control();

    let run = || async {
        control.set_faults(FaultConfig {
            error_rate: 0.3,
            latency: Duration::ZERO,
            seed: 99,
        });
        let mut statuses = Vec::new();
        for _ in 0..400 {
            let r = api(base, &access, "labels").await;
            let status = r.status().as_u16();
            if status != 200 {
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], status);
                let reason = body["error"]["errors"][0]["reason"]
                    .as_str()
                    .unwrap()
                    .to_string();
                assert_eq!(reason, "backendError");
            }
            statuses.push(status);
        }
        statuses
    };
    let first = run().await;
    let counts: HashMap<u16, usize> = first.iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(*s).or_default() += 1;
        m
    });
    let failed = counts.get(&500).unwrap_or(&0) + counts.get(&503).unwrap_or(&0);
    assert!(
        (88..=152).contains(&failed),
        "30% ± 8% of 400, got {failed}"
    );
    assert!(counts[&500] > 20 && counts[&503] > 20);
    assert_eq!(run().await, first, "same seed, same failures");
    assert_eq!(control.stats().injected_errors as usize, 2 * failed);

    // Latency is added; switching faults off restores service.
    control.set_faults(FaultConfig {
        error_rate: 0.0,
        latency: Duration::from_millis(150),
        seed: 1,
    });
    let started = Instant::now();
    assert_eq!(api(base, &access, "labels").await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn control_api_over_http() {
    let google = start_with(60).await;
    let base = google.base_url();
    let access = token(base).await;
    let client = http();
    let raw = b"From: Pat <pat@example.org>\r\nTo: alex.morgan@brightwater-labs.com\r\nSubject: hello\r\nMessage-ID: <x1@example.org>\r\n\r\nHi there\r\n";
    let appended: Value = client
        .post(format!("{base}/_control/accounts/{OWNER}/messages"))
        .json(&serde_json::json!({"raw": URL_SAFE.encode(raw), "labelIds": ["INBOX"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = appended["id"].as_str().unwrap();
    let got = api_json(base, &access, &format!("messages/{id}?format=raw")).await;
    assert_eq!(URL_SAFE.decode(got["raw"].as_str().unwrap()).unwrap(), raw);
    assert_eq!(got["snippet"], "Hi there");
    let newest = api_json(base, &access, "messages?maxResults=1").await;
    assert_eq!(newest["messages"][0]["id"], id);

    let modified: Value = client
        .post(format!(
            "{base}/_control/accounts/{OWNER}/messages/{id}/modify"
        ))
        .json(&serde_json::json!({"addLabelIds": ["STARRED"], "removeLabelIds": ["INBOX"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(modified["labelIds"], serde_json::json!(["STARRED"]));
    let r = client
        .put(format!("{base}/_control/faults"))
        .json(&serde_json::json!({"errorRate": 1.0, "latencyMs": 0, "seed": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        api(base, &access, "profile")
            .await
            .status()
            .is_server_error()
    );
    client
        .put(format!("{base}/_control/faults"))
        .json(&serde_json::json!({"errorRate": 0.0, "latencyMs": 0, "seed": 3}))
        .send()
        .await
        .unwrap();
    let r = client
        .delete(format!("{base}/_control/accounts/{OWNER}/messages/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        api(base, &access, &format!("messages/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let stats: Value = client
        .get(format!("{base}/_control/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["requests"]["users.messages.get"].as_u64().unwrap() >= 2);
    assert!(stats["unitsUsed"].as_u64().unwrap() > 0);
    let r = client
        .post(format!("{base}/_control/accounts/nobody@x.com/revoke"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = client
        .post(format!("{base}/_control/accounts/{OWNER}/revoke"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["revoked"], 1);
    assert_eq!(
        api(base, &access, "profile").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
