//! Gmail API v1 read endpoints: profile, labels, messages (list, get,
//! attachments). History lives in `history.rs`.
//!
//! Every call passes through [`gate`], which applies — in Google's order —
//! latency, authentication, scope, mailbox ownership, quota and injected
//! failures, and counts the call for the stats.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::errors::ApiError;
use super::faults::mix;
use super::mime_tree::{self, parse_attachment_id};
use super::oauth::bearer;
use super::query::build_filter;
use super::quota::cost;
use super::state::Shared;
use super::store::{format_id, parse_id};

pub(crate) type Params = Vec<(String, String)>;
pub(crate) type ApiResult = Result<Json<Value>, ApiError>;

/// An admitted call: whose mailbox, and whether the token only has the
/// `gmail.metadata` scope (no bodies, no search).
pub(crate) struct Caller {
    pub account: usize,
    pub metadata_only: bool,
}

pub(crate) async fn gate(
    shared: &Shared,
    headers: &HeaderMap,
    user_id: &str,
    method: &str,
) -> Result<Caller, ApiError> {
    *shared
        .stats()
        .requests
        .entry(method.to_string())
        .or_default() += 1;
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let b = bearer(shared, headers).ok_or_else(ApiError::unauthenticated)?;
    let short: Vec<&str> = b
        .scope
        .split_whitespace()
        .map(|s| {
            s.strip_prefix("https://www.googleapis.com/auth/")
                .unwrap_or(s)
        })
        .collect();
    let full = short.iter().any(|s| {
        matches!(
            *s,
            "gmail.readonly" | "gmail.modify" | "https://mail.google.com/"
        )
    });
    let metadata = short.contains(&"gmail.metadata");
    if !full && !metadata {
        return Err(ApiError::insufficient_scope());
    }
    let account = &shared.accounts[b.account];
    if user_id != "me" && !user_id.eq_ignore_ascii_case(&account.email) {
        return Err(ApiError::delegation_denied(user_id));
    }
    let units = cost(method);
    if shared.quota.enabled() {
        let admitted = account
            .quota
            .lock()
            .expect("quota lock")
            .admit(Instant::now(), units);
        if let Err(wait) = admitted {
            shared.stats().rate_limited += 1;
            let retry_at = Utc::now() + wait;
            return Err(ApiError::user_rate_limited(
                &retry_at.to_rfc3339_opts(SecondsFormat::Millis, true),
                wait.as_secs_f64().ceil().max(1.0) as u64,
            ));
        }
    }
    shared.stats().units_used += u64::from(units);
    if let Some(failure) = shared.faults.next_failure() {
        shared.stats().injected_errors += 1;
        return Err(failure);
    }
    *shared
        .stats()
        .admitted
        .entry(method.to_string())
        .or_default() += 1;
    Ok(Caller {
        account: b.account,
        metadata_only: !full,
    })
}

pub(crate) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn params_all(params: &Params, name: &str) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// `maxResults`: default 100, capped at 500 as Gmail does.
pub(crate) fn max_results(params: &Params) -> Result<usize, ApiError> {
    match param(params, "maxResults") {
        None => Ok(100),
        Some(v) => v.parse::<usize>().map(|n| n.clamp(1, 500)).map_err(|_| {
            ApiError::invalid_argument(&format!("Invalid value '{v}' for maxResults"))
        }),
    }
}

fn parse_bool(params: &Params, name: &str) -> bool {
    param(params, name).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `GET /gmail/v1/users/{userId}/profile`
pub(crate) async fn profile(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let caller = gate(&shared, &headers, &user_id, "users.getProfile").await?;
    let account = &shared.accounts[caller.account];
    let store = account.store();
    Ok(Json(json!({
        "emailAddress": account.email,
        "messagesTotal": store.messages_total(),
        "threadsTotal": store.threads_total(),
        "historyId": store.history.current().to_string(),
    })))
}

/// `GET /gmail/v1/users/{userId}/labels`
pub(crate) async fn labels(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    let caller = gate(&shared, &headers, &user_id, "users.labels.list").await?;
    let store = shared.accounts[caller.account].store();
    let labels: Vec<Value> = store
        .labels()
        .iter()
        .map(|l| {
            if l.system {
                json!({"id": l.id, "name": l.name, "type": "system"})
            } else {
                json!({
                    "id": l.id,
                    "name": l.name,
                    "type": "user",
                    "messageListVisibility": "show",
                    "labelListVisibility": "labelShow",
                })
            }
        })
        .collect();
    Ok(Json(json!({ "labels": labels })))
}

/// Page tokens are opaque hex: a query fingerprint plus the scrambled list
/// position to continue below. Positions never move (deletes leave
/// tombstones, new mail goes on top), so paging is stable while the
/// mailbox changes; a token used with a different query is rejected.
fn page_token(fingerprint: u64, pos: usize) -> String {
    format!(
        "{:08x}{:016x}",
        fingerprint as u32,
        pos as u64 ^ mix(fingerprint)
    )
}

fn parse_page_token(token: &str, fingerprint: u64) -> Option<usize> {
    if token.len() != 24 || u32::from_str_radix(&token[..8], 16).ok()? != fingerprint as u32 {
        return None;
    }
    let scrambled = u64::from_str_radix(&token[8..], 16).ok()?;
    usize::try_from(scrambled ^ mix(fingerprint)).ok()
}

/// `GET /gmail/v1/users/{userId}/messages`
pub(crate) async fn list_messages(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> ApiResult {
    let caller = gate(&shared, &headers, &user_id, "users.messages.list").await?;
    let q = param(&params, "q").unwrap_or_default();
    if caller.metadata_only && !q.is_empty() {
        return Err(ApiError::forbidden(
            "Metadata scope does not support 'q' parameter",
        ));
    }
    let max = max_results(&params)?;
    let store = shared.accounts[caller.account].store();
    let filter = build_filter(
        &store,
        &params_all(&params, "labelIds"),
        q,
        parse_bool(&params, "includeSpamTrash"),
    )
    .map_err(|m| ApiError::invalid_argument(&m))?;
    let mut h = DefaultHasher::new();
    filter.hash(&mut h);
    let fingerprint = h.finish();
    let below = match param(&params, "pageToken").filter(|t| !t.is_empty()) {
        Some(t) => Some(
            parse_page_token(t, fingerprint)
                .ok_or_else(|| ApiError::invalid_argument("Invalid pageToken"))?,
        ),
        None => None,
    };
    let page = store.list(&filter, below, max);
    let mut body = json!({"resultSizeEstimate": page.estimate});
    if !page.ids.is_empty() {
        body["messages"] = page
            .ids
            .iter()
            .map(|&(id, thread)| json!({"id": format_id(id), "threadId": format_id(thread)}))
            .collect();
    }
    if let Some(next) = page.next {
        body["nextPageToken"] = json!(page_token(fingerprint, next));
    }
    Ok(Json(body))
}

fn message_id(id: &str) -> Result<u64, ApiError> {
    parse_id(id).ok_or_else(|| ApiError::invalid_argument("Invalid id value"))
}

/// `GET /gmail/v1/users/{userId}/messages/{id}`
pub(crate) async fn get_message(
    State(shared): State<Arc<Shared>>,
    Path((user_id, id)): Path<(String, String)>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> ApiResult {
    let caller = gate(&shared, &headers, &user_id, "users.messages.get").await?;
    let format = param(&params, "format")
        .unwrap_or("full")
        .to_ascii_lowercase();
    if !matches!(format.as_str(), "raw" | "full" | "metadata" | "minimal") {
        return Err(ApiError::invalid_argument(&format!(
            "Invalid value for format: {format}"
        )));
    }
    if caller.metadata_only && matches!(format.as_str(), "raw" | "full") {
        return Err(ApiError::forbidden(&format!(
            "Metadata scope doesn't allow format {}",
            format.to_ascii_uppercase()
        )));
    }
    let key = message_id(&id)?;
    let info = shared.accounts[caller.account]
        .store()
        .get(key)
        .ok_or_else(ApiError::not_found)?;
    // Rendering happens here, outside the mailbox lock.
    let raw = info.raw.bytes();
    let tree = mime_tree::parse(&raw);
    let mut body = json!({
        "id": format_id(info.id),
        "threadId": format_id(info.thread_id),
        "snippet": tree.snippet(),
        "sizeEstimate": raw.len(),
        "historyId": info.history_id.to_string(),
        "internalDate": info.internal_ms.to_string(),
    });
    if !info.labels.is_empty() {
        body["labelIds"] = json!(info.labels);
    }
    match format.as_str() {
        "raw" => body["raw"] = json!(URL_SAFE.encode(&raw)),
        "full" => body["payload"] = tree.to_json(&format_id(info.id)),
        "metadata" => {
            let wanted = params_all(&params, "metadataHeaders");
            let headers: Vec<Value> = tree
                .headers
                .iter()
                .filter(|(n, _)| {
                    wanted.is_empty() || wanted.iter().any(|w| w.eq_ignore_ascii_case(n))
                })
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect();
            body["payload"] = json!({"mimeType": tree.mime_type, "headers": headers});
        }
        _ => {}
    }
    Ok(Json(body))
}

/// `GET /gmail/v1/users/{userId}/messages/{messageId}/attachments/{id}`
pub(crate) async fn get_attachment(
    State(shared): State<Arc<Shared>>,
    Path((user_id, message, attachment)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let caller = gate(
        &shared,
        &headers,
        &user_id,
        "users.messages.attachments.get",
    )
    .await?;
    if caller.metadata_only {
        return Err(ApiError::insufficient_scope());
    }
    let key = message_id(&message)?;
    let (owner, part_id) = parse_attachment_id(&attachment)
        .ok_or_else(|| ApiError::invalid_argument("Invalid attachment token"))?;
    if parse_id(&owner) != Some(key) {
        return Err(ApiError::not_found());
    }
    let info = shared.accounts[caller.account]
        .store()
        .get(key)
        .ok_or_else(ApiError::not_found)?;
    let raw = info.raw.bytes();
    let tree = mime_tree::parse(&raw);
    let part = tree.find(&part_id).ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({
        "attachmentId": attachment,
        "size": part.body.len(),
        "data": URL_SAFE.encode(&part.body),
    })))
}
