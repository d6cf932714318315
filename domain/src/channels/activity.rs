//! The provider-neutral shape every webhook payload is parsed into.

use api::{AddressKind, ParticipantRole};
use chrono::{DateTime, Utc};

use super::{Channel, Direction, PhoneNumber};
use crate::EmailAddress;

/// How a participant is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Email(EmailAddress),
    Phone(PhoneNumber),
    /// Neither: a Twilio client or SIP identity, kept as given.
    Handle(String),
}

impl Address {
    /// `activity_participants.address_kind`.
    pub fn kind(&self) -> AddressKind {
        match self {
            Address::Email(_) => AddressKind::Email,
            Address::Phone(_) => AddressKind::Phone,
            Address::Handle(_) => AddressKind::Handle,
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Address::Email(e) => e.as_str(),
            Address::Phone(p) => p.as_str(),
            Address::Handle(h) => h,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub role: ParticipantRole,
    pub address: Address,
    pub display_name: Option<String>,
}

/// One message, call or event from a webhook, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookActivity {
    /// The provider's id (MessageSid, CallSid, Postmark MessageID, message_uid, ...):
    /// the idempotency key within the channel.
    pub external_id: String,
    pub channel: Channel,
    pub direction: Direction,
    pub occurred_at: DateTime<Utc>,
    pub thread_key: Option<String>,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub participants: Vec<Participant>,
    /// Metadata per attachment: filename, content_type, size, and url or `inline`.
    pub attachments: Vec<serde_json::Value>,
    /// Provider details worth querying later (call status and duration, headers).
    pub headers: serde_json::Value,
}

impl WebhookActivity {
    /// The senders, which the blocklist is checked against.
    pub fn senders(&self) -> impl Iterator<Item = &Address> {
        self.participants
            .iter()
            .filter(|p| p.role == ParticipantRole::From)
            .map(|p| &p.address)
    }

    /// The first 200 characters of the text, for lists.
    pub fn snippet(&self) -> Option<String> {
        self.text.as_deref().map(|t| {
            let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
            flat.chars().take(200).collect()
        })
    }
}
