//! Everything that happens is an [`Event`]: one closed set of kinds ([`EventKind`]),
//! each with its payload type. The database stores an event as its kind's name
//! (`events.kind`, e.g. `"user.signed_in"`) and its payload as JSON (`events.data`);
//! serde writes an event as `{"kind": ..., "data": ...}` with the same names, so the
//! server, the live stream and the browser read one definition.
//!
//! Some kinds are [`Delivery::Live`]: the live stream (`GET /api/events`) sends them to
//! the user's open tabs, which re-read what changed. The others are
//! [`Delivery::Recorded`]: kept as the history of what happened (sign-ins, mail, contacts,
//! questions) for export and analysis, never sent to browsers.
//!
//! Payloads are read back from rows written months earlier: fields added later carry
//! `#[serde(default)]`, and unknown fields are ignored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::closed_set::closed_set;
use crate::enrichment::EnrichmentProgressPayload;
use crate::{ActivityState, AuthorKind, Provider};

/// Whether open tabs hear of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored and announced with `NOTIFY`; the live stream sends it.
    Live,
    /// Stored only: history, not something a page shows as it happens.
    Recorded,
}

/// Declares the event kinds once: the [`EventKind`] closed set, the [`Event`] enum with
/// its serde names, and each kind's [`Delivery`].
macro_rules! events {
    (
        $(
            $(#[$vmeta:meta])*
            $variant:ident($payload:ty) = $text:literal, $delivery:ident;
        )+
    ) => {
        closed_set! {
            /// What happened (`events.kind`).
            EventKind, "event kind" {
                $( $(#[$vmeta])* $variant = $text ),+
            }
        }

        /// One thing that happened, with what there is to know about it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind", content = "data")]
        pub enum Event {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant($payload) ),+
        }

        impl Event {
            pub fn kind(&self) -> EventKind {
                match self {
                    $( Self::$variant(_) => EventKind::$variant ),+
                }
            }
        }

        impl EventKind {
            pub fn delivery(self) -> Delivery {
                match self {
                    $( Self::$variant => Delivery::$delivery ),+
                }
            }
        }
    };
}

events! {
    /// Activities reached a processing state (new ones arrive as `raw`).
    ActivityState(ActivityStatePayload) = "activity.state", Live;
    /// Activities got their AI summary.
    ActivitySummarised(ActivitySummarisedPayload) = "activity.summarised", Live;
    /// Processing created, linked or changed these contacts; their stats are fresh.
    ContactsTouched(ContactsTouchedPayload) = "contacts.touched", Live;
    /// A contact's notes changed (created, edited, deleted).
    NotesChanged(ContactPayload) = "notes.changed", Live;
    /// The user marked inbox items read, done or not done, or dismissed them.
    InboxChanged(InboxChangedPayload) = "inbox.changed", Live;
    /// A sync's progress (throttled).
    SyncProgress(SyncProgressPayload) = "sync.progress", Live;
    /// A reconciliation of Gmail's ids with the ledger finished.
    SyncReconcile(SyncReconcilePayload) = "sync.reconcile", Live;
    /// A contact's enrichment job finished a lookup, or all of them.
    EnrichmentProgress(EnrichmentProgressPayload) = "enrichment.progress", Live;
    /// An mbox import finished.
    ImportFinished(ImportFinishedPayload) = "import.finished", Live;
    /// Messenger / Instagram conversations got a message, an agent turn (or a step of
    /// one), or a new status, toggle or pause (written by triggers on their tables).
    ConversationChanged(ConversationChangedPayload) = "conversation.changed", Live;
    /// The user signed in (with Google).
    UserSignedIn(UserSignedInPayload) = "user.signed_in", Recorded;
    /// A source was connected, or connected again.
    AccountLinked(AccountLinkedPayload) = "account.linked", Recorded;
    /// Mail to the user was processed (once per message).
    EmailReceived(EmailPayload) = "email.received", Recorded;
    /// Mail the user sent was processed (once per message).
    EmailSent(EmailPayload) = "email.sent", Recorded;
    /// A contact was made, from mail or by the user.
    ContactCreated(ContactCreatedPayload) = "contact.created", Recorded;
    /// Two contacts became one.
    ContactMerged(ContactMergedPayload) = "contact.merged", Recorded;
    /// Processing filled or changed a contact's fields from a message.
    ContactEnriched(ContactEnrichedPayload) = "contact.enriched", Recorded;
    /// The user opened a contact's page.
    ContactViewed(ContactPayload) = "contact.viewed", Recorded;
    /// Ask Rapport answered a question.
    AiQueryExecuted(AiQueryPayload) = "ai.query_executed", Recorded;
    /// A note was written, by the user or an agent.
    NoteCreated(NoteCreatedPayload) = "note.created", Recorded;
}

impl EventKind {
    pub fn is_live(self) -> bool {
        self.delivery() == Delivery::Live
    }
}

impl Event {
    /// The payload alone, as stored in `events.data`.
    pub fn data(&self) -> Result<serde_json::Value, serde_json::Error> {
        let mut tagged = serde_json::to_value(self)?;
        Ok(tagged
            .get_mut("data")
            .map(serde_json::Value::take)
            .unwrap_or_default())
    }

    /// An event from its stored parts (`events.kind`, `events.data`).
    pub fn from_parts(kind: &str, data: serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "data": data }))
    }
}

/// What the live stream sends as an SSE message's `data` (the SSE `event` is the kind's
/// name and the SSE `id` the row id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveMessage {
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityStatePayload {
    pub state: ActivityState,
    pub activity_ids: Vec<Uuid>,
    /// On completion: the contacts the activities touched.
    #[serde(default)]
    pub contact_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxChangedPayload {
    pub activity_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySummarisedPayload {
    pub activity_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsTouchedPayload {
    pub contacts: Vec<Uuid>,
}

/// An event about one contact and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPayload {
    pub contact_id: Uuid,
}

/// Where a sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Listing,
    Fetching,
    Incremental,
    Reconciling,
    Idle,
}

impl Stage {
    /// The name used in the stored state and in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Listing => "listing",
            Self::Fetching => "fetching",
            Self::Incremental => "incremental",
            Self::Reconciling => "reconciling",
            Self::Idle => "idle",
        }
    }
}

/// Shown to the user while a sync runs and after it ends (also `sync_state.progress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub stage: Stage,
    pub done: u64,
    /// Gmail's `messagesTotal` (includes spam and trash, so `done` may stay below it).
    pub total: Option<u64>,
    pub failed: u64,
    /// Messages per minute over the current run.
    pub rate: f64,
    pub started_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// In plain words, for the account page.
    pub last_error: Option<String>,
    /// Distinct addresses other than the user's own seen in the mail stored so far.
    #[serde(default)]
    pub people_seen: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncProgressPayload {
    pub account_id: Uuid,
    pub progress: SyncProgress,
}

/// Gmail's message ids compared with the ledger (also `sync_state.reconcile`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileReport {
    pub checked_at: DateTime<Utc>,
    /// Messages Gmail lists (SPAM and TRASH excluded).
    pub gmail_messages: u64,
    pub imported: u64,
    pub filtered: u64,
    pub failed: u64,
    pub missing: u64,
    pub extra: u64,
    /// Up to 100 missing ids, to look into.
    pub missing_ids: Vec<String>,
    pub extra_ids: Vec<String>,
}

impl ReconcileReport {
    pub fn is_clean(&self) -> bool {
        self.missing == 0 && self.extra == 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReconcilePayload {
    pub account_id: Uuid,
    pub report: ReconcileReport,
}

/// The counts of one mbox import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MboxImportReport {
    pub account: Uuid,
    pub read: u64,
    pub imported: u64,
    /// Already present in this mbox account (a re-import).
    pub updated: u64,
    pub duplicates: u64,
    pub filtered: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFinishedPayload {
    pub name: String,
    pub report: MboxImportReport,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationChangedPayload {
    pub conversation_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSignedInPayload {
    /// The sign-in created the user.
    pub new_user: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLinkedPayload {
    pub account_id: Uuid,
    pub provider: Provider,
    /// The account's address (for Google, the mailbox).
    pub address: String,
    /// The account existed already (a reconnect).
    pub relinked: bool,
}

/// One processed email: `email.received` or `email.sent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPayload {
    pub activity_id: Uuid,
    pub account_id: Uuid,
    /// Other people's addresses on the message (the owner's own are left out).
    pub addresses: u32,
    /// The contacts those addresses belong to.
    pub contact_ids: Vec<Uuid>,
}

closed_set! {
    /// How a contact came to be.
    ContactOrigin, "contact origin" {
        /// Processing made it from a message.
        Mail = "mail",
        /// The user added it.
        Manual = "manual",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactCreatedPayload {
    pub contact_id: Uuid,
    pub origin: ContactOrigin,
    /// The message it was made from (origin `mail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactMergedPayload {
    pub merge_id: Uuid,
    /// The contact that stays.
    pub winner_id: Uuid,
    /// The contact merged into it.
    pub loser_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEnrichedPayload {
    pub contact_id: Uuid,
    /// The message the values came from.
    pub activity_id: Uuid,
    /// The fields that were filled or changed (`display_name`, `title`, `company`,
    /// `phones`, `linkedin`, ...).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiQueryPayload {
    /// The stored exchange (`ask_messages.id`).
    pub exchange_id: i64,
    pub question: String,
    pub engine: String,
    pub tools: Vec<String>,
    pub refused: bool,
    pub latency_ms: i32,
    pub tokens: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteCreatedPayload {
    pub note_id: Uuid,
    pub contact_id: Uuid,
    pub author: AuthorKind,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClosedSet;

    #[test]
    fn an_event_round_trips_through_its_stored_parts() {
        let event = Event::UserSignedIn(UserSignedInPayload { new_user: true });
        assert_eq!(event.kind().as_str(), "user.signed_in");
        let data = event.data().unwrap();
        assert_eq!(data, serde_json::json!({ "new_user": true }));
        assert_eq!(Event::from_parts("user.signed_in", data).unwrap(), event);
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({ "kind": "user.signed_in", "data": { "new_user": true } })
        );
    }

    #[test]
    fn payloads_written_by_older_code_still_parse() {
        // The trigger on `activities` writes no contact ids.
        let raw = serde_json::json!({ "state": "raw", "activity_ids": [Uuid::nil()] });
        let Event::ActivityState(state) = Event::from_parts("activity.state", raw).unwrap() else {
            panic!("wrong kind");
        };
        assert_eq!(state.state, ActivityState::Raw);
        assert!(state.contact_ids.is_empty());
        assert!(Event::from_parts("no.such_kind", serde_json::json!({})).is_err());
    }

    #[test]
    fn kind_names_match_serde_names_and_only_ui_kinds_are_live() {
        for (kind, name) in EventKind::ALL.iter().zip(EventKind::NAMES) {
            assert_eq!(EventKind::parse(name).unwrap(), *kind);
            assert!(name.contains('.'), "{name}");
        }
        let live: Vec<_> = EventKind::ALL
            .iter()
            .filter(|k| k.is_live())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            live,
            [
                "activity.state",
                "activity.summarised",
                "contacts.touched",
                "notes.changed",
                "inbox.changed",
                "sync.progress",
                "sync.reconcile",
                "enrichment.progress",
                "import.finished",
                "conversation.changed"
            ]
        );
        assert!(!EventKind::ContactViewed.is_live());
    }
}
