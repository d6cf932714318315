//! Storing provider mail: one `activities` row per message (idempotent on
//! `(account_id, external_id)`), its participants, and a `sync_ledger` row recording what
//! happened to every item the provider showed us, so nothing is lost silently. Raw bytes
//! are not kept in Postgres: the provider has them, and the content hash and size are
//! enough to notice a change.

mod rows;
mod store;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::DomainError;
use crate::mail::ParsedEmail;

pub use store::{EmailActivity, LedgerEntry};

/// One message as the provider delivered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingEmail {
    /// The provider's id (Gmail message id); unique within the account.
    pub external_id: String,
    /// The provider's conversation id (Gmail thread id).
    pub thread_id: Option<String>,
    pub labels: Vec<String>,
    /// The provider's receive time (Gmail `internalDate`).
    pub received_at: DateTime<Utc>,
    pub content: EmailContent,
}

/// A message's content: the raw RFC 5322 bytes (Gmail, mbox), parsed here; or already
/// parsed by a provider that delivers structured mail (JMAP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailContent {
    Raw(Vec<u8>),
    Parsed(Box<ParsedEmail>),
}

impl From<Vec<u8>> for EmailContent {
    fn from(raw: Vec<u8>) -> Self {
        Self::Raw(raw)
    }
}

impl From<ParsedEmail> for EmailContent {
    fn from(parsed: ParsedEmail) -> Self {
        Self::Parsed(Box::new(parsed))
    }
}

/// A message of the synthetic mailbox, as the fake Gmail delivers it.
#[cfg(feature = "fake-mailbox")]
impl From<fakes::mailbox::GeneratedMessage> for IncomingEmail {
    fn from(m: fakes::mailbox::GeneratedMessage) -> Self {
        Self {
            external_id: m.id,
            thread_id: Some(m.thread_id),
            labels: m.label_ids,
            received_at: m.internal_date,
            content: m.raw.into(),
        }
    }
}

/// Which messages are not imported at all. The rule's name is kept in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestFilter {
    /// Messages carrying any of these labels are skipped (rule `label:<LABEL>`).
    pub skip_labels: Vec<String>,
    /// A message whose Message-ID the user already has through another account is
    /// recorded as `duplicate` (pointing at that activity) instead of stored again.
    pub skip_duplicates: bool,
}

impl Default for IngestFilter {
    /// Spam is not a relationship, and drafts were never sent.
    fn default() -> Self {
        Self {
            skip_labels: vec!["SPAM".to_owned(), "DRAFT".to_owned()],
            skip_duplicates: false,
        }
    }
}

impl IngestFilter {
    /// The name of the rule that filters this message, if any.
    pub fn rule_for(&self, email: &IncomingEmail) -> Option<String> {
        email
            .labels
            .iter()
            .find(|l| self.skip_labels.contains(l))
            .map(|l| format!("label:{l}"))
    }
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// A new activity was written.
    Imported(Uuid),
    /// The activity already existed; its labels and deleted state were refreshed.
    Updated(Uuid),
    Filtered {
        rule: String,
    },
    /// The user has this message through another account: that activity.
    Duplicate(Uuid),
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEmail {
    pub external_id: String,
    pub outcome: StoreOutcome,
}

/// A Gmail history label change for one message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LabelChange {
    pub external_id: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("account not found")]
    AccountNotFound,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("could not encode a batch: {0}")]
    Encode(#[from] serde_json::Error),
}

impl From<IngestError> for DomainError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::AccountNotFound => DomainError::NotFound("account"),
            IngestError::Database(e) => DomainError::Database(e),
            IngestError::Encode(e) => DomainError::invalid("email batch", e.to_string()),
        }
    }
}
