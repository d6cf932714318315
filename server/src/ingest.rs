//! `POST /ingest/{channel}`: webhooks from Twilio, Postmark, TimelinesAI and the generic
//! JSON schema. The key comes only in a header (`Authorization: Bearer` or
//! `X-Ingestion-Key`), never in the URL, where logs and proxies would keep it. The
//! activity is stored `raw` and the answer goes back at once; the processing workers
//! take it from there. Errors are JSON: `{"error": "..."}`.

use app::{AppError, ErrorKind};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::calls::{CallbackOutcome, parse_callback};
use domain::channels::providers::parse_webhook;
use domain::channels::{ChannelError, ChannelProvider, IngestOutcome};
use futures_util::StreamExt;
use serde_json::json;
use uuid::Uuid;

use crate::startup::AppState;

const KEY_HEADER: &str = "x-ingestion-key";

pub async fn receive(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let Some(key) = presented_key(request.headers()) else {
        return Err(AppError::new(
            ErrorKind::Unauthorized,
            "missing ingestion key: send it as Authorization: Bearer <key> or X-Ingestion-Key",
        ));
    };
    let channel = Uuid::parse_str(&channel).map_err(|_| ChannelError::Unauthorized)?;
    let auth = state.db.authorize_channel(channel, &key).await?;
    // Per channel, after the key is checked (a stranger cannot spend a channel's budget)
    // and before the body is read: a refused payload is not stored, and the sender
    // retries it after Retry-After.
    state.limits.webhooks.check(&channel)?;
    let expected = auth.provider.content_type();
    if media_type(request.headers()).as_deref() != Some(expected) {
        return Err(AppError::new(
            ErrorKind::UnsupportedMediaType,
            format!("this channel takes Content-Type: {expected}"),
        ));
    }
    let limit = state.max_webhook_bytes;
    let body = read_limited(request.into_body(), limit).await?;
    // Recording and transcription callbacks are about a call, not activities.
    if let Some(callback) = parse_callback(auth.provider, &body)? {
        let outcome = state.db.ingest_call_callback(&auth, &callback).await?;
        return Ok(callback_accepted(auth.provider, &outcome));
    }
    let parsed = parse_webhook(auth.provider, auth.defaults, &body, Utc::now())?;
    let provider = auth.provider;
    let outcome = state.webhooks.store(auth, parsed).await?;
    Ok(accepted(provider, &outcome))
}

/// The key from `Authorization: Bearer` or `X-Ingestion-Key`.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let custom = headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    bearer
        .or(custom)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
}

/// `application/json; charset=utf-8` -> `application/json`.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

/// Reads the body, stopping as soon as it passes `limit` (a lying or absent
/// Content-Length cannot make the server buffer more).
async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, AppError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::new(ErrorKind::BadRequest, "the request body could not be read")
                .with_source(e)
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::new(
                ErrorKind::TooLarge,
                format!("payload is larger than {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Twilio reads the answer as TwiML: an empty response means "do nothing more".
fn twiml_ok() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}

fn callback_accepted(provider: ChannelProvider, outcome: &CallbackOutcome) -> Response {
    if provider == ChannelProvider::Twilio {
        return twiml_ok();
    }
    let body = match outcome {
        CallbackOutcome::Recording(id) => json!({"status": "stored", "recording_id": id}),
        CallbackOutcome::Transcript(id) => json!({"status": "stored", "recording_id": id}),
        CallbackOutcome::Ignored => json!({"status": "ignored"}),
    };
    (StatusCode::OK, Json(body)).into_response()
}

fn accepted(provider: ChannelProvider, outcome: &IngestOutcome) -> Response {
    if provider == ChannelProvider::Twilio {
        return twiml_ok();
    }
    let body = match outcome {
        IngestOutcome::Stored(id) => json!({"status": "stored", "activity_id": id}),
        IngestOutcome::Duplicate(id) => json!({"status": "duplicate", "activity_id": id}),
        IngestOutcome::Dropped { .. } => json!({"status": "dropped"}),
    };
    let status = match outcome {
        IngestOutcome::Stored(_) => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    (status, Json(body)).into_response()
}
