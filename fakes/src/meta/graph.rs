//! The Graph API endpoints: a Page's conversations, a conversation's messages, and the
//! Send API. Every answer carries the usage headers; errors use Graph's shape.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::errors::GraphError;
use super::store::{Conversation, FaultTarget, Message, Page, Platform, REPLY_WINDOW, Sent, Store};

/// How many of a conversation's most recent messages Graph returns with details.
pub const DETAILED_MESSAGES: usize = 20;
const DEFAULT_LIMIT: u32 = 25;
const MAX_LIMIT: u32 = 100;

#[derive(Clone)]
pub struct Graph {
    pub store: Arc<Mutex<Store>>,
    /// `http://127.0.0.1:port/v21.0`, for `paging.next`.
    pub base: String,
}

impl Graph {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("meta store lock")
    }
}

type Params = Query<HashMap<String, String>>;

/// `GET /{page-id}/conversations?platform=&fields=&limit=&after=`
pub async fn conversations(
    State(graph): State<Graph>,
    Path(page_id): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let mut store = graph.lock();
    store.requests.push(format!("GET /{page_id}/conversations"));
    let page = match authorize(&store, &params, &headers, Some(&page_id)) {
        Ok(page) => page,
        Err(e) => return e.into_response(),
    };
    let limit = match limit(&params) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    if let Some(fault) = store.take_fault(FaultTarget::Conversations, limit) {
        return fault.error.into_response();
    }
    let platform = match params.get("platform").map(String::as_str) {
        None => Platform::Messenger,
        Some(p) => match Platform::parse(p) {
            Some(p) => p,
            None => {
                return GraphError::invalid_parameter(format!(
                    "(#100) Param platform must be one of {{MESSENGER, INSTAGRAM}} - got \"{p}\""
                ))
                .into_response();
            }
        },
    };
    if platform == Platform::Instagram && page.instagram_id.is_none() {
        return GraphError::invalid_parameter(
            "(#100) This Page is not connected to an Instagram professional account",
        )
        .into_response();
    }
    let mut list: Vec<&Conversation> = store
        .conversations
        .iter()
        .filter(|c| c.page_id == page.id && c.platform == platform)
        .collect();
    list.sort_by(|a, b| {
        b.updated_time()
            .cmp(&a.updated_time())
            .then(b.id.cmp(&a.id))
    });
    let fields = fields(&params, "id");
    let items: Vec<Value> = list
        .iter()
        .map(|c| conversation_json(c, &page, &fields))
        .collect();
    let url = format!("{}/{page_id}/conversations", graph.base);
    let body = paged(items, &params, limit, &url);
    with_usage(Json(body).into_response(), store.usage_percent, &page.id)
}

/// `GET /{conversation-id}/messages?fields=&limit=&after=`: newest first; only the
/// [`DETAILED_MESSAGES`] most recent carry `from`, `to` and `message`, older ones
/// just their `id` and `created_time`.
pub async fn messages(
    State(graph): State<Graph>,
    Path(conversation_id): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let mut store = graph.lock();
    store
        .requests
        .push(format!("GET /{conversation_id}/messages"));
    let page = match authorize(&store, &params, &headers, None) {
        Ok(page) => page,
        Err(e) => return e.into_response(),
    };
    let limit = match limit(&params) {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    if let Some(fault) = store.take_fault(FaultTarget::Messages, limit) {
        return fault.error.into_response();
    }
    let Some(conversation) = store
        .conversations
        .iter()
        .find(|c| c.id == conversation_id && c.page_id == page.id)
    else {
        return GraphError::invalid_parameter(format!(
            "(#100) Unsupported get request. Object with ID '{conversation_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation"
        ))
        .into_response();
    };
    let fields = fields(&params, "id,created_time");
    let items: Vec<Value> = conversation
        .messages
        .iter()
        .rev()
        .enumerate()
        .map(|(i, m)| message_json(m, conversation.platform, &fields, i < DETAILED_MESSAGES))
        .collect();
    let url = format!("{}/{conversation_id}/messages", graph.base);
    let body = paged(items, &params, limit, &url);
    with_usage(Json(body).into_response(), store.usage_percent, &page.id)
}

/// `POST /{page-id}/messages` (or `/me/messages`): the Send API. With send delays set,
/// it waits before (a client that gives up meanwhile sends nothing) and after sending.
pub async fn send(
    State(graph): State<Graph>,
    Path(page_id): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
    body: String,
) -> Response {
    let ((before, after), generation) = {
        let mut store = graph.lock();
        store
            .requests
            .push(format!("POST /{page_id}/messages (received)"));
        (store.send_delay, store.send_generation)
    };
    if !before.is_zero() {
        tokio::time::sleep(before).await;
        // The delays changed while this request waited: its sender is gone (a test
        // killed it), and like a request cut off on the way it never reaches Graph.
        if graph.lock().send_generation != generation {
            return GraphError::unknown().into_response();
        }
    }
    let response = send_now(&graph, &page_id, &params, &headers, &body);
    tokio::time::sleep(after).await;
    response
}

fn send_now(
    graph: &Graph,
    page_id: &str,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &str,
) -> Response {
    let mut store = graph.lock();
    store.requests.push(format!("POST /{page_id}/messages"));
    let wanted = (page_id != "me").then_some(page_id);
    let page = match authorize(&store, params, headers, wanted) {
        Ok(page) => page,
        Err(e) => return e.into_response(),
    };
    if let Some(fault) = store.take_fault(FaultTarget::Send, 1) {
        return fault.error.into_response();
    }
    let request: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => {
            return GraphError::invalid_parameter("(#100) The parameter recipient is required")
                .into_response();
        }
    };
    let (Some(recipient), Some(text)) = (
        request["recipient"]["id"].as_str(),
        request["message"]["text"].as_str(),
    ) else {
        return GraphError::invalid_parameter(
            "(#100) param recipient and message[text] are required",
        )
        .into_response();
    };
    let messaging_type = request["messaging_type"].as_str().unwrap_or("RESPONSE");
    let Some(conversation) = store
        .conversations
        .iter()
        .find(|c| c.page_id == page.id && c.customer_id == recipient)
        .cloned()
    else {
        return GraphError::invalid_parameter("(#100) No matching user found").into_response();
    };
    let now = Utc::now();
    let in_window = conversation
        .last_customer_message()
        .is_some_and(|at| now - at <= REPLY_WINDOW);
    if messaging_type == "RESPONSE" && !in_window {
        return GraphError::outside_window().into_response();
    }
    let customer = (
        conversation.customer_id.as_str(),
        conversation.customer_name.as_str(),
    );
    let Some((_, message_id)) =
        store.add_message(&page.id, conversation.platform, customer, false, text, now)
    else {
        return GraphError::unknown().into_response();
    };
    store.sent.push(Sent {
        page_id: page.id.clone(),
        recipient_id: recipient.to_owned(),
        message_id: message_id.clone(),
        text: text.to_owned(),
        messaging_type: messaging_type.to_owned(),
    });
    if let Some(fault) = store.take_fault(FaultTarget::SendThenFail, 1) {
        return fault.error.into_response();
    }
    let body = json!({"recipient_id": recipient, "message_id": message_id});
    with_usage(Json(body).into_response(), store.usage_percent, &page.id)
}

/// The Page whose token the request presents (`access_token` parameter or a Bearer
/// header); with `page_id`, the token must be that Page's.
fn authorize(
    store: &Store,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    page_id: Option<&str>,
) -> Result<Page, GraphError> {
    let token = params.get("access_token").cloned().or_else(|| {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned)
    });
    let Some(token) = token else {
        return Err(GraphError {
            status: 400,
            code: 104,
            subcode: None,
            kind: "OAuthException",
            message: "An access token is required to request this resource.".into(),
        });
    };
    let page = store
        .page_by_token(&token)
        .ok_or_else(GraphError::invalid_token)?;
    if page.token_expired {
        return Err(GraphError::expired_token());
    }
    if let Some(id) = page_id
        && id != page.id
    {
        return Err(GraphError::invalid_parameter(format!(
            "(#100) Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation"
        )));
    }
    Ok(page.clone())
}

fn limit(params: &HashMap<String, String>) -> Result<u32, GraphError> {
    match params.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                GraphError::invalid_parameter(format!(
                    "(#100) Param limit must be a number between 1 and {MAX_LIMIT}"
                ))
            }),
    }
}

fn fields(params: &HashMap<String, String>, default: &str) -> Vec<String> {
    params
        .get("fields")
        .map_or(default, String::as_str)
        .split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

/// Graph's time format, `2026-12-04T10:15:30+0000`.
pub fn graph_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%z").to_string()
}

fn person(platform: Platform, id: &str, name: &str) -> Value {
    match platform {
        Platform::Messenger => {
            json!({"name": name, "email": format!("{id}@facebook.com"), "id": id})
        }
        Platform::Instagram => json!({"username": name, "id": id}),
    }
}

fn conversation_json(c: &Conversation, page: &Page, fields: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("id".into(), json!(c.id));
    for field in fields {
        match field.as_str() {
            "updated_time" => {
                out.insert(field.clone(), json!(graph_time(c.updated_time())));
            }
            "message_count" => {
                out.insert(field.clone(), json!(c.messages.len()));
            }
            "participants" => {
                let (own_id, own_name) = match c.platform {
                    Platform::Messenger => (page.id.clone(), page.name.clone()),
                    Platform::Instagram => (
                        page.instagram_id.clone().unwrap_or_default(),
                        page.instagram_username.clone().unwrap_or_default(),
                    ),
                };
                out.insert(
                    field.clone(),
                    json!({"data": [
                        person(c.platform, &c.customer_id, &c.customer_name),
                        person(c.platform, &own_id, &own_name),
                    ]}),
                );
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn message_json(m: &Message, platform: Platform, fields: &[String], detailed: bool) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("id".into(), json!(m.id));
    for field in fields {
        match field.as_str() {
            "created_time" => {
                out.insert(field.clone(), json!(graph_time(m.created_time)));
            }
            "from" if detailed => {
                out.insert(field.clone(), person(platform, &m.from_id, &m.from_name));
            }
            "to" if detailed => {
                out.insert(
                    field.clone(),
                    json!({"data": [person(platform, &m.to_id, &m.to_name)]}),
                );
            }
            "message" if detailed => {
                out.insert(field.clone(), json!(m.text));
            }
            _ => {}
        }
    }
    Value::Object(out)
}

fn cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn offset_of(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// One page of `items` after the `after` cursor, with `paging.cursors` and, when more
/// follow, `paging.next` (the same request with the next cursor).
fn paged(items: Vec<Value>, params: &HashMap<String, String>, limit: u32, url: &str) -> Value {
    let start = params
        .get("after")
        .and_then(|c| offset_of(c))
        .map_or(0, |o| o + 1)
        .min(items.len());
    let end = (start + limit as usize).min(items.len());
    let data: Vec<Value> = items[start..end].to_vec();
    if data.is_empty() {
        return json!({"data": []});
    }
    let mut paging = json!({"cursors": {"before": cursor(start), "after": cursor(end - 1)}});
    if end < items.len() {
        let mut query: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "after")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        query.sort();
        query.push(("after".into(), cursor(end - 1)));
        let encoded: String = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        paging["next"] = json!(format!("{url}?{encoded}"));
    }
    json!({"data": data, "paging": paging})
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `X-App-Usage` and `X-Business-Use-Case-Usage`, percentages of the limits.
fn with_usage(mut response: Response, percent: u32, page_id: &str) -> Response {
    let app =
        json!({"call_count": percent, "total_cputime": percent / 2, "total_time": percent / 2});
    let business = json!({page_id: [{
        "type": "pages", "call_count": percent, "total_cputime": percent / 2,
        "total_time": percent / 2, "estimated_time_to_regain_access": 0
    }]});
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&app.to_string()) {
        headers.insert("x-app-usage", v);
    }
    if let Ok(v) = HeaderValue::from_str(&business.to_string()) {
        headers.insert("x-business-use-case-usage", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_times_look_like_graphs() {
        assert_eq!(offset_of(&cursor(41)), Some(41));
        assert_eq!(offset_of("garbage"), None);
        let at = DateTime::parse_from_rfc3339("2026-12-04T10:15:30Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(graph_time(at), "2026-12-04T10:15:30+0000");
    }
}
