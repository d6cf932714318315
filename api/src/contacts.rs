//! The contacts list, a contact's page (profile, stats, threads, duplicates, merges, the
//! relationship panel) and a company's page.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AddressKind;
use crate::closed_set::closed_set;

closed_set! {
    /// Why processing merged two contacts on its own (`contact_merges.rule`); a merge
    /// the user made has none.
    MergeRule, "merge rule" {
        /// The same full name and the same phone number in their signatures.
        NameAndPhone = "name_and_phone",
        /// The same name on a personal and a work address in one thread.
        ThreadAddresses = "thread_addresses",
        /// A message said the person's address changed ("my new email is ...").
        NewAddress = "new_address",
        /// The same full name on a personal address writing with the work address's
        /// colleagues.
        NameAndColleagues = "name_and_colleagues",
    }
}

impl MergeRule {
    /// How the merge log names the rule.
    pub fn label(self) -> &'static str {
        match self {
            Self::NameAndPhone => "same name and signature phone",
            Self::ThreadAddresses => "same name on a personal and a work address in one thread",
            Self::NewAddress => "they announced a new address",
            Self::NameAndColleagues => "same name, writing with the same company's people",
        }
    }
}

/// The list's query string: every field is text as typed in the URL.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListParams {
    pub q: String,
    pub company: String,
    pub tag: String,
    pub unanswered: bool,
    /// Last interaction on or after this day (YYYY-MM-DD).
    pub from: String,
    /// Last interaction on or before this day (YYYY-MM-DD).
    pub to: String,
    pub sort: String,
    pub page: i64,
}

impl ListParams {
    /// Whether any filter (not the sort or the page) is set.
    pub fn is_filtered(&self) -> bool {
        !(self.q.is_empty()
            && self.company.is_empty()
            && self.tag.is_empty()
            && !self.unanswered
            && self.from.is_empty()
            && self.to.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRow {
    pub id: Uuid,
    /// The name, else the email address.
    pub name: String,
    pub email: Option<String>,
    pub company_id: Option<Uuid>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub strength: i16,
    pub emails: i32,
    pub last_interaction_at: Option<DateTime<Utc>>,
    pub unanswered: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactList {
    pub contacts: Vec<ContactRow>,
    /// Contacts matching, counted up to a limit (`total_is_floor` when there are more).
    pub total: i64,
    pub total_is_floor: bool,
    pub page: i64,
    /// Pages known to exist: all of them for an exact total.
    pub page_count: i64,
    pub has_next: bool,
    pub top: Vec<ContactRow>,
    pub tags: Vec<String>,
    /// The company filtered on, by name, for the filter chip.
    pub company_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactData {
    pub id: Uuid,
    pub name: String,
    pub profile: ProfileValues,
    pub company_id: Option<Uuid>,
    pub company_label: Option<String>,
    /// Fields the user edited (provenance "user"): sync leaves them alone.
    pub user_fields: Vec<String>,
    pub identities: Vec<IdentityRow>,
    pub merged_into: Option<Uuid>,
    pub stats: StatsView,
    pub chart: Vec<MonthBar>,
    pub threads: Vec<ThreadRow>,
    pub duplicates: Vec<DuplicateRow>,
    pub merges: Vec<MergeRow>,
}

/// The profile form's values as typed: lists are one item per line (or comma-separated
/// for tags), custom fields are `key: value` lines. Missing fields read as empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileValues {
    pub display_name: String,
    pub title: String,
    pub company: String,
    pub emails: String,
    pub phones: String,
    pub linkedin: String,
    pub website: String,
    pub twitter: String,
    pub tags: String,
    pub notes: String,
    pub custom_fields: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRow {
    pub kind: AddressKind,
    pub value: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    pub sent: i32,
    pub received: i32,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub last_received_at: Option<DateTime<Utc>>,
    /// "3 h (mean 5 h, 12 replies)", or `None` without replies.
    pub my_reply: Option<String>,
    pub their_reply: Option<String>,
    pub unanswered: i32,
    pub frequency: i16,
    pub strength: i16,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRow {
    pub subject: String,
    pub snippet: Option<String>,
    pub last_at: DateTime<Utc>,
    pub messages: i64,
    pub outbound: bool,
    /// Gmail's thread view, or the timeline for other sources.
    pub href: String,
    pub in_gmail: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateRow {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRow {
    pub id: Uuid,
    pub winner_id: Uuid,
    pub winner_name: String,
    pub loser_id: Uuid,
    pub loser_name: String,
    /// Set when processing merged them on its own.
    pub rule: Option<MergeRule>,
    /// What the merge was based on.
    pub reason: Option<String>,
    pub merged_at: DateTime<Utc>,
    pub unmerged_at: Option<DateTime<Utc>>,
}

/// One month of the volume chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthBar {
    /// "2026-03"
    pub month: String,
    /// "Mar"
    pub label: String,
    pub sent: i64,
    pub received: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyData {
    pub id: Uuid,
    pub name: String,
    pub domain: String,
    pub people: Vec<ContactRow>,
    pub people_count: i64,
    pub sent: i64,
    pub received: i64,
    pub unanswered: i64,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    pub strongest: i16,
    pub chart: Vec<MonthBar>,
}

/// The relationship panel: a summary, next actions and a draft email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationshipView {
    pub summary: String,
    pub actions: Vec<String>,
    pub to: Option<String>,
    pub subject: String,
    pub body: String,
    pub contact: Uuid,
    /// The configured model's name, which can rewrite the summary and the draft.
    pub model: Option<String>,
}

/// A summary and a draft body written by the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelWritten {
    pub summary: String,
    pub body: String,
    pub written_by: String,
}
