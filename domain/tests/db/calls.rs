//! Call recordings and transcripts against Postgres and the fakes: recording callbacks
//! before and after their call, repeated callbacks, the download job against a fake
//! Twilio media server (refused credentials shown on the channel, a missing recording,
//! a slow server, an oversize file), transcription through the fake OpenAI with its
//! segments stored, a failed transcription retried without touching the call, and the
//! transcript found by search and Ask.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use domain::ask::model::ModelConfig;
use domain::ask::tools::{Limit, MessageFilter};
use domain::calls::{
    CallbackOutcome, DownloadRecording, RecordingAudio, RecordingsContext, TranscribeRecording,
    TranscriptionContext, parse_callback,
};
use domain::channels::providers::parse_webhook;
use domain::channels::{
    Channel, ChannelDefaults, ChannelProvider, Direction, IngestOutcome, NewChannel,
};
use domain::crypto::SecretBox;
use domain::files::FileStore;
use domain::jobs::{Backoff, JobRegistry, LeasedTable, Worker, WorkerId, WorkerOptions};
use domain::processing::{Processor, ProcessorOptions};
use domain::search::SearchQuery;
use domain::{Db, DomainError, UserId};
use fakes::calls::{FakeTwilioMedia, MediaAccount};
use fakes::openai::{FakeOpenAi, Reply};
use uuid::Uuid;

use crate::helpers::{fresh_db, user};

const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
const AUTH_TOKEN: &str = "twilio-auth-token-1";
const CALL_A: &str = "CA0000000000000000000000000000000a";
const CALL_B: &str = "CA0000000000000000000000000000000b";
const REC_A: &str = "RE0000000000000000000000000000000a";
const REC_B: &str = "RE0000000000000000000000000000000b";
const REC_MISSING: &str = "RE00000000000000000000000000000404";

struct Phone {
    db: Db,
    user: UserId,
    channel: Uuid,
    key: String,
    secrets: SecretBox,
    files: FileStore,
    _dir: tempfile::TempDir,
}

#[derive(Debug, PartialEq)]
enum Delivered {
    Activity(IngestOutcome),
    Callback(CallbackOutcome),
}

async fn phone(db: &Db, email: &str) -> Phone {
    channel(db, email, ChannelProvider::Twilio).await
}

async fn channel(db: &Db, email: &str, provider: ChannelProvider) -> Phone {
    let user = user(db, email).await;
    let (view, key) = db
        .for_user(user)
        .channels()
        .create(&NewChannel {
            name: provider.as_str().to_owned(),
            provider,
            defaults: ChannelDefaults {
                channel: Channel::Call,
                direction: Direction::Inbound,
            },
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    Phone {
        db: db.clone(),
        user,
        channel: view.id,
        key: key.expose().to_owned(),
        secrets: SecretBox::from_base64(&format!("{}=", "A".repeat(43))).unwrap(),
        files: FileStore::new(dir.path()),
        _dir: dir,
    }
}

fn call_status(call: &str, extra: &str) -> String {
    format!(
        "CallSid={call}&AccountSid={ACCOUNT_SID}&From=%2B14155552671&To=%2B14155550100&CallStatus=completed&CallDuration=42&Direction=inbound{extra}"
    )
}

fn recording_callback(call: &str, recording: &str) -> String {
    format!(
        "AccountSid={ACCOUNT_SID}&CallSid={call}&RecordingSid={recording}&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2F{ACCOUNT_SID}%2FRecordings%2F{recording}&RecordingStatus=completed&RecordingDuration=41&RecordingChannels=1&RecordingSource=DialVerb"
    )
}

impl Phone {
    /// Posts a webhook body the way `POST /ingest/{channel}` does.
    async fn post(&self, body: &str) -> Delivered {
        let auth = self
            .db
            .authorize_channel(self.channel, &self.key)
            .await
            .unwrap();
        if let Some(callback) = parse_callback(auth.provider, body.as_bytes()).unwrap() {
            return Delivered::Callback(
                self.db
                    .ingest_call_callback(&auth, &callback)
                    .await
                    .unwrap(),
            );
        }
        let parsed =
            parse_webhook(auth.provider, auth.defaults, body.as_bytes(), Utc::now()).unwrap();
        Delivered::Activity(self.db.ingest_webhook(&auth, &parsed).await.unwrap())
    }

    async fn recording(&self, sid: &str) -> RecordingRow {
        sqlx::query_as(
            "select id, activity_id, download_state, last_error, transcript_state, transcript_error
             from call_recordings where user_id = $1 and recording_sid = $2",
        )
        .bind(self.user.0)
        .bind(sid)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    /// The recording, asserted downloaded without error, with its audio as served.
    async fn stored_audio(&self, sid: &str) -> (RecordingRow, RecordingAudio, Vec<u8>) {
        let stored = self.recording(sid).await;
        assert_eq!(
            (stored.download_state.as_str(), stored.last_error.as_deref()),
            ("stored", None)
        );
        let served = self
            .db
            .for_user(self.user)
            .calls()
            .recording_audio(stored.id)
            .await
            .unwrap();
        let bytes = std::fs::read(self.files.path_of(&served.hash)).unwrap();
        (stored, served, bytes)
    }

    async fn activity(&self, external_id: &str) -> (Uuid, String, Option<String>) {
        sqlx::query_as(
            "select id, state, body_text from activities where user_id = $1 and external_id = $2",
        )
        .bind(self.user.0)
        .bind(external_id)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    fn context(&self, media: &FakeTwilioMedia, transcribe: bool) -> RecordingsContext {
        RecordingsContext {
            db: self.db.clone(),
            files: self.files.clone(),
            secrets: self.secrets.clone(),
            http: RecordingsContext::http_client(),
            twilio_api_base: media.base_url().to_owned(),
            max_bytes: 64 * 1024,
            timeout: Duration::from_secs(5),
            transcribe,
            allow_private_hosts: true,
        }
    }

    async fn credentials(&self, token: &str) {
        self.db
            .for_user(self.user)
            .calls()
            .set_recording_credentials(self.channel, ACCOUNT_SID, token, &self.secrets)
            .await
            .unwrap();
    }
}

#[derive(Debug, sqlx::FromRow)]
struct RecordingRow {
    id: Uuid,
    activity_id: Option<Uuid>,
    download_state: String,
    last_error: Option<String>,
    transcript_state: String,
    transcript_error: Option<String>,
}

/// A worker running `registry`'s jobs, retrying at once.
fn worker(db: &Db, registry: JobRegistry) -> Worker {
    let queue = db.jobs().with_backoff(Backoff {
        base: Duration::from_millis(1),
        max: Duration::from_millis(1),
    });
    Worker::new(
        queue,
        WorkerId::generate(),
        registry,
        WorkerOptions {
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(5),
            idle_wait: Duration::from_millis(50),
        },
    )
}

fn downloads(ctx: RecordingsContext) -> JobRegistry {
    JobRegistry::new().register::<DownloadRecording>(Arc::new(ctx))
}

/// Runs jobs until none is due; returns how many ran.
async fn drain(worker: &Worker) -> usize {
    let mut ran = 0;
    while worker.run_one().await.unwrap() {
        ran += 1;
        assert!(ran < 50, "jobs keep coming");
    }
    ran
}

async fn jobs(db: &Db, kind: &str) -> Vec<(String, i32, Option<String>)> {
    sqlx::query_as(
        "select state, attempts, last_error from jobs where kind = $1 order by created_at",
    )
    .bind(kind)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

fn media_account(recordings: &[(&str, Vec<u8>)]) -> MediaAccount {
    MediaAccount {
        account_sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
        recordings: recordings
            .iter()
            .map(|(sid, bytes)| ((*sid).to_owned(), bytes.clone()))
            .collect::<HashMap<_, _>>(),
    }
}

#[tokio::test]
async fn a_recording_is_joined_to_its_call_whichever_arrives_first() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;

    // Before: the recording waits for its call.
    let Delivered::Callback(CallbackOutcome::Recording(early)) =
        me.post(&recording_callback(CALL_A, REC_A)).await
    else {
        panic!("a recording callback")
    };
    assert_eq!(me.recording(REC_A).await.activity_id, None);
    let Delivered::Activity(IngestOutcome::Stored(call_a)) =
        me.post(&call_status(CALL_A, "")).await
    else {
        panic!("a stored call")
    };
    let joined = me.recording(REC_A).await;
    assert_eq!((joined.id, joined.activity_id), (early, Some(call_a)));

    // After: the recording joins the stored call at once.
    let Delivered::Activity(IngestOutcome::Stored(call_b)) =
        me.post(&call_status(CALL_B, "")).await
    else {
        panic!("a stored call")
    };
    me.post(&recording_callback(CALL_B, REC_B)).await;
    assert_eq!(me.recording(REC_B).await.activity_id, Some(call_b));
    assert_eq!(jobs(&db, "recording.download").await.len(), 2);

    let view = db.for_user(me.user).calls().call(call_a).await.unwrap();
    assert_eq!(view.direction, Some(Direction::Inbound));
    assert_eq!(view.duration_secs, Some(42));
    assert_eq!(view.recordings.len(), 1);
    assert_eq!(view.recordings[0].duration_secs, Some(41));
    assert_eq!(view.recordings[0].audio_url, None, "not downloaded yet");

    // Another user sees none of it.
    let other = phone(&db, "other@example.com").await;
    let error = db
        .for_user(other.user)
        .calls()
        .call(call_a)
        .await
        .unwrap_err();
    assert!(matches!(error, DomainError::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn a_generic_webhook_can_carry_its_recording_inline() {
    let db = fresh_db().await;
    let me = channel(&db, "me@example.com", ChannelProvider::Generic).await;
    let audio = b"RIFF fake wav audio ".repeat(60);
    let body = serde_json::json!({
        "external_id": "voicemail-9", "channel": "call",
        "from": {"phone": "+14155552671", "name": "Dana Ito"},
        "text": "Voicemail from Dana",
        "attachments": [
            {"filename": "notes.txt", "content_type": "text/plain", "content_base64": "aGk="},
            {"filename": "voicemail.wav", "content_type": "audio/wav",
             "content_base64": STANDARD.encode(&audio), "duration_secs": 4}
        ]
    });
    let Delivered::Activity(IngestOutcome::Stored(call)) = me.post(&body.to_string()).await else {
        panic!("a stored call")
    };
    let queued = me.recording("attachment:1").await;
    assert_eq!(
        (queued.activity_id, queued.download_state.as_str()),
        (Some(call), "queued")
    );

    // No URL to fetch: the job decodes the audio from the stored webhook.
    let nowhere = FakeTwilioMedia::start(Vec::new()).await.unwrap();
    let worker = worker(&db, downloads(me.context(&nowhere, false)));
    assert_eq!(drain(&worker).await, 1);
    let (_, served, bytes) = me.stored_audio("attachment:1").await;
    assert_eq!(served.content_type, "audio/wav");
    assert_eq!(bytes, audio);
    let view = db.for_user(me.user).calls().call(call).await.unwrap();
    assert_eq!(view.recordings.len(), 1, "the text file is no recording");
    assert_eq!(view.recordings[0].duration_secs, Some(4));
    assert!(view.recordings[0].audio_url.is_some());
}

#[tokio::test]
async fn sms_without_a_thread_are_one_chat_per_pair_of_numbers_old_and_new() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;
    let sms = |sid: &str, from: &str, to: &str| {
        format!("MessageSid={sid}&From=%2B{from}&To=%2B{to}&Body=hello+{sid}")
    };
    me.post(&sms("SM1", "14155552671", "14155550100")).await;
    me.post(&sms("SM2", "14155550100", "14155552671")).await;
    me.post(&sms("SM3", "14155559999", "14155550100")).await;
    let keys = || async {
        sqlx::query_as::<_, (String, Option<String>)>(
            "select external_id, thread_key from activities order by external_id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap()
    };
    let pair = Some("sms:+14155550100,+14155552671".to_owned());
    let expected = vec![
        ("SM1".to_owned(), pair.clone()),
        ("SM2".to_owned(), pair),
        (
            "SM3".to_owned(),
            Some("sms:+14155550100,+14155559999".to_owned()),
        ),
    ];
    assert_eq!(keys().await, expected);

    // Messages stored before keys were given get the same ones from the migration.
    sqlx::query("update activities set thread_key = null")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::raw_sql(include_str!(
        "../../../migrations/20261209000000_chat_conversation_keys.sql"
    ))
    .execute(db.pool())
    .await
    .unwrap();
    assert_eq!(keys().await, expected);
}

#[tokio::test]
async fn repeated_callbacks_change_nothing() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;
    let first = me.post(&recording_callback(CALL_A, REC_A)).await;
    let again = me.post(&recording_callback(CALL_A, REC_A)).await;
    assert_eq!(first, again);
    let stored = me.post(&call_status(CALL_A, "")).await;
    let Delivered::Activity(IngestOutcome::Stored(call)) = stored else {
        panic!("stored: {stored:?}")
    };
    assert_eq!(
        me.post(&call_status(CALL_A, "")).await,
        Delivered::Activity(IngestOutcome::Duplicate(call))
    );
    let count: i64 = sqlx::query_scalar("select count(*) from call_recordings")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
    assert_eq!(
        jobs(&db, "recording.download").await.len(),
        1,
        "one download"
    );
    assert_eq!(me.recording(REC_A).await.activity_id, Some(call));

    // A call status callback that names its recording brings it along, once.
    let with_recording = format!(
        "&RecordingSid={REC_B}&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2Fr%2F{REC_B}&RecordingDuration=7"
    );
    let Delivered::Activity(IngestOutcome::Stored(call_b)) =
        me.post(&call_status(CALL_B, &with_recording)).await
    else {
        panic!("a stored call")
    };
    me.post(&call_status(CALL_B, &with_recording)).await;
    assert_eq!(me.recording(REC_B).await.activity_id, Some(call_b));
    assert_eq!(jobs(&db, "recording.download").await.len(), 2);
}

#[tokio::test]
async fn the_download_job_fetches_the_mp3_with_the_channel_credentials() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;
    let audio = b"ID3 fake mp3 audio".repeat(100);
    let big = vec![7u8; 100 * 1024];
    let media = FakeTwilioMedia::start(vec![media_account(&[
        (REC_A, audio.clone()),
        ("RE000000000000000000000000000000bb", big),
    ])])
    .await
    .unwrap();
    let worker = worker(&db, downloads(me.context(&media, false)));

    // No credentials yet: the channel says what to do, and the download waits for them.
    me.post(&call_status(CALL_A, "")).await;
    me.post(&recording_callback(CALL_A, REC_A)).await;
    drain(&worker).await;
    let settings = db
        .for_user(me.user)
        .calls()
        .recording_settings(me.channel)
        .await
        .unwrap();
    assert!(
        settings
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("account SID and auth token"),
        "{settings:?}"
    );
    assert_eq!(me.recording(REC_A).await.download_state, "failed");

    // Wrong token: Twilio's 401 is a clear error on the channel, not retried.
    me.credentials("wrong-token").await;
    assert_eq!(
        me.recording(REC_A).await.download_state,
        "queued",
        "saving credentials retries"
    );
    drain(&worker).await;
    let settings = db
        .for_user(me.user)
        .calls()
        .recording_settings(me.channel)
        .await
        .unwrap();
    assert!(
        settings
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("refused the channel's credentials (HTTP 401)"),
        "{settings:?}"
    );
    assert_eq!(settings.account_sid.as_deref(), Some(ACCOUNT_SID));
    assert!(settings.has_auth_token);
    let stored_token: Vec<u8> =
        sqlx::query_scalar("select auth_token_sealed from channel_recording_settings")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(
        !String::from_utf8_lossy(&stored_token).contains("wrong-token"),
        "sealed"
    );

    // The right token: stored under its content address, the channel's error cleared.
    me.credentials(AUTH_TOKEN).await;
    drain(&worker).await;
    let (stored, served, bytes) = me.stored_audio(REC_A).await;
    assert_eq!(served.content_type, "audio/mpeg");
    assert_eq!(served.size, audio.len() as u64);
    assert_eq!(bytes, audio);
    let settings = db
        .for_user(me.user)
        .calls()
        .recording_settings(me.channel)
        .await
        .unwrap();
    assert_eq!(settings.last_error, None);
    let view = db
        .for_user(me.user)
        .calls()
        .call(stored.activity_id.unwrap())
        .await
        .unwrap();
    assert_eq!(
        view.recordings[0].audio_url,
        Some(format!("/recordings/{}", stored.id))
    );

    // Another user's recording is not found.
    let other = phone(&db, "other@example.com").await;
    let error = db
        .for_user(other.user)
        .calls()
        .recording_audio(stored.id)
        .await
        .unwrap_err();
    assert!(matches!(error, DomainError::NotFound(_)), "{error:?}");

    // Missing at Twilio (404) and oversize: given up, with the reason on the recording.
    me.post(&recording_callback(CALL_B, REC_MISSING)).await;
    me.post(&recording_callback(
        CALL_B,
        "RE000000000000000000000000000000bb",
    ))
    .await;
    drain(&worker).await;
    let missing = me.recording(REC_MISSING).await;
    assert_eq!(missing.download_state, "failed");
    assert!(missing.last_error.unwrap().contains("404"));
    let oversize = me.recording("RE000000000000000000000000000000bb").await;
    assert_eq!(oversize.download_state, "failed");
    assert!(oversize.last_error.unwrap().contains("larger than"));
    let dead: Vec<_> = jobs(&db, "recording.download")
        .await
        .into_iter()
        .filter(|(state, ..)| state == "dead")
        .collect();
    assert_eq!(dead.len(), 4, "{dead:?}");
    let incoming = std::fs::read_dir(
        me.files
            .path_of(&served.hash)
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("incoming"),
    )
    .unwrap()
    .count();
    assert_eq!(incoming, 0, "a refused download leaves nothing behind");
}

#[tokio::test]
async fn a_slow_server_is_retried() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;
    let media = FakeTwilioMedia::start(vec![media_account(&[(REC_A, b"audio".to_vec())])])
        .await
        .unwrap();
    me.credentials(AUTH_TOKEN).await;
    let ctx = RecordingsContext {
        timeout: Duration::from_millis(300),
        ..me.context(&media, false)
    };
    let worker = worker(&db, downloads(ctx));
    me.post(&recording_callback(CALL_A, REC_A)).await;
    media.set_delay(Duration::from_secs(3));
    assert!(worker.run_one().await.unwrap());
    let waiting = me.recording(REC_A).await;
    assert_eq!(waiting.download_state, "queued", "{waiting:?}");
    assert!(waiting.last_error.unwrap().contains("did not finish"));
    let job = jobs(&db, "recording.download").await;
    assert_eq!((job[0].0.as_str(), job[0].1), ("queued", 1));

    media.set_delay(Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(20)).await;
    drain(&worker).await;
    assert_eq!(me.recording(REC_A).await.download_state, "stored");
}

fn model(fake: &FakeOpenAi) -> ModelConfig {
    ModelConfig::from_env(|k| match k {
        "OPENAI_API_KEY" => Some("sk-test".into()),
        "OPENAI_BASE_URL" => Some(fake.base_url()),
        _ => None,
    })
    .unwrap()
}

fn transcripts(me: &Phone, media: &FakeTwilioMedia, fake: &FakeOpenAi) -> JobRegistry {
    let ctx = TranscriptionContext {
        timeout: Duration::from_millis(500),
        ..TranscriptionContext::new(&me.db, &me.files, model(fake), |_| None)
    };
    downloads(me.context(media, true)).register::<TranscribeRecording>(Arc::new(ctx))
}

/// A processed call with a downloaded recording waiting for its transcript.
async fn recorded_call(me: &Phone, worker: &Worker) -> Uuid {
    me.credentials(AUTH_TOKEN).await;
    me.post(&call_status(CALL_A, "")).await;
    Processor::new(&me.db, WorkerId::generate(), ProcessorOptions::default())
        .drain()
        .await
        .unwrap();
    me.post(&recording_callback(CALL_A, REC_A)).await;
    // The download, then (once due) the transcription.
    assert!(worker.run_one().await.unwrap());
    me.activity(CALL_A).await.0
}

#[tokio::test]
async fn recordings_are_transcribed_with_segments_and_found_by_search_and_ask() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;
    let audio = b"mp3".repeat(50);
    let media = FakeTwilioMedia::start(vec![media_account(&[(REC_A, audio.clone())])])
        .await
        .unwrap();
    let fake = FakeOpenAi::start(vec![Reply::Transcript(vec![
        (0.0, 2.5, "Hi Dana, thanks for calling.".into()),
        (2.5, 6.0, "Let's settle the pilot budget by Friday.".into()),
    ])])
    .await
    .unwrap();
    let worker = worker(&db, transcripts(&me, &media, &fake));
    let call = recorded_call(&me, &worker).await;
    drain(&worker).await;

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["model"], "whisper-1");
    assert_eq!(requests[0]["response_format"], "verbose_json");
    assert_eq!(
        requests[0]["timestamp_granularities"],
        serde_json::json!(["segment"])
    );
    assert_eq!(requests[0]["file"]["size"], audio.len());

    let view = db.for_user(me.user).calls().call(call).await.unwrap();
    let lines = &view.recordings[0].transcript;
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[1].start, lines[1].end), (2.5, 6.0));
    assert_eq!(lines[1].text, "Let's settle the pilot budget by Friday.");
    let (_, state, body) = me.activity(CALL_A).await;
    assert_eq!(state, "completed");
    let body = body.unwrap();
    assert!(
        body.starts_with("Call completed, 42 s\n\nTranscript:\n"),
        "{body}"
    );
    assert!(body.contains("pilot budget"), "{body}");

    let scope = db.for_user(me.user);
    let page = scope
        .search()
        .page(&SearchQuery::parse("pilot budget").unwrap(), 1)
        .await
        .unwrap();
    assert_eq!(
        page.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![call]
    );
    let found = scope
        .ask()
        .search_messages(
            &MessageFilter {
                text: Some("budget".into()),
                ..MessageFilter::default()
            },
            Limit::parse(10).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|m| m.activity_id).collect::<Vec<_>>(),
        vec![call]
    );

    // Twilio's own transcription does not replace the model's segments.
    let twilio = format!(
        "CallSid={CALL_A}&RecordingSid={REC_A}&TranscriptionSid=TR1&TranscriptionStatus=completed&TranscriptionText=hello"
    );
    me.post(&twilio).await;
    let view = db.for_user(me.user).calls().call(call).await.unwrap();
    assert_eq!(view.recordings[0].transcript.len(), 2);
}

#[tokio::test]
async fn a_failed_transcription_is_retried_and_the_call_stays_completed() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;
    let media = FakeTwilioMedia::start(vec![media_account(&[(REC_A, b"mp3".to_vec())])])
        .await
        .unwrap();
    // A call that takes too long (the client retries server errors by itself).
    let fake = FakeOpenAi::start(vec![
        Reply::Stall(Duration::from_secs(3)),
        Reply::Transcript(vec![(0.0, 1.5, "Sorry, wrong number.".into())]),
    ])
    .await
    .unwrap();
    let worker = worker(&db, transcripts(&me, &media, &fake));
    recorded_call(&me, &worker).await;
    assert!(worker.run_one().await.unwrap(), "the transcription runs");
    let failed = me.recording(REC_A).await;
    assert_eq!(failed.transcript_state, "queued", "{failed:?}");
    assert!(failed.transcript_error.unwrap().contains("did not finish"));
    let (_, state, body) = me.activity(CALL_A).await;
    assert_eq!(
        (state.as_str(), body.as_deref()),
        ("completed", Some("Call completed, 42 s"))
    );
    let job = jobs(&db, "recording.transcribe").await;
    assert_eq!((job[0].0.as_str(), job[0].1), ("queued", 1));

    tokio::time::sleep(Duration::from_millis(20)).await;
    drain(&worker).await;
    let done = me.recording(REC_A).await;
    assert_eq!(
        (done.transcript_state.as_str(), done.transcript_error),
        ("done", None)
    );
    let (_, state, body) = me.activity(CALL_A).await;
    assert_eq!(state, "completed");
    assert!(body.unwrap().ends_with("Transcript:\nSorry, wrong number."));
}

#[tokio::test]
async fn twilio_transcriptions_are_kept_when_no_model_transcribes() {
    let db = fresh_db().await;
    let me = phone(&db, "me@example.com").await;
    me.post(&recording_callback(CALL_A, REC_A)).await;
    let twilio = format!(
        "CallSid={CALL_A}&RecordingSid={REC_A}&TranscriptionSid=TR1&TranscriptionStatus=completed&TranscriptionText=Call+me+back+about+the+invoice"
    );
    let Delivered::Callback(CallbackOutcome::Transcript(recording)) = me.post(&twilio).await else {
        panic!("a transcript")
    };
    // The call arrives later and gets the transcript as it is joined.
    let Delivered::Activity(IngestOutcome::Stored(call)) = me.post(&call_status(CALL_A, "")).await
    else {
        panic!("a stored call")
    };
    let view = db.for_user(me.user).calls().call(call).await.unwrap();
    assert_eq!(view.recordings[0].id, recording);
    assert_eq!(
        view.recordings[0].transcript[0].text,
        "Call me back about the invoice"
    );
    assert!(
        me.activity(CALL_A)
            .await
            .2
            .unwrap()
            .contains("about the invoice")
    );
}
