//! Call recordings with their transcripts, and chat threads: what the timeline's call
//! row, the chat view and the channel's recording settings show.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::closed_set::closed_set;
use crate::{Channel, Direction};

closed_set! {
    /// Where a recording's audio is (`call_recordings.download_state`).
    RecordingState, "recording state" {
        /// Waiting for (or retrying) the download from the provider.
        Queued = "queued",
        /// In Rapport's file store: playable.
        Stored = "stored",
        /// Given up; `error` says why.
        Failed = "failed",
    }
}

/// One line of a transcript: seconds from the start of the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// A recording of a call as its timeline row shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingView {
    pub id: Uuid,
    pub state: RecordingState,
    pub duration_secs: Option<u32>,
    /// Where the browser plays it from (`/recordings/{id}`) once stored.
    pub audio_url: Option<String>,
    pub error: Option<String>,
    pub transcript: Vec<TranscriptLine>,
}

/// The recordings of one call activity, with the call's direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallView {
    pub activity_id: Uuid,
    pub direction: Option<Direction>,
    pub duration_secs: Option<u32>,
    pub recordings: Vec<RecordingView>,
}

/// What the channel's settings show about fetching recordings (never the token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingSettingsView {
    pub channel_id: Uuid,
    pub account_sid: Option<String>,
    pub has_auth_token: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// One attachment of a chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatAttachment {
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub direction: Option<Direction>,
    /// The sender's name, else their number or handle.
    pub sender: String,
    pub text: Option<String>,
    pub attachments: Vec<ChatAttachment>,
}

/// A conversation on a chat channel, oldest message first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatThread {
    pub channel: Channel,
    pub title: String,
    /// More than two people take part: every message shows its sender.
    pub group: bool,
    /// The activity the chat was opened from.
    pub opened: Uuid,
    pub messages: Vec<ChatMessage>,
}
