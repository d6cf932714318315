//! Calls for tests and the demo: a fake Twilio media server (recordings behind HTTP
//! Basic auth with the account SID and auth token, at the REST API's
//! `/2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}.mp3`, with Twilio's
//! JSON error bodies), short synthesised audio (a WAV of tones, written by code, so
//! nothing is downloaded or installed), and the demo's calls with what was said.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::serve::RunningServer;

/// A Twilio account whose recordings the fake serves.
#[derive(Debug, Clone)]
pub struct MediaAccount {
    pub account_sid: String,
    pub auth_token: String,
    /// By RecordingSid: the `.mp3` bytes.
    pub recordings: HashMap<String, Vec<u8>>,
}

#[derive(Default)]
struct Media {
    accounts: Vec<MediaAccount>,
    /// Files served without credentials at `/media/{name}` (generic webhooks' URLs).
    public: HashMap<String, (String, Vec<u8>)>,
    delay: Duration,
    requests: usize,
}

/// A running fake Twilio media server; stops when dropped.
pub struct FakeTwilioMedia {
    server: RunningServer,
    media: Arc<Mutex<Media>>,
}

impl FakeTwilioMedia {
    pub async fn start(accounts: Vec<MediaAccount>) -> io::Result<Self> {
        let media = Arc::new(Mutex::new(Media {
            accounts,
            ..Media::default()
        }));
        let state = media.clone();
        let server = RunningServer::start("twilio media", 0, move |_| {
            Router::new()
                .route(
                    "/2010-04-01/Accounts/{account}/Recordings/{file}",
                    get(recording),
                )
                .route("/media/{name}", get(public))
                .with_state(state)
        })
        .await?;
        Ok(Self { server, media })
    }

    /// Like `https://api.twilio.com`.
    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// Every answer waits this long first (a slow server).
    pub fn set_delay(&self, delay: Duration) {
        self.media.lock().expect("media lock").delay = delay;
    }

    /// Serves `bytes` as `content_type` at `{base}/media/{name}`, to anyone.
    pub fn publish(&self, name: &str, content_type: &str, bytes: Vec<u8>) -> String {
        self.media
            .lock()
            .expect("media lock")
            .public
            .insert(name.to_owned(), (content_type.to_owned(), bytes));
        format!("{}/media/{name}", self.base_url())
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.media.lock().expect("media lock").requests
    }
}

async fn recording(
    State(media): State<Arc<Mutex<Media>>>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let delay = {
        let mut m = media.lock().expect("media lock");
        m.requests += 1;
        m.delay
    };
    tokio::time::sleep(delay).await;
    let media = media.lock().expect("media lock");
    let Some(found) = media.accounts.iter().find(|a| a.account_sid == account) else {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    };
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", found.account_sid, found.auth_token))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected)
    {
        return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let Some(sid) = file.strip_suffix(".mp3") else {
        return twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    };
    match found.recordings.get(sid) {
        Some(bytes) => ([(header::CONTENT_TYPE, "audio/mpeg")], bytes.clone()).into_response(),
        None => twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            &format!(
                "The requested resource /2010-04-01/Accounts/{account}/Recordings/{sid}.mp3 was not found"
            ),
        ),
    }
}

async fn public(State(media): State<Arc<Mutex<Media>>>, Path(name): Path<String>) -> Response {
    let delay = {
        let mut m = media.lock().expect("media lock");
        m.requests += 1;
        m.delay
    };
    tokio::time::sleep(delay).await;
    let media = media.lock().expect("media lock");
    match media.public.get(&name) {
        Some((content_type, bytes)) => (
            [(header::CONTENT_TYPE, content_type.clone())],
            bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Twilio's REST error body.
fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code, "message": message, "status": status.as_u16(),
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A mono 8 kHz 16-bit PCM WAV: one soft tone per `(seconds, hertz)` part (0 Hz is
/// silence), with short fades so parts do not click.
pub fn tones_wav(parts: &[(f32, f32)]) -> Vec<u8> {
    const RATE: u32 = 8_000;
    let mut samples: Vec<i16> = Vec::new();
    for &(seconds, hertz) in parts {
        let n = (seconds * RATE as f32) as usize;
        let fade = (RATE as usize / 50).min(n / 2).max(1);
        for i in 0..n {
            let envelope = (i.min(n - 1 - i) as f32 / fade as f32).min(1.0);
            let t = i as f32 / RATE as f32;
            let value = (t * hertz * std::f32::consts::TAU).sin() * 6_000.0 * envelope;
            samples.push(value as i16);
        }
    }
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

/// One demo call: who spoke when, as the transcript lines the fake transcribes it to.
pub struct DemoCall {
    pub outbound: bool,
    pub lines: &'static [(f32, f32, &'static str)],
}

pub const DEMO_CALLS: [DemoCall; 3] = [
    DemoCall {
        outbound: true,
        lines: &[
            (0.0, 2.5, "Hi, thanks for making time for a quick call."),
            (2.5, 5.0, "Of course. I read the proposal last night."),
            (
                5.0,
                8.0,
                "Great. Can we agree on the pilot budget by Friday?",
            ),
        ],
    },
    DemoCall {
        outbound: false,
        lines: &[
            (0.0, 3.0, "Hey, calling about the contract renewal."),
            (3.0, 6.0, "Legal signed off, so we can send it over today."),
        ],
    },
    DemoCall {
        outbound: false,
        lines: &[
            (0.0, 2.0, "Quick one about the offsite in Lisbon."),
            (2.0, 4.5, "The venue confirmed the dates in March."),
        ],
    },
];

impl DemoCall {
    /// Its audio: a tone per line (alternating voices), a moment of silence between.
    pub fn audio(&self) -> Vec<u8> {
        let parts: Vec<(f32, f32)> = self
            .lines
            .iter()
            .enumerate()
            .flat_map(|(i, (start, end, _))| {
                let voice = if i % 2 == 0 { 440.0 } else { 330.0 };
                [(end - start - 0.2, voice), (0.2, 0.0)]
            })
            .collect();
        tones_wav(&parts)
    }

    pub fn duration_secs(&self) -> u32 {
        self.lines.last().map_or(0, |(_, end, _)| end.ceil() as u32)
    }
}

/// The Twilio call status callback of demo call `index` with `phone`, at `at`.
pub fn demo_call_status(
    key: u64,
    phone: &str,
    index: usize,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    let call = &DEMO_CALLS[index];
    let owner = crate::webhooks::OWNER_PHONE;
    let (from, to, direction) = if call.outbound {
        (owner, phone, "outbound-dial")
    } else {
        (phone, owner, "inbound")
    };
    let fields = [
        ("CallSid", format!("CA{key:032x}")),
        (
            "AccountSid",
            "AC00000000000000000000000000000000".to_owned(),
        ),
        ("From", from.to_owned()),
        ("To", to.to_owned()),
        ("CallStatus", "completed".to_owned()),
        ("CallDuration", call.duration_secs().to_string()),
        ("Direction", direction.to_owned()),
        ("Timestamp", at.to_rfc2822()),
        ("ApiVersion", "2010-04-01".to_owned()),
    ];
    fields
        .iter()
        .map(|(k, v)| {
            let value: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_audio_is_a_small_wav_as_long_as_the_call() {
        for call in &DEMO_CALLS {
            let wav = call.audio();
            assert_eq!(&wav[..4], b"RIFF");
            assert_eq!(&wav[8..16], b"WAVEfmt ");
            let data = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
            assert_eq!(wav.len(), 44 + data);
            let seconds = data as f32 / (8_000.0 * 2.0);
            let last = call.lines.last().unwrap().1;
            assert!((seconds - last).abs() < 0.01, "{seconds} vs {last}");
            assert!(wav.len() < 200_000);
        }
    }
}
