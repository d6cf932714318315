//! The recordings' jobs on the lease queue. `recording.download` fetches the audio from
//! the provider (Twilio: the `.mp3` form of the recording, by its SID under the
//! channel's account, with the channel's account SID and auth token; generic webhooks:
//! the attachment's URL, or its inline content from the activity's payload) into the content-addressed file store, under a size cap and a
//! timeout. Refused credentials are shown on the channel and wait for new ones; a
//! missing recording or an oversize file is given up; anything else is retried with the
//! queue's backoff. `recording.transcribe` (registered only when a model is configured)
//! sends stored audio to the OpenAI-compatible `POST /audio/transcriptions` with no
//! transaction open and stores the segments; a failure is retried and never touches
//! the call, which stays completed.

use std::net::IpAddr;
use std::time::Duration;

use api::calls::TranscriptLine;
use async_openai::types::{
    AudioInput, AudioResponseFormat, CreateTranscriptionRequest, TimestampGranularity,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::callback::INLINE_SID_PREFIX;
use super::store::store_transcript;
use crate::ask::model::{self, ModelConfig, ModelError};
use crate::crypto::SecretBox;
use crate::files::{FileError, FileStore, StoredContent};
use crate::jobs::{BackgroundJob, Job, JobError};
use crate::{Db, UserId};

pub(crate) const DOWNLOAD_KIND: &str = "recording.download";
/// Downloads that keep failing for a passing reason are given up after this many.
pub(crate) const DOWNLOAD_MAX_ATTEMPTS: i32 = 6;
/// Transcriptions, like summaries, are given up after this many failed calls.
pub const TRANSCRIBE_MAX_ATTEMPTS: i32 = 5;

/// What a download needs.
#[derive(Debug, Clone)]
pub struct RecordingsContext {
    pub db: Db,
    pub files: FileStore,
    pub secrets: SecretBox,
    pub http: reqwest::Client,
    /// Where Twilio's REST API lives: `https://api.twilio.com` (a fake in tests).
    pub twilio_api_base: String,
    /// The largest recording kept.
    pub max_bytes: u64,
    /// For the whole download.
    pub timeout: Duration,
    /// Queue a transcription once the audio is stored (a model is configured).
    pub transcribe: bool,
    /// Generic webhooks' recording URLs may point at loopback and private addresses
    /// (tests and the demo only: otherwise a webhook could make Rapport fetch from its
    /// own network).
    pub allow_private_hosts: bool,
}

impl RecordingsContext {
    pub const TWILIO_API_BASE: &str = "https://api.twilio.com";
    pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

    /// Twilio answers a media request with a redirect to its storage; reqwest drops
    /// the credentials when a redirect leaves the host.
    pub fn http_client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadRecording {
    pub recording_id: Uuid,
}

impl BackgroundJob for DownloadRecording {
    const KIND: &'static str = DOWNLOAD_KIND;
    type Context = RecordingsContext;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.recording_id))
    }

    fn max_attempts(&self) -> i32 {
        DOWNLOAD_MAX_ATTEMPTS
    }

    async fn run(&self, ctx: &RecordingsContext, job: &Job) -> Result<(), JobError> {
        download(ctx, job, self.recording_id).await
    }
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
enum DownloadError {
    #[error(
        "the recording provider refused the channel's credentials (HTTP {0}): check the Twilio account SID and auth token in the channel's settings"
    )]
    Refused(u16),
    #[error(
        "add the Twilio account SID and auth token in the channel's settings to fetch its recordings"
    )]
    NoCredentials,
    #[error("the recording is not at the provider (HTTP 404)")]
    Missing,
    #[error("the audio the webhook carried is no longer stored (its activity was deleted)")]
    InlineGone,
    #[error("the recording is larger than the {} MB allowed", .0 / (1024 * 1024))]
    TooLarge(u64),
    #[error("the recording URL {0:?} is not allowed: {1}")]
    Forbidden(String, &'static str),
    #[error("the recording provider answered HTTP {0}")]
    Status(u16),
    #[error("the download did not finish within {0:?}")]
    Timeout(Duration),
    #[error("could not reach the recording provider: {0}")]
    Transport(String),
    #[error("could not store the recording: {0}")]
    Storage(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl DownloadError {
    fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Refused(_)
                | Self::NoCredentials
                | Self::Missing
                | Self::InlineGone
                | Self::TooLarge(_)
                | Self::Forbidden(..)
        )
    }

    /// Shown on the channel: the user has to act on it there.
    fn concerns_channel(&self) -> bool {
        matches!(self, Self::Refused(_) | Self::NoCredentials)
    }
}

struct Source {
    user: UserId,
    channel: Uuid,
    provider: String,
    recording_sid: String,
    source_url: Option<String>,
    account_sid: Option<String>,
    auth_token: Option<Vec<u8>>,
}

async fn download(ctx: &RecordingsContext, job: &Job, recording: Uuid) -> Result<(), JobError> {
    let row = sqlx::query!(
        r#"select r.user_id, r.recording_sid, r.source_url, r.download_state,
                  c.id as channel_id, c.provider, s.account_sid, s.auth_token_sealed
           from call_recordings r
           join ingestion_channels c on c.user_id = r.user_id and c.account_id = r.account_id
           left join channel_recording_settings s on s.channel_id = c.id
           where r.id = $1"#,
        recording,
    )
    .fetch_optional(ctx.db.pool())
    .await
    .map_err(|e| JobError::Retryable(e.to_string()))?;
    // Gone with its channel or user, or stored by an earlier run: nothing to do.
    let Some(row) = row.filter(|r| r.download_state != "stored") else {
        return Ok(());
    };
    let source = Source {
        user: UserId(row.user_id),
        channel: row.channel_id,
        provider: row.provider,
        recording_sid: row.recording_sid,
        source_url: row.source_url,
        account_sid: row.account_sid,
        auth_token: row.auth_token_sealed,
    };
    match fetch(ctx, &source, recording).await {
        Ok(()) => Ok(()),
        Err(error) => Err(record_failure(ctx, job, &source, recording, error).await),
    }
}

async fn fetch(
    ctx: &RecordingsContext,
    source: &Source,
    recording: Uuid,
) -> Result<(), DownloadError> {
    let request = if source.provider == "twilio" {
        let (Some(sid), Some(sealed)) = (&source.account_sid, &source.auth_token) else {
            return Err(DownloadError::NoCredentials);
        };
        let token = ctx
            .secrets
            .open_for(sealed, source.channel.as_bytes())
            .map_err(|_| DownloadError::NoCredentials)?;
        // Built from the SIDs (both checked to be hex), never from the callback's URL:
        // the credentials only ever go to Twilio.
        let url = format!(
            "{}/2010-04-01/Accounts/{sid}/Recordings/{}.mp3",
            ctx.twilio_api_base.trim_end_matches('/'),
            source.recording_sid
        );
        ctx.http.get(url).basic_auth(sid, Some(token))
    } else if let Some(url) = &source.source_url {
        let url = allowed_url(url, ctx.allow_private_hosts).await?;
        ctx.http.get(url)
    } else {
        return keep_inline(ctx, source, recording).await;
    };
    tokio::time::timeout(ctx.timeout, receive(ctx, request, source, recording))
        .await
        .map_err(|_| DownloadError::Timeout(ctx.timeout))?
}

async fn receive(
    ctx: &RecordingsContext,
    request: reqwest::RequestBuilder,
    source: &Source,
    recording: Uuid,
) -> Result<(), DownloadError> {
    let transport = |e: reqwest::Error| DownloadError::Transport(e.to_string());
    let mut response = request.send().await.map_err(transport)?;
    match response.status().as_u16() {
        200..=299 => {}
        status @ (401 | 403) => return Err(DownloadError::Refused(status)),
        404 => return Err(DownloadError::Missing),
        status => return Err(DownloadError::Status(status)),
    }
    if response.content_length().is_some_and(|n| n > ctx.max_bytes) {
        return Err(DownloadError::TooLarge(ctx.max_bytes));
    }
    let content_type = audio_type(
        response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut incoming = ctx.files.begin(ctx.max_bytes).await.map_err(storage)?;
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        incoming.write(&chunk).await.map_err(storage)?;
    }
    let stored = incoming.finish().await.map_err(storage)?;
    keep(ctx, source, recording, &stored, &content_type).await
}

/// Audio a generic webhook carried itself (`content_base64`, validated when the
/// webhook was accepted): decoded from the activity's raw payload into the file store.
async fn keep_inline(
    ctx: &RecordingsContext,
    source: &Source,
    recording: Uuid,
) -> Result<(), DownloadError> {
    let index = source
        .recording_sid
        .strip_prefix(INLINE_SID_PREFIX)
        .and_then(|i| i.parse::<i32>().ok())
        .ok_or(DownloadError::InlineGone)?;
    let attachment = sqlx::query!(
        r#"select a.raw_payload -> 'attachments' -> $3::int ->> 'content_base64' as content,
                  a.raw_payload -> 'attachments' -> $3::int ->> 'content_type' as content_type
           from call_recordings r
           join activities a on a.user_id = r.user_id and a.id = r.activity_id
           where r.user_id = $1 and r.id = $2"#,
        source.user.0,
        recording,
        index,
    )
    .fetch_optional(ctx.db.pool())
    .await?;
    let (Some(content), content_type) = attachment
        .map(|a| (a.content, a.content_type))
        .unwrap_or_default()
    else {
        return Err(DownloadError::InlineGone);
    };
    let audio = STANDARD
        .decode(content.trim())
        .map_err(|_| DownloadError::InlineGone)?;
    let mut incoming = ctx.files.begin(ctx.max_bytes).await.map_err(storage)?;
    incoming.write(&audio).await.map_err(storage)?;
    let stored = incoming.finish().await.map_err(storage)?;
    keep(
        ctx,
        source,
        recording,
        &stored,
        &audio_type(content_type.as_deref()),
    )
    .await
}

/// The media type a recording is served with: the one given when it is audio, else MP3
/// (what Twilio serves).
fn audio_type(given: Option<&str>) -> String {
    given
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|t| t.starts_with("audio/"))
        .unwrap_or_else(|| "audio/mpeg".to_owned())
}

fn storage(error: FileError) -> DownloadError {
    match error {
        FileError::TooLarge(limit) => DownloadError::TooLarge(limit),
        other => DownloadError::Storage(other.to_string()),
    }
}

/// Marks the recording stored and, when a model transcribes, queues its transcription.
async fn keep(
    ctx: &RecordingsContext,
    source: &Source,
    recording: Uuid,
    stored: &StoredContent,
    content_type: &str,
) -> Result<(), DownloadError> {
    let mut tx = ctx.db.pool().begin().await?;
    let updated = sqlx::query_scalar!(
        r#"update call_recordings
           set download_state = 'stored', content_sha256 = $3, size_bytes = $4,
               content_type = $5, last_error = null,
               transcript_state = case when $6 and transcript_source is distinct from 'model'
                                       then 'queued' else transcript_state end
           where user_id = $1 and id = $2
           returning transcript_state"#,
        source.user.0,
        recording,
        stored.hash.as_bytes().as_slice(),
        i64::try_from(stored.size).unwrap_or(i64::MAX),
        content_type,
        ctx.transcribe,
    )
    .fetch_optional(&mut *tx)
    .await?;
    if updated.as_deref() == Some("queued") {
        sqlx::query!(
            r#"insert into jobs (user_id, kind, payload, unique_key, max_attempts)
               values ($1, $2, jsonb_build_object('recording_id', $3::uuid), $2 || ':' || $3::uuid, $4)
               on conflict (unique_key)
                 where unique_key is not null and state in ('queued', 'running')
                 do nothing"#,
            source.user.0,
            TranscribeRecording::KIND,
            recording,
            TRANSCRIBE_MAX_ATTEMPTS,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An http(s) URL whose host is not this machine's network, unless allowed.
async fn allowed_url(url: &str, allow_private: bool) -> Result<reqwest::Url, DownloadError> {
    let forbidden = |why| DownloadError::Forbidden(url.to_owned(), why);
    let parsed = reqwest::Url::parse(url).map_err(|_| forbidden("not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(forbidden("only http(s) is fetched"));
    }
    if allow_private {
        return Ok(parsed);
    }
    let host = parsed.host_str().ok_or_else(|| forbidden("no host"))?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| DownloadError::Transport(e.to_string()))?;
    for address in addresses {
        if !is_public(address.ip()) {
            return Err(forbidden("it points at a private or local address"));
        }
    }
    Ok(parsed)
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// Keeps the error on the recording (and on the channel when the user has to act
/// there) and tells the queue whether to retry.
async fn record_failure(
    ctx: &RecordingsContext,
    job: &Job,
    source: &Source,
    recording: Uuid,
    error: DownloadError,
) -> JobError {
    let message = error.to_string();
    let last = error.is_permanent() || job.attempts >= job.max_attempts;
    let recorded = async {
        sqlx::query!(
            r#"update call_recordings
               set last_error = $3, download_state = case when $4 then 'failed' else 'queued' end
               where user_id = $1 and id = $2 and download_state <> 'stored'"#,
            source.user.0,
            recording,
            message,
            last,
        )
        .execute(ctx.db.pool())
        .await?;
        if error.concerns_channel() {
            sqlx::query!(
                r#"insert into channel_recording_settings (channel_id, user_id, last_error, last_error_at)
                   values ($1, $2, $3, now())
                   on conflict (channel_id) do update
                     set last_error = excluded.last_error, last_error_at = now()"#,
                source.channel,
                source.user.0,
                message,
            )
            .execute(ctx.db.pool())
            .await?;
        }
        Ok::<(), sqlx::Error>(())
    }
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, %recording, "could not record a recording download error");
    }
    if error.is_permanent() {
        JobError::Permanent(message)
    } else {
        JobError::Retryable(message)
    }
}

/// What a transcription needs: the model and the model name for speech.
#[derive(Debug, Clone)]
pub struct TranscriptionContext {
    pub db: Db,
    pub files: FileStore,
    pub model: ModelConfig,
    /// `OPENAI_TRANSCRIPTION_MODEL`, `whisper-1` by default.
    pub transcription_model: String,
    pub timeout: Duration,
}

impl TranscriptionContext {
    pub const DEFAULT_MODEL: &str = "whisper-1";

    pub fn new(
        db: &Db,
        files: &FileStore,
        model: ModelConfig,
        get: impl Fn(&str) -> Option<String>,
    ) -> Self {
        Self {
            db: db.clone(),
            files: files.clone(),
            model,
            transcription_model: get("OPENAI_TRANSCRIPTION_MODEL")
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| Self::DEFAULT_MODEL.to_owned()),
            timeout: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscribeRecording {
    pub recording_id: Uuid,
}

impl BackgroundJob for TranscribeRecording {
    const KIND: &'static str = "recording.transcribe";
    type Context = TranscriptionContext;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.recording_id))
    }

    fn max_attempts(&self) -> i32 {
        TRANSCRIBE_MAX_ATTEMPTS
    }

    async fn run(&self, ctx: &TranscriptionContext, job: &Job) -> Result<(), JobError> {
        let row = sqlx::query!(
            r#"select user_id, content_sha256, content_type, transcript_source
               from call_recordings where id = $1 and download_state = 'stored'"#,
            self.recording_id,
        )
        .fetch_optional(ctx.db.pool())
        .await
        .map_err(|e| JobError::Retryable(e.to_string()))?;
        let Some(row) = row.filter(|r| r.transcript_source.as_deref() != Some("model")) else {
            return Ok(());
        };
        let user = UserId(row.user_id);
        let result = transcribe(
            ctx,
            row.content_sha256.as_deref(),
            row.content_type.as_deref(),
            self.recording_id,
        )
        .await;
        let failure = match result {
            Ok(lines) => {
                store_transcript(
                    ctx.db.pool(),
                    user,
                    self.recording_id,
                    &lines,
                    "model",
                    Some(&ctx.transcription_model),
                )
                .await
                .map_err(|e| JobError::Retryable(e.to_string()))?;
                return Ok(());
            }
            Err(failure) => failure,
        };
        let message = failure.to_string();
        let last = job.attempts >= job.max_attempts;
        sqlx::query!(
            r#"update call_recordings
               set transcript_error = $3,
                   transcript_state = case when transcript_state = 'done' then 'done'
                                           when $4 then 'failed' else 'queued' end
               where user_id = $1 and id = $2"#,
            user.0,
            self.recording_id,
            message,
            last,
        )
        .execute(ctx.db.pool())
        .await
        .map_err(|e| JobError::Retryable(e.to_string()))?;
        Err(JobError::Retryable(message))
    }
}

#[derive(Debug, thiserror::Error)]
enum TranscribeError {
    #[error("the stored recording could not be read: {0}")]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Model(#[from] ModelError),
}

async fn transcribe(
    ctx: &TranscriptionContext,
    hash: Option<&[u8]>,
    content_type: Option<&str>,
    recording: Uuid,
) -> Result<Vec<TranscriptLine>, TranscribeError> {
    let hash = hash
        .and_then(crate::files::ContentHash::from_stored)
        .ok_or_else(|| std::io::Error::other("the recording has no stored content"))?;
    let audio = tokio::fs::read(ctx.files.path_of(&hash)).await?;
    let extension = match content_type {
        Some("audio/wav" | "audio/x-wav" | "audio/wave") => "wav",
        Some("audio/ogg") => "ogg",
        Some("audio/mp4" | "audio/m4a" | "audio/x-m4a") => "m4a",
        Some("audio/webm") => "webm",
        _ => "mp3",
    };
    let request = CreateTranscriptionRequest {
        file: AudioInput::from_vec_u8(format!("{recording}.{extension}"), audio),
        model: ctx.transcription_model.clone(),
        response_format: Some(AudioResponseFormat::VerboseJson),
        timestamp_granularities: Some(vec![TimestampGranularity::Segment]),
        ..CreateTranscriptionRequest::default()
    };
    let client = model::client(&ctx.model);
    let reply = tokio::time::timeout(ctx.timeout, client.audio().transcribe_verbose_json(request))
        .await
        .map_err(|_| ModelError::Timeout(ctx.timeout))?
        .map_err(ModelError::from)?;
    let lines = match reply.segments {
        Some(segments) if !segments.is_empty() => segments
            .into_iter()
            .map(|s| TranscriptLine {
                start: f64::from(s.start),
                end: f64::from(s.end),
                text: s.text.trim().to_owned(),
            })
            .collect(),
        _ => vec![TranscriptLine {
            start: 0.0,
            end: f64::from(reply.duration),
            text: reply.text.trim().to_owned(),
        }],
    };
    Ok(lines)
}
