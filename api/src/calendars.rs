//! Settings → Calendars: connecting a CalDAV account and the calendars it syncs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A calendar discovery found, for the user to pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundCalendar {
    pub href: String,
    pub name: String,
    pub color: Option<String>,
}

/// A synced calendar and how its polls go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarRow {
    pub id: Uuid,
    pub account_id: Uuid,
    pub name: String,
    pub color: Option<String>,
    pub events: i64,
    pub polled_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}
