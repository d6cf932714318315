//! The unified inbox (`/inbox`): everything that arrived from every channel and is not
//! yet done or dismissed, newest first, in keyset pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Channel;

/// Rows in one inbox page.
pub const PAGE_SIZE: usize = 50;

/// Who an inbox item came from: a message's sender, a meeting's organizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    /// The contact's name when the address belongs to a contact, else the name the
    /// source gave.
    pub name: Option<String>,
    pub address: String,
    pub contact_id: Option<Uuid>,
}

impl Sender {
    /// The name, else the address.
    pub fn label(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.address)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: Uuid,
    pub channel: Channel,
    pub sender: Option<Sender>,
    /// The subject, else the snippet.
    pub headline: String,
    /// The snippet, when it is not the headline already.
    pub snippet: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub unread: bool,
    /// Where opening it goes: an email's conversation, else the entry on the sender's
    /// timeline, else the Timeline page.
    pub href: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// When the server read the page: the "5 min ago" labels count from here, so the
    /// server's render and the browser's hydration show the same words.
    pub now: DateTime<Utc>,
    /// The opaque cursor of the next (older) page; `None` on the last page.
    pub next: Option<String>,
}

/// Where an item opens: an email's conversation, another channel's entry on the
/// contact's timeline, or the Timeline page when no contact is known.
pub fn open_href(channel: Channel, id: Uuid, contact: Option<Uuid>) -> String {
    match (channel, contact) {
        (Channel::Email, _) => crate::mail::thread_href(id),
        (_, Some(contact)) => format!("/contacts/{contact}#activity-{id}"),
        (_, None) => "/timeline".to_owned(),
    }
}

/// `then` as people say it relative to `now`: "just now", "5 min ago", "3 h ago",
/// "yesterday", "4 days ago", then the date ("12 Mar", or "12 Mar 2024" in another
/// year).
pub fn relative_time(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds();
    match seconds {
        ..60 => "just now".to_owned(),
        60..3_600 => format!("{} min ago", seconds / 60),
        3_600..86_400 => format!("{} h ago", seconds / 3_600),
        86_400..172_800 => "yesterday".to_owned(),
        172_800..604_800 => format!("{} days ago", seconds / 86_400),
        _ if then.format("%Y").to_string() == now.format("%Y").to_string() => {
            then.format("%-d %b").to_string()
        }
        _ => then.format("%-d %b %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn relative_times_read_like_speech() {
        let now = Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap();
        let ago = |s: i64| relative_time(now, now - chrono::Duration::seconds(s));
        assert_eq!(ago(-30), "just now", "a clock a little ahead");
        assert_eq!(ago(59), "just now");
        assert_eq!(ago(60), "1 min ago");
        assert_eq!(ago(3_599), "59 min ago");
        assert_eq!(ago(3_600), "1 h ago");
        assert_eq!(ago(86_400), "yesterday");
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert_eq!(ago(30 * 86_400), "4 Nov");
        assert_eq!(ago(400 * 86_400), "30 Oct 2025");
    }

    #[test]
    fn items_open_their_conversation_or_timeline_entry() {
        let (id, contact) = (Uuid::nil(), Uuid::max());
        assert_eq!(
            open_href(Channel::Email, id, Some(contact)),
            format!("/mail/{id}")
        );
        assert_eq!(
            open_href(Channel::Whatsapp, id, Some(contact)),
            format!("/contacts/{contact}#activity-{id}")
        );
        assert_eq!(open_href(Channel::Meeting, id, None), "/timeline");
    }

    #[test]
    fn senders_show_a_name_else_the_address() {
        let mut sender = Sender {
            name: Some(" ".into()),
            address: "a@x.example".into(),
            contact_id: None,
        };
        assert_eq!(sender.label(), "a@x.example");
        sender.name = Some("Ann".into());
        assert_eq!(sender.label(), "Ann");
    }
}
