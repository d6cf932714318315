use std::time::Duration;

use app::pages::settings::{DeleteAccount, DisconnectAccount};
use domain::accounts::TokenError;
use leptos::server_fn::ServerFn;
use uuid::Uuid;

use crate::helpers::{ALEX, ALEX_NAME, Browser, SAM, spawn_app};

#[tokio::test]
async fn anonymous_visitors_go_to_login_and_server_fns_answer_401() {
    let app = spawn_app().await;
    let response = app.anonymous.get("/contacts").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
    let (status, html) = app.anonymous.get_html("/login").await;
    assert_eq!(status, 200);
    assert!(html.contains("Sign in with Google"));
    let api = app
        .anonymous
        .call_server_fn("/api/list_contacts", &[])
        .await;
    assert_eq!(api.status(), 401);
}

#[tokio::test]
async fn signing_in_creates_the_user_the_account_and_a_sync_job() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let (status, html) = alex.get_html("/contacts").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(ALEX_NAME),
        "the user menu shows who is signed in"
    );
    let (_, settings) = alex.get_html("/settings").await;
    assert!(settings.contains(ALEX));
    assert!(
        settings.contains("Read Gmail"),
        "the granted Gmail scope is shown"
    );
    assert!(settings.contains("gmail.sync"), "the first sync is queued");
    let jobs: i64 = sqlx::query_scalar(
        "select count(*) from jobs where kind = 'gmail.sync' and state = 'queued'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(jobs, 1);

    // Signing in again updates, it does not duplicate.
    app.sign_in(ALEX).await;
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let accounts: i64 = sqlx::query_scalar("select count(*) from accounts")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!((users, accounts), (1, 1));
}

#[tokio::test]
async fn a_wrong_or_replayed_state_is_rejected() {
    let app = spawn_app().await;
    let browser = Browser::new(&app.address);
    let consent = browser
        .redirect_target(&format!("{}/auth/google/start", app.address))
        .await;
    let callback = browser.choose_account(&consent, ALEX).await;
    let tampered = callback.replace("state=", "state=x");
    assert_eq!(
        browser.redirect_target(&tampered).await,
        "/login?error=expired"
    );
    // The state was used up by the failed attempt: the genuine callback fails too.
    assert_eq!(
        browser.redirect_target(&callback).await,
        "/login?error=expired"
    );
    assert_eq!(
        browser.get("/contacts").await.status(),
        303,
        "not signed in"
    );
}

#[tokio::test]
async fn a_denied_consent_explains_itself() {
    let app = spawn_app().await;
    let browser = Browser::new(&app.address);
    browser
        .redirect_target(&format!("{}/auth/google/start", app.address))
        .await;
    let denied = format!(
        "{}/auth/google/callback?error=access_denied&state=whatever",
        app.address
    );
    assert_eq!(
        browser.redirect_target(&denied).await,
        "/login?error=denied"
    );
    let (_, html) = browser.get_html("/login?error=denied").await;
    assert!(html.contains("sign-in was cancelled"));
}

#[tokio::test]
async fn the_pkce_verifier_is_checked() {
    let app = spawn_app().await;
    let (oauth, _) = app.oauth();
    let request = oauth.authorization_request(None).unwrap();
    let browser = Browser::new(&app.address);
    let callback = browser.choose_account(&request.url, ALEX).await;
    let code = reqwest::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let wrong = oauth
        .exchange_code(
            &code,
            "a-verifier-that-does-not-match-the-challenge-0123456789",
        )
        .await;
    assert!(
        matches!(wrong, Err(domain::google::GoogleError::InvalidGrant)),
        "{wrong:?}"
    );
    assert!(
        oauth
            .exchange_code(&code, &request.pkce_verifier)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn tokens_are_encrypted_and_refreshed_before_expiry() {
    let app = spawn_app().await;
    // Tokens that are already inside the refresh margin when issued.
    app.google.control().set_token_ttl(Duration::from_secs(60));
    app.sign_in(ALEX).await;
    let (oauth, secrets) = app.oauth();
    let user = app.user_id(ALEX).await;
    let account = app.google_account(ALEX).await;
    let scope = app.db.for_user(user);

    let (access_before, refresh_before): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("select access_token_enc, refresh_token_enc from accounts where id = $1")
            .bind(account)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let token = scope
        .accounts()
        .google_access_token(account, &oauth, &secrets)
        .await
        .unwrap();
    let (access_after, refresh_after): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("select access_token_enc, refresh_token_enc from accounts where id = $1")
            .bind(account)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_ne!(access_before, access_after, "a new access token was stored");
    assert_eq!(
        secrets.open_for(&access_after, account.as_bytes()).unwrap(),
        token
    );
    assert!(
        !access_after
            .windows(token.len())
            .any(|w| w == token.as_bytes()),
        "stored encrypted"
    );
    assert_eq!(
        secrets
            .open_for(&refresh_before, account.as_bytes())
            .unwrap(),
        secrets
            .open_for(&refresh_after, account.as_bytes())
            .unwrap(),
        "refresh token kept"
    );
    let refresh = secrets
        .open_for(&refresh_after, account.as_bytes())
        .unwrap();
    assert!(
        !refresh_after
            .windows(refresh.len())
            .any(|w| w == refresh.as_bytes())
    );
    // The token works at Google.
    assert!(oauth.userinfo(&token).await.is_ok());
}

#[tokio::test]
async fn concurrent_refreshes_reach_google_once() {
    let app = spawn_app().await;
    app.google.control().set_token_ttl(Duration::from_secs(60));
    app.sign_in(ALEX).await;
    let (oauth, secrets) = app.oauth();
    let user = app.user_id(ALEX).await;
    let account = app.google_account(ALEX).await;
    app.google
        .control()
        .set_token_ttl(Duration::from_secs(3600));
    let scope = app.db.for_user(user);
    let tokens = futures_util::future::join_all((0..5).map(|_| {
        scope
            .accounts()
            .google_access_token(account, &oauth, &secrets)
    }))
    .await;
    let tokens: Vec<String> = tokens.into_iter().map(Result::unwrap).collect();
    // Each refresh at Google mints a new token: identical tokens mean one refresh.
    assert!(
        tokens.windows(2).all(|w| w[0] == w[1]),
        "one refresh, not a stampede"
    );
}

#[tokio::test]
async fn a_revoked_grant_needs_a_reconnect_and_reconnecting_restores() {
    let app = spawn_app().await;
    app.google.control().set_token_ttl(Duration::from_secs(60));
    let alex = app.sign_in(ALEX).await;
    let (oauth, secrets) = app.oauth();
    let user = app.user_id(ALEX).await;
    let account = app.google_account(ALEX).await;
    app.google.control().revoke_tokens(ALEX).unwrap();

    let result = app
        .db
        .for_user(user)
        .accounts()
        .google_access_token(account, &oauth, &secrets)
        .await;
    assert!(
        matches!(result, Err(TokenError::NeedsReconnect)),
        "{result:?}"
    );
    let (_, html) = alex.get_html("/contacts").await;
    assert!(
        html.contains("Reconnect Google"),
        "the banner offers a reconnect"
    );
    let (_, settings) = alex.get_html("/settings").await;
    assert!(settings.contains("needs reconnect"));

    app.google
        .control()
        .set_token_ttl(Duration::from_secs(3600));
    app.sign_in(ALEX).await;
    let status = app.account_status(account).await;
    assert_eq!(status, "active");
    assert!(
        app.db
            .for_user(user)
            .accounts()
            .google_access_token(account, &oauth, &secrets)
            .await
            .is_ok()
    );
    let (_, html) = alex.get_html("/contacts").await;
    assert!(!html.contains("Reconnect Google"));
}

async fn disconnect(browser: &Browser, account: Uuid, delete_data: bool) -> reqwest::Response {
    let account = account.to_string();
    let mut form = vec![("account_id", account.as_str())];
    if delete_data {
        form.push(("delete_data", "true"));
    }
    browser.call_server_fn(DisconnectAccount::PATH, &form).await
}

#[tokio::test]
async fn disconnecting_revokes_at_google_and_keeps_or_deletes_data() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let (oauth, _) = app.oauth();
    let account = app.google_account(ALEX).await;
    let refresh = app.stored_refresh_token(ALEX).await;

    let keep = disconnect(&alex, account, false).await;
    assert_eq!(keep.status(), 200, "{}", keep.text().await.unwrap());
    assert!(
        matches!(
            oauth.refresh(&refresh).await,
            Err(domain::google::GoogleError::InvalidGrant)
        ),
        "revoked"
    );
    let (status, has_tokens): (String, bool) = sqlx::query_as(
        "select status, access_token_enc is not null or refresh_token_enc is not null from accounts where id = $1",
    )
    .bind(account)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!((status.as_str(), has_tokens), ("disconnected", false));

    let delete = disconnect(&alex, account, true).await;
    assert_eq!(delete.status(), 200);
    let left: i64 = sqlx::query_scalar("select count(*) from accounts")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn one_user_cannot_touch_another_users_data() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    sam.create_contact("Samuel Secret", "secret@sam.example")
        .await;
    alex.create_contact("Alexa Own", "own@alex.example").await;

    let html = alex.page("/contacts", 200, "Alexa Own").await;
    assert!(!html.contains("Samuel Secret") && !html.contains("secret@sam.example"));
    let settings = alex.page("/settings", 200, ALEX).await;
    assert!(
        !settings.contains(SAM),
        "Alex's settings do not show Sam's Gmail"
    );

    let sams_account = app.google_account(SAM).await;
    let attempt = disconnect(&alex, sams_account, true).await;
    assert_eq!(attempt.status(), 404);
    let status = app.account_status(sams_account).await;
    assert_eq!(status, "active", "Sam's account is untouched");
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let out = alex
        .client
        .post(format!("{}/auth/logout", app.address))
        .header("origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/login?signed_out=1");
    assert_eq!(alex.get("/contacts").await.status(), 303);
}

#[tokio::test]
async fn deleting_the_account_removes_everything_and_revokes_google() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let (oauth, _) = app.oauth();
    let refresh = app.stored_refresh_token(ALEX).await;

    let wrong = alex
        .call_server_fn(
            DeleteAccount::PATH,
            &[("confirm_email", "someone@else.example")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let deleted = alex
        .call_server_fn(DeleteAccount::PATH, &[("confirm_email", ALEX)])
        .await;
    assert!(
        deleted.status().is_success() || deleted.status().is_redirection(),
        "{}",
        deleted.status()
    );

    for table in ["users", "accounts", "jobs", "contacts"] {
        let count: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert_eq!(count, 0, "{table} emptied");
    }
    assert!(matches!(
        oauth.refresh(&refresh).await,
        Err(domain::google::GoogleError::InvalidGrant)
    ));
    assert_eq!(
        alex.get("/contacts").await.status(),
        303,
        "the old session no longer works"
    );
}

#[tokio::test]
async fn an_unverified_google_address_cannot_sign_in() {
    let app = spawn_app().await;
    app.google.control().set_email_verified(SAM, false).unwrap();
    let browser = Browser::new(&app.address);
    let consent = browser
        .redirect_target(&format!("{}/auth/google/start", app.address))
        .await;
    let callback = browser.choose_account(&consent, SAM).await;
    // A fixed error code, never text from Google or the request.
    assert_eq!(
        browser.redirect_target(&callback).await,
        "/login?error=unverified"
    );
    let (_, html) = browser.get_html("/login?error=unverified").await;
    assert!(
        html.contains("has not verified the email address"),
        "{html}"
    );
    assert_eq!(
        browser.get("/contacts").await.status(),
        303,
        "not signed in"
    );
    let (users, accounts): (i64, i64) =
        sqlx::query_as("select (select count(*) from users), (select count(*) from accounts)")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((users, accounts), (0, 0), "nothing stored for the profile");

    // Once Google vouches for the address, the same account signs in.
    app.google.control().set_email_verified(SAM, true).unwrap();
    app.sign_in(SAM).await;
}

/// The latest expiry of any stored session, in seconds from now.
async fn latest_session_expiry_secs(app: &crate::helpers::TestApp) -> f64 {
    sqlx::query_scalar::<_, Option<f64>>(
        "select extract(epoch from max(expiry_date) - now())::float8 from sessions",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap()
    .unwrap_or(0.0)
}

#[tokio::test]
async fn anonymous_sign_in_starts_leave_only_short_lived_sessions() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let browser = Browser::new(&app.address);
        let response = browser.get("/auth/google/start").await;
        assert_eq!(response.status(), 303, "sent to Google");
    }
    let sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(sessions > 0, "the pending sign-ins are stored");
    let latest = latest_session_expiry_secs(&app).await;
    assert!(
        latest <= 10.0 * 60.0 + 5.0,
        "a pending sign-in expires within minutes, not in {latest} s"
    );

    // A completed sign-in keeps the usual 14 days of inactivity.
    app.sign_in(ALEX).await;
    let latest = latest_session_expiry_secs(&app).await;
    assert!(
        latest > 13.0 * 24.0 * 3600.0,
        "a signed-in session lasts 14 days of inactivity, not {latest} s"
    );
}

/// The signed-in session's `Max-Age`, when the response renews the cookie.
fn renewed_max_age(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|cookie| cookie.starts_with("rapport_session="))
        .find_map(|cookie| {
            cookie
                .split(';')
                .find_map(|part| part.trim().strip_prefix("Max-Age=").map(str::to_owned))
        })
}

#[tokio::test]
async fn a_session_in_use_is_renewed_once_a_day_and_not_written_on_every_page() {
    let app = spawn_app().await;
    let browser = app.sign_in(ALEX).await;
    assert_eq!(browser.get("/contacts").await.status(), 200);

    // As if the session was last renewed long ago and now ends tomorrow.
    sqlx::query(
        "update sessions
            set expiry_date = now() + interval '1 day',
                data = convert_to(jsonb_set(convert_from(data, 'UTF8')::jsonb,
                                            '{data,renewed_on}', '\"2000-01-01\"')::text, 'UTF8')
          where convert_from(data, 'UTF8')::jsonb -> 'data' ? 'user_id'",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let response = browser.get("/contacts").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        renewed_max_age(&response).as_deref(),
        Some("1209600"),
        "the cookie is renewed for 14 days"
    );
    let renewed = latest_session_expiry_secs(&app).await;
    assert!(
        renewed > 13.9 * 24.0 * 3600.0,
        "the stored session ends 14 days from this visit, not in {renewed} s"
    );

    // The rest of the day's pages read the session without writing it.
    let stored_expiry = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
            "select max(expiry_date) from sessions",
        )
        .fetch_one(app.db.pool())
        .await
        .unwrap()
    };
    let before = stored_expiry().await;
    for _ in 0..3 {
        let response = browser.get("/contacts").await;
        assert_eq!(response.status(), 200);
        assert_eq!(renewed_max_age(&response), None, "no renewal the same day");
    }
    assert_eq!(
        stored_expiry().await,
        before,
        "the session was not rewritten"
    );
}
