//! CalDAV calendars (RFC 4791, with RFC 6578's `sync-token` read as a change marker):
//! each event instance in a window (3 months back, 12 ahead) becomes a `meeting`
//! activity with its organizer and attendees as participants.
//!
//! # Requests the client sends
//! Every request carries HTTP Basic auth (user name + app password) and
//! `Content-Type: application/xml; charset=utf-8`; answers must be `207 Multi-Status`
//! (or 200). Hrefs in answers are resolved against the server URL.
//!
//! Discovery ([`CalDavApi::discover`], when connecting):
//! 1. `PROPFIND <server URL path>`, `Depth: 0`, body `propfind/prop/current-user-principal`
//!    -> the principal href (`<d:current-user-principal><d:href>`).
//! 2. `PROPFIND <principal>`, `Depth: 0`, body `propfind/prop/C:calendar-home-set`
//!    -> the home href.
//! 3. `PROPFIND <home>`, `Depth: 1`, body `propfind/prop/{resourcetype, displayname,
//!    A:calendar-color, CS:getctag, sync-token, C:supported-calendar-component-set}`
//!    -> every response whose resourcetype has `C:calendar` and whose component set is
//!    empty/absent or names `VEVENT`.
//!
//! A poll of one calendar ([`poll`]):
//! 1. `PROPFIND <calendar>`, `Depth: 0`, the same body as discovery step 3 -> getctag and
//!    sync-token. Both equal to the stored ones: done, nothing else is sent.
//! 2. `REPORT <calendar>`, `Depth: 1`, body `C:calendar-query` with `prop/getetag` and
//!    `filter/comp-filter[VCALENDAR]/comp-filter[VEVENT]/time-range[start,end]`
//!    (UTC, `YYYYMMDDTHHMMSSZ`) -> `(href, getetag)` per response.
//! 3. Only when some href is new or has a new ETag: `REPORT <calendar>`, `Depth: 1`, body
//!    `C:calendar-multiget` with `prop/{getetag, C:calendar-data}` and one `<d:href>`
//!    per object, at most [`client::MULTIGET_CHUNK`] per request. A response with a 404
//!    status is skipped.
//!
//! Namespaces: `d`/`DAV:`, `C` = `urn:ietf:params:xml:ns:caldav`,
//! `CS` = `http://calendarserver.org/ns/`, `A` = `http://apple.com/ns/ical/`.

pub mod client;
pub mod connect;
pub mod ical;
pub mod jobs;
pub mod poll;
mod store;
mod xml;

use std::time::Duration;

use reqwest::StatusCode;

pub use client::{
    CalDavApi, CalDavCredentials, CalendarInfo, CalendarObject, CalendarState, HttpCalDav,
};
pub use ical::{EventInstance, EventStatus, IcalError, Window, parse_object};
pub use poll::{PollOutcome, poll_calendar};

/// What went wrong talking to a CalDAV server.
#[derive(Debug, thiserror::Error)]
pub enum CalDavError {
    /// 401/403: the user name or app password is wrong or was revoked.
    #[error(
        "the calendar server refused the user name or app password; reconnect the calendar with a new app password"
    )]
    Unauthorized,
    #[error("this address is not a CalDAV server: {0}")]
    NotCalDav(String),
    #[error("bad server address {0}")]
    InvalidUrl(String),
    #[error("enter the user name and the app password")]
    MissingCredentials,
    /// 429: wait (the server's Retry-After when it gave one).
    #[error("the calendar server is rate limiting requests")]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx: the server is having trouble; try again later.
    #[error("the calendar server failed with {0}")]
    Server(StatusCode),
    /// Any other unexpected status (404 for a calendar that was deleted, ...).
    #[error("the calendar server answered {status} for {path}")]
    Status { status: StatusCode, path: String },
    #[error("could not reach the calendar server: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("the calendar server sent XML that is not a WebDAV answer: {0}")]
    Xml(String),
}

impl CalDavError {
    fn from_status(status: StatusCode, retry_after: Option<Duration>, path: &str) -> Self {
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Self::Unauthorized,
            StatusCode::TOO_MANY_REQUESTS => Self::RateLimited { retry_after },
            s if s.is_server_error() => Self::Server(s),
            s => Self::Status {
                status: s,
                path: path.to_owned(),
            },
        }
    }

    /// Worth retrying with backoff: rate limits, server errors, network trouble.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server(_) | Self::Transport(_)
        )
    }

    /// A conditional write found another version (`If-Match` / `If-None-Match`).
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, Self::Status { status, .. } if *status == StatusCode::PRECONDITION_FAILED)
    }

    /// Only the user can fix it, with new credentials.
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Self::Unauthorized)
    }
}
