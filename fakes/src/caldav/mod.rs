//! A fake CalDAV server (RFC 4791, RFC 6578, the `getctag` extension) for demo mode:
//! discovery by PROPFIND (`current-user-principal` -> `calendar-home-set` -> the
//! calendars), `calendar-query` with a `time-range`, `calendar-multiget`,
//! `sync-collection`, and GET of an event, all behind HTTP Basic. Tests use a real
//! Radicale instead; this fake exists so `make run` shows a calendar without the internet.

mod demo;
mod request;
mod xml;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};

pub use demo::demo_account;

use request::DavRequest;
use xml::{Multistatus, Resource};

/// One VEVENT resource (with its overrides) of a calendar.
#[derive(Debug, Clone)]
pub struct CalDavEvent {
    pub uid: String,
    /// The whole VCALENDAR text, CRLF line endings.
    pub ics: String,
    /// The first instance's start and the last instance's end (`None`: recurs without
    /// end), for `time-range` filtering.
    pub first_start: DateTime<Utc>,
    pub last_end: Option<DateTime<Utc>>,
}

impl CalDavEvent {
    fn etag(&self) -> String {
        format!("\"{:016x}\"", crate::mailbox::rng::hash(&[fnv(&self.ics)]))
    }

    fn overlaps(&self, start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> bool {
        end.is_none_or(|end| self.first_start < end)
            && start.is_none_or(|start| self.last_end.is_none_or(|last| last > start))
    }
}

#[derive(Debug, Clone)]
pub struct CalDavCalendar {
    /// The path segment under the calendar home.
    pub slug: String,
    pub name: String,
    pub color: Option<String>,
    pub events: Vec<CalDavEvent>,
}

impl CalDavCalendar {
    /// Changes whenever an event's content changes.
    fn ctag(&self) -> String {
        let parts: Vec<u64> = self.events.iter().map(|e| fnv(&e.ics)).collect();
        format!("{:016x}", crate::mailbox::rng::hash(&parts))
    }
}

#[derive(Debug, Clone)]
pub struct CalDavAccount {
    pub username: String,
    pub password: String,
    pub calendars: Vec<CalDavCalendar>,
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The fake's routes for `accounts`; everything is answered by one handler that
/// dispatches on the method (WebDAV's PROPFIND and REPORT are not axum routes).
pub fn router(accounts: Vec<CalDavAccount>) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(Arc::new(accounts))
}

fn principal_href(user: &str) -> String {
    format!("/dav/principals/{user}/")
}

fn home_href(user: &str) -> String {
    format!("/dav/calendars/{user}/")
}

fn authenticate<'a>(
    accounts: &'a [CalDavAccount],
    headers: &HeaderMap,
) -> Option<&'a CalDavAccount> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let pair = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?,
    )
    .ok()?;
    let (user, password) = pair.split_once(':')?;
    accounts
        .iter()
        .find(|a| a.username == user && a.password == password)
}

async fn handle(
    State(accounts): State<Arc<Vec<CalDavAccount>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some(account) = authenticate(&accounts, &headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"Rapport demo CalDAV\"",
            )],
            "Authentication required",
        )
            .into_response();
    };
    let path = uri.path();
    let depth = headers
        .get("depth")
        .and_then(|d| d.to_str().ok())
        .unwrap_or("0");
    let request = match method.as_str() {
        "PROPFIND" | "REPORT" => match DavRequest::parse(&body) {
            Ok(request) => Some(request),
            Err(error) => return (StatusCode::BAD_REQUEST, error).into_response(),
        },
        _ => None,
    };
    match (method.as_str(), request) {
        ("OPTIONS", _) => (
            StatusCode::OK,
            [
                ("DAV", "1, 3, calendar-access"),
                ("Allow", "OPTIONS, GET, PROPFIND, REPORT"),
            ],
        )
            .into_response(),
        ("PROPFIND", Some(request)) => propfind(account, path, depth, &request),
        ("REPORT", Some(request)) => report(account, path, &request),
        ("GET", _) => get_event(account, path),
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

/// Where in the account a path points.
enum Target<'a> {
    /// `/`, `/.well-known/caldav` or `/dav/`: only the principal is known there.
    Root,
    Principal,
    Home,
    Calendar(&'a CalDavCalendar),
    Event(&'a CalDavCalendar, &'a CalDavEvent),
}

fn locate<'a>(account: &'a CalDavAccount, path: &str) -> Option<Target<'a>> {
    let user = &account.username;
    let trimmed = path.trim_end_matches('/');
    if matches!(trimmed, "" | "/.well-known/caldav" | "/dav") {
        return Some(Target::Root);
    }
    if format!("{trimmed}/") == principal_href(user) {
        return Some(Target::Principal);
    }
    let rest = path.strip_prefix(&home_href(user).trim_end_matches('/').to_owned())?;
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let Some(slug) = segments.next() else {
        return Some(Target::Home);
    };
    let calendar = account.calendars.iter().find(|c| c.slug == slug)?;
    match segments.next() {
        None => Some(Target::Calendar(calendar)),
        Some(file) => {
            let uid = file.strip_suffix(".ics")?;
            let event = calendar.events.iter().find(|e| e.uid == uid)?;
            Some(Target::Event(calendar, event))
        }
    }
}

fn calendar_href(user: &str, calendar: &CalDavCalendar) -> String {
    format!("{}{}/", home_href(user), calendar.slug)
}

fn event_href(user: &str, calendar: &CalDavCalendar, event: &CalDavEvent) -> String {
    format!("{}{}.ics", calendar_href(user, calendar), event.uid)
}

fn sync_token(calendar: &CalDavCalendar) -> String {
    format!("http://rapport.demo/ns/sync/{}", calendar.ctag())
}

fn calendar_resource(user: &str, calendar: &CalDavCalendar) -> Resource {
    Resource::new(calendar_href(user, calendar))
        .prop("resourcetype", "<d:collection/><c:calendar/>")
        .text("displayname", &calendar.name)
        .text("getctag", &calendar.ctag())
        .text("sync-token", &sync_token(calendar))
        .prop(
            "supported-calendar-component-set",
            "<c:comp name=\"VEVENT\"/>",
        )
        .text_opt("calendar-color", calendar.color.as_deref())
        .prop("current-user-principal", &xml::href(&principal_href(user)))
}

fn event_resource(user: &str, calendar: &CalDavCalendar, event: &CalDavEvent) -> Resource {
    Resource::new(event_href(user, calendar, event))
        .prop("resourcetype", "")
        .text("getetag", &event.etag())
        .text(
            "getcontenttype",
            "text/calendar; charset=utf-8; component=VEVENT",
        )
        .text("calendar-data", &event.ics)
}

fn propfind(account: &CalDavAccount, path: &str, depth: &str, request: &DavRequest) -> Response {
    let user = &account.username;
    let Some(target) = locate(account, path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let principal = || {
        Resource::new(principal_href(user))
            .prop("resourcetype", "<d:principal/>")
            .text("displayname", user)
            .prop("current-user-principal", &xml::href(&principal_href(user)))
            .prop("principal-URL", &xml::href(&principal_href(user)))
            .prop("calendar-home-set", &xml::href(&home_href(user)))
    };
    let mut resources = Vec::new();
    match target {
        Target::Root => resources.push(
            Resource::new(path.to_owned())
                .prop("resourcetype", "<d:collection/>")
                .prop("current-user-principal", &xml::href(&principal_href(user))),
        ),
        Target::Principal => resources.push(principal()),
        Target::Home => {
            resources.push(
                Resource::new(home_href(user))
                    .prop("resourcetype", "<d:collection/>")
                    .prop("current-user-principal", &xml::href(&principal_href(user))),
            );
            if depth != "0" {
                resources.extend(account.calendars.iter().map(|c| calendar_resource(user, c)));
            }
        }
        Target::Calendar(calendar) => {
            resources.push(calendar_resource(user, calendar));
            if depth != "0" {
                resources.extend(
                    calendar
                        .events
                        .iter()
                        .map(|e| event_resource(user, calendar, e)),
                );
            }
        }
        Target::Event(calendar, event) => resources.push(event_resource(user, calendar, event)),
    }
    Multistatus::new(resources).respond(&request.props, None)
}

fn report(account: &CalDavAccount, path: &str, request: &DavRequest) -> Response {
    let user = &account.username;
    let Some(Target::Calendar(calendar)) = locate(account, path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match request.root.as_str() {
        "calendar-query" => {
            let (start, end) = request.time_range;
            let resources = calendar
                .events
                .iter()
                .filter(|e| e.overlaps(start, end))
                .map(|e| event_resource(user, calendar, e))
                .collect();
            Multistatus::new(resources).respond(&request.props, None)
        }
        "calendar-multiget" => {
            let resources = request
                .hrefs
                .iter()
                .map(|href| {
                    calendar
                        .events
                        .iter()
                        .find(|e| event_href(user, calendar, e) == *href)
                        .map_or_else(
                            || Resource::missing(href.clone()),
                            |e| event_resource(user, calendar, e),
                        )
                })
                .collect();
            Multistatus::new(resources).respond(&request.props, None)
        }
        "sync-collection" => {
            let current = sync_token(calendar);
            match request.sync_token.as_deref() {
                Some(token) if token == current => {
                    Multistatus::new(Vec::new()).respond(&request.props, Some(&current))
                }
                None | Some("") => {
                    let resources = calendar
                        .events
                        .iter()
                        .map(|e| event_resource(user, calendar, e))
                        .collect();
                    Multistatus::new(resources).respond(&request.props, Some(&current))
                }
                // The fake keeps no history: an older token is invalid (RFC 6578 3.2),
                // and the client starts over without one.
                Some(_) => (
                    StatusCode::FORBIDDEN,
                    [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
                     <d:error xmlns:d=\"DAV:\"><d:valid-sync-token/></d:error>",
                )
                    .into_response(),
            }
        }
        other => (
            StatusCode::FORBIDDEN,
            format!("REPORT {other} is not supported"),
        )
            .into_response(),
    }
}

fn get_event(account: &CalDavAccount, path: &str) -> Response {
    match locate(account, path) {
        Some(Target::Event(_, event)) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/calendar; charset=utf-8")
            .header(header::ETAG, event.etag())
            .body(Body::from(event.ics.clone()))
            .expect("static headers are valid"),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
