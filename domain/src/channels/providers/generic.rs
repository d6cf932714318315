//! Rapport's own JSON schema, for any system that can POST JSON (documented in the
//! README under "Ingestion channels").

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::fields::{Fields, email, phone};
use crate::DomainError;
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
    let external_id = body
        .text_or_number("external_id")?
        .ok_or_else(|| ChannelError::invalid("external_id", "is required"))?;
    let channel = match body.text("channel")? {
        Some(c) => Channel::parse(c).map_err(|e| {
            ChannelError::invalid(
                "channel",
                DomainError::not_one_of("channel", &e).to_string(),
            )
        })?,
        None => defaults.channel,
    };
    let direction = match body.text("direction")? {
        Some(d) => Direction::parse(d)
            .map_err(|_| ChannelError::invalid("direction", "must be inbound or outbound"))?,
        None => defaults.direction,
    };
    let occurred_at = match body.text("occurred_at")? {
        Some(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ChannelError::invalid(
                    "occurred_at",
                    "must be an RFC 3339 time like 2026-11-20T09:30:00Z",
                )
            })?,
        None => received_at,
    };
    let from = body
        .object("from")?
        .ok_or_else(|| ChannelError::invalid("from", "is required"))?;
    let mut participants = vec![participant(&from, ParticipantRole::From)?];
    for (key, role) in [("to", ParticipantRole::To), ("cc", ParticipantRole::Cc)] {
        for person in body.objects(key)? {
            participants.push(participant(&person, role)?);
        }
    }
    let attachments = body
        .objects("attachments")?
        .iter()
        .map(attachment)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WebhookActivity {
        external_id,
        channel,
        direction,
        occurred_at,
        thread_key: body.text_or_number("thread_id")?,
        subject: body.text("subject")?.map(str::to_owned),
        text: body.text("text")?.map(str::to_owned),
        html: body.text("html")?.map(str::to_owned),
        participants,
        attachments,
        headers: json!({}),
    })
}

/// `{"email": ..., "name": ...}` or `{"phone": ..., "name": ...}`.
fn participant(person: &Fields<'_>, role: ParticipantRole) -> Result<Participant, ChannelError> {
    let address = match (person.text("email")?, person.text("phone")?) {
        (Some(e), _) => email(e, &person.path("email"))?,
        (None, Some(p)) => phone(p, &person.path("phone"))?,
        (None, None) => {
            return Err(ChannelError::invalid(
                person.path("email"),
                "an email or a phone is required",
            ));
        }
    };
    Ok(Participant {
        role,
        address,
        display_name: person.text("name")?.map(str::to_owned),
    })
}

/// By URL (`url`) or inline (`content_base64`); the content itself stays in the raw
/// payload, the attachments column keeps what lists and processing need.
fn attachment(item: &Fields<'_>) -> Result<Value, ChannelError> {
    let filename = item.text("filename")?;
    let content_type = item.text("content_type")?;
    // An audio attachment is a recording; its length shows beside the player.
    let duration_secs = item.number("duration_secs")?;
    match (item.text("url")?, item.text("content_base64")?) {
        (Some(url), _) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ChannelError::invalid(
                    item.path("url"),
                    "must be an http(s) URL",
                ));
            }
            Ok(json!({"filename": filename, "content_type": content_type,
                      "size": item.number("size")?, "duration_secs": duration_secs,
                      "url": url}))
        }
        (None, Some(content)) => {
            let bytes = STANDARD.decode(content.trim()).map_err(|_| {
                ChannelError::invalid(item.path("content_base64"), "is not valid base64")
            })?;
            Ok(json!({"filename": filename, "content_type": content_type,
                      "size": bytes.len(), "duration_secs": duration_secs,
                      "inline": true}))
        }
        (None, None) => Err(ChannelError::invalid(
            item.path("url"),
            "an attachment needs url or content_base64",
        )),
    }
}
