//! Who is visiting, as the layout needs it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    pub name: Option<String>,
    /// Emails of Google accounts whose access was revoked or expired.
    pub needs_reconnect: Vec<String>,
    /// The user's time zone (IANA name) and whether they picked it in Settings.
    pub time_zone: String,
    pub time_zone_chosen: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    pub session: Option<SessionInfo>,
    pub demo: bool,
}
