//! The Timeline page (every recent activity) and a contact's activity timeline.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{ActivityState, Channel, Direction};

/// One row of the Timeline page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    pub headline: String,
    pub counterpart: Option<String>,
    pub state: ActivityState,
}

/// One activity on a contact's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineItem {
    pub id: Uuid,
    pub channel: Channel,
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    pub headline: String,
    pub snippet: Option<String>,
    pub state: ActivityState,
    pub attempts: i32,
    pub error: Option<String>,
    /// Where a `file` activity downloads from.
    pub download: Option<String>,
    /// The AI summary, when a model is configured and has written one.
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineWindow {
    pub items: Vec<TimelineItem>,
    /// Older activities exist beyond the window.
    pub more: bool,
}
