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

    /// The conversation it belongs to: the provider's thread, or for a chat message
    /// that names none (Twilio SMS and WhatsApp, a generic webhook without
    /// `thread_id`) the people it is between, so one chat is one thread whichever side
    /// wrote. Addresses are sorted bytewise (the backfill migration sorts with
    /// `collate "C"` to match).
    pub fn conversation_key(&self) -> Option<String> {
        if self.thread_key.is_some() || !self.channel.is_chat() {
            return self.thread_key.clone();
        }
        let mut sides: Vec<&str> = self
            .participants
            .iter()
            .filter(|p| matches!(p.role, ParticipantRole::From | ParticipantRole::To))
            .map(|p| p.address.value())
            .collect();
        sides.sort_unstable();
        sides.dedup();
        Some(format!("{}:{}", self.channel.as_str(), sides.join(",")))
    }

    /// The first 200 characters of the text, for lists.
    pub fn snippet(&self) -> Option<String> {
        self.text.as_deref().map(|t| {
            let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
            flat.chars().take(200).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn message(channel: Channel, from: &str, to: &str, thread: Option<&str>) -> WebhookActivity {
        let person = |role, number: &str| Participant {
            role,
            address: Address::Phone(PhoneNumber::parse(number).unwrap()),
            display_name: None,
        };
        WebhookActivity {
            external_id: "SM1".into(),
            channel,
            direction: Direction::Inbound,
            occurred_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            thread_key: thread.map(str::to_owned),
            subject: None,
            text: Some("Are you around?".into()),
            html: None,
            participants: vec![
                person(ParticipantRole::From, from),
                person(ParticipantRole::To, to),
            ],
            attachments: Vec::new(),
            headers: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_chat_without_a_thread_is_keyed_by_its_two_sides_whichever_wrote() {
        let asked = message(Channel::Sms, "+14155552671", "+14155550100", None);
        let answered = message(Channel::Sms, "+14155550100", "+14155552671", None);
        assert_eq!(
            asked.conversation_key().as_deref(),
            Some("sms:+14155550100,+14155552671")
        );
        assert_eq!(asked.conversation_key(), answered.conversation_key());
        let someone_else = message(Channel::Sms, "+14155559999", "+14155550100", None);
        assert_ne!(asked.conversation_key(), someone_else.conversation_key());
        let same_people_on_whatsapp =
            message(Channel::Whatsapp, "+14155552671", "+14155550100", None);
        assert_ne!(
            asked.conversation_key(),
            same_people_on_whatsapp.conversation_key()
        );
    }

    #[test]
    fn a_provider_thread_is_kept_and_calls_get_none() {
        let grouped = message(
            Channel::Whatsapp,
            "+14155552671",
            "+14155550100",
            Some("chat-7"),
        );
        assert_eq!(grouped.conversation_key().as_deref(), Some("chat-7"));
        let call = message(Channel::Call, "+14155552671", "+14155550100", None);
        assert_eq!(call.conversation_key(), None);
    }
}
