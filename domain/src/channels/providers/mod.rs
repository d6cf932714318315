//! Pure parsers from a provider's webhook body to a [`WebhookActivity`]. Each error
//! names the field that is wrong, so a sender can fix its payload from a 422 alone.

mod fields;
mod generic;
mod postmark;
mod timelinesai;
mod twilio;

use chrono::{DateTime, Utc};

use crate::mail::sanitize_html;

use super::{ChannelDefaults, ChannelError, ChannelProvider, WebhookActivity};

/// A parsed webhook: the activity, and the payload as JSON to keep with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedWebhook {
    pub activity: WebhookActivity,
    pub raw: serde_json::Value,
}

/// Parses one webhook body. `received_at` stands in for providers that send no time.
pub fn parse_webhook(
    provider: ChannelProvider,
    defaults: ChannelDefaults,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<ParsedWebhook, ChannelError> {
    let raw = match provider {
        ChannelProvider::Twilio => twilio::form_to_json(body),
        _ => serde_json::from_slice::<serde_json::Value>(body)
            .map_err(|e| ChannelError::invalid("body", format!("not valid JSON: {e}")))?,
    };
    let raw = without_nul(raw);
    let mut activity = match provider {
        ChannelProvider::Generic => generic::parse(&raw, defaults, received_at)?,
        ChannelProvider::Twilio => twilio::parse(&raw, defaults, received_at)?,
        ChannelProvider::Postmark => postmark::parse(&raw, defaults, received_at)?,
        ChannelProvider::TimelinesAi => timelinesai::parse(&raw, defaults, received_at)?,
    };
    // Webhook HTML is as untrusted as mail's and is shown the same way: it is stored
    // sanitized by the same policy, whichever provider sent it.
    activity.html = activity.html.as_deref().map(sanitize_html);
    Ok(ParsedWebhook { activity, raw })
}

/// Postgres text and jsonb cannot hold NUL characters; payloads occasionally do.
fn without_nul(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let clean = |s: String| {
        if s.contains('\0') {
            s.replace('\0', "")
        } else {
            s
        }
    };
    match value {
        Value::String(s) => Value::String(clean(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (clean(k), without_nul(v)))
                .collect(),
        ),
        other => other,
    }
}
