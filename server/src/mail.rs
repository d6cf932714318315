//! `GET /mail/{activity}/html`: one email's sanitized HTML as the thread page's
//! sandboxed frame loads it, under its own Content-Security-Policy (see
//! `domain::mail::frame`). Behind the session check like every page; another user's
//! message answers 404.

use app::AppError;
use app::ssr::CurrentUser;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use crate::startup::AppState;

pub async fn frame(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(activity): Path<String>,
) -> Result<Response, AppError> {
    let activity = activity
        .parse::<Uuid>()
        .map_err(|_| AppError::not_found("email"))?;
    let document = state.db.for_user(user.id).threads().frame(activity).await?;
    let mut response = Html(document.html).into_response();
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&document.content_security_policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    // Allowing remote images changes the answer; a cached copy must not hide that.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
