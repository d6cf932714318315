//! `GET /calendar/feed/{token}.ics`: the user's calendar for Google, Apple or Outlook
//! calendars to subscribe to. The secret token in the URL is the only credential
//! (subscribers send no cookie), so the route sits outside the session check; an
//! unknown, rotated or revoked token is a 404, like a page that does not exist.

use app::AppError;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::startup::AppState;

pub async fn serve(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let Some(user) = state.db.calendar_feed_owner(token).await? else {
        return Err(AppError::not_found("calendar feed"));
    };
    let ics = state.db.for_user(user).calendar().feed_ics().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"rapport.ics\"",
            ),
        ],
        ics,
    )
        .into_response())
}
