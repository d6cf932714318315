//! Call recordings over HTTP: `GET /recordings/{id}` serves a stored recording to its
//! owner (404 for anyone else's, as for files) with range requests, so the player can
//! seek without fetching the whole file; and the recording jobs the workers run.

use std::sync::Arc;

use app::AppError;
use app::ssr::CurrentUser;
use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::Db;
use domain::ask::model::ModelConfig;
use domain::calls::{
    DownloadRecording, RecordingsContext, TranscribeRecording, TranscriptionContext,
};
use domain::crypto::SecretBox;
use domain::files::FileStore;
use domain::jobs::JobRegistry;
use tower::ServiceExt;
use tower_http::services::ServeFile;
use uuid::Uuid;

use crate::startup::AppState;

/// Where recordings come from and how large they may be (`RAPPORT_TWILIO_API_BASE`,
/// `RAPPORT_RECORDING_MAX_BYTES`, `RAPPORT_RECORDINGS_ALLOW_PRIVATE_HOSTS`,
/// `OPENAI_TRANSCRIPTION_MODEL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingSettings {
    pub twilio_api_base: String,
    pub max_bytes: u64,
    pub allow_private_hosts: bool,
    pub transcription_model: String,
}

/// Adds the download job, and the transcription job when a model is configured.
pub fn register_recording_jobs(
    registry: JobRegistry,
    db: &Db,
    files: &FileStore,
    secrets: &SecretBox,
    settings: &RecordingSettings,
    model: Option<&ModelConfig>,
) -> JobRegistry {
    let downloads = Arc::new(RecordingsContext {
        db: db.clone(),
        files: files.clone(),
        secrets: secrets.clone(),
        http: RecordingsContext::http_client(),
        twilio_api_base: settings.twilio_api_base.clone(),
        max_bytes: settings.max_bytes,
        timeout: RecordingsContext::DEFAULT_TIMEOUT,
        transcribe: model.is_some(),
        allow_private_hosts: settings.allow_private_hosts,
    });
    let registry = registry.register::<DownloadRecording>(downloads);
    match model {
        Some(model) => {
            let model_name = settings.transcription_model.clone();
            let ctx = TranscriptionContext::new(db, files, model.clone(), |key| {
                (key == "OPENAI_TRANSCRIPTION_MODEL").then(|| model_name.clone())
            });
            registry.register::<TranscribeRecording>(Arc::new(ctx))
        }
        None => registry,
    }
}

/// `GET /recordings/{id}`: the audio, inline, with `Accept-Ranges` and `206` answers.
pub async fn serve(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(recording): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let not_found = || AppError::not_found("recording");
    let recording = recording.parse::<Uuid>().map_err(|_| not_found())?;
    let audio = state
        .db
        .for_user(user.id)
        .calls()
        .recording_audio(recording)
        .await?;
    let path = state.files.path_of(&audio.hash);
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        tracing::error!(%recording, "a stored recording is missing from the file store");
        return Err(not_found());
    }
    // The content address has no extension: the stored type is set on the answer.
    let mut response = ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(|_| not_found())?
        .into_response();
    let headers = response.headers_mut();
    if let Ok(content_type) = HeaderValue::from_str(&audio.content_type) {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(response)
}
