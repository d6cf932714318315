//! Settings: connected sources, their syncs, background work, API tokens; and the
//! welcome page's import progress.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AccountStatus, JobState, LedgerOutcome, Provider};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsData {
    pub email: String,
    pub name: Option<String>,
    pub demo: bool,
    /// In demo mode, the simulated Fastmail and calendar to connect.
    pub demo_logins: Option<DemoLogins>,
    pub accounts: Vec<AccountRow>,
    pub jobs: Vec<JobRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: Uuid,
    pub provider: Provider,
    pub label: String,
    pub scopes: Vec<String>,
    pub status: AccountStatus,
    pub last_error: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub sync: Option<SyncView>,
    /// For imported mail files: messages by outcome (imported, filtered, ...).
    pub imported: Vec<(LedgerOutcome, i64)>,
    /// Which correspondents become contacts: `sent`, `everyone` or `nobody`.
    pub contact_policy: String,
}

/// A Gmail account's sync as the user sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncView {
    pub stage: String,
    pub done: u64,
    pub total: Option<u64>,
    /// Messages per minute while running.
    pub rate: f64,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Ledger outcomes: (imported | filtered | failed | ..., count).
    pub outcomes: Vec<(LedgerOutcome, i64)>,
    pub reconcile: Option<ReconcileView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileView {
    pub checked_at: DateTime<Utc>,
    pub gmail_messages: u64,
    pub missing: u64,
    pub extra: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub kind: String,
    pub state: JobState,
    pub created_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// A token as its owner sees it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: Uuid,
    pub name: String,
    pub display_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A newly made token: the only time its full text leaves the server. Debug output
/// hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedApiToken {
    pub id: Uuid,
    pub name: String,
    pub token: String,
}

impl std::fmt::Debug for IssuedApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedApiToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("token", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_issued_secrets() {
        let token = IssuedApiToken {
            id: Uuid::nil(),
            name: "agent".into(),
            token: "rpt_secret_token_text".into(),
        };
        assert!(!format!("{token:?}").contains("rpt_secret_token_text"));
        let key = crate::channels::IssuedKey {
            channel_id: Uuid::nil(),
            endpoint: "/ingest/generic".into(),
            key: "whk_secret_key_text".into(),
        };
        assert!(!format!("{key:?}").contains("whk_secret_key_text"));
    }
}

/// The welcome page: every Gmail account's first import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncOverview {
    pub accounts: Vec<AccountProgress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountProgress {
    pub id: Uuid,
    pub label: String,
    pub status: AccountStatus,
    pub stage: String,
    /// Messages stored by the running full sync.
    pub done: u64,
    /// Gmail's `messagesTotal` (includes spam and trash, which are not imported).
    pub total: Option<u64>,
    pub per_minute: f64,
    pub people_seen: u64,
    /// Messages stored from this account over all syncs.
    pub stored: u64,
    /// The first full sync has finished.
    pub complete: bool,
    pub last_error: Option<String>,
}

impl AccountProgress {
    pub fn fraction(&self) -> f64 {
        if self.complete {
            return 1.0;
        }
        match self.total {
            Some(total) if total > 0 => (self.done as f64 / total as f64).min(1.0),
            _ => 0.0,
        }
    }

    pub fn minutes_left(&self) -> Option<f64> {
        let total = self.total?;
        (!self.complete && self.per_minute > 0.0 && total > self.done)
            .then(|| (total - self.done) as f64 / self.per_minute)
    }
}

/// Demo mode's simulated Fastmail and calendar: what Settings fills in when the user
/// connects them, so a newcomer sees every channel without an account anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoLogins {
    pub jmap_session_url: String,
    pub jmap_token: String,
    pub caldav_url: String,
    pub caldav_user: String,
    pub caldav_password: String,
    /// The simulated Facebook Page, for Settings → Channels.
    pub meta_page: crate::shop::DemoPage,
}

/// Settings → Time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeZoneView {
    /// The IANA name in use, e.g. `Europe/Paris`.
    pub name: String,
    /// Picked by the user (else adopted from their browser, or UTC).
    pub chosen: bool,
    /// Every name the user can pick.
    pub names: Vec<String>,
}
