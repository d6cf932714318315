//! The JMAP objects Rapport reads and writes, as serde types.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How Rapport signs in to a JMAP server. Never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A Fastmail API token (`Authorization: Bearer`).
    Bearer { token: String },
    /// User name and password (`Authorization: Basic`), for other servers.
    Basic { user: String, password: String },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bearer { .. } => f.write_str("Bearer([redacted])"),
            Self::Basic { user, .. } => write!(f, "Basic({user}, [redacted])"),
        }
    }
}

/// Where and as whom: the session resource's URL and the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub session_url: String,
    pub credential: Credential,
}

/// The session resource (RFC 8620 §2), the parts Rapport reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub capabilities: HashMap<String, Value>,
    #[serde(default)]
    pub primary_accounts: HashMap<String, String>,
    #[serde(default)]
    pub username: String,
    pub api_url: String,
}

pub const CORE: &str = "urn:ietf:params:jmap:core";
pub const MAIL: &str = "urn:ietf:params:jmap:mail";

impl Session {
    /// A limit of the core capability (RFC 8620 section 2), or `fallback` (the RFC's
    /// suggested minimum) when the server does not say.
    pub fn core_limit(&self, name: &str, fallback: usize) -> usize {
        self.capabilities
            .get(CORE)
            .and_then(|core| core.get(name))
            .and_then(Value::as_u64)
            .and_then(|limit| usize::try_from(limit).ok())
            .filter(|limit| *limit > 0)
            .unwrap_or(fallback)
    }

    /// The account holding the user's mail, when the server offers JMAP mail.
    pub fn mail_account(&self) -> Option<&str> {
        if !self.capabilities.contains_key(MAIL) {
            return None;
        }
        self.primary_accounts.get(MAIL).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mailbox {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
}

/// What [`super::JmapApi::list_emails`] asks for: one page of the ids of one mailbox's
/// messages not yet stamped done, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailQuery {
    pub mailbox_id: String,
    /// Only messages received after this (the mailbox's checkpoint).
    pub after: Option<DateTime<Utc>>,
    pub position: usize,
    pub limit: usize,
}

/// The `Email/get` properties requested (RFC 8621 §4.1), and four header fields that
/// bulk-mail detection reads.
pub const EMAIL_PROPERTIES: &[&str] = &[
    "id",
    "blobId",
    "messageId",
    "inReplyTo",
    "references",
    "threadId",
    "from",
    "to",
    "cc",
    "bcc",
    "replyTo",
    "subject",
    "receivedAt",
    "sentAt",
    "preview",
    "keywords",
    "mailboxIds",
    "size",
    "textBody",
    "htmlBody",
    "bodyValues",
    "attachments",
    "header:List-Id:asText",
    "header:List-Unsubscribe:asURLs",
    "header:Precedence:asText",
    "header:Auto-Submitted:asText",
];

/// What [`super::JmapApi::list_emails`] answered: the query's ids in order, and the
/// limit the server enforced when it capped the one asked for (RFC 8620 §5.5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    pub ids: Vec<String>,
    pub capped_at: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EmailAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyPart {
    #[serde(default)]
    pub part_id: Option<String>,
    #[serde(default)]
    pub blob_id: Option<String>,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub content_type: Option<String>,
    #[serde(default)]
    pub disposition: Option<String>,
    #[serde(default)]
    pub cid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyValue {
    pub value: String,
    #[serde(default)]
    pub is_truncated: bool,
    #[serde(default)]
    pub is_encoding_problem: bool,
}

/// An `Email` with the properties of [`EMAIL_PROPERTIES`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Email {
    pub id: String,
    #[serde(default)]
    pub blob_id: Option<String>,
    #[serde(default)]
    pub message_id: Option<Vec<String>>,
    #[serde(default)]
    pub in_reply_to: Option<Vec<String>>,
    #[serde(default)]
    pub references: Option<Vec<String>>,
    #[serde(default)]
    pub thread_id: Option<String>,
    #[serde(default)]
    pub from: Option<Vec<EmailAddress>>,
    #[serde(default)]
    pub to: Option<Vec<EmailAddress>>,
    #[serde(default)]
    pub cc: Option<Vec<EmailAddress>>,
    #[serde(default)]
    pub bcc: Option<Vec<EmailAddress>>,
    #[serde(default)]
    pub reply_to: Option<Vec<EmailAddress>>,
    #[serde(default)]
    pub subject: Option<String>,
    pub received_at: DateTime<Utc>,
    #[serde(default)]
    pub sent_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub preview: Option<String>,
    #[serde(default)]
    pub keywords: HashMap<String, bool>,
    #[serde(default)]
    pub mailbox_ids: HashMap<String, bool>,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub text_body: Vec<BodyPart>,
    #[serde(default)]
    pub html_body: Vec<BodyPart>,
    #[serde(default)]
    pub body_values: HashMap<String, BodyValue>,
    #[serde(default)]
    pub attachments: Vec<BodyPart>,
    #[serde(default, rename = "header:List-Id:asText")]
    pub list_id: Option<String>,
    #[serde(default, rename = "header:List-Unsubscribe:asURLs")]
    pub list_unsubscribe: Option<Vec<String>>,
    #[serde(default, rename = "header:Precedence:asText")]
    pub precedence: Option<String>,
    #[serde(default, rename = "header:Auto-Submitted:asText")]
    pub auto_submitted: Option<String>,
}

/// An `Email/set` update: JSON-pointer paths to values (RFC 8620 §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EmailPatch(Map<String, Value>);

impl EmailPatch {
    /// Handled: stamped `$crm_done`.
    pub fn done() -> Self {
        let mut patch = Map::new();
        patch.insert(format!("keywords/{}", super::DONE_KEYWORD), json!(true));
        Self(patch)
    }

    /// Blocked: moved into `mailbox` only, read, and handled.
    pub fn moved_aside(mailbox: &str) -> Self {
        let mut patch = Self::done();
        patch
            .0
            .insert("mailboxIds".to_owned(), json!({ mailbox: true }));
        patch.0.insert("keywords/$seen".to_owned(), json!(true));
        patch
    }
}

/// What `Email/set` did: the ids updated and those not, with the JMAP error type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetOutcome {
    pub updated: Vec<String>,
    pub not_updated: Vec<(String, String)>,
}
