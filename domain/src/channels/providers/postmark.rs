//! Postmark's inbound webhook: a JSON message with `FromFull`, `ToFull`, `CcFull`,
//! `BccFull`, `Subject`, `TextBody`, `HtmlBody`, `StrippedTextReply`, `Headers`
//! (name/value pairs), `Attachments` (inline base64) and Postmark's `MessageID`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::fields::{Fields, email};
use crate::channels::{
    Channel, ChannelDefaults, ChannelError, Participant, ParticipantRole, WebhookActivity,
};

pub(super) fn parse(
    raw: &Value,
    defaults: ChannelDefaults,
    received_at: DateTime<Utc>,
) -> Result<WebhookActivity, ChannelError> {
    let body = Fields::root(raw)?;
    let external_id = body.required_text("MessageID")?;
    let from = body
        .object("FromFull")?
        .ok_or_else(|| ChannelError::invalid("FromFull", "is required"))?;
    let mut participants = vec![recipient(&from, ParticipantRole::From)?];
    for (key, role) in [
        ("ToFull", ParticipantRole::To),
        ("CcFull", ParticipantRole::Cc),
        ("BccFull", ParticipantRole::Bcc),
    ] {
        for person in body.objects(key)? {
            participants.push(recipient(&person, role)?);
        }
    }
    let headers = body.objects("Headers")?;
    let header = |name: &str| -> Result<Option<String>, ChannelError> {
        for h in &headers {
            if h.required_text("Name")?.eq_ignore_ascii_case(name) {
                return Ok(h.text("Value")?.map(str::to_owned));
            }
        }
        Ok(None)
    };
    let message_id = header("Message-ID")?;
    let in_reply_to = header("In-Reply-To")?;
    let references = header("References")?;
    // The Date header is whatever the sender's client wrote; a broken one should not
    // cost the message, so it falls back to the time Postmark delivered it.
    let occurred_at = body
        .text("Date")?
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map_or(received_at, |d| d.with_timezone(&Utc));
    let attachments = body
        .objects("Attachments")?
        .iter()
        .map(|a| {
            Ok(json!({
                "filename": a.text("Name")?,
                "content_type": a.text("ContentType")?,
                "size": a.number("ContentLength")?,
                "content_id": a.text("ContentID")?,
                "inline": true,
            }))
        })
        .collect::<Result<Vec<_>, ChannelError>>()?;
    Ok(WebhookActivity {
        external_id: external_id.to_owned(),
        channel: Channel::Email,
        direction: defaults.direction,
        occurred_at,
        thread_key: None,
        subject: body.text("Subject")?.map(str::to_owned),
        text: body.text("TextBody")?.map(str::to_owned),
        html: body.text("HtmlBody")?.map(str::to_owned),
        participants,
        attachments,
        // Same keys as synced mail, so an inbound copy of a Gmail message is found by
        // its Message-ID.
        headers: json!({
            "message_id": message_id.map(|m| m.trim().trim_matches(['<', '>']).to_owned()),
            "in_reply_to": in_reply_to,
            "references": references,
            "stripped_text_reply": body.text("StrippedTextReply")?,
            "mailbox_hash": body.text("MailboxHash")?,
            "message_stream": body.text("MessageStream")?,
        }),
    })
}

/// `{"Email": ..., "Name": ..., "MailboxHash": ...}`.
fn recipient(person: &Fields<'_>, role: ParticipantRole) -> Result<Participant, ChannelError> {
    let address = person.required_text("Email")?;
    Ok(Participant {
        role,
        address: email(address, &person.path("Email"))?,
        display_name: person.text("Name")?.map(str::to_owned),
    })
}
