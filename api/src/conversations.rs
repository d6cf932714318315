//! The Messenger and Instagram conversation pages: what `/conversations` lists, what a
//! conversation's page shows (its thread and the agent's log), and the handoffs the
//! banner announces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::meta::{ConversationStatus, MetaPlatform, SenderType, TurnOutcome};

/// Conversations per page of `/conversations`.
pub const CONVERSATIONS_PAGE: i64 = 25;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub platform: MetaPlatform,
    pub customer_name: String,
    pub contact_id: Option<Uuid>,
    pub status: ConversationStatus,
    pub ai_enabled: bool,
    pub paused_until: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_message_text: Option<String>,
}

/// One page of the list, newest first; `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationsPage {
    pub rows: Vec<ConversationSummary>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMessage {
    pub id: Uuid,
    /// `None` for messages Graph listed without details (older than its 20 newest).
    pub sender: Option<SenderType>,
    pub text: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub is_old: bool,
    pub reply_sent: bool,
}

/// One logged agent turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentTurn {
    pub id: Uuid,
    pub outcome: TurnOutcome,
    /// What the model was given: `{"catalog": [...], "conversation": [...]}`.
    pub context: serde_json::Value,
    /// `[{"name", "arguments", "result"}]`, in the order the model called them.
    pub tool_calls: serde_json::Value,
    pub reply: Option<String>,
    pub handoff_reason: Option<String>,
    pub model: String,
    pub tokens: i32,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Whether the agent can be switched on, and which model answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentModel {
    /// No model is configured: the toggle is disabled with this reason.
    Missing(String),
    /// The configured model's name.
    Configured(String),
    /// Demo mode: a simulated model (the fake OpenAI) answers.
    Simulated(String),
}

/// A conversation's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationView {
    pub conversation: ConversationSummary,
    /// Oldest first.
    pub messages: Vec<ConversationMessage>,
    /// Newest first.
    pub turns: Vec<AgentTurn>,
    pub model: AgentModel,
    /// Demo mode: the page offers to write as the simulated customer.
    pub demo: bool,
}

/// A conversation the agent handed to a person and nobody has taken yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub conversation_id: Uuid,
    pub platform: MetaPlatform,
    pub customer_name: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// Where a conversation's page is.
pub fn conversation_href(id: Uuid) -> String {
    format!("/conversations/{id}")
}

/// The list's cursor: the last row's time (a conversation without messages sorts as
/// the epoch, last) and id.
pub fn encode_cursor(at: Option<DateTime<Utc>>, id: Uuid) -> String {
    let at = at.unwrap_or(DateTime::UNIX_EPOCH);
    format!("{}_{id}", at.timestamp_micros())
}

/// `None` for a cursor this version did not write.
pub fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = cursor.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(at.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::from_u128(7);
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(Some(at), id)), Some((at, id)));
        assert_eq!(
            decode_cursor(&encode_cursor(None, id)),
            Some((DateTime::UNIX_EPOCH, id))
        );
        for bad in [
            "",
            "12",
            "x_y",
            "12_not-a-uuid",
            "abc_00000000-0000-0000-0000-000000000007",
        ] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
