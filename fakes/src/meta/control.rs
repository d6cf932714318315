//! Control endpoints for tests and demo mode, under `/_fake/meta/`: what happens on
//! Meta's side without Rapport asking (a customer writes, a person replies from the
//! Page), and the faults and limits the next requests meet.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{FaultTarget, GraphError, MetaState, Platform};

pub fn router(state: MetaState) -> Router {
    Router::new()
        .route("/_fake/meta/customer_message", post(customer_message))
        .route("/_fake/meta/page_reply", post(page_reply))
        .route("/_fake/meta/fault", post(fault))
        .route("/_fake/meta/usage", post(usage))
        .route("/_fake/meta/expire_token", post(expire_token))
        .route("/_fake/meta/sent", get(sent))
        .route("/_fake/meta/delay_sends", post(delay_sends))
        .with_state(state)
}

#[derive(Deserialize)]
struct CustomerMessage {
    page_id: String,
    platform: String,
    customer_id: String,
    customer_name: String,
    text: String,
    at: Option<DateTime<Utc>>,
}

async fn customer_message(
    State(state): State<MetaState>,
    Json(body): Json<CustomerMessage>,
) -> Response {
    let Some(platform) = Platform::parse(&body.platform) else {
        return bad_request("platform must be messenger or instagram");
    };
    match state.customer_writes(
        &body.page_id,
        platform,
        (&body.customer_id, &body.customer_name),
        &body.text,
        body.at.unwrap_or_else(Utc::now),
    ) {
        Some((conversation, message)) => {
            Json(json!({"conversation_id": conversation, "message_id": message})).into_response()
        }
        None => bad_request("unknown page, or a page without an Instagram account"),
    }
}

#[derive(Deserialize)]
struct PageReply {
    page_id: String,
    platform: String,
    customer_id: String,
    text: String,
}

async fn page_reply(State(state): State<MetaState>, Json(body): Json<PageReply>) -> Response {
    let Some(platform) = Platform::parse(&body.platform) else {
        return bad_request("platform must be messenger or instagram");
    };
    match state.page_replies(
        &body.page_id,
        platform,
        &body.customer_id,
        &body.text,
        Utc::now(),
    ) {
        Some(message) => Json(json!({"message_id": message})).into_response(),
        None => bad_request("no conversation with this customer"),
    }
}

#[derive(Deserialize)]
struct FaultRequest {
    /// conversations, messages, send, send_then_fail or any.
    target: String,
    /// A Graph error code: 190, 4, 17, 32, 613, 10 or 1 (the "reduce data" 500).
    code: u32,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

async fn fault(State(state): State<MetaState>, Json(body): Json<FaultRequest>) -> Response {
    let target = match body.target.as_str() {
        "conversations" => FaultTarget::Conversations,
        "messages" => FaultTarget::Messages,
        "send" => FaultTarget::Send,
        "send_then_fail" => FaultTarget::SendThenFail,
        "any" => FaultTarget::Any,
        _ => return bad_request("unknown target"),
    };
    let error = match body.code {
        190 => GraphError::expired_token(),
        4 | 17 | 32 | 613 => GraphError::rate_limited(body.code),
        10 => GraphError::outside_window(),
        1 => GraphError::reduce_data(),
        2 => GraphError::unknown(),
        _ => return bad_request("unsupported code"),
    };
    state.inject(target, error, body.count);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Usage {
    percent: u32,
}

async fn usage(State(state): State<MetaState>, Json(body): Json<Usage>) -> Response {
    state.set_usage(body.percent);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Expire {
    page_id: String,
}

async fn expire_token(State(state): State<MetaState>, Json(body): Json<Expire>) -> Response {
    state.expire_token(&body.page_id);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Delay {
    before_ms: u64,
    after_ms: u64,
}

async fn delay_sends(State(state): State<MetaState>, Json(body): Json<Delay>) -> Response {
    state.delay_sends(
        std::time::Duration::from_millis(body.before_ms),
        std::time::Duration::from_millis(body.after_ms),
    );
    StatusCode::NO_CONTENT.into_response()
}

async fn sent(State(state): State<MetaState>) -> Response {
    let sent: Vec<_> = state
        .sent()
        .into_iter()
        .map(|s| {
            json!({"page_id": s.page_id, "recipient_id": s.recipient_id,
                   "message_id": s.message_id, "text": s.text,
                   "messaging_type": s.messaging_type})
        })
        .collect();
    Json(sent).into_response()
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}
