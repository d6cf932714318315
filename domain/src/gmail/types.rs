//! Gmail API values, decoded from the wire format (ids and history ids arrive as
//! strings, `internalDate` as milliseconds in a string, `raw` as base64url).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A Gmail history id. Numeric and increasing, but sent as a string; kept as a number
/// so cursors compare correctly.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct HistoryId(#[serde(with = "u64_string")] pub u64);

impl std::fmt::Display for HistoryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Numbers Google encodes as JSON strings (int64/uint64 fields).
pub(crate) mod u64_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Number(u64),
        }
        match Either::deserialize(d)? {
            Either::Text(t) => t.parse().map_err(D::Error::custom),
            Either::Number(n) => Ok(n),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub email_address: String,
    pub messages_total: u64,
    pub history_id: HistoryId,
}

/// Which messages `messages.list` returns. The default leaves out SPAM and TRASH,
/// as Gmail does (`includeSpamTrash=false`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Gmail search syntax, e.g. `after:2024/01/01`.
    pub q: Option<String>,
    /// Only messages carrying all of these label ids.
    pub label_ids: Vec<String>,
    pub include_spam_trash: bool,
    /// Page size; Gmail allows up to 500 (used when `None`).
    pub max_results: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    pub id: String,
    #[serde(default)]
    pub thread_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagesPage {
    pub messages: Vec<MessageRef>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    pub id: String,
    pub thread_id: Option<String>,
    pub label_ids: Vec<String>,
    pub internal_date: DateTime<Utc>,
    /// The RFC 822 bytes, already decoded from base64url.
    pub raw: Vec<u8>,
}

/// A message's label ids in a history record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelDelta {
    pub message: MessageRef,
    pub label_ids: Vec<String>,
}

/// One `history` entry. Gmail puts each change in its own list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryRecord {
    pub id: HistoryId,
    /// Added messages with their labels at the time.
    pub messages_added: Vec<LabelDelta>,
    pub messages_deleted: Vec<MessageRef>,
    pub labels_added: Vec<LabelDelta>,
    pub labels_removed: Vec<LabelDelta>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub records: Vec<HistoryRecord>,
    pub next_page_token: Option<String>,
    /// The mailbox's current history id when the page was served.
    pub history_id: HistoryId,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    pub id: String,
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendAs {
    pub send_as_email: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_primary: bool,
}
