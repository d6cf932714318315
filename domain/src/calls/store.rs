//! Recordings in `call_recordings`: kept from callbacks (idempotent on the provider's
//! recording id), joined to their call's activity whenever the two meet, downloads
//! queued on the job queue in the same transaction, transcripts stored and copied into
//! the call's text (so search, Ask, summaries and the Notes API read them), and the
//! views the timeline and the channel settings show.

use api::Direction;
use api::calls::{CallView, RecordingSettingsView, RecordingState, RecordingView, TranscriptLine};
use sqlx::PgConnection;
use uuid::Uuid;

use super::callback::{CallCallback, NewRecording, ProviderTranscript};
use super::jobs::{DOWNLOAD_KIND, DOWNLOAD_MAX_ATTEMPTS};
use crate::channels::webhook_group::{Tally, count_deliveries};
use crate::channels::{ChannelAuth, ChannelError};
use crate::crypto::SecretBox;
use crate::db::scopes::CallsScope;
use crate::files::ContentHash;
use crate::{Db, DomainError, UserId};

/// Separates a call's own line from its transcript in `activities.body_text`.
pub const TRANSCRIPT_MARKER: &str = "\n\nTranscript:\n";

/// What a recording or transcription callback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The recording, new or updated (a repeated callback changes nothing).
    Recording(Uuid),
    /// A transcript was stored on the recording.
    Transcript(Uuid),
    /// Accepted with nothing to keep (a failed transcription).
    Ignored,
}

/// Stored audio, for serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingAudio {
    pub hash: ContentHash,
    pub size: u64,
    pub content_type: String,
}

/// Keeps `recording` of `account`, linked to its call's activity when that is stored
/// already, and queues its download when it is ready. Returns the recording's id.
pub(crate) async fn upsert_recording(
    tx: &mut PgConnection,
    user: UserId,
    account: Uuid,
    recording: &NewRecording,
) -> Result<Uuid, sqlx::Error> {
    let row = sqlx::query!(
        r#"insert into call_recordings (user_id, account_id, call_external_id, recording_sid,
             activity_id, source_url, provider_status, duration_secs)
           values ($1, $2, $3, $4,
             (select id from activities
              where user_id = $1 and account_id = $2 and external_id = $3),
             $5, $6, $7)
           on conflict (account_id, recording_sid) do update
             set provider_status = coalesce(excluded.provider_status, call_recordings.provider_status),
                 duration_secs = coalesce(excluded.duration_secs, call_recordings.duration_secs),
                 source_url = excluded.source_url,
                 activity_id = coalesce(call_recordings.activity_id, excluded.activity_id)
           returning id, download_state"#,
        user.0,
        account,
        recording.call_external_id,
        recording.recording_sid,
        recording.url,
        recording.status,
        recording.duration_secs.map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
    )
    .fetch_one(&mut *tx)
    .await?;
    if recording.is_ready() && row.download_state == RecordingState::Queued.as_str() {
        enqueue_download(tx, user, row.id).await?;
    }
    Ok(row.id)
}

/// Queues the download in the caller's transaction: a recording is never kept without
/// its job, and one live job per recording (the unique key) however often it is told.
async fn enqueue_download(
    tx: &mut PgConnection,
    user: UserId,
    recording: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into jobs (user_id, kind, payload, unique_key, max_attempts)
           values ($1, $2, jsonb_build_object('recording_id', $3::uuid), $2 || ':' || $3::uuid, $4)
           on conflict (unique_key)
             where unique_key is not null and state in ('queued', 'running')
             do nothing"#,
        user.0,
        DOWNLOAD_KIND,
        recording,
        DOWNLOAD_MAX_ATTEMPTS,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Called where a call's activity is stored (or arrives again): keeps the recordings it
/// names, joins the recordings whose callbacks came first, and gives it their
/// transcripts.
pub(crate) async fn attach_recordings(
    tx: &mut PgConnection,
    user: UserId,
    account: Uuid,
    activity: Uuid,
    call_external_id: &str,
    found: &[NewRecording],
) -> Result<(), sqlx::Error> {
    for recording in found {
        upsert_recording(tx, user, account, recording).await?;
    }
    let joined = sqlx::query_scalar!(
        r#"update call_recordings set activity_id = $4
           where user_id = $1 and account_id = $2 and call_external_id = $3
             and activity_id is null
           returning transcript_state"#,
        user.0,
        account,
        call_external_id,
        activity,
    )
    .fetch_all(&mut *tx)
    .await?;
    if joined.iter().any(|state| state == "done") {
        apply_transcripts(tx, user, activity).await?;
    }
    Ok(())
}

/// Writes the call's transcripts after its own line in `body_text` (the search
/// document, Ask and the Notes API read that column) and drops its summary, so the
/// summariser writes one that knows what was said.
pub(crate) async fn apply_transcripts(
    tx: &mut PgConnection,
    user: UserId,
    activity: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update activities a
           set body_text = split_part(coalesce(a.body_text, ''), $3, 1) || $3 || t.text
           from (select string_agg(transcript_text, E'\n' order by created_at, id) as text
                 from call_recordings
                 where user_id = $1 and activity_id = $2 and transcript_state = 'done') t
           where a.user_id = $1 and a.id = $2 and t.text is not null"#,
        user.0,
        activity,
        TRANSCRIPT_MARKER,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "delete from activity_summaries where user_id = $1 and activity_id = $2",
        user.0,
        activity,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Stores a transcript on a recording (and its call, when joined) in one transaction.
pub(crate) async fn store_transcript(
    pool: &sqlx::PgPool,
    user: UserId,
    recording: Uuid,
    lines: &[TranscriptLine],
    source: &str,
    model: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let text = lines
        .iter()
        .map(|l| l.text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let segments = serde_json::to_value(lines).unwrap_or_default();
    let mut tx = pool.begin().await?;
    // A model's transcript (with timestamps) is kept over the provider's plain text.
    let stored = sqlx::query_scalar!(
        r#"update call_recordings
           set transcript_state = 'done', transcript_text = $3, transcript_segments = $4,
               transcript_source = $5, transcript_model = $6, transcript_error = null
           where user_id = $1 and id = $2
             and not ($5 = 'provider' and transcript_source is not distinct from 'model')
           returning activity_id"#,
        user.0,
        recording,
        text,
        segments,
        source,
        model,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(activity) = stored else {
        return Ok(false);
    };
    if let Some(activity) = activity {
        apply_transcripts(&mut tx, user, activity).await?;
    }
    tx.commit().await?;
    Ok(true)
}

impl Db {
    /// Stores a recording or transcription callback for the channel's owner.
    pub async fn ingest_call_callback(
        &self,
        auth: &ChannelAuth,
        callback: &CallCallback,
    ) -> Result<CallbackOutcome, ChannelError> {
        let user = auth.user;
        let outcome = match callback {
            CallCallback::Recording(recording) => {
                let mut tx = self.pool().begin().await?;
                let id = upsert_recording(&mut tx, user, auth.account, recording).await?;
                tx.commit().await?;
                CallbackOutcome::Recording(id)
            }
            CallCallback::Transcription(transcript) => {
                self.provider_transcript(auth, transcript).await?
            }
            CallCallback::TranscriptionFailed { .. } => CallbackOutcome::Ignored,
        };
        // Not an activity, but the channel is alive: a zero tally dated now.
        let mut conn = self.pool().acquire().await?;
        let tally = std::collections::HashMap::from([(auth.channel, Tally::default())]);
        count_deliveries(&mut conn, &tally).await?;
        Ok(outcome)
    }

    async fn provider_transcript(
        &self,
        auth: &ChannelAuth,
        transcript: &ProviderTranscript,
    ) -> Result<CallbackOutcome, ChannelError> {
        let recording = sqlx::query!(
            r#"select id, duration_secs from call_recordings
               where user_id = $1 and account_id = $2 and recording_sid = $3"#,
            auth.user.0,
            auth.account,
            transcript.recording_sid,
        )
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| {
            ChannelError::invalid(
                "RecordingSid",
                "no recording with this SID was reported to this channel",
            )
        })?;
        let line = TranscriptLine {
            start: 0.0,
            end: f64::from(recording.duration_secs.unwrap_or(0)),
            text: transcript.text.clone(),
        };
        store_transcript(
            self.pool(),
            auth.user,
            recording.id,
            &[line],
            "provider",
            None,
        )
        .await?;
        Ok(CallbackOutcome::Transcript(recording.id))
    }
}

impl CallsScope<'_> {
    /// The call activity with its recordings, for its timeline row. `NotFound` for
    /// anything that is not one of this user's calls.
    pub async fn call(self, activity: Uuid) -> Result<CallView, DomainError> {
        let call = sqlx::query!(
            r#"select direction as "direction: Direction",
                      (headers ->> 'call_duration_secs')::bigint as duration
               from activities
               where user_id = $1 and id = $2 and deleted_at is null"#,
            self.user.0,
            activity,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("call"))?;
        let rows = sqlx::query!(
            r#"select id, download_state, duration_secs, last_error, transcript_segments
               from call_recordings
               where user_id = $1 and activity_id = $2
               order by created_at, id"#,
            self.user.0,
            activity,
        )
        .fetch_all(self.pool)
        .await?;
        let recordings = rows
            .into_iter()
            .map(|r| {
                let state =
                    RecordingState::parse(&r.download_state).unwrap_or(RecordingState::Queued);
                RecordingView {
                    id: r.id,
                    state,
                    duration_secs: r.duration_secs.and_then(|d| u32::try_from(d).ok()),
                    audio_url: (state == RecordingState::Stored)
                        .then(|| format!("/recordings/{}", r.id)),
                    error: r.last_error,
                    transcript: serde_json::from_value(r.transcript_segments).unwrap_or_default(),
                }
            })
            .collect();
        Ok(CallView {
            activity_id: activity,
            direction: call.direction,
            duration_secs: call.duration.and_then(|d| u32::try_from(d).ok()),
            recordings,
        })
    }

    /// The stored audio of one of this user's recordings; `NotFound` otherwise (another
    /// user's recording, one not downloaded yet, or one whose call was deleted).
    pub async fn recording_audio(self, recording: Uuid) -> Result<RecordingAudio, DomainError> {
        let row = sqlx::query!(
            r#"select r.content_sha256, r.size_bytes, r.content_type
               from call_recordings r
               left join activities a on a.user_id = r.user_id and a.id = r.activity_id
               where r.user_id = $1 and r.id = $2 and r.download_state = 'stored'
                 and a.deleted_at is null"#,
            self.user.0,
            recording,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("recording"))?;
        Ok(RecordingAudio {
            hash: row
                .content_sha256
                .as_deref()
                .and_then(ContentHash::from_stored)
                .ok_or(DomainError::NotFound("recording"))?,
            size: row
                .size_bytes
                .and_then(|s| u64::try_from(s).ok())
                .unwrap_or(0),
            content_type: row.content_type.unwrap_or_else(|| "audio/mpeg".to_owned()),
        })
    }

    /// What the channel's settings show about recordings.
    pub async fn recording_settings(
        self,
        channel: Uuid,
    ) -> Result<RecordingSettingsView, DomainError> {
        let row = sqlx::query!(
            r#"select c.id, s.account_sid, s.auth_token_sealed is not null as "has_token!",
                      s.last_error, s.last_error_at
               from ingestion_channels c
               left join channel_recording_settings s on s.channel_id = c.id
               where c.user_id = $1 and c.id = $2"#,
            self.user.0,
            channel,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("channel"))?;
        Ok(RecordingSettingsView {
            channel_id: row.id,
            account_sid: row.account_sid,
            has_auth_token: row.has_token,
            last_error: row.last_error,
            last_error_at: row.last_error_at,
        })
    }

    /// Saves the Twilio account SID and auth token recordings are fetched with (the
    /// token sealed, bound to the channel), clears the channel's download error, and
    /// queues again the downloads that failed.
    pub async fn set_recording_credentials(
        self,
        channel: Uuid,
        account_sid: &str,
        auth_token: &str,
        secrets: &SecretBox,
    ) -> Result<RecordingSettingsView, DomainError> {
        let account_sid = account_sid.trim();
        let valid_sid = account_sid.len() == 34
            && account_sid.starts_with("AC")
            && account_sid[2..].chars().all(|c| c.is_ascii_hexdigit());
        if !valid_sid {
            return Err(DomainError::invalid(
                "account_sid",
                "must be a Twilio account SID: AC and 32 hex digits",
            ));
        }
        let auth_token = auth_token.trim();
        if auth_token.is_empty() || auth_token.len() > 200 {
            return Err(DomainError::invalid(
                "auth_token",
                "must be 1 to 200 characters",
            ));
        }
        let mut tx = self.pool.begin().await?;
        let account = sqlx::query_scalar!(
            "select account_id from ingestion_channels where user_id = $1 and id = $2",
            self.user.0,
            channel,
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("channel"))?;
        sqlx::query!(
            r#"insert into channel_recording_settings (channel_id, user_id, account_sid, auth_token_sealed)
               values ($1, $2, $3, $4)
               on conflict (channel_id) do update
                 set account_sid = excluded.account_sid,
                     auth_token_sealed = excluded.auth_token_sealed,
                     last_error = null, last_error_at = null, updated_at = now()"#,
            channel,
            self.user.0,
            account_sid,
            secrets.seal_for(auth_token, channel.as_bytes()),
        )
        .execute(&mut *tx)
        .await?;
        let retry = sqlx::query_scalar!(
            r#"update call_recordings set download_state = 'queued', last_error = null
               where user_id = $1 and account_id = $2 and download_state = 'failed'
               returning id"#,
            self.user.0,
            account,
        )
        .fetch_all(&mut *tx)
        .await?;
        for recording in retry {
            enqueue_download(&mut tx, self.user, recording).await?;
        }
        tx.commit().await?;
        self.recording_settings(channel).await
    }
}

impl CallsScope<'_> {
    /// Gives one of this user's call activities a recording whose audio is in the file
    /// store already, with its transcript: how the demo's calls come with theirs.
    pub async fn add_stored_recording(
        self,
        activity: Uuid,
        recording_sid: &str,
        content: &crate::files::StoredContent,
        content_type: &str,
        duration_secs: u32,
        transcript: &[TranscriptLine],
    ) -> Result<Uuid, DomainError> {
        let id = sqlx::query_scalar!(
            r#"insert into call_recordings (user_id, account_id, call_external_id, recording_sid,
                 activity_id, source_url, provider_status, duration_secs, download_state,
                 content_sha256, size_bytes, content_type)
               select user_id, account_id, external_id, $3, id, 'demo:' || $3, 'completed', $4,
                      'stored', $5, $6, $7
               from activities where user_id = $1 and id = $2 and channel = 'call'
               on conflict (account_id, recording_sid) do update set updated_at = now()
               returning id"#,
            self.user.0,
            activity,
            recording_sid,
            i32::try_from(duration_secs).unwrap_or(i32::MAX),
            content.hash.as_bytes().as_slice(),
            i64::try_from(content.size).unwrap_or(i64::MAX),
            content_type,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(DomainError::NotFound("call"))?;
        // The demo has no model: its transcript comes as the fake's would.
        store_transcript(self.pool, self.user, id, transcript, "model", Some("demo")).await?;
        Ok(id)
    }
}

impl CallsScope<'_> {
    /// The transcripts of those of `activities` that are calls with one, by activity.
    pub async fn transcripts(
        self,
        activities: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, String>, DomainError> {
        let rows = sqlx::query!(
            r#"select activity_id as "activity_id!",
                      string_agg(transcript_text, E'\n' order by created_at, id) as "text!"
               from call_recordings
               where user_id = $1 and activity_id = any($2) and transcript_state = 'done'
               group by activity_id"#,
            self.user.0,
            activities,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| (r.activity_id, r.text)).collect())
    }
}
