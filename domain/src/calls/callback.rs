//! Pure parsing of what providers say about recordings: Twilio's recording status and
//! transcription callbacks (form-encoded, not activities of their own), a recording
//! inside a call status callback, and audio attachments of generic JSON webhooks.

use std::collections::HashMap;

use crate::channels::providers::ParsedWebhook;
use crate::channels::{Channel, ChannelError, ChannelProvider};

/// A recording of a call, as a provider announced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecording {
    /// The call's external id (Twilio's `CallSid`, a generic webhook's `external_id`).
    pub call_external_id: String,
    /// The idempotency key within the channel: Twilio's `RecordingSid`, or
    /// `attachment:{n}` for a generic webhook's n-th attachment.
    pub recording_sid: String,
    /// Where the audio is fetched from; `None` when a generic webhook carried it inline
    /// (`content_base64`, kept in the activity's raw payload).
    pub url: Option<String>,
    /// Twilio's `RecordingStatus` (`completed`, `in-progress`, `absent`, `failed`).
    pub status: Option<String>,
    pub duration_secs: Option<u32>,
}

impl NewRecording {
    /// Only a finished recording can be fetched.
    pub fn is_ready(&self) -> bool {
        matches!(self.status.as_deref(), None | Some("completed"))
    }
}

/// Twilio's own transcription of a recording (`TranscriptionText`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderTranscript {
    pub recording_sid: String,
    pub call_external_id: Option<String>,
    pub text: String,
}

/// A webhook that is about a recording rather than an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCallback {
    Recording(NewRecording),
    Transcription(ProviderTranscript),
    /// A transcription Twilio reports as failed: accepted, nothing to keep.
    TranscriptionFailed {
        recording_sid: String,
    },
}

/// Reads a webhook body as a recording or transcription callback; `None` when it is
/// something else (a message or a call status callback), which is parsed as an activity.
pub fn parse_callback(
    provider: ChannelProvider,
    body: &[u8],
) -> Result<Option<CallCallback>, ChannelError> {
    if provider != ChannelProvider::Twilio {
        return Ok(None);
    }
    let form: HashMap<String, String> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.trim().replace('\0', "")))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let get = |key: &str| form.get(key).map(String::as_str);
    if get("MessageSid").is_some() || get("SmsSid").is_some() || get("CallStatus").is_some() {
        return Ok(None);
    }
    let Some(recording_sid) = get("RecordingSid") else {
        return Ok(None);
    };
    let recording_sid = twilio_sid(recording_sid, "RE", "RecordingSid")?;
    if get("TranscriptionSid").is_some() || get("TranscriptionStatus").is_some() {
        return match get("TranscriptionStatus") {
            Some("failed") => Ok(Some(CallCallback::TranscriptionFailed { recording_sid })),
            _ => {
                let text = get("TranscriptionText")
                    .ok_or_else(|| ChannelError::invalid("TranscriptionText", "is required"))?;
                Ok(Some(CallCallback::Transcription(ProviderTranscript {
                    recording_sid,
                    call_external_id: get("CallSid").map(str::to_owned),
                    text: text.to_owned(),
                })))
            }
        };
    }
    let call = get("CallSid").ok_or_else(|| {
        ChannelError::invalid("CallSid", "is required in a recording status callback")
    })?;
    Ok(Some(CallCallback::Recording(NewRecording {
        call_external_id: call.to_owned(),
        recording_sid,
        url: Some(http_url(
            get("RecordingUrl")
                .ok_or_else(|| ChannelError::invalid("RecordingUrl", "is required"))?,
            "RecordingUrl",
        )?),
        status: get("RecordingStatus").map(str::to_owned),
        duration_secs: duration(get("RecordingDuration"))?,
    })))
}

/// A generic webhook's n-th attachment is recording `attachment:{n}` of its activity.
pub(crate) const INLINE_SID_PREFIX: &str = "attachment:";

/// The recordings a stored activity brings with it: a Twilio call status callback that
/// names its recording, or a generic webhook's attachments with an audio type.
pub fn recordings_in(provider: ChannelProvider, webhook: &ParsedWebhook) -> Vec<NewRecording> {
    let activity = &webhook.activity;
    match provider {
        ChannelProvider::Twilio if activity.channel == Channel::Call => {
            let raw = |key: &str| {
                webhook.raw[key]
                    .as_str()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            match (raw("RecordingSid"), raw("RecordingUrl")) {
                (Some(sid), Some(url)) => twilio_sid(sid, "RE", "RecordingSid")
                    .ok()
                    .zip(http_url(url, "RecordingUrl").ok())
                    .map(|(recording_sid, url)| NewRecording {
                        call_external_id: activity.external_id.clone(),
                        recording_sid,
                        url: Some(url),
                        status: None,
                        duration_secs: duration(raw("RecordingDuration")).ok().flatten(),
                    })
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            }
        }
        ChannelProvider::Generic => activity
            .attachments
            .iter()
            .enumerate()
            .filter(|(_, a)| {
                a["content_type"]
                    .as_str()
                    .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("audio/"))
            })
            .map(|(i, a)| NewRecording {
                call_external_id: activity.external_id.clone(),
                recording_sid: format!("{INLINE_SID_PREFIX}{i}"),
                url: a["url"].as_str().map(str::to_owned),
                status: None,
                duration_secs: a["duration_secs"]
                    .as_u64()
                    .and_then(|d| u32::try_from(d).ok()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A Twilio SID: two letters and 32 hex digits. Recordings are fetched by SID, so
/// nothing else may reach the URL built from it.
fn twilio_sid(value: &str, prefix: &str, field: &str) -> Result<String, ChannelError> {
    let ok = value.len() == 34
        && value.starts_with(prefix)
        && value[2..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(value.to_owned())
    } else {
        Err(ChannelError::invalid(
            field,
            format!("must be a Twilio SID: {prefix} and 32 hex digits"),
        ))
    }
}

fn http_url(value: &str, field: &str) -> Result<String, ChannelError> {
    if value.starts_with("https://") || value.starts_with("http://") {
        Ok(value.to_owned())
    } else {
        Err(ChannelError::invalid(field, "must be an http(s) URL"))
    }
}

fn duration(value: Option<&str>) -> Result<Option<u32>, ChannelError> {
    value
        .map(|d| {
            d.parse::<u32>()
                .map_err(|_| ChannelError::invalid("RecordingDuration", "must be whole seconds"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::channels::providers::parse_webhook;
    use crate::channels::{ChannelDefaults, Direction};

    const RE: &str = "RE0123456789abcdef0123456789abcdef";

    #[test]
    fn twilio_recording_callbacks_are_read_and_checked() {
        let body = format!(
            "AccountSid=AC1&CallSid=CA9&RecordingSid={RE}&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC1%2FRecordings%2F{RE}&RecordingStatus=completed&RecordingDuration=42"
        );
        let parsed = parse_callback(ChannelProvider::Twilio, body.as_bytes()).unwrap();
        let Some(CallCallback::Recording(recording)) = parsed else {
            panic!("a recording: {parsed:?}")
        };
        assert_eq!(recording.call_external_id, "CA9");
        assert_eq!(recording.recording_sid, RE);
        assert_eq!(recording.duration_secs, Some(42));
        assert!(recording.is_ready());

        let bad = parse_callback(
            ChannelProvider::Twilio,
            b"CallSid=CA9&RecordingSid=../../x&RecordingUrl=https%3A%2F%2Fa",
        )
        .unwrap_err();
        assert!(bad.to_string().contains("RecordingSid"), "{bad}");
        let no_call = parse_callback(
            ChannelProvider::Twilio,
            format!("RecordingSid={RE}&RecordingUrl=https%3A%2F%2Fa").as_bytes(),
        )
        .unwrap_err();
        assert!(no_call.to_string().contains("CallSid"), "{no_call}");
        // A call status callback and a message are activities, not callbacks.
        for body in [
            format!("CallSid=CA9&CallStatus=completed&RecordingSid={RE}"),
            "MessageSid=SM1&Body=hi".to_owned(),
        ] {
            assert_eq!(
                parse_callback(ChannelProvider::Twilio, body.as_bytes()).unwrap(),
                None
            );
        }
        assert_eq!(
            parse_callback(ChannelProvider::Generic, body.as_bytes()).unwrap(),
            None
        );
    }

    #[test]
    fn twilio_transcriptions_are_read() {
        let body = format!(
            "CallSid=CA9&RecordingSid={RE}&TranscriptionSid=TR1&TranscriptionStatus=completed&TranscriptionText=Hello+there"
        );
        assert_eq!(
            parse_callback(ChannelProvider::Twilio, body.as_bytes()).unwrap(),
            Some(CallCallback::Transcription(ProviderTranscript {
                recording_sid: RE.to_owned(),
                call_external_id: Some("CA9".to_owned()),
                text: "Hello there".to_owned(),
            }))
        );
        let failed = format!("RecordingSid={RE}&TranscriptionStatus=failed");
        assert_eq!(
            parse_callback(ChannelProvider::Twilio, failed.as_bytes()).unwrap(),
            Some(CallCallback::TranscriptionFailed {
                recording_sid: RE.to_owned()
            })
        );
    }

    #[test]
    fn generic_audio_attachments_are_recordings() {
        let defaults = ChannelDefaults {
            channel: Channel::Call,
            direction: Direction::Inbound,
        };
        let body = serde_json::json!({
            "external_id": "call-7", "from": {"phone": "+14155552671"},
            "attachments": [
                {"url": "https://files.example/notes.pdf", "content_type": "application/pdf"},
                {"url": "https://files.example/call.mp3", "content_type": "audio/mpeg"},
                {"filename": "voicemail.wav", "content_type": "audio/wav",
                 "content_base64": "UklGRg==", "duration_secs": 3}
            ]
        });
        let webhook = parse_webhook(
            ChannelProvider::Generic,
            defaults,
            body.to_string().as_bytes(),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(
            recordings_in(ChannelProvider::Generic, &webhook),
            vec![
                NewRecording {
                    call_external_id: "call-7".to_owned(),
                    recording_sid: "attachment:1".to_owned(),
                    url: Some("https://files.example/call.mp3".to_owned()),
                    status: None,
                    duration_secs: None,
                },
                NewRecording {
                    call_external_id: "call-7".to_owned(),
                    recording_sid: "attachment:2".to_owned(),
                    url: None,
                    status: None,
                    duration_secs: Some(3),
                }
            ]
        );
    }
}
