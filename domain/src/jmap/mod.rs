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
//! 4. `Email/query` + `Email/get` in ONE request, the get taking the query's ids by
//!    back-reference:
//!    - `["Email/query", {accountId, filter: {inMailbox: "<id>", notKeyword: "$crm_done",
//!      after: "<UTCDate>" (only once a checkpoint exists)}, sort: [{property:
//!      "receivedAt", isAscending: true}], position: <n * 50>, limit: 50,
//!      collapseThreads: false}, "q"]`
//!    - `["Email/get", {accountId, "#ids": {resultOf: "q", name: "Email/query", path:
//!      "/ids"}, properties: [`[`EMAIL_PROPERTIES`]`], fetchTextBodyValues: true,
//!      fetchHTMLBodyValues: true, maxBodyValueBytes: 1000000}, "g"]`
//!      (several of these requests, at positions 0, 50, 100, ..., are in flight at once).
//! 5. `Email/set` `{accountId, update: {"<id>": patch}}` with the patches
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
    Credential, EMAIL_PROPERTIES, Email, EmailBatch, EmailPatch, EmailQuery, Endpoint, Mailbox,
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

    /// `Email/query` + `Email/get` (`#ids`) in one request.
    fn emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        query: &EmailQuery,
    ) -> impl Future<Output = Result<EmailBatch, JmapError>> + Send;

    /// `Email/set` updates; a partial failure is in [`SetOutcome::not_updated`].
    fn update_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        patches: &[(String, EmailPatch)],
    ) -> impl Future<Output = Result<SetOutcome, JmapError>> + Send;
}
