//! Fakes of the enrichment APIs Rapport calls, on one 127.0.0.1 server, each with its
//! documented wire format, auth and error shapes:
//!
//! - People Data Labs: `GET /v5/person/enrich?email=&min_likelihood=` with `X-Api-Key`;
//!   `200 {"status": 200, "likelihood", "data": {…lowercase strings}}`, `404
//!   {"status": 404, "error": {"type": "not_found", "message"}}`, `401 {"status": 401,
//!   "error": {"type": "authentication_error", "message"}}`, `429` with `Retry-After`.
//! - Clearbit combined: `GET /v2/combined/find?email=` with `Authorization: Bearer`;
//!   `200 {"person", "company"}`, `202` while queued, `404 {"error": {"type":
//!   "unknown_record", "message"}}`, `401 {"error": {"type": "auth_required", …}}`.
//! - X API v2: `GET /2/users/by/username/{name}` and `GET /2/users/{id}/tweets` with an
//!   app bearer token; unknown users are `200 {"errors": [{"title": "Not Found Error",
//!   …}]}`, `401 {"title": "Unauthorized", "type": "about:blank", "status": 401,
//!   "detail"}`, rate limits `429` with `x-rate-limit-reset`.
//!
//! Tests script faults per API ([`Fault`]) and read how many requests each API got.

mod world;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::serve::RunningServer;

pub use world::{EnrichmentWorld, FakePerson, FakePost, FakeXUser};

/// The keys the fake accepts.
pub const PDL_KEY: &str = "fake-pdl-key";
pub const CLEARBIT_KEY: &str = "fake-clearbit-key";
pub const X_TOKEN: &str = "fake-x-bearer";

/// Which API a fault or a count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    PeopleDataLabs,
    Clearbit,
    X,
}

/// What the next request to an API gets instead of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `429` with `Retry-After` (X: `x-rate-limit-reset`) this many seconds on.
    RateLimited { retry_after_secs: u64 },
    /// The answer comes after this long.
    Stall(Duration),
    /// Clearbit only: `202`, the lookup is queued.
    Queued,
    /// `500` with the API's error body.
    ServerError,
}

#[derive(Default)]
struct Shared {
    world: EnrichmentWorld,
    faults: HashMap<Api, VecDeque<Fault>>,
    requests: HashMap<Api, usize>,
    /// Every fault-free request stalls this long (a slow provider).
    always_stall: HashMap<Api, Duration>,
}

type AppState = Arc<Mutex<Shared>>;

fn lock(state: &AppState) -> MutexGuard<'_, Shared> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running fake; stops when dropped.
pub struct FakeEnrichment {
    server: RunningServer,
    state: AppState,
}

impl FakeEnrichment {
    /// Serves `world` on a free port (`port` 0) or the given one.
    pub async fn start(world: EnrichmentWorld, port: u16) -> io::Result<Self> {
        let state: AppState = Arc::new(Mutex::new(Shared {
            world,
            ..Shared::default()
        }));
        let app_state = Arc::clone(&state);
        let server = RunningServer::start("enrichment", port, move |_| router(app_state)).await?;
        Ok(Self { server, state })
    }

    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// The next request to `api` gets `fault`.
    pub fn push_fault(&self, api: Api, fault: Fault) {
        lock(&self.state)
            .faults
            .entry(api)
            .or_default()
            .push_back(fault);
    }

    /// Every request to `api` waits this long before answering.
    pub fn stall_always(&self, api: Api, wait: Duration) {
        lock(&self.state).always_stall.insert(api, wait);
    }

    /// Requests `api` has received (including failed and stalled ones).
    pub fn requests(&self, api: Api) -> usize {
        lock(&self.state).requests.get(&api).copied().unwrap_or(0)
    }

    /// Changes what the world says (e.g. a person's new title).
    pub fn update_world(&self, change: impl FnOnce(&mut EnrichmentWorld)) {
        change(&mut lock(&self.state).world);
    }
}

/// The enrichment APIs over `world`, to merge into another fake's router (demo mode
/// serves them beside its JMAP and CalDAV servers).
pub fn demo_router(world: EnrichmentWorld) -> Router {
    router(Arc::new(Mutex::new(Shared {
        world,
        ..Shared::default()
    })))
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/v5/person/enrich", get(pdl))
        .route("/v2/combined/find", get(clearbit))
        .route("/2/users/by/username/{username}", get(x_user))
        .route("/2/users/{id}/tweets", get(x_tweets))
        .with_state(state)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Counts the request and applies the next scripted fault; `Some` is the answer to
/// give instead of the real one.
async fn before(state: &AppState, api: Api) -> Option<Fault> {
    let (fault, stall) = {
        let mut shared = lock(state);
        *shared.requests.entry(api).or_default() += 1;
        let fault = shared.faults.get_mut(&api).and_then(VecDeque::pop_front);
        (fault, shared.always_stall.get(&api).copied())
    };
    match fault {
        Some(Fault::Stall(wait)) => {
            tokio::time::sleep(wait).await;
            None
        }
        Some(other) => Some(other),
        None => {
            if let Some(wait) = stall {
                tokio::time::sleep(wait).await;
            }
            None
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn retry_after(secs: u64, body: Value) -> Response {
    let mut response = json_response(StatusCode::TOO_MANY_REQUESTS, body);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        secs.to_string().parse().expect("digits"),
    );
    response
}

async fn pdl(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let fault = before(&state, Api::PeopleDataLabs).await;
    let error = |status: StatusCode, kind: &str, message: &str| {
        json_response(
            status,
            json!({"status": status.as_u16(), "error": {"type": kind, "message": message}}),
        )
    };
    match fault {
        Some(Fault::RateLimited { retry_after_secs }) => {
            return retry_after(
                retry_after_secs,
                json!({"status": 429, "error": {"type": "rate_limit_error",
                       "message": "You have hit your account rate limit."}}),
            );
        }
        Some(Fault::ServerError | Fault::Queued) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error",
                "Internal server error",
            );
        }
        Some(Fault::Stall(_)) | None => {}
    }
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(PDL_KEY) {
        return error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "Invalid API key",
        );
    }
    let Some(email) = query.get("email") else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Request object must contain at least one of: profile, email, phone, email_hash, lid, name, company",
        );
    };
    let min_likelihood: u8 = query
        .get("min_likelihood")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let shared = lock(&state);
    match shared.world.person(email) {
        Some(person) if person.likelihood >= min_likelihood => {
            json_response(StatusCode::OK, person.pdl_body())
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "No records were found matching your request",
        ),
    }
}

async fn clearbit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let fault = before(&state, Api::Clearbit).await;
    let error = |status: StatusCode, kind: &str, message: &str| {
        json_response(status, json!({"error": {"type": kind, "message": message}}))
    };
    match fault {
        Some(Fault::RateLimited { retry_after_secs }) => {
            return retry_after(
                retry_after_secs,
                json!({"error": {"type": "rate_limit", "message": "Rate limit exceeded."}}),
            );
        }
        Some(Fault::Queued) => {
            return json_response(
                StatusCode::ACCEPTED,
                json!({"error": {"type": "queued", "message": "Lookup queued, try again later."}}),
            );
        }
        Some(Fault::ServerError) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "Something went wrong.",
            );
        }
        Some(Fault::Stall(_)) | None => {}
    }
    if bearer(&headers) != Some(CLEARBIT_KEY) {
        return error(
            StatusCode::UNAUTHORIZED,
            "auth_required",
            "API key required or invalid.",
        );
    }
    let Some(email) = query.get("email").filter(|e| e.contains('@')) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email_invalid",
            "Invalid email.",
        );
    };
    let shared = lock(&state);
    match shared.world.person(email) {
        Some(person) => json_response(StatusCode::OK, person.clearbit_body()),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_record",
            "Unknown email address",
        ),
    }
}

fn x_unauthorized() -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        json!({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}),
    )
}

async fn x_fault(state: &AppState) -> Option<Response> {
    match before(state, Api::X).await {
        Some(Fault::RateLimited { retry_after_secs }) => {
            let reset = chrono::Utc::now().timestamp() + retry_after_secs as i64;
            let mut response = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"title": "Too Many Requests", "detail": "Too Many Requests",
                       "type": "about:blank", "status": 429}),
            );
            let headers = response.headers_mut();
            headers.insert(
                "x-rate-limit-reset",
                reset.to_string().parse().expect("digits"),
            );
            headers.insert("x-rate-limit-remaining", "0".parse().expect("digits"));
            Some(response)
        }
        Some(Fault::ServerError | Fault::Queued) => Some(json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"title": "Service Unavailable", "detail": "Service Unavailable",
                   "type": "about:blank", "status": 503}),
        )),
        Some(Fault::Stall(_)) | None => None,
    }
}

async fn x_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Response {
    if let Some(response) = x_fault(&state).await {
        return response;
    }
    if bearer(&headers) != Some(X_TOKEN) {
        return x_unauthorized();
    }
    let shared = lock(&state);
    match shared.world.x_user(&username) {
        Some(user) => json_response(StatusCode::OK, json!({"data": user.profile()})),
        None => json_response(
            StatusCode::OK,
            json!({"errors": [{
                "value": username, "detail": format!("Could not find user with username: [{username}]."),
                "title": "Not Found Error", "resource_type": "user", "parameter": "username",
                "resource_id": username,
                "type": "https://api.twitter.com/2/problems/resource-not-found"}]}),
        ),
    }
}

async fn x_tweets(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(response) = x_fault(&state).await {
        return response;
    }
    if bearer(&headers) != Some(X_TOKEN) {
        return x_unauthorized();
    }
    let max: usize = query
        .get("max_results")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
        .clamp(5, 100);
    let shared = lock(&state);
    let Some(user) = shared.world.x_user_by_id(&id) else {
        return json_response(
            StatusCode::OK,
            json!({"errors": [{"value": id, "detail": format!("Could not find user with id: [{id}]."),
                   "title": "Not Found Error", "resource_type": "user", "parameter": "id",
                   "resource_id": id, "type": "https://api.twitter.com/2/problems/resource-not-found"}]}),
        );
    };
    json_response(StatusCode::OK, user.timeline(max))
}
