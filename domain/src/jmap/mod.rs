//! JMAP mail (RFC 8620 core, RFC 8621 mail): Fastmail or any JMAP server. A small serde
//! client behind the [`JmapApi`] trait ([`HttpJmap`] speaks HTTP; tests wrap it to
//! inject failures), the conversion of a JMAP `Email` into the ingest layer's parsed
//! message, and the poll that stores new Inbox and Sent mail ([`JmapSync`]).
//!
//! # The exact requests the client makes
//! Every API call is one `POST` to the session's `apiUrl` with
//! `"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]` and the
//! credential as `Authorization: Bearer TOKEN` (Fastmail API token) or
//! `Authorization: Basic base64(user:password)` (other servers).
//!
//! 1. `GET <session URL>`: the session resource. Read: `capabilities` (must contain
//!    `urn:ietf:params:jmap:mail`), `primaryAccounts["urn:ietf:params:jmap:mail"]`,
//!    `username`, `apiUrl` (absolute, or relative to the session URL).
//! 2. `Mailbox/get` `{accountId, ids: null, properties: ["id", "name", "role"]}`.
//! 3. `Mailbox/set` `{accountId, create: {"<name>": {name: "<name>", parentId: null}}}`
//!    for `Skip_Email` and `Skip_Domain` when missing (read: `created.<name>.id`,
//!    `notCreated`).
//! 4. Listing, a window of up to 5,000 new ids per mailbox at a time: `["Email/query",
//!    {accountId, filter: {inMailbox: "<id>", notKeyword: "$crm_done", after: "<UTCDate>"
//!    (only once a checkpoint exists)}, sort: [{property: "receivedAt", isAscending:
//!    true}], position: <n>, limit: <the rest of 5,000 + the listed ids not yet stamped>,
//!    collapseThreads: false}, "q"]`, paged by position when the server caps `limit`.
//!    Read: `ids`, `limit`. No `Email/set` is sent while a window is listed, so its
//!    positions are exact; the next window is listed while the last pages of one are
//!    fetched.
//!    Fetching the window: `["Email/get", {accountId, ids: [50 listed ids], properties:
//!    [`[`EMAIL_PROPERTIES`]`], fetchTextBodyValues: true, fetchHTMLBodyValues: true,
//!    maxBodyValueBytes: 1000000}, "g"]`, eight in flight at all times (at most the
//!    session's `maxConcurrentRequests` less one, kept for a stamp or listing).
//! 5. Stamping, one request at a time alongside the fetches, as soon as three rounds
//!    are committed: `Email/set` `{accountId, update: {"<id>": patch}}` calls of at
//!    most `maxObjectsInSet` updates each, up to `maxCallsInRequest` calls in one
//!    request (call ids `s0`, `s1`, ...), with the patches
//!    `{"keywords/$crm_done": true}` (stored), or for a blocked sender
//!    `{"mailboxIds": {"<Skip_Email or Skip_Domain id>": true}, "keywords/$seen": true,
//!    "keywords/$crm_done": true}`. Read: `updated`, `notUpdated` (partial success).
//!
//! Errors: HTTP 401 -> [`JmapError::Unauthorized`] (the account needs reconnecting);
//! HTTP 429 / 503 and the request error `urn:ietf:params:jmap:error:limit` ->
//! [`JmapError::RateLimited`] (the job retries after its backoff); method errors
//! (`["error", {type, description}, id]`, e.g. `cannotCalculateChanges`,
//! `stateMismatch`) -> [`JmapError::Method`] with the JMAP type.

mod account;
mod blocking;
mod convert;
mod error;
mod http;
mod sync;
mod types;

use std::future::Future;

pub use account::{FastmailConnect, JmapAccount, JmapAccountError};
pub use convert::{labels_of, parse_jmap_email};
pub use error::JmapError;
pub use http::HttpJmap;
pub use sync::{
    DEFAULT_BLOCKED_NAMES, JmapPollJob, JmapSync, JmapSyncError, JmapSyncOptions, PollReport,
    PollsJmap, SKIP_DOMAIN, SKIP_EMAIL, enqueue_jmap_polls,
};
pub use types::{
    Credential, EMAIL_PROPERTIES, Email, EmailPatch, EmailQuery, Endpoint, Listing, Mailbox,
    Session, SetOutcome,
};

/// The keyword Rapport stamps on every message it has handled.
pub const DONE_KEYWORD: &str = "$crm_done";
/// `Email/query` and `Email/get` page size.
pub const PAGE: usize = 50;

/// The JMAP calls the sync makes; one HTTP request each.
pub trait JmapApi: Send + Sync + 'static {
    /// `GET` the session resource.
    fn session(
        &self,
        endpoint: &Endpoint,
    ) -> impl Future<Output = Result<Session, JmapError>> + Send;

    /// `Mailbox/get` of every mailbox.
    fn mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
    ) -> impl Future<Output = Result<Vec<Mailbox>, JmapError>> + Send;

    /// `Mailbox/set` creating top-level mailboxes; returns their ids in order.
    fn create_mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        names: &[&str],
    ) -> impl Future<Output = Result<Vec<String>, JmapError>> + Send;

    /// `Email/query` for one page of ids.
    fn list_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        query: &EmailQuery,
    ) -> impl Future<Output = Result<Listing, JmapError>> + Send;

    /// `Email/get` of these ids (ids the server no longer has are left out).
    fn get_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<Email>, JmapError>> + Send;

    /// `Email/set` updates, split within the session's `maxObjectsInSet` and
    /// `maxCallsInRequest`; a partial failure is in [`SetOutcome::not_updated`].
    fn update_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        patches: &[(String, EmailPatch)],
    ) -> impl Future<Output = Result<SetOutcome, JmapError>> + Send;
}
