//! Twilio's webhooks, form-encoded with Twilio's parameter names: incoming messages
//! (SMS, MMS and WhatsApp: `MessageSid`, `From`, `To`, `Body`, `NumMedia`,
//! `MediaUrl0`, `MediaContentType0`, ...) and voice status callbacks (`CallSid`,
//! `CallStatus`, `CallDuration`, `Direction`, `Timestamp`, ...).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::{Fields, phone};
use crate::channels::{
    Address, Channel, ChannelDefaults, ChannelError, Direction, Participant, ParticipantRole,
    WebhookActivity,
};

/// The form's pairs as a JSON object of strings; a repeated name keeps its last value.
pub(super) fn form_to_json(body: &[u8]) -> Value {
    let map: Map<String, Value> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Value::Object(map)
}

pub(super) fn parse(
    raw: &Value,
    defaults: ChannelDefaults,
    received_at: DateTime<Utc>,
) -> Result<WebhookActivity, ChannelError> {
    let form = Fields::root(raw)?;
    if let Some(sid) = form.text("MessageSid")?.or(form.text("SmsSid")?) {
        message(&form, sid, defaults, received_at)
    } else if let Some(sid) = form.text("CallSid")? {
        call(&form, sid, defaults, received_at)
    } else {
        Err(ChannelError::invalid(
            "MessageSid",
            "is required (or CallSid for a voice status callback)",
        ))
    }
}

fn message(
    form: &Fields<'_>,
    sid: &str,
    defaults: ChannelDefaults,
    received_at: DateTime<Utc>,
) -> Result<WebhookActivity, ChannelError> {
    let from = form.required_text("From")?;
    let to = form.required_text("To")?;
    let channel = if from.starts_with("whatsapp:") || to.starts_with("whatsapp:") {
        Channel::Whatsapp
    } else {
        Channel::Sms
    };
    let media = form
        .text("NumMedia")?
        .map(|n| {
            n.parse::<usize>()
                .map_err(|_| ChannelError::invalid("NumMedia", "must be a whole number"))
        })
        .transpose()?
        .unwrap_or(0);
    let attachments = (0..media)
        .map(|i| {
            let url = form.required_text(&format!("MediaUrl{i}"))?;
            Ok(json!({"url": url, "content_type": form.text(&format!("MediaContentType{i}"))?}))
        })
        .collect::<Result<Vec<_>, ChannelError>>()?;
    Ok(WebhookActivity {
        external_id: sid.to_owned(),
        channel,
        direction: direction(form, defaults)?,
        // Incoming-message webhooks carry no time: Twilio posts them as they arrive.
        occurred_at: received_at,
        thread_key: None,
        subject: None,
        text: form.text("Body")?.map(str::to_owned),
        html: None,
        participants: vec![
            Participant {
                role: ParticipantRole::From,
                address: address(from, "From")?,
                display_name: form.text("ProfileName")?.map(str::to_owned),
            },
            Participant {
                role: ParticipantRole::To,
                address: address(to, "To")?,
                display_name: None,
            },
        ],
        attachments,
        headers: json!({
            "messaging_service_sid": form.text("MessagingServiceSid")?,
            "account_sid": form.text("AccountSid")?,
        }),
    })
}

fn call(
    form: &Fields<'_>,
    sid: &str,
    defaults: ChannelDefaults,
    received_at: DateTime<Utc>,
) -> Result<WebhookActivity, ChannelError> {
    let from = form.required_text("From")?;
    let to = form.required_text("To")?;
    let status = form.required_text("CallStatus")?;
    let duration = form
        .text("CallDuration")?
        .map(|d| {
            d.parse::<u64>()
                .map_err(|_| ChannelError::invalid("CallDuration", "must be whole seconds"))
        })
        .transpose()?;
    let occurred_at = match form.text("Timestamp")? {
        Some(t) => DateTime::parse_from_rfc2822(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| ChannelError::invalid("Timestamp", "must be an RFC 2822 time"))?,
        None => received_at,
    };
    let text = match duration {
        Some(secs) => format!("Call {status}, {secs} s"),
        None => format!("Call {status}"),
    };
    Ok(WebhookActivity {
        external_id: sid.to_owned(),
        channel: Channel::Call,
        direction: direction(form, defaults)?,
        occurred_at,
        thread_key: None,
        subject: None,
        text: Some(text),
        html: None,
        participants: vec![
            Participant {
                role: ParticipantRole::From,
                address: address(from, "From")?,
                display_name: form.text("CallerName")?.map(str::to_owned),
            },
            Participant {
                role: ParticipantRole::To,
                address: address(to, "To")?,
                display_name: None,
            },
        ],
        attachments: Vec::new(),
        headers: json!({
            "call_status": status,
            "call_duration_secs": duration,
            "twilio_direction": form.text("Direction")?,
            "recording_url": form.text("RecordingUrl")?,
            "account_sid": form.text("AccountSid")?,
        }),
    })
}

/// Twilio says `inbound`, `outbound-api`, `outbound-dial` or `outbound-reply`.
fn direction(form: &Fields<'_>, defaults: ChannelDefaults) -> Result<Direction, ChannelError> {
    Ok(match form.text("Direction")? {
        Some("inbound") => Direction::Inbound,
        Some(d) if d.starts_with("outbound") => Direction::Outbound,
        Some(_) => {
            return Err(ChannelError::invalid(
                "Direction",
                "must be inbound, outbound-api, outbound-dial or outbound-reply",
            ));
        }
        None => defaults.direction,
    })
}

/// A phone number, or a Twilio Client / SIP identity (`client:alice`, `sip:...`).
fn address(value: &str, field: &str) -> Result<Address, ChannelError> {
    if value.starts_with("client:") || value.starts_with("sip:") {
        return Ok(Address::Handle(value.to_owned()));
    }
    phone(value, field)
}
