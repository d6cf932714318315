//! `/api/v1`: the programmatic API for agents and scripts, authenticated only by a
//! personal API token in `Authorization: Bearer <token>` (made in Settings → API tokens).
//! No cookie session is read here, so a browser's ambient credentials never count.
//!
//! - `GET  /api/v1/contacts/{id-or-email}/notes`: the contact's notes, newest first.
//! - `POST /api/v1/contacts/{id-or-email}/notes`: `{"body", "source_activity_id"?, "author"?}`
//!   makes an agent note, named `author` or else the token's name.
//! - `GET  /api/v1/contacts/{id-or-email}/activities?state=completed&limit=50`: what an
//!   agent reads before writing.
//! - `GET  /api/v1/search?q=...&page=1`: mail search (400 `bad_request` for a query that
//!   cannot be run, with the parser's message).
//!
//! Errors are `{"error": {"code", "message", "field"?}}`: 401 `unauthorized` (missing,
//! unknown or revoked token), 404 `not_found` (also for another user's contact: its
//! existence is never revealed), 422 `invalid` with the `field`, 400 `invalid_json`.

use std::collections::HashMap;

use api::{ActivityState, AuthorKind, Channel, Direction};
use app::{AppError, ErrorKind};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use domain::api_tokens::TokenHolder;
use domain::notes::{
    ActivityStateFilter, Author, ContactActivity, ContactRef, NewNote, Note, NoteBody,
};
use domain::{DomainError, UserScope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::startup::AppState;

/// Activities listed when the request does not say.
const DEFAULT_ACTIVITY_LIMIT: i64 = 50;
const MAX_ACTIVITY_LIMIT: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/contacts/{contact}/notes",
            get(list_notes).post(create_note),
        )
        .route(
            "/api/v1/contacts/{contact}/activities",
            get(list_activities),
        )
        .route("/api/v1/search", get(crate::search_api::search))
}

/// A note on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteJson {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub author: AuthorJson,
    pub body: String,
    pub source_activity: Option<SourceJson>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorJson {
    pub kind: AuthorKind,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceJson {
    pub id: Uuid,
    pub channel: Channel,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotesJson {
    pub notes: Vec<NoteJson>,
}

/// An activity on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityJson {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub snippet: Option<String>,
    pub state: ActivityState,
    pub processed_at: Option<DateTime<Utc>>,
    /// A call's recorded transcript, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitiesJson {
    pub contact_id: Uuid,
    pub activities: Vec<ActivityJson>,
}

impl From<Note> for NoteJson {
    fn from(note: Note) -> Self {
        Self {
            id: note.id,
            contact_id: note.contact_id,
            author: AuthorJson {
                kind: note.author.kind(),
                name: note.author.name().to_owned(),
            },
            body: note.body,
            source_activity: note.source.map(|s| SourceJson {
                id: s.id,
                channel: s.channel,
                subject: s.subject,
                snippet: s.snippet,
                occurred_at: s.occurred_at,
            }),
            created_at: note.created_at,
            updated_at: note.updated_at,
        }
    }
}

impl From<ContactActivity> for ActivityJson {
    fn from(a: ContactActivity) -> Self {
        Self {
            id: a.id,
            channel: a.channel,
            direction: a.direction,
            occurred_at: a.occurred_at,
            subject: a.subject,
            snippet: a.snippet,
            state: a.state,
            processed_at: a.processed_at,
            transcript: None,
        }
    }
}

/// `/api/v1`'s documented error body, `{"error": {"code", "message", "field"?}}`, around
/// the application's [`AppError`], which decides the status, the code and the words.
#[derive(Debug)]
pub struct ApiError(AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        Self(error.into())
    }
}

impl ApiError {
    fn unauthorized() -> Self {
        Self(AppError::new(
            ErrorKind::Unauthorized,
            "Missing, unknown or revoked API token: send Authorization: Bearer <token>",
        ))
    }

    fn invalid(field: &'static str, message: impl std::fmt::Display) -> Self {
        Self(AppError::invalid(field, message))
    }

    fn invalid_json(message: impl std::fmt::Display) -> Self {
        Self(AppError::new(
            ErrorKind::InvalidJson,
            format!("The request body is not a JSON object: {message}"),
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0.reported();
        let mut body = json!({ "code": error.code(), "message": error.to_string() });
        if let Some(field) = error.field() {
            body["field"] = json!(field);
        }
        let body = Json(json!({ "error": body }));
        if error.kind() == ErrorKind::Unauthorized {
            return (error.status(), [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
        }
        (error.status(), body).into_response()
    }
}

/// The holder of the request's API token.
pub struct TokenCaller(TokenHolder);

impl TokenCaller {
    pub fn user(&self) -> domain::UserId {
        self.0.user
    }
}

impl FromRequestParts<AppState> for TokenCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        state
            .db
            .authenticate_api_token(token)
            .await?
            .map(TokenCaller)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// The token of `Authorization: Bearer <token>`; nothing else is read.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn contact_of(scope: &UserScope<'_>, reference: &str) -> Result<Uuid, ApiError> {
    let reference = ContactRef::parse(reference)?;
    Ok(scope.notes().resolve_contact(&reference).await?)
}

async fn list_notes(
    State(state): State<AppState>,
    TokenCaller(caller): TokenCaller,
    Path(contact): Path<String>,
) -> Result<Json<NotesJson>, ApiError> {
    let scope = state.db.for_user(caller.user);
    let contact = contact_of(&scope, &contact).await?;
    let notes = scope.notes().for_contact(contact).await?;
    Ok(Json(NotesJson {
        notes: notes.into_iter().map(NoteJson::from).collect(),
    }))
}

async fn create_note(
    State(state): State<AppState>,
    TokenCaller(caller): TokenCaller,
    Path(contact): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<NoteJson>), ApiError> {
    let scope = state.db.for_user(caller.user);
    let contact = contact_of(&scope, &contact).await?;
    let request = NoteRequest::parse(&body, &caller.name)?;
    let note = scope
        .notes()
        .create(&NewNote {
            contact,
            body: request.body,
            author: request.author,
            source_activity: request.source_activity,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(note.into())))
}

/// A `POST .../notes` body, read field by field so an error names its field.
#[derive(Debug, PartialEq)]
struct NoteRequest {
    body: NoteBody,
    author: Author,
    source_activity: Option<Uuid>,
}

impl NoteRequest {
    fn parse(raw: &[u8], token_name: &str) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_slice(raw).map_err(ApiError::invalid_json)?;
        let Value::Object(fields) = value else {
            return Err(ApiError::invalid_json("expected an object"));
        };
        let text = |name: &'static str| match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(ApiError::invalid(name, "must be a string")),
        };
        let body = text("body")?.ok_or_else(|| ApiError::invalid("body", "is required"))?;
        let body = NoteBody::parse(body)?;
        let author = Author::agent(text("author")?.unwrap_or(token_name))?;
        let source_activity = text("source_activity_id")?
            .map(|id| {
                Uuid::parse_str(id.trim())
                    .map_err(|_| ApiError::invalid("source_activity_id", "must be an activity id"))
            })
            .transpose()?;
        Ok(Self {
            body,
            author,
            source_activity,
        })
    }
}

async fn list_activities(
    State(state): State<AppState>,
    TokenCaller(caller): TokenCaller,
    Path(contact): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<ActivitiesJson>, ApiError> {
    let scope = state.db.for_user(caller.user);
    let contact = contact_of(&scope, &contact).await?;
    let filter = ActivityStateFilter::parse(params.get("state").map(String::as_str))?;
    let limit = match params.get("limit") {
        None => DEFAULT_ACTIVITY_LIMIT,
        Some(limit) => limit
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_ACTIVITY_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::invalid(
                    "limit",
                    format!("must be a number from 1 to {MAX_ACTIVITY_LIMIT}"),
                )
            })?,
    };
    let activities = scope
        .notes()
        .contact_activities(contact, filter, limit)
        .await?;
    let ids: Vec<Uuid> = activities.iter().map(|a| a.id).collect();
    let mut transcripts = scope.calls().transcripts(&ids).await?;
    Ok(Json(ActivitiesJson {
        contact_id: contact,
        activities: activities
            .into_iter()
            .map(|a| {
                let transcript = transcripts.remove(&a.id);
                ActivityJson {
                    transcript,
                    ..ActivityJson::from(a)
                }
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: ApiError) -> String {
        assert_eq!(error.0.kind(), ErrorKind::Invalid, "{}", error.0);
        error.0.field().expect("a field").to_owned()
    }

    #[test]
    fn a_note_request_names_the_field_it_fails_on() {
        let ok = NoteRequest::parse(br#"{"body": " hi "}"#, "agent").unwrap();
        assert_eq!(ok.body.as_str(), "hi");
        assert_eq!(ok.author, Author::Agent("agent".into()), "the token's name");
        let named = NoteRequest::parse(br#"{"body": "hi", "author": "bot"}"#, "agent").unwrap();
        assert_eq!(named.author, Author::Agent("bot".into()));

        assert_eq!(
            field_of(NoteRequest::parse(b"{}", "a").unwrap_err()),
            "body"
        );
        assert_eq!(
            field_of(NoteRequest::parse(br#"{"body": "  "}"#, "a").unwrap_err()),
            "body"
        );
        assert_eq!(
            field_of(NoteRequest::parse(br#"{"body": 5}"#, "a").unwrap_err()),
            "body"
        );
        assert_eq!(
            field_of(NoteRequest::parse(br#"{"body": "x", "author": ""}"#, "a").unwrap_err()),
            "author"
        );
        assert_eq!(
            field_of(
                NoteRequest::parse(br#"{"body": "x", "source_activity_id": "nope"}"#, "a")
                    .unwrap_err()
            ),
            "source_activity_id"
        );
        for not_an_object in [&b"not json"[..], b"[1]"] {
            let error = NoteRequest::parse(not_an_object, "a").unwrap_err();
            assert_eq!(error.0.code(), "invalid_json");
        }
    }

    #[test]
    fn only_a_bearer_authorization_carries_a_token() {
        let headers = |value: &str| {
            let mut map = HeaderMap::new();
            map.insert(header::AUTHORIZATION, value.parse().unwrap());
            map
        };
        assert_eq!(bearer_token(&headers("Bearer rpt_abc")), Some("rpt_abc"));
        assert_eq!(bearer_token(&headers("bearer  rpt_abc ")), Some("rpt_abc"));
        assert_eq!(bearer_token(&headers("Basic dXNlcg==")), None);
        assert_eq!(bearer_token(&headers("Bearer ")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
