//! TimelinesAI's WhatsApp message webhooks (`message:new`, `message:received:new`,
//! `message:sent:new`): a `chat`, the `whatsapp_account` it belongs to, and the
//! `message` with `message_uid`, `timestamp`, `sender`, `recipient`, `text` and
//! `attachments` (temporary download URLs).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::fields::{Fields, phone};
use crate::channels::{
    Channel, ChannelDefaults, ChannelError, Direction, Participant, ParticipantRole,
    WebhookActivity,
};

pub(super) fn parse(
    raw: &Value,
    defaults: ChannelDefaults,
    received_at: DateTime<Utc>,
) -> Result<WebhookActivity, ChannelError> {
    let body = Fields::root(raw)?;
    let message = body
        .object("message")?
        .ok_or_else(|| ChannelError::invalid("message", "is required"))?;
    let direction = match body.required_text("event_type")? {
        "message:received:new" => Direction::Inbound,
        "message:sent:new" => Direction::Outbound,
        "message:new" => match message.text("direction")? {
            Some("received") => Direction::Inbound,
            Some("sent") => Direction::Outbound,
            _ => defaults.direction,
        },
        _ => {
            return Err(ChannelError::invalid(
                "event_type",
                "must be message:new, message:received:new or message:sent:new",
            ));
        }
    };
    let external_id = message.required_text("message_uid")?;
    let occurred_at = match message.text("timestamp")? {
        Some(t) => timestamp(t).ok_or_else(|| {
            ChannelError::invalid(
                "message.timestamp",
                "must look like 2024-01-08 10:35:18 +0200 (or RFC 3339)",
            )
        })?,
        None => received_at,
    };
    let chat = body.object("chat")?;
    let account = body.object("whatsapp_account")?;
    // The chat is the contact (or group), the WhatsApp account is the user: they stand
    // in for a missing sender or recipient.
    let chat_person = chat
        .as_ref()
        .map(|c| (c.path("phone"), c.text("phone"), c.text("full_name")));
    let account_person = account
        .as_ref()
        .map(|a| (a.path("phone"), a.text("phone"), a.text("full_name")));
    let (sender_fallback, recipient_fallback) = match direction {
        Direction::Inbound => (chat_person, account_person),
        Direction::Outbound => (account_person, chat_person),
    };
    let mut participants = Vec::new();
    for (key, role, fallback) in [
        ("sender", ParticipantRole::From, sender_fallback),
        ("recipient", ParticipantRole::To, recipient_fallback),
    ] {
        let (path, number, name) = match message.object(key)? {
            Some(person) => (
                person.path("phone"),
                person.text("phone")?,
                person.text("full_name")?,
            ),
            None => match fallback {
                Some((path, number, name)) => (path, number?, name?),
                None => continue,
            },
        };
        let Some(number) = number else {
            if role == ParticipantRole::From {
                return Err(ChannelError::invalid(
                    path,
                    "the sender's phone is required",
                ));
            }
            continue;
        };
        participants.push(Participant {
            role,
            address: phone(number, &path)?,
            display_name: name.map(str::to_owned),
        });
    }
    if !participants.iter().any(|p| p.role == ParticipantRole::From) {
        return Err(ChannelError::invalid("message.sender", "is required"));
    }
    let attachments = message
        .objects("attachments")?
        .iter()
        .map(|a| {
            Ok(json!({
                "filename": a.text("filename")?,
                "content_type": a.text("mimetype")?,
                "size": a.number("size")?,
                "url": a.text("temporary_download_url")?,
            }))
        })
        .collect::<Result<Vec<_>, ChannelError>>()?;
    let chat_id = match &chat {
        Some(c) => c.text_or_number("chat_id")?,
        None => None,
    };
    let is_group = match &chat {
        Some(c) => c.boolean("is_group")?.unwrap_or(false),
        None => false,
    };
    Ok(WebhookActivity {
        external_id: external_id.to_owned(),
        channel: Channel::Whatsapp,
        direction,
        occurred_at,
        thread_key: chat_id.as_ref().map(|id| format!("timelinesai:{id}")),
        subject: None,
        text: message.text("text")?.map(str::to_owned),
        html: None,
        participants,
        attachments,
        headers: json!({
            "chat_id": chat_id,
            "is_group": is_group,
            "chat_url": chat.as_ref().map(|c| c.text("chat_url")).transpose()?.flatten(),
            "reply_to_uid": message.text("reply_to_uid")?,
            "origin": message.text("origin")?,
        }),
    })
}

/// TimelinesAI writes `2024-01-08 10:35:18 +0200`.
fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
