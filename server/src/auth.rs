//! Sign-in with Google: the OAuth redirect and callback, sign-out, and the guard that
//! sends anonymous visitors to /login (pages) or answers 401 (server functions, APIs).

use app::ssr::CurrentUser;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::UserId;
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, Session};

use crate::startup::AppState;

const USER_KEY: &str = "user_id";
/// The UTC day a signed-in session's inactivity window last moved.
const RENEWED_KEY: &str = "renewed_on";
const PENDING_KEY: &str = "pending_google_login";

/// A signed-in session ends after this long without a visit.
pub const SESSION_INACTIVITY: Duration = Duration::days(14);
/// An anonymous visitor's pending sign-in (the OAuth state) is kept this long: each
/// visit to `/auth/google/start` stores a session row, which must not outlive the
/// consent screen by days.
pub const PENDING_LOGIN_EXPIRY: Duration = Duration::minutes(10);

/// What the callback needs to finish the flow: checked once, then forgotten.
#[derive(Debug, Serialize, Deserialize)]
struct PendingLogin {
    state: String,
    pkce_verifier: String,
}

#[derive(Debug, Deserialize)]
pub struct StartParams {
    login_hint: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<StartParams>,
) -> Response {
    let request = match state
        .google
        .authorization_request(params.login_hint.as_deref())
    {
        Ok(request) => request,
        Err(error) => {
            tracing::error!(%error, "could not build the Google consent URL");
            return login_error("config");
        }
    };
    let pending = PendingLogin {
        state: request.state,
        pkce_verifier: request.pkce_verifier,
    };
    // Someone not signed in gets a session only for the sign-in; a signed-in user
    // (connecting another account) keeps theirs as it is.
    if !matches!(session.get::<UserId>(USER_KEY).await, Ok(Some(_))) {
        session.set_expiry(Some(Expiry::OnInactivity(PENDING_LOGIN_EXPIRY)));
    }
    if let Err(error) = session.insert(PENDING_KEY, pending).await {
        tracing::error!(%error, "could not store the pending login");
        return login_error("session");
    }
    Redirect::to(&request.url).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<CallbackParams>,
) -> Response {
    // Taken out of the session whatever happens next: a state is good for one try.
    let pending: Option<PendingLogin> = session.remove(PENDING_KEY).await.ok().flatten();
    if params.error.is_some() {
        return login_error("denied");
    }
    let (Some(pending), Some(returned_state), Some(code)) = (pending, params.state, params.code)
    else {
        return login_error("expired");
    };
    if !constant_time_eq(pending.state.as_bytes(), returned_state.as_bytes()) {
        tracing::warn!("OAuth callback with a state that does not match the session");
        return login_error("expired");
    }
    match finish_login(&state, &session, &code, &pending.pkce_verifier).await {
        Ok(landing) => Redirect::to(landing).into_response(),
        Err(error) if error.is::<UnverifiedEmail>() => {
            tracing::warn!(%error, "Google sign-in refused");
            login_error("unverified")
        }
        Err(error) => {
            tracing::warn!(%error, "Google sign-in failed");
            login_error("google")
        }
    }
}

async fn finish_login(
    state: &AppState,
    session: &Session,
    code: &str,
    verifier: &str,
) -> anyhow::Result<&'static str> {
    let grant = state.google.exchange_code(code, verifier).await?;
    let profile = state.google.userinfo(&grant.access_token).await?;
    // An unverified address could belong to anyone: it must not sign in as (or link
    // to) the user who owns it.
    if !profile.email_verified {
        return Err(UnverifiedEmail.into());
    }
    let user = state.db.upsert_google_user(&profile).await?;
    let scope = state.db.for_user(user.id);
    let account = scope
        .accounts()
        .connect_google(&profile, &grant, &state.secrets)
        .await?;
    if let Some(chats) = &state.demo_chats {
        crate::demo::seed_chats(&state.db, user.id, chats).await?;
        crate::demo_calls::seed_calls(&state.db, &state.files, user.id, chats).await?;
    }
    if let Some(meta) = &state.demo_meta {
        meta.seed(&state.db, &state.secrets, user.id).await?;
    }
    scope
        .jobs()
        .enqueue(&domain::sync::jobs::SyncGmail {
            account_id: account,
        })
        .await?;
    // Until the first import finishes, the user lands on its live progress.
    let first_import = scope
        .sync()
        .sync_account(account)
        .await?
        .state
        .history_id
        .is_none();
    // A new session id at the privilege change defeats session fixation.
    session.cycle_id().await?;
    session.set_expiry(Some(Expiry::OnInactivity(SESSION_INACTIVITY)));
    session.insert(USER_KEY, user.id).await?;
    tracing::info!(user = %user.id, "signed in with Google");
    Ok(if first_import {
        "/welcome"
    } else {
        "/contacts"
    })
}

pub async fn logout(session: Session) -> Response {
    if let Err(error) = session.flush().await {
        tracing::warn!(%error, "could not clear the session");
    }
    Redirect::to("/login?signed_out=1").into_response()
}

/// Google did not vouch for the profile's address (`email_verified` false or missing).
#[derive(Debug, thiserror::Error)]
#[error("Google has not verified this account's email address")]
struct UnverifiedEmail;

fn login_error(reason: &str) -> Response {
    Redirect::to(&format!("/login?error={reason}")).into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Paths anyone may load: the login page and the assets it needs, the OAuth flow,
/// health checks.
fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/api/visitor"
        || path == "/healthz"
        || path == "/favicon.ico"
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        // Webhooks authenticate with the channel's key, not a session.
        || path.starts_with("/ingest/")
}

/// Resolves the signed-in user for every request and puts it in the request's
/// extensions, where server functions and pages find it.
pub async fn require_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let user = match session.get::<UserId>(USER_KEY).await {
        Ok(Some(id)) => match state.db.signed_in(id).await {
            Ok(signed_in) => Some(signed_in),
            Err(domain::DomainError::NotFound(_)) => {
                let _ = session.flush().await;
                None
            }
            Err(error) => {
                tracing::error!(%error, "could not load the signed-in user");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        },
        _ => None,
    };
    match user {
        Some((user, header)) => {
            renew_daily(&session).await;
            request.extensions_mut().insert(CurrentUser {
                id: user.id,
                email: user.email,
                name: user.name,
                header,
            });
            next.run(request).await
        }
        None if is_public(&path) => next.run(request).await,
        None if path.starts_with("/api/") => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": "sign in required" })),
        )
            .into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

/// Moves a signed-in session's end to [`SESSION_INACTIVITY`] from now, at most once a
/// day: the session store writes only changed sessions, so without this a session would
/// end 14 days after sign-in however often it is used, and with it on every request each
/// page view would be a write.
async fn renew_daily(session: &Session) {
    let today = chrono::Utc::now().date_naive();
    let renewed = session.get::<chrono::NaiveDate>(RENEWED_KEY).await;
    if !matches!(renewed, Ok(Some(day)) if day == today) {
        // Marks the session changed: it is saved with a new expiry and the cookie's
        // Max-Age is sent again. A failure leaves the old expiry, which still holds.
        if let Err(error) = session.insert(RENEWED_KEY, today).await {
            tracing::warn!(%error, "could not renew the session");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_login_flow_and_assets_are_public() {
        for path in [
            "/login",
            "/auth/google/start",
            "/auth/google/callback",
            "/pkg/rapport.wasm",
            "/healthz",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/",
            "/contacts",
            "/settings",
            "/api/list_contacts",
            "/loginx",
            "/pkgx",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }

    #[test]
    fn state_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
