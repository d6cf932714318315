//! The Gmail API v1 read surface Rapport needs, behind the small [`GmailApi`] trait so
//! that sync logic is tested against fakes and the real service alike. [`HttpGmail`]
//! speaks the wire format; [`QuotaClient`] wraps any implementation with the per-user
//! quota, bounded concurrency and retries, which is what sync code calls.

mod client;
mod error;
mod http;
mod limiter;
mod tokens;
mod types;

use uuid::Uuid;

pub use client::{ClientStats, QuotaClient, RetryPolicy};
pub use error::GmailError;
pub use http::{DEFAULT_BASE_URL, HttpGmail};
pub use limiter::{Limiters, QuotaConfig, QuotaLimiter};
pub use tokens::{AccessTokens, StaticTokens, TokenError};
pub use types::{
    HistoryId, HistoryPage, HistoryRecord, Label, LabelDelta, ListQuery, MessageRef, MessagesPage,
    Profile, RawMessage, SendAs,
};

/// One Gmail account's API, as seen by sync code. `account` is Rapport's account id;
/// implementations map it to credentials. Every method is one API call.
pub trait GmailApi: Send + Sync + 'static {
    /// `users.getProfile` (1 unit).
    fn get_profile(
        &self,
        account: Uuid,
    ) -> impl Future<Output = Result<Profile, GmailError>> + Send;

    /// `users.messages.list` (5 units): one page of ids, newest first.
    fn list_messages(
        &self,
        account: Uuid,
        query: &ListQuery,
        page_token: Option<&str>,
    ) -> impl Future<Output = Result<MessagesPage, GmailError>> + Send;

    /// `users.messages.get` with `format=raw` (5 units).
    fn get_message_raw(
        &self,
        account: Uuid,
        id: &str,
    ) -> impl Future<Output = Result<RawMessage, GmailError>> + Send;

    /// `users.history.list` (2 units): changes after `start`, all four history types.
    /// An expired `start` gives [`GmailError::HistoryExpired`].
    fn list_history(
        &self,
        account: Uuid,
        start: HistoryId,
        page_token: Option<&str>,
    ) -> impl Future<Output = Result<HistoryPage, GmailError>> + Send;

    /// `users.labels.list` (1 unit).
    fn list_labels(
        &self,
        account: Uuid,
    ) -> impl Future<Output = Result<Vec<Label>, GmailError>> + Send;

    /// `users.settings.sendAs.list` (1 unit): the owner's own addresses.
    fn list_send_as(
        &self,
        account: Uuid,
    ) -> impl Future<Output = Result<Vec<SendAs>, GmailError>> + Send;
}

/// Quota units per method, from Google's published table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    GetProfile,
    ListMessages,
    GetMessage,
    ListHistory,
    ListLabels,
    ListSendAs,
}

impl Method {
    pub fn cost(self) -> u32 {
        match self {
            Self::GetProfile | Self::ListLabels | Self::ListSendAs => 1,
            Self::ListHistory => 2,
            Self::ListMessages | Self::GetMessage => 5,
        }
    }
}
