//! Files on a contact: `POST /api/contacts/{contact}/files` (multipart, one or more
//! `file` parts) streams each part into the content-addressed store, refusing a part as
//! soon as it passes the size limit, then records each file as a `file` activity;
//! `GET /files/{activity}` serves one back to its owner as a download. Both sit behind
//! the session check, and the upload behind the cross-site write check (middleware).
//! An upload also keeps to the limits in [`crate::streaming::UploadLimits`]: a few
//! uploads at once per user (429), so many files per request, small other parts, and
//! the user's storage quota (413).

use app::ssr::CurrentUser;
use app::{AppError, ErrorKind};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::files::{
    FileError, FileName, FileStore, IncomingFile, NewFile, StoredContent, content_type, human_size,
};
use serde_json::json;
use uuid::Uuid;

use crate::startup::AppState;
use crate::streaming::{ChunkSink, Quota, read_small_field, stream_field};

fn too_large(name: &FileName, limit: u64) -> AppError {
    AppError::new(
        ErrorKind::TooLarge,
        format!(
            "{name} is too large: files may be at most {}",
            human_size(limit)
        ),
    )
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(contact): Path<Uuid>,
    multipart: Multipart,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), AppError> {
    let files = receive(&state, &user, contact, multipart).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "files": files }))))
}

/// Stores every part first and records them only when all arrived, so a refused part
/// leaves nothing of the request behind.
async fn receive(
    state: &AppState,
    user: &CurrentUser,
    contact: Uuid,
    mut multipart: Multipart,
) -> Result<Vec<serde_json::Value>, AppError> {
    let _slot = state.uploads.slots.acquire(user.id.0)?;
    let scope = state.db.for_user(user.id);
    let contact = scope.files().upload_target(contact).await?;
    let mut quota = state.uploads.room(&scope).await?;
    let mut received: Vec<NewFile> = Vec::new();
    let result = async {
        while let Some(mut field) = multipart.next_field().await? {
            if field.name() != Some("file") {
                // Read (under the small-field cap) and dropped: nothing else is taken.
                read_small_field(&mut field).await?;
                continue;
            }
            if received.len() >= state.uploads.max_files {
                return Err(state.uploads.too_many_files());
            }
            let name = FileName::parse(field.file_name().unwrap_or_default());
            let sent_type = field.content_type().map(str::to_owned);
            let content = store_part(
                &state.files,
                &mut field,
                &name,
                state.max_file_bytes,
                &mut quota,
            )
            .await?;
            received.push(NewFile {
                content_type: content_type(sent_type.as_deref(), &name),
                name,
                content,
            });
        }
        if received.is_empty() {
            return Err(AppError::new(
                ErrorKind::BadRequest,
                "choose one or more files to upload",
            ));
        }
        let mut recorded = Vec::with_capacity(received.len());
        for file in &received {
            let id = scope.files().record_file(contact, file).await?;
            recorded.push(json!({
                "activity_id": id,
                "name": file.name.as_str(),
                "content_type": file.content_type,
                "size": file.content.size,
                "download": format!("/files/{id}"),
            }));
        }
        Ok(recorded)
    }
    .await;
    if result.is_err() {
        for file in &received {
            let _ = state.files.discard(&file.content).await;
        }
    }
    result
}

async fn store_part(
    files: &FileStore,
    field: &mut axum::extract::multipart::Field<'_>,
    name: &FileName,
    limit: u64,
    quota: &mut Quota,
) -> Result<StoredContent, AppError> {
    let mut sink = FileSink {
        incoming: files.begin(limit).await?,
        name,
        quota,
    };
    stream_field(field, &mut sink).await?;
    Ok(sink.incoming.finish().await?)
}

/// A file being received into the store under its size limit.
struct FileSink<'a> {
    incoming: IncomingFile,
    name: &'a FileName,
    quota: &'a mut Quota,
}

impl ChunkSink for FileSink<'_> {
    type Error = AppError;

    async fn write(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        self.quota.take(chunk.len() as u64)?;
        self.incoming.write(chunk).await.map_err(|e| match e {
            FileError::TooLarge(limit) => too_large(self.name, limit),
            other => other.into(),
        })
    }
}

/// `GET /files/{activity}`: the file as an attachment under its sanitized name. 404 for
/// anything that is not one of the user's files.
pub async fn download(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(activity): Path<String>,
) -> Result<Response, AppError> {
    let not_found = || AppError::not_found("file");
    let activity = activity.parse::<Uuid>().map_err(|_| not_found())?;
    let file = state
        .db
        .for_user(user.id)
        .files()
        .file_download(activity)
        .await?;
    let opened = tokio::fs::File::open(state.files.path_of(&file.hash))
        .await
        .map_err(|error| {
            tracing::error!(%error, %activity, "a recorded file is missing from the store");
            not_found()
        })?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(opened));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    if let Ok(disposition) = HeaderValue::from_str(&content_disposition(&file.name)) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Uploaded HTML or SVG opened in the browser runs with no origin and no scripts.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(name: &FileName) -> String {
    let fallback: String = name
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .as_str()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_are_attachments_with_an_ascii_and_a_utf8_name() {
        assert_eq!(
            content_disposition(&FileName::parse("Résumé v2.pdf")),
            "attachment; filename=\"R_sum_ v2.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20v2.pdf"
        );
        assert_eq!(
            content_disposition(&FileName::parse("a;b.txt")),
            "attachment; filename=\"a;b.txt\"; filename*=UTF-8''a%3Bb.txt"
        );
    }
}
