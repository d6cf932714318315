//! A fake JMAP mail server (RFC 8620 core, RFC 8621 mail) for demo mode: the session
//! resource, `Mailbox/get`, `Mailbox/set`, `Email/query`, `Email/get` and `Email/set`
//! with result references, the standard method and request-level errors, and Bearer
//! (Fastmail API token) or Basic authentication. Tests use a real Cyrus instead; this
//! fake exists so `make run` shows a Fastmail account without the internet.

mod demo;
mod methods;
mod store;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

pub use demo::demo_account;
pub use store::{JmapAccount, JmapAddress, JmapEmail, JmapMailbox};

use store::Store;

const CORE: &str = "urn:ietf:params:jmap:core";
const MAIL: &str = "urn:ietf:params:jmap:mail";

/// The session resource's path; the API answers at `/jmap/api/`.
pub const SESSION_PATH: &str = "/jmap/session";

struct Shared {
    base_url: String,
    accounts: Vec<Mutex<Store>>,
}

/// The fake's routes for accounts, to be served at `base_url`.
pub fn router(base_url: &str, accounts: Vec<JmapAccount>) -> Router {
    let shared = Arc::new(Shared {
        base_url: base_url.to_owned(),
        accounts: accounts
            .into_iter()
            .map(|a| Mutex::new(Store::new(a)))
            .collect(),
    });
    Router::new()
        .route(SESSION_PATH, get(session))
        .route("/.well-known/jmap", get(session))
        .route("/jmap/api/", post(api))
        .with_state(shared)
}

/// Which account the request's credentials open, if any.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<usize> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    let matches = |a: &JmapAccount| {
        if scheme.eq_ignore_ascii_case("bearer") {
            credentials == a.token
        } else if scheme.eq_ignore_ascii_case("basic") {
            base64::engine::general_purpose::STANDARD
                .decode(credentials)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .is_some_and(|pair| pair == format!("{}:{}", a.username, a.password))
        } else {
            false
        }
    };
    shared
        .accounts
        .iter()
        .position(|s| matches(&s.lock().expect("jmap store lock").account))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"jmap\"")],
        "Authentication required",
    )
        .into_response()
}

/// An RFC 7807 problem, as RFC 8620 section 3.6.1 answers a request it cannot run.
/// `maxCallsInRequest`.
const MAX_CALLS_IN_REQUEST: usize = 16;

fn problem(kind: &str, detail: &str) -> Response {
    problem_with(json!({ "type": kind, "status": 400, "detail": detail }))
}

fn problem_with(body: Value) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

async fn session(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(index) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    let store = shared.accounts[index].lock().expect("jmap store lock");
    let account_id = store.account_id();
    let base = &shared.base_url;
    axum::Json(json!({
        "capabilities": {
            CORE: {
                "maxSizeUpload": 50_000_000, "maxConcurrentUpload": 4,
                "maxSizeRequest": 10_000_000, "maxConcurrentRequests": 4,
                "maxCallsInRequest": MAX_CALLS_IN_REQUEST, "maxObjectsInGet": methods::MAX_OBJECTS,
                "maxObjectsInSet": methods::MAX_OBJECTS,
                "collationAlgorithms": ["i;ascii-numeric", "i;ascii-casemap"]
            },
            MAIL: {}
        },
        "accounts": {
            account_id.clone(): {
                "name": store.account.username, "isPersonal": true, "isReadOnly": false,
                "accountCapabilities": {
                    CORE: {},
                    MAIL: {
                        "maxMailboxesPerEmail": null, "maxMailboxDepth": null,
                        "maxSizeMailboxName": 490, "maxSizeAttachmentsPerEmail": 50_000_000,
                        "emailQuerySortOptions": ["receivedAt"], "mayCreateTopLevelMailbox": true
                    }
                }
            }
        },
        "primaryAccounts": { CORE: account_id, MAIL: account_id },
        "username": store.account.username,
        "apiUrl": format!("{base}/jmap/api/"),
        "downloadUrl": format!("{base}/jmap/download/{{accountId}}/{{blobId}}/{{name}}?accept={{type}}"),
        "uploadUrl": format!("{base}/jmap/upload/{{accountId}}/"),
        "eventSourceUrl": format!("{base}/jmap/eventsource/?types={{types}}&closeafter={{closeafter}}&ping={{ping}}"),
        "state": store.session_state(),
    }))
    .into_response()
}

async fn api(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> Response {
    let Some(index) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return problem(
            "urn:ietf:params:jmap:error:notJSON",
            "The request body is not JSON.",
        );
    };
    let (Some(using), Some(calls)) = (
        request.get("using").and_then(Value::as_array),
        request.get("methodCalls").and_then(Value::as_array),
    ) else {
        return problem(
            "urn:ietf:params:jmap:error:notRequest",
            "The request needs `using` and `methodCalls` arrays.",
        );
    };
    if let Some(unknown) = using
        .iter()
        .filter_map(Value::as_str)
        .find(|c| *c != CORE && *c != MAIL)
    {
        return problem(
            "urn:ietf:params:jmap:error:unknownCapability",
            &format!("The capability {unknown} is not supported."),
        );
    }
    if calls.len() > MAX_CALLS_IN_REQUEST {
        // RFC 8620 section 3.6.1: a request-level limit error names the limit.
        return problem_with(json!({
            "type": "urn:ietf:params:jmap:error:limit", "status": 400,
            "limit": "maxCallsInRequest",
            "detail": format!("at most {MAX_CALLS_IN_REQUEST} method calls in a request"),
        }));
    }
    let mut store = shared.accounts[index].lock().expect("jmap store lock");
    let mut responses: Vec<Value> = Vec::with_capacity(calls.len());
    for call in calls {
        let Some([name, args, call_id]) = call
            .as_array()
            .map(Vec::as_slice)
            .and_then(|c| <&[Value; 3]>::try_from(c).ok())
        else {
            return problem(
                "urn:ietf:params:jmap:error:notRequest",
                "Each method call is [name, arguments, call id].",
            );
        };
        let name = name.as_str().unwrap_or_default();
        let (name, result) = match methods::resolve_references(args, &responses) {
            Ok(args) => match store.call(name, &args) {
                Ok(result) => (name, result),
                Err(error) => ("error", error.to_json()),
            },
            Err(error) => ("error", error.to_json()),
        };
        responses.push(json!([name, result, call_id]));
    }
    axum::Json(json!({
        "methodResponses": responses,
        "sessionState": store.session_state(),
    }))
    .into_response()
}
